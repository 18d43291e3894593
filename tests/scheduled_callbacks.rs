//! Scheduled callbacks end to end on real UDP: callbacks created through the API are dialed
//! agent first (a registered SIPp phone) through a SIP trunk whose gateway is played by the test.
//!
//! Seven callbacks are created while the only agent is not ready: three due now within their
//! calling window with deadlines in 3 h, 1 h and 2 h; one whose number is on the do-not-call
//! list; one whose customer's local time is outside the window (09:00-21:00); one without a time
//! zone; one cancelled through the API. Once the agent is ready the three are dialed one after
//! the other in deadline order (the journal's `callback.attempt_started` order and the INVITEs'
//! Request-URIs), the do-not-call one is given up (`do_not_call`) and the others are never
//! dialed: no INVITE for them reaches the gateway. The first customer answers (completed within
//! its deadline), the others are busy (retried in 10 minutes). The API shows each state, the
//! stats and the do-not-call list. hotline then stops while a fourth customer's phone rings: the
//! restart restores every callback from the journal, the lost attempt ends `unknown`, and
//! nothing is dialed before its retry time.

#![allow(clippy::unwrap_used)]

// The test answers INVITEs itself; the helpers for other tests go unused.
#[allow(dead_code)]
#[path = "trunk/raw_trunk.rs"]
mod raw_trunk;
mod support;

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use raw_trunk::RawTrunk;
use serde_json::{json, Value};
use support::agent::{AgentSetup, SippAgent};
use support::uac::Sip;
use support::{Hotline, Options};

const TOKEN: &str = "hotline-demo-token";
const FROM_NUMBER: &str = "+8675512345678";

/// One trunk whose gateway is `gateway`.
fn options(gateway: SocketAddr) -> Options {
    let trunk = support::carrier_trunk(FROM_NUMBER, gateway, "+86XXXXXXXXXXX", "");
    Options {
        config_edits: vec![trunk],
        ..Options::default()
    }
}

/// One API request; the status and the JSON body (`null` when empty).
fn api(h: &Hotline, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let mut s = TcpStream::connect_timeout(&h.http, Duration::from_secs(2)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nAuthorization: Bearer {TOKEN}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        h.http,
        body.len()
    );
    s.write_all(req.as_bytes()).unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let status = raw.split(' ').nth(1).unwrap().parse().unwrap();
    let text = raw.split("\r\n\r\n").nth(1).unwrap_or_default();
    (status, serde_json::from_str(text).unwrap_or(Value::Null))
}

/// An IANA zone (`Etc/GMT-8`) whose local hour now is within `hours`.
fn zone_at_local_hours(hours: std::ops::RangeInclusive<i64>) -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
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

fn create(h: &Hotline, number: &str, zone: Option<&str>, within: &str) -> String {
    let mut body = json!({
        "number": number, "reason": "complaint", "queue": "support",
        "due": {"within": within}, "attributes": {"ticket": number}
    });
    if let Some(zone) = zone {
        body["time_zone"] = json!(zone);
    }
    let (status, cb) = api(h, "POST", "/api/v1/callbacks", Some(body));
    assert_eq!(status, 201, "{cb}");
    cb["id"].as_str().unwrap().to_string()
}

fn state(h: &Hotline, id: &str) -> Value {
    let (status, cb) = api(h, "GET", &format!("/api/v1/callbacks/{id}"), None);
    assert_eq!(status, 200, "{cb}");
    cb
}

fn set_agent_state(h: &Hotline, body: Value) {
    let (status, r) = api(h, "POST", "/api/v1/agents/1001/state", Some(body));
    assert_eq!(status, 200, "{r}");
}

/// The next INVITE with a Call-ID not seen yet (retransmissions and in-dialog requests skipped).
fn next_invite(
    trunk: &RawTrunk,
    seen: &mut BTreeSet<String>,
    timeout: Duration,
) -> Option<(Sip, SocketAddr)> {
    let deadline = Instant::now() + timeout;
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        let (m, from) = trunk.recv(left)?;
        let call_id = m.header("call-id").unwrap_or_default().to_string();
        if m.start.starts_with("INVITE ") && seen.insert(call_id) {
            return Some((m, from));
        }
    }
    None
}

