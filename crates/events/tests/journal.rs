//! The journal as the server sees it: durable, ordered, recovered, group-committed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::Write;
use std::time::{Duration, Instant};

use common::{draft, wait_written};
use hotline_events::{
    read_journal, EventDraft, EventKind, EventPipeline, JournalConfig, SCHEMA_VERSION,
};

fn config(dir: &tempfile::TempDir) -> JournalConfig {
    JournalConfig::new(dir.path().join("data"), "hl-test")
}

#[tokio::test]
async fn emitted_events_are_fsynced_in_order_with_stamped_fields() {
    let dir = tempfile::tempdir().unwrap();
    let (sink, handle) = EventPipeline::start(config(&dir), None).unwrap();
    let mut written = handle.written_seq();
    assert_eq!(*written.borrow(), 0);
    for n in 1..=3 {
        sink.emit(draft(n).agent("alice"));
    }
    wait_written(&mut written, 3).await;
    let events = read_journal(handle.journal_path()).unwrap();
    assert_eq!(events.len(), 3);
    for (i, e) in events.iter().enumerate() {
        assert_eq!(e.v, SCHEMA_VERSION);
        assert_eq!(e.seq, i as u64 + 1);
        assert_eq!(e.node, "hl-test");
        assert_eq!(e.id.get_version_num(), 7);
        assert_eq!(e.agent_id.as_deref(), Some("alice"));
        assert_eq!(
            e.kind,
            EventKind::CallQueued {
                position: i as u32 + 1
            }
        );
    }
    assert!(events.windows(2).all(|w| w[0].id < w[1].id));
    let stats = handle.stats();
    assert_eq!((stats.emitted, stats.written, stats.written_seq), (3, 3, 3));
    assert_eq!(stats.backlog, 0, "no publisher, no backlog");
    handle.shutdown().await;
}

#[tokio::test]
async fn seq_continues_after_restart() {
    let dir = tempfile::tempdir().unwrap();
    for round in 0..3u32 {
        let (sink, handle) = EventPipeline::start(config(&dir), None).unwrap();
        assert_eq!(*handle.written_seq().borrow(), u64::from(round) * 2);
        sink.emit(draft(1));
        sink.emit(draft(2));
        let report = handle.shutdown().await;
        assert!(report.journal_flushed);
        assert_eq!(report.stats.written_seq, u64::from(round + 1) * 2);
    }
    let events = read_journal(dir.path().join("data/events.jsonl")).unwrap();
    let seqs: Vec<u64> = events.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (1..=6).collect::<Vec<_>>());
}

#[tokio::test]
async fn torn_last_line_is_dropped_and_writing_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let (sink, handle) = EventPipeline::start(config(&dir), None).unwrap();
    for n in 1..=3 {
        sink.emit(draft(n));
    }
    let path = handle.journal_path().to_path_buf();
    handle.shutdown().await;
    let intact = std::fs::read(&path).unwrap();
    // A crash in the middle of a write leaves half a line.
    std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap()
        .write_all(br#"{"v":1,"id":"0193"#)
        .unwrap();

    let (sink, handle) = EventPipeline::start(config(&dir), None).unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), intact);
    assert_eq!(*handle.written_seq().borrow(), 3);
    sink.emit(draft(4));
    handle.shutdown().await;
    let seqs: Vec<u64> = read_journal(&path).unwrap().iter().map(|e| e.seq).collect();
    assert_eq!(seqs, vec![1, 2, 3, 4]);
}

#[tokio::test]
async fn a_burst_is_group_committed() {
    let dir = tempfile::tempdir().unwrap();
    let (sink, handle) = EventPipeline::start(config(&dir), None).unwrap();
    let mut written = handle.written_seq();
    for n in 1..=1000 {
        sink.emit(draft(n));
    }
    wait_written(&mut written, 1000).await;
    let stats = handle.stats();
    assert_eq!(stats.written, 1000);
    assert!(
        stats.fsyncs <= 50,
        "1000 events took {} fsyncs; group commit should need a handful",
        stats.fsyncs
    );
    handle.shutdown().await;
}

