//! Unit tests of the engine's rules on virtual time.

use std::collections::BTreeSet;
use std::time::Duration;

use jiff::Timestamp;

use super::testutil::*;
use super::*;
use crate::config::RetryRule;
use crate::ids::AgentName;
use crate::list::ListRecord;
use crate::number::E164;
use crate::outcome::{classify, DialOutcome, FinalResponse, OutcomeKind};
use crate::pacing::{BusyAgent, DialMode, JurisdictionProfile, PacingReason};
use crate::scheduler::NoDnc;
use crate::time::Zone;

#[test]
fn progressive_dials_one_per_free_agent_less_calls_in_progress() {
    let mut e = engine_with(spec(DialMode::Progressive), 10);
    drain(&mut e);
    let first = dials(&e.next_dials(t0(), &capacity(3, vec![]), &NoDnc));
    assert_eq!(first.len(), 3);
    assert_eq!(
        first.iter().map(|d| d.entry.0).collect::<Vec<_>>(),
        [0, 1, 2]
    );
    assert_eq!(types(&drain(&mut e)), ["attempt_started"; 3]);
    assert!(e.next_dials(t0(), &capacity(3, vec![]), &NoDnc).is_empty());
    ok(&mut e, secs(5), outcome(&first[0], OutcomeKind::Busy));
    assert_eq!(
        dials(&e.next_dials(secs(5), &capacity(3, vec![]), &NoDnc)).len(),
        1
    );
}

#[test]
fn predictive_needs_its_minimum_of_agents_else_dials_progressively() {
    let wrapping = |n| {
        vec![
            BusyAgent::WrapUp {
                age: Duration::from_secs(14)
            };
            n
        ]
    };
    let mut e = engine_with(spec(DialMode::Predictive), 500);
    // 4 free and 10 busy: 14 agents, under 15.
    assert_eq!(
        dials(&e.next_dials(t0(), &capacity(4, wrapping(10)), &NoDnc)).len(),
        4
    );
    // 4 free and 16 about to be free, no dial ended yet: it warms up, one call per free agent.
    let mut e = engine_with(spec(DialMode::Predictive), 500);
    assert_eq!(
        dials(&e.next_dials(t0(), &capacity(4, wrapping(16)), &NoDnc)).len(),
        4
    );
    assert!(matches!(
        e.last_pacing(&cid()).map(|d| d.reason),
        Some(PacingReason::WarmingUp { resolved: 0, .. })
    ));
    // The same without a warm-up: it dials ahead.
    let mut cold = spec(DialMode::Predictive);
    cold.warmup_resolved_dials = 0;
    cold.warmup_live_answers = 0;
    let mut e = engine_with(cold.clone(), 500);
    let n = dials(&e.next_dials(t0(), &capacity(4, wrapping(16)), &NoDnc)).len();
    assert!(n > 20, "{n}");
    let mut s = cold;
    s.min_agents_predictive = 30;
    let mut e = engine_with(s, 500);
    assert_eq!(
        dials(&e.next_dials(t0(), &capacity(4, wrapping(16)), &NoDnc)).len(),
        4
    );
}

