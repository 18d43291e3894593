//! SIP trunks: the gateways transfers dial out through. Each trunk has its settings, its pure
//! admission state ([`state::TrunkState`]) behind a mutex, and the gateway's located addresses,
//! cached by DNS TTL and refreshed in the background. The same registry decides whose
//! P-Asserted-Identity is trusted ([`caller_number`]).

pub mod allow;
pub mod check;
pub mod config;
pub mod dns;
pub mod state;

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hotline_sip::message::{NameAddr, Request};
use hotline_sip::transport::Target;

use crate::endpoint::lock;
use crate::metrics::Metrics;
pub use config::{Gateway, RawTrunk, TrunkSettings};
pub use state::{DialOutcome, Refusal};

/// How long one DNS query may take.
const DNS_TIMEOUT: Duration = Duration::from_secs(2);
/// Cached addresses are refreshed at least this often and at most this rarely.
const MIN_TTL: Duration = Duration::from_secs(5);
const MAX_TTL: Duration = Duration::from_secs(3600);
/// After a failed lookup the background task tries again this soon.
const RETRY_LOOKUP: Duration = Duration::from_secs(5);

/// One trunk.
pub struct Trunk {
    /// Its settings.
    pub settings: TrunkSettings,
    state: Mutex<state::TrunkState>,
    /// Located addresses and until when they hold (named gateways only).
    located: Mutex<Option<(Vec<SocketAddr>, Instant)>>,
    metrics: Metrics,
}

/// A channel of a trunk, held for the life of one outbound leg; dropping it frees the channel.
pub struct Channel {
    trunk: Arc<Trunk>,
}

impl Drop for Channel {
    fn drop(&mut self) {
        let in_use = {
            let mut s = lock(&self.trunk.state);
            s.release();
            s.in_use()
        };
        self.trunk.set_gauge(in_use);
    }
}

/// Why no address could be found for a trunk's gateway.
#[derive(Debug, thiserror::Error)]
#[error("trunk {trunk}: gateway {gateway} not located: {source}")]
pub struct LocateError {
    trunk: String,
    gateway: String,
    source: dns::DnsError,
}

impl Trunk {
    fn new(settings: TrunkSettings, metrics: Metrics) -> Trunk {
        let st = state::TrunkState::new(settings.max_channels, settings.max_cps);
        let t = Trunk {
            settings,
            state: Mutex::new(st),
            located: Mutex::new(None),
            metrics,
        };
        t.set_gauge(0);
        for outcome in DialOutcome::ALL {
            // Zero-valued series exist from the start, so rates work from the first dial.
            let _ = t
                .metrics
                .trunk_dials
                .with_label_values(&[&t.settings.name, outcome.as_str()]);
        }
        t
    }

    fn set_gauge(&self, in_use: u32) {
        self.metrics
            .trunk_channels
            .with_label_values(&[&self.settings.name])
            .set(i64::from(in_use));
    }

    /// Takes a channel and a call-rate token at `now`.
    pub fn acquire(self: &Arc<Self>, now: Instant) -> Result<Channel, Refusal> {
        let in_use = {
            let mut s = lock(&self.state);
            s.try_acquire(now)?;
            s.in_use()
        };
        self.set_gauge(in_use);
        Ok(Channel {
            trunk: self.clone(),
        })
    }

    /// The gateway answered 503 (with `Retry-After`, if any).
    pub fn unavailable(&self, now: Instant, retry_after: Option<Duration>) {
        lock(&self.state).unavailable(now, retry_after);
        tracing::warn!(trunk = %self.settings.name, ?retry_after, "trunk answered 503: out of service");
    }

    /// Records how a dial ended (counters and metrics).
    pub fn record(&self, outcome: DialOutcome) {
        let (total, unavailable) = {
            let mut s = lock(&self.state);
            s.record(outcome);
            let c = s.counters();
            (c.dials(outcome), c.unavailable)
        };
        tracing::debug!(trunk = %self.settings.name, outcome = outcome.as_str(), total, unavailable, "dial recorded");
        self.metrics
            .trunk_dials
            .with_label_values(&[&self.settings.name, outcome.as_str()])
            .inc();
    }

