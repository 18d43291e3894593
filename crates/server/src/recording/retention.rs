//! Retention: recordings older than their queue's `retention_days` are deleted (the WAV, the
//! mono mix and the sidecar), each with a `recording.deleted` event; at start and then
//! periodically.

use std::sync::Arc;
use std::time::Duration;

use hotline_events::{EventDraft, EventKind};
use time::OffsetDateTime;

use super::{lock, Recordings};

/// How often retention runs after the start.
pub const SWEEP_EVERY: Duration = Duration::from_secs(3600);

/// One recording retention deleted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deleted {
    /// The WAV file, relative to the recordings folder.
    pub file: String,
    /// Its age in days.
    pub age_days: u32,
}

impl Recordings {
    /// Deletes the recordings past their queue's retention at `now`; returns them.
    pub fn sweep(&self, now: OffsetDateTime) -> Vec<Deleted> {
        let due: Vec<_> = lock(&self.index)
            .entries()
            .filter_map(|e| {
                let queue = e.meta.queue.as_deref()?;
                let days = self.queues.get(queue)?.retention_days?;
                let age = now - e.meta.ended_at;
                let age_days = u32::try_from(age.whole_days()).unwrap_or(0);
                (age > time::Duration::days(i64::from(days))).then(|| (e.clone(), age_days))
            })
            .collect();
        let mut deleted = Vec::new();
        for (entry, age_days) in due {
            let wav = entry.wav();
            let mut failed = None;
            for path in [&wav, &entry.mono_wav(), &entry.sidecar] {
                match std::fs::remove_file(path) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => failed = Some(format!("{}: {e}", path.display())),
                }
            }
            if let Some(error) = failed {
                tracing::warn!("recording past retention not deleted: {error}");
                continue;
            }
            lock(&self.index).remove(entry.meta.call_id);
            let file = wav
                .strip_prefix(&self.root)
                .map(|p| p.to_string_lossy().into_owned())
                .unwrap_or_default();
            tracing::info!(%file, age_days, "recording deleted by retention");
            self.metrics.count("deleted");
            let mut draft = EventDraft::new(EventKind::RecordingDeleted {
                file: file.clone(),
                age_days,
            })
            .call(entry.meta.call_id);
            if let Some(q) = &entry.meta.queue {
                draft = draft.queue(q.clone());
            }
            if let Some(a) = &entry.meta.agent {
                draft = draft.agent(a.clone());
            }
            self.events.emit(draft);
            deleted.push(Deleted { file, age_days });
        }
        deleted
    }
}

/// Runs retention now and then every `every`.
pub fn spawn(recordings: Arc<Recordings>, every: Duration) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            let r = recordings.clone();
            // Deleting files is blocking I/O.
            let _ = tokio::task::spawn_blocking(move || r.sweep(OffsetDateTime::now_utc())).await;
        }
    });
}
