//! Calling windows across DST changes and zones, through the scheduler: the first dial of a
//! callback created at night is at 09:00 local exactly, whatever the offset that morning.

mod common;

use common::*;
use hotline_campaigns::*;

/// Creates a callback at `created` in `tz` and returns when it is first dialed.
fn first_dial(tz: &str, created: &str) -> jiff::Timestamp {
    let mut s = Scheduler::new(config()).unwrap_or_else(|e| panic!("{e}"));
    let now = ts(created);
    create(&mut s, now, callback(1, Some(tz), None));
    let (_, orders) = run_until(&mut s, now, ts("2027-01-01T00:00:00Z"), 1);
    orders
        .first()
        .map(|(at, _)| *at)
        .unwrap_or_else(|| panic!("never dialed in {tz}"))
}

#[test]
fn new_york_spring_forward_day_opens_at_nine_edt() {
    // 2026-03-08: clocks go 02:00 EST -> 03:00 EDT. Created 01:00 EST (06:00Z).
    assert_eq!(
        first_dial("America/New_York", "2026-03-08T06:00:00Z"),
        ts("2026-03-08T13:00:00Z")
    );
    // The evening before, still EST: 09:00 EST is 14:00Z on 03-07.
    assert_eq!(
        first_dial("America/New_York", "2026-03-07T03:00:00Z"),
        ts("2026-03-07T14:00:00Z")
    );
}

#[test]
fn new_york_fall_back_day_opens_at_nine_est() {
    // 2026-11-01: 02:00 EDT -> 01:00 EST. Created 01:30 EDT (05:30Z), 09:00 EST is 14:00Z.
    assert_eq!(
        first_dial("America/New_York", "2026-11-01T05:30:00Z"),
        ts("2026-11-01T14:00:00Z")
    );
}

#[test]
fn london_spring_forward_and_fall_back() {
    // 2026-03-29: 01:00 GMT -> 02:00 BST; 09:00 BST is 08:00Z.
    assert_eq!(
        first_dial("Europe/London", "2026-03-29T00:30:00Z"),
        ts("2026-03-29T08:00:00Z")
    );
    // 2026-10-25: 02:00 BST -> 01:00 GMT; 09:00 GMT is 09:00Z.
    assert_eq!(
        first_dial("Europe/London", "2026-10-25T00:30:00Z"),
        ts("2026-10-25T09:00:00Z")
    );
}

#[test]
fn shanghai_has_no_dst_and_closes_at_nine_pm() {
    // Created 21:30 local (13:30Z): next morning 09:00 (01:00Z).
    assert_eq!(
        first_dial("Asia/Shanghai", "2026-03-08T13:30:00Z"),
        ts("2026-03-09T01:00:00Z")
    );
    // Created 20:59 local: dialed at once.
    assert_eq!(
        first_dial("Asia/Shanghai", "2026-03-08T12:59:00Z"),
        ts("2026-03-08T12:59:00Z")
    );
}

#[test]
fn the_window_is_twelve_hours_on_both_change_days() {
    let w = CallingWindow::default();
    let ny = zone("America/New_York");
    for (open, close) in [
        ("2026-03-08T13:00:00Z", "2026-03-09T01:00:00Z"),
        ("2026-11-01T14:00:00Z", "2026-11-02T02:00:00Z"),
    ] {
        let (open, close) = (ts(open), ts(close));
        assert!(w.is_open(open, &ny));
        assert_eq!(w.close_after(open, &ny), Some(close));
        assert!(!w.is_open(close, &ny));
        assert_eq!(close.duration_since(open).as_secs(), 12 * 3600);
    }
}

#[test]
fn a_span_in_the_skipped_hour_opens_when_clocks_resume() {
    // 02:00-04:00 in New York on the spring-forward night: 02:00 does not exist, the span
    // opens at 03:00 EDT (07:00Z) and lasts one real hour.
    let w = CallingWindow {
        spans: vec![WindowSpan {
            days: Days::DAILY,
            start: "02:00".parse().unwrap_or(LocalTime::MIDNIGHT),
            end: "04:00".parse().unwrap_or(LocalTime::END_OF_DAY),
        }],
    };
    let ny = zone("America/New_York");
    assert_eq!(
        w.next_open(ts("2026-03-08T05:00:00Z"), &ny),
        Some(ts("2026-03-08T07:00:00Z"))
    );
    assert_eq!(
        w.close_after(ts("2026-03-08T07:00:00Z"), &ny),
        Some(ts("2026-03-08T08:00:00Z"))
    );
    // On the fall-back night 01:00-02:00 repeats before the span: 02:00 EST (07:00Z) to
    // 04:00 EST (09:00Z).
    assert_eq!(
        w.next_open(ts("2026-11-01T04:00:00Z"), &ny),
        Some(ts("2026-11-01T07:00:00Z"))
    );
    assert_eq!(
        w.close_after(ts("2026-11-01T07:00:00Z"), &ny),
        Some(ts("2026-11-01T09:00:00Z"))
    );
}

