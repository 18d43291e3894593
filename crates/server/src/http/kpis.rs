//! `/api/v1/kpis`: the KPI projection, whole or per queue and agent, now or as rollups.

use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use hotline_kpi::Granularity;
use serde::Deserialize;

use super::{error, unavailable, ApiState};

/// Query of the per-queue and per-agent KPI routes.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeriodQuery {
    /// `day`, `week` or `month`: the retained rollups instead of the live windows.
    #[serde(default)]
    pub period: Option<Granularity>,
}

pub(super) async fn snapshot(State(state): State<Arc<ApiState>>) -> Response {
    match state.kpis.snapshot().await {
        Some(snap) => Json(snap).into_response(),
        None => unavailable(),
    }
}

pub(super) async fn queue(
    State(state): State<Arc<ApiState>>,
    Path(id): Path<String>,
    query: Result<Query<PeriodQuery>, QueryRejection>,
) -> Response {
    let Some(period) = period(query) else {
        return bad_period();
    };
    match state.kpis.queue(id, period).await {
        None => unavailable(),
        Some(Some(answer)) => Json(answer).into_response(),
        Some(None) => error(StatusCode::NOT_FOUND, "no such queue"),
    }
}

pub(super) async fn agent(
    State(state): State<Arc<ApiState>>,
    Path(id): Path<String>,
    query: Result<Query<PeriodQuery>, QueryRejection>,
) -> Response {
    let Some(period) = period(query) else {
        return bad_period();
    };
    match state.kpis.agent(id, period).await {
        None => unavailable(),
        Some(Some(answer)) => Json(answer).into_response(),
        Some(None) => error(StatusCode::NOT_FOUND, "no such agent"),
    }
}

/// The `?period=` asked for, or `None` when the query is not day, week or month.
fn period(query: Result<Query<PeriodQuery>, QueryRejection>) -> Option<Option<Granularity>> {
    query.ok().map(|Query(q)| q.period)
}

fn bad_period() -> Response {
    error(StatusCode::BAD_REQUEST, "period must be day, week or month")
}
