//! Snapshots beside the journal: an opaque JSON state and the `seq` it covers, so a
//! restart replays a snapshot plus the journal's tail instead of the whole history.
//!
//! A snapshot is `<dir>/snapshot-<seq, 20 digits>.json` holding
//! `{"v":1,"seq":N,"state":...}`, written to a temporary file, fsynced and renamed, so a
//! crash leaves either no new snapshot or a complete one. The [`KEEP`] newest are kept; an
//! unreadable snapshot is skipped in favour of the previous one.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tracing::warn;

use crate::error::{JournalReadError, RecoveryError, SnapshotError};
use crate::journal::reader::read_file_into;
use crate::journal::recover::last_complete_seq;
use crate::journal::segments::{journal_files, sync_dir};
use crate::journal::JournalReader;
use crate::schema::Event;

/// How many snapshots are kept (older ones are deleted after a new one is written).
pub const KEEP: usize = 2;

/// Version of the snapshot envelope.
const SNAPSHOT_VERSION: u32 = 1;

/// A state and the last journal `seq` it includes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// Envelope version.
    #[serde(default = "version")]
    pub v: u32,
    /// The last event `seq` whose effect the state includes.
    pub seq: u64,
    /// The state, opaque to this crate.
    pub state: serde_json::Value,
}

fn version() -> u32 {
    SNAPSHOT_VERSION
}

/// What a restart starts from: the latest snapshot, if any, and every event after it.
#[derive(Debug, Clone, PartialEq)]
pub struct Recovery {
    /// The latest readable snapshot.
    pub snapshot: Option<Snapshot>,
    /// Events with `seq` greater than the snapshot's (all events without one), in order.
    pub events: Vec<Event>,
}

/// Path of the snapshot covering `seq` in `dir`.
pub fn snapshot_path(dir: &Path, seq: u64) -> PathBuf {
    dir.join(format!("snapshot-{seq:020}.json"))
}

fn snapshot_seq(name: &str) -> Option<u64> {
    let digits = name.strip_prefix("snapshot-")?.strip_suffix(".json")?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// The snapshots in `dir`, oldest first.
fn list(dir: &Path) -> Result<Vec<(u64, PathBuf)>, SnapshotError> {
    let io = |source| SnapshotError::Io {
        path: dir.to_path_buf(),
        source,
    };
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(err) => return Err(io(err)),
    };
    let mut found = Vec::new();
    for entry in entries {
        let entry = entry.map_err(io)?;
        if let Some(seq) = entry.file_name().to_str().and_then(snapshot_seq) {
            found.push((seq, entry.path()));
        }
    }
    found.sort_unstable_by_key(|(seq, _)| *seq);
    Ok(found)
}

/// Durably writes a snapshot of `state` covering events up to `seq` into `dir`, then
/// deletes all but the [`KEEP`] newest snapshots. Returns the snapshot's path.
///
/// `seq` must be a `seq` the journal has written (e.g. from `EventSink::flush`), and
/// `state` must include the effect of every event up to it and of none after it.
pub fn write_snapshot(
    dir: &Path,
    seq: u64,
    state: &serde_json::Value,
) -> Result<PathBuf, SnapshotError> {
    let path = snapshot_path(dir, seq);
    let tmp = path.with_extension("json.tmp");
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| SnapshotError::Io { path, source }
    };
    let body = serde_json::to_vec(&Snapshot {
        v: SNAPSHOT_VERSION,
        seq,
        state: state.clone(),
    })
    .map_err(SnapshotError::Serialize)?;
    let mut file = File::create(&tmp).map_err(io(&tmp))?;
    file.write_all(&body).map_err(io(&tmp))?;
    file.sync_all().map_err(io(&tmp))?;
    drop(file);
    std::fs::rename(&tmp, &path).map_err(io(&path))?;
    sync_dir(dir).map_err(io(dir))?;
    let all = list(dir)?;
    for (_, old) in all.iter().take(all.len().saturating_sub(KEEP)) {
        if let Err(err) = std::fs::remove_file(old) {
            warn!(path = %old.display(), %err, "cannot delete an old snapshot");
        }
    }
    Ok(path)
}

