//! The KPI task: the single owner of the [`KpiProjection`]. At start it replays the whole
//! journal (every segment), then folds each event as the journal commits it; the HTTP API
//! and `/metrics` ask it for snapshots over a channel.
//!
//! It also feeds the queue wait histogram from the committed events (answered, abandoned,
//! or let go by the queue), so the histogram and the KPIs count the same calls.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use hotline_events::journal::segments::journal_files;
use hotline_events::journal::{JournalLine, JOURNAL_FILE};
use hotline_events::{
    EndReason, Event, EventBatch, EventKind, JournalReadError, JournalReader, Timestamp,
};
use hotline_kpi::{
    AgentKpis, Granularity, KpiConfig, KpiProjection, KpiSnapshot, PeriodKpis, QueueKpiConfig,
    QueueKpis, Windowed,
};
use serde::Serialize;
use tokio::sync::{broadcast, mpsc, oneshot};
use uuid::Uuid;

use crate::config::Config;
use crate::metrics::{Metrics, WaitOutcome};

/// The service-level threshold of queues without a service-level target.
const DEFAULT_THRESHOLD: Duration = Duration::from_secs(20);

/// Chunks of events read ahead of the fold during a replay.
const REPLAY_CHUNKS_IN_FLIGHT: usize = 4;

/// Bytes of journal read per chunk during a replay.
const REPLAY_CHUNK_BYTES: usize = 1 << 20;

/// Calls with no event for this long are no longer followed (their end was lost in a crash).
const FORGET_CALLS_AFTER: Duration = Duration::from_secs(24 * 3600);

/// One queue's KPIs now: the live rolling windows, then the current day, week and month.
#[derive(Debug, Clone, Serialize)]
pub struct QueueKpiReport {
    /// The queue.
    pub queue: String,
    /// The snapshot time.
    pub at: Timestamp,
    /// The queue's rollup time zone, e.g. `+08:00`.
    pub utc_offset: String,
    /// Abandons quicker than this are short abandons, ms.
    pub short_abandon_threshold_ms: u64,
    /// The windows.
    pub windows: Vec<Windowed<QueueKpis>>,
}

/// One agent's KPIs now.
#[derive(Debug, Clone, Serialize)]
pub struct AgentKpiReport {
    /// The agent.
    pub agent: String,
    /// The snapshot time.
    pub at: Timestamp,
    /// Its last known state, snake_case.
    pub state: hotline_events::AgentState,
    /// Since when.
    pub since: Timestamp,
    /// The not-ready reason, when not ready.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The windows.
    pub windows: Vec<Windowed<AgentKpis>>,
}

/// The retained daily, weekly or monthly rollups of one queue or agent, oldest first.
#[derive(Debug, Clone, Serialize)]
pub struct History<K> {
    /// The queue or agent.
    pub id: String,
    /// Day, week or month.
    pub period: Granularity,
    /// The periods.
    pub history: Vec<PeriodKpis<K>>,
}

/// What `GET /api/v1/kpis/queues/{id}` answers.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum QueueAnswer {
    /// Without `?period`.
    Now(QueueKpiReport),
    /// With `?period`.
    History(History<QueueKpis>),
}

/// What `GET /api/v1/kpis/agents/{id}` answers.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum AgentAnswer {
    /// Without `?period`.
    Now(AgentKpiReport),
    /// With `?period`.
    History(History<AgentKpis>),
}

enum Query {
    Snapshot(oneshot::Sender<KpiSnapshot>),
    Queue {
        id: String,
        period: Option<Granularity>,
        reply: oneshot::Sender<Option<QueueAnswer>>,
    },
    Agent {
        id: String,
        period: Option<Granularity>,
        reply: oneshot::Sender<Option<AgentAnswer>>,
    },
    Prometheus(oneshot::Sender<String>),
    Reconfigure {
        config: KpiConfig,
        queues: Vec<String>,
        agents: Vec<String>,
    },
}

/// A cloneable handle to the KPI task. Every method returns `None` once the task stopped.
#[derive(Clone)]
pub struct KpiHandle {
    tx: mpsc::UnboundedSender<Query>,
}

impl KpiHandle {
    /// Every queue's and agent's KPIs now: the body of `GET /api/v1/kpis`.
    pub async fn snapshot(&self) -> Option<KpiSnapshot> {
        let (reply, rx) = oneshot::channel();
        self.tx.send(Query::Snapshot(reply)).ok()?;
        rx.await.ok()
    }

