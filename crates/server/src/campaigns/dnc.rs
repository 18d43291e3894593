//! The global do-not-call list as the campaigns see it: the same file as the scheduled
//! callbacks' list (numbers added through `/api/v1/dnc` land there), read again whenever it
//! changes on disk, so a number listed for callbacks is never dialed by a campaign either.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::callbacks::dnc::{DncError, DncList};

/// The list and the file it comes from.
#[derive(Debug)]
pub struct SharedDnc {
    path: PathBuf,
    required: bool,
    list: DncList,
    stamp: Option<(SystemTime, u64)>,
}

fn stamp(path: &Path) -> Option<(SystemTime, u64)> {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.modified().ok()?, meta.len()))
}

impl SharedDnc {
    /// Reads the list; a missing file is an empty list unless `required`.
    pub fn load(path: &Path, required: bool) -> Result<Self, DncError> {
        let stamp = stamp(path);
        let list = DncList::load(path, required)?;
        Ok(Self {
            path: path.to_path_buf(),
            required,
            list,
            stamp,
        })
    }

    /// The list as the file says now (read again when its time or size changed; a file that
    /// no longer reads keeps the last good list, with a warning).
    pub fn current(&mut self) -> &DncList {
        let now = stamp(&self.path);
        if now != self.stamp {
            match DncList::load(&self.path, self.required) {
                Ok(list) => {
                    self.list = list;
                    self.stamp = now;
                }
                Err(e) => tracing::warn!("campaigns: do-not-call list kept as it was: {e}"),
            }
        }
        &self.list
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hotline_campaigns::{DoNotCall, E164};

    #[test]
    fn a_number_written_to_the_file_later_is_blocked() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("dnc.txt");
        let mut dnc = SharedDnc::load(&path, false).unwrap_or_else(|e| panic!("{e}"));
        let number = E164::parse("+442079460001").unwrap_or_else(|e| panic!("{e}"));
        assert!(!dnc.current().blocks(&number));
        std::fs::write(&path, "# listed later\n+442079460001\n").unwrap_or_else(|e| panic!("{e}"));
        assert!(dnc.current().blocks(&number));
    }
}
