//! An outbound campaign survives journal retention: with a tiny `events.segment_size` and a
//! retention that keeps one old segment for no time at all, a campaign is created through the
//! API with a few records and a do-not-call number, and never started (no dial, no agent
//! involved). Scheduled callbacks are then created and cancelled until the journal has rotated
//! well past the campaign's events, and hotline restarts, which snapshots the journal and
//! deletes the segments the snapshot covers, `campaign.created` and `campaign.records_added`
//! included. After one more restart the campaign is still there through the API: same spec,
//! state, records and counts.

#![allow(clippy::unwrap_used)]

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::Duration;

use serde_json::{json, Value};
use support::{poll_until, read_events, Hotline, Options};

const TOKEN: &str = "hotline-demo-token";
const CALLER_ID: &str = "+8675512345678";

/// Tiny segments, aggressive retention, and a trunk for the campaign (never dialed: the
/// campaign is not started).
fn options() -> Options {
    let anchor = "routing:\n  not_ready_reasons: []\n  seed: 0\n";
    let trunk = "routing:\n  not_ready_reasons: []\n  seed: 0\ntrunks:\n  carrier:\n    \
                 from_number: \"+8675512345678\"\n    gateway: \"127.0.0.1:9\"\n    \
                 allow: [\"+86XXXXXXXXXXX\"]\n";
    Options {
        config_edits: vec![
            (
                "  node: hotline-1\n",
                "  node: hotline-1\n  segment_size: 400\n  retention: { keep_segments: 1, keep_for: 0s }\n",
            ),
            (anchor, trunk),
        ],
        ..Options::default()
    }
}