fn attempts_in_order(h: &Hotline) -> Vec<String> {
    h.events()
        .iter()
        .filter(|e| e["type"] == "callback.attempt_started")
        .map(|e| e["callback_id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn scheduled_callbacks_are_dialed_in_deadline_order_within_window_and_never_on_dnc() {
    let trunk = RawTrunk::bind();
    let opts = options(trunk.addr);
    let h = Hotline::start(opts.clone());
    let _agent = SippAgent::start(
        &h,
        AgentSetup {
            id: "1001",
            hold_ms: 120_000,
            ..AgentSetup::default()
        },
    );
    set_agent_state(&h, json!({"state": "not_ready", "reason": "meeting"}));
    h.wait_agent_state("1001", "not_ready", Duration::from_secs(5));

    let inside = zone_at_local_hours(10..=19);
    let outside = zone_at_local_hours(1..=6);
    let dnc_number = "+8613900000009";
    let (status, r) = api(&h, "PUT", &format!("/api/v1/dnc/{dnc_number}"), None);
    assert_eq!(status, 201, "{r}");

    let late = create(&h, "+8613800000001", Some(&inside), "3h");
    let first = create(&h, "+8613800000002", Some(&inside), "1h");
    let middle = create(&h, "+8613800000003", Some(&inside), "2h");
    let blocked = create(&h, dnc_number, Some(&inside), "30m");
    let night = create(&h, "+8613800000005", Some(&outside), "30m");
    let zoneless = create(&h, "+8613800000006", None, "30m");
    let cancelled = create(&h, "+8613800000007", Some(&inside), "4h");

    // Cancel through the API: once, then it is final; unknown ids are 404.
    let (status, cb) = api(
        &h,
        "DELETE",
        &format!("/api/v1/callbacks/{cancelled}"),
        None,
    );
    assert_eq!(
        (status, cb["state"].as_str()),
        (200, Some("cancelled")),
        "{cb}"
    );
    let (status, _) = api(
        &h,
        "DELETE",
        &format!("/api/v1/callbacks/{cancelled}"),
        None,
    );
    assert_eq!(status, 409);
    let unknown = "01935b7e-1c2d-7abc-8def-000000000000";
    let (status, _) = api(&h, "DELETE", &format!("/api/v1/callbacks/{unknown}"), None);
    assert_eq!(status, 404);
    let (status, _) = api(&h, "GET", "/api/v1/callbacks/not-an-id", None);
    assert_eq!(status, 404);
    // Bad requests name the field at fault.
    for (body, field) in [
        (
            json!({"number": "0612345678", "queue": "support"}),
            "number",
        ),
        (
            json!({"number": "+8613800000008", "queue": "support", "time_zone": "Mars/Base"}),
            "time_zone",
        ),
        (
            json!({"number": "+8613800000008", "queue": "nope"}),
            "queue",
        ),
        (
            json!({"number": "+8613800000008", "queue": "support", "due": {"within": "soon"}}),
            "due.within",
        ),
    ] {
        let (status, err) = api(&h, "POST", "/api/v1/callbacks", Some(body));
        assert_eq!((status, err["field"].as_str()), (400, Some(field)), "{err}");
    }
    let zoneless_view = state(&h, &zoneless);
    assert_eq!(zoneless_view["state"], "held", "{zoneless_view}");
    assert_eq!(zoneless_view["state_reason"], "unknown_time_zone");
    // Nothing is dialed while no agent is free.
    assert!(attempts_in_order(&h).is_empty());

    set_agent_state(&h, json!({"state": "ready"}));
    let mut seen = BTreeSet::new();
    // The earliest deadline first: the customer answers while the agent is on the line.
    let (invite, from) = next_invite(&trunk, &mut seen, Duration::from_secs(20)).unwrap();
    assert!(
        invite.start.contains("sip:+8613800000002@"),
        "{}",
        invite.start
    );
    // A callback being dialed cannot be cancelled.
    let (status, err) = api(&h, "DELETE", &format!("/api/v1/callbacks/{first}"), None);
    assert_eq!(status, 409, "{err}");
    let customer_rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
    trunk.answer(&invite, from, customer_rtp.local_addr().unwrap().port());
    h.wait_event("the first completion", Duration::from_secs(10), |e| {
        e["type"] == "callback.completed" && e["callback_id"] == first.as_str()
    });
    trunk.bye(&invite, from);

    // Then the 2 h and the 3 h deadlines, both busy.
    for number in ["+8613800000003", "+8613800000001"] {
        let (invite, from) = next_invite(&trunk, &mut seen, Duration::from_secs(20)).unwrap();
        assert!(
            invite.start.contains(&format!("sip:{number}@")),
            "{}",
            invite.start
        );
        trunk.respond(&invite, from, "486 Busy Here", &[]);
    }
    h.wait_event("the last busy attempt", Duration::from_secs(10), |e| {
        e["type"] == "callback.attempt_ended"
            && e["callback_id"] == late.as_str()
            && e["outcome"] == "busy"
    });
    assert_eq!(
        attempts_in_order(&h),
        [first.as_str(), middle.as_str(), late.as_str()]
    );
    // Neither the do-not-call number nor the customer at night is dialed.
    assert!(next_invite(&trunk, &mut seen, Duration::from_secs(2)).is_none());
    let given_up = h.wait_event("the do-not-call give-up", Duration::from_secs(5), |e| {
        e["type"] == "callback.scheduled_given_up" && e["callback_id"] == blocked.as_str()
    });
    assert_eq!(given_up["reason"], "do_not_call", "{given_up}");

    let views = [
        (&first, "completed", None),
        (&middle, "waiting", None),
        (&late, "waiting", None),
        (&blocked, "given_up", Some("do_not_call")),
        (&night, "waiting", None),
        (&zoneless, "held", Some("unknown_time_zone")),
        (&cancelled, "cancelled", None),
    ];
    for (id, expected, reason) in views {
        let cb = state(&h, id);
        assert_eq!(cb["state"], expected, "{cb}");
        assert_eq!(cb["state_reason"].as_str(), reason, "{cb}");
    }
    assert_eq!(state(&h, &first)["within_deadline"], true);
    assert_eq!(state(&h, &middle)["last_outcome"], "busy");
    let (_, waiting) = api(&h, "GET", "/api/v1/callbacks?state=waiting", None);
    let order: Vec<&str> = waiting["callbacks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(order, [night.as_str(), middle.as_str(), late.as_str()]);
    let (status, stats) = api(&h, "GET", "/api/v1/callbacks/stats", None);
    assert_eq!(status, 200, "{stats}");
    assert_eq!(stats["completed_within_deadline"], 1, "{stats}");
    assert_eq!(stats["given_up"], 1, "{stats}");
    assert_eq!(stats["cancelled"], 1, "{stats}");
    assert_eq!(stats["open"], 4, "{stats}");
    assert_eq!(stats["queues"]["support"]["pending"], 4, "{stats}");
    let lines = [
        "hotline_scheduled_callbacks_completed_within_deadline_total 1",
        "hotline_scheduled_callback_attempts_total{outcome=\"busy\"} 2",
        "hotline_scheduled_callbacks_given_up_total{reason=\"do_not_call\"} 1",
        "hotline_scheduled_callbacks_pending{queue=\"support\"} 4",
    ];
    // The gauges are refreshed once a second.
    let mut metrics = String::new();
    let all = support::poll_until(Duration::from_secs(5), || {
        metrics = support::http::get(h.http, "/metrics", None).unwrap().body;
        lines.iter().all(|l| metrics.contains(l))
    });
    assert!(all, "{lines:?} not all in\n{metrics}");

    // hotline stops while a customer's phone rings: the attempt's outcome is lost.
    let ringing = create(&h, "+8613800000004", Some(&inside), "30m");
    let (invite, _) = next_invite(&trunk, &mut seen, Duration::from_secs(20)).unwrap();
    assert!(
        invite.start.contains("sip:+8613800000004@"),
        "{}",
        invite.start
    );
    assert_eq!(state(&h, &ringing)["state"], "dialing");

    // A restart rebuilds every callback from the journal and redials nothing early.
    let (sip, http) = (h.sip, h.http);
    let dir = h.stop();
    let h = Hotline::start_in(dir, sip, http, opts);
    h.wait_agent_state("1001", "ready", Duration::from_secs(10));
    for (id, expected, reason) in views {
        let cb = state(&h, id);
        assert_eq!(cb["state"], expected, "after the restart: {cb}");
        assert_eq!(cb["state_reason"].as_str(), reason, "{cb}");
    }
    assert_eq!(state(&h, &late)["attempts"], 1);
    // The lost attempt counts as `unknown` and waits its retry delay.
    let lost = h.wait_event("the lost attempt's end", Duration::from_secs(5), |e| {
        e["type"] == "callback.attempt_ended" && e["callback_id"] == ringing.as_str()
    });
    assert_eq!(lost["outcome"], "unknown", "{lost}");
    assert!(lost["retry_at"].is_string(), "{lost}");
    let cb = state(&h, &ringing);
    assert_eq!(
        (cb["state"].as_str(), cb["attempts"].as_u64()),
        (Some("waiting"), Some(1)),
        "{cb}"
    );
    let (_, dnc) = api(&h, "GET", "/api/v1/dnc", None);
    assert_eq!(dnc["numbers"], json!([dnc_number]), "{dnc}");
    assert!(next_invite(&trunk, &mut seen, Duration::from_secs(3)).is_none());
    // The held callback gets its zone: it waits for its window (closed there now).
    let (status, cb) = api(
        &h,
        "PUT",
        &format!("/api/v1/callbacks/{zoneless}/time_zone"),
        Some(json!({"time_zone": outside})),
    );
    assert_eq!(
        (status, cb["state"].as_str()),
        (200, Some("waiting")),
        "{cb}"
    );
    let (status, err) = api(
        &h,
        "PUT",
        &format!("/api/v1/callbacks/{zoneless}/time_zone"),
        Some(json!({"time_zone": "Mars/Base"})),
    );
    assert_eq!(
        (status, err["field"].as_str()),
        (400, Some("time_zone")),
        "{err}"
    );
    assert!(next_invite(&trunk, &mut seen, Duration::from_secs(2)).is_none());
    assert_eq!(attempts_in_order(&h).len(), 4);
}
