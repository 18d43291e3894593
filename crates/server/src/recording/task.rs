//! The writer task of one recording: takes the legs' tapped packets from a bounded channel,
//! places them with the recorder, and writes the files off the media path (blocking file I/O
//! runs on tokio's blocking pool). A failed write stops the recording, never the call.

use std::sync::Arc;
use std::time::{Duration, Instant};

use hotline_events::{
    EventDraft, EventKind, RecordingControl, RecordingInfo, RecordingPause, RecordingStage,
    Timestamp,
};
use hotline_media::TapFrame;
use hotline_recording::files::{CallFacts, RecordingFiles};
use hotline_recording::metadata::CallDirection;
use hotline_recording::storage::RecordingPaths;
use hotline_recording::{
    AudioPacket, Codec, Consent, Frames, NumberRedaction, Recorder, RecorderConfig,
    RecordingMetadata, Side,
};
use time::OffsetDateTime;
use tokio::sync::mpsc;
use uuid::Uuid;

use super::Recordings;

/// How often placed audio is written out.
const WRITE_EVERY: Duration = Duration::from_millis(100);

/// What the writer is told besides the audio.
#[derive(Debug)]
pub enum Control {
    /// Silence from `at` on.
    Pause {
        /// When.
        at: Instant,
        /// Who asked.
        by: RecordingControl,
    },
    /// Sound again from `at` on.
    Resume {
        /// When.
        at: Instant,
        /// Who asked.
        by: RecordingControl,
    },
    /// The agent joined a recording that started in the IVR: events and the sidecar name them.
    Joined {
        /// The queue the call came from.
        queue: String,
        /// The agent.
        agent: String,
        /// How numbers go into the sidecar (the queue's setting).
        redaction: NumberRedaction,
    },
    /// The call was transferred to an outside number, whose far end is now on the agent's
    /// channel: the sidecar and `recording.completed` name the number and the trunk.
    Transferred {
        /// The number dialed (E.164, unredacted; the sidecar redacts).
        number: String,
        /// The trunk that carried it.
        trunk: String,
    },
    /// The customer declined recording: the files are deleted and nothing is journaled.
    Discard,
    /// The recording ends at `at`.
    Stop {
        /// When.
        at: Instant,
        /// Tapped frames the legs dropped because the channel was full.
        dropped: u64,
    },
}

/// Everything one recording's writer needs to know up front.
#[derive(Debug, Clone)]
pub struct WriterSpec {
    /// Hotline's call id.
    pub call_id: Uuid,
    /// Its files.
    pub paths: RecordingPaths,
    /// The WAV's path relative to the recordings folder (in events).
    pub file: String,
    /// Also write the mono mix.
    pub mono_mix: bool,
    /// How numbers go into the sidecar.
    pub redaction: NumberRedaction,
    /// The queue.
    pub queue: Option<String>,
    /// The agent.
    pub agent: Option<String>,
    /// The customer's number (unredacted; the sidecar redacts).
    pub customer_number: Option<String>,
    /// The dialed number.
    pub dialed_number: Option<String>,
    /// The outside number the call was transferred to, and the trunk (once transferred).
    pub transfer: Option<(String, String)>,
    /// When recording started (wall clock).
    pub started_at: OffsetDateTime,
    /// The same instant on the monotonic clock: the audio's time zero.
    pub start: Instant,
    /// The call's ids for events (its kind is replaced).
    pub template: EventDraft,
    /// The customer's consent (the sidecar's `consent`).
    pub consent: Consent,
}

impl WriterSpec {
    fn emit(&self, shared: &Recordings, kind: EventKind) {
        let mut draft = self.template.clone();
        draft.kind = kind;
        shared.events.emit(draft);
    }

    fn ms_since_start(&self, at: Instant) -> u64 {
        u64::try_from(at.saturating_duration_since(self.start).as_millis()).unwrap_or(u64::MAX)
    }
}

/// Maps the media codec to the recorder's.
fn codec(c: hotline_media::Codec) -> Codec {
    match c {
        hotline_media::Codec::Pcmu => Codec::Pcmu,
        hotline_media::Codec::Pcma => Codec::Pcma,
    }
}

/// Tap channel 0 is the customer's leg, 1 the agent's.
pub const CUSTOMER: u8 = 0;
/// The agent's tap channel.
pub const AGENT: u8 = 1;

