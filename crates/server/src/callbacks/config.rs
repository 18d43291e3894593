//! The `callbacks:` section of the configuration: the outbound scheduler's settings
//! ([`SchedulerConfig`]: per-queue caller ID, calling window, ring timeout and pacing; retry
//! policy; deadline warnings; priority ramp; business calendars; sampling) plus `dnc_file`,
//! the do-not-call list.

use std::collections::BTreeSet;
use std::path::PathBuf;

use hotline_campaigns::SchedulerConfig;
use serde::{Deserialize, Deserializer};

/// The `callbacks:` section, read once at start.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CallbacksSettings {
    /// The scheduler's configuration; its queues are the ones scheduled callbacks may name.
    pub scheduler: SchedulerConfig,
    /// A text file of E.164 numbers never to call, one per line (`#` starts a comment). Numbers
    /// added or removed through the API are written to it. None: `dnc.txt` in the data folder.
    pub dnc_file: Option<PathBuf>,
}

impl<'de> Deserialize<'de> for CallbacksSettings {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // `SchedulerConfig` refuses unknown fields, so `dnc_file` is taken out before it reads
        // the rest (serde's flatten cannot be combined with deny_unknown_fields).
        let mut map = serde_json::Map::<String, serde_json::Value>::deserialize(deserializer)?;
        let dnc_file = match map.remove("dnc_file") {
            None | Some(serde_json::Value::Null) => None,
            Some(serde_json::Value::String(path)) => Some(PathBuf::from(path)),
            Some(other) => {
                return Err(serde::de::Error::custom(format!(
                    "callbacks.dnc_file: expected a path, found {other}"
                )))
            }
        };
        let scheduler = serde_json::from_value(serde_json::Value::Object(map))
            .map_err(|e| serde::de::Error::custom(format!("callbacks: {e}")))?;
        Ok(Self {
            scheduler,
            dnc_file,
        })
    }
}

/// A `callbacks:` section that cannot run.
#[derive(Debug, thiserror::Error)]
pub enum CallbacksConfigError {
    /// The scheduler refused its settings.
    #[error("callbacks: {0}")]
    Scheduler(#[from] hotline_campaigns::ConfigError),
    /// A queue under `callbacks.queues` is not among the configured queues.
    #[error("callbacks.queues: {0} is not a configured queue")]
    UnknownQueue(String),
    /// The do-not-call file cannot be read.
    #[error("callbacks.dnc_file: {0}")]
    Dnc(#[from] super::dnc::DncError),
}

impl CallbacksSettings {
    /// Checks the section against the configured queues, and reads the do-not-call file.
    pub fn validate(&self, queues: &BTreeSet<String>) -> Result<(), CallbacksConfigError> {
        self.scheduler.validate()?;
        if let Some(queue) = self
            .scheduler
            .queues
            .keys()
            .find(|q| !queues.contains(q.as_str()))
        {
            return Err(CallbacksConfigError::UnknownQueue(queue.to_string()));
        }
        if let Some(path) = &self.dnc_file {
            super::dnc::DncList::load(path, true)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn parse(yaml: &str) -> Result<CallbacksSettings, String> {
        serde_saphyr::from_str(yaml).map_err(|e| e.to_string())
    }

    #[test]
    fn the_section_reads_scheduler_settings_and_the_dnc_file() {
        let settings = parse(
            r#"
dnc_file: /var/lib/hotline/dnc.txt
queues:
  support:
    caller_id: "+861088880000"
    window: [{days: mon-fri, start: "09:00", end: "21:00"}]
    ring_timeout: 25s
    max_dials_per_minute: 12
retry:
  busy: {delay: 5m, max_attempts: 3}
warnings: [2h, 30m]
priority_ramp: 20
calendars:
  cn: {time_zone: Asia/Shanghai, holidays: ["2026-10-01"]}
default_calendar: cn
"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            settings.dnc_file,
            Some(PathBuf::from("/var/lib/hotline/dnc.txt"))
        );
        let support = &settings.scheduler.queues[&hotline_campaigns::QueueName::new("support")];
        assert_eq!(support.ring_timeout, Duration::from_secs(25));
        assert_eq!(support.max_dials_per_minute, 12);
        assert_eq!(settings.scheduler.retry.busy.max_attempts, 3);
        assert_eq!(settings.scheduler.priority_ramp, 20);
        assert_eq!(settings.scheduler.default_calendar.as_deref(), Some("cn"));
        let queues: BTreeSet<String> = ["support".to_string()].into();
        assert!(
            settings.validate(&queues).is_err(),
            "the dnc file is missing"
        );
        let without_file = CallbacksSettings {
            dnc_file: None,
            ..settings
        };
        assert!(without_file.validate(&queues).is_ok());
        let err = without_file
            .validate(&BTreeSet::new())
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some("callbacks.queues: support is not a configured queue")
        );
    }

    #[test]
    fn unknown_keys_and_bad_values_are_refused_with_their_name() {
        let err = parse("bogus: 1\n").err().unwrap_or_default();
        assert!(err.contains("bogus"), "{err}");
        let err = parse("queues: {q: {ring_timeout: soon}}\n")
            .err()
            .unwrap_or_default();
        assert!(err.contains("soon"), "{err}");
        let err = parse("dnc_file: [1]\n").err().unwrap_or_default();
        assert!(err.contains("dnc_file"), "{err}");
        let never = parse("queues: {q: {window: []}}\n").unwrap_or_else(|e| panic!("{e}"));
        let queues: BTreeSet<String> = ["q".to_string()].into();
        assert!(matches!(
            never.validate(&queues),
            Err(CallbacksConfigError::Scheduler(_))
        ));
    }
}
