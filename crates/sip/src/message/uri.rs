//! URIs as they appear in SIP: `sip:`/`sips:` (fully parsed), `tel:` (number and parameters)
//! and any other scheme (kept opaque, so the server can answer 416).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::lex::{is_token, unescape};

/// Why a URI could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UriError {
    /// The URI is empty or has no `scheme:` prefix.
    #[error("missing or malformed URI scheme")]
    Scheme,
    /// The URI contains whitespace.
    #[error("whitespace in URI")]
    Whitespace,
    /// An IPv6 address is not enclosed in `[ ]`.
    #[error("IPv6 address without brackets")]
    Ipv6WithoutBrackets,
    /// The host part is empty or holds characters a host cannot have.
    #[error("malformed host")]
    Host,
    /// The port is not a number in 0..=65535.
    #[error("malformed port")]
    Port,
    /// A `;param` is empty or malformed.
    #[error("malformed URI parameter")]
    Param,
}

/// A URI scheme.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// `sip:`
    Sip,
    /// `sips:`
    Sips,
    /// `tel:` (RFC 3966)
    Tel,
    /// Any other scheme, lowercased.
    Other(String),
}

impl Scheme {
    /// True for `sip:` and `sips:`.
    pub fn is_sip(&self) -> bool {
        matches!(self, Scheme::Sip | Scheme::Sips)
    }
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scheme::Sip => f.write_str("sip"),
            Scheme::Sips => f.write_str("sips"),
            Scheme::Tel => f.write_str("tel"),
            Scheme::Other(s) => f.write_str(s),
        }
    }
}

/// A host: domain name, IPv4 address or IPv6 reference.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Host {
    /// A domain name as written.
    Domain(String),
    /// An IPv4 address.
    Ipv4(Ipv4Addr),
    /// An IPv6 reference, the text between the brackets. Kept as text because RFC 5118 §4.10
    /// requires tolerating forms such as `2001:db8:::192.0.2.1` that `Ipv6Addr` rejects.
    Ipv6(String),
}

impl Host {
    /// The host as an IP address, if it is one (the RFC 5118 three-colon form is repaired).
    pub fn ip(&self) -> Option<IpAddr> {
        match self {
            Host::Domain(_) => None,
            Host::Ipv4(a) => Some(IpAddr::V4(*a)),
            Host::Ipv6(s) => s
                .parse::<Ipv6Addr>()
                .or_else(|_| s.replace(":::", "::").parse::<Ipv6Addr>())
                .ok()
                .map(IpAddr::V6),
        }
    }

    /// Parses a host (IPv6 with brackets) without a port.
    pub(crate) fn parse(s: &str) -> Result<Host, UriError> {
        if let Some(inner) = s.strip_prefix('[') {
            let inner = inner.strip_suffix(']').ok_or(UriError::Host)?;
            let ok = inner.contains(':')
                && inner
                    .chars()
                    .all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.');
            return if ok {
                Ok(Host::Ipv6(inner.to_string()))
            } else {
                Err(UriError::Host)
            };
        }
        if s.contains(':') {
            return Err(UriError::Ipv6WithoutBrackets);
        }
        if s.is_empty()
            || !s
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.' || c == '_')
        {
            return Err(UriError::Host);
        }
        Ok(match s.parse::<Ipv4Addr>() {
            Ok(a) => Host::Ipv4(a),
            Err(_) => Host::Domain(s.to_string()),
        })
    }
}

impl From<IpAddr> for Host {
    fn from(ip: IpAddr) -> Self {
        match ip {
            IpAddr::V4(a) => Host::Ipv4(a),
            IpAddr::V6(a) => Host::Ipv6(a.to_string()),
        }
    }
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Domain(d) => f.write_str(d),
            Host::Ipv4(a) => write!(f, "{a}"),
            Host::Ipv6(s) => write!(f, "[{s}]"),
        }
    }
}