    /// One queue's KPIs now, or its rollups of `period`; `Some(None)` for an unknown queue.
    pub async fn queue(
        &self,
        id: String,
        period: Option<Granularity>,
    ) -> Option<Option<QueueAnswer>> {
        let (reply, rx) = oneshot::channel();
        self.tx.send(Query::Queue { id, period, reply }).ok()?;
        rx.await.ok()
    }

    /// One agent's KPIs now, or its rollups of `period`; `Some(None)` for an unknown agent.
    pub async fn agent(
        &self,
        id: String,
        period: Option<Granularity>,
    ) -> Option<Option<AgentAnswer>> {
        let (reply, rx) = oneshot::channel();
        self.tx.send(Query::Agent { id, period, reply }).ok()?;
        rx.await.ok()
    }

    /// Applies a reloaded configuration: when the KPI settings, queues or agents changed, the
    /// projection is rebuilt from the journal with the new ones (thresholds and time zones
    /// apply to history too). Returns at once; queries wait for the rebuild.
    pub fn reconfigure(&self, config: &Config) {
        let _ = self.tx.send(Query::Reconfigure {
            config: kpi_config(config),
            queues: config.queues.keys().cloned().collect(),
            agents: config.agents.keys().cloned().collect(),
        });
    }

    /// The KPI gauges in the Prometheus text format, for `/metrics`.
    pub async fn prometheus(&self) -> Option<String> {
        let (reply, rx) = oneshot::channel();
        self.tx.send(Query::Prometheus(reply)).ok()?;
        rx.await.ok()
    }
}

/// The projection settings of `config`: each queue's service-level threshold (from its
/// target, else 20 s), time zone, short-abandon threshold and callback expiry (the due
/// window of its in-queue callbacks).
pub fn kpi_config(config: &Config) -> KpiConfig {
    KpiConfig {
        queues: config
            .queues
            .iter()
            .map(|(name, q)| {
                let settings = QueueKpiConfig {
                    service_level_threshold: q
                        .service_level
                        .map_or(DEFAULT_THRESHOLD, |sl| sl.threshold),
                    utc_offset: q.utc_offset,
                    short_abandon_threshold: q.short_abandon,
                    callback_expiry: q.callback_expiry,
                };
                (name.clone(), settings)
            })
            .collect(),
        ..KpiConfig::default()
    }
}

/// Starts the KPI task: it replays the journal in `data_dir`, then follows `committed`
/// (subscribed before the replay, so no event falls in between).
pub fn spawn(
    config: &Config,
    data_dir: PathBuf,
    committed: broadcast::Receiver<EventBatch>,
    metrics: Metrics,
) -> KpiHandle {
    let (tx, rx) = mpsc::unbounded_channel();
    let task = KpiTask {
        projection: KpiProjection::new(kpi_config(config)),
        queues: config.queues.keys().cloned().collect(),
        agents: config.agents.keys().cloned().collect(),
        waits: WaitTracker::default(),
        last_seq: 0,
        data_dir,
        metrics,
    };
    tokio::spawn(task.run(committed, rx));
    KpiHandle { tx }
}

struct KpiTask {
    projection: KpiProjection,
    queues: Vec<String>,
    agents: Vec<String>,
    waits: WaitTracker,
    /// The highest `seq` folded in, so a catch-up skips the segments before it.
    last_seq: u64,
    data_dir: PathBuf,
    metrics: Metrics,
}

impl KpiTask {
    async fn run(
        mut self,
        mut committed: broadcast::Receiver<EventBatch>,
        mut queries: mpsc::UnboundedReceiver<Query>,
    ) {
        let replayed = self.catch_up(None).await;
        tracing::info!(events = replayed, "KPIs replayed from the journal");
        self.declare();
        let mut following = true;
        let mut prune = tokio::time::interval(Duration::from_secs(3600));
        loop {
            tokio::select! {
                query = queries.recv() => {
                    match query {
                        None => break,
                        Some(Query::Reconfigure { config, queues, agents }) => {
                            self.rebuild(config, queues, agents).await;
                        }
                        Some(query) => self.answer(query),
                    }
                }
                batch = committed.recv(), if following => match batch {
                    Ok(batch) => {
                        for ev in batch.iter() {
                            self.fold(ev, true);
                        }
                    }
                    Err(broadcast::error::RecvError::Lagged(missed)) => {
                        tracing::warn!(batches = missed, "KPIs fell behind the journal; reading it again");
                        self.catch_up(Some(self.last_seq)).await;
                    }
                    // The journal stopped (shutdown): keep answering with what we have.
                    Err(broadcast::error::RecvError::Closed) => following = false,
                },
                _ = prune.tick() => {
                    let cutoff = Timestamp::from_datetime(
                        time::OffsetDateTime::now_utc() - FORGET_CALLS_AFTER,
                    );
                    self.projection.forget_calls_before(cutoff);
                    self.waits.forget_before(cutoff.unix_millis());
                }
            }
        }
    }

