//! Media interop with real peers: a caller driven from the test over raw SIP/UDP (so its SDP and
//! RTP are exactly what each case needs) and a SIPp agent whose RTP socket the test owns.
//! Covered: PCMA caller with a PCMU agent (transcoding both ways, byte for byte), telephone-event
//! payload types remapped (101 <-> 96), late offer, no common codec (488 + Warning 305),
//! hold/resume by re-INVITE (the other party hears music), and RTP inactivity hanging up.
#![allow(clippy::unwrap_used)]

mod support;

use std::collections::HashSet;
use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use support::agent::{AgentSetup, SippAgent};
use support::rtp::{self, Rtp};
use support::uac::{Sip, Uac};
use support::{Hotline, Options};

/// The caller's SDP: `formats` on the m= line (with their rtpmaps), telephone-event 101.
fn caller_sdp(port: u16, version: u32, codecs: &[(u8, &str)], direction: &str) -> String {
    let mut pts: Vec<String> = codecs.iter().map(|(pt, _)| pt.to_string()).collect();
    pts.push("101".into());
    let mut s = format!(
        "v=0\r\no=caller 1 {version} IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
         m=audio {port} RTP/AVP {}\r\n",
        pts.join(" ")
    );
    for (pt, name) in codecs {
        s.push_str(&format!("a=rtpmap:{pt} {name}/8000\r\n"));
    }
    s.push_str("a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\n");
    s.push_str(&format!("a={direction}\r\n"));
    s
}

/// One party's RTP: a socket, where hotline listens for it, what it sends.
struct Party<'a> {
    sock: &'a UdpSocket,
    to: SocketAddr,
    packets: Vec<Vec<u8>>,
}

/// Both parties send their packets at once, every 20 ms; returns what each received (during the
/// sending and 300 ms after).
fn exchange(a: Party<'_>, b: Party<'_>) -> (Vec<Rtp>, Vec<Rtp>) {
    for s in [a.sock, b.sock] {
        s.set_read_timeout(Some(Duration::from_millis(1))).unwrap();
    }
    let (mut got_a, mut got_b) = (Vec::new(), Vec::new());
    let mut buf = [0u8; 2048];
    let mut drain = |got_a: &mut Vec<Rtp>, got_b: &mut Vec<Rtp>| {
        for (sock, got) in [(a.sock, got_a), (b.sock, got_b)] {
            if let Ok((n, _)) = sock.recv_from(&mut buf) {
                got.extend(rtp::parse(&buf[..n]));
            }
        }
    };
    let start = Instant::now();
    let count = a.packets.len().max(b.packets.len());
    for i in 0..count {
        if let Some(p) = a.packets.get(i) {
            a.sock.send_to(p, a.to).unwrap();
        }
        if let Some(p) = b.packets.get(i) {
            b.sock.send_to(p, b.to).unwrap();
        }
        let due = start + Duration::from_millis(20 * (i as u64 + 1));
        while Instant::now() < due {
            drain(&mut got_a, &mut got_b);
        }
    }
    let end = Instant::now() + Duration::from_millis(300);
    while Instant::now() < end {
        drain(&mut got_a, &mut got_b);
    }
    (got_a, got_b)
}

/// `count` audio packets of 160 bytes: payload byte k of packet i is `(i*160 + k + offset) % 256`,
/// so any two consecutive packets hold every byte value.
fn audio(pt: u8, ssrc: u32, first_seq: u16, count: u16, offset: usize) -> Vec<Vec<u8>> {
    (0..count)
        .map(|i| {
            let payload: Vec<u8> = (0..160)
                .map(|k| ((usize::from(i) * 160 + k + offset) % 256) as u8)
                .collect();
            let seq = first_seq.wrapping_add(i);
            rtp::packet(pt, seq, u32::from(seq) * 160, ssrc, &payload)
        })
        .collect()
}

