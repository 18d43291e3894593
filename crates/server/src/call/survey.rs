//! Surveys on the caller's leg, run by the dialplan's [`SurveyRun`]:
//!
//! - the post-call survey: when the agent hangs up a call whose queue node named a survey, the
//!   caller stays, hears the questions in the call's language and answers with one key each;
//!   every answer is a `survey.answered` event naming the call, the agent and the queue, and
//!   the survey ends with `survey.completed` or `survey.skipped`. When the caller hangs up
//!   first there is no survey;
//! - a dialplan `survey` node: the same survey and events without agent or queue; on an
//!   outbound campaign call the events name the campaign, the record and the attempt, and each
//!   answer and the outcome go to the campaign as reports. Once it ends (after its thanks) the
//!   IVR goes on at the node's `next` or `on_skipped`, or hangs up.

use std::time::Instant;

use hotline_dialplan::{IvrInput, Survey, SurveyAction, SurveyEnd, SurveyInput, SurveyRun};
use hotline_events::{EndReason, EventDraft, EventKind, HungUpBy, SurveySkipReason};
use hotline_media::PlayMode;

use super::{Call, CampaignCallReport, Phase};
use crate::campaigns::surveys::{SurveyKey, SurveyNote, SurveyOutcome};

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
    origin: Origin,
    /// How it ended, once it did.
    end: Option<SurveyEnd>,
}

/// Why a survey runs, which says what its events name and what follows it.
enum Origin {
    /// After the agent hung up: the events name the agent and the queue; hang up after.
    AfterAgent { agent: String, queue: String },
    /// A dialplan `survey` node: the IVR goes on after; a campaign call's record is named.
    Node { record: Option<SurveyKey> },
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
            origin: Origin::AfterAgent { agent, queue },
            end: None,
        }));
        self.drive_survey();
        true
    }

    /// A dialplan `survey` node: runs survey `name` on the caller's leg; the IVR waits for
    /// its end. A survey the plan lacks (the loader rules it out) counts as skipped at once.
    pub(super) fn start_survey_node(
        &mut self,
        node: String,
        name: String,
        language: Option<String>,
    ) {
        let survey = self
            .ivr
            .as_ref()
            .and_then(|ivr| ivr.plan().survey(&name).cloned());
        let Some(survey) = survey else {
            tracing::warn!(%name, %node, "unknown survey: skipped");
            if let Some(ivr) = self.ivr.as_mut() {
                ivr.handle(
                    Instant::now(),
                    IvrInput::SurveyFinished(SurveyEnd::NoAnswer),
                );
            }
            return;
        };
        let record = self.campaign.as_ref().map(|link| link.record.clone());
        tracing::info!(survey = %name, %node, campaign = record.is_some(), "survey node");
        self.survey = SurveySlot::Running(Box::new(RunningSurvey {
            name,
            run: SurveyRun::start(survey),
            language,
            origin: Origin::Node { record },
            end: None,
        }));
        self.drive_survey();
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
            let name = s.name.clone();
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
                    self.survey_event(SurveyNote::Answered {
                        survey: name,
                        question,
                        score,
                    });
                }
                SurveyAction::Ended { end, answered } => {
                    s.end = Some(end);
                    let outcome = match end {
                        SurveyEnd::Completed => SurveyOutcome::Completed,
                        SurveyEnd::NoAnswer => SurveyOutcome::NoAnswer,
                        SurveyEnd::CallerHungUp => SurveyOutcome::CallerHungUp,
                    };
                    self.survey_event(SurveyNote::Ended {
                        survey: name,
                        answered,
                        outcome,
                    });
                }
                SurveyAction::HangUp => return self.survey_over(),
            }
        }
    }

    /// The survey has nothing more to play: after an agent, hang up; after a survey node, the
    /// IVR goes on.
    fn survey_over(&mut self) {
        let SurveySlot::Running(s) = std::mem::take(&mut self.survey) else {
            return;
        };
        match s.origin {
            Origin::AfterAgent { .. } => {
                if self.phase != Phase::Ended {
                    self.end_caller_leg();
                    self.phase = Phase::Ended;
                }
            }
            Origin::Node { .. } => {
                let end = s.end.unwrap_or(SurveyEnd::NoAnswer);
                if let Some(ivr) = self.ivr.as_mut() {
                    ivr.handle(Instant::now(), IvrInput::SurveyFinished(end));
                }
                self.drive_ivr();
            }
        }
    }

    /// The journal event of what the survey did, naming what the survey's origin names; a
    /// campaign call's also goes to its campaign.
    fn survey_event(&mut self, note: SurveyNote) {
        let SurveySlot::Running(s) = &self.survey else {
            return;
        };
        let (agent, queue, record) = match &s.origin {
            Origin::AfterAgent { agent, queue } => (Some(agent.clone()), Some(queue.clone()), None),
            Origin::Node { record } => (None, None, record.clone()),
        };
        let (campaign, entry, attempt) = match &record {
            Some(r) => (Some(r.campaign.clone()), Some(r.entry), Some(r.attempt)),
            None => (None, None, None),
        };
        let kind = match note.clone() {
            SurveyNote::Answered {
                survey,
                question,
                score,
            } => EventKind::SurveyAnswered {
                survey,
                question,
                score,
                campaign,
                entry,
                attempt,
            },
            SurveyNote::Ended {
                survey,
                answered,
                outcome: SurveyOutcome::Completed,
            } => EventKind::SurveyCompleted {
                survey,
                answered,
                campaign,
                entry,
                attempt,
            },
            SurveyNote::Ended {
                survey,
                answered,
                outcome,
            } => EventKind::SurveySkipped {
                survey,
                answered,
                reason: if outcome == SurveyOutcome::NoAnswer {
                    SurveySkipReason::NoAnswer
                } else {
                    SurveySkipReason::CallerHungUp
                },
                campaign,
                entry,
                attempt,
            },
        };
        let mut draft = EventDraft::new(kind);
        if let Some(agent) = agent {
            draft = draft.agent(agent);
        }
        if let Some(queue) = queue {
            draft = draft.queue(queue);
        }
        self.emit(draft);
        if record.is_some() {
            self.campaign_report(CampaignCallReport::Survey {
                call: self.id,
                note,
            });
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
