//! In-queue callbacks across a restart.
//!
//! The journal says which callbacks were queued (`callback.queued`, `callback.converted`) and
//! not ended (`callback.connected`, `callback.given_up`, `callback.cancelled`); those are queued
//! again with their original entry time, so they keep their place and age. Scheduled callbacks'
//! entries (`scheduled: true`) are left to the scheduler, which restores its own state.
//!
//! An attempt whose `callback.due` (the agent was rung) or `callback.dialing` (the customer's
//! INVITE was about to go out) has no outcome when the process died may have reached the
//! customer: it counts as an attempt with cause `unknown` (a `callback.failed` is journaled for
//! it at the restart), and the callback is not dialed again before the queue's retry delay from
//! the restart. Its last attempt used, it is given up. A failed attempt's retry delay (with any
//! Retry-After) still running at the restart is honoured too.

use std::time::{Duration, Instant};

use hotline_events::{
    CallbackFailCause, CallbackGiveUpReason, Event, EventDraft, EventKind, EventSink, Timestamp,
};
use hotline_routing::{CallbackNumber, CallbackRequest};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::RecoveryState;
use crate::config::Config;
use crate::router_task::{RestoredCallback, RouterHandle};

/// A callback queued (directly or by converting a waiting call) and not yet ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueuedCallback {
    /// Its queue.
    pub queue: String,
    /// The customer's number.
    pub number: String,
    /// The customer's reason or note.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// When it originally entered the queue.
    pub entered_at: Timestamp,
    /// Its priority.
    pub priority: i32,
    /// Dial attempts made (with an outcome).
    pub attempts: u32,
    /// The attempt under way (due or dialing) whose outcome is not journaled yet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_flight: Option<InFlight>,
    /// Not dialed before this time: its last failure's retry delay.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_before: Option<Timestamp>,
}

/// An attempt begun and not ended in the journal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InFlight {
    /// Which attempt.
    pub attempt: u32,
    /// The agent reserved for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    /// Whether the customer's INVITE was about to go out (`callback.dialing`).
    #[serde(default)]
    pub dialing: bool,
}

/// A queue's retry rules, from the configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Policy {
    retry_delay: Duration,
    max_attempts: u32,
}

