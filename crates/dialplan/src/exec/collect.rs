//! The `collect` node: digits into a variable, with a terminator, inter-digit timeout and checks.

use std::time::{Duration, Instant};

use super::{InputPhase, Ivr, IvrAction, IvrTimer, State};
use crate::model::{Collect, HangupCause, NodeKind};
use crate::HangupReason;

impl Ivr {
    fn current_collect(&self) -> Option<Collect> {
        match self.current()?.kind {
            NodeKind::Collect(collect) => Some(collect),
            _ => None,
        }
    }

    /// Starts (or restarts) an attempt: the first prompt, else straight to waiting.
    pub(super) fn collect_attempt(&mut self, now: Instant, collect: &Collect, failures: u32) {
        match collect.prompts.first() {
            Some(prompt) => {
                self.play(now, prompt, true);
                self.state = State::Collect {
                    phase: InputPhase::Prompt(0),
                    failures,
                    digits: String::new(),
                };
            }
            None => self.collect_wait(now, collect.timeout, failures, String::new()),
        }
    }

    pub(super) fn collect_wait(
        &mut self,
        now: Instant,
        timeout: Duration,
        failures: u32,
        digits: String,
    ) {
        self.timer = Some((now + timeout, IvrTimer::DigitTimeout));
        self.state = State::Collect {
            phase: InputPhase::Waiting,
            failures,
            digits,
        };
    }

    pub(super) fn collect_playback_finished(&mut self, now: Instant) {
        let State::Collect {
            phase,
            failures,
            digits,
        } = self.state.clone()
        else {
            return;
        };
        let Some(collect) = self.current_collect() else {
            return self.broken();
        };
        match phase {
            InputPhase::Prompt(index) => match collect.prompts.get(index + 1) {
                Some(prompt) => {
                    self.play(now, prompt, true);
                    self.state = State::Collect {
                        phase: InputPhase::Prompt(index + 1),
                        failures,
                        digits,
                    };
                }
                None => self.collect_wait(now, collect.timeout, failures, digits),
            },
            InputPhase::Notice => self.collect_attempt(now, &collect, failures),
            InputPhase::Waiting => {}
        }
    }

    pub(super) fn collect_digit(&mut self, now: Instant, digit: char) {
        let State::Collect {
            phase,
            failures,
            mut digits,
        } = self.state.clone()
        else {
            return;
        };
        let Some(collect) = self.current_collect() else {
            return self.broken();
        };
        if phase != InputPhase::Waiting {
            self.actions.push_back(IvrAction::StopPlayback);
        }
        self.timer = None;
        if Some(digit) == collect.terminator {
            return self.collect_done(now, &collect, failures, digits);
        }
        digits.push(digit);
        if digits.chars().count() >= collect.max_digits as usize {
            return self.collect_done(now, &collect, failures, digits);
        }
        self.collect_wait(now, collect.inter_digit_timeout, failures, digits);
    }

    pub(super) fn collect_timeout(&mut self, now: Instant) {
        let State::Collect {
            phase: InputPhase::Waiting,
            failures,
            digits,
        } = self.state.clone()
        else {
            return;
        };
        let Some(collect) = self.current_collect() else {
            return self.broken();
        };
        self.collect_done(now, &collect, failures, digits);
    }

    /// Input ended (terminator, max digits or a timeout): store it or use up an attempt.
    fn collect_done(&mut self, now: Instant, collect: &Collect, failures: u32, digits: String) {
        let count = digits.chars().count();
        let good = count >= collect.min_digits as usize
            && count <= collect.max_digits as usize
            && collect
                .pattern
                .as_ref()
                .is_none_or(|p| p.matches_whole(&digits));
        let node = self.node.clone();
        if good {
            self.actions.push_back(IvrAction::Collected {
                node,
                variable: collect.into.clone(),
                value: digits.clone(),
            });
            self.attributes
                .variables
                .insert(collect.into.clone(), digits);
            return self.goto(now, collect.next.clone());
        }
        let had_input = !digits.is_empty();
        self.actions.push_back(IvrAction::InputRejected {
            node,
            input: digits,
        });
        let failures = failures.saturating_add(1);
        if failures > collect.retries {
            match &collect.on_failure {
                Some(target) => self.goto(now, target.clone()),
                None => self.hang_up(HangupReason::CollectFailed, HangupCause::Normal),
            }
            return;
        }
        match (&collect.invalid, had_input) {
            (Some(invalid), true) => {
                self.play(now, invalid, true);
                self.state = State::Collect {
                    phase: InputPhase::Notice,
                    failures,
                    digits: String::new(),
                };
            }
            _ => self.collect_attempt(now, collect, failures),
        }
    }
}
