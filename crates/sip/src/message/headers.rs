//! The ordered header list of a message and its typed accessors.
//!
//! Values are stored as written (unfolded); typed accessors parse on demand. Messages that
//! come out of [`crate::message::parse`] have valid Via, From, To, Call-ID, CSeq, Contact,
//! Route and Record-Route values, so those accessors return `Some`/non-empty for them.

use super::address::{
    parse_contact_list, parse_name_addr, parse_name_addr_list, Contact, NameAddr,
};
use super::lex::split_top_level;
use super::method::Method;
use super::via::{parse_via_list, Via};

/// Compact header forms (RFC 3261 7.3.3 and later RFCs) and their full names.
const COMPACT: &[(char, &str)] = &[
    ('a', "Accept-Contact"),
    ('b', "Referred-By"),
    ('c', "Content-Type"),
    ('d', "Request-Disposition"),
    ('e', "Content-Encoding"),
    ('f', "From"),
    ('i', "Call-ID"),
    ('j', "Reject-Contact"),
    ('k', "Supported"),
    ('l', "Content-Length"),
    ('m', "Contact"),
    ('n', "Identity-Info"),
    ('o', "Event"),
    ('r', "Refer-To"),
    ('s', "Subject"),
    ('t', "To"),
    ('u', "Allow-Events"),
    ('v', "Via"),
    ('x', "Session-Expires"),
    ('y', "Identity"),
];

/// Header names printed in their usual spelling whatever case they arrived in.
const KNOWN: &[&str] = &[
    "Accept",
    "Accept-Encoding",
    "Accept-Language",
    "Alert-Info",
    "Allow",
    "Authentication-Info",
    "Authorization",
    "Call-ID",
    "Call-Info",
    "Contact",
    "Content-Disposition",
    "Content-Encoding",
    "Content-Language",
    "Content-Length",
    "Content-Type",
    "CSeq",
    "Date",
    "Error-Info",
    "Expires",
    "From",
    "In-Reply-To",
    "Max-Forwards",
    "Min-Expires",
    "MIME-Version",
    "Min-SE",
    "Organization",
    "P-Asserted-Identity",
    "Path",
    "Priority",
    "Privacy",
    "Proxy-Authenticate",
    "Proxy-Authorization",
    "Proxy-Require",
    "RAck",
    "Reason",
    "Record-Route",
    "Replaces",
    "Reply-To",
    "Require",
    "Retry-After",
    "Route",
    "RSeq",
    "Server",
    "Service-Route",
    "Session-Expires",
    "Subject",
    "Subscription-State",
    "Supported",
    "Timestamp",
    "To",
    "Unsupported",
    "User-Agent",
    "Via",
    "Warning",
    "WWW-Authenticate",
    "Accept-Contact",
    "Referred-By",
    "Request-Disposition",
    "Reject-Contact",
    "Identity-Info",
    "Event",
    "Refer-To",
    "Allow-Events",
    "Identity",
];

/// The full, canonically spelled name for `name` (compact forms expanded); unknown names are
/// returned as written.
pub fn canonical_name(name: &str) -> &str {
    known_name(name).unwrap_or(name)
}

/// The canonical spelling of a known header name or compact form.
fn known_name(name: &str) -> Option<&'static str> {
    let mut chars = name.chars();
    if let (Some(c), None) = (chars.next(), chars.next()) {
        let c = c.to_ascii_lowercase();
        if let Some((_, full)) = COMPACT.iter().find(|(k, _)| *k == c) {
            return Some(full);
        }
    }
    KNOWN.iter().find(|k| k.eq_ignore_ascii_case(name)).copied()
}

/// True when `a` and `b` name the same header (case and compact forms ignored).
pub fn same_name(a: &str, b: &str) -> bool {
    canonical_name(a).eq_ignore_ascii_case(canonical_name(b))
}

/// One header line: canonical name and unfolded value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// Canonical name (see [`canonical_name`]).
    pub name: String,
    /// Value as written, with folding replaced by single spaces and outer LWS trimmed.
    pub value: String,
}

/// CSeq: sequence number and method.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CSeq {
    /// Sequence number (0 ..= 2^32-1).
    pub seq: u32,
    /// Method.
    pub method: Method,
}

impl std::fmt::Display for CSeq {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.seq, self.method)
    }
}

/// Who refreshes a session timer (RFC 4028).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Refresher {
    /// The UAC refreshes.
    Uac,
    /// The UAS refreshes.
    Uas,
}

/// Session-Expires value (RFC 4028).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SessionExpires {
    /// Session interval in seconds.
    pub delta_seconds: u32,
    /// The refresher parameter, if given.
    pub refresher: Option<Refresher>,
}

/// The ordered list of headers of a message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Headers {
    list: Vec<Header>,
}

impl Headers {
    /// An empty list.
    pub fn new() -> Headers {
        Headers::default()
    }

