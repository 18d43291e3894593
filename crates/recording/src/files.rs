//! One recording's files on disk: the stereo WAV (and optional mono mix) as frames arrive, then
//! the sidecar with the audio's hash when the call ends.
//!
//! Plain blocking `std::fs` I/O, meant for the writer task (off the media path). Any error is
//! returned as is: the caller stops the recording, reports it, and the call goes on.

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};

use time::OffsetDateTime;
use uuid::Uuid;

use crate::metadata::{
    sha256_file, CallDirection, Consent, HashError, NumberRedaction, PauseMillis,
    RecordingMetadata, METADATA_VERSION,
};
use crate::placement::{samples_to_millis, SAMPLE_RATE};
use crate::recorder::{Frames, RecordingSummary};
use crate::storage::RecordingPaths;
use crate::wav::{WavError, WavWriter};

/// How often (in frames of audio) the WAV headers are brought up to date: 5 s.
const HEADER_EVERY: u64 = 5 * SAMPLE_RATE as u64;

/// What the sidecar says about the call, besides what the recorder measured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallFacts {
    /// Hotline's call id.
    pub call_id: Uuid,
    /// Inbound or outbound.
    pub direction: CallDirection,
    /// The queue, if the call went through one.
    pub queue: Option<String>,
    /// The agent, if one answered.
    pub agent: Option<String>,
    /// The customer's number.
    pub customer_number: Option<String>,
    /// The dialed number.
    pub dialed_number: Option<String>,
    /// The outside number the call was transferred to (the far end on the agent's channel).
    pub transferred_to: Option<String>,
    /// The trunk of that transfer.
    pub transfer_trunk: Option<String>,
    /// When recording started (wall clock).
    pub started_at: OffsetDateTime,
    /// When it ended.
    pub ended_at: OffsetDateTime,
    /// The customer's consent.
    pub consent: Consent,
    /// How numbers are written into the sidecar.
    pub redaction: NumberRedaction,
}