#[test]
fn preview_offers_to_an_agent_who_accepts_or_skips() {
    let mut e = engine_with(spec(DialMode::Preview), 3);
    drain(&mut e);
    let work = e.next_dials(t0(), &capacity(2, vec![]), &NoDnc);
    let offers: Vec<PreviewOffer> = work
        .iter()
        .filter_map(|w| match w {
            Work::Offer(o) => Some(o.clone()),
            Work::Dial(_) => None,
        })
        .collect();
    assert_eq!(offers.len(), 2);
    assert_eq!(types(&drain(&mut e)), ["offered", "offered"]);
    // The same agents hold their offers: nothing more.
    assert!(e.next_dials(t0(), &capacity(2, vec![]), &NoDnc).is_empty());
    let wrong = Command::Accept {
        campaign: cid(),
        entry: offers[0].entry,
        agent: offers[1].agent.clone(),
    };
    assert!(matches!(
        e.handle(t0(), wrong, &NoDnc),
        Err(CommandError::NotOffered { .. })
    ));
    let accept = Command::Accept {
        campaign: cid(),
        entry: offers[0].entry,
        agent: offers[0].agent.clone(),
    };
    let order = e.handle(secs(10), accept, &NoDnc);
    let order = order
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|| panic!("no dial"));
    assert_eq!(order.agent.as_ref(), Some(&offers[0].agent));
    assert_eq!(types(&drain(&mut e)), ["attempt_started"]);
    ok(&mut e, secs(25), outcome(&order, OutcomeKind::NoAnswer));
    let skip = Command::Skip {
        campaign: cid(),
        entry: offers[1].entry,
        agent: offers[1].agent.clone(),
    };
    ok(&mut e, secs(20), skip);
    let retry_at = secs(20 + 3600);
    assert_eq!(
        state(&e, offers[1].entry),
        EntryState::Pending { ready_at: retry_at }
    );
    // An offer not answered expires.
    let third = e.next_dials(secs(30), &capacity(1, vec![]), &NoDnc);
    assert_eq!(third.len(), 1);
    let timeout = e.poll_timeout();
    assert!(
        matches!(timeout, Some((_, EngineTimer::OfferExpires { .. }))),
        "{timeout:?}"
    );
    e.handle_timeout(secs(30 + 120));
    assert_eq!(
        state(&e, EntryId(2)),
        EntryState::Pending {
            ready_at: secs(150)
        }
    );
}

#[test]
fn agentless_runs_its_flow_within_its_line_count() {
    let mut s = spec(DialMode::Agentless);
    s.agentless_lines = 4;
    let mut e = engine_with(s, 10);
    let orders = dials(&e.next_dials(t0(), &DialCapacity::default(), &NoDnc));
    assert_eq!(orders.len(), 4);
    assert_eq!(orders[0].flow.as_deref(), Some("notice"));
    ok(&mut e, secs(5), outcome(&orders[0], OutcomeKind::Answered));
    ok(&mut e, secs(6), answered(&orders[0], AnswerVerdict::Human));
    // Still 4 lines busy.
    assert!(e
        .next_dials(secs(6), &DialCapacity::default(), &NoDnc)
        .is_empty());
    let done = Command::AgentlessDone {
        campaign: cid(),
        entry: orders[0].entry,
        attempt: 1,
        result: AgentlessResult::Completed,
    };
    ok(&mut e, secs(60), done);
    assert_eq!(
        state(&e, orders[0].entry),
        EntryState::Done {
            result: AttemptResult::FlowCompleted
        }
    );
    assert_eq!(
        dials(&e.next_dials(secs(60), &DialCapacity::default(), &NoDnc)).len(),
        1
    );
}

#[test]
fn do_not_call_numbers_are_given_up_at_dial_time_and_never_dialed() {
    let mut s = spec(DialMode::Progressive);
    s.dnc.insert(number(0));
    let mut e = engine_with(s, 5);
    ok(
        &mut e,
        t0(),
        Command::AddDnc {
            campaign: cid(),
            numbers: vec![number(2)],
        },
    );
    let global: BTreeSet<E164> = [number(4)].into();
    let orders = dials(&e.next_dials(t0(), &capacity(5, vec![]), &global));
    let dialed: Vec<E164> = orders.iter().map(|d| d.number.clone()).collect();
    assert_eq!(dialed, [number(1), number(3)]);
    let stats = e.stats(t0(), &cid()).unwrap_or_else(|| panic!("no stats"));
    assert_eq!(stats.given_up.get(&GiveUpReason::DoNotCall), Some(&3));
    assert_eq!((stats.done, stats.in_progress), (3, 2));
}