/// Runs one recording to its end (stop, or a failure).
pub async fn run(
    mut spec: WriterSpec,
    mut frames: mpsc::Receiver<TapFrame>,
    mut control: mpsc::UnboundedReceiver<Control>,
    shared: Arc<Recordings>,
) {
    let paths = spec.paths.clone();
    let mono = spec.mono_mix;
    let created = tokio::task::spawn_blocking(move || RecordingFiles::create(paths, mono)).await;
    let mut files = match created {
        Ok(Ok(files)) => files,
        Ok(Err(e)) => return fail(&spec, &shared, RecordingStage::Create, &e.to_string(), 0),
        Err(e) => return fail(&spec, &shared, RecordingStage::Create, &e.to_string(), 0),
    };
    let config = RecorderConfig {
        mono_mix: spec.mono_mix,
        ..RecorderConfig::default()
    };
    let mut rec = Recorder::new(config, spec.start);
    let mut out = Frames::default();
    let mut tick = tokio::time::interval(WRITE_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut taps_open = true;
    let (end, dropped) = loop {
        tokio::select! {
            biased;
            c = control.recv() => match c {
                Some(Control::Pause { at, by }) => {
                    if rec.pause(at) {
                        let at_ms = spec.ms_since_start(at).max(rec.frames_written() / 8);
                        tracing::info!(at_ms, ?by, "recording paused");
                        spec.emit(&shared, EventKind::RecordingPaused { at_ms, by });
                    }
                }
                Some(Control::Resume { at, by }) => {
                    if rec.resume(at) {
                        let at_ms = spec.ms_since_start(at);
                        tracing::info!(at_ms, ?by, "recording resumed");
                        spec.emit(&shared, EventKind::RecordingResumed { at_ms, by });
                    }
                }
                Some(Control::Joined { queue, agent, redaction }) => {
                    spec.template = spec.template.clone().queue(queue.clone()).agent(agent.clone());
                    spec.queue = Some(queue);
                    spec.agent = Some(agent);
                    spec.redaction = redaction;
                }
                Some(Control::Transferred { number, trunk }) => {
                    spec.transfer = Some((number, trunk));
                }
                Some(Control::Discard) => {
                    drop(files);
                    discard(&spec.paths).await;
                    return;
                }
                Some(Control::Stop { at, dropped }) => break (at, dropped),
                // The registry forgot the call without a stop (it cannot happen in order).
                None => break (Instant::now(), 0),
            },
            f = frames.recv(), if taps_open => match f {
                Some(f) => place(&mut rec, &f),
                None => taps_open = false,
            },
            _ = tick.tick() => {
                rec.drain(Instant::now(), &mut out);
                if !out.stereo.is_empty() {
                    let (back, result) = write(files, out).await;
                    match (back, result) {
                        (Some((f, o)), Ok(())) => { files = f; out = o; }
                        (_, Err(e)) => {
                            let ms = rec.frames_written() / 8;
                            return fail(&spec, &shared, RecordingStage::Write, &e, ms);
                        }
                        (None, Ok(())) => return,
                    }
                }
            }
        }
    };
    // Packets already queued that arrived before the end belong to the recording.
    while let Ok(f) = frames.try_recv() {
        if f.received_at <= end {
            place(&mut rec, &f);
        }
    }
    drop(frames);
    let summary = rec.finish(end, &mut out);
    let (back, result) = write(files, out).await;
    let files = match (back, result) {
        (Some((f, _)), Ok(())) => f,
        (_, Err(e)) => {
            let ms = summary.frames / 8;
            return fail(&spec, &shared, RecordingStage::Write, &e, ms);
        }
        (None, Ok(())) => return,
    };
    let facts = CallFacts {
        call_id: spec.call_id,
        direction: CallDirection::Inbound,
        queue: spec.queue.clone(),
        agent: spec.agent.clone(),
        customer_number: spec.customer_number.clone(),
        dialed_number: spec.dialed_number.clone(),
        transferred_to: spec.transfer.as_ref().map(|(n, _)| n.clone()),
        transfer_trunk: spec.transfer.as_ref().map(|(_, t)| t.clone()),
        started_at: spec.started_at,
        ended_at: spec.started_at + end.saturating_duration_since(spec.start),
        consent: spec.consent,
        redaction: spec.redaction,
    };
    let sidecar = spec.paths.sidecar.clone();
    let finished =
        tokio::task::spawn_blocking(move || files.finish(facts, &summary).map(|m| (m, summary)))
            .await;
    match finished {
        Ok(Ok((meta, summary))) => {
            tracing::info!(
                file = %spec.file,
                duration_ms = meta.duration_ms,
                pauses = meta.pauses.len(),
                late_packets = summary.stats.late_packets,
                dropped,
                "recording completed"
            );
            shared.metrics.count("completed");
            spec.emit(
                &shared,
                EventKind::RecordingCompleted(Box::new(info(&spec, &meta, dropped))),
            );
            shared.completed(meta, sidecar);
        }
        Ok(Err(e)) => {
            let ms = spec.ms_since_start(end);
            fail(&spec, &shared, RecordingStage::Finish, &e.to_string(), ms);
        }
        Err(e) => fail(&spec, &shared, RecordingStage::Finish, &e.to_string(), 0),
    }
}

fn place(rec: &mut Recorder, f: &TapFrame) {
    let side = if f.channel == AGENT {
        Side::Agent
    } else {
        Side::Customer
    };
    rec.handle_packet(
        f.received_at,
        side,
        AudioPacket {
            ssrc: f.ssrc,
            timestamp: f.rtp_timestamp,
            codec: codec(f.codec),
            payload: f.payload(),
        },
    );
}

/// Deletes a discarded recording's files (best effort: a file not created yet is no error).
async fn discard(paths: &RecordingPaths) {
    let files = [
        paths.wav.clone(),
        paths.mono_wav.clone(),
        paths.sidecar.clone(),
    ];
    let _ = tokio::task::spawn_blocking(move || {
        for f in files {
            match std::fs::remove_file(&f) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    tracing::warn!(file = %f.display(), "discarded recording not deleted: {e}")
                }
            }
        }
    })
    .await;
}

