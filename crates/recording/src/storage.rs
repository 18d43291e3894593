//! Where recordings live on disk, and the start-up repair of files a crash left open.
//!
//! A recording of call `<id>` that started on day `YYYY-MM-DD` (UTC) is
//! `<root>/YYYY/MM/DD/<id>.wav`, with `<id>.json` (the sidecar) and, when the mixed mono file is
//! on, `<id>.mono.wav` beside it. `<root>` is the data directory's `recordings` folder. The name
//! comes only from hotline's own call id, never from anything a peer sent.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use time::OffsetDateTime;
use uuid::Uuid;

use crate::wav::{repair_wav, RepairError, RepairOutcome};

/// The files of one recording.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordingPaths {
    /// The day's folder (created by [`RecordingPaths::create_dir`]).
    pub dir: PathBuf,
    /// The stereo WAV.
    pub wav: PathBuf,
    /// The mixed mono WAV (written only when enabled).
    pub mono_wav: PathBuf,
    /// The JSON sidecar.
    pub sidecar: PathBuf,
}

impl RecordingPaths {
    /// The paths of call `call`'s recording, started at `started` (its UTC day names the folder).
    pub fn new(root: &Path, call: Uuid, started: OffsetDateTime) -> Self {
        let day = started.to_offset(time::UtcOffset::UTC);
        let dir = root
            .join(format!("{:04}", day.year()))
            .join(format!("{:02}", u8::from(day.month())))
            .join(format!("{:02}", day.day()));
        let id = call.hyphenated().to_string();
        RecordingPaths {
            wav: dir.join(format!("{id}.wav")),
            mono_wav: dir.join(format!("{id}.mono.wav")),
            sidecar: dir.join(format!("{id}.json")),
            dir,
        }
    }

    /// Creates the day's folder (and its parents) if needed.
    pub fn create_dir(&self) -> io::Result<()> {
        fs::create_dir_all(&self.dir)
    }
}

/// What the start-up repair did to one file.
#[derive(Debug)]
pub struct RepairReport {
    /// The WAV file.
    pub path: PathBuf,
    /// What was found or the reason it could not be repaired.
    pub outcome: Result<RepairOutcome, RepairError>,
}

/// Repairs every `.wav` under `root` (recursively) whose header does not match its length.
///
/// Meant for start-up, before any recording is written: a file being written concurrently
/// would be "repaired" to its current length. Returns only the files that needed work or could
/// not be read; a missing `root` is no error (nothing was ever recorded).
pub fn repair_all(root: &Path) -> io::Result<Vec<RepairReport>> {
    let mut reports = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let entries = match fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound && dir == root => return Ok(reports),
            Err(e) => return Err(e),
        };
        let mut paths: Vec<_> = entries
            .map(|e| e.map(|e| e.path()))
            .collect::<Result<_, _>>()?;
        // A stable order, so reports (and logs) come out the same way every time.
        paths.sort();
        for path in paths {
            // Symlinks are not followed: a link out of the folder is none of ours.
            let kind = fs::symlink_metadata(&path)?.file_type();
            if kind.is_dir() {
                pending.push(path);
            } else if kind.is_file() && path.extension().is_some_and(|e| e == "wav") {
                let outcome = repair_wav(&path);
                if !matches!(outcome, Ok(RepairOutcome::Intact)) {
                    reports.push(RepairReport { path, outcome });
                }
            }
        }
    }
    Ok(reports)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wav::WavWriter;
    use time::macros::datetime;

    #[test]
    fn paths_are_named_by_call_id_under_the_utc_day() {
        let call = Uuid::from_u128(0x0193_8c2e_0000_7000_8000_0000_0000_0001);
        // 01:30 in UTC+8 is still the previous day in UTC.
        let started = datetime!(2026-12-06 01:30 +8);
        let p = RecordingPaths::new(Path::new("/data/recordings"), call, started);
        assert_eq!(p.dir, Path::new("/data/recordings/2026/12/05"));
        assert_eq!(
            p.wav,
            Path::new("/data/recordings/2026/12/05/01938c2e-0000-7000-8000-000000000001.wav")
        );
        assert_eq!(
            p.sidecar.file_name().and_then(|n| n.to_str()),
            Some("01938c2e-0000-7000-8000-000000000001.json")
        );
        assert_eq!(
            p.mono_wav.file_name().and_then(|n| n.to_str()),
            Some("01938c2e-0000-7000-8000-000000000001.mono.wav")
        );
    }

    #[test]
    fn repair_all_fixes_open_files_in_every_day_and_reports_only_those() {
        let root = tempfile::tempdir().expect("tempdir");
        let started = datetime!(2026-12-06 10:00 UTC);
        let open = RecordingPaths::new(root.path(), Uuid::from_u128(1), started);
        let done = RecordingPaths::new(root.path(), Uuid::from_u128(2), started);
        let other_day = RecordingPaths::new(
            root.path(),
            Uuid::from_u128(3),
            datetime!(2026-11-30 23:59 UTC),
        );
        for p in [&open, &done, &other_day] {
            p.create_dir().expect("mkdir");
        }
        // Left open by a crash: the header still says zero frames.
        let mut w = WavWriter::create(&open.wav, 2).expect("create");
        w.write_stereo(&[[1, 2]; 100]).expect("write");
        drop(w);
        let mut w = WavWriter::create(&other_day.wav, 2).expect("create");
        w.write_stereo(&[[3, 4]; 7]).expect("write");
        drop(w);
        let mut w = WavWriter::create(&done.wav, 2).expect("create");
        w.write_stereo(&[[1, 2]; 10]).expect("write");
        w.finish().expect("finish");
        // Not a WAV at all, but named like one.
        std::fs::write(done.dir.join("junk.wav"), b"nope").expect("write");
        std::fs::write(&done.sidecar, b"{}").expect("write");

        let reports = repair_all(root.path()).expect("walks");
        let mut summary: Vec<_> = reports
            .iter()
            .map(|r| {
                let name = r.path.file_name().and_then(|n| n.to_str()).unwrap_or("");
                (
                    name.to_owned(),
                    format!("{:?}", r.outcome.as_ref().map_err(|e| e.to_string())),
                )
            })
            .collect();
        summary.sort();
        assert_eq!(summary.len(), 3, "{summary:?}");
        assert!(summary[0].0.starts_with("00000000") && summary[0].1.contains("data_bytes: 400"));
        assert!(summary[1].0.starts_with("00000000") && summary[1].1.contains("data_bytes: 28"));
        assert_eq!(summary[2].0, "junk.wav");
        assert!(summary[2].1.contains("Err"));
        let reader = hound::WavReader::open(&open.wav).expect("readable after repair");
        assert_eq!(reader.duration(), 100);
        // Nothing left to do the second time, and a missing root is an empty report.
        assert_eq!(
            repair_all(root.path()).expect("walks").len(),
            1,
            "only the junk file remains unrepairable"
        );
        assert!(repair_all(&root.path().join("absent"))
            .expect("no error")
            .is_empty());
    }
}
