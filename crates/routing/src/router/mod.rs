//! The router: queues, agents and offers, driven by commands and timers.
//!
//! # Distribution rule
//!
//! Waiting entries are considered in this order: first those whose queue is furthest behind its
//! service-level target over the queue's rolling window (`service_level_window`, default one
//! hour; queues without a target count as on target), then higher `priority`,
//! then the original entry time (kept across missed offers and requeues, and by callback entries,
//! see `callbacks`). Each entry goes to a
//! `Ready` agent that has every required skill at the minimum proficiency its current relaxation
//! step asks for, chosen among the members of its queue and of the overflow queues its relaxation
//! steps added:
//!
//! 1. the lowest penalty (an agent in several of those queues counts its lowest penalty);
//! 2. then the most preferred skills met (preferred skills only score, never exclude);
//! 3. then the queue's [`crate::Strategy`]; remaining ties go to the agent listed first in
//!    [`crate::RouterConfig::agents`].
//!
//! So within a (queue, priority) entries are offered first come, first served, except that an
//! entry no ready agent is qualified for does not hold back the entries behind it.
//!
//! An agent is idle since it last became `Ready`. An offer revoked because the caller hung up or
//! the entry exited does not restart the agent's idle time: the agent did no work.
//!
//! The configuration can be replaced while calls wait and talk: see `reconfigure` for the rules.
//!
//! A failed or timed-out offer counts as a missed offer: after the agent's `max_missed_offers` in
//! a row (default 1) it becomes `NotReady(MissedOffer)`, else `Ready` again at the back of the idle
//! line. The entry keeps its place. An agent never holds two offers and, except under ring-all,
//! an entry is never offered to two agents at once.
//!
//! # Ring-all
//!
//! A queue with [`crate::Strategy::RingAll`] offers an entry to every agent at its best placement
//! (step 1 and 2 above) at once: one `CallOffered` per agent, each with its own ring timer, all
//! due together. Agents that become ready while it rings are not added; they take the next entry.
//!
//! - The first to answer takes the call; the other offers are revoked at once
//!   ([`crate::RevokeReason::AnsweredElsewhere`]): those agents did no work, so they keep their
//!   idle time and count no missed offer.
//! - The ring timeout revokes every offer still ringing; each of those agents counts a missed
//!   offer and the entry keeps its place.
//! - An agent failing its own offer (busy, declined, unreachable) counts a missed offer for that
//!   agent alone; the other offers keep ringing. When the last one fails the entry waits again.
//! - The caller hanging up (or the entry exiting) revokes every offer.
//! - An agent logging out revokes its own offer alone.

mod agents;
mod call_table;
mod callbacks;
#[cfg(test)]
mod consistency;
mod dispatch;
mod entries;
mod incremental;
mod index;
mod needs;
mod reconfigure;
mod ring_all;
mod stats;
mod views;

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

use crate::agent_state::{AgentState, NotReadyReason};
use crate::command::{Command, CommandError};
use crate::config::{ConfigError, EnqueueOptions, QueueConfig, RouterConfig};
use crate::event::RoutingEvent;
use crate::id_hash::IdMap;
use crate::ids::{AgentId, CallId, QueueId};
use crate::skills::Skills;
use crate::timers::{TimerReason, TimerTable};
use needs::{Need, Needs};

pub use views::{AgentView, CallStatus, CallView, QueueView};

/// One agent's live state.
#[derive(Debug)]
struct Agent {
    id: AgentId,
    state: AgentState,
    /// When `state` was entered.
    since: Instant,
    /// When the agent last became ready; only meaningful while `Ready`.
    idle_since: Instant,
    contacts: usize,
    /// The call it is offered or connected to.
    call: Option<CallId>,
    /// Not-ready asked for while busy, applied after the call's wrap-up.
    pending_not_ready: Option<NotReadyReason>,
    /// The queues it is a member of, in configuration order.
    queues: Vec<QueueId>,
    skills: Skills,
    /// Its own wrap-up, overriding the queue's.
    wrap_up: Option<Duration>,
    /// Missed offers in a row that make it not ready (at least 1).
    max_missed: u32,
    /// Missed offers since its last answered one.
    missed_in_row: u32,
    /// Calls connected since the router started.
    calls_taken: u64,
    /// (end, talk) of recent calls, for least-talk-time.
    talk: VecDeque<(Instant, Duration)>,
}

