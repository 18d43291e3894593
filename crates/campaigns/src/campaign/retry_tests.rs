//! Retry rules per outcome, the retry section's own attempt limit and the retry of an
//! abandoned live answer.

use std::time::Duration;

use jiff::Timestamp;

use super::testutil::*;
use super::*;
use crate::config::RetryRule;
use crate::outcome::{DialOutcome, OutcomeKind};
use crate::pacing::{DialMode, JurisdictionProfile};
use crate::scheduler::NoDnc;
use crate::time::LocalTime;
use crate::window::{CallingWindow, Days, WindowSpan};

fn all_day(mut s: CampaignSpec) -> CampaignSpec {
    s.window = CallingWindow {
        spans: vec![WindowSpan {
            days: Days::DAILY,
            start: LocalTime::MIDNIGHT,
            end: LocalTime::END_OF_DAY,
        }],
    };
    s
}

/// Dials the one record whenever it is due and fails it with `kind`, until it is final;
/// returns the instants of its attempts and how it ended.
fn fail_until_final(s: CampaignSpec, kind: OutcomeKind) -> (Vec<Timestamp>, EntryState) {
    let mut e = engine_with(s, 1);
    let cap = capacity(1, vec![]);
    let mut now = t0();
    let mut attempts = vec![];
    for _ in 0..50 {
        let work = e.next_dials(now, &cap, &NoDnc);
        if let Some(Work::Dial(o)) = work.first() {
            attempts.push(now);
            let report = Command::Outcome {
                campaign: o.campaign.clone(),
                entry: o.entry,
                attempt: o.attempt,
                outcome: DialOutcome::of(kind),
            };
            e.handle(now, report, &NoDnc)
                .unwrap_or_else(|e| panic!("{e}"));
        }
        let state = e.entries(&cid())[0].state.clone();
        match state {
            EntryState::Pending { ready_at } => now = ready_at.max(now),
            other => return (attempts, other),
        }
    }
    panic!("never final: {attempts:?}");
}

fn gaps(at: &[Timestamp]) -> Vec<u64> {
    at.windows(2)
        .map(|w| w[1].duration_since(w[0]).as_secs() as u64)
        .collect()
}

const EXHAUSTED: EntryState = EntryState::GivenUp {
    reason: GiveUpReason::AttemptsExhausted,
};

#[test]
fn rejected_and_network_failures_follow_their_own_rules() {
    let mut s = all_day(spec(DialMode::Progressive));
    s.retry.rejected = RetryRule {
        delay: Duration::from_secs(4 * 3600),
        max_attempts: 2,
    };
    s.retry.network_failure = RetryRule {
        delay: Duration::from_secs(120),
        max_attempts: 4,
    };
    let (at, end) = fail_until_final(s.clone(), OutcomeKind::Rejected);
    assert_eq!((gaps(&at), end.clone()), (vec![4 * 3600], EXHAUSTED));
    let (at, end) = fail_until_final(s, OutcomeKind::NetworkFailure);
    assert_eq!((gaps(&at), end), (vec![120, 120, 120], EXHAUSTED));
}

#[test]
fn a_rules_limit_counts_the_attempts_with_its_outcome_and_1_or_0_never_retries() {
    for (limit, attempts) in [(0, 1), (1, 1), (2, 2), (3, 3)] {
        let mut s = all_day(spec(DialMode::Progressive));
        s.retry.busy = RetryRule {
            delay: Duration::from_secs(60),
            max_attempts: limit,
        };
        let (at, end) = fail_until_final(s, OutcomeKind::Busy);
        assert_eq!((at.len(), end), (attempts, EXHAUSTED), "limit {limit}");
    }
}

#[test]
fn the_retry_sections_attempt_limit_applies_when_lower_than_max_attempts() {
    let read = |retry: &str| {
        let json = format!(
            r#"{{"id": "renewals", "mode": "progressive", "audience": {{"agents": {{"queue": "sales"}}}},
                "profile": "us", "caller_id": "+15550100000", "max_attempts": 5,
                "window": [{{"days": "daily", "start": "00:00", "end": "24:00"}}],
                "retry": {retry}, "trunk": {{"name": "carrier", "channels": 10}},
                "abandon_message": {{"prompt": "sorry", "callback_number": "+15550100000"}}}}"#
        );
        serde_json::from_str::<CampaignSpec>(&json).unwrap_or_else(|e| panic!("{e}"))
    };
    let busy = r#""busy": {"delay": "1m", "max_attempts": 10}"#;
    let capped = read(&format!("{{{busy}, \"max_attempts\": 2}}"));
    assert_eq!(capped.validate(), Ok(()));
    assert_eq!(capped.attempt_limit(), 2);
    let (at, end) = fail_until_final(capped, OutcomeKind::Busy);
    assert_eq!((at.len(), end), (2, EXHAUSTED));
    let higher = read(&format!("{{{busy}, \"max_attempts\": 9}}"));
    assert_eq!(higher.attempt_limit(), 5);
    let (at, _) = fail_until_final(higher, OutcomeKind::Busy);
    assert_eq!(at.len(), 5);
    let zero = read(&format!("{{{busy}, \"max_attempts\": 0}}"));
    assert!(matches!(
        zero.validate(),
        Err(SpecError::Zero {
            field: "retry.max_attempts",
            ..
        })
    ));
}

#[test]
fn an_abandoned_live_answer_is_retried_by_default_after_the_uk_bar() {
    for (profile, gap) in [
        (JurisdictionProfile::Us, 3600),
        (JurisdictionProfile::Uk, 72 * 3600),
    ] {
        let mut s = all_day(spec(DialMode::Progressive));
        s.profile = profile.clone();
        let mut e = engine_with(s, 1);
        let cap = capacity(1, vec![]);
        let mut now = t0();
        let mut dialed = vec![];
        for _ in 0..10 {
            let work = e.next_dials(now, &cap, &NoDnc);
            if let Some(Work::Dial(o)) = work.first() {
                dialed.push(now);
                let (campaign, entry, attempt) = (o.campaign.clone(), o.entry, o.attempt);
                for c in [
                    Command::Outcome {
                        campaign: campaign.clone(),
                        entry,
                        attempt,
                        outcome: DialOutcome::of(OutcomeKind::Answered),
                    },
                    Command::Answered {
                        campaign: campaign.clone(),
                        entry,
                        attempt,
                        verdict: AnswerVerdict::Human,
                    },
                    Command::Abandoned {
                        campaign,
                        entry,
                        attempt,
                    },
                ] {
                    e.handle(now, c, &NoDnc).unwrap_or_else(|e| panic!("{e}"));
                }
            }
            match e.entries(&cid())[0].state.clone() {
                EntryState::Pending { ready_at } => now = ready_at.max(now),
                _ => break,
            }
        }
        // Retried twice, then given up once 3 attempts were abandoned.
        assert_eq!(gaps(&dialed), vec![gap, gap], "{profile:?}");
        assert_eq!(e.entries(&cid())[0].state, EXHAUSTED);
    }
}
