//! Counters the server reads for its metrics.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

/// Live counters shared by the sink, the journal writer and the publisher.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) emitted: AtomicU64,
    pub(crate) dropped: AtomicU64,
    pub(crate) written: AtomicU64,
    pub(crate) fsyncs: AtomicU64,
    pub(crate) write_errors: AtomicU64,
    pub(crate) written_seq: AtomicU64,
    pub(crate) published: AtomicU64,
    pub(crate) publish_errors: AtomicU64,
    pub(crate) published_seq: AtomicU64,
    pub(crate) publisher_enabled: AtomicBool,
}

impl Counters {
    pub(crate) fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    pub(crate) fn set(counter: &AtomicU64, value: u64) {
        counter.store(value, Ordering::Release);
    }
}

/// A point-in-time copy of the pipeline's counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stats {
    /// Events accepted by [`crate::EventSink::emit`] since start.
    pub emitted: u64,
    /// Events refused because the journal writer had stopped (they are lost).
    pub dropped: u64,
    /// Events written and fsynced to the journal since start.
    pub written: u64,
    /// `fsync` calls on the journal since start (group commit: far fewer than `written`).
    pub fsyncs: u64,
    /// Failed journal writes or fsyncs (each is retried).
    pub write_errors: u64,
    /// Highest fsynced sequence number (survives restarts).
    pub written_seq: u64,
    /// Events acknowledged by Redis since start (redeliveries included).
    pub published: u64,
    /// Failed Redis connections or batches (each is retried).
    pub publish_errors: u64,
    /// Highest sequence number acknowledged by Redis (survives restarts through the cursor).
    pub published_seq: u64,
    /// Events written but not yet published: `written_seq - published_seq`, 0 without Redis.
    pub backlog: u64,
}

/// A cloneable reader of the pipeline's counters, for the metrics endpoint.
#[derive(Debug, Clone)]
pub struct StatsReader {
    pub(crate) counters: Arc<Counters>,
}

impl StatsReader {
    /// Copies the current counters.
    pub fn snapshot(&self) -> Stats {
        let c = &self.counters;
        let load = |a: &AtomicU64| a.load(Ordering::Acquire);
        let written_seq = load(&c.written_seq);
        let published_seq = load(&c.published_seq);
        let backlog = if c.publisher_enabled.load(Ordering::Acquire) {
            written_seq.saturating_sub(published_seq)
        } else {
            0
        };
        Stats {
            emitted: load(&c.emitted),
            dropped: load(&c.dropped),
            written: load(&c.written),
            fsyncs: load(&c.fsyncs),
            write_errors: load(&c.write_errors),
            written_seq,
            published: load(&c.published),
            publish_errors: load(&c.publish_errors),
            published_seq,
            backlog,
        }
    }
}
