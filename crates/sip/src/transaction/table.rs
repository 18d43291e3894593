//! A map of transactions by key with one combined deadline, kept in a heap (no scan per tick).

use std::cmp::{Ordering, Reverse};
use std::collections::{BinaryHeap, HashMap};
use std::hash::Hash;
use std::ops::{Deref, DerefMut};
use std::time::Instant;

use super::Machine;

/// Transactions (or the caller's own wrapper around one, implementing [`Machine`]) by key `K`.
///
/// Mutate machines through [`get_mut`](Self::get_mut): the returned guard re-reads the machine's
/// deadline when dropped, so [`poll_timeout`](Self::poll_timeout) stays exact. Terminated machines
/// stay until [`purge_terminated`](Self::purge_terminated), so their last outputs can be drained.
#[derive(Debug)]
pub struct TransactionTable<K, M> {
    entries: HashMap<K, Slot<M>>,
    deadlines: BinaryHeap<Reverse<Deadline<K>>>,
    terminated: Vec<K>,
    next_generation: u64,
}

#[derive(Debug)]
struct Slot<M> {
    machine: M,
    /// The generation of the heap entry that is current for this slot.
    generation: u64,
    scheduled: Option<Instant>,
    reported_terminated: bool,
}

#[derive(Debug)]
struct Deadline<K> {
    at: Instant,
    generation: u64,
    key: K,
}

impl<K> PartialEq for Deadline<K> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl<K> Eq for Deadline<K> {}
impl<K> PartialOrd for Deadline<K> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<K> Ord for Deadline<K> {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.at, self.generation).cmp(&(other.at, other.generation))
    }
}

impl<K, M> Default for TransactionTable<K, M> {
    fn default() -> Self {
        TransactionTable {
            entries: HashMap::new(),
            deadlines: BinaryHeap::new(),
            terminated: Vec::new(),
            next_generation: 0,
        }
    }
}

impl<K: Hash + Eq + Clone, M: Machine> TransactionTable<K, M> {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `machine` under `key`, returning the machine it replaces.
    pub fn insert(&mut self, key: K, machine: M) -> Option<M> {
        let old = self.entries.insert(
            key.clone(),
            Slot {
                machine,
                generation: 0,
                scheduled: None,
                reported_terminated: false,
            },
        );
        if let Some(slot) = self.entries.get_mut(&key) {
            reschedule(
                &key,
                slot,
                &mut self.deadlines,
                &mut self.terminated,
                &mut self.next_generation,
            );
        }
        old.map(|slot| slot.machine)
    }

    /// The machine under `key`.
    pub fn get(&self, key: &K) -> Option<&M> {
        self.entries.get(key).map(|slot| &slot.machine)
    }

    /// The machine under `key`, for feeding input or draining output.
    pub fn get_mut(&mut self, key: &K) -> Option<EntryMut<'_, K, M>> {
        let slot = self.entries.get_mut(key)?;
        Some(EntryMut {
            key: key.clone(),
            slot,
            deadlines: &mut self.deadlines,
            terminated: &mut self.terminated,
            next_generation: &mut self.next_generation,
        })
    }

    /// True if a machine is stored under `key`.
    pub fn contains_key(&self, key: &K) -> bool {
        self.entries.contains_key(key)
    }

    /// Removes and returns the machine under `key`.
    pub fn remove(&mut self, key: &K) -> Option<M> {
        // Its heap entries become stale and are skipped when they surface.
        self.entries.remove(key).map(|slot| slot.machine)
    }

    /// Number of machines stored.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when no machine is stored.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The keys stored, in no particular order.
    pub fn keys(&self) -> impl Iterator<Item = &K> {
        self.entries.keys()
    }

    /// The earliest deadline over all machines.
    pub fn poll_timeout(&mut self) -> Option<Instant> {
        while let Some(Reverse(top)) = self.deadlines.peek() {
            if self.is_current(top) {
                return Some(top.at);
            }
            self.deadlines.pop();
        }
        None
    }

    /// Fires the timers of every machine due at `now`; returns their keys (each once) so the
    /// caller can drain their outputs.
    pub fn handle_timeout(&mut self, now: Instant) -> Vec<K> {
        let mut fired = Vec::new();
        while let Some(Reverse(top)) = self.deadlines.peek() {
            if top.at > now {
                break;
            }
            let current = self.is_current(top);
            let Some(Reverse(due)) = self.deadlines.pop() else {
                break;
            };
            if !current {
                continue;
            }
            if let Some(mut entry) = self.get_mut(&due.key) {
                entry.handle_timeout(now);
            }
            if !fired.contains(&due.key) {
                fired.push(due.key);
            }
        }
        fired
    }

    /// Removes every terminated machine and returns them with their keys. Call it after draining
    /// their outputs.
    pub fn purge_terminated(&mut self) -> Vec<(K, M)> {
        let mut removed = Vec::new();
        for key in std::mem::take(&mut self.terminated) {
            let done = self
                .entries
                .get(&key)
                .is_some_and(|slot| slot.machine.is_terminated());
            if done {
                if let Some(slot) = self.entries.remove(&key) {
                    removed.push((key, slot.machine));
                }
            }
        }
        removed
    }

    fn is_current(&self, deadline: &Deadline<K>) -> bool {
        self.entries
            .get(&deadline.key)
            .is_some_and(|slot| slot.generation == deadline.generation)
    }
}

