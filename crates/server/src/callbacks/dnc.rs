//! The global do-not-call list: a text file of E.164 numbers, one per line, `#` starting a
//! comment. It is the one global list: the scheduled callbacks check it when they claim a
//! callback and again just before the dial, and the outbound campaigns read the same file
//! (again whenever it changes). Numbers added through the API (one, or a bulk import) are
//! added to the file and removed ones are taken out of it, the comments and other lines kept;
//! each change writes a new file and renames it over the old one, so a crash never leaves a
//! half-written list.

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

    /// Adds `number`; false if it was listed already.
    pub fn add(&mut self, number: E164) -> Result<bool, DncError> {
        Ok(!self.add_all(std::slice::from_ref(&number))?.is_empty())
    }

    /// Adds `numbers` in one change of the file (read again first, so lines written there by
    /// hand are kept and count as listed); answers the numbers that were not listed before.
    pub fn add_all(&mut self, numbers: &[E164]) -> Result<Vec<E164>, DncError> {
        let mut text = match std::fs::read_to_string(&self.path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(source) => return Err(self.io(source)),
        };
        let mut listed = parse(&text, &self.path)?;
        let added: Vec<E164> = numbers
            .iter()
            .filter(|n| listed.insert((*n).clone()))
            .cloned()
            .collect();
        if !added.is_empty() {
            if !text.is_empty() && !text.ends_with('\n') {
                text.push('\n');
            }
            for number in &added {
                text.push_str(number.as_str());
                text.push('\n');
            }
            self.replace(&text)?;
        }
        self.numbers = listed;
        Ok(added)
    }

    fn io(&self, source: std::io::Error) -> DncError {
        DncError::Io {
            path: self.path.clone(),
            source,
        }
    }

    /// Writes `text` as the file: a temporary file, fsynced, renamed over it, the folder
    /// fsynced.
    fn replace(&self, text: &str) -> Result<(), DncError> {
        let mut tmp = self.path.clone().into_os_string();
        tmp.push(".tmp");
        let tmp = PathBuf::from(tmp);
        let mut file = std::fs::File::create(&tmp).map_err(|e| self.io(e))?;
        file.write_all(text.as_bytes()).map_err(|e| self.io(e))?;
        file.sync_all().map_err(|e| self.io(e))?;
        std::fs::rename(&tmp, &self.path).map_err(|e| self.io(e))?;
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            if let Ok(dir) = std::fs::File::open(dir) {
                let _ = dir.sync_all();
            }
        }
        Ok(())
    }

    /// Removes `number` (its lines are taken out of the file, read again first, which is
    /// replaced atomically); false if it was not listed.
    pub fn remove(&mut self, number: &E164) -> Result<bool, DncError> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(source) => return Err(self.io(source)),
        };
        self.numbers = parse(&text, &self.path)?;
        if !self.numbers.contains(number) {
            return Ok(false);
        }
        let kept: String = text
            .lines()
            .filter(|line| entry(line) != Some(number.as_str()))
            .map(|line| format!("{line}\n"))
            .collect();
        self.replace(&kept)?;
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
    fn a_bulk_add_writes_once_keeps_hand_written_lines_and_says_what_was_new() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("dnc.txt");
        let mut list = DncList::load(&path, false).unwrap_or_else(|e| panic!("{e}"));
        // Written by hand after the list was read, without a final newline.
        std::fs::write(&path, "# legal\n+33123456789").unwrap_or_else(|e| panic!("{e}"));
        let wanted = [
            number("+33123456789"),
            number("+4930123456"),
            number("+4930123457"),
        ];
        let added = list.add_all(&wanted).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(added, wanted[1..]);
        assert_eq!(list.numbers().count(), 3);
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        assert_eq!(text, "# legal\n+33123456789\n+4930123456\n+4930123457\n");
        let files = std::fs::read_dir(dir.path()).map_or(0, Iterator::count);
        assert_eq!(files, 1, "no temporary file is left behind");
        // Removed by hand: a removal through the list finds it gone.
        std::fs::write(&path, "+4930123456\n").unwrap_or_else(|e| panic!("{e}"));
        assert!(!list.remove(&number("+33123456789")).unwrap_or(true));
        assert!(list.remove(&number("+4930123456")).unwrap_or(false));
        assert_eq!(list.numbers().count(), 0);
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
