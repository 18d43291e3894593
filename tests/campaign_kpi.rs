//! Outbound campaign calls in the KPIs, on real UDP: hotline dials a customer through its trunk
//! (SIPp as the PSTN gateway and the customer's phone, answering twice), and the answered
//! customer is queued in `support` for 2 s (the campaign's connect time). The first call is
//! taken by the SIPp agent 1001, who talks 2 s and hangs up; for the second the agent is not
//! ready, so no agent takes the customer in time and hotline hangs up (a campaign abandon).
//! Then an inbound caller waits 6 s in `support` and hangs up.
//!
//! `GET /api/v1/kpis` and `/metrics` then show: the queue's inbound figures count only the
//! inbound caller (offered 1, abandoned 1, abandon rate 1, nothing answered); the campaign
//! figures count both campaign calls queued, one connected, one abandoned, and the
//! conversation with its talk time and AHT; the conversation is agent 1001's handled work.
//!
//! The calls are started by the debug builds' test hook (`test_campaign_dials.jsonl` in the
//! data folder) and their reports read from `test_campaign_reports.jsonl`.

#![allow(clippy::unwrap_used)]

#[allow(dead_code)] // The speech and tone makers are not needed here.
#[path = "campaign_call/audio.rs"]
mod audio;
mod support;

use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

use serde_json::{json, Value};
use support::agent::{AgentSetup, SippAgent};
use support::http::{get, post};
use support::sipp::Sipp;
use support::{poll_until, Hotline, Options};

const TOKEN: &str = "hotline-demo-token";
const CALLER_ID: &str = "+442071234567";
const NUMBER: &str = "+447700900123";

/// The bundled config with one trunk, `carrier`, to `gateway`.
fn options(gateway: SocketAddr) -> Options {
    let edited = support::carrier_trunk("+442070000000", gateway, "+44*", "");
    Options {
        config_edits: vec![edited],
        ..Options::default()
    }
}

/// Has hotline dial entry `entry` of campaign `spring` to queue `support` (2 s to connect;
/// no answering-machine detection: the answer is a person).
fn dial(h: &Hotline, entry: u64) {
    let d = json!({
        "campaign": "spring", "entry": entry, "attempt": 1,
        "number": NUMBER, "caller_id": CALLER_ID, "trunk": "carrier",
        "ring_timeout_ms": 20_000, "queue": "support", "connect_within_ms": 2_000,
    });
    let tmp = h.dir.path().join("dials.tmp");
    std::fs::write(&tmp, d.to_string()).unwrap();
    std::fs::rename(&tmp, h.dir.path().join("test_campaign_dials.jsonl")).unwrap();
}

