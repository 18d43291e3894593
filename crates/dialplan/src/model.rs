//! The validated dialplan: typed, immutable, every reference known to resolve.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::e164::{CountryCode, NumberList};
use crate::error::DialplanError;
use crate::schedule::Schedule;

/// A validated dialplan: the numbers callers dial and the IVR graph behind each.
///
/// Built only by [`Dialplan::parse`] or [`Dialplan::load`], so every node reference resolves,
/// every menu digit is valid and no cycle runs without caller input. Immutable: the server
/// holds it in an `Arc` and swaps in a new one on reload; calls keep the one they started with.
#[derive(Debug, Clone, PartialEq)]
pub struct Dialplan {
    pub(crate) file: PathBuf,
    pub(crate) numbers: BTreeMap<String, Number>,
    pub(crate) prompts: BTreeSet<String>,
    pub(crate) queues: BTreeSet<String>,
    pub(crate) lists: BTreeMap<String, NumberList>,
    pub(crate) schedules: BTreeMap<String, Schedule>,
    pub(crate) country: CountryCode,
    pub(crate) warnings: Vec<DialplanError>,
    pub(crate) surveys: BTreeMap<String, crate::survey::Survey>,
    pub(crate) speech: Vec<crate::speech::SpeechNode>,
    pub(crate) dials: Vec<crate::dials::DialNode>,
}

impl Dialplan {
    /// The file this dialplan was read from.
    pub fn file(&self) -> &Path {
        &self.file
    }

    /// The numbers (SIP Request-URI user parts) this dialplan answers, in sorted order.
    pub fn numbers(&self) -> impl Iterator<Item = &str> + '_ {
        self.numbers.keys().map(String::as_str)
    }

    /// The IVR for one dialed number, if the dialplan has it.
    pub fn number(&self, number: &str) -> Option<&Number> {
        self.numbers.get(number)
    }

    /// Every prompt name any node plays (the server resolves each to `prompts/<lang>/<name>.wav`).
    pub fn prompts_used(&self) -> &BTreeSet<String> {
        &self.prompts
    }

    /// Every queue name any node sends calls to.
    pub fn queues_used(&self) -> &BTreeSet<String> {
        &self.queues
    }

    /// The named number lists (`lists:`), numbers already in E.164.
    pub fn lists(&self) -> &BTreeMap<String, NumberList> {
        &self.lists
    }

    /// The named schedules (`schedules:`).
    pub fn schedules(&self) -> &BTreeMap<String, Schedule> {
        &self.schedules
    }

    /// The post-call surveys (`surveys:`) by name.
    pub fn surveys(&self) -> &BTreeMap<String, crate::survey::Survey> {
        &self.surveys
    }

    /// One post-call survey by name.
    pub fn survey(&self, name: &str) -> Option<&crate::survey::Survey> {
        self.surveys.get(name)
    }

    /// The country whose numbering plan reads numbers written without `+`.
    pub fn country(&self) -> CountryCode {
        self.country
    }

    /// Non-fatal findings (e.g. unreachable nodes), printed as `file:line:column: warning: ...`.
    pub fn warnings(&self) -> &[DialplanError] {
        &self.warnings
    }

    /// The `say` nodes that speak text at run time (the server needs a speech synthesizer).
    pub fn speech_nodes(&self) -> &[crate::speech::SpeechNode] {
        &self.speech
    }

    /// The `transfer` nodes that dial outside numbers (the server checks them against its trunks).
    pub fn dial_nodes(&self) -> &[crate::dials::DialNode] {
        &self.dials
    }
}

/// The IVR behind one dialed number: a start node and a graph of named nodes.
#[derive(Debug, Clone, PartialEq)]
pub struct Number {
    /// The node a call enters first.
    pub start: String,
    /// The nodes by name.
    pub nodes: BTreeMap<String, Node>,
}

/// One step of an IVR.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// What the step does.
    pub kind: NodeKind,
    /// The operator's free-text note (`description:`), if any.
    pub description: Option<String>,
}