#[test]
fn a_number_taken_off_the_campaign_list_is_dialed_and_the_removal_replays() {
    let mut s = spec(DialMode::Progressive);
    s.dnc.insert(number(0));
    let mut e = engine_with(s, 0);
    ok(
        &mut e,
        t0(),
        Command::AddDnc {
            campaign: cid(),
            numbers: vec![number(1)],
        },
    );
    let remove = Command::RemoveDnc {
        campaign: cid(),
        numbers: vec![number(0), number(7)],
    };
    ok(&mut e, t0(), remove);
    let events = drain(&mut e);
    let removed: Vec<&CampaignEvent> = events
        .iter()
        .filter(|ev| ev.type_name() == "dnc_removed")
        .collect();
    // Only the listed number is removed; the unlisted one changes nothing.
    assert!(
        matches!(removed.as_slice(), [CampaignEvent::DncRemoved { numbers, .. }] if numbers == &[number(0)]),
        "{removed:?}"
    );
    let listed: Vec<E164> = e.dnc(&cid()).into_iter().flatten().cloned().collect();
    assert_eq!(listed, [number(1)]);
    ok(
        &mut e,
        t0(),
        Command::AddRecords {
            campaign: cid(),
            records: vec![record(0), record(1)],
        },
    );
    let dialed: Vec<E164> = dials(&e.next_dials(t0(), &capacity(5, vec![]), &NoDnc))
        .iter()
        .map(|d| d.number.clone())
        .collect();
    assert_eq!(dialed, [number(0)]);
    // A restart rebuilds the same list from the events.
    let mut s = spec(DialMode::Progressive);
    s.dnc.insert(number(0));
    let mut again = CampaignEngine::new();
    ok(&mut again, t0(), Command::Create(Box::new(s)));
    let add = Command::AddDnc {
        campaign: cid(),
        numbers: vec![number(1)],
    };
    ok(&mut again, t0(), add);
    let remove = Command::RemoveDnc {
        campaign: cid(),
        numbers: vec![number(0)],
    };
    ok(&mut again, t0(), remove);
    let restored = CampaignEngine::restore(&drain(&mut again));
    let listed: Vec<E164> = restored
        .dnc(&cid())
        .into_iter()
        .flatten()
        .cloned()
        .collect();
    assert_eq!(listed, [number(1)]);
    assert!(e
        .handle(
            t0(),
            Command::RemoveDnc {
                campaign: CampaignId::new("nope"),
                numbers: vec![]
            },
            &NoDnc
        )
        .is_err());
}

#[test]
fn a_record_outside_its_window_is_held_until_it_opens_in_local_time() {
    let mut e = engine_with(spec(DialMode::Progressive), 0);
    let mut r = record(1);
    // 10:00 UTC is 19:00 in Tokyo; 21:00 local closes at 12:00 UTC.
    r.time_zone = Some(Zone::new("Asia/Tokyo").unwrap_or_else(|e| panic!("{e}")));
    ok(
        &mut e,
        t0(),
        Command::AddRecords {
            campaign: cid(),
            records: vec![r],
        },
    );
    drain(&mut e);
    let late = secs(2 * 3600 + 1);
    assert!(e.next_dials(late, &capacity(1, vec![]), &NoDnc).is_empty());
    let opens: Timestamp = "2026-12-08T00:00:00Z"
        .parse()
        .unwrap_or_else(|e| panic!("{e}"));
    let events = drain(&mut e);
    assert!(matches!(
        &events[..],
        [CampaignEvent::Held { reason: HoldReason::OutsideWindow, until, .. }] if *until == opens
    ));
    assert_eq!(
        e.poll_timeout().map(|(at, _)| at),
        Some(opens),
        "woken when the window opens"
    );
    assert!(e
        .next_dials(
            time::sub(opens, Duration::from_secs(1)),
            &capacity(1, vec![]),
            &NoDnc
        )
        .is_empty());
    assert_eq!(
        dials(&e.next_dials(opens, &capacity(1, vec![]), &NoDnc)).len(),
        1
    );
}

