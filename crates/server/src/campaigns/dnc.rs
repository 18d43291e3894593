//! The global do-not-call list as its readers see it, the scheduled callbacks and the campaigns
//! alike: one file (numbers added through `/api/v1/dnc` land there), read again whenever it
//! changes on disk (a number written there by hand is blocked at the next dial), so a number
//! listed for callbacks is never dialed by a campaign either.

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

    /// Changes the list with `f` (the list read again first when the file changed; the
    /// changes read the file again themselves and replace it atomically).
    pub fn change<T>(
        &mut self,
        f: impl FnOnce(&mut DncList) -> Result<T, DncError>,
    ) -> Result<T, DncError> {
        self.current();
        let out = f(&mut self.list);
        self.stamp = stamp(&self.path);
        out
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

    #[test]
    fn a_change_starts_from_the_file_as_it_is_and_every_reader_sees_it() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("dnc.txt");
        let mut dnc = SharedDnc::load(&path, false).unwrap_or_else(|e| panic!("{e}"));
        let by_hand = E164::parse("+33123456789").unwrap_or_else(|e| panic!("{e}"));
        let by_api = E164::parse("+4930123456").unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(&path, "+33123456789\n").unwrap_or_else(|e| panic!("{e}"));
        let added = dnc
            .change(|l| l.add_all(&[by_hand.clone(), by_api.clone()]))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(added, std::slice::from_ref(&by_api));
        assert!(dnc.current().blocks(&by_hand) && dnc.current().blocks(&by_api));
        let mut other = SharedDnc::load(&path, true).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(other.current().numbers().count(), 2);
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        assert_eq!(text, "+33123456789\n+4930123456\n");
    }
}
