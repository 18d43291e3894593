//! Carrying out the router's callback events: the journal keeps what a restart needs to queue
//! the callbacks again (number, note, original entry time, priority, attempts).
//!
//! A due callback goes to the dialer (`crate::call::DueCallback`), which reports the outcome back
//! as `CallbackConnected` or `CallbackFailed`; with no dialer the agent is released at once
//! (`callback.failed`, cause `not_dialed`) and the callback waits in its place for its retry, so
//! no agent is ever held by a dial nobody makes.

use std::time::Instant;

use hotline_events::{CallbackFailCause, CallbackGiveUpReason, EventDraft, EventKind, Timestamp};
use hotline_routing::{CallbackFailure, CallbackOwner, Command, GiveUpReason, RoutingEvent};
use uuid::Uuid;

use super::millis;
use crate::router_task::{RouteSignal, RouterTask};

impl RouterTask {
    /// Journals one callback event; terminal ones forget the call's signal channel.
    pub(in crate::router_task) fn carry_out_callback(&mut self, ev: RoutingEvent) {
        let Some(call) = ev.call() else {
            return;
        };
        let uuid = Uuid::from_u128(call.0);
        // The waiting caller hears the offer, and hangs up once the entry is a callback.
        let notify = match &ev {
            RoutingEvent::CallbackOffered { .. } => Some(RouteSignal::CallbackOffered),
            RoutingEvent::CallbackConverted { .. } => Some(RouteSignal::CallbackConverted),
            _ => None,
        };
        let (draft, terminal) = match ev {
            RoutingEvent::CallbackQueued {
                queue,
                callback,
                entered_at,
                priority,
                attempts,
                position,
                owner,
                ..
            } => (
                EventDraft::new(EventKind::CallbackQueued {
                    number: callback.number.as_str().to_string(),
                    note: callback.note,
                    entered_at: wall_clock(entered_at),
                    priority,
                    attempts,
                    position: u32::try_from(position).unwrap_or(u32::MAX),
                    scheduled: owner == CallbackOwner::Scheduler,
                })
                .queue(queue.as_str()),
                false,
            ),
            RoutingEvent::CallbackConverted {
                queue,
                callback,
                entered_at,
                priority,
                ..
            } => (
                EventDraft::new(EventKind::CallbackConverted {
                    number: callback.number.as_str().to_string(),
                    note: callback.note,
                    entered_at: wall_clock(entered_at),
                    priority,
                })
                .queue(queue.as_str()),
                false,
            ),
            RoutingEvent::CallbackOffered { queue, wait, .. } => (
                EventDraft::new(EventKind::CallbackOffered {
                    wait_ms: millis(wait),
                })
                .queue(queue.as_str()),
                false,
            ),
            RoutingEvent::CallbackDue {
                queue,
                agent,
                callback,
                attempt,
                owner,
                ..
            } => {
                let due = crate::call::DueCallback {
                    call: uuid,
                    queue: queue.as_str().to_string(),
                    agent: agent.as_str().to_string(),
                    number: callback.number.as_str().to_string(),
                    note: callback.note,
                    attempt,
                    caller_id: None,
                    ring_timeout: None,
                    report: None,
                };
                let sent = self.dialer.as_ref().is_some_and(|d| d.send(due).is_ok());
                if !sent {
                    tracing::warn!(
                        call = %uuid,
                        %queue,
                        %agent,
                        attempt,
                        "callback due but there is no outbound dialing: the agent is released \
                         and the callback keeps its place until its retry"
                    );
                    // Never leave the agent reserved for a dial nobody makes: the entry goes
                    // back to its place (keeping its age) and is retried after the queue's delay.
                    let failed = Command::CallbackFailed {
                        call,
                        agent: agent.clone(),
                        cause: CallbackFailure::NotDialed,
                        retry_after: None,
                    };
                    if let Err(e) = self.router.handle(Instant::now(), failed) {
                        tracing::warn!(call = %uuid, "releasing the callback's agent refused: {e}");
                    }
                }
                (
                    EventDraft::new(EventKind::CallbackDue {
                        attempt,
                        scheduled: owner == CallbackOwner::Scheduler,
                    })
                    .agent(agent.as_str())
                    .queue(queue.as_str()),
                    false,
                )
            }
            RoutingEvent::CallbackConnected {
                queue, agent, wait, ..
            } => (
                EventDraft::new(EventKind::CallbackConnected {
                    wait_ms: millis(wait),
                })
                .agent(agent.as_str())
                .queue(queue.as_str()),
                false,
            ),
            RoutingEvent::CallbackFailed {
                queue,
                agent,
                cause,
                attempts,
                retry_after,
                owner,
                ..
            } => {
                let (sip_status, q850_cause) =
                    self.dial_failures.get(&call.0).copied().unwrap_or_default();
                (
                    EventDraft::new(EventKind::CallbackFailed {
                        cause: fail_cause(cause),
                        attempts,
                        retry_after_ms: millis(retry_after),
                        sip_status,
                        q850_cause,
                    })
                    .agent(agent.as_str())
                    .queue(queue.as_str()),
                    // A scheduled callback's entry leaves the queue with its failed dial.
                    owner == CallbackOwner::Scheduler,
                )
            }
            RoutingEvent::CallbackGivenUp {
                queue,
                wait,
                reason,
                ..
            } => (
                EventDraft::new(EventKind::CallbackGivenUp {
                    wait_ms: millis(wait),
                    reason: match reason {
                        GiveUpReason::AttemptsExhausted => CallbackGiveUpReason::AttemptsExhausted,
                        GiveUpReason::Expired => CallbackGiveUpReason::Expired,
                        GiveUpReason::InvalidNumber => CallbackGiveUpReason::InvalidNumber,
                    },
                })
                .queue(queue.as_str()),
                true,
            ),
            RoutingEvent::CallbackCancelled { queue, wait, .. } => (
                EventDraft::new(EventKind::CallbackCancelled {
                    wait_ms: millis(wait),
                })
                .queue(queue.as_str()),
                true,
            ),
            _ => return,
        };
        self.emit(draft.call(uuid));
        if let Some(signal) = notify {
            self.signal(call, signal);
        }
        if terminal {
            self.calls.remove(&call.0);
        }
    }
}

