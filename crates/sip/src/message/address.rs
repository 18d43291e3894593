//! `name-addr` / `addr-spec` values: From, To, Contact, Route, Record-Route.

use std::fmt;

use super::lex::{is_token, parse_header_params, quote, split_top_level, take_quoted, FieldError};
use super::uri::{find_param, Param, SipUri, UriError};

/// An address with optional display name and header parameters (`tag`, `expires`, ...).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NameAddr {
    /// Display name, unquoted and unescaped.
    pub display_name: Option<String>,
    /// The URI.
    pub uri: SipUri,
    /// Header parameters after the address (not the URI's own parameters).
    pub params: Vec<Param>,
}

impl NameAddr {
    /// An address without display name or parameters.
    pub fn new(uri: SipUri) -> NameAddr {
        NameAddr {
            display_name: None,
            uri,
            params: Vec::new(),
        }
    }

    /// Parses a single `name-addr` or `addr-spec` with its header parameters.
    pub fn parse(s: &str) -> Result<NameAddr, AddressError> {
        parse_name_addr(s).map_err(AddressError::from)
    }

    /// The `tag` parameter.
    pub fn tag(&self) -> Option<&str> {
        self.param("tag").flatten()
    }

    /// A header parameter by case-insensitive name; `Some(None)` for a flag.
    pub fn param(&self, name: &str) -> Option<Option<&str>> {
        find_param(&self.params, name)
    }

    /// Adds or replaces a header parameter.
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

impl fmt::Display for NameAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(d) = &self.display_name {
            write!(f, "{} ", quote(d))?;
        }
        write!(f, "<{}>", self.uri)?;
        for p in &self.params {
            write!(f, "{p}")?;
        }
        Ok(())
    }
}

/// Why an address could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    /// The value does not follow the name-addr / addr-spec grammar.
    #[error("malformed address")]
    Malformed,
    /// A quoted display name is not closed.
    #[error("unterminated quoted string")]
    UnterminatedQuote,
    /// An IPv6 address appears without `[ ]`.
    #[error("IPv6 address without brackets")]
    Ipv6WithoutBrackets,
}

impl From<FieldError> for AddressError {
    fn from(e: FieldError) -> Self {
        match e {
            FieldError::Malformed => AddressError::Malformed,
            FieldError::UnterminatedQuote => AddressError::UnterminatedQuote,
            FieldError::Ipv6WithoutBrackets => AddressError::Ipv6WithoutBrackets,
        }
    }
}

pub(crate) fn uri_field_error(e: UriError) -> FieldError {
    match e {
        UriError::Ipv6WithoutBrackets => FieldError::Ipv6WithoutBrackets,
        _ => FieldError::Malformed,
    }
}

pub(crate) fn parse_name_addr(s: &str) -> Result<NameAddr, FieldError> {
    let s = s.trim();
    let (display_name, after_display) = if s.starts_with('"') {
        let (name, rest) = take_quoted(s)?;
        let rest = rest.trim_start();
        if !rest.starts_with('<') {
            return Err(FieldError::Malformed);
        }
        (Some(name), rest)
    } else if let Some(lt) = s.find('<') {
        // An unquoted display name is a sequence of tokens (RFC 4475 3.1.1.6 allows no LWS
        // before `<`).
        let name = s[..lt].trim();
        if !name.split_whitespace().all(is_token) {
            return Err(FieldError::Malformed);
        }
        let name =
            (!name.is_empty()).then(|| name.split_whitespace().collect::<Vec<_>>().join(" "));
        (name, &s[lt..])
    } else {
        // addr-spec form: parameters after the first `;` belong to the header, and the URI
        // cannot carry `?headers` or `,` without brackets.
        let (uri_text, params) = match s.split_once(';') {
            Some((u, p)) => (u.trim_end(), parse_header_params(p)?),
            None => (s, Vec::new()),
        };
        if uri_text.contains(['?', ',', '"']) {
            return Err(FieldError::Malformed);
        }
        let uri = SipUri::parse(uri_text).map_err(uri_field_error)?;
        return Ok(NameAddr {
            display_name: None,
            uri,
            params,
        });
    };
    let inner = after_display
        .strip_prefix('<')
        .ok_or(FieldError::Malformed)?;
    let gt = inner.find('>').ok_or(FieldError::Malformed)?;
    let uri = SipUri::parse(&inner[..gt]).map_err(uri_field_error)?;
    let rest = inner[gt + 1..].trim();
    let params = if rest.is_empty() {
        Vec::new()
    } else {
        let p = rest.strip_prefix(';').ok_or(FieldError::Malformed)?;
        parse_header_params(p)?
    };
    Ok(NameAddr {
        display_name,
        uri,
        params,
    })
}

