//! The survey answers of agentless campaigns, per customer record: a dialplan `survey` node on
//! a campaign call writes `survey.answered`, then `survey.completed` or `survey.skipped`, each
//! naming the campaign, the entry and the attempt. The campaign's driver keeps them in a
//! [`SurveyBook`] from the call's reports while it runs, and rebuilds the book from the same
//! events on restart (the recovery projection keeps the survey events of the campaigns it
//! keeps, so journal retention loses none).

use std::collections::BTreeMap;

use hotline_events::{Event, EventKind, SurveySkipReason};
use serde::Serialize;

/// One thing a campaign call's survey did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SurveyNote {
    /// A question was answered.
    Answered {
        /// The survey's name.
        survey: String,
        /// 0-based index of the question.
        question: u32,
        /// The key pressed.
        score: u8,
    },
    /// The survey ended.
    Ended {
        /// The survey's name.
        survey: String,
        /// Questions answered.
        answered: u32,
        /// Completed, or skipped and why.
        outcome: SurveyOutcome,
    },
}

/// How a survey ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SurveyOutcome {
    /// Every question was answered.
    Completed,
    /// A question got no valid key within its attempts.
    NoAnswer,
    /// The customer hung up before the end.
    CallerHungUp,
}

impl SurveyOutcome {
    /// The outcome of a skip.
    pub fn skipped(reason: SurveySkipReason) -> Self {
        match reason {
            SurveySkipReason::NoAnswer => SurveyOutcome::NoAnswer,
            SurveySkipReason::CallerHungUp => SurveyOutcome::CallerHungUp,
        }
    }

    /// The word written in the API's `outcome` (`completed` or `skipped`).
    pub fn word(self) -> &'static str {
        match self {
            SurveyOutcome::Completed => "completed",
            SurveyOutcome::NoAnswer | SurveyOutcome::CallerHungUp => "skipped",
        }
    }

    /// Why it was skipped (`no_answer`, `caller_hung_up`); `None` when completed.
    pub fn reason(self) -> Option<&'static str> {
        match self {
            SurveyOutcome::Completed => None,
            SurveyOutcome::NoAnswer => Some("no_answer"),
            SurveyOutcome::CallerHungUp => Some("caller_hung_up"),
        }
    }
}

/// Which campaign call a survey event belongs to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct SurveyKey {
    /// The campaign.
    pub campaign: String,
    /// The entry (the customer's record).
    pub entry: u64,
    /// The attempt (1 = the first).
    pub attempt: u32,
}

/// The survey of one attempt of one record.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SurveyResult {
    /// The survey's name.
    pub survey: String,
    /// Scores by 0-based question index.
    pub answers: BTreeMap<u32, u8>,
    /// How it ended; `None` while it runs (or when the stop cut it).
    pub outcome: Option<SurveyOutcome>,
}

/// A campaign's survey counts: `stats.surveys` of `GET /api/v1/campaigns/{id}`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct SurveyCounts {
    /// Surveys every question of which was answered.
    pub completed: u64,
    /// Surveys that ended early (no valid key, or the customer hung up).
    pub skipped: u64,
    /// Answers given (in completed and skipped surveys).
    pub answers: u64,
}

/// Every campaign call's survey, by campaign, entry and attempt.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SurveyBook {
    results: BTreeMap<SurveyKey, SurveyResult>,
}

impl SurveyBook {
    /// Records what a campaign call's survey did.
    pub fn note(&mut self, key: SurveyKey, note: SurveyNote) {
        match note {
            SurveyNote::Answered {
                survey,
                question,
                score,
            } => {
                let result = self.results.entry(key).or_default();
                result.survey = survey;
                result.answers.insert(question, score);
            }
            SurveyNote::Ended {
                survey, outcome, ..
            } => {
                let result = self.results.entry(key).or_default();
                result.survey = survey;
                result.outcome = Some(outcome);
            }
        }
    }

    /// Records a journal event if it is a campaign call's survey event.
    pub fn apply(&mut self, event: &Event) {
        if let Some((key, note)) = from_event(event) {
            self.note(key, note);
        }
    }

    /// The counts of one campaign.
    pub fn counts(&self, campaign: &str) -> SurveyCounts {
        let mut counts = SurveyCounts::default();
        for (_, result) in self.of(campaign) {
            counts.answers += result.answers.len() as u64;
            match result.outcome {
                Some(SurveyOutcome::Completed) => counts.completed += 1,
                Some(_) => counts.skipped += 1,
                None => {}
            }
        }
        counts
    }

