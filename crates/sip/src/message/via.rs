//! The Via header: one value per hop.

use std::fmt;
use std::net::IpAddr;

use super::address::uri_field_error;
use super::lex::{is_token, is_token_char, parse_header_params, split_top_level, FieldError};
use super::uri::{find_param, parse_host_port, Host, Param};

/// The RFC 3261 branch magic cookie.
pub const MAGIC_COOKIE: &str = "z9hG4bK";

/// The transport named in a Via.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Transport {
    /// UDP
    Udp,
    /// TCP
    Tcp,
    /// TLS
    Tls,
    /// SCTP
    Sctp,
    /// WebSocket
    Ws,
    /// Secure WebSocket
    Wss,
    /// Any other transport token, uppercased.
    Other(String),
}

impl Transport {
    fn parse(s: &str) -> Transport {
        match s.to_ascii_uppercase().as_str() {
            "UDP" => Transport::Udp,
            "TCP" => Transport::Tcp,
            "TLS" => Transport::Tls,
            "SCTP" => Transport::Sctp,
            "WS" => Transport::Ws,
            "WSS" => Transport::Wss,
            other => Transport::Other(other.to_string()),
        }
    }

    /// True for transports that need Content-Length framing (everything but UDP).
    pub fn is_stream(&self) -> bool {
        !matches!(self, Transport::Udp)
    }
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Transport::Udp => "UDP",
            Transport::Tcp => "TCP",
            Transport::Tls => "TLS",
            Transport::Sctp => "SCTP",
            Transport::Ws => "WS",
            Transport::Wss => "WSS",
            Transport::Other(s) => s,
        })
    }
}

/// One Via value: `SIP/2.0/UDP host:port;branch=...;received=...;rport`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Via {
    /// Protocol name and version, normally `SIP/2.0`.
    pub protocol: String,
    /// Transport.
    pub transport: Transport,
    /// sent-by host.
    pub host: Host,
    /// sent-by port.
    pub port: Option<u16>,
    /// Parameters (branch, received, rport, maddr, ttl, ...).
    pub params: Vec<Param>,
}

impl Via {
    /// A `SIP/2.0/<transport>` Via with a branch.
    pub fn new(transport: Transport, host: Host, port: Option<u16>, branch: &str) -> Via {
        Via {
            protocol: "SIP/2.0".to_string(),
            transport,
            host,
            port,
            params: vec![Param::new("branch", Some(branch))],
        }
    }

    /// Parses one Via value.
    pub fn parse(s: &str) -> Result<Via, ViaError> {
        parse_via(s).map_err(|_| ViaError)
    }

    /// The branch parameter.
    pub fn branch(&self) -> Option<&str> {
        self.param("branch").flatten()
    }

    /// True when the branch starts with the RFC 3261 magic cookie and has more after it.
    pub fn has_rfc3261_branch(&self) -> bool {
        self.branch()
            .is_some_and(|b| b.len() > MAGIC_COOKIE.len() && b.starts_with(MAGIC_COOKIE))
    }

    /// The received parameter as written (RFC 5118 allows brackets around IPv6).
    pub fn received(&self) -> Option<&str> {
        self.param("received").flatten()
    }

    /// The received parameter as an IP address.
    pub fn received_ip(&self) -> Option<IpAddr> {
        let r = self.received()?;
        let r = r
            .strip_prefix('[')
            .and_then(|r| r.strip_suffix(']'))
            .unwrap_or(r);
        r.parse().ok()
    }

    /// True when `rport` is present (with or without a value, RFC 3581).
    pub fn has_rport(&self) -> bool {
        self.param("rport").is_some()
    }

    /// The rport value, when present and filled in.
    pub fn rport(&self) -> Option<u16> {
        self.param("rport").flatten()?.parse().ok()
    }

    /// A parameter by case-insensitive name; `Some(None)` for a flag.
    pub fn param(&self, name: &str) -> Option<Option<&str>> {
        find_param(&self.params, name)
    }

    /// Adds or replaces a parameter.
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

