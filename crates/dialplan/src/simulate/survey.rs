//! A survey node in a simulated call: the survey's own machine runs with the caller's keys
//! given in advance (a missing key lets the question time out), each prompt heard to its end.

use std::collections::VecDeque;
use std::time::Instant;

use super::{Step, Walk, MAX_INPUTS};
use crate::model::Dialplan;
use crate::survey::{SurveyAction, SurveyEnd, SurveyInput, SurveyRun};

impl Walk {
    /// Runs survey `name` of `plan` and says how it ended; `now` moves by its timeouts.
    pub(super) fn run_survey(
        &mut self,
        plan: &Dialplan,
        name: &str,
        language: Option<String>,
        keys: &mut VecDeque<Option<char>>,
        now: &mut Instant,
    ) -> SurveyEnd {
        let Some(survey) = plan.survey(name) else {
            return SurveyEnd::NoAnswer;
        };
        let mut run = SurveyRun::start(survey.clone());
        let mut end = SurveyEnd::NoAnswer;
        let mut playing = false;
        for _ in 0..MAX_INPUTS {
            while let Some(action) = run.poll_action() {
                match action {
                    SurveyAction::Play(prompt) => {
                        playing = true;
                        self.steps.push(Step::Play {
                            prompt,
                            language: language.clone(),
                        });
                    }
                    SurveyAction::StopPlayback => playing = false,
                    SurveyAction::Answered { question, score } => {
                        self.steps.push(Step::SurveyAnswer {
                            survey: name.to_owned(),
                            question,
                            score,
                        })
                    }
                    SurveyAction::Ended { end: how, answered } => {
                        end = how;
                        self.steps.push(Step::SurveyEnded {
                            survey: name.to_owned(),
                            end: how,
                            answered,
                        });
                    }
                    SurveyAction::HangUp => {}
                }
            }
            if run.is_finished() {
                break;
            }
            if playing {
                playing = false;
                run.handle(*now, SurveyInput::PlaybackFinished);
            } else if let Some(deadline) = run.poll_timeout() {
                match keys.pop_front() {
                    Some(Some(key)) => run.handle(*now, SurveyInput::Digit(key)),
                    Some(None) | None => {
                        *now = deadline;
                        run.handle_timeout(*now);
                    }
                }
            } else {
                break;
            }
        }
        end
    }
}
