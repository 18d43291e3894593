//! Matching waiting entries with ready agents: eligibility, penalty, preference, strategy.

use std::cmp::Reverse;
use std::time::{Duration, Instant};

use super::{Phase, Router};
use crate::agent_state::AgentState;
use crate::config::Strategy;
use crate::event::{OfferReason, RoutingEvent};
use crate::ids::CallId;
use crate::timers::TimerReason;

/// The least-talk-time window when the queue sets none.
pub(super) const DEFAULT_TALK_WINDOW: Duration = Duration::from_secs(3600);

/// A ready agent qualified for an entry, and how it is placed.
#[derive(Debug, Clone, Copy)]
struct Candidate {
    agent: usize,
    /// Its lowest penalty among the queues serving the entry.
    penalty: u32,
    /// The queue that penalty comes from.
    via: usize,
    /// How many preferred skills it meets.
    preferred: usize,
    /// Its place in the home queue's member order (non-members after all members).
    order: usize,
    /// Its weight in the home queue (1 for non-members).
    weight: u32,
}

impl Router {
    /// Offers waiting entries to ready agents until no entry can be placed.
    ///
    /// Entries are tried by (queue furthest behind its service-level target, priority, entry
    /// order), so an agent that frees up takes the first entry in that order it qualifies for.
    /// Only the entries and agents that changed since the last dispatch are looked at (see
    /// `incremental.rs`), unless a wholesale change asked for a full pass.
    pub(super) fn dispatch(&mut self, now: Instant) {
        // The buffers are kept from one dispatch to the next, so a command allocates none.
        let mut entries = std::mem::take(&mut self.index.scratch_entries);
        let mut agents = std::mem::take(&mut self.index.scratch_agents);
        self.unoffered.move_added_to(&mut entries);
        entries.append(&mut self.index.dirty_entries);
        agents.append(&mut self.index.dirty_agents);
        let full = std::mem::take(&mut self.index.full);
        #[cfg(test)]
        let full = full || self.index.reference;
        if self.ready > 0 && !self.unoffered.is_empty() {
            if full {
                self.dispatch_full(now);
            } else {
                self.dispatch_changed(now, &entries, &agents);
            }
        }
        entries.clear();
        agents.clear();
        self.index.scratch_entries = entries;
        self.index.scratch_agents = agents;
    }

    /// Tries every waiting entry in dispatch order: the reference the incremental dispatch
    /// matches, and the way back to a consistent state after a wholesale change.
    pub(super) fn dispatch_full(&mut self, now: Instant) {
        let behind: Vec<i64> = self
            .queues
            .iter()
            .map(|q| q.stats.behind_target_bp(now))
            .collect();
        let mut order: Vec<(super::incremental::OrderKey, CallId)> = self
            .unoffered
            .values()
            .filter_map(|c| {
                let e = self.calls.get(c)?;
                Some(((Reverse(behind[e.queue]), e.line_key()), *c))
            })
            .collect();
        order.sort_unstable();
        for (_, call) in order {
            if self.ready == 0 {
                break;
            }
            if let Some(chosen) = self.choose_agent(now, call) {
                self.offer(now, call, chosen);
            }
        }
    }

    /// Offers `call` to the agent its queue's strategy picks, if one is ready and qualified.
    pub(super) fn place(&mut self, now: Instant, call: CallId) {
        if let Some(chosen) = self.choose_agent(now, call) {
            self.offer(now, call, chosen);
        }
    }

    /// Whether ready-or-not agent `a` has the skills `call` currently requires and serves one of
    /// the queues that may take it.
    #[cfg(test)]
    pub(super) fn qualifies(&self, call: CallId, a: usize) -> bool {
        let Some(entry) = self.calls.get(&call) else {
            return false;
        };
        let serves = std::iter::once(entry.queue)
            .chain(entry.overflow.iter().copied())
            .any(|q| self.queues[q].members.contains(&a));
        serves && self.index.meets_all(a, &entry.required)
    }

