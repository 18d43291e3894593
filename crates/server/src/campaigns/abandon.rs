//! The abandon message's spoken identity: who called, said with text-to-speech before the
//! callback number is read digit by digit (the US and UK rules want both).
//!
//! The text is the campaign's `abandon_message.text`, else a default naming
//! `campaigns.company` in the message's language ("This is Example Ltd calling."), with
//! `{company}` and `{callback_number}` filled in. It is synthesized when the campaign is created
//! (and again for the campaigns a restart restores) and kept for the server's life, so an
//! abandoned customer hears it at once instead of waiting on espeak-ng. A campaign whose
//! message would say nothing of who called is refused at create: text without a synthesizer
//! (or a voice for its language) and no prompt to fall back on, or no text, no company and no
//! prompt.

use std::sync::Arc;
use std::time::Instant;

use hotline_campaigns::campaign::{AbandonMessage, CampaignId, CampaignSpec};

use crate::tts::{Speech, Tts, TtsError};

/// The default identity text per language (primary subtag); English for the others.
const TEMPLATES: &[(&str, &str)] = &[
    ("en", "This is {company} calling."),
    ("zh", "这里是{company}的来电。"),
];

/// The default identity text for `language`.
pub fn default_template(language: &str) -> &'static str {
    let primary = language
        .split(['-', '_'])
        .next()
        .unwrap_or(language)
        .to_ascii_lowercase();
    TEMPLATES
        .iter()
        .find(|(l, _)| *l == primary)
        .map_or(TEMPLATES[0].1, |(_, t)| t)
}

/// `template` with `{company}` and `{callback_number}` filled in; the number's digits are
/// spaced so they are said one by one.
pub fn fill(template: &str, company: &str, callback_number: &str) -> String {
    let digits: Vec<String> = callback_number
        .chars()
        .filter(char::is_ascii_digit)
        .map(String::from)
        .collect();
    template
        .replace("{company}", company)
        .replace("{callback_number}", &digits.join(" "))
}

/// The text a message speaks: its own, else the default when a company is configured.
pub fn identity_text(message: &AbandonMessage, company: &str, language: &str) -> Option<String> {
    let template = match message.text.as_deref() {
        Some(text) => text,
        None if company.trim().is_empty() => return None,
        None => default_template(language),
    };
    let text = fill(template, company.trim(), message.callback_number.as_str());
    (!text.trim().is_empty()).then_some(text)
}

/// Why a campaign's abandon message is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AbandonError {
    /// Neither a prompt nor anything to say of who called.
    #[error(
        "campaign {0}: abandon_message says nothing of who called: give abandon_message.text \
         or abandon_message.prompt (or set campaigns.company)"
    )]
    Nothing(CampaignId),
    /// Text to speak, no prompt, and it cannot be spoken here.
    #[error(
        "campaign {id}: abandon_message.text cannot be spoken ({reason}) and there is no \
         abandon_message.prompt to play instead"
    )]
    CannotSpeak {
        /// The campaign.
        id: CampaignId,
        /// Why: no synthesizer, no voice, a failed synthesis.
        reason: String,
    },
}

/// The API's answer to a refused message: 400 with what is wrong.
pub fn refused(e: &AbandonError) -> axum::response::Response {
    use axum::response::IntoResponse;
    let body = serde_json::json!({ "error": e.to_string() });
    (axum::http::StatusCode::BAD_REQUEST, axum::Json(body)).into_response()
}

/// What the server knows to speak abandon messages: the synthesizer, the default language
/// and company.
pub struct Identities {
    /// The synthesizer (None: no SIP endpoint, nothing is ever played).
    pub tts: Option<Arc<Tts>>,
    /// The language of a message that names none.
    pub language: String,
    /// `campaigns.company`.
    pub company: String,
}

impl Identities {
    /// The identity `spec`'s message speaks, prepared for the synthesizer; `Ok(None)` when it
    /// speaks none (the prompt says who called), an error when it would say nothing of it.
    pub fn speech(&self, spec: &CampaignSpec) -> Result<Option<Speech>, AbandonError> {
        self.speech_of(spec, false)
    }

