//! The IVR executor: a pure, sans-IO state machine walking one call through a dialplan.
//!
//! The call task feeds it what happened ([`Ivr::handle`], [`Ivr::handle_timeout`]) with the
//! current time, drains what to do ([`Ivr::poll_action`]) and sleeps until
//! [`Ivr::poll_timeout`]. The executor never reads the clock and never does I/O.
//!
//! Rules the server relies on:
//! - A call is answered before anything is played or queued: if no `answer` node ran yet, the
//!   executor emits [`IvrAction::Answer`] first. A `hangup` node does not answer.
//! - Report [`IvrInput::PlaybackFinished`] once per [`IvrAction::Play`], only for the prompt
//!   playing now. After [`IvrAction::StopPlayback`] the stopped prompt must not be reported.
//! - Digits pressed while a menu is active (its prompt playing, the invalid prompt playing, or
//!   waiting) are used; a digit stops the prompt playing (barge-in). Digits pressed outside a
//!   menu (during a `play` node) are dropped, not buffered, and reported as
//!   [`IvrAction::DigitIgnored`]: a caller pressing keys during a greeting must not pick an
//!   option in a menu they have not heard yet.
//! - While the call is in the IVR there is always a pending timeout: a playback that never
//!   reports its end is given up after [`Ivr::PLAYBACK_GUARD`].

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::model::{Dialplan, Menu, NodeKind, QueueOptions};

/// What happened to the call, fed to [`Ivr::handle`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IvrInput {
    /// The prompt from the last [`IvrAction::Play`] finished playing.
    PlaybackFinished,
    /// The caller pressed a key (RFC 4733 or SIP INFO): `0`-`9`, `*`, `#`, `A`-`D`.
    Digit(char),
    /// The caller hung up; the executor ends without further actions beyond stopping playback.
    Hangup,
}

/// What the server must do, drained with [`Ivr::poll_action`] in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IvrAction {
    /// Answer the call (200 OK with SDP).
    Answer,
    /// Play a prompt (`prompts/<lang>/<prompt>.wav`); report its end with `PlaybackFinished`.
    Play {
        /// Prompt name.
        prompt: String,
        /// Whether a digit interrupts it (the executor then emits `StopPlayback`).
        barge_in: bool,
    },
    /// Stop the prompt playing now; do not report its end.
    StopPlayback,
    /// A menu took a digit (emit an `ivr.digit` event).
    DigitAccepted {
        /// The key pressed.
        digit: char,
        /// The menu node.
        node: String,
        /// The node the digit leads to.
        next: String,
    },
    /// A menu got a digit it has no option for (emit an `ivr.digit` event).
    DigitRejected {
        /// The key pressed.
        digit: char,
        /// The menu node.
        node: String,
    },
    /// A digit arrived when no menu was listening and was dropped (emit an `ivr.digit` event).
    DigitIgnored {
        /// The key pressed.
        digit: char,
        /// The node the call was in.
        node: String,
    },
    /// A menu waited its `timeout` without a digit.
    MenuTimedOut {
        /// The menu node.
        node: String,
    },
    /// Hand the call to this routing queue; the IVR is finished.
    Queue {
        /// The queue name.
        queue: String,
        /// The node's requirements and overrides of the queue's defaults.
        options: QueueOptions,
    },
    /// Hang up the call (BYE if answered, else a final error response); the IVR is finished.
    Hangup {
        /// Why.
        reason: HangupReason,
    },
}

/// Why the executor hung up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HangupReason {
    /// The dialplan reached a `hangup` node.
    HangupNode,
    /// A menu ran out of attempts and has no `on_failure`.
    MenuFailed,
    /// The dialplan is inconsistent (cannot happen with a validated plan; kept so a bug hangs up
    /// instead of leaving the caller in silence).
    BrokenDialplan,
}

/// How a finished IVR ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IvrOutcome {
    /// The call went to this queue.
    Queued {
        /// The queue name.
        queue: String,
    },
    /// The executor hung up.
    HungUp {
        /// Why.
        reason: HangupReason,
    },
    /// The caller hung up while in the IVR.
    CallerHungUp,
}

/// What a pending timeout is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IvrTimer {
    /// Give up on a playback whose end was never reported.
    PlaybackGuard,
    /// A menu's wait for a digit.
    DigitTimeout,
}

