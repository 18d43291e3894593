//! The detector's thresholds and what to do with each verdict, as read from the configuration.

use serde::{Deserialize, Serialize};

/// Thresholds of answering-machine detection. Durations are milliseconds of audio.
///
/// The defaults are Asterisk `app_amd`'s, so a site moving from Asterisk keeps its tuning (see
/// [`AmdConfig::maximum_number_of_words`] for the one difference); the voice-activity and beep
/// fields are hotline's own.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AmdConfig {
    /// Silence before any speech that makes the answer a machine (a person says something).
    pub initial_silence_ms: u32,
    /// Speech in the greeting beyond which the answer is a machine (people say "Hello?").
    pub greeting_ms: u32,
    /// Silence after the greeting that makes the answer a person (waiting for us to talk).
    pub after_greeting_silence_ms: u32,
    /// Audio analysed at most; undecided by then is [`AmdVerdict::NotSure`](super::AmdVerdict).
    pub total_analysis_time_ms: u32,
    /// Shortest speech burst that counts as a word.
    pub min_word_length_ms: u32,
    /// Silence that separates two words.
    pub between_words_silence_ms: u32,
    /// Most words a person's greeting has; one more and the answer is a machine.
    ///
    /// The count is what the name says: `app_amd`'s code calls a machine on *reaching* its
    /// `maximum_number_of_words` (so its 3 lets a person say two words), here on exceeding it
    /// ("Hello, who is this?" is three bursts of speech). An `app_amd` tuning of N is N - 1 here.
    pub maximum_number_of_words: u32,
    /// Longest single word; a longer burst is a machine.
    pub maximum_word_length_ms: u32,
    /// Mean absolute sample value (16-bit scale) below which a frame is silence whatever the noise.
    pub silence_threshold: u16,
    /// How far above the tracked noise floor a frame must be to be speech, in dB.
    pub noise_margin_db: f32,
    /// Speech is held this long after the level drops, so a word's stops do not split it.
    pub vad_hangover_ms: u32,
    /// What the beep detector looks for.
    pub beep: BeepConfig,
    /// What the dialer does with an answer found to be a machine.
    pub on_machine: AmdAction,
    /// What the dialer does when the detector could not tell.
    pub on_not_sure: AmdAction,
}

impl Default for AmdConfig {
    fn default() -> Self {
        AmdConfig {
            initial_silence_ms: 2500,
            greeting_ms: 1500,
            after_greeting_silence_ms: 800,
            total_analysis_time_ms: 5000,
            min_word_length_ms: 100,
            between_words_silence_ms: 50,
            maximum_number_of_words: 3,
            maximum_word_length_ms: 5000,
            silence_threshold: 256,
            noise_margin_db: 6.0,
            vad_hangover_ms: 60,
            beep: BeepConfig::default(),
            on_machine: AmdAction::LeaveMessage,
            on_not_sure: AmdAction::PassToAgent,
        }
    }
}

/// The tone a voicemail plays when it starts recording.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BeepConfig {
    /// Lowest beep frequency looked for, Hz.
    pub min_hz: u32,
    /// Highest beep frequency looked for, Hz.
    pub max_hz: u32,
    /// Shortest steady tone that counts as the beep.
    pub min_duration_ms: u32,
    /// Share of a frame's energy the tone must hold (0..1) for the frame to be tonal.
    pub min_purity: f32,
}

impl Default for BeepConfig {
    fn default() -> Self {
        BeepConfig {
            min_hz: 400,
            max_hz: 2000,
            min_duration_ms: 150,
            min_purity: 0.7,
        }
    }
}

/// What the dialer does with an answered call once the detector has decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AmdAction {
    /// Hang up.
    Drop,
    /// Wait for the beep and play the campaign's message.
    LeaveMessage,
    /// Connect the call to an agent.
    PassToAgent,
}

/// A configuration the detector cannot work with.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AmdConfigError {
    /// A duration that must be positive is zero.
    #[error("amd: {field} must be greater than 0")]
    Zero {
        /// The field's name in the configuration.
        field: &'static str,
    },
    /// The beep band is empty or outside what 8 kHz audio carries.
    #[error("amd: beep band {min_hz}-{max_hz} Hz must be increasing and within 100-3900 Hz")]
    BeepBand {
        /// The configured lower edge.
        min_hz: u32,
        /// The configured upper edge.
        max_hz: u32,
    },
    /// A ratio or margin outside its range.
    #[error("amd: {field} is out of range ({value})")]
    OutOfRange {
        /// The field's name in the configuration.
        field: &'static str,
        /// The value given.
        value: f32,
    },
}

