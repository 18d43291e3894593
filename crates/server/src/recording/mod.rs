//! Call recording in the server: which calls are recorded, the writer of each recording, the
//! index of finished recordings, the HTTP API, the agent's pause codes and retention.
//!
//! The call task tells [`Recordings`] when its customer and agent are bridged, what digits the
//! agent keys and when the conversation ends; everything else (policy, files, events) happens
//! here and in each recording's writer task, off the media path.

pub mod api;
pub mod codes;
pub mod index;
pub mod ivr;
pub mod retention;
pub mod settings;
pub mod task;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use hotline_events::{
    EventDraft, EventKind, EventSink, RecordingControl, RecordingReason, RecordingSkipReason,
};
use hotline_media::{RtpLegHandle, TapFrame};
use hotline_recording::storage::{repair_all, RecordingPaths};
use hotline_recording::{Consent, Decision, RecordingMetadata, RecordingPolicy};
use prometheus::{IntCounter, IntCounterVec, Opts};
use time::OffsetDateTime;
use tokio::sync::mpsc;
use uuid::Uuid;

use crate::config::Config;
use codes::{CodeAction, CodeMatcher};
use index::Index;
use ivr::join;
pub use settings::{QueueRecording, RecordingSettings};
use task::{Control, WriterSpec};

/// Tapped frames buffered per recording (both sides): about 2.5 s of 20 ms packets.
pub const TAP_CAPACITY: usize = 256;

/// The recording metrics.
#[derive(Clone)]
pub struct RecordingMetrics {
    /// Recordings by outcome: started, completed, failed, deleted.
    pub recordings: IntCounterVec,
    /// Tapped audio frames dropped because a writer fell behind.
    pub frames_dropped: IntCounter,
}

impl RecordingMetrics {
    /// Creates the metrics and registers them with hotline's registry.
    pub fn new(metrics: &crate::metrics::Metrics) -> Self {
        let recordings = IntCounterVec::new(
            Opts::new(
                "hotline_recordings_total",
                "Call recordings by outcome (started, completed, failed, deleted)",
            ),
            &["outcome"],
        )
        .expect("static metric definition is valid");
        let frames_dropped = IntCounter::new(
            "hotline_recording_frames_dropped_total",
            "Tapped audio frames dropped because a recording's writer fell behind",
        )
        .expect("static metric definition is valid");
        for c in [
            Box::new(recordings.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(frames_dropped.clone()),
        ] {
            if let Err(e) = metrics.register(c) {
                tracing::warn!("recording metrics not registered: {e}");
            }
        }
        RecordingMetrics {
            recordings,
            frames_dropped,
        }
    }

    fn count(&self, outcome: &str) {
        self.recordings.with_label_values(&[outcome]).inc();
    }
}

/// A call whose customer and agent were just bridged.
pub struct Bridged {
    /// Hotline's call id.
    pub call_id: Uuid,
    /// The queue the call came from.
    pub queue: String,
    /// The agent.
    pub agent: String,
    /// The customer's leg (left channel).
    pub customer: RtpLegHandle,
    /// The agent's leg (right channel).
    pub agent_leg: RtpLegHandle,
    /// The customer's number.
    pub customer_number: Option<String>,
    /// The number the customer dialed.
    pub dialed_number: Option<String>,
    /// The call's ids for events (its kind is replaced).
    pub template: EventDraft,
    /// The dialplan's policy for this call (the `set` node and its policy), over the queue's.
    pub node_policy: Option<(String, RecordingPolicy)>,
    /// The customer's answer at a `consent` node.
    pub consent: Consent,
}

/// What the API or the agent asks of a call's recording.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// Start recording now (on-demand calls; any call not yet recorded).
    Start,
    /// Pause: silence until resumed.
    Pause,
    /// Resume after a pause.
    Resume,
    /// Stop: the recording is finished now (the call goes on).
    Stop,
}

