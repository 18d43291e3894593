//! Responses: the type, building one for a request (RFC 3261 8.2.6) and printing.

use super::address::{parse_name_addr, NameAddr};
use super::error::ResponseContext;
use super::headers::Headers;
use super::request::{print_message, Request};

/// A SIP response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    status: u16,
    reason: String,
    headers: Headers,
    body: Vec<u8>,
}

/// The standard reason phrase for `status` (RFC 3261 21 and the RFCs that added codes), or a
/// class phrase for codes without one.
pub fn default_reason(status: u16) -> String {
    let text = match status {
        100 => "Trying",
        180 => "Ringing",
        181 => "Call Is Being Forwarded",
        182 => "Queued",
        183 => "Session Progress",
        199 => "Early Dialog Terminated",
        200 => "OK",
        202 => "Accepted",
        204 => "No Notification",
        300 => "Multiple Choices",
        301 => "Moved Permanently",
        302 => "Moved Temporarily",
        305 => "Use Proxy",
        380 => "Alternative Service",
        400 => "Bad Request",
        401 => "Unauthorized",
        402 => "Payment Required",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        407 => "Proxy Authentication Required",
        408 => "Request Timeout",
        410 => "Gone",
        412 => "Conditional Request Failed",
        413 => "Request Entity Too Large",
        414 => "Request-URI Too Long",
        415 => "Unsupported Media Type",
        416 => "Unsupported URI Scheme",
        417 => "Unknown Resource-Priority",
        420 => "Bad Extension",
        421 => "Extension Required",
        422 => "Session Interval Too Small",
        423 => "Interval Too Brief",
        428 => "Use Identity Header",
        429 => "Provide Referrer Identity",
        433 => "Anonymity Disallowed",
        436 => "Bad Identity-Info",
        437 => "Unsupported Certificate",
        438 => "Invalid Identity Header",
        439 => "First Hop Lacks Outbound Support",
        440 => "Max-Breadth Exceeded",
        469 => "Bad Info Package",
        470 => "Consent Needed",
        480 => "Temporarily Unavailable",
        481 => "Call/Transaction Does Not Exist",
        482 => "Loop Detected",
        483 => "Too Many Hops",
        484 => "Address Incomplete",
        485 => "Ambiguous",
        486 => "Busy Here",
        487 => "Request Terminated",
        488 => "Not Acceptable Here",
        489 => "Bad Event",
        491 => "Request Pending",
        493 => "Undecipherable",
        494 => "Security Agreement Required",
        500 => "Server Internal Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Server Time-out",
        505 => "Version Not Supported",
        513 => "Message Too Large",
        555 => "Push Notification Service Not Supported",
        580 => "Precondition Failure",
        600 => "Busy Everywhere",
        603 => "Decline",
        604 => "Does Not Exist Anywhere",
        606 => "Not Acceptable",
        607 => "Unwanted",
        608 => "Rejected",
        _ => match status / 100 {
            1 => "Session Progress",
            2 => "OK",
            3 => "Redirection",
            4 => "Client Error",
            5 => "Server Error",
            _ => "Global Failure",
        },
    };
    text.to_string()
}

impl Response {
    /// A response with no headers. An empty `reason` means the standard phrase.
    pub fn new(status: u16, reason: &str) -> Response {
        let reason = if reason.is_empty() {
            default_reason(status)
        } else {
            reason.to_string()
        };
        Response {
            status,
            reason,
            headers: Headers::new(),
            body: Vec::new(),
        }
    }

    pub(crate) fn from_parts(status: u16, reason: String, headers: Headers, body: Vec<u8>) -> Self {
        Response {
            status,
            reason,
            headers,
            body,
        }
    }

    /// A response to `request` that copies Via(s), From, To, Call-ID and CSeq
    /// (RFC 3261 8.2.6). An empty `reason` means the standard phrase.
    pub fn for_request(request: &Request, status: u16, reason: &str) -> Response {
        let mut r = Response::new(status, reason);
        for h in request.headers().iter() {
            let copy = ["Via", "From", "To", "Call-ID", "CSeq"]
                .iter()
                .any(|n| h.name.eq_ignore_ascii_case(n));
            if copy {
                r.headers.push(&h.name, h.value.clone());
            }
        }
        r
    }

    /// A response addressed from the headers salvaged from a request that failed to parse
    /// (see [`crate::message::ParseError::response_context`]).
    pub fn for_context(ctx: &ResponseContext, status: u16, reason: &str) -> Response {
        let mut r = Response::new(status, reason);
        for via in &ctx.vias {
            r.headers.push("Via", via.clone());
        }
        r.headers.push("From", ctx.from.clone());
        r.headers.push("To", ctx.to.clone());
        r.headers.push("Call-ID", ctx.call_id.clone());
        r.headers.push("CSeq", ctx.cseq.clone());
        r
    }

    /// The status code (100 ..= 699).
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The reason phrase as received or set.
    pub fn reason(&self) -> &str {
        &self.reason
    }

