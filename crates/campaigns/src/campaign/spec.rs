//! A campaign's specification: what it dials, how, when, and under which rules.

use std::collections::BTreeSet;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::retry::CampaignRetry;
use crate::config::{RetryRule, MIN_RING};
use crate::ids::{QueueName, SkillName};
use crate::number::E164;
use crate::pacing::{DialMode, JurisdictionProfile, PacerConfig, PacerConfigError};
use crate::time::{duration_text, Zone};
use crate::window::{CallingWindow, WindowError};

macro_rules! text_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub Arc<str>);

        impl $name {
            /// Builds the name from anything string-like.
            pub fn new(name: impl Into<String>) -> Self {
                Self(Arc::from(name.into()))
            }

            /// The name as a string slice.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                String::deserialize(deserializer).map(Self::new)
            }
        }
    };
}

text_id!(
    /// A campaign's id (its configured name, `spring-renewals`).
    CampaignId
);
text_id!(
    /// The name of an outbound SIP trunk.
    TrunkName
);

/// What the dialer does with an answer once answering-machine detection has decided (the
/// same names as the media detector's `AmdAction`).
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

/// Answering-machine handling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AmdSettings {
    /// Whether the driver runs the detector at all (off: every answer is reported human).
    #[serde(default = "yes")]
    pub enabled: bool,
    /// An answer found to be a machine.
    #[serde(default = "drop_action")]
    pub on_machine: AmdAction,
    /// An answer the detector could not tell.
    #[serde(default = "pass_action")]
    pub on_not_sure: AmdAction,
}

fn yes() -> bool {
    true
}

fn drop_action() -> AmdAction {
    AmdAction::Drop
}

fn pass_action() -> AmdAction {
    AmdAction::PassToAgent
}

impl Default for AmdSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            on_machine: AmdAction::Drop,
            on_not_sure: AmdAction::PassToAgent,
        }
    }
}

/// What an abandoned call hears: who called and a number to call back. The driver speaks
/// `text` (or, without it, a default naming the configured company) with text-to-speech, then
/// plays `prompt`, then reads `callback_number` digit by digit; which of these a campaign may
/// leave out depends on the server (a synthesizer, a company name), so the server checks it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AbandonMessage {
    /// A prompt's name (played after the spoken text, or alone without a synthesizer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt: Option<String>,
    /// The text spoken first (`{company}` and `{callback_number}` are filled in).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// The language the text is spoken in (None: the server's prompt language).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// The number the customer can call back.
    pub callback_number: E164,
}

/// The trunk a campaign dials out on, and how many channels it has.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrunkSpec {
    /// The trunk.
    pub name: TrunkName,
    /// Calls it carries at once.
    pub channels: u32,
}

/// Who takes a campaign's answered calls.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Audience {
    /// Agents of a queue with these skills.
    Agents {
        /// The queue whose agents serve the campaign.
        queue: QueueName,
        /// Skills they need.
        #[serde(default)]
        skills: Vec<SkillName>,
    },
    /// No agent: a dialplan flow (a survey, a notice).
    Flow {
        /// The flow's name.
        flow: String,
    },
}

/// How blended agents share inbound and outbound work.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlendRule {
    /// Outbound work only while every inbound queue of the agent meets its target and nobody
    /// waits (off: the campaign's agents are outbound only).
    #[serde(default = "yes")]
    pub inbound_first: bool,
}

impl Default for BlendRule {
    fn default() -> Self {
        Self {
            inbound_first: true,
        }
    }
}

