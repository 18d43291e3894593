//! The router's timers: a reason enum and an ordered deadline table.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Instant;

use crate::id_hash::IdMap;
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

/// The per-entry timers, which a compact key names (there is one or more per waiting entry).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum EntryTimer {
    Relax,
    MaxWait,
    CallbackOffer,
    CallbackRetry,
    CallbackExpiry,
}

/// A reason as the table stores it: 24 bytes instead of the 48 of a [`TimerReason`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Key {
    /// A per-entry timer of the call whose id has these two words.
    Entry([u64; 2], EntryTimer),
    /// An agent's timer (ring timeout, wrap-up end), at this place of `TimerTable::agent_reasons`.
    Agent(u32),
}

fn entry_key(call: CallId, timer: EntryTimer) -> Key {
    Key::Entry([(call.0 >> 64) as u64, call.0 as u64], timer)
}

/// Pending deadlines, ordered by time then by insertion, with at most one deadline per reason.
///
/// A heap of (deadline, insertion number, key) beside a hashed index of each armed key's
/// insertion number: small copies and no tree-node slack, so a waiting entry's relaxation or
/// max-wait timer costs ~60 bytes. Cancelling or replacing a timer only drops it from the index;
/// its heap copy is skipped when it surfaces, and the heap is rebuilt without such copies once
/// they outnumber the live ones. Agents' timers (at most a few per agent) keep their full reason
/// aside, in places reused once disarmed.
#[derive(Debug, Default)]
pub(crate) struct TimerTable {
    heap: BinaryHeap<Reverse<(Instant, u64, Key)>>,
    /// The insertion number of each armed key's live heap entry.
    armed: IdMap<Key, u64>,
    /// The reasons of agents' timers, `None` where free.
    agent_reasons: Vec<Option<TimerReason>>,
    /// The deadline of each armed agent timer, aligned with `agent_reasons` (an agent extending
    /// its wrap-up asks for it).
    agent_deadlines: Vec<Option<Instant>>,
    /// The place of each agent timer's reason in `agent_reasons`.
    agent_places: IdMap<TimerReason, u32>,
    /// Free places of `agent_reasons`.
    free_places: Vec<u32>,
    next_seq: u64,
}

impl TimerTable {
    /// Arms `reason` at `at`, replacing any earlier deadline for the same reason.
    pub(crate) fn set(&mut self, reason: TimerReason, at: Instant) {
        let key = self.key_or_place(reason);
        let seq = self.next_seq;
        self.next_seq += 1;
        self.armed.insert(key, seq);
        if let Key::Agent(place) = key {
            if let Some(deadline) = self.agent_deadlines.get_mut(place as usize) {
                *deadline = Some(at);
            }
        }
        self.heap.push(Reverse((at, seq, key)));
        self.tidy();
    }

    /// When `reason` is due, if armed.
    pub(crate) fn deadline(&self, reason: &TimerReason) -> Option<Instant> {
        let key = self.key(reason)?;
        let &seq = self.armed.get(&key)?;
        if let Key::Agent(place) = key {
            return self.agent_deadlines.get(place as usize).copied().flatten();
        }
        // An entry's deadline is never asked for by the router (tests only): a walk will do.
        self.heap
            .iter()
            .find(|Reverse((_, s, _))| *s == seq)
            .map(|Reverse((at, _, _))| *at)
    }

    /// Disarms `reason`; a no-op when it is not armed.
    pub(crate) fn cancel(&mut self, reason: &TimerReason) {
        let Some(key) = self.key(reason) else {
            return;
        };
        if self.armed.remove(&key).is_some() {
            self.forget(key);
            self.tidy();
        }
    }

    /// The earliest deadline and its reason.
    pub(crate) fn next(&self) -> Option<(Instant, TimerReason)> {
        // `tidy` keeps a live entry on top.
        let Reverse((at, _, key)) = self.heap.peek()?;
        Some((*at, self.reason(*key)?))
    }

    /// Removes and returns the earliest reason due at or before `now`.
    pub(crate) fn pop_due(&mut self, now: Instant) -> Option<TimerReason> {
        if self.heap.peek()?.0 .0 > now {
            return None;
        }
        let Reverse((_, _, key)) = self.heap.pop()?;
        let reason = self.reason(key);
        self.armed.remove(&key);
        self.forget(key);
        self.tidy();
        reason
    }

    /// The key of an armed-or-not `reason`; `None` for an agent timer never armed.
    fn key(&self, reason: &TimerReason) -> Option<Key> {
        Some(match reason {
            TimerReason::Relax { call } => entry_key(*call, EntryTimer::Relax),
            TimerReason::MaxWait { call } => entry_key(*call, EntryTimer::MaxWait),
            TimerReason::CallbackOffer { call } => entry_key(*call, EntryTimer::CallbackOffer),
            TimerReason::CallbackRetry { call } => entry_key(*call, EntryTimer::CallbackRetry),
            TimerReason::CallbackExpiry { call } => entry_key(*call, EntryTimer::CallbackExpiry),
            TimerReason::RingTimeout { .. } | TimerReason::WrapUpEnd { .. } => {
                Key::Agent(*self.agent_places.get(reason)?)
            }
        })
    }

