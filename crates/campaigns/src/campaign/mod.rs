//! The campaign engine: outbound campaigns (preview, progressive, predictive, agentless) over
//! imported lists, as a pure state machine the server drives.
//!
//! The driver owns one [`CampaignEngine`] and
//! - feeds it [`Command`]s with the current time ([`CampaignEngine::handle`]): create, add
//!   records (from a [`crate::list::ListImport`]), start, pause, stop, resume, a preview agent's
//!   accept or skip, and what happened to each call (the SIP final response classified by
//!   [`crate::classify`], the detector's verdict, the agent who took it, an abandon, the end of
//!   an agentless flow);
//! - calls [`CampaignEngine::next_dials`] whenever agents free up, a call ends, and when
//!   [`CampaignEngine::poll_timeout`] says so, with the agents free and busy per campaign,
//!   their inbound service levels and the trunks' free channels: it answers with
//!   [`Work`] (dials to start, preview records to show an agent), chosen by the
//!   [`crate::pacing::Pacer`] for predictive campaigns, one per free agent for progressive
//!   ones, within the agentless line count, the dials per minute and the trunk's channels;
//! - drains [`CampaignEngine::poll_event`], appends each event to its journal and fsyncs it,
//!   and only then acts (an `attempt_started` before its INVITE);
//! - on restart rebuilds the engine with [`CampaignEngine::restore`] from the journal and
//!   sends [`Command::Restarted`]: an attempt without an outcome becomes `unknown` and is not
//!   dialed again before the unknown outcome's retry delay.
//!
//! The do-not-call lists (the global one given to each dial decision, the campaign's own),
//! the calling window in the customer's local time and the profile's no-redial bar after an
//! abandon are checked when a record is about to be dialed; a record that fails is given up
//! or held until it may be dialed, with an event either way. A record has at most one attempt
//! open at a time.
//!
//! ```
//! use hotline_campaigns::campaign::*;
//! use hotline_campaigns::list::{Country, ImportOptions, ListImport};
//! use hotline_campaigns::{classify, AgentName, E164, FinalResponse, NoDnc, QueueName};
//!
//! let trunk = TrunkSpec { name: TrunkName::new("carrier"), channels: 30 };
//! let caller_id = E164::parse("+442071234567").unwrap();
//! let spec = CampaignSpec::new(CampaignId::new("renewals"), QueueName::new("sales"), caller_id, trunk);
//! let id = spec.id.clone();
//! let list = ListImport::from_slice(
//!     "phone,name\n020 7946 0001,Ann\n020 7946 0002,Bob\n".as_bytes(),
//!     &ImportOptions { country: Some(Country::GB) },
//! ).unwrap();
//! // Tuesday 10:00 in London.
//! let now: jiff::Timestamp = "2026-12-08T10:00:00Z".parse().unwrap();
//! let mut engine = CampaignEngine::new();
//! engine.handle(now, Command::Create(Box::new(spec)), &NoDnc).unwrap();
//! engine.handle(now, Command::AddRecords { campaign: id.clone(), records: list.records }, &NoDnc).unwrap();
//! engine.handle(now, Command::Start { campaign: id.clone() }, &NoDnc).unwrap();
//! // One free agent: progressive dials one record.
//! let free = CampaignCapacity { free_agents: vec![FreeAgent { name: AgentName::new("alice"), inbound: vec![] }], busy: vec![] };
//! let capacity = DialCapacity { campaigns: [(id.clone(), free)].into(), ..Default::default() };
//! let work = engine.next_dials(now, &capacity, &NoDnc);
//! let [Work::Dial(order)] = &work[..] else { panic!("{work:?}") };
//! assert_eq!(order.number.as_str(), "+442079460001");
//! let busy = classify(FinalResponse { status: 486, retry_after: None, reason: None, cancelled_by_us: false });
//! let report = Command::Outcome { campaign: id.clone(), entry: order.entry, attempt: order.attempt, outcome: busy };
//! engine.handle(now, report, &NoDnc).unwrap();
//! let types: Vec<_> = std::iter::from_fn(|| engine.poll_event()).map(|e| e.type_name()).collect();
//! assert_eq!(types, ["created", "records_added", "run_state_changed", "attempt_started", "attempt_ended"]);
//! let stats = engine.stats(now, &id).unwrap();
//! assert_eq!((stats.total, stats.pending, stats.dials), (2, 2, 1));
//! ```

mod command;
mod dial;
mod event;
mod redial;
mod retry;
mod spec;
mod state;

