//! What the router tells the server and the event log.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::agent_state::AgentState;
use crate::command::{CallbackFailure, CallbackOwner, CallbackRequest, OfferFailure};
use crate::config::Strategy;
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
    /// The server must invite the agent's contacts for this call (a ring-all entry has one such
    /// event per agent it rings at once).
    CallOffered {
        /// The call.
        call: CallId,
        /// The queue it waits in.
        queue: QueueId,
        /// The chosen agent.
        agent: AgentId,
        /// How long the offer may ring; the router revokes it after that.
        ring_timeout: Duration,
        /// Why this agent was chosen.
        reason: OfferReason,
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
    /// A failed or revoked offer put the call back at its place in the queue. For a ring-all
    /// entry there is one per offer that ended unanswered; the entry waits again only once none
    /// of its offers rings any more.
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
    /// The queue took the entry out without an agent (max wait, an exit step, the queue became
    /// empty). A terminal outcome of the queued call: the server plays its exit path or ends it.
    CallExited {
        /// The call.
        call: CallId,
        /// The queue.
        queue: QueueId,
        /// How long the caller waited (from the original entry time).
        wait: Duration,
        /// Why.
        reason: ExitReason,
    },
    /// The queue refused the entry (full, or empty under its join policy). A terminal outcome:
    /// the call never waited.
    CallRejected {
        /// The call.
        call: CallId,
        /// The queue.
        queue: QueueId,
        /// Why.
        reason: RejectReason,
    },
    /// A waiting entry reached a relaxation step: its requirements or overflow queues changed.
    CallRelaxed {
        /// The call.
        call: CallId,
        /// The queue.
        queue: QueueId,
        /// How many steps now apply (1 = the first step).
        step: usize,
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
    /// A callback entry joined a queue directly, at the place of its original entry time.
    CallbackQueued {
        /// The callback.
        call: CallId,
        /// The queue.
        queue: QueueId,
        /// Whom to call back.
        callback: CallbackRequest,
        /// Its original entry time (its age counts from it).
        entered_at: Instant,
        /// Its priority.
        priority: i32,
        /// Dial attempts already made.
        attempts: u32,
        /// Its 1-based position.
        position: usize,
        /// Who decides its fate after a failed dial.
        owner: CallbackOwner,
        /// Not reserved before this instant, if set.
        not_before: Option<Instant>,
    },
    /// A waiting live call became a callback entry, keeping its place and age. Not a terminal
    /// outcome: the callback's own outcome ends the entry.
    CallbackConverted {
        /// The call, now a callback.
        call: CallId,
        /// The queue.
        queue: QueueId,
        /// Whom to call back.
        callback: CallbackRequest,
        /// Its original entry time.
        entered_at: Instant,
        /// Its priority.
        priority: i32,
    },
    /// The server should offer the waiting caller a callback (the queue's or the dialplan
    /// node's offer wait, or a relaxation step).
    CallbackOffered {
        /// The call.
        call: CallId,
        /// The queue.
        queue: QueueId,
        /// How long the caller has waited.
        wait: Duration,
    },
    /// A callback's turn came: the agent is reserved and the server must dial the customer,
    /// then report [`crate::Command::CallbackConnected`] or [`crate::Command::CallbackFailed`].
    CallbackDue {
        /// The callback.
        call: CallId,
        /// The queue.
        queue: QueueId,
        /// The reserved agent.
        agent: AgentId,
        /// Whom to call back.
        callback: CallbackRequest,
        /// Which attempt this is (1 = the first).
        attempt: u32,
        /// Why this agent was chosen.
        reason: OfferReason,
        /// Who dials it: the plain dialer ([`CallbackOwner::Queue`]) or the scheduler's driver.
        owner: CallbackOwner,
    },
    /// The customer and the agent of a callback are talking. A terminal outcome of the callback
    /// entry; [`RoutingEvent::CallCompleted`] follows when it ends.
    CallbackConnected {
        /// The callback.
        call: CallId,
        /// The queue.
        queue: QueueId,
        /// The agent.
        agent: AgentId,
        /// How long the entry waited, from its original entry time.
        wait: Duration,
    },
    /// A callback's dial failed; the agent is released. Unless a
    /// [`RoutingEvent::CallbackGivenUp`] follows, the entry waits at its place again and may be
    /// dialed after `retry_after`. For a [`CallbackOwner::Scheduler`] entry it is a terminal
    /// outcome: the entry left the queue.
    CallbackFailed {
        /// The callback.
        call: CallId,
        /// The queue.
        queue: QueueId,
        /// The agent it was due to.
        agent: AgentId,
        /// What happened.
        cause: CallbackFailure,
        /// Attempts made so far, this one included.
        attempts: u32,
        /// How long before it may be dialed again: the queue's retry delay, or the far end's
        /// longer Retry-After.
        retry_after: Duration,
        /// Who decides what follows (a scheduler-owned entry left the queue).
        owner: CallbackOwner,
    },
    /// The queue gave a callback up. A terminal outcome of the callback entry.
    CallbackGivenUp {
        /// The callback.
        call: CallId,
        /// The queue.
        queue: QueueId,
        /// How long it waited, from its original entry time.
        wait: Duration,
        /// Why.
        reason: GiveUpReason,
    },
    /// A waiting callback was cancelled. A terminal outcome of the callback entry.
    CallbackCancelled {
        /// The callback.
        call: CallId,
        /// The queue.
        queue: QueueId,
        /// How long it waited, from its original entry time.
        wait: Duration,
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
    /// The configuration was replaced (see [`crate::Router::reconfigure`]): these are now the
    /// agents and queues. Agents no longer listed are gone once they hold no call; agents newly
    /// listed start logged out at `at`.
    Reconfigured {
        /// Every configured agent, in configuration order.
        agents: Vec<AgentId>,
        /// Every configured queue, in configuration order.
        queues: Vec<QueueId>,
        /// When the new configuration took effect.
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
            | RoutingEvent::CallCompleted { call, .. }
            | RoutingEvent::CallExited { call, .. }
            | RoutingEvent::CallRejected { call, .. }
            | RoutingEvent::CallRelaxed { call, .. }
            | RoutingEvent::CallbackQueued { call, .. }
            | RoutingEvent::CallbackConverted { call, .. }
            | RoutingEvent::CallbackOffered { call, .. }
            | RoutingEvent::CallbackDue { call, .. }
            | RoutingEvent::CallbackConnected { call, .. }
            | RoutingEvent::CallbackFailed { call, .. }
            | RoutingEvent::CallbackGivenUp { call, .. }
            | RoutingEvent::CallbackCancelled { call, .. } => Some(*call),
            RoutingEvent::AgentStateChanged { .. } | RoutingEvent::Reconfigured { .. } => None,
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
    /// The entry left the queue (max wait, an exit step) while the offer rang.
    CallExited,
    /// Another agent ringing for the same ring-all entry answered first (not a missed offer).
    AnsweredElsewhere,
    /// A configuration reload removed the agent, or it no longer serves the entry's queues.
    Reconfigured,
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
    /// A configuration reload took the agent off the entry's queues (not a missed offer).
    Reconfigured,
}

/// Why an entry left its queue without an agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExitReason {
    /// The entry's max wait passed.
    MaxWait,
    /// A relaxation step says to exit.
    RelaxationExit,
    /// The queue became empty under its leave-when-empty policy.
    QueueEmpty,
    /// A configuration reload removed the queue.
    QueueRemoved,
}

/// Why a queue gave a callback up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GiveUpReason {
    /// Its last dial attempt failed.
    AttemptsExhausted,
    /// It waited the queue's callback expiry.
    Expired,
    /// The number does not exist (404/484): never retried.
    InvalidNumber,
}

/// Why a queue refused an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RejectReason {
    /// The queue holds its max length already.
    QueueFull,
    /// The queue is empty under its join-when-empty policy.
    QueueEmpty,
}

/// Why an entry went to the agent it was offered to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfferReason {
    /// The queue through which the agent took it: the entry's own, or an overflow queue.
    pub via_queue: QueueId,
    /// The agent's penalty in that queue.
    pub penalty: u32,
    /// How many relaxation steps applied to the entry (0: its original requirements).
    pub relaxation_step: usize,
    /// How many of the entry's preferred skills the agent has.
    pub preferred_met: usize,
    /// The strategy that picked among equally placed agents.
    pub strategy: Strategy,
}
