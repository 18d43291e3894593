//! The scheduler's configuration: queues (calling window, caller ID, ring timeout, pacing),
//! retry policy per outcome, deadline warnings, business calendars and sampling rules.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::calendar::BusinessCalendar;
use crate::ids::QueueName;
use crate::number::E164;
use crate::outcome::OutcomeKind;
use crate::sampling::{SamplingConfig, SamplingError};
use crate::time::{duration_text, durations_text};
use crate::window::{CallingWindow, WindowError};

/// The shortest ring before an attempt counts as not answered.
pub const MIN_RING: Duration = Duration::from_secs(15);

/// One queue's outbound settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueueSettings {
    /// The number the customer sees (None: the trunk's default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caller_id: Option<E164>,
    /// When its customers may be called, in their local time.
    #[serde(default)]
    pub window: CallingWindow,
    /// How long the customer's phone rings before the driver gives up; at least [`MIN_RING`].
    #[serde(default = "default_ring", with = "duration_text")]
    pub ring_timeout: Duration,
    /// At most this many dials start per minute (a sliding 60 s).
    #[serde(default = "default_rate")]
    pub max_dials_per_minute: u32,
}

fn default_ring() -> Duration {
    Duration::from_secs(30)
}

fn default_rate() -> u32 {
    30
}

impl Default for QueueSettings {
    fn default() -> Self {
        Self {
            caller_id: None,
            window: CallingWindow::default(),
            ring_timeout: default_ring(),
            max_dials_per_minute: default_rate(),
        }
    }
}

impl QueueSettings {
    /// The ring timeout the driver applies: the configured one, at least [`MIN_RING`].
    pub fn effective_ring_timeout(&self) -> Duration {
        self.ring_timeout.max(MIN_RING)
    }
}

/// How one outcome is retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetryRule {
    /// The wait before the next attempt (a longer Retry-After wins, up to a day).
    #[serde(with = "duration_text")]
    pub delay: Duration,
    /// Give up once this many attempts ended with this outcome, this one included: 3 allows
    /// two retries after it, 1 none (0 is read as 1: never retried).
    pub max_attempts: u32,
}

/// Retry rules per outcome (answered and invalid numbers are never retried).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetryPolicy {
    /// After a busy line.
    pub busy: RetryRule,
    /// After no answer.
    pub no_answer: RetryRule,
    /// After the customer declined.
    pub rejected: RetryRule,
    /// After a network or trunk failure.
    pub network_failure: RetryRule,
    /// After an attempt whose outcome was lost (crash).
    pub unknown: RetryRule,
    /// Give up after this many attempts whatever their outcomes.
    pub max_attempts: u32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        let rule = |mins: u64, max_attempts| RetryRule {
            delay: Duration::from_secs(mins * 60),
            max_attempts,
        };
        Self {
            busy: rule(10, 4),
            no_answer: rule(30, 4),
            rejected: rule(240, 2),
            network_failure: rule(2, 5),
            unknown: rule(15, 3),
            max_attempts: 6,
        }
    }
}

/// The longest Retry-After honoured.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(86_400);

impl RetryPolicy {
    /// The rule for `kind`; `None` for outcomes never retried.
    pub fn rule(&self, kind: OutcomeKind) -> Option<RetryRule> {
        match kind {
            OutcomeKind::Answered | OutcomeKind::InvalidNumber => None,
            OutcomeKind::Busy => Some(self.busy),
            OutcomeKind::NoAnswer => Some(self.no_answer),
            OutcomeKind::Rejected => Some(self.rejected),
            OutcomeKind::NetworkFailure => Some(self.network_failure),
            OutcomeKind::Unknown => Some(self.unknown),
        }
    }
}

/// The whole configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SchedulerConfig {
    /// Outbound settings per queue; a callback's queue must be listed.
    pub queues: BTreeMap<QueueName, QueueSettings>,
    /// Retry rules.
    pub retry: RetryPolicy,
    /// Lead times before a deadline at which a warning event is emitted (e.g. `[2h, 30m]`).
    #[serde(with = "durations_text")]
    pub warnings: Vec<Duration>,
    /// How many priority points a callback gains over its due window (see
    /// [`crate::due::effective_priority`]).
    pub priority_ramp: i32,
    /// Give a callback up this long after its deadline (None: keep trying while attempts remain).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "option_duration"
    )]
    pub give_up_after_deadline: Option<Duration>,
    /// A claim not answered (agent reserved or not) within this is released.
    #[serde(with = "duration_text")]
    pub claim_timeout: Duration,
    /// An attempt whose outcome is not reported within its ring timeout plus this becomes
    /// `unknown`.
    #[serde(with = "duration_text")]
    pub outcome_grace: Duration,
    /// Business calendars by name, for working-day deadlines.
    pub calendars: BTreeMap<String, BusinessCalendar>,
    /// The calendar a working-day deadline uses when it names none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_calendar: Option<String>,
    /// Sampling rules.
    pub sampling: SamplingConfig,
}

