//! Ring-all entries: one entry offered to several agents at once (see the module doc of
//! [`super`]). Offering lives in `dispatch`; this is how those offers end.

use std::time::Instant;

use super::{Phase, Router};
use crate::agent_state::AgentState;
use crate::event::{RequeueReason, RevokeReason, RoutingEvent};
use crate::ids::CallId;
use crate::timers::TimerReason;

impl Phase {
    /// The agents whose offer of this call rings (none unless offered).
    pub(super) fn offered(&self) -> &[usize] {
        match self {
            Phase::Offered { agent } => std::slice::from_ref(agent),
            Phase::RingingAll { agents } => agents,
            // Other phases hold no ringing offer.
            _ => &[],
        }
    }

    /// Ends agent `a`'s offer; whether no offer of the call rings any more.
    pub(super) fn end_offer(&mut self, a: usize) -> bool {
        match self {
            Phase::RingingAll { agents } => {
                agents.retain(|&b| b != a);
                agents.is_empty()
            }
            _ => true,
        }
    }
}

impl Router {
    /// Agent `answered` took ring-all `call`: the other agents of `rung` are released at once.
    /// They did no work, so they keep their idle time and count no missed offer.
    pub(super) fn answered_elsewhere(
        &mut self,
        now: Instant,
        call: CallId,
        answered: usize,
        rung: &[usize],
    ) {
        for &b in rung.iter().filter(|&&b| b != answered) {
            let agent = self.agents[b].id.clone();
            self.timers.cancel(&TimerReason::RingTimeout {
                call,
                agent: agent.clone(),
            });
            self.emit(RoutingEvent::OfferRevoked {
                call,
                agent,
                reason: RevokeReason::AnsweredElsewhere,
            });
            self.agents[b].call = None;
            match self.agents[b].pending_not_ready.take() {
                Some(reason) => self.set_state(b, AgentState::NotReady(reason), now),
                None => self.set_state_keeping_idle(b, AgentState::Ready, now),
            }
        }
    }

    /// The ring timeout of ring-all `call` passed: every offer still ringing is revoked and
    /// counts a missed offer; the entry waits again at its place.
    pub(super) fn ring_all_timeout(&mut self, now: Instant, call: CallId) {
        let Some(rung) = self.calls.get(&call).map(|c| c.phase.offered().to_vec()) else {
            return;
        };
        for a in rung {
            let agent = self.agents[a].id.clone();
            self.timers.cancel(&TimerReason::RingTimeout {
                call,
                agent: agent.clone(),
            });
            self.emit(RoutingEvent::OfferRevoked {
                call,
                agent,
                reason: RevokeReason::RingTimeout,
            });
            self.requeue(call, a, RequeueReason::RingTimeout);
            self.missed(now, a);
        }
    }
}

#[cfg(test)]
mod tests;
