//! One campaign's state, changed only by folding its events, and its statistics.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::time::Duration;

use jiff::Timestamp;
use serde::Serialize;

use super::event::{
    AnswerAction, AttemptResult, CampaignEvent, EntryId, EntryRecord, GiveUpReason, HoldReason,
    NextStep, RunState,
};
use super::spec::{CampaignId, CampaignSpec};
use crate::ids::AgentName;
use crate::number::E164;
use crate::pacing::{
    AbandonLedger, InboundHold, LogNormal, LogNormalEstimate, Pacer, PacingDecision,
};
use crate::time::{self, instant_text};

/// Where a record is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum EntryState {
    /// Waiting to be dialed from `ready_at` on.
    Pending {
        /// Due from then.
        #[serde(with = "instant_text")]
        ready_at: Timestamp,
    },
    /// Offered to a preview agent.
    Offered {
        /// The agent.
        agent: AgentName,
        /// Since when.
        #[serde(with = "instant_text")]
        since: Timestamp,
    },
    /// Dialing: no final response yet.
    Dialing {
        /// The attempt.
        attempt: u32,
        /// Since when.
        #[serde(with = "instant_text")]
        since: Timestamp,
    },
    /// Answered (2xx); the detector's verdict is awaited.
    PickedUp {
        /// The attempt.
        attempt: u32,
        /// Since when.
        #[serde(with = "instant_text")]
        since: Timestamp,
    },
    /// Answered, waiting for an agent.
    WaitingAgent {
        /// The attempt.
        attempt: u32,
        /// Since the answer.
        #[serde(with = "instant_text")]
        since: Timestamp,
        /// Counted as a live answer.
        live: bool,
    },
    /// In the agentless flow.
    InFlow {
        /// The attempt.
        attempt: u32,
        /// Since when.
        #[serde(with = "instant_text")]
        since: Timestamp,
    },
    /// Finished with this result.
    Done {
        /// The final result.
        result: AttemptResult,
    },
    /// Not dialed any more.
    GivenUp {
        /// Why.
        reason: GiveUpReason,
    },
}

impl EntryState {
    /// The open attempt, if any.
    pub fn open_attempt(&self) -> Option<u32> {
        match self {
            Self::Dialing { attempt, .. }
            | Self::PickedUp { attempt, .. }
            | Self::WaitingAgent { attempt, .. }
            | Self::InFlow { attempt, .. } => Some(*attempt),
            _ => None,
        }
    }

    /// Whether the record is finished (done or given up).
    pub fn is_final(&self) -> bool {
        matches!(self, Self::Done { .. } | Self::GivenUp { .. })
    }
}

/// One record of a campaign.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// What was added.
    pub record: EntryRecord,
    /// Where it is.
    pub state: EntryState,
    /// Attempts started.
    pub attempts: u32,
    /// Ended attempts by result.
    pub results: BTreeMap<AttemptResult, u32>,
}

/// Progress, outcomes and pacing of one campaign.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CampaignStats {
    /// The campaign.
    pub campaign: CampaignId,
    /// Its run state.
    pub state: RunState,
    /// Records in all.
    pub total: u64,
    /// Finished (done or given up).
    pub done: u64,
    /// Waiting to be dialed (or offered).
    pub pending: u64,
    /// With an attempt in progress.
    pub in_progress: u64,
    /// Ended attempts by result.
    pub by_result: BTreeMap<AttemptResult, u64>,
    /// Records given up by reason.
    pub given_up: BTreeMap<GiveUpReason, u64>,
    /// Attempts started.
    pub dials: u64,
    /// Calls connected to an agent.
    pub connected: u64,
    /// Live answers over the profile's window (abandoned ones included).
    pub live_answered: u64,
    /// Of those, abandoned.
    pub abandoned: u64,
    /// The abandoned share of live answers over the window.
    pub abandon_rate: f64,
    /// The profile's cap.
    pub abandon_cap: f64,
    /// What the pacer aims under (the cap less the margin).
    pub abandon_aim: f64,
    /// Dials per connected call (0 before the first connect).
    pub pacing_ratio: f64,
}

