//! The in-memory index of finished recordings, read from their sidecars at start and kept up to
//! date as recordings finish or are deleted; what the list and search API reads.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use hotline_recording::RecordingMetadata;
use time::OffsetDateTime;
use uuid::Uuid;

/// One finished recording.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Its sidecar.
    pub meta: RecordingMetadata,
    /// The sidecar's path.
    pub sidecar: PathBuf,
}

impl Entry {
    /// The stereo WAV beside the sidecar.
    pub fn wav(&self) -> PathBuf {
        self.sidecar.with_file_name(&self.meta.audio_file)
    }

    /// The mixed mono WAV beside it (present only when the queue writes one).
    pub fn mono_wav(&self) -> PathBuf {
        self.sidecar.with_extension("mono.wav")
    }
}

/// What a search asks for; every given field must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    /// Recordings that started at or after this.
    pub from: Option<OffsetDateTime>,
    /// Recordings that started before this.
    pub to: Option<OffsetDateTime>,
    /// Recordings of this agent.
    pub agent: Option<String>,
    /// Recordings of calls from this queue.
    pub queue: Option<String>,
}

impl Query {
    fn matches(&self, meta: &RecordingMetadata) -> bool {
        self.from.is_none_or(|from| meta.started_at >= from)
            && self.to.is_none_or(|to| meta.started_at < to)
            && self
                .agent
                .as_ref()
                .is_none_or(|a| meta.agent.as_ref() == Some(a))
            && self
                .queue
                .as_ref()
                .is_none_or(|q| meta.queue.as_ref() == Some(q))
    }
}

/// Finished recordings by call id.
#[derive(Debug, Default)]
pub struct Index {
    entries: BTreeMap<Uuid, Entry>,
}

/// A sidecar that could not be read at start (logged, left alone).
#[derive(Debug)]
pub struct Unreadable {
    /// The file.
    pub path: PathBuf,
    /// Why.
    pub error: String,
}

impl Index {
    /// Reads every `*.json` sidecar under `root` (a missing root is an empty index).
    pub fn load(root: &Path) -> (Self, Vec<Unreadable>) {
        let mut index = Index::default();
        let mut bad = Vec::new();
        let mut pending = vec![root.to_path_buf()];
        while let Some(dir) = pending.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                let Ok(kind) = entry.file_type() else {
                    continue;
                };
                if kind.is_dir() {
                    pending.push(path);
                } else if kind.is_file() && path.extension().is_some_and(|e| e == "json") {
                    match std::fs::read_to_string(&path)
                        .map_err(|e| e.to_string())
                        .and_then(|t| RecordingMetadata::from_json(&t).map_err(|e| e.to_string()))
                    {
                        Ok(meta) => index.insert(meta, path),
                        Err(error) => bad.push(Unreadable { path, error }),
                    }
                }
            }
        }
        (index, bad)
    }

    /// Adds (or replaces) a recording.
    pub fn insert(&mut self, meta: RecordingMetadata, sidecar: PathBuf) {
        self.entries.insert(meta.call_id, Entry { meta, sidecar });
    }

    /// The recording of `call`.
    pub fn find(&self, call: Uuid) -> Option<&Entry> {
        self.entries.get(&call)
    }

    /// Forgets the recording of `call`.
    pub fn remove(&mut self, call: Uuid) -> Option<Entry> {
        self.entries.remove(&call)
    }

    /// The recordings matching `query`, oldest first.
    pub fn search(&self, query: &Query) -> Vec<RecordingMetadata> {
        let mut found: Vec<RecordingMetadata> = self
            .entries
            .values()
            .filter(|e| query.matches(&e.meta))
            .map(|e| e.meta.clone())
            .collect();
        found.sort_by_key(|m| (m.started_at, m.call_id));
        found
    }

    /// Every entry (for retention).
    pub fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.entries.values()
    }

    /// How many recordings are indexed.
    pub fn len(&self) -> usize {
        self.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hotline_recording::metadata::{CallDirection, METADATA_VERSION};
    use hotline_recording::Consent;
    use time::macros::datetime;

    fn meta(n: u128, started: OffsetDateTime, queue: &str, agent: &str) -> RecordingMetadata {
        RecordingMetadata {
            version: METADATA_VERSION,
            call_id: Uuid::from_u128(n),
            direction: CallDirection::Inbound,
            queue: Some(queue.into()),
            agent: Some(agent.into()),
            customer_number: None,
            dialed_number: None,
            transferred_to: None,
            transfer_trunk: None,
            started_at: started,
            ended_at: started,
            pauses: Vec::new(),
            consent: Consent::NotAsked,
            sample_rate: 8000,
            channels: 2,
            duration_ms: 0,
            audio_file: format!("{}.wav", Uuid::from_u128(n)),
            sha256: String::new(),
        }
    }

    #[test]
    fn the_index_is_read_from_sidecars_and_searched_by_time_agent_and_queue() {
        let root = tempfile::tempdir().expect("tempdir");
        let day = root.path().join("2026/12/06");
        std::fs::create_dir_all(&day).expect("mkdir");
        let a = meta(1, datetime!(2026-12-06 09:00 UTC), "support", "1001");
        let b = meta(2, datetime!(2026-12-06 10:00 UTC), "billing", "1003");
        let c = meta(3, datetime!(2026-12-06 11:00 UTC), "support", "1002");
        for m in [&a, &b, &c] {
            let path = day.join(format!("{}.json", m.call_id));
            std::fs::write(path, m.to_json().expect("json")).expect("write");
        }
        std::fs::write(day.join("broken.json"), "{").expect("write");
        let (index, bad) = Index::load(root.path());
        assert_eq!(index.len(), 3);
        assert_eq!(bad.len(), 1);
        let all = index.search(&Query::default());
        assert_eq!(all, vec![a.clone(), b.clone(), c.clone()]);
        let support = Query {
            queue: Some("support".into()),
            ..Query::default()
        };
        assert_eq!(index.search(&support), vec![a.clone(), c.clone()]);
        let window = Query {
            from: Some(datetime!(2026-12-06 09:30 UTC)),
            to: Some(datetime!(2026-12-06 11:00 UTC)),
            ..Query::default()
        };
        assert_eq!(index.search(&window), vec![b.clone()]);
        let agent = Query {
            agent: Some("1002".into()),
            ..Query::default()
        };
        assert_eq!(index.search(&agent), vec![c.clone()]);
        let entry = index.find(a.call_id).expect("indexed");
        assert_eq!(entry.wav(), day.join(&a.audio_file));
        let (missing, none) = Index::load(&root.path().join("nothing"));
        assert!(missing.len() == 0 && none.is_empty());
    }
}
