//! The running dialplan, shared by the endpoint (which starts calls on it) and the reloader
//! (which swaps in new versions).

use std::sync::{Arc, PoisonError, RwLock};

use hotline_dialplan::Dialplan;
use hotline_events::{EventDraft, EventKind, Timestamp};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// One version of the dialplan as loaded, with what tells it apart from the others.
#[derive(Debug)]
pub struct LoadedDialplan {
    /// 1 for the dialplan read at start, one more for each reload that changed it.
    pub version: u64,
    /// SHA-256 of the file content, hex (compare with `sha256sum FILE`).
    pub hash: String,
    /// When this version was loaded.
    pub loaded_at: Timestamp,
    /// The validated dialplan.
    pub plan: Arc<Dialplan>,
}

impl LoadedDialplan {
    /// The `dialplan.loaded` event that says which file content this version is.
    pub fn loaded_event(&self) -> EventDraft {
        EventDraft::new(EventKind::DialplanLoaded {
            version: self.version,
            hash: self.hash.clone(),
            file: self.plan.file().display().to_string(),
        })
    }

    /// What the API and the logs say about this version.
    pub fn summary(&self) -> VersionSummary {
        VersionSummary {
            version: self.version,
            hash: self.hash.clone(),
            loaded_at: self.loaded_at,
            file: self.plan.file().display().to_string(),
        }
    }
}

/// A version of the dialplan as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VersionSummary {
    /// Version number (1, 2, ... per process).
    pub version: u64,
    /// SHA-256 of the file content, hex.
    pub hash: String,
    /// When it was loaded.
    pub loaded_at: Timestamp,
    /// The file it was read from.
    pub file: String,
}

/// The dialplan new calls start on. A call takes the current version once, at its start, and
/// keeps that `Arc` to its end, so a reload never changes a call in progress.
#[derive(Clone, Debug)]
pub struct DialplanHolder {
    current: Arc<RwLock<Arc<LoadedDialplan>>>,
}

impl DialplanHolder {
    /// Holds `plan`, read from content `source`, as version 1.
    pub fn new(plan: Dialplan, source: &str) -> Self {
        let first = LoadedDialplan {
            version: 1,
            hash: content_hash(source),
            loaded_at: Timestamp::now(),
            plan: Arc::new(plan),
        };
        Self {
            current: Arc::new(RwLock::new(Arc::new(first))),
        }
    }

    /// The version new calls start on now.
    pub fn current(&self) -> Arc<LoadedDialplan> {
        // The lock only guards an `Arc` swap, which cannot leave it half written.
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Makes `plan` (content hash `hash`) the next version; returns it. `announce` runs before
    /// any call can take the new version (e.g. to journal it ahead of their events).
    pub(super) fn install(
        &self,
        plan: Dialplan,
        hash: String,
        announce: impl FnOnce(&LoadedDialplan),
    ) -> Arc<LoadedDialplan> {
        let mut current = self.current.write().unwrap_or_else(PoisonError::into_inner);
        let next = Arc::new(LoadedDialplan {
            version: current.version + 1,
            hash,
            loaded_at: Timestamp::now(),
            plan: Arc::new(plan),
        });
        announce(&next);
        *current = next.clone();
        next
    }
}

/// SHA-256 of a dialplan's text, lowercase hex.
pub fn content_hash(source: &str) -> String {
    Sha256::digest(source.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use hotline_dialplan::ValidationContext;

    const PLAN: &str =
        "version: 1\nnumbers:\n  \"200\":\n    start: q\n    nodes:\n      q: { queue: support }\n";

    fn parse(source: &str) -> Dialplan {
        Dialplan::parse(source, "test.yaml", &ValidationContext::default()).unwrap()
    }

    #[test]
    fn a_call_keeps_the_version_it_took_while_new_calls_get_the_next() {
        let holder = DialplanHolder::new(parse(PLAN), PLAN);
        let taken_by_call = holder.current();
        let other = PLAN.replace("support", "billing");
        let mut announced = None;
        let installed = holder.install(parse(&other), content_hash(&other), |v| {
            announced = Some(v.version);
        });
        assert_eq!(announced, Some(2));
        assert_eq!(taken_by_call.version, 1);
        assert!(taken_by_call.plan.queues_used().contains("support"));
        assert_eq!(installed.version, 2);
        assert_eq!(holder.current().version, 2);
        assert!(holder.current().plan.queues_used().contains("billing"));
    }

    #[test]
    fn the_hash_is_the_sha256_of_the_content() {
        assert_eq!(
            content_hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
