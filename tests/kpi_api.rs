//! KPIs, queue and agent details and skills through the API, with real peers: a SIPp caller
//! answered by a SIPp agent shows in `/api/v1/kpis` and `/metrics`, the counts survive a
//! restart (replayed from the journal), and `PUT /api/v1/agents/{id}/skills` changes the
//! running router.

#![allow(clippy::unwrap_used)]

mod support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use serde_json::Value;
use support::agent::{AgentSetup, SippAgent};
use support::http::get;
use support::sipp::Sipp;
use support::{poll_until, root, Hotline, Options};

const TOKEN: &str = "hotline-demo-token";

fn json(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"))
}

/// `PUT` with a JSON body; returns status and body.
fn put(addr: SocketAddr, path: &str, token: Option<&str>, body: &str) -> (u16, String) {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
    let req = format!(
        "PUT {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n{auth}\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let status = raw.split(' ').nth(1).unwrap().parse().unwrap();
    let body = raw
        .split_once("\r\n\r\n")
        .map_or("", |(_, b)| b)
        .to_string();
    (status, body)
}

/// The KPIs of `queue` over the last 15 minutes, from the whole snapshot.
fn last_15m(snapshot: &Value, queue: &str) -> Value {
    snapshot["queues"][queue]["windows"]
        .as_array()
        .unwrap_or_else(|| panic!("no queue {queue}: {snapshot}"))
        .iter()
        .find(|w| w["window"]["kind"] == "rolling" && w["window"]["seconds"] == 900)
        .map(|w| w["kpis"].clone())
        .unwrap()
}

/// Waits until `GET /api/v1/kpis` shows `answered` answered calls in queue support.
fn wait_answered(h: &Hotline, answered: u64) -> Value {
    let mut snap = Value::Null;
    let ok = poll_until(Duration::from_secs(10), || {
        let r = get(h.http, "/api/v1/kpis", Some(TOKEN)).unwrap();
        assert_eq!(r.status, 200, "{}", r.body);
        snap = json(&r.body);
        last_15m(&snap, "support")["answered"] == answered
    });
    assert!(ok, "KPIs never showed {answered} answered: {snap}");
    snap
}

/// The value of the first `/metrics` sample named `name` carrying every label in `labels`.
fn sample(metrics: &str, name: &str, labels: &[&str]) -> Option<f64> {
    metrics
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter(|l| l.split(['{', ' ']).next() == Some(name))
        .find(|l| labels.iter().all(|lab| l.contains(lab)))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

#[test]
fn an_answered_call_shows_in_kpis_and_metrics_and_survives_a_restart() {
    let h = Hotline::start(Options::default());
    let agent = SippAgent::start(
        &h,
        AgentSetup {
            hold_ms: 12_000,
            ..AgentSetup::default()
        },
    );
    // Number 100, digit 1: queue support, where agent 1001 answers.
    let caller = Sipp::new("caller_ivr.xml", h.sip)
        .var("digit", 1)
        .var("talk_ms", 2000)
        .key("caller_pt", 0)
        .args(&["-s", "100", "-m", "1", "-rtp_echo"])
        .spawn();
    let queued = h.wait_type("call.queued", Duration::from_secs(10));
    let answered = h.wait_type("call.answered", Duration::from_secs(10));
    caller.wait(Duration::from_secs(20)).assert_ok("caller");
    h.wait_type("call.ended", Duration::from_secs(5));
    agent.finish(Duration::from_secs(20)).assert_ok("agent");

    // The wait as measured between the journal's own timestamps.
    let ts = |e: &Value| {
        time::OffsetDateTime::parse(
            e["ts"].as_str().unwrap(),
            &time::format_description::well_known::Rfc3339,
        )
        .unwrap()
    };
    let measured_ms = (ts(&answered) - ts(&queued)).whole_milliseconds() as f64;
    let wait_ms = answered["wait_ms"].as_u64().unwrap() as f64;

    let snap = wait_answered(&h, 1);
    let support = last_15m(&snap, "support");
    assert_eq!(support["offered"], 1, "{support}");
    assert_eq!(support["answered"], 1, "{support}");
    assert_eq!(support["abandoned"], 0, "{support}");
    let asa_ms = support["asa_s"].as_f64().unwrap() * 1000.0;
    assert!(
        (asa_ms - wait_ms).abs() < 1.0,
        "ASA {asa_ms} ms, wait {wait_ms} ms"
    );
    // Emitters stamp their own time, so allow a few ms of skew around the journal's view.
    assert!(
        asa_ms <= measured_ms + 20.0,
        "ASA {asa_ms} ms beyond the measured wait {measured_ms} ms"
    );
    assert_eq!(support["service_level"], 1.0, "answered well within 20 s");
    assert_eq!(last_15m(&snap, "billing")["offered"], 0);
    assert!(snap["agents"]["1001"].is_object(), "{snap}");

    // One queue, one agent; rollups by period; unknown ids and periods.
    let r = get(h.http, "/api/v1/kpis/queues/support", Some(TOKEN)).unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    let q = json(&r.body);
    assert_eq!(q["queue"], "support");
    assert_eq!(q["utc_offset"], "+00:00");
    assert_eq!(q["short_abandon_threshold_ms"], 5000);
    assert_eq!(q["windows"][0]["kpis"]["answered"], 1, "{q}");
    let r = get(
        h.http,
        "/api/v1/kpis/queues/support?period=day",
        Some(TOKEN),
    )
    .unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    let days = json(&r.body);
    assert_eq!(days["period"], "day");
    let today = days["history"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(today["kpis"]["offered"], 1, "{days}");
    assert_eq!(today["kpis"]["answered"], 1, "{days}");
    let r = get(h.http, "/api/v1/kpis/agents/1001?period=month", Some(TOKEN)).unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    let months = json(&r.body);
    let this_month = months["history"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(this_month["kpis"]["answered"], 1, "{months}");
    let r = get(h.http, "/api/v1/kpis/agents/1001", Some(TOKEN)).unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(json(&r.body)["agent"], "1001");
    for path in [
        "/api/v1/kpis/queues/nope",
        "/api/v1/kpis/agents/9999",
        "/api/v1/kpis/agents/9999?period=week",
    ] {
        assert_eq!(
            get(h.http, path, Some(TOKEN)).unwrap().status,
            404,
            "{path}"
        );
    }
    let r = get(
        h.http,
        "/api/v1/kpis/queues/support?period=year",
        Some(TOKEN),
    )
    .unwrap();
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("day, week or month"), "{}", r.body);
    for path in ["/api/v1/kpis", "/api/v1/kpis/queues/support"] {
        assert_eq!(get(h.http, path, None).unwrap().status, 401, "{path}");
        assert_eq!(get(h.http, path, Some("wrong")).unwrap().status, 401);
    }

    // /metrics: the wait histogram counted the answered call; KPI gauges are appended.
    let m = get(h.http, "/metrics", None).unwrap().body;
    let labels = [r#"queue="support""#, r#"outcome="answered""#];
    assert_eq!(
        sample(&m, "hotline_queue_wait_seconds_count", &labels),
        Some(1.0),
        "{m}"
    );
    let sum = sample(&m, "hotline_queue_wait_seconds_sum", &labels).unwrap();
    assert!(
        (sum * 1000.0 - wait_ms).abs() < 1.0,
        "histogram sum {sum} s"
    );
    let window = [r#"queue="support""#, r#"window="last_15m""#];
    assert_eq!(sample(&m, "hotline_kpi_queue_offered", &window), Some(1.0));
    assert_eq!(sample(&m, "hotline_kpi_queue_answered", &window), Some(1.0));
    assert_eq!(
        sample(&m, "hotline_kpi_queue_service_level", &window),
        Some(1.0)
    );
    assert!(sample(&m, "hotline_queue_waiting_calls", &[r#"queue="support""#]).is_some());
    assert!(sample(&m, "hotline_agents", &[r#"state="ready""#]).is_some());
    assert_eq!(
        sample(
            &m,
            "hotline_queue_longest_wait_seconds",
            &[r#"queue="support""#]
        ),
        Some(0.0)
    );

    // A graceful restart on the same data folder: the KPIs are replayed from the journal.
    let (sip, http) = (h.sip, h.http);
    let dir = h.stop();
    let h = Hotline::start_in(dir, sip, http, Options::default());
    let snap = wait_answered(&h, 1);
    let support = last_15m(&snap, "support");
    assert_eq!(support["offered"], 1, "{support}");
    let asa_after = support["asa_s"].as_f64().unwrap() * 1000.0;
    assert!((asa_after - wait_ms).abs() < 1.0, "{support}");
    let m = get(h.http, "/metrics", None).unwrap().body;
    assert_eq!(sample(&m, "hotline_kpi_queue_answered", &window), Some(1.0));
}

#[test]
fn queue_and_agent_details_and_skills_changes() {
    // Queue support reports in UTC+8 with its own short-abandon threshold.
    let h = Hotline::start(Options {
        config_edits: vec![(
            "    strategy: longest_idle\n",
            "    strategy: longest_idle\n    utc_offset: \"+08:00\"\n    short_abandon: 8s\n",
        )],
        ..Options::default()
    });

    let r = get(h.http, "/api/v1/queues/billing", Some(TOKEN)).unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    let billing = json(&r.body);
    let c = &billing["config"];
    assert_eq!(c["strategy"], "best_skilled", "{billing}");
    assert_eq!(
        c["members"],
        serde_json::json!([{"agent": "1003", "penalty": 0}, {"agent": "1004", "penalty": 1}])
    );
    assert_eq!(c["priority"], 1);
    assert_eq!(
        c["service_level"],
        serde_json::json!({"threshold_ms": 30000, "percent": 80})
    );
    assert_eq!(c["ring_timeout_ms"], 15000);
    assert_eq!(c["wrap_up_ms"], 2000);
    let s = &billing["statistics"];
    assert_eq!(s["waiting"], 0, "{billing}");
    assert_eq!(s["agents_staffed"], 0);
    assert!(
        s["estimated_wait_ms"].is_null(),
        "nobody staffs billing: {s}"
    );
    assert!(s["handle_time_ms"].as_u64().unwrap() > 0);
    let r = get(h.http, "/api/v1/queues/support", Some(TOKEN)).unwrap();
    let support = json(&r.body);
    assert_eq!(
        support["config"]["relaxation"],
        serde_json::json!([{"after_ms": 60000, "action": {"add_queues": {"queues": ["billing"]}}}]),
        "{support}"
    );
    assert_eq!(
        get(h.http, "/api/v1/queues/nope", Some(TOKEN))
            .unwrap()
            .status,
        404
    );
    assert_eq!(
        get(h.http, "/api/v1/queues/billing", None).unwrap().status,
        401
    );

    let r = get(h.http, "/api/v1/agents/1004", Some(TOKEN)).unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    let a = json(&r.body);
    assert_eq!(a["state"], "logged_out");
    assert_eq!(a["skills"], serde_json::json!({"billing": 5}));
    assert_eq!(
        a["queues"],
        serde_json::json!([{"queue": "billing", "penalty": 1}])
    );
    assert_eq!(
        get(h.http, "/api/v1/agents/9999", Some(TOKEN))
            .unwrap()
            .status,
        404
    );

    // PUT replaces the skills in the running router and journals the change.
    let path = "/api/v1/agents/1004/skills";
    let (status, body) = put(
        h.http,
        path,
        Some(TOKEN),
        r#"{"skills":{"billing":9,"french":3}}"#,
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        json(&body)["skills"],
        serde_json::json!({"billing": 9, "french": 3})
    );
    let r = get(h.http, "/api/v1/agents/1004", Some(TOKEN)).unwrap();
    assert_eq!(
        json(&r.body)["skills"],
        serde_json::json!({"billing": 9, "french": 3})
    );
    let ev = h.wait_type("agent.skills_changed", Duration::from_secs(5));
    assert_eq!(ev["agent_id"], "1004");
    assert_eq!(ev["skills"], serde_json::json!({"billing": 9, "french": 3}));

    // Refusals: out-of-range or malformed proficiencies, bad JSON, unknown agent, no token.
    for bad in [
        r#"{"skills":{"billing":11}}"#,
        r#"{"skills":{"billing":0}}"#,
        r#"{"skills":{"billing":"high"}}"#,
    ] {
        let (status, body) = put(h.http, path, Some(TOKEN), bad);
        assert_eq!(status, 400, "{bad}: {body}");
        assert!(body.contains("from 1 to 10"), "{bad}: {body}");
    }
    let (status, body) = put(h.http, path, Some(TOKEN), r#"{"skill":{}}"#);
    assert_eq!(status, 400, "{body}");
    let (status, _) = put(h.http, path, Some(TOKEN), "not json");
    assert_eq!(status, 400);
    let (status, _) = put(
        h.http,
        "/api/v1/agents/9999/skills",
        Some(TOKEN),
        r#"{"skills":{}}"#,
    );
    assert_eq!(status, 404);
    let (status, _) = put(h.http, path, None, r#"{"skills":{}}"#);
    assert_eq!(status, 401);
    // Refused changes left the skills as they were.
    let r = get(h.http, "/api/v1/agents/1004", Some(TOKEN)).unwrap();
    assert_eq!(
        json(&r.body)["skills"],
        serde_json::json!({"billing": 9, "french": 3})
    );

    // The KPI views of a queue and an agent with no calls yet.
    let r = get(h.http, "/api/v1/kpis/queues/support", Some(TOKEN)).unwrap();
    let support = json(&r.body);
    assert_eq!(support["utc_offset"], "+08:00", "{support}");
    assert_eq!(support["short_abandon_threshold_ms"], 8000);
    // Its day starts at local midnight: 16:00 UTC.
    let day = support["windows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["window"]["kind"] == "day")
        .unwrap()
        .clone();
    assert!(
        day["from"].as_str().unwrap().ends_with("T16:00:00.000Z"),
        "{day}"
    );
    let r = get(h.http, "/api/v1/kpis/queues/billing", Some(TOKEN)).unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(json(&r.body)["windows"][0]["kpis"]["offered"], 0);
    let r = get(h.http, "/api/v1/kpis/agents/1004", Some(TOKEN)).unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(json(&r.body)["state"], "logged_out");

    // A configuration reload without the queue's own KPI settings: its reports follow.
    let config_path = h.dir.path().join("hotline.yaml");
    let text = std::fs::read_to_string(&config_path).unwrap();
    let plain = text.replace("    utc_offset: \"+08:00\"\n    short_abandon: 8s\n", "");
    assert_ne!(plain, text);
    std::fs::write(&config_path, plain).unwrap();
    let r = support::http::post(h.http, "/api/v1/config/reload", Some(TOKEN), "").unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    let r = get(h.http, "/api/v1/kpis/queues/support", Some(TOKEN)).unwrap();
    let support = json(&r.body);
    assert_eq!(support["utc_offset"], "+00:00", "{support}");
    assert_eq!(support["short_abandon_threshold_ms"], 5000);
}

/// Number 300 queues to support requiring French at 5 or more.
const FRENCH_DIALPLAN: &str = "\
version: 1
numbers:
  \"300\":
    start: french
    nodes:
      french:
        queue: { name: support, skills: { french: 5 } }
";

#[test]
fn a_skills_change_lets_the_ready_agent_take_the_call_that_needs_it() {
    let plans = tempfile::tempdir().unwrap();
    let plan = plans.path().join("french.yaml");
    std::fs::write(&plan, FRENCH_DIALPLAN).unwrap();
    let bundled = format!(
        "dialplan: {}",
        root().join("dialplans/default.yaml").display()
    );
    let ours = format!("dialplan: {}", plan.display());
    let h = Hotline::start(Options {
        config_edits: vec![(leak(bundled), leak(ours))],
        ..Options::default()
    });
    // 1001 (english 8, no French) is the only agent logged in, ready and idle.
    let agent = SippAgent::start(
        &h,
        AgentSetup {
            hold_ms: 15_000,
            ..AgentSetup::default()
        },
    );
    let rtp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let caller = Sipp::new("caller_wait.xml", h.sip)
        .var("wait_ms", 6000)
        .key("caller_rtp_port", rtp.local_addr().unwrap().port())
        .args(&["-s", "300", "-m", "1"])
        .spawn();
    h.wait_type("call.queued", Duration::from_secs(10));

    // The router dispatches as the call enters, before it answers this: the call waits
    // unoffered while the agent stays ready.
    let r = get(h.http, "/api/v1/queues/support", Some(TOKEN)).unwrap();
    let stats = json(&r.body)["statistics"].clone();
    assert_eq!(
        (stats["waiting"].as_u64(), stats["offering"].as_u64()),
        (Some(1), Some(0)),
        "{stats}"
    );
    let a = json(
        &get(h.http, "/api/v1/agents/1001", Some(TOKEN))
            .unwrap()
            .body,
    );
    assert_eq!(a["state"], "ready", "{a}");
    assert!(!h.events().iter().any(|e| e["type"] == "call.offered"));
    // The waiting call shows in the queue gauges.
    let m = get(h.http, "/metrics", None).unwrap().body;
    let support = [r#"queue="support""#];
    assert_eq!(
        sample(&m, "hotline_queue_waiting_calls", &support),
        Some(1.0)
    );
    let longest = sample(&m, "hotline_queue_longest_wait_seconds", &support).unwrap();
    assert!(longest > 0.0 && longest < 10.0, "{longest}");

    let (status, body) = put(
        h.http,
        "/api/v1/agents/1001/skills",
        Some(TOKEN),
        r#"{"skills":{"english":8,"french":6}}"#,
    );
    assert_eq!(status, 200, "{body}");
    let answered = h.wait_type("call.answered", Duration::from_secs(10));
    assert_eq!(answered["agent_id"], "1001");
    let events = h.events();
    let seq_of = |kind: &str| {
        events
            .iter()
            .find(|e| e["type"] == kind)
            .and_then(|e| e["seq"].as_u64())
            .unwrap_or_else(|| panic!("no {kind}"))
    };
    assert!(
        seq_of("agent.skills_changed") < seq_of("call.offered"),
        "the offer came only after the skills change"
    );
    caller.wait(Duration::from_secs(20)).assert_ok("caller");
    assert_eq!(
        h.wait_type("call.ended", Duration::from_secs(10))["reason"],
        "completed"
    );
    agent.finish(Duration::from_secs(20)).assert_ok("agent");
}

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}
