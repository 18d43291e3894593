//! The HTTP side: health, Prometheus metrics, and the agent/queue API.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use crate::metrics::Metrics;
use crate::router_task::RouterHandle;

/// What the HTTP handlers share.
pub struct ApiState {
    /// The routing task.
    pub router: RouterHandle,
    /// Metrics to render.
    pub metrics: Metrics,
    /// Expected bearer token for `/api/`.
    pub api_token: String,
}

/// An agent as the API shows it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AgentInfo {
    /// Agent id.
    pub id: String,
    /// Display name from the config.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `logged_out`, `ready`, `reserved`, `ringing`, `on_call`, `wrap_up` or `not_ready`.
    pub state: String,
    /// Why the agent is not ready.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Milliseconds in this state.
    pub in_state_ms: u64,
    /// Queues the agent serves.
    pub queues: Vec<String>,
    /// Registered contacts.
    pub contacts: usize,
}

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
}

/// Body of `POST /api/v1/agents/{id}/state`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StateRequest {
    /// The requested state.
    pub state: RequestedState,
    /// Why (for not_ready).
    #[serde(default)]
    pub reason: Option<String>,
}

/// States an agent can be put in from the API.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RequestedState {
    /// Ready for calls.
    Ready,
    /// Not ready, with a reason.
    NotReady,
}

/// Why a state change was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StateChangeError {
    /// No such agent.
    UnknownAgent,
    /// The agent has no registered phone.
    LoggedOut,
}

/// Builds the axum router.
pub fn router(state: Arc<ApiState>) -> Router {
    let api = Router::new()
        .route("/api/v1/agents", get(list_agents))
        .route("/api/v1/agents/{id}/state", post(set_agent_state))
        .route("/api/v1/queues", get(list_queues))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            require_token,
        ));
    Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/metrics", get(render_metrics))
        .merge(api)
        .with_state(state)
}

async fn require_token(
    State(state): State<Arc<ApiState>>,
    headers: HeaderMap,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let ok = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|t| constant_time_eq(t.as_bytes(), state.api_token.as_bytes()));
    if ok {
        next.run(request).await
    } else {
        (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer")],
            Json(serde_json::json!({"error": "missing or wrong bearer token"})),
        )
            .into_response()
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

async fn render_metrics(State(state): State<Arc<ApiState>>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
}

async fn list_agents(State(state): State<Arc<ApiState>>) -> Response {
    match state.router.agents().await {
        Some(agents) => Json(agents).into_response(),
        None => unavailable(),
    }
}

async fn list_queues(State(state): State<Arc<ApiState>>) -> Response {
    match state.router.queues().await {
        Some(queues) => Json(queues).into_response(),
        None => unavailable(),
    }
}

async fn set_agent_state(
    State(state): State<Arc<ApiState>>,
    Path(id): Path<String>,
    body: Result<Json<StateRequest>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let Json(req) = match body {
        Ok(b) => b,
        Err(e) => {
            return (
                StatusCode::BAD_REQUEST,
                Json(serde_json::json!({"error": e.body_text()})),
            )
                .into_response()
        }
    };
    if req.state == RequestedState::NotReady && req.reason.as_deref().is_none_or(str::is_empty) {
        return (
            StatusCode::BAD_REQUEST,
            Json(serde_json::json!({"error": "not_ready needs a reason"})),
        )
            .into_response();
    }
    match state.router.set_state(id, req.state, req.reason).await {
        None => unavailable(),
        Some(Ok(agent)) => Json(agent).into_response(),
        Some(Err(StateChangeError::UnknownAgent)) => (
            StatusCode::NOT_FOUND,
            Json(serde_json::json!({"error": "no such agent"})),
        )
            .into_response(),
        Some(Err(StateChangeError::LoggedOut)) => (
            StatusCode::CONFLICT,
            Json(serde_json::json!({"error": "agent is logged out: register a phone first"})),
        )
            .into_response(),
    }
}

fn unavailable() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        Json(serde_json::json!({"error": "shutting down"})),
    )
        .into_response()
}