#[test]
fn retries_follow_the_rules_by_outcome_and_the_attempt_limits() {
    let mut s = spec(DialMode::Progressive);
    s.retry.busy = RetryRule {
        delay: Duration::from_secs(600),
        max_attempts: 2,
    };
    s.max_attempts = 3;
    s.window = crate::window::CallingWindow {
        spans: vec![crate::window::WindowSpan {
            days: crate::window::Days::DAILY,
            start: crate::time::LocalTime::MIDNIGHT,
            end: crate::time::LocalTime::END_OF_DAY,
        }],
    };
    let mut e = engine_with(s, 2);
    let cap = capacity(1, vec![]);
    let d = dials(&e.next_dials(t0(), &cap, &NoDnc));
    ok(&mut e, secs(5), outcome(&d[0], OutcomeKind::Busy));
    assert_eq!(
        state(&e, d[0].entry),
        EntryState::Pending {
            ready_at: secs(605)
        }
    );
    // A Retry-After longer than the delay wins.
    let d1 = dials(&e.next_dials(secs(5), &cap, &NoDnc));
    assert_eq!(d1[0].entry, EntryId(1));
    let mut no_answer = DialOutcome::of(OutcomeKind::NoAnswer);
    no_answer.retry_after_ms = Some(7_200_000);
    let cmd = Command::Outcome {
        campaign: cid(),
        entry: d1[0].entry,
        attempt: 1,
        outcome: no_answer,
    };
    ok(&mut e, secs(30), cmd);
    assert_eq!(
        state(&e, EntryId(1)),
        EntryState::Pending {
            ready_at: secs(7230)
        }
    );
    // Not before its delay.
    assert!(e.next_dials(secs(604), &cap, &NoDnc).is_empty());
    let again = dials(&e.next_dials(secs(605), &cap, &NoDnc));
    assert_eq!((again[0].entry, again[0].attempt), (EntryId(0), 2));
    // The second busy uses up the busy rule's 2.
    ok(&mut e, secs(610), outcome(&again[0], OutcomeKind::Busy));
    assert_eq!(
        state(&e, EntryId(0)),
        EntryState::GivenUp {
            reason: GiveUpReason::AttemptsExhausted
        }
    );
    // An invalid number is given up at once.
    let d = dials(&e.next_dials(secs(7230), &cap, &NoDnc));
    let invalid = classify(FinalResponse {
        status: 404,
        retry_after: None,
        reason: None,
        cancelled_by_us: false,
    });
    let cmd = Command::Outcome {
        campaign: cid(),
        entry: d[0].entry,
        attempt: d[0].attempt,
        outcome: invalid,
    };
    ok(&mut e, secs(7231), cmd);
    assert_eq!(
        state(&e, EntryId(1)),
        EntryState::GivenUp {
            reason: GiveUpReason::InvalidNumber
        }
    );
}

#[test]
fn uk_abandoned_numbers_wait_72_hours_and_count_in_the_rate() {
    let mut s = spec(DialMode::Progressive);
    s.profile = JurisdictionProfile::Uk;
    s.retry_abandoned = RetryRule {
        delay: Duration::from_secs(600),
        max_attempts: 3,
    };
    let mut e = engine_with(s, 1);
    let d = dials(&e.next_dials(t0(), &capacity(1, vec![]), &NoDnc));
    ok(&mut e, secs(5), answered(&d[0], AnswerVerdict::Human));
    let abandon = Command::Abandoned {
        campaign: cid(),
        entry: d[0].entry,
        attempt: 1,
    };
    ok(&mut e, secs(7), abandon);
    let bar = secs(7 + 72 * 3600);
    assert_eq!(state(&e, d[0].entry), EntryState::Pending { ready_at: bar });
    let stats = e
        .stats(secs(8), &cid())
        .unwrap_or_else(|| panic!("no stats"));
    assert_eq!((stats.live_answered, stats.abandoned), (1, 1));
    assert_eq!(stats.abandon_rate, 1.0);
    assert_eq!(stats.by_result.get(&AttemptResult::Abandoned), Some(&1));
    // The 24 h window forgets it; the bar holds for 72 h.
    let day_later = e
        .stats(secs(7 + 86_400), &cid())
        .unwrap_or_else(|| panic!("no stats"));
    assert_eq!(day_later.abandoned, 0);
    assert_eq!(
        dials(&e.next_dials(bar, &capacity(1, vec![]), &NoDnc)).len(),
        1
    );
}

