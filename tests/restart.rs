//! Restart after a crash: calls cut by the crash get their terminal event, agents keep their
//! not-ready state.

#![allow(clippy::unwrap_used)]

mod support;

use std::time::Duration;

use support::agent::{AgentSetup, SippAgent};
use support::http::post;
use support::sipp::Sipp;
use support::{Hotline, Options};

const TOKEN: &str = "hotline-demo-token";

#[test]
fn kill_9_ends_cut_calls_with_node_restart_and_keeps_not_ready_agents() {
    let mut h = Hotline::start(Options::default());
    // Registered for longer than the test, so the restored registration is still valid.
    let agent = SippAgent::start(
        &h,
        AgentSetup {
            hold_ms: 60_000,
            ..AgentSetup::default()
        },
    );
    let r = post(
        h.http,
        "/api/v1/agents/1001/state",
        Some(TOKEN),
        r#"{"state":"not_ready","reason":"lunch"}"#,
    )
    .unwrap();
    assert_eq!(r.status, 200, "{}", r.body);

    // A caller waits in queue support (number 200, digit 1): its only agent is not ready.
    let caller = Sipp::new("caller_ivr.xml", h.sip)
        .var("digit", 1)
        .var("talk_ms", 60_000)
        .key("caller_pt", 0)
        .args(&["-s", "200", "-m", "1"])
        .spawn();
    let queued = h.wait_type("call.queued", Duration::from_secs(10));
    let call_id = queued["call_id"].as_str().unwrap().to_string();

    // kill -9: keep the data folder, drop (SIGKILL) the process.
    let (sip, http) = (h.sip, h.http);
    let dir = std::mem::replace(&mut h.dir, tempfile::tempdir().unwrap());
    drop(h);
    let before = support::read_events(&dir.path().join("events.jsonl"));
    assert!(
        !before
            .iter()
            .any(|e| e["type"] == "call.ended" && e["call_id"] == call_id.as_str()),
        "the call had ended before the kill"
    );

    let h = Hotline::start_in(dir, sip, http, Options::default());
    let ended = h.wait_event("call.ended node_restart", Duration::from_secs(10), |e| {
        e["type"] == "call.ended" && e["call_id"] == call_id.as_str()
    });
    assert_eq!(ended["reason"], "node_restart", "{ended}");
    assert_eq!(ended["hung_up_by"], "system", "{ended}");
    assert_eq!(ended["queue"], "support", "{ended}");
    let ends = h
        .events()
        .iter()
        .filter(|e| e["type"] == "call.ended" && e["call_id"] == call_id.as_str())
        .count();
    assert_eq!(ends, 1, "exactly one terminal event");

    h.wait_agent_state("1001", "not_ready", Duration::from_secs(10));
    let a = h.agent("1001");
    assert_eq!(a["reason"], "lunch", "{a}");
    assert_eq!(a["contacts"], 1, "{a}");

    let _ = caller.wait(Duration::from_millis(100));
    let _ = agent.finish(Duration::from_millis(100));
}