/// One queue's configuration, waiting line and statistics.
#[derive(Debug)]
struct Queue {
    config: QueueConfig,
    /// Indices into `Router::agents`, in configuration order.
    members: Vec<usize>,
    /// Penalty of each member, aligned with `members`.
    penalties: Vec<u32>,
    /// Weight of each member, aligned with `members`.
    weights: Vec<u32>,
    /// Entries not yet connected (waiting or being offered), by (priority desc, entry order).
    line: BTreeMap<LineKey, CallId>,
    /// Member position of the agent last offered an entry by round-robin.
    rr_last: Option<usize>,
    stats: stats::QueueStats,
}

/// Orders a queue's line: higher priority first, then original entry time, then entry order
/// (a restored callback takes the place its original entry time gives it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct LineKey {
    priority: std::cmp::Reverse<i32>,
    entered: Instant,
    seq: u64,
}

/// Where a routed call is.
#[derive(Debug, Clone)]
enum Phase {
    Waiting,
    Offered {
        agent: usize,
    },
    /// A ring-all entry ringing these agents at once (never empty, in agent order).
    RingingAll {
        agents: Vec<usize>,
    },
    Connected {
        agent: usize,
        at: Instant,
    },
    /// A due callback: the agent is reserved while the server dials the customer.
    Dialing {
        agent: usize,
    },
    /// A callback whose dial failed, keeping its place until it may be dialed again.
    RetryWait,
}

/// One routed call (a queue entry until it connects).
#[derive(Debug)]
struct Call {
    queue: usize,
    /// The original time it entered the queue; relaxation and max wait count from it.
    enqueued_at: Instant,
    /// Original entry order across all queues.
    seq: u64,
    priority: i32,
    /// Required skills as the current relaxation step has them.
    required: Needs,
    /// Required skills as the entry brought them, once relaxation changed them (a reload
    /// re-applies steps); `None` while `required` is still the original.
    original_required: Option<Box<[Need]>>,
    /// The entry's own max wait (from the dialplan), which a queue's new max wait never replaces.
    own_max_wait: Option<Duration>,
    preferred: Needs,
    /// Overflow queues added by relaxation steps.
    overflow: Vec<usize>,
    /// How many relaxation steps applied.
    step: usize,
    phase: Phase,
    /// A live call or a callback entry.
    kind: callbacks::EntryKind,
    /// Kept out of the queue's service level (see [`EnqueueOptions::outside_service_level`]).
    outside_service_level: bool,
}

impl Call {
    /// The required skills as the entry brought them, before relaxation.
    fn original_required(&self) -> &[Need] {
        self.original_required.as_deref().unwrap_or(&self.required)
    }

    /// Keeps the original requirements aside before relaxation first changes `required`.
    fn keep_original_required(&mut self) {
        if self.original_required.is_none() {
            self.original_required = Some(self.required.to_vec().into_boxed_slice());
        }
    }

    fn line_key(&self) -> LineKey {
        LineKey {
            priority: std::cmp::Reverse(self.priority),
            entered: self.enqueued_at,
            seq: self.seq,
        }
    }
}

/// The distribution core. Feed it [`Command`]s and timeouts; drain its [`RoutingEvent`]s.
///
/// Pure and deterministic: it never reads the clock, `now` is always an argument, and the random
/// strategies draw from a generator seeded by the configuration.
#[derive(Debug)]
pub struct Router {
    agents: Vec<Agent>,
    /// Agent ids to their index (hashed: looked up on most commands, never iterated in order).
    agent_index: IdMap<AgentId, usize>,
    queues: Vec<Queue>,
    /// Queue ids to their index (hashed, like `agent_index`).
    queue_index: IdMap<QueueId, usize>,
    calls: call_table::CallTable,
    /// Calls waiting without an offer, by entry order.
    unoffered: index::Unoffered,
    /// Ready members, overflow lines and what changed, for the incremental dispatch.
    index: index::DispatchIndex,
    next_seq: u64,
    /// How many agents are `Ready`.
    ready: usize,
    not_ready_reasons: Vec<String>,
    rng: u64,
    timers: TimerTable,
    events: VecDeque<RoutingEvent>,
}