/// What a node does. Nodes that finish on their own name the node that follows (`next`).
#[derive(Debug, Clone, PartialEq)]
pub enum NodeKind {
    /// Answer the call (200 OK), then go on.
    Answer {
        /// The node that follows.
        next: String,
    },
    /// Play prompts one after another, then go on.
    Play(Play),
    /// Speak a value (digits, a number, a duration, a queue position) in the call's language.
    Say(Say),
    /// Collect one digit and branch on it.
    Menu(Menu),
    /// Collect several digits into a variable.
    Collect(Collect),
    /// Play the recording notice; the caller's opt-out key marks the call as not consenting.
    Consent(Consent),
    /// Set variables and call attributes, then go on.
    Set {
        /// What to set, in the order written.
        assignments: Vec<Assignment>,
        /// The node that follows.
        next: String,
    },
    /// Go to the first rule whose conditions all hold, else to `otherwise`.
    Branch(Branch),
    /// Go on by whether a named schedule is open, closed or on holiday now.
    Schedule {
        /// The schedule's name (top-level `schedules:`).
        schedule: String,
        /// Where the call goes during opening hours.
        open: String,
        /// Where the call goes outside opening hours.
        closed: String,
        /// Where the call goes on a holiday; `closed` when not given.
        holiday: Option<String>,
    },
    /// Hand the call to a routing queue; the IVR ends here unless `exit` is set.
    Queue {
        /// The queue name, as configured in the server's `queues:`.
        queue: String,
        /// What this entry asks beyond the queue's defaults.
        options: QueueOptions,
        /// Where the call goes back into the IVR when the queue lets it go (max wait); without
        /// it the call ends there.
        exit: Option<String>,
    },
    /// Go straight to another node.
    Goto {
        /// The node that follows.
        next: String,
    },
    /// Record a message to a voicemail box, then go on.
    Voicemail(Voicemail),
    /// Look the caller up in a CRM over HTTP, keep fields of the answer, then go on.
    Http(crate::http::HttpLookup),
    /// Hand the call to another number's flow, a queue, or an outside number.
    Transfer(Transfer),
    /// Run a survey of the top-level `surveys:` on the caller (answers are keys), then go on.
    Survey(SurveyNode),
    /// Hang up with a cause; the IVR ends here.
    Hangup {
        /// Why, as the caller's phone will see it.
        cause: HangupCause,
    },
}

/// A `play` node.
#[derive(Debug, Clone, PartialEq)]
pub struct Play {
    /// Prompt names, played in order (`prompts/<language>/<name>.wav`).
    pub prompts: Vec<String>,
    /// Whether a digit stops the prompts; the digit is then kept for the next menu or collect.
    /// Without barge-in, digits pressed meanwhile are dropped.
    pub barge_in: bool,
    /// The node that follows.
    pub next: String,
}

/// A `say` node: a value spoken from number prompts (see [`crate::say`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Say {
    /// The value: a literal or `${variable}`, interpolated when the node runs.
    pub value: String,
    /// How the value is spoken.
    pub kind: crate::say::SayKind,
    /// The node that follows (also when the value cannot be spoken).
    pub next: String,
}

/// A `voicemail` node: prompts, a beep, then the caller's message recorded to a box.
#[derive(Debug, Clone, PartialEq)]
pub struct Voicemail {
    /// The box the message goes to (a folder under `<data-dir>/voicemail/`).
    pub mailbox: String,
    /// Prompts played before the beep (no barge-in).
    pub prompts: Vec<String>,
    /// The longest message; recording stops there.
    pub max_length: Duration,
    /// Recording stops after this much silence, if given.
    pub silence: Option<Duration>,
    /// The key that ends the message (not recorded), if any.
    pub end_key: Option<char>,
    /// The node that follows the recording (not taken when the caller hangs up).
    pub next: String,
}

/// The prompt played between a voicemail node's prompts and the recording.
pub const BEEP_PROMPT: &str = "beep";
/// Default voicemail `max_length`.
pub const DEFAULT_VOICEMAIL_MAX_LENGTH: Duration = Duration::from_secs(120);
/// Longest accepted voicemail `max_length`.
pub const MAX_VOICEMAIL_LENGTH: Duration = Duration::from_secs(600);

