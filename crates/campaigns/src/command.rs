//! What the driver tells the scheduler, and why the scheduler may refuse it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::due::{DueError, DueSpec};
use crate::ids::{CallbackId, QueueName, SkillName};
use crate::number::E164;
use crate::outcome::DialOutcome;
use crate::state::StateKind;
use crate::time::Zone;

/// A new callback, as the API gives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewCallback {
    /// Its id (the server makes a UUID).
    pub id: CallbackId,
    /// Whom to call.
    pub number: E164,
    /// The customer's IANA zone; None: unknown (held, never dialed until set).
    #[serde(default)]
    pub time_zone: Option<Zone>,
    /// Why.
    pub reason: String,
    /// Free attributes for sampling rules and the agent's screen.
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
    /// The queue whose agents call back.
    pub queue: QueueName,
    /// Skills the agent needs.
    #[serde(default)]
    pub skills: Vec<SkillName>,
    /// Base priority (higher first among equal deadlines).
    #[serde(default)]
    pub priority: i32,
    /// The due window.
    #[serde(default)]
    pub due: DueSpec,
}

/// An input to [`crate::Scheduler::handle`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Create a callback.
    Create(Box<NewCallback>),
    /// Cancel a callback not being dialed.
    Cancel {
        /// The callback.
        id: CallbackId,
    },
    /// Set (or correct) the customer's time zone.
    SetTimeZone {
        /// The callback.
        id: CallbackId,
        /// The zone.
        time_zone: Zone,
    },
    /// The driver could not reserve an agent for a claimed callback.
    ReservationFailed {
        /// The callback.
        id: CallbackId,
    },
    /// A dial attempt ended (see [`crate::outcome::classify`]).
    Outcome {
        /// The callback.
        id: CallbackId,
        /// The attempt number from `attempt_started`.
        attempt: u32,
        /// What it came to.
        outcome: DialOutcome,
    },
    /// The process restarted and the state was replayed: open claims are released and
    /// attempts without an outcome become `unknown`.
    Restarted,
}

/// Why a command was refused (nothing changed).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    /// No such callback.
    #[error("no callback {0}")]
    Unknown(CallbackId),
    /// A callback with this id exists.
    #[error("callback {0} exists already")]
    Duplicate(CallbackId),
    /// The queue has no outbound settings.
    #[error("queue {0} has no callback settings")]
    UnknownQueue(QueueName),
    /// The due window is wrong.
    #[error(transparent)]
    Due(#[from] DueError),
    /// The command does not apply in the callback's state.
    #[error("callback {id} is {state:?}: {action} does not apply")]
    WrongState {
        /// The callback.
        id: CallbackId,
        /// Its state.
        state: StateKind,
        /// What was asked.
        action: &'static str,
    },
    /// The outcome names another attempt than the one in progress.
    #[error("callback {id}: attempt {got} reported, attempt {expected} in progress")]
    WrongAttempt {
        /// The callback.
        id: CallbackId,
        /// The attempt in progress.
        expected: u32,
        /// The attempt reported.
        got: u32,
    },
}
