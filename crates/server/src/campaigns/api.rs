//! The HTTP API of outbound campaigns (bearer token, JSON errors `{"error": ...}`):
//!
//! - `POST /api/v1/campaigns`: create from a specification (JSON; `profile` and
//!   `min_agents_predictive` default from the `campaigns:` section; the abandon message's
//!   spoken text is synthesized then, and a message that cannot say who called is a 400);
//!   201 with the campaign;
//! - `GET /api/v1/campaigns`, `GET /api/v1/campaigns/{id}`: specification, run state,
//!   progress, per-outcome counts, abandon rate, pacing ratio, the mode followed and why;
//! - `POST /api/v1/campaigns/{id}/start|pause|resume|stop`;
//! - `POST /api/v1/campaigns/{id}/records?country=GB`: a CSV list as the body; answers the
//!   verdict on every line and what the campaign added;
//! - `POST|GET /api/v1/campaigns/{id}/dnc`, `DELETE /api/v1/campaigns/{id}/dnc/{number}`: the
//!   campaign's own do-not-call list (see [`super::dnc_api`]);
//! - `GET /api/v1/campaigns/{id}/survey[?format=csv]`: the survey answers of its calls per
//!   customer record (see [`super::survey_api`]); `stats.surveys` of the campaign counts them;
//! - `GET /api/v1/agents/{id}/preview`: the record offered to a preview agent;
//!   `POST /api/v1/agents/{id}/preview/{entry}/accept|skip`.

use axum::body::Bytes;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use hotline_campaigns::campaign::{CampaignId, CampaignSpec, CommandError, EntryId};
use hotline_campaigns::list::{Country, ImportOptions, ListImport};
use serde::Deserialize;
use serde_json::{json, Value};

use super::driver::Control;
use super::CampaignsHandle;
use crate::http::errors::{error, reply, unavailable};

/// The status of a command the engine refused.
pub fn status_of(e: &CommandError) -> StatusCode {
    match e {
        CommandError::Spec(_) => StatusCode::BAD_REQUEST,
        CommandError::UnknownCampaign(_) | CommandError::UnknownEntry(..) => StatusCode::NOT_FOUND,
        _ => StatusCode::CONFLICT,
    }
}

fn refused(e: CommandError) -> Response {
    error(status_of(&e), e.to_string())
}

/// `POST /api/v1/campaigns`.
pub async fn create(
    Extension(handle): Extension<CampaignsHandle>,
    Json(mut body): Json<Value>,
) -> Response {
    handle.settings.fill_spec(&mut body);
    if let Err(e) = super::refs::check_numbers(&body) {
        return e.response();
    }
    let spec: CampaignSpec = match serde_json::from_value(body) {
        Ok(spec) => spec,
        Err(e) => return error(StatusCode::BAD_REQUEST, format!("campaign: {e}")),
    };
    // What it names outside itself (trunk, queue, flow, prompt) must exist.
    if let Err(e) = handle.references.check(&spec).await {
        return e.response();
    }
    // Who called must be said: checked, and the spoken part synthesized, before it exists.
    if let Err(e) = handle.identities.prepare(&spec).await {
        return super::abandon::refused(&e);
    }
    reply(handle.create(spec).await, StatusCode::CREATED, refused)
}

/// `GET /api/v1/campaigns`.
pub async fn list(Extension(handle): Extension<CampaignsHandle>) -> Response {
    match handle.list().await {
        None => unavailable(),
        Some(views) => Json(views).into_response(),
    }
}

/// `GET /api/v1/campaigns/{id}`.
pub async fn one(
    Extension(handle): Extension<CampaignsHandle>,
    Path(id): Path<String>,
) -> Response {
    match handle.one(CampaignId::new(id.as_str())).await {
        None => unavailable(),
        Some(Some(view)) => Json(view).into_response(),
        Some(None) => error(StatusCode::NOT_FOUND, format!("no campaign {id}")),
    }
}

async fn control(handle: CampaignsHandle, id: String, control: Control) -> Response {
    reply(
        handle.control(CampaignId::new(id), control).await,
        StatusCode::OK,
        refused,
    )
}

/// `POST /api/v1/campaigns/{id}/start`.
pub async fn start(Extension(h): Extension<CampaignsHandle>, Path(id): Path<String>) -> Response {
    control(h, id, Control::Start).await
}

/// `POST /api/v1/campaigns/{id}/pause`.
pub async fn pause(Extension(h): Extension<CampaignsHandle>, Path(id): Path<String>) -> Response {
    control(h, id, Control::Pause).await
}

/// `POST /api/v1/campaigns/{id}/resume`.
pub async fn resume(Extension(h): Extension<CampaignsHandle>, Path(id): Path<String>) -> Response {
    control(h, id, Control::Resume).await
}

/// `POST /api/v1/campaigns/{id}/stop`.
pub async fn stop(Extension(h): Extension<CampaignsHandle>, Path(id): Path<String>) -> Response {
    control(h, id, Control::Stop).await
}

/// The query of an upload.
#[derive(Debug, Deserialize)]
pub struct UploadQuery {
    /// The country of numbers without a country code (`GB`).
    pub country: Option<String>,
}

/// `POST /api/v1/campaigns/{id}/records`.
pub async fn records(
    Extension(handle): Extension<CampaignsHandle>,
    Path(id): Path<String>,
    Query(query): Query<UploadQuery>,
    body: Bytes,
) -> Response {
    let country = match query.country.as_deref().map(str::parse::<Country>) {
        None => handle.settings.country,
        Some(Ok(country)) => Some(country),
        Some(Err(e)) => return error(StatusCode::BAD_REQUEST, format!("country: {e}")),
    };
    let list = match ListImport::from_slice(&body, &ImportOptions { country }) {
        Ok(list) => list,
        Err(e) => return error(StatusCode::BAD_REQUEST, format!("list: {e}")),
    };
    reply(
        handle.records(CampaignId::new(id), list).await,
        StatusCode::OK,
        refused,
    )
}

/// `GET /api/v1/agents/{id}/preview`.
pub async fn preview(
    Extension(handle): Extension<CampaignsHandle>,
    Path(agent): Path<String>,
) -> Response {
    match handle.previews(agent).await {
        None => unavailable(),
        Some(offers) => Json(offers).into_response(),
    }
}

/// `POST /api/v1/agents/{id}/preview/{entry}/{decision}` (`accept` or `skip`).
pub async fn decide(
    Extension(handle): Extension<CampaignsHandle>,
    Path((agent, entry, decision)): Path<(String, u64, String)>,
) -> Response {
    let accept = match decision.as_str() {
        "accept" => true,
        "skip" => false,
        other => return error(StatusCode::NOT_FOUND, format!("{other:?}: accept or skip")),
    };
    match handle.decide(agent, EntryId(entry), accept).await {
        None => unavailable(),
        Some(Ok(())) => Json(json!({"entry": entry, "accepted": accept})).into_response(),
        Some(Err(e)) => error(StatusCode::CONFLICT, e),
    }
}
