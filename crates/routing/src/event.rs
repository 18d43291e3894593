//! What the router tells the server and the event log.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::agent_state::AgentState;
use crate::command::OfferFailure;
use crate::ids::{AgentId, CallId, QueueId};

/// An output of the router, drained with [`crate::Router::poll_event`].
///
/// Each event carries enough to rebuild the agents' states by replay (see [`crate::replay`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoutingEvent {
    /// A call entered a queue.
    CallQueued {
        /// The call.
        call: CallId,
        /// The queue.
        queue: QueueId,
        /// Its 1-based position, counting the calls ahead of it (including ones being offered).
        position: usize,
    },
    /// The server must invite the agent's contacts for this call.
    CallOffered {
        /// The call.
        call: CallId,
        /// The queue it waits in.
        queue: QueueId,
        /// The chosen agent.
        agent: AgentId,
        /// How long the offer may ring; the router revokes it after that.
        ring_timeout: Duration,
    },
    /// The server must cancel its invitation of the agent for this call.
    OfferRevoked {
        /// The call.
        call: CallId,
        /// The agent.
        agent: AgentId,
        /// Why.
        reason: RevokeReason,
    },
    /// A failed or revoked offer put the call back at its place in the queue.
    CallRequeued {
        /// The call.
        call: CallId,
        /// The queue.
        queue: QueueId,
        /// The agent that did not take it.
        agent: AgentId,
        /// Why the offer did not connect.
        reason: RequeueReason,
    },
    /// The agent answered: bridge the caller with the agent. A terminal outcome of the queued call.
    CallConnected {
        /// The call.
        call: CallId,
        /// The queue.
        queue: QueueId,
        /// The agent.
        agent: AgentId,
        /// How long the caller waited in the queue.
        wait: Duration,
    },
    /// The caller hung up before being connected. A terminal outcome of the queued call.
    CallAbandoned {
        /// The call.
        call: CallId,
        /// The queue.
        queue: QueueId,
        /// How long the caller waited.
        wait: Duration,
        /// Its 1-based position when it hung up.
        position: usize,
    },
    /// A connected call ended; the agent is released.
    CallCompleted {
        /// The call.
        call: CallId,
        /// The queue.
        queue: QueueId,
        /// The agent.
        agent: AgentId,
        /// How long the agent and caller were connected.
        talk: Duration,
    },
    /// An agent changed state.
    AgentStateChanged {
        /// The agent.
        agent: AgentId,
        /// The previous state.
        from: AgentState,
        /// The new state.
        to: AgentState,
        /// When it changed.
        at: Instant,
    },
}

impl RoutingEvent {
    /// The call the event is about, so the server can hand it to that call's task.
    pub fn call(&self) -> Option<CallId> {
        match self {
            RoutingEvent::CallQueued { call, .. }
            | RoutingEvent::CallOffered { call, .. }
            | RoutingEvent::OfferRevoked { call, .. }
            | RoutingEvent::CallRequeued { call, .. }
            | RoutingEvent::CallConnected { call, .. }
            | RoutingEvent::CallAbandoned { call, .. }
            | RoutingEvent::CallCompleted { call, .. } => Some(*call),
            RoutingEvent::AgentStateChanged { .. } => None,
        }
    }
}

/// Why an offer was revoked (the server cancels the agent's INVITE).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RevokeReason {
    /// The queue's ring timeout passed without an answer.
    RingTimeout,
    /// The caller hung up.
    CallerAbandoned,
    /// The agent's last registration went away.
    AgentLoggedOut,
}

/// Why a call went back to waiting after an offer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequeueReason {
    /// The ring timeout passed.
    RingTimeout,
    /// The agent's side failed the offer.
    OfferFailed(OfferFailure),
    /// The agent logged out while the offer rang.
    AgentLoggedOut,
}
