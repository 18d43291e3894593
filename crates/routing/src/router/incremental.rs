//! The incremental dispatch: the same offers as a pass over every waiting entry, found by looking
//! only at what changed since the last dispatch.
//!
//! A full pass tries every waiting entry in dispatch order and lets each pick among the agents
//! still ready. An entry without a ready qualified agent when the pass starts never gets one
//! during it (offers only take agents away), and since the previous dispatch left no placeable
//! pair, the entries that have one are exactly: the entries that changed, and for each agent that
//! changed and is ready, the entries it qualifies for. So this dispatch walks, in dispatch order,
//! the changed entries merged with, per changed agent, the first entry after the current one it
//! qualifies for, and lets each entry choose exactly as the full pass would.

use std::cmp::{Ordering, Reverse};
use std::collections::{BTreeMap, BinaryHeap};
use std::ops::Bound;
use std::time::Instant;

use super::{LineKey, Router};
use crate::agent_state::AgentState;
use crate::ids::CallId;

/// An entry's place in dispatch order: the queue furthest behind its service-level target first,
/// then the queue's line order (priority, original entry time, entry order).
pub(super) type OrderKey = (Reverse<i64>, LineKey);

/// One entry to try, and the changed agent (if any) whose next entry it is.
type Pending = Reverse<(OrderKey, CallId, Option<usize>)>;

impl Router {
    /// `call`'s place in dispatch order at `now`.
    pub(super) fn order_key(&self, now: Instant, call: CallId) -> Option<OrderKey> {
        let entry = self.calls.get(&call)?;
        let behind = self.queues[entry.queue].stats.behind_target_bp(now);
        Some((Reverse(behind), entry.line_key()))
    }

    /// Whether `call` waits without an offer.
    fn waits_unoffered(&self, call: CallId) -> bool {
        self.calls
            .get(&call)
            .is_some_and(|e| self.unoffered.holds(e.seq, call))
    }

    /// Offers the changed `entries`, and entries the changed `agents` qualify for, as a full pass
    /// would (see the module doc).
    pub(super) fn dispatch_changed(&mut self, now: Instant, entries: &[CallId], agents: &[usize]) {
        let mut pending: BinaryHeap<Pending> = BinaryHeap::new();
        for &call in entries {
            if self.waits_unoffered(call) {
                if let Some(key) = self.order_key(now, call) {
                    pending.push(Reverse((key, call, None)));
                }
            }
        }
        for &a in agents {
            if self.agents[a].state == AgentState::Ready {
                if let Some((key, call)) = self.first_entry_for(now, a, None) {
                    pending.push(Reverse((key, call, Some(a))));
                }
            }
        }
        let mut last: Option<OrderKey> = None;
        while let Some(Reverse((key, call, follower))) = pending.pop() {
            // The same entry may come from several sources; it is tried once.
            if last != Some(key) {
                if self.ready == 0 {
                    break;
                }
                last = Some(key);
                if self.waits_unoffered(call) {
                    self.place(now, call);
                }
            }
            if let Some(a) = follower {
                if self.agents[a].state == AgentState::Ready {
                    if let Some((next, call)) = self.first_entry_for(now, a, Some(key)) {
                        pending.push(Reverse((next, call, Some(a))));
                    }
                }
            }
        }
    }

    /// The first entry in dispatch order after `after` that agent `a` qualifies for and that
    /// waits without an offer: in the lines of its queues and among the entries that overflowed
    /// into them.
    pub(super) fn first_entry_for(
        &self,
        now: Instant,
        a: usize,
        after: Option<OrderKey>,
    ) -> Option<(OrderKey, CallId)> {
        let mut best = None;
        for &(q, _) in &self.index.member_of[a] {
            self.scan_line(now, q, &self.queues[q].line, a, after, &mut best);
            for (&home, line) in &self.index.overflowed[q] {
                self.scan_line(now, home, line, a, after, &mut best);
            }
        }
        best
    }

    /// Improves `best` with the first entry after `after` in `line` (entries of home queue
    /// `home`, in line order) that waits unoffered and whose requirements agent `a` meets.
    fn scan_line(
        &self,
        now: Instant,
        home: usize,
        line: &BTreeMap<LineKey, CallId>,
        a: usize,
        after: Option<OrderKey>,
        best: &mut Option<(OrderKey, CallId)>,
    ) {
        if line.is_empty() {
            return;
        }
        let behind = Reverse(self.queues[home].stats.behind_target_bp(now));
        // Within one home queue, dispatch order is line order.
        let from = match after {
            None => Bound::Unbounded,
            Some((after_behind, after_key)) => match behind.cmp(&after_behind) {
                Ordering::Less => return,
                Ordering::Greater => Bound::Unbounded,
                Ordering::Equal => Bound::Excluded(after_key),
            },
        };
        for (&line_key, &call) in line.range((from, Bound::Unbounded)) {
            let key = (behind, line_key);
            if best.is_some_and(|(found, _)| key >= found) {
                return;
            }
            let Some(entry) = self.calls.get(&call) else {
                continue;
            };
            // A stale index entry (the call left and its id came back) has another key.
            if entry.line_key() != line_key || !self.index.meets_all(a, &entry.required) {
                continue;
            }
            if self.unoffered.holds(entry.seq, call) {
                *best = Some((key, call));
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests;
