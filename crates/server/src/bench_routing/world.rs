//! The seeded world of `hotline bench routing`: skills, queues and agents (see the parent
//! module doc).

use std::collections::BTreeMap;
use std::time::Duration;

use hotline_routing::{
    AgentId, AgentSettings, QueueConfig, QueueId, RelaxAction, RelaxStep, RouterConfig,
    ServiceLevelTarget, SkillId, Strategy,
};

use super::BenchRoutingArgs;

/// The seeded generator of the world and the runs (splitmix64).
pub(super) struct Rng(pub(super) u64);

impl Rng {
    pub(super) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`).
    pub(super) fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// A number in `lo..=hi`.
    pub(super) fn between(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }
}

/// The generated configuration and what the runs need to know about it.
pub(super) struct World {
    pub(super) config: RouterConfig,
    /// Skills each queue requires.
    pub(super) required: Vec<Vec<usize>>,
    /// Main queues come first; `spare_from..` are the spare group.
    pub(super) spare_from: usize,
    /// Agents `spare_agents_from..` serve the spare group only.
    pub(super) spare_agents_from: usize,
    /// How many distinct skills.
    pub(super) skills: usize,
}

pub(super) fn skill(s: usize) -> SkillId {
    SkillId::new(format!("s{s}"))
}

pub(super) fn agent_id(a: usize) -> AgentId {
    AgentId::new(format!("agent{a}"))
}

pub(super) fn queue_id(q: usize) -> QueueId {
    QueueId::new(format!("queue{q}"))
}

impl World {
    /// Generates the world of `args` with every queue using `strategy`.
    pub(super) fn build(args: &BenchRoutingArgs, strategy: Strategy) -> Self {
        let mut rng = Rng(args.seed);
        let spare_from = args.queues - (args.queues / 10).max(1);
        let spare_agents_from = args.agents - (args.agents / 10).max(4);
        let required: Vec<Vec<usize>> = (0..args.queues)
            .map(|q| {
                let first = q % args.skills;
                if rng.below(2) == 0 {
                    vec![first]
                } else {
                    let second = (first + 1 + rng.below(args.skills - 1)) % args.skills;
                    vec![first, second]
                }
            })
            .collect();
        let mut members: Vec<Vec<(usize, u32)>> = vec![Vec::new(); args.queues];
        let mut agent_settings = BTreeMap::new();
        for a in 0..args.agents {
            let (from, to) = if a < spare_agents_from {
                (0, spare_from)
            } else {
                (spare_from, args.queues)
            };
            let mut skills = BTreeMap::new();
            let mut own: Vec<usize> = Vec::new();
            let wanted = rng.between(2, 4).min(to - from);
            while own.len() < wanted {
                let q = from + rng.below(to - from);
                if !own.contains(&q) {
                    own.push(q);
                }
            }
            for &q in &own {
                members[q].push((a, rng.below(3) as u32));
                for &s in &required[q] {
                    skills.insert(skill(s), rng.between(3, 10) as u8);
                }
            }
            let total = rng.between(1, 10).max(skills.len());
            while skills.len() < total {
                skills.insert(skill(rng.below(args.skills)), rng.between(1, 10) as u8);
            }
            agent_settings.insert(
                agent_id(a),
                AgentSettings {
                    skills,
                    ..AgentSettings::default()
                },
            );
        }
        // Every queue gets a member, so an arrival in a spare queue always finds one ready.
        for q in 0..args.queues {
            if members[q].is_empty() {
                let (from, to) = if q < spare_from {
                    (0, spare_agents_from)
                } else {
                    (spare_agents_from, args.agents)
                };
                let a = from + rng.below(to - from);
                members[q].push((a, 0));
                if let Some(settings) = agent_settings.get_mut(&agent_id(a)) {
                    for &s in &required[q] {
                        settings.skills.insert(skill(s), 10);
                    }
                }
            }
        }
        let queues = (0..args.queues)
            .map(|q| {
                let (from, to) = if q < spare_from {
                    (0, spare_from)
                } else {
                    (spare_from, args.queues)
                };
                // Overflow to a sibling queue of the group that requires the same first skill
                // (the next queue if none does), once the second skill is dropped.
                let overflow = (1..to - from)
                    .map(|step| from + (q - from + step) % (to - from))
                    .find(|&o| required[o][0] == required[q][0])
                    .unwrap_or(from + (q - from + 1) % (to - from));
                let mut relaxation = vec![RelaxStep {
                    after: Duration::from_secs(30),
                    action: RelaxAction::LowerProficiency { by: 2 },
                }];
                if let Some(&second) = required[q].get(1) {
                    relaxation.push(RelaxStep {
                        after: Duration::from_secs(60),
                        action: RelaxAction::DropSkill {
                            skill: skill(second),
                        },
                    });
                }
                relaxation.push(RelaxStep {
                    after: Duration::from_secs(60),
                    action: RelaxAction::AddQueues {
                        queues: vec![queue_id(overflow)],
                    },
                });
                QueueConfig {
                    id: queue_id(q),
                    members: members[q].iter().map(|&(a, _)| agent_id(a)).collect(),
                    penalties: members[q]
                        .iter()
                        .map(|&(a, penalty)| (agent_id(a), penalty))
                        .collect(),
                    weights: members[q]
                        .iter()
                        .map(|&(a, _)| (agent_id(a), 1 + (a % 3) as u32))
                        .collect(),
                    ring_timeout: Duration::from_secs(15),
                    wrap_up: Duration::from_secs(10),
                    strategy,
                    service_level: Some(ServiceLevelTarget {
                        threshold: Duration::from_secs(20),
                        percent: 80,
                    }),
                    relaxation,
                    ..QueueConfig::default()
                }
            })
            .collect();
        Self {
            config: RouterConfig {
                queues,
                agents: (0..args.agents).map(agent_id).collect(),
                agent_settings,
                seed: args.seed,
                ..RouterConfig::default()
            },
            required,
            spare_from,
            spare_agents_from,
            skills: args.skills,
        }
    }
}
