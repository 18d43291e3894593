use std::collections::BTreeMap;

use hotline_campaigns::sampling::SamplingDecision;
use hotline_campaigns::{
    AgentName, Callback, CallbackId, CallbackSpec, DialOutcome, DueWindow, GiveUpReason,
    HoldReason, OutcomeKind, QueueName, ReleaseReason, Scheduler, SchedulerConfig, SkillName, Zone,
    E164,
};
use proptest::prelude::*;

use super::*;
use crate::recovery::test_journal::{
    at, cut, delete_old_segment, in_journal_order, load_with_older_snapshot, snapshot_plus_tail,
    start_with_old_segment, with_others_between,
};

fn callback_id(k: u8) -> CallbackId {
    CallbackId(0x0193_5b7e_1c2d_7abc_8def_0000_0000_0000 + u128::from(k))
}

fn spec(variant: u8, created: i64) -> CallbackSpec {
    CallbackSpec {
        number: E164::parse("+33612345678").unwrap_or_else(|e| panic!("{e}")),
        time_zone: variant
            .is_multiple_of(2)
            .then(|| Zone::new("Europe/Paris").unwrap_or_else(|e| panic!("{e}"))),
        reason: "complaint".into(),
        attributes: BTreeMap::from([("ticket".to_string(), variant.to_string())]),
        queue: QueueName::new("support"),
        skills: vec![SkillName::new("french")],
        priority: i32::from(variant % 3),
        due: DueWindow {
            not_before: at(created + i64::from(variant) * 60),
            deadline: (!variant.is_multiple_of(4)).then(|| at(created + 3_600)),
        },
        sampling: variant.is_multiple_of(3).then(|| SamplingDecision {
            month: "2026-12".into(),
            rules: vec!["complaints".into()],
            kept: true,
        }),
    }
}

/// Where a generated callback is in its life.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Life {
    New,
    Open { attempts: u32 },
    Ended,
}

/// The scheduler events of `steps` (callback, operation, variant): a callback is created by
/// its first step and gets nothing after it ended, as the live scheduler writes them.
fn scheduler_events(steps: &[(u8, u8, u8)]) -> Vec<CallbackEvent> {
    let mut life = BTreeMap::new();
    let mut out = Vec::new();
    for (i, &(k, op, variant)) in steps.iter().enumerate() {
        let t = i64::try_from(i).unwrap_or(0) * 7;
        let id = callback_id(k);
        let now = at(t);
        let state = life.entry(k).or_insert(Life::New);
        let event = match *state {
            Life::Ended => continue,
            Life::New => {
                *state = Life::Open { attempts: 0 };
                CallbackEvent::Created {
                    id,
                    at: now,
                    callback: Box::new(spec(variant, t)),
                }
            }
            Life::Open { attempts } => match op {
                0 => CallbackEvent::Held {
                    id,
                    at: now,
                    reason: HoldReason::UnknownTimeZone,
                },
                1 => CallbackEvent::TimeZoneSet {
                    id,
                    at: now,
                    time_zone: Zone::new("Asia/Shanghai").unwrap_or_else(|e| panic!("{e}")),
                },
                2 | 3 => CallbackEvent::Claimed {
                    id,
                    at: now,
                    queue: QueueName::new("support"),
                    skills: vec![],
                    priority: i32::from(variant),
                },
                4 => CallbackEvent::ClaimReleased {
                    id,
                    at: now,
                    reason: ReleaseReason::NoAgent,
                },
                5 | 6 => {
                    *state = Life::Open {
                        attempts: attempts + 1,
                    };
                    CallbackEvent::AttemptStarted {
                        id,
                        at: now,
                        attempt: attempts + 1,
                        agent: AgentName::new("1001"),
                        number: E164::parse("+33612345678").unwrap_or_else(|e| panic!("{e}")),
                        caller_id: None,
                        ring_timeout_ms: 30_000,
                    }
                }
                7 | 8 => CallbackEvent::AttemptEnded {
                    id,
                    at: now,
                    attempt: attempts,
                    outcome: DialOutcome::of(if variant.is_multiple_of(2) {
                        OutcomeKind::Busy
                    } else {
                        OutcomeKind::NoAnswer
                    }),
                    retry_at: Some(at(t + 600)),
                },
                9 => CallbackEvent::DeadlineWarning {
                    id,
                    at: now,
                    deadline: at(t + 1_800),
                    lead_ms: 1_800_000,
                },
                10 => CallbackEvent::MissedDeadline {
                    id,
                    at: now,
                    deadline: now,
                },
                11 => {
                    *state = Life::Ended;
                    CallbackEvent::Completed {
                        id,
                        at: now,
                        attempt: attempts,
                        within_deadline: variant.is_multiple_of(2),
                    }
                }
                12 => {
                    *state = Life::Ended;
                    CallbackEvent::Cancelled { id, at: now }
                }
                _ => {
                    *state = Life::Ended;
                    CallbackEvent::GivenUp {
                        id,
                        at: now,
                        reason: GiveUpReason::AttemptsExhausted,
                        attempts,
                    }
                }
            },
        };
        out.push(event);
    }
    out
}

