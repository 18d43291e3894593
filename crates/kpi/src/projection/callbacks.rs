//! Folding the callback events: requests, attempts and outcomes, the conversation that
//! follows a connection, and the callback-completion KPI.
//!
//! The conversation of a callback runs under the callback's call id (for an in-queue
//! callback, the id of the caller's call that ended `callback_requested`; for a scheduled
//! one, the callback's id): `callback.connected` starts it with its agent, `call.ended`
//! ends it, and it is counted as handled work of the agent and the queue, never as an
//! offered or answered call.

use hotline_events::{CallbackFailCause, EndReason, Event, EventKind, ScheduledGiveUpReason};
use uuid::Uuid;

use super::{CallTrack, KpiProjection};
use crate::callbacks::CallbackCounters;
use crate::config::duration_ms;
use crate::report::ms_of;

/// Whose due window a callback has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Owner {
    /// An in-queue callback: its queue's callback expiry, counted from its entry time.
    InQueue,
    /// A scheduled callback: the scheduler's deadline (`callback.completed` says whether it
    /// was met; `callback.missed_deadline` when it passed).
    Scheduled,
}

/// A callback not yet completed, given up or cancelled.
#[derive(Debug, Clone)]
pub(super) struct CallbackTrack {
    queue: String,
    owner: Owner,
    /// End of the due window (unix ms); `None`: no limit, any completion is within.
    deadline: Option<i64>,
    /// Already counted due: its window was lost (deadline missed) before it completed.
    due_counted: bool,
}

/// How a callback left the completion KPI's open set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Resolution {
    /// Completed, within its due window or not.
    Completed { within: bool },
    /// Given up: due and not completed.
    GivenUp,
    /// Cancelled: not due unless its window was already lost.
    Cancelled,
    /// Given up because the sampling rules left it out: not due unless its window was
    /// already lost.
    Excluded,
}

impl KpiProjection {
    /// Folds a callback event (other events are ignored).
    pub(super) fn callback_event(&mut self, ev: &Event, ts: i64) {
        let queue = ev.queue.as_deref();
        if self.scheduled_event(&ev.kind, queue, ts) {
            return;
        }
        let Some(call) = ev.call_id else {
            return;
        };
        let agent = ev.agent_id.as_deref();
        match &ev.kind {
            EventKind::CallbackConverted { entered_at, .. }
            | EventKind::CallbackQueued {
                entered_at,
                scheduled: false,
                ..
            } => {
                if let Some(queue) = queue {
                    self.callback_requested(call, queue, ms_of(entered_at), ts);
                }
            }
            EventKind::CallbackDue { .. } => {
                self.callback_count(call, queue, agent, ts, |c| c.dialed += 1);
            }
            EventKind::CallbackDialing { .. } => {
                self.callback_count(call, queue, agent, ts, |c| c.customer_dialed += 1);
            }
            EventKind::CallbackFailed { cause, .. } => {
                let cause = cause_name(*cause);
                self.callback_count(call, queue, agent, ts, |c| {
                    c.failed += 1;
                    *c.failed_by_cause.entry(cause.clone()).or_default() += 1;
                });
            }
            EventKind::CallbackConnected { .. } => {
                if let Some(agent) = agent {
                    self.callback_connected(call, queue, agent, ts);
                }
            }
            EventKind::CallbackGivenUp { .. } => {
                self.in_queue_resolved(call, queue, Resolution::GivenUp, ts);
            }
            EventKind::CallbackCancelled { .. } => {
                self.in_queue_resolved(call, queue, Resolution::Cancelled, ts);
            }
            _ => {}
        }
    }

