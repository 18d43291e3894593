//! Payload types of the `callback.*` events.

use serde::{Deserialize, Serialize};

/// Why a callback's dial failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallbackFailCause {
    /// The customer did not answer.
    NoAnswer,
    /// The customer's line was busy.
    Busy,
    /// The customer's number could not be reached.
    Unreachable,
    /// The agent's leg did not connect.
    AgentUnavailable,
    /// No dial was possible (no outbound dialing path); the customer was not called.
    NotDialed,
    /// The customer declined the call (603).
    Rejected,
    /// The number does not exist (404/484); never retried.
    InvalidNumber,
    /// The trunk or network failed (5xx).
    NetworkFailure,
    /// The attempt's outcome was lost (the server stopped while it dialed).
    Unknown,
}

/// Why a queue gave a callback up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallbackGiveUpReason {
    /// Its last dial attempt failed.
    AttemptsExhausted,
    /// It waited the queue's callback expiry.
    Expired,
    /// The number does not exist (404/484).
    InvalidNumber,
}
