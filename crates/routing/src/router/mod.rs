//! The router: queues, agents and offers, driven by commands and timers.
//!
//! # Distribution rule
//!
//! Calls are served oldest first across all queues (by arrival order). Each call waiting without
//! an offer goes to the `Ready` member of its queue that has been idle the longest; ties go to the
//! agent listed first in [`RouterConfig::agents`]. So an agent in several queues, when it becomes
//! ready, gets the longest-waiting call across its queues, and within a queue calls are offered in
//! arrival order.
//!
//! An agent is idle since it last became `Ready` (the end of its wrap-up, or the API, or its
//! registration). An offer revoked because the caller hung up does not restart the agent's idle
//! time: the agent did no work, so it keeps its place.
//!
//! A failed or timed-out offer makes the agent `NotReady(MissedOffer)` and the call keeps its place
//! at the head of its queue, so it is offered to the next ready member at once, or waits (with no
//! time limit) until one becomes ready. An agent never holds two offers and a call is never offered
//! to two agents at once.

#[cfg(test)]
mod consistency;
mod dispatch;
mod views;

use std::collections::{BTreeMap, VecDeque};
use std::time::Instant;

use crate::agent_state::{AgentState, NotReadyReason, RequestedState};
use crate::command::{Command, CommandError, OfferFailure};
use crate::config::{ConfigError, QueueConfig, RouterConfig};
use crate::event::{RequeueReason, RevokeReason, RoutingEvent};
use crate::ids::{AgentId, CallId, QueueId};
use crate::timers::{TimerReason, TimerTable};

pub use views::{AgentView, CallStatus, CallView, QueueView};

/// One agent's live state.
#[derive(Debug)]
struct Agent {
    id: AgentId,
    state: AgentState,
    /// When `state` was entered.
    since: Instant,
    /// When the agent last became ready; only meaningful while `Ready`.
    idle_since: Instant,
    contacts: usize,
    /// The call it is offered or connected to.
    call: Option<CallId>,
    /// Not-ready asked for while busy, applied after the call's wrap-up.
    pending_not_ready: Option<NotReadyReason>,
    /// The queues it is a member of, in configuration order.
    queues: Vec<QueueId>,
}

/// One queue's configuration and waiting line.
#[derive(Debug)]
struct Queue {
    config: QueueConfig,
    /// Indices into `Router::agents`, in configuration order.
    members: Vec<usize>,
    /// Calls not yet connected (waiting or being offered), in arrival order.
    line: VecDeque<CallId>,
}

/// Where a routed call is.
#[derive(Debug, Clone, Copy)]
enum Phase {
    Waiting,
    Offered { agent: usize },
    Connected { agent: usize, at: Instant },
}

/// One routed call.
#[derive(Debug)]
struct Call {
    queue: usize,
    enqueued_at: Instant,
    /// Arrival order across all queues.
    seq: u64,
    phase: Phase,
}

/// The distribution core. Feed it [`Command`]s and timeouts; drain its [`RoutingEvent`]s.
///
/// Pure and deterministic: it never reads the clock, `now` is always an argument.
#[derive(Debug)]
pub struct Router {
    agents: Vec<Agent>,
    agent_index: BTreeMap<AgentId, usize>,
    queues: Vec<Queue>,
    queue_index: BTreeMap<QueueId, usize>,
    calls: BTreeMap<CallId, Call>,
    /// Calls waiting without an offer, by arrival order.
    unoffered: BTreeMap<u64, CallId>,
    next_seq: u64,
    /// How many agents are `Ready`.
    ready: usize,
    timers: TimerTable,
    events: VecDeque<RoutingEvent>,
}

