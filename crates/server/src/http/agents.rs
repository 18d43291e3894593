//! `/api/v1/agents`: agents' states, skills and queues; setting state and skills.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};

use super::{error, unavailable, ApiState};

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

/// One agent in detail: `GET /api/v1/agents/{id}`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AgentDetail {
    /// Agent id.
    pub id: String,
    /// Display name from the config.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The routing state, as in [`AgentInfo::state`].
    pub state: String,
    /// Why the agent is not ready.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// A not-ready asked for while busy, applied after the call.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pending_not_ready: Option<String>,
    /// Milliseconds in this state.
    pub in_state_ms: u64,
    /// Registered contacts.
    pub contacts: usize,
    /// Skills with proficiency 1-10.
    pub skills: BTreeMap<String, u8>,
    /// The queues it answers, with its penalty in each.
    pub queues: Vec<AgentQueue>,
}

/// A queue an agent answers.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AgentQueue {
    /// The queue.
    pub queue: String,
    /// The agent's penalty there (lower is offered first).
    pub penalty: u32,
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

/// Body of `PUT /api/v1/agents/{id}/skills`: the agent's whole new skill set.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SkillsRequest {
    /// Proficiency per skill; checked to be whole numbers 1-10.
    pub skills: BTreeMap<String, serde_json::Value>,
}

/// Why a skills change was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SkillsChangeError {
    /// No such agent.
    UnknownAgent,
    /// The router refused the skills (e.g. a proficiency outside 1-10).
    Invalid(String),
}

pub(super) async fn list(State(state): State<Arc<ApiState>>) -> Response {
    match state.router.agents().await {
        Some(agents) => Json(agents).into_response(),
        None => unavailable(),
    }
}

pub(super) async fn one(State(state): State<Arc<ApiState>>, Path(id): Path<String>) -> Response {
    match state.router.agent(id).await {
        None => unavailable(),
        Some(Some(agent)) => Json(agent).into_response(),
        Some(None) => error(StatusCode::NOT_FOUND, "no such agent"),
    }
}

pub(super) async fn set_state(
    State(state): State<Arc<ApiState>>,
    Path(id): Path<String>,
    body: Result<Json<StateRequest>, JsonRejection>,
) -> Response {
    let Json(req) = match body {
        Ok(b) => b,
        Err(e) => return error(StatusCode::BAD_REQUEST, e.body_text()),
    };
    if req.state == RequestedState::NotReady && req.reason.as_deref().is_none_or(str::is_empty) {
        return error(StatusCode::BAD_REQUEST, "not_ready needs a reason");
    }
    match state.router.set_state(id, req.state, req.reason).await {
        None => unavailable(),
        Some(Ok(agent)) => Json(agent).into_response(),
        Some(Err(StateChangeError::UnknownAgent)) => error(StatusCode::NOT_FOUND, "no such agent"),
        Some(Err(StateChangeError::LoggedOut)) => error(
            StatusCode::CONFLICT,
            "agent is logged out: register a phone first",
        ),
    }
}

pub(super) async fn set_skills(
    State(state): State<Arc<ApiState>>,
    Path(id): Path<String>,
    body: Result<Json<SkillsRequest>, JsonRejection>,
) -> Response {
    let Json(req) = match body {
        Ok(b) => b,
        Err(e) => return error(StatusCode::BAD_REQUEST, e.body_text()),
    };
    let skills = match parse_skills(&req.skills) {
        Ok(skills) => skills,
        Err(message) => return error(StatusCode::BAD_REQUEST, message),
    };
    match state.router.set_skills(id, skills).await {
        None => unavailable(),
        Some(Ok(agent)) => Json(agent).into_response(),
        Some(Err(SkillsChangeError::UnknownAgent)) => error(StatusCode::NOT_FOUND, "no such agent"),
        Some(Err(SkillsChangeError::Invalid(message))) => error(StatusCode::BAD_REQUEST, message),
    }
}

/// Checks each skill name is non-empty and each proficiency a whole number 1-10.
fn parse_skills(raw: &BTreeMap<String, serde_json::Value>) -> Result<BTreeMap<String, u8>, String> {
    let range = hotline_routing::MIN_PROFICIENCY..=hotline_routing::MAX_PROFICIENCY;
    raw.iter()
        .map(|(skill, value)| {
            if skill.trim().is_empty() {
                return Err("skill names must not be empty".to_string());
            }
            value
                .as_u64()
                .and_then(|p| u8::try_from(p).ok())
                .filter(|p| range.contains(p))
                .map(|p| (skill.clone(), p))
                .ok_or_else(|| {
                    format!(
                        "skill {skill:?}: proficiency must be a whole number from {} to {}, got {value}",
                        range.start(),
                        range.end()
                    )
                })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proficiencies_must_be_whole_numbers_one_to_ten() {
        let raw = |v: serde_json::Value| -> BTreeMap<String, serde_json::Value> {
            serde_json::from_value(v).unwrap()
        };
        let ok = parse_skills(&raw(
            serde_json::json!({"billing": 7, "french": 1, "vip": 10}),
        ));
        assert_eq!(ok.unwrap()["billing"], 7);
        assert_eq!(
            parse_skills(&raw(serde_json::json!({}))),
            Ok(BTreeMap::new())
        );
        for bad in [
            serde_json::json!({"billing": 0}),
            serde_json::json!({"billing": 11}),
            serde_json::json!({"billing": -1}),
            serde_json::json!({"billing": 2.5}),
            serde_json::json!({"billing": "7"}),
            serde_json::json!({"billing": 300}),
        ] {
            let err = parse_skills(&raw(bad.clone())).unwrap_err();
            assert!(
                err.contains("billing") && err.contains("1 to 10"),
                "{bad}: {err}"
            );
        }
        assert!(parse_skills(&raw(serde_json::json!({" ": 3}))).is_err());
    }
}
