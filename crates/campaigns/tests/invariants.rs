//! Property tests over random interleavings of create, cancel, time-zone fixes, time passing,
//! dispatch, reservations, outcomes and crashes (restore from the log + `Restarted`):
//! - replay == live: the log alone rebuilds the live book at every step;
//! - a callback is never lost (created ids stay in the book; one terminal event at most, and
//!   nothing after it);
//! - never dialed twice at once, never before its retry time (unknown outcomes after a crash
//!   included), never without a claim first (agent-first), never a DNC number, never outside
//!   its calling window or with an unknown zone;
//! - claims never exceed the free agents given, nor the dials per minute, and are made only
//!   inside the customer's calling window.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use common::*;
use hotline_campaigns::*;
use jiff::Timestamp;
use proptest::prelude::*;

const ZONES: [Option<&str>; 4] = [
    Some("Asia/Shanghai"),
    Some("America/New_York"),
    Some("Europe/London"),
    None,
];
const RATE: u32 = 3;

#[derive(Debug, Clone)]
enum Op {
    Create {
        id: u8,
        zone: usize,
        within_h: Option<u8>,
        priority: i8,
    },
    Cancel {
        id: u8,
    },
    SetZone {
        id: u8,
        zone: usize,
    },
    Advance {
        secs: u32,
    },
    Dispatch {
        free: u8,
    },
    Reserve {
        pick: u8,
    },
    ReserveFail {
        pick: u8,
    },
    Outcome {
        pick: u8,
        kind: u8,
        retry_after: Option<u16>,
    },
    Crash,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0u8..10, 0usize..4, proptest::option::of(1u8..48), -3i8..3)
            .prop_map(|(id, zone, within_h, priority)| Op::Create { id, zone, within_h, priority }),
        1 => (0u8..10).prop_map(|id| Op::Cancel { id }),
        1 => (0u8..10, 0usize..3).prop_map(|(id, zone)| Op::SetZone { id, zone }),
        3 => (0u32..4 * 3600).prop_map(|secs| Op::Advance { secs }),
        3 => (0u8..4).prop_map(|free| Op::Dispatch { free }),
        3 => any::<u8>().prop_map(|pick| Op::Reserve { pick }),
        1 => any::<u8>().prop_map(|pick| Op::ReserveFail { pick }),
        3 => (any::<u8>(), 0u8..7, proptest::option::of(0u16..3600))
            .prop_map(|(pick, kind, retry_after)| Op::Outcome { pick, kind, retry_after }),
        1 => Just(Op::Crash),
    ]
}

fn test_config() -> SchedulerConfig {
    let mut c = config();
    if let Some(q) = c.queues.get_mut(&support()) {
        q.max_dials_per_minute = RATE;
    }
    c.warnings = vec![Duration::from_secs(7200), Duration::from_secs(600)];
    c.give_up_after_deadline = Some(Duration::from_secs(86_400));
    c
}

/// Numbers ending in 3 or 7 are on the DNC list.
fn dnc() -> BTreeSet<E164> {
    (0..10u64)
        .filter(|n| n % 10 == 3 || n % 10 == 7)
        .map(number)
        .collect()
}

fn kind(k: u8) -> OutcomeKind {
    [
        OutcomeKind::Answered,
        OutcomeKind::Busy,
        OutcomeKind::NoAnswer,
        OutcomeKind::InvalidNumber,
        OutcomeKind::Rejected,
        OutcomeKind::NetworkFailure,
        OutcomeKind::NoAnswer,
    ][usize::from(k) % 7]
}

fn in_state(s: &Scheduler, kind: StateKind) -> Vec<CallbackId> {
    s.book()
        .callbacks
        .values()
        .filter(|c| c.state.kind() == kind)
        .map(|c| c.id)
        .collect()
}

fn pick(ids: &[CallbackId], p: u8) -> Option<CallbackId> {
    (!ids.is_empty()).then(|| ids[usize::from(p) % ids.len()])
}

