//! The router's timers: a reason enum and an ordered deadline table.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
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
///
/// A heap of (deadline, insertion number, reason) beside a hashed index of each armed reason's
/// insertion number: a reason is stored twice but each copy is small and neither structure has
/// tree-node slack, so a waiting entry's relaxation or max-wait timer costs ~100 bytes. Cancelling
/// or replacing a timer only drops it from the index; its heap copy is skipped when it surfaces,
/// and the heap is rebuilt without such copies once they outnumber the live ones.
#[derive(Debug, Default)]
pub(crate) struct TimerTable {
    heap: BinaryHeap<Reverse<(Instant, u64, TimerReason)>>,
    /// The insertion number of each armed reason's live heap entry.
    armed: HashMap<TimerReason, u64>,
    next_seq: u64,
}

impl TimerTable {
    /// Arms `reason` at `at`, replacing any earlier deadline for the same reason.
    pub(crate) fn set(&mut self, reason: TimerReason, at: Instant) {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.armed.insert(reason.clone(), seq);
        self.heap.push(Reverse((at, seq, reason)));
        self.tidy();
    }

    /// When `reason` is due, if armed.
    pub(crate) fn deadline(&self, reason: &TimerReason) -> Option<Instant> {
        let &seq = self.armed.get(reason)?;
        // Rare (an agent extending its wrap-up): a walk of the heap is fine.
        self.heap
            .iter()
            .find(|Reverse((_, s, _))| *s == seq)
            .map(|Reverse((at, _, _))| *at)
    }

    /// Disarms `reason`; a no-op when it is not armed.
    pub(crate) fn cancel(&mut self, reason: &TimerReason) {
        if self.armed.remove(reason).is_some() {
            self.tidy();
        }
    }

    /// The earliest deadline and its reason.
    pub(crate) fn next(&self) -> Option<(Instant, &TimerReason)> {
        // `tidy` keeps a live entry on top.
        self.heap
            .peek()
            .map(|Reverse((at, _, reason))| (*at, reason))
    }

    /// Removes and returns the earliest reason due at or before `now`.
    pub(crate) fn pop_due(&mut self, now: Instant) -> Option<TimerReason> {
        if self.heap.peek()?.0 .0 > now {
            return None;
        }
        let Reverse((_, _, reason)) = self.heap.pop()?;
        self.armed.remove(&reason);
        self.tidy();
        Some(reason)
    }

    /// Whether the heap entry `seq` of `reason` is the reason's live one.
    fn live(&self, seq: u64, reason: &TimerReason) -> bool {
        self.armed.get(reason) == Some(&seq)
    }

    /// Drops cancelled or replaced entries from the top of the heap, and rebuilds the heap
    /// without any of them once they outnumber the live ones.
    fn tidy(&mut self) {
        while let Some(Reverse((_, seq, reason))) = self.heap.peek() {
            if self.live(*seq, reason) {
                break;
            }
            self.heap.pop();
        }
        if self.heap.len() > 2 * self.armed.len() + 64 {
            let heap = std::mem::take(&mut self.heap);
            let live: Vec<_> = heap
                .into_vec()
                .into_iter()
                .filter(|Reverse((_, seq, reason))| self.live(*seq, reason))
                .collect();
            self.heap = BinaryHeap::from(live);
        }
    }

    /// Whether `reason` is armed.
    #[cfg(test)]
    pub(crate) fn is_armed(&self, reason: &TimerReason) -> bool {
        self.armed.contains_key(reason)
    }

    /// How many timers are armed.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.armed.len()
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

    #[test]
    fn cancelled_and_replaced_timers_never_fire_and_do_not_pile_up() {
        let t0 = Instant::now();
        let mut timers = TimerTable::default();
        for round in 0..1_000u64 {
            let at = t0 + Duration::from_secs(round % 7 + 1);
            timers.set(wrap("kept"), at);
            timers.set(wrap(&format!("gone{round}")), at);
            timers.cancel(&wrap(&format!("gone{round}")));
        }
        assert_eq!(timers.len(), 1);
        assert!(timers.heap.len() <= 2 * timers.len() + 64 + 1);
        // The last deadline set for "kept" wins (999 % 7 + 1 = 6 s).
        assert_eq!(
            timers.next().map(|(at, _)| at),
            Some(t0 + Duration::from_secs(6))
        );
        assert_eq!(
            timers.deadline(&wrap("kept")),
            Some(t0 + Duration::from_secs(6))
        );
        assert_eq!(timers.pop_due(t0 + Duration::from_secs(5)), None);
        assert_eq!(
            timers.pop_due(t0 + Duration::from_secs(6)),
            Some(wrap("kept"))
        );
        assert_eq!(timers.pop_due(t0 + Duration::from_secs(60)), None);
        assert!(timers.next().is_none());
    }
}