    /// Makes every configured queue and agent appear in snapshots.
    fn declare(&mut self) {
        let now = Timestamp::now();
        for q in &self.queues {
            self.projection.declare_queue(q);
        }
        for a in &self.agents {
            self.projection.declare_agent(a, now);
        }
    }

    /// Rebuilds the projection from the journal if the settings, queues or agents changed.
    async fn rebuild(&mut self, config: KpiConfig, queues: Vec<String>, agents: Vec<String>) {
        if *self.projection.config() == config && self.queues == queues && self.agents == agents {
            return;
        }
        let observed = self.last_seq;
        self.projection = KpiProjection::new(config);
        self.queues = queues;
        self.agents = agents;
        self.last_seq = 0;
        let replayed = self.catch_up(Some(observed)).await;
        self.declare();
        tracing::info!(
            events = replayed,
            "KPIs rebuilt for the reloaded configuration"
        );
    }

    /// Reads the journal and folds what the projection has not seen; returns how many events
    /// were new. Events after `observe_after` also feed the wait histogram (`None`: none do).
    /// A blocking thread reads the files in chunks, so memory stays bounded whatever the
    /// journal's size.
    async fn catch_up(&mut self, observe_after: Option<u64>) -> usize {
        let dir = self.data_dir.clone();
        let (tx, mut rx) = mpsc::channel(REPLAY_CHUNKS_IN_FLIGHT);
        let after = self.last_seq;
        let reader = tokio::task::spawn_blocking(move || read_journal_chunks(&dir, after, &tx));
        let mut new = 0;
        while let Some(chunk) = rx.recv().await {
            for ev in &chunk {
                let observe = observe_after.is_some_and(|after| ev.seq > after);
                new += usize::from(self.fold(ev, observe));
            }
        }
        match reader.await {
            Ok(Ok(())) => {}
            Ok(Err(err)) => tracing::error!(%err, "cannot read the journal: KPIs miss its events"),
            Err(err) => tracing::error!(%err, "journal reader failed: KPIs miss its events"),
        }
        new
    }

    /// Folds one event; returns false for one already applied. Waits it ends are observed
    /// in the histogram if `observe`.
    fn fold(&mut self, ev: &Event, observe: bool) -> bool {
        if !self.projection.apply(ev) {
            return false;
        }
        self.last_seq = self.last_seq.max(ev.seq);
        if let Some((queue, outcome, wait)) = self.waits.track(ev) {
            if observe {
                self.metrics.observe_wait(&queue, outcome, wait);
            }
        }
        true
    }

    fn answer(&self, query: Query) {
        let now = Timestamp::now();
        match query {
            Query::Snapshot(reply) => {
                let _ = reply.send(self.projection.snapshot(now));
            }
            // Handled by the task loop, which can wait for the rebuild.
            Query::Reconfigure { .. } => {}
            Query::Prometheus(reply) => {
                let samples = self.projection.snapshot(now).prometheus_samples();
                let _ = reply.send(hotline_kpi::render_prometheus(&samples));
            }
            Query::Queue { id, period, reply } => {
                let snap = self.projection.snapshot(now);
                let answer = snap.queues.get(&id).map(|r| match period {
                    Some(period) => QueueAnswer::History(History {
                        history: self.projection.queue_history(&id, period),
                        id: id.clone(),
                        period,
                    }),
                    None => QueueAnswer::Now(QueueKpiReport {
                        queue: id.clone(),
                        at: now,
                        utc_offset: r.utc_offset.clone(),
                        short_abandon_threshold_ms: r.short_abandon_threshold_ms,
                        windows: r.windows.clone(),
                    }),
                });
                let _ = reply.send(answer);
            }
            Query::Agent { id, period, reply } => {
                let snap = self.projection.snapshot(now);
                let answer = snap.agents.get(&id).map(|r| match period {
                    Some(period) => AgentAnswer::History(History {
                        history: self.projection.agent_history(&id, period),
                        id: id.clone(),
                        period,
                    }),
                    None => AgentAnswer::Now(AgentKpiReport {
                        agent: id.clone(),
                        at: now,
                        state: r.state,
                        since: r.since,
                        reason: r.reason.clone(),
                        windows: r.windows.clone(),
                    }),
                });
                let _ = reply.send(answer);
            }
        }
    }
}

