//! The `trunks:` section of the configuration: SIP trunks that transfers dial out through.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};

use anyhow::{bail, Context, Result};
use hotline_sip::message::{Host, Scheme, SipUri};
use hotline_sip::transport::TransportKind;
use serde::Deserialize;

use super::allow::AllowList;

/// One trunk as written in YAML.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTrunk {
    gateway: String,
    #[serde(default)]
    transport: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
    from_number: String,
    #[serde(default)]
    max_channels: Option<u32>,
    #[serde(default)]
    max_cps: Option<u32>,
    #[serde(default)]
    allow: Vec<String>,
    #[serde(default)]
    inbound_from: Vec<String>,
    #[serde(default)]
    dns_server: Option<String>,
}

/// Where the gateway is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Gateway {
    /// An IP address: no DNS.
    Addr(SocketAddr),
    /// A host name, located by SRV then A/AAAA (`port` given: A/AAAA only, RFC 3263 4.2).
    Name {
        /// The host name.
        host: String,
        /// An explicit port.
        port: Option<u16>,
    },
}

impl Gateway {
    /// The host part for the Request-URI (`host` or `ip[:port]`).
    pub fn uri_host(&self) -> String {
        match self {
            Gateway::Addr(a) => a.to_string(),
            Gateway::Name { host, port: None } => host.clone(),
            Gateway::Name {
                host,
                port: Some(p),
            } => format!("{host}:{p}"),
        }
    }
}

/// Digest credentials for the trunk's challenges.
#[derive(Clone, PartialEq, Eq)]
pub struct TrunkCredentials {
    /// The account.
    pub username: String,
    /// Its password.
    pub password: String,
}

impl std::fmt::Debug for TrunkCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TrunkCredentials({}, ***)", self.username)
    }
}

/// An address block (`192.0.2.0/24`, `2001:db8::/32`, or one address).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    net: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// Parses `ip` or `ip/len`.
    pub fn parse(text: &str) -> Result<Cidr> {
        let (ip, len) = match text.trim().split_once('/') {
            Some((ip, len)) => (ip, Some(len)),
            None => (text.trim(), None),
        };
        let net: IpAddr = ip
            .parse()
            .with_context(|| format!("{text:?} is not an address or CIDR block"))?;
        let max = if net.is_ipv4() { 32 } else { 128 };
        let prefix = match len {
            None => max,
            Some(l) => match l.parse::<u8>() {
                Ok(p) if p <= max => p,
                _ => bail!("{text:?}: prefix length must be 0-{max}"),
            },
        };
        Ok(Cidr { net, prefix })
    }

    /// Whether `ip` is inside the block (an IPv4-mapped IPv6 address counts as IPv4).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        match (self.net, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(n) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(n) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }
}

/// One trunk, validated.
#[derive(Debug, Clone)]
pub struct TrunkSettings {
    /// Its name (the `transfer` node's `trunk`, metric and event label).
    pub name: String,
    /// Where INVITEs go.
    pub gateway: Gateway,
    /// UDP or TCP.
    pub transport: TransportKind,
    /// Digest credentials answered on 401/407.
    pub credentials: Option<TrunkCredentials>,
    /// Our caller id towards the network (E.164): From user and P-Asserted-Identity.
    pub from_number: String,
    /// Most concurrent calls through the trunk.
    pub max_channels: Option<u32>,
    /// Most new calls per second.
    pub max_cps: Option<u32>,
    /// The numbers a transfer may dial through it.
    pub allow: AllowList,
    /// Further sources whose INVITEs come from the trunk (P-Asserted-Identity trusted).
    pub inbound_from: Vec<Cidr>,
    /// The nameserver locating the gateway (absent: the system's).
    pub dns_server: Option<SocketAddr>,
}

/// Parses and validates every trunk.
pub fn parse_trunks(raw: BTreeMap<String, RawTrunk>) -> Result<BTreeMap<String, TrunkSettings>> {
    raw.into_iter()
        .map(|(name, t)| {
            let settings = parse_trunk(&name, t).with_context(|| format!("trunk {name}"))?;
            Ok((name, settings))
        })
        .collect()
}

