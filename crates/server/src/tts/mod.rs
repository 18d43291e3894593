//! Text-to-speech for `say` nodes with `kind: text` (a customer's name from the CRM): espeak-ng
//! run as a child process, its 22.05 kHz WAV resampled to the 8 kHz of prompts, kept in a small
//! LRU cache so a name said again is not synthesized again.
//!
//! The call task never waits on it: it asks [`Tts::cached`] first, else spawns
//! [`Tts::synthesize`] and gets the prompt back on its input channel. Every failure (no voice
//! for the language, the program missing, a timeout, bad output) is an error the call reports
//! and goes on from. The text may be personal data: it is never logged, and events carry only
//! its length.

mod cache;
mod check;
mod espeak;
mod wav;

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hotline_events::TtsFailure;
use hotline_media::prompt::Prompt;
use serde::Deserialize;

use crate::metrics::Metrics;

pub use check::speech_errors;

/// The `tts:` section of the configuration.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TtsSettings {
    /// The espeak-ng program: a command looked up in `PATH`, or a path.
    pub espeak_ng: PathBuf,
    /// The espeak-ng voice of each call language (`en: en`, `zh-CN: cmn`); a given map replaces
    /// the default one.
    pub voices: BTreeMap<String, String>,
    /// How long one synthesis may take before the program is killed.
    #[serde(deserialize_with = "duration")]
    pub timeout: Duration,
    /// Longest text spoken, in characters; longer text is cut there.
    pub max_chars: usize,
    /// How many synthesized texts are kept (least recently used go first); 0 keeps none.
    pub cache: usize,
    /// Most espeak-ng programs running at once; further texts wait for one to finish (within
    /// their `timeout`), so a burst of calls cannot starve the machine.
    pub concurrency: usize,
}

impl Default for TtsSettings {
    fn default() -> Self {
        TtsSettings {
            espeak_ng: PathBuf::from("espeak-ng"),
            voices: [("en", "en"), ("zh-CN", "cmn")]
                .into_iter()
                .map(|(language, voice)| (language.to_owned(), voice.to_owned()))
                .collect(),
            timeout: Duration::from_secs(3),
            max_chars: 200,
            cache: 64,
            concurrency: 4,
        }
    }
}

/// Longest accepted `tts.timeout`.
const MAX_TIMEOUT: Duration = Duration::from_secs(60);
/// Largest accepted `tts.max_chars`.
const MAX_CHARS: usize = 2_000;
/// Largest accepted `tts.cache`.
const MAX_CACHE: usize = 10_000;
/// Largest accepted `tts.concurrency`.
const MAX_CONCURRENCY: usize = 64;

impl TtsSettings {
    /// Checks the limits and that voice names are plain names (they go on a command line).
    pub fn validate(&self) -> Result<(), String> {
        if self.timeout.is_zero() || self.timeout > MAX_TIMEOUT {
            return Err(format!(
                "tts.timeout: give a duration from 1ms to {}s",
                MAX_TIMEOUT.as_secs()
            ));
        }
        if !(1..=MAX_CHARS).contains(&self.max_chars) {
            return Err(format!("tts.max_chars: give 1 to {MAX_CHARS}"));
        }
        if self.cache > MAX_CACHE {
            return Err(format!("tts.cache: give 0 to {MAX_CACHE}"));
        }
        if !(1..=MAX_CONCURRENCY).contains(&self.concurrency) {
            return Err(format!("tts.concurrency: give 1 to {MAX_CONCURRENCY}"));
        }
        if self.espeak_ng.as_os_str().is_empty() {
            return Err("tts.espeak_ng: give the espeak-ng command or its path".into());
        }
        for (language, voice) in &self.voices {
            let plain = !voice.is_empty()
                && !voice.starts_with('-')
                && voice
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '+' | '/'));
            if !plain {
                return Err(format!(
                    "tts.voices.{language}: `{voice}` is not an espeak-ng voice name"
                ));
            }
        }
        Ok(())
    }

    /// The voice for a call language: the exact language, else one written in another case,
    /// else one with the same primary subtag (`en-GB` takes `en`'s voice).
    pub fn voice_for(&self, language: &str) -> Option<&str> {
        if let Some(voice) = self.voices.get(language) {
            return Some(voice);
        }
        let primary = |l: &str| l.split(['-', '_']).next().unwrap_or(l).to_ascii_lowercase();
        self.voices
            .iter()
            .find(|(l, _)| l.eq_ignore_ascii_case(language))
            .or_else(|| {
                self.voices
                    .iter()
                    .find(|(l, _)| primary(l) == primary(language))
            })
            .map(|(_, voice)| voice.as_str())
    }
}

