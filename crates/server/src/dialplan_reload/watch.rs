//! The file watch: reloads the dialplan when its file changes.
//!
//! Polling the file's metadata once a second is enough for a file people edit by hand, works the
//! same on every platform and file system (network mounts, container volumes, where inotify
//! events may never come) and needs no extra dependency. The stamp compared is the modification
//! time, the size and the inode, all read through symlinks: an in-place write changes the first
//! two, an editor or a deploy tool that writes a new file and renames it over the old one (or
//! swaps a symlink) changes the inode. The content hash then decides whether anything changed.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use super::{DialplanReloader, Trigger};

/// How often the file's metadata is read.
pub const WATCH_INTERVAL: Duration = Duration::from_secs(1);

/// What the watch compares between two looks at the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileStamp {
    modified: Option<SystemTime>,
    len: u64,
    inode: u64,
}

async fn stamp(path: &Path) -> Option<FileStamp> {
    use std::os::unix::fs::MetadataExt;
    let meta = tokio::fs::metadata(path).await.ok()?;
    Some(FileStamp {
        modified: meta.modified().ok(),
        len: meta.len(),
        inode: meta.ino(),
    })
}

/// Looks at the dialplan file every `interval` and reloads it when its stamp changed.
pub fn spawn_file_watch(reloader: Arc<DialplanReloader>, interval: Duration) {
    let path: PathBuf = reloader.path().to_path_buf();
    tokio::spawn(async move {
        let mut seen = stamp(&path).await;
        let mut tick = tokio::time::interval(interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let now = stamp(&path).await;
            // A missing file is an editor between removing and renaming: look again later.
            if now.is_none() || now == seen {
                continue;
            }
            seen = now;
            tracing::debug!(file = %path.display(), "dialplan file changed");
            // The outcome is logged and counted by `reload`.
            let _ = reloader.reload(Trigger::FileWatch).await;
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_in_place_write_and_a_rename_over_the_file_change_its_stamp() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plan.yaml");
        std::fs::write(&path, "a").unwrap();
        let first = stamp(&path).await.unwrap();
        assert_eq!(stamp(&path).await, Some(first));

        std::fs::write(&path, "ab").unwrap();
        let written = stamp(&path).await.unwrap();
        assert_ne!(written, first);

        // Same size, same modification time: only the inode tells the renamed file apart.
        let next = dir.path().join("plan.yaml.tmp");
        std::fs::write(&next, "cd").unwrap();
        let file = std::fs::File::options().write(true).open(&next).unwrap();
        file.set_modified(written.modified.unwrap()).unwrap();
        drop(file);
        std::fs::rename(&next, &path).unwrap();
        let renamed = stamp(&path).await.unwrap();
        assert_eq!(renamed.len, written.len);
        assert_eq!(renamed.modified, written.modified);
        assert_ne!(renamed, written);

        std::fs::remove_file(&path).unwrap();
        assert_eq!(stamp(&path).await, None);
    }
}
