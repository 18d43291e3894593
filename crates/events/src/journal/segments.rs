//! Journal segments: the live `events.jsonl` and the full ones rotated beside it as
//! `events-000001.jsonl`, `events-000002.jsonl`, ... (oldest first, `seq` continuing).
//!
//! Segment numbers start at 1; the live file is always numbered one more than the newest
//! rotated segment, so a rotation is a single rename of the live file to its own number.

use std::path::{Path, PathBuf};

use super::writer::JOURNAL_FILE;

/// Default size at which the live journal is rotated into a numbered segment.
pub const DEFAULT_SEGMENT_BYTES: u64 = 64 * 1024 * 1024;

/// Path of the rotated segment number `n` in `dir`.
pub fn segment_path(dir: &Path, n: u64) -> PathBuf {
    dir.join(format!("events-{n:06}.jsonl"))
}

/// Parses a rotated segment's file name into its number.
fn segment_number(name: &str) -> Option<u64> {
    let digits = name.strip_prefix("events-")?.strip_suffix(".jsonl")?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// The rotated segments in `dir`, oldest first (empty if `dir` does not exist).
pub fn rotated_segments(dir: &Path) -> std::io::Result<Vec<(u64, PathBuf)>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(err) => return Err(err),
    };
    let mut segments = Vec::new();
    for entry in entries {
        let entry = entry?;
        if let Some(n) = entry.file_name().to_str().and_then(segment_number) {
            segments.push((n, entry.path()));
        }
    }
    segments.sort_unstable_by_key(|(n, _)| *n);
    Ok(segments)
}

/// Number of the live segment: one more than the newest rotated segment, 1 if none.
pub fn live_segment(dir: &Path) -> std::io::Result<u64> {
    Ok(rotated_segments(dir)?.last().map_or(1, |(n, _)| n + 1))
}

/// Every journal file of `dir` in order: the rotated segments, then the live file.
pub fn journal_files(dir: &Path) -> std::io::Result<Vec<(u64, PathBuf)>> {
    let mut files = rotated_segments(dir)?;
    let live = files.last().map_or(1, |(n, _)| n + 1);
    files.push((live, dir.join(JOURNAL_FILE)));
    Ok(files)
}

/// Makes a rename or file creation in `dir` durable.
pub(crate) fn sync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_and_sort_numerically() {
        let dir = tempfile::tempdir().unwrap();
        for name in [
            "events-000010.jsonl",
            "events-000002.jsonl",
            "events.jsonl",
            "events-x.jsonl",
            "events-000003.jsonl.tmp",
            "redis.cursor",
        ] {
            std::fs::write(dir.path().join(name), "").unwrap();
        }
        let numbers: Vec<u64> = rotated_segments(dir.path())
            .unwrap()
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        assert_eq!(numbers, vec![2, 10]);
        assert_eq!(live_segment(dir.path()).unwrap(), 11);
        let files = journal_files(dir.path()).unwrap();
        assert_eq!(files.last().unwrap().1, dir.path().join("events.jsonl"));
        assert_eq!(
            segment_path(dir.path(), 7),
            dir.path().join("events-000007.jsonl")
        );
    }

    #[test]
    fn an_empty_directory_has_live_segment_one() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(live_segment(dir.path()).unwrap(), 1);
        assert_eq!(live_segment(&dir.path().join("missing")).unwrap(), 1);
    }
}
