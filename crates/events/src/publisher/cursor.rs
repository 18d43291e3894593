//! The publisher's persisted position in the journal, `<data-dir>/redis.cursor`.

use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tracing::warn;

use crate::journal::{segment_path, JOURNAL_FILE};

/// Name of the cursor file inside the data directory.
pub const CURSOR_FILE: &str = "redis.cursor";

/// How far the journal has been acknowledged by Redis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Cursor {
    /// Journal segment the offset is in (see [`crate::journal::segments`]); 0 in cursors
    /// written before rotation existed, which meant the first live file, segment 1.
    #[serde(default)]
    pub segment: u64,
    /// Byte offset in that segment of the first event not yet published (a line boundary).
    pub offset: u64,
    /// `seq` of the last published event (0 if none).
    pub seq: u64,
}

/// Loads the cursor, validated against the journal: a missing file means "from the start";
/// an unreadable or inconsistent one is reported and restarts from the start too (Redis
/// then receives duplicates, which consumers drop by `id`, rather than losing events).
///
/// `dir` is the journal's directory and `live` the live segment's number.
pub(crate) fn load(path: &Path, dir: &Path, live: u64) -> std::io::Result<Cursor> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Cursor::default()),
        Err(err) => return Err(err),
    };
    let mut cursor: Cursor = match serde_json::from_str(&text) {
        Ok(cursor) => cursor,
        Err(err) => {
            warn!(path = %path.display(), %err, "unreadable Redis cursor; republishing the journal from the start");
            return Ok(Cursor::default());
        }
    };
    cursor.segment = cursor.segment.max(1);
    if cursor.segment > live {
        warn!(path = %path.display(), segment = cursor.segment,
            "Redis cursor is past the journal's live segment; republishing the journal from the start");
        return Ok(Cursor::default());
    }
    if cursor.offset == 0 {
        return Ok(cursor);
    }
    let journal = if cursor.segment == live {
        dir.join(JOURNAL_FILE)
    } else {
        segment_path(dir, cursor.segment)
    };
    if !at_line_boundary(&journal, cursor.offset)? {
        warn!(
            path = %path.display(),
            offset = cursor.offset,
            "Redis cursor does not match the journal; republishing the journal from the start"
        );
        return Ok(Cursor::default());
    }
    Ok(cursor)
}

/// True if `offset` is within the journal and just after a `\n`.
fn at_line_boundary(journal: &Path, offset: u64) -> std::io::Result<bool> {
    let mut file = match std::fs::File::open(journal) {
        Ok(file) => file,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(err) => return Err(err),
    };
    if file.metadata()?.len() < offset {
        return Ok(false);
    }
    let mut byte = [0u8; 1];
    file.seek(SeekFrom::Start(offset - 1))?;
    file.read_exact(&mut byte)?;
    Ok(byte[0] == b'\n')
}

/// Writes the cursor atomically (temporary file, then rename), so a crash leaves either the
/// old or the new cursor. It is not fsynced: losing the last update only causes duplicates.
pub(crate) async fn store(path: &Path, cursor: Cursor) -> std::io::Result<()> {
    let tmp: PathBuf = path.with_extension("cursor.tmp");
    let text = serde_json::to_string(&cursor).map_err(std::io::Error::other)?;
    tokio::fs::write(&tmp, text).await?;
    tokio::fs::rename(&tmp, path).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn stores_and_loads() {
        let dir = tempfile::tempdir().unwrap();
        let journal = dir.path().join("events.jsonl");
        std::fs::write(&journal, "a\nbb\n").unwrap();
        let path = dir.path().join(CURSOR_FILE);
        assert_eq!(load(&path, dir.path(), 1).unwrap(), Cursor::default());
        let cursor = Cursor {
            segment: 1,
            offset: 2,
            seq: 1,
        };
        store(&path, cursor).await.unwrap();
        assert_eq!(load(&path, dir.path(), 1).unwrap(), cursor);
    }

    #[tokio::test]
    async fn inconsistent_cursor_restarts_from_zero() {
        let dir = tempfile::tempdir().unwrap();
        let journal = dir.path().join("events.jsonl");
        std::fs::write(&journal, "a\nbb\n").unwrap();
        let path = dir.path().join(CURSOR_FILE);
        for (segment, offset) in [(1, 3), (1, 99), (2, 2)] {
            let bad = Cursor {
                segment,
                offset,
                seq: 1,
            };
            store(&path, bad).await.unwrap();
            assert_eq!(load(&path, dir.path(), 1).unwrap(), Cursor::default());
        }
        std::fs::write(&path, "not json").unwrap();
        assert_eq!(load(&path, dir.path(), 1).unwrap(), Cursor::default());
    }

    #[tokio::test]
    async fn cursors_follow_segments_and_old_ones_mean_the_first_segment() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(segment_path(dir.path(), 1), "a\nbb\n").unwrap();
        std::fs::write(dir.path().join(JOURNAL_FILE), "ccc\n").unwrap();
        let path = dir.path().join(CURSOR_FILE);
        std::fs::write(&path, r#"{"offset":2,"seq":1}"#).unwrap();
        let old = load(&path, dir.path(), 2).unwrap();
        assert_eq!((old.segment, old.offset), (1, 2));
        let live = Cursor {
            segment: 2,
            offset: 4,
            seq: 3,
        };
        store(&path, live).await.unwrap();
        assert_eq!(load(&path, dir.path(), 2).unwrap(), live);
    }
}
