//! Derived indexes over the book: the dial order of ready callbacks per queue, open claims per
//! queue, and the timer table. Rebuilt from a callback's record after every event, so a
//! replayed scheduler has the same indexes as the live one.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;

use crate::config::SchedulerConfig;
use crate::ids::{CallbackId, QueueName};
use crate::state::{Callback, CallbackState};
use crate::time;

/// Why the scheduler wants to be woken.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TimerReason {
    /// A callback's start or retry time comes: call `dispatch`.
    Eligible {
        /// The callback.
        id: CallbackId,
    },
    /// A deadline warning's lead time comes.
    DeadlineWarning {
        /// The callback.
        id: CallbackId,
    },
    /// A deadline comes.
    Deadline {
        /// The callback.
        id: CallbackId,
    },
    /// A callback is given up this long after its deadline.
    Expiry {
        /// The callback.
        id: CallbackId,
    },
    /// A claim the driver did not answer times out.
    ClaimTimeout {
        /// The callback.
        id: CallbackId,
    },
    /// An attempt whose outcome never came becomes `unknown`.
    AttemptTimeout {
        /// The callback.
        id: CallbackId,
    },
    /// A queue's dials-per-minute budget frees up while callbacks wait: call `dispatch`.
    Pacing {
        /// The queue.
        queue: QueueName,
    },
    /// The calling window of a queue's customers in a zone opens while callbacks of theirs
    /// wait: call `dispatch`.
    WindowOpens {
        /// The queue.
        queue: QueueName,
        /// The customers' zone.
        zone: Arc<str>,
    },
}

/// A callback's timer kinds, in the order they fire at the same instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum TimerKind {
    AttemptTimeout,
    ClaimTimeout,
    Eligible,
    DeadlineWarning,
    Deadline,
    Expiry,
}

impl TimerKind {
    pub(crate) fn reason(self, id: CallbackId) -> TimerReason {
        match self {
            Self::AttemptTimeout => TimerReason::AttemptTimeout { id },
            Self::ClaimTimeout => TimerReason::ClaimTimeout { id },
            Self::Eligible => TimerReason::Eligible { id },
            Self::DeadlineWarning => TimerReason::DeadlineWarning { id },
            Self::Deadline => TimerReason::Deadline { id },
            Self::Expiry => TimerReason::Expiry { id },
        }
    }
}

/// The dial order: deadline (none last), then higher base priority, then creation order.
pub(crate) type ReadyKey = (Timestamp, Reverse<i32>, u64, CallbackId);

/// Ready callbacks of one queue are kept apart per customer zone (None: unknown), so a
/// dispatch checks a zone's calling window once and skips a closed zone whole, however many
/// callbacks wait in it.
pub(crate) type ZoneKey = Option<Arc<str>>;

/// The indexes.
#[derive(Debug, Default)]
pub(crate) struct Index {
    /// Ready callbacks per queue and customer zone, in dial order.
    pub(crate) ready: BTreeMap<QueueName, BTreeMap<ZoneKey, BTreeSet<ReadyKey>>>,
    /// Each ready callback's place.
    ready_place: HashMap<CallbackId, (QueueName, ZoneKey, ReadyKey)>,
    /// Open claims per queue.
    pub(crate) claimed: BTreeMap<QueueName, BTreeSet<CallbackId>>,
    /// Timers, earliest first.
    pub(crate) timers: BTreeSet<(Timestamp, CallbackId, TimerKind)>,
    /// Each callback's armed timers.
    armed: HashMap<CallbackId, Vec<(Timestamp, TimerKind)>>,
}

impl Index {
    /// The ready key of `cb`.
    pub(crate) fn key(cb: &Callback) -> ReadyKey {
        (
            cb.spec.due.deadline.unwrap_or(Timestamp::MAX),
            Reverse(cb.spec.priority),
            cb.seq,
            cb.id,
        )
    }

    /// Drops everything indexed for `id`.
    pub(crate) fn clear(&mut self, id: CallbackId) {
        self.unready(id);
        for set in self.claimed.values_mut() {
            set.remove(&id);
        }
        if let Some(armed) = self.armed.remove(&id) {
            for (at, kind) in armed {
                self.timers.remove(&(at, id, kind));
            }
        }
    }

    /// Takes `id` out of its ready set.
    pub(crate) fn unready(&mut self, id: CallbackId) {
        if let Some((queue, zone, key)) = self.ready_place.remove(&id) {
            if let Some(zones) = self.ready.get_mut(&queue) {
                if let Some(set) = zones.get_mut(&zone) {
                    set.remove(&key);
                    if set.is_empty() {
                        zones.remove(&zone);
                    }
                }
            }
        }
    }

    /// Puts `cb` in its queue's ready set.
    pub(crate) fn make_ready(&mut self, cb: &Callback) {
        let key = Self::key(cb);
        let queue = cb.spec.queue.clone();
        let zone = cb.spec.time_zone.as_ref().map(|z| z.shared_name());
        self.ready
            .entry(queue.clone())
            .or_default()
            .entry(zone.clone())
            .or_default()
            .insert(key);
        self.ready_place.insert(cb.id, (queue, zone, key));
    }

    /// Arms a timer of `id`.
    pub(crate) fn arm(&mut self, id: CallbackId, at: Timestamp, kind: TimerKind) {
        self.timers.insert((at, id, kind));
        self.armed.entry(id).or_default().push((at, kind));
    }

    /// Disarms one timer (it fired).
    pub(crate) fn disarm(&mut self, id: CallbackId, at: Timestamp, kind: TimerKind) {
        self.timers.remove(&(at, id, kind));
        if let Some(list) = self.armed.get_mut(&id) {
            list.retain(|t| *t != (at, kind));
            if list.is_empty() {
                self.armed.remove(&id);
            }
        }
    }

    /// Re-derives `cb`'s entries from its record; `now` is the latest time the scheduler saw
    /// (a callback already eligible goes straight to its ready set).
    pub(crate) fn reindex(
        &mut self,
        cb: &Callback,
        config: &SchedulerConfig,
        leads: &[Duration],
        now: Timestamp,
    ) {
        self.clear(cb.id);
        if cb.state.is_terminal() {
            return;
        }
        if let Some(deadline) = cb.spec.due.deadline {
            if let Some(lead) = leads.get(cb.warnings_done) {
                self.arm(
                    cb.id,
                    time::sub(deadline, *lead),
                    TimerKind::DeadlineWarning,
                );
            }
            if !cb.missed {
                self.arm(cb.id, deadline, TimerKind::Deadline);
            }
            if let Some(after) = config.give_up_after_deadline {
                if matches!(cb.state, CallbackState::Waiting | CallbackState::Held(_)) {
                    self.arm(cb.id, time::add(deadline, after), TimerKind::Expiry);
                }
            }
        }
        match &cb.state {
            CallbackState::Waiting => {
                let wake = cb.wake_at();
                if wake <= now {
                    self.make_ready(cb);
                } else {
                    self.arm(cb.id, wake, TimerKind::Eligible);
                }
            }
            CallbackState::Claimed { at } => {
                self.claimed
                    .entry(cb.spec.queue.clone())
                    .or_default()
                    .insert(cb.id);
                self.arm(
                    cb.id,
                    time::add(*at, config.claim_timeout),
                    TimerKind::ClaimTimeout,
                );
            }
            CallbackState::Dialing {
                started_at,
                ring_timeout,
                ..
            } => {
                let at = time::add(*started_at, *ring_timeout + config.outcome_grace);
                self.arm(cb.id, at, TimerKind::AttemptTimeout);
            }
            _ => {}
        }
    }
}
