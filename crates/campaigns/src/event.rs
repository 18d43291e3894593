//! The scheduler's events: every change of a callback's state is one, written to the log before
//! the driver acts on it, and folding them rebuilds the state (see [`crate::Book`]).
//!
//! JSON: internally tagged with `type` in snake_case, instants as RFC 3339, durations in ms.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::due::DueWindow;
use crate::ids::{AgentName, CallbackId, QueueName, SkillName};
use crate::number::E164;
use crate::outcome::DialOutcome;
use crate::sampling::SamplingDecision;
use crate::time::{instant_text, option_instant_text, Zone};

/// What a callback is, as created (everything a restart needs to dial it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallbackSpec {
    /// Whom to call (personal data, kept as given because a restart must dial it).
    pub number: E164,
    /// The customer's IANA time zone; None: unknown, never dialed until set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<Zone>,
    /// Why (`complaint`, `repair_follow_up`), matched by sampling rules.
    pub reason: String,
    /// Free attributes (`severity: major`), matched by sampling rules.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: BTreeMap<String, String>,
    /// The queue whose agents call back.
    pub queue: QueueName,
    /// Skills the agent needs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skills: Vec<SkillName>,
    /// Its base priority (higher first among equal deadlines).
    #[serde(default)]
    pub priority: i32,
    /// When it may start and when it is due.
    pub due: DueWindow,
    /// The sampling decision, when a rule matched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sampling: Option<SamplingDecision>,
}

/// Why a callback is held (not dialed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HoldReason {
    /// The customer's time zone is unknown, so no calling window can be checked.
    UnknownTimeZone,
}

/// Why a claim ended without a dial (the driver frees the agent it reserved, if any).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReleaseReason {
    /// The driver found no agent after all.
    NoAgent,
    /// The driver did not answer the claim in time.
    Timeout,
    /// The calling window closed before the agent was reserved.
    WindowClosed,
    /// The process restarted while the claim was open.
    Restart,
}

/// Why a callback was given up (a terminal state).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GiveUpReason {
    /// The sampling rules left it out: it is never called.
    NotSampled,
    /// The number is on the do-not-call list at dial time.
    DoNotCall,
    /// The number does not exist (404/484).
    InvalidNumber,
    /// Its attempts ran out (per outcome or in total).
    AttemptsExhausted,
    /// It was still not done long after its deadline.
    Expired,
}

