//! Voicemail messages: the caller's audio, decoded to 16-bit PCM at 8 kHz, written to
//! `<data-dir>/voicemail/<box>/YYYY/MM/DD/<call-id>.wav` with a JSON sidecar beside it.
//!
//! The caller leg's recording tap feeds a bounded channel (the media path never waits: a full
//! channel drops frames and counts them); a writer task per message collects the samples,
//! watches for silence, and once told to stop writes the files off the async runtime.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use hotline_events::{Timestamp, VoicemailEnd};
use hotline_media::TapFrame;
use serde::Serialize;
use sha2::{Digest, Sha256};
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

/// Frames the tap channel holds (about 5 s of 20 ms packets) before the media path drops them.
pub const TAP_CAPACITY: usize = 256;
/// Messages shorter than this are dropped as empty.
pub const MIN_MESSAGE: Duration = Duration::from_secs(1);
/// A frame whose RMS level stays under this (about -40 dBFS) counts as silence.
const SILENCE_RMS: f64 = 330.0;
/// A gap in RTP timestamps up to this many samples is filled with silence; a longer jump is
/// taken as a new stream and appended as is.
const MAX_GAP_SAMPLES: u32 = 8_000;
/// Samples per second of the written WAV.
const SAMPLE_RATE: u32 = 8_000;

/// Who left the message, fixed when recording starts.
#[derive(Debug, Clone)]
pub struct MessageInfo {
    /// hotline's id of the call (names the files).
    pub call_id: Uuid,
    /// The box (a dialplan identifier, never network input).
    pub mailbox: String,
    /// The caller's number as written to the sidecar and event (redacted when configured).
    pub from: String,
    /// The dialed number.
    pub to: String,
    /// When recording started.
    pub started: Timestamp,
}

/// A message kept on disk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Sidecar {
    /// hotline's id of the call.
    pub call_id: Uuid,
    /// The box.
    #[serde(rename = "box")]
    pub mailbox: String,
    /// The WAV file relative to the data dir.
    pub file: String,
    /// The caller's number (redacted when configured).
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

/// How a message ended up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Saved {
    /// Written to disk.
    Kept(Sidecar),
    /// Shorter than [`MIN_MESSAGE`]: nothing written.
    Empty {
        /// What was recorded.
        duration_ms: u64,
        /// Why recording ended.
        end_reason: VoicemailEnd,
    },
}

/// Why a message could not be written.
#[derive(Debug, thiserror::Error)]
pub enum VoicemailError {
    /// Creating the folder or a file failed.
    #[error("writing {path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The WAV encoder failed.
    #[error("writing WAV {path}: {source}")]
    Wav {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: hound::Error,
    },
    /// The sidecar could not be encoded.
    #[error("encoding the sidecar: {0}")]
    Json(#[from] serde_json::Error),
}

/// The recorder's side of one message: stop it, and hear when the caller went silent.
pub struct Recorder {
    stop: Option<oneshot::Sender<(VoicemailEnd, Instant)>>,
    /// Fires once when the caller has been silent for the node's `silence`.
    pub silent: Option<oneshot::Receiver<()>>,
}

impl Recorder {
    /// Starts a writer task for one message; returns the recorder, the sender to give the
    /// leg's tap, and the task (its result says how the message ended up).
    pub fn start(
        data_dir: PathBuf,
        info: MessageInfo,
        silence: Option<Duration>,
    ) -> (
        Recorder,
        mpsc::Sender<TapFrame>,
        tokio::task::JoinHandle<Result<Saved, VoicemailError>>,
    ) {
        let (frames_tx, frames) = mpsc::channel(TAP_CAPACITY);
        let (stop_tx, stop) = oneshot::channel();
        let (silent_tx, silent) = oneshot::channel();
        let task = tokio::spawn(async move {
            let (samples, end) = collect(frames, stop, silence, silent_tx).await;
            tokio::task::spawn_blocking(move || save(&data_dir, &info, &samples, end))
                .await
                .unwrap_or_else(|join| {
                    Err(VoicemailError::Io {
                        path: PathBuf::new(),
                        source: std::io::Error::other(join.to_string()),
                    })
                })
        });
        let recorder = Recorder {
            stop: Some(stop_tx),
            silent: silence.map(|_| silent),
        };
        (recorder, frames_tx, task)
    }

    /// Ends the message; audio received after `at` (e.g. the end key's own) is left out.
    pub fn stop(&mut self, reason: VoicemailEnd, at: Instant) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send((reason, at));
        }
    }
}

