//! Publishing to a real Redis (each test starts its own `redis-server`; CI installs it).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::{assert_complete_in_order, draft, wait_written, RedisServer};
use hotline_events::{EventKind, EventPipeline, JournalConfig, PublisherStatus, RedisConfig};

const STREAM: &str = "test:events";
const TIMEOUT: Duration = Duration::from_secs(20);

fn journal(dir: &tempfile::TempDir) -> JournalConfig {
    JournalConfig::new(dir.path(), "hl-redis")
}

fn redis(server: &RedisServer) -> RedisConfig {
    RedisConfig {
        url: server.url(),
        stream: STREAM.into(),
        maxlen: 1_000_000,
    }
}

#[tokio::test]
async fn events_land_in_the_stream_in_order_with_their_fields() {
    let server = RedisServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let (sink, handle) = EventPipeline::start(journal(&dir), Some(redis(&server))).unwrap();
    for n in 1..=100 {
        sink.emit(draft(n).agent("bob"));
    }
    let entries = server.wait_for_len(STREAM, 100, TIMEOUT).await;
    assert_eq!(entries.len(), 100, "no duplicates without failures");
    assert_complete_in_order(&entries, 100);
    for (i, e) in entries.iter().enumerate() {
        assert_eq!(
            e.kind,
            EventKind::CallQueued {
                position: i as u32 + 1
            }
        );
        assert_eq!(e.node, "hl-redis");
        assert_eq!(e.agent_id.as_deref(), Some("bob"));
        assert_eq!(e.queue.as_deref(), Some("support"));
    }
    let report = handle.shutdown().await;
    assert!(report.redis_caught_up);
    assert_eq!(report.stats.published_seq, 100);
    assert_eq!(report.stats.published, 100);
    // The cursor is persisted: a restart publishes only new events.
    let (sink, handle) = EventPipeline::start(journal(&dir), Some(redis(&server))).unwrap();
    assert_eq!(handle.stats().published_seq, 100);
    sink.emit(draft(101));
    let entries = server.wait_for_len(STREAM, 101, TIMEOUT).await;
    assert_eq!(entries.len(), 101);
    assert_complete_in_order(&entries, 101);
    handle.shutdown().await;
}

#[tokio::test]
async fn redis_outage_loses_nothing_and_never_blocks_the_emitter() {
    let mut server = RedisServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let (sink, handle) = EventPipeline::start(journal(&dir), Some(redis(&server))).unwrap();
    let mut written = handle.written_seq();
    for n in 1..=50 {
        sink.emit(draft(n));
    }
    let before = server.wait_for_len(STREAM, 50, TIMEOUT).await;

    server.kill();
    let fsyncs_before = handle.stats().fsyncs;
    let mut slowest = Duration::ZERO;
    for n in 51..=250 {
        let t = Instant::now();
        sink.emit(draft(n));
        slowest = slowest.max(t.elapsed());
        if n % 50 == 0 {
            // Spread the emits so the publisher meets the dead server several times.
            wait_written(&mut written, u64::from(n)).await;
        }
    }
    assert!(
        slowest < Duration::from_millis(20),
        "emit took {slowest:?} while Redis was down"
    );
    wait_written(&mut written, 250).await;
    assert!(
        handle.stats().fsyncs > fsyncs_before,
        "the journal kept committing"
    );
    // The publisher notices the outage and keeps the events as backlog.
    let mut status = handle.publisher_status().unwrap();
    let down = tokio::time::timeout(TIMEOUT, status.wait_for(|s| *s == PublisherStatus::Down));
    assert!(
        matches!(down.await, Ok(Ok(_))),
        "publisher never saw the outage"
    );
    let stats = handle.stats();
    assert!(stats.publish_errors > 0 && stats.backlog > 0, "{stats:?}");

    // The restarted server is empty (no persistence); the publisher resumes from its cursor.
    server.restart().await;
    let deadline = Instant::now() + TIMEOUT;
    let after = loop {
        let after = server.entries(STREAM).await;
        if after.last().is_some_and(|e| e.seq == 250) {
            break after;
        }
        assert!(
            Instant::now() < deadline,
            "only {} events after restart",
            after.len()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let all: Vec<_> = before.into_iter().chain(after).collect();
    assert_complete_in_order(&all, 250);
    let mut published = handle.published_seq().unwrap();
    let caught_up = tokio::time::timeout(TIMEOUT, published.wait_for(|s| *s == 250));
    assert!(matches!(caught_up.await, Ok(Ok(_))));
    assert_eq!(
        *handle.publisher_status().unwrap().borrow(),
        PublisherStatus::Up
    );
    let report = handle.shutdown().await;
    assert!(report.redis_caught_up, "{report:?}");
    assert_eq!(report.stats.backlog, 0);
}

#[tokio::test]
async fn events_written_while_redis_is_absent_are_published_at_next_start() {
    let mut server = RedisServer::start().await;
    server.kill();
    let dir = tempfile::tempdir().unwrap();
    let (sink, handle) = EventPipeline::start(journal(&dir), Some(redis(&server))).unwrap();
    for n in 1..=20 {
        sink.emit(draft(n));
    }
    let report = handle
        .shutdown_with_deadline(Duration::from_millis(200))
        .await;
    assert!(report.journal_flushed);
    assert!(!report.redis_caught_up);
    assert_eq!(report.stats.backlog, 20);

    server.restart().await;
    let (_sink, handle) = EventPipeline::start(journal(&dir), Some(redis(&server))).unwrap();
    let entries = server.wait_for_len(STREAM, 20, TIMEOUT).await;
    assert_complete_in_order(&entries, 20);
    handle.shutdown().await;
}

#[tokio::test]
async fn a_stale_cursor_after_a_crash_only_redelivers_consecutively() {
    let server = RedisServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let (sink, handle) = EventPipeline::start(journal(&dir), Some(redis(&server))).unwrap();
    let mut published = handle.published_seq().unwrap();
    for n in 1..=10 {
        sink.emit(draft(n));
        // One batch per event, so the cursor passes through every line boundary.
        let reached = tokio::time::timeout(TIMEOUT, published.wait_for(|s| *s >= u64::from(n)));
        assert!(matches!(reached.await, Ok(Ok(_))));
    }
    let journal_path = handle.journal_path().to_path_buf();
    handle.shutdown().await;
    // Simulate a crash after XADD but before the cursor write: the cursor is 4 events behind.
    let lines = hotline_events::JournalReader::open(&journal_path)
        .unwrap()
        .read_lines(0, u64::MAX, 1 << 20)
        .unwrap();
    let stale = hotline_events::Cursor {
        segment: 1,
        offset: lines[5].end,
        seq: 6,
    };
    std::fs::write(
        dir.path().join("redis.cursor"),
        serde_json::to_string(&stale).unwrap(),
    )
    .unwrap();

    let (sink, handle) = EventPipeline::start(journal(&dir), Some(redis(&server))).unwrap();
    sink.emit(draft(11));
    let entries = server.wait_for_len(STREAM, 15, TIMEOUT).await;
    let seqs: Vec<u64> = entries.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 7, 8, 9, 10, 11]);
    assert_complete_in_order(&entries, 11);
    handle.shutdown().await;
}

