//! An agent phone made of SIPp (signaling: register with digest auth, answer offered calls) and an
//! RTP socket the test owns (media), so tests can send and check audio.

use std::net::{SocketAddr, UdpSocket};
use std::path::PathBuf;
use std::time::Duration;

use super::sipp::{RunningSipp, Sipp, SippRun};
use super::{poll_until, Hotline};

/// A registered SIPp agent.
pub struct SippAgent {
    sipp: RunningSipp,
    /// The agent's RTP socket (its SDP points here).
    pub rtp: UdpSocket,
    port_file: PathBuf,
    _dir: tempfile::TempDir,
}

/// How the agent phone behaves.
pub struct AgentSetup<'a> {
    /// Agent id (password is `demo` + id).
    pub id: &'a str,
    /// How long it stays registered, ms.
    pub hold_ms: u64,
    /// Its codec payload type (0 PCMU, 8 PCMA).
    pub pt: u8,
    /// The out-of-call scenario that handles offered calls.
    pub answer_scenario: &'a str,
    /// Extra SIPp args.
    pub extra: Vec<&'a str>,
}

impl Default for AgentSetup<'_> {
    fn default() -> Self {
        Self {
            id: "1001",
            hold_ms: 10_000,
            pt: 0,
            answer_scenario: "agent_answer.xml",
            extra: Vec::new(),
        }
    }
}

impl SippAgent {
    /// Registers the agent and waits until hotline shows it ready.
    pub fn start(h: &Hotline, setup: AgentSetup<'_>) -> Self {
        let rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
        rtp.set_read_timeout(Some(Duration::from_millis(50)))
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let port_file = dir.path().join("hotline_rtp_port");
        let password = format!("demo{}", setup.id);
        let mut args = vec!["-m", "1", "-au", setup.id, "-ap", password.as_str()];
        args.extend(setup.extra.iter().copied());
        let sipp = Sipp::new("agent_register.xml", h.sip)
            .ooc(setup.answer_scenario)
            .var("hold_ms", setup.hold_ms)
            .args(&args)
            .key("agent", setup.id)
            .key("expires", 120)
            .key("agent_rtp_port", rtp.local_addr().unwrap().port())
            .key("agent_pt", setup.pt)
            .key("port_file", port_file.display())
            .spawn();
        h.wait_agent_state(setup.id, "ready", Duration::from_secs(10));
        Self {
            sipp,
            rtp,
            port_file,
            _dir: dir,
        }
    }

    /// Hotline's RTP address for this agent's leg, once an offer reached the agent.
    pub fn hotline_rtp(&self, timeout: Duration) -> SocketAddr {
        let mut port = None;
        poll_until(timeout, || {
            port = std::fs::read_to_string(&self.port_file)
                .ok()
                .and_then(|s| s.trim().parse::<u16>().ok());
            port.is_some()
        });
        let port = port.expect("no call was offered to the agent");
        SocketAddr::from(([127, 0, 0, 1], port))
    }

    /// Waits for the agent's SIPp to finish.
    pub fn finish(self, timeout: Duration) -> SippRun {
        self.sipp.wait(timeout)
    }
}
