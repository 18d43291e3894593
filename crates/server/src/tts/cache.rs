//! The synthesized texts kept for saying again: a least-recently-used map of (voice, text) to
//! audio, small enough that a scan to evict is cheaper than keeping an order.

use std::collections::HashMap;
use std::sync::Arc;

use hotline_media::prompt::Prompt;

/// At most `capacity` entries; the one used longest ago goes first.
pub(super) struct Lru {
    capacity: usize,
    /// Bumped on every use; an entry's stamp is its last use.
    clock: u64,
    entries: HashMap<(String, String), (Arc<Prompt>, u64)>,
}

impl Lru {
    pub(super) fn new(capacity: usize) -> Lru {
        Lru {
            capacity,
            clock: 0,
            entries: HashMap::new(),
        }
    }

    /// The audio of `text` in `voice`, marked used now.
    pub(super) fn get(&mut self, voice: &str, text: &str) -> Option<Arc<Prompt>> {
        self.clock += 1;
        let clock = self.clock;
        // The key is built for the lookup only; texts are short.
        let entry = self.entries.get_mut(&(voice.to_owned(), text.to_owned()))?;
        entry.1 = clock;
        Some(entry.0.clone())
    }

    /// Keeps the audio of `text` in `voice`, evicting the least recently used when full.
    pub(super) fn put(&mut self, voice: &str, text: &str, prompt: Arc<Prompt>) {
        if self.capacity == 0 {
            return;
        }
        self.clock += 1;
        let key = (voice.to_owned(), text.to_owned());
        if !self.entries.contains_key(&key) && self.entries.len() >= self.capacity {
            let oldest = self
                .entries
                .iter()
                .min_by_key(|(_, (_, used))| *used)
                .map(|(key, _)| key.clone());
            if let Some(oldest) = oldest {
                self.entries.remove(&oldest);
            }
        }
        self.entries.insert(key, (prompt, self.clock));
    }

    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn audio(n: i16) -> Arc<Prompt> {
        Arc::new(Prompt::from_samples(vec![n; 8]))
    }

    #[test]
    fn the_least_recently_used_text_goes_first() {
        let mut lru = Lru::new(2);
        lru.put("en", "Li Na", audio(1));
        lru.put("en", "Wang Wei", audio(2));
        // Li Na is used again: Wang Wei is now the oldest.
        assert_eq!(lru.get("en", "Li Na"), Some(audio(1)));
        lru.put("cmn", "Li Na", audio(3));
        assert_eq!(lru.len(), 2);
        assert_eq!(lru.get("en", "Wang Wei"), None);
        assert_eq!(lru.get("en", "Li Na"), Some(audio(1)));
        // The voice is part of the key.
        assert_eq!(lru.get("cmn", "Li Na"), Some(audio(3)));
    }

    #[test]
    fn a_cache_of_zero_keeps_nothing() {
        let mut lru = Lru::new(0);
        lru.put("en", "Li Na", audio(1));
        assert_eq!(lru.get("en", "Li Na"), None);
    }
}
