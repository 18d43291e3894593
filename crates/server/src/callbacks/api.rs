//! The HTTP API of scheduled callbacks and of the do-not-call list (bearer token, JSON errors
//! `{"error": ..., "field": ...}`):
//!
//! - `POST /api/v1/callbacks`: create (`number` E.164, `time_zone` IANA, `reason`, `queue`,
//!   `skills`, `priority`, `attributes`, `due`: `within` / `deadline` / `working_days` +
//!   `calendar`, `not_before`, `after_local`); 201 with the callback;
//! - `GET /api/v1/callbacks?queue=&state=&due_by=&limit=`: list in dial order;
//! - `GET /api/v1/callbacks/{id}`, `DELETE /api/v1/callbacks/{id}` (409 while it is dialed);
//! - `PUT /api/v1/callbacks/{id}/time_zone` (`{"time_zone": "Asia/Shanghai"}`): a callback held
//!   for its unknown zone waits to be dialed;
//! - `GET /api/v1/callbacks/stats`: due, overdue, completed, completed within deadline, %;
//! - `GET|PUT|DELETE /api/v1/dnc/{number}` (the list's bulk import and paged listing, `POST` and
//!   `GET /api/v1/dnc`, are in [`crate::campaigns::dnc_api`]).

use std::collections::BTreeMap;

use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use hotline_campaigns::{
    CallbackId, CommandError, Deadline, DueSpec, ListFilter, LocalTime, NewCallback, QueueName,
    SkillName, StateKind, Zone, E164,
};
use serde::Deserialize;
use serde_json::{json, Value};

use super::CallbacksHandle;
use crate::http::errors::{error, field_error, reply, unavailable};

/// A request the API refuses, with the field at fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadField {
    /// The field (`number`, `due.within`, ...).
    pub field: &'static str,
    /// What is wrong.
    pub message: String,
}

fn bad(field: &'static str, message: impl Into<String>) -> BadField {
    BadField {
        field,
        message: message.into(),
    }
}

impl IntoResponse for BadField {
    fn into_response(self) -> Response {
        field_error(StatusCode::BAD_REQUEST, self.message, self.field)
    }
}

impl From<BadField> for Response {
    fn from(bad: BadField) -> Response {
        bad.into_response()
    }
}

fn text<'a>(body: &'a Value, field: &'static str) -> Result<Option<&'a str>, BadField> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(bad(field, format!("{field} must be a string"))),
    }
}

fn instant(text: &str, field: &'static str) -> Result<jiff::Timestamp, BadField> {
    text.parse()
        .map_err(|_| bad(field, format!("{text:?} is not an RFC 3339 instant")))
}

/// Reads a create request into the scheduler's command (the id is the caller's to choose).
pub fn parse_create(body: &Value, id: CallbackId) -> Result<NewCallback, BadField> {
    const KNOWN: [&str; 8] = [
        "number",
        "time_zone",
        "reason",
        "queue",
        "skills",
        "priority",
        "due",
        "attributes",
    ];
    let Some(object) = body.as_object() else {
        return Err(bad("body", "the body must be a JSON object"));
    };
    if let Some(unknown) = object.keys().find(|k| !KNOWN.contains(&k.as_str())) {
        return Err(BadField {
            field: "body",
            message: format!("unknown field {unknown:?}"),
        });
    }
    let number = text(body, "number")?.ok_or_else(|| bad("number", "number is required"))?;
    let number = E164::parse(number).map_err(|e| bad("number", format!("{number:?}: {e}")))?;
    let time_zone = text(body, "time_zone")?
        .map(|z| Zone::new(z).map_err(|e| bad("time_zone", e.to_string())))
        .transpose()?;
    let reason = text(body, "reason")?.unwrap_or_default().to_string();
    let queue = text(body, "queue")?.ok_or_else(|| bad("queue", "queue is required"))?;
    let skills = match body.get("skills") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|s| {
                s.as_str()
                    .map(SkillName::new)
                    .ok_or_else(|| bad("skills", "skills must be strings"))
            })
            .collect::<Result<_, _>>()?,
        Some(_) => return Err(bad("skills", "skills must be a list of strings")),
    };
    let priority = match body.get("priority") {
        None | Some(Value::Null) => 0,
        Some(v) => v
            .as_i64()
            .and_then(|p| i32::try_from(p).ok())
            .ok_or_else(|| bad("priority", "priority must be an integer"))?,
    };
    let attributes = match body.get("attributes") {
        None | Some(Value::Null) => BTreeMap::new(),
        Some(v) => serde_json::from_value::<BTreeMap<String, String>>(v.clone())
            .map_err(|_| bad("attributes", "attributes must map names to strings"))?,
    };
    let due = match body.get("due") {
        None | Some(Value::Null) => DueSpec::default(),
        Some(due) => parse_due(due)?,
    };
    Ok(NewCallback {
        id,
        number,
        time_zone,
        reason,
        attributes,
        queue: QueueName::new(queue),
        skills,
        priority,
        due,
    })
}