#[tokio::test]
async fn fsyncs_are_spaced_by_the_commit_interval() {
    let dir = tempfile::tempdir().unwrap();
    let (sink, handle) = EventPipeline::start(config(&dir), None).unwrap();
    let mut written = handle.written_seq();
    // A steady trickle for ~100 ms: at most one fsync per 10 ms window (+1 for the first).
    let start = Instant::now();
    let mut n = 0;
    while start.elapsed() < Duration::from_millis(100) {
        n += 1;
        sink.emit(draft(n));
        tokio::task::yield_now().await;
    }
    let elapsed = start.elapsed();
    wait_written(&mut written, u64::from(n)).await;
    let total = start.elapsed();
    let bound = total.as_millis() / 10 + 2;
    let fsyncs = handle.stats().fsyncs;
    assert!(
        u128::from(fsyncs) <= bound,
        "{fsyncs} fsyncs for {n} events in {elapsed:?} (bound {bound})"
    );
    handle.shutdown().await;
}

#[tokio::test]
async fn flush_returns_once_everything_emitted_is_durable() {
    let dir = tempfile::tempdir().unwrap();
    let (sink, handle) = EventPipeline::start(config(&dir), None).unwrap();
    sink.emit(draft(1));
    sink.emit(draft(2));
    assert_eq!(sink.flush().await.unwrap(), 2);
    assert_eq!(read_journal(handle.journal_path()).unwrap().len(), 2);
    sink.emit(draft(3));
    assert_eq!(handle.flush().await.unwrap(), 3);
    handle.shutdown().await;
}

#[tokio::test]
async fn shutdown_drains_everything_and_later_emits_are_counted_as_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let (sink, handle) = EventPipeline::start(config(&dir), None).unwrap();
    let path = handle.journal_path().to_path_buf();
    let stats = handle.stats_reader();
    for n in 1..=500 {
        sink.emit(draft(n));
    }
    let report = handle.shutdown().await;
    assert!(report.journal_flushed);
    assert_eq!(report.stats.written_seq, 500);
    assert_eq!(read_journal(&path).unwrap().len(), 500);
    sink.emit(draft(501));
    assert!(sink.flush().await.is_err());
    assert_eq!(stats.snapshot().dropped, 1);
    assert_eq!(read_journal(&path).unwrap().len(), 500);
}

#[tokio::test]
async fn emit_works_from_plain_threads() {
    let dir = tempfile::tempdir().unwrap();
    let (sink, handle) = EventPipeline::start(config(&dir), None).unwrap();
    let mut written = handle.written_seq();
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let sink = sink.clone();
            std::thread::spawn(move || {
                for _ in 0..25 {
                    sink.emit(EventDraft::new(EventKind::CallHeld).agent(format!("agent-{t}")));
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    wait_written(&mut written, 100).await;
    let events = read_journal(handle.journal_path()).unwrap();
    let seqs: Vec<u64> = events.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (1..=100).collect::<Vec<_>>());
    handle.shutdown().await;
}

#[tokio::test]
async fn the_journal_rotates_by_size_with_seq_continuing() {
    let dir = tempfile::tempdir().unwrap();
    let config = JournalConfig {
        segment_bytes: 1000,
        ..config(&dir)
    };
    let (sink, handle) = EventPipeline::start(config.clone(), None).unwrap();
    for n in 1..=50 {
        sink.emit(draft(n));
        if n % 4 == 0 {
            sink.flush().await.unwrap();
        }
    }
    handle.shutdown().await;
    let data = dir.path().join("data");
    let segments = hotline_events::journal::segments::rotated_segments(&data).unwrap();
    assert!(segments.len() >= 5, "rotated {} times", segments.len());
    for (i, (n, path)) in segments.iter().enumerate() {
        assert_eq!(*n, i as u64 + 1);
        let len = std::fs::metadata(path).unwrap().len();
        assert!(len >= 1000, "segment {n} rotated early at {len} bytes");
    }
    // The live file keeps its name, and readers see every segment in order.
    assert!(data.join("events.jsonl").exists());
    let seqs: Vec<u64> = read_journal(data.join("events.jsonl"))
        .unwrap()
        .iter()
        .map(|e| e.seq)
        .collect();
    assert_eq!(seqs, (1..=50).collect::<Vec<u64>>());

    // A restart continues seq even when it finds an empty live file after a rotation.
    std::fs::write(data.join("events.jsonl"), "").unwrap();
    let last_rotated = hotline_events::read_journal_dir(&data)
        .unwrap()
        .last()
        .unwrap()
        .seq;
    let (sink, handle) = EventPipeline::start(config, None).unwrap();
    sink.emit(draft(99));
    assert_eq!(sink.flush().await.unwrap(), last_rotated + 1);
    handle.shutdown().await;
}