#[cfg(test)]
mod capacity_tests;
#[cfg(test)]
mod profile_tests;
#[cfg(test)]
mod proptests;
#[cfg(test)]
mod redial_tests;
#[cfg(test)]
mod retry_tests;
#[cfg(test)]
mod sim_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod testutil;
#[cfg(test)]
mod trunk_tests;
#[cfg(test)]
mod window_tests;

pub use command::{Command, CommandError, TRUNK_BUSY_RETRY};
pub use dial::{CampaignCapacity, DialCapacity, DialOrder, FreeAgent, PreviewOffer, Work};
pub use event::{
    AgentlessResult, AnswerAction, AnswerVerdict, AttemptResult, CampaignEvent, EntryId,
    EntryRecord, GiveUpReason, HoldReason, NextStep, NotAdded, RunState, SkipReason,
};
pub use retry::CampaignRetry;
pub use spec::{
    AbandonMessage, AmdAction, AmdSettings, Audience, BlendRule, CampaignId, CampaignSpec,
    SpecError, TrunkName, TrunkSpec,
};
pub use state::{CampaignStats, Entry, EntryState};

use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

use jiff::Timestamp;

use crate::pacing::Pacer;
use crate::time;
use state::Campaign;

/// How long after its phase should have ended an open attempt without news becomes `unknown`.
pub const OUTCOME_GRACE: Duration = Duration::from_secs(60);
/// How long answering-machine detection may take.
pub const DETECTION_TIME: Duration = Duration::from_secs(30);
/// The longest agentless flow.
pub const FLOW_LIMIT: Duration = Duration::from_secs(3600);

/// Why the engine wants to be woken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EngineTimer {
    /// An attempt had no news for too long (call [`CampaignEngine::handle_timeout`]).
    AttemptOverdue {
        /// The campaign.
        campaign: CampaignId,
        /// The entry.
        entry: EntryId,
    },
    /// A preview offer expires (call [`CampaignEngine::handle_timeout`]).
    OfferExpires {
        /// The campaign.
        campaign: CampaignId,
        /// The entry.
        entry: EntryId,
    },
    /// A record becomes due (call [`CampaignEngine::next_dials`]).
    EntryDue {
        /// The campaign.
        campaign: CampaignId,
    },
    /// The dials-per-minute budget grows again (call [`CampaignEngine::next_dials`]).
    RateBudget {
        /// The campaign.
        campaign: CampaignId,
    },
    /// The latest dialing round wanted more than its trunks' free channels or call-rate
    /// tokens allowed: look again (call [`CampaignEngine::next_dials`]).
    TrunkBudget,
}

/// How soon after a dialing round held back by its trunks the engine asks to dial again.
pub const TRUNK_RECHECK: Duration = Duration::from_secs(1);

/// The campaign engine (see the module documentation for the driver's loop).
#[derive(Debug, Default)]
pub struct CampaignEngine {
    campaigns: BTreeMap<CampaignId, Campaign>,
    out: VecDeque<CampaignEvent>,
    now: Option<Timestamp>,
    /// Numbers no campaign may dial yet (an abandon under a profile with a no-redial bar).
    redial: redial::RedialBar,
    /// When the latest dialing round was held back by its trunks' channels or call rate.
    trunk_limited: Option<Timestamp>,
}

impl CampaignEngine {
    /// An engine without campaigns.
    pub fn new() -> Self {
        Self::default()
    }

