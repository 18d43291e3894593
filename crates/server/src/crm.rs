//! CRM lookups for the dialplan's `http` nodes: HTTP/1.1 with a timeout per attempt, retries and
//! a capped response, or a fixture file keyed by E.164 number when no CRM is configured.

use std::path::PathBuf;

use bytes::Bytes;
use hotline_dialplan::http::MAX_HTTP_RESPONSE_BYTES;
use hotline_dialplan::{CrmFixture, HttpFailure, HttpMethod, HttpRequest};
use http_body_util::{BodyExt, Full, Limited};
use hyper::Uri;
use hyper_util::rt::TokioIo;
use serde::Deserialize;

/// The `crm:` section of the configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CrmSettings {
    /// The CRM's base URL (`http://crm.example:8080`): an `http` node's URL starting with `/` is
    /// taken relative to it.
    #[serde(default)]
    pub url: Option<String>,
    /// A JSON file of answers keyed by E.164 caller number, read for relative URLs when no `url`
    /// is set (so a plan with lookups works without a CRM).
    #[serde(default)]
    pub fixture: Option<PathBuf>,
}

impl CrmSettings {
    /// Checks the base URL: plain `http://` with a host.
    pub fn validate(&self) -> Result<(), String> {
        if let Some(url) = &self.url {
            let uri: Uri = url.parse().map_err(|e| format!("crm.url `{url}`: {e}"))?;
            if uri.scheme_str() != Some("http") || uri.host().is_none() {
                return Err(format!(
                    "crm.url `{url}`: give an http:// address with a host (TLS is not supported)"
                ));
            }
        }
        Ok(())
    }
}

/// Warns at start when the plan's lookups cannot work as configured (see [`unusable`]); the
/// calls then take each node's `on_failure`, so the server still starts.
pub fn warn_if_unusable(settings: &CrmSettings, plan: &hotline_dialplan::Dialplan) {
    if let Some(problem) = unusable(settings, plan) {
        tracing::warn!("{problem}: the dialplan's CRM lookups will take on_failure");
    }
}

/// Why the plan's lookups of CRM paths (URLs starting with `/`) cannot work: neither `crm.url`
/// nor `crm.fixture` is set, or the fixture cannot be read; `None` when they can.
fn unusable(settings: &CrmSettings, plan: &hotline_dialplan::Dialplan) -> Option<String> {
    let relative = plan
        .numbers()
        .filter_map(|number| plan.number(number))
        .flat_map(|number| number.nodes.values())
        .any(|node| {
            matches!(&node.kind, hotline_dialplan::NodeKind::Http(http) if http.url.starts_with('/'))
        });
    if !relative || settings.url.is_some() {
        return None;
    }
    let Some(path) = &settings.fixture else {
        return Some("http nodes use CRM paths but neither crm.url nor crm.fixture is set".into());
    };
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) => return Some(format!("crm.fixture {}: {e}", path.display())),
    };
    CrmFixture::parse(&text)
        .err()
        .map(|e| format!("crm.fixture {}: {e}", path.display()))
}

/// How much longer than an attempt its connection may live.
const CONNECTION_SLACK: std::time::Duration = std::time::Duration::from_millis(500);

/// Performs `request`: every attempt bounded by its timeout, `retries` more after a failure;
/// the last failure when all fail.
pub async fn lookup(
    settings: &CrmSettings,
    request: &HttpRequest,
) -> Result<serde_json::Value, HttpFailure> {
    let url = if request.url.starts_with('/') {
        match (&settings.url, &settings.fixture) {
            (Some(base), _) => format!("{}{}", base.trim_end_matches('/'), request.url),
            (None, Some(fixture)) => return from_fixture(fixture, &request.caller).await,
            (None, None) => {
                return Err(HttpFailure::BadUrl(
                    "a relative URL needs crm.url or crm.fixture in the configuration".into(),
                ))
            }
        }
    } else {
        request.url.clone()
    };
    let mut last = HttpFailure::TimedOut;
    for attempt in 0..=request.retries {
        last = match tokio::time::timeout(request.timeout, attempt_once(&url, request)).await {
            Ok(Ok(answer)) => return Ok(answer),
            Ok(Err(failure @ HttpFailure::BadUrl(_))) => return Err(failure),
            Ok(Err(failure)) => failure,
            Err(_) => HttpFailure::TimedOut,
        };
        tracing::debug!(node = %request.node, attempt, "CRM attempt failed: {last}");
    }
    Err(last)
}

async fn from_fixture(path: &PathBuf, caller: &str) -> Result<serde_json::Value, HttpFailure> {
    let text = tokio::fs::read_to_string(path)
        .await
        .map_err(|e| HttpFailure::Unreachable(format!("fixture {}: {e}", path.display())))?;
    CrmFixture::parse(&text)?.answer(caller)
}