/// Splits `host[:port]` (IPv6 in brackets); an unbracketed IPv6 address is an error.
pub(crate) fn parse_host_port(s: &str) -> Result<(Host, Option<u16>), UriError> {
    let (host, port) = if s.starts_with('[') {
        let close = s.find(']').ok_or(UriError::Host)?;
        let rest = &s[close + 1..];
        let port = match rest.strip_prefix(':') {
            Some(p) => Some(p),
            None if rest.is_empty() => None,
            None => return Err(UriError::Host),
        };
        (&s[..=close], port)
    } else {
        match s.matches(':').count() {
            0 => (s, None),
            1 => {
                let (h, p) = s.split_once(':').ok_or(UriError::Host)?;
                (h, Some(p))
            }
            _ => return Err(UriError::Ipv6WithoutBrackets),
        }
    };
    let port = match port {
        None => None,
        Some(p) if !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()) => {
            Some(p.parse::<u16>().map_err(|_| UriError::Port)?)
        }
        Some(_) => return Err(UriError::Port),
    };
    Ok((Host::parse(host)?, port))
}

/// A `name[=value]` parameter of a URI or header; the value is kept as written
/// (quoted values keep their quotes).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Param {
    /// Parameter name as written.
    pub name: String,
    /// Parameter value, if any.
    pub value: Option<String>,
}

impl Param {
    /// Builds a parameter.
    pub fn new(name: impl Into<String>, value: Option<impl Into<String>>) -> Param {
        Param {
            name: name.into(),
            value: value.map(Into::into),
        }
    }
}

impl fmt::Display for Param {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.value {
            Some(v) => write!(f, ";{}={}", self.name, v),
            None => write!(f, ";{}", self.name),
        }
    }
}

/// Finds a parameter by case-insensitive name; `Some(None)` when present without a value.
pub fn find_param<'a>(params: &'a [Param], name: &str) -> Option<Option<&'a str>> {
    params
        .iter()
        .find(|p| p.name.eq_ignore_ascii_case(name))
        .map(|p| p.value.as_deref())
}

/// A parsed URI. For `sip:`/`sips:` every field is filled from the wire form; for `tel:` the
/// number is in `user` and `host` is `None`; for other schemes only `opaque` is set.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SipUri {
    /// The scheme.
    pub scheme: Scheme,
    /// User part, still `%`-escaped as on the wire (see [`SipUri::user_unescaped`]).
    pub user: Option<String>,
    /// Password part of the userinfo, escaped.
    pub password: Option<String>,
    /// Host (`None` for `tel:` and opaque schemes).
    pub host: Option<Host>,
    /// Explicit port.
    pub port: Option<u16>,
    /// URI parameters (`;transport=tcp;lr`).
    pub params: Vec<Param>,
    /// URI headers (`?Replaces=...&To=...`), escaped.
    pub headers: Vec<(String, String)>,
    /// Everything after `scheme:` for schemes other than sip, sips and tel.
    pub opaque: Option<String>,
}

impl SipUri {
    /// Parses a URI (no surrounding `< >`, no whitespace).
    pub fn parse(s: &str) -> Result<SipUri, UriError> {
        if s.chars().any(|c| c.is_whitespace()) {
            return Err(UriError::Whitespace);
        }
        let (scheme, rest) = s.split_once(':').ok_or(UriError::Scheme)?;
        let valid_scheme = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
        if !valid_scheme {
            return Err(UriError::Scheme);
        }
        let scheme = match scheme.to_ascii_lowercase().as_str() {
            "sip" => Scheme::Sip,
            "sips" => Scheme::Sips,
            "tel" => Scheme::Tel,
            other => Scheme::Other(other.to_string()),
        };
        match scheme {
            Scheme::Sip | Scheme::Sips => Self::parse_sip(scheme, rest),
            Scheme::Tel => {
                let (number, params) = match rest.split_once(';') {
                    Some((n, p)) => (n, parse_uri_params(p)?),
                    None => (rest, Vec::new()),
                };
                if number.is_empty() {
                    return Err(UriError::Host);
                }
                Ok(SipUri {
                    user: Some(number.to_string()),
                    params,
                    ..SipUri::empty(Scheme::Tel)
                })
            }
            Scheme::Other(_) => {
                if rest.is_empty() {
                    return Err(UriError::Scheme);
                }
                Ok(SipUri {
                    opaque: Some(rest.to_string()),
                    ..SipUri::empty(scheme)
                })
            }
        }
    }