/// The newest readable snapshot in `dir`, if any (unreadable ones are logged and skipped).
pub fn latest_snapshot(dir: &Path) -> Result<Option<Snapshot>, SnapshotError> {
    for (seq, path) in list(dir)?.into_iter().rev() {
        let text = match std::fs::read(&path) {
            Ok(text) => text,
            Err(err) => {
                warn!(path = %path.display(), %err, "cannot read snapshot; trying an older one");
                continue;
            }
        };
        match serde_json::from_slice::<Snapshot>(&text) {
            Ok(snapshot) if snapshot.seq == seq => return Ok(Some(snapshot)),
            Ok(_) => warn!(path = %path.display(), "snapshot seq does not match its name; skipped"),
            Err(err) => {
                warn!(path = %path.display(), %err, "invalid snapshot; trying an older one")
            }
        }
    }
    Ok(None)
}

/// Loads the latest snapshot in `dir` and the journal events after it, reading only the
/// journal segments that can hold such events.
///
/// A snapshot beyond the journal's last event belongs to a journal that is gone (the files
/// were removed or replaced): it is ignored, with a warning, and the whole journal is read.
pub fn load_recovery(dir: &Path) -> Result<Recovery, RecoveryError> {
    let mut snapshot = latest_snapshot(dir)?;
    let io = |source| JournalReadError::Io {
        path: dir.to_path_buf(),
        source,
    };
    let files = journal_files(dir).map_err(io)?;
    if let Some(snap) = &snapshot {
        let mut last = 0;
        for (_, path) in files.iter().rev() {
            last = last_complete_seq(path).map_err(io)?;
            if last > 0 {
                break;
            }
        }
        if last < snap.seq {
            warn!(
                snapshot = snap.seq,
                journal = last,
                "snapshot is ahead of the journal; ignoring it and reading the whole journal"
            );
            snapshot = None;
        }
    }
    let after = snapshot.as_ref().map_or(0, |s| s.seq);
    let mut events = Vec::new();
    let mut first_seqs = Vec::with_capacity(files.len());
    for (_, path) in &files {
        first_seqs.push(first_seq(path)?);
    }
    for (i, (_, path)) in files.iter().enumerate() {
        // Segment i holds seqs below the first seq of segment i + 1.
        let next_first = first_seqs.get(i + 1).copied().flatten();
        if next_first.is_some_and(|first| first <= after + 1) {
            continue;
        }
        let start = events.len();
        match read_file_into(path, &mut events) {
            Err(JournalReadError::Io { source, .. })
                if source.kind() == std::io::ErrorKind::NotFound => {}
            other => other?,
        }
        let kept = events.split_off(start);
        events.extend(kept.into_iter().filter(|e| e.seq > after));
    }
    Ok(Recovery { snapshot, events })
}

