//! The `http` node: a CRM lookup. The node's request is built here from the call's variables
//! (values percent-encoded into the URL), the server (or the simulator) performs it, and the
//! JSON answer is mapped back into variables here, so the whole node is testable without I/O.

use std::collections::BTreeMap;
use std::time::Duration;

/// Longest accepted `timeout` of an `http` node.
pub const MAX_HTTP_TIMEOUT: Duration = Duration::from_secs(30);
/// Default `timeout` of an `http` node.
pub const DEFAULT_HTTP_TIMEOUT: Duration = Duration::from_secs(2);
/// Largest accepted `retries` of an `http` node.
pub const MAX_HTTP_RETRIES: u32 = 5;
/// Largest response body the server reads from a CRM (larger answers are a failure).
pub const MAX_HTTP_RESPONSE_BYTES: usize = 64 * 1024;

/// The HTTP method of an `http` node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HttpMethod {
    /// `GET`: the caller's data goes in the URL.
    #[default]
    Get,
    /// `POST`: the `body` mapping is sent as a JSON object.
    Post,
}

impl HttpMethod {
    /// The method's name on the wire and in the dialplan.
    pub fn name(self) -> &'static str {
        match self {
            HttpMethod::Get => "GET",
            HttpMethod::Post => "POST",
        }
    }

    /// The method written in a dialplan (`GET`/`get`, `POST`/`post`).
    pub fn from_name(text: &str) -> Option<HttpMethod> {
        match text.to_ascii_uppercase().as_str() {
            "GET" => Some(HttpMethod::Get),
            "POST" => Some(HttpMethod::Post),
            _ => None,
        }
    }
}

/// An `http` node: look the caller up in a CRM and keep what it says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpLookup {
    /// The URL template: `${variable}`s (and `${caller}`, `${dialed}`) are percent-encoded in.
    /// A URL starting with `/` is relative to the server's configured CRM base URL.
    pub url: String,
    /// GET or POST.
    pub method: HttpMethod,
    /// The JSON object sent with POST: field name to a template (interpolated, not encoded).
    pub body: BTreeMap<String, String>,
    /// How long one attempt may take.
    pub timeout: Duration,
    /// Extra attempts after a failed one.
    pub retries: u32,
    /// Variable name to the JSON field it is read from (`customer.name` or `/customer/name`).
    pub map: BTreeMap<String, String>,
    /// Mapped variables attached to the call: they travel with its queue entry to the agent.
    pub attach: Vec<String>,
    /// The node that follows a good answer.
    pub next: String,
    /// Where the call goes when the CRM fails after every attempt.
    pub on_failure: String,
}

impl HttpLookup {
    /// The longest the lookup can take in all: every attempt timing out.
    pub fn worst_case(&self) -> Duration {
        self.timeout.saturating_mul(self.retries.saturating_add(1))
    }
}

/// The request an `http` node asks the server to perform ([`crate::IvrAction::Http`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRequest {
    /// The node.
    pub node: String,
    /// GET or POST.
    pub method: HttpMethod,
    /// The URL with variables filled in and percent-encoded (relative when it starts with `/`).
    pub url: String,
    /// The JSON body for POST.
    pub body: Option<String>,
    /// How long one attempt may take.
    pub timeout: Duration,
    /// Extra attempts after a failed one.
    pub retries: u32,
    /// The caller's number in E.164 when it has one: the key of a fixture file.
    pub caller: String,
}

/// Why a CRM lookup failed (after its retries).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HttpFailure {
    /// Every attempt timed out.
    #[error("timed out")]
    TimedOut,
    /// The CRM answered with a status other than 2xx.
    #[error("status {0}")]
    Status(u16),
    /// The answer was not a JSON object or array.
    #[error("invalid JSON: {0}")]
    InvalidJson(String),
    /// The answer was larger than [`MAX_HTTP_RESPONSE_BYTES`].
    #[error("response larger than {MAX_HTTP_RESPONSE_BYTES} bytes")]
    TooLarge,
    /// The CRM could not be reached.
    #[error("unreachable: {0}")]
    Unreachable(String),
    /// No CRM answer for this caller (a fixture file without the number).
    #[error("not found")]
    NotFound,
    /// The URL could not be used (no CRM configured for a relative URL, bad address).
    #[error("bad URL: {0}")]
    BadUrl(String),
}