/// One campaign's state.
#[derive(Debug)]
pub(crate) struct Campaign {
    pub spec: CampaignSpec,
    pub run: RunState,
    pub entries: Vec<Entry>,
    pub by_number: HashMap<E164, EntryId>,
    pub dnc: BTreeSet<E164>,
    pub by_result: BTreeMap<AttemptResult, u64>,
    pub given_up: BTreeMap<GiveUpReason, u64>,
    pub dials: u64,
    pub connected: u64,
    /// Dials with a known outcome, and of those live answers (the pacer's answer rate).
    pub resolved: u64,
    pub live: u64,
    pub ledger: AbandonLedger,
    pub talk: LogNormalEstimate,
    pub wrap: LogNormalEstimate,
    /// Start times of the dials of the last minute.
    pub recent_dials: VecDeque<Timestamp>,
    pub pacer: Pacer,
    /// Pending entries not yet due: (ready_at, entry).
    pub waiting: BTreeSet<(Timestamp, EntryId)>,
    /// Pending entries due: best first.
    pub ready: BTreeSet<(Reverse<i32>, EntryId)>,
    /// Entries with an open attempt or offer.
    pub open: BTreeSet<EntryId>,
    /// The pacer's latest decision (not replayed: the next decision replaces it).
    pub last_pacing: Option<PacingDecision>,
    /// Free agents blending held for inbound work at the latest dialing round.
    pub held_for_inbound: InboundHold,
}

const MINUTE: Duration = Duration::from_secs(60);

impl Campaign {
    /// A new campaign on a checked spec.
    pub fn new(spec: CampaignSpec, pacer: Pacer) -> Self {
        let ledger = AbandonLedger::new(&spec.profile);
        let talk_prior = LogNormal::from_mean_cv(Duration::from_secs(120), 1.0);
        let wrap_prior = LogNormal::from_mean_cv(Duration::from_secs(30), 0.5);
        Self {
            dnc: spec.dnc.clone(),
            spec,
            run: RunState::Created,
            entries: vec![],
            by_number: HashMap::new(),
            by_result: BTreeMap::new(),
            given_up: BTreeMap::new(),
            dials: 0,
            connected: 0,
            resolved: 0,
            live: 0,
            ledger,
            talk: LogNormalEstimate::new(talk_prior, 20.0),
            wrap: LogNormalEstimate::new(wrap_prior, 20.0),
            recent_dials: VecDeque::new(),
            pacer,
            waiting: BTreeSet::new(),
            ready: BTreeSet::new(),
            open: BTreeSet::new(),
            last_pacing: None,
            held_for_inbound: InboundHold::default(),
        }
    }

    /// The entry, if it exists.
    pub fn entry(&self, id: EntryId) -> Option<&Entry> {
        self.entries.get(id.0 as usize)
    }

    /// Moves the entries due at `now` from waiting to ready.
    pub fn promote(&mut self, now: Timestamp) {
        while let Some(&(at, id)) = self.waiting.first() {
            if at > now {
                break;
            }
            self.waiting.pop_first();
            if let Some(entry) = self.entries.get(id.0 as usize) {
                self.ready.insert((Reverse(entry.record.priority), id));
            }
        }
    }

    /// Dials still allowed in the minute ending at `now`.
    pub fn rate_budget(&mut self, now: Timestamp) -> u32 {
        let since = time::sub(now, MINUTE);
        while self.recent_dials.front().is_some_and(|t| *t <= since) {
            self.recent_dials.pop_front();
        }
        self.spec
            .max_dials_per_minute
            .saturating_sub(self.recent_dials.len() as u32)
    }

    /// When the dials-per-minute budget next grows.
    pub fn rate_frees_at(&self) -> Option<Timestamp> {
        if (self.recent_dials.len() as u32) < self.spec.max_dials_per_minute {
            return None;
        }
        self.recent_dials.front().map(|t| time::add(*t, MINUTE))
    }