#[tokio::test]
async fn dropping_the_handle_keeps_publishing_while_sinks_live() {
    let server = RedisServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let (sink, handle) = EventPipeline::start(journal(&dir), Some(redis(&server))).unwrap();
    drop(handle);
    for n in 1..=5 {
        sink.emit(draft(n));
    }
    let entries = server.wait_for_len(STREAM, 5, TIMEOUT).await;
    assert_complete_in_order(&entries, 5);
    drop(sink);
}

#[tokio::test]
async fn publishing_follows_rotations_without_loss_or_reordering() {
    let server = RedisServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    // A few events per segment: every batch or so rotates.
    let config = JournalConfig {
        segment_bytes: 600,
        ..journal(&dir)
    };
    let (sink, handle) = EventPipeline::start(config.clone(), Some(redis(&server))).unwrap();
    let mut written = handle.written_seq();
    for n in 1..=40 {
        sink.emit(draft(n));
        if n % 7 == 0 {
            // Separate commits, so rotations happen between publisher batches too.
            wait_written(&mut written, n as u64).await;
        }
    }
    let entries = server.wait_for_len(STREAM, 40, TIMEOUT).await;
    assert_eq!(entries.len(), 40, "no duplicates without failures");
    assert_complete_in_order(&entries, 40);
    let report = handle.shutdown().await;
    assert!(report.redis_caught_up);
    let segments = hotline_events::journal::segments::rotated_segments(dir.path()).unwrap();
    assert!(segments.len() >= 3, "rotated {} times", segments.len());

    // A restart resumes from the persisted cursor in the newest segment.
    let (sink, handle) = EventPipeline::start(config, Some(redis(&server))).unwrap();
    assert_eq!(handle.stats().published_seq, 40);
    for n in 41..=60 {
        sink.emit(draft(n));
    }
    let entries = server.wait_for_len(STREAM, 60, TIMEOUT).await;
    assert_eq!(entries.len(), 60);
    assert_complete_in_order(&entries, 60);
    handle.shutdown().await;
    let seqs: Vec<u64> = hotline_events::read_journal(dir.path().join("events.jsonl"))
        .unwrap()
        .iter()
        .map(|e| e.seq)
        .collect();
    assert_eq!(seqs, (1..=60).collect::<Vec<u64>>());
}

#[tokio::test]
async fn a_backlog_spanning_segments_is_published_after_redis_returns() {
    let mut server = RedisServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let config = JournalConfig {
        segment_bytes: 500,
        ..journal(&dir)
    };
    server.kill();
    let (sink, handle) = EventPipeline::start(config, Some(redis(&server))).unwrap();
    let mut written = handle.written_seq();
    for n in 1..=30 {
        sink.emit(draft(n));
        if n % 5 == 0 {
            wait_written(&mut written, n as u64).await;
        }
    }
    server.restart().await;
    let entries = server.wait_for_len(STREAM, 30, TIMEOUT).await;
    assert_complete_in_order(&entries, 30);
    handle.shutdown().await;
}