fn parse_trunk(name: &str, t: RawTrunk) -> Result<TrunkSettings> {
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_".contains(c))
    {
        bail!("name: letters, digits, - and _ only");
    }
    let (gateway, uri_transport) = parse_gateway(&t.gateway).context("gateway")?;
    let transport = match (t.transport.as_deref(), uri_transport) {
        (None, None) => TransportKind::Udp,
        (None, Some(k)) => k,
        (Some(text), from_uri) => {
            let k = match text.to_ascii_lowercase().as_str() {
                "udp" => TransportKind::Udp,
                "tcp" => TransportKind::Tcp,
                other => bail!("transport: {other:?} is not udp or tcp"),
            };
            if from_uri.is_some_and(|u| u != k) {
                bail!("transport: {text} disagrees with the gateway URI's transport parameter");
            }
            k
        }
    };
    let credentials = match (t.username, t.password) {
        (None, None) => None,
        (Some(username), Some(password)) if !username.is_empty() => {
            Some(TrunkCredentials { username, password })
        }
        (Some(_), Some(_)) => bail!("username: must not be empty"),
        (Some(_), None) => bail!("username given without password"),
        (None, Some(_)) => bail!("password given without username"),
    };
    let from_number = t.from_number.trim().to_string();
    let digits = from_number.strip_prefix('+').unwrap_or("");
    if !(7..=15).contains(&digits.len()) || !digits.chars().all(|c| c.is_ascii_digit()) {
        bail!("from_number: {from_number:?} is not an E.164 number (+ and 7-15 digits)");
    }
    if t.max_channels == Some(0) {
        bail!("max_channels: must be at least 1 (remove the trunk to stop its calls)");
    }
    if t.max_cps == Some(0) {
        bail!("max_cps: must be at least 1");
    }
    let allow = AllowList::parse(&t.allow).context("allow")?;
    let inbound_from = t
        .inbound_from
        .iter()
        .map(|c| Cidr::parse(c))
        .collect::<Result<_>>()
        .context("inbound_from")?;
    let dns_server = t
        .dns_server
        .as_deref()
        .map(parse_dns_server)
        .transpose()
        .context("dns_server")?;
    Ok(TrunkSettings {
        name: name.to_string(),
        gateway,
        transport,
        credentials,
        from_number,
        max_channels: t.max_channels,
        max_cps: t.max_cps,
        allow,
        inbound_from,
        dns_server,
    })
}

/// `ip`, `ip:port`, `[v6]:port`, `host`, `host:port`, or a `sip:` URI of one of those (its
/// `transport` parameter read too).
fn parse_gateway(text: &str) -> Result<(Gateway, Option<TransportKind>)> {
    let text = text.trim();
    let uri_text = if text.contains(':') && text.to_ascii_lowercase().starts_with("sip:") {
        text.to_string()
    } else {
        format!("sip:{text}")
    };
    let uri = SipUri::parse(&uri_text).map_err(|e| anyhow::anyhow!("{text:?}: {e}"))?;
    if uri.scheme != Scheme::Sip {
        bail!("{text:?}: only sip: URIs");
    }
    if uri.user.is_some() {
        bail!("{text:?}: name the gateway only, without a user part");
    }
    let transport = match uri.param("transport") {
        None => None,
        Some(Some(t)) if t.eq_ignore_ascii_case("udp") => Some(TransportKind::Udp),
        Some(Some(t)) if t.eq_ignore_ascii_case("tcp") => Some(TransportKind::Tcp),
        Some(other) => bail!("{text:?}: transport {other:?} is not udp or tcp"),
    };
    let gateway = match uri.host {
        Some(Host::Domain(host)) => Gateway::Name {
            host: host.to_ascii_lowercase(),
            port: uri.port,
        },
        Some(host) => match host.ip() {
            Some(ip) => Gateway::Addr(SocketAddr::new(ip, uri.port.unwrap_or(5060))),
            None => bail!("{text:?}: no host"),
        },
        None => bail!("{text:?}: no host"),
    };
    Ok((gateway, transport))
}