    /// The headers (typed accessors live on [`Headers`]).
    pub fn headers(&self) -> &Headers {
        &self.headers
    }

    /// The headers, mutable.
    pub fn headers_mut(&mut self) -> &mut Headers {
        &mut self.headers
    }

    /// The body.
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// The first value of header `name` (full or compact name, any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name)
    }

    /// Every line of header `name`, in order.
    pub fn header_all(&self, name: &str) -> Vec<&str> {
        self.headers.get_all(name).collect()
    }

    /// Shorthand for `headers().call_id()`.
    pub fn call_id(&self) -> Option<&str> {
        self.headers.call_id()
    }

    /// Shorthand for `headers().cseq()`.
    pub fn cseq(&self) -> Option<super::headers::CSeq> {
        self.headers.cseq()
    }

    /// Shorthand for `headers().from()`.
    pub fn from(&self) -> Option<NameAddr> {
        self.headers.from()
    }

    /// Shorthand for `headers().to()`.
    pub fn to(&self) -> Option<NameAddr> {
        self.headers.to()
    }

    /// Shorthand for `headers().top_via()`.
    pub fn top_via(&self) -> Option<super::via::Via> {
        self.headers.top_via()
    }

    /// Sets the tag of the To header, unless it already has one. A To value that cannot be
    /// parsed gets `;tag=` appended as text.
    pub fn set_to_tag(&mut self, tag: &str) {
        let Some(to) = self.headers.get("To").map(str::to_string) else {
            return;
        };
        let new = match parse_name_addr(&to) {
            Ok(addr) if addr.tag().is_some() => return,
            Ok(mut addr) => {
                addr.set_param("tag", Some(tag));
                addr.to_string()
            }
            Err(_) => format!("{to};tag={tag}"),
        };
        self.headers.set("To", new);
    }

    /// Replaces the Contact header with one address.
    pub fn set_contact(&mut self, contact: &NameAddr) {
        self.headers.set("Contact", contact.to_string());
    }

    /// Appends a header line.
    pub fn push_header(&mut self, name: &str, value: impl Into<String>) {
        self.headers.push(name, value);
    }

    /// Sets the body and its Content-Type.
    pub fn set_body(&mut self, content_type: &str, body: impl Into<Vec<u8>>) {
        self.headers.set("Content-Type", content_type);
        self.body = body.into();
    }

    /// Prints the response with a Content-Length that matches the body.
    pub fn to_bytes(&self) -> Vec<u8> {
        let start = format!("SIP/2.0 {} {}\r\n", self.status, self.reason);
        print_message(start, &self.headers, &self.body)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::message::{Method, SipUri};

    fn invite() -> Request {
        Request::builder(Method::Invite, SipUri::parse("sip:b@example.com").unwrap())
            .header("Via", "SIP/2.0/UDP a.example.com;branch=z9hG4bK1")
            .header("Via", "SIP/2.0/UDP p.example.com;branch=z9hG4bK0")
            .header("Max-Forwards", "70")
            .header("From", "<sip:a@example.com>;tag=1")
            .header("To", "\"Bob\" <sip:b@example.com>")
            .header("Call-ID", "c1")
            .header("CSeq", "1 INVITE")
            .body("application/sdp", b"v=0\r\n".to_vec())
            .build()
    }

    #[test]
    fn response_copies_the_dialog_headers() {
        let mut r = Response::for_request(&invite(), 180, "");
        r.set_to_tag("t9");
        r.set_to_tag("ignored");
        let text = String::from_utf8(r.to_bytes()).unwrap();
        assert_eq!(
            text,
            "SIP/2.0 180 Ringing\r\n\
             Via: SIP/2.0/UDP a.example.com;branch=z9hG4bK1\r\n\
             Via: SIP/2.0/UDP p.example.com;branch=z9hG4bK0\r\n\
             From: <sip:a@example.com>;tag=1\r\n\
             To: \"Bob\" <sip:b@example.com>;tag=t9\r\n\
             Call-ID: c1\r\n\
             CSeq: 1 INVITE\r\n\
             Content-Length: 0\r\n\r\n"
        );
    }

    #[test]
    fn response_with_contact_and_body() {
        let mut r = Response::for_request(&invite(), 200, "");
        r.set_contact(&NameAddr::new(
            SipUri::parse("sip:hotline@192.0.2.1:5060").unwrap(),
        ));
        r.set_body("application/sdp", b"v=0\r\n".to_vec());
        let text = String::from_utf8(r.to_bytes()).unwrap();
        assert!(text.contains("Contact: <sip:hotline@192.0.2.1:5060>\r\n"));
        assert!(text.ends_with("Content-Type: application/sdp\r\nContent-Length: 5\r\n\r\nv=0\r\n"));
    }

    #[test]
    fn default_reasons() {
        assert_eq!(default_reason(200), "OK");
        assert_eq!(default_reason(505), "Version Not Supported");
        assert_eq!(default_reason(499), "Client Error");
    }
}
