//! Queue entries: joining, relaxing, leaving, connecting, going back to wait.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::time::Instant;

use super::{Call, LineKey, Phase, Router};
use crate::agent_state::AgentState;
use crate::command::{CommandError, OfferFailure};
use crate::config::{EmptyRule, EnqueueOptions, RelaxAction};
use crate::event::{ExitReason, RejectReason, RequeueReason, RevokeReason, RoutingEvent};
use crate::ids::{CallId, QueueId};
use crate::timers::TimerReason;

impl Router {
    pub(super) fn enqueue(
        &mut self,
        now: Instant,
        call: CallId,
        queue: &QueueId,
        options: EnqueueOptions,
    ) -> Result<(), CommandError> {
        let q = *self
            .queue_index
            .get(queue)
            .ok_or_else(|| CommandError::UnknownQueue(queue.clone()))?;
        if self.calls.contains_key(&call) {
            return Err(CommandError::CallAlreadyRouted(call));
        }
        let config = &self.queues[q].config;
        let rejected = if config
            .max_len
            .is_some_and(|max| self.queues[q].line.len() >= max)
        {
            Some(RejectReason::QueueFull)
        } else if self.queue_is_empty(q, config.join_when_empty) {
            Some(RejectReason::QueueEmpty)
        } else {
            None
        };
        if let Some(reason) = rejected {
            self.emit(RoutingEvent::CallRejected {
                call,
                queue: queue.clone(),
                reason,
            });
            return Ok(());
        }
        let max_wait = options.max_wait.or(config.max_wait);
        let callback_offer = options.callback_offer.or(config.callback_offer);
        let seq = self.next_seq;
        self.next_seq += 1;
        let required = self.index.skill_numbers.needs(&options.required);
        let preferred = self.index.skill_numbers.needs(&options.preferred);
        let entry = Call {
            queue: q,
            enqueued_at: now,
            seq,
            priority: options.priority,
            original_required: None,
            own_max_wait: options.max_wait,
            required,
            preferred,
            overflow: Vec::new(),
            step: 0,
            phase: Phase::Waiting,
            kind: super::callbacks::EntryKind::live(),
            outside_service_level: options.outside_service_level,
        };
        let key = entry.line_key();
        self.calls.insert(call, entry);
        self.unoffered.insert(seq, call);
        let line = &mut self.queues[q].line;
        line.insert(key, call);
        let position = line_position(line, key);
        self.emit(RoutingEvent::CallQueued {
            call,
            queue: queue.clone(),
            position,
        });
        if let Some(max_wait) = max_wait {
            self.timers
                .set(TimerReason::MaxWait { call }, now + max_wait);
        }
        if let Some(offer) = callback_offer {
            self.timers
                .set(TimerReason::CallbackOffer { call }, now + offer);
        }
        self.relax(now, call);
        Ok(())
    }

    /// Whether queue `q` is empty in the sense of `rule`.
    pub(super) fn queue_is_empty(&self, q: usize, rule: EmptyRule) -> bool {
        let members = self.queues[q]
            .members
            .iter()
            .map(|&a| &self.agents[a].state);
        match rule {
            EmptyRule::Never => false,
            EmptyRule::NoneLoggedIn => members.clone().all(|s| *s == AgentState::LoggedOut),
            EmptyRule::NoneAvailable => members
                .clone()
                .all(|s| matches!(s, AgentState::LoggedOut | AgentState::NotReady(_))),
        }
    }

    /// Makes the waiting entries of queues that became empty under their leave policy exit.
    pub(super) fn leave_empty_queues(&mut self, now: Instant) {
        for i in 0..self.index.leave_when_empty.len() {
            let q = self.index.leave_when_empty[i];
            let rule = self.queues[q].config.leave_when_empty;
            if rule == EmptyRule::Never
                || self.queues[q].line.is_empty()
                || !self.queue_is_empty(q, rule)
            {
                continue;
            }
            let waiting: Vec<CallId> = self.queues[q]
                .line
                .values()
                .copied()
                .filter(|c| {
                    // Callbacks stay: nobody is on the line to send away.
                    self.calls
                        .get(c)
                        .is_some_and(|c| matches!(c.phase, Phase::Waiting) && !c.kind.is_callback())
                })
                .collect();
            for call in waiting {
                self.exit(now, call, ExitReason::QueueEmpty);
            }
        }
    }

