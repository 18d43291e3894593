//! A small DNS client for trunk gateways: SRV (`_sip._udp` / `_sip._tcp`) then A/AAAA, over UDP
//! to one configured nameserver. Only what SIP server location (RFC 3263) needs; the wire
//! encoding and decoding are pure functions, tested without a network.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use tokio::net::UdpSocket;

/// Record types asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QType {
    /// IPv4 address.
    A,
    /// IPv6 address.
    Aaaa,
    /// Service location.
    Srv,
}

impl QType {
    fn code(self) -> u16 {
        match self {
            QType::A => 1,
            QType::Aaaa => 28,
            QType::Srv => 33,
        }
    }
}

/// One record of an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    /// An address (A or AAAA) of `name`.
    Addr {
        /// The owner name (lowercase, no final dot).
        name: String,
        /// The address.
        ip: IpAddr,
        /// Time to live, seconds.
        ttl: u32,
    },
    /// A service record.
    Srv {
        /// Lower is tried first.
        priority: u16,
        /// Share among records of the same priority.
        weight: u16,
        /// The port.
        port: u16,
        /// The host (lowercase, no final dot).
        target: String,
        /// Time to live, seconds.
        ttl: u32,
    },
}

/// Why a lookup failed.
#[derive(Debug, thiserror::Error)]
pub enum DnsError {
    /// Socket error.
    #[error("DNS socket: {0}")]
    Io(#[from] std::io::Error),
    /// No answer within the timeout (after one retry).
    #[error("DNS server {0} did not answer")]
    Timeout(SocketAddr),
    /// The answer could not be decoded.
    #[error("malformed DNS answer")]
    Malformed,
    /// The server answered with an error code (2: server failure, 5: refused...).
    #[error("DNS server answered rcode {0}")]
    Rcode(u8),
    /// No usable address for the name.
    #[error("no address found for {0}")]
    NoAddress(String),
    /// No nameserver configured and none in /etc/resolv.conf.
    #[error("no nameserver: set the trunk's dns_server")]
    NoServer,
}

/// Encodes a recursive query for `name`.
pub fn encode_query(id: u16, name: &str, qtype: QType) -> Vec<u8> {
    let mut out = Vec::with_capacity(32 + name.len());
    out.extend_from_slice(&id.to_be_bytes());
    out.extend_from_slice(&[0x01, 0x00]); // RD
    out.extend_from_slice(&[0, 1, 0, 0, 0, 0, 0, 0]); // one question
    for label in name.trim_end_matches('.').split('.') {
        let bytes = label.as_bytes();
        out.push(u8::try_from(bytes.len().min(63)).unwrap_or(63));
        out.extend_from_slice(&bytes[..bytes.len().min(63)]);
    }
    out.push(0);
    out.extend_from_slice(&qtype.code().to_be_bytes());
    out.extend_from_slice(&[0, 1]); // IN
    out
}

/// Decodes the answer to query `id`: the records of the answer and additional sections.
pub fn decode_response(id: u16, msg: &[u8]) -> Result<Vec<Record>, DnsError> {
    let u16_at = |i: usize| -> Result<u16, DnsError> {
        msg.get(i..i + 2)
            .map(|b| u16::from_be_bytes([b[0], b[1]]))
            .ok_or(DnsError::Malformed)
    };
    if msg.len() < 12 || u16_at(0)? != id || msg[2] & 0x80 == 0 {
        return Err(DnsError::Malformed);
    }
    let rcode = msg[3] & 0x0f;
    // NXDOMAIN is an empty answer, not a failure: the caller falls back to A/AAAA.
    if rcode == 3 {
        return Ok(Vec::new());
    }
    if rcode != 0 {
        return Err(DnsError::Rcode(rcode));
    }
    let qd = u16_at(4)?;
    let an = u16_at(6)?;
    let ns = u16_at(8)?;
    let ar = u16_at(10)?;
    let mut pos = 12;
    for _ in 0..qd {
        pos = read_name(msg, pos)?.1 + 4;
    }
    let mut records = Vec::new();
    for section in 0..3 {
        let count = [an, ns, ar][section];
        for _ in 0..count {
            let (name, after) = read_name(msg, pos)?;
            let rtype = u16_at(after)?;
            let ttl_bytes = msg.get(after + 4..after + 8).ok_or(DnsError::Malformed)?;
            let ttl = u32::from_be_bytes([ttl_bytes[0], ttl_bytes[1], ttl_bytes[2], ttl_bytes[3]]);
            let len = usize::from(u16_at(after + 8)?);
            let data_at = after + 10;
            let data = msg.get(data_at..data_at + len).ok_or(DnsError::Malformed)?;
            pos = data_at + len;
            if section == 1 {
                continue; // authority: nothing we use
            }
            match (rtype, len) {
                (1, 4) => records.push(Record::Addr {
                    name,
                    ip: IpAddr::V4(Ipv4Addr::new(data[0], data[1], data[2], data[3])),
                    ttl,
                }),
                (28, 16) => {
                    let mut b = [0u8; 16];
                    b.copy_from_slice(data);
                    records.push(Record::Addr {
                        name,
                        ip: IpAddr::V6(Ipv6Addr::from(b)),
                        ttl,
                    });
                }
                (33, 7..) => records.push(Record::Srv {
                    priority: u16_at(data_at)?,
                    weight: u16_at(data_at + 2)?,
                    port: u16_at(data_at + 4)?,
                    target: read_name(msg, data_at + 6)?.0,
                    ttl,
                }),
                _ => {}
            }
        }
    }
    Ok(records)
}

/// Reads a possibly compressed name at `pos`; returns it and the position after it.
fn read_name(msg: &[u8], mut pos: usize) -> Result<(String, usize), DnsError> {
    let mut labels: Vec<String> = Vec::new();
    let mut end = None;
    // Each jump goes strictly backwards, so a loop of pointers cannot run forever; the hop
    // limit guards the rest.
    for _ in 0..128 {
        let len = *msg.get(pos).ok_or(DnsError::Malformed)?;
        match len {
            0 => {
                let name = labels.join(".").to_ascii_lowercase();
                return Ok((name, end.unwrap_or(pos + 1)));
            }
            l if l & 0xc0 == 0xc0 => {
                let low = *msg.get(pos + 1).ok_or(DnsError::Malformed)?;
                let target = (usize::from(l & 0x3f) << 8) | usize::from(low);
                if target >= pos {
                    return Err(DnsError::Malformed);
                }
                end.get_or_insert(pos + 2);
                pos = target;
            }
            l if l & 0xc0 == 0 => {
                let l = usize::from(l);
                let label = msg.get(pos + 1..pos + 1 + l).ok_or(DnsError::Malformed)?;
                labels.push(String::from_utf8_lossy(label).into_owned());
                pos += 1 + l;
            }
            _ => return Err(DnsError::Malformed),
        }
    }
    Err(DnsError::Malformed)
}

/// Orders SRV records for trying (RFC 2782): by priority, and within a priority by a weighted
/// random draw. `draw(total)` returns a number in `0..=total`.
pub fn order_srv(mut records: Vec<Record>, mut draw: impl FnMut(u32) -> u32) -> Vec<Record> {
    records.retain(|r| matches!(r, Record::Srv { .. }));
    let priority = |r: &Record| match r {
        Record::Srv { priority, .. } => *priority,
        Record::Addr { .. } => u16::MAX,
    };
    let weight = |r: &Record| match r {
        Record::Srv { weight, .. } => u32::from(*weight),
        Record::Addr { .. } => 0,
    };
    records.sort_by_key(priority);
    let mut out = Vec::with_capacity(records.len());
    while !records.is_empty() {
        let p = priority(&records[0]);
        let same = records.iter().take_while(|r| priority(r) == p).count();
        let mut group: Vec<Record> = records.drain(..same).collect();
        // Zero weights first, so they are picked only when nothing else is left (RFC 2782).
        group.sort_by_key(|r| weight(r) != 0);
        while !group.is_empty() {
            let total: u32 = group.iter().map(weight).sum();
            let n = draw(total).min(total);
            let mut running = 0;
            let pick = group
                .iter()
                .position(|r| {
                    running += weight(r);
                    running >= n
                })
                .unwrap_or(0);
            out.push(group.remove(pick));
        }
    }
    out
}

/// Sends one query and waits for its answer (one retry after `timeout`).
pub async fn query(
    server: SocketAddr,
    name: &str,
    qtype: QType,
    timeout: Duration,
) -> Result<Vec<Record>, DnsError> {
    let bind: SocketAddr = match server {
        SocketAddr::V4(_) => (Ipv4Addr::UNSPECIFIED, 0).into(),
        SocketAddr::V6(_) => (Ipv6Addr::UNSPECIFIED, 0).into(),
    };
    let socket = UdpSocket::bind(bind).await?;
    socket.connect(server).await?;
    let id: u16 = rand::random();
    let q = encode_query(id, name, qtype);
    let mut buf = vec![0u8; 4096];
    for _ in 0..2 {
        socket.send(&q).await?;
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            match tokio::time::timeout_at(deadline, socket.recv(&mut buf)).await {
                Err(_) => break,
                Ok(Err(e)) => return Err(e.into()),
                Ok(Ok(n)) => match decode_response(id, &buf[..n]) {
                    // Someone else's datagram (wrong id): keep waiting for ours.
                    Err(DnsError::Malformed) => continue,
                    other => return other,
                },
            }
        }
    }
    Err(DnsError::Timeout(server))
}