    fn set_state(&mut self, id: EntryId, state: EntryState) {
        let Some(entry) = self.entries.get_mut(id.0 as usize) else {
            return;
        };
        // Out of every index, then into the one its new state belongs to.
        if let EntryState::Pending { ready_at } = entry.state {
            self.waiting.remove(&(ready_at, id));
            self.ready.remove(&(Reverse(entry.record.priority), id));
        }
        self.open.remove(&id);
        match &state {
            EntryState::Pending { ready_at } => {
                self.waiting.insert((*ready_at, id));
            }
            EntryState::Done { .. } | EntryState::GivenUp { .. } => {}
            _ => {
                self.open.insert(id);
            }
        }
        if let EntryState::GivenUp { reason } = state {
            *self.given_up.entry(reason).or_default() += 1;
        }
        entry.state = state;
    }

    /// Takes back the dial of an entry whose attempt never left (its trunk had no channel or
    /// call token): the attempt, the dial and its place in the dials of the minute.
    fn take_back_dial(&mut self, id: EntryId) {
        let Some(entry) = self.entries.get_mut(id.0 as usize) else {
            return;
        };
        let EntryState::Dialing { attempt, since } = entry.state else {
            return;
        };
        entry.attempts = attempt.saturating_sub(1);
        self.dials = self.dials.saturating_sub(1);
        if let Some(i) = self.recent_dials.iter().rposition(|t| *t == since) {
            self.recent_dials.remove(i);
        }
    }

    /// Folds one of this campaign's events into the state (`Created` is the caller's).
    pub fn apply(&mut self, event: &CampaignEvent) {
        match event {
            CampaignEvent::Created { .. } => {}
            CampaignEvent::RecordsAdded { first, records, .. } => {
                for (i, record) in records.iter().enumerate() {
                    let id = EntryId(first.0 + i as u64);
                    if id.0 as usize != self.entries.len() {
                        // A gap or overlap cannot come from this engine's own log.
                        continue;
                    }
                    self.by_number.insert(record.number.clone(), id);
                    self.entries.push(Entry {
                        record: record.clone(),
                        state: EntryState::Pending {
                            ready_at: record.not_before,
                        },
                        attempts: 0,
                        results: BTreeMap::new(),
                    });
                    self.waiting.insert((record.not_before, id));
                }
            }
            CampaignEvent::DncAdded { numbers, .. } => {
                self.dnc.extend(numbers.iter().cloned());
            }
            CampaignEvent::DncRemoved { numbers, .. } => {
                for number in numbers {
                    self.dnc.remove(number);
                }
            }
            CampaignEvent::RunStateChanged { state, .. } => self.run = *state,
            CampaignEvent::Offered {
                at, entry, agent, ..
            } => self.set_state(
                *entry,
                EntryState::Offered {
                    agent: agent.clone(),
                    since: *at,
                },
            ),
            CampaignEvent::OfferSkipped {
                entry, retry_at, ..
            } => self.set_state(
                *entry,
                EntryState::Pending {
                    ready_at: *retry_at,
                },
            ),
            CampaignEvent::AttemptStarted {
                at, entry, attempt, ..
            } => {
                if let Some(e) = self.entries.get_mut(entry.0 as usize) {
                    e.attempts = *attempt;
                }
                self.dials += 1;
                self.recent_dials.push_back(*at);
                self.set_state(
                    *entry,
                    EntryState::Dialing {
                        attempt: *attempt,
                        since: *at,
                    },
                );
            }
            CampaignEvent::PickedUp {
                at, entry, attempt, ..
            } => self.set_state(
                *entry,
                EntryState::PickedUp {
                    attempt: *attempt,
                    since: *at,
                },
            ),
            CampaignEvent::Answered {
                at,
                entry,
                attempt,
                action,
                ..
            } => {
                self.resolved += 1;
                let state = match action {
                    AnswerAction::ToAgent { live } => {
                        if *live {
                            self.live += 1;
                        }
                        EntryState::WaitingAgent {
                            attempt: *attempt,
                            since: *at,
                            live: *live,
                        }
                    }
                    AnswerAction::Flow | AnswerAction::LeaveMessage => EntryState::InFlow {
                        attempt: *attempt,
                        since: *at,
                    },
                    // An attempt_ended follows at once.
                    AnswerAction::Drop => EntryState::InFlow {
                        attempt: *attempt,
                        since: *at,
                    },
                };
                self.set_state(*entry, state);
            }
            CampaignEvent::Connected { at, late, live, .. } => {
                self.connected += 1;
                if *live {
                    if *late {
                        // Counted as abandoned; nobody is redialed after a conversation.
                        self.ledger.record_abandoned(*at, &E164Sentinel::number());
                    } else {
                        self.ledger.record_connected(*at);
                    }
                }
            }
            CampaignEvent::Abandoned {
                at, number, live, ..
            } => {
                if *live {
                    self.ledger.record_abandoned(*at, number);
                }
            }
            CampaignEvent::AttemptEnded {
                entry,
                result,
                outcome,
                next,
                ..
            } => {
                if outcome.is_some() {
                    self.resolved += 1;
                }
                *self.by_result.entry(*result).or_default() += 1;
                if let Some(e) = self.entries.get_mut(entry.0 as usize) {
                    *e.results.entry(*result).or_default() += 1;
                }
                let state = match next {
                    NextStep::Retry { at } => EntryState::Pending { ready_at: *at },
                    NextStep::Done => EntryState::Done { result: *result },
                    NextStep::GivenUp { reason } => EntryState::GivenUp { reason: *reason },
                };
                self.set_state(*entry, state);
            }
            CampaignEvent::Held {
                entry,
                reason,
                until,
                ..
            } => {
                if *reason == HoldReason::TrunkBusy {
                    self.take_back_dial(*entry);
                }
                self.set_state(*entry, EntryState::Pending { ready_at: *until })
            }
            CampaignEvent::GivenUp { entry, reason, .. } => {
                self.set_state(*entry, EntryState::GivenUp { reason: *reason })
            }
            CampaignEvent::CallHandled { talk, wrap, .. } => {
                self.talk.observe(*talk);
                self.wrap.observe(*wrap);
            }
        }
    }