/// Collects samples until told to stop (or the call's side went away: the caller hung up).
async fn collect(
    mut frames: mpsc::Receiver<TapFrame>,
    mut stop: oneshot::Receiver<(VoicemailEnd, Instant)>,
    silence: Option<Duration>,
    silent_tx: oneshot::Sender<()>,
) -> (Vec<i16>, VoicemailEnd) {
    let mut audio = Audio::default();
    let mut last_sound = Instant::now();
    let mut silent_tx = silence.map(|_| silent_tx);
    let (end, until) = loop {
        let quiet_deadline = silence
            .filter(|_| silent_tx.is_some())
            .map(|s| last_sound + s);
        tokio::select! {
            stopped = &mut stop => match stopped {
                Ok((end, at)) => break (end, Some(at)),
                Err(_) => break (VoicemailEnd::CallerHungUp, None),
            },
            frame = frames.recv() => match frame {
                Some(frame) => {
                    if !is_silent(&frame) {
                        last_sound = frame.received_at;
                    }
                    audio.push(&frame);
                }
                // The tap was dropped with the leg: wait for the stop that follows.
                None => match (&mut stop).await {
                    Ok((end, at)) => break (end, Some(at)),
                    Err(_) => break (VoicemailEnd::CallerHungUp, None),
                },
            },
            () = crate::voicemail::sleep_until(quiet_deadline) => {
                if let Some(tx) = silent_tx.take() {
                    let _ = tx.send(());
                }
            }
        }
    };
    // Frames already queued when the stop came are part of the message, up to `until`.
    while let Ok(frame) = frames.try_recv() {
        if until.is_none_or(|at| frame.received_at <= at) {
            audio.push(&frame);
        }
    }
    (audio.samples, end)
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at.into()).await,
        None => std::future::pending().await,
    }
}

/// Whether a frame's level is under the silence threshold.
fn is_silent(frame: &TapFrame) -> bool {
    let (sum, count) = frame.samples().fold((0f64, 0u32), |(sum, n), s| {
        (sum + f64::from(s).powi(2), n + 1)
    });
    count == 0 || (sum / f64::from(count)).sqrt() < SILENCE_RMS
}

/// The samples of one message, placed by RTP timestamp so lost packets leave silence rather
/// than shortening the message.
#[derive(Default)]
struct Audio {
    samples: Vec<i16>,
    /// The stream's SSRC and the sample index its timestamp `base` maps to.
    stream: Option<(u32, u32, usize)>,
}

impl Audio {
    fn push(&mut self, frame: &TapFrame) {
        let at = match self.stream {
            Some((ssrc, base, start)) if ssrc == frame.ssrc => {
                let offset = frame.rtp_timestamp.wrapping_sub(base);
                let at = start + offset as usize;
                let end = self.samples.len();
                if offset > u32::MAX / 2 || at + MAX_GAP_SAMPLES as usize <= end {
                    // Late or duplicate packet: its place is already written.
                    return;
                }
                if at > end + MAX_GAP_SAMPLES as usize {
                    self.stream = Some((frame.ssrc, frame.rtp_timestamp, end));
                    end
                } else {
                    at
                }
            }
            _ => {
                let end = self.samples.len();
                self.stream = Some((frame.ssrc, frame.rtp_timestamp, end));
                end
            }
        };
        if at < self.samples.len() {
            // Reordered packet landing inside what is written: overwrite its place.
            for (slot, sample) in self.samples[at..].iter_mut().zip(frame.samples()) {
                *slot = sample;
            }
            let written = self.samples.len() - at;
            self.samples.extend(frame.samples().skip(written));
            return;
        }
        self.samples.resize(at, 0);
        self.samples.extend(frame.samples());
    }
}

/// The WAV's path relative to the data dir: `voicemail/<box>/YYYY/MM/DD/<call-id>.wav` (UTC).
pub fn relative_path(info: &MessageInfo) -> PathBuf {
    let day = info.started.datetime();
    PathBuf::from("voicemail")
        .join(&info.mailbox)
        .join(format!("{:04}", day.year()))
        .join(format!("{:02}", u8::from(day.month())))
        .join(format!("{:02}", day.day()))
        .join(format!("{}.wav", info.call_id))
}

