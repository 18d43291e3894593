//! Requests: the type, its builder and printing.

use std::net::SocketAddr;

use super::headers::Headers;
use super::method::Method;
use super::uri::SipUri;
use super::via::parse_via_list;

/// A SIP request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    method: Method,
    uri: SipUri,
    headers: Headers,
    body: Vec<u8>,
}

impl Request {
    /// A request with no headers and no body.
    pub fn new(method: Method, uri: SipUri) -> Request {
        Request {
            method,
            uri,
            headers: Headers::new(),
            body: Vec::new(),
        }
    }

    /// Starts building a request.
    pub fn builder(method: Method, uri: SipUri) -> RequestBuilder {
        RequestBuilder {
            request: Request::new(method, uri),
        }
    }

    pub(crate) fn from_parts(
        method: Method,
        uri: SipUri,
        headers: Headers,
        body: Vec<u8>,
    ) -> Request {
        Request {
            method,
            uri,
            headers,
            body,
        }
    }

    /// The method.
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The Request-URI.
    pub fn uri(&self) -> &SipUri {
        &self.uri
    }

    /// Replaces the Request-URI (e.g. when retargeting to a registered contact).
    pub fn set_uri(&mut self, uri: SipUri) {
        self.uri = uri;
    }

    /// The headers (typed accessors live on [`Headers`]).
    pub fn headers(&self) -> &Headers {
        &self.headers
    }

    /// The headers, mutable.
    pub fn headers_mut(&mut self) -> &mut Headers {
        &mut self.headers
    }

    /// The body (exactly Content-Length bytes for parsed messages).
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// Sets the body and its Content-Type (Content-Length is computed when printing).
    pub fn set_body(&mut self, content_type: &str, body: impl Into<Vec<u8>>) {
        self.headers.set("Content-Type", content_type);
        self.body = body.into();
    }

    /// Removes the body and its Content-Type.
    pub fn clear_body(&mut self) {
        self.headers.remove("Content-Type");
        self.body.clear();
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
    pub fn from(&self) -> Option<super::address::NameAddr> {
        self.headers.from()
    }

    /// Shorthand for `headers().to()`.
    pub fn to(&self) -> Option<super::address::NameAddr> {
        self.headers.to()
    }

    /// Shorthand for `headers().top_via()`.
    pub fn top_via(&self) -> Option<super::via::Via> {
        self.headers.top_via()
    }

    /// Marks the top Via with the address the request came from (`received`, `rport`;
    /// RFC 3261 18.2.1, RFC 3581). Does nothing when there is no parseable top Via.
    pub fn stamp_received(&mut self, source: SocketAddr) {
        let Some(line) = self
            .headers
            .lines_mut()
            .iter_mut()
            .find(|h| h.name.eq_ignore_ascii_case("Via"))
        else {
            return;
        };
        let Ok(mut vias) = parse_via_list(&line.value) else {
            return;
        };
        if let Some(top) = vias.first_mut() {
            top.stamp_source(source);
        }
        line.value = vias
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ");
    }

    /// Prints the request with a Content-Length that matches the body.
    pub fn to_bytes(&self) -> Vec<u8> {
        let start = format!("{} {} SIP/2.0\r\n", self.method, self.uri);
        print_message(start, &self.headers, &self.body)
    }
}

/// Prints the start line, the headers (any Content-Length replaced) and the body.
pub(crate) fn print_message(start_line: String, headers: &Headers, body: &[u8]) -> Vec<u8> {
    let mut out = start_line.into_bytes();
    for h in headers.iter() {
        if h.name.eq_ignore_ascii_case("Content-Length") {
            continue;
        }
        out.extend_from_slice(h.name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(h.value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes());
    out.extend_from_slice(body);
    out
}

/// Builds a [`Request`] header by header.
#[derive(Debug, Clone)]
pub struct RequestBuilder {
    request: Request,
}

impl RequestBuilder {
    /// Appends a header line.
    pub fn header(mut self, name: &str, value: impl Into<String>) -> RequestBuilder {
        self.request.headers.push(name, value);
        self
    }

    /// Sets the body and its Content-Type.
    pub fn body(mut self, content_type: &str, body: impl Into<Vec<u8>>) -> RequestBuilder {
        self.request.set_body(content_type, body);
        self
    }

    /// The finished request.
    pub fn build(self) -> Request {
        self.request
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn builder_prints_content_length_and_stamps_via() {
        let uri = SipUri::parse("sip:bob@example.com").unwrap();
        let mut req = Request::builder(Method::Invite, uri)
            .header(
                "Via",
                "SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1;rport, SIP/2.0/UDP p",
            )
            .header("Content-Length", "999")
            .body("application/sdp", b"v=0\r\n".to_vec())
            .build();
        req.stamp_received("192.0.2.9:1234".parse().unwrap());
        let text = String::from_utf8(req.to_bytes()).unwrap();
        assert!(text.starts_with("INVITE sip:bob@example.com SIP/2.0\r\n"));
        assert!(text.contains(
            "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1;rport=1234;received=192.0.2.9, SIP/2.0/UDP p\r\n"
        ));
        assert!(text.ends_with("Content-Length: 5\r\n\r\nv=0\r\n"));
        assert!(!text.contains("999"));
    }
}