/// Sends the events of the journal in `dir` (rotated segments, then the live file) to `tx`
/// in chunks, oldest first, skipping the rotated segments that hold only events up to
/// `after_seq` (all of them are sent from 0).
///
/// Every file is opened before any is read, and again if a rotation renamed the live file
/// meanwhile, so a rotation during the replay loses nothing.
fn read_journal_chunks(
    dir: &Path,
    after_seq: u64,
    tx: &mpsc::Sender<Vec<Event>>,
) -> Result<(), JournalReadError> {
    let io = |source| JournalReadError::Io {
        path: dir.to_path_buf(),
        source,
    };
    let mut readers = loop {
        let files = journal_files(dir).map_err(io)?;
        let mut readers = Vec::with_capacity(files.len());
        for (_, path) in &files {
            match JournalReader::open(path) {
                Ok(reader) => readers.push(reader),
                // No live file yet (a fresh data folder).
                Err(JournalReadError::Io { source, .. })
                    if source.kind() == std::io::ErrorKind::NotFound
                        && path.file_name() == Some(std::ffi::OsStr::new(JOURNAL_FILE)) => {}
                Err(err) => return Err(err),
            }
        }
        if journal_files(dir).map_err(io)? == files {
            break readers;
        }
    };
    let mut firsts = Vec::with_capacity(readers.len());
    for reader in &mut readers {
        firsts.push(first_seq(reader)?);
    }
    for (i, mut reader) in readers.into_iter().enumerate() {
        // The next file starts at or before `after_seq + 1`: this one has nothing newer.
        if firsts
            .get(i + 1)
            .copied()
            .flatten()
            .is_some_and(|next| next <= after_seq + 1)
        {
            continue;
        }
        let end = reader.file_len()?;
        let mut offset = 0;
        loop {
            let lines = reader.read_lines(offset, end, REPLAY_CHUNK_BYTES)?;
            let Some(last) = lines.last() else { break };
            offset = last.end;
            let chunk = lines
                .iter()
                .map(JournalLine::parse)
                .collect::<Result<Vec<_>, _>>()?;
            if tx.blocking_send(chunk).is_err() {
                return Ok(());
            }
        }
    }
    Ok(())
}

/// The `seq` of a journal file's first complete event, if it has one.
fn first_seq(reader: &mut JournalReader) -> Result<Option<u64>, JournalReadError> {
    let end = reader.file_len()?;
    match reader.read_lines(0, end, 4096)?.first() {
        Some(line) => Ok(Some(line.parse()?.seq)),
        None => Ok(None),
    }
}

/// Follows queued calls to time how long each waited before it was answered, abandoned or let
/// go by its queue.
#[derive(Debug, Default)]
struct WaitTracker {
    /// Waiting calls: queue and the entry time (unix ms).
    waiting: HashMap<Uuid, (String, i128)>,
}

impl WaitTracker {
    /// The wait that `ev` ends, if it ends one.
    fn track(&mut self, ev: &Event) -> Option<(String, WaitOutcome, Duration)> {
        let call = ev.call_id?;
        match &ev.kind {
            EventKind::CallQueued { .. } => {
                let queue = ev.queue.clone()?;
                self.waiting.insert(call, (queue, ev.ts.unix_millis()));
                None
            }
            EventKind::CallAnswered { wait_ms } => {
                let (queue, _) = self.waiting.remove(&call)?;
                Some((
                    queue,
                    WaitOutcome::Answered,
                    Duration::from_millis(*wait_ms),
                ))
            }
            EventKind::CallAbandoned { wait_ms, .. } => {
                let (queue, _) = self.waiting.remove(&call)?;
                Some((
                    queue,
                    WaitOutcome::Abandoned,
                    Duration::from_millis(*wait_ms),
                ))
            }
            EventKind::CallEnded { reason, .. } => {
                let (queue, since) = self.waiting.remove(&call)?;
                matches!(reason, EndReason::MaxWaitExceeded | EndReason::NoAgents).then(|| {
                    let wait = u64::try_from(ev.ts.unix_millis() - since).unwrap_or(0);
                    (queue, WaitOutcome::Exited, Duration::from_millis(wait))
                })
            }
            _ => None,
        }
    }

