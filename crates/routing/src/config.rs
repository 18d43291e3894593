//! Typed, validated configuration of queues and agents.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::ids::{AgentId, QueueId};
use crate::skills::{SkillId, SkillRequirement, Skills, MAX_PROFICIENCY, MIN_PROFICIENCY};

/// How a queue chooses among the eligible ready agents (after penalty and preferred skills).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    /// The agent that has been ready the longest.
    #[default]
    LongestIdle,
    /// The agent that connected the fewest calls since the router started; ties by longest idle.
    FewestCalls,
    /// The agent with the least talk time over [`QueueConfig::talk_time_window`]; ties by
    /// longest idle.
    LeastTalkTime,
    /// The next agent after the one last offered a call of this queue, in member order.
    RoundRobin,
    /// The first eligible agent in the queue's member order.
    Linear,
    /// A uniformly random eligible agent (seeded by [`RouterConfig::seed`]).
    Random,
    /// A random eligible agent, weighted by [`QueueConfig::weights`] (default weight 1).
    WeightedRandom,
    /// The agent with the highest proficiency in the entry's skills; ties by longest idle.
    BestSkilled,
    /// Every eligible agent at once (all those at the best placement); the first to answer
    /// takes the call and the other offers are revoked
    /// ([`crate::RevokeReason::AnsweredElsewhere`]).
    RingAll,
}

/// When a queue counts as empty for the join/leave policies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EmptyRule {
    /// Never: calls join and stay whatever the members' states.
    #[default]
    Never,
    /// No member is logged in.
    NoneLoggedIn,
    /// No member is logged in and not in a not-ready state.
    NoneAvailable,
}

/// A service-level target: `percent` of calls answered within `threshold`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceLevelTarget {
    /// The answer time that counts as within target (e.g. 20 s).
    pub threshold: Duration,
    /// The share to reach, 0-100 (e.g. 80).
    pub percent: u8,
}

/// What one relaxation step changes for an entry that waited long enough.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RelaxAction {
    /// Lower every required minimum proficiency by `by` (never below 1).
    LowerProficiency {
        /// How many points.
        by: u8,
    },
    /// Stop requiring this skill.
    DropSkill {
        /// The skill.
        skill: SkillId,
    },
    /// Let the members of these queues take the entry too (each with its penalty there).
    AddQueues {
        /// The overflow queues.
        queues: Vec<QueueId>,
    },
    /// Take the entry out of the queue with an exit event. A callback entry is not taken out:
    /// nobody is on the line to hear an exit path, so it keeps waiting (see
    /// [`QueueConfig::callback_expiry`]).
    Exit,
    /// Emit [`crate::RoutingEvent::CallbackOffered`] so the server offers the caller a callback
    /// (at most once per entry, whatever asks for it; nothing for a callback entry).
    OfferCallback,
}

/// A relaxation step: after `after` of waiting (counted from the original entry time), apply
/// `action` on top of the earlier steps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RelaxStep {
    /// The wait after which the step applies.
    pub after: Duration,
    /// What it changes.
    pub action: RelaxAction,
}

/// One queue: who answers it and how.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct QueueConfig {
    /// The queue's name, used by dialplans and events.
    pub id: QueueId,
    /// The agents that answer this queue, in the order [`Strategy::Linear`] and
    /// [`Strategy::RoundRobin`] use; each must be listed in [`RouterConfig::agents`].
    pub members: Vec<AgentId>,
    /// How long an offer may ring before it is revoked and the agent marked missed.
    pub ring_timeout: Duration,
    /// After-call work time before the agent is ready again (zero: ready at once); an agent's own
    /// [`AgentSettings::wrap_up`] takes precedence.
    pub wrap_up: Duration,
    /// How a member is chosen.
    #[serde(default)]
    pub strategy: Strategy,
    /// Per-member penalty: lower is offered first; members not listed have penalty 0.
    #[serde(default)]
    pub penalties: BTreeMap<AgentId, u32>,
    /// Per-member weight for [`Strategy::WeightedRandom`]; members not listed weigh 1.
    #[serde(default)]
    pub weights: BTreeMap<AgentId, u32>,
    /// The window of [`Strategy::LeastTalkTime`] (zero: one hour).
    #[serde(default)]
    pub talk_time_window: Duration,
    /// Longest wait before the entry exits with [`crate::ExitReason::MaxWait`]; the entry's own
    /// value (from the dialplan) takes precedence.
    #[serde(default)]
    pub max_wait: Option<Duration>,
    /// Most entries the queue holds; further entries are rejected.
    #[serde(default)]
    pub max_len: Option<usize>,
    /// Refuse new entries while the queue is empty in this sense.
    #[serde(default)]
    pub join_when_empty: EmptyRule,
    /// Make waiting entries exit when the queue becomes empty in this sense.
    #[serde(default)]
    pub leave_when_empty: EmptyRule,
    /// Relaxation steps, in increasing `after` order.
    #[serde(default)]
    pub relaxation: Vec<RelaxStep>,
    /// The service-level target the cross-queue choice tries to keep.
    #[serde(default)]
    pub service_level: Option<ServiceLevelTarget>,
    /// The rolling window over which the service level is measured (zero: one hour).
    #[serde(default)]
    pub service_level_window: Duration,
    /// The handle time assumed before any call completed, for wait estimates (zero: 180 s).
    #[serde(default)]
    pub expected_handle_time: Duration,
    /// The wait after which a live caller is offered a callback
    /// ([`crate::RoutingEvent::CallbackOffered`]); the entry's own value (from the dialplan)
    /// takes precedence.
    #[serde(default)]
    pub callback_offer: Option<Duration>,
    /// The longest a callback entry stays queued, counted like every wait from the original
    /// entry time; then it is given up ([`crate::GiveUpReason::Expired`]). `None`: no limit.
    /// A live call's max wait never applies to a callback entry.
    #[serde(default)]
    pub callback_expiry: Option<Duration>,
    /// How long a callback whose dial failed waits before it may be dialed again (zero: 60 s).
    #[serde(default)]
    pub callback_retry_delay: Duration,
    /// Dial attempts before a callback is given up (0: 3).
    #[serde(default)]
    pub callback_max_attempts: u32,
}

