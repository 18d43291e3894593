//! Commands to the engine and their handling.

use std::collections::HashMap;
use std::time::Duration;

use jiff::Timestamp;

use super::dial::DialOrder;
use super::event::{
    AgentlessResult, AnswerAction, AnswerVerdict, AttemptResult, CampaignEvent, EntryId,
    EntryRecord, HoldReason, NotAdded, RunState, SkipReason,
};
use super::spec::{AmdAction, CampaignId, CampaignSpec, SpecError};
use super::state::EntryState;
use super::CampaignEngine;
use crate::config::SchedulerConfig;
use crate::ids::AgentName;
use crate::list::ListRecord;
use crate::number::E164;
use crate::outcome::{DialOutcome, OutcomeKind};
use crate::pacing::DialMode;
use crate::scheduler::DoNotCall;
use crate::time;

/// How long a record whose dial found its trunk busy waits before it is due again.
pub const TRUNK_BUSY_RETRY: Duration = Duration::from_secs(1);

/// Something the driver tells the engine.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Create a campaign (not started).
    Create(Box<CampaignSpec>),
    /// Add imported records; numbers already in the campaign are reported, not added.
    AddRecords {
        /// The campaign.
        campaign: CampaignId,
        /// The records (a [`crate::list::ListImport`]'s accepted ones).
        records: Vec<ListRecord>,
    },
    /// Add numbers to the campaign's do-not-call list.
    AddDnc {
        /// The campaign.
        campaign: CampaignId,
        /// The numbers.
        numbers: Vec<E164>,
    },
    /// Take numbers off the campaign's do-not-call list (those not on it are ignored).
    RemoveDnc {
        /// The campaign.
        campaign: CampaignId,
        /// The numbers.
        numbers: Vec<E164>,
    },
    /// Start a created campaign.
    Start {
        /// The campaign.
        campaign: CampaignId,
    },
    /// Stop dialing, keeping every record's state.
    Pause {
        /// The campaign.
        campaign: CampaignId,
    },
    /// End dialing for good (calls in progress still report their outcomes).
    Stop {
        /// The campaign.
        campaign: CampaignId,
    },
    /// Resume a paused campaign.
    Resume {
        /// The campaign.
        campaign: CampaignId,
    },
    /// The engine was restored after a restart: open attempts become `unknown`.
    Restarted,
    /// A preview agent accepts the record offered: dial it.
    Accept {
        /// The campaign.
        campaign: CampaignId,
        /// The entry.
        entry: EntryId,
        /// The agent.
        agent: AgentName,
    },
    /// A preview agent skips the record offered.
    Skip {
        /// The campaign.
        campaign: CampaignId,
        /// The entry.
        entry: EntryId,
        /// The agent.
        agent: AgentName,
    },
    /// The dial's final SIP response, classified ([`crate::classify`]).
    Outcome {
        /// The campaign.
        campaign: CampaignId,
        /// The entry.
        entry: EntryId,
        /// The attempt.
        attempt: u32,
        /// What it came to.
        outcome: DialOutcome,
    },
    /// The detector's verdict on an answered call (human when detection is off).
    Answered {
        /// The campaign.
        campaign: CampaignId,
        /// The entry.
        entry: EntryId,
        /// The attempt.
        attempt: u32,
        /// Who answered.
        verdict: AnswerVerdict,
    },
    /// An agent took the answered call `after` the answer, `since_greeting` after the end of
    /// the person's greeting (late when that is over the profile's connect time).
    ConnectedToAgent {
        /// The campaign.
        campaign: CampaignId,
        /// The entry.
        entry: EntryId,
        /// The attempt.
        attempt: u32,
        /// The agent.
        agent: AgentName,
        /// From the answer to the agent.
        after: Duration,
        /// From the end of the person's greeting to the agent: the clock of the US and UK
        /// rule (connected within 2 s of the completed greeting). The answer instant stands
        /// for the greeting's end when none was measured (detection off, an undecided answer
        /// without a pause after words): earlier, so never in the call's favour.
        since_greeting: Duration,
    },
    /// No agent took the answered call within the profile's connect time; the customer
    /// heard the abandon message.
    Abandoned {
        /// The campaign.
        campaign: CampaignId,
        /// The entry.
        entry: EntryId,
        /// The attempt.
        attempt: u32,
    },
    /// The agentless flow ended.
    AgentlessDone {
        /// The campaign.
        campaign: CampaignId,
        /// The entry.
        entry: EntryId,
        /// The attempt.
        attempt: u32,
        /// How.
        result: AgentlessResult,
    },
    /// The dial could not start: its trunk had no free channel or call-rate token (a race
    /// with other calls on the trunk). The record goes back to the list, due again after
    /// [`TRUNK_BUSY_RETRY`], without using an attempt (`held` with `trunk_busy`).
    TrunkBusy {
        /// The campaign.
        campaign: CampaignId,
        /// The entry.
        entry: EntryId,
        /// The attempt that did not start.
        attempt: u32,
    },
    /// An agent finished a campaign call (talk and wrap-up times for the pacer).
    CallHandled {
        /// The campaign.
        campaign: CampaignId,
        /// Talk time.
        talk: Duration,
        /// Wrap-up time.
        wrap: Duration,
    },
}

