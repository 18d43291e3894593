//! The HTTP side: health, Prometheus metrics, and the agent, queue and KPI API under
//! `/api/v1` (bearer token).

use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};

use crate::kpi_task::KpiHandle;
use crate::metrics::Metrics;
use crate::router_task::RouterHandle;

mod agents;
pub mod errors;
mod kpis;
mod queues;

use errors::{error, unavailable};

pub use agents::{
    AgentDetail, AgentInfo, AgentQueue, RequestedState, SkillsChangeError, StateChangeError,
};
pub use queues::{
    QueueDetail, QueueEntryInfo, QueueInfo, QueueMember, QueueSettingsView, QueueStatistics,
    RelaxStepView, ServiceLevelView,
};

/// What the HTTP handlers share.
pub struct ApiState {
    /// The routing task.
    pub router: RouterHandle,
    /// The KPI projection task.
    pub kpis: KpiHandle,
    /// Metrics to render.
    pub metrics: Metrics,
    /// Expected bearer token for `/api/`.
    pub api_token: String,
}

/// Builds the axum router.
pub fn router(state: Arc<ApiState>) -> Router {
    let api = Router::new()
        .route("/api/v1/agents", get(agents::list))
        .route("/api/v1/agents/{id}", get(agents::one))
        .route("/api/v1/agents/{id}/state", post(agents::set_state))
        .route("/api/v1/agents/{id}/skills", put(agents::set_skills))
        .route("/api/v1/queues", get(queues::list))
        .route("/api/v1/queues/{id}", get(queues::one))
        .route("/api/v1/kpis", get(kpis::snapshot))
        .route("/api/v1/kpis/queues/{id}", get(kpis::queue))
        .route("/api/v1/kpis/agents/{id}", get(kpis::agent))
        .route("/api/v1/recordings", get(crate::recording::api::list))
        .route("/api/v1/recordings/{id}", get(crate::recording::api::one))
        .route(
            "/api/v1/recordings/{id}/audio",
            get(crate::recording::api::audio),
        )
        .route(
            "/api/v1/calls/{id}/recording/{action}",
            post(crate::recording::api::control),
        )
        .route(
            "/api/v1/callbacks",
            get(crate::callbacks::api::list).post(crate::callbacks::api::create),
        )
        .route("/api/v1/callbacks/stats", get(crate::callbacks::api::stats))
        .route(
            "/api/v1/callbacks/{id}",
            get(crate::callbacks::api::one).delete(crate::callbacks::api::cancel),
        )
        .route(
            "/api/v1/callbacks/{id}/time_zone",
            put(crate::callbacks::api::set_time_zone),
        )
        .route(
            "/api/v1/dnc",
            get(crate::campaigns::dnc_api::global_list)
                .post(crate::campaigns::dnc_api::global_import),
        )
        .route(
            "/api/v1/dnc/{number}",
            get(crate::callbacks::api::dnc_one)
                .put(crate::callbacks::api::dnc_add)
                .delete(crate::callbacks::api::dnc_remove),
        )
        .route(
            "/api/v1/campaigns",
            get(crate::campaigns::api::list).post(crate::campaigns::api::create),
        )
        .route("/api/v1/campaigns/{id}", get(crate::campaigns::api::one))
        .route(
            "/api/v1/campaigns/{id}/start",
            post(crate::campaigns::api::start),
        )
        .route(
            "/api/v1/campaigns/{id}/pause",
            post(crate::campaigns::api::pause),
        )
        .route(
            "/api/v1/campaigns/{id}/resume",
            post(crate::campaigns::api::resume),
        )
        .route(
            "/api/v1/campaigns/{id}/stop",
            post(crate::campaigns::api::stop),
        )
        .route(
            "/api/v1/campaigns/{id}/records",
            post(crate::campaigns::api::records),
        )
        .route(
            "/api/v1/campaigns/{id}/dnc",
            get(crate::campaigns::dnc_api::campaign_list)
                .post(crate::campaigns::dnc_api::campaign_import),
        )
        .route(
            "/api/v1/campaigns/{id}/dnc/{number}",
            delete(crate::campaigns::dnc_api::campaign_remove),
        )
        .route(
            "/api/v1/campaigns/{id}/survey",
            get(crate::campaigns::survey_api::survey),
        )
        .route(
            "/api/v1/agents/{id}/preview",
            get(crate::campaigns::api::preview),
        )
        .route(
            "/api/v1/agents/{id}/preview/{entry}/{decision}",
            post(crate::campaigns::api::decide),
        )
        .route("/api/v1/config/reload", post(crate::reload::handle))
        .route(
            "/api/v1/dialplan/reload",
            post(crate::dialplan_reload::handle),
        )
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

/// The registry's metrics, then the KPI gauges of the projection.
async fn render_metrics(State(state): State<Arc<ApiState>>) -> impl IntoResponse {
    // The longest wait grows between routing events: read it now.
    if let Some(queues) = state.router.queues().await {
        for q in queues {
            state
                .metrics
                .queue_longest_wait
                .with_label_values(&[q.name.as_str()])
                .set(q.longest_wait_ms as f64 / 1000.0);
        }
    }
    let mut text = state.metrics.render();
    if let Some(kpis) = state.kpis.prometheus().await {
        text.push_str(&kpis);
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text)
}
