//! In-queue callbacks dialed through a SIP trunk, agent first, on real UDP. Queue `support`
//! offers a callback after 2 s, retries a failed one after 2 s, and its only registered agent
//! (a SIPp phone) is not ready; the trunk's gateway is the customer's phone, played by the test.
//! A caller presses 1 and hangs up; the agent becomes ready: the agent's phone rings first and
//! answers, and only then does the customer's phone get the INVITE (From: the trunk's number);
//! it answers, RTP flows both ways through hotline, `callback.connected`; the customer hangs
//! up, the agent is hung up and the conversation ends (`call.ended`). A customer busy on the
//! first attempt (486) is `callback.failed` busy, the agent released and hung up, and answers
//! the retry: `callback.due` and `callback.connected` for attempt 2.

#![allow(clippy::unwrap_used)]

#[path = "trunk/raw_trunk.rs"]
mod raw_trunk;
mod support;

use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

use raw_trunk::RawTrunk;
use serde_json::Value;
use support::agent::{AgentSetup, SippAgent};
use support::http::post;
use support::sipp::Sipp;
use support::uac::Sip;
use support::{rtp, Hotline, Options};

const TOKEN: &str = "hotline-demo-token";
const FROM_NUMBER: &str = "+8675512345678";
const CUSTOMER: &str = "+8613800000000";

const PLAN: &str = r#"version: 1
numbers:
  "800":
    start: wait
    nodes:
      wait: { queue: support }
"#;

/// `support` offers a callback after 2 s and retries after 2 s; one trunk whose gateway is
/// `gateway`.
fn options(gateway: SocketAddr) -> Options {
    let trunk = support::carrier_trunk(FROM_NUMBER, gateway, "+86XXXXXXXXXXX", "");
    Options {
        config_edits: vec![
            (
                "    strategy: longest_idle\n",
                "    strategy: longest_idle\n    callback_offer: 2s\n    callback_retry_delay: 2s\n",
            ),
            trunk,
        ],
        ..Options::default()
    }
}

fn set_state(h: &Hotline, agent: &str, body: &str) {
    let path = format!("/api/v1/agents/{agent}/state");
    let r = post(h.http, &path, Some(TOKEN), body).unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
}