/// A command the engine refuses (nothing changed).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CommandError {
    /// The specification is wrong.
    #[error(transparent)]
    Spec(#[from] SpecError),
    /// A campaign with this id exists.
    #[error("campaign {0} already exists")]
    Exists(CampaignId),
    /// No such campaign.
    #[error("no campaign {0}")]
    UnknownCampaign(CampaignId),
    /// No such entry.
    #[error("campaign {0} has no entry {1:?}")]
    UnknownEntry(CampaignId, EntryId),
    /// The run state does not allow this.
    #[error("campaign {campaign} is {state:?}: cannot {action}")]
    BadState {
        /// The campaign.
        campaign: CampaignId,
        /// Its state.
        state: RunState,
        /// What was asked.
        action: &'static str,
    },
    /// The report is for an attempt that is not open in that phase (late, or already ended
    /// as unknown after a restart).
    #[error("campaign {campaign} entry {entry:?}: attempt {attempt} is not open for {what}")]
    StaleAttempt {
        /// The campaign.
        campaign: CampaignId,
        /// The entry.
        entry: EntryId,
        /// The attempt reported.
        attempt: u32,
        /// What was reported.
        what: &'static str,
    },
    /// The entry is not offered to this agent.
    #[error("campaign {campaign} entry {entry:?} is not offered to {agent}")]
    NotOffered {
        /// The campaign.
        campaign: CampaignId,
        /// The entry.
        entry: EntryId,
        /// The agent.
        agent: AgentName,
    },
}

