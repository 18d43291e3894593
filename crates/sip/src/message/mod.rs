//! SIP messages: our own request/response types, parsing with validation, stream framing
//! and printing.
//!
//! - [`parse`] reads one UDP datagram into a [`Message`]; failures are [`ParseError`]s whose
//!   [`ParseError::response_context`] says whether (and how) a 400/505 can be addressed.
//! - [`frame`] finds message boundaries on TCP/TLS streams.
//! - [`Request::builder`], [`Response::for_request`] and `to_bytes()` build and print.
//!
//! Header values are kept as written and parsed on demand by the typed accessors on
//! [`Headers`]; every type here is our own.

mod address;
mod error;
mod frame;
mod headers;
pub(crate) mod lex;
mod method;
mod parse;
mod request;
mod response;
mod uri;
mod via;

pub use address::{AddressError, Contact, NameAddr};
pub use error::{FrameError, ParseError, ParseErrorKind, ResponseContext};
pub use frame::{frame, frame_with_limits, is_keepalive, FrameLimits};
pub use headers::{canonical_name, same_name, CSeq, Header, Headers, Refresher, SessionExpires};
pub use lex::unescape;
pub use method::Method;
pub use parse::parse;
pub use request::{Request, RequestBuilder};
pub use response::{default_reason, Response};
pub use uri::{find_param, Host, Param, Scheme, SipUri, UriError};
pub use via::{Transport, Via, ViaError, MAGIC_COOKIE};

/// A parsed SIP message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// A request.
    Request(Request),
    /// A response.
    Response(Response),
}

impl Message {
    /// The headers of either kind.
    pub fn headers(&self) -> &Headers {
        match self {
            Message::Request(r) => r.headers(),
            Message::Response(r) => r.headers(),
        }
    }

    /// The body of either kind.
    pub fn body(&self) -> &[u8] {
        match self {
            Message::Request(r) => r.body(),
            Message::Response(r) => r.body(),
        }
    }

    /// The Call-ID.
    pub fn call_id(&self) -> Option<&str> {
        self.headers().call_id()
    }

    /// Prints the message with a correct Content-Length.
    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            Message::Request(r) => r.to_bytes(),
            Message::Response(r) => r.to_bytes(),
        }
    }
}
