//! The `menu` node: one digit chosen from its options, with prompts (barge-in), a digit
//! timeout, retries after a wrong digit or a timeout, and where to go when they run out.

use std::time::{Duration, Instant};

use super::{InputPhase, Ivr, IvrAction, IvrTimer, State};
use crate::model::{HangupCause, Menu, NodeKind};
use crate::HangupReason;

impl Ivr {
    /// The menu of the current node, if it is one.
    fn current_menu(&self) -> Option<Menu> {
        match self.current()?.kind {
            NodeKind::Menu(menu) => Some(menu),
            _ => None,
        }
    }

    /// Starts (or restarts) a menu: its first prompt, else straight to waiting for a digit.
    pub(super) fn menu_attempt(&mut self, now: Instant, menu: &Menu, failures: u32) {
        match menu.prompts.first() {
            Some(prompt) => {
                self.play(now, prompt, true);
                self.state = State::Menu {
                    phase: InputPhase::Prompt(0),
                    failures,
                };
            }
            None => self.wait_for_digit(now, menu.timeout, failures),
        }
    }

    pub(super) fn wait_for_digit(&mut self, now: Instant, timeout: Duration, failures: u32) {
        self.timer = Some((now + timeout, IvrTimer::DigitTimeout));
        self.state = State::Menu {
            phase: InputPhase::Waiting,
            failures,
        };
    }

    /// An attempt was used up (wrong digit, or timeout without `on_timeout`).
    fn menu_failed_attempt(&mut self, now: Instant, menu: &Menu, failures: u32, wrong_digit: bool) {
        let failures = failures.saturating_add(1);
        if failures > menu.retries {
            match &menu.on_failure {
                Some(target) => self.goto(now, target.clone()),
                None => self.hang_up(HangupReason::MenuFailed, HangupCause::Normal),
            }
            return;
        }
        let notice = if wrong_digit {
            &menu.invalid
        } else {
            &menu.timeout_prompt
        };
        match notice {
            Some(notice) => {
                self.play(now, notice, true);
                self.state = State::Menu {
                    phase: InputPhase::Notice,
                    failures,
                };
            }
            None => self.menu_attempt(now, menu, failures),
        }
    }

    /// A menu prompt ended: the next one, or (after the last) the wait for a digit; after the
    /// invalid-choice or timeout notice, the attempt starts over.
    pub(super) fn menu_playback_finished(
        &mut self,
        now: Instant,
        phase: InputPhase,
        failures: u32,
    ) {
        let Some(menu) = self.current_menu() else {
            return self.broken();
        };
        match phase {
            InputPhase::Prompt(index) => match menu.prompts.get(index + 1) {
                Some(prompt) => {
                    self.play(now, prompt, true);
                    self.state = State::Menu {
                        phase: InputPhase::Prompt(index + 1),
                        failures,
                    };
                }
                None => self.wait_for_digit(now, menu.timeout, failures),
            },
            InputPhase::Notice => self.menu_attempt(now, &menu, failures),
            // No prompt is playing: a late report, nothing to do.
            InputPhase::Waiting => {}
        }
    }

    /// A keypad digit while the menu is active: it stops the prompt playing, then picks an
    /// option (or the default) or uses up an attempt.
    pub(super) fn menu_digit(
        &mut self,
        now: Instant,
        digit: char,
        phase: InputPhase,
        failures: u32,
    ) {
        let node = self.node.clone();
        let Some(menu) = self.current_menu() else {
            return self.broken();
        };
        if phase != InputPhase::Waiting {
            self.actions.push_back(IvrAction::StopPlayback);
        }
        self.timer = None;
        match menu.options.get(&digit).or(menu.default.as_ref()) {
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

    pub(super) fn menu_timeout(&mut self, now: Instant) {
        let State::Menu {
            phase: InputPhase::Waiting,
            failures,
        } = self.state
        else {
            return;
        };
        let Some(menu) = self.current_menu() else {
            return self.broken();
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