    /// The identities a campaign call of `shared` speaks.
    pub fn of_calls(shared: &crate::endpoint::Shared, company: &str) -> Identities {
        Identities {
            tts: Some(shared.tts.clone()),
            language: shared.config.language.clone(),
            company: company.to_owned(),
        }
    }

    /// [`Identities::speech`], with a warning when a prompt stands in for the text (`warn`).
    fn speech_of(&self, spec: &CampaignSpec, warn: bool) -> Result<Option<Speech>, AbandonError> {
        let Some(message) = spec.abandon_message.as_ref() else {
            return Ok(None);
        };
        let language = message.language.as_deref().unwrap_or(&self.language);
        let has_prompt = message
            .prompt
            .as_deref()
            .is_some_and(|p| !p.trim().is_empty());
        let Some(text) = identity_text(message, &self.company, language) else {
            return if has_prompt {
                Ok(None)
            } else {
                Err(AbandonError::Nothing(spec.id.clone()))
            };
        };
        let cannot = |reason: String| {
            if has_prompt {
                if warn {
                    tracing::warn!(campaign = %spec.id, "the abandon message's text cannot be spoken ({reason}): its prompt says who called");
                }
                Ok(None)
            } else {
                Err(AbandonError::CannotSpeak {
                    id: spec.id.clone(),
                    reason,
                })
            }
        };
        let Some(tts) = self.tts.as_ref() else {
            return cannot("no synthesizer".into());
        };
        if !tts.available() {
            return cannot("espeak-ng was not found, see tts.espeak_ng".into());
        }
        match tts.prepare(language, &text) {
            Ok(Some(speech)) => Ok(Some(speech)),
            Ok(None) if has_prompt => Ok(None),
            Ok(None) => Err(AbandonError::Nothing(spec.id.clone())),
            Err(e) => cannot(e.to_string()),
        }
    }

    /// Checks `spec`'s message at create and synthesizes its identity now, kept for every
    /// abandon of the campaign; a synthesis that fails refuses a campaign without a prompt.
    pub async fn prepare(&self, spec: &CampaignSpec) -> Result<(), AbandonError> {
        let Some(speech) = self.speech_of(spec, true)? else {
            return Ok(());
        };
        let has_prompt = spec
            .abandon_message
            .as_ref()
            .is_some_and(|m| m.prompt.is_some());
        match self.synthesize(&spec.id, &speech).await {
            Ok(()) => Ok(()),
            Err(e) if has_prompt => {
                tracing::warn!(campaign = %spec.id, "the abandon message's text was not synthesized ({e}): its prompt plays alone until it is");
                Ok(())
            }
            Err(e) => Err(AbandonError::CannotSpeak {
                id: spec.id.clone(),
                reason: e.to_string(),
            }),
        }
    }

