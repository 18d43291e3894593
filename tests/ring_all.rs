//! Ring-all on real calls: the support queue rings both of its agents (SIPp phones) at once; the
//! first to answer takes the call and the other phone's INVITE is cancelled; an agent declining
//! leaves the other phone ringing until it answers. Audio flows both ways once bridged.
// Helpers shared by the tests panic on unexpected answers like the tests themselves.
#![allow(clippy::unwrap_used)]

mod support;

use std::net::{SocketAddr, UdpSocket};
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;
use support::agent::{AgentSetup, SippAgent};
use support::sipp::{scenario_path, RunningSipp, Sipp};
use support::{call_event_types, poll_until, rtp, Hotline, Options};

/// hotline with the bundled support queue (agents 1001 and 1002) switched to ring-all.
fn ring_all_hotline() -> Hotline {
    Hotline::start(Options {
        config_edits: vec![("strategy: longest_idle", "strategy: ring_all")],
        ..Options::default()
    })
}

/// A UDP socket standing for the caller's phone audio.
fn rtp_socket() -> UdpSocket {
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    s.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
    s
}

/// A caller dialing 200 (straight into the support queue) whose SDP points at `rtp`; it stays
/// `wait_ms` after the answer, then hangs up.
fn caller(h: &Hotline, rtp: &UdpSocket, wait_ms: u64) -> RunningSipp {
    Sipp::new("caller_wait.xml", h.sip)
        .var("wait_ms", wait_ms)
        .key("caller_rtp_port", rtp.local_addr().unwrap().port())
        .args(&["-s", "200", "-m", "1"])
        .spawn()
}

/// A private copy of the answering phone that rings `ms` before it answers, so the other agent's
/// phone is surely ringing (or has declined) first.
fn answering_after(dir: &Path, ms: u64) -> String {
    let template = std::fs::read_to_string(scenario_path("agent_answer.xml")).unwrap();
    let answer = "  <send retrans=\"500\">";
    assert_eq!(template.matches(answer).count(), 1, "one 200 OK to delay");
    let delayed = template.replace(
        answer,
        &format!("  <pause milliseconds=\"{ms}\"/>\n{answer}"),
    );
    let path = dir.join("agent_answer_delayed.xml");
    std::fs::write(&path, delayed).unwrap();
    path.display().to_string()
}

/// A private copy of the declining phone answering `status reason`.
fn rejecting(dir: &Path, status: &str, reason: &str) -> String {
    let template = std::fs::read_to_string(scenario_path("agent_reject.xml")).unwrap();
    let path = dir.join("agent_reject.xml");
    std::fs::write(
        &path,
        template
            .replace("{{status}}", status)
            .replace("{{reason}}", reason),
    )
    .unwrap();
    path.display().to_string()
}

fn agent(h: &Hotline, id: &str, scenario: &str, extra: Vec<&str>) -> SippAgent {
    SippAgent::start(
        h,
        AgentSetup {
            id,
            hold_ms: 10_000,
            answer_scenario: scenario,
            extra,
            ..AgentSetup::default()
        },
    )
}

fn wait_mark(path: &Path, word: &str, timeout: Duration) -> bool {
    poll_until(timeout, || {
        std::fs::read_to_string(path).is_ok_and(|s| s.contains(word))
    })
}

/// The events of one call, in journal order.
fn call_events(h: &Hotline, call_id: &str) -> Vec<Value> {
    h.events()
        .into_iter()
        .filter(|e| e["call_id"] == call_id)
        .collect()
}

/// The agents offered the call, in journal order.
fn offered_agents(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .filter(|e| e["type"] == "call.offered")
        .map(|e| e["agent_id"].as_str().unwrap().to_string())
        .collect()
}

/// RTP packets received on `sock` during `window`, with where they came from.
fn receive_from(sock: &UdpSocket, window: Duration) -> Vec<(rtp::Rtp, SocketAddr)> {
    let end = Instant::now() + window;
    let mut got = Vec::new();
    let mut buf = [0u8; 2048];
    while Instant::now() < end {
        if let Ok((n, from)) = sock.recv_from(&mut buf) {
            if let Some(p) = rtp::parse(&buf[..n]) {
                got.push((p, from));
            }
        }
    }
    got
}

/// Packets carrying what `rtp::talk` sent with `fill`.
fn filled_with(packets: &[(rtp::Rtp, SocketAddr)], fill: u8) -> usize {
    packets
        .iter()
        .filter(|(p, _)| p.payload.len() == 160 && p.payload[2..].iter().all(|b| *b == fill))
        .count()
}

