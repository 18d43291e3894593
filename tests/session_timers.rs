//! The caller leg seen from a raw SIP client: RFC 4028 session timers (the caller's interval is
//! accepted with the caller as refresher, refreshes answered, too small refused with 422) and the
//! advertised address in Contact and SDP; on the agent leg, hotline as the session refresher and
//! 491 on re-INVITE glare.

#![allow(clippy::unwrap_used)]

mod support;

use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

use support::agent::{AgentSetup, SippAgent};
use support::sipp::Sipp;
use support::{Hotline, Options};

struct Phone {
    sock: UdpSocket,
    to: SocketAddr,
}

impl Phone {
    fn new(to: SocketAddr) -> Self {
        let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
        sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        Self { sock, to }
    }

    fn local(&self) -> SocketAddr {
        self.sock.local_addr().unwrap()
    }

    /// Sends a request and returns the first final response (skipping 1xx).
    fn request(&self, text: &str) -> String {
        self.sock.send_to(text.as_bytes(), self.to).unwrap();
        let mut buf = [0u8; 8192];
        loop {
            let (n, _) = self.sock.recv_from(&mut buf).unwrap();
            let msg = String::from_utf8_lossy(&buf[..n]).into_owned();
            if msg.starts_with("SIP/2.0 1") {
                continue;
            }
            return msg;
        }
    }
}

fn header<'a>(msg: &'a str, name: &str) -> Option<&'a str> {
    msg.lines().find_map(|l| {
        let (n, v) = l.split_once(':')?;
        n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

fn invite(p: &Phone, call_id: &str, session_expires: u32) -> String {
    let local = p.local();
    let sdp = format!(
        "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio {} RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\n",
        local.port() + 2
    );
    format!(
        "INVITE sip:200@{to} SIP/2.0\r\nVia: SIP/2.0/UDP {local};branch=z9hG4bK-{call_id}-1;rport\r\n\
         From: <sip:5551000@{local}>;tag=t-{call_id}\r\nTo: <sip:200@{to}>\r\nCall-ID: {call_id}\r\n\
         CSeq: 1 INVITE\r\nContact: <sip:5551000@{local}>\r\nMax-Forwards: 70\r\nSupported: timer\r\n\
         Session-Expires: {session_expires}\r\nContent-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{sdp}",
        sdp.len(),
        to = p.to,
    )
}

#[test]
fn caller_session_interval_is_accepted_refreshed_and_too_small_is_refused() {
    let h = Hotline::start(Options::default());
    let p = Phone::new(h.sip);

    // Too small: 422 with Min-SE.
    let r = p.request(&invite(&p, "se-small", 30));
    assert!(r.starts_with("SIP/2.0 422"), "{r}");
    assert_eq!(header(&r, "Min-SE"), Some("90"));

    // Accepted: 200 carries the interval with the caller as refresher and Require: timer.
    let ok = p.request(&invite(&p, "se-ok", 120));
    assert!(ok.starts_with("SIP/2.0 200"), "{ok}");
    assert_eq!(header(&ok, "Session-Expires"), Some("120;refresher=uac"));
    assert_eq!(header(&ok, "Require"), Some("timer"));
    let to = header(&ok, "To").unwrap().to_string();
    let local = p.local();
    let ack = format!(
        "ACK sip:hotline@{h} SIP/2.0\r\nVia: SIP/2.0/UDP {local};branch=z9hG4bK-se-ack;rport\r\n\
         From: <sip:5551000@{local}>;tag=t-se-ok\r\nTo: {to}\r\nCall-ID: se-ok\r\nCSeq: 1 ACK\r\n\
         Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
        h = h.sip
    );
    p.sock.send_to(ack.as_bytes(), h.sip).unwrap();

    // A refresh by UPDATE is answered with the interval again.
    let update = format!(
        "UPDATE sip:hotline@{h} SIP/2.0\r\nVia: SIP/2.0/UDP {local};branch=z9hG4bK-se-upd;rport\r\n\
         From: <sip:5551000@{local}>;tag=t-se-ok\r\nTo: {to}\r\nCall-ID: se-ok\r\nCSeq: 2 UPDATE\r\n\
         Supported: timer\r\nSession-Expires: 120;refresher=uac\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
        h = h.sip
    );
    let r = p.request(&update);
    assert!(r.starts_with("SIP/2.0 200"), "{r}");
    assert_eq!(header(&r, "Session-Expires"), Some("120;refresher=uac"));

    // Hang up; the call ends normally.
    let bye = format!(
        "BYE sip:hotline@{h} SIP/2.0\r\nVia: SIP/2.0/UDP {local};branch=z9hG4bK-se-bye;rport\r\n\
         From: <sip:5551000@{local}>;tag=t-se-ok\r\nTo: {to}\r\nCall-ID: se-ok\r\nCSeq: 3 BYE\r\n\
         Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
        h = h.sip
    );
    let r = p.request(&bye);
    assert!(r.starts_with("SIP/2.0 200"), "{r}");
    let ended = h.wait_event("call.ended of se-ok", Duration::from_secs(5), |e| {
        e["type"] == "call.ended" && e["sip_call_ids"][0] == "se-ok"
    });
    assert_eq!(ended["hung_up_by"], "caller");
    assert_eq!(ended["reason"], "abandoned");
}

#[test]
fn advertised_address_goes_in_contact_and_sdp() {
    let h = Hotline::start(Options {
        advertised: Some("127.0.0.5"),
        ..Options::default()
    });
    let p = Phone::new(h.sip);
    let ok = p.request(&invite(&p, "adv", 120));
    assert!(ok.starts_with("SIP/2.0 200"), "{ok}");
    let contact = header(&ok, "Contact").unwrap();
    assert!(
        contact.contains(&format!("127.0.0.5:{}", h.sip.port())),
        "{contact}"
    );
    assert!(ok.contains("c=IN IP4 127.0.0.5\r\n"), "{ok}");
    assert!(ok.contains("o=hotline "), "{ok}");
}

/// hotline refreshes the agent's session (the agent's 200 made it the refresher); the agent
/// answers the refresh with a re-INVITE of its own (glare) and must get 491, then the refresh
/// completes and the call goes on until the caller hangs up. Takes about 50 s: RFC 4028 puts the
/// first refresh at half of the 90 s minimum interval.
#[test]
fn agent_session_refresh_survives_glare_with_491() {
    // Neither phone sends audio here: keep the RTP inactivity timeout out of the way.
    let h = Hotline::start(Options {
        rtp_timeout: "120s",
        ..Options::default()
    });
    let agent = SippAgent::start(
        &h,
        AgentSetup {
            hold_ms: 60_000,
            answer_scenario: "agent_answer_timer_glare.xml",
            ..AgentSetup::default()
        },
    );
    let caller = Sipp::new("caller_ivr.xml", h.sip)
        .var("digit", 1)
        .var("talk_ms", 50_000)
        .key("caller_pt", 0)
        .args(&["-s", "100", "-m", "1", "-rtp_echo"])
        .spawn();
    h.wait_type("call.answered", Duration::from_secs(10));
    caller.wait(Duration::from_secs(70)).assert_ok("caller");
    let ended = h.wait_type("call.ended", Duration::from_secs(5));
    assert_eq!(ended["reason"], "completed", "{ended}");
    assert_eq!(ended["hung_up_by"], "caller");
    agent
        .finish(Duration::from_secs(30))
        .assert_ok("agent: refresh re-INVITE, 491 to its own re-INVITE, refresh answered");
}
