//! Wiring: journal writer + optional Redis publisher, started and stopped together.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;
use tracing::warn;

use crate::error::{FlushError, PipelineStartError};
use crate::journal::{open_journal, EventSink, JournalConfig, JournalHandle, JournalPosition};
use crate::publisher::{load_cursor, Publisher, PublisherStatus, RedisConfig, CURSOR_FILE};
use crate::stats::{Counters, Stats, StatsReader};

/// How long [`EventPipelineHandle::shutdown`] keeps trying to publish the backlog to Redis.
pub const SHUTDOWN_PUBLISH_DEADLINE: Duration = Duration::from_secs(2);

/// Entry point: starts the event pipeline.
#[derive(Debug)]
pub struct EventPipeline;

impl EventPipeline {
    /// Opens (and recovers) the journal, starts its writer and, if `redis` is given, the
    /// publisher that tails it. Must be called inside a tokio runtime.
    pub fn start(
        journal: JournalConfig,
        redis: Option<RedisConfig>,
    ) -> Result<(EventSink, EventPipelineHandle), PipelineStartError> {
        let runtime =
            tokio::runtime::Handle::try_current().map_err(|_| PipelineStartError::NoRuntime)?;
        let counters = Arc::new(Counters::default());
        // Validate Redis settings before starting anything.
        let redis = match redis {
            Some(config) => {
                let client = redis::Client::open(config.url.as_str())
                    .map_err(PipelineStartError::RedisUrl)?;
                Some((config, client))
            }
            None => None,
        };
        let mut journal = journal;
        if let Some(retention) = journal.retention.as_mut() {
            // Segments the publisher has not sent yet must stay.
            retention.require_published = redis.is_some();
        }
        let (sink, journal_handle) = open_journal(&journal, Arc::clone(&counters))?;
        let (shutdown_tx, shutdown_rx) = watch::channel(false);
        let mut watches = None;
        let publisher = match redis {
            Some((config, client)) => {
                let cursor_path = journal.dir.join(CURSOR_FILE);
                let live = journal_handle.position.borrow().segment;
                let cursor =
                    load_cursor(&cursor_path, &journal_handle.dir, live).map_err(|source| {
                        PipelineStartError::Cursor {
                            path: cursor_path.clone(),
                            source,
                        }
                    })?;
                Counters::set(&counters.published_seq, cursor.seq);
                counters.publisher_enabled.store(true, Ordering::Release);
                let (status, status_rx) = watch::channel(PublisherStatus::Starting);
                let (published, published_rx) = watch::channel(cursor.seq);
                watches = Some(PublisherWatches {
                    status: status_rx,
                    published_seq: published_rx,
                });
                let publisher = Publisher {
                    client,
                    config,
                    dir: journal_handle.dir.clone(),
                    cursor_path,
                    cursor,
                    position: journal_handle.position.clone(),
                    shutdown: shutdown_rx,
                    counters: Arc::clone(&counters),
                    status,
                    published,
                };
                Some(runtime.spawn(publisher.run()))
            }
            None => None,
        };
        let handle = EventPipelineHandle {
            journal: journal_handle,
            publisher,
            shutdown_tx,
            watches,
            stats: StatsReader { counters },
        };
        Ok((sink, handle))
    }
}

/// What was durable and published when the pipeline stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShutdownReport {
    /// The counters after the final flush and publish attempt.
    pub stats: Stats,
    /// False if the journal writer had already stopped (the last events may be lost).
    pub journal_flushed: bool,
    /// False if Redis did not receive the whole backlog before the deadline (it is
    /// published at the next start).
    pub redis_caught_up: bool,
}

/// Owner's handle of a running pipeline: watches, counters, flush and shutdown.
#[derive(Debug)]
pub struct EventPipelineHandle {
    journal: JournalHandle,
    publisher: Option<JoinHandle<()>>,
    shutdown_tx: watch::Sender<bool>,
    watches: Option<PublisherWatches>,
    stats: StatsReader,
}

#[derive(Debug)]
struct PublisherWatches {
    status: watch::Receiver<PublisherStatus>,
    published_seq: watch::Receiver<u64>,
}

impl EventPipelineHandle {
    /// A watch of the highest fsynced `seq` (0 while the journal is empty).
    pub fn written_seq(&self) -> watch::Receiver<u64> {
        self.journal.written_seq.clone()
    }

    /// A watch of the fsynced end of the journal (seq and byte offset).
    pub fn written_position(&self) -> watch::Receiver<JournalPosition> {
        self.journal.position.clone()
    }

    /// Every event once it is fsynced, in batches in `seq` order (for live projections).
    ///
    /// Events committed before this call are not sent: read them from the journal after
    /// subscribing, and skip the overlap by `seq`. A subscriber more than 1,024 batches
    /// behind gets `RecvError::Lagged` and should catch up from the journal.
    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<crate::journal::EventBatch> {
        self.journal.committed.subscribe()
    }

    /// A watch of the highest `seq` acknowledged by Redis; `None` without Redis.
    pub fn published_seq(&self) -> Option<watch::Receiver<u64>> {
        self.watches.as_ref().map(|w| w.published_seq.clone())
    }

    /// A watch of the Redis link's health (for `/health` and alerts); `None` without Redis.
    pub fn publisher_status(&self) -> Option<watch::Receiver<PublisherStatus>> {
        self.watches.as_ref().map(|w| w.status.clone())
    }

    /// Path of the live journal file (rotated segments are numbered beside it).
    pub fn journal_path(&self) -> &std::path::Path {
        &self.journal.path
    }

    /// Current counters.
    pub fn stats(&self) -> Stats {
        self.stats.snapshot()
    }

    /// A cloneable counters reader for the metrics endpoint.
    pub fn stats_reader(&self) -> StatsReader {
        self.stats.clone()
    }

    /// Waits until every event emitted before this call is fsynced; returns the written seq.
    pub async fn flush(&self) -> Result<u64, FlushError> {
        self.journal.flush().await
    }

    /// Graceful stop: refuses new events, drains and fsyncs the journal, then gives the
    /// publisher up to [`SHUTDOWN_PUBLISH_DEADLINE`] to publish the backlog.
    pub async fn shutdown(self) -> ShutdownReport {
        self.shutdown_with_deadline(SHUTDOWN_PUBLISH_DEADLINE).await
    }

    /// [`Self::shutdown`] with an explicit deadline for the final publish.
    pub async fn shutdown_with_deadline(mut self, deadline: Duration) -> ShutdownReport {
        let journal_flushed = match self.journal.shutdown().await {
            Ok(_) => true,
            Err(err) => {
                warn!(%err, "event journal was not flushed at shutdown");
                false
            }
        };
        self.shutdown_tx.send_replace(true);
        if let Some(mut task) = self.publisher.take() {
            if tokio::time::timeout(deadline, &mut task).await.is_err() {
                task.abort();
                let _ = task.await;
            }
        }
        let stats = self.stats.snapshot();
        let redis_caught_up = stats.backlog == 0;
        if !redis_caught_up {
            warn!(
                backlog = stats.backlog,
                "stopping with events not yet in Redis; they are published at the next start"
            );
        }
        ShutdownReport {
            stats,
            journal_flushed,
            redis_caught_up,
        }
    }
}
