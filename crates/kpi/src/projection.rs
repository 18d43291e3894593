//! The fold: journal events in, per-queue and per-agent accumulators out.

use std::collections::{BTreeMap, HashMap};

use hotline_events::{AgentState, Event, EventKind, OfferFailCause, Timestamp};
use uuid::Uuid;

use crate::config::KpiConfig;
use crate::counters::{AgentCounters, QueueCounters, SurveyCounters};
use crate::report::{ms_of, AgentKpis, CallCounts, CallTotals, Definitions, PeriodKpis, QueueKpis};
use crate::series::{Granularity, Series};

mod callbacks;
mod campaigns;
mod snapshot;

use callbacks::CallbackTrack;
use snapshot::history;

/// A call being followed, from arrival to `call.ended`.
#[derive(Debug, Default)]
struct CallTrack {
    /// When `call.arrived` was seen: an end without a queue is then an IVR-only call.
    arrived: Option<i64>,
    /// The call entered a queue at some point.
    ever_queued: bool,
    /// The queue entry waiting for an agent: queue name and entry instant.
    queued: Option<(String, i64)>,
    /// The offers ringing now, by agent, with the instant each phone started ringing: one
    /// for a sequential offer, several for a ring-all entry.
    offers: BTreeMap<String, i64>,
    /// The connected agent, their queue and the instant of answer.
    answered: Option<(String, String, i64)>,
    hold_since: Option<i64>,
    hold_ms: u64,
    last_ms: i64,
    /// A callback's conversation (from `callback.connected`), not a queued call.
    callback: bool,
    /// An outbound campaign call (from `call.outbound`): its queue entry, answer, abandon
    /// and conversation count as campaign work, never as an inbound call.
    outbound: bool,
    /// A campaign call handed to a queue's agents, not yet connected nor abandoned: the
    /// queue and the instant of the hand-over (its outcome counts in that period).
    campaign_entry: Option<(String, i64)>,
}

/// How an offer that did not connect ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OfferEnd {
    /// The agent's side failed it (no answer, busy, declined, unreachable, logged out...).
    Failed,
    /// Another agent answered the call, or the call left the queue, while it rang.
    Withdrawn,
}

/// An agent's current state and series.
#[derive(Debug)]
struct AgentTrack {
    state: AgentState,
    since: i64,
    reason: Option<String>,
    last_queue: Option<String>,
    /// When the agent last left `on_call` (a post-call survey's call ends later).
    left_on_call: Option<i64>,
    /// The agent's last answered call was an outbound campaign call (its wrap-up is campaign
    /// work too).
    last_outbound: bool,
    series: Series<AgentCounters>,
}

/// The KPI projection of the event journal: pure (no clock, no I/O), deterministic, fed
/// one [`Event`] at a time in journal (`seq`) order. Duplicates (same node, `seq` not above
/// the last one applied) are ignored, so at-least-once streams can be fed as they come.
///
/// Definitions follow `KPIS.md`; see [`KpiConfig`] for the variants. Call outcomes
/// (answered, abandoned, waits, service level, rings) are counted in the bucket or period in
/// which the call entered the queue, so that answered + abandoned never exceed offered in
/// any window; handling times (talk, hold, wrap-up) in the period in which the work ended;
/// agent state time is split exactly at bucket and local-midnight boundaries.
#[derive(Debug)]
pub struct KpiProjection {
    config: KpiConfig,
    defs: Definitions,
    last_seq: BTreeMap<String, u64>,
    calls: HashMap<Uuid, CallTrack>,
    /// Callbacks not yet completed, given up or cancelled, by call id.
    callbacks: HashMap<Uuid, CallbackTrack>,
    /// The queue whose agents serve each campaign (from `campaign.created` or `call.outbound`).
    campaign_queues: BTreeMap<String, String>,
    /// Campaign dials not ended yet.
    campaign_dials: HashMap<campaigns::DialKey, campaigns::DialTrack>,
    queues: BTreeMap<String, Series<QueueCounters>>,
    agents: BTreeMap<String, AgentTrack>,
    totals: CallTotals,
    calls_series: Series<CallCounts>,
}

impl KpiProjection {
    /// An empty projection.
    pub fn new(config: KpiConfig) -> Self {
        Self {
            defs: Definitions::of(&config),
            last_seq: BTreeMap::new(),
            calls: HashMap::new(),
            callbacks: HashMap::new(),
            campaign_queues: BTreeMap::new(),
            campaign_dials: HashMap::new(),
            queues: BTreeMap::new(),
            agents: BTreeMap::new(),
            totals: CallTotals::default(),
            calls_series: Series::new(&config, config.default_queue.utc_offset),
            config,
        }
    }