#[test]
fn us_a_connection_two_seconds_after_the_greeting_counts_as_abandoned() {
    let mut e = engine_with(spec(DialMode::Progressive), 2);
    let d = dials(&e.next_dials(t0(), &capacity(2, vec![]), &NoDnc));
    // The first person's greeting ended 1.5 s after the answer: connected 3.2 s after the
    // answer is 1.7 s after the greeting, in time. The second: 2.1 s after the greeting.
    for (i, after, since_greeting) in [(0, 3200, 1700), (1, 2500, 2100)] {
        ok(&mut e, secs(5), answered(&d[i], AnswerVerdict::Human));
        let connect = Command::ConnectedToAgent {
            campaign: cid(),
            entry: d[i].entry,
            attempt: 1,
            agent: AgentName::new("a"),
            after: Duration::from_millis(after),
            since_greeting: Duration::from_millis(since_greeting),
        };
        ok(&mut e, secs(8), connect);
        let late = drain(&mut e).into_iter().find_map(|ev| match ev {
            CampaignEvent::Connected {
                late,
                since_greeting,
                ..
            } => Some((late, since_greeting)),
            _ => None,
        });
        assert_eq!(
            late,
            Some((i == 1, Some(Duration::from_millis(since_greeting))))
        );
    }
    let stats = e
        .stats(secs(9), &cid())
        .unwrap_or_else(|| panic!("no stats"));
    assert_eq!(
        (stats.live_answered, stats.abandoned, stats.connected),
        (2, 1, 2)
    );
    assert_eq!(stats.pacing_ratio, 1.0);
    assert_eq!(stats.done, 2);
}

#[test]
fn a_journal_written_before_the_greeting_clock_replays_its_verdicts_unchanged() {
    let mut e = engine_with(spec(DialMode::Progressive), 2);
    let d = dials(&e.next_dials(t0(), &capacity(2, vec![]), &NoDnc));
    for (i, after) in [(0, 1500), (1, 2303)] {
        ok(&mut e, secs(5), answered(&d[i], AnswerVerdict::Human));
        let connect = Command::ConnectedToAgent {
            campaign: cid(),
            entry: d[i].entry,
            attempt: 1,
            agent: AgentName::new("a"),
            after: Duration::from_millis(after),
            since_greeting: Duration::from_millis(after),
        };
        ok(&mut e, secs(8), connect);
    }
    // The old journal's lines: no `since_greeting`, `late` decided on `after`.
    let old: Vec<CampaignEvent> = drain(&mut e)
        .iter()
        .map(|ev| {
            let mut json = serde_json::to_value(ev).unwrap_or_else(|e| panic!("{e}"));
            if ev.type_name() == "connected" {
                assert!(json["since_greeting"].is_string(), "{json}");
                json.as_object_mut().map(|o| o.remove("since_greeting"));
            }
            serde_json::from_value(json).unwrap_or_else(|e| panic!("{e}"))
        })
        .collect();
    let read: Vec<(bool, Option<Duration>)> = old
        .iter()
        .filter_map(|ev| match ev {
            CampaignEvent::Connected {
                late,
                since_greeting,
                ..
            } => Some((*late, *since_greeting)),
            _ => None,
        })
        .collect();
    assert_eq!(read, [(false, None), (true, None)]);
    let mut restored = CampaignEngine::restore(&old);
    let stats = restored
        .stats(secs(9), &cid())
        .unwrap_or_else(|| panic!("no stats"));
    assert_eq!((stats.connected, stats.abandoned), (2, 1));
}