    /// One campaign's surveys by (entry, attempt), in that order.
    pub fn of<'a>(
        &'a self,
        campaign: &'a str,
    ) -> impl Iterator<Item = (&'a SurveyKey, &'a SurveyResult)> + 'a {
        self.results
            .iter()
            .filter(move |(k, _)| k.campaign == campaign)
    }
}

/// The campaign call and what its survey did, for a `survey.*` event that names a campaign
/// and an entry; `None` for every other event.
pub fn from_event(event: &Event) -> Option<(SurveyKey, SurveyNote)> {
    let (campaign, entry, attempt, note) = match &event.kind {
        EventKind::SurveyAnswered {
            survey,
            question,
            score,
            campaign,
            entry,
            attempt,
        } => (
            campaign,
            entry,
            attempt,
            SurveyNote::Answered {
                survey: survey.clone(),
                question: *question,
                score: *score,
            },
        ),
        EventKind::SurveyCompleted {
            survey,
            answered,
            campaign,
            entry,
            attempt,
        } => (
            campaign,
            entry,
            attempt,
            SurveyNote::Ended {
                survey: survey.clone(),
                answered: *answered,
                outcome: SurveyOutcome::Completed,
            },
        ),
        EventKind::SurveySkipped {
            survey,
            answered,
            reason,
            campaign,
            entry,
            attempt,
        } => (
            campaign,
            entry,
            attempt,
            SurveyNote::Ended {
                survey: survey.clone(),
                answered: *answered,
                outcome: SurveyOutcome::skipped(*reason),
            },
        ),
        _ => return None,
    };
    let key = SurveyKey {
        campaign: campaign.clone()?,
        entry: (*entry)?,
        attempt: attempt.unwrap_or(1),
    };
    Some((key, note))
}

/// The campaign a journal event's survey belongs to, if it is a campaign call's survey event.
pub fn campaign_of(event: &Event) -> Option<&str> {
    match &event.kind {
        EventKind::SurveyAnswered { campaign, .. }
        | EventKind::SurveyCompleted { campaign, .. }
        | EventKind::SurveySkipped { campaign, .. } => campaign.as_deref(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hotline_events::EventDraft;
    use uuid::Uuid;

    fn event(kind: EventKind) -> Event {
        let ts = hotline_events::Timestamp::now();
        EventDraft::new(kind)
            .call(Uuid::from_u128(7))
            .into_event(Uuid::nil(), 1, ts, "n")
    }

    /// A record's row: entry, answers (question, score), outcome.
    type Row = (u64, Vec<(u32, u8)>, Option<SurveyOutcome>);

    fn answered(campaign: Option<&str>, entry: u64, question: u32, score: u8) -> Event {
        event(EventKind::SurveyAnswered {
            survey: "csat".into(),
            question,
            score,
            campaign: campaign.map(str::to_owned),
            entry: Some(entry),
            attempt: Some(1),
        })
    }

    #[test]
    fn a_campaigns_answers_and_outcomes_are_kept_per_record_and_counted() {
        let mut book = SurveyBook::default();
        for e in [
            answered(Some("sat"), 0, 0, 4),
            answered(Some("sat"), 0, 1, 2),
            event(EventKind::SurveyCompleted {
                survey: "csat".into(),
                answered: 2,
                campaign: Some("sat".into()),
                entry: Some(0),
                attempt: Some(1),
            }),
            answered(Some("sat"), 1, 0, 5),
            event(EventKind::SurveySkipped {
                survey: "csat".into(),
                answered: 1,
                reason: SurveySkipReason::CallerHungUp,
                campaign: Some("sat".into()),
                entry: Some(1),
                attempt: Some(1),
            }),
            // Another campaign's, and a post-call survey's (no campaign): not this one's.
            answered(Some("other"), 0, 0, 1),
            answered(None, 0, 0, 3),
        ] {
            book.apply(&e);
        }
        assert_eq!(
            book.counts("sat"),
            SurveyCounts {
                completed: 1,
                skipped: 1,
                answers: 3
            }
        );
        let rows: Vec<Row> = book
            .of("sat")
            .map(|(k, r)| {
                (
                    k.entry,
                    r.answers.iter().map(|(q, s)| (*q, *s)).collect(),
                    r.outcome,
                )
            })
            .collect();
        assert_eq!(
            rows,
            [
                (0, vec![(0, 4), (1, 2)], Some(SurveyOutcome::Completed)),
                (1, vec![(0, 5)], Some(SurveyOutcome::CallerHungUp)),
            ]
        );
        assert_eq!(book.counts("other").answers, 1);
        assert_eq!(book.counts("none"), SurveyCounts::default());
        assert_eq!(campaign_of(&answered(None, 0, 0, 3)), None);
        assert_eq!(campaign_of(&answered(Some("sat"), 0, 0, 3)), Some("sat"));
    }
}
