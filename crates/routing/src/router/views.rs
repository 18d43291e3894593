//! Read-only views of the router for the HTTP API and metrics.

use std::time::{Duration, Instant};

use super::{Agent, Phase, Router};
use crate::agent_state::{AgentState, NotReadyReason};
use crate::command::CallbackRequest;
use crate::config::{QueueConfig, Strategy};
use crate::ids::{AgentId, CallId, QueueId};
use crate::skills::Skills;

/// An agent as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentView<'a> {
    /// The agent.
    pub id: &'a AgentId,
    /// Its state.
    pub state: &'a AgentState,
    /// When it entered that state.
    pub since: Instant,
    /// Since when it has been idle, while `Ready` (the longest-idle rule's key).
    pub idle_since: Option<Instant>,
    /// The call it is offered or connected to.
    pub current_call: Option<CallId>,
    /// The queues it answers, in configuration order.
    pub queues: &'a [QueueId],
    /// How many SIP contacts it has registered.
    pub contacts: usize,
    /// A not-ready asked for while busy, applied after the call.
    pub pending_not_ready: Option<&'a NotReadyReason>,
    /// Its skills and proficiencies.
    pub skills: &'a Skills,
}

/// A queue as the API and metrics show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueView<'a> {
    /// The queue.
    pub id: &'a QueueId,
    /// Its strategy.
    pub strategy: Strategy,
    /// Calls not yet connected, including those whose offer is ringing.
    pub waiting: usize,
    /// Of the waiting calls, how many are being offered right now.
    pub offering: usize,
    /// When the oldest waiting call arrived.
    pub oldest_wait_since: Option<Instant>,
    /// How many agents are members.
    pub members: usize,
    /// Members not logged out.
    pub agents_logged_in: usize,
    /// Members ready for a call.
    pub agents_ready: usize,
    /// Members reserved, ringing, on a call or in wrap-up.
    pub agents_busy: usize,
    /// Members not ready.
    pub agents_not_ready: usize,
    /// The queue's configuration.
    pub config: &'a QueueConfig,
    /// The exponentially weighted handle time (talk plus wrap-up) the wait estimates use.
    pub handle_time: Duration,
    /// The wait a new entry can expect, as [`Router::estimated_wait`] computes it for the
    /// entry behind every waiting one; `None` when nobody staffs the queue.
    pub estimated_wait: Option<Duration>,
}

/// A routed call as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallView<'a> {
    /// The call.
    pub id: CallId,
    /// The queue it entered.
    pub queue: &'a QueueId,
    /// When it entered the queue (its original entry time).
    pub enqueued_at: Instant,
    /// Its priority (higher is served first).
    pub priority: i32,
    /// How many relaxation steps applied.
    pub relaxation_step: usize,
    /// Where it is now.
    pub status: CallStatus<'a>,
    /// Set for a callback entry: whom to call back.
    pub callback: Option<&'a CallbackRequest>,
    /// Dial attempts made for a callback entry (0 for a live call).
    pub callback_attempts: u32,
}

/// Where a routed call is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallStatus<'a> {
    /// Waiting for an agent, at a 1-based position in its queue.
    Waiting {
        /// Its position.
        position: usize,
    },
    /// Offered to an agent, keeping its position.
    Offered {
        /// Its position.
        position: usize,
        /// The agent whose phone rings.
        agent: &'a AgentId,
    },
    /// A due callback: its agent is reserved while the server dials, keeping its position.
    Dialing {
        /// Its position.
        position: usize,
        /// The reserved agent.
        agent: &'a AgentId,
    },
    /// A ring-all entry offered to several agents at once, keeping its position.
    RingingAll {
        /// Its position.
        position: usize,
        /// The agents whose phones ring, in configuration order.
        agents: Vec<&'a AgentId>,
    },
    /// Bridged with an agent.
    Connected {
        /// The agent.
        agent: &'a AgentId,
        /// When it was connected.
        since: Instant,
    },
}

impl Router {
    /// Every agent, in configuration order.
    pub fn agents(&self) -> impl Iterator<Item = AgentView<'_>> + '_ {
        self.agents.iter().map(agent_view)
    }

