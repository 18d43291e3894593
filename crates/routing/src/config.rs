//! Typed, validated configuration of queues and agents.

use std::collections::BTreeSet;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::ids::{AgentId, QueueId};

/// How a queue chooses among its ready members.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    /// The member that has been ready the longest gets the call.
    #[default]
    LongestIdle,
}

/// One queue: who answers it and how.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueConfig {
    /// The queue's name, used by dialplans and events.
    pub id: QueueId,
    /// The agents that answer this queue; each must be listed in [`RouterConfig::agents`].
    pub members: Vec<AgentId>,
    /// How long an offer may ring before it is revoked and the agent marked missed.
    pub ring_timeout: Duration,
    /// After-call work time before the agent is ready again (zero: ready at once).
    pub wrap_up: Duration,
    /// How a member is chosen.
    #[serde(default)]
    pub strategy: Strategy,
}

/// The whole routing configuration.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RouterConfig {
    /// The queues.
    pub queues: Vec<QueueConfig>,
    /// Every agent; this order breaks ties between equally idle agents.
    pub agents: Vec<AgentId>,
}

/// A configuration the router refuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// An agent is listed twice.
    #[error("agent {0} is listed twice")]
    DuplicateAgent(AgentId),
    /// A queue is defined twice.
    #[error("queue {0} is defined twice")]
    DuplicateQueue(QueueId),
    /// A queue names a member that is not in the agent list.
    #[error("queue {queue} lists member {agent}, which is not a configured agent")]
    UnknownMember {
        /// The queue.
        queue: QueueId,
        /// The missing agent.
        agent: AgentId,
    },
    /// A queue lists the same member twice.
    #[error("queue {queue} lists member {agent} twice")]
    DuplicateMember {
        /// The queue.
        queue: QueueId,
        /// The repeated agent.
        agent: AgentId,
    },
    /// A queue's ring timeout is zero, so no offer could ever ring.
    #[error("queue {0} has a zero ring timeout")]
    ZeroRingTimeout(QueueId),
}

impl RouterConfig {
    /// Checks the configuration is coherent.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let mut agents = BTreeSet::new();
        for agent in &self.agents {
            if !agents.insert(agent) {
                return Err(ConfigError::DuplicateAgent(agent.clone()));
            }
        }
        let mut queues = BTreeSet::new();
        for queue in &self.queues {
            if !queues.insert(&queue.id) {
                return Err(ConfigError::DuplicateQueue(queue.id.clone()));
            }
            if queue.ring_timeout.is_zero() {
                return Err(ConfigError::ZeroRingTimeout(queue.id.clone()));
            }
            let mut members = BTreeSet::new();
            for member in &queue.members {
                if !agents.contains(member) {
                    return Err(ConfigError::UnknownMember {
                        queue: queue.id.clone(),
                        agent: member.clone(),
                    });
                }
                if !members.insert(member) {
                    return Err(ConfigError::DuplicateMember {
                        queue: queue.id.clone(),
                        agent: member.clone(),
                    });
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn queue(id: &str, members: &[&str]) -> QueueConfig {
        QueueConfig {
            id: QueueId::new(id),
            members: members.iter().map(|m| AgentId::new(*m)).collect(),
            ring_timeout: Duration::from_secs(15),
            wrap_up: Duration::from_secs(5),
            strategy: Strategy::LongestIdle,
        }
    }

    #[test]
    fn unknown_member_is_refused() {
        let config = RouterConfig {
            queues: vec![queue("sales", &["alice", "bob"])],
            agents: vec![AgentId::new("alice")],
        };
        assert_eq!(
            config.validate(),
            Err(ConfigError::UnknownMember {
                queue: QueueId::new("sales"),
                agent: AgentId::new("bob"),
            })
        );
    }

    #[test]
    fn duplicates_and_zero_ring_timeout_are_refused() {
        let agents = vec![AgentId::new("alice")];
        let dup_agent = RouterConfig {
            queues: vec![],
            agents: vec![AgentId::new("a"), AgentId::new("a")],
        };
        assert!(matches!(
            dup_agent.validate(),
            Err(ConfigError::DuplicateAgent(_))
        ));
        let dup_queue = RouterConfig {
            queues: vec![queue("q", &[]), queue("q", &[])],
            agents: agents.clone(),
        };
        assert!(matches!(
            dup_queue.validate(),
            Err(ConfigError::DuplicateQueue(_))
        ));
        let mut zero = queue("q", &["alice"]);
        zero.ring_timeout = Duration::ZERO;
        let zero = RouterConfig {
            queues: vec![zero],
            agents,
        };
        assert!(matches!(
            zero.validate(),
            Err(ConfigError::ZeroRingTimeout(_))
        ));
    }
}