#[test]
fn machines_are_dropped_or_messaged_and_unsure_answers_go_to_agents() {
    let mut s = spec(DialMode::Progressive);
    s.amd.on_machine = AmdAction::LeaveMessage;
    let mut e = engine_with(s, 3);
    let d = dials(&e.next_dials(t0(), &capacity(3, vec![]), &NoDnc));
    ok(&mut e, secs(5), outcome(&d[0], OutcomeKind::Answered));
    ok(&mut e, secs(6), answered(&d[0], AnswerVerdict::Machine));
    assert_eq!(
        state(&e, d[0].entry),
        EntryState::Done {
            result: AttemptResult::MessageLeft
        }
    );
    ok(&mut e, secs(6), answered(&d[1], AnswerVerdict::NotSure));
    assert!(matches!(
        state(&e, d[1].entry),
        EntryState::WaitingAgent { live: true, .. }
    ));
    let mut s = spec(DialMode::Progressive);
    s.amd.on_machine = AmdAction::Drop;
    let mut e = engine_with(s, 1);
    let d = dials(&e.next_dials(t0(), &capacity(1, vec![]), &NoDnc));
    ok(&mut e, secs(6), answered(&d[0], AnswerVerdict::Machine));
    assert_eq!(
        state(&e, d[0].entry),
        EntryState::Done {
            result: AttemptResult::MachineDropped
        }
    );
    assert_eq!(e.stats(secs(7), &cid()).map(|s| s.live_answered), Some(0));
}

#[test]
fn after_a_restart_an_open_attempt_is_unknown_and_waits_its_retry_delay() {
    let mut e = engine_with(spec(DialMode::Progressive), 2);
    let d = dials(&e.next_dials(t0(), &capacity(1, vec![]), &NoDnc));
    let log = drain(&mut e);
    let mut restored = CampaignEngine::restore(&log);
    ok(&mut restored, secs(30), Command::Restarted);
    let events = drain(&mut restored);
    assert!(matches!(
        &events[..],
        [CampaignEvent::AttemptEnded { result: AttemptResult::Unknown, next: NextStep::Retry { at }, .. }]
            if *at == secs(30 + 15 * 60)
    ));
    // The late outcome of the lost attempt is refused.
    assert!(matches!(
        restored.handle(secs(31), outcome(&d[0], OutcomeKind::Busy), &NoDnc),
        Err(CommandError::StaleAttempt { .. })
    ));
    // The other record is dialed; the unknown one not before its delay.
    let next = dials(&restored.next_dials(secs(31), &capacity(2, vec![]), &NoDnc));
    assert_eq!(next.iter().map(|o| o.entry.0).collect::<Vec<_>>(), [1]);
}

#[test]
fn an_attempt_without_news_becomes_unknown_after_its_grace() {
    let mut e = engine_with(spec(DialMode::Progressive), 1);
    let d = dials(&e.next_dials(t0(), &capacity(1, vec![]), &NoDnc));
    let (at, timer) = e.poll_timeout().unwrap_or_else(|| panic!("no timer"));
    assert_eq!(at, secs(25 + 60));
    assert_eq!(
        timer,
        EngineTimer::AttemptOverdue {
            campaign: cid(),
            entry: d[0].entry
        }
    );
    e.handle_timeout(time::sub(at, Duration::from_secs(1)));
    assert!(matches!(state(&e, d[0].entry), EntryState::Dialing { .. }));
    e.handle_timeout(at);
    assert!(matches!(state(&e, d[0].entry), EntryState::Pending { .. }));
    assert_eq!(
        e.entries(&cid())[0].results.get(&AttemptResult::Unknown),
        Some(&1)
    );
}

#[test]
fn duplicates_across_imports_are_reported_not_added() {
    let mut e = engine_with(spec(DialMode::Progressive), 3);
    drain(&mut e);
    let add = Command::AddRecords {
        campaign: cid(),
        records: vec![record(2), record(7), record(7)],
    };
    ok(&mut e, t0(), add);
    let events = drain(&mut e);
    let [CampaignEvent::RecordsAdded {
        first,
        records,
        not_added,
        ..
    }] = &events[..]
    else {
        panic!("{events:?}")
    };
    assert_eq!(*first, EntryId(3));
    assert_eq!(records.len(), 1);
    assert_eq!(
        not_added,
        &[
            NotAdded::Duplicate {
                line: 4,
                number: number(2),
                of: EntryId(2)
            },
            NotAdded::Duplicate {
                line: 9,
                number: number(7),
                of: EntryId(3)
            }
        ]
    );
    assert_eq!(e.entries(&cid()).len(), 4);
}

