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
        ..RouterConfig::default()
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
        service_level: q.service_level,
        relaxation: q.relaxation.clone(),
        ..QueueConfig::default()
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
        ..RoutingAgentSettings::default()
    }
}