impl Router {
    /// Builds a router from a configuration; every agent starts `LoggedOut` at `now`.
    pub fn new(config: RouterConfig, now: Instant) -> Result<Self, ConfigError> {
        config.validate()?;
        let mut agents: Vec<Agent> = config
            .agents
            .iter()
            .map(|id| {
                let settings = config.agent_settings.get(id).cloned().unwrap_or_default();
                Agent {
                    id: id.clone(),
                    state: AgentState::LoggedOut,
                    since: now,
                    idle_since: now,
                    contacts: 0,
                    call: None,
                    pending_not_ready: None,
                    queues: Vec::new(),
                    skills: settings.skills,
                    wrap_up: settings.wrap_up,
                    max_missed: settings.max_missed_offers.max(1),
                    missed_in_row: 0,
                    calls_taken: 0,
                    talk: VecDeque::new(),
                }
            })
            .collect();
        let agent_index: IdMap<AgentId, usize> = config
            .agents
            .iter()
            .enumerate()
            .map(|(i, id)| (id.clone(), i))
            .collect();
        let mut queues = Vec::with_capacity(config.queues.len());
        let mut queue_index = IdMap::default();
        for (qi, queue) in config.queues.into_iter().enumerate() {
            let mut members = Vec::with_capacity(queue.members.len());
            let mut penalties = Vec::with_capacity(queue.members.len());
            let mut weights = Vec::with_capacity(queue.members.len());
            for member in &queue.members {
                // Validation checked every member is a configured agent.
                if let Some(&ai) = agent_index.get(member) {
                    members.push(ai);
                    penalties.push(queue.penalties.get(member).copied().unwrap_or(0));
                    weights.push(queue.weights.get(member).copied().unwrap_or(1));
                    agents[ai].queues.push(queue.id.clone());
                }
            }
            queue_index.insert(queue.id.clone(), qi);
            let stats = stats::QueueStats::new(&queue);
            queues.push(Queue {
                config: queue,
                members,
                penalties,
                weights,
                line: BTreeMap::new(),
                rr_last: None,
                stats,
            });
        }
        let index = index::DispatchIndex::new(&agents, &queues, needs::SkillNumbers::default());
        Ok(Self {
            agents,
            agent_index,
            queues,
            queue_index,
            calls: call_table::CallTable::default(),
            unoffered: index::Unoffered::default(),
            index,
            next_seq: 0,
            ready: 0,
            not_ready_reasons: config.not_ready_reasons,
            rng: config.seed ^ 0x9E37_79B9_7F4A_7C15,
            timers: TimerTable::default(),
            events: VecDeque::new(),
        })
    }

    /// Applies one command at `now`. On error nothing changed and no event was emitted.
    pub fn handle(&mut self, now: Instant, command: Command) -> Result<(), CommandError> {
        match command {
            Command::Enqueue { call, queue } => {
                self.enqueue(now, call, &queue, EnqueueOptions::default())?
            }
            Command::EnqueueWith {
                call,
                queue,
                options,
            } => self.enqueue(now, call, &queue, options)?,
            Command::Abandon { call } | Command::CallEnded { call } => self.end(now, call)?,
            Command::ConvertToCallback { .. }
            | Command::EnqueueCallback { .. }
            | Command::CancelCallback { .. }
            | Command::CallbackConnected { .. }
            | Command::CallbackFailed { .. } => self.handle_callback(now, command)?,
            Command::OfferRinging { call, agent } => {
                let a = self.offered_agent(call, &agent)?;
                if self.agents[a].state == AgentState::Reserved {
                    self.set_state(a, AgentState::Ringing, now);
                }
            }
            Command::OfferAnswered { call, agent } => {
                let a = self.offered_agent(call, &agent)?;
                self.connect(now, call, a);
            }
            Command::OfferFailed { call, agent, cause } => {
                let a = self.offered_agent(call, &agent)?;
                self.offer_failed(now, call, a, cause);
            }
            Command::SetState { agent, state } => self.set_requested(now, &agent, state)?,
            Command::EndWrapUp { agent } => {
                let a = self.wrap_up_agent(&agent)?;
                self.cancel_wrap_up(a);
                self.finish_wrap_up(now, a);
            }
            Command::ExtendWrapUp { agent, by } => {
                self.wrap_up_agent(&agent)?;
                let reason = TimerReason::WrapUpEnd { agent };
                let until = self.timers.deadline(&reason).unwrap_or(now).max(now) + by;
                self.timers.set(reason, until);
            }
            Command::ContactsChanged { agent, count } => {
                self.contacts_changed(now, &agent, count)?
            }
            Command::SetSkills { agent, skills } => self.set_skills(&agent, skills)?,
        }
        self.leave_empty_queues(now);
        self.dispatch(now);
        Ok(())
    }

