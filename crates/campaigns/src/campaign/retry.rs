//! A campaign's retry section: the rule per SIP outcome and an optional limit on a record's
//! attempts whatever their outcomes (the lower of it and the campaign's `max_attempts` applies).

use serde::{Deserialize, Serialize};

use crate::config::{RetryPolicy, RetryRule};
use crate::outcome::OutcomeKind;

/// Retry rules per outcome of a campaign (answered and invalid numbers are never retried).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CampaignRetry {
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
    /// Give a record up after this many attempts whatever their outcomes, like the
    /// campaign's `max_attempts` (the lower applies); None: only `max_attempts`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_attempts: Option<u32>,
}

impl Default for CampaignRetry {
    /// The scheduler's default rules, with no limit of its own on the attempts.
    fn default() -> Self {
        let p = RetryPolicy::default();
        Self {
            busy: p.busy,
            no_answer: p.no_answer,
            rejected: p.rejected,
            network_failure: p.network_failure,
            unknown: p.unknown,
            max_attempts: None,
        }
    }
}

impl CampaignRetry {
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_retry_section_keeps_its_attempt_limit_only_when_given() {
        let read = |json: &str| {
            serde_json::from_str::<CampaignRetry>(json).unwrap_or_else(|e| panic!("{e}"))
        };
        let given = read(r#"{"busy": {"delay": "10m", "max_attempts": 3}, "max_attempts": 4}"#);
        assert_eq!(given.max_attempts, Some(4));
        assert_eq!(given.busy.delay, Duration::from_secs(600));
        assert_eq!(given.no_answer, RetryPolicy::default().no_answer);
        let plain = read(r#"{"busy": {"delay": "10m", "max_attempts": 3}}"#);
        assert_eq!(plain.max_attempts, None);
        let back = serde_json::to_value(plain).unwrap_or_default();
        assert!(back.get("max_attempts").is_none(), "{back}");
        assert!(serde_json::from_str::<CampaignRetry>(r#"{"bogus": 1}"#).is_err());
    }
}