    /// The ready agents qualified for `call`, best placed first by penalty then preference.
    fn candidates(&self, call: CallId) -> Vec<Candidate> {
        let Some(entry) = self.calls.get(&call) else {
            return Vec::new();
        };
        let home = &self.queues[entry.queue];
        let mut found: Vec<Candidate> = Vec::new();
        // Only an entry served by several queues can meet an agent twice.
        let several = !entry.overflow.is_empty();
        for q in std::iter::once(entry.queue).chain(entry.overflow.iter().copied()) {
            let queue = &self.queues[q];
            // Only the ready members, so an entry arriving while all are busy costs nothing.
            for &i in &self.index.ready_members[q] {
                let a = queue.members[i];
                if self.agents[a].state != AgentState::Ready
                    || !self.index.meets_all(a, &entry.required)
                {
                    continue;
                }
                let penalty = queue.penalties[i];
                let seen = several
                    .then(|| found.iter().position(|c| c.agent == a))
                    .flatten();
                if seen.is_some_and(|k| found[k].penalty <= penalty) {
                    continue;
                }
                let home_pos = if q == entry.queue {
                    Some(i)
                } else {
                    self.index.member_of[a]
                        .iter()
                        .find(|&&(mq, _)| mq == entry.queue)
                        .map(|&(_, pos)| pos)
                };
                let preferred = entry
                    .preferred
                    .iter()
                    .filter(|&&r| self.index.meets(a, r))
                    .count();
                let candidate = Candidate {
                    agent: a,
                    penalty,
                    via: q,
                    preferred,
                    order: home_pos.unwrap_or(home.members.len() + a),
                    weight: home_pos.map_or(1, |p| home.weights[p]),
                };
                match seen {
                    Some(k) => found[k] = candidate,
                    None => found.push(candidate),
                }
            }
        }
        let Some(best) = found
            .iter()
            .map(|c| (Reverse(c.penalty), c.preferred))
            .max()
        else {
            return Vec::new();
        };
        let mut tied: Vec<Candidate> = found
            .into_iter()
            .filter(|c| (Reverse(c.penalty), c.preferred) == best)
            .collect();
        // In agent order, which the strategies' last tie-break and the random picks rely on.
        tied.sort_unstable_by_key(|c| c.agent);
        tied
    }

    /// The agent the home queue's strategy picks for `call`, if any qualifies.
    fn choose_agent(&mut self, now: Instant, call: CallId) -> Option<Candidate> {
        let tied = self.candidates(call);
        if tied.is_empty() {
            return None;
        }
        let entry = self.calls.get(&call)?;
        if self.queues[entry.queue].config.strategy == Strategy::LeastTalkTime {
            for c in &tied {
                self.trim_talk(c.agent, now);
            }
        }
        let entry = self.calls.get(&call)?;
        let home = &self.queues[entry.queue];
        let idle = |c: &Candidate| (self.agents[c.agent].idle_since, c.agent);
        let chosen = match home.config.strategy {
            Strategy::LongestIdle => tied.iter().min_by_key(|c| idle(c)),
            Strategy::FewestCalls => tied
                .iter()
                .min_by_key(|c| (self.agents[c.agent].calls_taken, idle(c))),
            Strategy::LeastTalkTime => {
                let window = if home.config.talk_time_window.is_zero() {
                    DEFAULT_TALK_WINDOW
                } else {
                    home.config.talk_time_window
                };
                let talk = |c: &Candidate| self.talk_within(c.agent, now, window);
                tied.iter().min_by_key(|c| (talk(c), idle(c)))
            }
            Strategy::Linear => tied.iter().min_by_key(|c| c.order),
            // `offer` rings every tied agent; the first in member order stands for them.
            Strategy::RingAll => tied.iter().min_by_key(|c| c.order),
            Strategy::RoundRobin => {
                let last = home.rr_last;
                tied.iter()
                    .filter(|c| last.is_none_or(|l| c.order > l))
                    .min_by_key(|c| c.order)
                    .or_else(|| tied.iter().min_by_key(|c| c.order))
            }
            Strategy::BestSkilled => {
                let skill = |c: &Candidate| {
                    self.index.proficiency_sum(c.agent, &entry.required)
                        + self.index.proficiency_sum(c.agent, &entry.preferred)
                };
                tied.iter().min_by_key(|c| (Reverse(skill(c)), idle(c)))
            }
            Strategy::Random => {
                let len = tied.len() as u64;
                let pick = self.next_random() % len;
                // `pick < len`, which came from a usize.
                tied.get(usize::try_from(pick).unwrap_or(0))
            }
            Strategy::WeightedRandom => {
                let total: u64 = tied.iter().map(|c| u64::from(c.weight)).sum();
                if total == 0 {
                    tied.first()
                } else {
                    let mut pick = self.next_random() % total;
                    tied.iter().find(|c| {
                        let w = u64::from(c.weight);
                        if pick < w {
                            true
                        } else {
                            pick -= w;
                            false
                        }
                    })
                }
            }
        };
        chosen.copied()
    }

