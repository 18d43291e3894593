//! Payload types of the scheduled-callback events (`callback.scheduled`, `callback.claimed`,
//! `callback.attempt_started`, ...): the outbound scheduler's own events, each with the
//! `callback_id` and every field a restart needs to rebuild the scheduler.
//!
//! The event's `ts` is when the scheduler decided; its `queue` names the callback's queue and,
//! on `callback.attempt_started`, its `agent_id` the agent reserved for the attempt.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::timestamp::Timestamp;

/// A scheduled callback as created (`callback.scheduled`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduledCallback {
    /// hotline's id of the callback.
    pub callback_id: Uuid,
    /// The customer's number in E.164. Personal data, kept as given because a restart must
    /// dial it; logs redact it.
    pub number: String,
    /// The customer's IANA time zone; absent: unknown (never dialed until set).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
    /// Why the customer is called back.
    pub reason: String,
    /// Free attributes (for sampling rules and the agent's screen).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: BTreeMap<String, String>,
    /// Skills the agent needs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skills: Vec<String>,
    /// Its base priority.
    #[serde(default)]
    pub priority: i32,
    /// The first instant it may be dialed.
    pub not_before: Timestamp,
    /// When it is due by, if it has a deadline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<Timestamp>,
    /// The sampling decision, when a sampling rule matched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sampling: Option<SamplingOutcome>,
}

/// Whether the sampling rules keep a callback, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SamplingOutcome {
    /// The month it counts in (`2026-12`).
    pub month: String,
    /// The rules it matched, in configuration order.
    pub rules: Vec<String>,
    /// Whether it is kept (called).
    pub kept: bool,
}

/// Why a scheduled callback is held (`callback.held`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScheduledHoldReason {
    /// The customer's time zone is unknown, so no calling window can be checked.
    UnknownTimeZone,
}

/// Why a claim ended without a dial (`callback.claim_released`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClaimReleaseReason {
    /// No agent could be reserved.
    NoAgent,
    /// No agent was reserved within the claim timeout.
    Timeout,
    /// The calling window closed before the agent was reserved.
    WindowClosed,
    /// hotline restarted while the claim was open.
    Restart,
}

/// What a scheduled dial attempt came to (`callback.attempt_ended`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttemptOutcome {
    /// The customer answered.
    Answered,
    /// Busy (486/600).
    Busy,
    /// Nobody answered (ring timeout, 408/480, 487 after our CANCEL).
    NoAnswer,
    /// The number does not exist (404/484): never retried.
    InvalidNumber,
    /// The customer declined (603).
    Rejected,
    /// The network or the trunk failed (5xx).
    NetworkFailure,
    /// The outcome was lost (hotline stopped while dialing).
    Unknown,
}

/// Why a scheduled callback was given up (`callback.scheduled_given_up`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScheduledGiveUpReason {
    /// The sampling rules left it out: it is never called.
    NotSampled,
    /// The number is on the do-not-call list.
    DoNotCall,
    /// The number does not exist.
    InvalidNumber,
    /// Its attempts ran out.
    AttemptsExhausted,
    /// It was still not done long after its deadline.
    Expired,
}
