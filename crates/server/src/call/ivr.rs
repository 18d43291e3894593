//! Carrying out the dialplan executor's actions on the caller's leg: prompts (in the call's
//! language, with or without barge-in), digits, queueing (and coming back from a queue node's
//! `exit`), and hanging up with the node's cause.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use hotline_dialplan::{HangupCause, IvrAction, IvrInput};
use hotline_events::{EndReason, EventDraft, EventKind, HungUpBy};
use hotline_media::prompt::{Prompt, PromptLibrary};
use hotline_media::PlayMode;

use super::{Call, Phase};

/// Prompts of languages other than the configured one, loaded from `prompts/<language>/` the
/// first time a call sets a language (keyed by the prompts folder).
static OTHER_LANGUAGES: OnceLock<Mutex<BTreeMap<PathBuf, Arc<PromptLibrary>>>> = OnceLock::new();

impl Call {
    /// Carries out every pending IVR action.
    pub(super) fn drive_ivr(&mut self) {
        while let Some(action) = self.ivr.as_mut().and_then(|i| i.poll_action()) {
            self.ivr_action(action);
            if self.phase == Phase::Ended {
                return;
            }
        }
        if self.ivr.as_ref().is_some_and(|i| i.is_finished()) {
            self.ivr = None;
        }
    }

    fn ivr_action(&mut self, action: IvrAction) {
        match action {
            IvrAction::Answer => {
                self.answer();
                self.recording_ivr_maybe();
            }
            IvrAction::RecordingSet { node, recording } => self.recording_set(node, recording),
            IvrAction::ConsentAnswered { node, answer } => self.consent_answered(node, answer),
            IvrAction::Play {
                prompt, language, ..
            } => match self.prompt_in(language.as_deref(), &prompt) {
                Some((p, played_in)) => {
                    if let Some(m) = &self.caller.media {
                        let _ = m.play(p, PlayMode::Once);
                    }
                    self.emit(EventDraft::new(EventKind::IvrPrompt {
                        prompt,
                        language: played_in,
                    }));
                }
                None => {
                    tracing::warn!(%prompt, "prompt missing: skipped");
                    if let Some(ivr) = self.ivr.as_mut() {
                        ivr.handle(Instant::now(), IvrInput::PlaybackFinished);
                    }
                }
            },
            IvrAction::Speak { text, language } => self.speak(&text, language),
            IvrAction::StopPlayback => {
                self.speech_cancelled();
                if let Some(m) = &self.caller.media {
                    let _ = m.stop_playback();
                }
            }
            IvrAction::DigitAccepted { digit, node, .. }
            | IvrAction::DigitRejected { digit, node }
            | IvrAction::DigitIgnored { digit, node } => {
                self.emit(EventDraft::new(EventKind::IvrDigit {
                    digit,
                    dialplan_node: node,
                }));
            }
            // Collected digits may be an account number: the value is not logged.
            IvrAction::Collected { node, variable, .. } => {
                tracing::debug!(%node, %variable, "digits collected");
            }
            IvrAction::InputRejected { node, input } => {
                tracing::debug!(%node, digits = input.len(), "input rejected");
            }
            IvrAction::MenuTimedOut { .. } => {}
            IvrAction::Http(request) => self.start_lookup(request),
            IvrAction::Record {
                mailbox, silence, ..
            } => self.start_recording(mailbox, silence),
            IvrAction::StopRecording { reason } => self.stop_recording(reason),
            IvrAction::Queue {
                queue,
                options,
                data,
            } => {
                if !data.is_empty() {
                    tracing::debug!(%queue, keys = data.len(), "queue data set by the dialplan");
                    self.shared.router.attach(self.id, data.clone());
                }
                self.attached = data;
                let language = self
                    .ivr
                    .as_ref()
                    .and_then(|i| i.attributes().language.clone());
                self.survey_requested(options.survey.clone(), language.clone());
                self.enqueue(queue, options, language);
            }
            IvrAction::Dial {
                number,
                trunk,
                timeout,
                ..
            } => self.dial_out(number, trunk, timeout),
            IvrAction::Survey {
                node,
                survey,
                language,
            } => self.start_survey_node(node, survey, language),
            IvrAction::Hangup { cause, reason } => {
                tracing::info!(?reason, cause = cause.name(), "dialplan hung up");
                self.hang_up_with(cause);
            }
        }
    }

    /// A prompt in `language` (the configured language when `None` or when that language lacks
    /// it, so a missing translation plays the original rather than silence), with the language
    /// it was found in.
    pub(super) fn prompt_in(
        &self,
        language: Option<&str>,
        name: &str,
    ) -> Option<(Arc<Prompt>, String)> {
        let config = &self.shared.config;
        if let Some(language) = language.filter(|l| *l != config.language) {
            let found = other_languages(&config.prompts_dir)
                .and_then(|library| library.prompt(language, name));
            if let Some(found) = found {
                return Some((found, language.to_owned()));
            }
            tracing::warn!(%language, prompt = %name, "prompt missing in this language: default language played");
        }
        self.shared
            .prompts
            .get(name)
            .map(|p| (p, config.language.clone()))
    }

    /// Ends the call for a `hangup` node: BYE with a Q.850 `Reason` once answered, else the
    /// cause's final response.
    fn hang_up_with(&mut self, cause: HangupCause) {
        if self.caller.answered {
            self.end_caller_leg_with_reason(Some(cause));
            self.end = Some((EndReason::DialplanFinished, HungUpBy::System));
            self.phase = Phase::Ended;
        } else {
            let (status, phrase) = cause.sip_status();
            let mut r =
                hotline_sip::message::Response::for_request(&self.caller.invite, status, phrase);
            r.push_header("Reason", reason_header(cause));
            self.reject_with(r, EndReason::DialplanFinished);
        }
    }

    /// The queue let the call go: a queue node with `exit` takes the caller back into the IVR.
    /// False: the IVR has no exit for it (the call ends as before).
    pub(super) fn queue_left_to_ivr(&mut self) -> bool {
        if !matches!(self.phase, Phase::Queued { .. }) {
            return false;
        }
        let Some(ivr) = self.ivr.as_mut().filter(|i| i.is_queued_with_exit()) else {
            return false;
        };
        tracing::info!("queue let the call go: back to the dialplan");
        self.announcer = None;
        if let Some(m) = &self.caller.media {
            let _ = m.stop_playback();
        }
        self.phase = Phase::Ivr;
        ivr.handle(Instant::now(), IvrInput::QueueLeft);
        self.drive_ivr();
        true
    }
}

/// `Reason: Q.850;cause=N;text="..."` (RFC 3326).
pub(super) fn reason_header(cause: HangupCause) -> String {
    format!("Q.850;cause={};text=\"{}\"", cause.q850(), cause.name())
}

fn other_languages(dir: &PathBuf) -> Option<Arc<PromptLibrary>> {
    let cache = OTHER_LANGUAGES.get_or_init(|| Mutex::new(BTreeMap::new()));
    let mut cache = cache.lock().ok()?;
    if let Some(library) = cache.get(dir) {
        return Some(library.clone());
    }
    match PromptLibrary::load(dir) {
        Ok(library) => {
            let library = Arc::new(library);
            cache.insert(dir.clone(), library.clone());
            Some(library)
        }
        Err(error) => {
            tracing::warn!("prompts of other languages unavailable: {error}");
            None
        }
    }
}