/// Reads `due`: at most one of `within` (a duration), `deadline` (an instant) and
/// `working_days` (a count, with an optional `calendar`); `not_before` (an instant) and
/// `after_local` (`HH:MM` in the customer's zone) may be added.
pub fn parse_due(due: &Value) -> Result<DueSpec, BadField> {
    const KNOWN: [&str; 6] = [
        "within",
        "deadline",
        "working_days",
        "calendar",
        "not_before",
        "after_local",
    ];
    let Some(object) = due.as_object() else {
        return Err(bad("due", "due must be an object"));
    };
    if let Some(unknown) = object.keys().find(|k| !KNOWN.contains(&k.as_str())) {
        return Err(bad("due", format!("unknown field due.{unknown}")));
    }
    let within = text(due, "within")
        .map_err(|e| bad("due.within", e.message))?
        .map(|w| {
            hotline_campaigns::time::parse_duration(w).ok_or_else(|| {
                bad(
                    "due.within",
                    format!("{w:?} is not a duration (90s, 15m, 24h, 2d)"),
                )
            })
        })
        .transpose()?;
    let deadline = text(due, "deadline")
        .map_err(|e| bad("due.deadline", e.message))?
        .map(|d| instant(d, "due.deadline"))
        .transpose()?;
    let working_days = match due.get("working_days") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            v.as_u64()
                .and_then(|d| u32::try_from(d).ok())
                .filter(|d| *d > 0)
                .ok_or_else(|| {
                    bad(
                        "due.working_days",
                        "working_days must be a positive integer",
                    )
                })?,
        ),
    };
    let calendar = text(due, "calendar")
        .map_err(|e| bad("due.calendar", e.message))?
        .map(str::to_string);
    let deadline = match (within, deadline, working_days) {
        (Some(w), None, None) => Some(Deadline::Within(w)),
        (None, Some(d), None) => Some(Deadline::At(d)),
        (None, None, Some(days)) => Some(Deadline::WorkingDays { days, calendar }),
        (None, None, None) => None,
        _ => {
            return Err(bad(
                "due",
                "give at most one of within, deadline and working_days",
            ))
        }
    };
    let not_before = text(due, "not_before")
        .map_err(|e| bad("due.not_before", e.message))?
        .map(|d| instant(d, "due.not_before"))
        .transpose()?;
    let after_local = text(due, "after_local")
        .map_err(|e| bad("due.after_local", e.message))?
        .map(|t| {
            t.parse::<LocalTime>().map_err(|_| {
                bad(
                    "due.after_local",
                    format!("{t:?} is not a local time HH:MM"),
                )
            })
        })
        .transpose()?;
    Ok(DueSpec {
        not_before,
        after_local,
        deadline,
    })
}

fn command_error(e: CommandError) -> Response {
    match e {
        CommandError::Unknown(id) => {
            error(StatusCode::NOT_FOUND, format!("no scheduled callback {id}"))
        }
        CommandError::UnknownQueue(q) => field_error(
            StatusCode::BAD_REQUEST,
            format!("queue {q} takes no scheduled callbacks (not under callbacks.queues)"),
            "queue",
        ),
        CommandError::Due(e) => field_error(StatusCode::BAD_REQUEST, e.to_string(), "due"),
        other => error(StatusCode::CONFLICT, other.to_string()),
    }
}

/// The callback an id names; an id that is no UUID names none (404).
fn parse_id(id: &str) -> Result<CallbackId, NotFound> {
    id.parse::<CallbackId>()
        .map_err(|_| NotFound(id.to_string()))
}

/// An id that names no callback.
struct NotFound(String);

impl From<NotFound> for Response {
    fn from(NotFound(id): NotFound) -> Response {
        error(StatusCode::NOT_FOUND, format!("no scheduled callback {id}"))
    }
}

