//! A `voicemail` node on the call: the caller leg's tap feeds a message recorder; the message's
//! end (key, silence, length, hang-up) comes from the executor, its silence from the recorder.

use std::time::{Duration, Instant};

use hotline_dialplan::{IvrInput, RecordingEnd};
use hotline_events::{EventDraft, EventKind, Timestamp, VoicemailEnd, VoicemailMessage};

use super::{Call, CallInput};
use crate::voicemail::{MessageInfo, Recorder, Saved};

impl Call {
    /// Starts recording the caller's audio to `mailbox`.
    pub(super) fn start_recording(&mut self, mailbox: String, silence: Option<Duration>) {
        let to = self
            .ivr
            .as_ref()
            .map(|i| i.number().to_owned())
            .unwrap_or_default();
        let info = MessageInfo {
            call_id: self.id,
            mailbox: mailbox.clone(),
            from: self.redacted_caller(),
            to: to.clone(),
            started: Timestamp::now(),
        };
        tracing::info!(%mailbox, "recording a voicemail message");
        let (mut recorder, frames, task) =
            Recorder::start(self.shared.data_dir.clone(), info.clone(), silence);
        if let Some(m) = &self.caller.media {
            let _ = m.set_tap(Some((0, frames)));
        }
        if let Some(silent) = recorder.silent.take() {
            let call = self.self_tx.clone();
            tokio::spawn(async move {
                if silent.await.is_ok() {
                    let _ = call.send(CallInput::RecordingSilent);
                }
            });
        }
        let shared = self.shared.clone();
        let template = self.draft(EventDraft::new(EventKind::CallHeld));
        tokio::spawn(async move {
            let kind = match task.await {
                Ok(Ok(Saved::Kept(sidecar))) => {
                    tracing::info!(file = %sidecar.file, duration_ms = sidecar.duration_ms, "voicemail message kept");
                    EventKind::VoicemailRecorded(Box::new(VoicemailMessage {
                        mailbox: sidecar.mailbox,
                        file: sidecar.file,
                        from: sidecar.from,
                        to: sidecar.to,
                        started: sidecar.started,
                        duration_ms: sidecar.duration_ms,
                        end_reason: sidecar.end_reason,
                        sha256: sidecar.sha256,
                    }))
                }
                Ok(Ok(Saved::Empty {
                    duration_ms,
                    end_reason,
                })) => {
                    tracing::info!(duration_ms, "voicemail message too short: dropped");
                    EventKind::VoicemailEmpty {
                        mailbox,
                        duration_ms,
                        end_reason,
                    }
                }
                Ok(Err(error)) => {
                    tracing::error!("voicemail message lost: {error}");
                    return;
                }
                Err(error) => {
                    tracing::error!("voicemail writer failed: {error}");
                    return;
                }
            };
            let mut draft = template;
            draft.kind = kind;
            shared.events.emit(draft);
        });
        self.recorder = Some(recorder);
    }

    /// Ends the message being recorded, if any; audio after now is left out.
    pub(super) fn stop_recording(&mut self, reason: RecordingEnd) {
        let Some(mut recorder) = self.recorder.take() else {
            return;
        };
        if let Some(m) = &self.caller.media {
            let _ = m.set_tap(None);
        }
        let reason = match reason {
            RecordingEnd::MaxLength => VoicemailEnd::MaxLength,
            RecordingEnd::Silence => VoicemailEnd::Silence,
            RecordingEnd::EndKey => VoicemailEnd::EndKey,
            RecordingEnd::CallerHungUp => VoicemailEnd::CallerHungUp,
        };
        recorder.stop(reason, Instant::now());
    }

    /// The recorder heard the caller go silent: the executor ends the message.
    pub(super) fn recording_silent(&mut self) {
        if let Some(ivr) = self.ivr.as_mut() {
            ivr.handle(Instant::now(), IvrInput::RecordingSilent);
            self.drive_ivr();
        }
    }
}
