//! The journal writer: one thread owns `events.jsonl`, assigns `seq` in write order and
//! group-commits (one `fsync` per batch, at most one batch every [`COMMIT_INTERVAL`]).
//! After a commit that leaves the live file at or above the segment size, it renames the
//! file to its segment number and starts a new live file (see [`super::segments`]).
//!
//! It is a dedicated OS thread rather than a tokio task because `fsync` blocks for
//! milliseconds: a thread keeps the runtime's workers free without a `spawn_blocking` hop
//! per batch, and `std::sync::mpsc` gives the timed receive group commit needs.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::{broadcast, oneshot, watch};
use tracing::{error, info, warn};
use uuid::Uuid;

use super::recover::{last_complete_seq, recover};
use super::retention::{prune, Retention};
use super::segments::{live_segment, segment_path, sync_dir, DEFAULT_SEGMENT_BYTES};
use crate::error::{FlushError, JournalOpenError};
use crate::schema::{Event, EventDraft};
use crate::stats::Counters;
use crate::timestamp::Timestamp;

/// Name of the live journal file inside the data directory.
pub const JOURNAL_FILE: &str = "events.jsonl";

/// Minimum time between two fsyncs of the journal; also the longest an event waits for one
/// under load.
pub const COMMIT_INTERVAL: Duration = Duration::from_millis(10);

/// Largest batch written before committing, to bound memory under a burst.
const MAX_BATCH_EVENTS: usize = 4096;

/// First and longest pause before retrying a failed write or fsync.
const RETRY_MIN: Duration = Duration::from_millis(100);
const RETRY_MAX: Duration = Duration::from_secs(5);

/// How many committed batches a slow subscriber may fall behind before it lags.
const SUBSCRIBER_BATCHES: usize = 1024;

/// A committed batch of events, in `seq` order, as subscribers receive it.
pub type EventBatch = Arc<[Event]>;

/// How long shutdown waits for the writer to drain before giving up.
const STOP_TIMEOUT: Duration = Duration::from_secs(10);

/// Where the journal lives and which node writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalConfig {
    /// Data directory; the journal is `<dir>/events.jsonl` (created if missing).
    pub dir: PathBuf,
    /// Name of this hotline node, written in every event's `node` field.
    pub node: String,
    /// Size in bytes at which the live file is rotated into a numbered segment (checked
    /// after each commit, so a segment ends on a batch boundary and may exceed it a little).
    pub segment_bytes: u64,
    /// When old segments are deleted (at start and after each rotation); `None` keeps all.
    pub retention: Option<Retention>,
}

impl JournalConfig {
    /// A journal in `dir` written by `node`, rotated at [`DEFAULT_SEGMENT_BYTES`].
    pub fn new(dir: impl Into<PathBuf>, node: impl Into<String>) -> Self {
        Self {
            dir: dir.into(),
            node: node.into(),
            segment_bytes: DEFAULT_SEGMENT_BYTES,
            retention: None,
        }
    }
}

/// The durable end of the journal: last fsynced sequence number, the live segment and the
/// byte offset after the last fsynced event in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct JournalPosition {
    /// Highest fsynced `seq` (0 when the journal is empty).
    pub seq: u64,
    /// Number of the live segment (`events.jsonl`); the rotated ones are numbered below it.
    pub segment: u64,
    /// Live file length covering exactly the fsynced events.
    pub offset: u64,
}

enum Msg {
    Event(EventDraft),
    Flush(oneshot::Sender<u64>),
    Stop(oneshot::Sender<u64>),
}

/// Cloneable handle the call path uses to emit events. `emit` never blocks nor awaits.
#[derive(Clone, Debug)]
pub struct EventSink {
    tx: mpsc::Sender<Msg>,
    closed: Arc<AtomicBool>,
    counters: Arc<Counters>,
}

impl std::fmt::Debug for Msg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Msg::Event(d) => write!(f, "Event({})", d.kind.type_name()),
            Msg::Flush(_) => f.write_str("Flush"),
            Msg::Stop(_) => f.write_str("Stop"),
        }
    }
}

