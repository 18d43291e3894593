//! The JSON sidecar written next to each recording, and the SHA-256 of the audio file.
//!
//! The sidecar is what auditors and the API read: who and what the call was, when the recording
//! ran, where it was paused (card numbers), whether the customer consented, and a hash of the
//! audio file as evidence it was not altered. The same value is the body of the
//! `recording.completed` event.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::placement::samples_to_millis;
use crate::recorder::PausedSpan;

/// The version of the sidecar's shape; bumped when a field changes meaning.
pub const METADATA_VERSION: u32 = 1;

/// Whether the customer agreed to be recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Consent {
    /// No consent step ran for this call.
    NotAsked,
    /// The customer was told and agreed (or did not object, where the law allows).
    Given,
    /// The customer declined (a `consent` node's opt-out key): the call is not recorded.
    #[serde(alias = "refused")]
    Declined,
}

/// Which way the call went; on outbound calls the customer is the called party.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallDirection {
    /// The customer called in.
    Inbound,
    /// Hotline called the customer (e.g. a callback).
    Outbound,
}

/// How phone numbers are written into the sidecar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum NumberRedaction {
    /// Numbers as they are.
    #[default]
    None,
    /// Every digit but the last `n` replaced by `*`.
    KeepLast(u8),
    /// Numbers left out.
    Full,
}

impl NumberRedaction {
    /// The number as this redaction writes it (`None` when it is left out).
    pub fn apply(self, number: &str) -> Option<String> {
        match self {
            NumberRedaction::None => Some(number.to_owned()),
            NumberRedaction::Full => None,
            NumberRedaction::KeepLast(keep) => {
                let digits = number.chars().filter(char::is_ascii_digit).count();
                let hide = digits.saturating_sub(usize::from(keep));
                let mut seen = 0;
                Some(
                    number
                        .chars()
                        .map(|c| {
                            if c.is_ascii_digit() {
                                seen += 1;
                                if seen <= hide {
                                    return '*';
                                }
                            }
                            c
                        })
                        .collect(),
                )
            }
        }
    }
}

/// A paused stretch in the sidecar, in milliseconds from the start of the audio.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PauseMillis {
    /// Where the silence starts.
    pub start_ms: u64,
    /// Where the audio resumes.
    pub end_ms: u64,
}

impl From<PausedSpan> for PauseMillis {
    fn from(span: PausedSpan) -> Self {
        PauseMillis {
            start_ms: samples_to_millis(span.start),
            end_ms: samples_to_millis(span.end),
        }
    }
}

/// The sidecar of one recording (`<call-id>.json` next to `<call-id>.wav`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordingMetadata {
    /// [`METADATA_VERSION`] at the time of writing.
    pub version: u32,
    /// Hotline's own id of the call (also the file's name).
    pub call_id: Uuid,
    /// Inbound or outbound.
    pub direction: CallDirection,
    /// The queue the call was answered from, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue: Option<String>,
    /// The agent who took the call, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    /// The customer's number (possibly redacted, absent when fully redacted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_number: Option<String>,
    /// The number the customer dialed, or hotline dialed on outbound calls (possibly redacted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dialed_number: Option<String>,
    /// The outside number (E.164) the call was transferred to, whose far end is then on the
    /// agent's channel (possibly redacted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transferred_to: Option<String>,
    /// The SIP trunk that carried that transfer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transfer_trunk: Option<String>,
    /// When the recording started (wall clock, UTC).
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    /// When it ended.
    #[serde(with = "time::serde::rfc3339")]
    pub ended_at: OffsetDateTime,
    /// Paused stretches (silent in the file).
    pub pauses: Vec<PauseMillis>,
    /// Whether the customer consented.
    pub consent: Consent,
    /// Samples per second (8000).
    pub sample_rate: u32,
    /// Channels of the audio file (2: customer left, agent right).
    pub channels: u16,
    /// Length of the audio in milliseconds.
    pub duration_ms: u64,
    /// The audio file's name, relative to the sidecar.
    pub audio_file: String,
    /// Lower-case hex SHA-256 of the audio file.
    pub sha256: String,
}

impl RecordingMetadata {
    /// Applies `redaction` to every phone number.
    pub fn redact_numbers(&mut self, redaction: NumberRedaction) {
        self.customer_number = self
            .customer_number
            .take()
            .and_then(|n| redaction.apply(&n));
        self.dialed_number = self.dialed_number.take().and_then(|n| redaction.apply(&n));
        self.transferred_to = self.transferred_to.take().and_then(|n| redaction.apply(&n));
    }

    /// The sidecar as pretty-printed JSON.
    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string_pretty(self)
    }

    /// Parses a sidecar.
    pub fn from_json(json: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(json)
    }
}