/// One scheduler event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum CallbackEvent {
    /// A callback was created. When its sampling decision leaves it out, `given_up`
    /// (`not_sampled`) follows; when its zone is unknown, `held`.
    Created {
        /// The callback.
        id: CallbackId,
        /// When.
        #[serde(with = "instant_text")]
        at: Timestamp,
        /// What it is.
        callback: Box<CallbackSpec>,
    },
    /// The callback is held: it will not be dialed until the reason is gone.
    Held {
        /// The callback.
        id: CallbackId,
        /// When.
        #[serde(with = "instant_text")]
        at: Timestamp,
        /// Why.
        reason: HoldReason,
    },
    /// The customer's time zone was set (a held callback becomes due again).
    TimeZoneSet {
        /// The callback.
        id: CallbackId,
        /// When.
        #[serde(with = "instant_text")]
        at: Timestamp,
        /// The zone.
        time_zone: Zone,
    },
    /// The callback is handed to the driver: reserve an agent of `queue` with `skills` at
    /// `priority`, then report [`crate::Scheduler::agent_reserved`] or a failed reservation.
    Claimed {
        /// The callback.
        id: CallbackId,
        /// When.
        #[serde(with = "instant_text")]
        at: Timestamp,
        /// Its queue.
        queue: QueueName,
        /// Skills the agent needs.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        skills: Vec<SkillName>,
        /// Its priority now (see [`crate::due::effective_priority`]).
        priority: i32,
    },
    /// A claim ended without a dial; the callback waits again.
    ClaimReleased {
        /// The callback.
        id: CallbackId,
        /// When.
        #[serde(with = "instant_text")]
        at: Timestamp,
        /// Why.
        reason: ReleaseReason,
    },
    /// A dial attempt: written (fsynced) before the driver sends the INVITE.
    AttemptStarted {
        /// The callback.
        id: CallbackId,
        /// When.
        #[serde(with = "instant_text")]
        at: Timestamp,
        /// 1 for the first.
        attempt: u32,
        /// The agent reserved for it.
        agent: AgentName,
        /// The number to dial.
        number: E164,
        /// The caller ID to present (None: the trunk's default).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        caller_id: Option<E164>,
        /// How long to ring before cancelling (at least 15 s).
        ring_timeout_ms: u64,
    },
    /// A dial attempt ended.
    AttemptEnded {
        /// The callback.
        id: CallbackId,
        /// When.
        #[serde(with = "instant_text")]
        at: Timestamp,
        /// Which attempt.
        attempt: u32,
        /// What it came to.
        outcome: DialOutcome,
        /// When it may be dialed again (None: a terminal event follows).
        #[serde(
            default,
            with = "option_instant_text",
            skip_serializing_if = "Option::is_none"
        )]
        retry_at: Option<Timestamp>,
    },
    /// The deadline is `lead_ms` away and the callback is not done.
    DeadlineWarning {
        /// The callback.
        id: CallbackId,
        /// When.
        #[serde(with = "instant_text")]
        at: Timestamp,
        /// Its deadline.
        #[serde(with = "instant_text")]
        deadline: Timestamp,
        /// The configured lead time that fired.
        lead_ms: u64,
    },
    /// The deadline passed and the callback is not done (it goes on being tried).
    MissedDeadline {
        /// The callback.
        id: CallbackId,
        /// When.
        #[serde(with = "instant_text")]
        at: Timestamp,
        /// Its deadline.
        #[serde(with = "instant_text")]
        deadline: Timestamp,
    },
    /// The customer answered: done (terminal).
    Completed {
        /// The callback.
        id: CallbackId,
        /// When.
        #[serde(with = "instant_text")]
        at: Timestamp,
        /// The attempt that reached the customer.
        attempt: u32,
        /// Whether it was done by its deadline (true without a deadline).
        within_deadline: bool,
    },
    /// The callback was cancelled (terminal).
    Cancelled {
        /// The callback.
        id: CallbackId,
        /// When.
        #[serde(with = "instant_text")]
        at: Timestamp,
    },
    /// The callback was given up (terminal).
    GivenUp {
        /// The callback.
        id: CallbackId,
        /// When.
        #[serde(with = "instant_text")]
        at: Timestamp,
        /// Why.
        reason: GiveUpReason,
        /// Attempts made.
        attempts: u32,
    },
}

impl CallbackEvent {
    /// The callback it is about.
    pub fn id(&self) -> CallbackId {
        match self {
            Self::Created { id, .. }
            | Self::Held { id, .. }
            | Self::TimeZoneSet { id, .. }
            | Self::Claimed { id, .. }
            | Self::ClaimReleased { id, .. }
            | Self::AttemptStarted { id, .. }
            | Self::AttemptEnded { id, .. }
            | Self::DeadlineWarning { id, .. }
            | Self::MissedDeadline { id, .. }
            | Self::Completed { id, .. }
            | Self::Cancelled { id, .. }
            | Self::GivenUp { id, .. } => *id,
        }
    }

    /// When it happened.
    pub fn at(&self) -> Timestamp {
        match self {
            Self::Created { at, .. }
            | Self::Held { at, .. }
            | Self::TimeZoneSet { at, .. }
            | Self::Claimed { at, .. }
            | Self::ClaimReleased { at, .. }
            | Self::AttemptStarted { at, .. }
            | Self::AttemptEnded { at, .. }
            | Self::DeadlineWarning { at, .. }
            | Self::MissedDeadline { at, .. }
            | Self::Completed { at, .. }
            | Self::Cancelled { at, .. }
            | Self::GivenUp { at, .. } => *at,
        }
    }

    /// The wire name of its type (`attempt_started`).
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::Created { .. } => "created",
            Self::Held { .. } => "held",
            Self::TimeZoneSet { .. } => "time_zone_set",
            Self::Claimed { .. } => "claimed",
            Self::ClaimReleased { .. } => "claim_released",
            Self::AttemptStarted { .. } => "attempt_started",
            Self::AttemptEnded { .. } => "attempt_ended",
            Self::DeadlineWarning { .. } => "deadline_warning",
            Self::MissedDeadline { .. } => "missed_deadline",
            Self::Completed { .. } => "completed",
            Self::Cancelled { .. } => "cancelled",
            Self::GivenUp { .. } => "given_up",
        }
    }
}