impl CampaignEngine {
    /// Handles one command at `now`; a preview accept answers with the dial to make (its
    /// `attempt_started` is queued first, checked against the global `dnc`).
    pub fn handle(
        &mut self,
        now: Timestamp,
        command: Command,
        dnc: &dyn DoNotCall,
    ) -> Result<Option<DialOrder>, CommandError> {
        match command {
            Command::Create(spec) => {
                spec.validate()?;
                if self.campaigns.contains_key(&spec.id) {
                    return Err(CommandError::Exists(spec.id.clone()));
                }
                self.emit(CampaignEvent::Created { at: now, spec });
            }
            Command::AddRecords { campaign, records } => {
                self.add_records(now, campaign, records)?
            }
            Command::AddDnc { campaign, numbers } => {
                self.campaign(&campaign)?;
                self.emit(CampaignEvent::DncAdded {
                    at: now,
                    campaign,
                    numbers,
                });
            }
            Command::RemoveDnc { campaign, numbers } => {
                let listed = &self.campaign(&campaign)?.dnc;
                let numbers: Vec<E164> =
                    numbers.into_iter().filter(|n| listed.contains(n)).collect();
                if !numbers.is_empty() {
                    self.emit(CampaignEvent::DncRemoved {
                        at: now,
                        campaign,
                        numbers,
                    });
                }
            }
            Command::Start { campaign } => self.transition(
                now,
                campaign,
                &[RunState::Created],
                RunState::Running,
                "start",
            )?,
            Command::Pause { campaign } => self.transition(
                now,
                campaign,
                &[RunState::Running],
                RunState::Paused,
                "pause",
            )?,
            Command::Stop { campaign } => self.transition(
                now,
                campaign,
                &[RunState::Created, RunState::Running, RunState::Paused],
                RunState::Stopped,
                "stop",
            )?,
            Command::Resume { campaign } => self.transition(
                now,
                campaign,
                &[RunState::Paused],
                RunState::Running,
                "resume",
            )?,
            Command::Restarted => self.restarted(now),
            Command::Accept {
                campaign,
                entry,
                agent,
            } => return self.accept(now, campaign, entry, agent, dnc),
            Command::Skip {
                campaign,
                entry,
                agent,
            } => {
                self.offered_to(&campaign, entry, &agent)?;
                let delay = self.campaign(&campaign)?.spec.skip_delay;
                self.emit(CampaignEvent::OfferSkipped {
                    at: now,
                    campaign,
                    entry,
                    reason: SkipReason::Agent,
                    retry_at: time::add(now, delay),
                });
            }
            Command::Outcome {
                campaign,
                entry,
                attempt,
                outcome,
            } => self.outcome(now, campaign, entry, attempt, outcome)?,
            Command::Answered {
                campaign,
                entry,
                attempt,
                verdict,
            } => self.answered(now, campaign, entry, attempt, verdict)?,
            Command::ConnectedToAgent {
                campaign,
                entry,
                attempt,
                agent,
                after,
                since_greeting,
            } => {
                let state = self.open_state(&campaign, entry, attempt, "connected")?;
                let EntryState::WaitingAgent { live, .. } = state else {
                    return Err(stale(campaign, entry, attempt, "connected"));
                };
                let connect_within = self.campaign(&campaign)?.spec.profile.connect_within();
                let late = since_greeting > connect_within;
                self.emit(CampaignEvent::Connected {
                    at: now,
                    campaign: campaign.clone(),
                    entry,
                    attempt,
                    agent,
                    after,
                    since_greeting: Some(since_greeting),
                    late,
                    live,
                });
                self.end_attempt(
                    now,
                    &campaign,
                    entry,
                    attempt,
                    AttemptResult::Connected,
                    None,
                    None,
                );
            }
            Command::Abandoned {
                campaign,
                entry,
                attempt,
            } => {
                let state = self.open_state(&campaign, entry, attempt, "abandoned")?;
                let EntryState::WaitingAgent { live, .. } = state else {
                    return Err(stale(campaign, entry, attempt, "abandoned"));
                };
                self.abandon(now, &campaign, entry, attempt, live);
            }
            Command::AgentlessDone {
                campaign,
                entry,
                attempt,
                result,
            } => {
                let state = self.open_state(&campaign, entry, attempt, "agentless_done")?;
                if !matches!(state, EntryState::InFlow { .. }) {
                    return Err(stale(campaign, entry, attempt, "agentless_done"));
                }
                let result = match result {
                    AgentlessResult::Completed => AttemptResult::FlowCompleted,
                    AgentlessResult::HungUp => AttemptResult::FlowHungUp,
                };
                self.end_attempt(now, &campaign, entry, attempt, result, None, None);
            }
            Command::TrunkBusy {
                campaign,
                entry,
                attempt,
            } => {
                let state = self.open_state(&campaign, entry, attempt, "trunk_busy")?;
                if !matches!(state, EntryState::Dialing { .. }) {
                    return Err(stale(campaign, entry, attempt, "trunk_busy"));
                }
                self.emit(CampaignEvent::Held {
                    at: now,
                    campaign,
                    entry,
                    reason: HoldReason::TrunkBusy,
                    until: time::add(now, TRUNK_BUSY_RETRY),
                });
            }
            Command::CallHandled {
                campaign,
                talk,
                wrap,
            } => {
                self.campaign(&campaign)?;
                self.emit(CampaignEvent::CallHandled {
                    at: now,
                    campaign,
                    talk,
                    wrap,
                });
            }
        }
        Ok(None)
    }

    /// Emits the abandon of a call waiting for an agent, then the attempt's end (a live
    /// answer's number barred from redial per the profile).
    pub(super) fn abandon(
        &mut self,
        now: Timestamp,
        campaign: &CampaignId,
        entry: EntryId,
        attempt: u32,
        live: bool,
    ) {
        let Some(c) = self.campaigns.get(campaign) else {
            return;
        };
        let Some(e) = c.entry(entry) else { return };
        let number = e.record.number.clone();
        let barred_until = c
            .spec
            .profile
            .no_redial_after_abandon()
            .filter(|_| live)
            .map(|bar| time::add(now, bar));
        self.emit(CampaignEvent::Abandoned {
            at: now,
            campaign: campaign.clone(),
            entry,
            attempt,
            number,
            live,
        });
        self.end_attempt(
            now,
            campaign,
            entry,
            attempt,
            AttemptResult::Abandoned,
            None,
            barred_until,
        );
    }

