//! The `survey` node: the executor hands the named survey to the server, which runs it on the
//! caller with a [`crate::SurveyRun`] (the same machine as the post-call survey), and waits for
//! its end. A completed survey goes on at `next`, a skipped one at `on_skipped`; without them
//! the call is hung up, as after the post-call survey.

use std::time::{Duration, Instant};

use super::{HangupReason, Ivr, IvrAction, IvrOutcome, IvrTimer, State};
use crate::model::{HangupCause, NodeKind, SurveyNode};
use crate::survey::{Survey, SurveyEnd};

impl Ivr {
    /// Asks the server to run the node's survey. False: the survey is not in the plan (the
    /// loader rules that out).
    pub(super) fn survey_start(&mut self, now: Instant, node: &SurveyNode) -> bool {
        let Some(survey) = self.plan.survey(&node.survey) else {
            return false;
        };
        let guard = longest_run(survey);
        self.actions.push_back(IvrAction::Survey {
            node: self.node.clone(),
            survey: node.survey.clone(),
            language: self.attributes.language.clone(),
        });
        self.timer = Some((now + guard, IvrTimer::SurveyGuard));
        self.state = State::Survey;
        true
    }

    /// The server's survey ended (or its guard ran out: skipped).
    pub(super) fn survey_finished(&mut self, now: Instant, end: SurveyEnd) {
        if self.state != State::Survey {
            return;
        }
        self.timer = None;
        let Some(NodeKind::Survey(node)) = self.current().map(|n| n.kind) else {
            return self.broken();
        };
        let target = match end {
            SurveyEnd::Completed => node.next,
            SurveyEnd::NoAnswer => node.on_skipped,
            SurveyEnd::CallerHungUp => return self.finish(IvrOutcome::CallerHungUp),
        };
        match target {
            Some(target) => self.goto(now, target),
            None => self.hang_up(HangupReason::SurveyEnded, HangupCause::Normal),
        }
    }
}

/// The longest a survey can run: every prompt played up to the playback guard, every wait
/// for a key used up, on every attempt.
fn longest_run(survey: &Survey) -> Duration {
    let attempts = survey.retries.saturating_add(1);
    let questions = u32::try_from(survey.questions.len()).unwrap_or(u32::MAX);
    let asked = questions.saturating_mul(attempts);
    // Each attempt plays its question and maybe the invalid prompt; plus intro and thanks.
    let plays = asked.saturating_mul(2).saturating_add(2);
    Ivr::PLAYBACK_GUARD
        .saturating_mul(plays)
        .saturating_add(survey.timeout.saturating_mul(asked))
}