/// An RFC 4733 event: 5 updates (marker on the first) then 3 end packets, one timestamp.
fn dtmf(pt: u8, ssrc: u32, first_seq: u16, ts: u32, event: u8) -> Vec<Vec<u8>> {
    (0..8u16)
        .map(|i| {
            let end = i >= 5;
            let duration = 160 * (i.min(5) + 1);
            let d = duration.to_be_bytes();
            let payload = [event, if end { 0x8a } else { 0x0a }, d[0], d[1]];
            let mut p = rtp::packet(pt, first_seq.wrapping_add(i), ts, ssrc, &payload);
            if i == 0 {
                p[1] |= 0x80;
            }
            p
        })
        .collect()
}

/// The payloads `packets` should arrive as after `transcode` is applied byte by byte.
fn expected(packets: &[Vec<u8>], transcode: impl Fn(u8) -> u8) -> HashSet<Vec<u8>> {
    packets
        .iter()
        .map(|p| p[12..].iter().map(|b| transcode(*b)).collect())
        .collect()
}

/// Received audio packets of payload type `pt` whose payload is one of `want`.
fn matching(got: &[Rtp], pt: u8, want: &HashSet<Vec<u8>>) -> usize {
    got.iter()
        .filter(|p| p.pt == pt && want.contains(&p.payload))
        .count()
}

// Reference G.711 (ITU-T G.711 tables in the classic 16-bit formulation), written independently
// of hotline's 14-bit implementation so the test checks it rather than repeats it.

fn alaw_decode(a: u8) -> i32 {
    let a = a ^ 0x55;
    let exponent = i32::from((a >> 4) & 0x07);
    let mantissa = i32::from(a & 0x0f);
    let magnitude = if exponent == 0 {
        (mantissa << 4) + 8
    } else {
        ((mantissa << 4) + 0x108) << (exponent - 1)
    };
    if a & 0x80 != 0 {
        magnitude
    } else {
        -magnitude
    }
}

fn ulaw_decode(u: u8) -> i32 {
    let u = !u;
    let exponent = i32::from((u >> 4) & 0x07);
    let mantissa = i32::from(u & 0x0f);
    let magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84;
    if u & 0x80 != 0 {
        -magnitude
    } else {
        magnitude
    }
}

fn ulaw_encode(sample: i32) -> u8 {
    let sign = if sample < 0 { 0x80 } else { 0 };
    let magnitude = sample.unsigned_abs().min(32635) as i32 + 0x84;
    let exponent = (0..8)
        .rev()
        .find(|e| magnitude & (0x80 << e) != 0)
        .unwrap_or(0);
    let mantissa = (magnitude >> (exponent + 3)) & 0x0f;
    !(sign | ((exponent as u8) << 4) | mantissa as u8)
}

fn alaw_encode(sample: i32) -> u8 {
    // Negative samples are floored before taking the magnitude, as the recommendation's
    // reference code does (-372 >> 3 is -47, magnitude 46).
    let scaled = sample >> 3;
    let (mask, magnitude) = if scaled >= 0 {
        (0xD5u8, scaled)
    } else {
        (0x55u8, -scaled - 1)
    };
    let magnitude = magnitude.min(0xFFF);
    let code = if magnitude < 32 {
        (magnitude >> 1) as u8
    } else {
        let exponent = (5..=11).rev().find(|e| magnitude >> e != 0).unwrap_or(4) - 4;
        ((exponent as u8) << 4) | ((magnitude >> exponent) & 0x0f) as u8
    };
    code ^ mask
}

fn alaw_to_ulaw(a: u8) -> u8 {
    ulaw_encode(alaw_decode(a))
}

fn ulaw_to_alaw(u: u8) -> u8 {
    alaw_encode(ulaw_decode(u))
}

#[test]
fn reference_g711_round_trips() {
    // The reference encoders invert the decoders on every code (except μ-law's negative zero).
    for b in 0..=255u8 {
        assert_eq!(alaw_encode(alaw_decode(b)), b, "A-law {b:#04x}");
        if b != 0x7f {
            assert_eq!(ulaw_encode(ulaw_decode(b)), b, "μ-law {b:#04x}");
        }
    }
    assert_eq!(ulaw_decode(0xff), 0);
    assert_eq!(alaw_decode(0xd5), 8);
    // Spot values of the recommendation: μ-law 0x60 is -372, whose A-law code is 0x42.
    assert_eq!(ulaw_decode(0x60), -372);
    assert_eq!(ulaw_to_alaw(0x60), 0x42);
}