impl Router {
    /// Builds a router from a configuration; every agent starts `LoggedOut` at `now`.
    pub fn new(config: RouterConfig, now: Instant) -> Result<Self, ConfigError> {
        config.validate()?;
        let mut agents: Vec<Agent> = config
            .agents
            .iter()
            .map(|id| Agent {
                id: id.clone(),
                state: AgentState::LoggedOut,
                since: now,
                idle_since: now,
                contacts: 0,
                call: None,
                pending_not_ready: None,
                queues: Vec::new(),
            })
            .collect();
        let agent_index: BTreeMap<AgentId, usize> = config
            .agents
            .iter()
            .enumerate()
            .map(|(i, id)| (id.clone(), i))
            .collect();
        let mut queues = Vec::with_capacity(config.queues.len());
        let mut queue_index = BTreeMap::new();
        for (qi, queue) in config.queues.into_iter().enumerate() {
            let mut members = Vec::with_capacity(queue.members.len());
            for member in &queue.members {
                // Validation checked every member is a configured agent.
                if let Some(&ai) = agent_index.get(member) {
                    members.push(ai);
                    agents[ai].queues.push(queue.id.clone());
                }
            }
            queue_index.insert(queue.id.clone(), qi);
            queues.push(Queue {
                config: queue,
                members,
                line: VecDeque::new(),
            });
        }
        Ok(Self {
            agents,
            agent_index,
            queues,
            queue_index,
            calls: BTreeMap::new(),
            unoffered: BTreeMap::new(),
            next_seq: 0,
            ready: 0,
            timers: TimerTable::default(),
            events: VecDeque::new(),
        })
    }

    /// Applies one command at `now`. On error nothing changed and no event was emitted.
    pub fn handle(&mut self, now: Instant, command: Command) -> Result<(), CommandError> {
        match command {
            Command::Enqueue { call, queue } => self.enqueue(now, call, &queue)?,
            Command::Abandon { call } | Command::CallEnded { call } => self.end(now, call)?,
            Command::OfferRinging { call, agent } => {
                let a = self.offered_agent(call, &agent)?;
                if self.agents[a].state == AgentState::Reserved {
                    self.set_state(a, AgentState::Ringing, now);
                }
            }
            Command::OfferAnswered { call, agent } => {
                let a = self.offered_agent(call, &agent)?;
                self.connect(now, call, a);
            }
            Command::OfferFailed { call, agent, cause } => {
                let a = self.offered_agent(call, &agent)?;
                self.offer_failed(now, call, a, cause);
            }
            Command::SetState { agent, state } => self.set_requested(now, &agent, state)?,
            Command::ContactsChanged { agent, count } => {
                self.contacts_changed(now, &agent, count)?
            }
        }
        self.dispatch(now);
        Ok(())
    }