impl RecoveryState {
    /// Tracks the callback entries: queued or converted adds one, an outcome that ends it
    /// removes it, a due or dialing attempt is in flight until its failure counts it.
    pub(super) fn apply_callback(&mut self, event: &Event) {
        let Some(call) = event.call_id else {
            return;
        };
        match &event.kind {
            EventKind::CallbackQueued {
                scheduled: true, ..
            } => {}
            EventKind::CallbackQueued {
                number,
                note,
                entered_at,
                priority,
                attempts,
                ..
            } => self.queue_callback(call, event, number, note, *entered_at, *priority, *attempts),
            EventKind::CallbackConverted {
                number,
                note,
                entered_at,
                priority,
            } => self.queue_callback(call, event, number, note, *entered_at, *priority, 0),
            EventKind::CallbackDue { attempt, .. } => {
                if let Some(callback) = self.callbacks.get_mut(&call) {
                    callback.in_flight = Some(InFlight {
                        attempt: *attempt,
                        agent: event.agent_id.clone(),
                        dialing: false,
                    });
                }
            }
            EventKind::CallbackDialing { attempt, .. } => {
                if let Some(callback) = self.callbacks.get_mut(&call) {
                    callback.in_flight = Some(InFlight {
                        attempt: *attempt,
                        agent: event.agent_id.clone(),
                        dialing: true,
                    });
                }
            }
            EventKind::CallbackFailed {
                attempts,
                retry_after_ms,
                ..
            } => {
                if let Some(callback) = self.callbacks.get_mut(&call) {
                    callback.attempts = *attempts;
                    callback.in_flight = None;
                    callback.not_before = Some(later(event.ts, *retry_after_ms));
                }
            }
            EventKind::CallbackConnected { .. }
            | EventKind::CallbackGivenUp { .. }
            | EventKind::CallbackCancelled { .. } => {
                self.callbacks.remove(&call);
            }
            _ => {}
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn queue_callback(
        &mut self,
        call: Uuid,
        event: &Event,
        number: &str,
        note: &Option<String>,
        entered_at: Timestamp,
        priority: i32,
        attempts: u32,
    ) {
        let Some(queue) = &event.queue else {
            tracing::warn!(%call, "callback event without a queue ignored");
            return;
        };
        // A callback queued again by a restart keeps the retry delay its last failure set.
        let not_before = self.callbacks.get(&call).and_then(|c| c.not_before);
        self.callbacks.insert(
            call,
            QueuedCallback {
                queue: queue.clone(),
                number: number.to_string(),
                note: note.clone(),
                entered_at,
                priority,
                attempts,
                in_flight: None,
                not_before,
            },
        );
    }

    /// Queues every callback not ended again, oldest first, with its original entry time (as
    /// far back as the monotonic clock reaches); an attempt without outcome is journaled as
    /// failed with cause `unknown` first and the callback waits the queue's retry delay (or is
    /// given up after its last attempt). Returns how many were queued again.
    pub fn restore_callbacks(
        &self,
        config: &Config,
        sink: &EventSink,
        router: &RouterHandle,
        now: Timestamp,
    ) -> usize {
        let routing = crate::routing_config::router_config(config);
        let policy = |queue: &str| {
            routing
                .queues
                .iter()
                .find(|q| q.id.as_str() == queue)
                .map(|q| Policy {
                    retry_delay: q.callback_retry_delay(),
                    max_attempts: q.callback_max_attempts(),
                })
        };
        let mut callbacks: Vec<(&Uuid, &QueuedCallback)> = self.callbacks.iter().collect();
        callbacks.sort_by_key(|(id, c)| (c.entered_at.unix_millis(), **id));
        let started = Instant::now();
        let mut restored = 0;
        for (call, callback) in callbacks {
            let mut attempts = callback.attempts;
            let mut not_before = callback.not_before;
            if let Some(flight) = &callback.in_flight {
                let Some(policy) = policy(&callback.queue) else {
                    tracing::warn!(%call, queue = %callback.queue, "callback of a queue no longer configured");
                    continue;
                };
                attempts = attempts.max(flight.attempt);
                let retry_ms = u64::try_from(policy.retry_delay.as_millis()).unwrap_or(u64::MAX);
                tracing::warn!(
                    %call,
                    attempt = flight.attempt,
                    dialing = flight.dialing,
                    "callback attempt cut by the last stop: outcome unknown, not redialed before its retry delay"
                );
                let mut failed = EventDraft::new(EventKind::CallbackFailed {
                    cause: CallbackFailCause::Unknown,
                    attempts,
                    retry_after_ms: retry_ms,
                    sip_status: None,
                    q850_cause: None,
                })
                .call(*call)
                .queue(callback.queue.clone());
                if let Some(agent) = &flight.agent {
                    failed = failed.agent(agent.clone());
                }
                sink.emit(failed.at(now));
                if attempts >= policy.max_attempts {
                    let wait = now.unix_millis() - callback.entered_at.unix_millis();
                    sink.emit(
                        EventDraft::new(EventKind::CallbackGivenUp {
                            wait_ms: u64::try_from(wait).unwrap_or(0),
                            reason: CallbackGiveUpReason::AttemptsExhausted,
                        })
                        .call(*call)
                        .queue(callback.queue.clone())
                        .at(now),
                    );
                    continue;
                }
                not_before = Some(later(now, retry_ms));
            }
            let entered_at = started
                .checked_sub(until(now, callback.entered_at))
                .unwrap_or_else(|| {
                    tracing::warn!(%call, "callback older than the monotonic clock: its age restarts");
                    started
                });
            // A time already past is no hold at all.
            let not_before = not_before
                .filter(|at| at.unix_millis() > now.unix_millis())
                .map(|at| started + until(at, now));
            let entry = RestoredCallback {
                request: CallbackRequest {
                    number: CallbackNumber::new(callback.number.clone()),
                    note: callback.note.clone(),
                },
                entered_at,
                priority: callback.priority,
                attempts,
                not_before,
            };
            router.restore_callback(*call, &callback.queue, entry);
            restored += 1;
        }
        restored
    }
}

/// `ms` milliseconds after `at`.
fn later(at: Timestamp, ms: u64) -> Timestamp {
    let ms = i64::try_from(ms).unwrap_or(i64::MAX);
    at.datetime()
        .checked_add(time::Duration::milliseconds(ms))
        .map_or(at, Timestamp::from_datetime)
}

/// How long from `now` until `at` (zero when past).
fn until(at: Timestamp, now: Timestamp) -> Duration {
    Duration::from_millis(u64::try_from(at.unix_millis() - now.unix_millis()).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: i64) -> Timestamp {
        Timestamp::from_datetime(
            time::OffsetDateTime::UNIX_EPOCH + time::Duration::milliseconds(1_700_000_000_000 + ms),
        )
    }

    fn event(seq: u64, call: Uuid, ms: i64, kind: EventKind) -> Event {
        let mut e = EventDraft::new(kind)
            .call(call)
            .queue("support")
            .agent("1001")
            .into_event(Uuid::now_v7(), seq, at(ms), "n");
        e.seq = seq;
        e
    }

    fn queued(scheduled: bool, attempts: u32) -> EventKind {
        EventKind::CallbackQueued {
            number: "+8613800000000".into(),
            note: None,
            entered_at: at(0),
            priority: 0,
            attempts,
            position: 1,
            scheduled,
        }
    }

    fn failed(attempts: u32, retry_after_ms: u64) -> EventKind {
        EventKind::CallbackFailed {
            cause: CallbackFailCause::Busy,
            attempts,
            retry_after_ms,
            sip_status: Some(486),
            q850_cause: None,
        }
    }

    #[test]
    fn an_attempt_without_outcome_stays_in_flight_and_a_failure_sets_the_retry_time() {
        let call = Uuid::now_v7();
        let mut s = RecoveryState::default();
        s.apply(&event(1, call, 0, queued(false, 0)));
        s.apply(&event(
            2,
            call,
            1_000,
            EventKind::CallbackDue {
                attempt: 1,
                scheduled: false,
            },
        ));
        assert_eq!(
            s.callbacks[&call].in_flight,
            Some(InFlight {
                attempt: 1,
                agent: Some("1001".into()),
                dialing: false
            })
        );
        s.apply(&event(
            3,
            call,
            2_000,
            EventKind::CallbackDialing {
                attempt: 1,
                trunk: "carrier".into(),
                caller_id: None,
                number: "***00".into(),
            },
        ));
        assert!(s.callbacks[&call]
            .in_flight
            .as_ref()
            .is_some_and(|f| f.dialing));
        // The outcome ends the attempt and sets when the next may start.
        s.apply(&event(4, call, 5_000, failed(1, 120_000)));
        let cb = &s.callbacks[&call];
        assert_eq!((cb.attempts, cb.in_flight.as_ref()), (1, None));
        assert_eq!(cb.not_before, Some(at(125_000)));
        // Queued again by a restart: the retry time is kept.
        s.apply(&event(5, call, 6_000, queued(false, 1)));
        assert_eq!(s.callbacks[&call].not_before, Some(at(125_000)));
        // Round trip through a snapshot's JSON.
        let json = serde_json::to_value(&s).unwrap();
        let back: RecoveryState = serde_json::from_value(json).unwrap();
        assert_eq!(back, s);
    }

    #[test]
    fn a_scheduled_callbacks_entry_is_left_to_its_scheduler() {
        let call = Uuid::now_v7();
        let mut s = RecoveryState::default();
        s.apply(&event(1, call, 0, queued(true, 0)));
        s.apply(&event(
            2,
            call,
            1_000,
            EventKind::CallbackDue {
                attempt: 1,
                scheduled: true,
            },
        ));
        assert!(s.callbacks.is_empty());
    }

    #[test]
    fn later_and_until_count_milliseconds() {
        assert_eq!(later(at(0), 1_500), at(1_500));
        assert_eq!(until(at(1_500), at(0)), Duration::from_millis(1_500));
        assert_eq!(until(at(0), at(1_500)), Duration::ZERO);
    }
}