    /// One agent, if configured.
    pub fn agent(&self, id: &AgentId) -> Option<AgentView<'_>> {
        let &a = self.agent_index.get(id)?;
        self.agents.get(a).map(agent_view)
    }

    /// Every queue, in configuration order.
    pub fn queues(&self) -> impl Iterator<Item = QueueView<'_>> + '_ {
        // A queue a reload removed stays out of the index until its last call ends.
        (0..self.queue_index.len()).map(move |q| self.queue_view(q))
    }

    /// One queue, if configured.
    pub fn queue(&self, id: &QueueId) -> Option<QueueView<'_>> {
        let &q = self.queue_index.get(id)?;
        Some(self.queue_view(q))
    }

    fn queue_view(&self, q: usize) -> QueueView<'_> {
        let queue = &self.queues[q];
        let mut view = QueueView {
            id: &queue.config.id,
            strategy: queue.config.strategy,
            waiting: queue.line.len(),
            offering: 0,
            oldest_wait_since: queue
                .line
                .values()
                .filter_map(|c| self.calls.get(c))
                .map(|c| c.enqueued_at)
                .min(),
            members: queue.members.len(),
            agents_logged_in: 0,
            agents_ready: 0,
            agents_busy: 0,
            agents_not_ready: 0,
            config: &queue.config,
            handle_time: queue.stats.handle_time(),
            estimated_wait: None,
        };
        view.offering = queue
            .line
            .values()
            .filter_map(|c| self.calls.get(c))
            .filter(|c| !c.phase.offered().is_empty() || matches!(c.phase, Phase::Dialing { .. }))
            .count();
        for &a in &queue.members {
            match self.agents[a].state {
                AgentState::LoggedOut => continue,
                AgentState::Ready => view.agents_ready += 1,
                AgentState::NotReady(_) => view.agents_not_ready += 1,
                AgentState::Reserved
                | AgentState::Ringing
                | AgentState::OnCall
                | AgentState::WrapUp => view.agents_busy += 1,
            }
            view.agents_logged_in += 1;
        }
        let staffed = u32::try_from(view.agents_ready + view.agents_busy).unwrap_or(u32::MAX);
        let position = view.waiting - view.offering + 1;
        let ahead = u32::try_from(position.saturating_sub(view.agents_ready)).unwrap_or(u32::MAX);
        view.estimated_wait = (staffed > 0).then(|| view.handle_time * ahead / staffed);
        view
    }

    /// One routed call (queued, offered or connected), if the router holds it.
    pub fn call(&self, id: CallId) -> Option<CallView<'_>> {
        let call = self.calls.get(&id)?;
        let queue = &self.queues[call.queue];
        let position = || queue.line.range(..=call.line_key()).count();
        let status = match &call.phase {
            // A callback waiting out its retry delay keeps its place like any waiting entry.
            Phase::Waiting | Phase::RetryWait => CallStatus::Waiting {
                position: position(),
            },
            Phase::Dialing { agent } => CallStatus::Dialing {
                position: position(),
                agent: &self.agents[*agent].id,
            },
            Phase::Offered { agent } => CallStatus::Offered {
                position: position(),
                agent: &self.agents[*agent].id,
            },
            Phase::RingingAll { agents } => CallStatus::RingingAll {
                position: position(),
                agents: agents.iter().map(|&a| &self.agents[a].id).collect(),
            },
            Phase::Connected { agent, at } => CallStatus::Connected {
                agent: &self.agents[*agent].id,
                since: *at,
            },
        };
        Some(CallView {
            id,
            queue: &queue.config.id,
            enqueued_at: call.enqueued_at,
            priority: call.priority,
            relaxation_step: call.step,
            status,
            callback: call.kind.callback().map(|c| &c.request),
            callback_attempts: call.kind.callback().map_or(0, |c| c.attempts),
        })
    }

    /// The entries of a queue not yet connected (waiting, offered, dialed), in line order:
    /// higher priority first, then original entry time. Empty for an unknown queue.
    pub fn queue_line(&self, id: &QueueId) -> Vec<CallView<'_>> {
        let Some(&q) = self.queue_index.get(id) else {
            return Vec::new();
        };
        self.queues[q]
            .line
            .values()
            .filter_map(|&c| self.call(c))
            .collect()
    }

    /// How many calls the router holds (waiting, offered or connected).
    pub fn call_count(&self) -> usize {
        self.calls.len()
    }
}

fn agent_view(agent: &Agent) -> AgentView<'_> {
    AgentView {
        id: &agent.id,
        state: &agent.state,
        since: agent.since,
        idle_since: (agent.state == AgentState::Ready).then_some(agent.idle_since),
        current_call: agent.call,
        queues: &agent.queues,
        contacts: agent.contacts,
        pending_not_ready: agent.pending_not_ready.as_ref(),
        skills: &agent.skills,
    }
}