    /// Folds a scheduled callback's own event; `false` for any other event.
    fn scheduled_event(&mut self, kind: &EventKind, queue: Option<&str>, ts: i64) -> bool {
        match kind {
            EventKind::CallbackScheduled(cb) => {
                if let Some(queue) = queue {
                    self.callback_scheduled(cb.callback_id, queue, cb.deadline.as_ref(), ts);
                }
            }
            EventKind::CallbackMissedDeadline { callback_id, .. } => {
                self.deadline_missed(*callback_id, ts);
            }
            EventKind::CallbackCompleted {
                callback_id,
                within_deadline,
                ..
            } => {
                let within = *within_deadline;
                self.scheduled_resolved(*callback_id, Resolution::Completed { within }, ts);
            }
            EventKind::CallbackScheduledGivenUp {
                callback_id,
                reason,
                ..
            } => {
                // Left out by the sampling rules: never to be called, so never due (as the
                // scheduler's own stats count it). Any other give-up is due and not completed.
                let r = match reason {
                    ScheduledGiveUpReason::NotSampled => Resolution::Excluded,
                    _ => Resolution::GivenUp,
                };
                self.scheduled_resolved(*callback_id, r, ts);
            }
            EventKind::CallbackScheduledCancelled { callback_id } => {
                self.scheduled_resolved(*callback_id, Resolution::Cancelled, ts);
            }
            _ => return false,
        }
        true
    }

    /// A new scheduled callback, due by `deadline` (none: any completion is within).
    fn callback_scheduled(
        &mut self,
        id: Uuid,
        queue: &str,
        deadline: Option<&hotline_events::Timestamp>,
        ts: i64,
    ) {
        if self.callbacks.contains_key(&id) {
            return;
        }
        self.callbacks.insert(
            id,
            CallbackTrack {
                queue: queue.to_owned(),
                owner: Owner::Scheduled,
                deadline: deadline.map(ms_of),
                due_counted: false,
            },
        );
        self.queue_series(queue)
            .add_at(ts, |q| q.callbacks.scheduled += 1);
    }

    /// A scheduled callback's deadline passed: it is due, and no longer completed in time.
    fn deadline_missed(&mut self, id: Uuid, ts: i64) {
        let Some(t) = self.callbacks.get_mut(&id) else {
            return;
        };
        if t.due_counted {
            return;
        }
        t.due_counted = true;
        let queue = t.queue.clone();
        self.queue_series(&queue).add_at(ts, |q| {
            q.callbacks.due += 1;
            q.callbacks.missed_deadline += 1;
        });
    }

    /// A scheduled callback ends (the router's outcome of its queue entry counts nothing).
    fn scheduled_resolved(&mut self, id: Uuid, r: Resolution, ts: i64) {
        if self
            .callbacks
            .get(&id)
            .is_some_and(|t| t.owner == Owner::Scheduled)
        {
            self.resolve(id, r, ts);
        }
    }

    /// Whether `call.ended` with `reason` must be left out: the caller's own call ending
    /// `callback_requested` after its callback's conversation already started.
    pub(super) fn ends_a_callback_request(&self, call: Uuid, reason: EndReason) -> bool {
        reason == EndReason::CallbackRequested && self.calls.get(&call).is_some_and(|c| c.callback)
    }

    /// A new in-queue callback (a restart queuing a known one again counts nothing).
    fn callback_requested(&mut self, call: Uuid, queue: &str, entered_at: i64, ts: i64) {
        if self.callbacks.contains_key(&call) {
            return;
        }
        let deadline = self
            .config
            .queue(queue)
            .callback_expiry
            .map(|expiry| entered_at.saturating_add(duration_ms(expiry)));
        self.callbacks.insert(
            call,
            CallbackTrack {
                queue: queue.to_owned(),
                owner: Owner::InQueue,
                deadline,
                due_counted: false,
            },
        );
        self.queue_series(queue)
            .add_at(ts, |q| q.callbacks.requested += 1);
    }

    /// Counts an attempt's event for its queue (the event's, else the callback's) and agent.
    fn callback_count(
        &mut self,
        call: Uuid,
        queue: Option<&str>,
        agent: Option<&str>,
        ts: i64,
        add: impl Fn(&mut CallbackCounters),
    ) {
        let queue = queue
            .map(str::to_owned)
            .or_else(|| self.callbacks.get(&call).map(|t| t.queue.clone()));
        if let Some(queue) = queue {
            self.queue_series(&queue)
                .add_at(ts, |q| add(&mut q.callbacks));
        }
        if let Some(agent) = agent {
            self.agent_track(agent, ts)
                .series
                .add_at(ts, |a| add(&mut a.callbacks));
        }
    }

