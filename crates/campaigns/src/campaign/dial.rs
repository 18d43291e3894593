//! Choosing what to dial now: pacing per mode, dials per minute, trunk channels, and the
//! checks made on each record just before it is dialed.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use jiff::Timestamp;

use super::event::{CampaignEvent, EntryId, GiveUpReason, HoldReason, RunState};
use super::redial::RedialBar;
use super::spec::{CampaignId, TrunkName};
use super::state::{Campaign, EntryState};
use super::CampaignEngine;
use crate::ids::AgentName;
use crate::number::E164;
use crate::pacing::{
    BusyAgent, DialMode, InboundHold, InboundLevel, OutboundEligibility, PacingInput,
};
use crate::scheduler::DoNotCall;
use crate::time;

/// A free agent of a campaign, with the inbound queues it also serves.
#[derive(Debug, Clone, PartialEq)]
pub struct FreeAgent {
    /// The agent.
    pub name: AgentName,
    /// Its inbound queues as measured now (blending: inbound first).
    pub inbound: Vec<InboundLevel>,
}

/// One campaign's agents as the driver sees them now.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CampaignCapacity {
    /// Agents logged in to the campaign, idle and not reserved.
    pub free_agents: Vec<FreeAgent>,
    /// The campaign's busy agents (the pacer forecasts who frees up soon).
    pub busy: Vec<BusyAgent>,
}

/// What the driver can give the campaigns now.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DialCapacity {
    /// Per campaign.
    pub campaigns: BTreeMap<CampaignId, CampaignCapacity>,
    /// Free channels per trunk as the driver counts them now (the server: every outbound
    /// call holding one of the trunk's channels: transfers, callback dials, campaign calls;
    /// inbound calls from the trunk's gateway take no channel). Shared by every campaign on
    /// the trunk: each dial or preview offer of one round takes one. A trunk not listed: no
    /// limit but the campaign's own `trunk.channels` less the engine's open attempts on it.
    pub trunks_free: BTreeMap<TrunkName, u32>,
    /// Dials each trunk may start now (its calls-per-second tokens), shared the same way; a
    /// trunk not listed has no call-rate limit.
    pub trunks_rate: BTreeMap<TrunkName, u32>,
}

/// A dial to make: the `attempt_started` event is queued before it; write and fsync it, then
/// send the INVITE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DialOrder {
    /// The campaign.
    pub campaign: CampaignId,
    /// The entry.
    pub entry: EntryId,
    /// The attempt (report it with every outcome).
    pub attempt: u32,
    /// Whom to dial.
    pub number: E164,
    /// The caller ID to present.
    pub caller_id: E164,
    /// The trunk.
    pub trunk: TrunkName,
    /// How long to ring before cancelling.
    pub ring_timeout: Duration,
    /// The preview agent who accepted it (bridge the answer to this agent).
    pub agent: Option<AgentName>,
    /// The agentless flow to run on answer.
    pub flow: Option<String>,
}

/// A preview record to show an agent (the `offered` event is queued before it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreviewOffer {
    /// The campaign.
    pub campaign: CampaignId,
    /// The entry.
    pub entry: EntryId,
    /// The agent.
    pub agent: AgentName,
}

/// What [`CampaignEngine::next_dials`] asks of the driver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Work {
    /// Dial.
    Dial(DialOrder),
    /// Show a preview record to an agent.
    Offer(PreviewOffer),
}

/// Why a record may not be dialed now.
enum Refusal {
    Hold(HoldReason, Timestamp),
    GiveUp(GiveUpReason),
}

/// The checks just before a dial: deadline, do-not-call lists, time zone, calling window,
/// the no-redial bar after an abandon, attempts left.
fn check(
    c: &mut Campaign,
    bar: &mut RedialBar,
    entry: EntryId,
    now: Timestamp,
    dnc: &dyn DoNotCall,
) -> Result<(), Refusal> {
    let Some(e) = c.entries.get(entry.0 as usize) else {
        return Err(Refusal::GiveUp(GiveUpReason::InvalidNumber));
    };
    let record = &e.record;
    if record.deadline.is_some_and(|d| d <= now) {
        return Err(Refusal::GiveUp(GiveUpReason::Expired));
    }
    if dnc.blocks(&record.number) || c.dnc.contains(&record.number) {
        return Err(Refusal::GiveUp(GiveUpReason::DoNotCall));
    }
    if e.attempts >= c.spec.attempt_limit() {
        return Err(Refusal::GiveUp(GiveUpReason::AttemptsExhausted));
    }
    let Some(zone) = record.time_zone.as_ref().or(c.spec.default_zone.as_ref()) else {
        return Err(Refusal::GiveUp(GiveUpReason::NoTimeZone));
    };
    if !c.spec.window.is_open(now, zone) {
        // A checked window always opens within a week; a day later is a safe retry otherwise.
        let until = c
            .spec
            .window
            .next_open(now, zone)
            .filter(|at| *at > now)
            .unwrap_or_else(|| time::add(now, Duration::from_secs(86_400)));
        return Err(Refusal::Hold(HoldReason::OutsideWindow, until));
    }
    bar.expire(now);
    bar.check(now, &record.number)
        .map_err(|until| Refusal::Hold(HoldReason::NoRedialBar, until))
}