/// Writes the WAV and its sidecar, or nothing for a message under [`MIN_MESSAGE`].
pub fn save(
    data_dir: &Path,
    info: &MessageInfo,
    samples: &[i16],
    end_reason: VoicemailEnd,
) -> Result<Saved, VoicemailError> {
    let duration_ms = samples.len() as u64 * 1000 / u64::from(SAMPLE_RATE);
    if Duration::from_millis(duration_ms) < MIN_MESSAGE {
        return Ok(Saved::Empty {
            duration_ms,
            end_reason,
        });
    }
    let relative = relative_path(info);
    let wav = data_dir.join(&relative);
    let folder = wav.parent().unwrap_or(data_dir).to_path_buf();
    std::fs::create_dir_all(&folder).map_err(|source| VoicemailError::Io {
        path: folder.clone(),
        source,
    })?;
    // Written under a temporary name and renamed, so a file with the final name is complete.
    let partial = wav.with_extension("wav.part");
    write_wav(&partial, samples)?;
    let bytes = std::fs::read(&partial).map_err(|source| VoicemailError::Io {
        path: partial.clone(),
        source,
    })?;
    std::fs::rename(&partial, &wav).map_err(|source| VoicemailError::Io {
        path: wav.clone(),
        source,
    })?;
    let sidecar = Sidecar {
        call_id: info.call_id,
        mailbox: info.mailbox.clone(),
        file: relative.to_string_lossy().into_owned(),
        from: info.from.clone(),
        to: info.to.clone(),
        started: info.started,
        duration_ms,
        end_reason,
        sha256: Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect(),
    };
    let json_path = wav.with_extension("json");
    let json = serde_json::to_vec_pretty(&sidecar)?;
    std::fs::write(&json_path, json).map_err(|source| VoicemailError::Io {
        path: json_path,
        source,
    })?;
    Ok(Saved::Kept(sidecar))
}

fn write_wav(path: &Path, samples: &[i16]) -> Result<(), VoicemailError> {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: SAMPLE_RATE,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let wav_error = |source| VoicemailError::Wav {
        path: path.to_path_buf(),
        source,
    };
    let mut writer = hound::WavWriter::create(path, spec).map_err(wav_error)?;
    for sample in samples {
        writer.write_sample(*sample).map_err(wav_error)?;
    }
    writer.finalize().map_err(wav_error)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hotline_media::g711::linear_to_ulaw;
    use hotline_media::Codec;

    fn frame(ts: u32, level: i16) -> TapFrame {
        TapFrame::new(
            0,
            Instant::now(),
            ts,
            7,
            Codec::Pcmu,
            &[linear_to_ulaw(level); 160],
        )
    }

    fn info() -> MessageInfo {
        MessageInfo {
            call_id: Uuid::nil(),
            mailbox: "sales".into(),
            from: "+86138****0000".into(),
            to: "95500".into(),
            started: Timestamp::from_datetime(time::macros::datetime!(2026-11-23 10:15:02 UTC)),
        }
    }

    #[test]
    fn lost_packets_leave_silence_and_duplicates_are_dropped() {
        let mut audio = Audio::default();
        audio.push(&frame(1000, 2000));
        audio.push(&frame(1160, 2000));
        audio.push(&frame(1160, 2000));
        audio.push(&frame(1480, 2000)); // one packet lost
        assert_eq!(audio.samples.len(), 640);
        assert!(audio.samples[320..480].iter().all(|s| *s == 0));
        assert!(audio.samples[480..].iter().all(|s| *s > 1500));
    }

    #[test]
    fn silence_is_quiet_frames() {
        assert!(is_silent(&frame(0, 0)));
        assert!(is_silent(&frame(0, 100)));
        assert!(!is_silent(&frame(0, 3000)));
    }

    #[test]
    fn message_is_saved_with_a_sidecar_whose_hash_matches() {
        let dir = tempfile::tempdir().expect("tempdir");
        let samples = vec![1234i16; 8_000 * 3 / 2];
        let saved = save(dir.path(), &info(), &samples, VoicemailEnd::EndKey).expect("saved");
        let Saved::Kept(sidecar) = saved else {
            panic!("kept");
        };
        assert_eq!(
            sidecar.file,
            "voicemail/sales/2026/11/23/00000000-0000-0000-0000-000000000000.wav"
        );
        assert_eq!(sidecar.duration_ms, 1500);
        let wav = dir.path().join(&sidecar.file);
        let bytes = std::fs::read(&wav).expect("wav");
        let hash: String = Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(sidecar.sha256, hash);
        let reader = hound::WavReader::open(&wav).expect("wav");
        assert_eq!(reader.spec().sample_rate, 8_000);
        assert_eq!(reader.spec().channels, 1);
        assert_eq!(reader.duration(), 12_000);
        let json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(wav.with_extension("json")).expect("sidecar"))
                .expect("json");
        assert_eq!(json["box"], "sales");
        assert_eq!(json["end_reason"], "end_key");
        assert_eq!(json["from"], "+86138****0000");
        assert_eq!(json["sha256"], hash.as_str());
        assert!(!wav.with_extension("wav.part").exists());
    }

    #[test]
    fn short_message_is_dropped_as_empty() {
        let dir = tempfile::tempdir().expect("tempdir");
        let saved = save(
            dir.path(),
            &info(),
            &vec![0i16; 4_000],
            VoicemailEnd::CallerHungUp,
        )
        .expect("saved");
        assert_eq!(
            saved,
            Saved::Empty {
                duration_ms: 500,
                end_reason: VoicemailEnd::CallerHungUp
            }
        );
        assert!(!dir.path().join("voicemail").exists());
    }
}