    /// Rebuilds an engine from its logged events (then send [`Command::Restarted`]).
    pub fn restore<'a>(events: impl IntoIterator<Item = &'a CampaignEvent>) -> Self {
        let mut engine = Self::new();
        for event in events {
            engine.apply(event);
        }
        engine
    }

    /// Folds a logged event into the state without emitting it (replay).
    pub fn apply(&mut self, event: &CampaignEvent) {
        let at = event.at();
        self.now = Some(self.now.map_or(at, |now| now.max(at)));
        if let CampaignEvent::Created { spec, .. } = event {
            // A spec in the log was checked when it was created.
            if let Ok(pacer) = Pacer::new(spec.pacer_config()) {
                self.campaigns
                    .insert(spec.id.clone(), Campaign::new((**spec).clone(), pacer));
            }
            return;
        }
        if let Some(campaign) = self.campaigns.get_mut(event.campaign()) {
            if let CampaignEvent::Abandoned {
                at,
                number,
                live: true,
                ..
            } = event
            {
                if let Some(bar) = campaign.spec.profile.no_redial_after_abandon() {
                    self.redial.insert(number, time::add(*at, bar));
                }
            }
            campaign.apply(event);
        }
    }

    /// Applies and queues an event.
    fn emit(&mut self, event: CampaignEvent) {
        self.apply(&event);
        self.out.push_back(event);
    }

    /// The next event to write (and fsync), then carry out.
    pub fn poll_event(&mut self) -> Option<CampaignEvent> {
        self.out.pop_front()
    }

    /// The campaigns' ids.
    pub fn campaigns(&self) -> impl Iterator<Item = &CampaignId> {
        self.campaigns.keys()
    }

    /// A campaign's specification.
    pub fn spec(&self, campaign: &CampaignId) -> Option<&CampaignSpec> {
        self.campaigns.get(campaign).map(|c| &c.spec)
    }

    /// A campaign's own do-not-call list (its specification's numbers and those added since,
    /// less those removed).
    pub fn dnc(&self, campaign: &CampaignId) -> Option<&std::collections::BTreeSet<crate::E164>> {
        self.campaigns.get(campaign).map(|c| &c.dnc)
    }

    /// A campaign's run state.
    pub fn run_state(&self, campaign: &CampaignId) -> Option<RunState> {
        self.campaigns.get(campaign).map(|c| c.run)
    }

    /// A campaign's entries, in the order they were added (index = [`EntryId`]).
    pub fn entries(&self, campaign: &CampaignId) -> &[Entry] {
        self.campaigns
            .get(campaign)
            .map_or(&[], |c| c.entries.as_slice())
    }

    /// A campaign's statistics at `now`.
    pub fn stats(&mut self, now: Timestamp, campaign: &CampaignId) -> Option<CampaignStats> {
        self.campaigns.get_mut(campaign).map(|c| c.stats(now))
    }

    /// The pacer's latest decision for a campaign (mode followed, why, answer rate, agents
    /// expected free, abandon rate, safety): what the API reports as the pacing state.
    pub fn last_pacing(&self, campaign: &CampaignId) -> Option<crate::pacing::PacingDecision> {
        self.campaigns.get(campaign).and_then(|c| c.last_pacing)
    }

    /// How many of a campaign's free agents the latest dialing round held for inbound work
    /// (blending: a caller waiting, a queue under its target).
    pub fn held_for_inbound(&self, campaign: &CampaignId) -> Option<crate::pacing::InboundHold> {
        self.campaigns.get(campaign).map(|c| c.held_for_inbound)
    }

    /// The next instant the engine needs the driver, and why.
    pub fn poll_timeout(&self) -> Option<(Timestamp, EngineTimer)> {
        let mut best: Option<(Timestamp, EngineTimer)> = None;
        let mut consider = |at: Timestamp, timer: EngineTimer| {
            if best.as_ref().is_none_or(|(b, _)| at < *b) {
                best = Some((at, timer));
            }
        };
        if let Some(at) = self.trunk_limited {
            consider(time::add(at, TRUNK_RECHECK), EngineTimer::TrunkBudget);
        }
        for (id, c) in &self.campaigns {
            for entry in &c.open {
                if let Some((at, offer)) = c.entry(*entry).and_then(|e| deadline(c, &e.state)) {
                    let (campaign, entry) = (id.clone(), *entry);
                    let timer = if offer {
                        EngineTimer::OfferExpires { campaign, entry }
                    } else {
                        EngineTimer::AttemptOverdue { campaign, entry }
                    };
                    consider(at, timer);
                }
            }
            if c.run != RunState::Running {
                continue;
            }
            if let Some((at, _)) = c.waiting.first() {
                consider(
                    *at,
                    EngineTimer::EntryDue {
                        campaign: id.clone(),
                    },
                );
            }
            if !c.ready.is_empty() {
                if let Some(at) = c.rate_frees_at() {
                    consider(
                        at,
                        EngineTimer::RateBudget {
                            campaign: id.clone(),
                        },
                    );
                }
            }
        }
        best
    }

    /// Ends what is overdue at `now`: attempts without news become `unknown` (retried after
    /// the unknown outcome's delay), a live answer never reported connected is abandoned,
    /// preview offers not answered go back to the list.
    pub fn handle_timeout(&mut self, now: Timestamp) {
        let mut overdue = vec![];
        for (id, c) in &self.campaigns {
            for entry in &c.open {
                let Some(e) = c.entry(*entry) else { continue };
                if let Some((at, _)) = deadline(c, &e.state) {
                    if at <= now {
                        overdue.push((id.clone(), *entry, e.state.clone()));
                    }
                }
            }
        }
        for (campaign, entry, state) in overdue {
            match state {
                // A live answer nobody reported connected: counted as abandoned, which keeps
                // the rate on the safe side of the cap.
                EntryState::WaitingAgent { attempt, live, .. } => {
                    self.abandon(now, &campaign, entry, attempt, live)
                }
                EntryState::Offered { .. } => self.emit(CampaignEvent::OfferSkipped {
                    at: now,
                    campaign,
                    entry,
                    reason: SkipReason::Timeout,
                    retry_at: now,
                }),
                other => {
                    if let Some(attempt) = other.open_attempt() {
                        self.end_attempt(
                            now,
                            &campaign,
                            entry,
                            attempt,
                            AttemptResult::Unknown,
                            None,
                            None,
                        );
                    }
                }
            }
        }
    }

    /// Emits the end of an attempt with its next step.
    #[allow(clippy::too_many_arguments)]
    fn end_attempt(
        &mut self,
        now: Timestamp,
        campaign: &CampaignId,
        entry: EntryId,
        attempt: u32,
        result: AttemptResult,
        outcome: Option<crate::outcome::DialOutcome>,
        barred_until: Option<Timestamp>,
    ) {
        let Some(c) = self.campaigns.get(campaign) else {
            return;
        };
        let Some(e) = c.entry(entry) else { return };
        let retry_after = outcome.and_then(|o| o.retry_after());
        let next = next_step(&c.spec, e, result, retry_after, now, barred_until);
        self.emit(CampaignEvent::AttemptEnded {
            at: now,
            campaign: campaign.clone(),
            entry,
            attempt,
            result,
            outcome,
            next,
        });
    }
}