/// The answering agent and the caller hear each other through hotline.
fn assert_audio_both_ways(answering: &SippAgent, audio: &UdpSocket) {
    let hotline_agent_leg = answering.hotline_rtp(Duration::from_secs(2));
    rtp::talk(
        &answering.rtp,
        hotline_agent_leg,
        0,
        0x55,
        50,
        Duration::from_millis(200),
    );
    let heard = receive_from(audio, Duration::from_millis(300));
    assert!(
        filled_with(&heard, 0x55) >= 40,
        "the caller got {} of the agent's 50 packets ({} packets in all)",
        filled_with(&heard, 0x55),
        heard.len()
    );
    // hotline sends the caller's audio from its caller leg: talk back to it.
    let hotline_caller_leg = heard.last().map(|(_, from)| *from).unwrap();
    rtp::talk(
        audio,
        hotline_caller_leg,
        0,
        0x66,
        50,
        Duration::from_millis(200),
    );
    let back = receive_from(&answering.rtp, Duration::from_millis(300));
    assert!(
        filled_with(&back, 0x66) >= 40,
        "the agent got {} of the caller's 50 packets ({} packets in all)",
        filled_with(&back, 0x66),
        back.len()
    );
}

#[test]
fn both_phones_ring_and_the_first_answer_cancels_the_other() {
    let h = ring_all_hotline();
    let dir = tempfile::tempdir().unwrap();
    let mark = dir.path().join("mark");
    let mark_arg = mark.display().to_string();
    let ringing = agent(
        &h,
        "1001",
        "agent_noanswer.xml",
        vec!["-key", "mark_file", &mark_arg],
    );
    let delayed = answering_after(dir.path(), 1000);
    let answering = agent(&h, "1002", &delayed, Vec::new());
    let audio = rtp_socket();
    let call = caller(&h, &audio, 4000);

    let answered = h.wait_type("call.answered", Duration::from_secs(10));
    assert_eq!(answered["agent_id"], "1002", "{answered}");
    assert!(
        answered["wait_ms"].as_u64().unwrap() >= 900,
        "answered before the delayed phone picked up: {answered}"
    );
    assert!(
        wait_mark(&mark, "cancelled", Duration::from_secs(5)),
        "1001's phone never got the CANCEL"
    );
    // 1001 lost the race without missing anything: still ready, no failed offer.
    assert_eq!(h.agent("1001")["state"], "ready", "{}", h.agent("1001"));
    assert_audio_both_ways(&answering, &audio);

    call.wait(Duration::from_secs(15)).assert_ok("caller");
    let ended = h.wait_type("call.ended", Duration::from_secs(5));
    assert_eq!(ended["reason"], "completed", "{ended}");
    assert_eq!(ended["hung_up_by"], "caller", "{ended}");
    let call_id = ended["call_id"].as_str().unwrap();
    assert_eq!(
        call_event_types(&h.events(), call_id),
        [
            "call.arrived",
            "call.answered_by_ivr",
            "call.queued",
            "call.offered",
            "call.offered",
            "call.answered",
            "call.ended"
        ]
    );
    let events = call_events(&h, call_id);
    let mut offered = offered_agents(&events);
    offered.sort();
    assert_eq!(
        offered,
        ["1001", "1002"],
        "both phones rang for the one call"
    );
    answering
        .finish(Duration::from_secs(15))
        .assert_ok("answering agent 1002");
    ringing
        .finish(Duration::from_secs(15))
        .assert_ok("cancelled agent 1001");
}

#[test]
fn a_declining_agent_leaves_the_other_phone_ringing_until_it_answers() {
    let h = ring_all_hotline();
    let dir = tempfile::tempdir().unwrap();
    let declining = rejecting(dir.path(), "603", "Decline");
    let declining = agent(&h, "1001", &declining, Vec::new());
    let delayed = answering_after(dir.path(), 1500);
    let answering = agent(&h, "1002", &delayed, Vec::new());
    let audio = rtp_socket();
    let call = caller(&h, &audio, 4000);

    let failed = h.wait_event("1001's offer failing", Duration::from_secs(10), |e| {
        e["type"] == "call.offer_failed" && e["agent_id"] == "1001"
    });
    assert_eq!(failed["cause"], "declined", "{failed}");
    let answered = h.wait_type("call.answered", Duration::from_secs(10));
    assert_eq!(answered["agent_id"], "1002", "{answered}");
    assert!(
        answered["wait_ms"].as_u64().unwrap() >= 1400,
        "1002 answered before its phone's delay: {answered}"
    );
    // The decline counted a missed offer for 1001 alone.
    let view = h.agent("1001");
    assert_eq!(view["state"], "not_ready", "{view}");
    assert_eq!(view["reason"], "missed_offer", "{view}");
    assert_audio_both_ways(&answering, &audio);

    call.wait(Duration::from_secs(15)).assert_ok("caller");
    let ended = h.wait_type("call.ended", Duration::from_secs(5));
    assert_eq!(ended["reason"], "completed", "{ended}");
    let call_id = ended["call_id"].as_str().unwrap();
    // 1002's phone rang once, from the start: the decline did not re-offer the call.
    assert_eq!(
        call_event_types(&h.events(), call_id),
        [
            "call.arrived",
            "call.answered_by_ivr",
            "call.queued",
            "call.offered",
            "call.offered",
            "call.offer_failed",
            "call.answered",
            "call.ended"
        ]
    );
    let events = call_events(&h, call_id);
    let mut offered = offered_agents(&events);
    offered.sort();
    assert_eq!(offered, ["1001", "1002"]);
    answering
        .finish(Duration::from_secs(15))
        .assert_ok("answering agent 1002");
    declining
        .finish(Duration::from_secs(15))
        .assert_ok("declining agent 1001");
}
