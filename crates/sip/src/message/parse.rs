//! Datagram parsing and validation.
//!
//! The header section is read line by line first, so that even a message that fails
//! validation yields the raw Via/From/To/Call-ID/CSeq needed to answer it with a 400.

use super::address::{parse_contact_list, parse_name_addr, parse_name_addr_list};
use super::error::{ParseError, ParseErrorKind, ResponseContext};
use super::headers::{canonical_name, parse_cseq, CSeqError, Headers};
use super::lex::{is_token, FieldError};
use super::method::Method;
use super::request::Request;
use super::response::Response;
use super::uri::{Scheme, SipUri, UriError};
use super::via::parse_via_list;
use super::Message;

/// A header line as read: name as written and unfolded value.
pub(crate) struct RawHead {
    pub(crate) start_line: String,
    pub(crate) headers: Vec<(String, String)>,
    /// A line had no `name:` (or was a continuation with nothing to continue).
    pub(crate) bad_line: bool,
}

/// Position of the CRLFCRLF that ends the header section.
pub(crate) fn find_head_end(data: &[u8]) -> Option<usize> {
    data.windows(4).position(|w| w == b"\r\n\r\n")
}

/// Number of CR/LF bytes before the start line (RFC 3261 7.5 says to ignore them).
pub(crate) fn leading_crlf(data: &[u8]) -> usize {
    data.iter()
        .take_while(|b| **b == b'\r' || **b == b'\n')
        .count()
}

/// Reads the start line and the header lines, unfolding continuation lines.
pub(crate) fn read_head(head: &[u8]) -> RawHead {
    let text = String::from_utf8_lossy(head);
    let mut lines = text.split("\r\n");
    let start_line = lines.next().unwrap_or_default().to_string();
    let mut headers: Vec<(String, String)> = Vec::new();
    let mut bad_line = false;
    for line in lines {
        if line.starts_with([' ', '\t']) {
            match headers.last_mut() {
                Some((_, value)) => {
                    let more = line.trim();
                    if !more.is_empty() {
                        if !value.is_empty() {
                            value.push(' ');
                        }
                        value.push_str(more);
                    }
                }
                None => bad_line = true,
            }
            continue;
        }
        match line.split_once(':') {
            Some((name, value)) if is_token(name.trim_end()) => {
                headers.push((name.trim_end().to_string(), value.trim().to_string()));
            }
            _ => bad_line = true,
        }
    }
    RawHead {
        start_line,
        headers,
        bad_line,
    }
}

/// Reads Content-Length values: `Ok(None)` when absent.
pub(crate) fn content_length<'a>(
    values: impl Iterator<Item = &'a str>,
) -> Result<Option<u64>, ParseErrorKind> {
    let mut found: Option<u64> = None;
    for v in values {
        let v = v.trim();
        if v.is_empty() || v.len() > 19 || !v.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ParseErrorKind::BadContentLength);
        }
        let n: u64 = v.parse().map_err(|_| ParseErrorKind::BadContentLength)?;
        match found {
            Some(prev) if prev != n => return Err(ParseErrorKind::ConflictingContentLength),
            _ => found = Some(n),
        }
    }
    Ok(found)
}

