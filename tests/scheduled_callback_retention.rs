//! A scheduled callback survives journal retention: with a tiny `events.segment_size` and a
//! retention that keeps one old segment for no time at all, a callback nobody can take yet (no
//! agent is logged in) is created, other callbacks are created and cancelled until the journal
//! has rotated well past it, and hotline restarts, which snapshots the journal and deletes the
//! segments the snapshot covers, `callback.scheduled` included. After one more restart the
//! callback is still there through the API: same state, number, deadline and start, held or
//! waiting as before, and the ended ones whose events are gone are no longer counted.

#![allow(clippy::unwrap_used)]

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::Duration;

use serde_json::{json, Value};
use support::{poll_until, read_events, Hotline, Options};

const TOKEN: &str = "hotline-demo-token";

fn options() -> Options {
    Options {
        config_edits: vec![(
            "  node: hotline-1\n",
            "  node: hotline-1\n  segment_size: 400\n  retention: { keep_segments: 1, keep_for: 0s }\n",
        )],
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

fn create(h: &Hotline, number: &str, zone: Option<&str>) -> Value {
    let mut body = json!({
        "number": number, "reason": "complaint", "queue": "support",
        "due": {"within": "24h"}, "attributes": {"ticket": number}
    });
    if let Some(zone) = zone {
        body["time_zone"] = json!(zone);
    }
    let (status, cb) = api(h, "POST", "/api/v1/callbacks", Some(body));
    assert_eq!(status, 201, "{cb}");
    cb
}

fn view(h: &Hotline, id: &str) -> (u16, Value) {
    api(h, "GET", &format!("/api/v1/callbacks/{id}"), None)
}

/// The numbers of the rotated segments in `dir`.
fn segments(dir: &Path) -> Vec<u64> {
    let mut numbers: Vec<u64> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| {
            let name = e.ok()?.file_name().into_string().ok()?;
            name.strip_prefix("events-")?
                .strip_suffix(".jsonl")?
                .parse()
                .ok()
        })
        .collect();
    numbers.sort_unstable();
    numbers
}

/// Every event of the journal on disk, segments first, in order.
fn all_events(dir: &Path) -> Vec<Value> {
    let mut events = Vec::new();
    for n in segments(dir) {
        events.extend(read_events(&dir.join(format!("events-{n:06}.jsonl"))));
    }
    events.extend(read_events(&dir.join("events.jsonl")));
    events
}

/// The seq of the newest snapshot in `dir`.
fn snapshot_seq(dir: &Path) -> Option<u64> {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| {
            let name = e.ok()?.file_name().into_string().ok()?;
            name.strip_prefix("snapshot-")?
                .strip_suffix(".json")?
                .parse()
                .ok()
        })
        .max()
}

fn restart(h: Hotline) -> Hotline {
    let (sip, http) = (h.sip, h.http);
    let dir = h.stop();
    Hotline::start_in(dir, sip, http, options())
}

#[test]
fn a_pending_scheduled_callback_survives_the_deletion_of_its_journal_segments() {
    let h = Hotline::start(options());
    let kept = create(&h, "+33612345678", Some("Europe/Paris"));
    let held = create(&h, "+33612345679", None);
    let kept_id = kept["id"].as_str().unwrap().to_string();
    let held_id = held["id"].as_str().unwrap().to_string();
    assert_eq!(kept["state"], "waiting", "{kept}");
    assert_eq!(held["state"], "held", "{held}");
    assert!(kept["deadline"].is_string(), "{kept}");

    // Others come and go: each event fills a 400-byte segment, so the journal rotates past
    // the two callbacks many times.
    let mut gone = Vec::new();
    for i in 0..8 {
        let cb = create(&h, &format!("+3361234570{i}"), Some("Europe/Paris"));
        let id = cb["id"].as_str().unwrap().to_string();
        let (status, cb) = api(&h, "DELETE", &format!("/api/v1/callbacks/{id}"), None);
        assert_eq!((status, cb["state"].as_str()), (200, Some("cancelled")));
        gone.push(id);
    }
    let last = gone.last().unwrap().clone();
    let written = poll_until(Duration::from_secs(5), || {
        all_events(h.dir.path())
            .iter()
            .any(|e| e["type"] == "callback.scheduled_cancelled" && e["callback_id"] == last)
    });
    assert!(written, "the last cancel was not journaled");
    let (_, before) = api(&h, "GET", "/api/v1/callbacks/stats", None);
    assert_eq!(
        (before["open"].as_u64(), before["cancelled"].as_u64()),
        (Some(2), Some(8)),
        "{before}"
    );
    let scheduled_seq = all_events(h.dir.path())
        .iter()
        .find(|e| e["type"] == "callback.scheduled" && e["callback_id"] == kept_id.as_str())
        .and_then(|e| e["seq"].as_u64())
        .unwrap();

    // The restart snapshots the journal; retention then deletes the segments it covers,
    // the callbacks' `callback.scheduled` among them.
    let h = restart(h);
    let on_disk = |h: &Hotline| {
        all_events(h.dir.path())
            .iter()
            .any(|e| e["callback_id"] == kept_id.as_str() || e["callback_id"] == held_id.as_str())
    };
    let deleted = poll_until(Duration::from_secs(10), || {
        !on_disk(&h) && snapshot_seq(h.dir.path()).is_some_and(|s| s > scheduled_seq)
    });
    assert!(
        deleted,
        "the callbacks' segments not deleted: {:?}, snapshot {:?}\n{}",
        segments(h.dir.path()),
        snapshot_seq(h.dir.path()),
        h.log()
    );
    // Until the next restart the running scheduler still has both.
    assert_eq!(view(&h, &kept_id).0, 200);

    // Another restart: nothing of the two callbacks is left in the journal, yet both are.
    let h = restart(h);
    for (id, expected) in [(&kept_id, &kept), (&held_id, &held)] {
        let (status, cb) = view(&h, id);
        assert_eq!(
            status,
            200,
            "{id} lost after the restart: {cb}\n{}",
            h.log()
        );
        for field in [
            "state",
            "state_reason",
            "number",
            "time_zone",
            "queue",
            "attributes",
            "created_at",
            "not_before",
            "deadline",
            "attempts",
        ] {
            assert_eq!(cb[field], expected[field], "{field}: {cb} vs {expected}");
        }
    }
    let (_, waiting) = api(&h, "GET", "/api/v1/callbacks?state=waiting", None);
    let ids: Vec<&str> = waiting["callbacks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [kept_id.as_str()], "{waiting}");
    // The held one still takes a time zone, then waits like the other.
    let (status, cb) = api(
        &h,
        "PUT",
        &format!("/api/v1/callbacks/{held_id}/time_zone"),
        Some(json!({"time_zone": "Europe/Paris"})),
    );
    assert_eq!(
        (status, cb["state"].as_str()),
        (200, Some("waiting")),
        "{cb}"
    );
    let (_, after) = api(&h, "GET", "/api/v1/callbacks/stats", None);
    assert_eq!(after["open"], 2, "{after}");
}
