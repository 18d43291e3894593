//! A campaign under a `custom` jurisdiction profile, through the engine: its connect time,
//! its cap and window in the statistics, and its no-redial bar.

use std::time::Duration;

use super::testutil::*;
use super::*;
use crate::outcome::{DialOutcome, OutcomeKind};
use crate::pacing::{DialMode, JurisdictionProfile};
use crate::scheduler::NoDnc;
use crate::time::LocalTime;
use crate::window::{CallingWindow, Days, WindowSpan};

fn custom() -> JurisdictionProfile {
    JurisdictionProfile::Custom {
        cap: 0.05,
        window: Duration::from_secs(3600),
        connect_within: Duration::from_secs(5),
        no_redial_after_abandon: Some(Duration::from_secs(2 * 3600)),
    }
}

fn answer(e: &mut CampaignEngine, now: jiff::Timestamp, o: &DialOrder) {
    for c in [
        Command::Outcome {
            campaign: o.campaign.clone(),
            entry: o.entry,
            attempt: o.attempt,
            outcome: DialOutcome::of(OutcomeKind::Answered),
        },
        Command::Answered {
            campaign: o.campaign.clone(),
            entry: o.entry,
            attempt: o.attempt,
            verdict: AnswerVerdict::Human,
        },
    ] {
        e.handle(now, c, &NoDnc).unwrap_or_else(|e| panic!("{e}"));
    }
}

#[test]
fn a_custom_profile_sets_the_connect_time_cap_window_and_redial_bar() {
    let json = r#"{"custom": {"cap": 0.05, "window": "1h", "connect_within": "5s",
                   "no_redial_after_abandon": "2h"}}"#;
    let read: JurisdictionProfile = serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(read, custom());
    let mut s = spec(DialMode::Progressive);
    s.profile = read;
    s.window = CallingWindow {
        spans: vec![WindowSpan {
            days: Days::DAILY,
            start: LocalTime::MIDNIGHT,
            end: LocalTime::END_OF_DAY,
        }],
    };
    s.retry_abandoned.delay = Duration::from_secs(60);
    let mut e = engine_with(s, 1);
    let cap = capacity(1, vec![]);
    let d = e.next_dials(t0(), &cap, &NoDnc);
    let Some(Work::Dial(o)) = d.first().cloned() else {
        panic!("{d:?}")
    };
    answer(&mut e, secs(10), &o);
    // A live answer waits the profile's 5 s (and the grace) before it counts as abandoned.
    assert_eq!(
        e.poll_timeout(),
        Some((
            time::add(secs(15), OUTCOME_GRACE),
            EngineTimer::AttemptOverdue {
                campaign: cid(),
                entry: o.entry
            }
        ))
    );
    e.handle_timeout(time::add(secs(15), OUTCOME_GRACE));
    let abandoned_at = time::add(secs(15), OUTCOME_GRACE);
    let stats = e
        .stats(abandoned_at, &cid())
        .unwrap_or_else(|| panic!("no stats"));
    assert_eq!(
        (stats.abandon_cap, stats.live_answered, stats.abandoned),
        (0.05, 1, 1)
    );
    assert!(
        (stats.abandon_aim - 0.04).abs() < 1e-9,
        "{}",
        stats.abandon_aim
    );
    // The abandon leaves the rate after the profile's 1 h window.
    let later = |s: u64| time::add(abandoned_at, Duration::from_secs(s));
    let stats = e
        .stats(later(3599), &cid())
        .unwrap_or_else(|| panic!("no stats"));
    assert_eq!(stats.abandoned, 1);
    let stats = e
        .stats(later(3600), &cid())
        .unwrap_or_else(|| panic!("no stats"));
    assert_eq!((stats.live_answered, stats.abandoned), (0, 0));
    // The retry, 60 s after the abandon by its rule, waits for the end of the 2 h bar.
    let bar_end = later(2 * 3600);
    assert_eq!(
        e.entries(&cid())[0].state,
        EntryState::Pending { ready_at: bar_end }
    );
    assert!(e
        .next_dials(time::sub(bar_end, Duration::from_secs(1)), &cap, &NoDnc)
        .is_empty());
    let again = e.next_dials(bar_end, &cap, &NoDnc);
    assert!(
        matches!(&again[..], [Work::Dial(d)] if d.attempt == 2),
        "{again:?}"
    );
}