/// The journal: each scheduler event through the driver's mapping, with other events between.
fn journal_of(events: &[CallbackEvent]) -> Vec<Event> {
    let queue = QueueName::new("support");
    with_others_between(events.iter().map(|event| {
        let draft = journal::to_draft(event, Some(&queue), None);
        (draft, journal::wire_time(at(0)))
    }))
}

fn restore(events: &[&Event]) -> Scheduler {
    let mapped: Vec<CallbackEvent> = events
        .iter()
        .filter_map(|e| journal::from_event(e).unwrap_or_else(|e| panic!("{e}")))
        .collect();
    Scheduler::restore(SchedulerConfig::default(), &mapped).unwrap_or_else(|e| panic!("{e}"))
}

/// The open callbacks in dial order, their creation numbers replaced by their rank (a journal
/// cut short of ended callbacks numbers the rest from 0 again).
fn open_in_dial_order(scheduler: &Scheduler) -> Vec<Callback> {
    scheduler
        .list(&hotline_campaigns::ListFilter::default())
        .into_iter()
        .filter(|cb| !cb.state.is_terminal())
        .enumerate()
        .map(|(rank, cb)| Callback {
            seq: rank as u64,
            ..cb.clone()
        })
        .collect()
}

fn steps() -> impl Strategy<Value = Vec<(u8, u8, u8)>> {
    prop::collection::vec((0u8..5, 0u8..14, 0u8..12), 0..60)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Whatever retention deleted of what a snapshot covers, the scheduler restored from the
    /// snapshot, its tail and what is left of the journal has the open callbacks of the one
    /// restored from the whole journal, in the same dial order; with nothing deleted, the very
    /// same book.
    #[test]
    fn restore_from_snapshot_and_tail_equals_restore_from_the_whole_journal(
        steps in steps(),
        snapshot_at in 0.0f64..=1.0,
        deleted_at in 0.0f64..=1.0,
    ) {
        let journal = journal_of(&scheduler_events(&steps));
        let (snapshot, deleted) = cut(journal.len(), snapshot_at, deleted_at);
        let whole = restore(&journal.iter().collect::<Vec<_>>());
        let state = snapshot_plus_tail(&journal, snapshot);
        let open = state.scheduled.clone().unwrap_or_default();
        let merged = merge(&open, &journal[deleted..]);
        // Journal order, each event once.
        prop_assert!(in_journal_order(&merged));
        let restored = restore(&merged);
        prop_assert_eq!(open_in_dial_order(&restored), open_in_dial_order(&whole));
        let open_ids: Vec<CallbackId> = open_in_dial_order(&whole).iter().map(|c| c.id).collect();
        let mut kept: Vec<CallbackId> = open.ids().map(|u| CallbackId(u.as_u128())).collect();
        kept.sort();
        let mut expected = open_ids.clone();
        expected.sort();
        prop_assert_eq!(kept, expected);
        if deleted == 0 {
            prop_assert_eq!(restored.book(), whole.book());
        }
    }
}

#[test]
fn the_restore_finds_a_callback_whose_segments_retention_deleted() {
    // 0 waits, 1 is cancelled, 2 is dialed busy and waits its retry, 3 is held.
    let steps = [
        (0, 0, 2),
        (1, 0, 2),
        (2, 0, 4),
        (3, 0, 1),
        (3, 0, 0),
        (2, 2, 0),
        (2, 5, 0),
        (2, 7, 0),
        (1, 12, 0),
        (0, 9, 0),
    ];
    let journal = journal_of(&scheduler_events(&steps));
    let whole = restore(&journal.iter().collect::<Vec<_>>());
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    // A start saves the snapshot; retention then deletes the segment it covers.
    let state = start_with_old_segment(dir.path(), &journal, 14);
    assert_eq!(state.scheduled.as_ref().map(|s| s.ids().count()), Some(3));
    let before = crate::callbacks::restore(dir.path()).unwrap_or_else(|e| panic!("{e}"));
    delete_old_segment(dir.path());

    let after = crate::callbacks::restore(dir.path()).unwrap_or_else(|e| panic!("{e}"));
    let restored =
        Scheduler::restore(SchedulerConfig::default(), &after).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(open_in_dial_order(&restored), open_in_dial_order(&whole));
    assert_eq!(open_in_dial_order(&restored).len(), 3);
    // Before the deletion the cancelled one was restored too; now its events are gone.
    let full =
        Scheduler::restore(SchedulerConfig::default(), &before).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(full.book(), whole.book());
    assert!(restored.callback(callback_id(1)).is_none());
    assert!(whole
        .callback(callback_id(1))
        .is_some_and(|c| c.state.is_terminal()));
}

#[test]
fn a_snapshot_without_scheduled_callbacks_gets_them_from_the_journal() {
    let journal = journal_of(&scheduler_events(&[(0, 0, 2), (1, 0, 2), (1, 12, 0)]));
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    // The snapshot was written by a version that did not keep them.
    let state = load_with_older_snapshot(dir.path(), &journal, 4);
    let ids: Vec<Uuid> = state
        .scheduled
        .as_ref()
        .map(|s| s.ids().copied().collect())
        .unwrap_or_default();
    assert_eq!(ids, [journal::uuid(callback_id(0))]);
}
