//! What the API shows of a scheduled callback and of the counts.

use std::collections::BTreeMap;

use hotline_campaigns::{Callback, CallbackState, Stats};
use serde::Serialize;

use super::journal::{give_up_to_wire, outcome_to_wire, wire_time};
use super::metrics::QueueCounts;

/// One scheduled callback, as `GET /api/v1/callbacks/{id}` shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CallbackView {
    /// Its id.
    pub id: String,
    /// The customer's number.
    pub number: String,
    /// The customer's time zone, when known.
    pub time_zone: Option<String>,
    /// Why.
    pub reason: String,
    /// Free attributes.
    pub attributes: BTreeMap<String, String>,
    /// The queue whose agents call back.
    pub queue: String,
    /// Skills the agent needs.
    pub skills: Vec<String>,
    /// Base priority.
    pub priority: i32,
    /// `held`, `waiting`, `claimed`, `dialing`, `completed`, `cancelled` or `given_up`.
    pub state: hotline_campaigns::StateKind,
    /// Why it is held (`unknown_time_zone`) or was given up (`do_not_call`, ...).
    pub state_reason: Option<String>,
    /// Whether a completed callback was done by its deadline.
    pub within_deadline: Option<bool>,
    /// Attempts started.
    pub attempts: u32,
    /// The last attempt's outcome.
    pub last_outcome: Option<String>,
    /// When it was created.
    pub created_at: String,
    /// Not dialed before this.
    pub not_before: String,
    /// Its deadline.
    pub deadline: Option<String>,
    /// Not dialed again before this (after a failed attempt).
    pub retry_at: Option<String>,
    /// Whether its deadline passed before it was done.
    pub missed_deadline: bool,
    /// When it ended.
    pub ended_at: Option<String>,
}

fn text<T: Serialize>(value: T) -> Option<String> {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
}

impl CallbackView {
    /// The view of `cb`.
    pub fn of(cb: &Callback) -> Self {
        let at = |t: jiff::Timestamp| wire_time(t).to_string();
        let (state_reason, within_deadline) = match &cb.state {
            CallbackState::Held(reason) => (text(reason), None),
            CallbackState::GivenUp(reason) => (text(give_up_to_wire(*reason)), None),
            CallbackState::Completed { within_deadline } => (None, Some(*within_deadline)),
            _ => (None, None),
        };
        Self {
            id: cb.id.to_string(),
            number: cb.spec.number.as_str().to_string(),
            time_zone: cb.spec.time_zone.as_ref().map(|z| z.name().to_string()),
            reason: cb.spec.reason.clone(),
            attributes: cb.spec.attributes.clone(),
            queue: cb.spec.queue.as_str().to_string(),
            skills: cb
                .spec
                .skills
                .iter()
                .map(|s| s.as_str().to_string())
                .collect(),
            priority: cb.spec.priority,
            state: cb.state.kind(),
            state_reason,
            within_deadline,
            attempts: cb.attempts,
            last_outcome: cb.last_outcome.and_then(|o| text(outcome_to_wire(o.kind))),
            created_at: at(cb.created_at),
            not_before: at(cb.spec.due.not_before),
            deadline: cb.spec.due.deadline.map(at),
            retry_at: cb.retry_at.map(at),
            missed_deadline: cb.missed,
            ended_at: cb.ended_at.map(at),
        }
    }
}

/// `GET /api/v1/callbacks/stats`: the counts, the callback-completion KPI, and per queue.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatsView {
    /// The scheduler's counts.
    #[serde(flatten)]
    pub stats: Stats,
    /// Completed within deadline / due, in percent (absent while nothing was due).
    pub completed_within_deadline_percent: Option<f64>,
    /// Open, due and overdue callbacks per queue.
    pub queues: BTreeMap<String, QueueCountsView>,
}

/// One queue's open, due and overdue callbacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct QueueCountsView {
    /// Open callbacks.
    pub pending: i64,
    /// Callbacks that may be dialed now.
    pub due: i64,
    /// Open callbacks past their deadline.
    pub overdue: i64,
}

impl From<QueueCounts> for QueueCountsView {
    fn from(c: QueueCounts) -> Self {
        Self {
            pending: c.pending,
            due: c.due,
            overdue: c.overdue,
        }
    }
}