/// A campaign as configured (JSON/YAML at the edge, checked by [`CampaignSpec::validate`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CampaignSpec {
    /// Its id.
    pub id: CampaignId,
    /// How it decides when to dial.
    pub mode: DialMode,
    /// Who takes its answered calls.
    pub audience: Audience,
    /// Its abandonment rules.
    pub profile: JurisdictionProfile,
    /// The number the customer sees.
    pub caller_id: E164,
    /// When customers may be called, per weekday, in their own local time.
    #[serde(default)]
    pub window: CallingWindow,
    /// The zone of a record that names none (None: such a record is never dialed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_zone: Option<Zone>,
    /// The campaign's own do-not-call numbers (the global list is checked too).
    #[serde(default)]
    pub dnc: BTreeSet<E164>,
    /// Give a record up after this many attempts, whatever their outcomes (and after
    /// `retry.max_attempts` when that is lower).
    #[serde(default = "default_max_attempts")]
    pub max_attempts: u32,
    /// Retry delays and limits per SIP outcome.
    #[serde(default)]
    pub retry: CampaignRetry,
    /// Retry of a live answer abandoned for want of an agent (default: after 1 h, given up
    /// once 3 attempts were abandoned; a longer no-redial bar wins, UK: 72 h).
    #[serde(default = "default_abandoned_retry")]
    pub retry_abandoned: RetryRule,
    /// Retry of a call a machine answered and that was dropped (None: done).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_machine: Option<RetryRule>,
    /// At most this many dials start per minute (a sliding 60 s).
    #[serde(default = "default_rate")]
    pub max_dials_per_minute: u32,
    /// The trunk and its channels.
    pub trunk: TrunkSpec,
    /// Predictive needs at least this many agents logged in, else it dials progressively.
    #[serde(default = "default_min_agents")]
    pub min_agents_predictive: u32,
    /// The share of the abandonment cap kept free (0.2 with 3%: the pacer aims at 2.4%).
    #[serde(default = "default_margin")]
    pub abandon_margin: f64,
    /// Predictive dials progressively until this many of its dials have a known outcome.
    #[serde(default = "default_warmup_resolved")]
    pub warmup_resolved_dials: u64,
    /// ... and this many of them were answered by a person.
    #[serde(default = "default_warmup_live")]
    pub warmup_live_answers: u64,
    /// Agentless: calls in progress at once.
    #[serde(default = "default_agentless_lines")]
    pub agentless_lines: u32,
    /// How long the customer's phone rings (at least 15 s).
    #[serde(default = "default_ring", with = "duration_text")]
    pub ring_timeout: Duration,
    /// How long a preview offer waits for the agent's accept or skip.
    #[serde(default = "default_preview", with = "duration_text")]
    pub preview_timeout: Duration,
    /// How long a skipped record waits before it is offered again.
    #[serde(default = "default_skip_delay", with = "duration_text")]
    pub skip_delay: Duration,
    /// Answering-machine handling.
    #[serde(default)]
    pub amd: AmdSettings,
    /// What an abandoned call hears (required unless agentless).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub abandon_message: Option<AbandonMessage>,
    /// Blending with inbound work.
    #[serde(default)]
    pub blend: BlendRule,
}

fn default_max_attempts() -> u32 {
    5
}

fn default_abandoned_retry() -> RetryRule {
    RetryRule {
        delay: Duration::from_secs(3600),
        max_attempts: 3,
    }
}

fn default_rate() -> u32 {
    60
}

fn default_min_agents() -> u32 {
    15
}

fn default_margin() -> f64 {
    0.2
}

fn default_warmup_resolved() -> u64 {
    crate::pacing::DEFAULT_WARMUP_RESOLVED_DIALS
}

fn default_warmup_live() -> u64 {
    crate::pacing::DEFAULT_WARMUP_LIVE_ANSWERS
}

fn default_agentless_lines() -> u32 {
    10
}

fn default_ring() -> Duration {
    Duration::from_secs(25)
}

fn default_preview() -> Duration {
    Duration::from_secs(120)
}

fn default_skip_delay() -> Duration {
    Duration::from_secs(3600)
}

/// A specification the engine refuses, with what is wrong.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SpecError {
    /// The id is empty.
    #[error("a campaign needs an id")]
    NoId,
    /// Agentless mode without a flow, or a flow without agentless mode.
    #[error("campaign {0}: agentless mode needs a flow audience, and a flow audience needs agentless mode")]
    FlowMismatch(CampaignId),
    /// The calling window never opens.
    #[error("campaign {id}: {source}")]
    Window {
        /// The campaign.
        id: CampaignId,
        /// What is wrong.
        source: WindowError,
    },
    /// Pacing figures (profile, margin).
    #[error("campaign {id}: {source}")]
    Pacing {
        /// The campaign.
        id: CampaignId,
        /// What is wrong.
        source: PacerConfigError,
    },
    /// A figure that must be at least 1 is 0.
    #[error("campaign {id}: {field} must be at least 1")]
    Zero {
        /// The campaign.
        id: CampaignId,
        /// The field.
        field: &'static str,
    },
    /// A campaign with agents has no abandon message.
    #[error("campaign {0}: abandon_message (who called and a callback number) is required when agents take the calls")]
    NoAbandonMessage(CampaignId),
}