    fn campaign(&self, id: &CampaignId) -> Result<&super::state::Campaign, CommandError> {
        self.campaigns
            .get(id)
            .ok_or_else(|| CommandError::UnknownCampaign(id.clone()))
    }

    fn add_records(
        &mut self,
        now: Timestamp,
        campaign: CampaignId,
        records: Vec<ListRecord>,
    ) -> Result<(), CommandError> {
        let c = self.campaign(&campaign)?;
        let first = EntryId(c.entries.len() as u64);
        let config = SchedulerConfig::default();
        let mut added = vec![];
        let mut not_added = vec![];
        let mut batch: HashMap<E164, EntryId> = HashMap::new();
        for record in records {
            let earlier = c
                .by_number
                .get(&record.number)
                .or_else(|| batch.get(&record.number));
            if let Some(of) = earlier {
                not_added.push(NotAdded::Duplicate {
                    line: record.line,
                    number: record.number,
                    of: *of,
                });
                continue;
            }
            let zone = record.time_zone.as_ref().or(c.spec.default_zone.as_ref());
            let due = match record.due.resolve(now, zone, &config) {
                Ok(due) => due,
                Err(e) => {
                    not_added.push(NotAdded::BadDue {
                        line: record.line,
                        problem: e.to_string(),
                    });
                    continue;
                }
            };
            let id = EntryId(first.0 + added.len() as u64);
            batch.insert(record.number.clone(), id);
            added.push(EntryRecord {
                line: record.line,
                number: record.number,
                name: record.name,
                time_zone: record.time_zone,
                priority: record.priority,
                not_before: due.not_before,
                deadline: due.deadline,
                attributes: record.attributes,
            });
        }
        self.emit(CampaignEvent::RecordsAdded {
            at: now,
            campaign,
            first,
            records: added,
            not_added,
        });
        Ok(())
    }

    fn transition(
        &mut self,
        now: Timestamp,
        campaign: CampaignId,
        from: &[RunState],
        to: RunState,
        action: &'static str,
    ) -> Result<(), CommandError> {
        let c = self.campaign(&campaign)?;
        if !from.contains(&c.run) {
            return Err(CommandError::BadState {
                campaign,
                state: c.run,
                action,
            });
        }
        let offers: Vec<EntryId> = c
            .open
            .iter()
            .copied()
            .filter(|e| matches!(c.entries[e.0 as usize].state, EntryState::Offered { .. }))
            .collect();
        self.emit(CampaignEvent::RunStateChanged {
            at: now,
            campaign: campaign.clone(),
            state: to,
        });
        if to != RunState::Running {
            for entry in offers {
                self.emit(CampaignEvent::OfferSkipped {
                    at: now,
                    campaign: campaign.clone(),
                    entry,
                    reason: SkipReason::NotRunning,
                    retry_at: now,
                });
            }
        }
        Ok(())
    }

    fn restarted(&mut self, now: Timestamp) {
        let mut open = vec![];
        for (id, c) in &self.campaigns {
            for entry in &c.open {
                open.push((
                    id.clone(),
                    *entry,
                    c.entries[entry.0 as usize].state.clone(),
                ));
            }
        }
        for (campaign, entry, state) in open {
            match state.open_attempt() {
                Some(attempt) => self.end_attempt(
                    now,
                    &campaign,
                    entry,
                    attempt,
                    AttemptResult::Unknown,
                    None,
                    None,
                ),
                None => self.emit(CampaignEvent::OfferSkipped {
                    at: now,
                    campaign,
                    entry,
                    reason: SkipReason::Restart,
                    retry_at: now,
                }),
            }
        }
    }

    fn offered_to(
        &self,
        campaign: &CampaignId,
        entry: EntryId,
        agent: &AgentName,
    ) -> Result<(), CommandError> {
        let c = self.campaign(campaign)?;
        let e = c
            .entry(entry)
            .ok_or_else(|| CommandError::UnknownEntry(campaign.clone(), entry))?;
        match &e.state {
            EntryState::Offered { agent: a, .. } if a == agent => Ok(()),
            _ => Err(CommandError::NotOffered {
                campaign: campaign.clone(),
                entry,
                agent: agent.clone(),
            }),
        }
    }