    /// Where to send an INVITE: the gateway's address (located by DNS when it is a name; the
    /// cached answer while its TTL lasts).
    pub async fn target(&self) -> Result<Target, LocateError> {
        let addr = match &self.settings.gateway {
            Gateway::Addr(a) => *a,
            Gateway::Name { .. } => {
                let cached = lock(&self.located)
                    .as_ref()
                    .filter(|(_, until)| Instant::now() < *until)
                    .and_then(|(addrs, _)| addrs.first().copied());
                match cached {
                    Some(a) => a,
                    None => self.locate().await?.0,
                }
            }
        };
        Ok(Target {
            addr,
            transport: self.settings.transport,
            conn: None,
        })
    }

    /// Looks the gateway up now and caches the answer; returns the first address and the TTL.
    async fn locate(&self) -> Result<(SocketAddr, Duration), LocateError> {
        let Gateway::Name { host, port } = &self.settings.gateway else {
            return Err(self.locate_error(dns::DnsError::NoServer));
        };
        let server = match self.settings.dns_server {
            Some(s) => s,
            None => dns::system_nameserver().map_err(|e| self.locate_error(e))?,
        };
        let tcp = self.settings.transport == hotline_sip::transport::TransportKind::Tcp;
        let resolved = match port {
            // An explicit port skips SRV (RFC 3263 4.2).
            Some(p) => locate_host(server, host, *p).await,
            None => dns::locate(server, host, tcp, 5060, DNS_TIMEOUT).await,
        }
        .map_err(|e| self.locate_error(e))?;
        let ttl = resolved.ttl.clamp(MIN_TTL, MAX_TTL);
        let first = resolved.addrs[0];
        tracing::debug!(trunk = %self.settings.name, addrs = ?resolved.addrs, ?ttl, "gateway located");
        *lock(&self.located) = Some((resolved.addrs, Instant::now() + ttl));
        Ok((first, ttl))
    }

    fn locate_error(&self, source: dns::DnsError) -> LocateError {
        LocateError {
            trunk: self.settings.name.clone(),
            gateway: self.settings.gateway.uri_host(),
            source,
        }
    }

    /// Whether a request from `ip` comes from this trunk: its gateway's addresses (as last
    /// located) or its `inbound_from` blocks.
    pub fn is_source(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        let gateway = match &self.settings.gateway {
            Gateway::Addr(a) => a.ip() == ip,
            Gateway::Name { .. } => lock(&self.located)
                .as_ref()
                .is_some_and(|(addrs, _)| addrs.iter().any(|a| a.ip() == ip)),
        };
        gateway || self.settings.inbound_from.iter().any(|c| c.contains(ip))
    }

    /// Channels in use.
    #[cfg(test)]
    pub fn in_use(&self) -> u32 {
        lock(&self.state).in_use()
    }
}

/// A named host's A/AAAA addresses at `port`.
async fn locate_host(
    server: SocketAddr,
    host: &str,
    port: u16,
) -> Result<dns::Resolved, dns::DnsError> {
    let mut min_ttl = u32::MAX;
    let mut addrs = Vec::new();
    for qtype in [dns::QType::A, dns::QType::Aaaa] {
        for r in dns::query(server, host, qtype, DNS_TIMEOUT).await? {
            if let dns::Record::Addr { name, ip, ttl } = r {
                if name == host {
                    min_ttl = min_ttl.min(ttl);
                    addrs.push(SocketAddr::new(ip, port));
                }
            }
        }
        if !addrs.is_empty() {
            break;
        }
    }
    if addrs.is_empty() {
        return Err(dns::DnsError::NoAddress(host.to_string()));
    }
    Ok(dns::Resolved {
        addrs,
        ttl: Duration::from_secs(u64::from(min_ttl)),
    })
}