fn values<'a>(raw: &'a [(String, String)], name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
    raw.iter()
        .filter(move |(n, _)| canonical_name(n).eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

fn salvage(raw: &[(String, String)]) -> Option<ResponseContext> {
    let first = |name: &str| {
        values(raw, name)
            .next()
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    };
    let vias: Vec<String> = values(raw, "Via")
        .filter(|v| !v.is_empty())
        .map(str::to_string)
        .collect();
    if vias.is_empty() {
        return None;
    }
    Some(ResponseContext {
        vias,
        from: first("From")?,
        to: first("To")?,
        call_id: first("Call-ID")?,
        cseq: first("CSeq")?,
    })
}

enum StartLine {
    Request(Method, SipUri),
    Response(u16, String),
}

/// Parses one message from a UDP datagram. The body is exactly Content-Length bytes; bytes
/// after it are ignored (RFC 3261 18.3). Without Content-Length the body is the rest of the
/// datagram. Leading CRLFs are skipped. Never panics.
pub fn parse(datagram: &[u8]) -> Result<Message, ParseError> {
    let data = &datagram[leading_crlf(datagram)..];
    if data.is_empty() {
        return Err(ParseError::new(ParseErrorKind::Empty, None));
    }
    let (head, body_area, terminated) = match find_head_end(data) {
        Some(end) => (&data[..end], &data[end + 4..], true),
        None => (data, &data[data.len()..], false),
    };
    let raw = read_head(head);
    let is_response = raw.start_line.starts_with("SIP/");
    let context = if is_response {
        None
    } else {
        salvage(&raw.headers)
    };
    let fail = |kind: ParseErrorKind| ParseError::new(kind, context.clone());

    if !terminated {
        return Err(fail(ParseErrorKind::UnterminatedHeaders));
    }
    let start = parse_start_line(&raw.start_line).map_err(fail)?;
    if raw.bad_line {
        return Err(fail(ParseErrorKind::BadHeaderLine));
    }
    let mut headers = Headers::new();
    for (name, value) in &raw.headers {
        headers.push(name, value.as_str());
    }
    let request_method = match &start {
        StartLine::Request(m, _) => Some(m),
        StartLine::Response(..) => None,
    };
    validate(&headers, request_method).map_err(fail)?;

    let declared = content_length(headers.get_all("Content-Length")).map_err(fail)?;
    let body = match declared {
        Some(n) => match usize::try_from(n) {
            Ok(n) if n <= body_area.len() => body_area[..n].to_vec(),
            _ => {
                return Err(fail(ParseErrorKind::ContentLengthExceedsBody {
                    declared: n,
                    available: body_area.len(),
                }))
            }
        },
        None => body_area.to_vec(),
    };
    Ok(match start {
        StartLine::Request(method, uri) => {
            Message::Request(Request::from_parts(method, uri, headers, body))
        }
        StartLine::Response(status, reason) => {
            Message::Response(Response::from_parts(status, reason, headers, body))
        }
    })
}

fn check_version(v: &str, malformed: ParseErrorKind) -> Result<(), ParseErrorKind> {
    let number = match (v.get(..4), v.get(4..)) {
        (Some(prefix), Some(number)) if prefix.eq_ignore_ascii_case("SIP/") => number,
        _ => return Err(malformed),
    };
    let well_formed = matches!(number.split_once('.'), Some((a, b))
        if !a.is_empty() && !b.is_empty()
            && a.bytes().all(|c| c.is_ascii_digit())
            && b.bytes().all(|c| c.is_ascii_digit()));
    if !well_formed {
        return Err(malformed);
    }
    if number != "2.0" {
        return Err(ParseErrorKind::UnsupportedVersion(v.to_string()));
    }
    Ok(())
}

fn parse_start_line(line: &str) -> Result<StartLine, ParseErrorKind> {
    if line.starts_with("SIP/") {
        let mut parts = line.splitn(3, ' ');
        let version = parts.next().unwrap_or_default();
        let code = parts.next().unwrap_or_default();
        let reason = parts.next().unwrap_or_default();
        check_version(version, ParseErrorKind::BadStatusLine)?;
        if code.is_empty() || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ParseErrorKind::BadStatusLine);
        }
        let status = match code.parse::<u16>() {
            Ok(c) if code.len() == 3 && (100..=699).contains(&c) => c,
            _ => return Err(ParseErrorKind::StatusCodeOutOfRange),
        };
        return Ok(StartLine::Response(status, reason.to_string()));
    }
    let parts: Vec<&str> = line.split(' ').collect();
    if parts.iter().any(|p| p.is_empty()) {
        return Err(ParseErrorKind::RequestLineWhitespace);
    }
    if parts.iter().any(|p| p.contains(char::is_whitespace)) || parts.len() < 3 {
        return Err(ParseErrorKind::BadRequestLine);
    }
    if parts.len() > 3 {
        return Err(ParseErrorKind::RequestUriWhitespace);
    }
    check_version(parts[2], ParseErrorKind::BadRequestLine)?;
    let method = Method::parse(parts[0]).ok_or(ParseErrorKind::BadMethod)?;
    if parts[1].starts_with('<') {
        return Err(ParseErrorKind::RequestUriInBrackets);
    }
    let uri = SipUri::parse(parts[1]).map_err(|e| match e {
        UriError::Ipv6WithoutBrackets => ParseErrorKind::Ipv6WithoutBrackets,
        _ => ParseErrorKind::BadRequestUri,
    })?;
    if matches!(uri.scheme, Scheme::Sip | Scheme::Sips) && !uri.headers.is_empty() {
        return Err(ParseErrorKind::RequestUriHeaders);
    }
    Ok(StartLine::Request(method, uri))
}

fn field_error(name: &str, e: FieldError) -> ParseErrorKind {
    match e {
        FieldError::Malformed => ParseErrorKind::BadHeader(name.to_string()),
        FieldError::UnterminatedQuote => ParseErrorKind::UnterminatedQuote(name.to_string()),
        FieldError::Ipv6WithoutBrackets => ParseErrorKind::Ipv6WithoutBrackets,
    }
}

