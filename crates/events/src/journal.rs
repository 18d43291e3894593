//! The append-only event journal: the live `<data-dir>/events.jsonl`, one JSON event per
//! line, rotated by size into numbered segments (see [`segments`]).

pub(crate) mod reader;
pub(crate) mod recover;
pub mod retention;
pub mod segments;
mod writer;

pub use reader::{read_journal, read_journal_dir, JournalLine, JournalReader};
pub use retention::Retention;
pub use segments::{journal_files, segment_path, DEFAULT_SEGMENT_BYTES};
pub(crate) use writer::{open_journal, JournalHandle};
pub use writer::{
    EventBatch, EventSink, JournalConfig, JournalPosition, COMMIT_INTERVAL, JOURNAL_FILE,
};