/// Where a `transfer` node sends the call.
#[derive(Debug, Clone, PartialEq)]
pub enum Transfer {
    /// Another number of the same dialplan: the call goes on at its start node.
    Flow {
        /// The number (a key of `numbers:`).
        number: String,
    },
    /// A routing queue, exactly as a `queue` node.
    Queue {
        /// The queue name, as configured in the server's `queues:`.
        queue: String,
        /// What this entry asks beyond the queue's defaults.
        options: QueueOptions,
        /// Where the call goes back into the IVR when the queue lets it go.
        exit: Option<String>,
    },
    /// An outside number, dialed through a SIP trunk.
    Dial(Dial),
}

/// A `transfer: { number: ... }`: the call is bridged to an outside number.
#[derive(Debug, Clone, PartialEq)]
pub struct Dial {
    /// The number: a literal or `${variable}`, interpolated when the node runs.
    pub number: String,
    /// The trunk to dial through; `None`: the only (or default) trunk.
    pub trunk: Option<String>,
    /// How long the far end may ring before the dial counts as failed.
    pub timeout: Duration,
    /// Where the call goes when the dial fails or is refused; hung up (unavailable) without it.
    pub failed: Option<String>,
    /// Prompts played (no barge-in) before dialing.
    pub announce: Vec<String>,
}

/// Default ring time of a dialed transfer.
pub const DEFAULT_DIAL_TIMEOUT: Duration = Duration::from_secs(30);
/// Longest accepted ring time of a dialed transfer.
pub const MAX_DIAL_TIMEOUT: Duration = Duration::from_secs(300);

/// A `collect` node: several digits into a variable.
#[derive(Debug, Clone, PartialEq)]
pub struct Collect {
    /// Prompts played first; a digit interrupts them (barge-in).
    pub prompts: Vec<String>,
    /// Fewest digits accepted.
    pub min_digits: u32,
    /// Most digits accepted; collection ends when this many arrived.
    pub max_digits: u32,
    /// The key that ends input early (not stored), if any.
    pub terminator: Option<char>,
    /// Wait for the first digit once the prompts have finished.
    pub timeout: Duration,
    /// Wait between digits.
    pub inter_digit_timeout: Duration,
    /// A regular expression the whole input must match.
    pub pattern: Option<crate::condition::Pattern>,
    /// The variable the input is stored in.
    pub into: String,
    /// Extra attempts after bad or missing input.
    pub retries: u32,
    /// Prompt played after bad input, before trying again.
    pub invalid: Option<String>,
    /// The node that follows good input.
    pub next: String,
    /// Where the call goes once attempts are used up; hung up when not given.
    pub on_failure: Option<String>,
}

/// Most digits a `collect` node may ask for.
pub const MAX_COLLECT_DIGITS: u32 = 64;

/// One thing a `set` node sets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Assignment {
    /// A variable, read by `branch` and written into the queue data as `${name}`.
    Variable {
        /// The variable's name.
        name: String,
        /// The value; `${other}` is replaced by that variable's value.
        value: String,
    },
    /// The prompt language (`prompts/<language>/...`).
    Language(String),
    /// The priority the call enters a queue with (a queue node's own priority wins).
    Priority(i32),
    /// A skill the agent must have (added to the queue node's).
    Skill {
        /// The skill.
        name: String,
        /// Minimum proficiency 1-10.
        level: u8,
    },
    /// A key/value the queue entry carries to the agent (screen pop).
    QueueData {
        /// The key.
        key: String,
        /// The value; `${name}` is replaced by that variable's value.
        value: String,
    },
    /// The call's recording policy, over the policy of the queue it reaches.
    Recording(NodeRecording),
}

/// A `set` node's `recording:`: the policy for this flow, and whether the IVR part is recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeRecording {
    /// Which calls are recorded (overrides the queue's policy).
    pub policy: hotline_recording::RecordingPolicy,
    /// Record from this node on (the IVR part too), not only from the agent's answer.
    pub ivr: bool,
}

/// A `consent` node: the recording notice, with an optional key to opt out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consent {
    /// The notice prompt.
    pub prompt: String,
    /// The key that declines recording; without it the notice only informs (consent given).
    pub opt_out: Option<char>,
    /// How long to wait for the opt-out key after the notice.
    pub timeout: Duration,
    /// The node that follows (either answer).
    pub next: String,
}

