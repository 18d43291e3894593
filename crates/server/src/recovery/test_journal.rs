//! What the recovery projections' tests share: a test journal (each event of the machine under
//! test with another component's event after it), the recovery state a restart reads from a
//! snapshot and the journal's tail, and journal files on disk as retention leaves them.

use std::path::Path;

use hotline_events::{AgentState, Event, EventDraft, EventKind, Timestamp};
use uuid::Uuid;

use super::RecoveryState;

/// 2026-12-07T02:00:00Z, the tests' time origin.
const START: i64 = 1_796_608_800;

/// The instant `second` seconds after the tests' time origin.
pub(super) fn at(second: i64) -> jiff::Timestamp {
    // Invariant: the tests' instants are a few hours after 2026-12-07.
    jiff::Timestamp::from_second(START + second).unwrap_or_else(|e| panic!("{e}"))
}

/// The journal of `drafts` (each written at its time): numbered from 1, each followed by an
/// agent going not ready, as another component writes between two of the machine's events.
pub(super) fn with_others_between(
    drafts: impl IntoIterator<Item = (EventDraft, Timestamp)>,
) -> Vec<Event> {
    let mut journal = Vec::new();
    for (draft, ts) in drafts {
        let seq = journal.len() as u64 + 1;
        journal.push(draft.into_event(Uuid::from_u128(u128::from(seq)), seq, ts, "n"));
        let seq = seq + 1;
        let other = EventDraft::new(EventKind::AgentStateChanged {
            from: AgentState::Ready,
            to: AgentState::NotReady,
            reason: Some("lunch".into()),
        })
        .agent("1001");
        journal.push(other.into_event(Uuid::from_u128(u128::from(seq)), seq, ts, "n"));
    }
    journal
}

/// Where a property test cuts a journal of `len` events: the snapshot covers the first
/// `snapshot` (`snapshot_at` of them), and retention deleted the first `deleted` of those
/// (`deleted_at` of what the snapshot covers).
pub(super) fn cut(len: usize, snapshot_at: f64, deleted_at: f64) -> (usize, usize) {
    let snapshot = (len as f64 * snapshot_at) as usize;
    let deleted = (snapshot as f64 * deleted_at) as usize;
    (snapshot, deleted)
}

/// The recovery state a restart reads: the events up to `snapshot` folded and saved as JSON,
/// then the journal's tail applied.
pub(super) fn snapshot_plus_tail(journal: &[Event], snapshot: usize) -> RecoveryState {
    let mut state = RecoveryState::default();
    for event in &journal[..snapshot] {
        state.apply(event);
    }
    let saved = serde_json::to_value(&state).unwrap_or_else(|e| panic!("{e}"));
    let mut state: RecoveryState = serde_json::from_value(saved).unwrap_or_else(|e| panic!("{e}"));
    for event in &journal[snapshot..] {
        state.apply(event);
    }
    state
}

/// Whether `events` are in journal order, each once.
pub(super) fn in_journal_order(events: &[&Event]) -> bool {
    events.windows(2).all(|w| w[0].seq < w[1].seq)
}

/// Writes `events` as the journal file `name` in `dir`, one JSON line each.
fn write_journal(dir: &Path, name: &str, events: &[Event]) {
    let text: String = events
        .iter()
        .map(|e| {
            format!(
                "{}\n",
                serde_json::to_string(e).unwrap_or_else(|e| panic!("{e}"))
            )
        })
        .collect();
    std::fs::write(dir.join(name), text).unwrap_or_else(|e| panic!("{e}"));
}

/// The journal of the first `old` events in a closed segment and the rest in the live file;
/// then a start, which saves the snapshot: the recovery state it saved.
pub(super) fn start_with_old_segment(dir: &Path, journal: &[Event], old: usize) -> RecoveryState {
    let (old, live) = journal.split_at(old);
    write_journal(dir, OLD_SEGMENT, old);
    write_journal(dir, "events.jsonl", live);
    let state = RecoveryState::load(dir).unwrap_or_else(|e| panic!("{e}"));
    state.save(dir).unwrap_or_else(|e| panic!("{e}"));
    state
}

