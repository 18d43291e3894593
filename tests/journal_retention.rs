//! Journal retention in the running server: with a small `events.segment_size` and a
//! `retention`, a restart (which snapshots the journal) deletes the segments the snapshot covers,
//! keeps the newest, and the server carries on with an unbroken `seq`.

#![allow(clippy::unwrap_used)]

mod support;

use std::time::Duration;

use support::agent::{AgentSetup, SippAgent};
use support::http::post;
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

/// The numbers of the rotated segments in `dir`.
fn segments(dir: &std::path::Path) -> Vec<u64> {
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
fn all_events(dir: &std::path::Path) -> Vec<serde_json::Value> {
    let mut events = Vec::new();
    for n in segments(dir) {
        events.extend(read_events(&dir.join(format!("events-{n:06}.jsonl"))));
    }
    events.extend(read_events(&dir.join("events.jsonl")));
    events
}

#[test]
fn a_restart_deletes_the_segments_its_snapshot_covers() {
    let mut h = Hotline::start(options());
    let agent = SippAgent::start(
        &h,
        AgentSetup {
            hold_ms: 8_000,
            ..AgentSetup::default()
        },
    );
    // Enough state changes to rotate the 400-byte journal several times.
    for i in 0..12 {
        let body = if i % 2 == 0 {
            r#"{"state":"not_ready","reason":"lunch"}"#
        } else {
            r#"{"state":"ready"}"#
        };
        let r = post(h.http, "/api/v1/agents/1001/state", Some(TOKEN), body).unwrap();
        assert_eq!(r.status, 200, "{}", r.body);
        // One change per commit, so the journal rotates after each once it is full.
        let written = poll_until(Duration::from_secs(5), || {
            all_events(h.dir.path())
                .iter()
                .filter(|e| e["type"] == "agent.state_changed" && e["agent_id"] == "1001")
                .count()
                >= i + 2
        });
        assert!(written, "state change {i} not journaled");
    }
    agent.finish(Duration::from_secs(20)).assert_ok("agent");
    let (sip, http) = (h.sip, h.http);
    let dir = std::mem::replace(&mut h.dir, tempfile::tempdir().unwrap());
    h.terminate();
    assert!(h.wait_exit(Duration::from_secs(15)).is_some(), "no exit");
    drop(h);
    let before = segments(dir.path());
    assert!(before.len() >= 3, "rotated only {before:?}");
    // Nothing is covered by a snapshot yet while it ran: every segment is still there.
    assert_eq!(before, (1..=before.len() as u64).collect::<Vec<_>>());
    let last_seq = all_events(dir.path())
        .last()
        .and_then(|e| e["seq"].as_u64())
        .unwrap();

    // The restart snapshots the journal, then the retention deletes what it covers.
    let h = Hotline::start_in(dir, sip, http, options());
    let after = segments(h.dir.path());
    assert!(
        after.len() <= 2 && after.first() > before.first(),
        "before {before:?}, after {after:?}"
    );
    assert!(
        h.log().contains("old journal segment deleted"),
        "{}",
        h.log()
    );
    // The journal goes on from where it was, seq unbroken in what is kept.
    let agent = SippAgent::start(
        &h,
        AgentSetup {
            hold_ms: 2_000,
            ..AgentSetup::default()
        },
    );
    let events = all_events(h.dir.path());
    let seqs: Vec<u64> = events.iter().map(|e| e["seq"].as_u64().unwrap()).collect();
    assert!(seqs.iter().any(|s| *s > last_seq), "no new events");
    for w in seqs.windows(2) {
        assert_eq!(w[1], w[0] + 1, "gap in the kept journal: {seqs:?}");
    }
    agent.finish(Duration::from_secs(20)).assert_ok("agent");
}