    fn forget_before(&mut self, cutoff_ms: i128) {
        self.waiting.retain(|_, (_, since)| *since >= cutoff_ms);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hotline_events::{EventDraft, HungUpBy};

    fn event(seq: u64, ms: u64, draft: EventDraft) -> Event {
        let at = Timestamp::from_datetime(
            time::OffsetDateTime::UNIX_EPOCH + Duration::from_millis(1_800_000_000_000 + ms),
        );
        draft.into_event(Uuid::now_v7(), seq, at, "hl-1")
    }

    #[test]
    fn the_replay_reads_rotated_segments_then_the_live_file_without_its_torn_tail() {
        let dir = tempfile::tempdir().unwrap();
        let line = |seq: u64| {
            let draft = EventDraft::new(EventKind::CallQueued { position: 1 }).queue("support");
            let mut text = serde_json::to_string(&event(seq, seq, draft)).unwrap();
            text.push('\n');
            text
        };
        std::fs::write(
            hotline_events::journal::segments::segment_path(dir.path(), 1),
            line(1) + &line(2),
        )
        .unwrap();
        std::fs::write(dir.path().join(JOURNAL_FILE), line(3) + "{\"v\":1,\"id\"").unwrap();
        let read_after = |after: u64| {
            let (tx, mut rx) = mpsc::channel(REPLAY_CHUNKS_IN_FLIGHT);
            read_journal_chunks(dir.path(), after, &tx).unwrap();
            drop(tx);
            let mut seqs = Vec::new();
            while let Some(chunk) = rx.blocking_recv() {
                seqs.extend(chunk.iter().map(|e| e.seq));
            }
            seqs
        };
        assert_eq!(read_after(0), [1, 2, 3]);
        // A catch-up after seq 1 still needs segment 1; after seq 2 it reads the live file only.
        assert_eq!(read_after(1), [1, 2, 3]);
        assert_eq!(read_after(2), [3]);

        // A fresh data folder has no journal yet.
        let empty = tempfile::tempdir().unwrap();
        let (tx, mut rx) = mpsc::channel::<Vec<Event>>(REPLAY_CHUNKS_IN_FLIGHT);
        read_journal_chunks(empty.path(), 0, &tx).unwrap();
        drop(tx);
        assert!(rx.blocking_recv().is_none());
    }

    #[test]
    fn waits_end_answered_abandoned_or_exited() {
        let mut t = WaitTracker::default();
        let (a, b, c) = (Uuid::from_u128(1), Uuid::from_u128(2), Uuid::from_u128(3));
        let queued = |call| {
            EventDraft::new(EventKind::CallQueued { position: 1 })
                .call(call)
                .queue("support")
        };
        for (i, call) in [a, b, c].into_iter().enumerate() {
            assert_eq!(t.track(&event(i as u64 + 1, 0, queued(call))), None);
        }
        let answered = EventDraft::new(EventKind::CallAnswered { wait_ms: 4_000 })
            .call(a)
            .queue("support");
        assert_eq!(
            t.track(&event(4, 4_000, answered)),
            Some((
                "support".into(),
                WaitOutcome::Answered,
                Duration::from_secs(4)
            ))
        );
        let abandoned = EventDraft::new(EventKind::CallAbandoned {
            wait_ms: 7_000,
            position: None,
        })
        .call(b);
        assert_eq!(
            t.track(&event(5, 7_000, abandoned)),
            Some((
                "support".into(),
                WaitOutcome::Abandoned,
                Duration::from_secs(7)
            ))
        );
        let ended = |call| {
            EventDraft::new(EventKind::CallEnded {
                reason: EndReason::MaxWaitExceeded,
                hung_up_by: HungUpBy::System,
                duration_ms: 1,
            })
            .call(call)
        };
        // A's end after its answer is not a wait.
        assert_eq!(t.track(&event(6, 9_000, ended(a))), None);
        assert_eq!(
            t.track(&event(7, 60_000, ended(c))),
            Some((
                "support".into(),
                WaitOutcome::Exited,
                Duration::from_secs(60)
            ))
        );
        assert!(t.waiting.is_empty());
    }
}
