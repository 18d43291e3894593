//! Rebuilding agent state from the event stream alone.
//!
//! Recovery and audits fold logged [`RoutingEvent`]s into a [`Replay`]; the result must equal the
//! router's own agent views, which the property tests check. Callback entries are rebuilt with
//! what a restart needs to queue them again: number, note, original entry time, priority and
//! attempts.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use crate::agent_state::AgentState;
use crate::command::{CallbackOwner, CallbackRequest};
use crate::event::RoutingEvent;
use crate::ids::{AgentId, CallId, QueueId};

/// An agent as rebuilt from events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplayedAgent {
    /// Its state.
    pub state: AgentState,
    /// When it entered that state.
    pub since: Instant,
    /// The call it is offered or connected to.
    pub current_call: Option<CallId>,
}

/// A routed call as rebuilt from events (queued, offered or connected).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplayedCall {
    /// The queue it entered.
    pub queue: QueueId,
    /// The agent it is connected to, or offered to while exactly one offer of it rings.
    pub agent: Option<AgentId>,
    /// Every agent whose offer of it rings, in offer order (several for a ring-all entry).
    pub ringing: Vec<AgentId>,
    /// Whether it is connected.
    pub connected: bool,
    /// How many relaxation steps applied.
    pub relaxation_step: usize,
    /// Set for a callback entry.
    pub callback: Option<ReplayedCallback>,
}

/// A callback entry as rebuilt from events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplayedCallback {
    /// Whom to call back.
    pub request: CallbackRequest,
    /// Its original entry time.
    pub entered_at: Instant,
    /// Its priority.
    pub priority: i32,
    /// Dial attempts made.
    pub attempts: u32,
    /// Who decides what follows a failed dial (a restart restores only queue-owned entries).
    pub owner: CallbackOwner,
}

impl ReplayedCall {
    /// Derives `agent` from the ringing offers until the call connects.
    fn settle(&mut self) {
        if !self.connected {
            self.agent = match self.ringing.as_slice() {
                [one] => Some(one.clone()),
                _ => None,
            };
        }
    }
}

/// A fold of routing events into agent states and routed calls.
#[derive(Debug, Clone, Default)]
pub struct Replay {
    agents: BTreeMap<AgentId, ReplayedAgent>,
    calls: BTreeMap<CallId, ReplayedCall>,
    /// Agents a reload removed while they held a call: gone once they log out after it.
    retiring: BTreeSet<AgentId>,
}

impl Replay {
    /// Starts from the router's initial state: every agent logged out at `start`.
    pub fn new(agents: impl IntoIterator<Item = AgentId>, start: Instant) -> Self {
        let agents = agents
            .into_iter()
            .map(|id| {
                let agent = ReplayedAgent {
                    state: AgentState::LoggedOut,
                    since: start,
                    current_call: None,
                };
                (id, agent)
            })
            .collect();
        Self {
            agents,
            calls: BTreeMap::new(),
            retiring: BTreeSet::new(),
        }
    }