/// When an open entry's phase is overdue, and whether it is an offer.
fn deadline(c: &Campaign, state: &EntryState) -> Option<(Timestamp, bool)> {
    let spec = &c.spec;
    let (since, limit, offer) = match state {
        EntryState::Offered { since, .. } => (*since, spec.preview_timeout, true),
        EntryState::Dialing { since, .. } => (*since, spec.effective_ring_timeout(), false),
        EntryState::PickedUp { since, .. } => (*since, DETECTION_TIME, false),
        EntryState::WaitingAgent { since, .. } => (*since, spec.profile.connect_within(), false),
        EntryState::InFlow { since, .. } => (*since, FLOW_LIMIT, false),
        _ => return None,
    };
    let grace = if offer { Duration::ZERO } else { OUTCOME_GRACE };
    Some((time::add(since, limit + grace), offer))
}

/// What happens to a record after an attempt with `result` ended at `now`.
fn next_step(
    spec: &CampaignSpec,
    entry: &Entry,
    result: AttemptResult,
    retry_after: Option<Duration>,
    now: Timestamp,
    barred_until: Option<Timestamp>,
) -> NextStep {
    let rule = match result {
        AttemptResult::Connected
        | AttemptResult::MessageLeft
        | AttemptResult::FlowCompleted
        | AttemptResult::FlowHungUp => return NextStep::Done,
        AttemptResult::InvalidNumber => {
            return NextStep::GivenUp {
                reason: GiveUpReason::InvalidNumber,
            }
        }
        AttemptResult::Abandoned => Some(spec.retry_abandoned),
        AttemptResult::MachineDropped => spec.retry_machine,
        other => other.outcome_kind().and_then(|k| spec.retry.rule(k)),
    };
    let Some(rule) = rule else {
        return NextStep::Done;
    };
    // The rule's limit counts this attempt: 3 retries an outcome twice, 1 (or 0) never.
    let used = entry.results.get(&result).copied().unwrap_or(0) + 1;
    if used >= rule.max_attempts || entry.attempts >= spec.attempt_limit() {
        return NextStep::GivenUp {
            reason: GiveUpReason::AttemptsExhausted,
        };
    }
    let wait = rule.delay.max(
        retry_after
            .unwrap_or_default()
            .min(crate::config::MAX_RETRY_AFTER),
    );
    let mut at = time::add(now, wait);
    if let Some(until) = barred_until {
        at = at.max(until);
    }
    if entry.record.deadline.is_some_and(|d| at >= d) {
        return NextStep::GivenUp {
            reason: GiveUpReason::Expired,
        };
    }
    NextStep::Retry { at }
}