/// Retention deletes the closed segment the snapshot covers.
pub(super) fn delete_old_segment(dir: &Path) {
    std::fs::remove_file(dir.join(OLD_SEGMENT)).unwrap_or_else(|e| panic!("{e}"));
}

/// The closed segment of [`start_with_old_segment`].
const OLD_SEGMENT: &str = "events-000001.jsonl";

/// `journal` as the live journal file, with a snapshot at `seq` written by a version that kept
/// none of the outbound projections; the recovery state a start then reads.
pub(super) fn load_with_older_snapshot(dir: &Path, journal: &[Event], seq: u64) -> RecoveryState {
    write_journal(dir, "events.jsonl", journal);
    let old = serde_json::json!({"open_calls": {}, "not_ready": {}, "seq": seq});
    hotline_events::write_snapshot(dir, seq, &old).unwrap_or_else(|e| panic!("{e}"));
    RecoveryState::load(dir).unwrap_or_else(|e| panic!("{e}"))
}

mod tests {
    use super::*;

    fn drafts(n: u32) -> Vec<(EventDraft, Timestamp)> {
        (0..n)
            .map(|i| {
                let draft = EventDraft::new(EventKind::AgentStateChanged {
                    from: AgentState::NotReady,
                    to: AgentState::Ready,
                    reason: None,
                })
                .agent(format!("20{i:02}"));
                (
                    draft,
                    crate::callbacks::journal::wire_time(at(i64::from(i))),
                )
            })
            .collect()
    }

    #[test]
    fn the_test_journal_numbers_from_one_with_another_event_after_each() {
        let journal = with_others_between(drafts(3));
        let seqs: Vec<u64> = journal.iter().map(|e| e.seq).collect();
        assert_eq!(seqs, [1, 2, 3, 4, 5, 6]);
        let agents: Vec<Option<&str>> = journal.iter().map(|e| e.agent_id.as_deref()).collect();
        assert_eq!(
            agents,
            [
                Some("2000"),
                Some("1001"),
                Some("2001"),
                Some("1001"),
                Some("2002"),
                Some("1001")
            ]
        );
        assert!(in_journal_order(&journal.iter().collect::<Vec<_>>()));
        assert!(!in_journal_order(&[&journal[1], &journal[1]]));
    }

    #[test]
    fn a_cut_deletes_only_what_the_snapshot_covers() {
        assert_eq!(cut(10, 0.5, 1.0), (5, 5));
        assert_eq!(cut(10, 1.0, 0.25), (10, 2));
        assert_eq!(cut(0, 1.0, 1.0), (0, 0));
    }

    #[test]
    fn a_snapshot_plus_its_tail_is_the_state_of_the_whole_journal() {
        let journal = with_others_between(drafts(4));
        let mut whole = RecoveryState::default();
        for event in &journal {
            whole.apply(event);
        }
        let whole = serde_json::to_value(&whole).unwrap_or_else(|e| panic!("{e}"));
        for snapshot in 0..=journal.len() {
            let state = snapshot_plus_tail(&journal, snapshot);
            let state = serde_json::to_value(&state).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(state, whole, "snapshot after {snapshot} events");
        }
    }

    #[test]
    fn a_start_with_an_old_segment_reads_both_files_and_retention_deletes_the_old_one() {
        let journal = with_others_between(drafts(3));
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let state = start_with_old_segment(dir.path(), &journal, 4);
        assert_eq!(state.seq, 6, "the snapshot covers both files");
        assert!(dir.path().join(OLD_SEGMENT).exists());
        delete_old_segment(dir.path());
        assert!(!dir.path().join(OLD_SEGMENT).exists());
        assert!(dir.path().join("events.jsonl").exists());
    }
}
