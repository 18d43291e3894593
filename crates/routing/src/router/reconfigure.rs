//! Replacing the configuration of a running router (a reload) while calls wait and talk.
//!
//! # Rules
//!
//! - An invalid configuration is refused with the [`ConfigError`] and nothing changes.
//! - Waiting entries keep their place (priority, original entry time, entry order) and their age.
//! - Relaxation is re-evaluated from each entry's original entry time under the new steps: the
//!   entry's own requirements are taken again and every step now due applies at once (one
//!   [`RoutingEvent::CallRelaxed`] with the resulting step if it differs); a due exit step exits.
//! - Max wait: the entry's own (dialplan) max wait stays; otherwise the queue's new max wait
//!   counts from the original entry time, and an entry already past it exits at once.
//! - A removed queue's unconnected entries exit with [`ExitReason::QueueRemoved`]; its connected
//!   calls finish normally (the queue is kept out of sight until they have).
//! - An offer ringing at an agent that no longer serves the entry (removed agent, removed
//!   member, lost skill) is revoked with [`RevokeReason::Reconfigured`]; the entry keeps its place
//!   and the agent counts no missed offer (it keeps its idle time).
//! - A removed agent is logged out and gone; one on a call finishes it and is then gone (no
//!   wrap-up). New agents start logged out until their phone registers.
//! - Offers already ringing keep their ring timeout and agents in wrap-up keep their end time;
//!   the new ring timeout and wrap-up apply to the next offer and call. A lower max length pushes
//!   nobody out: new entries are refused until the queue is shorter.
//! - Leave-when-empty is checked at once against the new members, and a full dispatch runs, since
//!   new members and skills can place waiting entries.
//! - The seed of the random strategies is kept (it applies at start).
//!
//! A [`RoutingEvent::Reconfigured`] with the new agent and queue lists follows the revocations
//! and exits and precedes any offer made under the new configuration, so a replay of the events
//! ([`crate::replay`]) reproduces the agents.

use std::collections::BTreeMap;
use std::time::Instant;

use super::{Agent, Phase, Queue, Router};
use crate::agent_state::AgentState;
use crate::config::{ConfigError, RelaxAction, RouterConfig};
use crate::event::{ExitReason, RequeueReason, RevokeReason, RoutingEvent};
use crate::ids::{AgentId, CallId, QueueId};
use crate::timers::TimerReason;