/// Why hashing the audio file failed.
#[derive(Debug, thiserror::Error)]
#[error("hashing the recording failed: {0}")]
pub struct HashError(#[from] io::Error);

/// The lower-case hex SHA-256 of everything `reader` yields, read in 64 KiB blocks.
pub fn sha256_reader(mut reader: impl Read) -> Result<String, HashError> {
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e.into()),
        };
        hasher.update(&buf[..n]);
    }
    let digest = hasher.finalize();
    let mut hex = String::with_capacity(64);
    for b in digest.iter() {
        hex.push(char::from(HEX[usize::from(b >> 4)]));
        hex.push(char::from(HEX[usize::from(b & 0xF)]));
    }
    Ok(hex)
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// The lower-case hex SHA-256 of the file at `path`, streamed (the file is never held whole).
pub fn sha256_file(path: &Path) -> Result<String, HashError> {
    sha256_reader(File::open(path)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn sample() -> RecordingMetadata {
        RecordingMetadata {
            version: METADATA_VERSION,
            call_id: Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0000_0042),
            direction: CallDirection::Inbound,
            queue: Some("support".into()),
            agent: Some("alice".into()),
            customer_number: Some("+86 138-0013-8000".into()),
            dialed_number: Some("95500".into()),
            transferred_to: None,
            transfer_trunk: None,
            started_at: datetime!(2026-12-06 01:02:03.250 UTC),
            ended_at: datetime!(2026-12-06 01:04:03.250 UTC),
            pauses: vec![PausedSpan {
                start: 8000,
                end: 24_004,
            }
            .into()],
            consent: Consent::Given,
            sample_rate: 8000,
            channels: 2,
            duration_ms: 120_000,
            audio_file: "0193.wav".into(),
            sha256: "00".repeat(32),
        }
    }

    #[test]
    fn the_sidecar_round_trips_through_json_with_rfc3339_times() {
        let meta = sample();
        let json = meta.to_json().expect("serializes");
        assert!(
            json.contains("\"started_at\": \"2026-12-06T01:02:03.25Z\""),
            "{json}"
        );
        assert!(json.contains("\"consent\": \"given\""));
        assert!(json.contains("\"direction\": \"inbound\""));
        assert!(!json.contains("transfer"), "no transfer, no field: {json}");
        assert!(json.contains("\"start_ms\": 1000"));
        assert!(json.contains("\"end_ms\": 3000"));
        assert_eq!(RecordingMetadata::from_json(&json).expect("parses"), meta);
    }

    #[test]
    fn redaction_keeps_the_last_digits_or_drops_the_number() {
        assert_eq!(
            NumberRedaction::KeepLast(4)
                .apply("+86 138-0013-8000")
                .as_deref(),
            Some("+** ***-****-8000")
        );
        assert_eq!(
            NumberRedaction::KeepLast(8).apply("123").as_deref(),
            Some("123")
        );
        assert_eq!(
            NumberRedaction::None.apply("95500").as_deref(),
            Some("95500")
        );
        assert_eq!(NumberRedaction::Full.apply("95500"), None);

        let mut meta = sample();
        meta.redact_numbers(NumberRedaction::Full);
        let json = meta.to_json().expect("serializes");
        assert!(
            !json.contains("customer_number") && !json.contains("95500"),
            "{json}"
        );
        let mut meta = sample();
        meta.transferred_to = Some("+8613800138000".into());
        meta.transfer_trunk = Some("carrier".into());
        meta.redact_numbers(NumberRedaction::KeepLast(4));
        assert_eq!(meta.transferred_to.as_deref(), Some("+*********8000"));
        let json = meta.to_json().expect("serializes");
        assert!(json.contains("\"transfer_trunk\": \"carrier\""), "{json}");
        assert_eq!(RecordingMetadata::from_json(&json).expect("parses"), meta);
        let parsed: NumberRedaction = serde_json::from_str(r#"{"keep_last":4}"#).expect("parses");
        assert_eq!(parsed, NumberRedaction::KeepLast(4));
        let parsed: NumberRedaction = serde_json::from_str(r#""full""#).expect("parses");
        assert_eq!(parsed, NumberRedaction::Full);
    }

    #[test]
    fn sha256_matches_known_digests_and_streams_large_files() {
        assert_eq!(
            sha256_reader(&b""[..]).expect("hash"),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            sha256_reader(&b"abc"[..]).expect("hash"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        // One million 'a' (FIPS 180-2 test vector), over many 64 KiB reads.
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("a.bin");
        std::fs::write(&path, vec![b'a'; 1_000_000]).expect("write");
        assert_eq!(
            sha256_file(&path).expect("hash"),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"
        );
        assert!(sha256_file(&dir.path().join("missing")).is_err());
    }
}
