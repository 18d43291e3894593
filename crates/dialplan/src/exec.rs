//! The IVR executor: a pure, sans-IO state machine walking one call through a dialplan.
//!
//! The call task feeds it what happened ([`Ivr::handle`], [`Ivr::handle_timeout`]) with the
//! current time, drains what to do ([`Ivr::poll_action`]) and sleeps until
//! [`Ivr::poll_timeout`]. The executor never reads the clock and never does I/O: the wall-clock
//! time schedules read is the call's arrival time ([`CallInfo::arrived`]) advanced by the
//! monotonic `now` of later inputs.
//!
//! Rules the server relies on:
//! - A call is answered before anything is played or queued: if no `answer` node ran yet, the
//!   executor emits [`IvrAction::Answer`] first. A `hangup` node does not answer.
//! - Report [`IvrInput::PlaybackFinished`] once per [`IvrAction::Play`], only for the prompt
//!   playing now. After [`IvrAction::StopPlayback`] the stopped prompt must not be reported.
//! - Digits pressed while a menu or collect is active (its prompts playing, the invalid prompt
//!   playing, or waiting) are used; a digit stops the prompt playing (barge-in). During a `play`
//!   node with `barge_in`, a digit stops the prompts and is kept for the menu or collect that
//!   follows (type-ahead). During a `play` node without barge-in, digits are dropped and
//!   reported as [`IvrAction::DigitIgnored`]: a caller pressing keys during a greeting must not
//!   pick an option in a menu they have not heard yet.
//! - While the call is in the IVR there is always a pending timeout: a playback that never
//!   reports its end is given up after [`Ivr::PLAYBACK_GUARD`]. A call waiting in a queue whose
//!   node has `exit` stays in the IVR without a timeout until [`IvrInput::QueueLeft`].
//! - Report [`IvrInput::DialAnswered`] or [`IvrInput::DialFailed`] once per [`IvrAction::Dial`];
//!   a dial whose result is not reported within its ring time and a margin counts as failed. A
//!   flow transfer moves the call into another number's nodes ([`Ivr::flow`]) without an action.

mod collect;
mod consent;
mod http;
mod menu;
mod speak;
mod survey;
mod transfer;
mod types;
mod voicemail;

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use jiff::Timestamp;

use crate::condition::Facts;
use crate::e164::comparable;
use crate::model::{Assignment, Dialplan, HangupCause, Node, NodeKind, Play, Transfer};
use crate::schedule::ScheduleStatus;

pub use types::{
    CallAttributes, CallInfo, ConsentAnswer, HangupReason, IvrAction, IvrInput, IvrOutcome,
    IvrTimer, RecordingEnd,
};

/// Where the call is within the current node.
#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    /// A `play` node's prompts are playing: the one at `index` now.
    Playing { index: usize },
    /// A `say` node's words are playing: the one at `index` now.
    Saying { words: Vec<String>, index: usize },
    /// A menu is active; `failures` attempts were used up so far.
    Menu { phase: InputPhase, failures: u32 },
    /// A collect node is active with the digits received so far in this attempt.
    Collect {
        phase: InputPhase,
        failures: u32,
        digits: String,
    },
    /// Waiting in a queue whose node has `exit`.
    Queued { queue: String, exit: String },
    /// An `http` node's lookup is under way.
    Http,
    /// A voicemail node's prompts (then its beep) are playing: the one at `index` now.
    VoicemailPrompt { index: usize },
    /// A voicemail node is recording the caller's message.
    Recording,
    /// A dialed transfer's `announce` prompts are playing: the one at `index` now.
    Announcing { index: usize },
    /// A dialed transfer waits for the far end to answer or fail.
    Dialing,
    /// A `consent` node's notice is playing (`waiting: false`), or it waits for the opt-out key.
    Consent { waiting: bool },
    /// A survey node's survey runs on the server (its keys and prompts are the survey's).
    Survey,
    /// The IVR is over.
    Done(IvrOutcome),
}