    /// Applies every relaxation step due for `call` and arms the next one.
    pub(super) fn relax(&mut self, now: Instant, call: CallId) {
        loop {
            let Some(entry) = self.calls.get(&call) else {
                return;
            };
            if matches!(entry.phase, Phase::Connected { .. }) {
                return;
            }
            let q = entry.queue;
            let Some(step) = self.queues[q].config.relaxation.get(entry.step) else {
                return;
            };
            let due = entry.enqueued_at + step.after;
            if due > now {
                self.timers.set(TimerReason::Relax { call }, due);
                return;
            }
            // Cloned only once due: most calls of this find the next step not due yet.
            let step = step.clone();
            let callback = entry.kind.is_callback();
            if step.action == RelaxAction::Exit && !callback {
                self.exit(now, call, ExitReason::RelaxationExit);
                return;
            }
            let overflow: Vec<usize> = match &step.action {
                RelaxAction::AddQueues { queues } => queues
                    .iter()
                    .filter_map(|id| self.queue_index.get(id).copied())
                    .collect(),
                _ => Vec::new(),
            };
            let dropped = match &step.action {
                RelaxAction::DropSkill { skill } => self.index.skill_numbers.get(skill),
                _ => None,
            };
            let Some(entry) = self.calls.get_mut(&call) else {
                return;
            };
            match step.action {
                RelaxAction::LowerProficiency { by } => {
                    entry.keep_original_required();
                    for r in entry.required.iter_mut() {
                        r.min = r.min.saturating_sub(by).max(1);
                    }
                }
                RelaxAction::DropSkill { .. } => {
                    if let Some(skill) = dropped {
                        entry.keep_original_required();
                        entry.required.retain(|r| r.skill != skill);
                    }
                }
                RelaxAction::AddQueues { .. } => {
                    for o in overflow {
                        if o != q && !entry.overflow.contains(&o) {
                            entry.overflow.push(o);
                            self.index.overflow_added(o, q, entry.line_key(), call);
                        }
                    }
                }
                // A callback entry passes over an exit step (see `callbacks`).
                RelaxAction::Exit | RelaxAction::OfferCallback => {}
            }
            entry.step += 1;
            let step = entry.step;
            self.index.entry_changed(call);
            let queue = self.queues[q].config.id.clone();
            self.emit(RoutingEvent::CallRelaxed { call, queue, step });
            if step_offers_callback(&self.queues[q].config.relaxation, step) {
                self.offer_callback(now, call);
            }
        }
    }

    /// Ends a call whatever its phase: abandoned if not yet connected, completed if connected.
    pub(super) fn end(&mut self, now: Instant, call: CallId) -> Result<(), CommandError> {
        let Some(routed) = self.calls.get(&call) else {
            return Err(CommandError::UnknownCall(call));
        };
        if let Phase::Connected { agent: a, at } = routed.phase {
            let q = routed.queue;
            self.calls.remove(&call);
            let talk = now.saturating_duration_since(at);
            self.queues[q].stats.completed(talk);
            self.record_talk(a, now, talk);
            self.emit(RoutingEvent::CallCompleted {
                call,
                queue: self.queues[q].config.id.clone(),
                agent: self.agents[a].id.clone(),
                talk,
            });
            self.agents[a].call = None;
            self.after_call(now, a, q);
        } else if !routed.kind.is_callback() {
            self.leave(now, call, None);
        }
        Ok(())
    }