    /// A projection with `events` applied in order (a replay of the journal).
    pub fn from_events<'a>(config: KpiConfig, events: impl IntoIterator<Item = &'a Event>) -> Self {
        let mut p = Self::new(config);
        for e in events {
            p.apply(e);
        }
        p
    }

    /// The settings in force.
    pub fn config(&self) -> &KpiConfig {
        &self.config
    }

    /// Folds one event in. Returns `false` when it was ignored as a duplicate (its `seq` is
    /// not above the last one applied from the same node).
    pub fn apply(&mut self, ev: &Event) -> bool {
        match self.last_seq.get(&ev.node) {
            Some(last) if ev.seq <= *last => return false,
            _ => {
                self.last_seq.insert(ev.node.clone(), ev.seq);
            }
        }
        let ts = ms_of(&ev.ts);
        let agent = ev.agent_id.as_deref();
        match (&ev.kind, ev.call_id) {
            (EventKind::CallArrived { .. }, Some(call)) => self.call_arrived(call, ts),
            (EventKind::CallOutbound { campaign, .. }, Some(call)) => {
                self.call_outbound(call, campaign, ev.queue.as_deref(), ts)
            }
            (EventKind::CallQueued { .. }, Some(call)) => {
                if let Some(queue) = ev.queue.as_deref() {
                    self.call_queued(call, queue, ts);
                }
            }
            (EventKind::CallOffered { .. }, Some(call)) => {
                if let Some(agent) = agent {
                    self.call_offered(call, agent, ts);
                }
            }
            (EventKind::CallOfferFailed { cause }, Some(call)) => {
                // The caller hanging up is the call leaving, not the agent failing the offer.
                let end = match cause {
                    OfferFailCause::CallerHungUp => OfferEnd::Withdrawn,
                    _ => OfferEnd::Failed,
                };
                self.offer_failed(call, agent, end, ts)
            }
            (EventKind::CallAnswered { wait_ms }, Some(call)) => {
                if let Some(agent) = agent {
                    self.call_answered(call, agent, *wait_ms, ts);
                }
            }
            (EventKind::CallAbandoned { wait_ms, .. }, Some(call)) => {
                self.call_abandoned(call, *wait_ms, ts)
            }
            (EventKind::CallHeld, Some(call)) => self.call_held(call, true, ts),
            (EventKind::CallResumed, Some(call)) => self.call_held(call, false, ts),
            (EventKind::CallEnded { reason, .. }, Some(call)) => {
                if !self.ends_a_callback_request(call, *reason) {
                    self.call_ended(call, ts);
                }
            }
            (
                EventKind::SurveyAnswered { .. }
                | EventKind::SurveyCompleted { .. }
                | EventKind::SurveySkipped { .. },
                _,
            ) => {
                if let Some(call) = ev.call_id {
                    self.survey_ends_talk(call, ts);
                }
                self.count_survey(&ev.kind, ev.queue.as_deref(), agent, ts);
            }
            (EventKind::AgentStateChanged { to, reason, .. }, _) => {
                if let Some(agent) = agent {
                    self.agent_state(agent, *to, reason.as_deref(), ts);
                }
            }
            _ => {
                if !self.campaign_event(ev, ts) {
                    self.callback_event(ev, ts);
                }
            }
        }
        true
    }

    /// Makes a configured queue appear in snapshots (with zero counts) before its first call.
    pub fn declare_queue(&mut self, queue: &str) {
        self.queue_series(queue);
    }

    /// Makes a configured agent appear in snapshots before its first state change, as
    /// logged out since `at`. An agent already known is left as it is.
    pub fn declare_agent(&mut self, agent: &str, at: Timestamp) {
        self.agent_track(agent, ms_of(&at));
    }

    /// Stops following calls with no event since `cutoff` (calls whose end was lost, e.g.
    /// in a crash), and campaign dials started before it. Their queue outcome stays as last
    /// known.
    pub fn forget_calls_before(&mut self, cutoff: Timestamp) {
        let cutoff = ms_of(&cutoff);
        self.calls.retain(|_, c| c.last_ms >= cutoff);
        self.forget_dials_before(cutoff);
    }

    /// A call already followed (from `call.arrived` or `call.queued`).
    fn known(&mut self, call: Uuid, ts: i64) -> Option<&mut CallTrack> {
        let c = self.calls.get_mut(&call)?;
        c.last_ms = c.last_ms.max(ts);
        Some(c)
    }

    fn call(&mut self, call: Uuid, ts: i64) -> &mut CallTrack {
        let c = self.calls.entry(call).or_default();
        c.last_ms = c.last_ms.max(ts);
        c
    }

    fn queue_series(&mut self, queue: &str) -> &mut Series<QueueCounters> {
        let offset = self.config.queue(queue).utc_offset;
        let config = &self.config;
        self.queues
            .entry(queue.to_owned())
            .or_insert_with(|| Series::new(config, offset))
    }

    fn agent_track(&mut self, agent: &str, ts: i64) -> &mut AgentTrack {
        let offset = self.config.default_queue.utc_offset;
        let config = &self.config;
        self.agents
            .entry(agent.to_owned())
            .or_insert_with(|| AgentTrack {
                state: AgentState::LoggedOut,
                since: ts,
                reason: None,
                last_queue: None,
                left_on_call: None,
                last_outbound: false,
                series: Series::new(config, offset),
            })
    }

    fn call_arrived(&mut self, call: Uuid, ts: i64) {
        let c = self.call(call, ts);
        if c.arrived.is_none() {
            c.arrived = Some(ts);
            self.totals.arrived += 1;
            self.calls_series.add_at(ts, |c| c.arrived += 1);
        }
    }

    fn call_queued(&mut self, call: Uuid, queue: &str, ts: i64) {
        let c = self.call(call, ts);
        if c.answered.is_some() || c.queued.as_ref().is_some_and(|(q, _)| q == queue) {
            return;
        }
        c.ever_queued = true;
        c.queued = Some((queue.to_owned(), ts));
        if c.outbound {
            // Counted at the hand-over; an agentless flow's own queue entry counts here.
            if c.campaign_entry.is_none() {
                c.campaign_entry = Some((queue.to_owned(), ts));
                self.queue_series(queue)
                    .add_at(ts, |q| q.campaigns.queued += 1);
            }
            return;
        }
        self.queue_series(queue).add_at(ts, |q| q.offered += 1);
    }

    fn call_offered(&mut self, call: Uuid, agent: &str, ts: i64) {
        let Some(c) = self.known(call, ts) else {
            return;
        };
        if c.queued.is_none() {
            return;
        }
        // Offers to other agents keep ringing (ring-all); the same agent offered again
        // without an end of the first offer has missed it (its end was not journaled).
        if let Some(at) = c.offers.insert(agent.to_owned(), ts) {
            self.offer_ended(agent, at, OfferEnd::Failed);
        }
        self.agent_track(agent, ts)
            .series
            .add_at(ts, |a| a.offers += 1);
    }

    fn offer_failed(&mut self, call: Uuid, agent: Option<&str>, end: OfferEnd, ts: i64) {
        let Some(c) = self.known(call, ts) else {
            return;
        };
        // A failure naming no agent concerns every offer of the call.
        let ended: Vec<(String, i64)> = match agent {
            Some(agent) => c.offers.remove_entry(agent).into_iter().collect(),
            None => std::mem::take(&mut c.offers).into_iter().collect(),
        };
        for (agent, at) in ended {
            self.offer_ended(&agent, at, end);
        }
    }

    /// Counts how an offer made at `at` ended, in the bucket of the offer.
    fn offer_ended(&mut self, agent: &str, at: i64, end: OfferEnd) {
        self.agent_track(agent, at)
            .series
            .add_at(at, |a| match end {
                OfferEnd::Failed => a.offers_failed += 1,
                OfferEnd::Withdrawn => a.offers_withdrawn += 1,
            });
    }

    /// Every offer of the call still ringing is withdrawn (another agent answered, or the
    /// call left): no failure of those agents.
    fn withdraw_offers(&mut self, offers: BTreeMap<String, i64>) {
        for (agent, at) in offers {
            self.offer_ended(&agent, at, OfferEnd::Withdrawn);
        }
    }

    fn call_answered(&mut self, call: Uuid, agent: &str, wait_ms: u64, ts: i64) {
        let Some(c) = self.known(call, ts) else {
            return;
        };
        let (Some((queue, queued_at)), None) = (c.queued.take(), &c.answered) else {
            return;
        };
        let mut offers = std::mem::take(&mut c.offers);
        c.answered = Some((agent.to_owned(), queue.clone(), ts));
        let outbound = c.outbound;
        let campaign_entry = c.campaign_entry.take();
        let offer_at = offers.remove(agent);
        let ring_ms = offer_at.map_or(0, |at| u64::try_from(ts - at).unwrap_or(0));
        // The other agents' phones stop ringing: withdrawn, not failed (ring-all).
        self.withdraw_offers(offers);
        if outbound {
            let (entry_queue, at) = campaign_entry.unwrap_or((queue.clone(), queued_at));
            self.campaign_connected(&entry_queue, at, wait_ms);
        } else {
            let t_ms = self.threshold_ms(&queue);
            self.queue_series(&queue).add_at(queued_at, |q| {
                q.answered += 1;
                q.wait_answered_ms += wait_ms;
                q.ring_answered_ms += ring_ms;
                if wait_ms <= t_ms {
                    q.answered_within_t += 1;
                }
            });
        }
        let a = self.agent_track(agent, ts);
        a.last_queue = Some(queue);
        a.last_outbound = outbound;
        let campaign = u64::from(outbound);
        match offer_at {
            Some(at) => a.series.add_at(at, |a| {
                a.answered += 1;
                a.ring_answered_ms += ring_ms;
                a.campaigns.connected += campaign;
            }),
            // Answered without a known offer: count the offer too, at the answer.
            None => a.series.add_at(ts, |a| {
                a.offers += 1;
                a.answered += 1;
                a.campaigns.connected += campaign;
            }),
        }
    }

    fn call_abandoned(&mut self, call: Uuid, wait_ms: u64, ts: i64) {
        let Some(c) = self.known(call, ts) else {
            return;
        };
        let Some((queue, queued_at)) = c.queued.take() else {
            return;
        };
        // The call's story is over; its `call.ended` has nothing to add.
        let offers = std::mem::take(&mut c.offers);
        let outbound = c.outbound;
        let campaign_entry = c.campaign_entry.take();
        self.calls.remove(&call);
        self.withdraw_offers(offers);
        if outbound {
            if let Some((queue, at)) = campaign_entry {
                self.campaign_abandoned(&queue, at);
            }
            return;
        }
        let short_ms = self.config.short_abandon_ms(&queue);
        let t_ms = self.threshold_ms(&queue);
        self.queue_series(&queue).add_at(queued_at, |q| {
            q.abandoned += 1;
            if wait_ms < short_ms {
                q.short_abandoned += 1;
            }
            if wait_ms > t_ms {
                q.abandoned_after_t += 1;
            }
        });
    }

    fn call_held(&mut self, call: Uuid, held: bool, ts: i64) {
        let Some(c) = self.known(call, ts) else {
            return;
        };
        if c.answered.is_none() {
            return;
        }
        match (held, c.hold_since) {
            (true, None) => c.hold_since = Some(ts),
            (false, Some(since)) => {
                c.hold_since = None;
                c.hold_ms += u64::try_from(ts - since).unwrap_or(0);
            }
            _ => {}
        }
    }

    fn call_ended(&mut self, call: Uuid, ts: i64) {
        let Some(c) = self.calls.remove(&call) else {
            return;
        };
        self.withdraw_offers(c.offers);
        match c.answered {
            Some((agent, queue, at)) => {
                let open_hold = c
                    .hold_since
                    .map_or(0, |s| u64::try_from(ts - s).unwrap_or(0));
                let connected = u64::try_from(ts - at).unwrap_or(0);
                let hold = (c.hold_ms + open_hold).min(connected);
                let talk = connected - hold;
                if c.callback {
                    self.callback_handled(&queue, &agent, talk, hold, ts);
                }
                if c.outbound {
                    self.campaign_handled(&queue, &agent, talk, hold, ts);
                }
                let add = |h: &mut u64, t: &mut u64, n: &mut u64| {
                    *n += 1;
                    *t += talk;
                    *h += hold;
                };
                self.queue_series(&queue)
                    .add_at(ts, |q| add(&mut q.hold_ms, &mut q.talk_ms, &mut q.handled));
                self.agent_track(&agent, ts)
                    .series
                    .add_at(ts, |a| add(&mut a.hold_ms, &mut a.talk_ms, &mut a.handled));
            }
            None => {
                // Handed to a queue and never connected: no agent took it in time (or the
                // queue refused it).
                if let Some((queue, at)) = &c.campaign_entry {
                    self.campaign_abandoned(queue, *at);
                }
                if let (Some(at), false) = (c.arrived, c.ever_queued) {
                    self.totals.ivr_only += 1;
                    self.calls_series.add_at(at, |c| c.ivr_only += 1);
                }
            }
        }
    }

    /// A survey runs after the agent hung up: the conversation ended when the agent left
    /// `on_call` (else at this first survey event), not at the call's later `call.ended`.
    fn survey_ends_talk(&mut self, call: Uuid, ts: i64) {
        let Some((agent, _, answered_at)) = self.calls.get(&call).and_then(|c| c.answered.clone())
        else {
            return;
        };
        let end = self
            .agents
            .get(&agent)
            .and_then(|a| a.left_on_call)
            .filter(|left| (answered_at..=ts).contains(left))
            .unwrap_or(ts);
        self.call_ended(call, end);
    }

    /// Counts a survey event: an answer's score, or an outcome (completed: a response).
    fn count_survey(
        &mut self,
        kind: &EventKind,
        queue: Option<&str>,
        agent: Option<&str>,
        ts: i64,
    ) {
        match kind {
            EventKind::SurveyAnswered { score, .. } => {
                let score = u64::from(*score);
                self.survey(queue, agent, ts, |s| {
                    s.answers += 1;
                    s.score_sum += score;
                });
            }
            EventKind::SurveyCompleted { .. } => self.survey(queue, agent, ts, |s| {
                s.offered += 1;
                s.responses += 1;
            }),
            EventKind::SurveySkipped { .. } => self.survey(queue, agent, ts, |s| s.offered += 1),
            _ => {}
        }
    }

    /// Counts a survey event for its queue and its agent, in the bucket of the event.
    fn survey(
        &mut self,
        queue: Option<&str>,
        agent: Option<&str>,
        ts: i64,
        add: impl Fn(&mut SurveyCounters),
    ) {
        if let Some(queue) = queue {
            self.queue_series(queue).add_at(ts, |q| add(&mut q.surveys));
        }
        if let Some(agent) = agent {
            self.agent_track(agent, ts)
                .series
                .add_at(ts, |a| add(&mut a.surveys));
        }
    }

    fn agent_state(&mut self, agent: &str, to: AgentState, reason: Option<&str>, ts: i64) {
        let known = self.agents.contains_key(agent);
        let a = self.agent_track(agent, ts);
        let closed = known.then(|| (a.state, a.since, a.reason.take()));
        a.state = to;
        a.reason = reason
            .filter(|r| to == AgentState::NotReady && !r.is_empty())
            .map(str::to_owned);
        let Some((state, since, old_reason)) = closed else {
            return;
        };
        // Emitters run concurrently: `ts` may step back a little; never count negative time.
        let end = ts.max(since);
        a.since = end;
        if state == AgentState::OnCall && to != AgentState::OnCall {
            a.left_on_call = Some(end);
        }
        a.series.add_interval(since, end, |c, ms| {
            c.add_state_time(state, old_reason.as_deref(), ms)
        });
        if state == AgentState::WrapUp {
            let ms = u64::try_from(end - since).unwrap_or(0);
            let outbound = a.last_outbound;
            a.series.add_at(end, |c| {
                c.wrap_up_ms += ms;
                if outbound {
                    c.campaigns.wrap_up_ms += ms;
                }
            });
            if let Some(queue) = a.last_queue.clone() {
                self.queue_series(&queue).add_at(end, |q| {
                    q.wrap_up_ms += ms;
                    if outbound {
                        q.campaigns.wrap_up_ms += ms;
                    }
                });
            }
        }
    }

    /// The retained daily, weekly or monthly rollups of `queue`, oldest first (empty for an
    /// unknown queue).
    pub fn queue_history(&self, queue: &str, g: Granularity) -> Vec<PeriodKpis<QueueKpis>> {
        let Some(series) = self.queues.get(queue) else {
            return Vec::new();
        };
        let t_ms = self.threshold_ms(queue);
        history(series, g, |c| QueueKpis::compute(c, &self.defs, Some(t_ms)))
    }

    /// The retained rollups of `agent`, oldest first; state time counts up to the agent's
    /// last state change.
    pub fn agent_history(&self, agent: &str, g: Granularity) -> Vec<PeriodKpis<AgentKpis>> {
        let Some(a) = self.agents.get(agent) else {
            return Vec::new();
        };
        history(&a.series, g, |c| AgentKpis::compute(c, &self.defs))
    }
}
