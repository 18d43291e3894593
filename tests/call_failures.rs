//! What happens to a queued call when things do not go to plan, with real SIPp peers: the caller
//! gives up while waiting, nobody is ready (the caller hears music until an agent comes), an agent
//! lets the phone ring or rejects the offer (the call goes to the next agent, the missed agent goes
//! not ready), and an agent with two phones (the first answer wins, the other phone is cancelled, a
//! late answer is hung up).
// Helpers shared by the tests panic on unexpected answers like the tests themselves.
#![allow(clippy::unwrap_used)]

mod support;

use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::agent::{AgentSetup, SippAgent};
use support::sipp::{scenario_path, RunningSipp, Sipp};
use support::{call_event_types, http, poll_until, rtp, Hotline, Options};

const TOKEN: &str = "hotline-demo-token";

/// Calls waiting in `queue`, as `GET /api/v1/queues` shows them.
fn waiting(h: &Hotline, queue: &str) -> u64 {
    let r = http::get(h.http, "/api/v1/queues", Some(TOKEN)).unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    let all: Value = serde_json::from_str(&r.body).unwrap();
    all.as_array()
        .unwrap()
        .iter()
        .find(|q| q["name"] == queue)
        .and_then(|q| q["waiting"].as_u64())
        .unwrap_or_else(|| panic!("queue {queue} missing: {}", r.body))
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

/// A UDP socket standing for the caller's phone audio.
fn rtp_socket() -> UdpSocket {
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    s.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
    s
}

/// RTP packets received on `sock` during `window`.
fn receive_rtp(sock: &UdpSocket, window: Duration) -> Vec<rtp::Rtp> {
    let end = Instant::now() + window;
    let mut got = Vec::new();
    let mut buf = [0u8; 2048];
    while Instant::now() < end {
        if let Ok((n, _)) = sock.recv_from(&mut buf) {
            if let Some(p) = rtp::parse(&buf[..n]) {
                got.push(p);
            }
        }
    }
    got
}

/// Waits until `path` holds `word` (written by a scenario's `exec`).
fn wait_mark(path: &Path, word: &str, timeout: Duration) -> bool {
    poll_until(timeout, || {
        std::fs::read_to_string(path).is_ok_and(|s| s.contains(word))
    })
}

/// The first event of `kind` about `agent`.
fn agent_event(h: &Hotline, kind: &str, agent: &str, timeout: Duration) -> Value {
    h.wait_event(&format!("{kind} for {agent}"), timeout, |e| {
        e["type"] == kind && e["agent_id"] == agent
    })
}

/// The `ended` event checked as a call the caller completed with an agent.
fn assert_completed_by_caller(h: &Hotline) -> Value {
    let ended = h.wait_type("call.ended", Duration::from_secs(5));
    assert_eq!(ended["reason"], "completed", "{ended}");
    assert_eq!(ended["hung_up_by"], "caller", "{ended}");
    ended
}

#[test]
fn caller_hanging_up_while_queued_is_abandoned() {
    let h = Hotline::start(Options::default());
    let audio = rtp_socket();
    let call = caller(&h, &audio, 2000);

    let queued = h.wait_type("call.queued", Duration::from_secs(10));
    assert_eq!(queued["queue"], "support");
    assert!(
        poll_until(Duration::from_secs(5), || waiting(&h, "support") == 1),
        "the API never showed the call waiting"
    );
    call.wait(Duration::from_secs(15)).assert_ok("caller");

    let abandoned = h.wait_type("call.abandoned", Duration::from_secs(5));
    assert_eq!(abandoned["call_id"], queued["call_id"]);
    assert_eq!(abandoned["queue"], "support");
    let wait_ms = abandoned["wait_ms"].as_u64().unwrap();
    assert!(
        (1500..10_000).contains(&wait_ms),
        "waited 2 s, wait_ms = {wait_ms}"
    );
    let ended = h.wait_type("call.ended", Duration::from_secs(5));
    assert_eq!(ended["reason"], "abandoned", "{ended}");
    assert_eq!(ended["hung_up_by"], "caller", "{ended}");
    let types = call_event_types(&h.events(), queued["call_id"].as_str().unwrap());
    assert_eq!(
        types.last().map(String::as_str),
        Some("call.ended"),
        "{types:?}"
    );
    let at = |t: &str| types.iter().position(|x| x == t).unwrap();
    assert!(at("call.queued") < at("call.abandoned"), "{types:?}");
    assert!(!types.iter().any(|t| t == "call.offered"), "{types:?}");
    assert!(
        poll_until(Duration::from_secs(5), || waiting(&h, "support") == 0),
        "the abandoned call is still counted as waiting"
    );
}

#[test]
fn caller_hears_music_until_an_agent_is_ready_then_is_answered() {
    let h = Hotline::start(Options::default());
    let audio = rtp_socket();
    let call = caller(&h, &audio, 7000);
    h.wait_type("call.queued", Duration::from_secs(10));

    // Nobody is ready: the caller waits, hearing music (PCMU, not silence).
    let music = receive_rtp(&audio, Duration::from_millis(1500));
    assert!(
        music.len() >= 40,
        "only {} RTP packets in 1.5 s of waiting",
        music.len()
    );
    assert!(music.iter().all(|p| p.pt == 0), "not PCMU");
    assert!(
        music
            .iter()
            .any(|p| p.payload.iter().any(|b| *b != 0xff && *b != 0x7f)),
        "the caller hears only silence"
    );
    assert!(!h.events().iter().any(|e| e["type"] == "call.offered"));
    assert_eq!(waiting(&h, "support"), 1);

    // Still waiting, still music, when the agent comes.
    let later = receive_rtp(&audio, Duration::from_millis(500));
    assert!(later.len() >= 10, "music stopped while still queued");
    let agent = SippAgent::start(
        &h,
        AgentSetup {
            hold_ms: 8000,
            ..AgentSetup::default()
        },
    );
    let offered = h.wait_type("call.offered", Duration::from_secs(5));
    assert_eq!(offered["agent_id"], "1001");
    let answered = h.wait_type("call.answered", Duration::from_secs(5));
    assert_eq!(answered["agent_id"], "1001");
    assert!(answered["wait_ms"].as_u64().unwrap() >= 2000, "{answered}");
    agent.hotline_rtp(Duration::from_secs(2));

    call.wait(Duration::from_secs(15)).assert_ok("caller");
    assert_completed_by_caller(&h);
    agent.finish(Duration::from_secs(15)).assert_ok("agent");
}

/// Agent 1001 with the given out-of-call scenario, then 1002 answering normally (1001 registered
/// first has been idle longest, so it is offered the call first).
fn two_agents(h: &Hotline, first_scenario: &str, first_extra: Vec<&str>) -> (SippAgent, SippAgent) {
    let first = SippAgent::start(
        h,
        AgentSetup {
            id: "1001",
            hold_ms: 10_000,
            answer_scenario: first_scenario,
            extra: first_extra,
            ..AgentSetup::default()
        },
    );
    let second = SippAgent::start(
        h,
        AgentSetup {
            id: "1002",
            hold_ms: 10_000,
            ..AgentSetup::default()
        },
    );
    (first, second)
}

/// The missed agent is not ready because it missed the offer, in the API and in the journal.
fn assert_missed_offer(h: &Hotline, agent: &str) {
    let view = h.agent(agent);
    assert_eq!(view["state"], "not_ready", "{view}");
    assert_eq!(view["reason"], "missed_offer", "{view}");
    let changed = h.wait_event("not_ready (missed_offer)", Duration::from_secs(2), |e| {
        e["type"] == "agent.state_changed" && e["agent_id"] == agent && e["to"] == "not_ready"
    });
    assert_eq!(changed["reason"], "missed_offer", "{changed}");
}

fn mark_file(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join("mark")
}

#[test]
fn unanswered_offer_goes_to_the_next_agent_after_the_ring_timeout() {
    let h = Hotline::start(Options {
        ring_timeout: "2s",
        ..Options::default()
    });
    let marks = tempfile::tempdir().unwrap();
    let mark = mark_file(&marks);
    let mark_arg = mark.display().to_string();
    let (first, second) = two_agents(
        &h,
        "agent_noanswer.xml",
        vec!["-key", "mark_file", &mark_arg],
    );
    let audio = rtp_socket();
    let call = caller(&h, &audio, 5000);

    let offered = agent_event(&h, "call.offered", "1001", Duration::from_secs(10));
    assert_eq!(offered["ring_timeout_ms"], 2000);
    let failed = agent_event(&h, "call.offer_failed", "1001", Duration::from_secs(5));
    assert_eq!(failed["cause"], "no_answer", "{failed}");
    let answered = h.wait_type("call.answered", Duration::from_secs(5));
    assert_eq!(answered["agent_id"], "1002");
    assert!(
        answered["wait_ms"].as_u64().unwrap() >= 1900,
        "answered before the ring timeout: {answered}"
    );
    assert_missed_offer(&h, "1001");
    assert!(
        wait_mark(&mark, "cancelled", Duration::from_secs(5)),
        "1001's phone never got the CANCEL"
    );
    second.hotline_rtp(Duration::from_secs(2));

    call.wait(Duration::from_secs(15)).assert_ok("caller");
    let ended = assert_completed_by_caller(&h);
    let types = call_event_types(&h.events(), ended["call_id"].as_str().unwrap());
    let offers = types.iter().filter(|t| *t == "call.offered").count();
    assert_eq!(offers, 2, "{types:?}");
    second
        .finish(Duration::from_secs(15))
        .assert_ok("agent 1002");
    first
        .finish(Duration::from_secs(15))
        .assert_ok("agent 1001");
}

/// 1001 rejects with `status`: the call goes to 1002 at once, long before the 15 s ring timeout.
fn rejected_offer_goes_to_the_next_agent_at_once(status: &str, reason: &str, cause: &str) {
    let h = Hotline::start(Options::default());
    // SIPp checks a response's status code when it loads the scenario, so the status is written
    // into a private copy rather than passed as a key.
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("agent_reject.xml");
    let template = std::fs::read_to_string(scenario_path("agent_reject.xml")).unwrap();
    std::fs::write(
        &scenario,
        template
            .replace("{{status}}", status)
            .replace("{{reason}}", reason),
    )
    .unwrap();
    let (first, second) = two_agents(&h, scenario.to_str().unwrap(), Vec::new());
    let audio = rtp_socket();
    let call = caller(&h, &audio, 3000);

    agent_event(&h, "call.offered", "1001", Duration::from_secs(10));
    let failed = agent_event(&h, "call.offer_failed", "1001", Duration::from_secs(5));
    assert_eq!(failed["cause"], cause, "{failed}");
    let answered = h.wait_type("call.answered", Duration::from_secs(5));
    assert_eq!(answered["agent_id"], "1002");
    assert!(
        answered["wait_ms"].as_u64().unwrap() < 5000,
        "the rejection was not acted on at once: {answered}"
    );
    assert_missed_offer(&h, "1001");
    second.hotline_rtp(Duration::from_secs(2));

    call.wait(Duration::from_secs(15)).assert_ok("caller");
    assert_completed_by_caller(&h);
    second
        .finish(Duration::from_secs(15))
        .assert_ok("agent 1002");
    first
        .finish(Duration::from_secs(15))
        .assert_ok("agent 1001");
}

#[test]
fn busy_agent_486_passes_the_call_on_at_once() {
    rejected_offer_goes_to_the_next_agent_at_once("486", "Busy Here", "busy");
}

#[test]
fn declining_agent_603_passes_the_call_on_at_once() {
    rejected_offer_goes_to_the_next_agent_at_once("603", "Decline", "declined");
}

/// Agent 1001 registered twice: one phone answering, the other with `other_scenario`.
fn agent_with_two_phones(h: &Hotline, other_scenario: &str, mark: &str) -> (SippAgent, SippAgent) {
    let answering = SippAgent::start(
        h,
        AgentSetup {
            hold_ms: 8000,
            ..AgentSetup::default()
        },
    );
    let other = SippAgent::start(
        h,
        AgentSetup {
            hold_ms: 8000,
            answer_scenario: other_scenario,
            extra: vec!["-key", "mark_file", mark],
            ..AgentSetup::default()
        },
    );
    assert!(
        poll_until(Duration::from_secs(5), || h.agent("1001")["contacts"] == 2),
        "agent 1001 does not show two contacts: {}",
        h.agent("1001")
    );
    (answering, other)
}

#[test]
fn first_answer_of_an_agents_two_phones_wins_and_the_other_is_cancelled() {
    let h = Hotline::start(Options::default());
    let marks = tempfile::tempdir().unwrap();
    let mark = mark_file(&marks);
    let (answering, other) =
        agent_with_two_phones(&h, "agent_noanswer.xml", &mark.display().to_string());
    let audio = rtp_socket();
    let call = caller(&h, &audio, 2500);

    let answered = h.wait_type("call.answered", Duration::from_secs(10));
    assert_eq!(answered["agent_id"], "1001");
    answering.hotline_rtp(Duration::from_secs(2));
    assert!(
        wait_mark(&mark, "cancelled", Duration::from_secs(5)),
        "the agent's other phone never got the CANCEL"
    );

    call.wait(Duration::from_secs(15)).assert_ok("caller");
    let ended = assert_completed_by_caller(&h);
    let types = call_event_types(&h.events(), ended["call_id"].as_str().unwrap());
    assert_eq!(
        types.iter().filter(|t| *t == "call.answered").count(),
        1,
        "{types:?}"
    );
    answering
        .finish(Duration::from_secs(15))
        .assert_ok("answering phone");
    other
        .finish(Duration::from_secs(15))
        .assert_ok("cancelled phone");
}

#[test]
fn late_answer_of_an_agents_second_phone_gets_ack_and_bye() {
    let h = Hotline::start(Options::default());
    let marks = tempfile::tempdir().unwrap();
    let mark = mark_file(&marks);
    let (answering, late) =
        agent_with_two_phones(&h, "agent_late_answer.xml", &mark.display().to_string());
    let audio = rtp_socket();
    let call = caller(&h, &audio, 3000);

    let answered = h.wait_type("call.answered", Duration::from_secs(10));
    assert_eq!(answered["agent_id"], "1001");
    answering.hotline_rtp(Duration::from_secs(2));
    assert!(
        wait_mark(&mark, "byed", Duration::from_secs(5)),
        "the late phone's 200 was not acknowledged and hung up"
    );

    call.wait(Duration::from_secs(15)).assert_ok("caller");
    let ended = assert_completed_by_caller(&h);
    let types = call_event_types(&h.events(), ended["call_id"].as_str().unwrap());
    assert_eq!(
        types.iter().filter(|t| *t == "call.answered").count(),
        1,
        "{types:?}"
    );
    answering
        .finish(Duration::from_secs(15))
        .assert_ok("answering phone");
    late.finish(Duration::from_secs(15)).assert_ok("late phone");
}