/// Where the call is within the current node.
#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    /// A `play` node's prompt is playing; `next` follows.
    Playing { next: String },
    /// A menu is active; `failures` attempts were used up so far.
    Menu { phase: MenuPhase, failures: u32 },
    /// The IVR is over.
    Done(IvrOutcome),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MenuPhase {
    /// The menu prompt is playing (barge-in).
    Prompt,
    /// The invalid-choice prompt is playing (barge-in).
    InvalidPrompt,
    /// Waiting for a digit until the digit timeout.
    Waiting,
}

/// One call's walk through a dialplan number.
#[derive(Debug, Clone)]
pub struct Ivr {
    plan: Arc<Dialplan>,
    number: String,
    node: String,
    state: State,
    answered: bool,
    timer: Option<(Instant, IvrTimer)>,
    actions: VecDeque<IvrAction>,
}

impl Ivr {
    /// How long a prompt may play before the executor gives up waiting for its end.
    pub const PLAYBACK_GUARD: Duration = Duration::from_secs(600);

    /// Starts the IVR of `number`, entering its start node; `None` if the plan has no such number
    /// (the server answers 404).
    pub fn start(plan: Arc<Dialplan>, number: &str, now: Instant) -> Option<Ivr> {
        let start = plan.number(number)?.start.clone();
        let mut ivr = Ivr {
            plan,
            number: number.to_owned(),
            node: start.clone(),
            state: State::Done(IvrOutcome::HungUp {
                reason: HangupReason::BrokenDialplan,
            }),
            answered: false,
            timer: None,
            actions: VecDeque::new(),
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
                self.finish(IvrOutcome::CallerHungUp);
            }
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
            IvrTimer::DigitTimeout => self.digit_timeout(now),
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
        &self.number
    }

    /// The dialplan version this call runs (kept across reloads).
    pub fn plan(&self) -> &Arc<Dialplan> {
        &self.plan
    }

    /// Whether the executor has answered the call.
    pub fn is_answered(&self) -> bool {
        self.answered
    }

    /// Whether the IVR is over (queued, hung up, or the caller left).
    pub fn is_finished(&self) -> bool {
        matches!(self.state, State::Done(_))
    }

    /// How the IVR ended, once finished.
    pub fn outcome(&self) -> Option<&IvrOutcome> {
        match &self.state {
            State::Done(outcome) => Some(outcome),
            _ => None,
        }
    }

    fn is_playing(&self) -> bool {
        matches!(
            self.state,
            State::Playing { .. }
                | State::Menu {
                    phase: MenuPhase::Prompt | MenuPhase::InvalidPrompt,
                    ..
                }
        )
    }

    fn finish(&mut self, outcome: IvrOutcome) {
        self.timer = None;
        self.state = State::Done(outcome);
    }

