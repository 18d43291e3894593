//! What the server tells the router, and why the router may refuse it.

use serde::{Deserialize, Serialize};

use std::fmt;
use std::time::{Duration, Instant};

use crate::agent_state::RequestedState;
use crate::config::EnqueueOptions;
use crate::ids::{AgentId, CallId, QueueId};
use crate::skills::{SkillId, Skills};

/// An input to [`crate::Router::handle`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// A caller entered a queue (from the dialplan's `queue` action).
    Enqueue {
        /// The call.
        call: CallId,
        /// The queue it waits in.
        queue: QueueId,
    },
    /// A caller entered a queue with requirements: required and preferred skills, a priority, the
    /// dialplan node's max wait. [`Command::Enqueue`] is this with `EnqueueOptions::default()`.
    EnqueueWith {
        /// The call.
        call: CallId,
        /// The queue it waits in.
        queue: QueueId,
        /// Its requirements and priority.
        options: EnqueueOptions,
    },
    /// A live call waiting in its queue (not being offered) becomes a callback entry: it keeps
    /// its place and age, and the caller may hang up without the call counting as abandoned.
    ConvertToCallback {
        /// The call.
        call: CallId,
        /// Whom to call back.
        callback: CallbackRequest,
    },
    /// A callback entry joins a queue directly (the API, or a restart restoring queued
    /// callbacks). `entered_at` is its original entry time: it takes the place of an entry that
    /// arrived then, and its relaxation and expiry count from it. Never rejected.
    EnqueueCallback {
        /// The callback's id.
        call: CallId,
        /// The queue it waits in.
        queue: QueueId,
        /// Whom to call back.
        callback: CallbackRequest,
        /// Its requirements and priority (`max_wait` and `callback_offer` do not apply).
        options: EnqueueOptions,
        /// When it originally entered the queue (at or before `now`).
        entered_at: Instant,
        /// Dial attempts already made (0 for a new callback).
        attempts: u32,
        /// Who decides what happens after a failed dial: the queue's retry policy, or an
        /// external scheduler (the entry is then dialed once and leaves the queue on failure).
        owner: CallbackOwner,
        /// Not reserved before this instant (a restored attempt waiting out its retry delay);
        /// the entry keeps its place meanwhile. `None`: due as soon as its turn comes.
        not_before: Option<Instant>,
    },
    /// The callback is no longer wanted (the customer or a supervisor cancelled it). A callback
    /// being dialed cannot be cancelled: report its outcome first.
    CancelCallback {
        /// The callback.
        call: CallId,
    },
    /// The callback's dial reached the customer and the agent: they talk (like
    /// [`Command::OfferAnswered`]). [`Command::CallEnded`] ends it.
    CallbackConnected {
        /// The callback.
        call: CallId,
        /// The agent it was due to.
        agent: AgentId,
    },
    /// The callback's dial failed: the entry goes back to its place (keeping its age) and may
    /// be dialed again after the queue's retry delay, or is given up after its last attempt
    /// (at once for [`CallbackFailure::InvalidNumber`]). The agent is released without a missed
    /// offer. A [`CallbackOwner::Scheduler`] entry leaves the queue instead.
    CallbackFailed {
        /// The callback.
        call: CallId,
        /// The agent it was due to.
        agent: AgentId,
        /// What happened.
        cause: CallbackFailure,
        /// The far end's Retry-After: the next attempt waits at least this long (capped at
        /// [`MAX_RETRY_AFTER`]), and at least the queue's retry delay.
        retry_after: Option<Duration>,
    },
    /// The caller hung up while waiting or while an offer rang.
    ///
    /// If the call is already connected this is treated as [`Command::CallEnded`]. For a
    /// callback entry not yet connected it does nothing: the caller's hang-up after converting
    /// to a callback is not an abandon (use [`Command::CancelCallback`] to drop a callback).
    Abandon {
        /// The call.
        call: CallId,
    },
    /// The agent's phone reports ringing: the agent goes `Reserved -> Ringing`.
    OfferRinging {
        /// The offered call.
        call: CallId,
        /// The agent it was offered to.
        agent: AgentId,
    },
    /// The agent answered (200 OK): the call is connected.
    OfferAnswered {
        /// The offered call.
        call: CallId,
        /// The agent it was offered to.
        agent: AgentId,
    },
    /// The offer failed at the agent's side; counts as a missed offer at once.
    OfferFailed {
        /// The offered call.
        call: CallId,
        /// The agent it was offered to.
        agent: AgentId,
        /// What happened.
        cause: OfferFailure,
    },
    /// A connected call is over: the agent goes to wrap-up.
    ///
    /// If the call is still waiting this is treated as [`Command::Abandon`].
    CallEnded {
        /// The call.
        call: CallId,
    },
    /// The API sets an agent ready or not ready.
    ///
    /// An agent holding an offer or on a call that is set not ready finishes that first: it goes
    /// not ready when the wrap-up after the call ends (a missed offer makes it not ready at once
    /// anyway). An agent in wrap-up set ready or not ready takes the state at once.
    SetState {
        /// The agent.
        agent: AgentId,
        /// The state asked for.
        state: RequestedState,
    },
    /// The agent ends its wrap-up early and becomes ready (or its pending not-ready state).
    EndWrapUp {
        /// The agent.
        agent: AgentId,
    },
    /// The agent extends its current wrap-up by `by`.
    ExtendWrapUp {
        /// The agent.
        agent: AgentId,
        /// How much longer.
        by: Duration,
    },
    /// The number of registered SIP contacts of the agent changed.
    ///
    /// `0 -> n` makes a logged-out agent ready; `n -> m` (a refresh) never changes the state;
    /// `n -> 0` logs the agent out, revoking any offer it holds. An agent on a call whose
    /// registration lapses stays on the call and is logged out when it ends.
    ContactsChanged {
        /// The agent.
        agent: AgentId,
        /// How many contacts are registered now.
        count: usize,
    },
    /// The API replaces an agent's skills (proficiency 1-10 each). Waiting entries the agent
    /// now qualifies for may be offered to it at once; an offer or call it holds is kept.
    SetSkills {
        /// The agent.
        agent: AgentId,
        /// Its new skills, replacing the old ones.
        skills: Skills,
    },
}