mod option_duration {
    use super::*;
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => duration_text::serialize(d, s),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        let text = Option::<String>::deserialize(d)?;
        text.map(|t| {
            crate::time::parse_duration(&t)
                .ok_or_else(|| serde::de::Error::custom(format!("not a duration: {t:?}")))
        })
        .transpose()
    }
}

impl Default for SchedulerConfig {
    fn default() -> Self {
        Self {
            queues: BTreeMap::new(),
            retry: RetryPolicy::default(),
            warnings: vec![Duration::from_secs(7200)],
            priority_ramp: 10,
            give_up_after_deadline: Some(Duration::from_secs(3 * 86_400)),
            claim_timeout: Duration::from_secs(60),
            outcome_grace: Duration::from_secs(60),
            calendars: BTreeMap::new(),
            default_calendar: None,
            sampling: SamplingConfig::default(),
        }
    }
}

/// A configuration the scheduler refuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// A queue's calling window never opens.
    #[error("queue {queue}: {source}")]
    Window {
        /// The queue.
        queue: QueueName,
        /// What is wrong.
        source: WindowError,
    },
    /// A queue allows no dials per minute.
    #[error("queue {0}: max_dials_per_minute must be at least 1")]
    NoRate(QueueName),
    /// A sampling rule is wrong.
    #[error(transparent)]
    Sampling(#[from] SamplingError),
    /// The default calendar is not defined.
    #[error("default_calendar {0:?} is not among the calendars")]
    UnknownCalendar(String),
    /// A calendar has no working weekday and no make-up day.
    #[error("calendar {0:?} has no working day")]
    CalendarNeverWorks(String),
}

impl SchedulerConfig {
    /// Checks the configuration; the scheduler only runs on a checked one.
    pub fn validate(&self) -> Result<(), ConfigError> {
        for (queue, settings) in &self.queues {
            settings
                .window
                .validate()
                .map_err(|source| ConfigError::Window {
                    queue: queue.clone(),
                    source,
                })?;
            if settings.max_dials_per_minute == 0 {
                return Err(ConfigError::NoRate(queue.clone()));
            }
        }
        self.sampling.validate()?;
        if let Some(name) = &self.default_calendar {
            if !self.calendars.contains_key(name) {
                return Err(ConfigError::UnknownCalendar(name.clone()));
            }
        }
        for (name, cal) in &self.calendars {
            if cal.weekdays.is_empty() && cal.working_days.is_empty() {
                return Err(ConfigError::CalendarNeverWorks(name.clone()));
            }
        }
        Ok(())
    }

    /// The warning lead times, longest first.
    pub(crate) fn sorted_warnings(&self) -> Vec<Duration> {
        let mut leads = self.warnings.clone();
        leads.sort_unstable_by(|a, b| b.cmp(a));
        leads.dedup();
        leads
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configuration_reads_from_json_with_text_durations() {
        let json = r#"{
            "queues": {"support": {"caller_id": "+861088880000", "ring_timeout": "10s",
                                   "window": [{"days": "mon-fri", "start": "09:00", "end": "21:00"}],
                                   "max_dials_per_minute": 12}},
            "warnings": ["2h", "30m"],
            "retry": {"busy": {"delay": "5m", "max_attempts": 3}},
            "calendars": {"cn": {"time_zone": "Asia/Shanghai", "holidays": ["2026-10-01"]}},
            "default_calendar": "cn",
            "sampling": {"seed": 9, "rules": [{"name": "major", "match": {"attributes": {"severity": "major"}}, "percent": 100}]}
        }"#;
        let config: SchedulerConfig = serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(config.validate(), Ok(()));
        let support = &config.queues[&QueueName::new("support")];
        // 10 s is raised to the 15 s minimum ring.
        assert_eq!(support.effective_ring_timeout(), MIN_RING);
        assert_eq!(config.retry.busy.delay, Duration::from_secs(300));
        assert_eq!(config.retry.no_answer, RetryPolicy::default().no_answer);
        assert_eq!(config.sorted_warnings()[0], Duration::from_secs(7200));
        let back = serde_json::to_string(&config).unwrap_or_default();
        let again: SchedulerConfig = serde_json::from_str(&back).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(again, config);
    }

    #[test]
    fn bad_configurations_are_refused() {
        let config = SchedulerConfig {
            default_calendar: Some("nope".into()),
            ..SchedulerConfig::default()
        };
        assert!(matches!(
            config.validate(),
            Err(ConfigError::UnknownCalendar(_))
        ));
        let mut config = SchedulerConfig::default();
        config.queues.insert(
            QueueName::new("q"),
            QueueSettings {
                max_dials_per_minute: 0,
                ..QueueSettings::default()
            },
        );
        assert!(matches!(config.validate(), Err(ConfigError::NoRate(_))));
        let unknown = r#"{"queues": {}, "bogus": 1}"#;
        assert!(serde_json::from_str::<SchedulerConfig>(unknown).is_err());
    }
}