impl Router {
    /// Replaces the configuration at `now`, keeping waiting and connected calls and agent states
    /// (see the module rules). On error nothing changed and no event was emitted.
    pub fn reconfigure(&mut self, now: Instant, config: RouterConfig) -> Result<(), ConfigError> {
        // Validates, and builds the new agents and queues with the same code as a start.
        let fresh = Router::new(config.clone(), now)?;

        // 1. Entries of removed queues exit.
        let orphaned: Vec<CallId> = self
            .calls
            .iter()
            .filter(|(_, c)| {
                !matches!(c.phase, Phase::Connected { .. })
                    && !fresh
                        .queue_index
                        .contains_key(&self.queues[c.queue].config.id)
            })
            .map(|(&id, _)| id)
            .collect();
        for call in orphaned {
            self.exit(now, call, ExitReason::QueueRemoved);
        }

        // 2. Removed agents give back their offers and log out; one on a call keeps it.
        for a in 0..self.agents.len() {
            if fresh.agent_index.contains_key(&self.agents[a].id) {
                continue;
            }
            // Straight from ringing to logged out: no ready moment in between.
            if let Some(call) = self.ringing_call(a) {
                self.withdraw_offer(call, a);
            }
            if self.agents[a].call.is_none() {
                self.cancel_wrap_up(a);
                self.agents[a].pending_not_ready = None;
                self.set_state(a, AgentState::LoggedOut, now);
            }
        }

        // 3. The new agent list: known agents keep their live state, new ones come from `fresh`,
        //    removed ones still on a call stay (out of the index) until it ends.
        let old_by_id: BTreeMap<AgentId, usize> = self
            .agents
            .iter()
            .enumerate()
            .map(|(i, a)| (a.id.clone(), i))
            .collect();
        let mut old_agents: Vec<Option<Agent>> = self.agents.drain(..).map(Some).collect();
        let mut agent_map: Vec<Option<usize>> = vec![None; old_agents.len()];
        let mut agents: Vec<Agent> = Vec::with_capacity(fresh.agents.len());
        let Router {
            agents: fresh_agents,
            agent_index,
            queues: fresh_queues,
            queue_index,
            not_ready_reasons,
            ..
        } = fresh;
        for new in fresh_agents {
            let kept = old_by_id
                .get(&new.id)
                .and_then(|&old| Some((old, old_agents[old].take()?)));
            match kept {
                Some((old, mut agent)) => {
                    agent.queues = new.queues;
                    agent.skills = new.skills;
                    agent.wrap_up = new.wrap_up;
                    agent.max_missed = new.max_missed;
                    agent_map[old] = Some(agents.len());
                    agents.push(agent);
                }
                None => agents.push(new),
            }
        }
        for (old, slot) in old_agents.iter_mut().enumerate() {
            if let Some(mut agent) = slot.take() {
                if agent.call.is_some() {
                    agent.queues.clear();
                    agent_map[old] = Some(agents.len());
                    agents.push(agent);
                }
            }
        }

        // 4. The new queue list: known queues keep their line, statistics and round-robin place;
        //    removed ones that still have connected calls stay (out of the index) until they end.
        let old_q_by_id: BTreeMap<QueueId, usize> = self
            .queues
            .iter()
            .enumerate()
            .map(|(i, q)| (q.config.id.clone(), i))
            .collect();
        let mut old_queues: Vec<Option<Queue>> = self.queues.drain(..).map(Some).collect();
        let mut queue_map: Vec<Option<usize>> = vec![None; old_queues.len()];
        let mut queues: Vec<Queue> = Vec::with_capacity(fresh_queues.len());
        for new in fresh_queues {
            let kept = old_q_by_id
                .get(&new.config.id)
                .and_then(|&old| Some((old, old_queues[old].take()?)));
            match kept {
                Some((old, mut queue)) => {
                    if queue.members != new.members {
                        queue.rr_last = None;
                    }
                    queue.stats.reconfigure(&new.config);
                    queue.config = new.config;
                    queue.members = new.members;
                    queue.penalties = new.penalties;
                    queue.weights = new.weights;
                    queue_map[old] = Some(queues.len());
                    queues.push(queue);
                }
                None => queues.push(new),
            }
        }
        for (old, slot) in old_queues.iter_mut().enumerate() {
            if let Some(mut queue) = slot.take() {
                if self.calls.values().any(|c| c.queue == old) {
                    queue.members.clear();
                    queue.penalties.clear();
                    queue.weights.clear();
                    queue.rr_last = None;
                    queue_map[old] = Some(queues.len());
                    queues.push(queue);
                }
            }
        }

        // 5. Calls point at the new indices.
        let live_queues = queue_index.len();
        for call in self.calls.values_mut() {
            // Kept or retired: every call's queue survives step 4.
            call.queue = queue_map[call.queue].unwrap_or(0);
            call.overflow = call
                .overflow
                .iter()
                .filter_map(|&o| queue_map[o].filter(|&n| n < live_queues))
                .collect();
            remap_phase(&mut call.phase, &agent_map);
        }
        self.agents = agents;
        self.agent_index = agent_index;
        self.queues = queues;
        self.queue_index = queue_index;
        self.not_ready_reasons = not_ready_reasons;
        self.ready = self
            .agents
            .iter()
            .filter(|a| a.state == AgentState::Ready)
            .count();
        self.reindex();

        let agents = config.agents.clone();
        let queues = config.queues.iter().map(|q| q.id.clone()).collect();
        self.emit(RoutingEvent::Reconfigured {
            agents,
            queues,
            at: now,
        });

        // 6. Max wait and relaxation again from each entry's original time.
        let unconnected: Vec<CallId> = self
            .calls
            .iter()
            .filter(|(_, c)| !matches!(c.phase, Phase::Connected { .. }))
            .map(|(&id, _)| id)
            .collect();
        for &call in &unconnected {
            self.rearm_max_wait(now, call);
            self.relax_again(now, call);
        }

        // 7. Offers to agents that no longer serve their entry are revoked.
        let mut stale = Vec::new();
        for (&id, call) in &self.calls {
            for &a in call.phase.offered() {
                let serves = std::iter::once(call.queue)
                    .chain(call.overflow.iter().copied())
                    .any(|q| self.queues[q].members.contains(&a));
                if !serves || !self.index.meets_all(a, &call.required) {
                    stale.push((id, a));
                }
            }
        }
        for (call, a) in stale {
            self.revoke_for_reload(now, call, a);
        }

        // Relaxation changed overflow queues: index again, and the next dispatch is a full pass.
        self.reindex();
        self.leave_empty_queues(now);
        self.dispatch(now);
        Ok(())
    }

    /// Called when agent `a` finished a call: if a reload removed it meanwhile it logs out and is
    /// dropped, and the answer is true (no wrap-up follows).
    pub(super) fn retire_if_removed(&mut self, now: Instant, a: usize) -> bool {
        if self.agent_index.get(&self.agents[a].id) == Some(&a) {
            return false;
        }
        self.cancel_wrap_up(a);
        self.agents[a].pending_not_ready = None;
        self.set_state(a, AgentState::LoggedOut, now);
        self.agents.remove(a);
        let shift = |i: usize| if i > a { i - 1 } else { i };
        for i in self.agent_index.values_mut() {
            *i = shift(*i);
        }
        for queue in &mut self.queues {
            for m in &mut queue.members {
                *m = shift(*m);
            }
        }
        let map: Vec<Option<usize>> = (0..=self.agents.len())
            .map(|i| (i != a).then(|| shift(i)))
            .collect();
        for call in self.calls.values_mut() {
            remap_phase(&mut call.phase, &map);
        }
        self.reindex();
        true
    }