/// Why an offer failed at the agent's side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OfferFailure {
    /// The agent declined (603, or 486 sent by a decline button).
    Rejected,
    /// The agent's phone was busy (486/600).
    Busy,
    /// The agent's phone did not answer (408/480, or its own timer).
    NoAnswer,
    /// The agent's phone could not be reached (transport error, 404, 5xx).
    Unreachable,
}

/// Whom to call back, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallbackRequest {
    /// The customer's number.
    pub number: CallbackNumber,
    /// A reason or note for the agent, if the customer left one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A customer's number to call back. Personal data: its `Debug` form shows only the last two
/// characters, so logging an event or command does not expose it; [`CallbackNumber::as_str`]
/// gives the number for dialing and the journal.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CallbackNumber(String);

impl CallbackNumber {
    /// Wraps a number as given.
    pub fn new(number: impl Into<String>) -> Self {
        Self(number.into())
    }

    /// The number as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for CallbackNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0.chars().count();
        let tail: String = self.0.chars().skip(n.saturating_sub(2)).collect();
        write!(f, "CallbackNumber(\"***{tail}\")")
    }
}

/// Why a callback's dial failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallbackFailure {
    /// The customer did not answer (ring timeout, 408/480, 487 after our CANCEL).
    NoAnswer,
    /// The customer's line was busy (486/600).
    Busy,
    /// The customer's number could not be reached.
    Unreachable,
    /// The agent's leg of the dial did not connect.
    AgentUnavailable,
    /// No dial was possible (no outbound dialing path): nothing was sent to the customer.
    NotDialed,
    /// The customer declined the call (603).
    Rejected,
    /// The number does not exist (404/484): the callback is given up at once, never retried.
    InvalidNumber,
    /// The trunk or network failed (5xx), perhaps with a Retry-After.
    NetworkFailure,
    /// The attempt's outcome was lost (the server stopped while it dialed).
    Unknown,
}

/// The longest Retry-After a failed dial may impose on the next attempt.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 3600);

/// Who decides a callback entry's fate after a failed dial.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum CallbackOwner {
    /// The queue: retried per its retry delay and attempt limit, given up or expired by it.
    #[default]
    Queue,
    /// An external scheduler: reserved and dialed once; a failed dial takes the entry out of
    /// the queue without retry, give-up or expiry, and the scheduler decides what follows.
    Scheduler,
}

/// A command the router refused; its state is unchanged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    /// No such queue is configured.
    #[error("unknown queue {0}")]
    UnknownQueue(QueueId),
    /// No such agent is configured.
    #[error("unknown agent {0}")]
    UnknownAgent(AgentId),
    /// The router holds no such call (never queued, or already over).
    #[error("unknown call {0}")]
    UnknownCall(CallId),
    /// The call is already queued or connected.
    #[error("call {0} is already being routed")]
    CallAlreadyRouted(CallId),
    /// The call is not (or no longer) offered to this agent, e.g. the offer was revoked first.
    /// The server should hang up the agent's leg if it answered.
    #[error("call {call} is not offered to agent {agent}")]
    NotOffered {
        /// The call.
        call: CallId,
        /// The agent.
        agent: AgentId,
    },
    /// The call is not waiting as a live call (a callback already, or being offered).
    #[error("call {0} is not a live call waiting for an offer")]
    NotWaitingLive(CallId),
    /// The entry is not a callback waiting to be dialed.
    #[error("call {0} is not a callback waiting in its queue")]
    NotWaitingCallback(CallId),
    /// The callback is not (or no longer) due to this agent.
    #[error("callback {call} is not being dialed for agent {agent}")]
    NotDialing {
        /// The callback.
        call: CallId,
        /// The agent.
        agent: AgentId,
    },
    /// A callback's original entry time lies after `now`.
    #[error("callback {0} entered its queue in the future")]
    EnteredInFuture(CallId),
    /// The agent has no registered contact, so it cannot be set ready or not ready.
    #[error("agent {0} is logged out")]
    AgentLoggedOut(AgentId),
    /// The not-ready reason is not one of the configured reason codes.
    #[error("unknown not-ready reason {0:?}")]
    UnknownReason(String),
    /// The agent is not in wrap-up, so its wrap-up cannot be ended or extended.
    #[error("agent {0} is not in wrap-up")]
    NotInWrapUp(AgentId),
    /// A skill's proficiency is outside 1-10.
    #[error("skill {skill}: proficiency {proficiency} is outside 1-10")]
    InvalidProficiency {
        /// The skill.
        skill: SkillId,
        /// The proficiency given.
        proficiency: u8,
    },
}