    /// Applies one event; events about agents it does not know add them.
    pub fn apply(&mut self, event: &RoutingEvent) {
        match event {
            RoutingEvent::AgentStateChanged { agent, to, at, .. } => {
                if *to == AgentState::LoggedOut && self.retiring.remove(agent) {
                    self.agents.remove(agent);
                    return;
                }
                let entry = self.entry(agent, *at);
                entry.state = to.clone();
                entry.since = *at;
            }
            RoutingEvent::Reconfigured { agents, at, .. } => {
                let listed: BTreeSet<&AgentId> = agents.iter().collect();
                let retiring = &mut self.retiring;
                self.agents.retain(|id, agent| {
                    let keep = listed.contains(id) || agent.current_call.is_some();
                    if keep && !listed.contains(id) {
                        retiring.insert(id.clone());
                    }
                    keep
                });
                for agent in agents {
                    self.retiring.remove(agent);
                    self.entry(agent, *at);
                }
            }
            RoutingEvent::CallOffered { call, agent, .. } => {
                if let Some(entry) = self.agents.get_mut(agent) {
                    entry.current_call = Some(*call);
                }
                if let Some(routed) = self.calls.get_mut(call) {
                    routed.ringing.push(agent.clone());
                    routed.settle();
                }
            }
            RoutingEvent::CallRequeued { call, agent, .. }
            | RoutingEvent::OfferRevoked { call, agent, .. }
            | RoutingEvent::CallbackFailed { call, agent, .. }
            | RoutingEvent::CallCompleted { call, agent, .. } => {
                if let Some(entry) = self.agents.get_mut(agent) {
                    if entry.current_call == Some(*call) {
                        entry.current_call = None;
                    }
                }
                match event {
                    RoutingEvent::CallCompleted { .. }
                    | RoutingEvent::CallbackFailed {
                        owner: CallbackOwner::Scheduler,
                        ..
                    } => {
                        self.calls.remove(call);
                    }
                    _ => {
                        if let Some(routed) = self.calls.get_mut(call) {
                            routed.ringing.retain(|a| a != agent);
                            routed.settle();
                            if let (RoutingEvent::CallbackFailed { attempts, .. }, Some(callback)) =
                                (event, &mut routed.callback)
                            {
                                callback.attempts = *attempts;
                            }
                        }
                    }
                }
            }
            RoutingEvent::CallQueued { call, queue, .. } => {
                self.calls.insert(
                    *call,
                    ReplayedCall {
                        queue: queue.clone(),
                        agent: None,
                        ringing: Vec::new(),
                        connected: false,
                        relaxation_step: 0,
                        callback: None,
                    },
                );
            }
            RoutingEvent::CallbackQueued {
                call,
                queue,
                callback,
                entered_at,
                priority,
                attempts,
                owner,
                ..
            } => {
                let callback = ReplayedCallback {
                    request: callback.clone(),
                    entered_at: *entered_at,
                    priority: *priority,
                    attempts: *attempts,
                    owner: *owner,
                };
                self.calls.insert(
                    *call,
                    ReplayedCall {
                        queue: queue.clone(),
                        agent: None,
                        ringing: Vec::new(),
                        connected: false,
                        relaxation_step: 0,
                        callback: Some(callback),
                    },
                );
            }
            RoutingEvent::CallbackConverted {
                call,
                callback,
                entered_at,
                priority,
                ..
            } => {
                if let Some(routed) = self.calls.get_mut(call) {
                    routed.callback = Some(ReplayedCallback {
                        request: callback.clone(),
                        entered_at: *entered_at,
                        priority: *priority,
                        attempts: 0,
                        owner: CallbackOwner::Queue,
                    });
                }
            }
            // The agent reserved for a due callback counts like a single ringing offer.
            RoutingEvent::CallbackDue { call, agent, .. } => {
                if let Some(entry) = self.agents.get_mut(agent) {
                    entry.current_call = Some(*call);
                }
                if let Some(routed) = self.calls.get_mut(call) {
                    routed.ringing.push(agent.clone());
                    routed.settle();
                }
            }
            RoutingEvent::CallConnected { call, agent, .. }
            | RoutingEvent::CallbackConnected { call, agent, .. } => {
                if let Some(routed) = self.calls.get_mut(call) {
                    routed.connected = true;
                    routed.agent = Some(agent.clone());
                    // A ring-all entry's other offers are revoked by the events that follow.
                    routed.ringing.retain(|a| a != agent);
                }
            }
            RoutingEvent::CallRelaxed { call, step, .. } => {
                if let Some(routed) = self.calls.get_mut(call) {
                    routed.relaxation_step = *step;
                }
            }
            RoutingEvent::CallAbandoned { call, .. }
            | RoutingEvent::CallExited { call, .. }
            | RoutingEvent::CallbackGivenUp { call, .. }
            | RoutingEvent::CallbackCancelled { call, .. } => {
                self.calls.remove(call);
            }
            RoutingEvent::CallRejected { .. } | RoutingEvent::CallbackOffered { .. } => {}
        }
    }

    /// The rebuilt agents, ordered by id.
    pub fn agents(&self) -> &BTreeMap<AgentId, ReplayedAgent> {
        &self.agents
    }

    /// The rebuilt routed calls (queued, offered or connected), ordered by id.
    pub fn calls(&self) -> &BTreeMap<CallId, ReplayedCall> {
        &self.calls
    }

    /// The callback entries not connected (waiting, waiting to retry or being dialed), in
    /// line order: by queue, higher priority first, then original entry time.
    pub fn waiting_callbacks(&self) -> Vec<(CallId, &ReplayedCall, &ReplayedCallback)> {
        let mut waiting: Vec<_> = self
            .calls
            .iter()
            .filter(|(_, c)| !c.connected)
            .filter_map(|(id, c)| c.callback.as_ref().map(|cb| (*id, c, cb)))
            .collect();
        waiting.sort_by_key(|(id, c, cb)| {
            (
                c.queue.clone(),
                std::cmp::Reverse(cb.priority),
                cb.entered_at,
                *id,
            )
        });
        waiting
    }

    fn entry(&mut self, agent: &AgentId, at: Instant) -> &mut ReplayedAgent {
        self.agents
            .entry(agent.clone())
            .or_insert_with(|| ReplayedAgent {
                state: AgentState::LoggedOut,
                since: at,
                current_call: None,
            })
    }
}