#[test]
fn a_callback_waiting_past_closing_time_waits_for_the_morning() {
    // Busy at 20:50 Shanghai: the 10 min retry lands at 21:00, closed; next dial 09:00.
    let mut s = Scheduler::new(config()).unwrap_or_else(|e| panic!("{e}"));
    let now = ts("2026-12-07T12:50:00Z");
    create(&mut s, now, callback(1, Some("Asia/Shanghai"), None));
    let orders = dial_all(&mut s, now, 1);
    let order = &orders[0];
    s.handle(
        now,
        Command::Outcome {
            id: order.id,
            attempt: order.attempt,
            outcome: DialOutcome::of(OutcomeKind::Busy),
        },
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let (_, orders) = run_until(&mut s, now, ts("2026-12-09T00:00:00Z"), 1);
    assert_eq!(
        orders.first().map(|(at, _)| *at),
        Some(ts("2026-12-08T01:00:00Z"))
    );
}

#[test]
fn a_closed_zone_is_skipped_whole_and_wakes_the_driver_when_it_opens() {
    let mut s = Scheduler::new(config()).unwrap_or_else(|e| panic!("{e}"));
    // 10:00 in Shanghai is 21:00 in New York (closed).
    let now = ts("2026-12-07T02:00:00Z");
    for id in 0..50 {
        create(&mut s, now, callback(id, Some("America/New_York"), None));
    }
    create(&mut s, now, callback(99, Some("Asia/Shanghai"), None));
    drain(&mut s);
    let orders = dial_all(&mut s, now, 5);
    assert_eq!(orders.len(), 1);
    assert_eq!(orders[0].id, CallbackId(99));
    let answered = DialOutcome::of(OutcomeKind::Answered);
    let done = Command::Outcome {
        id: CallbackId(99),
        attempt: 1,
        outcome: answered,
    };
    s.handle(now, done).unwrap_or_else(|e| panic!("{e}"));
    drain(&mut s);
    let (at, reason) = s.poll_timeout().unwrap_or_else(|| panic!("no wake"));
    assert_eq!(
        reason,
        TimerReason::WindowOpens {
            queue: support(),
            zone: "America/New_York".into()
        }
    );
    // 09:00 EST.
    assert_eq!(at, ts("2026-12-07T14:00:00Z"));
    assert_eq!(s.dispatch(at, &free(5), &NoDnc), 5);
    // The ones created first go first among equal deadlines.
    assert_eq!(drain_claims(&mut s), [0, 1, 2, 3, 4].map(CallbackId));
}

mod windows_props {
    use super::*;
    use proptest::prelude::*;
    use std::time::Duration;

    const ZONES: [&str; 5] = [
        "America/New_York",
        "Europe/London",
        "Asia/Shanghai",
        "Australia/Lord_Howe",
        "Asia/Kolkata",
    ];

    proptest! {
        /// `next_open` is the first open instant: open itself, and nothing open before it
        /// (checked every 5 minutes), across every 2026 DST change of these zones (Lord Howe
        /// shifts by 30 minutes, Kolkata is +05:30 without DST).
        #[test]
        fn next_open_is_the_first_open_instant(
            minute in 0i64..(365 * 24 * 60),
            z in 0usize..5,
            start in 0u16..23 * 60,
            len in 30u16..(12 * 60),
        ) {
            let end = (start + len).min(1440);
            let w = CallingWindow {
                spans: vec![WindowSpan {
                    days: "mon-sat".parse().unwrap_or(Days::DAILY),
                    start: LocalTime::new(start / 60, start % 60).unwrap_or(LocalTime::MIDNIGHT),
                    end: LocalTime::new(end / 60, end % 60).unwrap_or(LocalTime::END_OF_DAY),
                }],
            };
            let zone = zone(ZONES[z]);
            let t = time::add(ts("2026-01-01T00:00:00Z"), Duration::from_secs(minute as u64 * 60));
            let next = w.next_open(t, &zone).unwrap_or_else(|| panic!("never opens"));
            prop_assert!(next >= t);
            prop_assert!(w.is_open(next, &zone), "{next} not open");
            let mut probe = t;
            while probe < next {
                prop_assert!(!w.is_open(probe, &zone), "{probe} open before {next}");
                probe = time::add(probe, Duration::from_secs(300));
            }
            if let Some(close) = w.close_after(next, &zone) {
                prop_assert!(close > next);
            }
        }
    }
}