const CALLER_SSRC: u32 = 0xca11_0001;

/// A call from the test caller to agent 1001, answered.
struct Answered {
    uac: Uac,
    /// hotline's 200 to the INVITE.
    ok: Sip,
    /// Where hotline takes the caller's RTP.
    caller_side: SocketAddr,
    /// Where hotline takes the agent's RTP.
    agent_side: SocketAddr,
}

/// Dials 200 (straight to the support queue) with `sdp` (`None`: late offer, answered in the ACK
/// with `ack_sdp`), and waits until the agent answered.
fn call_agent(
    h: &Hotline,
    agent: &SippAgent,
    sdp: Option<&str>,
    ack_sdp: Option<&str>,
) -> Answered {
    let mut uac = Uac::new(h.sip, "200");
    let ok = uac.invite(sdp, ack_sdp);
    assert_eq!(ok.status(), Some(200), "INVITE answered {}", ok.start);
    let agent_side = agent.hotline_rtp(Duration::from_secs(10));
    h.wait_type("call.answered", Duration::from_secs(10));
    let caller_side = ok.sdp_rtp();
    Answered {
        uac,
        ok,
        caller_side,
        agent_side,
    }
}

/// Hangs up from the caller; the call ends completed and the agent's SIPp finishes cleanly.
fn hang_up(h: &Hotline, mut call: Answered, agent: SippAgent) {
    call.uac.bye();
    let ended = h.wait_type("call.ended", Duration::from_secs(10));
    assert_eq!(ended["reason"], "completed");
    assert_eq!(ended["hung_up_by"], "caller");
    agent.finish(Duration::from_secs(20)).assert_ok("agent");
}

#[test]
fn pcma_caller_and_pcmu_agent_are_transcoded_and_telephone_events_remapped() {
    let h = Hotline::start(Options::default());
    let agent = SippAgent::start(
        &h,
        AgentSetup {
            hold_ms: 8000,
            answer_scenario: "agent_answer_te96.xml",
            ..AgentSetup::default()
        },
    );
    let caller_rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = caller_rtp.local_addr().unwrap().port();
    let sdp = caller_sdp(port, 1, &[(8, "PCMA")], "sendrecv");
    let call = call_agent(&h, &agent, Some(&sdp), None);
    let m = call.ok.m_line().to_string();
    assert!(
        m.ends_with(" 8 101") || m.contains(" 8 101 "),
        "hotline must answer PCMA + telephone-event 101: {m}"
    );

    // Audio: known A-law from the caller, known μ-law from the agent.
    let from_caller = audio(8, CALLER_SSRC, 1, 60, 0);
    let from_agent = audio(0, 0xa6e7_0001, 1, 60, 77);
    let (at_caller, at_agent) = exchange(
        Party {
            sock: &caller_rtp,
            to: call.caller_side,
            packets: from_caller.clone(),
        },
        Party {
            sock: &agent.rtp,
            to: call.agent_side,
            packets: from_agent.clone(),
        },
    );
    let to_agent = matching(&at_agent, 0, &expected(&from_caller, alaw_to_ulaw));
    let to_caller = matching(&at_caller, 8, &expected(&from_agent, ulaw_to_alaw));
    assert!(
        to_agent >= 50,
        "{to_agent} of 60 caller packets reached the agent as the μ-law transcoding of the \
         A-law sent ({} packets arrived)",
        at_agent.len()
    );
    assert!(
        to_caller >= 50,
        "{to_caller} of 60 agent packets reached the caller as the A-law transcoding of the \
         μ-law sent ({} packets arrived)",
        at_caller.len()
    );
    assert!(
        at_agent.iter().all(|p| p.pt == 0 || p.pt == 96),
        "the agent only gets its own payload types"
    );

    // DTMF: the caller's event on 101 reaches the agent on 96, and back.
    let (at_caller, at_agent) = exchange(
        Party {
            sock: &caller_rtp,
            to: call.caller_side,
            packets: dtmf(101, CALLER_SSRC, 61, 61 * 160, 5),
        },
        Party {
            sock: &agent.rtp,
            to: call.agent_side,
            packets: dtmf(96, 0xa6e7_0001, 61, 61 * 160, 7),
        },
    );
    let events = |got: &[Rtp], pt: u8| -> Vec<u8> {
        got.iter()
            .filter(|p| p.pt == pt && p.payload.len() == 4)
            .map(|p| p.payload[0])
            .collect()
    };
    let agent_events = events(&at_agent, 96);
    assert!(
        !agent_events.is_empty() && agent_events.iter().all(|e| *e == 5),
        "caller's digit 5 must reach the agent as telephone-event 96: {at_agent:?}"
    );
    assert!(
        !at_agent.iter().any(|p| p.pt == 101),
        "payload type 101 leaked to the agent"
    );
    let caller_events = events(&at_caller, 101);
    assert!(
        !caller_events.is_empty() && caller_events.iter().all(|e| *e == 7),
        "agent's digit 7 must reach the caller as telephone-event 101: {at_caller:?}"
    );
    assert!(
        !at_caller.iter().any(|p| p.pt == 96),
        "payload type 96 leaked to the caller"
    );
    hang_up(&h, call, agent);
}