/// The retry delay of a failed callback when the queue sets none.
pub(crate) const DEFAULT_CALLBACK_RETRY_DELAY: Duration = Duration::from_secs(60);

/// The dial attempts of a callback when the queue sets none.
pub(crate) const DEFAULT_CALLBACK_MAX_ATTEMPTS: u32 = 3;

impl QueueConfig {
    /// The delay before a failed callback may be dialed again.
    pub fn callback_retry_delay(&self) -> Duration {
        if self.callback_retry_delay.is_zero() {
            DEFAULT_CALLBACK_RETRY_DELAY
        } else {
            self.callback_retry_delay
        }
    }

    /// The dial attempts before a callback is given up (at least 1).
    pub fn callback_max_attempts(&self) -> u32 {
        if self.callback_max_attempts == 0 {
            DEFAULT_CALLBACK_MAX_ATTEMPTS
        } else {
            self.callback_max_attempts
        }
    }
}

/// Per-agent settings; every field has a default.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AgentSettings {
    /// Skills with proficiency 1-10.
    #[serde(default)]
    pub skills: Skills,
    /// The agent's own wrap-up time, overriding the queue's.
    #[serde(default)]
    pub wrap_up: Option<Duration>,
    /// Missed offers in a row before the agent goes not ready (`missed_offer`); 0 or absent: 1.
    #[serde(default)]
    pub max_missed_offers: u32,
}

/// The whole routing configuration.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RouterConfig {
    /// The queues.
    pub queues: Vec<QueueConfig>,
    /// Every agent; this order breaks ties between equally idle agents.
    pub agents: Vec<AgentId>,
    /// Settings per agent; agents not listed have no skills and the defaults.
    #[serde(default)]
    pub agent_settings: BTreeMap<AgentId, AgentSettings>,
    /// The not-ready reason codes the API may set (`missed_offer` is built in); empty: any text.
    #[serde(default)]
    pub not_ready_reasons: Vec<String>,
    /// The seed of the random strategies, so a run is reproducible.
    #[serde(default)]
    pub seed: u64,
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
    /// Settings are given for an agent that is not configured.
    #[error("settings for {0}, which is not a configured agent")]
    UnknownAgentSettings(AgentId),
    /// A proficiency is outside 1-10.
    #[error("agent {agent} has proficiency {proficiency} in {skill}; allowed 1-10")]
    BadProficiency {
        /// The agent.
        agent: AgentId,
        /// The skill.
        skill: SkillId,
        /// The value given.
        proficiency: u8,
    },
    /// A relaxation step names an unknown overflow queue.
    #[error("queue {queue} overflows to {overflow}, which is not a configured queue")]
    UnknownOverflowQueue {
        /// The queue.
        queue: QueueId,
        /// The unknown overflow queue.
        overflow: QueueId,
    },
    /// Relaxation steps are not in increasing wait order.
    #[error("queue {0} has relaxation steps out of order")]
    RelaxationOutOfOrder(QueueId),
    /// A service-level percentage above 100.
    #[error("queue {0} has a service-level target above 100%")]
    BadServiceLevel(QueueId),
    /// A reason code is empty or repeated.
    #[error("not-ready reason {0:?} is empty or repeated")]
    BadReasonCode(String),
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
        for (agent, settings) in &self.agent_settings {
            if !agents.contains(agent) {
                return Err(ConfigError::UnknownAgentSettings(agent.clone()));
            }
            for (skill, &proficiency) in &settings.skills {
                if !(MIN_PROFICIENCY..=MAX_PROFICIENCY).contains(&proficiency) {
                    return Err(ConfigError::BadProficiency {
                        agent: agent.clone(),
                        skill: skill.clone(),
                        proficiency,
                    });
                }
            }
        }
        let queue_ids: BTreeSet<&QueueId> = self.queues.iter().map(|q| &q.id).collect();
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
            if queue.relaxation.windows(2).any(|w| w[0].after > w[1].after) {
                return Err(ConfigError::RelaxationOutOfOrder(queue.id.clone()));
            }
            for step in &queue.relaxation {
                if let RelaxAction::AddQueues { queues } = &step.action {
                    if let Some(overflow) = queues.iter().find(|q| !queue_ids.contains(q)) {
                        return Err(ConfigError::UnknownOverflowQueue {
                            queue: queue.id.clone(),
                            overflow: overflow.clone(),
                        });
                    }
                }
            }
            if queue.service_level.is_some_and(|sl| sl.percent > 100) {
                return Err(ConfigError::BadServiceLevel(queue.id.clone()));
            }
        }
        let mut reasons = BTreeSet::new();
        for reason in &self.not_ready_reasons {
            if reason.is_empty() || !reasons.insert(reason) {
                return Err(ConfigError::BadReasonCode(reason.clone()));
            }
        }
        Ok(())
    }
}