    /// Fires every timer due at or before `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some(reason) = self.timers.pop_due(now) {
            match reason {
                TimerReason::RingTimeout { call, agent } => self.ring_timeout(now, call, &agent),
                TimerReason::WrapUpEnd { agent } => {
                    if let Some(&a) = self.agent_index.get(&agent) {
                        if self.agents[a].state == AgentState::WrapUp {
                            self.finish_wrap_up(now, a);
                        }
                    }
                }
            }
            self.dispatch(now);
        }
    }

    /// The next event to act on or log, in order.
    pub fn poll_event(&mut self) -> Option<RoutingEvent> {
        self.events.pop_front()
    }

    /// When the router next needs [`Router::handle_timeout`], and why.
    pub fn poll_timeout(&self) -> Option<(Instant, TimerReason)> {
        self.timers.next().map(|(at, reason)| (at, reason.clone()))
    }

    fn emit(&mut self, event: RoutingEvent) {
        self.events.push_back(event);
    }

    /// Moves agent `a` to `to`, emitting the change; entering `Ready` restarts its idle time.
    fn set_state(&mut self, a: usize, to: AgentState, now: Instant) {
        self.set_state_keeping_idle(a, to.clone(), now);
        if to == AgentState::Ready {
            self.agents[a].idle_since = now;
        }
    }

    /// Moves agent `a` to `to` without touching its idle time.
    fn set_state_keeping_idle(&mut self, a: usize, to: AgentState, now: Instant) {
        let agent = &mut self.agents[a];
        if agent.state == to {
            return;
        }
        if agent.state == AgentState::Ready {
            self.ready -= 1;
        }
        if to == AgentState::Ready {
            self.ready += 1;
        }
        let from = std::mem::replace(&mut agent.state, to.clone());
        agent.since = now;
        let event = RoutingEvent::AgentStateChanged {
            agent: agent.id.clone(),
            from,
            to,
            at: now,
        };
        self.emit(event);
    }

    fn agent_idx(&self, agent: &AgentId) -> Result<usize, CommandError> {
        self.agent_index
            .get(agent)
            .copied()
            .ok_or_else(|| CommandError::UnknownAgent(agent.clone()))
    }

    /// The index of `agent` if `call` is currently offered to it.
    fn offered_agent(&self, call: CallId, agent: &AgentId) -> Result<usize, CommandError> {
        let a = self.agent_idx(agent)?;
        let routed = self
            .calls
            .get(&call)
            .ok_or(CommandError::UnknownCall(call))?;
        match routed.phase {
            Phase::Offered { agent: offered } if offered == a => Ok(a),
            _ => Err(CommandError::NotOffered {
                call,
                agent: agent.clone(),
            }),
        }
    }

    fn enqueue(&mut self, now: Instant, call: CallId, queue: &QueueId) -> Result<(), CommandError> {
        let q = *self
            .queue_index
            .get(queue)
            .ok_or_else(|| CommandError::UnknownQueue(queue.clone()))?;
        if self.calls.contains_key(&call) {
            return Err(CommandError::CallAlreadyRouted(call));
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        self.calls.insert(
            call,
            Call {
                queue: q,
                enqueued_at: now,
                seq,
                phase: Phase::Waiting,
            },
        );
        self.unoffered.insert(seq, call);
        let line = &mut self.queues[q].line;
        line.push_back(call);
        let position = line.len();
        self.emit(RoutingEvent::CallQueued {
            call,
            queue: queue.clone(),
            position,
        });
        Ok(())
    }

    /// Ends a call whatever its phase: abandoned if not yet connected, completed if connected.
    fn end(&mut self, now: Instant, call: CallId) -> Result<(), CommandError> {
        let routed = self
            .calls
            .remove(&call)
            .ok_or(CommandError::UnknownCall(call))?;
        let q = routed.queue;
        let queue_id = self.queues[q].config.id.clone();
        match routed.phase {
            Phase::Connected { agent: a, at } => {
                self.emit(RoutingEvent::CallCompleted {
                    call,
                    queue: queue_id,
                    agent: self.agents[a].id.clone(),
                    talk: now.saturating_duration_since(at),
                });
                self.agents[a].call = None;
                self.after_call(now, a, q);
            }
            Phase::Offered { agent: a } => {
                self.timers.cancel(&TimerReason::RingTimeout {
                    call,
                    agent: self.agents[a].id.clone(),
                });
                self.emit(RoutingEvent::OfferRevoked {
                    call,
                    agent: self.agents[a].id.clone(),
                    reason: RevokeReason::CallerAbandoned,
                });
                self.abandoned(now, call, &routed, queue_id);
                self.agents[a].call = None;
                match self.agents[a].pending_not_ready.take() {
                    Some(reason) => self.set_state(a, AgentState::NotReady(reason), now),
                    // The agent did no work: it keeps its idle time and so its place.
                    None => self.set_state_keeping_idle(a, AgentState::Ready, now),
                }
            }
            Phase::Waiting => {
                self.unoffered.remove(&routed.seq);
                self.abandoned(now, call, &routed, queue_id);
            }
        }
        Ok(())
    }

    /// Takes an unconnected call out of its queue line and reports it abandoned.
    fn abandoned(&mut self, now: Instant, call: CallId, routed: &Call, queue: QueueId) {
        let line = &mut self.queues[routed.queue].line;
        let index = line.iter().position(|c| *c == call);
        if let Some(i) = index {
            line.remove(i);
        }
        self.emit(RoutingEvent::CallAbandoned {
            call,
            queue,
            wait: now.saturating_duration_since(routed.enqueued_at),
            position: index.map_or(0, |i| i + 1),
        });
    }

    /// Agent `a` answered offered `call`.
    fn connect(&mut self, now: Instant, call: CallId, a: usize) {
        let agent_id = self.agents[a].id.clone();
        self.timers.cancel(&TimerReason::RingTimeout {
            call,
            agent: agent_id.clone(),
        });
        let Some(routed) = self.calls.get_mut(&call) else {
            return;
        };
        routed.phase = Phase::Connected { agent: a, at: now };
        let wait = now.saturating_duration_since(routed.enqueued_at);
        let q = routed.queue;
        let line = &mut self.queues[q].line;
        if let Some(i) = line.iter().position(|c| *c == call) {
            line.remove(i);
        }
        self.emit(RoutingEvent::CallConnected {
            call,
            queue: self.queues[q].config.id.clone(),
            agent: agent_id,
            wait,
        });
        self.set_state(a, AgentState::OnCall, now);
    }

    fn offer_failed(&mut self, now: Instant, call: CallId, a: usize, cause: OfferFailure) {
        self.timers.cancel(&TimerReason::RingTimeout {
            call,
            agent: self.agents[a].id.clone(),
        });
        self.requeue(call, a, RequeueReason::OfferFailed(cause));
        self.missed(now, a);
    }

    fn ring_timeout(&mut self, now: Instant, call: CallId, agent: &AgentId) {
        let Ok(a) = self.offered_agent(call, agent) else {
            // Timers are cancelled whenever an offer ends, so this offer is still live.
            return;
        };
        self.emit(RoutingEvent::OfferRevoked {
            call,
            agent: agent.clone(),
            reason: RevokeReason::RingTimeout,
        });
        self.requeue(call, a, RequeueReason::RingTimeout);
        self.missed(now, a);
    }

    /// Agent `a` missed an offer.
    fn missed(&mut self, now: Instant, a: usize) {
        self.agents[a].pending_not_ready = None;
        self.set_state(a, AgentState::NotReady(NotReadyReason::MissedOffer), now);
    }

    /// Puts an offered call back at its place in its queue, without an offer.
    fn requeue(&mut self, call: CallId, a: usize, reason: RequeueReason) {
        self.agents[a].call = None;
        let Some(routed) = self.calls.get_mut(&call) else {
            return;
        };
        routed.phase = Phase::Waiting;
        let (seq, q) = (routed.seq, routed.queue);
        self.unoffered.insert(seq, call);
        self.emit(RoutingEvent::CallRequeued {
            call,
            queue: self.queues[q].config.id.clone(),
            agent: self.agents[a].id.clone(),
            reason,
        });
    }

    /// Agent `a` finished a call of queue `q`.
    fn after_call(&mut self, now: Instant, a: usize, q: usize) {
        if self.agents[a].contacts == 0 {
            self.agents[a].pending_not_ready = None;
            self.set_state(a, AgentState::LoggedOut, now);
            return;
        }
        let wrap_up = self.queues[q].config.wrap_up;
        if wrap_up.is_zero() {
            self.finish_wrap_up(now, a);
        } else {
            self.set_state(a, AgentState::WrapUp, now);
            let agent = self.agents[a].id.clone();
            self.timers
                .set(TimerReason::WrapUpEnd { agent }, now + wrap_up);
        }
    }

    fn finish_wrap_up(&mut self, now: Instant, a: usize) {
        let to = match self.agents[a].pending_not_ready.take() {
            Some(reason) => AgentState::NotReady(reason),
            None => AgentState::Ready,
        };
        self.set_state(a, to, now);
    }

    fn cancel_wrap_up(&mut self, a: usize) {
        let agent = self.agents[a].id.clone();
        self.timers.cancel(&TimerReason::WrapUpEnd { agent });
    }

    fn set_requested(
        &mut self,
        now: Instant,
        agent: &AgentId,
        state: RequestedState,
    ) -> Result<(), CommandError> {
        let a = self.agent_idx(agent)?;
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

    fn contacts_changed(
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