impl CampaignEngine {
    /// Events for a record refused at dial time.
    fn refuse(&mut self, now: Timestamp, campaign: &CampaignId, entry: EntryId, why: Refusal) {
        let campaign = campaign.clone();
        self.emit(match why {
            Refusal::Hold(reason, until) => CampaignEvent::Held {
                at: now,
                campaign,
                entry,
                reason,
                until,
            },
            Refusal::GiveUp(reason) => CampaignEvent::GivenUp {
                at: now,
                campaign,
                entry,
                reason,
            },
        });
    }

    /// Checks a record and, when it may be dialed, queues `attempt_started` and returns the
    /// order; otherwise queues why (held or given up).
    pub(super) fn try_dial(
        &mut self,
        now: Timestamp,
        campaign: &CampaignId,
        entry: EntryId,
        agent: Option<AgentName>,
        dnc: &dyn DoNotCall,
    ) -> Option<DialOrder> {
        let c = self.campaigns.get_mut(campaign)?;
        if let Err(why) = check(c, &mut self.redial, entry, now, dnc) {
            self.refuse(now, campaign, entry, why);
            return None;
        }
        let e = c.entries.get(entry.0 as usize)?;
        let order = DialOrder {
            campaign: campaign.clone(),
            entry,
            attempt: e.attempts + 1,
            number: e.record.number.clone(),
            caller_id: c.spec.caller_id.clone(),
            trunk: c.spec.trunk.name.clone(),
            ring_timeout: c.spec.effective_ring_timeout(),
            agent,
            flow: c.spec.flow().map(str::to_owned),
        };
        self.emit(CampaignEvent::AttemptStarted {
            at: now,
            campaign: campaign.clone(),
            entry,
            attempt: order.attempt,
            number: order.number.clone(),
            trunk: order.trunk.clone(),
            agent: order.agent.clone(),
        });
        Some(order)
    }

    /// Calls in progress per trunk (every campaign's open attempts).
    fn trunk_load(&self) -> BTreeMap<TrunkName, u32> {
        let mut load = BTreeMap::new();
        for c in self.campaigns.values() {
            let calls = c
                .open
                .iter()
                .filter(|e| c.entries[e.0 as usize].state.open_attempt().is_some())
                .count() as u32;
            *load.entry(c.spec.trunk.name.clone()).or_insert(0) += calls;
        }
        load
    }