/// A `survey` node: a named survey asked in the flow (an agentless campaign's questions, a
/// survey before the queue), not only after an agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SurveyNode {
    /// The survey's name (top-level `surveys:`).
    pub survey: String,
    /// Where the call goes once every question is answered; hung up when not given.
    pub next: Option<String>,
    /// Where the call goes when a question got no valid key; hung up when not given.
    pub on_skipped: Option<String>,
}

/// Default `consent` `timeout`.
pub const DEFAULT_CONSENT_TIMEOUT: Duration = Duration::from_secs(3);

/// A `branch` node.
#[derive(Debug, Clone, PartialEq)]
pub struct Branch {
    /// The rules, tried in order.
    pub rules: Vec<Rule>,
    /// Where the call goes when no rule matches.
    pub otherwise: String,
}

/// One `when:`/`goto:` pair of a branch.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    /// Conditions that must all hold.
    pub when: Vec<crate::condition::Condition>,
    /// The node the rule leads to.
    pub goto: String,
}

/// How a `hangup` node ends the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HangupCause {
    /// A normal end: BYE once answered, else 480.
    #[default]
    Normal,
    /// 486 Busy Here before answer (Q.850 cause 17).
    Busy,
    /// 603 Decline before answer (Q.850 cause 21): a refused caller.
    Rejected,
    /// 480 Temporarily Unavailable before answer (Q.850 cause 20): e.g. closed.
    Unavailable,
    /// 503 Service Unavailable before answer (Q.850 cause 34).
    Congestion,
    /// 404 Not Found before answer (Q.850 cause 1).
    NotFound,
}

impl HangupCause {
    /// Every cause, for messages.
    pub const ALL: [HangupCause; 6] = [
        HangupCause::Normal,
        HangupCause::Busy,
        HangupCause::Rejected,
        HangupCause::Unavailable,
        HangupCause::Congestion,
        HangupCause::NotFound,
    ];

    /// The name written in the dialplan.
    pub fn name(self) -> &'static str {
        match self {
            HangupCause::Normal => "normal",
            HangupCause::Busy => "busy",
            HangupCause::Rejected => "rejected",
            HangupCause::Unavailable => "unavailable",
            HangupCause::Congestion => "congestion",
            HangupCause::NotFound => "not_found",
        }
    }

    /// The SIP final response sent when the call is hung up before it was answered.
    pub fn sip_status(self) -> (u16, &'static str) {
        match self {
            HangupCause::Normal | HangupCause::Unavailable => (480, "Temporarily Unavailable"),
            HangupCause::Busy => (486, "Busy Here"),
            HangupCause::Rejected => (603, "Decline"),
            HangupCause::Congestion => (503, "Service Unavailable"),
            HangupCause::NotFound => (404, "Not Found"),
        }
    }

    /// The Q.850 cause value for the `Reason` header (RFC 3326).
    pub fn q850(self) -> u16 {
        match self {
            HangupCause::Normal => 16,
            HangupCause::Busy => 17,
            HangupCause::Rejected => 21,
            HangupCause::Unavailable => 20,
            HangupCause::Congestion => 34,
            HangupCause::NotFound => 1,
        }
    }
}

/// What a queue node asks for its caller; each field left out takes the queue's default.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct QueueOptions {
    /// The entry's priority (higher is served first), instead of the queue's.
    pub priority: Option<i32>,
    /// Skills the agent must have, each at a minimum proficiency 1-10 (all of them).
    pub skills: BTreeMap<String, u8>,
    /// Skills that make an agent preferred, each at a minimum proficiency 1-10 (never exclude).
    pub preferred_skills: BTreeMap<String, u8>,
    /// How long the caller may wait before leaving the queue, instead of the queue's.
    pub max_wait: Option<Duration>,
    /// How long the caller waits before being offered a callback, instead of the queue's.
    pub callback_offer: Option<Duration>,
    /// The post-call survey (top-level `surveys:`) the caller hears once the agent hangs up.
    pub survey: Option<String>,
}