async fn attempt_once(url: &str, request: &HttpRequest) -> Result<serde_json::Value, HttpFailure> {
    let uri: Uri = url
        .parse()
        .map_err(|e| HttpFailure::BadUrl(format!("{e}")))?;
    if uri.scheme_str() != Some("http") {
        return Err(HttpFailure::BadUrl("only http:// is supported".into()));
    }
    let host = uri
        .host()
        .ok_or_else(|| HttpFailure::BadUrl("no host".into()))?
        .to_owned();
    let port = uri.port_u16().unwrap_or(80);
    let stream = tokio::net::TcpStream::connect((host.as_str(), port))
        .await
        .map_err(|e| HttpFailure::Unreachable(e.to_string()))?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| HttpFailure::Unreachable(e.to_string()))?;
    // The connection ends with the exchange (or when a timed-out attempt drops the request);
    // in any case it lives barely longer than one attempt, never ending before the attempt's
    // own timeout has spoken (the failure is then `TimedOut`, not a lost connection).
    let limit = request.timeout + CONNECTION_SLACK;
    tokio::spawn(async move {
        let _ = tokio::time::timeout(limit, connection).await;
    });
    let path = uri
        .path_and_query()
        .map_or_else(|| "/".to_owned(), ToString::to_string);
    let authority = uri.authority().map_or(host.clone(), ToString::to_string);
    let builder = hyper::Request::builder()
        .method(request.method.name())
        .uri(path)
        .header(hyper::header::HOST, authority)
        .header(hyper::header::ACCEPT, "application/json")
        .header(
            hyper::header::USER_AGENT,
            concat!("hotline/", env!("CARGO_PKG_VERSION")),
        );
    let http_request = match (request.method, &request.body) {
        (HttpMethod::Post, Some(body)) => builder
            .header(hyper::header::CONTENT_TYPE, "application/json")
            .body(Full::new(Bytes::from(body.clone()))),
        _ => builder.body(Full::new(Bytes::new())),
    }
    .map_err(|e| HttpFailure::BadUrl(e.to_string()))?;
    let response = sender
        .send_request(http_request)
        .await
        .map_err(|e| HttpFailure::Unreachable(e.to_string()))?;
    let status = response.status();
    if !status.is_success() {
        return Err(HttpFailure::Status(status.as_u16()));
    }
    let body = Limited::new(response.into_body(), MAX_HTTP_RESPONSE_BYTES)
        .collect()
        .await
        .map_err(|e| {
            if e.is::<http_body_util::LengthLimitError>() {
                HttpFailure::TooLarge
            } else {
                HttpFailure::Unreachable(e.to_string())
            }
        })?
        .to_bytes();
    serde_json::from_slice(&body).map_err(|e| HttpFailure::InvalidJson(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    fn request(url: &str, timeout: Duration, retries: u32) -> HttpRequest {
        HttpRequest {
            node: "lookup".into(),
            method: HttpMethod::Get,
            url: url.into(),
            body: None,
            timeout,
            retries,
            caller: "+8613800000001".into(),
        }
    }

    /// A server answering every connection with `response` (raw HTTP; empty: never answers),
    /// reporting each connection (`true`) and each silent one the client closed (`false`).
    async fn serve(response: &'static str) -> (String, tokio::sync::mpsc::UnboundedReceiver<bool>) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let _ = tx.send(true);
                let tx = tx.clone();
                tokio::spawn(async move {
                    let mut buf = [0u8; 4096];
                    let _ = socket.read(&mut buf).await;
                    if !response.is_empty() {
                        let _ = socket.write_all(response.as_bytes()).await;
                    } else {
                        // Never answers: holds the socket until the client gives up.
                        let _ = socket.read(&mut buf).await;
                        let _ = tx.send(false);
                    }
                });
            }
        });
        (format!("http://{addr}"), rx)
    }

    #[tokio::test]
    async fn a_json_answer_is_returned() {
        let (base, _) = serve(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 17\r\n\r\n{\"name\":\"Li Na\"}\n",
        )
        .await;
        let settings = CrmSettings {
            url: Some(base),
            fixture: None,
        };
        let answer = lookup(&settings, &request("/c?n=1", Duration::from_secs(2), 0)).await;
        assert_eq!(answer, Ok(serde_json::json!({ "name": "Li Na" })));
    }

    #[tokio::test]
    async fn a_failing_crm_is_tried_again_then_reports_why() {
        let (base, mut connections) = serve("HTTP/1.1 503 Busy\r\ncontent-length: 0\r\n\r\n").await;
        let settings = CrmSettings {
            url: Some(base.clone()),
            fixture: None,
        };
        let answer = lookup(&settings, &request("/c", Duration::from_secs(2), 2)).await;
        assert_eq!(answer, Err(HttpFailure::Status(503)));
        let mut seen = 0;
        while let Ok(opened) = connections.try_recv() {
            seen += usize::from(opened);
        }
        assert_eq!(seen, 3, "one attempt and two retries");

        let (bad, _) = serve("HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nnope!").await;
        let answer = lookup(
            &CrmSettings::default(),
            &request(&format!("{bad}/c"), Duration::from_secs(2), 0),
        )
        .await;
        assert!(
            matches!(answer, Err(HttpFailure::InvalidJson(_))),
            "{answer:?}"
        );
    }

    #[tokio::test]
    async fn a_silent_crm_times_out_within_the_attempts_budget() {
        let (base, mut connections) = serve("").await;
        let started = Instant::now();
        let answer = lookup(
            &CrmSettings::default(),
            &request(&format!("{base}/c"), Duration::from_millis(200), 1),
        )
        .await;
        let took = started.elapsed();
        assert_eq!(answer, Err(HttpFailure::TimedOut));
        assert!(took >= Duration::from_millis(400), "{took:?}");
        assert!(took < Duration::from_millis(1_500), "{took:?}");
        // Both attempts' connections are closed, none left open behind the lookup.
        let mut closed = 0;
        while closed < 2 {
            match tokio::time::timeout(Duration::from_secs(2), connections.recv()).await {
                Ok(Some(false)) => closed += 1,
                Ok(Some(true)) => {}
                other => panic!("connection left open: {other:?}"),
            }
        }
    }

    #[tokio::test]
    async fn an_oversized_answer_is_refused() {
        let big: &'static str = Box::leak(
            format!(
                "HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n\"{}\"",
                MAX_HTTP_RESPONSE_BYTES + 2,
                "x".repeat(MAX_HTTP_RESPONSE_BYTES)
            )
            .into_boxed_str(),
        );
        let (base, _) = serve(big).await;
        let answer = lookup(
            &CrmSettings::default(),
            &request(&format!("{base}/c"), Duration::from_secs(2), 0),
        )
        .await;
        assert_eq!(answer, Err(HttpFailure::TooLarge));
    }

    #[test]
    fn a_plan_whose_lookups_cannot_work_is_reported() {
        let plan = hotline_dialplan::Dialplan::parse(
            "version: 1\nnumbers:\n  \"1\":\n    start: a\n    nodes:\n      a: { http: { url: /c, on_failure: b }, next: b }\n      b: { hangup: true }\n",
            "plan.yaml",
            &hotline_dialplan::ValidationContext::default(),
        )
        .expect("valid plan");
        let none = CrmSettings::default();
        assert!(unusable(&none, &plan).is_some_and(|p| p.contains("neither crm.url")));
        let missing = CrmSettings {
            url: None,
            fixture: Some("/nonexistent/customers.json".into()),
        };
        assert!(unusable(&missing, &plan).is_some_and(|p| p.contains("/nonexistent")));
        let crm = CrmSettings {
            url: Some("http://127.0.0.1:9".into()),
            fixture: None,
        };
        assert_eq!(unusable(&crm, &plan), None);
        let bundled = CrmSettings {
            url: None,
            fixture: Some(
                concat!(
                    env!("CARGO_MANIFEST_DIR"),
                    "/../../dialplans/crm_fixture.json"
                )
                .into(),
            ),
        };
        assert_eq!(unusable(&bundled, &plan), None);
    }

    #[tokio::test]
    async fn without_a_crm_url_a_fixture_file_answers_relative_urls() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("customers.json");
        std::fs::write(&path, r#"{ "+8613800000001": { "name": "Li Na" } }"#).expect("write");
        let settings = CrmSettings {
            url: None,
            fixture: Some(path),
        };
        let timeout = Duration::from_secs(1);
        assert_eq!(
            lookup(&settings, &request("/c", timeout, 0)).await,
            Ok(serde_json::json!({ "name": "Li Na" }))
        );
        let mut stranger = request("/c", timeout, 0);
        stranger.caller = "+1555".into();
        assert_eq!(
            lookup(&settings, &stranger).await,
            Err(HttpFailure::NotFound)
        );
        assert!(matches!(
            lookup(&CrmSettings::default(), &request("/c", timeout, 0)).await,
            Err(HttpFailure::BadUrl(_))
        ));
        assert!(CrmSettings {
            url: Some("https://crm.example".into()),
            fixture: None
        }
        .validate()
        .is_err());
    }
}
