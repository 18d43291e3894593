//! The router's timers: a reason enum and an ordered deadline table.

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use crate::ids::{AgentId, CallId};

/// Why the router wants to be woken.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TimerReason {
    /// An offer rang for the queue's ring timeout.
    RingTimeout {
        /// The offered call.
        call: CallId,
        /// The agent it rings.
        agent: AgentId,
    },
    /// An agent's wrap-up time ends.
    WrapUpEnd {
        /// The agent.
        agent: AgentId,
    },
    /// A waiting entry reaches its next relaxation step.
    Relax {
        /// The entry's call.
        call: CallId,
    },
    /// A waiting entry reaches its max wait.
    MaxWait {
        /// The entry's call.
        call: CallId,
    },
    /// A waiting live call reaches its callback offer wait.
    CallbackOffer {
        /// The entry's call.
        call: CallId,
    },
    /// A callback whose dial failed may be dialed again.
    CallbackRetry {
        /// The callback.
        call: CallId,
    },
    /// A callback entry reaches its queue's callback expiry.
    CallbackExpiry {
        /// The callback.
        call: CallId,
    },
}

/// Pending deadlines, ordered by time then by insertion, with at most one deadline per reason.
#[derive(Debug, Default)]
pub(crate) struct TimerTable {
    by_deadline: BTreeMap<(Instant, u64), TimerReason>,
    /// Hashed: looked up to cancel or replace, never iterated (the order is `by_deadline`'s).
    by_reason: HashMap<TimerReason, (Instant, u64)>,
    next_seq: u64,
}

impl TimerTable {
    /// Arms `reason` at `at`, replacing any earlier deadline for the same reason.
    pub(crate) fn set(&mut self, reason: TimerReason, at: Instant) {
        self.cancel(&reason);
        let key = (at, self.next_seq);
        self.next_seq += 1;
        self.by_deadline.insert(key, reason.clone());
        self.by_reason.insert(reason, key);
    }

    /// When `reason` is due, if armed.
    pub(crate) fn deadline(&self, reason: &TimerReason) -> Option<Instant> {
        self.by_reason.get(reason).map(|&(at, _)| at)
    }

    /// Disarms `reason`; a no-op when it is not armed.
    pub(crate) fn cancel(&mut self, reason: &TimerReason) {
        if let Some(key) = self.by_reason.remove(reason) {
            self.by_deadline.remove(&key);
        }
    }

    /// The earliest deadline and its reason.
    pub(crate) fn next(&self) -> Option<(Instant, &TimerReason)> {
        self.by_deadline
            .first_key_value()
            .map(|(&(at, _), reason)| (at, reason))
    }

    /// Removes and returns the earliest reason due at or before `now`.
    pub(crate) fn pop_due(&mut self, now: Instant) -> Option<TimerReason> {
        let (&key, _) = self.by_deadline.first_key_value()?;
        if key.0 > now {
            return None;
        }
        let reason = self.by_deadline.remove(&key)?;
        self.by_reason.remove(&reason);
        Some(reason)
    }

    /// Whether `reason` is armed.
    #[cfg(test)]
    pub(crate) fn is_armed(&self, reason: &TimerReason) -> bool {
        self.by_reason.contains_key(reason)
    }

    /// How many timers are armed.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.by_deadline.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn wrap(agent: &str) -> TimerReason {
        TimerReason::WrapUpEnd {
            agent: AgentId::new(agent),
        }
    }

    #[test]
    fn pops_in_deadline_then_insertion_order() {
        let t0 = Instant::now();
        let mut timers = TimerTable::default();
        timers.set(wrap("b"), t0 + Duration::from_secs(2));
        timers.set(wrap("a"), t0 + Duration::from_secs(1));
        timers.set(wrap("c"), t0 + Duration::from_secs(1));
        assert_eq!(
            timers.next().map(|(at, _)| at),
            Some(t0 + Duration::from_secs(1))
        );
        assert_eq!(timers.pop_due(t0), None);
        let now = t0 + Duration::from_secs(5);
        assert_eq!(timers.pop_due(now), Some(wrap("a")));
        assert_eq!(timers.pop_due(now), Some(wrap("c")));
        assert_eq!(timers.pop_due(now), Some(wrap("b")));
        assert_eq!(timers.pop_due(now), None);
    }

    #[test]
    fn setting_a_reason_again_replaces_its_deadline() {
        let t0 = Instant::now();
        let mut timers = TimerTable::default();
        timers.set(wrap("a"), t0 + Duration::from_secs(1));
        timers.set(wrap("a"), t0 + Duration::from_secs(9));
        assert_eq!(timers.len(), 1);
        assert_eq!(timers.pop_due(t0 + Duration::from_secs(2)), None);
        timers.cancel(&wrap("a"));
        assert_eq!(timers.len(), 0);
        assert!(timers.next().is_none());
    }
}
