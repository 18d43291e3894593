//! The recordings API (under the API token): list and search, one recording's metadata, the
//! WAV download with HTTP Range support, and the controls of a call's recording.

use std::io::SeekFrom;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::extract::{Path, Query};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use bytes::Bytes;
use hyper::body::Frame;
use serde::Deserialize;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use tokio::io::{AsyncRead, AsyncSeekExt, ReadBuf};
use uuid::Uuid;

use super::{index, Command, ControlError, Recordings};
use crate::http::errors::error;

/// `GET /api/v1/recordings` query: `from`, `to` (RFC 3339, on the start), `agent`, `queue`.
#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    from: Option<String>,
    to: Option<String>,
    agent: Option<String>,
    queue: Option<String>,
}

fn instant(field: &str, text: Option<&str>) -> Result<Option<OffsetDateTime>, String> {
    text.map(|t| {
        OffsetDateTime::parse(t, &Rfc3339)
            .map_err(|e| format!("{field}: `{t}` is not an RFC 3339 time ({e})"))
    })
    .transpose()
}

/// `GET /api/v1/recordings`: finished recordings, oldest first.
pub async fn list(
    Extension(recordings): Extension<Arc<Recordings>>,
    Query(q): Query<ListQuery>,
) -> Response {
    let query = match (
        instant("from", q.from.as_deref()),
        instant("to", q.to.as_deref()),
    ) {
        (Ok(from), Ok(to)) => index::Query {
            from,
            to,
            agent: q.agent,
            queue: q.queue,
        },
        (Err(e), _) | (_, Err(e)) => return error(StatusCode::BAD_REQUEST, e),
    };
    Json(serde_json::json!({ "recordings": recordings.search(&query) })).into_response()
}

fn call_id(text: &str) -> Result<Uuid, String> {
    Uuid::parse_str(text).map_err(|_| format!("`{text}` is not a call id"))
}

/// `GET /api/v1/recordings/{call_id}`: the sidecar.
pub async fn one(
    Extension(recordings): Extension<Arc<Recordings>>,
    Path(id): Path<String>,
) -> Response {
    let id = match call_id(&id) {
        Ok(id) => id,
        Err(e) => return error(StatusCode::BAD_REQUEST, e),
    };
    match recordings.find(id) {
        Some(entry) => Json(entry.meta).into_response(),
        None => error(StatusCode::NOT_FOUND, "no finished recording of this call"),
    }
}

/// What a `Range` header asks of a body of `len` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeAsk {
    /// The whole body (no Range, or one to ignore: several ranges, another unit, bad syntax).
    Full,
    /// Bytes `start..=end`.
    Part {
        /// First byte.
        start: u64,
        /// Last byte (inclusive).
        end: u64,
    },
    /// A range starting past the end: 416.
    Unsatisfiable,
}

/// Reads a single-range `bytes=` header (RFC 9110 14.1.2): `a-b`, `a-`, `-n`.
pub fn parse_range(header: Option<&str>, len: u64) -> RangeAsk {
    let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else {
        return RangeAsk::Full;
    };
    if spec.contains(',') {
        return RangeAsk::Full;
    }
    let Some((a, b)) = spec.trim().split_once('-') else {
        return RangeAsk::Full;
    };
    let (a, b) = (a.trim(), b.trim());
    let num = |s: &str| s.parse::<u64>().ok();
    match (a.is_empty(), b.is_empty()) {
        // The last n bytes.
        (true, false) => match num(b) {
            Some(0) => RangeAsk::Unsatisfiable,
            Some(n) if len > 0 => RangeAsk::Part {
                start: len.saturating_sub(n),
                end: len - 1,
            },
            Some(_) => RangeAsk::Unsatisfiable,
            None => RangeAsk::Full,
        },
        (false, _) => {
            let Some(start) = num(a) else {
                return RangeAsk::Full;
            };
            let end = if b.is_empty() { Some(u64::MAX) } else { num(b) };
            match end {
                None => RangeAsk::Full,
                Some(end) if end < start => RangeAsk::Full,
                Some(_) if start >= len => RangeAsk::Unsatisfiable,
                Some(end) => RangeAsk::Part {
                    start,
                    end: end.min(len - 1),
                },
            }
        }
        (true, true) => RangeAsk::Full,
    }
}

