//! The routing core's configuration, built from `config/hotline.yaml`: one conversion shared by
//! the routing task, `hotline simulate --config` and configuration reloads.

use hotline_routing::{
    AgentId, AgentSettings as RoutingAgentSettings, QueueConfig, QueueId, RouterConfig, SkillId,
};

use crate::config::{AgentSettings, Config, QueueSettings};

/// The router configuration for every queue and agent of `config`.
pub fn router_config(config: &Config) -> RouterConfig {
    RouterConfig {
        queues: config
            .queues
            .iter()
            .map(|(name, q)| queue_config(name, q))
            .collect(),
        agents: config
            .agents
            .keys()
            .map(|a| AgentId::new(a.clone()))
            .collect(),
        agent_settings: config
            .agents
            .iter()
            .map(|(id, a)| (AgentId::new(id.clone()), agent_settings(a)))
            .collect(),
        not_ready_reasons: config.routing.not_ready_reasons.clone(),
        seed: config.routing.seed,
    }
}

/// The router's view of one configured queue.
pub fn queue_config(name: &str, q: &QueueSettings) -> QueueConfig {
    QueueConfig {
        id: QueueId::new(name.to_string()),
        members: q.members.iter().map(|m| AgentId::new(m.clone())).collect(),
        ring_timeout: q.ring_timeout,
        wrap_up: q.wrap_up,
        strategy: q.strategy,
        penalties: q
            .penalties
            .iter()
            .map(|(a, p)| (AgentId::new(a.clone()), *p))
            .collect(),
        weights: q
            .weights
            .iter()
            .map(|(a, w)| (AgentId::new(a.clone()), *w))
            .collect(),
        talk_time_window: q.talk_time_window.unwrap_or_default(),
        max_wait: q.max_wait,
        max_len: q.max_len,
        join_when_empty: q.join_when_empty,
        leave_when_empty: q.leave_when_empty,
        relaxation: q.relaxation.clone(),
        service_level: q.service_level,
        service_level_window: q.service_level_window.unwrap_or_default(),
        expected_handle_time: q.expected_handle_time.unwrap_or_default(),
        callback_offer: q.callback_offer,
        callback_expiry: q.callback_expiry,
        callback_retry_delay: q.callback_retry_delay.unwrap_or_default(),
        callback_max_attempts: q.callback_max_attempts.unwrap_or(0),
    }
}

/// The router's view of one configured agent.
pub fn agent_settings(a: &AgentSettings) -> RoutingAgentSettings {
    RoutingAgentSettings {
        skills: a
            .skills
            .iter()
            .map(|(s, p)| (SkillId::new(s.clone()), *p))
            .collect(),
        wrap_up: a.wrap_up,
        max_missed_offers: a.max_missed_offers.unwrap_or(0),
    }
}