/// Mutable access to one machine of a [`TransactionTable`]; its deadline is re-read on drop.
pub struct EntryMut<'a, K: Hash + Eq + Clone, M: Machine> {
    key: K,
    slot: &'a mut Slot<M>,
    deadlines: &'a mut BinaryHeap<Reverse<Deadline<K>>>,
    terminated: &'a mut Vec<K>,
    next_generation: &'a mut u64,
}

impl<K: Hash + Eq + Clone, M: Machine> EntryMut<'_, K, M> {
    /// The key of this machine.
    pub fn key(&self) -> &K {
        &self.key
    }
}

impl<K: Hash + Eq + Clone, M: Machine> Deref for EntryMut<'_, K, M> {
    type Target = M;
    fn deref(&self) -> &M {
        &self.slot.machine
    }
}

impl<K: Hash + Eq + Clone, M: Machine> DerefMut for EntryMut<'_, K, M> {
    fn deref_mut(&mut self) -> &mut M {
        &mut self.slot.machine
    }
}

impl<K: Hash + Eq + Clone, M: Machine> Drop for EntryMut<'_, K, M> {
    fn drop(&mut self) {
        reschedule(
            &self.key,
            self.slot,
            self.deadlines,
            self.terminated,
            self.next_generation,
        );
    }
}

/// Pushes a fresh heap entry when the machine's deadline changed, and notes termination.
fn reschedule<K: Clone, M: Machine>(
    key: &K,
    slot: &mut Slot<M>,
    deadlines: &mut BinaryHeap<Reverse<Deadline<K>>>,
    terminated: &mut Vec<K>,
    next_generation: &mut u64,
) {
    if slot.machine.is_terminated() && !slot.reported_terminated {
        slot.reported_terminated = true;
        terminated.push(key.clone());
    }
    let at = slot.machine.poll_timeout().map(|(at, _)| at);
    if at == slot.scheduled {
        return;
    }
    *next_generation += 1;
    slot.generation = *next_generation;
    slot.scheduled = at;
    if let Some(at) = at {
        deadlines.push(Reverse(Deadline {
            at,
            generation: slot.generation,
            key: key.clone(),
        }));
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use bytes::Bytes;

    use super::*;
    use crate::transaction::{ClientNonInvite, Config, Output, ServerNonInvite, Transaction};

    #[test]
    fn combined_deadline_is_the_earliest_machine_deadline() {
        let t0 = Instant::now();
        let mut table = TransactionTable::new();
        let cfg = Config::default();
        table.insert(
            1,
            Transaction::ClientNonInvite(ClientNonInvite::new(t0, cfg, Bytes::from_static(b"a"))),
        );
        let later = t0 + Duration::from_millis(200);
        table.insert(
            2,
            Transaction::ClientNonInvite(ClientNonInvite::new(
                later,
                cfg,
                Bytes::from_static(b"b"),
            )),
        );
        assert_eq!(table.poll_timeout(), Some(t0 + Duration::from_millis(500)));
        let fired = table.handle_timeout(t0 + Duration::from_millis(500));
        assert_eq!(fired, vec![1]);
        // Machine 1 rescheduled E at 1.5 s; machine 2's E is at 0.7 s.
        assert_eq!(
            table.poll_timeout(),
            Some(later + Duration::from_millis(500))
        );
    }

    #[test]
    fn mutation_through_guard_reschedules_and_purge_removes_terminated() {
        let t0 = Instant::now();
        let cfg = Config::default().with_reliable(true);
        let mut table: TransactionTable<&str, Transaction> = TransactionTable::new();
        table.insert(
            "srv",
            Transaction::ServerNonInvite(ServerNonInvite::new(t0, cfg)),
        );
        assert_eq!(table.poll_timeout(), None);
        if let Some(mut entry) = table.get_mut(&"srv") {
            if let Transaction::ServerNonInvite(m) = &mut *entry {
                m.handle_tu_response(t0, 200, Bytes::from_static(b"200"));
            }
        }
        // Timer J is zero on a reliable transport.
        assert_eq!(table.poll_timeout(), Some(t0));
        assert_eq!(table.handle_timeout(t0), vec!["srv"]);
        assert_eq!(table.poll_timeout(), None);
        let mut entry = table.get_mut(&"srv").expect("present until purged");
        let outputs: Vec<Output> = std::iter::from_fn(|| entry.poll_output()).collect();
        drop(entry);
        assert_eq!(outputs.last(), Some(&Output::Terminated));
        let removed = table.purge_terminated();
        assert_eq!(removed.len(), 1);
        assert!(table.is_empty());
    }

    #[test]
    fn removed_machines_leave_no_deadline() {
        let t0 = Instant::now();
        let mut table = TransactionTable::new();
        table.insert(
            7u32,
            ClientNonInvite::new(t0, Config::default(), Bytes::new()),
        );
        assert!(table.poll_timeout().is_some());
        assert!(table.remove(&7).is_some());
        assert_eq!(table.poll_timeout(), None);
        assert!(table
            .handle_timeout(t0 + Duration::from_secs(100))
            .is_empty());
    }
}
