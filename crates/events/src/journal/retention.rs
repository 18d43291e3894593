//! Deleting old journal segments once nothing needs them.
//!
//! A rotated segment may go when all of these hold:
//!
//! - a snapshot covers it: its last `seq` is at or below the seq of the *oldest* snapshot kept,
//!   so a restart falling back from an unreadable newest snapshot still finds its tail;
//! - when a Redis publisher tails the journal, the publisher's cursor has moved past it;
//! - it is not among the newest [`Retention::keep_segments`] rotated segments;
//! - it was last written more than [`Retention::keep_for`] ago.
//!
//! The live file is never deleted. Segments go oldest first and stop at the first one that must
//! stay, so the journal on disk is always one unbroken run of `seq`s. Readers of the whole
//! journal (the KPI projection's history) see only what is kept.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde::Deserialize;

use super::segments::{journal_files, rotated_segments};
use crate::publisher::{Cursor, CURSOR_FILE};

/// How many old segments to keep, at least; absent from the configuration, nothing is deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// The newest rotated segments always kept, whatever their age.
    pub keep_segments: usize,
    /// Segments written within this time are kept.
    pub keep_for: Duration,
    /// Keep segments the Redis publisher has not fully sent (set when Redis is configured).
    pub require_published: bool,
}

/// What retention knows of one rotated segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentInfo {
    /// Its number.
    pub number: u64,
    /// The last `seq` it holds (`None`: unknown, so it is kept).
    pub last_seq: Option<u64>,
    /// When it was last written.
    pub modified: SystemTime,
}

/// Which of `segments` (rotated, oldest first) may be deleted: the oldest ones, up to the
/// first that must stay. `snapshot_seq` is the seq the oldest kept snapshot covers (`None`:
/// no snapshot, nothing is covered); `published_below` is the first segment the publisher has
/// not finished.
pub fn deletable(
    segments: &[SegmentInfo],
    retention: &Retention,
    snapshot_seq: Option<u64>,
    published_below: u64,
    now: SystemTime,
) -> Vec<u64> {
    let protected_from = segments.len().saturating_sub(retention.keep_segments);
    segments
        .iter()
        .take(protected_from)
        .take_while(|s| {
            let covered =
                matches!((s.last_seq, snapshot_seq), (Some(last), Some(snap)) if last <= snap);
            let published = !retention.require_published || s.number < published_below;
            let old = now
                .duration_since(s.modified)
                .is_ok_and(|age| age > retention.keep_for);
            covered && published && old
        })
        .map(|s| s.number)
        .collect()
}

/// Deletes the segments of `dir` that [`deletable`] allows at `now`; returns their paths.
pub fn prune(dir: &Path, retention: &Retention, now: SystemTime) -> std::io::Result<Vec<PathBuf>> {
    let rotated = rotated_segments(dir)?;
    if rotated.len() <= retention.keep_segments {
        return Ok(Vec::new());
    }
    let files = journal_files(dir)?;
    let mut infos = Vec::with_capacity(rotated.len());
    for (i, (number, path)) in rotated.iter().enumerate() {
        // A segment ends where the next file begins, which is cheaper to read than its end.
        let next_first = match files.get(i + 1) {
            Some((_, next)) => first_seq(next)?,
            None => None,
        };
        infos.push(SegmentInfo {
            number: *number,
            last_seq: next_first.map(|first| first.saturating_sub(1)),
            modified: std::fs::metadata(path)?.modified()?,
        });
    }
    let published_below = if retention.require_published {
        published_segment(dir)?
    } else {
        u64::MAX
    };
    let snapshot_seq = oldest_snapshot_seq(dir)?;
    let mut deleted = Vec::new();
    for number in deletable(&infos, retention, snapshot_seq, published_below, now) {
        if let Some((_, path)) = rotated.iter().find(|(n, _)| *n == number) {
            std::fs::remove_file(path)?;
            deleted.push(path.clone());
        }
    }
    Ok(deleted)
}

/// The `seq` of the first event in `path` (`None` if it holds no complete line yet).
fn first_seq(path: &Path) -> std::io::Result<Option<u64>> {
    #[derive(Deserialize)]
    struct Seq {
        seq: u64,
    }
    let file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(err) => return Err(err),
    };
    let mut line = String::new();
    BufReader::new(file).read_line(&mut line)?;
    if !line.ends_with('\n') {
        return Ok(None);
    }
    Ok(serde_json::from_str::<Seq>(&line).ok().map(|s| s.seq))
}

/// The first segment the publisher has not finished (1 without a readable cursor).
fn published_segment(dir: &Path) -> std::io::Result<u64> {
    let text = match std::fs::read_to_string(dir.join(CURSOR_FILE)) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(1),
        Err(err) => return Err(err),
    };
    // A cursor written before rotation existed names segment 0, the first live file.
    Ok(serde_json::from_str::<Cursor>(&text).map_or(1, |c| c.segment.max(1)))
}