    /// The call whose offer rings at agent `a`, if any.
    fn ringing_call(&self, a: usize) -> Option<CallId> {
        let call = self.agents[a].call?;
        self.calls
            .get(&call)
            .is_some_and(|c| c.phase.offered().contains(&a))
            .then_some(call)
    }

    /// Revokes agent `a`'s offer of `call` without counting a missed offer: the entry keeps its
    /// place and the agent its idle time.
    fn revoke_for_reload(&mut self, now: Instant, call: CallId, a: usize) {
        self.withdraw_offer(call, a);
        match self.agents[a].pending_not_ready.take() {
            Some(reason) => self.set_state(a, AgentState::NotReady(reason), now),
            None => self.set_state_keeping_idle(a, AgentState::Ready, now),
        }
    }

    /// Takes agent `a`'s offer of `call` back: the entry waits at its place again; the agent's
    /// state is left to the caller.
    fn withdraw_offer(&mut self, call: CallId, a: usize) {
        let agent = self.agents[a].id.clone();
        self.timers.cancel(&TimerReason::RingTimeout {
            call,
            agent: agent.clone(),
        });
        self.emit(RoutingEvent::OfferRevoked {
            call,
            agent,
            reason: RevokeReason::Reconfigured,
        });
        self.requeue(call, a, RequeueReason::Reconfigured);
    }

    /// Arms the max wait of `call` from its original entry time under the current configuration;
    /// an entry already past it exits.
    fn rearm_max_wait(&mut self, now: Instant, call: CallId) {
        let Some(entry) = self.calls.get(&call) else {
            return;
        };
        // A callback entry has no max wait (it expires by its queue's callback expiry).
        if entry.kind.is_callback() {
            return;
        }
        let max_wait = entry
            .own_max_wait
            .or(self.queues[entry.queue].config.max_wait);
        let reason = TimerReason::MaxWait { call };
        match max_wait.map(|w| entry.enqueued_at + w) {
            Some(due) if due <= now => self.exit(now, call, ExitReason::MaxWait),
            Some(due) => self.timers.set(reason, due),
            None => self.timers.cancel(&reason),
        }
    }

    /// Recomputes the relaxation of `call` from its own requirements and original entry time
    /// under the queue's current steps; emits one `CallRelaxed` if the step count changed.
    fn relax_again(&mut self, now: Instant, call: CallId) {
        self.timers.cancel(&TimerReason::Relax { call });
        let Some(entry) = self.calls.get(&call) else {
            return;
        };
        let q = entry.queue;
        let old_step = entry.step;
        let callback = entry.kind.is_callback();
        let mut required = entry.original_required().to_vec();
        let mut overflow: Vec<usize> = Vec::new();
        let mut step = 0;
        let mut next = None;
        let mut exits = false;
        for relax in &self.queues[q].config.relaxation {
            let due = entry.enqueued_at + relax.after;
            if due > now {
                next = Some(due);
                break;
            }
            match &relax.action {
                RelaxAction::LowerProficiency { by } => {
                    for r in &mut required {
                        r.min = r.min.saturating_sub(*by).max(1);
                    }
                }
                RelaxAction::DropSkill { skill } => {
                    if let Some(skill) = self.index.skill_numbers.get(skill) {
                        required.retain(|r| r.skill != skill);
                    }
                }
                RelaxAction::AddQueues { queues } => {
                    for o in queues.iter().filter_map(|id| self.queue_index.get(id)) {
                        if *o != q && !overflow.contains(o) {
                            overflow.push(*o);
                        }
                    }
                }
                // A callback entry passes over an exit step (see `callbacks`).
                RelaxAction::Exit if !callback => {
                    exits = true;
                    break;
                }
                // A callback is offered at most once per entry, when its step is first reached.
                RelaxAction::Exit | RelaxAction::OfferCallback => {}
            }
            step += 1;
        }
        if exits {
            self.exit(now, call, ExitReason::RelaxationExit);
            return;
        }
        if let Some(entry) = self.calls.get_mut(&call) {
            if required[..] != entry.required[..] {
                entry.keep_original_required();
                entry.required = required.into_iter().collect();
            }
            entry.overflow = overflow;
            entry.step = step;
        }
        if let Some(due) = next {
            self.timers.set(TimerReason::Relax { call }, due);
        }
        if step != old_step {
            let queue = self.queues[q].config.id.clone();
            self.emit(RoutingEvent::CallRelaxed { call, queue, step });
        }
    }
}

/// Moves the agent indices of `phase` through `map` (old index -> new index).
fn remap_phase(phase: &mut Phase, map: &[Option<usize>]) {
    let at = |a: &mut usize| {
        // Agents holding a call survive a reload (offers of removed agents are revoked first).
        if let Some(&Some(n)) = map.get(*a) {
            *a = n;
        }
    };
    match phase {
        Phase::Offered { agent } | Phase::Connected { agent, .. } | Phase::Dialing { agent } => {
            at(agent)
        }
        Phase::RingingAll { agents } => agents.iter_mut().for_each(at),
        Phase::Waiting | Phase::RetryWait => {}
    }
}

#[cfg(test)]
mod tests;