    fn hang_up(&mut self, reason: HangupReason) {
        self.actions.push_back(IvrAction::Hangup { reason });
        self.finish(IvrOutcome::HungUp { reason });
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
        });
        self.timer = Some((now + Self::PLAYBACK_GUARD, IvrTimer::PlaybackGuard));
    }

    /// The menu of the current node, if it is one.
    fn current_menu(&self) -> Option<Menu> {
        match &self.plan.number(&self.number)?.nodes.get(&self.node)?.kind {
            NodeKind::Menu(menu) => Some(menu.clone()),
            _ => None,
        }
    }

    /// Enters `target` and runs nodes that need no waiting until one waits or the IVR ends.
    fn goto(&mut self, now: Instant, target: String) {
        self.timer = None;
        // A clone of the Arc so nodes can be borrowed while `self` changes.
        let plan = Arc::clone(&self.plan);
        let Some(number) = plan.number(&self.number) else {
            return self.hang_up(HangupReason::BrokenDialplan);
        };
        let mut target = target;
        // Validation rules out cycles of `answer` nodes; the bound only guards against a bug.
        for _ in 0..=number.nodes.len() {
            self.node.clone_from(&target);
            let Some(node) = number.nodes.get(&target) else {
                break;
            };
            match &node.kind {
                NodeKind::Answer { next } => {
                    self.answer();
                    target.clone_from(next);
                }
                NodeKind::Play { prompt, next } => {
                    self.answer();
                    self.play(now, prompt, false);
                    self.state = State::Playing { next: next.clone() };
                    return;
                }
                NodeKind::Menu(menu) => {
                    self.answer();
                    self.menu_attempt(now, menu, 0);
                    return;
                }
                NodeKind::Queue { queue, options } => {
                    self.answer();
                    self.actions.push_back(IvrAction::Queue {
                        queue: queue.clone(),
                        options: options.clone(),
                    });
                    self.finish(IvrOutcome::Queued {
                        queue: queue.clone(),
                    });
                    return;
                }
                NodeKind::Hangup => {
                    self.hang_up(HangupReason::HangupNode);
                    return;
                }
            }
        }
        self.hang_up(HangupReason::BrokenDialplan);
    }

    /// Starts (or restarts) a menu: its prompt, else straight to waiting for a digit.
    fn menu_attempt(&mut self, now: Instant, menu: &Menu, failures: u32) {
        match &menu.prompt {
            Some(prompt) => {
                self.play(now, prompt, true);
                self.state = State::Menu {
                    phase: MenuPhase::Prompt,
                    failures,
                };
            }
            None => self.wait_for_digit(now, menu, failures),
        }
    }

    fn wait_for_digit(&mut self, now: Instant, menu: &Menu, failures: u32) {
        self.timer = Some((now + menu.timeout, IvrTimer::DigitTimeout));
        self.state = State::Menu {
            phase: MenuPhase::Waiting,
            failures,
        };
    }

    /// An attempt was used up (wrong digit, or timeout without `on_timeout`).
    fn menu_failed_attempt(&mut self, now: Instant, menu: &Menu, failures: u32, wrong_digit: bool) {
        let failures = failures.saturating_add(1);
        if failures > menu.retries {
            match &menu.on_failure {
                Some(target) => self.goto(now, target.clone()),
                None => self.hang_up(HangupReason::MenuFailed),
            }
            return;
        }
        match (&menu.invalid, wrong_digit) {
            (Some(invalid), true) => {
                self.play(now, invalid, true);
                self.state = State::Menu {
                    phase: MenuPhase::InvalidPrompt,
                    failures,
                };
            }
            _ => self.menu_attempt(now, menu, failures),
        }
    }

    fn playback_finished(&mut self, now: Instant) {
        match self.state.clone() {
            State::Playing { next } => self.goto(now, next),
            State::Menu { phase, failures } => {
                let Some(menu) = self.current_menu() else {
                    return self.hang_up(HangupReason::BrokenDialplan);
                };
                match phase {
                    MenuPhase::Prompt => self.wait_for_digit(now, &menu, failures),
                    MenuPhase::InvalidPrompt => self.menu_attempt(now, &menu, failures),
                    // No prompt is playing: a late report, nothing to do.
                    MenuPhase::Waiting => {}
                }
            }
            State::Done(_) => {}
        }
    }

    fn digit(&mut self, now: Instant, digit: char) {
        let node = self.node.clone();
        match self.state.clone() {
            State::Done(_) => {}
            State::Playing { .. } => self
                .actions
                .push_back(IvrAction::DigitIgnored { digit, node }),
            State::Menu { .. } if !is_dtmf(digit) => {
                self.actions
                    .push_back(IvrAction::DigitIgnored { digit, node });
            }
            State::Menu { phase, failures } => {
                let Some(menu) = self.current_menu() else {
                    return self.hang_up(HangupReason::BrokenDialplan);
                };
                if phase != MenuPhase::Waiting {
                    self.actions.push_back(IvrAction::StopPlayback);
                }
                self.timer = None;
                match menu.options.get(&digit) {
                    Some(next) => {
                        self.actions.push_back(IvrAction::DigitAccepted {
                            digit,
                            node,
                            next: next.clone(),
                        });
                        self.goto(now, next.clone());
                    }
                    None => {
                        self.actions
                            .push_back(IvrAction::DigitRejected { digit, node });
                        self.menu_failed_attempt(now, &menu, failures, true);
                    }
                }
            }
        }
    }

    fn digit_timeout(&mut self, now: Instant) {
        let State::Menu {
            phase: MenuPhase::Waiting,
            failures,
        } = self.state
        else {
            return;
        };
        let Some(menu) = self.current_menu() else {
            return self.hang_up(HangupReason::BrokenDialplan);
        };
        self.actions.push_back(IvrAction::MenuTimedOut {
            node: self.node.clone(),
        });
        match &menu.on_timeout {
            Some(target) => self.goto(now, target.clone()),
            None => self.menu_failed_attempt(now, &menu, failures, false),
        }
    }
}

/// Keys a telephone keypad can send (RFC 4733 events 0-15).
fn is_dtmf(digit: char) -> bool {
    digit.is_ascii_digit() || matches!(digit, '*' | '#' | 'A'..='D')
}
