//! Payload types of the `recording.*` events.

use serde::{Deserialize, Serialize};

use crate::timestamp::Timestamp;

/// Why a call is recorded (`recording.started`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordingReason {
    /// The queue records every call.
    Always,
    /// The call was drawn into the queue's sample.
    Sampled,
    /// The API asked for it.
    OnDemand,
}

/// Why a call is not recorded (`recording.skipped`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordingSkipReason {
    /// The caller pressed the opt-out key of a `consent` node (whatever the policy).
    ConsentDeclined,
    /// The policy records no call.
    Never,
    /// The call was not drawn into the policy's sample.
    SampledOut,
}

/// Who paused or resumed a recording.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordingControl {
    /// `POST /api/v1/calls/{id}/recording/...`.
    Api,
    /// The agent's DTMF pause or resume code.
    Agent,
}

/// What a failed recording was doing (`recording.failed`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordingStage {
    /// Creating the files.
    Create,
    /// Writing audio.
    Write,
    /// Closing the files, hashing and writing the sidecar.
    Finish,
}

/// A paused stretch of a recording, ms from the start of its audio.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordingPause {
    /// Where the silence starts.
    pub start_ms: u64,
    /// Where the sound resumes.
    pub end_ms: u64,
}

/// A finished recording (boxed in [`EventKind`](super::EventKind)): its sidecar's facts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordingInfo {
    /// The WAV file's path relative to the recordings folder.
    pub file: String,
    /// `inbound` or `outbound` (the customer is the called party).
    pub direction: String,
    /// The customer's number as the sidecar has it (redacted, or absent, per the queue).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_number: Option<String>,
    /// The dialed number as the sidecar has it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dialed_number: Option<String>,
    /// The outside number the call was transferred to, as the sidecar has it (its far end is
    /// on the agent's channel).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transferred_to: Option<String>,
    /// The trunk of that transfer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transfer_trunk: Option<String>,
    /// When recording started.
    pub started_at: Timestamp,
    /// When it ended.
    pub ended_at: Timestamp,
    /// Paused stretches (silence in the file).
    pub pauses: Vec<RecordingPause>,
    /// The customer's consent: `not_asked`, `given` or `declined`.
    pub consent: String,
    /// Samples per second.
    pub sample_rate: u32,
    /// Channels (2: customer left, agent right).
    pub channels: u16,
    /// Length of the audio, ms.
    pub duration_ms: u64,
    /// SHA-256 of the WAV file, lowercase hex.
    pub sha256: String,
    /// Audio frames the writer could not keep up with and dropped.
    pub frames_dropped: u64,
}
