//! Journal retention in the running pipeline: segments a snapshot covers go at the next
//! rotation, the newest ones and everything after the snapshot stay, and `seq` stays unbroken.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::draft;
use hotline_events::journal::segments::rotated_segments;
use hotline_events::{read_journal_dir, write_snapshot, EventPipeline, JournalConfig, Retention};

#[tokio::test]
async fn covered_segments_are_deleted_after_a_rotation_and_the_tail_stays() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let config = JournalConfig {
        segment_bytes: 600,
        retention: Some(Retention {
            keep_segments: 2,
            keep_for: Duration::ZERO,
            require_published: false,
        }),
        ..JournalConfig::new(&data, "hl-test")
    };
    let (sink, handle) = EventPipeline::start(config.clone(), None).unwrap();
    let mut last = 0;
    for n in 1..=40 {
        sink.emit(draft(n));
        last = sink.flush().await.unwrap();
    }
    // No snapshot yet: every segment stays.
    let before: Vec<u64> = rotated_segments(&data)
        .unwrap()
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert!(before.len() >= 6, "rotated {} times", before.len());
    assert_eq!(before, (1..=before.len() as u64).collect::<Vec<_>>());
    // A snapshot of everything so far; more events rotate the journal again.
    write_snapshot(&data, last, &serde_json::json!({})).unwrap();
    for n in 41..=80 {
        sink.emit(draft(n));
        sink.flush().await.unwrap();
    }
    handle.shutdown().await;
    let after: Vec<u64> = rotated_segments(&data)
        .unwrap()
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert!(after.first() > before.first(), "nothing deleted: {after:?}");
    // What remains is one unbroken run that reaches back to the snapshot at least.
    let seqs: Vec<u64> = read_journal_dir(&data)
        .unwrap()
        .iter()
        .map(|e| e.seq)
        .collect();
    let first = seqs[0];
    assert!(first <= last + 1, "events after the snapshot were deleted");
    assert_eq!(seqs, (first..=80).collect::<Vec<u64>>());

    // Without retention nothing is ever deleted.
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let config = JournalConfig {
        segment_bytes: 600,
        ..JournalConfig::new(&data, "hl-test")
    };
    let (sink, handle) = EventPipeline::start(config, None).unwrap();
    for n in 1..=40 {
        sink.emit(draft(n));
        sink.flush().await.unwrap();
    }
    write_snapshot(&data, 40, &serde_json::json!({})).unwrap();
    for n in 41..=80 {
        sink.emit(draft(n));
        sink.flush().await.unwrap();
    }
    handle.shutdown().await;
    let seqs: Vec<u64> = read_journal_dir(&data)
        .unwrap()
        .iter()
        .map(|e| e.seq)
        .collect();
    assert_eq!(seqs, (1..=80).collect::<Vec<u64>>());
}