impl EventSink {
    /// Queues an event for the journal and returns at once (the queue is unbounded, so the
    /// call path never waits on the disk or on Redis). Stamps `ts` with the wall clock unless
    /// the draft has one. After shutdown the event is dropped and counted in `Stats::dropped`.
    pub fn emit(&self, mut draft: EventDraft) {
        if draft.ts.is_none() {
            draft.ts = Some(Timestamp::now());
        }
        if self.closed.load(Ordering::Acquire) || self.tx.send(Msg::Event(draft)).is_err() {
            // Warn once, not once per event: after shutdown every emit lands here.
            if self.counters.dropped.fetch_add(1, Ordering::Relaxed) == 0 {
                warn!("event dropped: the journal writer has stopped");
            }
            return;
        }
        Counters::add(&self.counters.emitted, 1);
    }

    /// Waits until every event emitted before this call is fsynced; returns the written seq.
    pub async fn flush(&self) -> Result<u64, FlushError> {
        let (tx, rx) = oneshot::channel();
        self.tx
            .send(Msg::Flush(tx))
            .map_err(|_| FlushError::WriterStopped)?;
        rx.await.map_err(|_| FlushError::WriterStopped)
    }
}

/// Owner's side of the journal: watches of the durable position and the writer's shutdown.
#[derive(Debug)]
pub(crate) struct JournalHandle {
    tx: mpsc::Sender<Msg>,
    closed: Arc<AtomicBool>,
    pub(crate) written_seq: watch::Receiver<u64>,
    pub(crate) position: watch::Receiver<JournalPosition>,
    pub(crate) path: PathBuf,
    pub(crate) dir: PathBuf,
    pub(crate) committed: broadcast::Sender<EventBatch>,
    thread: Option<JoinHandle<()>>,
}

impl JournalHandle {
    /// Stops accepting events, writes and fsyncs everything queued, and stops the writer.
    /// Returns the last written seq.
    pub(crate) async fn shutdown(&mut self) -> Result<u64, FlushError> {
        self.closed.store(true, Ordering::Release);
        let (tx, rx) = oneshot::channel();
        let sent = self.tx.send(Msg::Stop(tx));
        let result = match sent {
            // Bounded: a writer stuck retrying a failing disk must not hang process exit.
            Ok(()) => match tokio::time::timeout(STOP_TIMEOUT, rx).await {
                Ok(reply) => reply.map_err(|_| FlushError::WriterStopped),
                Err(_) => return Err(FlushError::Timeout(STOP_TIMEOUT)),
            },
            Err(_) => Err(FlushError::WriterStopped),
        };
        if let Some(thread) = self.thread.take() {
            // The writer has replied (or died), so joining does not wait on the disk.
            let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        }
        result
    }

    /// A sender of flush requests, like [`EventSink::flush`].
    pub(crate) async fn flush(&self) -> Result<u64, FlushError> {
        let (tx, rx) = oneshot::channel();
        self.tx
            .send(Msg::Flush(tx))
            .map_err(|_| FlushError::WriterStopped)?;
        rx.await.map_err(|_| FlushError::WriterStopped)
    }
}

/// Opens (creating or recovering) the journal and starts its writer thread.
pub(crate) fn open_journal(
    config: &JournalConfig,
    counters: Arc<Counters>,
) -> Result<(EventSink, JournalHandle), JournalOpenError> {
    std::fs::create_dir_all(&config.dir).map_err(|source| JournalOpenError::CreateDir {
        path: config.dir.clone(),
        source,
    })?;
    let path = config.dir.join(JOURNAL_FILE);
    let io = |source| JournalOpenError::Io {
        path: path.clone(),
        source,
    };
    let mut file = OpenOptions::new()
        .read(true)
        .append(true)
        .create(true)
        .open(&path)
        .map_err(io)?;
    let recovered = recover(&mut file, &path).map_err(io)?;
    let segment = live_segment(&config.dir).map_err(io)?;
    let mut last_seq = recovered.last_seq;
    if last_seq == 0 && segment > 1 {
        // A fresh live file after a rotation: seq continues from the newest segment.
        last_seq = last_complete_seq(&segment_path(&config.dir, segment - 1)).map_err(io)?;
    }
    let start = JournalPosition {
        seq: last_seq,
        segment,
        offset: recovered.len,
    };
    prune_segments(&config.dir, config.retention.as_ref());
    Counters::set(&counters.written_seq, start.seq);
    let (seq_tx, seq_rx) = watch::channel(start.seq);
    let (pos_tx, pos_rx) = watch::channel(start);
    let (tx, rx) = mpsc::channel();
    let closed = Arc::new(AtomicBool::new(false));
    let (committed, _) = broadcast::channel(SUBSCRIBER_BATCHES);
    let writer = Writer {
        file,
        dir: config.dir.clone(),
        segment_bytes: config.segment_bytes.max(1),
        retention: config.retention,
        node: config.node.clone(),
        rx,
        durable: start,
        next_seq: start.seq + 1,
        buf: Vec::with_capacity(64 * 1024),
        buffered: 0,
        waiters: Vec::new(),
        last_commit: None,
        counters: Arc::clone(&counters),
        seq_tx,
        pos_tx,
        batch: Vec::new(),
        committed: committed.clone(),
    };
    let thread = std::thread::Builder::new()
        .name("hotline-journal".into())
        .spawn(move || writer.run())
        .map_err(JournalOpenError::Spawn)?;
    let sink = EventSink {
        tx: tx.clone(),
        closed: Arc::clone(&closed),
        counters,
    };
    let handle = JournalHandle {
        tx,
        closed,
        written_seq: seq_rx,
        position: pos_rx,
        path,
        dir: config.dir.clone(),
        committed,
        thread: Some(thread),
    };
    Ok((sink, handle))
}

