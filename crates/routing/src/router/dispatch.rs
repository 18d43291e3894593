//! Matching waiting calls with ready agents.

use std::ops::Bound;
use std::time::Instant;

use super::{Phase, Router};
use crate::agent_state::AgentState;
use crate::config::Strategy;
use crate::event::RoutingEvent;
use crate::timers::TimerReason;

impl Router {
    /// Offers waiting calls, oldest first, to the best ready member of their queue, until no
    /// call can be placed.
    pub(super) fn dispatch(&mut self, now: Instant) {
        if self.ready == 0 || self.unoffered.is_empty() {
            return;
        }
        // A queue with no ready member for one call has none for the calls behind it either.
        let mut exhausted = vec![false; self.queues.len()];
        let mut cursor = Bound::Unbounded;
        while self.ready > 0 {
            let Some((&seq, &call)) = self.unoffered.range((cursor, Bound::Unbounded)).next()
            else {
                break;
            };
            cursor = Bound::Excluded(seq);
            let Some(q) = self.calls.get(&call).map(|c| c.queue) else {
                continue;
            };
            if exhausted[q] {
                continue;
            }
            match self.choose_agent(q) {
                Some(a) => self.offer(now, seq, a),
                None => exhausted[q] = true,
            }
        }
    }

    /// The ready member of queue `q` its strategy picks.
    fn choose_agent(&self, q: usize) -> Option<usize> {
        let queue = &self.queues[q];
        match queue.config.strategy {
            // Longest idle first; ties by configuration order (the agent index).
            Strategy::LongestIdle => queue
                .members
                .iter()
                .copied()
                .filter(|&a| self.agents[a].state == AgentState::Ready)
                .min_by_key(|&a| (self.agents[a].idle_since, a)),
        }
    }

    /// Offers the waiting call with arrival number `seq` to ready agent `a`.
    fn offer(&mut self, now: Instant, seq: u64, a: usize) {
        let Some(call) = self.unoffered.remove(&seq) else {
            return;
        };
        let Some(routed) = self.calls.get_mut(&call) else {
            return;
        };
        routed.phase = Phase::Offered { agent: a };
        let queue = &self.queues[routed.queue].config;
        let ring_timeout = queue.ring_timeout;
        let queue_id = queue.id.clone();
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
        self.emit(RoutingEvent::CallOffered {
            call,
            queue: queue_id,
            agent,
            ring_timeout,
        });
    }
}
