//! Calling windows per weekday through the engine across daylight-saving changes: a record
//! held outside its window is dialed at the local opening exactly, whatever the offset.

use jiff::Timestamp;

use super::testutil::*;
use super::*;
use crate::list::ListRecord;
use crate::pacing::DialMode;
use crate::scheduler::NoDnc;
use crate::time::{LocalTime, Zone};
use crate::window::{CallingWindow, Days, WindowSpan};

fn ts(text: &str) -> Timestamp {
    text.parse().unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn hm(h: u16, m: u16) -> LocalTime {
    LocalTime::new(h, m).unwrap_or_else(|| panic!("{h}:{m}"))
}

/// Monday to Friday 09:00-20:00, Saturday 10:00-16:00, Sunday closed.
fn week() -> CallingWindow {
    let sat: Days = "sat".parse().unwrap_or_else(|e| panic!("{e:?}"));
    CallingWindow {
        spans: vec![
            WindowSpan {
                days: Days::WEEKDAYS,
                start: hm(9, 0),
                end: hm(20, 0),
            },
            WindowSpan {
                days: sat,
                start: hm(10, 0),
                end: hm(16, 0),
            },
        ],
    }
}

/// When the engine first dials one record of zone `tz` loaded at `start`, with the events it
/// emitted on the way.
fn first_dial(tz: &str, start: &str) -> (Timestamp, Vec<CampaignEvent>) {
    let mut s = spec(DialMode::Progressive);
    s.window = week();
    let now = ts(start);
    let mut e = CampaignEngine::new();
    let record = ListRecord {
        time_zone: Some(Zone::new(tz).unwrap_or_else(|e| panic!("{e}"))),
        ..record(1)
    };
    for c in [
        Command::Create(Box::new(s)),
        Command::AddRecords {
            campaign: cid(),
            records: vec![record],
        },
        Command::Start { campaign: cid() },
    ] {
        e.handle(now, c, &NoDnc).unwrap_or_else(|e| panic!("{e}"));
    }
    let cap = capacity(1, vec![]);
    let mut at = now;
    let mut events = vec![];
    for _ in 0..5 {
        let work = e.next_dials(at, &cap, &NoDnc);
        events.extend(std::iter::from_fn(|| e.poll_event()));
        if matches!(work.first(), Some(Work::Dial(_))) {
            // A second earlier it was still held.
            return (at, events);
        }
        let Some((next, EngineTimer::EntryDue { .. })) = e.poll_timeout() else {
            panic!("no wake-up: {events:?}");
        };
        at = next;
    }
    panic!("never dialed: {events:?}");
}

fn held_until(events: &[CampaignEvent]) -> Vec<Timestamp> {
    events
        .iter()
        .filter_map(|e| match e {
            CampaignEvent::Held {
                reason: HoldReason::OutsideWindow,
                until,
                ..
            } => Some(*until),
            _ => None,
        })
        .collect()
}

#[test]
fn new_york_opens_at_its_local_hours_on_both_sides_of_each_change() {
    for (start, expected) in [
        // Friday 22:00 EST: Saturday opens 10:00 EST.
        ("2026-03-07T03:00:00Z", "2026-03-07T15:00:00Z"),
        // Saturday 17:00 EST; Sunday 03-08 clocks go forward: Monday 09:00 EDT.
        ("2026-03-07T22:00:00Z", "2026-03-09T13:00:00Z"),
        // Friday 23:00 EDT: Saturday opens 10:00 EDT.
        ("2026-10-31T03:00:00Z", "2026-10-31T14:00:00Z"),
        // Saturday 17:00 EDT; Sunday 11-01 clocks go back: Monday 09:00 EST.
        ("2026-10-31T21:00:00Z", "2026-11-02T14:00:00Z"),
        // Monday 20:30 EST, after the close: Tuesday 09:00 EST.
        ("2026-11-03T01:30:00Z", "2026-11-03T14:00:00Z"),
    ] {
        let (at, events) = first_dial("America/New_York", start);
        assert_eq!(at, ts(expected), "from {start}");
        assert_eq!(held_until(&events), [ts(expected)], "from {start}");
    }
}

#[test]
fn london_opens_at_its_local_hours_on_both_sides_of_each_change() {
    for (start, expected) in [
        // Saturday 17:00 GMT; Sunday 03-29 clocks go forward: Monday 09:00 BST.
        ("2026-03-28T17:00:00Z", "2026-03-30T08:00:00Z"),
        // Friday 21:00 GMT: Saturday 10:00 GMT.
        ("2026-03-27T21:00:00Z", "2026-03-28T10:00:00Z"),
        // Saturday 17:00 BST; Sunday 10-25 clocks go back: Monday 09:00 GMT.
        ("2026-10-24T16:00:00Z", "2026-10-26T09:00:00Z"),
        // Friday 21:00 BST: Saturday 10:00 BST.
        ("2026-10-23T20:00:00Z", "2026-10-24T09:00:00Z"),
    ] {
        let (at, events) = first_dial("Europe/London", start);
        assert_eq!(at, ts(expected), "from {start}");
        assert_eq!(held_until(&events), [ts(expected)], "from {start}");
    }
}

#[test]
fn inside_the_window_a_record_is_dialed_at_once_and_the_close_is_local() {
    // Monday 2026-11-02 19:59 EST (00:59Z Tuesday) is open; 20:00 EST is closed.
    let (at, events) = first_dial("America/New_York", "2026-11-03T00:59:00Z");
    assert_eq!(
        (at, held_until(&events)),
        (ts("2026-11-03T00:59:00Z"), vec![])
    );
    let (at, _) = first_dial("America/New_York", "2026-11-03T01:00:00Z");
    assert_eq!(at, ts("2026-11-03T14:00:00Z"));
    // The same UTC instant a week earlier is 20:59 EDT: closed.
    let (at, _) = first_dial("America/New_York", "2026-10-27T00:59:00Z");
    assert_eq!(at, ts("2026-10-27T13:00:00Z"));
}