/// Checks the whole log's invariants.
fn check_log(log: &[CallbackEvent], config: &SchedulerConfig) -> Result<(), TestCaseError> {
    let blocked = dnc();
    let window = &config.queues[&support()].window;
    let mut zones: BTreeMap<CallbackId, Option<Zone>> = BTreeMap::new();
    let mut in_flight: BTreeSet<CallbackId> = BTreeSet::new();
    let mut claimed: BTreeSet<CallbackId> = BTreeSet::new();
    let mut retry_at: BTreeMap<CallbackId, Timestamp> = BTreeMap::new();
    let mut ended: BTreeSet<CallbackId> = BTreeSet::new();
    let mut claims: Vec<Timestamp> = Vec::new();
    for e in log {
        let id = e.id();
        prop_assert!(!ended.contains(&id), "event after the end of {id}: {e:?}");
        match e {
            CallbackEvent::Created { callback, .. } => {
                zones.insert(id, callback.time_zone.clone());
            }
            CallbackEvent::TimeZoneSet { time_zone, .. } => {
                zones.insert(id, Some(time_zone.clone()));
            }
            CallbackEvent::Claimed { at, .. } => {
                prop_assert!(claimed.insert(id), "claimed twice: {id}");
                // No agent is reserved for a customer who may not be called now.
                let zone = zones.get(&id).cloned().flatten();
                let open = zone.is_some_and(|z| window.is_open(*at, &z));
                prop_assert!(open, "claimed outside the window or zone at {at}: {id}");
                claims.push(*at);
                let recent = claims
                    .iter()
                    .filter(|t| **t > time::sub(*at, Duration::from_secs(60)))
                    .count();
                prop_assert!(
                    recent <= RATE as usize,
                    "{recent} claims in a minute at {at}"
                );
            }
            CallbackEvent::ClaimReleased { .. } => {
                prop_assert!(claimed.remove(&id), "release without claim: {id}");
            }
            CallbackEvent::AttemptStarted { at, number, .. } => {
                prop_assert!(
                    claimed.remove(&id),
                    "dial without a claim (agent-first): {id}"
                );
                prop_assert!(in_flight.insert(id), "dialed twice at once: {id}");
                prop_assert!(!blocked.contains(number), "DNC number dialed: {id}");
                let zone = zones.get(&id).cloned().flatten();
                let Some(zone) = zone else {
                    return Err(TestCaseError::fail(format!(
                        "dialed with unknown zone: {id}"
                    )));
                };
                prop_assert!(
                    window.is_open(*at, &zone),
                    "dialed outside the window at {at}"
                );
                if let Some(r) = retry_at.get(&id) {
                    prop_assert!(at >= r, "redialed at {at} before its retry time {r}");
                }
            }
            CallbackEvent::AttemptEnded { retry_at: r, .. } => {
                prop_assert!(in_flight.remove(&id), "outcome without attempt: {id}");
                if let Some(r) = r {
                    retry_at.insert(id, *r);
                }
            }
            CallbackEvent::Completed { .. }
            | CallbackEvent::Cancelled { .. }
            | CallbackEvent::GivenUp { .. } => {
                prop_assert!(!in_flight.contains(&id), "ended while dialing: {id}");
                claimed.remove(&id);
                ended.insert(id);
            }
            _ => {}
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn replay_equals_live_and_no_callback_is_lost_or_dialed_twice(
        ops in proptest::collection::vec(op(), 1..70)
    ) {
        let config = test_config();
        let blocked = dnc();
        let mut s = Scheduler::new(config.clone()).unwrap_or_else(|e| panic!("{e}"));
        let mut now = ts("2026-03-07T12:00:00Z");
        let mut log: Vec<CallbackEvent> = Vec::new();
        let mut created: BTreeSet<CallbackId> = BTreeSet::new();
        for op in ops {
            match op {
                Op::Create { id, zone, within_h, priority } => {
                    let mut cb = callback(
                        u128::from(id),
                        ZONES[zone],
                        within_h.map(|h| Duration::from_secs(u64::from(h) * 3600)),
                    );
                    cb.priority = i32::from(priority);
                    if s.handle(now, Command::Create(Box::new(cb))).is_ok() {
                        created.insert(CallbackId(u128::from(id)));
                    }
                }
                Op::Cancel { id } => {
                    let _ = s.handle(now, Command::Cancel { id: CallbackId(u128::from(id)) });
                }
                Op::SetZone { id, zone } => {
                    if let Some(z) = ZONES[zone] {
                        let _ = s.handle(now, Command::SetTimeZone {
                            id: CallbackId(u128::from(id)),
                            time_zone: common::zone(z),
                        });
                    }
                }
                Op::Advance { secs } => {
                    now = time::add(now, Duration::from_secs(u64::from(secs)));
                    s.handle_timeout(now);
                }
                Op::Dispatch { free: n } => {
                    let open_before = in_state(&s, StateKind::Claimed).len();
                    let claimed = s.dispatch(now, &free(u32::from(n)), &blocked);
                    prop_assert!(
                        claimed + open_before <= usize::from(n).max(open_before),
                        "{claimed} claims with {n} free and {open_before} open"
                    );
                }
                Op::Reserve { pick: p } => {
                    if let Some(id) = pick(&in_state(&s, StateKind::Claimed), p) {
                        let r = s.agent_reserved(now, id, AgentName::new("a"), &blocked);
                        prop_assert!(r.is_ok(), "{r:?}");
                    }
                }
                Op::ReserveFail { pick: p } => {
                    if let Some(id) = pick(&in_state(&s, StateKind::Claimed), p) {
                        let r = s.handle(now, Command::ReservationFailed { id });
                        prop_assert!(r.is_ok(), "{r:?}");
                    }
                }
                Op::Outcome { pick: p, kind: k, retry_after } => {
                    let dialing = in_state(&s, StateKind::Dialing);
                    if let Some(id) = pick(&dialing, p) {
                        let attempt = s.callback(id).map_or(0, |c| c.attempts);
                        let mut outcome = DialOutcome::of(kind(k));
                        outcome.retry_after_ms = retry_after.map(|r| u64::from(r) * 1000);
                        let r = s.handle(now, Command::Outcome { id, attempt, outcome });
                        prop_assert!(r.is_ok(), "{r:?}");
                    }
                }
                Op::Crash => {
                    log.extend(drain(&mut s));
                    let restored = Scheduler::restore(config.clone(), &log)
                        .unwrap_or_else(|e| panic!("{e}"));
                    prop_assert_eq!(restored.book(), s.book());
                    s = restored;
                    now = time::add(now, Duration::from_secs(1));
                    let r = s.handle(now, Command::Restarted);
                    prop_assert!(r.is_ok(), "{r:?}");
                    prop_assert!(in_state(&s, StateKind::Claimed).is_empty());
                    prop_assert!(in_state(&s, StateKind::Dialing).is_empty());
                }
            }
            log.extend(drain(&mut s));
            let replayed = Scheduler::restore(config.clone(), &log)
                .unwrap_or_else(|e| panic!("{e}"));
            prop_assert_eq!(replayed.book(), s.book());
            for id in &created {
                prop_assert!(s.callback(*id).is_some(), "lost {id}");
            }
        }
        check_log(&log, &config)?;
    }

    #[test]
    fn a_replayed_scheduler_decides_like_the_live_one(
        ops in proptest::collection::vec(op(), 1..40),
        more in proptest::collection::vec(0u32..7200, 1..10),
    ) {
        // Build some history, replay it, then drive both with the same dispatches: the same
        // events come out.
        let config = test_config();
        let mut s = Scheduler::new(config.clone()).unwrap_or_else(|e| panic!("{e}"));
        let mut now = ts("2026-10-24T20:00:00Z");
        for op in ops {
            match op {
                Op::Create { id, zone, within_h, .. } => {
                    let cb = callback(
                        u128::from(id),
                        ZONES[zone],
                        within_h.map(|h| Duration::from_secs(u64::from(h) * 3600)),
                    );
                    let _ = s.handle(now, Command::Create(Box::new(cb)));
                }
                Op::Advance { secs } => now = time::add(now, Duration::from_secs(u64::from(secs))),
                Op::Dispatch { free: n } => {
                    s.dispatch(now, &free(u32::from(n)), &NoDnc);
                }
                _ => {}
            }
        }
        let log = drain(&mut s);
        let mut twin = Scheduler::restore(config, &log).unwrap_or_else(|e| panic!("{e}"));
        for secs in more {
            now = time::add(now, Duration::from_secs(u64::from(secs)));
            s.dispatch(now, &free(2), &NoDnc);
            twin.dispatch(now, &free(2), &NoDnc);
            // The events, not the timers: the live scheduler may already have put a callback
            // outside its window to sleep until the window opens, which the twin does at its
            // first dispatch that reaches it.
            prop_assert_eq!(drain(&mut s), drain(&mut twin));
            prop_assert_eq!(s.book(), twin.book());
        }
    }
}
