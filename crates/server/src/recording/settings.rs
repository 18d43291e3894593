//! The recording settings: `recording:` at the top of the config (seed, the agent's pause and
//! resume codes) and `recording:` in each queue (policy, retention, mono mix, redaction).

use hotline_recording::{NumberRedaction, RecordingPolicy};
use serde::Deserialize;

/// A queue's `recording:`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueueRecording {
    /// Which calls are recorded: `always`, `never` (default), `on_demand`, `{sampled: "20%"}`.
    #[serde(default)]
    pub policy: RecordingPolicy,
    /// Recordings older than this many days are deleted (absent: kept).
    #[serde(default)]
    pub retention_days: Option<u32>,
    /// Also write a mixed mono file beside the stereo one.
    #[serde(default)]
    pub mono_mix: bool,
    /// How phone numbers are written into the sidecar: `none` (default), `full`, or
    /// `{keep_last: 4}`.
    #[serde(default)]
    pub redact_numbers: NumberRedaction,
}

/// The top-level `recording:`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordingSettings {
    /// The seed of sampled policies: the same seed picks the same calls.
    #[serde(default)]
    pub seed: u64,
    /// DTMF the agent keys to pause recording (e.g. `*1`); absent: no code.
    #[serde(default = "default_pause_code")]
    pub pause_code: Option<String>,
    /// DTMF the agent keys to resume recording (e.g. `*2`).
    #[serde(default = "default_resume_code")]
    pub resume_code: Option<String>,
    /// How numbers are written into the sidecar of a recording no queue's setting covers yet
    /// (an IVR-part recording before an agent joins, or one transferred to an outside number):
    /// `none` (default), `full` or `{keep_last: 4}`.
    #[serde(default)]
    pub redact_numbers: NumberRedaction,
}

fn default_pause_code() -> Option<String> {
    Some("*1".into())
}

fn default_resume_code() -> Option<String> {
    Some("*2".into())
}

impl Default for RecordingSettings {
    fn default() -> Self {
        RecordingSettings {
            seed: 0,
            pause_code: default_pause_code(),
            resume_code: default_resume_code(),
            redact_numbers: NumberRedaction::default(),
        }
    }
}

/// Why the recording settings are refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    /// A code holds something other than DTMF keys, or is empty or longer than 4 keys.
    #[error("recording.{field}: `{code}` is not 1 to 4 DTMF keys (0-9, *, #, A-D)")]
    BadCode {
        /// `pause_code` or `resume_code`.
        field: &'static str,
        /// The code.
        code: String,
    },
    /// Both codes are the same, or one ends with the other.
    #[error("recording: pause_code `{pause}` and resume_code `{resume}` must differ and neither may end with the other")]
    CodesOverlap {
        /// The pause code.
        pause: String,
        /// The resume code.
        resume: String,
    },
}

impl RecordingSettings {
    /// Checks the codes.
    pub fn validate(&self) -> Result<(), SettingsError> {
        for (field, code) in [
            ("pause_code", &self.pause_code),
            ("resume_code", &self.resume_code),
        ] {
            if let Some(code) = code {
                let ok = (1..=4).contains(&code.chars().count())
                    && code.chars().all(|c| "0123456789*#ABCD".contains(c));
                if !ok {
                    return Err(SettingsError::BadCode {
                        field,
                        code: code.clone(),
                    });
                }
            }
        }
        if let (Some(pause), Some(resume)) = (&self.pause_code, &self.resume_code) {
            if pause.ends_with(resume.as_str()) || resume.ends_with(pause.as_str()) {
                return Err(SettingsError::CodesOverlap {
                    pause: pause.clone(),
                    resume: resume.clone(),
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hotline_recording::SampleShare;

    #[test]
    fn a_queue_reads_every_policy_and_the_options() {
        let q: QueueRecording = serde_saphyr::from_str(
            "{ policy: { sampled: \"20%\" }, retention_days: 90, mono_mix: true, redact_numbers: { keep_last: 4 } }",
        )
        .expect("parses");
        assert_eq!(
            q.policy,
            RecordingPolicy::Sampled(SampleShare::from_ppm(200_000))
        );
        assert_eq!(q.retention_days, Some(90));
        assert!(q.mono_mix);
        assert_eq!(q.redact_numbers, NumberRedaction::KeepLast(4));
        for (text, policy) in [
            ("always", RecordingPolicy::Always),
            ("never", RecordingPolicy::Never),
            ("on_demand", RecordingPolicy::OnDemand),
        ] {
            let q: QueueRecording =
                serde_saphyr::from_str(&format!("{{ policy: {text} }}")).expect("parses");
            assert_eq!(q.policy, policy);
            assert_eq!(q.retention_days, None);
        }
        assert!(serde_saphyr::from_str::<QueueRecording>("{ policy: sometimes }").is_err());
    }

    #[test]
    fn codes_must_be_dtmf_and_distinct() {
        assert_eq!(RecordingSettings::default().validate(), Ok(()));
        let bad = RecordingSettings {
            pause_code: Some("*x".into()),
            ..RecordingSettings::default()
        };
        assert!(matches!(
            bad.validate(),
            Err(SettingsError::BadCode {
                field: "pause_code",
                ..
            })
        ));
        let overlap = RecordingSettings {
            pause_code: Some("*1".into()),
            resume_code: Some("1".into()),
            ..RecordingSettings::default()
        };
        assert!(matches!(
            overlap.validate(),
            Err(SettingsError::CodesOverlap { .. })
        ));
        let none = RecordingSettings {
            pause_code: None,
            resume_code: None,
            seed: 7,
            redact_numbers: NumberRedaction::default(),
        };
        assert_eq!(none.validate(), Ok(()));
    }
}