    /// What to dial (or offer) now, campaign by campaign in id order: running campaigns
    /// only; due records best first (priority, then the order they were added); each record
    /// checked against `dnc`, the campaign's list, its window and the no-redial bar first.
    pub fn next_dials(
        &mut self,
        now: Timestamp,
        capacity: &DialCapacity,
        dnc: &dyn DoNotCall,
    ) -> Vec<Work> {
        self.handle_timeout(now);
        self.trunk_limited = None;
        let mut trunk_used = self.trunk_load();
        let mut trunk_free = capacity.trunks_free.clone();
        let mut trunk_rate = capacity.trunks_rate.clone();
        let mut work = vec![];
        let ids: Vec<CampaignId> = self.campaigns.keys().cloned().collect();
        let none = CampaignCapacity::default();
        for id in ids {
            let cap = capacity.campaigns.get(&id).unwrap_or(&none);
            let Some(c) = self.campaigns.get_mut(&id) else {
                continue;
            };
            if c.run != RunState::Running {
                continue;
            }
            c.promote(now);
            let offered: BTreeSet<&AgentName> = c
                .open
                .iter()
                .filter_map(|e| match &c.entries[e.0 as usize].state {
                    EntryState::Offered { agent, .. } => Some(agent),
                    _ => None,
                })
                .collect();
            let mut held = InboundHold::default();
            let eligible: Vec<AgentName> = cap
                .free_agents
                .iter()
                .filter(|a| !offered.contains(&a.name))
                .filter(|a| {
                    if !c.spec.blend.inbound_first {
                        return true;
                    }
                    let eligibility = OutboundEligibility::of(&a.inbound);
                    held.count(&eligibility);
                    eligibility.is_eligible()
                })
                .map(|a| a.name.clone())
                .collect();
            c.held_for_inbound = held;
            let mode = c.spec.mode;
            let rate = c.rate_budget(now);
            let trunk = c.spec.trunk.clone();
            let used = trunk_used.get(&trunk.name).copied().unwrap_or(0);
            let own = trunk.channels.saturating_sub(used);
            let shared = trunk_free
                .get(&trunk.name)
                .copied()
                .unwrap_or(u32::MAX)
                .min(trunk_rate.get(&trunk.name).copied().unwrap_or(u32::MAX));
            let wanted = if mode == DialMode::Preview {
                // Nothing is dialed ahead, but the decision is what the API shows (and with
                // it the agents blending held).
                pace(c, now, &eligible, cap);
                eligible.len() as u32
            } else {
                pace(c, now, &eligible, cap)
            };
            let ready = !c.ready.is_empty();
            // A preview offer takes its dial and channel when it is offered: the agent's
            // accept dials at once.
            let mut budget = wanted.min(rate).min(own).min(shared);
            if ready && shared < wanted.min(rate).min(own) {
                // Channels or tokens other calls hold free up without telling the engine.
                self.trunk_limited = Some(now);
            }
            let mut agents = eligible.into_iter();
            while budget > 0 {
                let Some(c) = self.campaigns.get_mut(&id) else {
                    break;
                };
                let Some((_, entry)) = c.ready.pop_first() else {
                    break;
                };
                if mode == DialMode::Preview {
                    if let Err(why) = check(c, &mut self.redial, entry, now, dnc) {
                        self.refuse(now, &id, entry, why);
                        continue;
                    }
                    let Some(agent) = agents.next() else {
                        // Back where it was: no agent left to show it to.
                        let priority = c_priority(self, &id, entry);
                        if let Some(c) = self.campaigns.get_mut(&id) {
                            c.ready.insert((std::cmp::Reverse(priority), entry));
                        }
                        break;
                    };
                    self.emit(CampaignEvent::Offered {
                        at: now,
                        campaign: id.clone(),
                        entry,
                        agent: agent.clone(),
                    });
                    work.push(Work::Offer(PreviewOffer {
                        campaign: id.clone(),
                        entry,
                        agent,
                    }));
                    take(&mut trunk_free, &trunk.name);
                    take(&mut trunk_rate, &trunk.name);
                    budget -= 1;
                    continue;
                }
                if let Some(order) = self.try_dial(now, &id, entry, None, dnc) {
                    *trunk_used.entry(order.trunk.clone()).or_insert(0) += 1;
                    take(&mut trunk_free, &order.trunk);
                    take(&mut trunk_rate, &order.trunk);
                    work.push(Work::Dial(order));
                    budget -= 1;
                }
            }
        }
        work
    }
}

/// How many calls the pacer starts now for a progressive, predictive or agentless campaign.
fn pace(c: &mut Campaign, now: Timestamp, eligible: &[AgentName], cap: &CampaignCapacity) -> u32 {
    let mut ringing = 0;
    let mut waiting_live = 0;
    let mut in_flow = 0;
    for e in &c.open {
        match c.entries[e.0 as usize].state {
            EntryState::Dialing { .. } | EntryState::PickedUp { .. } => ringing += 1,
            EntryState::WaitingAgent { .. } => waiting_live += 1,
            EntryState::InFlow { .. } => in_flow += 1,
            _ => {}
        }
    }
    if c.spec.mode == DialMode::Agentless {
        ringing += in_flow + waiting_live;
        waiting_live = 0;
    }
    let abandon = c.ledger.stats(now);
    let input = PacingInput {
        resolved_dials: c.resolved,
        live_answers: c.live,
        talk: c.talk.model(),
        wrap: c.wrap.model(),
        free_agents: eligible.len() as u32,
        busy: &cap.busy,
        ringing,
        waiting_live,
        abandon,
    };
    let decision = c.pacer.decide(&input);
    c.last_pacing = Some(decision);
    decision.dials
}

/// One of a trunk's shared channels or tokens taken (a trunk not listed has no limit).
fn take(left: &mut BTreeMap<TrunkName, u32>, trunk: &TrunkName) {
    if let Some(n) = left.get_mut(trunk) {
        *n = n.saturating_sub(1);
    }
}

fn c_priority(engine: &CampaignEngine, id: &CampaignId, entry: EntryId) -> i32 {
    engine
        .campaigns
        .get(id)
        .and_then(|c| c.entry(entry))
        .map_or(0, |e| e.record.priority)
}
