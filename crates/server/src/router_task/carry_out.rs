//! Carrying out the router's events: signals to call tasks and events for the journal.

use hotline_events::{EventDraft, EventKind};
use hotline_routing::{AgentState, NotReadyReason, RevokeReason, RoutingEvent};
use uuid::Uuid;

use super::{RouteSignal, RouterTask};

mod callbacks;

impl RouterTask {
    pub(super) fn carry_out(&mut self, ev: RoutingEvent) {
        match ev {
            RoutingEvent::CallQueued {
                call,
                queue,
                position,
            } => self.emit(
                EventDraft::new(EventKind::CallQueued {
                    position: u32::try_from(position).unwrap_or(u32::MAX),
                })
                .call(Uuid::from_u128(call.0))
                .queue(queue.as_str()),
            ),
            RoutingEvent::CallOffered {
                call,
                queue,
                agent,
                ring_timeout,
                ..
            } => {
                self.emit(
                    EventDraft::new(EventKind::CallOffered {
                        ring_timeout_ms: millis(ring_timeout),
                        data: self.attached.get(&call.0).cloned().unwrap_or_default(),
                    })
                    .call(Uuid::from_u128(call.0))
                    .agent(agent.as_str())
                    .queue(queue.as_str()),
                );
                self.signal(
                    call,
                    RouteSignal::Offer {
                        agent: agent.as_str().to_string(),
                        ring_timeout,
                    },
                );
            }
            RoutingEvent::OfferRevoked {
                call,
                agent,
                reason,
            } => {
                // The call task ends its legs itself when the caller hangs up. A ring-all offer
                // losing to another agent's answer (`AnsweredElsewhere`) cancels that agent's
                // phones like any revocation; it is no failed offer, so nothing is journaled.
                if reason != RevokeReason::CallerAbandoned {
                    self.signal(
                        call,
                        RouteSignal::Revoke {
                            agent: agent.as_str().to_string(),
                        },
                    );
                }
            }
            RoutingEvent::CallRequeued {
                call,
                queue,
                agent,
                reason,
            } => self.emit(
                EventDraft::new(EventKind::CallOfferFailed {
                    cause: offer_fail_cause(reason),
                })
                .call(Uuid::from_u128(call.0))
                .agent(agent.as_str())
                .queue(queue.as_str()),
            ),
            RoutingEvent::CallConnected {
                call,
                queue,
                agent,
                wait,
            } => {
                self.emit(
                    EventDraft::new(EventKind::CallAnswered {
                        wait_ms: millis(wait),
                    })
                    .call(Uuid::from_u128(call.0))
                    .agent(agent.as_str())
                    .queue(queue.as_str()),
                );
                self.signal(
                    call,
                    RouteSignal::Connected {
                        agent: agent.as_str().to_string(),
                    },
                );
            }
            RoutingEvent::CallAbandoned {
                call,
                queue,
                wait,
                position,
            } => {
                self.emit(
                    EventDraft::new(EventKind::CallAbandoned {
                        wait_ms: millis(wait),
                        position: u32::try_from(position).ok(),
                    })
                    .call(Uuid::from_u128(call.0))
                    .queue(queue.as_str()),
                );
                self.calls.remove(&call.0);
            }
            RoutingEvent::CallCompleted { call, .. } => {
                self.calls.remove(&call.0);
            }
            // The bundled configuration sets no max wait, max length, empty policy or exit
            // step, so these do not happen yet; the call task has no exit path to take.
            RoutingEvent::CallExited {
                call,
                queue,
                reason,
                ..
            } => {
                tracing::info!(call = %Uuid::from_u128(call.0), %queue, ?reason, "call left the queue");
                let reason = match reason {
                    hotline_routing::ExitReason::MaxWait
                    | hotline_routing::ExitReason::RelaxationExit => {
                        hotline_events::EndReason::MaxWaitExceeded
                    }
                    hotline_routing::ExitReason::QueueEmpty
                    | hotline_routing::ExitReason::QueueRemoved => {
                        hotline_events::EndReason::NoAgents
                    }
                };
                self.signal(call, RouteSignal::Left { reason });
                self.calls.remove(&call.0);
            }
            RoutingEvent::CallRejected {
                call,
                queue,
                reason,
            } => {
                tracing::info!(call = %Uuid::from_u128(call.0), %queue, ?reason, "queue refused the call");
                let reason = match reason {
                    hotline_routing::RejectReason::QueueFull => hotline_events::EndReason::Error,
                    hotline_routing::RejectReason::QueueEmpty => {
                        hotline_events::EndReason::NoAgents
                    }
                };
                self.signal(call, RouteSignal::Left { reason });
                self.calls.remove(&call.0);
            }
            RoutingEvent::CallRelaxed { .. } => {}
            RoutingEvent::CallbackQueued { .. }
            | RoutingEvent::CallbackConverted { .. }
            | RoutingEvent::CallbackOffered { .. }
            | RoutingEvent::CallbackDue { .. }
            | RoutingEvent::CallbackConnected { .. }
            | RoutingEvent::CallbackFailed { .. }
            | RoutingEvent::CallbackGivenUp { .. }
            | RoutingEvent::CallbackCancelled { .. } => self.carry_out_callback(ev),
            RoutingEvent::Reconfigured { agents, queues, .. } => {
                tracing::info!(
                    agents = agents.len(),
                    queues = queues.len(),
                    "routing configuration replaced"
                );
            }
            RoutingEvent::AgentStateChanged {
                agent, from, to, ..
            } => {
                let reason = match &to {
                    AgentState::NotReady(r) => Some(not_ready_text(r)),
                    _ => None,
                };
                self.emit(
                    EventDraft::new(EventKind::AgentStateChanged {
                        from: wire_state(&from),
                        to: wire_state(&to),
                        reason,
                    })
                    .agent(agent.as_str()),
                );
            }
        }
    }
}

pub(super) fn millis(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

pub(super) fn not_ready_text(r: &NotReadyReason) -> String {
    match r {
        NotReadyReason::MissedOffer => "missed_offer".to_string(),
        NotReadyReason::Manual(text) => text.clone(),
    }
}

fn wire_state(s: &AgentState) -> hotline_events::AgentState {
    use hotline_events::AgentState as W;
    match s {
        AgentState::LoggedOut => W::LoggedOut,
        AgentState::Ready => W::Ready,
        AgentState::Reserved => W::Reserved,
        AgentState::Ringing => W::Ringing,
        AgentState::OnCall => W::OnCall,
        AgentState::WrapUp => W::WrapUp,
        AgentState::NotReady(_) => W::NotReady,
    }
}

fn offer_fail_cause(reason: hotline_routing::RequeueReason) -> hotline_events::OfferFailCause {
    use hotline_events::OfferFailCause as C;
    use hotline_routing::{OfferFailure, RequeueReason};
    match reason {
        RequeueReason::RingTimeout => C::NoAnswer,
        RequeueReason::OfferFailed(OfferFailure::Busy) => C::Busy,
        RequeueReason::OfferFailed(OfferFailure::Rejected) => C::Declined,
        RequeueReason::OfferFailed(OfferFailure::NoAnswer) => C::NoAnswer,
        RequeueReason::OfferFailed(OfferFailure::Unreachable) => C::Unreachable,
        RequeueReason::AgentLoggedOut => C::Unreachable,
        RequeueReason::Reconfigured => C::Failed,
    }
}