/// Lowest proficiency a queue node may ask for.
pub const MIN_PROFICIENCY: u8 = 1;
/// Highest proficiency a queue node may ask for.
pub const MAX_PROFICIENCY: u8 = 10;

/// A one-digit menu.
#[derive(Debug, Clone, PartialEq)]
pub struct Menu {
    /// Prompts played while waiting for a digit; a digit interrupts them (barge-in).
    pub prompts: Vec<String>,
    /// How long to wait for a digit once the prompt has finished.
    pub timeout: Duration,
    /// How many more attempts the caller gets after a wrong digit (or a timeout without
    /// `on_timeout`); `retries: 2` means three attempts in all.
    pub retries: u32,
    /// Digit (`0`-`9`, `*`, `#`) to the node it leads to.
    pub options: BTreeMap<char, String>,
    /// Where any other digit leads (instead of counting as a wrong digit).
    pub default: Option<String>,
    /// Prompt played after a wrong digit, before the menu prompt is played again.
    pub invalid: Option<String>,
    /// Prompt played after a timeout that uses up an attempt, before the menu prompt again.
    pub timeout_prompt: Option<String>,
    /// Where a timeout leads at once; without it a timeout uses up an attempt like a wrong digit.
    pub on_timeout: Option<String>,
    /// Where the call goes once attempts are used up; without it the call is hung up.
    pub on_failure: Option<String>,
}

/// Default menu `timeout`.
pub const DEFAULT_MENU_TIMEOUT: Duration = Duration::from_secs(5);
/// Default menu `retries`.
pub const DEFAULT_MENU_RETRIES: u32 = 2;
/// Shortest accepted menu `timeout`.
pub const MIN_MENU_TIMEOUT: Duration = Duration::from_millis(500);
/// Longest accepted menu `timeout`.
pub const MAX_MENU_TIMEOUT: Duration = Duration::from_secs(300);
/// Largest accepted menu `retries`.
pub const MAX_MENU_RETRIES: u32 = 10;

impl NodeKind {
    /// The nodes this node can lead to, each with the edge's role, in a stable order.
    pub fn targets(&self) -> Vec<(Edge, &str)> {
        match self {
            NodeKind::Answer { next }
            | NodeKind::Play(Play { next, .. })
            | NodeKind::Say(Say { next, .. })
            | NodeKind::Set { next, .. }
            | NodeKind::Voicemail(Voicemail { next, .. })
            | NodeKind::Consent(Consent { next, .. })
            | NodeKind::Goto { next } => vec![(Edge::Next, next)],
            NodeKind::Menu(menu) => {
                let mut targets: Vec<(Edge, &str)> = menu
                    .options
                    .iter()
                    .map(|(digit, target)| (Edge::Digit(*digit), target.as_str()))
                    .collect();
                if let Some(target) = &menu.default {
                    targets.push((Edge::AnyDigit, target));
                }
                if let Some(target) = &menu.on_timeout {
                    targets.push((Edge::Timeout, target));
                }
                if let Some(target) = &menu.on_failure {
                    targets.push((Edge::Failure, target));
                }
                targets
            }
            NodeKind::Collect(collect) => {
                // Good input needs a digit unless empty input is accepted.
                let edge = if collect.min_digits > 0 {
                    Edge::Collected
                } else {
                    Edge::Next
                };
                let mut targets = vec![(edge, collect.next.as_str())];
                if let Some(target) = &collect.on_failure {
                    targets.push((Edge::Failure, target));
                }
                targets
            }
            NodeKind::Branch(branch) => branch
                .rules
                .iter()
                .map(|rule| (Edge::Rule, rule.goto.as_str()))
                .chain([(Edge::Otherwise, branch.otherwise.as_str())])
                .collect(),
            NodeKind::Schedule {
                open,
                closed,
                holiday,
                ..
            } => {
                let mut targets = vec![(Edge::Open, open.as_str()), (Edge::Closed, closed)];
                if let Some(target) = holiday {
                    targets.push((Edge::Holiday, target));
                }
                targets
            }
            NodeKind::Queue { exit, .. } => exit
                .iter()
                .map(|target| (Edge::QueueExit, target.as_str()))
                .collect(),
            NodeKind::Http(http) => vec![
                (Edge::Next, http.next.as_str()),
                (Edge::Failure, http.on_failure.as_str()),
            ],
            NodeKind::Transfer(Transfer::Queue { exit, .. }) => exit
                .iter()
                .map(|target| (Edge::QueueExit, target.as_str()))
                .collect(),
            NodeKind::Transfer(Transfer::Dial(dial)) => dial
                .failed
                .iter()
                .map(|target| (Edge::Failure, target.as_str()))
                .collect(),
            NodeKind::Survey(survey) => survey
                .next
                .iter()
                .map(|target| (Edge::Surveyed, target.as_str()))
                .chain(
                    survey
                        .on_skipped
                        .iter()
                        .map(|target| (Edge::Failure, target.as_str())),
                )
                .collect(),
            // The target is a number, not a node of this one.
            NodeKind::Transfer(Transfer::Flow { .. }) => Vec::new(),
            NodeKind::Hangup { .. } => Vec::new(),
        }
    }