    fn empty(scheme: Scheme) -> SipUri {
        SipUri {
            scheme,
            user: None,
            password: None,
            host: None,
            port: None,
            params: Vec::new(),
            headers: Vec::new(),
            opaque: None,
        }
    }

    fn parse_sip(scheme: Scheme, rest: &str) -> Result<SipUri, UriError> {
        // `@` cannot appear unescaped in params or headers, so the last one ends the userinfo
        // (the user part itself may hold `;`, `?` and `/`, RFC 3261 user-unreserved).
        let (userinfo, hostpart) = match rest.rfind('@') {
            Some(at) => (Some(&rest[..at]), &rest[at + 1..]),
            None => (None, rest),
        };
        let (user, password) = match userinfo {
            Some(u) => match u.split_once(':') {
                Some((u, p)) => (Some(u.to_string()), Some(p.to_string())),
                None => (Some(u.to_string()), None),
            },
            None => (None, None),
        };
        if user.as_deref() == Some("") {
            return Err(UriError::Host);
        }
        let (before_headers, headers) = match hostpart.split_once('?') {
            Some((b, h)) => (b, parse_uri_headers(h)?),
            None => (hostpart, Vec::new()),
        };
        let (hostport, params) = match before_headers.split_once(';') {
            Some((hp, p)) => (hp, parse_uri_params(p)?),
            None => (before_headers, Vec::new()),
        };
        let (host, port) = parse_host_port(hostport)?;
        Ok(SipUri {
            user,
            password,
            host: Some(host),
            port,
            params,
            headers,
            ..SipUri::empty(scheme)
        })
    }

    /// A `sip:` URI for `user@host[:port]`.
    pub fn sip(user: Option<&str>, host: Host, port: Option<u16>) -> SipUri {
        SipUri {
            user: user.map(str::to_string),
            host: Some(host),
            port,
            ..SipUri::empty(Scheme::Sip)
        }
    }

    /// The user part with `%HH` escapes decoded once (lossy UTF-8).
    pub fn user_unescaped(&self) -> Option<String> {
        self.user
            .as_deref()
            .map(|u| String::from_utf8_lossy(&unescape(u)).into_owned())
    }

    /// A URI parameter by case-insensitive name; `Some(None)` for a flag such as `lr`.
    pub fn param(&self, name: &str) -> Option<Option<&str>> {
        find_param(&self.params, name)
    }

    /// Adds or replaces a URI parameter.
    pub fn set_param(&mut self, name: &str, value: Option<&str>) {
        let new = Param::new(name, value);
        match self
            .params
            .iter_mut()
            .find(|p| p.name.eq_ignore_ascii_case(name))
        {
            Some(p) => *p = new,
            None => self.params.push(new),
        }
    }
}

fn parse_uri_params(s: &str) -> Result<Vec<Param>, UriError> {
    s.split(';')
        .map(|piece| {
            let (name, value) = match piece.split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (piece, None),
            };
            if name.is_empty() || value == Some("") {
                return Err(UriError::Param);
            }
            Ok(Param::new(name, value))
        })
        .collect()
}

fn parse_uri_headers(s: &str) -> Result<Vec<(String, String)>, UriError> {
    s.split('&')
        .map(|piece| match piece.split_once('=') {
            Some((n, v)) if is_token(n) => Ok((n.to_string(), v.to_string())),
            _ => Err(UriError::Param),
        })
        .collect()
}