/// `GET /api/v1/recordings/{call_id}/audio`: the stereo WAV; a `Range` gets 206 with
/// `Content-Range`, a range past the end 416.
pub async fn audio(
    Extension(recordings): Extension<Arc<Recordings>>,
    Path(id): Path<String>,
    headers: axum::http::HeaderMap,
) -> Response {
    let id = match call_id(&id) {
        Ok(id) => id,
        Err(e) => return error(StatusCode::BAD_REQUEST, e),
    };
    let Some(entry) = recordings.find(id) else {
        return error(StatusCode::NOT_FOUND, "no finished recording of this call");
    };
    let path = entry.wav();
    let mut file = match tokio::fs::File::open(&path).await {
        Ok(f) => f,
        Err(e) => {
            tracing::warn!(file = %path.display(), "recording not readable: {e}");
            return error(
                StatusCode::NOT_FOUND,
                "the recording's audio file is missing",
            );
        }
    };
    let len = match file.metadata().await {
        Ok(m) => m.len(),
        Err(e) => return error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    };
    let range = headers.get(header::RANGE).and_then(|v| v.to_str().ok());
    let (status, start, count) = match parse_range(range, len) {
        RangeAsk::Full => (StatusCode::OK, 0, len),
        RangeAsk::Part { start, end } => (StatusCode::PARTIAL_CONTENT, start, end - start + 1),
        RangeAsk::Unsatisfiable => {
            return (
                StatusCode::RANGE_NOT_SATISFIABLE,
                [(header::CONTENT_RANGE, format!("bytes */{len}"))],
            )
                .into_response();
        }
    };
    if start > 0 {
        if let Err(e) = file.seek(SeekFrom::Start(start)).await {
            return error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string());
        }
    }
    let body = axum::body::Body::new(FileBody {
        file,
        remaining: count,
    });
    let mut response = Response::new(body);
    *response.status_mut() = status;
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("audio/wav"),
    );
    h.insert(
        header::ACCEPT_RANGES,
        header::HeaderValue::from_static("bytes"),
    );
    h.insert(header::CONTENT_LENGTH, header::HeaderValue::from(count));
    if status == StatusCode::PARTIAL_CONTENT {
        let value = format!("bytes {start}-{}/{len}", start + count - 1);
        if let Ok(v) = header::HeaderValue::from_str(&value) {
            h.insert(header::CONTENT_RANGE, v);
        }
    }
    response
}

/// A file read in 64 KiB frames, `remaining` bytes from where it stands.
struct FileBody {
    file: tokio::fs::File,
    remaining: u64,
}

impl hyper::body::Body for FileBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        if self.remaining == 0 {
            return Poll::Ready(None);
        }
        let want = usize::try_from(self.remaining.min(64 * 1024)).unwrap_or(64 * 1024);
        let mut buf = vec![0u8; want];
        let mut read = ReadBuf::new(&mut buf);
        match Pin::new(&mut self.file).poll_read(cx, &mut read) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Err(e)) => Poll::Ready(Some(Err(e))),
            Poll::Ready(Ok(())) => {
                let n = read.filled().len();
                if n == 0 {
                    return Poll::Ready(Some(Err(std::io::Error::new(
                        std::io::ErrorKind::UnexpectedEof,
                        "the recording got shorter while being read",
                    ))));
                }
                self.remaining -= n as u64;
                buf.truncate(n);
                Poll::Ready(Some(Ok(Frame::data(Bytes::from(buf)))))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.remaining == 0
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        hyper::body::SizeHint::with_exact(self.remaining)
    }
}

/// `POST /api/v1/calls/{call_id}/recording/{action}` (`start`, `pause`, `resume`, `stop`):
/// 200 with the recording's state, 404 when the call has no conversation in progress, 409 when
/// the action does not apply now.
pub async fn control(
    Extension(recordings): Extension<Arc<Recordings>>,
    Path((id, action)): Path<(String, String)>,
) -> Response {
    let id = match call_id(&id) {
        Ok(id) => id,
        Err(e) => return error(StatusCode::BAD_REQUEST, e),
    };
    let command = match action.as_str() {
        "start" => Command::Start,
        "pause" => Command::Pause,
        "resume" => Command::Resume,
        "stop" => Command::Stop,
        other => {
            return error(
                StatusCode::NOT_FOUND,
                format!("`{other}`: the actions are start, pause, resume and stop"),
            )
        }
    };
    match recordings.control(id, command) {
        Ok(state) => Json(serde_json::json!({ "call_id": id, "state": state })).into_response(),
        Err(e @ ControlError::NoSuchCall) => error(StatusCode::NOT_FOUND, e.to_string()),
        Err(e @ (ControlError::NotNow(..) | ControlError::ConsentDeclined(_))) => {
            error(StatusCode::CONFLICT, e.to_string())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_read_like_rfc_9110() {
        let part = |start, end| RangeAsk::Part { start, end };
        assert_eq!(parse_range(None, 100), RangeAsk::Full);
        assert_eq!(parse_range(Some("bytes=0-9"), 100), part(0, 9));
        assert_eq!(parse_range(Some("bytes=90-"), 100), part(90, 99));
        assert_eq!(parse_range(Some("bytes=90-500"), 100), part(90, 99));
        assert_eq!(parse_range(Some("bytes=-10"), 100), part(90, 99));
        assert_eq!(parse_range(Some("bytes=-500"), 100), part(0, 99));
        assert_eq!(
            parse_range(Some("bytes=100-"), 100),
            RangeAsk::Unsatisfiable
        );
        assert_eq!(
            parse_range(Some("bytes=200-300"), 100),
            RangeAsk::Unsatisfiable
        );
        assert_eq!(parse_range(Some("bytes=-0"), 100), RangeAsk::Unsatisfiable);
        // Ignored: other units, several ranges, bad syntax, end before start.
        assert_eq!(parse_range(Some("items=0-9"), 100), RangeAsk::Full);
        assert_eq!(parse_range(Some("bytes=0-9,20-29"), 100), RangeAsk::Full);
        assert_eq!(parse_range(Some("bytes=x-9"), 100), RangeAsk::Full);
        assert_eq!(parse_range(Some("bytes=9-0"), 100), RangeAsk::Full);
    }
}
