//! A real softphone as the agent: baresip (headless, a sine tone as its microphone, auto-answer)
//! registers as agent 1001 with digest auth; a caller dials 100, presses 1, baresip answers and
//! its audio reaches the caller through hotline; the caller hangs up.
//!
//! Skipped with a message when baresip is not installed, except under CI (`CI=true`), where it
//! must run.
#![allow(clippy::unwrap_used)]

mod support;

use std::net::UdpSocket;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use support::rtp;
use support::uac::Uac;
use support::{free_port, Hotline, Options};

/// A baresip process killed on drop; its log is printed if the test fails.
struct Baresip {
    child: Child,
    dir: tempfile::TempDir,
}

impl Baresip {
    /// Starts baresip as agent 1001 of the hotline at `h`.
    fn start(h: &Hotline) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let sip_port = free_port();
        let (rtp_lo, rtp_hi) = support::rtp_range(20);
        let config = format!(
            "module_path /usr/lib/baresip/modules\n\
             sip_listen 127.0.0.1:{sip_port}\n\
             net_interface 127.0.0.1\n\
             rtp_ports {rtp_lo}-{rtp_hi}\n\
             audio_source ausine,440\n\
             ausrc_srate 48000\n\
             ausrc_channels 2\n\
             audio_player alsa,null\n\
             audio_alert alsa,null\n\
             module g711.so\n\
             module ausine.so\n\
             module alsa.so\n\
             module_app account.so\n\
             module_app menu.so\n"
        );
        std::fs::write(dir.path().join("config"), config).unwrap();
        let account = format!(
            "<sip:1001@{};transport=udp>;auth_pass=demo1001;answermode=auto;regint=600\n",
            h.sip
        );
        std::fs::write(dir.path().join("accounts"), account).unwrap();
        let log = std::fs::File::create(dir.path().join("baresip.log")).unwrap();
        let child = Command::new("baresip")
            .arg("-f")
            .arg(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::from(log.try_clone().unwrap()))
            .stderr(Stdio::from(log))
            .spawn()
            .expect("baresip runs");
        Baresip { child, dir }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("baresip.log")).unwrap_or_default()
    }
}

impl Drop for Baresip {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("---- baresip log ----\n{}", self.log());
        }
    }
}

fn baresip_installed() -> bool {
    Path::new("/usr/bin/baresip").exists()
        || Command::new("baresip")
            .arg("-h")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok()
}

/// An RFC 4733 digit from the caller: 5 updates (marker on the first), 3 end packets.
fn send_digit(sock: &UdpSocket, to: std::net::SocketAddr, seq: u16, event: u8) {
    let ts = u32::from(seq) * 160;
    for i in 0..8u16 {
        let end = i >= 5;
        let d = (160 * (i.min(5) + 1)).to_be_bytes();
        let payload = [event, if end { 0x8a } else { 0x0a }, d[0], d[1]];
        let mut p = rtp::packet(101, seq + i, ts, 0xca11_0002, &payload);
        if i == 0 {
            p[1] |= 0x80;
        }
        sock.send_to(&p, to).unwrap();
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Receives RTP on `sock` for `span`; returns the packets.
fn receive_for(sock: &UdpSocket, span: Duration) -> Vec<rtp::Rtp> {
    sock.set_read_timeout(Some(Duration::from_millis(20)))
        .unwrap();
    let end = Instant::now() + span;
    let mut buf = [0u8; 2048];
    let mut got = Vec::new();
    while Instant::now() < end {
        if let Ok((n, _)) = sock.recv_from(&mut buf) {
            got.extend(rtp::parse(&buf[..n]));
        }
    }
    got
}

#[test]
fn baresip_agent_answers_a_queued_call_and_its_audio_reaches_the_caller() {
    if !baresip_installed() {
        let ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
        assert!(!ci, "baresip is not installed, and CI requires this test");
        eprintln!("SKIPPED: baresip is not installed (apt-get install baresip)");
        return;
    }
    let h = Hotline::start(Options::default());
    let phone = Baresip::start(&h);
    h.wait_agent_state("1001", "ready", Duration::from_secs(15));
    let registered = h.wait_type("agent.registered", Duration::from_secs(5));
    assert_eq!(registered["agent_id"], "1001");

    // The caller dials 100 and presses 1 once the greeting is playing.
    let caller_rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = caller_rtp.local_addr().unwrap().port();
    let sdp = format!(
        "v=0\r\no=caller 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
         m=audio {port} RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n\
         a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=sendrecv\r\n"
    );
    let mut uac = Uac::new(h.sip, "100");
    let ok = uac.invite(Some(&sdp), None);
    assert_eq!(ok.status(), Some(200), "{}", ok.start);
    let hotline_rtp = ok.sdp_rtp();
    let greeting = receive_for(&caller_rtp, Duration::from_millis(400));
    assert!(!greeting.is_empty(), "no greeting");
    send_digit(&caller_rtp, hotline_rtp, 1, 1);

    // baresip rings and answers by itself.
    let answered = h.wait_type("call.answered", Duration::from_secs(15));
    assert_eq!(answered["agent_id"], "1001");
    assert_eq!(answered["queue"], "support");

    // What baresip's microphone (a sine tone) sends reaches the caller. The caller talks too, so
    // both directions of the bridge are in use.
    let start = Instant::now();
    let mut got = Vec::new();
    let mut seq = 100u16;
    while start.elapsed() < Duration::from_secs(2) {
        let p = rtp::packet(0, seq, u32::from(seq) * 160, 0xca11_0002, &[0x55; 160]);
        caller_rtp.send_to(&p, hotline_rtp).unwrap();
        seq += 1;
        got.extend(receive_for(&caller_rtp, Duration::from_millis(20)));
    }
    let tone: Vec<_> = got
        .iter()
        .filter(|p| p.pt == 0 && p.payload.len() == 160)
        .collect();
    assert!(
        tone.len() >= 50,
        "only {} audio packets from baresip reached the caller in 2 s",
        tone.len()
    );
    // A sine is not silence: the samples vary within a packet.
    let varied = tone
        .iter()
        .filter(|p| p.payload.iter().any(|b| *b != p.payload[0]))
        .count();
    assert!(varied >= 40, "baresip's tone arrived flat");

    uac.bye();
    let ended = h.wait_type("call.ended", Duration::from_secs(10));
    assert_eq!(ended["hung_up_by"], "caller");
    assert_eq!(ended["reason"], "completed");
    let call_id = ended["call_id"].as_str().unwrap();
    assert_eq!(
        support::call_event_types(&h.events(), call_id),
        [
            "call.arrived",
            "call.answered_by_ivr",
            "ivr.digit",
            "call.queued",
            "call.offered",
            "call.answered",
            "call.ended"
        ]
    );
    drop(phone);
}