/// Every configured trunk.
pub struct Trunks {
    trunks: BTreeMap<String, Arc<Trunk>>,
}

impl Trunks {
    /// The trunks of the configuration.
    pub fn new(settings: &BTreeMap<String, TrunkSettings>, metrics: &Metrics) -> Trunks {
        for s in settings.values() {
            if s.allow.is_empty() {
                tracing::warn!(trunk = %s.name, "trunk has an empty allow-list: every transfer through it is refused");
            } else {
                tracing::info!(trunk = %s.name, gateway = %s.gateway.uri_host(), patterns = s.allow.len(), "trunk configured");
            }
        }
        Trunks {
            trunks: settings
                .iter()
                .map(|(name, s)| {
                    (
                        name.clone(),
                        Arc::new(Trunk::new(s.clone(), metrics.clone())),
                    )
                })
                .collect(),
        }
    }

    /// Free channels of each trunk with a channel limit (every call on it counted: transfers,
    /// callbacks, campaign calls); trunks without a limit are left out.
    pub fn free_channels(&self) -> BTreeMap<String, u32> {
        self.trunks
            .iter()
            .filter_map(|(name, t)| {
                let max = t.settings.max_channels?;
                Some((name.clone(), max.saturating_sub(lock(&t.state).in_use())))
            })
            .collect()
    }

    /// Dials each trunk may start at `now` (its call-rate tokens; 0 while out of service);
    /// trunks without a call-rate limit, in service, are left out.
    pub fn dials_allowed(&self, now: Instant) -> BTreeMap<String, u32> {
        self.trunks
            .iter()
            .filter_map(|(name, t)| Some((name.clone(), lock(&t.state).dials_allowed(now)?)))
            .collect()
    }

    /// The trunk a transfer dials through: the one named, or the only one when none is named.
    pub fn pick(&self, name: Option<&str>) -> Option<Arc<Trunk>> {
        match name {
            Some(n) => self.trunks.get(n).cloned(),
            None if self.trunks.len() == 1 => self.trunks.values().next().cloned(),
            None => None,
        }
    }

    /// Locates every named gateway now and keeps each answer fresh in the background (one task
    /// per named gateway, re-locating when the TTL runs out), so dials find the addresses cached
    /// and P-Asserted-Identity checks know the gateways' addresses.
    pub fn keep_located(&self) {
        for trunk in self.trunks.values() {
            if !matches!(trunk.settings.gateway, Gateway::Name { .. }) {
                continue;
            }
            let trunk = trunk.clone();
            tokio::spawn(async move {
                loop {
                    let wait = match trunk.locate().await {
                        Ok((_, ttl)) => ttl,
                        Err(e) => {
                            tracing::warn!("{e}");
                            RETRY_LOOKUP
                        }
                    };
                    tokio::time::sleep(wait).await;
                }
            });
        }
    }

    /// The trunk a request from `ip` came from, if any.
    pub fn source_trunk(&self, ip: IpAddr) -> Option<&Arc<Trunk>> {
        self.trunks.values().find(|t| t.is_source(ip))
    }
}

/// The caller's number of an incoming INVITE: the P-Asserted-Identity's when the INVITE comes
/// from a trunk (its gateway or `inbound_from`), else the From user. PAI from anywhere else is
/// ignored, since any phone can write one.
pub fn caller_number(invite: &Request, source: IpAddr, trunks: &Trunks) -> String {
    let from = || {
        invite
            .from()
            .and_then(|f| f.uri.user_unescaped())
            .unwrap_or_default()
    };
    if trunks.source_trunk(source).is_none() {
        return from();
    }
    asserted_identity(invite).unwrap_or_else(from)
}

