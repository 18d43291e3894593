//! Restart with callbacks in the journal: those not ended come back waiting in their queue, in
//! the order of their original entry time and keeping their age; ended ones stay ended; one that
//! was being dialed when hotline died goes back to waiting, its attempt counted as `unknown`.

#![allow(clippy::unwrap_used)]

mod support;

use std::time::Duration;

use hotline_events::{EventDraft, EventKind, Timestamp};
use serde_json::Value;
use support::http::get;
use support::{poll_until, Hotline, Options};
use uuid::Uuid;

const TOKEN: &str = "hotline-demo-token";

/// A wall-clock time `secs` seconds ago.
fn ago(secs: i64) -> Timestamp {
    Timestamp::from_datetime(time::OffsetDateTime::now_utc() - time::Duration::seconds(secs))
}

fn queued(call: Uuid, number: &str, entered: Timestamp) -> EventDraft {
    EventDraft::new(EventKind::CallbackQueued {
        number: number.into(),
        note: Some("invoice question".into()),
        entered_at: entered,
        priority: 0,
        attempts: 0,
        position: 1,
        scheduled: false,
    })
    .call(call)
    .queue("support")
}

/// Writes `drafts` as the journal of `dir`, with seq 1, 2, ...
fn write_journal(dir: &std::path::Path, drafts: Vec<EventDraft>) {
    let text: String = drafts
        .into_iter()
        .zip(1..)
        .map(|(d, seq)| {
            let event = d.into_event(Uuid::now_v7(), seq, Timestamp::now(), "hl-1");
            format!("{}\n", serde_json::to_string(&event).unwrap())
        })
        .collect();
    std::fs::write(dir.join("events.jsonl"), text).unwrap();
}

/// The `support` queue's entries as `GET /api/v1/queues` shows them.
fn support_entries(h: &Hotline) -> Vec<Value> {
    let r = get(h.http, "/api/v1/queues", Some(TOKEN)).unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    let all: Value = serde_json::from_str(&r.body).unwrap();
    let support = all
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["name"] == "support")
        .cloned()
        .unwrap();
    support["entries"].as_array().cloned().unwrap_or_default()
}

fn wait_entries(h: &Hotline, count: usize) -> Vec<Value> {
    let mut entries = Vec::new();
    let found = poll_until(Duration::from_secs(10), || {
        entries = support_entries(h);
        entries.len() == count
    });
    assert!(found, "support entries: {entries:?}\n{}", h.log());
    entries
}

#[test]
fn queued_callbacks_come_back_in_original_order_with_their_age() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b, c, d, e, f) = (
        Uuid::now_v7(),
        Uuid::now_v7(),
        Uuid::now_v7(),
        Uuid::now_v7(),
        Uuid::now_v7(),
        Uuid::now_v7(),
    );
    write_journal(
        dir.path(),
        vec![
            queued(a, "+33100000001", ago(300)),
            // Journaled after `a` but entered before it: it goes ahead.
            queued(b, "+33100000002", ago(600)),
            queued(c, "+33100000003", ago(120)),
            // `c` was being dialed when hotline died: no outcome, so it waits again.
            EventDraft::new(EventKind::CallbackDue {
                attempt: 1,
                scheduled: false,
            })
            .call(c)
            .agent("1001")
            .queue("support"),
            queued(d, "+33100000004", ago(200)),
            EventDraft::new(EventKind::CallbackCancelled { wait_ms: 1_000 })
                .call(d)
                .queue("support"),
            queued(e, "+33100000005", ago(250)),
            EventDraft::new(EventKind::CallbackConnected { wait_ms: 2_000 })
                .call(e)
                .agent("1002")
                .queue("support"),
            // A caller who waited, then asked to be called back.
            EventDraft::new(EventKind::CallArrived {
                from: "sip:+33100000006@carrier".into(),
                to: "sip:200@hotline".into(),
            })
            .call(f),
            EventDraft::new(EventKind::CallQueued { position: 1 })
                .call(f)
                .queue("support"),
            EventDraft::new(EventKind::CallbackConverted {
                number: "+33100000006".into(),
                note: None,
                entered_at: ago(400),
                priority: 0,
            })
            .call(f)
            .queue("support"),
        ],
    );
    let sip = format!("127.0.0.1:{}", support::free_port())
        .parse()
        .unwrap();
    let http = format!("127.0.0.1:{}", support::free_port())
        .parse()
        .unwrap();
    let h = Hotline::start_in(dir, sip, http, Options::default());

    let entries = wait_entries(&h, 4);
    let ids: Vec<&str> = entries
        .iter()
        .map(|e| e["call_id"].as_str().unwrap())
        .collect();
    let expected = [b, f, a, c].map(|u| u.to_string());
    assert_eq!(ids, expected, "oldest original entry first: {entries:?}");
    for (entry, age_s) in entries.iter().zip([600u64, 400, 300, 120]) {
        assert_eq!(entry["kind"], "callback", "{entry}");
        assert_eq!(entry["status"], "waiting", "{entry}");
        let wait_ms = entry["wait_ms"].as_u64().unwrap();
        assert!(
            (age_s * 1000..age_s * 1000 + 30_000).contains(&wait_ms),
            "{entry} should have waited about {age_s} s"
        );
    }

    // The restored callbacks are journaled again with their original entry time.
    let requeued = h.wait_event("callback.queued for c", Duration::from_secs(10), |ev| {
        ev["type"] == "callback.queued"
            && ev["call_id"] == c.to_string().as_str()
            && ev["seq"].as_u64() > Some(11)
    });
    assert_eq!(requeued["number"], "+33100000003", "{requeued}");
    let unknown = h.wait_event("c's cut attempt", Duration::from_secs(10), |ev| {
        ev["type"] == "callback.failed" && ev["call_id"] == c.to_string().as_str()
    });
    assert_eq!(unknown["cause"], "unknown", "{unknown}");
    assert_eq!(unknown["attempts"], 1, "{unknown}");
    assert_eq!(unknown["agent_id"], "1001", "{unknown}");
    assert_eq!(requeued["note"], "invoice question", "{requeued}");
    let original = ago(120).unix_millis();
    let entered = time::OffsetDateTime::parse(
        requeued["entered_at"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let entered_ms = entered.unix_timestamp_nanos() / 1_000_000;
    assert!(
        (original - entered_ms).abs() < 30_000,
        "entered_at kept: {requeued}"
    );

    // A second crash and restart: still the same four, in the same order, older now.
    let (sip, http) = (h.sip, h.http);
    let mut h = h;
    let dir = std::mem::replace(&mut h.dir, tempfile::tempdir().unwrap());
    drop(h);
    let h = Hotline::start_in(dir, sip, http, Options::default());
    let again = wait_entries(&h, 4);
    let ids_again: Vec<&str> = again
        .iter()
        .map(|e| e["call_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids_again, expected, "{again:?}");
    for (before, after) in entries.iter().zip(&again) {
        assert!(
            after["wait_ms"].as_u64() >= before["wait_ms"].as_u64(),
            "age kept across restarts: {before} then {after}"
        );
    }
}