    /// The key of `reason`, giving an agent timer a place if it has none.
    fn key_or_place(&mut self, reason: TimerReason) -> Key {
        if let Some(key) = self.key(&reason) {
            return key;
        }
        let place = match self.free_places.pop() {
            Some(place) => {
                self.agent_reasons[place as usize] = Some(reason.clone());
                place
            }
            None => {
                // Agent timers number a few per agent, far below `u32::MAX`.
                let place = u32::try_from(self.agent_reasons.len()).unwrap_or(u32::MAX);
                self.agent_reasons.push(Some(reason.clone()));
                self.agent_deadlines.push(None);
                place
            }
        };
        self.agent_places.insert(reason, place);
        Key::Agent(place)
    }

    /// The reason `key` stands for.
    fn reason(&self, key: Key) -> Option<TimerReason> {
        Some(match key {
            Key::Entry([high, low], timer) => {
                let call = CallId(u128::from(high) << 64 | u128::from(low));
                match timer {
                    EntryTimer::Relax => TimerReason::Relax { call },
                    EntryTimer::MaxWait => TimerReason::MaxWait { call },
                    EntryTimer::CallbackOffer => TimerReason::CallbackOffer { call },
                    EntryTimer::CallbackRetry => TimerReason::CallbackRetry { call },
                    EntryTimer::CallbackExpiry => TimerReason::CallbackExpiry { call },
                }
            }
            Key::Agent(place) => self.agent_reasons.get(place as usize)?.clone()?,
        })
    }

    /// Frees the place of a disarmed agent timer (its stale heap copies never match again: their
    /// insertion numbers are not the armed one).
    fn forget(&mut self, key: Key) {
        if let Key::Agent(place) = key {
            if let Some(reason) = self
                .agent_reasons
                .get_mut(place as usize)
                .and_then(Option::take)
            {
                self.agent_places.remove(&reason);
                self.free_places.push(place);
                if let Some(deadline) = self.agent_deadlines.get_mut(place as usize) {
                    *deadline = None;
                }
            }
        }
    }

    /// Whether the heap entry `seq` of `key` is the key's live one.
    fn live(&self, seq: u64, key: &Key) -> bool {
        self.armed.get(key) == Some(&seq)
    }

    /// Drops cancelled or replaced entries from the top of the heap, and rebuilds the heap
    /// without any of them once they outnumber the live ones.
    fn tidy(&mut self) {
        while let Some(Reverse((_, seq, key))) = self.heap.peek() {
            if self.live(*seq, key) {
                break;
            }
            self.heap.pop();
        }
        if self.heap.len() > 2 * self.armed.len() + 64 {
            let heap = std::mem::take(&mut self.heap);
            let live: Vec<_> = heap
                .into_vec()
                .into_iter()
                .filter(|Reverse((_, seq, key))| self.live(*seq, key))
                .collect();
            self.heap = BinaryHeap::from(live);
        }
    }

    /// Whether `reason` is armed.
    #[cfg(test)]
    pub(crate) fn is_armed(&self, reason: &TimerReason) -> bool {
        self.key(reason)
            .is_some_and(|key| self.armed.contains_key(&key))
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
    fn entry_and_agent_timers_come_back_as_the_reasons_armed() {
        let t0 = Instant::now();
        let mut timers = TimerTable::default();
        let call = CallId(0x0123_4567_89ab_cdef_fedc_ba98_7654_3210);
        let ring = TimerReason::RingTimeout {
            call,
            agent: AgentId::new("a"),
        };
        let reasons = [
            TimerReason::Relax { call },
            TimerReason::MaxWait { call },
            TimerReason::CallbackOffer { call },
            TimerReason::CallbackRetry { call },
            TimerReason::CallbackExpiry { call },
            ring.clone(),
            wrap("a"),
        ];
        for (i, reason) in reasons.iter().enumerate() {
            timers.set(reason.clone(), t0 + Duration::from_secs(i as u64));
        }
        assert_eq!(std::mem::size_of::<Key>(), 24);
        assert!(timers.is_armed(&ring));
        timers.cancel(&ring);
        assert!(!timers.is_armed(&ring));
        // The freed place goes to the next agent timer; the old heap copy stays dead.
        timers.set(wrap("b"), t0 + Duration::from_secs(5));
        assert_eq!(timers.deadline(&ring), None);
        assert_eq!(
            timers.deadline(&wrap("b")),
            Some(t0 + Duration::from_secs(5))
        );
        assert_eq!(
            timers.deadline(&TimerReason::MaxWait { call }),
            Some(t0 + Duration::from_secs(1))
        );
        let end = t0 + Duration::from_secs(60);
        let fired: Vec<TimerReason> = std::iter::from_fn(|| timers.pop_due(end)).collect();
        let mut expected: Vec<TimerReason> = reasons[..5].to_vec();
        expected.push(wrap("b"));
        expected.push(wrap("a"));
        assert_eq!(fired, expected);
        assert_eq!(timers.len(), 0);
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
