//! Blending: inbound first; an agent takes outbound work only while every inbound queue it
//! serves meets its service-level target and has nobody waiting.

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
}
