//! Error types of this crate, one enum per operation.

use std::path::PathBuf;

/// Opening or recovering the journal failed.
#[derive(Debug, thiserror::Error)]
pub enum JournalOpenError {
    /// The data directory could not be created.
    #[error("cannot create data directory {path}: {source}")]
    CreateDir {
        /// The directory.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The journal file could not be opened, read or truncated.
    #[error("cannot recover journal {path}: {source}")]
    Io {
        /// The journal file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The writer thread could not be started.
    #[error("cannot start the journal writer thread: {0}")]
    Spawn(std::io::Error),
}

/// Reading events from the journal failed.
#[derive(Debug, thiserror::Error)]
pub enum JournalReadError {
    /// The journal could not be opened or read.
    #[error("cannot read journal {path}: {source}")]
    Io {
        /// The journal file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A complete line is not a valid event.
    #[error("invalid event at byte {offset} of the journal: {source}")]
    Invalid {
        /// Byte offset of the line's start.
        offset: u64,
        /// The parse error.
        source: serde_json::Error,
    },
}

/// Starting the event pipeline failed.
#[derive(Debug, thiserror::Error)]
pub enum PipelineStartError {
    /// The journal could not be opened.
    #[error(transparent)]
    Journal(#[from] JournalOpenError),
    /// The Redis URL is invalid.
    #[error("invalid Redis URL: {0}")]
    RedisUrl(#[source] redis::RedisError),
    /// The Redis cursor file exists but could not be read.
    #[error("cannot read Redis cursor {path}: {source}")]
    Cursor {
        /// The cursor file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// Called outside a tokio runtime.
    #[error("the event pipeline must be started inside a tokio runtime")]
    NoRuntime,
}

/// Flushing the journal failed.
#[derive(Debug, thiserror::Error)]
pub enum FlushError {
    /// The journal writer has stopped (after shutdown, or after an I/O error it logged).
    #[error("the journal writer has stopped")]
    WriterStopped,
    /// The writer did not finish in time (it is retrying a failing disk).
    #[error("the journal writer did not finish within {0:?}")]
    Timeout(std::time::Duration),
}

/// Writing or reading a snapshot failed.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// The snapshot file or its directory could not be written or read.
    #[error("snapshot {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The state could not be serialized.
    #[error("cannot serialize the snapshot: {0}")]
    Serialize(#[source] serde_json::Error),
}

/// Loading "latest snapshot + the events after it" failed.
#[derive(Debug, thiserror::Error)]
pub enum RecoveryError {
    /// The snapshot directory could not be listed or read.
    #[error(transparent)]
    Snapshot(#[from] SnapshotError),
    /// The journal could not be read.
    #[error(transparent)]
    Journal(#[from] JournalReadError),
}