/// Starts hotline and the agent (not ready); a caller presses 1 and becomes a callback.
/// Returns the callback's call id.
fn callback_requested(h: &Hotline) -> String {
    set_state(h, "1001", r#"{"state":"not_ready","reason":"meeting"}"#);
    h.wait_agent_state("1001", "not_ready", Duration::from_secs(5));
    let caller = Sipp::new("caller_survey.xml", h.sip)
        .var("press_ms", 4_000)
        .var("key", 1)
        .var("bye_ms", 20_000)
        .args(&["-s", "800", "-m", "1"])
        .spawn();
    let converted = h.wait_type("callback.converted", Duration::from_secs(15));
    assert_eq!(converted["number"], CUSTOMER, "{converted}");
    let call = converted["call_id"].as_str().unwrap().to_owned();
    h.wait_event("the caller's end", Duration::from_secs(15), |e| {
        e["type"] == "call.ended" && e["call_id"] == call.as_str()
    });
    caller
        .wait(Duration::from_secs(10))
        .assert_ok("caller (hung up by hotline after the thanks)");
    call
}

fn event_of(h: &Hotline, call: &str, kind: &str, secs: u64) -> Value {
    h.wait_event(kind, Duration::from_secs(secs), |e| {
        e["call_id"] == call && e["type"] == kind
    })
}

/// The customer's phone gets the INVITE only after the agent answered (the agent's phone
/// wrote hotline's RTP port when it rang, and answers right after).
fn customer_invite(trunk: &RawTrunk, agent: &SippAgent) -> (Sip, SocketAddr, SocketAddr) {
    let agent_leg = agent.hotline_rtp(Duration::from_secs(10));
    let (invite, from) = trunk.expect("INVITE", Duration::from_secs(15));
    let from_header = invite.header("from").unwrap_or_default().to_string();
    assert!(from_header.contains(FROM_NUMBER), "{from_header}");
    assert!(
        invite.start.contains(&format!("sip:{CUSTOMER}@")),
        "{}",
        invite.start
    );
    (invite, from, agent_leg)
}

#[test]
fn a_due_callback_rings_the_agent_then_dials_the_customer_and_bridges_them() {
    let trunk = RawTrunk::bind();
    let h = Hotline::start_with_dialplan(options(trunk.addr), PLAN);
    let dir = tempfile::tempdir().unwrap();
    let pop_file = dir.path().join("screen_pop.json");
    let pop_path = pop_file.display().to_string();
    let agent = SippAgent::start(
        &h,
        AgentSetup {
            id: "1001",
            hold_ms: 60_000,
            answer_scenario: "agent_answer_data.xml",
            extra: vec!["-key", "data_file", &pop_path],
            ..AgentSetup::default()
        },
    );
    let call = callback_requested(&h);
    // Nothing reaches the customer while the agent is not ready.
    assert!(!trunk.anything_within(Duration::from_millis(300)));

    set_state(&h, "1001", r#"{"state":"ready"}"#);
    let due = event_of(&h, &call, "callback.due", 10);
    assert_eq!(due["agent_id"], "1001", "{due}");
    assert_eq!(due["attempt"], 1, "{due}");
    let (invite, from, agent_leg) = customer_invite(&trunk, &agent);
    // The agent's phone showed whom to call back and why.
    let pop: Value =
        serde_json::from_str(std::fs::read_to_string(&pop_file).unwrap().trim()).unwrap();
    assert_eq!(
        pop,
        serde_json::json!({
            "attempt": "1",
            "callback_note": "in-queue offer",
            "callback_number": CUSTOMER,
            "queue": "support"
        })
    );
    // No outcome yet while the customer's phone rings.
    let events = h.events();
    assert!(
        !events
            .iter()
            .any(|e| e["call_id"] == call.as_str() && e["type"] == "callback.failed"),
        "{events:?}"
    );

    let customer_rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
    trunk.answer(&invite, from, customer_rtp.local_addr().unwrap().port());
    let connected = event_of(&h, &call, "callback.connected", 10);
    assert_eq!(connected["agent_id"], "1001", "{connected}");
    trunk.expect("ACK", Duration::from_secs(5));
    // The queue records every call: the callback's conversation too.
    event_of(&h, &call, "recording.started", 10);

    // Audio both ways: the agent's packets reach the customer and the customer's the agent.
    let customer_leg = invite.sdp_rtp();
    let (to_customer, to_agent) = std::thread::scope(|s| {
        let c = s.spawn(|| {
            rtp::talk(
                &customer_rtp,
                customer_leg,
                0,
                0x55,
                50,
                Duration::from_millis(300),
            )
        });
        let a = rtp::talk(
            &agent.rtp,
            agent_leg,
            0,
            0x33,
            50,
            Duration::from_millis(300),
        );
        (c.join().unwrap(), a)
    });
    let from_agent = to_customer
        .iter()
        .filter(|p| p.payload.get(2) == Some(&0x33))
        .count();
    let from_customer = to_agent
        .iter()
        .filter(|p| p.payload.get(2) == Some(&0x55))
        .count();
    assert!(
        from_agent >= 40,
        "the customer got {from_agent} of the agent's 50 packets"
    );
    assert!(
        from_customer >= 40,
        "the agent got {from_customer} of the customer's 50 packets"
    );

    // The customer hangs up: the agent is hung up and the conversation ends.
    trunk.bye(&invite, from);
    let ended = h.wait_event("the callback's end", Duration::from_secs(10), |e| {
        e["call_id"] == call.as_str()
            && e["type"] == "call.ended"
            && e["reason"] != "callback_requested"
    });
    assert_eq!(ended["reason"], "completed", "{ended}");
    assert_eq!(ended["hung_up_by"], "caller", "{ended}");
    event_of(&h, &call, "recording.completed", 10);
    h.wait_agent_state("1001", "ready", Duration::from_secs(10));
    assert!(h.events().iter().all(|e| e["type"] != "callback.failed"));
}

#[test]
fn a_busy_customer_is_retried_and_answers_the_second_attempt() {
    let trunk = RawTrunk::bind();
    let h = Hotline::start_with_dialplan(options(trunk.addr), PLAN);
    let agent = SippAgent::start(
        &h,
        AgentSetup {
            id: "1001",
            hold_ms: 60_000,
            ..AgentSetup::default()
        },
    );
    let call = callback_requested(&h);
    set_state(&h, "1001", r#"{"state":"ready"}"#);

    let (invite, from, _) = customer_invite(&trunk, &agent);
    trunk.respond(&invite, from, "486 Busy Here", &[]);
    let failed = event_of(&h, &call, "callback.failed", 10);
    assert_eq!(failed["cause"], "busy", "{failed}");
    assert_eq!(failed["attempts"], 1, "{failed}");
    assert_eq!(failed["agent_id"], "1001", "{failed}");
    assert_eq!(failed["retry_after_ms"], 2_000, "{failed}");
    assert_eq!(failed["sip_status"], 486, "{failed}");

    // The retry: the agent is rung again first, then the customer, who answers.
    let due = h.wait_event("the second attempt", Duration::from_secs(15), |e| {
        e["call_id"] == call.as_str() && e["type"] == "callback.due" && e["attempt"] == 2
    });
    assert_eq!(due["agent_id"], "1001", "{due}");
    let (invite, from, _) = loop {
        let (m, from, leg) = customer_invite(&trunk, &agent);
        // The first INVITE's retransmissions or its ACK are not the retry.
        if m.header("call-id") != invite.header("call-id") {
            break (m, from, leg);
        }
    };
    let customer_rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
    trunk.answer(&invite, from, customer_rtp.local_addr().unwrap().port());
    let connected = event_of(&h, &call, "callback.connected", 10);
    assert_eq!(connected["agent_id"], "1001", "{connected}");
    let outcomes: Vec<String> = h
        .events()
        .iter()
        .filter(|e| e["call_id"] == call.as_str())
        .map(|e| e["type"].as_str().unwrap().to_string())
        .filter(|t| t.starts_with("callback.") && t != "callback.offered")
        .collect();
    assert_eq!(
        outcomes,
        [
            "callback.accepted",
            "callback.converted",
            "callback.due",
            "callback.dialing",
            "callback.failed",
            "callback.due",
            "callback.dialing",
            "callback.connected"
        ],
        "{outcomes:?}"
    );
    trunk.bye(&invite, from);
    h.wait_event("the callback's end", Duration::from_secs(10), |e| {
        e["call_id"] == call.as_str() && e["type"] == "call.ended" && e["reason"] == "completed"
    });
}

#[test]
fn an_agent_who_declines_the_callback_is_released_and_the_customer_is_never_dialed() {
    let trunk = RawTrunk::bind();
    let h = Hotline::start_with_dialplan(options(trunk.addr), PLAN);
    // SIPp checks a response's status code when it loads the scenario: a private copy.
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("agent_reject.xml");
    let template =
        std::fs::read_to_string(support::root().join("tests/sipp/agent_reject.xml")).unwrap();
    std::fs::write(
        &scenario,
        template
            .replace("{{status}}", "486")
            .replace("{{reason}}", "Busy Here"),
    )
    .unwrap();
    let _agent = SippAgent::start(
        &h,
        AgentSetup {
            id: "1001",
            hold_ms: 60_000,
            answer_scenario: scenario.to_str().unwrap(),
            ..AgentSetup::default()
        },
    );
    let call = callback_requested(&h);
    set_state(&h, "1001", r#"{"state":"ready"}"#);
    let failed = event_of(&h, &call, "callback.failed", 10);
    assert_eq!(failed["cause"], "agent_unavailable", "{failed}");
    assert_eq!(failed["attempts"], 1, "{failed}");
    // The customer's phone never rang for an agent who was not there.
    assert!(!trunk.anything_within(Duration::from_millis(500)));
}