/// Where a call's recording stands (the API's answer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordingState {
    /// Not recorded (yet).
    Off,
    /// Recording.
    Recording,
    /// Paused.
    Paused,
    /// Stopped before the end of the call.
    Stopped,
    /// Stopped because its files could not be written.
    Failed,
}

impl std::fmt::Display for RecordingState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            RecordingState::Off => "off",
            RecordingState::Recording => "recording",
            RecordingState::Paused => "paused",
            RecordingState::Stopped => "stopped",
            RecordingState::Failed => "failed",
        })
    }
}

impl std::fmt::Display for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Command::Start => "start",
            Command::Pause => "pause",
            Command::Resume => "resume",
            Command::Stop => "stop",
        })
    }
}

/// Why a command was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ControlError {
    /// No bridged call has this id.
    #[error("no conversation in progress with this call id")]
    NoSuchCall,
    /// The command does not apply now.
    #[error("the recording is {0}: cannot {1}")]
    NotNow(RecordingState, Command),
    /// The customer declined recording at the dialplan's consent notice.
    #[error("the customer declined recording: cannot {0}")]
    ConsentDeclined(Command),
}

/// One call being recorded, or bridged and not (yet) recorded.
struct Live {
    call_id: Uuid,
    /// The customer's leg (left channel).
    customer: RtpLegHandle,
    /// The agent's leg (right channel); `None` while an IVR-part recording waits for an agent.
    agent_leg: Option<RtpLegHandle>,
    queue: Option<String>,
    agent: Option<String>,
    customer_number: Option<String>,
    dialed_number: Option<String>,
    template: EventDraft,
    consent: Consent,
    settings: QueueRecording,
    state: RecordingState,
    writer: Option<mpsc::UnboundedSender<Control>>,
    /// The writer's frame channel, kept to tap an agent who joins an IVR-part recording.
    taps: Option<mpsc::Sender<TapFrame>>,
    /// The legs' dropped tap frames when recording started.
    dropped_before: u64,
    codes: CodeMatcher,
}

impl Live {
    fn tap_dropped(&self) -> u64 {
        self.customer.stats().tap_dropped
            + self.agent_leg.as_ref().map_or(0, |a| a.stats().tap_dropped)
    }

    fn dropped(&self) -> u64 {
        self.tap_dropped().saturating_sub(self.dropped_before)
    }
}