/// `POST /api/v1/callbacks`.
pub async fn create(
    Extension(callbacks): Extension<CallbacksHandle>,
    body: axum::body::Bytes,
) -> Result<Response, Response> {
    let body: Value = serde_json::from_slice(&body)
        .map_err(|e| field_error(StatusCode::BAD_REQUEST, format!("not JSON: {e}"), "body"))?;
    let id = CallbackId(uuid::Uuid::now_v7().as_u128());
    let new = parse_create(&body, id)?;
    Ok(reply(
        callbacks.create(new).await,
        StatusCode::CREATED,
        command_error,
    ))
}

/// The query of `GET /api/v1/callbacks`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Of this queue.
    queue: Option<String>,
    /// In these states, comma separated (`waiting,held`).
    state: Option<String>,
    /// With a deadline at or before this instant.
    due_by: Option<String>,
    /// At most this many.
    limit: Option<usize>,
}

fn state_kind(name: &str) -> Option<StateKind> {
    Some(match name {
        "held" => StateKind::Held,
        "waiting" => StateKind::Waiting,
        "claimed" => StateKind::Claimed,
        "dialing" => StateKind::Dialing,
        "completed" => StateKind::Completed,
        "cancelled" => StateKind::Cancelled,
        "given_up" => StateKind::GivenUp,
        _ => return None,
    })
}