/// Checks the headers every element relies on.
fn validate(headers: &Headers, request_method: Option<&Method>) -> Result<(), ParseErrorKind> {
    for name in ["Call-ID", "From", "To", "CSeq", "Max-Forwards"] {
        if headers.get_all(name).count() > 1 {
            return Err(ParseErrorKind::DuplicateHeader(name));
        }
    }
    for name in ["Via", "From", "To", "Call-ID", "CSeq"] {
        if headers.get(name).is_none() {
            return Err(ParseErrorKind::MissingHeader(name));
        }
    }
    if headers
        .call_id()
        .is_some_and(|c| c.is_empty() || c.contains(char::is_whitespace))
    {
        return Err(ParseErrorKind::BadHeader("Call-ID".into()));
    }
    let cseq_text = headers.get("CSeq").unwrap_or_default();
    let cseq = parse_cseq(cseq_text).map_err(|e| match e {
        CSeqError::Malformed => ParseErrorKind::BadHeader("CSeq".into()),
        CSeqError::OutOfRange => ParseErrorKind::CSeqOutOfRange,
    })?;
    if request_method.is_some_and(|m| *m != cseq.method) {
        return Err(ParseErrorKind::CSeqMethodMismatch);
    }
    for name in ["From", "To"] {
        let value = headers.get(name).unwrap_or_default();
        parse_name_addr(value).map_err(|e| field_error(name, e))?;
    }
    for v in headers.get_all("Via") {
        parse_via_list(v).map_err(|e| field_error("Via", e))?;
    }
    for v in headers.get_all("Contact") {
        parse_contact_list(v).map_err(|e| field_error("Contact", e))?;
    }
    for name in ["Route", "Record-Route"] {
        for v in headers.get_all(name) {
            parse_name_addr_list(v).map_err(|e| field_error(name, e))?;
        }
    }
    // RFC 3261 20.17: SIP dates are always GMT.
    if headers
        .get_all("Date")
        .any(|d| !d.trim_end().ends_with("GMT"))
    {
        return Err(ParseErrorKind::BadHeader("Date".into()));
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const OPTIONS: &str = "OPTIONS sip:b@example.com SIP/2.0\r\n\
        Via: SIP/2.0/UDP a.example.com;branch=z9hG4bK1\r\n\
        From: <sip:a@example.com>;tag=1\r\n\
        To: <sip:b@example.com>\r\n\
        Call-ID: c1\r\n\
        CSeq: 1 OPTIONS\r\n\
        Content-Length: 4\r\n\r\nbody";

    #[test]
    fn parses_a_request_and_its_body() {
        let Ok(Message::Request(r)) = parse(OPTIONS.as_bytes()) else {
            panic!("expected a request");
        };
        assert_eq!(r.method(), &Method::Options);
        assert_eq!(r.body(), b"body");
        assert_eq!(r.cseq().map(|c| c.seq), Some(1));
    }

    #[test]
    fn leading_crlf_is_ignored_and_trailing_bytes_dropped() {
        let msg = format!("\r\n\r\n{OPTIONS}trailing junk");
        let Ok(Message::Request(r)) = parse(msg.as_bytes()) else {
            panic!("expected a request");
        };
        assert_eq!(r.body(), b"body");
    }

    #[test]
    fn errors_carry_a_context_for_requests_only() {
        let short = OPTIONS.replace("Content-Length: 4", "Content-Length: 40");
        let err = parse(short.as_bytes()).unwrap_err();
        assert!(matches!(
            err.kind(),
            ParseErrorKind::ContentLengthExceedsBody {
                declared: 40,
                available: 4
            }
        ));
        let ctx = err.response_context().unwrap();
        assert_eq!(ctx.call_id, "c1");
        let resp = OPTIONS
            .replace("OPTIONS sip:b@example.com SIP/2.0", "SIP/2.0 200 OK")
            .replace("Content-Length: 4", "Content-Length: 40");
        assert!(parse(resp.as_bytes())
            .unwrap_err()
            .response_context()
            .is_none());
    }

    #[test]
    fn version_errors_answer_505() {
        let bad = OPTIONS.replace("SIP/2.0\r\nVia", "SIP/7.0\r\nVia");
        let err = parse(bad.as_bytes()).unwrap_err();
        assert_eq!(err.status_code(), 505);
        assert!(err.response_context().is_some());
    }

    #[test]
    fn empty_input() {
        assert_eq!(parse(b"").unwrap_err().kind(), &ParseErrorKind::Empty);
        assert_eq!(
            parse(b"\r\n\r\n").unwrap_err().kind(),
            &ParseErrorKind::Empty
        );
    }
}