    /// All header lines in order.
    pub fn iter(&self) -> impl Iterator<Item = &Header> {
        self.list.iter()
    }

    /// Number of header lines.
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// True when there are no headers.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// The first value of header `name` (full or compact name, any case).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.get_all(name).next()
    }

    /// Every line of header `name` in order (comma-separated values are not split).
    pub fn get_all<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a str> + 'a {
        let name: std::borrow::Cow<'static, str> = match known_name(name) {
            Some(n) => n.into(),
            None => name.to_string().into(),
        };
        self.list
            .iter()
            .filter(move |h| h.name.eq_ignore_ascii_case(&name))
            .map(|h| h.value.as_str())
    }

    /// Appends a header line.
    pub fn push(&mut self, name: &str, value: impl Into<String>) {
        self.list.push(Header {
            name: canonical_name(name).to_string(),
            value: value.into(),
        });
    }

    /// Replaces every line of `name` with one line holding `value` (at the first line's place).
    pub fn set(&mut self, name: &str, value: impl Into<String>) {
        let canon = canonical_name(name).to_string();
        let at = self
            .list
            .iter()
            .position(|h| h.name.eq_ignore_ascii_case(&canon));
        self.remove(&canon);
        let header = Header {
            name: canon,
            value: value.into(),
        };
        match at {
            Some(i) => self.list.insert(i.min(self.list.len()), header),
            None => self.list.push(header),
        }
    }

    /// Removes every line of `name`; returns how many were removed.
    pub fn remove(&mut self, name: &str) -> usize {
        let canon = canonical_name(name);
        let before = self.list.len();
        self.list.retain(|h| !h.name.eq_ignore_ascii_case(canon));
        before - self.list.len()
    }

    /// Inserts a header line at the top (e.g. a new Via or Record-Route).
    pub fn push_front(&mut self, name: &str, value: impl Into<String>) {
        self.list.insert(
            0,
            Header {
                name: canonical_name(name).to_string(),
                value: value.into(),
            },
        );
    }

    pub(crate) fn lines_mut(&mut self) -> &mut Vec<Header> {
        &mut self.list
    }

    /// The Call-ID.
    pub fn call_id(&self) -> Option<&str> {
        self.get("Call-ID")
    }

    /// The CSeq.
    pub fn cseq(&self) -> Option<CSeq> {
        parse_cseq(self.get("CSeq")?).ok()
    }

    /// The From address.
    pub fn from(&self) -> Option<NameAddr> {
        parse_name_addr(self.get("From")?).ok()
    }

    /// The To address.
    pub fn to(&self) -> Option<NameAddr> {
        parse_name_addr(self.get("To")?).ok()
    }

    /// Every Via value, top first (comma-separated values split).
    pub fn vias(&self) -> Vec<Via> {
        self.get_all("Via")
            .filter_map(|v| parse_via_list(v).ok())
            .flatten()
            .collect()
    }

    /// The top Via.
    pub fn top_via(&self) -> Option<Via> {
        let first = self.get("Via")?;
        parse_via_list(first).ok()?.into_iter().next()
    }

    /// Every Contact value in order.
    pub fn contacts(&self) -> Vec<Contact> {
        self.get_all("Contact")
            .filter_map(|v| parse_contact_list(v).ok())
            .flatten()
            .collect()
    }

    /// Every Route value, top first.
    pub fn routes(&self) -> Vec<NameAddr> {
        self.addr_list("Route")
    }

    /// Every Record-Route value, top first.
    pub fn record_routes(&self) -> Vec<NameAddr> {
        self.addr_list("Record-Route")
    }

    fn addr_list(&self, name: &str) -> Vec<NameAddr> {
        self.get_all(name)
            .filter_map(|v| parse_name_addr_list(v).ok())
            .flatten()
            .collect()
    }

    /// Expires header in seconds; `None` when absent or not a number that fits u32
    /// (RFC 4475 3.1.2.4: treat an overlarge value as absent).
    pub fn expires(&self) -> Option<u32> {
        parse_u32(self.get("Expires")?)
    }

    /// Max-Forwards; `None` when absent or not a number.
    pub fn max_forwards(&self) -> Option<u32> {
        parse_u32(self.get("Max-Forwards")?)
    }

    /// Min-Expires in seconds.
    pub fn min_expires(&self) -> Option<u32> {
        parse_u32(self.get("Min-Expires")?)
    }

    /// Content-Type value as written (e.g. `application/sdp`).
    pub fn content_type(&self) -> Option<&str> {
        self.get("Content-Type")
    }

    /// Authorization value as written (parse it with [`crate::digest`]).
    pub fn authorization(&self) -> Option<&str> {
        self.get("Authorization")
    }

    /// Proxy-Authorization value as written.
    pub fn proxy_authorization(&self) -> Option<&str> {
        self.get("Proxy-Authorization")
    }

    /// WWW-Authenticate value as written.
    pub fn www_authenticate(&self) -> Option<&str> {
        self.get("WWW-Authenticate")
    }

    /// Option tags listed in Require.
    pub fn require(&self) -> Vec<String> {
        self.tokens("Require")
    }

    /// Option tags listed in Proxy-Require.
    pub fn proxy_require(&self) -> Vec<String> {
        self.tokens("Proxy-Require")
    }

    /// Option tags listed in Supported.
    pub fn supported(&self) -> Vec<String> {
        self.tokens("Supported")
    }

    /// Methods listed in Allow.
    pub fn allow(&self) -> Vec<String> {
        self.tokens("Allow")
    }

    /// Every comma-separated token of header `name`, trimmed, empty items skipped.
    pub fn tokens(&self, name: &str) -> Vec<String> {
        self.get_all(name)
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_string)
            .collect()
    }

    /// Session-Expires (RFC 4028).
    pub fn session_expires(&self) -> Option<SessionExpires> {
        let v = self.get("Session-Expires")?;
        let mut parts = split_top_level(v, ';').ok()?.into_iter();
        let delta_seconds = parse_u32(parts.next()?)?;
        let refresher = parts.find_map(|p| {
            let (n, v) = p.split_once('=')?;
            if !n.trim().eq_ignore_ascii_case("refresher") {
                return None;
            }
            match v.trim().to_ascii_lowercase().as_str() {
                "uac" => Some(Refresher::Uac),
                "uas" => Some(Refresher::Uas),
                _ => None,
            }
        });
        Some(SessionExpires {
            delta_seconds,
            refresher,
        })
    }

    /// Min-SE in seconds (RFC 4028).
    pub fn min_se(&self) -> Option<u32> {
        let v = self.get("Min-SE")?;
        parse_u32(v.split(';').next()?)
    }
}

