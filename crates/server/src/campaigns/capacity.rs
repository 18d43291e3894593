//! What the campaigns can dial now, from the router's view of the agents and queues: per
//! campaign its free agents (ready, reachable, not holding a preview offer) with the inbound
//! queues each serves (blending: inbound first while a queue is under its service-level
//! target or has callers waiting), and its busy agents with how long they have been busy (the
//! predictive pacer forecasts who frees up soon).
//!
//! The campaign's own queue counts among the inbound queues: callers may be queued to it from
//! the dialplan too. Its waiting count then leaves out the campaigns' answered customers
//! waiting there for an agent (they are the campaign's own work, not inbound callers); its
//! service level leaves them out already (the router keeps outbound entries out of it).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use hotline_campaigns::campaign::{
    Audience, CampaignCapacity, CampaignEngine, CampaignSpec, DialCapacity, EntryState, FreeAgent,
};
use hotline_campaigns::pacing::{BusyAgent, InboundLevel};
use hotline_campaigns::{AgentName, QueueName};

use super::dial::LiveCall;
use crate::http::{AgentInfo, QueueDetail};

/// One inbound queue as blending sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueLevel {
    /// Answered within target over answered (1.0 before any call counted).
    pub service_level: f64,
    /// The target share (0 without a target: never below it).
    pub target: f64,
    /// Calls waiting now (inbound callers and the campaigns' answered customers alike).
    pub waiting: u32,
}

impl QueueLevel {
    /// The level of a queue from the router's detail.
    pub fn of(detail: &QueueDetail) -> Self {
        Self {
            service_level: detail.statistics.service_level.unwrap_or(1.0),
            target: detail
                .config
                .service_level
                .as_ref()
                .map_or(0.0, |t| f64::from(t.percent) / 100.0),
            waiting: u32::try_from(detail.statistics.waiting).unwrap_or(u32::MAX),
        }
    }
}

/// The queue whose agents take a campaign's calls (None: agentless).
pub fn campaign_queue(spec: &CampaignSpec) -> Option<&str> {
    match &spec.audience {
        Audience::Agents { queue, .. } => Some(queue.as_str()),
        Audience::Flow { .. } => None,
    }
}

/// The inbound queues whose levels blending needs: every queue of the campaigns' agents (the
/// campaign's own one included), for campaigns that put inbound first.
pub fn inbound_queues<'a>(
    campaigns: impl IntoIterator<Item = &'a CampaignSpec>,
    agents: &[AgentInfo],
) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for spec in campaigns {
        let Some(queue) = campaign_queue(spec) else {
            continue;
        };
        if !spec.blend.inbound_first {
            continue;
        }
        for agent in agents
            .iter()
            .filter(|a| a.queues.iter().any(|q| q == queue))
        {
            out.extend(agent.queues.iter().cloned());
        }
    }
    out
}

/// Per queue, the campaigns' answered customers waiting in it for an agent: the engine's
/// entries waiting for an agent on the attempt of a call in progress not yet connected.
pub fn outbound_waiting<'a>(
    engine: &CampaignEngine,
    calls: impl IntoIterator<Item = &'a LiveCall>,
) -> BTreeMap<String, u32> {
    let mut out = BTreeMap::new();
    for call in calls.into_iter().filter(|c| !c.connected) {
        let Some(queue) = engine.spec(&call.campaign).and_then(campaign_queue) else {
            continue;
        };
        let waiting = engine
            .entries(&call.campaign)
            .get(call.entry.0 as usize)
            .is_some_and(|e| {
                matches!(e.state, EntryState::WaitingAgent { attempt, .. } if attempt == call.attempt)
            });
        if waiting {
            *out.entry(queue.to_string()).or_insert(0) += 1;
        }
    }
    out
}

/// The capacity of each running campaign with agents. `offered`: agents holding a preview
/// offer (not free for another record); `outbound_waiting`: per queue, the campaigns' answered
/// customers waiting in it for an agent (left out of its waiting callers).
pub fn dial_capacity<'a>(
    campaigns: impl IntoIterator<Item = &'a CampaignSpec>,
    agents: &[AgentInfo],
    levels: &BTreeMap<String, QueueLevel>,
    offered: &BTreeSet<String>,
    outbound_waiting: &BTreeMap<String, u32>,
) -> DialCapacity {
    let mut capacity = DialCapacity::default();
    for spec in campaigns {
        let Some(queue) = campaign_queue(spec) else {
            continue;
        };
        let mut c = CampaignCapacity::default();
        for agent in agents
            .iter()
            .filter(|a| a.queues.iter().any(|q| q == queue))
        {
            let age = Duration::from_millis(agent.in_state_ms);
            match agent.state.as_str() {
                "ready" if agent.contacts > 0 && !offered.contains(&agent.id) => {
                    let inbound = if spec.blend.inbound_first {
                        agent
                            .queues
                            .iter()
                            .filter_map(|q| {
                                let outbound = outbound_waiting.get(q).copied().unwrap_or(0);
                                levels.get(q).map(|l| InboundLevel {
                                    queue: QueueName::new(q.as_str()),
                                    service_level: l.service_level,
                                    target: l.target,
                                    waiting: l.waiting.saturating_sub(outbound),
                                })
                            })
                            .collect()
                    } else {
                        vec![]
                    };
                    c.free_agents.push(FreeAgent {
                        name: AgentName::new(agent.id.as_str()),
                        inbound,
                    });
                }
                "reserved" | "ringing" | "on_call" => c.busy.push(BusyAgent::Talking { age }),
                "wrap_up" => c.busy.push(BusyAgent::WrapUp { age }),
                _ => {}
            }
        }
        capacity.campaigns.insert(spec.id.clone(), c);
    }
    capacity
}

