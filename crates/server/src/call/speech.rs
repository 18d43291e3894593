//! A `say` node's text spoken on the caller's leg: synthesized beside the call task (which keeps
//! serving the call) unless the cache has it, then played like a prompt. A text that cannot be
//! spoken is reported (log, metric, `ivr.tts`) and the IVR goes on as if it had been.

use std::sync::Arc;
use std::time::Instant;

use hotline_dialplan::IvrInput;
use hotline_events::{EventDraft, EventKind};
use hotline_media::prompt::Prompt;
use hotline_media::PlayMode;

use super::{Call, CallInput};
use crate::tts::{Speech, TtsError};

/// A synthesis finished: the speech it was for and its audio, or why there is none.
pub struct SpeechDone {
    speech: Speech,
    result: Result<Arc<Prompt>, TtsError>,
}

impl Call {
    /// Speaks `text` in `language` (the configured one when `None`): from the cache at once,
    /// else once synthesized ([`CallInput::SpeechDone`]).
    pub(super) fn speak(&mut self, text: &str, language: Option<String>) {
        let language = language.unwrap_or_else(|| self.shared.config.language.clone());
        let speech = match self.shared.tts.prepare(&language, text) {
            Ok(Some(speech)) => speech,
            // Blank once control characters are removed: nothing to say.
            Ok(None) => return self.speech_over(),
            Err(error) => return self.speech_failed(&language, None, 0, &error),
        };
        if let Some(prompt) = self.shared.tts.cached(&speech) {
            return self.play_speech(&speech, &prompt, true);
        }
        tracing::debug!(language = %speech.language, chars = speech.chars(), "synthesizing text");
        self.speech_pending = true;
        let tts = self.shared.tts.clone();
        let tx = self.self_tx.clone();
        tokio::spawn(async move {
            let result = tts.synthesize(&speech).await;
            // The call may have ended meanwhile: nobody listens any more.
            let _ = tx.send(CallInput::SpeechDone(Box::new(SpeechDone {
                speech,
                result,
            })));
        });
    }

    /// A synthesis finished; dropped when the IVR stopped waiting for it (hang-up, guard).
    pub(super) fn speech_done(&mut self, done: SpeechDone) {
        if !std::mem::take(&mut self.speech_pending) || self.ivr.is_none() {
            return;
        }
        match done.result {
            Ok(prompt) => self.play_speech(&done.speech, &prompt, false),
            Err(error) => {
                let chars = done.speech.chars();
                self.speech_failed(
                    &done.speech.language,
                    Some(&done.speech.voice),
                    chars,
                    &error,
                );
                // Outside the IVR's own round: carry out what it does next.
                self.drive_ivr();
            }
        }
    }

    /// The IVR stopped what was playing: a synthesis under way is no longer wanted.
    pub(super) fn speech_cancelled(&mut self) {
        self.speech_pending = false;
    }

    fn play_speech(&mut self, speech: &Speech, prompt: &Arc<Prompt>, cached: bool) {
        let audio_ms = u64::try_from(prompt.duration().as_millis()).unwrap_or(u64::MAX);
        if let Some(m) = &self.caller.media {
            let _ = m.play(prompt.clone(), PlayMode::Once);
        }
        self.emit(EventDraft::new(EventKind::IvrTts {
            language: speech.language.clone(),
            voice: Some(speech.voice.clone()),
            chars: count(speech.chars()),
            cached,
            audio_ms,
            failure: None,
        }));
    }

    fn speech_failed(
        &mut self,
        language: &str,
        voice: Option<&str>,
        chars: usize,
        error: &TtsError,
    ) {
        tracing::warn!(%language, chars, "text not spoken: {error}");
        self.emit(EventDraft::new(EventKind::IvrTts {
            language: language.to_owned(),
            voice: voice.map(str::to_owned),
            chars: count(chars),
            cached: false,
            audio_ms: 0,
            failure: Some(error.failure()),
        }));
        self.speech_over();
    }

    /// Nothing plays: the IVR goes on at once (whoever called carries out its next actions).
    fn speech_over(&mut self) {
        if let Some(ivr) = self.ivr.as_mut() {
            ivr.handle(Instant::now(), IvrInput::PlaybackFinished);
        }
    }
}

fn count(chars: usize) -> u32 {
    u32::try_from(chars).unwrap_or(u32::MAX)
}
