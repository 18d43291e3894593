//! Parse errors, with the reason phrase for a `400` and the headers salvaged to address it.

/// What was wrong with a message. `Display` is a short reason phrase for the response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseErrorKind {
    /// Nothing but CRLFs.
    #[error("Empty Message")]
    Empty,
    /// No empty line ends the header section.
    #[error("Missing Empty Line After Headers")]
    UnterminatedHeaders,
    /// The Request-Line does not have the form `Method SP URI SP SIP-Version`.
    #[error("Malformed Request-Line")]
    BadRequestLine,
    /// Extra spaces between or after the Request-Line elements.
    #[error("Extra Whitespace In Request-Line")]
    RequestLineWhitespace,
    /// Whitespace inside the Request-URI.
    #[error("Whitespace In Request-URI")]
    RequestUriWhitespace,
    /// The Request-URI is enclosed in `< >`.
    #[error("Request-URI In Angle Brackets")]
    RequestUriInBrackets,
    /// The Request-URI cannot be parsed.
    #[error("Malformed Request-URI")]
    BadRequestUri,
    /// A SIP Request-URI carries `?headers`.
    #[error("Headers Not Allowed In Request-URI")]
    RequestUriHeaders,
    /// An IPv6 address without `[ ]` (Request-URI or a header).
    #[error("IPv6 Address Without Brackets")]
    Ipv6WithoutBrackets,
    /// The method is not a token.
    #[error("Malformed Method")]
    BadMethod,
    /// The Status-Line does not have the form `SIP-Version SP 3DIGIT SP Reason`.
    #[error("Malformed Status-Line")]
    BadStatusLine,
    /// The status code is not in 100..=699.
    #[error("Status Code Out Of Range")]
    StatusCodeOutOfRange,
    /// A well-formed version other than SIP/2.0: answer 505.
    #[error("Version Not Supported")]
    UnsupportedVersion(String),
    /// A header line without `name:`.
    #[error("Malformed Header Line")]
    BadHeaderLine,
    /// A mandatory header is missing.
    #[error("Missing {0} Header")]
    MissingHeader(&'static str),
    /// A header that must appear once appears more than once.
    #[error("Multiple {0} Headers")]
    DuplicateHeader(&'static str),
    /// A header value does not follow its grammar.
    #[error("Malformed {0} Header")]
    BadHeader(String),
    /// A quoted string is not closed.
    #[error("Unterminated Quote In {0}")]
    UnterminatedQuote(String),
    /// Content-Length is not a non-negative decimal.
    #[error("Malformed Content-Length")]
    BadContentLength,
    /// Several Content-Length headers disagree.
    #[error("Conflicting Content-Length")]
    ConflictingContentLength,
    /// Content-Length is larger than the bytes received (UDP).
    #[error("Content-Length Larger Than Body")]
    ContentLengthExceedsBody {
        /// Declared length.
        declared: u64,
        /// Bytes present after the header section.
        available: usize,
    },
    /// The CSeq number exceeds 2^32-1.
    #[error("CSeq Number Too Large")]
    CSeqOutOfRange,
    /// The CSeq method differs from the Request-Line method.
    #[error("CSeq Method Mismatch")]
    CSeqMethodMismatch,
}

/// The raw values of the headers needed to address a response, salvaged from a request
/// that failed to parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseContext {
    /// Every Via line, top first, as written.
    pub vias: Vec<String>,
    /// The first From value.
    pub from: String,
    /// The first To value.
    pub to: String,
    /// The first Call-ID value.
    pub call_id: String,
    /// The first CSeq value.
    pub cseq: String,
}

/// A message that could not be accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind}")]
pub struct ParseError {
    kind: ParseErrorKind,
    context: Option<Box<ResponseContext>>,
}

impl ParseError {
    pub(crate) fn new(kind: ParseErrorKind, context: Option<ResponseContext>) -> ParseError {
        ParseError {
            kind,
            context: context.map(Box::new),
        }
    }

    /// What was wrong.
    pub fn kind(&self) -> &ParseErrorKind {
        &self.kind
    }

    /// A reason phrase for the error response (e.g. `400 Multiple Call-ID Headers`).
    pub fn reason_phrase(&self) -> String {
        self.kind.to_string()
    }

    /// The status to answer with: 505 for an unsupported version, else 400.
    pub fn status_code(&self) -> u16 {
        match self.kind {
            ParseErrorKind::UnsupportedVersion(_) => 505,
            _ => 400,
        }
    }

    /// The headers to address a response with, when the message was a request and Via,
    /// From, To, Call-ID and CSeq were all present. `None` means: drop the message (it was a
    /// response, or the response cannot be addressed) and count it.
    pub fn response_context(&self) -> Option<&ResponseContext> {
        self.context.as_deref()
    }
}

/// A stream (TCP/TLS) could not be framed: the connection should be closed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// The header section exceeds the limit without an empty line.
    #[error("header section exceeds {0} bytes")]
    HeaderTooLarge(usize),
    /// Content-Length exceeds the body limit.
    #[error("body of {declared} bytes exceeds the {limit}-byte limit")]
    BodyTooLarge {
        /// Declared Content-Length.
        declared: u64,
        /// Configured limit.
        limit: usize,
    },
    /// Streams need Content-Length (RFC 3261 18.3).
    #[error("missing Content-Length on a stream transport")]
    MissingContentLength,
    /// Content-Length is not a non-negative decimal.
    #[error("malformed Content-Length")]
    BadContentLength,
    /// Several Content-Length headers disagree.
    #[error("conflicting Content-Length headers")]
    ConflictingContentLength,
}