    /// Synthesizes the identity of each restored campaign in the background.
    pub fn restore<'a>(self: &Arc<Self>, specs: impl Iterator<Item = &'a CampaignSpec>) {
        for spec in specs {
            let Ok(Some(speech)) = self.speech(spec) else {
                continue;
            };
            let me = self.clone();
            let id = spec.id.clone();
            tokio::spawn(async move {
                if let Err(e) = me.synthesize(&id, &speech).await {
                    tracing::warn!(campaign = %id, "the abandon message's text was not synthesized: {e}");
                }
            });
        }
    }

    /// Runs the synthesis of `speech` (unless kept already) and keeps its audio.
    async fn synthesize(&self, id: &CampaignId, speech: &Speech) -> Result<(), TtsError> {
        let Some(tts) = self.tts.as_ref() else {
            return Ok(());
        };
        if let Some(prompt) = tts.cached(speech) {
            tts.keep(speech, prompt);
            return Ok(());
        }
        let started = Instant::now();
        let prompt = tts.synthesize(speech).await?;
        tracing::info!(
            campaign = %id,
            language = %speech.language,
            chars = speech.chars(),
            synthesis_ms = started.elapsed().as_millis() as u64,
            audio_ms = prompt.duration().as_millis() as u64,
            "the abandon message's identity is synthesized"
        );
        tts.keep(speech, prompt);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hotline_campaigns::campaign::{TrunkName, TrunkSpec};
    use hotline_campaigns::{QueueName, E164};

    fn message(prompt: Option<&str>, text: Option<&str>) -> AbandonMessage {
        AbandonMessage {
            prompt: prompt.map(str::to_owned),
            text: text.map(str::to_owned),
            language: None,
            callback_number: E164::parse("+44 20 7946 0123").unwrap_or_else(|e| panic!("{e}")),
        }
    }

    fn spec(prompt: Option<&str>, text: Option<&str>) -> CampaignSpec {
        let mut spec = CampaignSpec::new(
            CampaignId::new("renewals"),
            QueueName::new("support"),
            E164::parse("+442079460000").unwrap_or_else(|e| panic!("{e}")),
            TrunkSpec {
                name: TrunkName::new("carrier"),
                channels: 1,
            },
        );
        spec.abandon_message = Some(message(prompt, text));
        spec
    }

    fn identities(espeak_ng: &str, company: &str) -> Identities {
        let settings = crate::tts::TtsSettings {
            espeak_ng: espeak_ng.into(),
            ..crate::tts::TtsSettings::default()
        };
        let metrics = crate::metrics::Metrics::new();
        Identities {
            tts: Some(Arc::new(Tts::new(settings, metrics))),
            language: "en".into(),
            company: company.into(),
        }
    }

    #[test]
    fn the_identity_text_fills_the_company_and_the_callback_digits() {
        let m = message(
            None,
            Some("{company} called you. Call us on {callback_number}."),
        );
        assert_eq!(
            identity_text(&m, "Acme", "en").as_deref(),
            Some("Acme called you. Call us on 4 4 2 0 7 9 4 6 0 1 2 3.")
        );
        // No text: the default in the message's language, naming the company.
        let m = message(Some("sorry"), None);
        assert_eq!(
            identity_text(&m, " Acme ", "en-GB").as_deref(),
            Some("This is Acme calling.")
        );
        assert_eq!(
            identity_text(&m, "Acme", "zh-CN").as_deref(),
            Some("这里是Acme的来电。")
        );
        assert_eq!(default_template("fr"), "This is {company} calling.");
        // No text and no company: nothing to say (the prompt says it).
        assert_eq!(identity_text(&m, "", "en"), None);
        assert_eq!(
            identity_text(&message(None, Some("  ")), "Acme", "en"),
            None
        );
    }

    #[test]
    fn text_without_a_synthesizer_is_refused_unless_a_prompt_can_play_instead() {
        let missing = identities("/nonexistent/espeak-ng", "Acme");
        let refused = missing.speech(&spec(None, Some("This is {company}.")));
        assert!(
            matches!(&refused, Err(AbandonError::CannotSpeak { reason, .. }) if reason.contains("espeak-ng was not found")),
            "{refused:?}"
        );
        let text = refused.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(text.starts_with("campaign renewals: abandon_message.text cannot be spoken"));
        // The default text (a company, no text) is refused the same way without a prompt.
        assert!(missing.speech(&spec(None, None)).is_err());
        // A prompt plays instead.
        assert_eq!(missing.speech(&spec(Some("sorry"), Some("Hi"))), Ok(None));
        assert_eq!(missing.speech(&spec(Some("sorry"), None)), Ok(None));
        // Nothing at all to say.
        let nobody = identities("/nonexistent/espeak-ng", "");
        assert_eq!(
            nobody.speech(&spec(None, None)),
            Err(AbandonError::Nothing(CampaignId::new("renewals")))
        );
        assert_eq!(nobody.speech(&spec(Some("sorry"), None)), Ok(None));
    }

    #[test]
    fn a_language_without_a_voice_is_refused_unless_a_prompt_can_play_instead() {
        // `sh` is found on every system: the check that follows is the voice's.
        let found = identities("sh", "Acme");
        let mut s = spec(None, Some("Bonjour"));
        if let Some(m) = s.abandon_message.as_mut() {
            m.language = Some("fr".into());
        }
        let refused = found.speech(&s);
        assert!(
            matches!(&refused, Err(AbandonError::CannotSpeak { reason, .. }) if reason.contains("no voice for language `fr`")),
            "{refused:?}"
        );
        let speech = found.speech(&spec(None, None));
        assert!(
            matches!(&speech, Ok(Some(s)) if s.voice == "en" && s.chars() == "This is Acme calling.".len()),
            "{speech:?}"
        );
    }
}