/// Where a menu or collect is in one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum InputPhase {
    /// The node's prompt at this index is playing (barge-in).
    Prompt(usize),
    /// The invalid-choice or timeout prompt is playing (barge-in).
    Notice,
    /// Waiting for a digit until the digit timeout.
    Waiting,
}

/// One call's walk through a dialplan number.
#[derive(Debug, Clone)]
pub struct Ivr {
    plan: Arc<Dialplan>,
    call: CallInfo,
    /// The caller number in the form conditions compare (E.164 when it has one).
    caller: String,
    started: Instant,
    /// The number whose nodes the call is in: the dialed one until a flow transfer.
    flow: String,
    node: String,
    state: State,
    answered: bool,
    attributes: CallAttributes,
    /// Digits that stopped a barge-in `play`, for the menu or collect that follows.
    typeahead: VecDeque<char>,
    timer: Option<(Instant, IvrTimer)>,
    actions: VecDeque<IvrAction>,
    /// Every node entered, in order, when traced (`hotline dialplan simulate`); `None` on calls.
    trail: Option<Vec<String>>,
}

impl Ivr {
    /// How long a prompt may play before the executor gives up waiting for its end.
    pub const PLAYBACK_GUARD: Duration = Duration::from_secs(600);

    /// Starts the IVR of the dialed number, entering its start node; `None` if the plan has no
    /// such number (the server answers 404).
    pub fn start(plan: Arc<Dialplan>, call: CallInfo, now: Instant) -> Option<Ivr> {
        Ivr::start_inner(plan, call, now, None)
    }

    /// Like [`Ivr::start`], also recording every node entered (see [`Ivr::take_trail`]).
    pub fn start_traced(plan: Arc<Dialplan>, call: CallInfo, now: Instant) -> Option<Ivr> {
        Ivr::start_inner(plan, call, now, Some(Vec::new()))
    }

    /// The nodes entered since the last call, in order; empty unless started traced.
    pub fn take_trail(&mut self) -> Vec<String> {
        self.trail.as_mut().map(std::mem::take).unwrap_or_default()
    }

    fn start_inner(
        plan: Arc<Dialplan>,
        call: CallInfo,
        now: Instant,
        trail: Option<Vec<String>>,
    ) -> Option<Ivr> {
        let start = plan.number(&call.dialed)?.start.clone();
        let caller = comparable(&call.caller, plan.country());
        let flow = call.dialed.clone();
        let mut ivr = Ivr {
            plan,
            call,
            caller,
            started: now,
            flow,
            node: start.clone(),
            state: State::Done(IvrOutcome::HungUp {
                reason: HangupReason::BrokenDialplan,
            }),
            answered: false,
            attributes: CallAttributes::default(),
            typeahead: VecDeque::new(),
            timer: None,
            actions: VecDeque::new(),
            trail,
        };
        ivr.goto(now, start);
        Some(ivr)
    }

    /// Feeds what happened to the call.
    pub fn handle(&mut self, now: Instant, input: IvrInput) {
        match input {
            IvrInput::PlaybackFinished => self.playback_finished(now),
            IvrInput::Digit(digit) => self.digit(now, digit),
            IvrInput::Hangup => {
                if self.is_playing() {
                    self.actions.push_back(IvrAction::StopPlayback);
                }
                if self.state == State::Recording {
                    self.actions.push_back(IvrAction::StopRecording {
                        reason: RecordingEnd::CallerHungUp,
                    });
                }
                self.finish(IvrOutcome::CallerHungUp);
            }
            IvrInput::QueueLeft => {
                if let State::Queued { exit, .. } = &self.state {
                    let exit = exit.clone();
                    self.goto(now, exit);
                }
            }
            IvrInput::RecordingSilent => self.stop_recording(now, RecordingEnd::Silence),
            IvrInput::DialAnswered => self.dial_answered(),
            IvrInput::DialFailed => self.dial_failed(now),
            IvrInput::SurveyFinished(end) => self.survey_finished(now, end),
        }
    }

