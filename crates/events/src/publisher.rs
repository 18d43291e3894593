//! The Redis Streams publisher: tails the journal (the durable outbox) from a persisted
//! cursor and `XADD`s each event to the stream, pipelined in batches.
//!
//! Delivery is at-least-once and in journal order: the cursor advances only after Redis
//! acknowledged a whole batch, so a crash or disconnect between `XADD` and the cursor write
//! re-sends the tail of that batch. Consumers deduplicate by the event's `id` (also sent as
//! the entry's `id` field). Redis being down or slow only grows the backlog: the journal
//! writer and the call path never wait for it.

mod cursor;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use redis::aio::MultiplexedConnection;
use redis::AsyncConnectionConfig;
use serde::Deserialize;
use tokio::sync::watch;
use tracing::{debug, error, info, warn};

pub use cursor::{Cursor, CURSOR_FILE};

use crate::journal::{segment_path, JournalLine, JournalPosition, JournalReader, JOURNAL_FILE};
use crate::stats::Counters;

pub(crate) use cursor::load as load_cursor;

/// Where and how to publish events to Redis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisConfig {
    /// Redis URL, e.g. `redis://127.0.0.1:6379`.
    pub url: String,
    /// Stream key.
    pub stream: String,
    /// Approximate stream length cap (`XADD … MAXLEN ~ maxlen`).
    pub maxlen: u64,
}

impl RedisConfig {
    /// Default stream key.
    pub const DEFAULT_STREAM: &'static str = "hotline:events";
    /// Default approximate stream length cap.
    pub const DEFAULT_MAXLEN: u64 = 1_000_000;

    /// The default stream and length cap on the Redis at `url`.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            stream: Self::DEFAULT_STREAM.to_owned(),
            maxlen: Self::DEFAULT_MAXLEN,
        }
    }
}

impl Default for RedisConfig {
    fn default() -> Self {
        Self::new("redis://127.0.0.1:6379")
    }
}

/// Health of the link to Redis, as last observed by the publisher.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PublisherStatus {
    /// No batch attempted yet since start.
    Starting,
    /// The last batch (or connection) succeeded.
    Up,
    /// The last attempt failed; the publisher is backing off and will retry.
    Down,
}

/// Largest batch read from the journal and sent in one pipeline.
const MAX_BATCH_BYTES: usize = 1 << 20;
/// Reconnect backoff bounds.
const BACKOFF_MIN: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(5);
/// A safety net in case a wake-up is missed; normal wake-ups come from the writer's watch.
const FALLBACK_POLL: Duration = Duration::from_secs(1);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(5);

