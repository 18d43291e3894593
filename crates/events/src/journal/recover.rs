//! Start-up recovery: find where the journal really ends and the last sequence number.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use tracing::warn;

/// What recovery found in an existing journal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Recovered {
    /// Length of the journal after dropping a torn tail; the next write goes here.
    pub len: u64,
    /// Sequence number of the last complete event, 0 if there is none.
    pub last_seq: u64,
    /// Bytes dropped from the end (a torn or corrupt last line).
    pub truncated: u64,
}

/// The one field recovery reads from the last line.
#[derive(serde::Deserialize)]
struct SeqOnly {
    seq: u64,
}

/// Size of the chunks read backwards from the end while looking for the last line.
const CHUNK: u64 = 64 * 1024;

/// Recovers the journal at `path` (which must exist): drops a torn or unparsable tail, one
/// line at a time, and truncates the file to the last complete event.
///
/// Only the tail is read, so start-up cost does not grow with the journal.
pub(crate) fn recover(file: &mut File, path: &Path) -> std::io::Result<Recovered> {
    let found = scan(file, path)?;
    if found.truncated > 0 {
        warn!(
            path = %path.display(),
            dropped_bytes = found.truncated,
            "event journal ended with a torn write; truncated to the last complete event"
        );
        file.set_len(found.len)?;
        file.sync_all()?;
    }
    Ok(found)
}

/// The `seq` of the last complete event of the journal file at `path` (0 if it has none or
/// does not exist), without changing the file.
pub(crate) fn last_complete_seq(path: &Path) -> std::io::Result<u64> {
    match File::open(path) {
        Ok(mut file) => Ok(scan(&mut file, path)?.last_seq),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(0),
        Err(err) => Err(err),
    }
}

/// Finds the last complete event from the end, without changing the file.
fn scan(file: &mut File, path: &Path) -> std::io::Result<Recovered> {
    let original = file.metadata()?.len();
    let mut len = original;
    let mut last_seq = 0;
    while len > 0 {
        // A complete line ends with '\n'; whatever follows the last '\n' is torn.
        let Some(line_end) = last_newline_before(file, len)? else {
            len = 0;
            break;
        };
        if line_end + 1 != len {
            len = line_end + 1;
            continue;
        }
        let line_start = match last_newline_before(file, line_end)? {
            Some(prev) => prev + 1,
            None => 0,
        };
        let mut line = vec![0; usize_of(line_end - line_start)];
        file.seek(SeekFrom::Start(line_start))?;
        file.read_exact(&mut line)?;
        // Only `seq` is needed; parsing no more keeps lines of a newer schema version (say,
        // an event type this build does not know) from being mistaken for a torn write.
        match serde_json::from_slice::<SeqOnly>(&line) {
            Ok(event) => {
                last_seq = event.seq;
                break;
            }
            Err(error) => {
                warn!(path = %path.display(), offset = line_start, %error,
                    "dropping unparsable last line of the event journal");
                len = line_start;
            }
        }
    }
    Ok(Recovered {
        len,
        last_seq,
        truncated: original - len,
    })
}

/// Offset of the last `\n` strictly before `end`, if any.
fn last_newline_before(file: &mut File, end: u64) -> std::io::Result<Option<u64>> {
    let mut hi = end;
    let mut buf = Vec::new();
    while hi > 0 {
        let lo = hi.saturating_sub(CHUNK);
        buf.resize(usize_of(hi - lo), 0);
        file.seek(SeekFrom::Start(lo))?;
        file.read_exact(&mut buf)?;
        if let Some(pos) = buf.iter().rposition(|&b| b == b'\n') {
            return Ok(Some(lo + pos as u64));
        }
        hi = lo;
    }
    Ok(None)
}

/// Converts a length that is bounded by an in-memory buffer or a line length.
fn usize_of(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{EventDraft, EventKind};
    use crate::timestamp::Timestamp;
    use std::io::Write;
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

    fn journal(content: &[u8]) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.jsonl");
        std::fs::File::create(&path)
            .unwrap()
            .write_all(content)
            .unwrap();
        (dir, path)
    }

    fn run(path: &Path) -> Recovered {
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .unwrap();
        recover(&mut file, path).unwrap()
    }

    #[test]
    fn empty_journal_starts_at_zero() {
        let (_dir, path) = journal(b"");
        assert_eq!(
            run(&path),
            Recovered {
                len: 0,
                last_seq: 0,
                truncated: 0
            }
        );
    }

    #[test]
    fn intact_journal_is_left_alone() {
        let content = format!("{}{}", line(1), line(2));
        let (_dir, path) = journal(content.as_bytes());
        let r = run(&path);
        assert_eq!(r.last_seq, 2);
        assert_eq!(r.len, content.len() as u64);
        assert_eq!(r.truncated, 0);
    }

    #[test]
    fn torn_last_line_is_truncated() {
        let good = format!("{}{}", line(1), line(2));
        let torn = line(3);
        let content = format!("{good}{}", &torn[..torn.len() / 2]);
        let (_dir, path) = journal(content.as_bytes());
        let r = run(&path);
        assert_eq!(r.last_seq, 2);
        assert_eq!(r.len, good.len() as u64);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), good);
    }

    #[test]
    fn zero_filled_tail_and_garbage_line_are_dropped() {
        let good = line(1);
        let mut content = good.clone().into_bytes();
        content.extend_from_slice(b"{\"v\":1,garbage}\n");
        content.extend_from_slice(&[0; 100]);
        let (_dir, path) = journal(&content);
        let r = run(&path);
        assert_eq!(r.last_seq, 1);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), good);
    }

    #[test]
    fn only_a_torn_line_leaves_an_empty_journal() {
        let (_dir, path) = journal(b"{\"v\":1,\"id\"");
        let r = run(&path);
        assert_eq!((r.len, r.last_seq), (0, 0));
    }

    #[test]
    fn a_last_event_of_an_unknown_type_is_kept() {
        let newer = "{\"v\":1,\"seq\":2,\"type\":\"call.teleported\"}\n";
        let content = format!("{}{newer}", line(1));
        let (_dir, path) = journal(content.as_bytes());
        let r = run(&path);
        assert_eq!((r.last_seq, r.truncated), (2, 0));
    }

    #[test]
    fn long_lines_spanning_chunks_are_found() {
        let event = EventDraft::new(EventKind::AgentRegistered {
            contacts: vec!["x".repeat(200_000)],
            expires: 60,
        })
        .into_event(Uuid::now_v7(), 9, Timestamp::now(), "n");
        let big = format!("{}\n", serde_json::to_string(&event).unwrap());
        let (_dir, path) = journal(format!("{}{big}", line(8)).as_bytes());
        assert_eq!(run(&path).last_seq, 9);
    }
}
