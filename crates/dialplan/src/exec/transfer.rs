//! The executor's side of a `transfer` node and of a `queue` node: entering a queue, and a
//! dialed transfer (its announcement, the dial, then the far end's answer or the `failed`
//! branch). A flow transfer needs no state: [`Ivr::goto`] walks on at the other number's start.

use std::time::{Duration, Instant};

use super::{Ivr, IvrAction, IvrOutcome, IvrTimer, State};
use crate::model::{Dial, HangupCause, NodeKind, QueueOptions, Transfer};
use crate::HangupReason;

/// Slack beyond a dial's ring time before the executor stops waiting for the server (a trunk
/// may take a while to give up after the ring time, e.g. until its CANCEL is answered).
const DIAL_GUARD_SLACK: Duration = Duration::from_secs(10);

impl Ivr {
    /// Hands the call to `queue`; the IVR ends unless the node has `exit`.
    pub(super) fn enter_queue(
        &mut self,
        queue: &str,
        options: &QueueOptions,
        exit: Option<&String>,
    ) {
        self.answer();
        self.typeahead.clear();
        self.actions.push_back(IvrAction::Queue {
            queue: queue.to_owned(),
            options: self.attributes.queue_options(options),
            data: self.attributes.data.clone(),
        });
        match exit {
            Some(exit) => {
                self.state = State::Queued {
                    queue: queue.to_owned(),
                    exit: exit.clone(),
                };
            }
            None => self.finish(IvrOutcome::Queued {
                queue: queue.to_owned(),
            }),
        }
    }

    fn current_dial(&self) -> Option<Dial> {
        match self.current()?.kind {
            NodeKind::Transfer(Transfer::Dial(dial)) => Some(dial),
            _ => None,
        }
    }

    /// Plays the dial's announcement at `index` (no barge-in), else dials.
    pub(super) fn announce(&mut self, now: Instant, dial: &Dial, index: usize) {
        match dial.announce.get(index) {
            Some(prompt) => {
                self.play(now, prompt, false);
                self.state = State::Announcing { index };
            }
            None => self.dial(now, dial),
        }
    }

    pub(super) fn announce_finished(&mut self, now: Instant, index: usize) {
        let Some(dial) = self.current_dial() else {
            return self.broken();
        };
        self.announce(now, &dial, index + 1);
    }

    fn dial(&mut self, now: Instant, dial: &Dial) {
        self.actions.push_back(IvrAction::Dial {
            number: self.attributes.interpolate(&dial.number),
            trunk: dial.trunk.clone(),
            timeout: dial.timeout,
            node: self.node.clone(),
        });
        self.timer = Some((now + dial.timeout + DIAL_GUARD_SLACK, IvrTimer::DialGuard));
        self.state = State::Dialing;
    }

    /// The far end answered: the caller is bridged to it and the IVR is over.
    pub(super) fn dial_answered(&mut self) {
        if self.state != State::Dialing {
            return;
        }
        let number = self
            .current_dial()
            .map(|dial| self.attributes.interpolate(&dial.number))
            .unwrap_or_default();
        self.finish(IvrOutcome::Dialed { number });
    }

    /// The dial failed (or its result never came): `failed`, else hang up as unavailable.
    pub(super) fn dial_failed(&mut self, now: Instant) {
        if self.state != State::Dialing {
            return;
        }
        let Some(dial) = self.current_dial() else {
            return self.broken();
        };
        self.timer = None;
        match dial.failed {
            Some(failed) => self.goto(now, failed),
            None => self.hang_up(HangupReason::DialFailed, HangupCause::Unavailable),
        }
    }
}