/// Why finishing a recording failed.
#[derive(Debug, thiserror::Error)]
pub enum FinishError {
    /// Closing a WAV failed.
    #[error(transparent)]
    Wav(#[from] WavError),
    /// Hashing the audio failed.
    #[error(transparent)]
    Hash(#[from] HashError),
    /// Writing the sidecar failed.
    #[error("writing the recording's sidecar failed: {0}")]
    Sidecar(#[from] io::Error),
    /// The sidecar could not be serialised.
    #[error("serialising the recording's sidecar failed: {0}")]
    Json(#[from] serde_json::Error),
}

/// The open files of one recording.
#[derive(Debug)]
pub struct RecordingFiles {
    paths: RecordingPaths,
    stereo: WavWriter<BufWriter<File>>,
    mono: Option<WavWriter<BufWriter<File>>>,
    next_header: u64,
}

impl RecordingFiles {
    /// Creates the day's folder and the WAV file(s); `mono` adds the mixed mono file.
    pub fn create(paths: RecordingPaths, mono: bool) -> Result<Self, WavError> {
        paths.create_dir()?;
        let stereo = WavWriter::create(&paths.wav, 2)?;
        let mono = if mono {
            Some(WavWriter::create(&paths.mono_wav, 1)?)
        } else {
            None
        };
        Ok(RecordingFiles {
            paths,
            stereo,
            mono,
            next_header: HEADER_EVERY,
        })
    }

    /// The files' paths.
    pub fn paths(&self) -> &RecordingPaths {
        &self.paths
    }

    /// Appends the frames (and the mono mix, if this recording has one); every 5 s of audio the
    /// headers are updated so that a crash loses at most that much to the repair.
    pub fn write(&mut self, frames: &Frames) -> Result<(), WavError> {
        self.stereo.write_stereo(&frames.stereo)?;
        if let Some(mono) = self.mono.as_mut() {
            mono.write_samples(&frames.mono)?;
        }
        if self.stereo.frames() >= self.next_header {
            self.stereo.update_header()?;
            if let Some(mono) = self.mono.as_mut() {
                mono.update_header()?;
            }
            self.next_header = self.stereo.frames() + HEADER_EVERY;
        }
        Ok(())
    }

    /// Closes the WAV(s), hashes the stereo file, writes the sidecar (to a temporary name,
    /// then renamed, so a sidecar is never half written) and returns it.
    pub fn finish(
        self,
        facts: CallFacts,
        summary: &RecordingSummary,
    ) -> Result<RecordingMetadata, FinishError> {
        let mut file = self.stereo.finish()?;
        file.flush()?;
        file.get_ref().sync_all()?;
        if let Some(mono) = self.mono {
            let mut mono = mono.finish()?;
            mono.flush()?;
            mono.get_ref().sync_all()?;
        }
        let sha256 = sha256_file(&self.paths.wav)?;
        let audio_file = self
            .paths
            .wav
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut meta = RecordingMetadata {
            version: METADATA_VERSION,
            call_id: facts.call_id,
            direction: facts.direction,
            queue: facts.queue,
            agent: facts.agent,
            customer_number: facts.customer_number,
            dialed_number: facts.dialed_number,
            transferred_to: facts.transferred_to,
            transfer_trunk: facts.transfer_trunk,
            started_at: facts.started_at,
            ended_at: facts.ended_at,
            pauses: summary
                .pauses
                .iter()
                .copied()
                .map(PauseMillis::from)
                .collect(),
            consent: facts.consent,
            sample_rate: SAMPLE_RATE,
            channels: 2,
            duration_ms: samples_to_millis(summary.frames),
            audio_file,
            sha256,
        };
        meta.redact_numbers(facts.redaction);
        let json = meta.to_json()?;
        let tmp = self.paths.sidecar.with_extension("json.tmp");
        {
            let mut f = File::create(&tmp)?;
            f.write_all(json.as_bytes())?;
            f.sync_all()?;
        }
        fs::rename(&tmp, &self.paths.sidecar)?;
        Ok(meta)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::g711::Codec;
    use crate::metadata::sha256_file;
    use crate::recorder::{AudioPacket, Recorder, RecorderConfig, Side};
    use std::time::{Duration, Instant};
    use time::macros::datetime;

    #[test]
    fn a_recorded_call_leaves_a_wav_a_mono_mix_and_a_matching_sidecar() {
        let root = tempfile::tempdir().expect("tempdir");
        let call = Uuid::from_u128(42);
        let paths = RecordingPaths::new(root.path(), call, datetime!(2026-12-06 10:00 UTC));
        let mut files = RecordingFiles::create(paths.clone(), true).expect("create");
        let t0 = Instant::now();
        let config = RecorderConfig {
            mono_mix: true,
            ..RecorderConfig::default()
        };
        let mut rec = Recorder::new(config, t0);
        let mut frames = Frames::default();
        let tone = Codec::Pcmu.encode(4000);
        for k in 0..600u64 {
            let now = t0 + Duration::from_millis(20 * k);
            let ts = (k * 160) as u32;
            let payload = [tone; 160];
            for (side, ssrc) in [(Side::Customer, 1), (Side::Agent, 2)] {
                let packet = AudioPacket {
                    ssrc,
                    timestamp: ts,
                    codec: Codec::Pcmu,
                    payload: &payload,
                };
                rec.handle_packet(now, side, packet);
            }
            if k == 200 {
                rec.pause(now);
            }
            if k == 300 {
                rec.resume(now);
            }
            rec.drain(now, &mut frames);
            files.write(&frames).expect("write");
            frames.clear();
        }
        let summary = rec.finish(t0 + Duration::from_secs(12), &mut frames);
        files.write(&frames).expect("write");
        let facts = CallFacts {
            call_id: call,
            direction: CallDirection::Inbound,
            queue: Some("support".into()),
            agent: Some("alice".into()),
            customer_number: Some("13800138000".into()),
            dialed_number: Some("95500".into()),
            transferred_to: None,
            transfer_trunk: None,
            started_at: datetime!(2026-12-06 10:00 UTC),
            ended_at: datetime!(2026-12-06 10:00:12 UTC),
            consent: Consent::Given,
            redaction: NumberRedaction::KeepLast(4),
        };
        let meta = files.finish(facts, &summary).expect("finish");

        let reader = hound::WavReader::open(&paths.wav).expect("stereo wav");
        assert_eq!(
            (reader.spec().channels, reader.spec().sample_rate),
            (2, 8000)
        );
        assert_eq!(reader.duration(), 96_000);
        let mono = hound::WavReader::open(&paths.mono_wav).expect("mono wav");
        assert_eq!((mono.spec().channels, mono.duration()), (1, 96_000));

        let sidecar = std::fs::read_to_string(&paths.sidecar).expect("sidecar");
        let parsed = RecordingMetadata::from_json(&sidecar).expect("parses");
        assert_eq!(parsed, meta);
        assert_eq!(meta.sha256, sha256_file(&paths.wav).expect("hash"));
        assert_eq!(meta.duration_ms, 12_000);
        assert_eq!(
            meta.pauses,
            vec![PauseMillis {
                start_ms: 4000,
                end_ms: 6000
            }]
        );
        assert_eq!(meta.customer_number.as_deref(), Some("*******8000"));
        assert_eq!(meta.audio_file, "00000000-0000-0000-0000-00000000002a.wav");
        assert!(!paths.sidecar.with_extension("json.tmp").exists());
    }
}
