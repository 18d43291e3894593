//! The post-call survey on the caller's leg: when the agent hangs up a call whose queue node
//! named a survey, the caller stays, hears the questions in the call's language and answers
//! with one key each; every answer is a `survey.answered` event naming the call, the agent and
//! the queue, and the survey ends with `survey.completed` or `survey.skipped`. When the caller
//! hangs up first there is no survey.

use std::time::Instant;

use hotline_dialplan::{Survey, SurveyAction, SurveyEnd, SurveyInput, SurveyRun};
use hotline_events::{EndReason, EventDraft, EventKind, HungUpBy, SurveySkipReason};
use hotline_media::PlayMode;

use super::{Call, Phase};

/// A call's survey: the one its queue node named, then the one running.
#[derive(Default)]
pub(super) enum SurveySlot {
    /// No survey for this call.
    #[default]
    None,
    /// Asked for by the queue node; runs if the agent hangs up first.
    Pending {
        /// The survey's name.
        name: String,
        /// Its definition, from the dialplan the call runs on.
        survey: Survey,
        /// The call's language when it was queued (`None`: the server's).
        language: Option<String>,
    },
    /// Running on the caller's leg.
    Running(Box<RunningSurvey>),
}

/// A survey being run.
pub(super) struct RunningSurvey {
    name: String,
    run: SurveyRun,
    language: Option<String>,
    agent: String,
    queue: String,
}

impl Call {
    /// The queue node asked for `name`: kept for when the agent hangs up. An unknown name
    /// cannot happen (the loader refuses it) and leaves the call without a survey.
    pub(super) fn survey_requested(&mut self, name: Option<String>, language: Option<String>) {
        // A later queue node (after a queue's `exit`) decides again.
        self.survey = SurveySlot::None;
        let Some(name) = name else { return };
        let survey = self
            .ivr
            .as_ref()
            .and_then(|ivr| ivr.plan().survey(&name).cloned());
        match survey {
            Some(survey) => {
                self.survey = SurveySlot::Pending {
                    name,
                    survey,
                    language,
                }
            }
            None => tracing::warn!(%name, "unknown survey: none will be run"),
        }
    }

    /// The agent hung up a bridged call: starts the survey on the caller's leg if one is
    /// pending. False: no survey, the call ends as before.
    pub(super) fn start_survey_after_agent(&mut self) -> bool {
        let Phase::Bridged { agent, queue } = self.phase.clone() else {
            return false;
        };
        let SurveySlot::Pending {
            name,
            survey,
            language,
        } = std::mem::take(&mut self.survey)
        else {
            return false;
        };
        tracing::info!(%agent, survey = %name, "agent hung up: post-call survey");
        // The agent is free now: the routing core ends the conversation (wrap-up starts); the
        // call's own end follows the survey.
        self.shared.router.conversation_ended(self.id);
        if let Some(mut a) = self.agent.take() {
            a.close_media();
        }
        self.end_agent_legs();
        if let Some(m) = &self.caller.media {
            let _ = m.unbridge();
        }
        self.end = Some((EndReason::Completed, HungUpBy::Agent));
        self.phase = Phase::Ivr;
        self.survey = SurveySlot::Running(Box::new(RunningSurvey {
            name,
            run: SurveyRun::start(survey),
            language,
            agent,
            queue,
        }));
        self.drive_survey();
        true
    }

    /// When the running survey's wait for a key ends.
    pub(super) fn survey_deadline(&self) -> Option<Instant> {
        match &self.survey {
            SurveySlot::Running(s) => s.run.poll_timeout(),
            _ => None,
        }
    }

    /// The wait for a key ended.
    pub(super) fn survey_timed_out(&mut self) {
        if let SurveySlot::Running(s) = &mut self.survey {
            s.run.handle_timeout(Instant::now());
            self.drive_survey();
        }
    }

    /// Gives the running survey a key or the end of a prompt. False: no survey is running.
    pub(super) fn survey_input(&mut self, input: SurveyInput) -> bool {
        let SurveySlot::Running(s) = &mut self.survey else {
            return false;
        };
        s.run.handle(Instant::now(), input);
        self.drive_survey();
        true
    }

    /// The caller hung up: a running survey is skipped (its outcome is journaled).
    pub(super) fn survey_caller_hung_up(&mut self) {
        if let SurveySlot::Running(s) = &mut self.survey {
            s.run.handle(Instant::now(), SurveyInput::Hangup);
            self.drive_survey();
        }
    }

    fn drive_survey(&mut self) {
        loop {
            let SurveySlot::Running(s) = &mut self.survey else {
                return;
            };
            let Some(action) = s.run.poll_action() else {
                if s.run.is_finished() {
                    self.survey = SurveySlot::None;
                }
                return;
            };
            let (name, agent, queue) = (s.name.clone(), s.agent.clone(), s.queue.clone());
            let language = s.language.clone();
            match action {
                SurveyAction::Play(prompt) => self.play_survey_prompt(&prompt, language),
                SurveyAction::StopPlayback => {
                    if let Some(m) = &self.caller.media {
                        let _ = m.stop_playback();
                    }
                }
                SurveyAction::Answered { question, score } => {
                    tracing::info!(survey = %name, question, score, "survey answered");
                    let kind = EventKind::SurveyAnswered {
                        survey: name,
                        question,
                        score,
                    };
                    self.emit(EventDraft::new(kind).agent(agent).queue(queue));
                }
                SurveyAction::Ended { end, answered } => {
                    let kind = match end {
                        SurveyEnd::Completed => EventKind::SurveyCompleted {
                            survey: name,
                            answered,
                        },
                        SurveyEnd::NoAnswer | SurveyEnd::CallerHungUp => EventKind::SurveySkipped {
                            survey: name,
                            answered,
                            reason: if end == SurveyEnd::NoAnswer {
                                SurveySkipReason::NoAnswer
                            } else {
                                SurveySkipReason::CallerHungUp
                            },
                        },
                    };
                    self.emit(EventDraft::new(kind).agent(agent).queue(queue));
                }
                SurveyAction::HangUp => {
                    self.survey = SurveySlot::None;
                    if self.phase != Phase::Ended {
                        self.end_caller_leg();
                        self.phase = Phase::Ended;
                    }
                    return;
                }
            }
        }
    }

    /// Plays a survey prompt in the call's language; a missing prompt counts as played.
    fn play_survey_prompt(&mut self, prompt: &str, language: Option<String>) {
        match self.prompt_in(language.as_deref(), prompt) {
            Some((p, played_in)) => {
                if let Some(m) = &self.caller.media {
                    let _ = m.play(p, PlayMode::Once);
                }
                self.emit(EventDraft::new(EventKind::IvrPrompt {
                    prompt: prompt.to_owned(),
                    language: played_in,
                }));
            }
            None => {
                tracing::warn!(%prompt, "survey prompt missing: skipped");
                if let SurveySlot::Running(s) = &mut self.survey {
                    s.run.handle(Instant::now(), SurveyInput::PlaybackFinished);
                }
            }
        }
    }
}
