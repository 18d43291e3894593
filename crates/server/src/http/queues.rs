//! `/api/v1/queues`: queues' configuration and live statistics.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};

use super::{error, unavailable, ApiState};

/// A queue as the API shows it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct QueueInfo {
    /// Queue name.
    pub name: String,
    /// Calls waiting.
    pub waiting: usize,
    /// How long the oldest waiting call has waited, ms.
    pub longest_wait_ms: u64,
    /// Member agents ready now.
    pub agents_ready: usize,
    /// Member agent ids.
    pub members: Vec<String>,
    /// The entries not yet connected, in line order (priority, then original entry time).
    #[serde(default)]
    pub entries: Vec<QueueEntryInfo>,
}

/// One queue entry in [`QueueInfo::entries`].
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct QueueEntryInfo {
    /// hotline's id of the call (or callback).
    pub call_id: String,
    /// `call` (a caller on the line) or `callback` (a customer to call back).
    pub kind: String,
    /// `waiting`, `offered` or `dialing`.
    pub status: String,
    /// Time since its original entry, ms.
    pub wait_ms: u64,
    /// Its priority.
    pub priority: i32,
    /// What the dialplan attached to the call for the agent's screen (e.g. CRM fields).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub data: std::collections::BTreeMap<String, String>,
}

/// One queue in detail: `GET /api/v1/queues/{id}`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct QueueDetail {
    /// Queue name.
    pub name: String,
    /// How the queue is configured (as the router runs it).
    pub config: QueueSettingsView,
    /// What the router sees now.
    pub statistics: QueueStatistics,
}

/// A queue's configuration.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct QueueSettingsView {
    /// How a member is chosen.
    pub strategy: hotline_routing::Strategy,
    /// Members in configuration order, with their penalties.
    pub members: Vec<QueueMember>,
    /// Priority given to the queue's entries (higher is served first).
    pub priority: i32,
    /// The service-level target, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_level: Option<ServiceLevelView>,
    /// Relaxation steps by wait time.
    pub relaxation: Vec<RelaxStepView>,
    /// How long an offer rings, ms.
    pub ring_timeout_ms: u64,
    /// Wrap-up after each call, ms.
    pub wrap_up_ms: u64,
    /// Longest wait before the call leaves the queue, ms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_wait_ms: Option<u64>,
    /// Most entries the queue holds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_len: Option<usize>,
}

/// A queue member.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct QueueMember {
    /// The agent.
    pub agent: String,
    /// Its penalty (lower is offered first).
    pub penalty: u32,
}

/// A service-level target.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ServiceLevelView {
    /// Answered within this counts as within target, ms.
    pub threshold_ms: u64,
    /// The share to reach, percent.
    pub percent: u8,
}

/// A relaxation step.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct RelaxStepView {
    /// Wait after which it applies, ms.
    pub after_ms: u64,
    /// What it changes.
    pub action: hotline_routing::RelaxAction,
}

/// A queue's live statistics from the router.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct QueueStatistics {
    /// Calls not yet connected, including those being offered.
    pub waiting: usize,
    /// Of those, calls being offered right now.
    pub offering: usize,
    /// How long the oldest waiting call has waited, ms.
    pub longest_wait_ms: u64,
    /// Members not logged out.
    pub agents_logged_in: usize,
    /// Members ready.
    pub agents_ready: usize,
    /// Members reserved, ringing, on a call or in wrap-up.
    pub agents_busy: usize,
    /// Members not ready.
    pub agents_not_ready: usize,
    /// Members staffing the queue: ready or busy.
    pub agents_staffed: usize,
    /// The wait a call entering now can expect, ms; absent when nobody staffs the queue.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub estimated_wait_ms: Option<u64>,
    /// Answered within the target over answered plus lost after it, over the queue's rolling
    /// window (`service_level.window`, default one hour); absent without a target or before any
    /// call counted in the window.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_level: Option<f64>,
    /// Exponentially weighted handle time (talk plus wrap-up), ms.
    pub handle_time_ms: u64,
}

pub(super) async fn list(State(state): State<Arc<ApiState>>) -> Response {
    match state.router.queues().await {
        Some(queues) => Json(queues).into_response(),
        None => unavailable(),
    }
}

pub(super) async fn one(State(state): State<Arc<ApiState>>, Path(id): Path<String>) -> Response {
    match state.router.queue(id).await {
        None => unavailable(),
        Some(Some(queue)) => Json(queue).into_response(),
        Some(None) => error(StatusCode::NOT_FOUND, "no such queue"),
    }
}
