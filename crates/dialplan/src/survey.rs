//! Post-call satisfaction surveys: the definition (top-level `surveys:`) and the pure machine
//! that runs one on the caller's leg once the agent has hung up.
//!
//! The machine takes the caller's digits, the end of each prompt and its timer, and returns
//! [`SurveyAction`]s: prompts to play, each answer, and one outcome (completed or skipped).
//! Like the IVR executor it never reads the clock: `now` is an argument.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// A named survey: questions asked one after another, each answered with one digit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Survey {
    /// Played once before the first question (e.g. "please stay on the line"), if given.
    pub intro: Option<String>,
    /// The questions, in order.
    pub questions: Vec<SurveyQuestion>,
    /// How long to wait for a digit once a question's prompt has finished.
    pub timeout: Duration,
    /// Extra attempts per question after a timeout or a digit out of range.
    pub retries: u32,
    /// Played after a digit out of range, before the question again, if given.
    pub invalid: Option<String>,
    /// Played once every question is answered, before hotline hangs up, if given.
    pub thanks: Option<String>,
}

/// One question of a survey.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SurveyQuestion {
    /// The question's prompt (a digit interrupts it).
    pub prompt: String,
    /// Lowest accepted score (a digit 0-9).
    pub min: u8,
    /// Highest accepted score (a digit 0-9, at least `min`).
    pub max: u8,
}

/// Default survey `timeout`.
pub const DEFAULT_SURVEY_TIMEOUT: Duration = Duration::from_secs(5);
/// Default survey `retries`.
pub const DEFAULT_SURVEY_RETRIES: u32 = 1;
/// Default lowest score of a question.
pub const DEFAULT_SURVEY_MIN: u8 = 1;
/// Default highest score of a question.
pub const DEFAULT_SURVEY_MAX: u8 = 5;

impl Survey {
    /// Every prompt the survey may play, in order, without repeats.
    pub fn prompts(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        let all = self
            .intro
            .iter()
            .chain(self.questions.iter().map(|q| &q.prompt))
            .chain(self.invalid.iter())
            .chain(self.thanks.iter());
        for prompt in all {
            if !out.contains(&prompt.as_str()) {
                out.push(prompt);
            }
        }
        out
    }
}

/// What the survey machine is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SurveyInput {
    /// The caller pressed a key.
    Digit(char),
    /// The prompt last asked for has finished playing.
    PlaybackFinished,
    /// The caller hung up.
    Hangup,
}

/// Why a survey ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SurveyEnd {
    /// Every question was answered.
    Completed,
    /// A question got no valid digit within its attempts.
    NoAnswer,
    /// The caller hung up before the end.
    CallerHungUp,
}

/// What the server does for the survey.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SurveyAction {
    /// Play this prompt once; [`SurveyInput::PlaybackFinished`] is expected after it.
    Play(String),
    /// Stop the prompt playing (the caller answered over it).
    StopPlayback,
    /// The caller answered a question.
    Answered {
        /// 0-based index of the question.
        question: u32,
        /// The score (the digit pressed).
        score: u8,
    },
    /// The survey's outcome, given once.
    Ended {
        /// How it ended.
        end: SurveyEnd,
        /// Questions answered.
        answered: u32,
    },
    /// Nothing more to play: hang up the caller.
    HangUp,
}

/// Where the machine is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    /// Playing the intro.
    Intro,
    /// Playing the current question's prompt (a digit interrupts it).
    Asking,
    /// Waiting for a digit after the question, until the deadline.
    Waiting(Instant),
    /// Playing the invalid-answer prompt, then the question again.
    Invalid,
    /// Playing the thanks prompt, then hanging up.
    Thanks,
    /// Over.
    Done,
}

/// One survey being run on one call.
#[derive(Debug, Clone)]
pub struct SurveyRun {
    survey: Survey,
    step: Step,
    question: usize,
    attempts_left: u32,
    answered: u32,
    actions: VecDeque<SurveyAction>,
}

impl SurveyRun {
    /// Starts `survey`: its first action plays the intro or the first question. A survey
    /// without questions ends at once as completed.
    pub fn start(survey: Survey) -> Self {
        let mut run = Self {
            attempts_left: survey.retries,
            survey,
            step: Step::Intro,
            question: 0,
            answered: 0,
            actions: VecDeque::new(),
        };
        match run.survey.intro.clone() {
            Some(intro) => run.actions.push_back(SurveyAction::Play(intro)),
            None => run.ask(),
        }
        run
    }

    /// The survey being run.
    pub fn survey(&self) -> &Survey {
        &self.survey
    }

    /// Whether the survey is over (its outcome and hang-up were given).
    pub fn is_finished(&self) -> bool {
        self.step == Step::Done
    }

    /// The next action to carry out, until `None`.
    pub fn poll_action(&mut self) -> Option<SurveyAction> {
        self.actions.pop_front()
    }