/// Publishing one batch failed.
#[derive(Debug, thiserror::Error)]
enum PublishError {
    #[error("Redis: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("reading the journal: {0}")]
    Read(#[from] crate::error::JournalReadError),
    #[error("writing the cursor: {0}")]
    Cursor(#[source] std::io::Error),
    #[error("journal reader task failed: {0}")]
    Join(#[from] tokio::task::JoinError),
    #[error("no complete journal line between byte {offset} and {end}")]
    NoLine { offset: u64, end: u64 },
}

/// The fields of a journal line the publisher needs besides the raw text.
#[derive(Deserialize)]
struct Header<'a> {
    id: uuid::Uuid,
    seq: u64,
    #[serde(rename = "type", borrow)]
    kind: std::borrow::Cow<'a, str>,
}

/// The publisher task's state.
pub(crate) struct Publisher {
    pub(crate) client: redis::Client,
    pub(crate) config: RedisConfig,
    /// The journal's directory (live file and rotated segments).
    pub(crate) dir: PathBuf,
    pub(crate) cursor_path: PathBuf,
    pub(crate) cursor: Cursor,
    pub(crate) position: watch::Receiver<JournalPosition>,
    pub(crate) shutdown: watch::Receiver<bool>,
    pub(crate) counters: Arc<Counters>,
    pub(crate) status: watch::Sender<PublisherStatus>,
    pub(crate) published: watch::Sender<u64>,
}

impl Publisher {
    /// Runs until shutdown is requested (or the writer is gone) and everything is published.
    pub(crate) async fn run(mut self) {
        let mut conn: Option<MultiplexedConnection> = None;
        let mut reader: Option<(u64, JournalReader)> = None;
        let mut backoff = BACKOFF_MIN;
        let mut failing = false;
        let mut writer_gone = false;
        // False once the pipeline handle is dropped without a shutdown: the publisher then
        // runs until the writer is gone (all sinks dropped) and the journal is published.
        let mut handle_alive = true;
        loop {
            let end = *self.position.borrow_and_update();
            if (self.cursor.segment, self.cursor.offset) >= (end.segment, end.offset) {
                if writer_gone || *self.shutdown.borrow() {
                    return;
                }
                tokio::select! {
                    changed = self.position.changed() => writer_gone = changed.is_err(),
                    changed = self.shutdown.changed(), if handle_alive => {
                        handle_alive = changed.is_ok();
                    }
                    () = tokio::time::sleep(FALLBACK_POLL) => {}
                }
                continue;
            }
            match self.publish_batch(&mut conn, &mut reader, end).await {
                Ok(()) => {
                    self.status.send_if_modified(|s| {
                        let changed = *s != PublisherStatus::Up;
                        *s = PublisherStatus::Up;
                        changed
                    });
                    if failing {
                        info!(
                            backlog = end.seq.saturating_sub(self.cursor.seq),
                            "Redis publishing resumed"
                        );
                    }
                    failing = false;
                    backoff = BACKOFF_MIN;
                }
                Err(err) => {
                    Counters::add(&self.counters.publish_errors, 1);
                    conn = None;
                    self.status.send_replace(PublisherStatus::Down);
                    if failing {
                        debug!(%err, retry_in = ?backoff, "Redis publish failed again");
                    } else {
                        warn!(%err, retry_in = ?backoff, "Redis publish failed; events stay in the journal and will be retried");
                    }
                    failing = true;
                    // A shutdown cuts the pause short: the final publish has a deadline.
                    tokio::select! {
                        () = tokio::time::sleep(backoff) => {}
                        changed = self.shutdown.changed(), if handle_alive => {
                            handle_alive = changed.is_ok();
                        }
                    }
                    backoff = (backoff * 2).min(BACKOFF_MAX);
                }
            }
        }
    }

    async fn connect(&self) -> Result<MultiplexedConnection, redis::RedisError> {
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(Some(RESPONSE_TIMEOUT));
        self.client
            .get_multiplexed_async_connection_with_config(&config)
            .await
    }

    /// Publishes the next batch of lines before `end` and advances the cursor past it; at
    /// the end of a rotated segment, moves the cursor to the start of the next one.
    async fn publish_batch(
        &mut self,
        conn: &mut Option<MultiplexedConnection>,
        reader: &mut Option<(u64, JournalReader)>,
        end: JournalPosition,
    ) -> Result<(), PublishError> {
        let segment = self.cursor.segment;
        let offset = self.cursor.offset;
        let dir = self.dir.clone();
        let taken = reader.take().filter(|(n, _)| *n == segment);
        let read = tokio::task::spawn_blocking(move || {
            let mut r = match taken {
                Some((_, r)) => r,
                None => match open_segment(&dir, segment, end.segment)? {
                    Some(r) => r,
                    None => return Ok(None),
                },
            };
            // A rotated segment is complete: read it to its end.
            let stop = if segment < end.segment {
                r.file_len()?
            } else {
                end.offset
            };
            let lines = r.read_lines(offset, stop, MAX_BATCH_BYTES)?;
            Ok::<_, crate::error::JournalReadError>(Some((lines, r)))
        })
        .await??;
        let Some((lines, back)) = read else {
            // The segment is gone (deleted by retention, or a cursor from before any
            // rotation): nothing of it can be published any more.
            if offset > 0 {
                warn!(
                    segment,
                    offset, "journal segment missing; skipping to the next one"
                );
            }
            return self.advance_segment().await;
        };
        *reader = Some((segment, back));
        let Some(last) = lines.last() else {
            if segment < end.segment {
                *reader = None;
                return self.advance_segment().await;
            }
            // The durable end is always a line boundary, so this means the file changed
            // under us; failing makes the loop back off instead of spinning.
            return Err(PublishError::NoLine {
                offset,
                end: end.offset,
            });
        };
        let mut con = match conn.take() {
            Some(con) => con,
            None => self.connect().await?,
        };
        let (pipe, count, last_seq) = self.build_pipeline(&lines);
        if count > 0 {
            let _ids: Vec<String> = pipe.query_async(&mut con).await?;
        }
        *conn = Some(con);
        let next = Cursor {
            segment,
            offset: last.end,
            seq: last_seq.unwrap_or(self.cursor.seq),
        };
        self.store_cursor(next).await?;
        Counters::add(&self.counters.published, count);
        Ok(())
    }

    /// Moves the cursor to the start of the next segment.
    async fn advance_segment(&mut self) -> Result<(), PublishError> {
        let next = Cursor {
            segment: self.cursor.segment + 1,
            offset: 0,
            seq: self.cursor.seq,
        };
        self.store_cursor(next).await
    }

    async fn store_cursor(&mut self, next: Cursor) -> Result<(), PublishError> {
        cursor::store(&self.cursor_path, next)
            .await
            .map_err(PublishError::Cursor)?;
        self.cursor = next;
        Counters::set(&self.counters.published_seq, next.seq);
        self.published.send_replace(next.seq);
        Ok(())
    }

    /// One `XADD` per line; unparsable lines (disk corruption) are skipped and logged.
    fn build_pipeline(&self, lines: &[JournalLine]) -> (redis::Pipeline, u64, Option<u64>) {
        let mut pipe = redis::pipe();
        let mut count = 0;
        let mut last_seq = None;
        for line in lines {
            let header: Header<'_> = match serde_json::from_str(&line.text) {
                Ok(header) => header,
                Err(err) => {
                    error!(offset = line.offset, %err, "skipping unreadable journal line; it is not published");
                    continue;
                }
            };
            pipe.cmd("XADD")
                .arg(&self.config.stream)
                .arg("MAXLEN")
                .arg("~")
                .arg(self.config.maxlen)
                .arg("*")
                .arg("event")
                .arg(&line.text)
                .arg("id")
                .arg(header.id.to_string())
                .arg("type")
                .arg(header.kind.as_ref());
            count += 1;
            last_seq = Some(header.seq);
        }
        (pipe, count, last_seq)
    }
}

/// Opens segment `segment` for reading, knowing the live one is `live`; `None` if a rotated
/// segment does not exist.
///
/// The live file may be rotated at any moment; after opening `events.jsonl` the numbered
/// name is checked: if it exists now, the open may have raced the rename, so the numbered
/// file (the same data) is opened instead. If it does not, the open happened before any
/// rename and holds segment `segment` for good.
fn open_segment(
    dir: &std::path::Path,
    segment: u64,
    live: u64,
) -> Result<Option<JournalReader>, crate::error::JournalReadError> {
    let rotated = segment_path(dir, segment);
    let numbered = |path: &std::path::Path| match JournalReader::open(path) {
        Ok(r) => Ok(Some(r)),
        Err(crate::error::JournalReadError::Io { source, .. })
            if source.kind() == std::io::ErrorKind::NotFound =>
        {
            Ok(None)
        }
        Err(err) => Err(err),
    };
    if segment < live {
        return numbered(&rotated);
    }
    let r = JournalReader::open(dir.join(JOURNAL_FILE))?;
    if rotated.exists() {
        return numbered(&rotated);
    }
    Ok(Some(r))
}