    /// An unconnected entry leaves its queue: the caller hung up (`exit` None) or the queue
    /// made it exit.
    fn leave(&mut self, now: Instant, call: CallId, exit: Option<ExitReason>) {
        let Some(routed) = self.calls.remove(&call) else {
            return;
        };
        self.timers.cancel(&TimerReason::Relax { call });
        self.timers.cancel(&TimerReason::MaxWait { call });
        self.timers.cancel(&TimerReason::CallbackOffer { call });
        let q = routed.queue;
        // Every offer of it is revoked (several for a ring-all entry).
        let freed = routed.phase.offered().to_vec();
        for &a in &freed {
            let agent = self.agents[a].id.clone();
            self.timers.cancel(&TimerReason::RingTimeout {
                call,
                agent: agent.clone(),
            });
            let reason = match exit {
                None => RevokeReason::CallerAbandoned,
                Some(_) => RevokeReason::CallExited,
            };
            self.emit(RoutingEvent::OfferRevoked {
                call,
                agent,
                reason,
            });
            self.agents[a].call = None;
        }
        if freed.is_empty() {
            self.unoffered.remove(&routed.seq);
        }
        let key = routed.line_key();
        self.index.overflow_removed(&routed.overflow, q, key);
        let line = &mut self.queues[q].line;
        let position = line_position(line, key);
        line.remove(&key);
        let wait = now.saturating_duration_since(routed.enqueued_at);
        if !routed.outside_service_level {
            self.queues[q].stats.left(now, wait);
        }
        let queue = self.queues[q].config.id.clone();
        self.emit(match exit {
            None => RoutingEvent::CallAbandoned {
                call,
                queue,
                wait,
                position,
            },
            Some(reason) => RoutingEvent::CallExited {
                call,
                queue,
                wait,
                reason,
            },
        });
        for a in freed {
            match self.agents[a].pending_not_ready.take() {
                Some(reason) => self.set_state(a, AgentState::NotReady(reason), now),
                // The agent did no work: it keeps its idle time and so its place.
                None => self.set_state_keeping_idle(a, AgentState::Ready, now),
            }
        }
    }

    /// The queue takes an unconnected entry out.
    pub(super) fn exit(&mut self, now: Instant, call: CallId, reason: ExitReason) {
        let unconnected = self
            .calls
            .get(&call)
            .is_some_and(|c| !matches!(c.phase, Phase::Connected { .. }));
        if unconnected && self.is_callback(call) {
            self.callback_exit(now, call, reason);
        } else if unconnected {
            self.leave(now, call, Some(reason));
        }
    }

    /// Agent `a` answered offered `call`.
    pub(super) fn connect(&mut self, now: Instant, call: CallId, a: usize) {
        let agent_id = self.agents[a].id.clone();
        self.timers.cancel(&TimerReason::RingTimeout {
            call,
            agent: agent_id.clone(),
        });
        self.timers.cancel(&TimerReason::Relax { call });
        self.timers.cancel(&TimerReason::MaxWait { call });
        self.timers.cancel(&TimerReason::CallbackOffer { call });
        let Some(routed) = self.calls.get_mut(&call) else {
            return;
        };
        let rung = std::mem::replace(&mut routed.phase, Phase::Connected { agent: a, at: now });
        let wait = now.saturating_duration_since(routed.enqueued_at);
        let q = routed.queue;
        let key = routed.line_key();
        self.queues[q].line.remove(&key);
        self.index.overflow_removed(&routed.overflow, q, key);
        if !routed.outside_service_level {
            self.queues[q].stats.answered(now, wait);
        }
        let agent = &mut self.agents[a];
        agent.missed_in_row = 0;
        agent.calls_taken += 1;
        self.emit(RoutingEvent::CallConnected {
            call,
            queue: self.queues[q].config.id.clone(),
            agent: agent_id,
            wait,
        });
        self.set_state(a, AgentState::OnCall, now);
        if let Phase::RingingAll { agents } = rung {
            self.answered_elsewhere(now, call, a, &agents);
        }
    }