#[test]
fn late_offer_is_answered_in_the_ack_and_audio_flows() {
    let h = Hotline::start(Options::default());
    let agent = SippAgent::start(
        &h,
        AgentSetup {
            hold_ms: 8000,
            ..AgentSetup::default()
        },
    );
    let caller_rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = caller_rtp.local_addr().unwrap().port();
    let answer = caller_sdp(port, 1, &[(0, "PCMU")], "sendrecv");
    let call = call_agent(&h, &agent, None, Some(&answer));
    // hotline's offer in the 200 lists both laws and telephone-event.
    let m = call.ok.m_line();
    let pts: Vec<&str> = m.split_whitespace().skip(3).collect();
    assert!(
        pts.contains(&"0") && pts.contains(&"8"),
        "offer without G.711: {m}"
    );
    assert!(
        call.ok.body.contains("telephone-event/8000"),
        "{}",
        call.ok.body
    );

    let from_caller = audio(0, CALLER_SSRC, 1, 50, 0);
    let from_agent = audio(0, 0xa6e7_0002, 1, 50, 33);
    let (at_caller, at_agent) = exchange(
        Party {
            sock: &caller_rtp,
            to: call.caller_side,
            packets: from_caller.clone(),
        },
        Party {
            sock: &agent.rtp,
            to: call.agent_side,
            packets: from_agent.clone(),
        },
    );
    let to_agent = matching(&at_agent, 0, &expected(&from_caller, |b| b));
    let to_caller = matching(&at_caller, 0, &expected(&from_agent, |b| b));
    assert!(
        to_agent >= 40,
        "{to_agent} of 50 caller packets reached the agent"
    );
    assert!(
        to_caller >= 40,
        "{to_caller} of 50 agent packets reached the caller"
    );
    hang_up(&h, call, agent);
}

#[test]
fn offer_without_a_common_codec_gets_488_with_warning_305() {
    let h = Hotline::start(Options::default());
    let mut uac = Uac::new(h.sip, "200");
    let sdp = "v=0\r\no=caller 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
               m=audio 40000 RTP/AVP 18\r\na=rtpmap:18 G729/8000\r\na=sendrecv\r\n";
    let resp = uac.invite(Some(sdp), None);
    assert_eq!(resp.status(), Some(488), "{}", resp.start);
    let warning = resp.header("warning").expect("488 without a Warning");
    assert!(warning.starts_with("305 "), "Warning: {warning}");
    let ended = h.wait_type("call.ended", Duration::from_secs(5));
    assert_eq!(ended["hung_up_by"], "system");
    // The server keeps serving.
    let r = support::http::get(h.http, "/healthz", None).unwrap();
    assert_eq!(r.status, 200);
}