fn duration<'de, D>(de: D) -> Result<Duration, D::Error>
where
    D: serde::Deserializer<'de>,
{
    let text = String::deserialize(de)?;
    crate::config::parse_duration(&text).map_err(|e| serde::de::Error::custom(format!("{e:#}")))
}

/// One text to speak, ready for the synthesizer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Speech {
    /// The call language it is spoken in.
    pub language: String,
    /// The espeak-ng voice.
    pub voice: String,
    /// The text: control characters blanked, cut at `max_chars`, trimmed. Personal data: not
    /// logged.
    text: String,
}

impl Speech {
    /// Its length in characters (what events and logs show instead of the text).
    pub fn chars(&self) -> usize {
        self.text.chars().count()
    }
}

/// Why a text could not be spoken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TtsError {
    /// `tts.voices` has no voice for the call's language.
    #[error("no voice for language `{0}` in tts.voices")]
    NoVoice(String),
    /// The program is not installed (or not where `tts.espeak_ng` says).
    #[error("{0} not found (tts.espeak_ng): install it (apt-get install espeak-ng)")]
    NotFound(String),
    /// The program could not be started for another reason.
    #[error("cannot run {program}: {reason}")]
    Spawn {
        /// The program.
        program: String,
        /// What the system said.
        reason: String,
    },
    /// It took longer than `tts.timeout` and was killed.
    #[error("synthesis took longer than {0:?}: killed")]
    TimedOut(Duration),
    /// It exited with a failure.
    #[error("espeak-ng failed ({status}): {stderr}")]
    Failed {
        /// Its exit status.
        status: String,
        /// The start of what it wrote to stderr.
        stderr: String,
    },
    /// Its output is not the WAV expected.
    #[error("bad output from espeak-ng: {0}")]
    BadOutput(String),
}

impl TtsError {
    /// The failure as events name it.
    pub fn failure(&self) -> TtsFailure {
        match self {
            TtsError::NoVoice(_) => TtsFailure::NoVoice,
            TtsError::NotFound(_) => TtsFailure::NotFound,
            TtsError::TimedOut(_) => TtsFailure::TimedOut,
            TtsError::Spawn { .. } | TtsError::Failed { .. } => TtsFailure::Failed,
            TtsError::BadOutput(_) => TtsFailure::BadOutput,
        }
    }

    /// The `result` label of `hotline_tts_total`.
    fn label(&self) -> &'static str {
        match self.failure() {
            TtsFailure::NoVoice => "no_voice",
            TtsFailure::NotFound => "not_found",
            TtsFailure::TimedOut => "timed_out",
            TtsFailure::Failed => "failed",
            TtsFailure::BadOutput => "bad_output",
        }
    }
}

/// The synthesizer every call shares: settings, cache and metrics.
pub struct Tts {
    settings: TtsSettings,
    cache: Mutex<cache::Lru>,
    /// Texts synthesized ahead and kept whatever the cache evicts (a campaign's abandon
    /// message, whose few seconds leave no time for espeak-ng): (voice, text) to audio.
    kept: Mutex<HashMap<(String, String), Arc<Prompt>>>,
    /// One per program allowed to run at once (`tts.concurrency`).
    running: tokio::sync::Semaphore,
    metrics: Metrics,
}

impl Tts {
    /// A synthesizer with `settings`, counting into `metrics`.
    pub fn new(settings: TtsSettings, metrics: Metrics) -> Tts {
        let cache = Mutex::new(cache::Lru::new(settings.cache));
        let running = tokio::sync::Semaphore::new(settings.concurrency);
        Tts {
            settings,
            cache,
            kept: Mutex::new(HashMap::new()),
            running,
            metrics,
        }
    }

