//! Payload types of the `voicemail.*` events.

use serde::{Deserialize, Serialize};

use crate::timestamp::Timestamp;

/// A voicemail message kept on disk (boxed in [`EventKind`](super::EventKind) to keep events small).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VoicemailMessage {
    /// The box (`<data-dir>/voicemail/<box>/...`).
    #[serde(rename = "box")]
    pub mailbox: String,
    /// The WAV file's path relative to the data dir.
    pub file: String,
    /// The caller's number (redacted when the server redacts caller numbers).
    pub from: String,
    /// The dialed number.
    pub to: String,
    /// When recording started.
    pub started: Timestamp,
    /// The message's length.
    pub duration_ms: u64,
    /// Why recording ended.
    pub end_reason: VoicemailEnd,
    /// SHA-256 of the WAV file, lowercase hex.
    pub sha256: String,
}

/// Why a voicemail recording ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VoicemailEnd {
    /// The node's longest message was reached.
    MaxLength,
    /// The caller was silent for the node's `silence`.
    Silence,
    /// The caller pressed the end key.
    EndKey,
    /// The caller hung up.
    CallerHungUp,
}