#[test]
fn pause_keeps_state_stop_ends_dialing_and_states_are_checked() {
    let mut e = engine_with(spec(DialMode::Progressive), 5);
    let d = dials(&e.next_dials(t0(), &capacity(1, vec![]), &NoDnc));
    ok(&mut e, secs(1), Command::Pause { campaign: cid() });
    assert!(e
        .next_dials(secs(2), &capacity(3, vec![]), &NoDnc)
        .is_empty());
    // Outcomes of calls in progress are still taken.
    ok(&mut e, secs(3), outcome(&d[0], OutcomeKind::Busy));
    assert!(matches!(
        e.handle(secs(3), Command::Start { campaign: cid() }, &NoDnc),
        Err(CommandError::BadState { .. })
    ));
    ok(&mut e, secs(4), Command::Resume { campaign: cid() });
    assert_eq!(
        dials(&e.next_dials(secs(4), &capacity(3, vec![]), &NoDnc)).len(),
        3
    );
    ok(&mut e, secs(5), Command::Stop { campaign: cid() });
    assert!(e
        .next_dials(secs(5), &capacity(3, vec![]), &NoDnc)
        .is_empty());
    assert!(e
        .handle(secs(6), Command::Resume { campaign: cid() }, &NoDnc)
        .is_err());
    let stats = e
        .stats(secs(6), &cid())
        .unwrap_or_else(|| panic!("no stats"));
    assert_eq!(stats.state, RunState::Stopped);
    assert_eq!((stats.total, stats.pending, stats.in_progress), (5, 2, 3));
}

#[test]
fn priority_decides_which_due_record_goes_first() {
    let mut e = engine_with(spec(DialMode::Progressive), 0);
    let mut records: Vec<ListRecord> = (0..3).map(record).collect();
    records[2].priority = 5;
    ok(
        &mut e,
        t0(),
        Command::AddRecords {
            campaign: cid(),
            records,
        },
    );
    let d = dials(&e.next_dials(t0(), &capacity(2, vec![]), &NoDnc));
    assert_eq!(d.iter().map(|o| o.entry.0).collect::<Vec<_>>(), [2, 0]);
}

#[test]
fn events_read_back_from_json() {
    let mut e = engine_with(spec(DialMode::Progressive), 2);
    let d = dials(&e.next_dials(t0(), &capacity(1, vec![]), &NoDnc));
    ok(&mut e, secs(5), outcome(&d[0], OutcomeKind::NoAnswer));
    for event in drain(&mut e) {
        let json = serde_json::to_string(&event).unwrap_or_else(|e| panic!("{e}"));
        let back: CampaignEvent =
            serde_json::from_str(&json).unwrap_or_else(|e| panic!("{json}: {e}"));
        assert_eq!(back, event, "{json}");
        assert!(json.contains(&format!("\"type\":\"{}\"", event.type_name())));
    }
}

#[test]
fn records_past_their_deadline_or_without_a_zone_are_given_up_at_dial_time() {
    let mut e = engine_with(spec(DialMode::Progressive), 0);
    let mut due = record(1);
    due.due.deadline = Some(crate::due::Deadline::Within(Duration::from_secs(3600)));
    let mut zoneless = record(2);
    zoneless.time_zone = None;
    let add = Command::AddRecords {
        campaign: cid(),
        records: vec![due, zoneless, record(3)],
    };
    ok(&mut e, t0(), add);
    let d = dials(&e.next_dials(secs(3600), &capacity(3, vec![]), &NoDnc));
    assert_eq!(
        d.iter().map(|o| o.number.clone()).collect::<Vec<_>>(),
        [number(3)]
    );
    assert_eq!(
        state(&e, EntryId(0)),
        EntryState::GivenUp {
            reason: GiveUpReason::Expired
        }
    );
    assert_eq!(
        state(&e, EntryId(1)),
        EntryState::GivenUp {
            reason: GiveUpReason::NoTimeZone
        }
    );
}