/// The number of the first P-Asserted-Identity (a `sip:` user or a `tel:` number).
fn asserted_identity(invite: &Request) -> Option<String> {
    let value = invite.headers().get("P-Asserted-Identity")?;
    // A PAI may carry a sip: and a tel: identity separated by a comma; either names the caller.
    value
        .split(',')
        .filter_map(|v| NameAddr::parse(v.trim()).ok())
        .find_map(|a| a.uri.user_unescaped().filter(|u| !u.is_empty()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trunks(yaml: &str) -> Trunks {
        let raw: BTreeMap<String, RawTrunk> = serde_saphyr::from_str(yaml).unwrap();
        Trunks::new(&config::parse_trunks(raw).unwrap(), &Metrics::new())
    }

    fn invite(pai: Option<&str>) -> Request {
        let mut text = String::from(
            "INVITE sip:95500@hotline SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\n\
             From: <sip:0755000@192.0.2.1>;tag=a\r\nTo: <sip:95500@hotline>\r\nCall-ID: c1\r\n\
             CSeq: 1 INVITE\r\nMax-Forwards: 70\r\n",
        );
        if let Some(p) = pai {
            text.push_str(&format!("P-Asserted-Identity: {p}\r\n"));
        }
        text.push_str("Content-Length: 0\r\n\r\n");
        match hotline_sip::message::parse(text.as_bytes()).unwrap() {
            hotline_sip::message::Message::Request(r) => r,
            hotline_sip::message::Message::Response(_) => unreachable!(),
        }
    }

    const TWO: &str = "a:\n  gateway: 192.0.2.1\n  from_number: \"+8675512345678\"\n\
                       b:\n  gateway: 198.51.100.1:5070\n  from_number: \"+8675512345678\"\n  \
                       inbound_from: [203.0.113.0/24]\n";

    #[test]
    fn pai_is_trusted_from_a_gateway_or_inbound_from_only() {
        let t = trunks(TWO);
        let pai = Some("<sip:+8613800138000@carrier>");
        let gw: IpAddr = "192.0.2.1".parse().unwrap();
        let listed: IpAddr = "203.0.113.9".parse().unwrap();
        let phone: IpAddr = "10.1.1.1".parse().unwrap();
        assert_eq!(caller_number(&invite(pai), gw, &t), "+8613800138000");
        assert_eq!(caller_number(&invite(pai), listed, &t), "+8613800138000");
        assert_eq!(caller_number(&invite(pai), phone, &t), "0755000");
        // From a trunk without a PAI: the From user.
        assert_eq!(caller_number(&invite(None), gw, &t), "0755000");
    }

    #[test]
    fn pai_tel_uri_and_lists_are_read() {
        let t = trunks(TWO);
        let gw: IpAddr = "::ffff:192.0.2.1".parse().unwrap();
        let pai = Some("\"Bank\" <tel:+8613900000000>, <sip:+8613900000000@c>");
        assert_eq!(caller_number(&invite(pai), gw, &t), "+8613900000000");
        // An unusable PAI falls back to From.
        assert_eq!(caller_number(&invite(Some("garbage")), gw, &t), "0755000");
    }

    #[test]
    fn pick_names_a_trunk_or_takes_the_only_one() {
        let t = trunks(TWO);
        assert!(t.pick(None).is_none());
        assert_eq!(t.pick(Some("b")).unwrap().settings.name, "b");
        assert!(t.pick(Some("c")).is_none());
        let one = trunks("a:\n  gateway: 192.0.2.1\n  from_number: \"+8675512345678\"\n");
        assert_eq!(one.pick(None).unwrap().settings.name, "a");
    }

    #[test]
    fn channels_are_released_when_dropped() {
        let t = trunks(
            "a:\n  gateway: 192.0.2.1\n  from_number: \"+8675512345678\"\n  max_channels: 1\n",
        );
        let a = t.pick(None).unwrap();
        let now = Instant::now();
        let ch = a.acquire(now).unwrap();
        assert!(matches!(a.acquire(now), Err(Refusal::ChannelLimit)));
        drop(ch);
        assert!(a.acquire(now).is_ok());
        assert_eq!(a.in_use(), 0);
    }
}