/// The requirements and preferences an entry brings to its queue (all optional).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct EnqueueOptions {
    /// Skills the agent must have, each at a minimum proficiency (an AND).
    #[serde(default)]
    pub required: Vec<SkillRequirement>,
    /// Skills that make an agent preferred but never exclude one.
    #[serde(default)]
    pub preferred: Vec<SkillRequirement>,
    /// Higher is served first (default 0).
    #[serde(default)]
    pub priority: i32,
    /// The dialplan node's max wait, overriding the queue's.
    #[serde(default)]
    pub max_wait: Option<Duration>,
    /// The dialplan node's callback offer wait, overriding the queue's
    /// [`QueueConfig::callback_offer`].
    #[serde(default)]
    pub callback_offer: Option<Duration>,
    /// The entry is no inbound caller (an outbound campaign's answered customer handed to the
    /// queue): its answer or loss stays out of the queue's service level, which measures how
    /// the queue serves the callers who call in.
    #[serde(default)]
    pub outside_service_level: bool,
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
            ..QueueConfig::default()
        }
    }

    fn agents(names: &[&str]) -> Vec<AgentId> {
        names.iter().map(|n| AgentId::new(*n)).collect()
    }

    #[test]
    fn unknown_member_is_refused() {
        let config = RouterConfig {
            queues: vec![queue("sales", &["alice", "bob"])],
            agents: agents(&["alice"]),
            ..RouterConfig::default()
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
        let dup_agent = RouterConfig {
            agents: agents(&["a", "a"]),
            ..RouterConfig::default()
        };
        assert!(matches!(
            dup_agent.validate(),
            Err(ConfigError::DuplicateAgent(_))
        ));
        let dup_queue = RouterConfig {
            queues: vec![queue("q", &[]), queue("q", &[])],
            agents: agents(&["alice"]),
            ..RouterConfig::default()
        };
        assert!(matches!(
            dup_queue.validate(),
            Err(ConfigError::DuplicateQueue(_))
        ));
        let mut zero = queue("q", &["alice"]);
        zero.ring_timeout = Duration::ZERO;
        let zero = RouterConfig {
            queues: vec![zero],
            agents: agents(&["alice"]),
            ..RouterConfig::default()
        };
        assert!(matches!(
            zero.validate(),
            Err(ConfigError::ZeroRingTimeout(_))
        ));
    }

    #[test]
    fn proficiency_overflow_steps_and_reasons_are_checked() {
        let mut settings = AgentSettings::default();
        settings.skills.insert(SkillId::new("fr"), 11);
        let bad_skill = RouterConfig {
            agents: agents(&["alice"]),
            agent_settings: [(AgentId::new("alice"), settings)].into(),
            ..RouterConfig::default()
        };
        assert!(matches!(
            bad_skill.validate(),
            Err(ConfigError::BadProficiency {
                proficiency: 11,
                ..
            })
        ));
        let mut q = queue("q", &[]);
        q.relaxation = vec![RelaxStep {
            after: Duration::from_secs(30),
            action: RelaxAction::AddQueues {
                queues: vec![QueueId::new("nowhere")],
            },
        }];
        let overflow = RouterConfig {
            queues: vec![q.clone()],
            ..RouterConfig::default()
        };
        assert!(matches!(
            overflow.validate(),
            Err(ConfigError::UnknownOverflowQueue { .. })
        ));
        q.relaxation = vec![
            RelaxStep {
                after: Duration::from_secs(30),
                action: RelaxAction::Exit,
            },
            RelaxStep {
                after: Duration::from_secs(10),
                action: RelaxAction::Exit,
            },
        ];
        let order = RouterConfig {
            queues: vec![q],
            ..RouterConfig::default()
        };
        assert!(matches!(
            order.validate(),
            Err(ConfigError::RelaxationOutOfOrder(_))
        ));
        let reasons = RouterConfig {
            not_ready_reasons: vec!["lunch".into(), "lunch".into()],
            ..RouterConfig::default()
        };
        assert!(matches!(
            reasons.validate(),
            Err(ConfigError::BadReasonCode(_))
        ));
    }
}