impl fmt::Display for SipUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:", self.scheme)?;
        if let Some(opaque) = &self.opaque {
            return f.write_str(opaque);
        }
        if let Some(user) = &self.user {
            f.write_str(user)?;
            if let Some(pw) = &self.password {
                write!(f, ":{pw}")?;
            }
            if self.host.is_some() {
                f.write_str("@")?;
            }
        }
        if let Some(host) = &self.host {
            write!(f, "{host}")?;
        }
        if let Some(port) = self.port {
            write!(f, ":{port}")?;
        }
        for p in &self.params {
            write!(f, "{p}")?;
        }
        for (i, (n, v)) in self.headers.iter().enumerate() {
            let sep = if i == 0 { '?' } else { '&' };
            write!(f, "{sep}{n}={v}")?;
        }
        Ok(())
    }
}

impl std::str::FromStr for SipUri {
    type Err = UriError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        SipUri::parse(s)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn sip_uri_with_everything_round_trips() {
        let s = "sip:alice:pw@example.com:5070;transport=tcp;lr?Subject=hi&X=1";
        let u = SipUri::parse(s).unwrap();
        assert_eq!(u.user.as_deref(), Some("alice"));
        assert_eq!(u.password.as_deref(), Some("pw"));
        assert_eq!(u.host, Some(Host::Domain("example.com".into())));
        assert_eq!(u.port, Some(5070));
        assert_eq!(u.param("lr"), Some(None));
        assert_eq!(u.param("TRANSPORT"), Some(Some("tcp")));
        assert_eq!(u.headers.len(), 2);
        assert_eq!(u.to_string(), s);
    }

    #[test]
    fn user_part_may_hold_semicolons_and_escaped_at() {
        let u = SipUri::parse("sip:user;par=u%40example.net@example.com").unwrap();
        assert_eq!(u.user.as_deref(), Some("user;par=u%40example.net"));
        assert_eq!(
            u.user_unescaped().as_deref(),
            Some("user;par=u@example.net")
        );
        assert_eq!(u.host, Some(Host::Domain("example.com".into())));
    }

    #[test]
    fn ipv6_hosts_need_brackets() {
        assert_eq!(
            SipUri::parse("sip:2001:db8::10"),
            Err(UriError::Ipv6WithoutBrackets)
        );
        let u = SipUri::parse("sip:[2001:db8::10]:5070").unwrap();
        assert_eq!(u.port, Some(5070));
        let u = SipUri::parse("sip:[2001:db8::10:5070]").unwrap();
        assert_eq!(u.port, None);
        assert_eq!(u.host, Some(Host::Ipv6("2001:db8::10:5070".into())));
        let u = SipUri::parse("sip:user@[2001:db8:::192.0.2.1]").unwrap();
        assert!(u.host.unwrap().ip().is_some());
    }

    #[test]
    fn tel_and_unknown_schemes() {
        let u = SipUri::parse("tel:+15551234567;phone-context=example.com").unwrap();
        assert_eq!(u.scheme, Scheme::Tel);
        assert_eq!(u.user.as_deref(), Some("+15551234567"));
        assert_eq!(u.to_string(), "tel:+15551234567;phone-context=example.com");
        let u = SipUri::parse("soap.beep://192.0.2.103:3002").unwrap();
        assert_eq!(u.scheme, Scheme::Other("soap.beep".into()));
        assert_eq!(u.to_string(), "soap.beep://192.0.2.103:3002");
    }

    #[test]
    fn malformed_uris_are_rejected() {
        for s in [
            "",
            "sip:",
            "sip:a b",
            "sip:@x",
            "sip:x:99999",
            "sip:x;;lr",
            "1x:y",
        ] {
            assert!(SipUri::parse(s).is_err(), "{s:?}");
        }
    }
}