/// The wall-clock time of a router instant (the router's clock is monotonic).
pub(in crate::router_task) fn wall_clock(at: Instant) -> Timestamp {
    let now = time::OffsetDateTime::now_utc();
    let ago = Instant::now().saturating_duration_since(at);
    Timestamp::from_datetime(now - ago)
}

impl RouterTask {
    /// A callback's dial failed with what SIP said: the router hears the cause and the
    /// Retry-After, and `callback.failed` carries the status and Q.850 cause.
    pub(in crate::router_task) fn callback_failed_with(
        &mut self,
        now: Instant,
        call: Uuid,
        agent: &str,
        failure: crate::call::DialFailure,
    ) {
        let id = call.as_u128();
        self.dial_failures
            .insert(id, (failure.sip_status, failure.q850_cause));
        let command = Command::CallbackFailed {
            call: hotline_routing::CallId(id),
            agent: hotline_routing::AgentId::new(agent),
            cause: failure.cause,
            retry_after: failure.retry_after,
        };
        if let Err(e) = self.router.handle(now, command) {
            tracing::debug!(%call, "callback failure refused: {e}");
        }
        self.drain();
        self.dial_failures.remove(&id);
    }
}

fn fail_cause(cause: CallbackFailure) -> CallbackFailCause {
    match cause {
        CallbackFailure::NoAnswer => CallbackFailCause::NoAnswer,
        CallbackFailure::Busy => CallbackFailCause::Busy,
        CallbackFailure::Unreachable => CallbackFailCause::Unreachable,
        CallbackFailure::AgentUnavailable => CallbackFailCause::AgentUnavailable,
        CallbackFailure::NotDialed => CallbackFailCause::NotDialed,
        CallbackFailure::Rejected => CallbackFailCause::Rejected,
        CallbackFailure::InvalidNumber => CallbackFailCause::InvalidNumber,
        CallbackFailure::NetworkFailure => CallbackFailCause::NetworkFailure,
        CallbackFailure::Unknown => CallbackFailCause::Unknown,
    }
}