/// Deletes the segments `retention` allows; a failure is logged and retried next time.
fn prune_segments(dir: &Path, retention: Option<&Retention>) {
    let Some(retention) = retention else {
        return;
    };
    match prune(dir, retention, SystemTime::now()) {
        Ok(deleted) => {
            for path in deleted {
                info!(path = %path.display(), "old journal segment deleted (retention)");
            }
        }
        Err(err) => warn!(%err, "cannot apply the journal retention"),
    }
}

struct Writer {
    file: File,
    dir: PathBuf,
    segment_bytes: u64,
    retention: Option<Retention>,
    node: String,
    rx: mpsc::Receiver<Msg>,
    /// What is on disk and fsynced.
    durable: JournalPosition,
    next_seq: u64,
    /// Serialized events not yet written.
    buf: Vec<u8>,
    buffered: usize,
    /// Flush requests answered at the next commit.
    waiters: Vec<oneshot::Sender<u64>>,
    last_commit: Option<Instant>,
    counters: Arc<Counters>,
    seq_tx: watch::Sender<u64>,
    pos_tx: watch::Sender<JournalPosition>,
    /// The buffered events themselves, handed to subscribers once committed.
    batch: Vec<Event>,
    committed: broadcast::Sender<EventBatch>,
}

impl Writer {
    fn run(mut self) {
        loop {
            let msg = if self.buffered == 0 && self.waiters.is_empty() {
                match self.rx.recv() {
                    Ok(msg) => msg,
                    Err(mpsc::RecvError) => break,
                }
            } else {
                let wait = self
                    .next_commit_at()
                    .saturating_duration_since(Instant::now());
                match self.rx.recv_timeout(wait) {
                    Ok(msg) => msg,
                    Err(mpsc::RecvTimeoutError::Timeout) => {
                        self.commit();
                        continue;
                    }
                    Err(mpsc::RecvTimeoutError::Disconnected) => break,
                }
            };
            let mut force = false;
            let mut stop = self.handle(msg, &mut force);
            // Take whatever else is already queued into the same batch.
            while !stop && self.buffered < MAX_BATCH_EVENTS {
                match self.rx.try_recv() {
                    Ok(msg) => stop = self.handle(msg, &mut force),
                    Err(_) => break,
                }
            }
            if stop {
                // Late events already queued are still written: nothing accepted is lost.
                while let Ok(msg) = self.rx.try_recv() {
                    let _ = self.handle(msg, &mut force);
                }
                self.commit();
                return;
            }
            if force || self.buffered >= MAX_BATCH_EVENTS || Instant::now() >= self.next_commit_at()
            {
                self.commit();
            }
        }
        self.commit();
    }

    /// Buffers one message; returns true for a stop request.
    fn handle(&mut self, msg: Msg, force: &mut bool) -> bool {
        match msg {
            Msg::Event(draft) => {
                self.append(draft);
                false
            }
            Msg::Flush(reply) => {
                self.waiters.push(reply);
                *force = true;
                false
            }
            Msg::Stop(reply) => {
                self.waiters.push(reply);
                true
            }
        }
    }

