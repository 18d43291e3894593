//! The append-only event journal `<data-dir>/events.jsonl`: one JSON event per line.

mod reader;
mod recover;
mod writer;

pub use reader::{read_journal, JournalLine, JournalReader};
pub(crate) use writer::{open_journal, JournalHandle};
pub use writer::{EventSink, JournalConfig, JournalPosition, COMMIT_INTERVAL, JOURNAL_FILE};
