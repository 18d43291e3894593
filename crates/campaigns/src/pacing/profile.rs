//! Dial modes and the abandonment rules of a jurisdiction.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::time::duration_text;

/// How a campaign decides when to dial.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum DialMode {
    /// The agent sees the record first and accepts (dial) or skips it.
    Preview,
    /// One dial per free agent: a live answer always finds its agent.
    #[default]
    Progressive,
    /// Dials ahead of free agents from the measured answer rate and handle times, under the
    /// profile's abandonment cap (needs enough agents, else progressive).
    Predictive,
    /// No agent: answered calls hear a message (reminders, notices).
    Agentless,
}

/// Abandonment rules: what counts as abandoned, the cap, the window it is measured over, and
/// whether an abandoned number may be dialed again soon.
///
/// Every profile expects an abandoned call to hear a short message naming the caller and a
/// number to call back (US TSR 310.4(b)(4)(iii), Ofcom's persistent misuse policy); the driver
/// plays it, the pacer counts the call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum JurisdictionProfile {
    /// US (FTC TSR / FCC): a person's answer not connected to an agent within 2 s of the
    /// greeting is abandoned; at most 3% of live-answered calls per campaign over 30 days.
    Us,
    /// UK (Ofcom): at most 3% of live-answered calls over 24 h; an abandoned number is not
    /// dialed again within 72 h.
    Uk,
    /// Rules of one's own.
    Custom {
        /// The highest share of live-answered calls that may be abandoned (0.03 is 3%).
        cap: f64,
        /// The rolling window the share is measured over.
        #[serde(with = "duration_text")]
        window: Duration,
        /// How long a live answer may wait for an agent before it counts as abandoned.
        #[serde(with = "duration_text")]
        connect_within: Duration,
        /// How long an abandoned number is not dialed again (none: no such rule).
        #[serde(default, with = "option_duration")]
        no_redial_after_abandon: Option<Duration>,
    },
}

/// A profile whose figures cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ProfileError {
    /// The cap is not a share strictly between 0 and 1.
    #[error("the abandonment cap {0} is not between 0 and 1")]
    Cap(f64),
    /// The window is zero.
    #[error("the abandonment window is zero")]
    Window,
    /// The connect time is zero.
    #[error("the connect time is zero")]
    ConnectWithin,
}

const DAY: Duration = Duration::from_secs(86_400);

impl JurisdictionProfile {
    /// The highest share of live-answered calls that may be abandoned.
    pub fn cap(&self) -> f64 {
        match self {
            Self::Us | Self::Uk => 0.03,
            Self::Custom { cap, .. } => *cap,
        }
    }

    /// The rolling window the share is measured over.
    pub fn window(&self) -> Duration {
        match self {
            Self::Us => 30 * DAY,
            Self::Uk => DAY,
            Self::Custom { window, .. } => *window,
        }
    }

    /// How long a live answer may wait for an agent before it counts as abandoned.
    pub fn connect_within(&self) -> Duration {
        match self {
            Self::Us | Self::Uk => Duration::from_secs(2),
            Self::Custom { connect_within, .. } => *connect_within,
        }
    }

    /// How long an abandoned number is not dialed again.
    pub fn no_redial_after_abandon(&self) -> Option<Duration> {
        match self {
            Self::Us => None,
            Self::Uk => Some(3 * DAY),
            Self::Custom {
                no_redial_after_abandon,
                ..
            } => *no_redial_after_abandon,
        }
    }

    /// Checks the figures of a custom profile.
    pub fn validate(&self) -> Result<(), ProfileError> {
        let cap = self.cap();
        if !(cap > 0.0 && cap < 1.0) {
            return Err(ProfileError::Cap(cap));
        }
        if self.window().is_zero() {
            return Err(ProfileError::Window);
        }
        if self.connect_within().is_zero() {
            return Err(ProfileError::ConnectWithin);
        }
        Ok(())
    }
}

mod option_duration {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    use crate::time::{duration_text, parse_duration};

    pub fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => duration_text::serialize(d, s),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        let text = Option::<String>::deserialize(d)?;
        text.map(|t| {
            parse_duration(&t)
                .ok_or_else(|| serde::de::Error::custom(format!("not a duration: {t:?}")))
        })
        .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn us_and_uk_figures() {
        assert_eq!(JurisdictionProfile::Us.window(), 30 * DAY);
        assert_eq!(JurisdictionProfile::Uk.window(), DAY);
        assert_eq!(JurisdictionProfile::Us.no_redial_after_abandon(), None);
        assert_eq!(
            JurisdictionProfile::Uk.no_redial_after_abandon(),
            Some(Duration::from_secs(72 * 3600))
        );
        assert_eq!(
            JurisdictionProfile::Us.connect_within(),
            Duration::from_secs(2)
        );
    }

    #[test]
    fn custom_profile_reads_from_json_and_is_checked() {
        let p: JurisdictionProfile = serde_json::from_str(
            r#"{"custom": {"cap": 0.05, "window": "12h", "connect_within": "3s", "no_redial_after_abandon": "48h"}}"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(p.cap(), 0.05);
        assert_eq!(p.window(), Duration::from_secs(12 * 3600));
        assert_eq!(
            p.no_redial_after_abandon(),
            Some(Duration::from_secs(48 * 3600))
        );
        assert_eq!(p.validate(), Ok(()));
        let bad = JurisdictionProfile::Custom {
            cap: 1.5,
            window: DAY,
            connect_within: Duration::from_secs(2),
            no_redial_after_abandon: None,
        };
        assert_eq!(bad.validate(), Err(ProfileError::Cap(1.5)));
    }
}