    /// When [`SurveyRun::handle_timeout`] is due, if a question is waiting for a digit.
    pub fn poll_timeout(&self) -> Option<Instant> {
        match self.step {
            Step::Waiting(at) => Some(at),
            _ => None,
        }
    }

    /// Feeds one input.
    pub fn handle(&mut self, now: Instant, input: SurveyInput) {
        match (input, self.step) {
            (_, Step::Done) => {}
            (SurveyInput::Hangup, _) => {
                if self.step != Step::Thanks {
                    self.end(SurveyEnd::CallerHungUp);
                }
                self.step = Step::Done;
            }
            (SurveyInput::PlaybackFinished, Step::Intro) => self.ask(),
            (SurveyInput::PlaybackFinished, Step::Asking) => {
                self.step = Step::Waiting(now + self.survey.timeout);
            }
            (SurveyInput::PlaybackFinished, Step::Invalid) => self.ask(),
            (SurveyInput::PlaybackFinished, Step::Thanks) => self.hang_up(),
            (SurveyInput::PlaybackFinished, Step::Waiting(_)) => {}
            (SurveyInput::Digit(digit), Step::Asking | Step::Waiting(_)) => {
                if self.step == Step::Asking {
                    self.actions.push_back(SurveyAction::StopPlayback);
                }
                self.digit(digit);
            }
            // Keys pressed over the intro, the invalid prompt or the thanks are dropped.
            (SurveyInput::Digit(_), _) => {}
        }
    }

    /// The wait for a digit ran out: a missed attempt.
    pub fn handle_timeout(&mut self, now: Instant) {
        if let Step::Waiting(at) = self.step {
            if now >= at {
                self.missed(false);
            }
        }
    }

    fn digit(&mut self, digit: char) {
        let Some(q) = self.survey.questions.get(self.question) else {
            return;
        };
        let score = digit
            .to_digit(10)
            .and_then(|d| u8::try_from(d).ok())
            .filter(|s| (q.min..=q.max).contains(s));
        match score {
            Some(score) => {
                self.actions.push_back(SurveyAction::Answered {
                    question: u32::try_from(self.question).unwrap_or(u32::MAX),
                    score,
                });
                self.answered += 1;
                self.question += 1;
                self.attempts_left = self.survey.retries;
                self.ask();
            }
            None => self.missed(true),
        }
    }

    /// A timeout or a digit out of range: try the question again, or give up.
    fn missed(&mut self, bad_digit: bool) {
        if self.attempts_left == 0 {
            self.end(SurveyEnd::NoAnswer);
            self.hang_up();
            return;
        }
        self.attempts_left -= 1;
        match self.survey.invalid.clone().filter(|_| bad_digit) {
            Some(invalid) => {
                self.actions.push_back(SurveyAction::Play(invalid));
                self.step = Step::Invalid;
            }
            None => self.ask(),
        }
    }

    /// Asks the current question, or ends the survey once every question was answered.
    fn ask(&mut self) {
        match self.survey.questions.get(self.question) {
            Some(q) => {
                self.actions.push_back(SurveyAction::Play(q.prompt.clone()));
                self.step = Step::Asking;
            }
            None => {
                self.end(SurveyEnd::Completed);
                match self.survey.thanks.clone() {
                    Some(thanks) => {
                        self.actions.push_back(SurveyAction::Play(thanks));
                        self.step = Step::Thanks;
                    }
                    None => self.hang_up(),
                }
            }
        }
    }

    fn end(&mut self, end: SurveyEnd) {
        self.actions.push_back(SurveyAction::Ended {
            end,
            answered: self.answered,
        });
    }