    /// The customer and the agent talk: the conversation starts, and an in-queue callback
    /// is completed.
    fn callback_connected(&mut self, call: Uuid, queue: Option<&str>, agent: &str, ts: i64) {
        let Some(queue) = queue
            .map(str::to_owned)
            .or_else(|| self.callbacks.get(&call).map(|t| t.queue.clone()))
        else {
            return;
        };
        self.callback_count(call, Some(&queue), Some(agent), ts, |c| c.connected += 1);
        // A caller's call still followed under this id is over (its end adds nothing).
        if let Some(old) = self.calls.remove(&call) {
            self.withdraw_offers(old.offers);
        }
        self.calls.insert(
            call,
            CallTrack {
                ever_queued: true,
                answered: Some((agent.to_owned(), queue.clone(), ts)),
                callback: true,
                last_ms: ts,
                ..CallTrack::default()
            },
        );
        let a = self.agent_track(agent, ts);
        a.last_queue = Some(queue.clone());
        a.last_outbound = false;
        let within = self
            .callbacks
            .get(&call)
            .filter(|t| t.owner == Owner::InQueue)
            .map(|t| t.deadline.is_none_or(|d| ts <= d));
        if let Some(within) = within {
            self.in_queue_resolved(call, Some(&queue), Resolution::Completed { within }, ts);
        }
    }

    /// An in-queue callback ends; a scheduled one's outcome comes from the scheduler's own
    /// events, so the router's give-up or cancel of its entry counts nothing.
    fn in_queue_resolved(&mut self, call: Uuid, queue: Option<&str>, r: Resolution, ts: i64) {
        let Some(track) = self.callbacks.get(&call) else {
            // Unknown (its request is before the journal's start): counted, not in completion.
            if let Some(queue) = queue {
                self.queue_series(queue).add_at(ts, |q| match r {
                    Resolution::GivenUp => q.callbacks.given_up += 1,
                    Resolution::Cancelled => q.callbacks.cancelled += 1,
                    Resolution::Completed { .. } | Resolution::Excluded => {}
                });
            }
            return;
        };
        if track.owner == Owner::InQueue {
            self.resolve(call, r, ts);
        }
    }

    /// Counts how a known callback ended, and forgets it.
    fn resolve(&mut self, call: Uuid, r: Resolution, ts: i64) {
        let Some(t) = self.callbacks.remove(&call) else {
            return;
        };
        self.queue_series(&t.queue).add_at(ts, |q| {
            let c = &mut q.callbacks;
            match r {
                Resolution::Completed { within } => {
                    c.completed += 1;
                    if !t.due_counted {
                        c.due += 1;
                        c.completed_within += u64::from(within);
                    }
                }
                Resolution::GivenUp => {
                    c.given_up += 1;
                    c.due += u64::from(!t.due_counted);
                }
                Resolution::Cancelled => c.cancelled += 1,
                Resolution::Excluded => c.given_up += 1,
            }
        });
    }

    /// Adds an ended callback conversation's talk and hold to the callback counts of its
    /// queue and agent (`call_ended` adds them to the handled work too).
    pub(super) fn callback_handled(
        &mut self,
        queue: &str,
        agent: &str,
        talk: u64,
        hold: u64,
        ts: i64,
    ) {
        let add = |c: &mut CallbackCounters| {
            c.handled += 1;
            c.talk_ms += talk;
            c.hold_ms += hold;
        };
        self.queue_series(queue)
            .add_at(ts, |q| add(&mut q.callbacks));
        self.agent_track(agent, ts)
            .series
            .add_at(ts, |a| add(&mut a.callbacks));
    }
}

/// The wire name of a fail cause (`no_answer`, `busy`...), the key of
/// [`crate::CallbackKpis::failed_by_cause`].
fn cause_name(cause: CallbackFailCause) -> String {
    match serde_json::to_value(cause) {
        Ok(serde_json::Value::String(name)) => name,
        _ => format!("{cause:?}"),
    }
}