/// The seq covered by the oldest snapshot kept in `dir`, if any.
fn oldest_snapshot_seq(dir: &Path) -> std::io::Result<Option<u64>> {
    let mut oldest: Option<u64> = None;
    for entry in std::fs::read_dir(dir)? {
        let name = entry?.file_name();
        let seq = name
            .to_str()
            .and_then(|n| n.strip_prefix("snapshot-")?.strip_suffix(".json"))
            .filter(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|d| d.parse::<u64>().ok());
        if let Some(seq) = seq {
            oldest = Some(oldest.map_or(seq, |o| o.min(seq)));
        }
    }
    Ok(oldest)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: Duration = Duration::from_secs(3600);

    fn segment(number: u64, last_seq: u64, age: Duration, now: SystemTime) -> SegmentInfo {
        SegmentInfo {
            number,
            last_seq: Some(last_seq),
            modified: now - age,
        }
    }

    fn retention(keep_segments: usize, keep_for: Duration, redis: bool) -> Retention {
        Retention {
            keep_segments,
            keep_for,
            require_published: redis,
        }
    }

    #[test]
    fn only_old_covered_published_segments_beyond_the_minimum_go() {
        let now = SystemTime::now();
        let segments = [
            segment(1, 100, 5 * HOUR, now),
            segment(2, 200, 4 * HOUR, now),
            segment(3, 300, 3 * HOUR, now),
            segment(4, 400, 2 * HOUR, now),
            segment(5, 500, HOUR / 2, now),
        ];
        let keep_one = retention(1, HOUR, false);
        // Everything old enough and covered, but the newest one kept.
        assert_eq!(
            deletable(&segments, &keep_one, Some(10_000), u64::MAX, now),
            vec![1, 2, 3, 4]
        );
        // The snapshot covers up to seq 250: segments 1 and 2.
        assert_eq!(
            deletable(&segments, &keep_one, Some(250), u64::MAX, now),
            vec![1, 2]
        );
        // No snapshot: nothing is covered.
        assert!(deletable(&segments, &keep_one, None, u64::MAX, now).is_empty());
        // Keep three segments.
        assert_eq!(
            deletable(&segments, &retention(3, HOUR, false), Some(10_000), 0, now),
            vec![1, 2]
        );
        // Keep everything younger than 3.5 hours.
        assert_eq!(
            deletable(
                &segments,
                &retention(0, HOUR * 7 / 2, false),
                Some(10_000),
                0,
                now
            ),
            vec![1, 2]
        );
        // With Redis, the publisher has finished segments 1 and 2 only.
        assert_eq!(
            deletable(&segments, &retention(0, HOUR, true), Some(10_000), 3, now),
            vec![1, 2]
        );
    }

    #[test]
    fn deletion_stops_at_the_first_segment_that_must_stay() {
        let now = SystemTime::now();
        let segments = [
            segment(1, 100, 5 * HOUR, now),
            // Touched recently (e.g. copied back by an operator): it stays, and so do the newer.
            segment(2, 200, HOUR / 4, now),
            segment(3, 300, 5 * HOUR, now),
        ];
        assert_eq!(
            deletable(&segments, &retention(0, HOUR, false), Some(1000), 0, now),
            vec![1]
        );
        let unknown = [SegmentInfo {
            number: 1,
            last_seq: None,
            modified: now - 5 * HOUR,
        }];
        assert!(deletable(&unknown, &retention(0, HOUR, false), Some(1000), 0, now).is_empty());
    }

    fn write_segment(dir: &Path, number: u64, seqs: std::ops::RangeInclusive<u64>) {
        let lines: String = seqs.map(|s| format!("{{\"seq\":{s}}}\n")).collect();
        std::fs::write(super::super::segments::segment_path(dir, number), lines).unwrap();
    }

    #[test]
    fn prune_reads_the_snapshots_and_the_cursor_on_disk() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        write_segment(d, 1, 1..=10);
        write_segment(d, 2, 11..=20);
        write_segment(d, 3, 21..=30);
        std::fs::write(d.join("events.jsonl"), "{\"seq\":31}\n").unwrap();
        let later = SystemTime::now() + 2 * HOUR;
        let keep = retention(0, HOUR, true);
        // No snapshot yet: nothing goes.
        assert!(prune(d, &keep, later).unwrap().is_empty());
        // Snapshots at 15 and 25: the older one covers segment 1.
        std::fs::write(d.join("snapshot-00000000000000000015.json"), "{}").unwrap();
        std::fs::write(d.join("snapshot-00000000000000000025.json"), "{}").unwrap();
        // Not published yet.
        assert!(prune(d, &keep, later).unwrap().is_empty());
        std::fs::write(
            d.join(CURSOR_FILE),
            "{\"segment\":3,\"offset\":0,\"seq\":20}",
        )
        .unwrap();
        let deleted = prune(d, &keep, later).unwrap();
        assert_eq!(deleted, vec![super::super::segments::segment_path(d, 1)]);
        assert!(!deleted[0].exists());
        // Too young at the real time, whatever else holds.
        std::fs::remove_file(d.join("snapshot-00000000000000000015.json")).unwrap();
        assert!(prune(d, &keep, SystemTime::now()).unwrap().is_empty());
        // Segment 2 goes once the oldest snapshot covers it; segment 3 needs the publisher.
        let deleted = prune(d, &keep, later).unwrap();
        assert_eq!(deleted, vec![super::super::segments::segment_path(d, 2)]);
        let remaining: Vec<u64> = rotated_segments(d)
            .unwrap()
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        assert_eq!(remaining, vec![3]);
    }
}