    /// Applies RFC 3261 18.2.1 and RFC 3581 for a request received from `source`: adds
    /// `received` when the source IP differs from sent-by (or rport was asked for) and fills
    /// in a valueless `rport`.
    pub fn stamp_source(&mut self, source: std::net::SocketAddr) {
        let ip = source.ip();
        if self.host.ip() != Some(ip) || self.has_rport() {
            self.set_param("received", Some(&ip.to_string()));
        }
        if self.param("rport") == Some(None) {
            self.set_param("rport", Some(&source.port().to_string()));
        }
    }
}

/// A Via value did not follow the grammar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("malformed Via")]
pub struct ViaError;

impl fmt::Display for Via {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{} {}", self.protocol, self.transport, self.host)?;
        if let Some(p) = self.port {
            write!(f, ":{p}")?;
        }
        for p in &self.params {
            write!(f, "{p}")?;
        }
        Ok(())
    }
}

pub(crate) fn parse_via(s: &str) -> Result<Via, FieldError> {
    let mut parts = s.splitn(3, '/');
    let name = parts.next().ok_or(FieldError::Malformed)?.trim();
    let version = parts.next().ok_or(FieldError::Malformed)?.trim();
    let rest = parts.next().ok_or(FieldError::Malformed)?.trim_start();
    if !is_token(name) || !is_token(version) {
        return Err(FieldError::Malformed);
    }
    let transport_end = rest.find(|c: char| !is_token_char(c)).unwrap_or(rest.len());
    let transport = &rest[..transport_end];
    let rest = &rest[transport_end..];
    if transport.is_empty() || !rest.starts_with(char::is_whitespace) {
        return Err(FieldError::Malformed);
    }
    let (sent_by, params) = match rest.split_once(';') {
        Some((sb, p)) => (sb.trim(), parse_header_params(p)?),
        None => (rest.trim(), Vec::new()),
    };
    let (host, port) = parse_host_port(sent_by).map_err(uri_field_error)?;
    Ok(Via {
        protocol: format!("{name}/{version}"),
        transport: Transport::parse(transport),
        host,
        port,
        params,
    })
}

/// Parses a Via header value that may hold several comma-separated hops.
pub(crate) fn parse_via_list(s: &str) -> Result<Vec<Via>, FieldError> {
    split_top_level(s, ',')?
        .into_iter()
        .map(parse_via)
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn via_with_lws_everywhere() {
        let v = parse_via_list(
            "SIP  / 2.0  / TCP     spindle.example.com   ; branch  =   z9hG4bK9ikj8  , SIP  /    2.0   / UDP  192.168.255.111   ; branch= z9hG4bK30239",
        )
        .unwrap();
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].transport, Transport::Tcp);
        assert_eq!(v[0].branch(), Some("z9hG4bK9ikj8"));
        assert_eq!(v[1].host, Host::Ipv4("192.168.255.111".parse().unwrap()));
        assert_eq!(v[1].branch(), Some("z9hG4bK30239"));
    }

    #[test]
    fn ipv6_sent_by_and_received() {
        let v = Via::parse("SIP/2.0/UDP [2001:db8::9:1]:6050;received=[2001:db8::9:255];rport")
            .unwrap();
        assert_eq!(v.port, Some(6050));
        assert_eq!(v.received_ip(), "2001:db8::9:255".parse().ok());
        assert!(v.has_rport());
        assert_eq!(v.rport(), None);
    }

    #[test]
    fn stamp_source_sets_received_and_rport() {
        let mut v =
            Via::parse("SIP/2.0/UDP client.example.com:5060;branch=z9hG4bKx;rport").unwrap();
        v.stamp_source("192.0.2.7:40000".parse().unwrap());
        assert_eq!(v.received(), Some("192.0.2.7"));
        assert_eq!(v.rport(), Some(40000));
        assert_eq!(
            v.to_string(),
            "SIP/2.0/UDP client.example.com:5060;branch=z9hG4bKx;rport=40000;received=192.0.2.7"
        );
    }

    #[test]
    fn malformed_vias() {
        for s in [
            "SIP/2.0/UDP 192.0.2.15;;,;,,",
            "SIP/2.0 host",
            "SIP/2.0/UDP",
            "x",
        ] {
            assert!(parse_via_list(s).is_err(), "{s:?}");
        }
    }
}