    fn hang_up(&mut self) {
        self.actions.push_back(SurveyAction::HangUp);
        self.step = Step::Done;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn csat(questions: usize) -> Survey {
        Survey {
            intro: Some("survey_intro".into()),
            questions: (0..questions)
                .map(|i| SurveyQuestion {
                    prompt: format!("survey_q{i}"),
                    min: 1,
                    max: 5,
                })
                .collect(),
            timeout: Duration::from_secs(5),
            retries: 1,
            invalid: Some("survey_invalid".into()),
            thanks: Some("survey_thanks".into()),
        }
    }

    fn drain(run: &mut SurveyRun) -> Vec<SurveyAction> {
        std::iter::from_fn(|| run.poll_action()).collect()
    }

    fn play(p: &str) -> SurveyAction {
        SurveyAction::Play(p.into())
    }

    #[test]
    fn two_answers_complete_the_survey_then_thanks_and_hang_up() {
        let t0 = Instant::now();
        let mut run = SurveyRun::start(csat(2));
        assert_eq!(drain(&mut run), vec![play("survey_intro")]);
        run.handle(t0, SurveyInput::Digit('4'));
        assert_eq!(drain(&mut run), vec![], "keys over the intro are dropped");
        run.handle(t0, SurveyInput::PlaybackFinished);
        assert_eq!(drain(&mut run), vec![play("survey_q0")]);
        // Answered over the prompt: the prompt stops.
        run.handle(t0, SurveyInput::Digit('4'));
        assert_eq!(
            drain(&mut run),
            vec![
                SurveyAction::StopPlayback,
                SurveyAction::Answered {
                    question: 0,
                    score: 4
                },
                play("survey_q1"),
            ]
        );
        run.handle(t0, SurveyInput::PlaybackFinished);
        assert_eq!(run.poll_timeout(), Some(t0 + Duration::from_secs(5)));
        run.handle(t0 + Duration::from_secs(2), SurveyInput::Digit('5'));
        assert_eq!(
            drain(&mut run),
            vec![
                SurveyAction::Answered {
                    question: 1,
                    score: 5
                },
                SurveyAction::Ended {
                    end: SurveyEnd::Completed,
                    answered: 2
                },
                play("survey_thanks"),
            ]
        );
        assert!(!run.is_finished());
        run.handle(t0, SurveyInput::PlaybackFinished);
        assert_eq!(drain(&mut run), vec![SurveyAction::HangUp]);
        assert!(run.is_finished());
        // Hanging up during or after the thanks changes nothing.
        run.handle(t0, SurveyInput::Hangup);
        assert_eq!(drain(&mut run), vec![]);
    }

    #[test]
    fn a_digit_out_of_range_plays_invalid_and_asks_again_then_a_second_one_skips() {
        let t0 = Instant::now();
        let mut survey = csat(1);
        survey.intro = None;
        let mut run = SurveyRun::start(survey);
        assert_eq!(drain(&mut run), vec![play("survey_q0")]);
        run.handle(t0, SurveyInput::PlaybackFinished);
        run.handle(t0, SurveyInput::Digit('9'));
        assert_eq!(drain(&mut run), vec![play("survey_invalid")]);
        run.handle(t0, SurveyInput::PlaybackFinished);
        assert_eq!(drain(&mut run), vec![play("survey_q0")]);
        run.handle(t0, SurveyInput::Digit('0'));
        assert_eq!(
            drain(&mut run),
            vec![
                SurveyAction::StopPlayback,
                SurveyAction::Ended {
                    end: SurveyEnd::NoAnswer,
                    answered: 0
                },
                SurveyAction::HangUp,
            ]
        );
        assert!(run.is_finished());
    }

    #[test]
    fn a_timeout_asks_again_without_the_invalid_prompt_and_the_last_one_skips() {
        let t0 = Instant::now();
        let mut survey = csat(2);
        survey.intro = None;
        let mut run = SurveyRun::start(survey);
        drain(&mut run);
        run.handle(t0, SurveyInput::Digit('3'));
        drain(&mut run);
        run.handle(t0, SurveyInput::PlaybackFinished);
        // Not yet due.
        run.handle_timeout(t0 + Duration::from_secs(4));
        assert_eq!(drain(&mut run), vec![]);
        run.handle_timeout(t0 + Duration::from_secs(5));
        assert_eq!(drain(&mut run), vec![play("survey_q1")]);
        let t1 = t0 + Duration::from_secs(8);
        run.handle(t1, SurveyInput::PlaybackFinished);
        run.handle_timeout(t1 + Duration::from_secs(5));
        assert_eq!(
            drain(&mut run),
            vec![
                SurveyAction::Ended {
                    end: SurveyEnd::NoAnswer,
                    answered: 1
                },
                SurveyAction::HangUp,
            ]
        );
        assert_eq!(run.poll_timeout(), None);
    }

    #[test]
    fn the_caller_hanging_up_mid_survey_skips_it_with_the_answers_so_far() {
        let t0 = Instant::now();
        let mut survey = csat(2);
        survey.intro = None;
        let mut run = SurveyRun::start(survey);
        drain(&mut run);
        run.handle(t0, SurveyInput::Digit('2'));
        drain(&mut run);
        run.handle(t0, SurveyInput::Hangup);
        assert_eq!(
            drain(&mut run),
            vec![SurveyAction::Ended {
                end: SurveyEnd::CallerHungUp,
                answered: 1
            }]
        );
        assert!(run.is_finished());
    }

    #[test]
    fn without_thanks_the_last_answer_hangs_up_and_prompts_are_listed_once() {
        let t0 = Instant::now();
        let mut survey = csat(1);
        survey.thanks = None;
        survey.intro = None;
        survey.invalid = Some("survey_q0".into());
        assert_eq!(survey.prompts(), vec!["survey_q0"]);
        let mut run = SurveyRun::start(survey);
        drain(&mut run);
        run.handle(t0, SurveyInput::PlaybackFinished);
        run.handle(t0, SurveyInput::Digit('1'));
        assert_eq!(
            drain(&mut run),
            vec![
                SurveyAction::Answered {
                    question: 0,
                    score: 1
                },
                SurveyAction::Ended {
                    end: SurveyEnd::Completed,
                    answered: 1
                },
                SurveyAction::HangUp,
            ]
        );
    }
}