#[cfg(test)]
mod tests {
    use super::*;
    use hotline_campaigns::campaign::{CampaignId, TrunkName, TrunkSpec};
    use hotline_campaigns::pacing::OutboundEligibility;
    use hotline_campaigns::E164;

    fn agent(id: &str, state: &str, queues: &[&str], ms: u64) -> AgentInfo {
        AgentInfo {
            id: id.into(),
            name: None,
            state: state.into(),
            reason: None,
            in_state_ms: ms,
            queues: queues.iter().map(|q| q.to_string()).collect(),
            contacts: 1,
        }
    }

    fn spec() -> CampaignSpec {
        CampaignSpec::new(
            CampaignId::new("renewals"),
            QueueName::new("sales"),
            E164::parse("+442071234567").unwrap_or_else(|e| panic!("{e}")),
            TrunkSpec {
                name: TrunkName::new("carrier"),
                channels: 4,
            },
        )
    }

    #[test]
    fn ready_members_are_free_with_their_inbound_levels_and_busy_ones_have_ages() {
        let agents = vec![
            agent("alice", "ready", &["sales", "support"], 0),
            agent("bob", "on_call", &["sales"], 30_000),
            agent("carol", "wrap_up", &["sales"], 5_000),
            agent("dave", "ready", &["support"], 0),
            agent("erin", "ready", &["sales"], 0),
            agent("fred", "not_ready", &["sales"], 0),
        ];
        let specs = [spec()];
        assert_eq!(
            inbound_queues(&specs, &agents),
            BTreeSet::from(["sales".to_string(), "support".to_string()])
        );
        let levels = BTreeMap::from([(
            "support".to_string(),
            QueueLevel {
                service_level: 0.7,
                target: 0.8,
                waiting: 2,
            },
        )]);
        let offered = BTreeSet::from(["erin".to_string()]);
        let cap = dial_capacity(&specs, &agents, &levels, &offered, &BTreeMap::new());
        let c = &cap.campaigns[&CampaignId::new("renewals")];
        let free: Vec<&str> = c.free_agents.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(free, ["alice"]);
        assert_eq!(c.free_agents[0].inbound.len(), 1);
        assert_eq!(c.free_agents[0].inbound[0].waiting, 2);
        assert_eq!(
            c.busy,
            [
                BusyAgent::Talking {
                    age: Duration::from_secs(30)
                },
                BusyAgent::WrapUp {
                    age: Duration::from_secs(5)
                }
            ]
        );
    }

    /// Ann alone serves the campaign's queue "sales", which also takes inbound callers.
    fn own_queue_eligibility(waiting: u32, outbound: u32) -> OutboundEligibility {
        let agents = vec![agent("ann", "ready", &["sales"], 0)];
        let specs = [spec()];
        assert_eq!(
            inbound_queues(&specs, &agents),
            BTreeSet::from(["sales".to_string()])
        );
        let levels = BTreeMap::from([(
            "sales".to_string(),
            QueueLevel {
                service_level: 1.0,
                target: 0.8,
                waiting,
            },
        )]);
        let outbound_waiting = BTreeMap::from([("sales".to_string(), outbound)]);
        let cap = dial_capacity(
            &specs,
            &agents,
            &levels,
            &BTreeSet::new(),
            &outbound_waiting,
        );
        let c = &cap.campaigns[&CampaignId::new("renewals")];
        assert_eq!(c.free_agents.len(), 1);
        OutboundEligibility::of(&c.free_agents[0].inbound)
    }

    #[test]
    fn an_inbound_caller_waiting_in_the_campaigns_own_queue_holds_its_agent() {
        // Two waiting: one the campaign's answered customer, one an inbound caller.
        assert_eq!(
            own_queue_eligibility(2, 1),
            OutboundEligibility::InboundWaiting {
                queue: QueueName::new("sales")
            }
        );
        assert_eq!(
            own_queue_eligibility(1, 0),
            OutboundEligibility::InboundWaiting {
                queue: QueueName::new("sales")
            }
        );
    }

    #[test]
    fn only_the_campaigns_own_customers_waiting_in_its_queue_hold_nobody() {
        assert_eq!(own_queue_eligibility(2, 2), OutboundEligibility::Eligible);
        assert_eq!(own_queue_eligibility(0, 0), OutboundEligibility::Eligible);
        // The router counted one fewer than the campaigns think wait (one just connected).
        assert_eq!(own_queue_eligibility(1, 2), OutboundEligibility::Eligible);
    }

    #[test]
    fn the_campaigns_own_queue_under_its_target_holds_its_agent() {
        let agents = vec![agent("ann", "ready", &["sales"], 0)];
        let levels = BTreeMap::from([(
            "sales".to_string(),
            QueueLevel {
                service_level: 0.5,
                target: 0.8,
                waiting: 0,
            },
        )]);
        let specs = [spec()];
        let cap = dial_capacity(&specs, &agents, &levels, &BTreeSet::new(), &BTreeMap::new());
        let c = &cap.campaigns[&CampaignId::new("renewals")];
        assert!(!OutboundEligibility::of(&c.free_agents[0].inbound).is_eligible());
    }
}