    /// `text` prepared for speaking in `language`: blanked control characters, cut at
    /// `max_chars`; an error (counted) when no voice speaks the language. `None` when nothing
    /// is left to say.
    pub fn prepare(&self, language: &str, text: &str) -> Result<Option<Speech>, TtsError> {
        let Some(voice) = self.settings.voice_for(language) else {
            return Err(self.count_failure(TtsError::NoVoice(language.to_owned())));
        };
        let text: String = text
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .take(self.settings.max_chars)
            .collect();
        let text = text.trim();
        Ok((!text.is_empty()).then(|| Speech {
            language: language.to_owned(),
            voice: voice.to_owned(),
            text: text.to_owned(),
        }))
    }

    /// Whether espeak-ng can be found where `tts.espeak_ng` says (without it every synthesis
    /// fails).
    pub fn available(&self) -> bool {
        check::find_program(&self.settings.espeak_ng).is_some()
    }

    /// Whether the audio of `speech` is kept (not counted: nothing is played).
    pub fn is_kept(&self, speech: &Speech) -> bool {
        self.kept
            .lock()
            .is_ok_and(|kept| kept.contains_key(&(speech.voice.clone(), speech.text.clone())))
    }

    /// Keeps the audio of `speech` for as long as the server runs (see [`Tts::cached`]).
    pub fn keep(&self, speech: &Speech, prompt: Arc<Prompt>) {
        if let Ok(mut kept) = self.kept.lock() {
            kept.insert((speech.voice.clone(), speech.text.clone()), prompt);
        }
    }

    /// The audio of `speech` when it was synthesized before (counted as `cached`): kept, or
    /// still in the cache.
    pub fn cached(&self, speech: &Speech) -> Option<Arc<Prompt>> {
        let kept = self.kept.lock().ok().and_then(|kept| {
            kept.get(&(speech.voice.clone(), speech.text.clone()))
                .cloned()
        });
        if let Some(prompt) = kept {
            self.metrics.tts.with_label_values(&["cached"]).inc();
            return Some(prompt);
        }
        let mut cache = self.cache.lock().ok()?;
        let found = cache.get(&speech.voice, &speech.text);
        if found.is_some() {
            self.metrics.tts.with_label_values(&["cached"]).inc();
        }
        found
    }

    /// Runs espeak-ng for `speech` and returns its audio as an 8 kHz prompt, kept in the cache.
    /// The wait for a turn (`tts.concurrency`) and the run together take at most `tts.timeout`;
    /// a program still running then is killed.
    pub async fn synthesize(&self, speech: &Speech) -> Result<Arc<Prompt>, TtsError> {
        let started = std::time::Instant::now();
        let timeout = self.settings.timeout;
        let result = match tokio::time::timeout(timeout, self.running.acquire()).await {
            Ok(Ok(_turn)) => {
                let left = timeout.saturating_sub(started.elapsed());
                espeak::run(&self.settings.espeak_ng, &speech.voice, &speech.text, left)
                    .await
                    .map_err(|error| match error {
                        // The budget is the whole timeout, not what was left of it.
                        TtsError::TimedOut(_) => TtsError::TimedOut(timeout),
                        other => other,
                    })
                    .and_then(|bytes| wav::to_prompt(&bytes))
            }
            // Never closed; a wait past the timeout is a timeout like a slow run.
            Ok(Err(_)) | Err(_) => Err(TtsError::TimedOut(timeout)),
        };
        match result {
            Ok(prompt) => {
                let prompt = Arc::new(prompt);
                self.metrics.tts.with_label_values(&["synthesized"]).inc();
                self.metrics
                    .tts_seconds
                    .observe(started.elapsed().as_secs_f64());
                if let Ok(mut cache) = self.cache.lock() {
                    cache.put(&speech.voice, &speech.text, prompt.clone());
                }
                Ok(prompt)
            }
            Err(error) => Err(self.count_failure(error)),
        }
    }

    fn count_failure(&self, error: TtsError) -> TtsError {
        self.metrics.tts.with_label_values(&[error.label()]).inc();
        error
    }
}

#[cfg(test)]
mod tests;