impl AmdConfig {
    /// Checks the values once, when the configuration is loaded.
    pub fn validate(&self) -> Result<(), AmdConfigError> {
        for (field, value) in [
            ("initial_silence_ms", self.initial_silence_ms),
            ("greeting_ms", self.greeting_ms),
            ("after_greeting_silence_ms", self.after_greeting_silence_ms),
            ("total_analysis_time_ms", self.total_analysis_time_ms),
            ("maximum_number_of_words", self.maximum_number_of_words),
            ("maximum_word_length_ms", self.maximum_word_length_ms),
            ("beep.min_duration_ms", self.beep.min_duration_ms),
        ] {
            if value == 0 {
                return Err(AmdConfigError::Zero { field });
            }
        }
        let BeepConfig { min_hz, max_hz, .. } = self.beep;
        if min_hz < 100 || max_hz > 3900 || min_hz >= max_hz {
            return Err(AmdConfigError::BeepBand { min_hz, max_hz });
        }
        if !(0.0..=40.0).contains(&self.noise_margin_db) {
            return Err(AmdConfigError::OutOfRange {
                field: "noise_margin_db",
                value: self.noise_margin_db,
            });
        }
        if !(self.beep.min_purity > 0.0 && self.beep.min_purity <= 1.0) {
            return Err(AmdConfigError::OutOfRange {
                field: "beep.min_purity",
                value: self.beep.min_purity,
            });
        }
        Ok(())
    }

    /// The action for a verdict: a person always goes to an agent.
    pub fn action_for(&self, verdict: super::AmdVerdict) -> AmdAction {
        match verdict {
            super::AmdVerdict::Human => AmdAction::PassToAgent,
            super::AmdVerdict::Machine => self.on_machine,
            super::AmdVerdict::NotSure => self.on_not_sure,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::amd::AmdVerdict;

    #[test]
    fn defaults_are_app_amds_and_valid() {
        let config = AmdConfig::default();
        assert_eq!(config.initial_silence_ms, 2500);
        assert_eq!(config.greeting_ms, 1500);
        assert_eq!(config.after_greeting_silence_ms, 800);
        assert_eq!(config.total_analysis_time_ms, 5000);
        assert_eq!(config.min_word_length_ms, 100);
        assert_eq!(config.between_words_silence_ms, 50);
        assert_eq!(config.maximum_number_of_words, 3);
        assert_eq!(config.silence_threshold, 256);
        assert_eq!(config.validate(), Ok(()));
    }

    #[test]
    fn partial_json_keeps_the_other_defaults() {
        let config: AmdConfig = serde_json::from_str(
            r#"{"greeting_ms": 2000, "on_machine": "drop", "beep": {"max_hz": 1500}}"#,
        )
        .expect("valid json");
        assert_eq!(config.greeting_ms, 2000);
        assert_eq!(config.on_machine, AmdAction::Drop);
        assert_eq!(config.beep.max_hz, 1500);
        assert_eq!(config.beep.min_hz, 400);
        assert_eq!(config.initial_silence_ms, 2500);
        assert!(serde_json::from_str::<AmdConfig>(r#"{"greting_ms": 1}"#).is_err());
    }

    #[test]
    fn validation_names_the_bad_field() {
        let mut config = AmdConfig {
            total_analysis_time_ms: 0,
            ..AmdConfig::default()
        };
        assert_eq!(
            config.validate(),
            Err(AmdConfigError::Zero {
                field: "total_analysis_time_ms"
            })
        );
        config.total_analysis_time_ms = 5000;
        config.beep.min_hz = 3000;
        assert!(matches!(
            config.validate(),
            Err(AmdConfigError::BeepBand { .. })
        ));
        config.beep.min_hz = 400;
        config.beep.min_purity = 1.5;
        assert!(matches!(
            config.validate(),
            Err(AmdConfigError::OutOfRange { .. })
        ));
    }

    #[test]
    fn a_person_always_goes_to_an_agent() {
        let config = AmdConfig {
            on_machine: AmdAction::Drop,
            on_not_sure: AmdAction::Drop,
            ..AmdConfig::default()
        };
        assert_eq!(config.action_for(AmdVerdict::Human), AmdAction::PassToAgent);
        assert_eq!(config.action_for(AmdVerdict::Machine), AmdAction::Drop);
        assert_eq!(config.action_for(AmdVerdict::NotSure), AmdAction::Drop);
    }
}
