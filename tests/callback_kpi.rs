//! A real in-queue callback conversation in the KPIs, on real UDP. Queue `support` offers a
//! callback after 2 s and retries after 2 s; its only agent (a SIPp phone) is not ready; the
//! trunk's gateway is the customer's phone, played by the test. A caller presses 1 and hangs
//! up; the agent becomes ready; the customer is busy on the first attempt and answers the
//! second; they talk; the customer hangs up. `GET /api/v1/kpis` and `/metrics` then show the
//! conversation as the agent's handled work (talk time exactly from `callback.connected` to
//! `call.ended` in the journal), the caller's call as offered but neither answered nor
//! abandoned, the attempts and the busy one by cause, and callback completion 100% ("full");
//! after a restart the figures replayed from the journal are the same. A scheduled callback
//! (`POST /api/v1/callbacks`, due within 1 h) answered by the customer counts as scheduled, due
//! and completed within its deadline, and its conversation as the agent's handled work.

#![allow(clippy::unwrap_used)]

#[path = "trunk/raw_trunk.rs"]
mod raw_trunk;
mod support;

use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

use raw_trunk::RawTrunk;
use serde_json::Value;
use support::agent::{AgentSetup, SippAgent};
use support::http::{get, post};
use support::sipp::Sipp;
use support::uac::Sip;
use support::{poll_until, Hotline, Options};

const TOKEN: &str = "hotline-demo-token";
const FROM_NUMBER: &str = "+8675512345678";

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

fn event_of(h: &Hotline, call: &str, kind: &str, secs: u64) -> Value {
    h.wait_event(kind, Duration::from_secs(secs), |e| {
        e["call_id"] == call && e["type"] == kind
    })
}

/// The customer's INVITE (it comes after the agent answered); retransmissions of `previous`
/// are skipped.
fn customer_invite(trunk: &RawTrunk, previous: Option<&Sip>) -> (Sip, SocketAddr) {
    loop {
        let (m, from) = trunk.expect("INVITE", Duration::from_secs(15));
        if previous.is_none_or(|p| m.header("call-id") != p.header("call-id")) {
            return (m, from);
        }
    }
}

/// Unix milliseconds of an event's `ts`.
fn ts_ms(e: &Value) -> i128 {
    let ts = e["ts"].as_str().unwrap();
    let at = time::OffsetDateTime::parse(ts, &time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|err| panic!("bad ts {ts}: {err}"));
    at.unix_timestamp_nanos() / 1_000_000
}

/// The last-15-minutes KPIs of `kind` (`queues` or `agents`) `id` in a snapshot.
fn last_15m(snap: &Value, kind: &str, id: &str) -> Value {
    snap[kind][id]["windows"]
        .as_array()
        .unwrap_or_else(|| panic!("no {kind} {id}: {snap}"))
        .iter()
        .find(|w| w["window"]["kind"] == "rolling" && w["window"]["seconds"] == 900)
        .map(|w| w["kpis"].clone())
        .unwrap()
}

/// Polls `GET /api/v1/kpis` until queue support shows `handled` handled conversations.
fn wait_handled(h: &Hotline, handled: u64) -> Value {
    let mut snap = Value::Null;
    let ok = poll_until(Duration::from_secs(10), || {
        let r = get(h.http, "/api/v1/kpis", Some(TOKEN)).unwrap();
        assert_eq!(r.status, 200, "{}", r.body);
        snap = serde_json::from_str(&r.body).unwrap();
        last_15m(&snap, "queues", "support")["handled"] == handled
    });
    assert!(ok, "KPIs never showed {handled} handled: {snap}");
    snap
}