/// One API request with a raw body; the status and the JSON answer (`null` when empty).
fn request(h: &Hotline, method: &str, path: &str, content_type: &str, body: &str) -> (u16, Value) {
    let mut s = TcpStream::connect_timeout(&h.http, Duration::from_secs(2)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nAuthorization: Bearer {TOKEN}\r\n\
         Content-Type: {content_type}\r\nContent-Length: {}\r\n\r\n{body}",
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

/// One JSON API request.
fn api(h: &Hotline, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    request(h, method, path, "application/json", &body)
}

fn campaign(h: &Hotline) -> (u16, Value) {
    api(h, "GET", "/api/v1/campaigns/renewals", None)
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

/// How many rotated segments are newer than the newest one holding a campaign event.
fn rotated_past_campaign(dir: &Path) -> usize {
    let numbers = segments(dir);
    let holds_campaign = |n: u64| {
        read_events(&dir.join(format!("events-{n:06}.jsonl")))
            .iter()
            .any(|e| {
                e["type"]
                    .as_str()
                    .is_some_and(|t| t.starts_with("campaign."))
            })
    };
    match numbers.iter().rposition(|&n| holds_campaign(n)) {
        Some(i) => numbers.len() - 1 - i,
        // Still in the live file: nothing rotated past it yet.
        None if read_events(&dir.join("events.jsonl")).iter().any(|e| {
            e["type"]
                .as_str()
                .is_some_and(|t| t.starts_with("campaign."))
        }) =>
        {
            0
        }
        None => numbers.len(),
    }
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

/// The campaign's events on disk.
fn campaign_events(h: &Hotline) -> Vec<Value> {
    all_events(h.dir.path())
        .into_iter()
        .filter(|e| {
            e["type"]
                .as_str()
                .is_some_and(|t| t.starts_with("campaign."))
                && e["campaign"] == "renewals"
        })
        .collect()
}

#[test]
fn a_campaign_not_started_survives_the_deletion_of_its_journal_segments() {
    let h = Hotline::start(options());
    let spec = json!({
        "id": "renewals", "mode": "progressive",
        "audience": {"agents": {"queue": "support"}},
        "caller_id": CALLER_ID, "default_zone": "Asia/Shanghai",
        "trunk": {"name": "carrier", "channels": 4},
        "retry": {"busy": {"delay": "10m", "max_attempts": 3}},
        "amd": {"enabled": false},
        "abandon_message": {"prompt": "goodbye", "callback_number": CALLER_ID}
    });
    let (status, c) = api(&h, "POST", "/api/v1/campaigns", Some(spec));
    assert_eq!(status, 201, "{c}");
    let csv = "phone,name,time_zone\n+8613800000011,Dora,\n+8613800000012,Olga,\n\
               +8613800000013,Ann,Asia/Shanghai\n";
    let (status, up) = request(
        &h,
        "POST",
        "/api/v1/campaigns/renewals/records",
        "text/csv",
        csv,
    );
    assert_eq!((status, &up["added"]), (200, &json!(3)), "{up}");
    let (status, d) = request(
        &h,
        "POST",
        "/api/v1/campaigns/renewals/dnc",
        "text/plain",
        "+8613800000012\n",
    );
    assert_eq!((status, &d["added"]), (200, &json!(1)), "{d}");
    let (status, before) = campaign(&h);
    assert_eq!(status, 200, "{before}");
    assert_eq!(before["stats"]["state"], "created", "{before}");
    assert_eq!(before["stats"]["total"], 3, "{before}");

    // Other work comes and goes: each write fills a 400-byte segment, so the journal rotates
    // past the campaign. Writes can be batched (several events, one segment), so the work goes
    // on until three segments newer than the campaign's last one have rotated, and retention
    // (keep one old segment) has the campaign's segment to delete.
    let mut last = String::new();
    for i in 0..60 {
        if i >= 8 && rotated_past_campaign(h.dir.path()) >= 3 {
            break;
        }
        let (status, cb) = api(
            &h,
            "POST",
            "/api/v1/callbacks",
            Some(json!({
                "number": format!("+336123457{i:02}"), "reason": "complaint", "queue": "support",
                "due": {"within": "24h"}, "time_zone": "Europe/Paris"
            })),
        );
        assert_eq!(status, 201, "{cb}");
        let id = cb["id"].as_str().unwrap().to_string();
        let (status, cb) = api(&h, "DELETE", &format!("/api/v1/callbacks/{id}"), None);
        assert_eq!((status, cb["state"].as_str()), (200, Some("cancelled")));
        last = id;
    }
    let written = poll_until(Duration::from_secs(5), || {
        all_events(h.dir.path())
            .iter()
            .any(|e| e["type"] == "callback.scheduled_cancelled" && e["callback_id"] == last)
    });
    assert!(written, "the last cancel was not journaled");
    let created_seq = campaign_events(&h)
        .iter()
        .filter_map(|e| e["seq"].as_u64())
        .max()
        .unwrap();

    // The restart snapshots the journal; retention then deletes the segments it covers, the
    // campaign's events among them.
    let h = restart(h);
    let deleted = poll_until(Duration::from_secs(10), || {
        campaign_events(&h).is_empty()
            && snapshot_seq(h.dir.path()).is_some_and(|s| s > created_seq)
    });
    assert!(
        deleted,
        "the campaign's segments not deleted: {:?}, snapshot {:?}\n{}",
        segments(h.dir.path()),
        snapshot_seq(h.dir.path()),
        h.log()
    );
    assert_eq!(campaign(&h).0, 200);

    // Another restart: nothing of the campaign is left in the journal, yet it is there.
    let h = restart(h);
    assert!(campaign_events(&h).is_empty());
    let (status, after) = campaign(&h);
    assert_eq!(
        status,
        200,
        "campaign lost after the restart: {after}\n{}",
        h.log()
    );
    assert_eq!(after["spec"], before["spec"], "{after} vs {before}");
    assert_eq!(after["stats"], before["stats"], "{after} vs {before}");
    let (_, list) = api(&h, "GET", "/api/v1/campaigns", None);
    assert_eq!(list.as_array().map(Vec::len), Some(1), "{list}");
    // The records are still the campaign's: the same file again adds none of them.
    let (status, again) = request(
        &h,
        "POST",
        "/api/v1/campaigns/renewals/records",
        "text/csv",
        csv,
    );
    assert_eq!((status, &again["added"]), (200, &json!(0)), "{again}");
    assert_eq!(
        again["not_added"].as_array().map(Vec::len),
        Some(3),
        "{again}"
    );
}