/// The first `nameserver` of /etc/resolv.conf.
pub fn system_nameserver() -> Result<SocketAddr, DnsError> {
    let text = std::fs::read_to_string("/etc/resolv.conf").map_err(|_| DnsError::NoServer)?;
    text.lines()
        .filter_map(|l| l.trim().strip_prefix("nameserver"))
        .find_map(|ip| ip.trim().parse::<IpAddr>().ok())
        .map(|ip| SocketAddr::new(ip, 53))
        .ok_or(DnsError::NoServer)
}

/// Addresses of a gateway host in the order to try, and how long they may be cached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// Addresses, best first.
    pub addrs: Vec<SocketAddr>,
    /// The smallest TTL seen.
    pub ttl: Duration,
}

/// Locates a SIP server by name (RFC 3263 without NAPTR): `_sip._udp.<host>` or `_sip._tcp` SRV
/// records, each target's addresses (from the additional section or A/AAAA queries); when there
/// is no SRV record, the host's own A/AAAA records at `default_port`.
pub async fn locate(
    server: SocketAddr,
    host: &str,
    tcp: bool,
    default_port: u16,
    timeout: Duration,
) -> Result<Resolved, DnsError> {
    let service = if tcp { "_sip._tcp" } else { "_sip._udp" };
    let srv_answer = query(server, &format!("{service}.{host}"), QType::Srv, timeout).await?;
    let mut min_ttl = u32::MAX;
    let mut addrs = Vec::new();
    let ordered = order_srv(srv_answer.clone(), |total| {
        if total == 0 {
            0
        } else {
            rand::random_range(0..=total)
        }
    });
    for srv in &ordered {
        let Record::Srv {
            port, target, ttl, ..
        } = srv
        else {
            continue;
        };
        min_ttl = min_ttl.min(*ttl);
        let mut found: Vec<(IpAddr, u32)> = srv_answer
            .iter()
            .filter_map(|r| match r {
                Record::Addr { name, ip, ttl } if name == target => Some((*ip, *ttl)),
                _ => None,
            })
            .collect();
        if found.is_empty() {
            found = host_addrs(server, target, timeout).await?;
        }
        for (ip, ttl) in found {
            min_ttl = min_ttl.min(ttl);
            addrs.push(SocketAddr::new(ip, *port));
        }
    }
    if ordered.is_empty() {
        for (ip, ttl) in host_addrs(server, host, timeout).await? {
            min_ttl = min_ttl.min(ttl);
            addrs.push(SocketAddr::new(ip, default_port));
        }
    }
    if addrs.is_empty() {
        return Err(DnsError::NoAddress(host.to_string()));
    }
    Ok(Resolved {
        addrs,
        ttl: Duration::from_secs(u64::from(min_ttl)),
    })
}

