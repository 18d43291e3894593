//! hotline-recording: call audio from RTP packets to a stereo WAV, with its metadata sidecar.
//!
//! The pure core of call recording, driven by the server's writer task:
//!
//! - [`Recorder`] places each side's G.711 packets on a common timeline by RTP timestamp,
//!   anchored per SSRC to the arrival time ([`placement`]), so the customer (left) and the agent
//!   (right) stay aligned through loss, jitter, reordering, silence suppression and clock drift;
//!   pauses become silence and are listed.
//! - [`wav::WavWriter`] writes 16-bit PCM incrementally; [`wav::repair_wav`] fixes the header of
//!   a file a crash left open.
//! - [`metadata::RecordingMetadata`] is the JSON sidecar, with [`metadata::sha256_file`] for its
//!   tamper-evidence hash.
//! - [`storage::RecordingPaths`] names the files (`YYYY/MM/DD/<call-id>.wav`, by hotline's call
//!   id only) and [`storage::repair_all`] repairs them at start; [`files::RecordingFiles`] writes
//!   one recording's files and its sidecar.
//! - [`policy::RecordingPolicy`] decides whether a call is recorded (always, never, on demand,
//!   or a seeded, per-call deterministic sample).
//!
//! No tokio, no clock reads: `now` is an argument. File I/O is plain blocking `std::fs`, for
//! the writer task to run off the media path.
//!
//! ```
//! use std::time::{Duration, Instant};
//! use hotline_recording::{AudioPacket, Codec, Frames, Recorder, RecorderConfig, Side};
//!
//! let t0 = Instant::now();
//! let mut rec = Recorder::new(RecorderConfig::default(), t0);
//! let mut frames = Frames::default();
//! for k in 0..50u32 {
//!     let now = t0 + Duration::from_millis(20 * u64::from(k));
//!     let packet = AudioPacket { ssrc: 1, timestamp: 160 * k, codec: Codec::Pcmu, payload: &[0x80; 160] };
//!     rec.handle_packet(now, Side::Customer, packet);
//!     rec.drain(now, &mut frames);
//! }
//! let summary = rec.finish(t0 + Duration::from_secs(1), &mut frames);
//! assert_eq!(summary.frames, 8000);
//! assert_eq!(frames.stereo.len(), 8000);
//! assert_eq!(frames.stereo[100], [32124, 0]);
//! ```

mod buffer;
pub mod files;
pub mod g711;
pub mod metadata;
pub mod placement;
pub mod policy;
mod recorder;
pub mod storage;
pub mod wav;

pub use g711::Codec;
pub use metadata::{Consent, NumberRedaction, RecordingMetadata};
pub use placement::{AnchorReason, AnchorStats, PlacementConfig, SAMPLE_RATE};
pub use policy::{Decision, RecordingPolicy, SampleShare};
pub use recorder::{
    AudioPacket, Frames, PacketOutcome, PausedSpan, Recorder, RecorderConfig, RecorderStats,
    RecordingSummary, Side,
};