    fn accept(
        &mut self,
        now: Timestamp,
        campaign: CampaignId,
        entry: EntryId,
        agent: AgentName,
        dnc: &dyn DoNotCall,
    ) -> Result<Option<DialOrder>, CommandError> {
        self.offered_to(&campaign, entry, &agent)?;
        let run = self.campaign(&campaign)?.run;
        if run != RunState::Running {
            return Err(CommandError::BadState {
                campaign,
                state: run,
                action: "accept",
            });
        }
        Ok(self.try_dial(now, &campaign, entry, Some(agent), dnc))
    }

    /// The entry's state when `attempt` is its open attempt.
    fn open_state(
        &self,
        campaign: &CampaignId,
        entry: EntryId,
        attempt: u32,
        what: &'static str,
    ) -> Result<EntryState, CommandError> {
        let c = self.campaign(campaign)?;
        let e = c
            .entry(entry)
            .ok_or_else(|| CommandError::UnknownEntry(campaign.clone(), entry))?;
        if e.state.open_attempt() != Some(attempt) {
            return Err(stale(campaign.clone(), entry, attempt, what));
        }
        Ok(e.state.clone())
    }

    fn outcome(
        &mut self,
        now: Timestamp,
        campaign: CampaignId,
        entry: EntryId,
        attempt: u32,
        outcome: DialOutcome,
    ) -> Result<(), CommandError> {
        let state = self.open_state(&campaign, entry, attempt, "outcome")?;
        let ringing = matches!(
            state,
            EntryState::Dialing { .. } | EntryState::PickedUp { .. }
        );
        if !ringing {
            return Err(stale(campaign, entry, attempt, "outcome"));
        }
        if outcome.kind == OutcomeKind::Answered {
            if !matches!(state, EntryState::Dialing { .. }) {
                return Err(stale(campaign, entry, attempt, "outcome"));
            }
            self.emit(CampaignEvent::PickedUp {
                at: now,
                campaign,
                entry,
                attempt,
            });
            return Ok(());
        }
        let result = AttemptResult::of_failure(outcome.kind);
        self.end_attempt(now, &campaign, entry, attempt, result, Some(outcome), None);
        Ok(())
    }

    fn answered(
        &mut self,
        now: Timestamp,
        campaign: CampaignId,
        entry: EntryId,
        attempt: u32,
        verdict: AnswerVerdict,
    ) -> Result<(), CommandError> {
        let state = self.open_state(&campaign, entry, attempt, "answered")?;
        if !matches!(
            state,
            EntryState::Dialing { .. } | EntryState::PickedUp { .. }
        ) {
            return Err(stale(campaign, entry, attempt, "answered"));
        }
        let spec = &self.campaign(&campaign)?.spec;
        let base = if spec.mode == DialMode::Agentless {
            AnswerAction::Flow
        } else {
            AnswerAction::ToAgent {
                live: verdict != AnswerVerdict::Machine,
            }
        };
        let by_rule = |action: AmdAction| match action {
            AmdAction::Drop => AnswerAction::Drop,
            AmdAction::LeaveMessage => AnswerAction::LeaveMessage,
            AmdAction::PassToAgent => base,
        };
        let action = match verdict {
            AnswerVerdict::Human => base,
            AnswerVerdict::Machine => by_rule(spec.amd.on_machine),
            AnswerVerdict::NotSure => by_rule(spec.amd.on_not_sure),
        };
        self.emit(CampaignEvent::Answered {
            at: now,
            campaign: campaign.clone(),
            entry,
            attempt,
            verdict,
            action,
        });
        let ended = match action {
            AnswerAction::Drop => Some(AttemptResult::MachineDropped),
            AnswerAction::LeaveMessage => Some(AttemptResult::MessageLeft),
            _ => None,
        };
        if let Some(result) = ended {
            self.end_attempt(now, &campaign, entry, attempt, result, None, None);
        }
        Ok(())
    }
}

fn stale(campaign: CampaignId, entry: EntryId, attempt: u32, what: &'static str) -> CommandError {
    CommandError::StaleAttempt {
        campaign,
        entry,
        attempt,
        what,
    }
}
