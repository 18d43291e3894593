//! The `consent` node: the recording notice plays (the opt-out key interrupts it), then the
//! executor waits `timeout` for the key. The key marks the call as declined; the notice running
//! out marks it as given. Either way the call goes on to `next`.

use std::time::Instant;

use super::{ConsentAnswer, Ivr, IvrAction, IvrTimer, State};
use crate::model::{Consent, NodeKind};

impl Ivr {
    fn current_consent(&self) -> Option<Consent> {
        match self.current()?.kind {
            NodeKind::Consent(consent) => Some(consent),
            _ => None,
        }
    }

    /// Plays the notice; the opt-out key (if any) interrupts it.
    pub(super) fn consent_start(&mut self, now: Instant, consent: &Consent) {
        self.play(now, &consent.prompt, consent.opt_out.is_some());
        self.state = State::Consent { waiting: false };
    }

    /// The notice played to its end: wait for the opt-out key, or (without one) consent given.
    pub(super) fn consent_notice_finished(&mut self, now: Instant) {
        let Some(consent) = self.current_consent() else {
            return self.broken();
        };
        if consent.opt_out.is_some() {
            self.timer = Some((now + consent.timeout, IvrTimer::DigitTimeout));
            self.state = State::Consent { waiting: true };
        } else {
            self.consent_answered(now, consent, ConsentAnswer::Given);
        }
    }

    /// A key during the notice or the wait: the opt-out key declines, others are ignored.
    pub(super) fn consent_digit(&mut self, now: Instant, digit: char, waiting: bool) {
        let Some(consent) = self.current_consent() else {
            return self.broken();
        };
        if consent.opt_out != Some(digit) {
            let node = self.node.clone();
            self.actions
                .push_back(IvrAction::DigitIgnored { digit, node });
            return;
        }
        if !waiting {
            self.actions.push_back(IvrAction::StopPlayback);
        }
        self.timer = None;
        self.consent_answered(now, consent, ConsentAnswer::Declined);
    }

    /// The wait for the opt-out key ran out: consent given.
    pub(super) fn consent_timeout(&mut self, now: Instant) {
        let Some(consent) = self.current_consent() else {
            return self.broken();
        };
        self.consent_answered(now, consent, ConsentAnswer::Given);
    }

    fn consent_answered(&mut self, now: Instant, consent: Consent, answer: ConsentAnswer) {
        self.attributes.consent = Some(answer);
        self.actions.push_back(IvrAction::ConsentAnswered {
            node: self.node.clone(),
            answer,
        });
        self.goto(now, consent.next);
    }
}