impl CampaignSpec {
    /// A progressive campaign for `queue` with every other field at its default.
    pub fn new(id: CampaignId, queue: QueueName, caller_id: E164, trunk: TrunkSpec) -> Self {
        Self {
            id,
            mode: DialMode::Progressive,
            audience: Audience::Agents {
                queue,
                skills: vec![],
            },
            profile: JurisdictionProfile::Us,
            abandon_message: Some(AbandonMessage {
                prompt: Some("abandoned".into()),
                text: None,
                language: None,
                callback_number: caller_id.clone(),
            }),
            caller_id,
            window: CallingWindow::default(),
            default_zone: None,
            dnc: BTreeSet::new(),
            max_attempts: default_max_attempts(),
            retry: CampaignRetry::default(),
            retry_abandoned: default_abandoned_retry(),
            retry_machine: None,
            max_dials_per_minute: default_rate(),
            trunk,
            min_agents_predictive: default_min_agents(),
            abandon_margin: default_margin(),
            warmup_resolved_dials: default_warmup_resolved(),
            warmup_live_answers: default_warmup_live(),
            agentless_lines: default_agentless_lines(),
            ring_timeout: default_ring(),
            preview_timeout: default_preview(),
            skip_delay: default_skip_delay(),
            amd: AmdSettings::default(),
            blend: BlendRule::default(),
        }
    }

    /// Checks the specification; the engine only runs checked ones.
    pub fn validate(&self) -> Result<(), SpecError> {
        let id = || self.id.clone();
        if self.id.as_str().trim().is_empty() {
            return Err(SpecError::NoId);
        }
        let agentless = self.mode == DialMode::Agentless;
        if agentless != matches!(self.audience, Audience::Flow { .. }) {
            return Err(SpecError::FlowMismatch(id()));
        }
        self.window
            .validate()
            .map_err(|source| SpecError::Window { id: id(), source })?;
        self.pacer_config()
            .validate()
            .map_err(|source| SpecError::Pacing { id: id(), source })?;
        let zero = |field| SpecError::Zero { id: id(), field };
        for (value, field) in [
            (self.max_attempts, "max_attempts"),
            (self.retry.max_attempts.unwrap_or(1), "retry.max_attempts"),
            (self.max_dials_per_minute, "max_dials_per_minute"),
            (self.trunk.channels, "trunk.channels"),
            (self.agentless_lines, "agentless_lines"),
        ] {
            if value == 0 {
                return Err(zero(field));
            }
        }
        if !agentless && self.abandon_message.is_none() {
            return Err(SpecError::NoAbandonMessage(id()));
        }
        Ok(())
    }

    /// The pacer's settings from this campaign's.
    pub fn pacer_config(&self) -> PacerConfig {
        PacerConfig {
            mode: self.mode,
            profile: self.profile.clone(),
            min_agents_predictive: self.min_agents_predictive,
            abandon_margin: self.abandon_margin,
            warmup_resolved_dials: self.warmup_resolved_dials,
            warmup_live_answers: self.warmup_live_answers,
            agentless_lines: self.agentless_lines,
            ..PacerConfig::default()
        }
    }

    /// A record's attempts in all: `max_attempts`, or `retry.max_attempts` when lower.
    pub fn attempt_limit(&self) -> u32 {
        self.retry
            .max_attempts
            .map_or(self.max_attempts, |m| m.min(self.max_attempts))
    }

    /// The ring timeout the driver applies: at least [`MIN_RING`].
    pub fn effective_ring_timeout(&self) -> Duration {
        self.ring_timeout.max(MIN_RING)
    }