/// The value of the `/metrics` sample named `name` with every label in `labels`.
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
fn a_real_callback_conversation_shows_in_the_kpis_and_survives_a_restart() {
    let trunk = RawTrunk::bind();
    let opts = options(trunk.addr);
    let h = Hotline::start_with_dialplan(opts.clone(), PLAN);
    let _agent = SippAgent::start(
        &h,
        AgentSetup {
            id: "1001",
            hold_ms: 60_000,
            ..AgentSetup::default()
        },
    );
    set_state(&h, "1001", r#"{"state":"not_ready","reason":"meeting"}"#);
    h.wait_agent_state("1001", "not_ready", Duration::from_secs(5));

    // The caller presses 1 and is hung up: a callback.
    let caller = Sipp::new("caller_survey.xml", h.sip)
        .var("press_ms", 4_000)
        .var("key", 1)
        .var("bye_ms", 20_000)
        .args(&["-s", "800", "-m", "1"])
        .spawn();
    let converted = h.wait_type("callback.converted", Duration::from_secs(15));
    let call = converted["call_id"].as_str().unwrap().to_owned();
    h.wait_event("the caller's end", Duration::from_secs(15), |e| {
        e["call_id"] == call.as_str() && e["type"] == "call.ended"
    });
    caller
        .wait(Duration::from_secs(10))
        .assert_ok("caller (hung up by hotline after the thanks)");

    // Nothing is dialed while the agent is not ready.
    assert!(!trunk.anything_within(Duration::from_millis(300)));
    // The request is counted; nothing is due yet.
    let mut waiting = Value::Null;
    let folded = poll_until(Duration::from_secs(10), || {
        let r = get(h.http, "/api/v1/kpis", Some(TOKEN)).unwrap();
        let snap: Value = serde_json::from_str(&r.body).unwrap();
        waiting = last_15m(&snap, "queues", "support");
        waiting["callbacks"]["requested"] == 1
    });
    assert!(folded, "the request never showed: {waiting}");
    assert_eq!(waiting["callbacks"]["due"], 0, "{waiting}");
    assert_eq!(waiting["callbacks"]["completion"], Value::Null, "{waiting}");
    assert_eq!(waiting["offered"], 1, "{waiting}");
    // Busy on the first attempt, answered on the second.
    set_state(&h, "1001", r#"{"state":"ready"}"#);
    let (invite, from) = customer_invite(&trunk, None);
    trunk.respond(&invite, from, "486 Busy Here", &[]);
    let failed = event_of(&h, &call, "callback.failed", 10);
    assert_eq!(failed["cause"], "busy", "{failed}");
    h.wait_event("the second attempt", Duration::from_secs(15), |e| {
        e["call_id"] == call.as_str() && e["type"] == "callback.due" && e["attempt"] == 2
    });
    let (invite, from) = customer_invite(&trunk, Some(&invite));
    let customer_rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
    trunk.answer(&invite, from, customer_rtp.local_addr().unwrap().port());
    let connected = event_of(&h, &call, "callback.connected", 10);
    trunk.expect("ACK", Duration::from_secs(5));
    // They talk for a while (the length of the conversation), then the customer hangs up.
    std::thread::sleep(Duration::from_millis(1_500));
    trunk.bye(&invite, from);
    let ended = h.wait_event("the callback's end", Duration::from_secs(10), |e| {
        e["call_id"] == call.as_str() && e["type"] == "call.ended" && e["reason"] == "completed"
    });
    let talk_ms = ts_ms(&ended) - ts_ms(&connected);
    assert!(talk_ms >= 1_500, "talked {talk_ms} ms");

    let snap = wait_handled(&h, 1);
    let q = last_15m(&snap, "queues", "support");
    // The caller's call: offered, neither answered nor abandoned.
    assert_eq!(q["offered"], 1, "{q}");
    assert_eq!(q["answered"], 0, "{q}");
    assert_eq!(q["abandoned"], 0, "{q}");
    assert_eq!(q["talk_ms"], talk_ms as u64, "{q}");
    let cb = &q["callbacks"];
    assert_eq!(cb["requested"], 1, "{cb}");
    assert_eq!(cb["dialed"], 2, "{cb}");
    assert_eq!(cb["customer_dialed"], 2, "{cb}");
    assert_eq!(cb["connected"], 1, "{cb}");
    assert_eq!(cb["failed"], 1, "{cb}");
    assert_eq!(cb["failed_by_cause"]["busy"], 1, "{cb}");
    assert_eq!(cb["given_up"], 0, "{cb}");
    assert_eq!(cb["handled"], 1, "{cb}");
    assert_eq!(cb["talk_ms"], talk_ms as u64, "{cb}");
    assert_eq!(cb["due"], 1, "{cb}");
    assert_eq!(cb["completed_within_due_window"], 1, "{cb}");
    assert_eq!(cb["completion"], 1.0, "{cb}");
    assert_eq!(cb["completion_band"], "full", "{cb}");
    let a = last_15m(&snap, "agents", "1001");
    assert_eq!(a["handled"], 1, "{a}");
    assert_eq!(a["talk_ms"], talk_ms as u64, "{a}");
    assert_eq!(a["answered"], 0, "{a}");
    assert_eq!(a["callbacks"]["dialed"], 2, "{a}");
    assert_eq!(a["callbacks"]["connected"], 1, "{a}");
    assert_eq!(a["callbacks"]["handled"], 1, "{a}");
    let total = snap["totals"]["queues"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["window"]["kind"] == "rolling" && w["window"]["seconds"] == 900)
        .map(|w| w["kpis"]["callbacks"].clone())
        .unwrap();
    assert_eq!(total["completion"], 1.0, "{total}");

    let m = get(h.http, "/metrics", None).unwrap().body;
    let window = [r#"queue="support""#, r#"window="last_15m""#];
    assert_eq!(
        sample(&m, "hotline_kpi_queue_callback_completion", &window),
        Some(1.0)
    );
    assert_eq!(
        sample(&m, "hotline_kpi_queue_callback_completion_band", &window),
        Some(100.0)
    );
    assert_eq!(
        sample(
            &m,
            "hotline_kpi_queue_callbacks_failed_by_cause",
            &[window[0], window[1], r#"cause="busy""#]
        ),
        Some(1.0)
    );
    assert_eq!(
        sample(
            &m,
            "hotline_kpi_agent_callbacks_handled",
            &[r#"agent="1001""#, window[1]]
        ),
        Some(1.0)
    );

    // A restart replays the journal: the same figures.
    let (sip, http, plan) = (h.sip, h.http, h.dialplan_path());
    let dir = h.stop();
    let h = Hotline::start_in(
        dir,
        sip,
        http,
        Options {
            dialplan: Some(plan),
            ..opts
        },
    );
    let replayed = wait_handled(&h, 1);
    let q2 = last_15m(&replayed, "queues", "support");
    for key in [
        "offered",
        "answered",
        "abandoned",
        "handled",
        "talk_ms",
        "callbacks",
    ] {
        assert_eq!(q2[key], q[key], "{key} after the restart: {q2} before: {q}");
    }
    let a2 = last_15m(&replayed, "agents", "1001");
    for key in ["handled", "talk_ms", "answered", "offers", "callbacks"] {
        assert_eq!(a2[key], a[key], "{key} after the restart: {a2} before: {a}");
    }
}

/// An IANA zone (`Etc/GMT-8`) whose local hour now is within `hours`.
fn zone_at_local_hours(hours: std::ops::RangeInclusive<i64>) -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let utc_hour = i64::try_from(secs / 3600 % 24).unwrap();
    let offset = (-12..=14)
        .find(|o| hours.contains(&(utc_hour + o).rem_euclid(24)))
        .unwrap();
    // The Etc zones' signs are POSIX's: Etc/GMT-8 is eight hours ahead of UTC.
    match offset {
        0 => "Etc/GMT".to_string(),
        o if o > 0 => format!("Etc/GMT-{o}"),
        o => format!("Etc/GMT+{}", -o),
    }
}

#[test]
fn a_scheduled_callback_completed_within_its_deadline_shows_in_the_kpis() {
    let trunk = RawTrunk::bind();
    let opts = options(trunk.addr);
    let h = Hotline::start_with_dialplan(opts.clone(), PLAN);
    let _agent = SippAgent::start(
        &h,
        AgentSetup {
            id: "1001",
            hold_ms: 60_000,
            ..AgentSetup::default()
        },
    );
    set_state(&h, "1001", r#"{"state":"not_ready","reason":"meeting"}"#);
    h.wait_agent_state("1001", "not_ready", Duration::from_secs(5));
    let body = serde_json::json!({
        "number": "+8613800000001", "time_zone": zone_at_local_hours(10..=19),
        "reason": "complaint", "queue": "support", "due": {"within": "1h"},
    });
    let r = post(h.http, "/api/v1/callbacks", Some(TOKEN), &body.to_string()).unwrap();
    assert_eq!(r.status, 201, "{}", r.body);
    let created: Value = serde_json::from_str(&r.body).unwrap();
    let id = created["id"].as_str().unwrap().to_owned();

    set_state(&h, "1001", r#"{"state":"ready"}"#);
    let (invite, from) = customer_invite(&trunk, None);
    let customer_rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
    trunk.answer(&invite, from, customer_rtp.local_addr().unwrap().port());
    let connected = event_of(&h, &id, "callback.connected", 10);
    let completed = h.wait_event("the completion", Duration::from_secs(10), |e| {
        e["type"] == "callback.completed" && e["callback_id"] == id.as_str()
    });
    assert_eq!(completed["within_deadline"], true, "{completed}");
    trunk.expect("ACK", Duration::from_secs(5));
    // They talk for a while (the length of the conversation), then the customer hangs up.
    std::thread::sleep(Duration::from_millis(1_000));
    trunk.bye(&invite, from);
    let ended = event_of(&h, &id, "call.ended", 10);
    let talk_ms = ts_ms(&ended) - ts_ms(&connected);

    let snap = wait_handled(&h, 1);
    let q = last_15m(&snap, "queues", "support");
    // No inbound call: one handled callback conversation.
    assert_eq!(
        (q["offered"].as_u64(), q["answered"].as_u64()),
        (Some(0), Some(0)),
        "{q}"
    );
    assert_eq!(q["talk_ms"], talk_ms as u64, "{q}");
    let cb = &q["callbacks"];
    assert_eq!(cb["scheduled"], 1, "{cb}");
    assert_eq!(cb["requested"], 0, "{cb}");
    assert_eq!(cb["dialed"], 1, "{cb}");
    assert_eq!(cb["customer_dialed"], 1, "{cb}");
    assert_eq!(cb["connected"], 1, "{cb}");
    assert_eq!(cb["handled"], 1, "{cb}");
    assert_eq!(cb["due"], 1, "{cb}");
    assert_eq!(cb["completed_within_due_window"], 1, "{cb}");
    assert_eq!(cb["completion_band"], "full", "{cb}");
    let a = last_15m(&snap, "agents", "1001");
    assert_eq!(a["handled"], 1, "{a}");
    assert_eq!(a["talk_ms"], talk_ms as u64, "{a}");

    // Replayed from the journal after a restart: the same.
    let (sip, http, plan) = (h.sip, h.http, h.dialplan_path());
    let dir = h.stop();
    let h = Hotline::start_in(
        dir,
        sip,
        http,
        Options {
            dialplan: Some(plan),
            ..opts
        },
    );
    let replayed = wait_handled(&h, 1);
    assert_eq!(last_15m(&replayed, "queues", "support")["callbacks"], *cb);
    assert_eq!(
        last_15m(&replayed, "agents", "1001")["talk_ms"],
        a["talk_ms"]
    );
}
