//! hotline-events: versioned wire events, an fsynced append-only journal (the durable
//! outbox) and a Redis Streams publisher that tails it.
//!
//! Data flow: [`EventSink::emit`] (never blocks) → journal writer thread (assigns `seq`,
//! appends to `<dir>/events.jsonl`, group commit: one `fsync` per batch, at most one every
//! 10 ms) → [`EventPipelineHandle::written_seq`] → publisher task (reads the journal from
//! `<dir>/redis.cursor`, pipelines `XADD <stream> MAXLEN ~ <maxlen> * event <json> id <uuid>
//! type <type>`, then advances the cursor).
//!
//! The live file is rotated by size ([`JournalConfig::segment_bytes`], default 64 MiB) into
//! `<dir>/events-000001.jsonl`, `events-000002.jsonl`, ... (`seq` continues; the cursor
//! names its segment); [`read_journal`] reads every segment in order. A [`snapshot`] (opaque
//! JSON state + the `seq` it covers) lets a restart read the snapshot plus the journal's tail
//! ([`load_recovery`]).
//!
//! Consumers of the stream read the `event` field (the same JSON line as in the journal, see
//! [`schema`]) and **must deduplicate by `id`**: delivery is at-least-once, and a crash between
//! `XADD` and the cursor write re-sends the tail of the last batch right after the original.
//! Within one node, entries are in `seq` order with no gaps, apart from such redeliveries.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use hotline_events::{EventDraft, EventKind, EventPipeline, JournalConfig, RedisConfig};
//!
//! let (sink, handle) = EventPipeline::start(
//!     JournalConfig::new("/var/lib/hotline", "hl-1"),
//!     Some(RedisConfig::new("redis://127.0.0.1:6379")),
//! )?;
//! sink.emit(EventDraft::new(EventKind::CallQueued { position: 1 }).queue("support"));
//! let report = handle.shutdown().await;
//! assert!(report.journal_flushed);
//! # Ok(()) }
//! ```

pub mod error;
pub mod journal;
mod pipeline;
pub mod publisher;
pub mod schema;
pub mod snapshot;
mod stats;
pub mod timestamp;

pub use error::{
    FlushError, JournalOpenError, JournalReadError, PipelineStartError, RecoveryError,
    SnapshotError,
};
pub use journal::{
    read_journal, read_journal_dir, EventBatch, EventSink, JournalConfig, JournalPosition,
    JournalReader, Retention, DEFAULT_SEGMENT_BYTES,
};
pub use pipeline::{EventPipeline, EventPipelineHandle, ShutdownReport, SHUTDOWN_PUBLISH_DEADLINE};
pub use publisher::{Cursor, PublisherStatus, RedisConfig};
pub use schema::CampaignEventBody;
pub use schema::TransferFailCause;
pub use schema::TtsFailure;
pub use schema::{
    AgentState, CallbackFailCause, CallbackGiveUpReason, EndReason, Event, EventDraft, EventKind,
    HungUpBy, OfferFailCause, SurveySkipReason, VoicemailEnd, VoicemailMessage, SCHEMA_VERSION,
};
pub use schema::{
    AttemptOutcome, ClaimReleaseReason, SamplingOutcome, ScheduledCallback, ScheduledGiveUpReason,
    ScheduledHoldReason,
};
pub use schema::{
    RecordingControl, RecordingInfo, RecordingPause, RecordingReason, RecordingSkipReason,
    RecordingStage,
};
pub use snapshot::{load_recovery, write_snapshot, Recovery, Snapshot};
pub use stats::{Stats, StatsReader};
pub use timestamp::Timestamp;
