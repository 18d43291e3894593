//! The JSON answers the API handlers share: an error body `{"error": ...}` (with the request
//! field at fault when there is one), 503 when the task owning the state has stopped, and a
//! task's reply turned into a response.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use serde_json::json;

/// A JSON error body `{"error": message}` with `status`.
pub fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({"error": message.into()}))).into_response()
}

/// A JSON error body naming the request field at fault: `{"error": message, "field": field}`.
pub fn field_error(status: StatusCode, message: impl Into<String>, field: &str) -> Response {
    (
        status,
        Json(json!({"error": message.into(), "field": field})),
    )
        .into_response()
}

/// 503 `shutting down`: the task that owns the state no longer answers.
pub fn unavailable() -> Response {
    error(StatusCode::SERVICE_UNAVAILABLE, "shutting down")
}

/// Answers a task's reply to a command: 503 when the task did not answer, the accepted value as
/// JSON with `status`, or what `refused` makes of a refusal.
pub fn reply<T: Serialize, E>(
    reply: Option<Result<T, E>>,
    status: StatusCode,
    refused: impl FnOnce(E) -> Response,
) -> Response {
    match reply {
        None => unavailable(),
        Some(Ok(value)) => (status, Json(value)).into_response(),
        Some(Err(e)) => refused(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn parts(response: Response) -> (StatusCode, serde_json::Value) {
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap_or_else(|e| panic!("body: {e}"));
        let body = serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("JSON: {e}"));
        (status, body)
    }

    #[tokio::test]
    async fn an_error_carries_its_status_and_message() {
        let (status, body) = parts(error(StatusCode::NOT_FOUND, "no such queue")).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(body, json!({"error": "no such queue"}));
    }

    #[tokio::test]
    async fn a_field_error_names_the_field_at_fault() {
        let (status, body) = parts(field_error(
            StatusCode::BAD_REQUEST,
            "queue is required",
            "queue",
        ))
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(
            body,
            json!({"error": "queue is required", "field": "queue"})
        );
    }

    #[tokio::test]
    async fn a_stopped_task_answers_503_shutting_down() {
        let (status, body) = parts(unavailable()).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(body, json!({"error": "shutting down"}));
    }

    #[tokio::test]
    async fn a_reply_is_the_value_the_refusal_or_503() {
        let refused = |e: &str| error(StatusCode::CONFLICT, e);
        let (status, body) = parts(reply(
            Some(Ok::<_, &str>(json!({"id": 7}))),
            StatusCode::CREATED,
            refused,
        ))
        .await;
        assert_eq!((status, body), (StatusCode::CREATED, json!({"id": 7})));
        let (status, body) = parts(reply(
            Some(Err::<(), _>("already running")),
            StatusCode::OK,
            refused,
        ))
        .await;
        assert_eq!(
            (status, body),
            (StatusCode::CONFLICT, json!({"error": "already running"}))
        );
        let (status, _) = parts(reply(None::<Result<(), &str>>, StatusCode::OK, refused)).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    }
}