/// `GET /api/v1/callbacks`.
pub async fn list(
    Extension(callbacks): Extension<CallbacksHandle>,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, Response> {
    let Ok(Query(query)) = query else {
        return Err(field_error(
            StatusCode::BAD_REQUEST,
            "the query takes queue, state, due_by and limit",
            "query",
        ));
    };
    let states = query
        .state
        .iter()
        .flat_map(|s| s.split(','))
        .map(|name| {
            state_kind(name.trim()).ok_or_else(|| bad("state", format!("unknown state {name:?}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let due_by = query
        .due_by
        .as_deref()
        .map(|d| instant(d, "due_by"))
        .transpose()?;
    let filter = ListFilter {
        queue: query.queue.map(QueueName::new),
        states,
        due_by,
        limit: query.limit,
    };
    Ok(match callbacks.list(filter).await {
        None => unavailable(),
        Some(list) => Json(json!({"callbacks": list})).into_response(),
    })
}

/// `GET /api/v1/callbacks/{id}`.
pub async fn one(
    Extension(callbacks): Extension<CallbacksHandle>,
    Path(id): Path<String>,
) -> Result<Response, Response> {
    let id = parse_id(&id)?;
    Ok(match callbacks.one(id).await {
        None => unavailable(),
        Some(None) => command_error(CommandError::Unknown(id)),
        Some(Some(view)) => Json(view).into_response(),
    })
}

/// `DELETE /api/v1/callbacks/{id}`.
pub async fn cancel(
    Extension(callbacks): Extension<CallbacksHandle>,
    Path(id): Path<String>,
) -> Result<Response, Response> {
    let id = parse_id(&id)?;
    Ok(reply(
        callbacks.cancel(id).await,
        StatusCode::OK,
        command_error,
    ))
}

/// `PUT /api/v1/callbacks/{id}/time_zone`.
pub async fn set_time_zone(
    Extension(callbacks): Extension<CallbacksHandle>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, Response> {
    let id = parse_id(&id)?;
    let zone = serde_json::from_slice::<Value>(&body)
        .map_err(|e| bad("body", format!("not JSON: {e}")))
        .and_then(|body| {
            text(&body, "time_zone")?
                .ok_or_else(|| bad("time_zone", "time_zone is required"))
                .and_then(|z| Zone::new(z).map_err(|e| bad("time_zone", e.to_string())))
        });
    Ok(reply(
        callbacks.set_time_zone(id, zone?).await,
        StatusCode::OK,
        command_error,
    ))
}

/// `GET /api/v1/callbacks/stats`.
pub async fn stats(Extension(callbacks): Extension<CallbacksHandle>) -> Response {
    match callbacks.stats().await {
        None => unavailable(),
        Some(stats) => Json(stats).into_response(),
    }
}

fn parse_number(number: &str) -> Result<E164, BadField> {
    E164::parse(number).map_err(|e| bad("number", format!("{number:?}: {e}")))
}

/// `GET /api/v1/dnc/{number}`: 200 when listed, 404 when not.
pub async fn dnc_one(
    Extension(callbacks): Extension<CallbacksHandle>,
    Path(number): Path<String>,
) -> Result<Response, Response> {
    let number = parse_number(&number)?;
    Ok(match callbacks.dnc_list().await {
        None => unavailable(),
        Some(numbers) if numbers.iter().any(|n| n == number.as_str()) => {
            Json(json!({"number": number.as_str(), "listed": true})).into_response()
        }
        Some(_) => error(
            StatusCode::NOT_FOUND,
            format!("{} is not on the do-not-call list", number.as_str()),
        ),
    })
}

/// `PUT /api/v1/dnc/{number}`: 201 when added, 200 when listed already.
pub async fn dnc_add(
    Extension(callbacks): Extension<CallbacksHandle>,
    Path(number): Path<String>,
) -> Result<Response, Response> {
    let number = parse_number(&number)?;
    let shown = number.as_str().to_string();
    Ok(match callbacks.dnc_add(number).await {
        None => unavailable(),
        Some(Ok(added)) => {
            let status = if added {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            };
            (status, Json(json!({"number": shown, "listed": true}))).into_response()
        }
        Some(Err(e)) => error(StatusCode::INTERNAL_SERVER_ERROR, e),
    })
}

/// `DELETE /api/v1/dnc/{number}`: 200 when removed, 404 when not listed.
pub async fn dnc_remove(
    Extension(callbacks): Extension<CallbacksHandle>,
    Path(number): Path<String>,
) -> Result<Response, Response> {
    let number = parse_number(&number)?;
    let shown = number.as_str().to_string();
    Ok(match callbacks.dnc_remove(number).await {
        None => unavailable(),
        Some(Ok(true)) => Json(json!({"number": shown, "listed": false})).into_response(),
        Some(Ok(false)) => error(
            StatusCode::NOT_FOUND,
            format!("{shown} is not on the do-not-call list"),
        ),
        Some(Err(e)) => error(StatusCode::INTERNAL_SERVER_ERROR, e),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id() -> CallbackId {
        CallbackId(7)
    }

    #[test]
    fn a_create_request_reads_into_the_schedulers_command() {
        let body = json!({
            "number": "+86 138 0013 8000", "time_zone": "Asia/Shanghai", "reason": "complaint",
            "queue": "support", "skills": ["mandarin"], "priority": 2,
            "attributes": {"severity": "major"},
            "due": {"within": "24h", "after_local": "14:00"}
        });
        let new = parse_create(&body, id()).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(new.number.as_str(), "+8613800138000");
        assert_eq!(
            new.time_zone.map(|z| z.name().to_string()).as_deref(),
            Some("Asia/Shanghai")
        );
        assert_eq!(new.skills, vec![SkillName::new("mandarin")]);
        assert_eq!(
            new.due.deadline,
            Some(Deadline::Within(std::time::Duration::from_secs(86_400)))
        );
        assert_eq!(new.due.after_local, LocalTime::new(14, 0));
        let days = parse_due(&json!({"working_days": 5, "calendar": "cn"}))
            .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(
            days.deadline,
            Some(Deadline::WorkingDays {
                days: 5,
                calendar: Some("cn".into())
            })
        );
    }

    #[test]
    fn a_bad_request_names_the_field_at_fault() {
        let field = |body: Value| parse_create(&body, id()).err().map(|e| e.field);
        let ok = json!({"number": "+33123456789", "queue": "q"});
        assert_eq!(field(ok.clone()), None);
        assert_eq!(field(json!({"queue": "q"})), Some("number"));
        assert_eq!(
            field(json!({"number": "0612345678", "queue": "q"})),
            Some("number")
        );
        assert_eq!(
            field(json!({"number": "+33123456789", "queue": "q", "time_zone": "Mars/Base"})),
            Some("time_zone")
        );
        assert_eq!(field(json!({"number": "+33123456789"})), Some("queue"));
        assert_eq!(
            field(json!({"number": "+33123456789", "queue": "q", "due": {"within": "soon"}})),
            Some("due.within")
        );
        assert_eq!(
            field(json!({"number": "+33123456789", "queue": "q",
                         "due": {"within": "1h", "deadline": "2026-12-07T00:00:00Z"}})),
            Some("due")
        );
        assert_eq!(
            field(json!({"number": "+33123456789", "queue": "q", "due": {"deadline": "tomorrow"}})),
            Some("due.deadline")
        );
        assert_eq!(
            field(json!({"number": "+33123456789", "queue": "q", "due": {"after_local": "25:00"}})),
            Some("due.after_local")
        );
        assert_eq!(
            field(json!({"number": "+33123456789", "queue": "q", "colour": "red"})),
            Some("body")
        );
        assert_eq!(
            field(json!({"number": "+33123456789", "queue": "q", "priority": "high"})),
            Some("priority")
        );
    }
}
