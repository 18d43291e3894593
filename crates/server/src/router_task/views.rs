//! What the API and the gauges read of the router.

use std::collections::BTreeMap;
use std::time::Instant;

use hotline_routing::{AgentId, AgentState, QueueId};

use super::carry_out::{millis, not_ready_text};
use super::RouterTask;
use crate::http::{
    AgentDetail, AgentInfo, AgentQueue, QueueDetail, QueueEntryInfo, QueueInfo, QueueMember,
    QueueSettingsView, QueueStatistics, RelaxStepView, ServiceLevelView,
};

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

    pub(super) fn agent_detail(&self, id: &str, now: Instant) -> Option<AgentDetail> {
        let agent_id = AgentId::new(id.to_string());
        let a = self.router.agent(&agent_id)?;
        let queues = a
            .queues
            .iter()
            .map(|q| AgentQueue {
                queue: q.as_str().to_string(),
                penalty: self
                    .router
                    .queue(q)
                    .and_then(|view| view.config.penalties.get(&agent_id).copied())
                    .unwrap_or(0),
            })
            .collect();
        Some(AgentDetail {
            id: id.to_string(),
            name: self.names.get(id).cloned(),
            state: a.state.name().to_string(),
            reason: match &a.state {
                AgentState::NotReady(r) => Some(not_ready_text(r)),
                _ => None,
            },
            pending_not_ready: a.pending_not_ready.map(not_ready_text),
            in_state_ms: millis(now.saturating_duration_since(a.since)),
            contacts: self.contacts.get(id).copied().unwrap_or(0),
            skills: a
                .skills
                .iter()
                .map(|(s, p)| (s.as_str().to_string(), *p))
                .collect(),
            queues,
        })
    }

    pub(super) fn queue_detail(&self, id: &str, now: Instant) -> Option<QueueDetail> {
        let queue_id = QueueId::new(id.to_string());
        let q = self.router.queue(&queue_id)?;
        let c = q.config;
        let config = QueueSettingsView {
            strategy: c.strategy,
            members: c
                .members
                .iter()
                .map(|m| QueueMember {
                    agent: m.as_str().to_string(),
                    penalty: c.penalties.get(m).copied().unwrap_or(0),
                })
                .collect(),
            priority: self.priorities.get(id).copied().unwrap_or(0),
            service_level: c.service_level.map(|sl| ServiceLevelView {
                threshold_ms: millis(sl.threshold),
                percent: sl.percent,
            }),
            relaxation: c
                .relaxation
                .iter()
                .map(|step| RelaxStepView {
                    after_ms: millis(step.after),
                    action: step.action.clone(),
                })
                .collect(),
            ring_timeout_ms: millis(c.ring_timeout),
            wrap_up_ms: millis(c.wrap_up),
            max_wait_ms: c.max_wait.map(millis),
            max_len: c.max_len,
        };
        let statistics = QueueStatistics {
            waiting: q.waiting,
            offering: q.offering,
            longest_wait_ms: q
                .oldest_wait_since
                .map_or(0, |t| millis(now.saturating_duration_since(t))),
            agents_logged_in: q.agents_logged_in,
            agents_ready: q.agents_ready,
            agents_busy: q.agents_busy,
            agents_not_ready: q.agents_not_ready,
            agents_staffed: q.agents_ready + q.agents_busy,
            estimated_wait_ms: q.estimated_wait.map(millis),
            service_level: self.router.service_level(&queue_id, now),
            handle_time_ms: millis(q.handle_time),
        };
        Some(QueueDetail {
            name: id.to_string(),
            config,
            statistics,
        })
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
                entries: self.queue_entries(q.id, now),
            })
            .collect()
    }

    /// A queue's entries not yet connected, in line order, with kind and age.
    fn queue_entries(&self, queue: &hotline_routing::QueueId, now: Instant) -> Vec<QueueEntryInfo> {
        use hotline_routing::CallStatus;
        self.router
            .queue_line(queue)
            .into_iter()
            .map(|entry| QueueEntryInfo {
                call_id: uuid::Uuid::from_u128(entry.id.0).to_string(),
                kind: if entry.callback.is_some() {
                    "callback"
                } else {
                    "call"
                }
                .to_string(),
                status: match entry.status {
                    CallStatus::Waiting { .. } => "waiting",
                    CallStatus::Dialing { .. } => "dialing",
                    _ => "offered",
                }
                .to_string(),
                wait_ms: millis(now.saturating_duration_since(entry.enqueued_at)),
                priority: entry.priority,
                data: self.attached.get(&entry.id.0).cloned().unwrap_or_default(),
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