    /// The campaign's statistics at `now`.
    pub fn stats(&mut self, now: Timestamp) -> CampaignStats {
        let mut done = 0;
        let mut pending = 0;
        let mut in_progress = 0;
        for entry in &self.entries {
            match entry.state {
                EntryState::Done { .. } | EntryState::GivenUp { .. } => done += 1,
                EntryState::Pending { .. } | EntryState::Offered { .. } => pending += 1,
                _ => in_progress += 1,
            }
        }
        let abandon = self.ledger.stats(now);
        let config = self.pacer.config();
        CampaignStats {
            campaign: self.spec.id.clone(),
            state: self.run,
            total: self.entries.len() as u64,
            done,
            pending,
            in_progress,
            by_result: self.by_result.clone(),
            given_up: self.given_up.clone(),
            dials: self.dials,
            connected: self.connected,
            live_answered: abandon.live_answered,
            abandoned: abandon.abandoned,
            abandon_rate: abandon.rate(),
            abandon_cap: config.profile.cap(),
            abandon_aim: config.aim(),
            pacing_ratio: if self.connected == 0 {
                0.0
            } else {
                self.dials as f64 / self.connected as f64
            },
        }
    }
}

/// A number no record has: a late connection counts in the abandon rate without barring any
/// real number from redial.
struct E164Sentinel;

impl E164Sentinel {
    fn number() -> E164 {
        // Invariant: the literal is a valid E.164 number (ITU's reserved +999 prefix).
        E164::parse("+999000000000").unwrap_or_else(|_| unreachable!("valid literal"))
    }
}
