//! A dialplan queue node that requires a skill: of two ready agents of the queue, the call goes to
//! the one that has it, even though the other has waited longer.

#![allow(clippy::unwrap_used)]

mod support;

use std::net::UdpSocket;
use std::time::Duration;

use support::agent::{AgentSetup, SippAgent};
use support::sipp::Sipp;
use support::{root, Hotline, Options};

/// Number 300 queues to support, requiring French at 5 or more (1002 has 7, 1001 none).
const DIALPLAN: &str = "\
version: 1
numbers:
  \"300\":
    start: french
    nodes:
      french:
        queue: { name: support, skills: { french: 5 }, priority: 2, max_wait: 2m }
";

#[test]
fn the_node_s_required_skill_picks_the_agent() {
    let plans = tempfile::tempdir().unwrap();
    let plan = plans.path().join("french.yaml");
    std::fs::write(&plan, DIALPLAN).unwrap();
    // The harness writes the bundled dialplan's absolute path; point it at ours instead.
    let bundled = format!(
        "dialplan: {}",
        root().join("dialplans/default.yaml").display()
    );
    let ours = format!("dialplan: {}", plan.display());
    let h = Hotline::start(Options {
        config_edits: vec![(leak(bundled), leak(ours))],
        ..Options::default()
    });
    // 1001 is ready first, so it has idled longest: without the skill it would get the call.
    let english = SippAgent::start(
        &h,
        AgentSetup {
            id: "1001",
            hold_ms: 12_000,
            ..AgentSetup::default()
        },
    );
    let french = SippAgent::start(
        &h,
        AgentSetup {
            id: "1002",
            hold_ms: 12_000,
            ..AgentSetup::default()
        },
    );
    let rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let caller = Sipp::new("caller_wait.xml", h.sip)
        .var("wait_ms", 3000)
        .key("caller_rtp_port", rtp.local_addr().unwrap().port())
        .args(&["-s", "300", "-m", "1"])
        .spawn();
    let offered = h.wait_type("call.offered", Duration::from_secs(10));
    assert_eq!(offered["agent_id"], "1002");
    let answered = h.wait_type("call.answered", Duration::from_secs(10));
    assert_eq!(answered["agent_id"], "1002");
    assert_eq!(answered["queue"], "support");
    caller.wait(Duration::from_secs(20)).assert_ok("caller");
    assert_eq!(
        h.wait_type("call.ended", Duration::from_secs(10))["reason"],
        "completed"
    );
    // 1001 was never offered the call.
    assert!(!h
        .events()
        .iter()
        .any(|e| e["type"] == "call.offered" && e["agent_id"] == "1001"));
    french
        .finish(Duration::from_secs(20))
        .assert_ok("agent 1002");
    english
        .finish(Duration::from_secs(20))
        .assert_ok("agent 1001");
}

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}