    /// Fires the pending timeout if it is due at `now`; does nothing otherwise.
    pub fn handle_timeout(&mut self, now: Instant) {
        let Some((deadline, timer)) = self.timer else {
            return;
        };
        if deadline > now {
            return;
        }
        self.timer = None;
        match timer {
            IvrTimer::PlaybackGuard => {
                if self.is_playing() {
                    self.actions.push_back(IvrAction::StopPlayback);
                    self.playback_finished(now);
                }
            }
            IvrTimer::DigitTimeout => match self.state {
                State::Menu { .. } => self.menu_timeout(now),
                State::Collect { .. } => self.collect_timeout(now),
                State::Consent { waiting: true } => self.consent_timeout(now),
                _ => {}
            },
            IvrTimer::HttpGuard => self.http_guard(now),
            IvrTimer::RecordLimit => self.stop_recording(now, RecordingEnd::MaxLength),
            IvrTimer::DialGuard => self.dial_failed(now),
            IvrTimer::SurveyGuard => self.survey_finished(now, crate::survey::SurveyEnd::NoAnswer),
        }
    }

    /// The next thing to do, in order; drain until `None` after every `start`/`handle*` call.
    pub fn poll_action(&mut self) -> Option<IvrAction> {
        self.actions.pop_front()
    }