/// Parses a comma-separated list of addresses (Route, Record-Route).
pub(crate) fn parse_name_addr_list(s: &str) -> Result<Vec<NameAddr>, FieldError> {
    split_top_level(s, ',')?
        .into_iter()
        .map(parse_name_addr)
        .collect()
}

/// One Contact header value: an address or the REGISTER wildcard `*`.
// The wildcard is rare; boxing the address would cost an allocation per contact.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Contact {
    /// `Contact: *` (remove all bindings, with `Expires: 0`).
    Wildcard,
    /// A contact address with its parameters (`expires`, `q`, ...).
    Address(NameAddr),
}

impl Contact {
    /// The address, unless this is the wildcard.
    pub fn address(&self) -> Option<&NameAddr> {
        match self {
            Contact::Wildcard => None,
            Contact::Address(a) => Some(a),
        }
    }

    /// The `expires` parameter, if present and a number that fits in u32.
    pub fn expires(&self) -> Option<u32> {
        self.address()?.param("expires")??.parse().ok()
    }

    /// The `q` parameter (0.0 ..= 1.0), if present and valid.
    pub fn q(&self) -> Option<f32> {
        let q: f32 = self.address()?.param("q")??.parse().ok()?;
        (0.0..=1.0).contains(&q).then_some(q)
    }
}

impl fmt::Display for Contact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Contact::Wildcard => f.write_str("*"),
            Contact::Address(a) => write!(f, "{a}"),
        }
    }
}

/// Parses a Contact header value (one or more comma-separated contacts, or `*`).
pub(crate) fn parse_contact_list(s: &str) -> Result<Vec<Contact>, FieldError> {
    split_top_level(s, ',')?
        .into_iter()
        .map(|piece| {
            if piece.trim() == "*" {
                Ok(Contact::Wildcard)
            } else {
                parse_name_addr(piece).map(Contact::Address)
            }
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::message::uri::Host;

    #[test]
    fn quoted_display_name_with_escapes_and_spaced_params() {
        let a =
            NameAddr::parse("\"J Rosenberg \\\\\\\"\"  <sip:jdrosen@example.com>  ; tag = 98asjd8")
                .unwrap();
        assert_eq!(a.display_name.as_deref(), Some("J Rosenberg \\\""));
        assert_eq!(a.tag(), Some("98asjd8"));
    }

    #[test]
    fn addr_spec_params_belong_to_the_header() {
        let a = NameAddr::parse("sip:+19725552222@gw1.example.net;unknownparam").unwrap();
        assert!(a.uri.params.is_empty());
        assert_eq!(a.param("unknownparam"), Some(None));
        let a = NameAddr::parse("<sip:+19725552222@gw1.example.net;unknownparam>").unwrap();
        assert_eq!(a.uri.param("unknownparam"), Some(None));
        assert!(a.params.is_empty());
    }

    #[test]
    fn token_display_names_without_space() {
        let a = NameAddr::parse("caller<sip:caller@example.com>;tag=323").unwrap();
        assert_eq!(a.display_name.as_deref(), Some("caller"));
        assert_eq!(a.uri.host, Some(Host::Domain("example.com".into())));
    }

    #[test]
    fn bad_addresses_are_rejected() {
        assert_eq!(
            NameAddr::parse("\"Mr. J. User <sip:j.user@example.com>"),
            Err(AddressError::UnterminatedQuote)
        );
        for s in [
            "Bell, Alexander <sip:a.g.bell@example.com>",
            "\"W\" < sip:t.watson@example.org >",
            "sip:user@example.com?Route=%3Csip:sip.example.com%3E",
            "\"Joe\" <sip:joe@example.org>;;;;",
        ] {
            assert!(NameAddr::parse(s).is_err(), "{s:?}");
        }
    }

    #[test]
    fn contact_lists_and_wildcard() {
        let c = parse_contact_list("<sip:a@x>;expires=60;q=0.5, \"B\" <sip:b@y>").unwrap();
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].expires(), Some(60));
        assert_eq!(c[0].q(), Some(0.5));
        assert_eq!(parse_contact_list(" * ").unwrap(), vec![Contact::Wildcard]);
    }
}
