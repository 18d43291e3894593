//! Subscribers see every event once it is fsynced, in `seq` order, exactly as journaled.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::draft;
use hotline_events::{read_journal, EventPipeline, JournalConfig};

#[tokio::test]
async fn a_subscriber_gets_each_event_committed_after_it_subscribed_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let (sink, handle) =
        EventPipeline::start(JournalConfig::new(dir.path(), "hl-test"), None).unwrap();
    sink.emit(draft(1));
    sink.emit(draft(2));
    assert_eq!(sink.flush().await.unwrap(), 2);

    let mut rx = handle.subscribe();
    for n in 3..=40 {
        sink.emit(draft(n));
        if n % 7 == 0 {
            sink.flush().await.unwrap();
        }
    }
    let mut got = Vec::new();
    while got.len() < 38 {
        let batch = tokio::time::timeout(Duration::from_secs(5), rx.recv())
            .await
            .expect("a committed batch within 5 s")
            .unwrap();
        assert!(!batch.is_empty());
        got.extend(batch.iter().cloned());
    }
    let seqs: Vec<u64> = got.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (3..=40).collect::<Vec<_>>());
    // What the subscriber saw is what the journal holds, fsynced by then.
    let journal = read_journal(handle.journal_path()).unwrap();
    assert_eq!(&journal[2..], &got[..]);
    handle.shutdown().await;
}