/// The recordings of this hotline: live calls, finished recordings, settings.
pub struct Recordings {
    root: PathBuf,
    settings: RecordingSettings,
    queues: HashMap<String, QueueRecording>,
    events: EventSink,
    metrics: RecordingMetrics,
    live: Mutex<HashMap<Uuid, Live>>,
    index: Mutex<Index>,
    /// Writer tasks not finished yet (shutdown waits for their sidecars).
    writers: AtomicUsize,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock leaves plain data behind; keep using it.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Recordings {
    /// Repairs WAVs a crash left open under `<data-dir>/recordings`, reads the sidecars into the
    /// index and keeps SIGXFSZ from killing hotline (a file over the size limit fails its write,
    /// which stops that recording only).
    pub fn start(
        config: &Config,
        data_dir: &Path,
        events: EventSink,
        metrics: &crate::metrics::Metrics,
    ) -> anyhow::Result<Arc<Self>> {
        let root = data_dir.join("recordings");
        match repair_all(&root) {
            Ok(reports) => {
                for r in reports {
                    match r.outcome {
                        Ok(outcome) => {
                            tracing::warn!(file = %r.path.display(), ?outcome, "recording left open by a crash repaired")
                        }
                        Err(e) => {
                            tracing::warn!(file = %r.path.display(), "recording could not be repaired: {e}")
                        }
                    }
                }
            }
            Err(e) => {
                tracing::warn!(root = %root.display(), "recordings not checked for repair: {e}")
            }
        }
        let (index, bad) = Index::load(&root);
        for b in bad {
            tracing::warn!(file = %b.path.display(), "recording sidecar unreadable: {}", b.error);
        }
        tracing::info!(recordings = index.len(), root = %root.display(), "recordings indexed");
        ignore_file_size_signal();
        Ok(Arc::new(Recordings {
            root,
            settings: config.recording.clone(),
            queues: config
                .queues
                .iter()
                .map(|(name, q)| (name.clone(), q.recording))
                .collect(),
            events,
            metrics: RecordingMetrics::new(metrics),
            live: Mutex::new(HashMap::new()),
            index: Mutex::new(index),
            writers: AtomicUsize::new(0),
        }))
    }

    /// The customer and agent of a call were bridged: records it if the dialplan's policy (or
    /// else its queue's) says so and the customer did not decline; an IVR-part recording
    /// already running goes on with the agent on the right channel.
    pub fn bridged(self: &Arc<Self>, bridged: Bridged) {
        let settings = self.queues.get(&bridged.queue).copied().unwrap_or_default();
        if let Some(call) = lock(&self.live).get_mut(&bridged.call_id) {
            if call.agent_leg.is_none() {
                join(call, bridged, settings);
            }
            return;
        }
        let node = bridged.node_policy.as_ref().map(|(n, _)| n.clone());
        let policy = RecordingPolicy::effective(
            Some(settings.policy),
            bridged.node_policy.as_ref().map(|(_, p)| *p),
        );
        let decision = policy.decide(bridged.call_id, self.settings.seed);
        let consent = bridged.consent;
        let call_id = bridged.call_id;
        let mut live = Live {
            call_id,
            customer: bridged.customer,
            agent_leg: Some(bridged.agent_leg),
            queue: Some(bridged.queue),
            agent: Some(bridged.agent),
            customer_number: bridged.customer_number,
            dialed_number: bridged.dialed_number,
            template: bridged.template,
            consent,
            settings,
            state: RecordingState::Off,
            writer: None,
            taps: None,
            dropped_before: 0,
            codes: self.codes(),
        };
        tracing::debug!(?decision, ?consent, policy_node = ?node, "recording policy");
        match ivr::outcome(decision, consent) {
            ivr::Outcome::Record(reason) => self.start_writer(&mut live, reason),
            // A queue that records nothing says so once in its config, not on every call.
            ivr::Outcome::Skip(RecordingSkipReason::Never) if node.is_none() => {}
            ivr::Outcome::Skip(reason) => self.skipped(&live, reason, node),
            ivr::Outcome::Wait => {}
        }
        lock(&self.live).insert(call_id, live);
    }

    fn codes(&self) -> CodeMatcher {
        CodeMatcher::new(
            self.settings.pause_code.clone(),
            self.settings.resume_code.clone(),
        )
    }

    /// A digit from the agent's phone: the pause and resume codes act on the recording.
    pub fn agent_digit(self: &Arc<Self>, call_id: Uuid, digit: char, now: Instant) {
        let mut live = lock(&self.live);
        let Some(call) = live.get_mut(&call_id) else {
            return;
        };
        let command = match call.codes.digit(now, digit) {
            Some(CodeAction::Pause) => Command::Pause,
            Some(CodeAction::Resume) => Command::Resume,
            None => return,
        };
        if let Err(e) = self.apply(call, command, RecordingControl::Agent, now) {
            tracing::info!("agent's recording code ignored: {e}");
        }
    }

    /// The API's command for a call's recording.
    pub fn control(
        self: &Arc<Self>,
        call_id: Uuid,
        command: Command,
    ) -> Result<RecordingState, ControlError> {
        let mut live = lock(&self.live);
        let call = live.get_mut(&call_id).ok_or(ControlError::NoSuchCall)?;
        self.apply(call, command, RecordingControl::Api, Instant::now())
    }

    fn apply(
        self: &Arc<Self>,
        call: &mut Live,
        command: Command,
        by: RecordingControl,
        now: Instant,
    ) -> Result<RecordingState, ControlError> {
        let refuse = |state| Err(ControlError::NotNow(state, command));
        // A writer that stopped on a failed write has dropped its end of the channel.
        if call.writer.as_ref().is_some_and(|w| w.is_closed()) {
            call.state = RecordingState::Failed;
        }
        match (command, call.state) {
            (Command::Start, RecordingState::Off) if call.consent == Consent::Declined => {
                return Err(ControlError::ConsentDeclined(command));
            }
            (Command::Start, RecordingState::Off) => {
                self.start_writer(call, RecordingReason::OnDemand);
            }
            (Command::Pause, RecordingState::Recording) => {
                send(call, Control::Pause { at: now, by });
                call.state = RecordingState::Paused;
            }
            (Command::Resume, RecordingState::Paused) => {
                send(call, Control::Resume { at: now, by });
                call.state = RecordingState::Recording;
            }
            (Command::Stop, RecordingState::Recording | RecordingState::Paused) => {
                self.stop_writer(call, now);
                call.state = RecordingState::Stopped;
            }
            (_, state) => return refuse(state),
        }
        Ok(call.state)
    }

    /// The conversation of `call_id` is over (agent or customer gone): its recording ends now.
    pub fn call_ended(&self, call_id: Uuid) {
        let Some(mut call) = lock(&self.live).remove(&call_id) else {
            return;
        };
        self.stop_writer(&mut call, Instant::now());
    }

    fn start_writer(self: &Arc<Self>, call: &mut Live, reason: RecordingReason) {
        let b = &*call;
        let started_at = OffsetDateTime::now_utc();
        let start = Instant::now();
        let paths = RecordingPaths::new(&self.root, b.call_id, started_at);
        let file = paths
            .wav
            .strip_prefix(&self.root)
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut template = b.template.clone();
        if let Some(queue) = &b.queue {
            template = template.queue(queue.clone());
        }
        if let Some(agent) = &b.agent {
            template = template.agent(agent.clone());
        }
        let spec = WriterSpec {
            call_id: b.call_id,
            paths,
            file: file.clone(),
            mono_mix: call.settings.mono_mix,
            redaction: call.settings.redact_numbers,
            queue: b.queue.clone(),
            agent: b.agent.clone(),
            customer_number: b.customer_number.clone(),
            dialed_number: b.dialed_number.clone(),
            transfer: None,
            started_at,
            start,
            template: template.clone(),
            consent: b.consent,
        };
        let (frames_tx, frames_rx) = mpsc::channel::<TapFrame>(TAP_CAPACITY);
        let (control_tx, control_rx) = mpsc::unbounded_channel();
        let _ = b
            .customer
            .set_tap(Some((task::CUSTOMER, frames_tx.clone())));
        if let Some(agent_leg) = &b.agent_leg {
            let _ = agent_leg.set_tap(Some((task::AGENT, frames_tx.clone())));
        }
        call.dropped_before = call.tap_dropped();
        call.taps = Some(frames_tx);
        call.writer = Some(control_tx);
        call.state = RecordingState::Recording;
        tracing::info!(%file, ?reason, "recording started");
        self.metrics.count("started");
        let mut draft = template;
        draft.kind = EventKind::RecordingStarted { file, reason };
        self.events.emit(draft);
        let me = Arc::clone(self);
        self.writers.fetch_add(1, Ordering::SeqCst);
        tokio::spawn(async move {
            task::run(spec, frames_rx, control_rx, me.clone()).await;
            me.writers.fetch_sub(1, Ordering::SeqCst);
        });
    }

    fn stop_writer(&self, call: &mut Live, at: Instant) {
        let Some(writer) = call.writer.take() else {
            return;
        };
        call.taps = None;
        let _ = call.customer.set_tap(None);
        if let Some(agent_leg) = &call.agent_leg {
            let _ = agent_leg.set_tap(None);
        }
        if writer.is_closed() {
            // It failed (and said so): what the legs could not hand it since is no back-pressure.
            return;
        }
        let dropped = call.dropped();
        if dropped > 0 {
            tracing::warn!(
                dropped,
                "recording dropped audio frames: the writer fell behind"
            );
            self.metrics.frames_dropped.inc_by(dropped);
        }
        let _ = writer.send(Control::Stop { at, dropped });
    }

    /// At shutdown, after the calls ended: waits up to `grace` for the writers to finish their
    /// files and sidecars (and journal `recording.completed`).
    pub async fn drain(&self, grace: Duration) {
        let deadline = tokio::time::Instant::now() + grace;
        while self.writers.load(Ordering::SeqCst) > 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let left = self.writers.load(Ordering::SeqCst);
        if left > 0 {
            tracing::warn!(
                recordings = left,
                "recordings still being written at shutdown: repaired at the next start, without sidecars"
            );
        }
    }

    /// A writer finished its files: the recording is listed.
    fn completed(&self, meta: RecordingMetadata, sidecar: PathBuf) {
        lock(&self.index).insert(meta, sidecar);
    }

    /// Finished recordings matching `query`, oldest first.
    pub fn search(&self, query: &index::Query) -> Vec<RecordingMetadata> {
        lock(&self.index).search(query)
    }

    /// The finished recording of `call_id`.
    pub fn find(&self, call_id: Uuid) -> Option<index::Entry> {
        lock(&self.index).find(call_id).cloned()
    }
}

/// Why a call is recorded from the bridge on; `None`: not unless the API asks.
fn start_reason(decision: Decision) -> Option<RecordingReason> {
    match decision {
        Decision::Always => Some(RecordingReason::Always),
        Decision::SampledIn => Some(RecordingReason::Sampled),
        Decision::Never | Decision::OnDemand | Decision::SampledOut => None,
    }
}

fn send(call: &Live, control: Control) {
    if let Some(w) = &call.writer {
        let _ = w.send(control);
    }
}

/// SIGXFSZ (25 on Linux and the BSDs) would end the process when a file reaches the size
/// limit; with a handler installed the write fails with EFBIG instead.
fn ignore_file_size_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    match signal(SignalKind::from_raw(25)) {
        Ok(mut s) => {
            tokio::spawn(async move {
                while s.recv().await.is_some() {
                    tracing::warn!("a file reached the size limit (SIGXFSZ): its write failed");
                }
            });
        }
        Err(e) => tracing::warn!("SIGXFSZ not handled: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hotline_recording::{RecordingPolicy, SampleShare};

    #[test]
    fn a_fifth_of_calls_are_recorded_under_a_20_percent_sample_and_always_the_same_ones() {
        let policy = RecordingPolicy::Sampled(SampleShare::from_ppm(200_000));
        let recorded = |seed: u64| -> Vec<u128> {
            (0..10_000u128)
                .filter(|n| {
                    let call = Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0000_0000 + n);
                    start_reason(policy.decide(call, seed)) == Some(RecordingReason::Sampled)
                })
                .collect()
        };
        let first = recorded(7);
        // 20% of 10,000 calls, within four standard deviations (40).
        assert!((1840..=2160).contains(&first.len()), "{}", first.len());
        assert_eq!(recorded(7), first, "the same seed picks the same calls");
        assert_ne!(recorded(8), first, "another seed picks others");
    }

    #[test]
    fn only_always_and_a_sampled_in_call_record_from_the_bridge() {
        assert_eq!(
            start_reason(Decision::Always),
            Some(RecordingReason::Always)
        );
        assert_eq!(
            start_reason(Decision::SampledIn),
            Some(RecordingReason::Sampled)
        );
        for d in [Decision::Never, Decision::OnDemand, Decision::SampledOut] {
            assert_eq!(start_reason(d), None);
        }
    }
}
