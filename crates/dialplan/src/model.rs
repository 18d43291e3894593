//! The validated dialplan: typed, immutable, every reference known to resolve.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::error::DialplanError;

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
    pub(crate) warnings: Vec<DialplanError>,
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

    /// Non-fatal findings (e.g. unreachable nodes), printed as `file:line:column: warning: ...`.
    pub fn warnings(&self) -> &[DialplanError] {
        &self.warnings
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
    /// Play a prompt to the end (digits pressed meanwhile are dropped), then go on.
    Play {
        /// Prompt name, resolved by the server to `prompts/<lang>/<name>.wav`.
        prompt: String,
        /// The node that follows.
        next: String,
    },
    /// Collect one digit and branch on it.
    Menu(Menu),
    /// Hand the call to a routing queue; the IVR ends here.
    Queue {
        /// The queue name, as configured in the server's `queues:`.
        queue: String,
        /// What this entry asks beyond the queue's defaults.
        options: QueueOptions,
    },
    /// Hang up; the IVR ends here.
    Hangup,
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
}

/// Lowest proficiency a queue node may ask for.
pub const MIN_PROFICIENCY: u8 = 1;
/// Highest proficiency a queue node may ask for.
pub const MAX_PROFICIENCY: u8 = 10;

/// A one-digit menu.
#[derive(Debug, Clone, PartialEq)]
pub struct Menu {
    /// Prompt played while waiting for a digit; a digit interrupts it (barge-in).
    pub prompt: Option<String>,
    /// How long to wait for a digit once the prompt has finished.
    pub timeout: Duration,
    /// How many more attempts the caller gets after a wrong digit (or a timeout without
    /// `on_timeout`); `retries: 2` means three attempts in all.
    pub retries: u32,
    /// Digit (`0`-`9`, `*`, `#`) to the node it leads to.
    pub options: BTreeMap<char, String>,
    /// Prompt played after a wrong digit, before the menu prompt is played again.
    pub invalid: Option<String>,
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
            NodeKind::Answer { next } | NodeKind::Play { next, .. } => vec![(Edge::Next, next)],
            NodeKind::Menu(menu) => {
                let mut targets: Vec<(Edge, &str)> = menu
                    .options
                    .iter()
                    .map(|(digit, target)| (Edge::Digit(*digit), target.as_str()))
                    .collect();
                if let Some(target) = &menu.on_timeout {
                    targets.push((Edge::Timeout, target));
                }
                if let Some(target) = &menu.on_failure {
                    targets.push((Edge::Failure, target));
                }
                targets
            }
            NodeKind::Queue { .. } | NodeKind::Hangup => Vec::new(),
        }
    }

    /// The prompts this node plays.
    pub fn prompts(&self) -> Vec<&str> {
        match self {
            NodeKind::Play { prompt, .. } => vec![prompt],
            NodeKind::Menu(menu) => menu
                .prompt
                .iter()
                .chain(menu.invalid.iter())
                .map(String::as_str)
                .collect(),
            NodeKind::Answer { .. } | NodeKind::Queue { .. } | NodeKind::Hangup => Vec::new(),
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
    /// A menu ran out of attempts (`on_failure`).
    Failure,
}

impl Edge {
    /// Whether following this edge needs the caller to do something (press a digit).
    pub fn needs_caller_input(self) -> bool {
        matches!(self, Edge::Digit(_))
    }
}
