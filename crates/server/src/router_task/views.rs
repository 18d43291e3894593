//! What the API and the gauges read of the router.

use std::collections::BTreeMap;
use std::time::Instant;

use hotline_routing::AgentState;

use super::carry_out::{millis, not_ready_text};
use super::RouterTask;
use crate::http::{AgentInfo, QueueInfo};

impl RouterTask {
    pub(super) fn agent_infos(&self, now: Instant) -> Vec<AgentInfo> {
        self.router
            .agents()
            .map(|a| AgentInfo {
                id: a.id.as_str().to_string(),
                name: self.names.get(a.id.as_str()).cloned(),
                state: a.state.name().to_string(),
                reason: match &a.state {
                    AgentState::NotReady(r) => Some(not_ready_text(r)),
                    _ => None,
                },
                in_state_ms: millis(now.saturating_duration_since(a.since)),
                queues: a.queues.iter().map(|q| q.as_str().to_string()).collect(),
                contacts: self.contacts.get(a.id.as_str()).copied().unwrap_or(0),
            })
            .collect()
    }

    pub(super) fn queue_infos(&self, now: Instant) -> Vec<QueueInfo> {
        self.router
            .queues()
            .map(|q| QueueInfo {
                name: q.id.as_str().to_string(),
                waiting: q.waiting,
                longest_wait_ms: q
                    .oldest_wait_since
                    .map_or(0, |t| millis(now.saturating_duration_since(t))),
                agents_ready: q.agents_ready,
                members: self.members.get(q.id.as_str()).cloned().unwrap_or_default(),
            })
            .collect()
    }

    pub(super) fn publish_gauges(&self) {
        let mut by_state: BTreeMap<&'static str, i64> = [
            "logged_out",
            "ready",
            "reserved",
            "ringing",
            "on_call",
            "wrap_up",
            "not_ready",
        ]
        .into_iter()
        .map(|s| (s, 0))
        .collect();
        for a in self.router.agents() {
            *by_state.entry(a.state.name()).or_default() += 1;
        }
        for (state, n) in by_state {
            self.metrics
                .agents_by_state
                .with_label_values(&[state])
                .set(n);
        }
        for q in self.router.queues() {
            self.metrics
                .queue_waiting
                .with_label_values(&[q.id.as_str()])
                .set(i64::try_from(q.waiting).unwrap_or(i64::MAX));
        }
    }
}
