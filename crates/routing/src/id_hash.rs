//! A fast hash for the router's lookup tables (call ids, agent, queue and skill ids, timers).
//!
//! The standard hasher (SipHash) resists keys chosen to collide; the router's keys are not chosen
//! by callers (call ids are UUIDs the server makes, other ids come from the configuration), so a
//! multiply-rotate hash in the manner of rustc's `FxHasher` does, at a fraction of the cost.
//! Nothing iterates these tables in hash order: who gets a call never depends on it.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// A `HashMap` with [`IdHasher`].
pub(crate) type IdMap<K, V> = HashMap<K, V, BuildHasherDefault<IdHasher>>;

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

/// The hasher of [`IdMap`].
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct IdHasher {
    hash: u64,
}

impl IdHasher {
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(SEED);
    }
}

impl Hasher for IdHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in chunks.by_ref() {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(word));
        }
    }

    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }

    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }

    fn write_u128(&mut self, i: u128) {
        self.add(i as u64);
        self.add((i >> 64) as u64);
    }

    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    fn finish(&self) -> u64 {
        // The table takes its bucket from the low bits and its tag from the high ones: fold the
        // well-mixed high half into the low one.
        self.hash ^ (self.hash >> 32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_that_differ_in_any_word_spread_over_buckets() {
        let mut buckets = [0u32; 64];
        for i in 0..64_000u64 {
            let mut h = IdHasher::default();
            h.write_u64(i << 40);
            h.write_u64(i);
            buckets[(h.finish() % 64) as usize] += 1;
        }
        assert!(
            buckets.iter().all(|&n| (700..1300).contains(&n)),
            "{buckets:?}"
        );
        let mut map: IdMap<String, usize> = IdMap::default();
        for i in 0..1000 {
            map.insert(format!("agent-{i}"), i);
        }
        assert!((0..1000).all(|i| map.get(&format!("agent-{i}")) == Some(&i)));
    }
}