fn parse_dns_server(text: &str) -> Result<SocketAddr> {
    if let Ok(addr) = text.parse::<SocketAddr>() {
        return Ok(addr);
    }
    let ip: IpAddr = text
        .parse()
        .with_context(|| format!("{text:?} is not an address or address:port"))?;
    Ok(SocketAddr::new(ip, 53))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(yaml: &str) -> Result<BTreeMap<String, TrunkSettings>> {
        let raw: BTreeMap<String, RawTrunk> =
            serde_saphyr::from_str(yaml).map_err(|e| anyhow::anyhow!("{e}"))?;
        parse_trunks(raw)
    }

    const BASE: &str = "carrier:\n  gateway: GW\n  from_number: \"+8675512345678\"\n";

    fn with_gateway(gw: &str) -> Result<TrunkSettings> {
        Ok(raw(&BASE.replace("GW", gw))?.remove("carrier").unwrap())
    }

    #[test]
    fn gateway_forms() {
        let t = with_gateway("192.0.2.10").unwrap();
        assert_eq!(t.gateway, Gateway::Addr("192.0.2.10:5060".parse().unwrap()));
        assert_eq!(t.transport, TransportKind::Udp);
        let t = with_gateway("\"[2001:db8::1]:5080\"").unwrap();
        assert_eq!(
            t.gateway,
            Gateway::Addr("[2001:db8::1]:5080".parse().unwrap())
        );
        let t = with_gateway("\"sip:GW.Carrier.example:5070;transport=tcp\"").unwrap();
        assert_eq!(
            t.gateway,
            Gateway::Name {
                host: "gw.carrier.example".into(),
                port: Some(5070)
            }
        );
        assert_eq!(t.transport, TransportKind::Tcp);
        assert_eq!(t.gateway.uri_host(), "gw.carrier.example:5070");
        assert!(with_gateway("\"sip:alice@gw.example\"").is_err());
    }

    #[test]
    fn a_full_trunk_parses() {
        let t = raw(
            "carrier:\n  gateway: sip.carrier.example\n  transport: tcp\n  username: acct\n  \
             password: pw\n  from_number: \"+8675512345678\"\n  max_channels: 30\n  max_cps: 5\n  \
             allow: [\"+86XXXXXXXXXXX\", \"+8610*\"]\n  inbound_from: [192.0.2.0/24, 198.51.100.7]\n  \
             dns_server: 127.0.0.1:5353\n",
        )
        .unwrap()
        .remove("carrier")
        .unwrap();
        assert_eq!(t.max_channels, Some(30));
        assert_eq!(t.max_cps, Some(5));
        assert_eq!(t.allow.len(), 2);
        assert!(t.allow.allows("+8613800138000"));
        assert_eq!(t.credentials.unwrap().username, "acct");
        assert!(t.inbound_from[0].contains("192.0.2.200".parse().unwrap()));
        assert!(!t.inbound_from[0].contains("192.0.3.1".parse().unwrap()));
        assert!(t.inbound_from[1].contains("::ffff:198.51.100.7".parse().unwrap()));
        assert_eq!(t.dns_server, Some("127.0.0.1:5353".parse().unwrap()));
    }

    fn error_of(extra: &str) -> String {
        let yaml = format!("{}{extra}", BASE.replace("GW", "192.0.2.1"));
        format!("{:#}", raw(&yaml).unwrap_err())
    }

    #[test]
    fn validation_errors_say_what_is_wrong() {
        assert!(error_of("  allow: [\"86*\"]\n")
            .contains("trunk carrier: allow: pattern \"86*\" must start with +"));
        assert!(error_of("  username: acct\n").contains("username given without password"));
        assert!(error_of("  max_channels: 0\n").contains("max_channels: must be at least 1"));
        assert!(error_of("  max_cps: 0\n").contains("max_cps"));
        assert!(error_of("  transport: sctp\n").contains("not udp or tcp"));
        assert!(error_of("  inbound_from: [10.0.0.0/33]\n").contains("prefix length"));
        assert!(error_of("  dns_server: nowhere\n").contains("dns_server"));
        let yaml = "c:\n  gateway: 192.0.2.1\n  from_number: \"075512345678\"\n";
        assert!(format!("{:#}", raw(yaml).unwrap_err()).contains("from_number"));
        let yaml = "c:\n  gateway: 192.0.2.1\n  from_number: \"+8675512345678\"\n  bogus: 1\n";
        assert!(raw(yaml).is_err());
    }

    #[test]
    fn cidr_prefix_zero_contains_everything_of_its_family() {
        let all = Cidr::parse("0.0.0.0/0").unwrap();
        assert!(all.contains("203.0.113.9".parse().unwrap()));
        assert!(!all.contains("2001:db8::1".parse().unwrap()));
    }
}
