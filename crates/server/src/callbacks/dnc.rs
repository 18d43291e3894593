//! The do-not-call list: a text file of E.164 numbers, one per line, `#` starting a comment.
//! The scheduler checks it when it claims a callback and again just before the dial; numbers
//! added through the API are appended to the file, removed ones are taken out of it (the
//! comments and other lines are kept), so the list survives a restart.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};

use hotline_campaigns::{DoNotCall, E164};

/// Why the list could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum DncError {
    /// The file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What failed.
        source: std::io::Error,
    },
    /// A line is not an E.164 number.
    #[error("{path}:{line}: {text:?} is not an E.164 number (+ then 2 to 15 digits)")]
    BadNumber {
        /// The file.
        path: PathBuf,
        /// The 1-based line.
        line: usize,
        /// What it says.
        text: String,
    },
}

/// The list and the file it lives in.
#[derive(Debug, Clone, Default)]
pub struct DncList {
    numbers: BTreeSet<E164>,
    path: PathBuf,
}

impl DoNotCall for DncList {
    fn blocks(&self, number: &E164) -> bool {
        self.numbers.contains(number)
    }
}

impl DncList {
    /// Reads the list from `path`; a missing file is an empty list unless `required`.
    pub fn load(path: &Path, required: bool) -> Result<Self, DncError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if !required && e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(source) => {
                return Err(DncError::Io {
                    path: path.to_path_buf(),
                    source,
                })
            }
        };
        let numbers = parse(&text, path)?;
        Ok(Self {
            numbers,
            path: path.to_path_buf(),
        })
    }

    /// The numbers, in order.
    pub fn numbers(&self) -> impl Iterator<Item = &E164> {
        self.numbers.iter()
    }

    /// Adds `number` (appended to the file, fsynced); false if it was listed already.
    pub fn add(&mut self, number: E164) -> Result<bool, DncError> {
        if self.numbers.contains(&number) {
            return Ok(false);
        }
        let io = |source| DncError::Io {
            path: self.path.clone(),
            source,
        };
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .map_err(io)?;
        // A file whose last line has no newline gets one first.
        let ends_open = std::fs::read(&self.path)
            .map(|b| b.last().is_some_and(|c| *c != b'\n'))
            .unwrap_or(false);
        let line = format!("{}{}\n", if ends_open { "\n" } else { "" }, number.as_str());
        file.write_all(line.as_bytes()).map_err(io)?;
        file.sync_all().map_err(io)?;
        self.numbers.insert(number);
        Ok(true)
    }

    /// Removes `number` (its lines are taken out of the file, which is replaced atomically);
    /// false if it was not listed.
    pub fn remove(&mut self, number: &E164) -> Result<bool, DncError> {
        if !self.numbers.contains(number) {
            return Ok(false);
        }
        let io = |source| DncError::Io {
            path: self.path.clone(),
            source,
        };
        let text = std::fs::read_to_string(&self.path).map_err(io)?;
        let kept: String = text
            .lines()
            .filter(|line| entry(line) != Some(number.as_str()))
            .map(|line| format!("{line}\n"))
            .collect();
        let tmp = self.path.with_extension("tmp");
        let mut file = std::fs::File::create(&tmp).map_err(io)?;
        file.write_all(kept.as_bytes()).map_err(io)?;
        file.sync_all().map_err(io)?;
        std::fs::rename(&tmp, &self.path).map_err(io)?;
        self.numbers.remove(number);
        Ok(true)
    }
}

/// The number a line lists, if any (comments and blanks list none).
fn entry(line: &str) -> Option<&str> {
    let text = line.split('#').next().unwrap_or("").trim();
    (!text.is_empty()).then_some(text)
}

/// Reads the numbers of a list's text.
fn parse(text: &str, path: &Path) -> Result<BTreeSet<E164>, DncError> {
    let mut numbers = BTreeSet::new();
    for (i, line) in text.lines().enumerate() {
        let Some(text) = entry(line) else {
            continue;
        };
        let number = E164::parse(text).map_err(|_| DncError::BadNumber {
            path: path.to_path_buf(),
            line: i + 1,
            text: text.to_string(),
        })?;
        numbers.insert(number);
    }
    Ok(numbers)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn number(text: &str) -> E164 {
        E164::parse(text).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn the_file_lists_numbers_with_comments_and_blank_lines() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("dnc.txt");
        std::fs::write(
            &path,
            "# opted out\n+8613800138000  # by phone\n\n+33123456789",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let mut list = DncList::load(&path, true).unwrap_or_else(|e| panic!("{e}"));
        assert!(list.blocks(&number("+8613800138000")));
        assert!(list.blocks(&number("+33123456789")));
        assert!(!list.blocks(&number("+33123456780")));
        assert!(list.add(number("+4930123456")).unwrap_or(false));
        assert!(!list.add(number("+4930123456")).unwrap_or(true));
        assert!(list.remove(&number("+8613800138000")).unwrap_or(false));
        let again = DncList::load(&path, true).unwrap_or_else(|e| panic!("{e}"));
        let listed: Vec<&str> = again.numbers().map(E164::as_str).collect();
        assert_eq!(listed, ["+33123456789", "+4930123456"]);
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(text.starts_with("# opted out\n"), "{text}");
    }

    #[test]
    fn a_bad_line_is_named_and_a_missing_file_is_empty_unless_required() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("dnc.txt");
        assert!(DncList::load(&path, false).is_ok_and(|l| l.numbers().count() == 0));
        assert!(DncList::load(&path, true).is_err());
        std::fs::write(&path, "+33123456789\n0612345678\n").unwrap_or_else(|e| panic!("{e}"));
        let err = DncList::load(&path, true).err().map(|e| e.to_string());
        assert!(
            err.as_deref()
                .is_some_and(|e| e.contains(":2: \"0612345678\"")),
            "{err:?}"
        );
    }
}