type Written = (Option<(RecordingFiles, Frames)>, Result<(), String>);

/// Writes `out` on the blocking pool; hands the files and the (cleared) buffer back.
async fn write(mut files: RecordingFiles, mut out: Frames) -> Written {
    let done = tokio::task::spawn_blocking(move || {
        let result = files.write(&out).map_err(|e| e.to_string());
        out.clear();
        (files, out, result)
    })
    .await;
    match done {
        Ok((files, out, Ok(()))) => (Some((files, out)), Ok(())),
        Ok((_, _, Err(e))) => (None, Err(e)),
        Err(e) => (None, Err(e.to_string())),
    }
}

/// Stops the recording: event, metric, warn log; the call goes on.
fn fail(spec: &WriterSpec, shared: &Recordings, stage: RecordingStage, error: &str, ms: u64) {
    tracing::warn!(file = %spec.file, ?stage, %error, "recording failed; the call goes on");
    shared.metrics.count("failed");
    spec.emit(
        shared,
        EventKind::RecordingFailed {
            file: spec.file.clone(),
            stage,
            error: error.to_owned(),
            duration_ms: ms,
        },
    );
}

/// The `recording.completed` body from the sidecar.
fn info(spec: &WriterSpec, meta: &RecordingMetadata, dropped: u64) -> RecordingInfo {
    let direction = match meta.direction {
        CallDirection::Inbound => "inbound",
        CallDirection::Outbound => "outbound",
    };
    let consent = match meta.consent {
        Consent::NotAsked => "not_asked",
        Consent::Given => "given",
        Consent::Declined => "declined",
    };
    RecordingInfo {
        file: spec.file.clone(),
        direction: direction.into(),
        customer_number: meta.customer_number.clone(),
        dialed_number: meta.dialed_number.clone(),
        transferred_to: meta.transferred_to.clone(),
        transfer_trunk: meta.transfer_trunk.clone(),
        started_at: Timestamp::from_datetime(meta.started_at),
        ended_at: Timestamp::from_datetime(meta.ended_at),
        pauses: meta
            .pauses
            .iter()
            .map(|p| RecordingPause {
                start_ms: p.start_ms,
                end_ms: p.end_ms,
            })
            .collect(),
        consent: consent.into(),
        sample_rate: meta.sample_rate,
        channels: meta.channels,
        duration_ms: meta.duration_ms,
        sha256: meta.sha256.clone(),
        frames_dropped: dropped,
    }
}
