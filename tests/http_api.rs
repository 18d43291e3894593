//! The HTTP side as an operator and a supervisor tool see it: health, Prometheus metrics, the
//! bearer token, the agent and queue views, and agent state changes with their events.

#![allow(clippy::unwrap_used)]

mod support;

use std::net::UdpSocket;
use std::time::Duration;

use serde_json::Value;
use support::agent::{AgentSetup, SippAgent};
use support::http::{get, post};
use support::{Hotline, Options};

const TOKEN: &str = "hotline-demo-token";

fn json(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"))
}

/// Sends an OPTIONS over UDP and waits for the 200, so the SIP counters have something to count.
fn options_ping(h: &Hotline) {
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let local = sock.local_addr().unwrap();
    let msg = format!(
        "OPTIONS sip:{sip} SIP/2.0\r\nVia: SIP/2.0/UDP {local};branch=z9hG4bKhttpapi1;rport\r\n\
         From: <sip:probe@{local}>;tag=probe1\r\nTo: <sip:{sip}>\r\nCall-ID: http-api-probe\r\n\
         CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
        sip = h.sip
    );
    sock.send_to(msg.as_bytes(), h.sip).unwrap();
    let mut buf = [0u8; 4096];
    let (n, _) = sock.recv_from(&mut buf).expect("no answer to OPTIONS");
    let text = String::from_utf8_lossy(&buf[..n]);
    assert!(text.starts_with("SIP/2.0 200"), "{text}");
}

#[test]
fn health_metrics_token_and_views() {
    let h = Hotline::start(Options::default());

    let r = get(h.http, "/healthz", None).unwrap();
    assert_eq!(r.status, 200);

    options_ping(&h);
    let r = get(h.http, "/metrics", None).unwrap();
    assert_eq!(r.status, 200);
    for name in [
        "hotline_sip_requests_total",
        "hotline_sip_responses_total",
        "hotline_active_calls",
        "hotline_queue_waiting_calls",
        "hotline_agents",
        "hotline_rtp_ports_in_use",
    ] {
        let sample = r
            .body
            .lines()
            .any(|l| !l.starts_with('#') && l.starts_with(name));
        assert!(sample, "/metrics has no sample of {name}:\n{}", r.body);
    }
    let options_counted = r.body.lines().any(|l| {
        l.starts_with("hotline_sip_requests_total") && l.contains("OPTIONS") && !l.ends_with(" 0")
    });
    assert!(options_counted, "the OPTIONS was not counted:\n{}", r.body);

    // The API wants the bearer token.
    for token in [None, Some("wrong-token"), Some("")] {
        for path in ["/api/v1/agents", "/api/v1/queues"] {
            let r = get(h.http, path, token).unwrap();
            assert_eq!(r.status, 401, "GET {path} with {token:?}");
        }
        let r = post(
            h.http,
            "/api/v1/agents/1001/state",
            token,
            r#"{"state":"ready"}"#,
        )
        .unwrap();
        assert_eq!(r.status, 401, "POST with {token:?}");
    }

    // Shapes: every configured agent, logged out; both queues with their members.
    let r = get(h.http, "/api/v1/agents", Some(TOKEN)).unwrap();
    assert_eq!(r.status, 200);
    let agents = json(&r.body);
    let ids: Vec<&str> = agents
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["1001", "1002", "1003", "1004"]);
    let a = &agents[0];
    assert_eq!(a["state"], "logged_out");
    assert_eq!(a["name"], "Agent 1001");
    assert_eq!(a["queues"], serde_json::json!(["support"]));
    assert_eq!(a["contacts"], 0);
    assert!(a["in_state_ms"].is_u64(), "{a}");

    let r = get(h.http, "/api/v1/queues", Some(TOKEN)).unwrap();
    assert_eq!(r.status, 200);
    let queues = json(&r.body);
    let support = queues
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["name"] == "support")
        .unwrap_or_else(|| panic!("no support queue: {queues}"));
    assert_eq!(support["waiting"], 0);
    assert_eq!(support["agents_ready"], 0);
    assert_eq!(support["members"], serde_json::json!(["1001", "1002"]));
    assert!(support["longest_wait_ms"].is_u64());
    assert!(queues
        .as_array()
        .unwrap()
        .iter()
        .any(|q| q["name"] == "billing"));

    // Errors: bad JSON, unknown state, missing reason -> 400; unknown agent -> 404;
    // an agent without a registered phone -> 409.
    for body in [
        "{not json",
        r#"{"state":"asleep"}"#,
        r#"{"state":"not_ready"}"#,
    ] {
        let r = post(h.http, "/api/v1/agents/1001/state", Some(TOKEN), body).unwrap();
        assert_eq!(r.status, 400, "body {body}: {}", r.body);
    }
    let r = post(
        h.http,
        "/api/v1/agents/9999/state",
        Some(TOKEN),
        r#"{"state":"ready"}"#,
    )
    .unwrap();
    assert_eq!(r.status, 404, "{}", r.body);
    let r = post(
        h.http,
        "/api/v1/agents/1002/state",
        Some(TOKEN),
        r#"{"state":"ready"}"#,
    )
    .unwrap();
    assert_eq!(r.status, 409, "{}", r.body);
    assert_eq!(h.agent("1002")["state"], "logged_out");
}

#[test]
fn agent_goes_not_ready_with_a_reason_and_ready_again() {
    let h = Hotline::start(Options::default());
    let agent = SippAgent::start(
        &h,
        AgentSetup {
            hold_ms: 4000,
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
    let shown = json(&r.body);
    assert_eq!(shown["state"], "not_ready");
    assert_eq!(shown["reason"], "lunch");
    let a = h.agent("1001");
    assert_eq!(a["state"], "not_ready");
    assert_eq!(a["reason"], "lunch");
    assert_eq!(a["contacts"], 1);
    let ev = h.wait_event("not_ready event", Duration::from_secs(5), |e| {
        e["type"] == "agent.state_changed" && e["agent_id"] == "1001" && e["to"] == "not_ready"
    });
    assert_eq!(ev["from"], "ready");
    assert_eq!(ev["reason"], "lunch");
    let q = get(h.http, "/api/v1/queues", Some(TOKEN)).unwrap();
    assert!(q.body.contains(r#""agents_ready":0"#), "{}", q.body);

    let r = post(
        h.http,
        "/api/v1/agents/1001/state",
        Some(TOKEN),
        r#"{"state":"ready"}"#,
    )
    .unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(json(&r.body)["state"], "ready");
    let ev = h.wait_event("ready again", Duration::from_secs(5), |e| {
        e["type"] == "agent.state_changed" && e["agent_id"] == "1001" && e["from"] == "not_ready"
    });
    assert_eq!(ev["to"], "ready");
    assert!(ev.get("reason").is_none_or(Value::is_null), "{ev}");
    let m = get(h.http, "/metrics", None).unwrap();
    assert!(
        m.body
            .lines()
            .any(|l| l.starts_with("hotline_agents{state=\"ready\"} 1")),
        "{}",
        m.body
    );

    agent.finish(Duration::from_secs(15)).assert_ok("agent");
    h.wait_agent_state("1001", "logged_out", Duration::from_secs(5));
}
