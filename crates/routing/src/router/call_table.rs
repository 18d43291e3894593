//! The routed calls: records in a slab, found by id through a hash index.
//!
//! Every command looks a call up, and entries come and go all the time: a slab with a free list
//! keeps each record in place (an ordered map moves records of ~200 bytes around its nodes on
//! every insert and remove) and its nodes' slack out of the memory an entry costs. Whoever walks
//! every call gets them in id order, as the ordered map gave them, so reloads stay deterministic.

use super::Call;
use crate::id_hash::IdMap;
use crate::ids::CallId;

/// A call id as two words: a `u128` is 16-byte aligned, which would pad each index slot to 32
/// bytes; this keeps it at 24.
type IdKey = [u64; 2];

fn id_key(call: &CallId) -> IdKey {
    [(call.0 >> 64) as u64, call.0 as u64]
}

/// The routed calls by id.
#[derive(Debug, Default)]
pub(super) struct CallTable {
    /// Records, `None` where a call left (reused by the next one).
    slots: Vec<Option<(CallId, Call)>>,
    /// Slots free for reuse.
    free: Vec<u32>,
    /// Each call's slot.
    index: IdMap<IdKey, u32>,
}

impl CallTable {
    /// The record of `call`.
    pub(super) fn get(&self, call: &CallId) -> Option<&Call> {
        let &slot = self.index.get(&id_key(call))?;
        self.slots[slot as usize].as_ref().map(|(_, c)| c)
    }

    /// The record of `call`, to change.
    pub(super) fn get_mut(&mut self, call: &CallId) -> Option<&mut Call> {
        let &slot = self.index.get(&id_key(call))?;
        self.slots[slot as usize].as_mut().map(|(_, c)| c)
    }

    /// Whether `call` is routed.
    pub(super) fn contains_key(&self, call: &CallId) -> bool {
        self.index.contains_key(&id_key(call))
    }

    /// Adds `call`, replacing and returning its previous record if it had one.
    pub(super) fn insert(&mut self, call: CallId, record: Call) -> Option<Call> {
        if let Some(&slot) = self.index.get(&id_key(&call)) {
            return self.slots[slot as usize]
                .replace((call, record))
                .map(|(_, old)| old);
        }
        let slot = match self.free.pop() {
            Some(slot) => {
                self.slots[slot as usize] = Some((call, record));
                slot
            }
            None => {
                // More than 4 billion calls at once do not fit in memory anyway.
                let slot = u32::try_from(self.slots.len()).unwrap_or(u32::MAX);
                self.slots.push(Some((call, record)));
                slot
            }
        };
        self.index.insert(id_key(&call), slot);
        None
    }

    /// Removes `call` and returns its record.
    pub(super) fn remove(&mut self, call: &CallId) -> Option<Call> {
        let slot = self.index.remove(&id_key(call))?;
        let (_, record) = self.slots[slot as usize].take()?;
        self.free.push(slot);
        Some(record)
    }

    /// How many calls are routed.
    pub(super) fn len(&self) -> usize {
        self.index.len()
    }

    /// Every record, in no particular order.
    pub(super) fn values(&self) -> impl Iterator<Item = &Call> + '_ {
        self.slots.iter().flatten().map(|(_, c)| c)
    }

    /// Every record to change, in no particular order.
    pub(super) fn values_mut(&mut self) -> impl Iterator<Item = &mut Call> + '_ {
        self.slots.iter_mut().flatten().map(|(_, c)| c)
    }

    /// Every call and its record, in id order.
    pub(super) fn iter(&self) -> std::vec::IntoIter<(&CallId, &Call)> {
        let mut all: Vec<(&CallId, &Call)> =
            self.slots.iter().flatten().map(|(id, c)| (id, c)).collect();
        all.sort_unstable_by_key(|&(id, _)| *id);
        all.into_iter()
    }
}

impl<'a> IntoIterator for &'a CallTable {
    type Item = (&'a CallId, &'a Call);
    type IntoIter = std::vec::IntoIter<(&'a CallId, &'a Call)>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;
    use crate::router::{callbacks::EntryKind, Phase};

    fn record(seq: u64) -> Call {
        Call {
            queue: 0,
            enqueued_at: Instant::now(),
            seq,
            priority: 0,
            required: Default::default(),
            original_required: None,
            own_max_wait: None,
            preferred: Default::default(),
            overflow: Vec::new(),
            step: 0,
            phase: Phase::Waiting,
            kind: EntryKind::live(),
            outside_service_level: false,
        }
    }

    #[test]
    fn a_left_call_frees_its_slot_for_the_next_and_walks_stay_in_id_order() {
        let mut calls = CallTable::default();
        for id in [30, 10, 20] {
            assert!(calls.insert(CallId(id), record(id as u64)).is_none());
        }
        assert_eq!(calls.remove(&CallId(10)).map(|c| c.seq), Some(10));
        assert!(calls.get(&CallId(10)).is_none());
        calls.insert(CallId(5), record(5));
        assert_eq!(calls.slots.len(), 3, "the freed slot is reused");
        assert_eq!(
            calls.insert(CallId(20), record(21)).map(|c| c.seq),
            Some(20)
        );
        let ids: Vec<(u128, u64)> = calls.iter().map(|(id, c)| (id.0, c.seq)).collect();
        assert_eq!(ids, vec![(5, 5), (20, 21), (30, 30)]);
        assert_eq!(calls.len(), 3);
        assert!(calls.contains_key(&CallId(30)));
        if let Some(c) = calls.get_mut(&CallId(30)) {
            c.step = 2;
        }
        assert_eq!(calls.values().map(|c| c.step).sum::<usize>(), 2);
    }
}