    pub(super) fn offer_failed(
        &mut self,
        now: Instant,
        call: CallId,
        a: usize,
        cause: OfferFailure,
    ) {
        self.timers.cancel(&TimerReason::RingTimeout {
            call,
            agent: self.agents[a].id.clone(),
        });
        self.requeue(call, a, RequeueReason::OfferFailed(cause));
        self.missed(now, a);
    }

    pub(super) fn ring_timeout(&mut self, now: Instant, call: CallId, agent: &crate::AgentId) {
        let Ok(a) = self.offered_agent(call, agent) else {
            // Timers are cancelled whenever an offer ends, so this offer is still live.
            return;
        };
        if self
            .calls
            .get(&call)
            .is_some_and(|c| matches!(c.phase, Phase::RingingAll { .. }))
        {
            self.ring_all_timeout(now, call);
            return;
        }
        self.emit(RoutingEvent::OfferRevoked {
            call,
            agent: agent.clone(),
            reason: RevokeReason::RingTimeout,
        });
        self.requeue(call, a, RequeueReason::RingTimeout);
        self.missed(now, a);
    }

    /// Ends agent `a`'s offer of `call`, putting the call back at its place in its queue without
    /// an offer (for a ring-all entry, once none of its offers rings any more).
    pub(super) fn requeue(&mut self, call: CallId, a: usize, reason: RequeueReason) {
        self.agents[a].call = None;
        let Some(routed) = self.calls.get_mut(&call) else {
            return;
        };
        let (seq, q) = (routed.seq, routed.queue);
        if routed.phase.end_offer(a) {
            routed.phase = Phase::Waiting;
            self.unoffered.insert(seq, call);
        }
        self.emit(RoutingEvent::CallRequeued {
            call,
            queue: self.queues[q].config.id.clone(),
            agent: self.agents[a].id.clone(),
            reason,
        });
    }
}

/// How many entries of `line` are at or ahead of `key`: its 1-based place when `line` holds it.
///
/// Walks from both ends at once and stops at the nearer: an arrival usually joins at the back
/// (or, with a higher priority, near the front), so the count costs a few steps, not the line.
pub(super) fn line_position<V>(line: &BTreeMap<LineKey, V>, key: LineKey) -> usize {
    if !line.contains_key(&key) {
        return line.range(..key).count();
    }
    let mut before = line.range(..key);
    let mut after = line.range((Bound::Excluded(key), Bound::Unbounded));
    let mut n = 0;
    loop {
        match (before.next(), after.next()) {
            (Some(_), Some(_)) => n += 1,
            // `n` entries are ahead of it.
            (None, _) => return n + 1,
            // `n` entries are behind it.
            (Some(_), None) => return line.len() - n,
        }
    }
}

/// Whether relaxation step number `step` (1-based) of `steps` offers a callback.
fn step_offers_callback(steps: &[crate::config::RelaxStep], step: usize) -> bool {
    step.checked_sub(1)
        .and_then(|i| steps.get(i))
        .is_some_and(|s| s.action == RelaxAction::OfferCallback)
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;

    #[test]
    fn a_line_position_counts_the_entries_ahead_from_either_end() {
        let t0 = Instant::now();
        let key = |priority: i32, s: u64| LineKey {
            priority: std::cmp::Reverse(priority),
            entered: t0 + Duration::from_secs(s),
            seq: s,
        };
        let mut line = BTreeMap::new();
        for s in 0..50 {
            line.insert(key(i32::from(s % 7 == 0), s), ());
        }
        for &k in line.keys() {
            assert_eq!(line_position(&line, k), line.range(..=k).count());
        }
        let only: BTreeMap<LineKey, ()> = [(key(0, 1), ())].into();
        assert_eq!(line_position(&only, key(0, 1)), 1);
        assert_eq!(
            line_position(&only, key(0, 2)),
            1,
            "not in the line: those ahead"
        );
        assert_eq!(line_position(&only, key(0, 0)), 0);
    }
}