    fn next_commit_at(&self) -> Instant {
        match self.last_commit {
            Some(at) => at + COMMIT_INTERVAL,
            None => Instant::now(),
        }
    }

    fn append(&mut self, draft: EventDraft) {
        let seq = self.next_seq;
        let event = draft.into_event(Uuid::now_v7(), seq, Timestamp::now(), &self.node);
        let before = self.buf.len();
        match serde_json::to_writer(&mut self.buf, &event) {
            Ok(()) => {
                self.buf.push(b'\n');
                self.next_seq += 1;
                self.buffered += 1;
                self.batch.push(event);
            }
            Err(err) => {
                // Cannot happen for these types (string keys, no maps of non-strings); keep
                // the journal well-formed anyway.
                self.buf.truncate(before);
                Counters::add(&self.counters.dropped, 1);
                error!(%err, kind = event.type_name(), "event dropped: cannot serialize");
            }
        }
    }

    /// Writes and fsyncs the buffered batch (retrying until it succeeds), publishes the new
    /// durable position and answers flush requests.
    fn commit(&mut self) {
        if self.buffered > 0 {
            let mut pause = RETRY_MIN;
            while let Err(err) = self.write_batch() {
                Counters::add(&self.counters.write_errors, 1);
                error!(%err, pending = self.buffered, "journal write failed; retrying");
                // Drop whatever part of the batch reached the file so the retry starts on a
                // line boundary.
                if let Err(err) = self.file.set_len(self.durable.offset) {
                    error!(%err, "cannot truncate the journal after a failed write");
                }
                std::thread::sleep(pause);
                pause = (pause * 2).min(RETRY_MAX);
            }
            let n = self.buffered as u64;
            self.durable = JournalPosition {
                seq: self.next_seq - 1,
                segment: self.durable.segment,
                offset: self.durable.offset + self.buf.len() as u64,
            };
            self.buf.clear();
            self.buffered = 0;
            Counters::add(&self.counters.written, n);
            Counters::add(&self.counters.fsyncs, 1);
            Counters::set(&self.counters.written_seq, self.durable.seq);
            if self.durable.offset >= self.segment_bytes {
                match self.rotate() {
                    Ok(()) => prune_segments(&self.dir, self.retention.as_ref()),
                    Err(err) => {
                        // Keep appending to the live file; the next commit tries again.
                        Counters::add(&self.counters.write_errors, 1);
                        error!(%err, "cannot rotate the event journal");
                    }
                }
            }
            self.seq_tx.send_replace(self.durable.seq);
            self.pos_tx.send_replace(self.durable);
            // After the fsync: a subscriber that joins after this check reads the batch
            // from the file instead.
            let batch = std::mem::take(&mut self.batch);
            if self.committed.receiver_count() > 0 {
                let _ = self.committed.send(batch.into());
            }
            self.last_commit = Some(Instant::now());
        }
        for waiter in self.waiters.drain(..) {
            let _ = waiter.send(self.durable.seq);
        }
    }

    /// Renames the (fsynced) live file to its segment number and opens a new live file.
    ///
    /// The new position is published only afterwards, so a reader that sees segment `n + 1`
    /// finds segment `n` under its numbered name.
    fn rotate(&mut self) -> std::io::Result<()> {
        let live = self.dir.join(JOURNAL_FILE);
        let rotated = segment_path(&self.dir, self.durable.segment);
        std::fs::rename(&live, &rotated)?;
        let opened = OpenOptions::new()
            .read(true)
            .append(true)
            .create_new(true)
            .open(&live);
        let file = match opened {
            Ok(file) => file,
            Err(err) => {
                // Put the full file back so the journal stays one consistent live file.
                if let Err(back) = std::fs::rename(&rotated, &live) {
                    error!(%back, "cannot undo a failed journal rotation");
                }
                return Err(err);
            }
        };
        self.file = file;
        self.durable.segment += 1;
        self.durable.offset = 0;
        if let Err(err) = sync_dir(&self.dir) {
            // The data is fsynced; only the new names might not survive a power loss.
            warn!(%err, "cannot fsync the data directory after a journal rotation");
        }
        Ok(())
    }

    fn write_batch(&mut self) -> std::io::Result<()> {
        self.file.write_all(&self.buf)?;
        self.file.sync_data()
    }
}