/// A and AAAA records of `host` (IPv4 first).
async fn host_addrs(
    server: SocketAddr,
    host: &str,
    timeout: Duration,
) -> Result<Vec<(IpAddr, u32)>, DnsError> {
    let mut out = Vec::new();
    for qtype in [QType::A, QType::Aaaa] {
        for r in query(server, host, qtype, timeout).await? {
            if let Record::Addr { name, ip, ttl } = r {
                if name == host.trim_end_matches('.').to_ascii_lowercase() {
                    out.push((ip, ttl));
                }
            }
        }
        if !out.is_empty() {
            break;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An answer to `q` with the given answer records (already encoded).
    fn answer(q: &[u8], records: &[Vec<u8>], additional: &[Vec<u8>]) -> Vec<u8> {
        let mut out = q.to_vec();
        out[2] = 0x81;
        out[3] = 0x80;
        out[6..8].copy_from_slice(&u16::try_from(records.len()).unwrap().to_be_bytes());
        out[10..12].copy_from_slice(&u16::try_from(additional.len()).unwrap().to_be_bytes());
        for r in records.iter().chain(additional) {
            out.extend_from_slice(r);
        }
        out
    }

    fn rr(name: &[u8], rtype: u16, ttl: u32, data: &[u8]) -> Vec<u8> {
        let mut r = name.to_vec();
        r.extend_from_slice(&rtype.to_be_bytes());
        r.extend_from_slice(&[0, 1]);
        r.extend_from_slice(&ttl.to_be_bytes());
        r.extend_from_slice(&u16::try_from(data.len()).unwrap().to_be_bytes());
        r.extend_from_slice(data);
        r
    }

    #[test]
    fn decodes_srv_with_a_compressed_target_and_an_additional_address() {
        let q = encode_query(7, "_sip._udp.carrier.example", QType::Srv);
        // The SRV target "gw1" + pointer to "carrier.example" inside the question (offset 22).
        let mut srv = vec![0, 10, 0, 60, 0x13, 0xc4];
        srv.extend_from_slice(&[3, b'g', b'w', b'1', 0xc0, 22]);
        let owner = [0xc0, 12];
        let mut a_owner = vec![3, b'g', b'w', b'1', 0xc0, 22];
        a_owner.truncate(6);
        let msg = answer(
            &q,
            &[rr(&owner, 33, 300, &srv)],
            &[rr(&a_owner, 1, 120, &[192, 0, 2, 7])],
        );
        let records = decode_response(7, &msg).unwrap();
        assert_eq!(
            records,
            vec![
                Record::Srv {
                    priority: 10,
                    weight: 60,
                    port: 5060,
                    target: "gw1.carrier.example".into(),
                    ttl: 300
                },
                Record::Addr {
                    name: "gw1.carrier.example".into(),
                    ip: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 7)),
                    ttl: 120
                }
            ]
        );
    }

    #[test]
    fn refuses_garbage_and_pointer_loops_without_panicking() {
        assert!(decode_response(1, &[]).is_err());
        assert!(decode_response(1, &[0, 1, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0]).is_err());
        // A name pointing at itself.
        let mut msg = vec![0, 1, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0];
        msg.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1]);
        assert!(decode_response(1, &msg).is_err());
        // Wrong id.
        let q = encode_query(9, "a.example", QType::A);
        assert!(decode_response(8, &answer(&q, &[], &[])).is_err());
        // Every truncation of a good answer is an error or a shorter answer, never a panic.
        let q = encode_query(3, "a.example", QType::A);
        let good = answer(&q, &[rr(&[0xc0, 12], 1, 5, &[1, 2, 3, 4])], &[]);
        for n in 0..good.len() {
            let _ = decode_response(3, &good[..n]);
        }
    }

    #[test]
    fn nxdomain_is_an_empty_answer_and_servfail_an_error() {
        let q = encode_query(5, "_sip._udp.x.example", QType::Srv);
        let mut nx = answer(&q, &[], &[]);
        nx[3] = 0x83;
        assert_eq!(decode_response(5, &nx).unwrap(), vec![]);
        let mut fail = answer(&q, &[], &[]);
        fail[3] = 0x82;
        assert!(matches!(decode_response(5, &fail), Err(DnsError::Rcode(2))));
    }

    fn srv(priority: u16, weight: u16, target: &str) -> Record {
        Record::Srv {
            priority,
            weight,
            port: 5060,
            target: target.into(),
            ttl: 60,
        }
    }

    fn targets(r: &[Record]) -> Vec<&str> {
        r.iter()
            .map(|r| match r {
                Record::Srv { target, .. } => target.as_str(),
                Record::Addr { .. } => "",
            })
            .collect()
    }

    #[test]
    fn srv_order_is_by_priority_then_weighted() {
        let records = vec![srv(20, 1, "c"), srv(10, 10, "a"), srv(10, 90, "b")];
        // Drawing the top of the range picks the last of the running sum: b (weights 10 + 90).
        let ordered = order_srv(records.clone(), |total| total);
        assert_eq!(targets(&ordered), ["b", "a", "c"]);
        // Drawing 1 picks the first with a non-zero running sum: a.
        let ordered = order_srv(records, |_| 1);
        assert_eq!(targets(&ordered), ["a", "b", "c"]);
    }

    #[test]
    fn srv_zero_weight_records_still_come_out() {
        let ordered = order_srv(vec![srv(1, 0, "z"), srv(1, 5, "w")], |t| t);
        assert_eq!(targets(&ordered), ["w", "z"]);
    }
}