    /// Fires every timer due at or before `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some(reason) = self.timers.pop_due(now) {
            match reason {
                TimerReason::RingTimeout { call, agent } => self.ring_timeout(now, call, &agent),
                TimerReason::WrapUpEnd { agent } => {
                    if let Some(&a) = self.agent_index.get(&agent) {
                        if self.agents[a].state == AgentState::WrapUp {
                            self.finish_wrap_up(now, a);
                        }
                    }
                }
                TimerReason::Relax { call } => self.relax(now, call),
                TimerReason::MaxWait { call } => {
                    self.exit(now, call, crate::event::ExitReason::MaxWait)
                }
                TimerReason::CallbackOffer { .. }
                | TimerReason::CallbackRetry { .. }
                | TimerReason::CallbackExpiry { .. } => self.callback_timer(now, reason),
            }
            self.leave_empty_queues(now);
            self.dispatch(now);
        }
    }

    /// The next event to act on or log, in order.
    pub fn poll_event(&mut self) -> Option<RoutingEvent> {
        self.events.pop_front()
    }

    /// When the router next needs [`Router::handle_timeout`], and why.
    pub fn poll_timeout(&self) -> Option<(Instant, TimerReason)> {
        self.timers.next()
    }

    fn emit(&mut self, event: RoutingEvent) {
        self.events.push_back(event);
    }

    /// Moves agent `a` to `to`, emitting the change; entering `Ready` restarts its idle time.
    fn set_state(&mut self, a: usize, to: AgentState, now: Instant) {
        self.set_state_keeping_idle(a, to.clone(), now);
        if to == AgentState::Ready {
            self.agents[a].idle_since = now;
        }
    }

    /// Moves agent `a` to `to` without touching its idle time.
    fn set_state_keeping_idle(&mut self, a: usize, to: AgentState, now: Instant) {
        let agent = &mut self.agents[a];
        if agent.state == to {
            return;
        }
        if agent.state == AgentState::Ready {
            self.ready -= 1;
            self.index.ready_changed(a, false);
        }
        if to == AgentState::Ready {
            self.ready += 1;
            self.index.ready_changed(a, true);
        }
        let from = std::mem::replace(&mut agent.state, to.clone());
        agent.since = now;
        let event = RoutingEvent::AgentStateChanged {
            agent: agent.id.clone(),
            from,
            to,
            at: now,
        };
        self.emit(event);
    }

    fn agent_idx(&self, agent: &AgentId) -> Result<usize, CommandError> {
        self.agent_index
            .get(agent)
            .copied()
            .ok_or_else(|| CommandError::UnknownAgent(agent.clone()))
    }

    fn wrap_up_agent(&self, agent: &AgentId) -> Result<usize, CommandError> {
        let a = self.agent_idx(agent)?;
        if self.agents[a].state == AgentState::WrapUp {
            Ok(a)
        } else {
            Err(CommandError::NotInWrapUp(agent.clone()))
        }
    }

    /// The index of `agent` if `call` is currently offered to it.
    fn offered_agent(&self, call: CallId, agent: &AgentId) -> Result<usize, CommandError> {
        let a = self.agent_idx(agent)?;
        let routed = self
            .calls
            .get(&call)
            .ok_or(CommandError::UnknownCall(call))?;
        if routed.phase.offered().contains(&a) {
            Ok(a)
        } else {
            Err(CommandError::NotOffered {
                call,
                agent: agent.clone(),
            })
        }
    }

    /// The next number of the seeded generator (splitmix64).
    fn next_random(&mut self) -> u64 {
        self.rng = self.rng.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}