    /// The agentless flow, if any.
    pub fn flow(&self) -> Option<&str> {
        match &self.audience {
            Audience::Flow { flow } => Some(flow),
            Audience::Agents { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spec_reads_from_json_with_defaults_and_is_checked() {
        let json = r#"{
            "id": "renewals", "mode": "predictive",
            "audience": {"agents": {"queue": "sales", "skills": ["english"]}},
            "profile": "uk", "caller_id": "+442071234567",
            "window": [{"days": "mon-fri", "start": "09:00", "end": "20:00"},
                       {"days": "sat", "start": "10:00", "end": "16:00"}],
            "dnc": ["+442079999999"],
            "retry": {"busy": {"delay": "5m", "max_attempts": 3}},
            "trunk": {"name": "carrier", "channels": 30},
            "amd": {"on_machine": "leave_message"},
            "abandon_message": {"prompt": "sorry", "callback_number": "+442071234567"}
        }"#;
        let spec: CampaignSpec = serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(spec.validate(), Ok(()));
        assert_eq!(spec.min_agents_predictive, 15);
        assert_eq!(spec.max_attempts, 5);
        assert_eq!(spec.amd.on_machine, AmdAction::LeaveMessage);
        assert_eq!(spec.amd.on_not_sure, AmdAction::PassToAgent);
        assert_eq!(spec.retry.busy.delay, Duration::from_secs(300));
        assert_eq!(spec.pacer_config().profile, JurisdictionProfile::Uk);
        let back = serde_json::to_string(&spec).unwrap_or_default();
        let again: CampaignSpec = serde_json::from_str(&back).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(again, spec);
    }

    #[test]
    fn an_abandon_message_may_speak_a_text_and_its_callback_number_must_be_e164() {
        let read = |message: &str| {
            let json = format!(
                r#"{{"id": "c", "mode": "progressive", "audience": {{"agents": {{"queue": "q"}}}},
                    "profile": "us", "caller_id": "+15550100000",
                    "trunk": {{"name": "t", "channels": 1}}, "abandon_message": {message}}}"#
            );
            serde_json::from_str::<CampaignSpec>(&json)
        };
        let spec = read(r#"{"text": "This is {company} calling.", "language": "en-US", "callback_number": "+1 555 010 0000"}"#)
            .unwrap_or_else(|e| panic!("{e}"));
        let message = spec
            .abandon_message
            .clone()
            .unwrap_or_else(|| panic!("no message"));
        assert_eq!(message.prompt, None);
        assert_eq!(message.text.as_deref(), Some("This is {company} calling."));
        assert_eq!(message.language.as_deref(), Some("en-US"));
        assert_eq!(message.callback_number.as_str(), "+15550100000");
        assert_eq!(spec.validate(), Ok(()));
        // What is left out stays out when written back (the journal keeps specs).
        let back = serde_json::to_value(&spec).unwrap_or_default();
        assert!(back["abandon_message"].get("prompt").is_none(), "{back}");
        for bad in ["020 7946 0000", "+0207946", "+1555abc", "+1234567890123456"] {
            let message = format!(r#"{{"prompt": "sorry", "callback_number": "{bad}"}}"#);
            let err = read(&message)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(err.contains("an E.164 number"), "{bad}: {err}");
        }
    }

    #[test]
    fn the_warm_up_reads_from_the_spec_into_the_pacer_with_defaults() {
        let read = |extra: &str| {
            let json = format!(
                r#"{{"id": "c", "mode": "predictive", "audience": {{"agents": {{"queue": "q"}}}},
                    "profile": "us", "caller_id": "+15550100000",
                    "trunk": {{"name": "t", "channels": 1}},
                    "abandon_message": {{"prompt": "sorry", "callback_number": "+15550100000"}}{extra}}}"#
            );
            serde_json::from_str::<CampaignSpec>(&json)
                .unwrap_or_else(|e| panic!("{e}"))
                .pacer_config()
        };
        let default = read("");
        assert_eq!(
            (default.warmup_resolved_dials, default.warmup_live_answers),
            (
                crate::pacing::DEFAULT_WARMUP_RESOLVED_DIALS,
                crate::pacing::DEFAULT_WARMUP_LIVE_ANSWERS
            )
        );
        let short = read(r#", "warmup_resolved_dials": 8, "warmup_live_answers": 2"#);
        assert_eq!(
            (short.warmup_resolved_dials, short.warmup_live_answers),
            (8, 2)
        );
    }

    fn base() -> CampaignSpec {
        let number = E164::parse("+15550100000").unwrap_or_else(|e| panic!("{e}"));
        CampaignSpec::new(
            CampaignId::new("c"),
            QueueName::new("q"),
            number,
            TrunkSpec {
                name: TrunkName::new("t"),
                channels: 10,
            },
        )
    }

    #[test]
    fn wrong_specs_are_refused_with_what_is_wrong() {
        assert_eq!(base().validate(), Ok(()));
        let mut s = base();
        s.mode = DialMode::Agentless;
        assert_eq!(s.validate(), Err(SpecError::FlowMismatch(s.id.clone())));
        s.audience = Audience::Flow {
            flow: "survey".into(),
        };
        s.abandon_message = None;
        assert_eq!(s.validate(), Ok(()));
        let mut s = base();
        s.trunk.channels = 0;
        assert!(matches!(
            s.validate(),
            Err(SpecError::Zero {
                field: "trunk.channels",
                ..
            })
        ));
        let mut s = base();
        s.window.spans.clear();
        assert!(matches!(s.validate(), Err(SpecError::Window { .. })));
        let mut s = base();
        s.abandon_margin = 1.5;
        assert!(matches!(s.validate(), Err(SpecError::Pacing { .. })));
        let mut s = base();
        s.abandon_message = None;
        assert!(matches!(s.validate(), Err(SpecError::NoAbandonMessage(_))));
        let mut s = base();
        s.id = CampaignId::new(" ");
        assert_eq!(s.validate(), Err(SpecError::NoId));
        let unknown = r#"{"id": "x", "bogus": 1}"#;
        assert!(serde_json::from_str::<CampaignSpec>(unknown).is_err());
    }
}
