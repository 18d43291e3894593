//! Reading the journal by byte offset (the publisher's cursor is a byte offset).

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use super::segments::journal_files;
use super::writer::JOURNAL_FILE;
use crate::error::JournalReadError;
use crate::schema::Event;

/// One complete line of the journal and where it sits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalLine {
    /// Byte offset of the line's first byte.
    pub offset: u64,
    /// Byte offset just after the line's `\n` (where the next line starts).
    pub end: u64,
    /// The JSON text, without the `\n`.
    pub text: String,
}

impl JournalLine {
    /// Parses the line as an event.
    pub fn parse(&self) -> Result<Event, JournalReadError> {
        serde_json::from_str(&self.text).map_err(|source| JournalReadError::Invalid {
            offset: self.offset,
            source,
        })
    }
}

/// Reads complete lines of a journal file from any byte offset.
#[derive(Debug)]
pub struct JournalReader {
    path: PathBuf,
    file: File,
}

impl JournalReader {
    /// Opens the journal at `path` for reading.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, JournalReadError> {
        let path = path.as_ref().to_path_buf();
        let file = File::open(&path).map_err(|source| JournalReadError::Io {
            path: path.clone(),
            source,
        })?;
        Ok(Self { path, file })
    }

    /// Reads the complete lines that start at `offset` and end at or before `end`, stopping
    /// after roughly `max_bytes` (at least one line is returned if one is available).
    ///
    /// `offset` must be a line boundary (0 or the `end` of a previous line).
    pub fn read_lines(
        &mut self,
        offset: u64,
        end: u64,
        max_bytes: usize,
    ) -> Result<Vec<JournalLine>, JournalReadError> {
        let mut lines = Vec::new();
        if offset >= end {
            return Ok(lines);
        }
        let available = end - offset;
        let mut want = u64::try_from(max_bytes.max(1))
            .unwrap_or(u64::MAX)
            .min(available);
        let buf = loop {
            let buf = self.read_at(offset, want)?;
            // Grow the read until it holds at least one whole line (or everything there is).
            if buf.contains(&b'\n') || want == available {
                break buf;
            }
            want = want.saturating_mul(2).min(available);
        };
        let mut start = 0usize;
        while let Some(pos) = buf[start..].iter().position(|&b| b == b'\n') {
            let stop = start + pos;
            let text = String::from_utf8_lossy(&buf[start..stop]).into_owned();
            lines.push(JournalLine {
                offset: offset + start as u64,
                end: offset + stop as u64 + 1,
                text,
            });
            start = stop + 1;
        }
        Ok(lines)
    }

    /// Current length of the file.
    pub fn file_len(&self) -> Result<u64, JournalReadError> {
        self.file
            .metadata()
            .map(|m| m.len())
            .map_err(|source| JournalReadError::Io {
                path: self.path.clone(),
                source,
            })
    }

    fn read_at(&mut self, offset: u64, len: u64) -> Result<Vec<u8>, JournalReadError> {
        let io = |source| JournalReadError::Io {
            path: self.path.clone(),
            source,
        };
        self.file.seek(SeekFrom::Start(offset)).map_err(io)?;
        let mut buf = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
        (&mut self.file)
            .take(len)
            .read_to_end(&mut buf)
            .map_err(|source| JournalReadError::Io {
                path: self.path.clone(),
                source,
            })?;
        Ok(buf)
    }
}

/// Reads every complete event of the journal at `path`, in order (for replay and tests).
///
/// If `path` is a live `events.jsonl`, the rotated segments beside it are read first, so the
/// result is the whole journal; any other file is read alone.
pub fn read_journal(path: impl AsRef<Path>) -> Result<Vec<Event>, JournalReadError> {
    let path = path.as_ref();
    match path.parent() {
        Some(dir) if path.file_name() == Some(std::ffi::OsStr::new(JOURNAL_FILE)) => {
            read_journal_dir(dir)
        }
        _ => {
            let mut events = Vec::new();
            read_file_into(path, &mut events)?;
            Ok(events)
        }
    }
}

/// Reads every complete event of the journal in `dir`: all rotated segments, oldest first,
/// then the live file (a missing live file counts as empty).
pub fn read_journal_dir(dir: impl AsRef<Path>) -> Result<Vec<Event>, JournalReadError> {
    let dir = dir.as_ref();
    let files = journal_files(dir).map_err(|source| JournalReadError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut events = Vec::new();
    let last = files.len().saturating_sub(1);
    for (i, (_, path)) in files.iter().enumerate() {
        match read_file_into(path, &mut events) {
            Err(JournalReadError::Io { source, .. })
                if i == last && source.kind() == std::io::ErrorKind::NotFound => {}
            other => other?,
        }
    }
    Ok(events)
}

/// Appends the complete events of one journal file to `events`.
pub(crate) fn read_file_into(path: &Path, events: &mut Vec<Event>) -> Result<(), JournalReadError> {
    let mut reader = JournalReader::open(path)?;
    let end = reader.file_len()?;
    let mut offset = 0;
    loop {
        let lines = reader.read_lines(offset, end, 1 << 20)?;
        let Some(last) = lines.last() else {
            return Ok(());
        };
        offset = last.end;
        for line in &lines {
            events.push(line.parse()?);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file_with(content: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.jsonl");
        std::fs::write(&path, content).unwrap();
        (dir, path)
    }

    #[test]
    fn reads_complete_lines_with_offsets() {
        let (_dir, path) = file_with("aa\nbbb\ncc");
        let mut r = JournalReader::open(&path).unwrap();
        let lines = r.read_lines(0, 9, 100).unwrap();
        assert_eq!(lines.len(), 2);
        assert_eq!(
            (lines[0].offset, lines[0].end, &*lines[0].text),
            (0, 3, "aa")
        );
        assert_eq!(
            (lines[1].offset, lines[1].end, &*lines[1].text),
            (3, 7, "bbb")
        );
        assert!(r.read_lines(7, 9, 100).unwrap().is_empty());
    }

    #[test]
    fn respects_the_end_bound_and_byte_budget() {
        let (_dir, path) = file_with("aa\nbbb\ncc\n");
        let mut r = JournalReader::open(&path).unwrap();
        assert_eq!(r.read_lines(0, 3, 100).unwrap().len(), 1);
        // A budget smaller than a line still yields that line.
        let lines = r.read_lines(3, 10, 1).unwrap();
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0].text, "bbb");
        assert_eq!(r.read_lines(7, 10, 100).unwrap()[0].text, "cc");
    }
}