    /// The prompts this node plays.
    pub fn prompts(&self) -> Vec<&str> {
        match self {
            NodeKind::Play(play) => play.prompts.iter().map(String::as_str).collect(),
            NodeKind::Say(say) => crate::say::vocabulary(say.kind),
            NodeKind::Menu(menu) => menu
                .prompts
                .iter()
                .chain(menu.invalid.iter())
                .chain(menu.timeout_prompt.iter())
                .map(String::as_str)
                .collect(),
            NodeKind::Collect(collect) => collect
                .prompts
                .iter()
                .chain(collect.invalid.iter())
                .map(String::as_str)
                .collect(),
            NodeKind::Voicemail(voicemail) => voicemail
                .prompts
                .iter()
                .map(String::as_str)
                .chain([BEEP_PROMPT])
                .collect(),
            NodeKind::Transfer(Transfer::Dial(dial)) => {
                dial.announce.iter().map(String::as_str).collect()
            }
            NodeKind::Consent(consent) => vec![consent.prompt.as_str()],
            _ => Vec::new(),
        }
    }

    /// The queue this node sends calls to, if it is a queue node.
    pub fn queue(&self) -> Option<&str> {
        match self {
            NodeKind::Queue { queue, .. } | NodeKind::Transfer(Transfer::Queue { queue, .. }) => {
                Some(queue)
            }
            _ => None,
        }
    }

    /// The schedule this node consults, if it is a schedule node.
    pub fn schedule(&self) -> Option<&str> {
        match self {
            NodeKind::Schedule { schedule, .. } => Some(schedule),
            _ => None,
        }
    }

    /// The number lists this node's conditions read.
    pub fn lists(&self) -> Vec<&str> {
        match self {
            NodeKind::Branch(branch) => branch
                .rules
                .iter()
                .flat_map(|rule| rule.when.iter())
                .filter_map(crate::condition::Condition::list)
                .collect(),
            _ => Vec::new(),
        }
    }
}

/// Why one node leads to another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edge {
    /// The node finished (`next`).
    Next,
    /// The caller pressed this digit in a menu.
    Digit(char),
    /// A menu timed out (`on_timeout`).
    Timeout,
    /// A menu or collect ran out of attempts (`on_failure`).
    Failure,
    /// A menu got a digit without an option (`default`).
    AnyDigit,
    /// A collect got good input (`next`).
    Collected,
    /// A branch rule matched.
    Rule,
    /// No branch rule matched (`otherwise`).
    Otherwise,
    /// The schedule is open now.
    Open,
    /// The schedule is closed now.
    Closed,
    /// Today is a holiday.
    Holiday,
    /// The queue let the call go (`exit`).
    QueueExit,
    /// A survey node's questions were all answered (`next`).
    Surveyed,
}

impl Edge {
    /// Whether following this edge needs the caller to do something (press a digit).
    pub fn needs_caller_input(self) -> bool {
        matches!(
            self,
            Edge::Digit(_) | Edge::AnyDigit | Edge::Collected | Edge::QueueExit | Edge::Surveyed
        )
    }
}