/// Parses an unsigned decimal that fits in u32 (leading zeros allowed).
pub(crate) fn parse_u32(s: &str) -> Option<u32> {
    let s = s.trim();
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Why a CSeq value is invalid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CSeqError {
    Malformed,
    OutOfRange,
}

pub(crate) fn parse_cseq(s: &str) -> Result<CSeq, CSeqError> {
    let mut parts = s.split_whitespace();
    let (Some(num), Some(method), None) = (parts.next(), parts.next(), parts.next()) else {
        return Err(CSeqError::Malformed);
    };
    if !num.bytes().all(|b| b.is_ascii_digit()) {
        return Err(CSeqError::Malformed);
    }
    let seq = num.parse::<u32>().map_err(|_| CSeqError::OutOfRange)?;
    let method = Method::parse(method).ok_or(CSeqError::Malformed)?;
    Ok(CSeq { seq, method })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn compact_and_case_insensitive_names() {
        let mut h = Headers::new();
        h.push("v", "SIP/2.0/UDP a;branch=z9hG4bK1");
        h.push("VIA", "SIP/2.0/UDP b;branch=z9hG4bK2, SIP/2.0/UDP c");
        h.push("i", "abc");
        h.push("MaX-fOrWaRdS", "0068");
        assert_eq!(h.get("call-id"), Some("abc"));
        assert_eq!(h.call_id(), Some("abc"));
        assert_eq!(h.get_all("Via").count(), 2);
        assert_eq!(h.vias().len(), 3);
        assert_eq!(h.max_forwards(), Some(68));
        assert_eq!(h.iter().next().map(|x| x.name.as_str()), Some("Via"));
    }

    #[test]
    fn cseq_limits() {
        assert_eq!(parse_cseq("0009 INVITE").unwrap().seq, 9);
        assert_eq!(parse_cseq("4294967295 BYE").unwrap().seq, u32::MAX);
        assert_eq!(parse_cseq("4294967296 BYE"), Err(CSeqError::OutOfRange));
        assert_eq!(parse_cseq("-1 BYE"), Err(CSeqError::Malformed));
        assert_eq!(parse_cseq("1"), Err(CSeqError::Malformed));
    }

    #[test]
    fn session_timer_headers() {
        let mut h = Headers::new();
        h.push("x", "1800;refresher=uas");
        h.push("Min-SE", "90");
        assert_eq!(
            h.session_expires(),
            Some(SessionExpires {
                delta_seconds: 1800,
                refresher: Some(Refresher::Uas)
            })
        );
        assert_eq!(h.min_se(), Some(90));
    }

    #[test]
    fn set_replaces_in_place() {
        let mut h = Headers::new();
        h.push("To", "<sip:a@b>");
        h.push("Contact", "<sip:x@y>");
        h.push("Contact", "<sip:z@y>");
        h.set("m", "<sip:q@y>");
        assert_eq!(h.get_all("Contact").collect::<Vec<_>>(), vec!["<sip:q@y>"]);
        assert_eq!(h.len(), 2);
    }
}
