//! Agent transitions: missed offers, wrap-up, the API's state requests, registrations.

use std::time::Instant;

use super::Router;
use crate::agent_state::{AgentState, NotReadyReason, RequestedState};
use crate::command::CommandError;
use crate::event::{RequeueReason, RevokeReason, RoutingEvent};
use crate::ids::AgentId;
use crate::timers::TimerReason;

impl Router {
    /// Agent `a` missed an offer: not ready after its `max_missed` in a row, else ready again at
    /// the back of the idle line (or the not-ready state it asked for meanwhile).
    pub(super) fn missed(&mut self, now: Instant, a: usize) {
        let agent = &mut self.agents[a];
        agent.missed_in_row += 1;
        if agent.missed_in_row >= agent.max_missed {
            agent.missed_in_row = 0;
            agent.pending_not_ready = None;
            self.set_state(a, AgentState::NotReady(NotReadyReason::MissedOffer), now);
            return;
        }
        let to = match agent.pending_not_ready.take() {
            Some(reason) => AgentState::NotReady(reason),
            None => AgentState::Ready,
        };
        self.set_state(a, to, now);
    }

    /// Agent `a` finished a call of queue `q`: its own wrap-up, else the queue's.
    pub(super) fn after_call(&mut self, now: Instant, a: usize, q: usize) {
        if self.agents[a].contacts == 0 {
            self.agents[a].pending_not_ready = None;
            self.set_state(a, AgentState::LoggedOut, now);
            return;
        }
        let wrap_up = self.agents[a]
            .wrap_up
            .unwrap_or(self.queues[q].config.wrap_up);
        if wrap_up.is_zero() {
            self.finish_wrap_up(now, a);
        } else {
            self.set_state(a, AgentState::WrapUp, now);
            let agent = self.agents[a].id.clone();
            self.timers
                .set(TimerReason::WrapUpEnd { agent }, now + wrap_up);
        }
    }

    pub(super) fn finish_wrap_up(&mut self, now: Instant, a: usize) {
        let to = match self.agents[a].pending_not_ready.take() {
            Some(reason) => AgentState::NotReady(reason),
            None => AgentState::Ready,
        };
        self.set_state(a, to, now);
    }

    pub(super) fn cancel_wrap_up(&mut self, a: usize) {
        let agent = self.agents[a].id.clone();
        self.timers.cancel(&TimerReason::WrapUpEnd { agent });
    }

    pub(super) fn set_requested(
        &mut self,
        now: Instant,
        agent: &AgentId,
        state: RequestedState,
    ) -> Result<(), CommandError> {
        let a = self.agent_idx(agent)?;
        if let RequestedState::NotReady(NotReadyReason::Manual(code)) = &state {
            if !self.not_ready_reasons.is_empty() && !self.not_ready_reasons.contains(code) {
                return Err(CommandError::UnknownReason(code.clone()));
            }
        }
        match self.agents[a].state {
            AgentState::LoggedOut => return Err(CommandError::AgentLoggedOut(agent.clone())),
            AgentState::Reserved | AgentState::Ringing | AgentState::OnCall => {
                self.agents[a].pending_not_ready = match state {
                    RequestedState::Ready => None,
                    RequestedState::NotReady(reason) => Some(reason),
                };
            }
            AgentState::Ready | AgentState::WrapUp | AgentState::NotReady(_) => {
                self.cancel_wrap_up(a);
                self.agents[a].pending_not_ready = None;
                self.set_state(a, state.into(), now);
            }
        }
        Ok(())
    }

    pub(super) fn contacts_changed(
        &mut self,
        now: Instant,
        agent: &AgentId,
        count: usize,
    ) -> Result<(), CommandError> {
        let a = self.agent_idx(agent)?;
        self.agents[a].contacts = count;
        if count > 0 {
            // A refresh never changes the state, so it never undoes a not-ready.
            if self.agents[a].state == AgentState::LoggedOut {
                self.set_state(a, AgentState::Ready, now);
            }
            return Ok(());
        }
        match self.agents[a].state {
            AgentState::LoggedOut => {}
            // Still bridged: logged out when the call ends (see `after_call`).
            AgentState::OnCall => {}
            AgentState::Reserved | AgentState::Ringing => {
                if let Some(call) = self.agents[a].call {
                    self.timers.cancel(&TimerReason::RingTimeout {
                        call,
                        agent: agent.clone(),
                    });
                    self.emit(RoutingEvent::OfferRevoked {
                        call,
                        agent: agent.clone(),
                        reason: RevokeReason::AgentLoggedOut,
                    });
                    self.requeue(call, a, RequeueReason::AgentLoggedOut);
                }
                self.agents[a].pending_not_ready = None;
                self.set_state(a, AgentState::LoggedOut, now);
            }
            AgentState::Ready | AgentState::WrapUp | AgentState::NotReady(_) => {
                self.cancel_wrap_up(a);
                self.agents[a].pending_not_ready = None;
                self.set_state(a, AgentState::LoggedOut, now);
            }
        }
        Ok(())
    }
}