    /// When to call [`Ivr::handle_timeout`] next; `None` once the IVR is finished.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timer.map(|(deadline, _)| deadline)
    }

    /// The pending timeout and what it is for.
    pub fn pending_timer(&self) -> Option<(Instant, IvrTimer)> {
        self.timer
    }

    /// The node the call is in (the last node entered, once finished).
    pub fn current_node(&self) -> &str {
        &self.node
    }

    /// The dialed number this IVR runs.
    pub fn number(&self) -> &str {
        &self.call.dialed
    }

    /// The number whose nodes the call is in now: the dialed number, or the one a flow
    /// transfer moved it to.
    pub fn flow(&self) -> &str {
        &self.flow
    }

    /// The caller number as conditions and lists compare it (E.164 when it has one).
    pub fn caller(&self) -> &str {
        &self.caller
    }

    /// What `set` and `collect` nodes gave the call so far.
    pub fn attributes(&self) -> &CallAttributes {
        &self.attributes
    }

    /// The dialplan version this call runs (kept across reloads).
    pub fn plan(&self) -> &Arc<Dialplan> {
        &self.plan
    }

    /// Whether the executor has answered the call.
    pub fn is_answered(&self) -> bool {
        self.answered
    }

    /// Whether the IVR is over (queued for good, hung up, or the caller left).
    pub fn is_finished(&self) -> bool {
        matches!(self.state, State::Done(_))
    }

    /// Whether the call waits in a queue whose node has `exit` (the IVR resumes on
    /// [`IvrInput::QueueLeft`]).
    pub fn is_queued_with_exit(&self) -> bool {
        matches!(self.state, State::Queued { .. })
    }

    /// How the IVR ended, once finished.
    pub fn outcome(&self) -> Option<&IvrOutcome> {
        match &self.state {
            State::Done(outcome) => Some(outcome),
            _ => None,
        }
    }

    /// The wall-clock time at monotonic `now`.
    fn wall_clock(&self, now: Instant) -> Timestamp {
        let elapsed = now.saturating_duration_since(self.started);
        let at = self
            .call
            .arrived
            .checked_add(elapsed)
            .unwrap_or(self.call.arrived);
        Timestamp::try_from(at).unwrap_or(Timestamp::UNIX_EPOCH)
    }

    fn is_playing(&self) -> bool {
        matches!(
            self.state,
            State::Playing { .. }
                | State::Saying { .. }
                | State::VoicemailPrompt { .. }
                | State::Announcing { .. }
                | State::Consent { waiting: false }
                | State::Menu {
                    phase: InputPhase::Prompt(_) | InputPhase::Notice,
                    ..
                }
                | State::Collect {
                    phase: InputPhase::Prompt(_) | InputPhase::Notice,
                    ..
                }
        )
    }

    fn finish(&mut self, outcome: IvrOutcome) {
        self.timer = None;
        self.typeahead.clear();
        self.state = State::Done(outcome);
    }

    fn hang_up(&mut self, reason: HangupReason, cause: HangupCause) {
        self.actions.push_back(IvrAction::Hangup { reason, cause });
        self.finish(IvrOutcome::HungUp { reason });
    }

    fn broken(&mut self) {
        self.hang_up(HangupReason::BrokenDialplan, HangupCause::Congestion);
    }

    fn answer(&mut self) {
        if !self.answered {
            self.answered = true;
            self.actions.push_back(IvrAction::Answer);
        }
    }

    fn play(&mut self, now: Instant, prompt: &str, barge_in: bool) {
        self.actions.push_back(IvrAction::Play {
            prompt: prompt.to_owned(),
            barge_in,
            language: self.attributes.language.clone(),
        });
        self.timer = Some((now + Self::PLAYBACK_GUARD, IvrTimer::PlaybackGuard));
    }

    /// The current node.
    fn current(&self) -> Option<Node> {
        self.plan.number(&self.flow)?.nodes.get(&self.node).cloned()
    }

    fn current_play(&self) -> Option<Play> {
        match self.current()?.kind {
            NodeKind::Play(play) => Some(play),
            _ => None,
        }
    }

    /// Enters `target` and runs nodes that need no waiting until one waits or the IVR ends.
    fn goto(&mut self, now: Instant, target: String) {
        self.timer = None;
        // A clone of the Arc so nodes can be borrowed while `self` changes.
        let plan = Arc::clone(&self.plan);
        let Some(mut number) = plan.number(&self.flow) else {
            return self.broken();
        };
        let mut target = target;
        // Validation rules out cycles that need no input, also through flow transfers; the
        // bound (every node of every number once) only guards against a bug.
        let bound: usize = plan.numbers.values().map(|n| n.nodes.len() + 1).sum();
        for _ in 0..=bound {
            self.node.clone_from(&target);
            if let Some(trail) = &mut self.trail {
                trail.push(target.clone());
            }
            let Some(node) = number.nodes.get(&target) else {
                break;
            };
            match &node.kind {
                NodeKind::Answer { next } => {
                    self.answer();
                    target.clone_from(next);
                }
                NodeKind::Goto { next } => target.clone_from(next),
                NodeKind::Set { assignments, next } => {
                    let node = target.clone();
                    self.assign(&node, assignments);
                    target.clone_from(next);
                }
                NodeKind::Branch(branch) => {
                    let facts = Facts {
                        caller: &self.caller,
                        dialed: &self.call.dialed,
                        variables: &self.attributes.variables,
                        at: self.wall_clock(now),
                        lists: &plan.lists,
                    };
                    let rule = branch
                        .rules
                        .iter()
                        .find(|rule| rule.when.iter().all(|c| c.holds(&facts)));
                    target = rule.map_or(&branch.otherwise, |r| &r.goto).clone();
                }
                NodeKind::Schedule {
                    schedule,
                    open,
                    closed,
                    holiday,
                } => {
                    let Some(schedule) = plan.schedules.get(schedule) else {
                        break;
                    };
                    target = match schedule.status_at(self.wall_clock(now)) {
                        ScheduleStatus::Open => open,
                        ScheduleStatus::Closed => closed,
                        ScheduleStatus::Holiday => holiday.as_ref().unwrap_or(closed),
                    }
                    .clone();
                }
                NodeKind::Play(play) => {
                    self.answer();
                    let Some(first) = play.prompts.first() else {
                        target.clone_from(&play.next);
                        continue;
                    };
                    if !play.barge_in {
                        self.typeahead.clear();
                    }
                    self.play(now, first, play.barge_in);
                    self.state = State::Playing { index: 0 };
                    return;
                }
                NodeKind::Say(say) => {
                    self.answer();
                    self.typeahead.clear();
                    if say.kind == crate::say::SayKind::Text {
                        if self.speak(now, say) {
                            return;
                        }
                        target.clone_from(&say.next);
                        continue;
                    }
                    let words = self.words(say);
                    let Some(first) = words.first() else {
                        target.clone_from(&say.next);
                        continue;
                    };
                    self.play(now, first, false);
                    self.state = State::Saying { words, index: 0 };
                    return;
                }
                NodeKind::Menu(menu) => {
                    self.answer();
                    if !self.typeahead.is_empty() {
                        self.wait_for_digit(now, menu.timeout, 0);
                        return self.replay_typeahead(now);
                    }
                    self.menu_attempt(now, menu, 0);
                    return;
                }
                NodeKind::Collect(collect) => {
                    self.answer();
                    if !self.typeahead.is_empty() {
                        self.collect_wait(now, collect.timeout, 0, String::new());
                        return self.replay_typeahead(now);
                    }
                    self.collect_attempt(now, collect, 0);
                    return;
                }
                NodeKind::Queue {
                    queue,
                    options,
                    exit,
                }
                | NodeKind::Transfer(Transfer::Queue {
                    queue,
                    options,
                    exit,
                }) => {
                    self.enter_queue(queue, options, exit.as_ref());
                    return;
                }
                NodeKind::Transfer(Transfer::Flow { number: flow }) => {
                    let Some(next) = plan.number(flow) else {
                        break;
                    };
                    number = next;
                    self.flow.clone_from(flow);
                    target.clone_from(&next.start);
                }
                NodeKind::Transfer(Transfer::Dial(dial)) => {
                    self.answer();
                    self.typeahead.clear();
                    self.announce(now, dial, 0);
                    return;
                }
                NodeKind::Voicemail(voicemail) => {
                    self.answer();
                    self.typeahead.clear();
                    self.voicemail_prompt(now, voicemail, 0);
                    return;
                }
                NodeKind::Http(http) => {
                    self.typeahead.clear();
                    self.http_start(now, http);
                    return;
                }
                NodeKind::Hangup { cause } => {
                    self.hang_up(HangupReason::HangupNode, *cause);
                    return;
                }
                NodeKind::Consent(consent) => {
                    self.answer();
                    self.typeahead.clear();
                    self.consent_start(now, consent);
                    return;
                }
                NodeKind::Survey(survey) => {
                    self.answer();
                    self.typeahead.clear();
                    if self.survey_start(now, survey) {
                        return;
                    }
                    break;
                }
            }
        }
        self.broken();
    }

    /// The prompt names a `say` node speaks now, in the call's language; none (the node is
    /// skipped) when its variable does not hold a value it can speak.
    fn words(&self, say: &crate::model::Say) -> Vec<String> {
        let value = self.attributes.interpolate(&say.value);
        let language = crate::say::SayLanguage::of(self.attributes.language.as_deref());
        crate::say::say(say.kind, &value, language).unwrap_or_default()
    }

    /// Feeds the digits kept from a barge-in `play` to the node now listening, while it listens.
    fn replay_typeahead(&mut self, now: Instant) {
        let digits: Vec<char> = self.typeahead.drain(..).collect();
        for digit in digits {
            let listening = match &self.state {
                State::Menu { .. } | State::Collect { .. } => true,
                State::Playing { .. } => self.current_play().is_some_and(|p| p.barge_in),
                State::Saying { .. }
                | State::Queued { .. }
                | State::Http
                | State::VoicemailPrompt { .. }
                | State::Recording
                | State::Announcing { .. }
                | State::Dialing
                | State::Consent { .. }
                | State::Survey
                | State::Done(_) => false,
            };
            if !listening {
                break;
            }
            self.digit(now, digit);
        }
    }

    fn assign(&mut self, node: &str, assignments: &[Assignment]) {
        for assignment in assignments {
            match assignment {
                Assignment::Variable { name, value } => {
                    let value = self.attributes.interpolate(value);
                    self.attributes.variables.insert(name.clone(), value);
                }
                Assignment::Language(language) => {
                    self.attributes.language = Some(language.clone());
                }
                Assignment::Priority(priority) => self.attributes.priority = Some(*priority),
                Assignment::Skill { name, level } => {
                    self.attributes.skills.insert(name.clone(), *level);
                }
                Assignment::QueueData { key, value } => {
                    let value = self.attributes.interpolate(value);
                    self.attributes.data.insert(key.clone(), value);
                }
                Assignment::Recording(recording) => {
                    self.attributes.recording = Some((node.to_owned(), *recording));
                    self.actions.push_back(IvrAction::RecordingSet {
                        node: node.to_owned(),
                        recording: *recording,
                    });
                }
            }
        }
    }

    fn playback_finished(&mut self, now: Instant) {
        match self.state.clone() {
            State::Playing { index } => {
                let Some(play) = self.current_play() else {
                    return self.broken();
                };
                match play.prompts.get(index + 1) {
                    Some(prompt) => {
                        self.play(now, prompt, play.barge_in);
                        self.state = State::Playing { index: index + 1 };
                    }
                    None => self.goto(now, play.next),
                }
            }
            State::Saying { words, index } => match words.get(index + 1) {
                Some(word) => {
                    self.play(now, word, false);
                    self.state = State::Saying {
                        index: index + 1,
                        words,
                    };
                }
                None => match self.current().map(|node| node.kind) {
                    Some(NodeKind::Say(say)) => self.goto(now, say.next),
                    _ => self.broken(),
                },
            },
            State::Menu { phase, failures } => self.menu_playback_finished(now, phase, failures),
            State::Collect { .. } => self.collect_playback_finished(now),
            State::VoicemailPrompt { index } => self.voicemail_prompt_finished(now, index),
            State::Announcing { index } => self.announce_finished(now, index),
            State::Consent { waiting: false } => self.consent_notice_finished(now),
            State::Consent { waiting: true }
            | State::Queued { .. }
            | State::Http
            | State::Recording
            | State::Dialing
            | State::Survey
            | State::Done(_) => {}
        }
    }

    fn digit(&mut self, now: Instant, digit: char) {
        let node = self.node.clone();
        if !is_dtmf(digit) {
            if !matches!(self.state, State::Done(_)) {
                self.actions
                    .push_back(IvrAction::DigitIgnored { digit, node });
            }
            return;
        }
        match self.state.clone() {
            // The survey's keys go to the survey itself, not the IVR.
            State::Done(_) | State::Survey => {}
            // A spoken value is short and not a menu: keys pressed meanwhile are dropped.
            State::Queued { .. }
            | State::Saying { .. }
            | State::Http
            | State::VoicemailPrompt { .. }
            | State::Announcing { .. }
            | State::Dialing => self
                .actions
                .push_back(IvrAction::DigitIgnored { digit, node }),
            State::Recording => self.recording_digit(now, digit),
            State::Consent { waiting } => self.consent_digit(now, digit, waiting),
            State::Playing { .. } => {
                let barge_in = self.current_play().is_some_and(|p| p.barge_in);
                if !barge_in {
                    return self
                        .actions
                        .push_back(IvrAction::DigitIgnored { digit, node });
                }
                let Some(play) = self.current_play() else {
                    return self.broken();
                };
                self.actions.push_back(IvrAction::StopPlayback);
                self.typeahead.push_back(digit);
                self.goto(now, play.next);
                // Nothing listened for the digit: it is dropped, like any digit nobody hears.
                if !self.typeahead.is_empty() {
                    self.typeahead.clear();
                    self.actions
                        .push_back(IvrAction::DigitIgnored { digit, node });
                }
            }
            State::Collect { .. } => self.collect_digit(now, digit),
            State::Menu { phase, failures } => self.menu_digit(now, digit, phase, failures),
        }
    }
}

/// Keys a telephone keypad can send (RFC 4733 events 0-15).
fn is_dtmf(digit: char) -> bool {
    digit.is_ascii_digit() || matches!(digit, '*' | '#' | 'A'..='D')
}