#[test]
fn hold_plays_music_to_the_other_party_and_resume_bridges_again() {
    let h = Hotline::start(Options::default());
    let agent = SippAgent::start(
        &h,
        AgentSetup {
            hold_ms: 9000,
            ..AgentSetup::default()
        },
    );
    let caller_rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = caller_rtp.local_addr().unwrap().port();
    let sdp = caller_sdp(port, 1, &[(0, "PCMU")], "sendrecv");
    let mut call = call_agent(&h, &agent, Some(&sdp), None);
    let agent_ssrc = 0xa6e7_0003;
    let talk = |call: &Answered, seq: u16, n: u16| {
        let from_caller = audio(0, CALLER_SSRC, seq, n, 0);
        let from_agent = audio(0, agent_ssrc, seq, n, 99);
        let (at_caller, at_agent) = exchange(
            Party {
                sock: &caller_rtp,
                to: call.caller_side,
                packets: from_caller.clone(),
            },
            Party {
                sock: &agent.rtp,
                to: call.agent_side,
                packets: from_agent.clone(),
            },
        );
        let to_agent = matching(&at_agent, 0, &expected(&from_caller, |b| b));
        let to_caller = matching(&at_caller, 0, &expected(&from_agent, |b| b));
        (to_agent, to_caller, at_agent.len())
    };
    let (to_agent, to_caller, _) = talk(&call, 1, 25);
    assert!(to_agent >= 20 && to_caller >= 20, "not bridged before hold");

    // The caller holds: hotline answers recvonly, the agent hears music, not the caller.
    let hold = caller_sdp(port, 2, &[(0, "PCMU")], "sendonly");
    let resp = call.uac.invite(Some(&hold), None);
    assert_eq!(resp.status(), Some(200), "{}", resp.start);
    assert!(
        resp.body.contains("a=recvonly"),
        "hold answer:\n{}",
        resp.body
    );
    h.wait_type("call.held", Duration::from_secs(5));
    let (to_agent, _, arrived) = talk(&call, 26, 50);
    assert_eq!(
        to_agent, 0,
        "the caller's audio reached the agent while on hold"
    );
    assert!(
        arrived >= 30,
        "the agent got only {arrived} packets of music in 1 s while the caller held"
    );

    // Resume: bridged again both ways.
    let resume = caller_sdp(port, 3, &[(0, "PCMU")], "sendrecv");
    let resp = call.uac.invite(Some(&resume), None);
    assert_eq!(resp.status(), Some(200), "{}", resp.start);
    assert!(
        resp.body.contains("a=sendrecv"),
        "resume answer:\n{}",
        resp.body
    );
    h.wait_type("call.resumed", Duration::from_secs(5));
    let (to_agent, to_caller, _) = talk(&call, 76, 50);
    assert!(
        to_agent >= 40 && to_caller >= 40,
        "not bridged after resume: {to_agent} to agent, {to_caller} to caller"
    );
    hang_up(&h, call, agent);
}

#[test]
fn a_bridged_call_without_rtp_is_hung_up_on_both_sides() {
    let h = Hotline::start(Options {
        rtp_timeout: "2s",
        ..Options::default()
    });
    let agent = SippAgent::start(
        &h,
        AgentSetup {
            hold_ms: 7000,
            ..AgentSetup::default()
        },
    );
    let caller_rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = caller_rtp.local_addr().unwrap().port();
    let sdp = caller_sdp(port, 1, &[(0, "PCMU")], "sendrecv");
    let mut call = call_agent(&h, &agent, Some(&sdp), None);
    // Nobody sends RTP: hotline sends BYE to the caller (answered by Uac::recv) ...
    let deadline = Instant::now() + Duration::from_secs(10);
    while call.uac.byes == 0 {
        let left = deadline
            .checked_duration_since(Instant::now())
            .expect("no BYE from hotline to the silent caller");
        call.uac.recv(left);
    }
    let ended = h.wait_type("call.ended", Duration::from_secs(5));
    assert_eq!(ended["reason"], "media_timeout");
    assert_eq!(ended["hung_up_by"], "system");
    // ... and to the agent.
    let run = agent.finish(Duration::from_secs(20));
    run.assert_ok("agent");
    assert!(
        run.output.contains("BYE sip:"),
        "the agent got no BYE:\n{}",
        run.output
    );
}