/// The reports so far.
fn reports(h: &Hotline) -> Vec<Value> {
    std::fs::read_to_string(h.dir.path().join("test_campaign_reports.jsonl"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// Waits until `n` campaign calls reported their end; the reports.
fn wait_ended(h: &Hotline, n: usize) -> Vec<Value> {
    let ended = |r: &Vec<Value>| r.iter().filter(|r| r["report"] == "ended").count();
    let ok = poll_until(Duration::from_secs(30), || ended(&reports(h)) >= n);
    assert!(
        ok,
        "{} ended reports of {n}; log:\n{}",
        ended(&reports(h)),
        h.log()
    );
    reports(h)
}

fn set_state(h: &Hotline, agent: &str, body: &str) {
    let path = format!("/api/v1/agents/{agent}/state");
    let r = post(h.http, &path, Some(TOKEN), body).unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
}

/// The last-15-minutes window of `key` (a queue or an agent) in a snapshot.
fn last_15m(snapshot: &Value, kind: &str, key: &str) -> Value {
    snapshot[kind][key]["windows"]
        .as_array()
        .unwrap_or_else(|| panic!("no {kind} {key}: {snapshot}"))
        .iter()
        .find(|w| w["window"]["kind"] == "rolling" && w["window"]["seconds"] == 900)
        .map(|w| w["kpis"].clone())
        .unwrap()
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
fn campaign_conversations_are_agent_work_and_never_inbound_calls_of_the_queue() {
    let dir = tempfile::tempdir().unwrap();
    let silence = audio::pcap(dir.path(), "quiet", &audio::silence(20_000));
    // The customer answers both calls and waits for hotline's BYE (the agent's hang-up, or
    // the abandon).
    let phone = Sipp::new("campaign_customer.xml", "127.0.0.1:5060".parse().unwrap())
        .var("number_re", NUMBER.replace('+', "\\+"))
        .var("from_re", CALLER_ID.replace('+', "\\+"))
        .var("ring_ms", 300)
        .var("pcap", silence.display())
        .var("quiet_ms", 500)
        .var("bye_within_ms", 30_000)
        .args(&["-m", "2", "-timeout", "90s"]);
    let gateway = SocketAddr::from(([127, 0, 0, 1], phone.port));
    let phone = phone.spawn();
    let h = Hotline::start(options(gateway));
    // Agent 1001 answers, talks 2 s and hangs up.
    let agent = SippAgent::start(
        &h,
        AgentSetup {
            id: "1001",
            hold_ms: 30_000,
            pt: 8,
            answer_scenario: "agent_hangup.xml",
            extra: Vec::new(),
        },
    );

    // 1. Connected to the agent.
    dial(&h, 1);
    let first = wait_ended(&h, 1);
    let kinds: Vec<&str> = first.iter().filter_map(|r| r["report"].as_str()).collect();
    assert_eq!(kinds, ["answered", "connected", "ended"], "{first:?}");
    let connected_call = first[0]["call"].as_str().unwrap().to_owned();
    // 2. The agent is not ready once the wrap-up is over: nobody takes the customer in 2 s.
    h.wait_agent_state("1001", "ready", Duration::from_secs(15));
    set_state(&h, "1001", r#"{"state":"not_ready","reason":"meeting"}"#);
    dial(&h, 2);
    let all = wait_ended(&h, 2);
    let second: Vec<&Value> = all[first.len()..].iter().collect();
    let kinds: Vec<&str> = second.iter().filter_map(|r| r["report"].as_str()).collect();
    assert_eq!(kinds, ["answered", "abandoned", "ended"], "{second:?}");
    phone.wait(Duration::from_secs(30)).assert_ok("customer");
    // 3. An inbound caller waits 6 s in support (200 queues at once; no agent ready) and
    // hangs up: not a short abandon (under 5 s).
    let rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
    Sipp::new("caller_wait.xml", h.sip)
        .var("wait_ms", 6_000)
        .key("caller_rtp_port", rtp.local_addr().unwrap().port())
        .args(&["-s", "200", "-m", "1"])
        .run(Duration::from_secs(20))
        .assert_ok("inbound caller");

    // The journal: both campaign calls start with call.outbound and are queued in support.
    let events = h.events();
    let outbound: Vec<&Value> = events
        .iter()
        .filter(|e| e["type"] == "call.outbound")
        .collect();
    assert_eq!(outbound.len(), 2, "{outbound:?}");
    assert!(
        outbound
            .iter()
            .all(|e| e["campaign"] == "spring" && e["queue"] == "support"),
        "{outbound:?}"
    );
    let types = support::call_event_types(&events, &connected_call);
    assert_eq!(
        types.first().map(String::as_str),
        Some("call.outbound"),
        "{types:?}"
    );
    assert!(types.iter().any(|t| t == "call.answered"), "{types:?}");
    let talk_in_journal = {
        let at = |t: &str| {
            let e = events
                .iter()
                .find(|e| e["call_id"] == connected_call.as_str() && e["type"] == t)
                .unwrap_or_else(|| panic!("no {t}"));
            time::OffsetDateTime::parse(
                e["ts"].as_str().unwrap(),
                &time::format_description::well_known::Rfc3339,
            )
            .unwrap()
        };
        (at("call.ended") - at("call.answered")).whole_milliseconds() as u64
    };

    // The KPIs.
    let mut snap = Value::Null;
    let ok = poll_until(Duration::from_secs(10), || {
        let r = get(h.http, "/api/v1/kpis", Some(TOKEN)).unwrap();
        assert_eq!(r.status, 200, "{}", r.body);
        snap = serde_json::from_str(&r.body).unwrap();
        // The inbound caller's hang-up is journaled a moment after its SIPp ends.
        let support_q = last_15m(&snap, "queues", "support");
        support_q["abandoned"] == 1 && support_q["campaigns"]["abandoned"] == 1
    });
    assert!(
        ok,
        "KPIs never showed the inbound call and the abandon: {snap}"
    );
    let support_q = last_15m(&snap, "queues", "support");
    // Inbound: only the caller.
    assert_eq!(support_q["offered"], 1, "{support_q}");
    assert_eq!(support_q["answered"], 0, "{support_q}");
    assert_eq!(support_q["abandoned"], 1, "{support_q}");
    assert_eq!(support_q["short_abandoned"], 0, "{support_q}");
    assert_eq!(support_q["asa_s"], Value::Null, "{support_q}");
    // The inbound abandon rate is the caller's alone: the campaign calls change nothing.
    assert_eq!(support_q["abandon_rate"], 1.0, "{support_q}");
    // Campaign: two queued, one connected, one abandoned, one conversation.
    let c = &support_q["campaigns"];
    assert_eq!(c["queued"], 2, "{c}");
    assert_eq!(c["connected"], 1, "{c}");
    assert_eq!(c["abandoned"], 1, "{c}");
    assert_eq!(c["abandon_rate"], 0.5, "{c}");
    assert_eq!(c["conversations"], 1, "{c}");
    let talk = c["talk_ms"].as_u64().unwrap();
    assert!(
        talk.abs_diff(talk_in_journal) <= 5 && talk >= 1_500,
        "campaign talk {talk} ms, journal {talk_in_journal} ms"
    );
    assert!(c["aht_s"].as_f64().unwrap() * 1000.0 >= talk as f64, "{c}");
    // Handled work of the queue and of the agent.
    assert_eq!(support_q["handled"], 1, "{support_q}");
    let alice = last_15m(&snap, "agents", "1001");
    assert_eq!(alice["handled"], 1, "{alice}");
    assert_eq!(alice["talk_ms"].as_u64(), Some(talk), "{alice}");
    assert_eq!(alice["campaigns"]["conversations"], 1, "{alice}");
    assert_eq!(alice["campaigns"]["connected"], 1, "{alice}");
    assert!(alice["aht_s"].as_f64().is_some_and(|s| s > 0.0), "{alice}");
    // No campaign call arrived; the inbound one did.
    assert_eq!(snap["calls"]["arrived"], 1, "{}", snap["calls"]);

    let metrics = get(h.http, "/metrics", None).unwrap().body;
    let q = ["queue=\"support\"", "window=\"last_15m\""];
    assert_eq!(
        sample(&metrics, "hotline_kpi_queue_campaign_conversations", &q),
        Some(1.0)
    );
    assert_eq!(
        sample(&metrics, "hotline_kpi_queue_campaign_abandoned", &q),
        Some(1.0)
    );
    assert_eq!(sample(&metrics, "hotline_kpi_queue_offered", &q), Some(1.0));
    assert_eq!(
        sample(
            &metrics,
            "hotline_kpi_agent_campaign_conversations",
            &["agent=\"1001\"", "window=\"last_15m\""]
        ),
        Some(1.0)
    );
    eprintln!("support, last 15 min: inbound {support_q}");
    agent.finish(Duration::from_secs(40)).assert_ok("agent");
}
