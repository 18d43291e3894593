//! The real peers of the callback tests: an agent phone (SIPp registering and answering, media
//! on a socket the test owns, PCMA) whose leg address the test can forget between offers, the
//! customer's phone behind the trunk (SIPp with `-rtp_echo`, playing the G.711 A-law recording
//! SIPp ships), and the check that audio flowed both ways between them through hotline.

use std::collections::HashSet;
use std::net::{SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::support::sipp::{RunningSipp, Sipp, SippRun};
use crate::support::{poll_until, rtp, Hotline};

/// The recording the customer's phone plays once it answered (7 s of speech, PCMA).
pub const RECORDING: &str = "/usr/share/sip-tester/g711a.pcap";

/// PCMA's payload type: both phones use it, so hotline relays the bytes unchanged.
const PCMA: u8 = 8;

/// A registered agent phone.
pub struct Agent {
    sipp: Option<RunningSipp>,
    /// The agent's RTP socket (its SDP points here).
    pub rtp: UdpSocket,
    port_file: PathBuf,
    _dir: tempfile::TempDir,
}

impl Agent {
    /// Registers agent `id` (answering every offer) and waits until hotline shows it ready.
    pub fn start(h: &Hotline, id: &str) -> Agent {
        let rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
        let dir = tempfile::tempdir().unwrap();
        let port_file = dir.path().join("hotline_rtp_port");
        let password = format!("demo{id}");
        let sipp = Sipp::new("agent_register.xml", h.sip)
            .ooc("agent_answer.xml")
            .var("hold_ms", 180_000)
            .args(&["-m", "1", "-au", id, "-ap", password.as_str()])
            .key("agent", id)
            .key("expires", 300)
            .key("agent_rtp_port", rtp.local_addr().unwrap().port())
            .key("agent_pt", PCMA)
            .key("port_file", port_file.display())
            .spawn();
        h.wait_agent_state(id, "ready", Duration::from_secs(10));
        Agent {
            sipp: Some(sipp),
            rtp,
            port_file,
            _dir: dir,
        }
    }

    /// Forgets the leg of the last offer: [`Agent::leg`] then waits for the next offer.
    pub fn forget_leg(&self) {
        let _ = std::fs::remove_file(&self.port_file);
    }

    /// Hotline's RTP address for the agent's leg of the latest offer the phone answered.
    pub fn leg(&self, timeout: Duration) -> SocketAddr {
        let mut port = None;
        poll_until(timeout, || {
            port = std::fs::read_to_string(&self.port_file)
                .ok()
                .and_then(|s| s.trim().parse::<u16>().ok());
            port.is_some()
        });
        let port = port.expect("no call reached the agent's phone");
        SocketAddr::from(([127, 0, 0, 1], port))
    }
}

impl Drop for Agent {
    /// The phone stays registered for minutes: it is stopped with the test.
    fn drop(&mut self) {
        if let Some(sipp) = self.sipp.take() {
            let _: SippRun = sipp.wait(Duration::ZERO);
        }
    }
}

/// How the customer's phone behaves.
pub struct Phone<'a> {
    /// The number every INVITE must be for (E.164).
    pub number: &'a str,
    /// The caller id every INVITE must present (From and P-Asserted-Identity).
    pub caller_id: &'a str,
    /// The first calls answered busy (486).
    pub busy_calls: u32,
    /// Calls it takes before it exits.
    pub calls: u32,
    /// How long an answered call lasts before the phone hangs up, ms.
    pub talk_ms: u64,
}

/// The customer's phone behind the trunk (SIPp): an answered call rings 1 s, plays
/// [`RECORDING`], echoes what it hears and hangs up after `talk_ms`; an INVITE for another
/// number or with another caller id fails the run.
pub fn customer_phone(phone: &Phone<'_>) -> Sipp {
    let calls = phone.calls.to_string();
    Sipp::new("customer_phone.xml", "127.0.0.1:5060".parse().unwrap())
        .var("number_re", phone.number.replace('+', "\\+"))
        .var("from_re", phone.caller_id.replace('+', "\\+"))
        .var("busy_calls", phone.busy_calls)
        .var("ring_ms", 1_000)
        .var("talk_ms", phone.talk_ms)
        .args(&["-m", calls.as_str(), "-rtp_echo"])
        .args(PHONE_LIFETIME)
}

/// A phone left waiting by a failed test quits after this (SIPp's global timeout).
pub const PHONE_LIFETIME: &[&str] = &["-timeout", "180s"];

/// The gateway address of a phone that is about to run.
pub fn gateway_of(phone: &Sipp) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], phone.port))
}

/// The audio payloads of a pcap of RTP over UDP/IPv4/Ethernet. [`RECORDING`]'s frames are
/// 30 ms (240 bytes) where hotline's own are 20 ms, so no silence of hotline's passes for one.
pub fn pcap_payloads(path: &Path) -> HashSet<Vec<u8>> {
    let data = std::fs::read(path).unwrap();
    assert_eq!(data[..4], [0xd4, 0xc3, 0xb2, 0xa1], "a little-endian pcap");
    assert_eq!(data[20..24], [1, 0, 0, 0], "Ethernet frames");
    let mut payloads = HashSet::new();
    let mut at = 24;
    while at + 16 <= data.len() {
        let len = u32::from_le_bytes(data[at + 8..at + 12].try_into().unwrap()) as usize;
        let frame = &data[at + 16..at + 16 + len];
        at += 16 + len;
        let ip = &frame[14..];
        let udp = &ip[usize::from(ip[0] & 0x0f) * 4..];
        let Some(packet) = rtp::parse(&udp[8..]) else {
            continue;
        };
        payloads.insert(packet.payload);
    }
    payloads
}

/// What the agent heard while talking for 1 s through its leg `leg`.
pub struct Heard {
    /// Packets of the agent's own audio that came back: the customer's phone got them and
    /// echoed them.
    pub echoed: usize,
    /// Packets of the customer's recording, byte for byte.
    pub recording: usize,
}

/// The agent sends 50 PCMA packets (20 ms apart) to its leg and counts what comes back.
pub fn agent_talks(agent: &Agent, leg: SocketAddr, recording: &HashSet<Vec<u8>>) -> Heard {
    let got = rtp::talk(&agent.rtp, leg, PCMA, 0x33, 50, Duration::from_millis(300));
    Heard {
        echoed: got
            .iter()
            .filter(|p| {
                p.pt == PCMA && p.payload.len() > 2 && p.payload[2..].iter().all(|b| *b == 0x33)
            })
            .count(),
        recording: got
            .iter()
            .filter(|p| p.pt == PCMA && recording.contains(&p.payload))
            .count(),
    }
}
