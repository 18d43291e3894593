//! Blending: inbound first; an agent takes outbound work only while every inbound queue it
//! serves meets its service-level target and has nobody waiting.

use serde::Serialize;

use crate::ids::QueueName;

/// One inbound queue an agent serves, as measured now.
#[derive(Debug, Clone, PartialEq)]
pub struct InboundLevel {
    /// The queue.
    pub queue: QueueName,
    /// Share of calls answered within the queue's target time, over its measuring span.
    pub service_level: f64,
    /// The queue's service-level target (0.8 for 80/20).
    pub target: f64,
    /// Calls waiting in the queue now.
    pub waiting: u32,
}

/// Whether an agent may take outbound work now.
#[derive(Debug, Clone, PartialEq)]
pub enum OutboundEligibility {
    /// Every inbound queue of the agent meets its target: outbound work is allowed.
    Eligible,
    /// A caller waits in one of the agent's inbound queues: inbound first.
    InboundWaiting {
        /// The queue.
        queue: QueueName,
    },
    /// One of the agent's inbound queues is under its service-level target.
    BelowTarget {
        /// The queue.
        queue: QueueName,
        /// Its service level.
        service_level: f64,
        /// Its target.
        target: f64,
    },
}

impl OutboundEligibility {
    /// The agent's eligibility from its inbound queues (in the order given; the first reason
    /// found is reported, a waiting caller before a missed target).
    pub fn of(queues: &[InboundLevel]) -> Self {
        if let Some(q) = queues.iter().find(|q| q.waiting > 0) {
            return Self::InboundWaiting {
                queue: q.queue.clone(),
            };
        }
        if let Some(q) = queues.iter().find(|q| q.service_level < q.target) {
            return Self::BelowTarget {
                queue: q.queue.clone(),
                service_level: q.service_level,
                target: q.target,
            };
        }
        Self::Eligible
    }

    /// Whether outbound work is allowed.
    pub fn is_eligible(&self) -> bool {
        matches!(self, Self::Eligible)
    }
}

/// How many of a campaign's free agents blending holds for inbound work, by reason: what the
/// API shows when a campaign does not dial though its agents are ready.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct InboundHold {
    /// Agents held because a caller waits in one of their inbound queues.
    pub waiting: u32,
    /// Agents held because one of their inbound queues is under its service-level target
    /// (nobody waiting).
    pub below_target: u32,
}

impl InboundHold {
    /// Counts an agent's eligibility (an eligible agent is not held).
    pub fn count(&mut self, eligibility: &OutboundEligibility) {
        match eligibility {
            OutboundEligibility::Eligible => {}
            OutboundEligibility::InboundWaiting { .. } => self.waiting += 1,
            OutboundEligibility::BelowTarget { .. } => self.below_target += 1,
        }
    }

    /// Agents held in all.
    pub fn total(&self) -> u32 {
        self.waiting + self.below_target
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn level(name: &str, service_level: f64, waiting: u32) -> InboundLevel {
        InboundLevel {
            queue: QueueName::new(name),
            service_level,
            target: 0.8,
            waiting,
        }
    }

    #[test]
    fn an_agent_without_inbound_queues_is_eligible() {
        assert!(OutboundEligibility::of(&[]).is_eligible());
    }

    #[test]
    fn queues_meeting_their_target_leave_the_agent_eligible() {
        let e = OutboundEligibility::of(&[level("sales", 0.85, 0), level("support", 0.8, 0)]);
        assert_eq!(e, OutboundEligibility::Eligible);
    }

    #[test]
    fn a_queue_under_target_keeps_the_agent_inbound() {
        let e = OutboundEligibility::of(&[level("sales", 0.9, 0), level("support", 0.7, 0)]);
        assert_eq!(
            e,
            OutboundEligibility::BelowTarget {
                queue: QueueName::new("support"),
                service_level: 0.7,
                target: 0.8
            }
        );
    }

    #[test]
    fn a_waiting_caller_comes_first_even_when_targets_are_met() {
        let e = OutboundEligibility::of(&[level("sales", 0.5, 0), level("support", 0.95, 2)]);
        assert_eq!(
            e,
            OutboundEligibility::InboundWaiting {
                queue: QueueName::new("support")
            }
        );
        assert!(!e.is_eligible());
    }

    #[test]
    fn held_agents_are_counted_by_their_first_reason() {
        let mut hold = InboundHold::default();
        for queues in [
            vec![level("support", 0.5, 1)],
            vec![level("support", 0.7, 0)],
            vec![level("sales", 0.6, 0), level("support", 0.9, 3)],
            vec![level("support", 0.9, 0)],
            vec![],
        ] {
            hold.count(&OutboundEligibility::of(&queues));
        }
        assert_eq!(
            hold,
            InboundHold {
                waiting: 2,
                below_target: 1
            }
        );
        assert_eq!(hold.total(), 3);
    }
}
