//! Minimal RTP for tests: build packets, read headers, exchange audio at 20 ms pacing.

use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

/// A received RTP packet's fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rtp {
    /// Payload type.
    pub pt: u8,
    /// Marker bit.
    pub marker: bool,
    /// Sequence number.
    pub seq: u16,
    /// Timestamp.
    pub ts: u32,
    /// SSRC.
    pub ssrc: u32,
    /// Payload.
    pub payload: Vec<u8>,
}

/// Builds an RTP packet.
pub fn packet(pt: u8, seq: u16, ts: u32, ssrc: u32, payload: &[u8]) -> Vec<u8> {
    let mut p = vec![0x80, pt & 0x7f];
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(&ts.to_be_bytes());
    p.extend_from_slice(&ssrc.to_be_bytes());
    p.extend_from_slice(payload);
    p
}

/// Parses an RTP packet (no CSRC/extension support needed for hotline's output).
pub fn parse(b: &[u8]) -> Option<Rtp> {
    if b.len() < 12 || b[0] >> 6 != 2 {
        return None;
    }
    Some(Rtp {
        pt: b[1] & 0x7f,
        marker: b[1] & 0x80 != 0,
        seq: u16::from_be_bytes([b[2], b[3]]),
        ts: u32::from_be_bytes([b[4], b[5], b[6], b[7]]),
        ssrc: u32::from_be_bytes([b[8], b[9], b[10], b[11]]),
        payload: b[12..].to_vec(),
    })
}

/// Sends `count` packets of 160 bytes every 20 ms from `sock` to `to`, each payload filled with
/// `fill` except byte 0..2 = packet index; receives meanwhile and returns everything received
/// (for up to `linger` after the last send).
pub fn talk(
    sock: &UdpSocket,
    to: SocketAddr,
    pt: u8,
    fill: u8,
    count: u16,
    linger: Duration,
) -> Vec<Rtp> {
    let ssrc = 0x5eed_0001;
    sock.set_read_timeout(Some(Duration::from_millis(2)))
        .unwrap();
    let mut got = Vec::new();
    let start = Instant::now();
    let mut buf = [0u8; 2048];
    for i in 0..count {
        let mut payload = vec![fill; 160];
        payload[..2].copy_from_slice(&i.to_be_bytes());
        sock.send_to(&packet(pt, i, u32::from(i) * 160, ssrc, &payload), to)
            .unwrap();
        let due = start + Duration::from_millis(20 * (u64::from(i) + 1));
        while Instant::now() < due {
            if let Ok((n, _)) = sock.recv_from(&mut buf) {
                if let Some(p) = parse(&buf[..n]) {
                    got.push(p);
                }
            }
        }
    }
    let end = Instant::now() + linger;
    while Instant::now() < end {
        if let Ok((n, _)) = sock.recv_from(&mut buf) {
            if let Some(p) = parse(&buf[..n]) {
                got.push(p);
            }
        }
    }
    got
}