/// `text` with every `${name}` replaced by `lookup(name)` passed through `encode` (empty when
/// unknown).
pub(crate) fn fill(
    text: &str,
    lookup: impl Fn(&str) -> Option<String>,
    encode: impl Fn(&str) -> String,
) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        match after.find('}') {
            Some(end) => {
                if let Some(value) = lookup(&after[..end]) {
                    out.push_str(&encode(&value));
                }
                rest = &after[end + 1..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// RFC 3986 percent-encoding of everything but unreserved characters (so `+` in an E.164
/// number becomes `%2B`, and nothing a caller controls can add a query parameter or a path).
pub fn percent_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The value at a field path: dotted (`customer.name`, `items.0.id`) or a JSON pointer
/// (`/customer/name`). Strings as they are, numbers and booleans as written; `None` for a
/// missing field, `null`, an object or an array.
pub fn field(json: &serde_json::Value, path: &str) -> Option<String> {
    let found = if path.starts_with('/') {
        json.pointer(path)
    } else {
        path.split('.').try_fold(json, |value, part| match value {
            serde_json::Value::Object(map) => map.get(part),
            serde_json::Value::Array(items) => {
                part.parse::<usize>().ok().and_then(|i| items.get(i))
            }
            _ => None,
        })
    }?;
    match found {
        serde_json::Value::String(text) => Some(text.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Whether a field path is one [`field`] can read: a JSON pointer or dot-separated names.
pub(crate) fn is_field_path(path: &str) -> bool {
    if let Some(pointer) = path.strip_prefix('/') {
        return !pointer.is_empty();
    }
    !path.is_empty() && path.split('.').all(|part| !part.is_empty())
}

/// A CRM fixture: JSON answers keyed by the caller's E.164 number, read from a file such as
/// `{ "+8613800000001": { "customer": { "name": "Li Na" } } }`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CrmFixture {
    answers: BTreeMap<String, serde_json::Value>,
}

impl CrmFixture {
    /// Reads a fixture from JSON text: an object of numbers to answers.
    pub fn parse(text: &str) -> Result<CrmFixture, HttpFailure> {
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| HttpFailure::InvalidJson(e.to_string()))?;
        match value {
            serde_json::Value::Object(map) => Ok(CrmFixture {
                answers: map.into_iter().collect(),
            }),
            _ => Err(HttpFailure::InvalidJson(
                "a fixture is an object keyed by caller number".into(),
            )),
        }
    }

    /// The answer for a caller (E.164), as a CRM would give it.
    pub fn answer(&self, caller: &str) -> Result<serde_json::Value, HttpFailure> {
        self.answers
            .get(caller)
            .cloned()
            .ok_or(HttpFailure::NotFound)
    }

    /// How many callers the fixture knows.
    pub fn len(&self) -> usize {
        self.answers.len()
    }

    /// Whether the fixture knows no caller.
    pub fn is_empty(&self) -> bool {
        self.answers.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caller_values_are_percent_encoded_into_urls() {
        let url = fill(
            "/customers?number=${caller}&x=${missing}",
            |name| (name == "caller").then(|| "+86 138&a=1".to_owned()),
            percent_encode,
        );
        assert_eq!(url, "/customers?number=%2B86%20138%26a%3D1&x=");
    }

    #[test]
    fn fields_are_read_by_dotted_path_or_pointer() {
        let json = serde_json::json!({
            "customer": { "name": "Li Na", "tier": "gold", "score": 7, "vip": true,
                          "tags": ["a", "b"], "none": null }
        });
        assert_eq!(field(&json, "customer.name").as_deref(), Some("Li Na"));
        assert_eq!(field(&json, "/customer/tier").as_deref(), Some("gold"));
        assert_eq!(field(&json, "customer.score").as_deref(), Some("7"));
        assert_eq!(field(&json, "customer.vip").as_deref(), Some("true"));
        assert_eq!(field(&json, "customer.tags.1").as_deref(), Some("b"));
        assert_eq!(field(&json, "customer.none"), None);
        assert_eq!(field(&json, "customer"), None);
        assert_eq!(field(&json, "customer.missing"), None);
        assert!(is_field_path("a.b"));
        assert!(is_field_path("/a/b"));
        assert!(!is_field_path("a..b"));
        assert!(!is_field_path("/"));
    }

    #[test]
    fn a_fixture_answers_by_number_and_knows_who_it_lacks() {
        let fixture =
            CrmFixture::parse(r#"{ "+8613800000001": { "name": "Li" } }"#).expect("valid fixture");
        assert_eq!(fixture.len(), 1);
        assert_eq!(
            fixture.answer("+8613800000001"),
            Ok(serde_json::json!({ "name": "Li" }))
        );
        assert_eq!(fixture.answer("+1"), Err(HttpFailure::NotFound));
        assert!(CrmFixture::parse("[1]").is_err());
        assert!(CrmFixture::parse("{").is_err());
    }
}