/// The `seq` of a journal file's first event (`None` if it is missing or empty).
fn first_seq(path: &Path) -> Result<Option<u64>, JournalReadError> {
    #[derive(Deserialize)]
    struct SeqOnly {
        seq: u64,
    }
    let mut reader = match JournalReader::open(path) {
        Ok(reader) => reader,
        Err(JournalReadError::Io { source, .. })
            if source.kind() == std::io::ErrorKind::NotFound =>
        {
            return Ok(None)
        }
        Err(err) => return Err(err),
    };
    let len = reader.file_len()?;
    let lines = reader.read_lines(0, len, 4096)?;
    let Some(line) = lines.first() else {
        return Ok(None);
    };
    serde_json::from_str::<SeqOnly>(&line.text)
        .map(|s| Some(s.seq))
        .map_err(|source| JournalReadError::Invalid { offset: 0, source })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{EventDraft, EventKind};
    use crate::timestamp::Timestamp;
    use uuid::Uuid;

    fn line(seq: u64) -> String {
        let event = EventDraft::new(EventKind::CallQueued { position: 1 }).into_event(
            Uuid::now_v7(),
            seq,
            Timestamp::now(),
            "n",
        );
        format!("{}\n", serde_json::to_string(&event).unwrap())
    }

    fn lines(seqs: std::ops::RangeInclusive<u64>) -> String {
        seqs.map(line).collect()
    }

    #[test]
    fn no_snapshot_means_the_whole_journal() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(crate::journal::segment_path(dir.path(), 1), lines(1..=3)).unwrap();
        std::fs::write(dir.path().join("events.jsonl"), lines(4..=5)).unwrap();
        let r = load_recovery(dir.path()).unwrap();
        assert!(r.snapshot.is_none());
        let seqs: Vec<u64> = r.events.iter().map(|e| e.seq).collect();
        assert_eq!(seqs, vec![1, 2, 3, 4, 5]);
    }

    #[test]
    fn snapshot_plus_tail_skips_covered_segments() {
        let dir = tempfile::tempdir().unwrap();
        // Segment 1 is covered entirely; make it unparsable to prove it is not read.
        std::fs::write(
            crate::journal::segment_path(dir.path(), 1),
            format!("{}garbage\n", line(1)),
        )
        .unwrap();
        std::fs::write(crate::journal::segment_path(dir.path(), 2), lines(3..=6)).unwrap();
        std::fs::write(dir.path().join("events.jsonl"), lines(7..=8)).unwrap();
        let state = serde_json::json!({"agents": {"alice": "not_ready"}});
        write_snapshot(dir.path(), 4, &state).unwrap();
        let r = load_recovery(dir.path()).unwrap();
        let snap = r.snapshot.unwrap();
        assert_eq!((snap.seq, &snap.state), (4, &state));
        let seqs: Vec<u64> = r.events.iter().map(|e| e.seq).collect();
        assert_eq!(seqs, vec![5, 6, 7, 8]);
    }

    #[test]
    fn a_snapshot_ahead_of_the_journal_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        write_snapshot(dir.path(), 10, &serde_json::json!({})).unwrap();
        std::fs::write(dir.path().join("events.jsonl"), lines(1..=3)).unwrap();
        let r = load_recovery(dir.path()).unwrap();
        assert!(r.snapshot.is_none());
        assert_eq!(r.events.len(), 3);
        // Once the journal reaches it again the snapshot is used.
        std::fs::write(dir.path().join("events.jsonl"), lines(1..=12)).unwrap();
        let r = load_recovery(dir.path()).unwrap();
        assert_eq!(r.snapshot.map(|s| s.seq), Some(10));
        assert_eq!(r.events.len(), 2);
    }

    #[test]
    fn newest_snapshots_are_kept_and_a_corrupt_one_falls_back() {
        let dir = tempfile::tempdir().unwrap();
        for seq in [10, 20, 30] {
            write_snapshot(dir.path(), seq, &serde_json::json!({ "n": seq })).unwrap();
        }
        let kept: Vec<u64> = list(dir.path())
            .unwrap()
            .into_iter()
            .map(|(s, _)| s)
            .collect();
        assert_eq!(kept, vec![20, 30]);
        std::fs::write(snapshot_path(dir.path(), 30), "{\"v\":1,\"seq\":3").unwrap();
        let latest = latest_snapshot(dir.path()).unwrap().unwrap();
        assert_eq!(latest.seq, 20);
        assert_eq!(latest.state, serde_json::json!({ "n": 20 }));
    }

    #[test]
    fn an_empty_directory_recovers_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let r = load_recovery(dir.path()).unwrap();
        assert_eq!(
            r,
            Recovery {
                snapshot: None,
                events: Vec::new()
            }
        );
    }
}