    /// Offers waiting `call` to the chosen ready agent; a ring-all entry goes to every agent
    /// tied with it at once.
    fn offer(&mut self, now: Instant, call: CallId, chosen: Candidate) {
        if let Some(entry) = self.calls.get(&call).filter(|c| c.kind.is_callback()) {
            // A callback's turn: its agent is reserved while the server dials (one agent).
            let reason = OfferReason {
                via_queue: self.queues[chosen.via].config.id.clone(),
                penalty: chosen.penalty,
                relaxation_step: entry.step,
                preferred_met: chosen.preferred,
                strategy: self.queues[entry.queue].config.strategy,
            };
            let (agent, order) = (chosen.agent, chosen.order);
            let choice = super::callbacks::DueChoice {
                agent,
                order,
                reason,
            };
            self.callback_due(now, call, choice);
            return;
        }
        let ring_all = self
            .calls
            .get(&call)
            .is_some_and(|c| self.queues[c.queue].config.strategy == Strategy::RingAll);
        let offered = if ring_all {
            self.candidates(call)
        } else {
            vec![chosen]
        };
        let Some(routed) = self.calls.get_mut(&call) else {
            return;
        };
        self.unoffered.remove(&routed.seq);
        routed.phase = if ring_all {
            Phase::RingingAll {
                agents: offered.iter().map(|c| c.agent).collect(),
            }
        } else {
            Phase::Offered {
                agent: chosen.agent,
            }
        };
        let home = &mut self.queues[routed.queue];
        if home.config.strategy == Strategy::RoundRobin && chosen.order < home.members.len() {
            home.rr_last = Some(chosen.order);
        }
        for candidate in offered {
            self.ring(now, call, candidate);
        }
    }

    /// Reserves one offered agent, arms its ring timer and tells the server to ring it.
    fn ring(&mut self, now: Instant, call: CallId, chosen: Candidate) {
        let a = chosen.agent;
        let Some(routed) = self.calls.get(&call) else {
            return;
        };
        let step = routed.step;
        let home = &self.queues[routed.queue];
        let ring_timeout = home.config.ring_timeout;
        let queue_id = home.config.id.clone();
        let strategy = home.config.strategy;
        let agent = self.agents[a].id.clone();
        self.agents[a].call = Some(call);
        self.set_state_keeping_idle(a, AgentState::Reserved, now);
        self.timers.set(
            TimerReason::RingTimeout {
                call,
                agent: agent.clone(),
            },
            now + ring_timeout,
        );
        let reason = OfferReason {
            via_queue: self.queues[chosen.via].config.id.clone(),
            penalty: chosen.penalty,
            relaxation_step: step,
            preferred_met: chosen.preferred,
            strategy,
        };
        self.emit(RoutingEvent::CallOffered {
            call,
            queue: queue_id,
            agent,
            ring_timeout,
            reason,
        });
    }
}
