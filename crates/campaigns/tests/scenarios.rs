//! Scheduler scenarios on virtual time: pacing and order, retries per outcome, DNC, unknown
//! zones, deadlines and warnings, crash recovery, cancellation and the event format.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::*;
use hotline_campaigns::*;

const DAY: Duration = Duration::from_secs(86_400);
const HOUR: Duration = Duration::from_secs(3600);

fn scheduler() -> Scheduler {
    Scheduler::new(config()).unwrap_or_else(|e| panic!("{e}"))
}

/// 10:00 in Shanghai, Monday.
fn morning() -> jiff::Timestamp {
    ts("2026-12-07T02:00:00Z")
}

fn outcome(s: &mut Scheduler, now: jiff::Timestamp, order: &DialOrder, kind: DialOutcome) {
    s.handle(
        now,
        Command::Outcome {
            id: order.id,
            attempt: order.attempt,
            outcome: kind,
        },
    )
    .unwrap_or_else(|e| panic!("outcome: {e}"));
}

#[test]
fn claims_never_exceed_free_agents_and_follow_deadline_then_priority() {
    let mut s = scheduler();
    let now = morning();
    for (id, hours, priority) in [(1, 30, 0), (2, 10, 0), (3, 20, 5), (4, 20, 9), (5, 40, 0)] {
        let mut cb = callback(id, Some("Asia/Shanghai"), Some(HOUR * hours));
        cb.priority = priority;
        create(&mut s, now, cb);
    }
    drain(&mut s);
    assert_eq!(s.dispatch(now, &free(3), &NoDnc), 3);
    let claimed = drain_claims(&mut s);
    assert_eq!(claimed, [CallbackId(2), CallbackId(4), CallbackId(3)]);
    // The same agents, not yet reserved: no more claims.
    assert_eq!(s.dispatch(now, &free(3), &NoDnc), 0);
    // A fourth agent: one more, the next deadline.
    assert_eq!(s.dispatch(now, &free(4), &NoDnc), 1);
    assert_eq!(drain_claims(&mut s), [CallbackId(1)]);
}

#[test]
fn dials_per_minute_cap_bursts_and_a_pacing_timer_resumes() {
    let mut config = config();
    if let Some(q) = config.queues.get_mut(&support()) {
        q.max_dials_per_minute = 2;
    }
    let mut s = Scheduler::new(config).unwrap_or_else(|e| panic!("{e}"));
    let now = morning();
    for id in 1..=5 {
        create(&mut s, now, callback(id, Some("Asia/Shanghai"), None));
    }
    drain(&mut s);
    assert_eq!(s.dispatch(now, &free(50), &NoDnc), 2);
    for id in drain_claims(&mut s) {
        s.handle(now, Command::ReservationFailed { id })
            .unwrap_or_else(|e| panic!("{e}"));
    }
    assert_eq!(
        s.dispatch(now, &free(50), &NoDnc),
        0,
        "released claims still count"
    );
    let (at, reason) = s.poll_timeout().unwrap_or_else(|| panic!("no timer"));
    assert_eq!(reason, TimerReason::Pacing { queue: support() });
    assert_eq!(at, time::add(now, Duration::from_secs(60)));
    assert_eq!(
        s.dispatch(time::add(now, Duration::from_secs(59)), &free(50), &NoDnc),
        0
    );
    assert_eq!(s.dispatch(at, &free(50), &NoDnc), 2);
}

#[test]
fn busy_is_retried_after_its_delay_then_answered_within_deadline() {
    let mut s = scheduler();
    let now = morning();
    create(&mut s, now, callback(1, Some("Asia/Shanghai"), Some(DAY)));
    let orders = dial_all(&mut s, now, 1);
    assert_eq!(orders[0].attempt, 1);
    assert_eq!(orders[0].caller_id, E164::parse("+861088880000").ok());
    assert_eq!(orders[0].ring_timeout, Duration::from_secs(30));
    let busy = classify(FinalResponse {
        status: 486,
        retry_after: None,
        reason: Some("Q.850;cause=17"),
        cancelled_by_us: false,
    });
    outcome(&mut s, now, &orders[0], busy);
    let ended = drain(&mut s);
    let retry_at = ended.iter().find_map(|e| match e {
        CallbackEvent::AttemptEnded {
            retry_at, outcome, ..
        } => {
            assert_eq!(outcome.q850_cause, Some(17));
            *retry_at
        }
        _ => None,
    });
    assert_eq!(retry_at, Some(time::add(now, Duration::from_secs(600))));
    // Not before the delay.
    assert!(dial_all(&mut s, time::add(now, Duration::from_secs(599)), 1).is_empty());
    let later = time::add(now, Duration::from_secs(600));
    let orders = dial_all(&mut s, later, 1);
    assert_eq!(orders[0].attempt, 2);
    outcome(
        &mut s,
        later,
        &orders[0],
        DialOutcome::of(OutcomeKind::Answered),
    );
    let events = drain(&mut s);
    assert!(events.contains(&CallbackEvent::Completed {
        id: CallbackId(1),
        at: later,
        attempt: 2,
        within_deadline: true
    }));
    assert_eq!(s.stats(later).completed_within_deadline, 1);
}

#[test]
fn retry_after_of_a_trunk_failure_is_honoured() {
    let mut s = scheduler();
    let now = morning();
    create(&mut s, now, callback(1, Some("Asia/Shanghai"), None));
    let orders = dial_all(&mut s, now, 1);
    let failure = classify(FinalResponse {
        status: 503,
        retry_after: Some(Duration::from_secs(900)),
        reason: None,
        cancelled_by_us: false,
    });
    outcome(&mut s, now, &orders[0], failure);
    let cb = s.callback(CallbackId(1)).unwrap_or_else(|| panic!("lost"));
    // 900 s beats the 2 min network-failure delay.
    assert_eq!(cb.retry_at, Some(time::add(now, Duration::from_secs(900))));
    assert!(dial_all(&mut s, time::add(now, Duration::from_secs(899)), 1).is_empty());
    assert_eq!(
        dial_all(&mut s, time::add(now, Duration::from_secs(900)), 1).len(),
        1
    );
}

#[test]
fn invalid_numbers_are_never_retried_and_attempts_run_out() {
    let mut s = scheduler();
    let now = morning();
    create(&mut s, now, callback(1, Some("Asia/Shanghai"), None));
    create(&mut s, now, callback(2, Some("Asia/Shanghai"), None));
    let orders = dial_all(&mut s, now, 2);
    let invalid = classify(FinalResponse {
        status: 404,
        retry_after: None,
        reason: None,
        cancelled_by_us: false,
    });
    outcome(&mut s, now, &orders[0], invalid);
    let no_answer = classify(FinalResponse {
        status: 487,
        retry_after: None,
        reason: None,
        cancelled_by_us: true,
    });
    outcome(&mut s, now, &orders[1], no_answer);
    assert_eq!(
        s.callback(CallbackId(1)).map(|c| c.state.clone()),
        Some(CallbackState::GivenUp(GiveUpReason::InvalidNumber))
    );
    // Callback 2: no answer 4 times (the rule's max) -> given up.
    let mut now = now;
    let mut attempts = 1;
    loop {
        let state = s.callback(CallbackId(2)).map(|c| c.state.kind());
        if state == Some(StateKind::GivenUp) {
            break;
        }
        now = time::add(now, Duration::from_secs(1800));
        for order in dial_all(&mut s, now, 1) {
            attempts += 1;
            outcome(&mut s, now, &order, ringout());
        }
        assert!(attempts <= 4, "dialed more than the no-answer rule allows");
    }
    assert_eq!(attempts, 4);
    let events = drain(&mut s);
    assert!(events.iter().any(|e| matches!(
        e,
        CallbackEvent::GivenUp {
            reason: GiveUpReason::AttemptsExhausted,
            attempts: 4,
            ..
        }
    )));
}

fn ringout() -> DialOutcome {
    outcome::ring_timeout()
}

#[test]
fn dnc_numbers_are_never_dialed_even_when_listed_after_the_claim() {
    let mut s = scheduler();
    let now = morning();
    create(&mut s, now, callback(1, Some("Asia/Shanghai"), None));
    create(&mut s, now, callback(2, Some("Asia/Shanghai"), None));
    drain(&mut s);
    let dnc: BTreeSet<E164> = [number(1)].into();
    assert_eq!(s.dispatch(now, &free(5), &dnc), 1);
    let events = drain(&mut s);
    assert!(events.iter().any(|e| matches!(
        e,
        CallbackEvent::GivenUp {
            id: CallbackId(1),
            reason: GiveUpReason::DoNotCall,
            ..
        }
    )));
    // Number 2 is listed between the claim and the reservation.
    let dnc: BTreeSet<E164> = [number(1), number(2)].into();
    let answer = s.agent_reserved(now, CallbackId(2), AgentName::new("bob"), &dnc);
    assert_eq!(answer, Ok(Reservation::Release));
    let events = drain(&mut s);
    assert!(!events
        .iter()
        .any(|e| matches!(e, CallbackEvent::AttemptStarted { .. })));
    assert_eq!(
        s.callback(CallbackId(2)).map(|c| c.state.clone()),
        Some(CallbackState::GivenUp(GiveUpReason::DoNotCall))
    );
}

#[test]
fn an_unknown_zone_is_held_until_set() {
    let mut s = scheduler();
    let now = morning();
    create(&mut s, now, callback(1, None, Some(DAY)));
    let events = drain(&mut s);
    assert_eq!(types(&events), ["created", "held"]);
    assert!(matches!(
        events[1],
        CallbackEvent::Held {
            reason: HoldReason::UnknownTimeZone,
            ..
        }
    ));
    assert_eq!(s.dispatch(now, &free(5), &NoDnc), 0);
    s.handle(
        now,
        Command::SetTimeZone {
            id: CallbackId(1),
            time_zone: zone("Asia/Shanghai"),
        },
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.dispatch(now, &free(5), &NoDnc), 1);
}

#[test]
fn warnings_then_missed_deadline_then_expiry() {
    let mut config = config();
    config.warnings = vec![HOUR * 2, Duration::from_secs(1800)];
    config.give_up_after_deadline = Some(DAY);
    let mut s = Scheduler::new(config).unwrap_or_else(|e| panic!("{e}"));
    let now = morning();
    // No agents ever free: the callback is never dialed.
    create(
        &mut s,
        now,
        callback(1, Some("Asia/Shanghai"), Some(HOUR * 4)),
    );
    let (events, orders) = run_until(&mut s, now, time::add(now, DAY * 3), 0);
    assert!(orders.is_empty());
    let seen: Vec<(&str, jiff::Timestamp)> = events
        .iter()
        .filter(|e| e.type_name() != "created")
        .map(|e| (e.type_name(), e.at()))
        .collect();
    assert_eq!(
        seen,
        [
            ("deadline_warning", time::add(now, HOUR * 2)),
            ("deadline_warning", time::add(now, HOUR * 7 / 2)),
            ("missed_deadline", time::add(now, HOUR * 4)),
            ("given_up", time::add(now, HOUR * 28)),
        ]
    );
    let stats = s.stats(time::add(now, DAY * 3));
    assert_eq!((stats.given_up, stats.kpi_due), (1, 1));
    assert_eq!(stats.completion_percent(), Some(0.0));
}

#[test]
fn working_day_deadlines_come_from_the_calendar() {
    let mut config = config();
    let calendar: BusinessCalendar = serde_json::from_str(
        r#"{"time_zone": "Asia/Shanghai", "holidays": ["2026-12-09"], "working_days": ["2026-12-12"]}"#,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    config.calendars.insert("cn".into(), calendar);
    let mut s = Scheduler::new(config).unwrap_or_else(|e| panic!("{e}"));
    let mut cb = callback(1, Some("Asia/Shanghai"), None);
    cb.due.deadline = Some(Deadline::WorkingDays {
        days: 4,
        calendar: Some("cn".into()),
    });
    // Monday 12-07: Tue 8 (1), Wed 9 holiday, Thu 10 (2), Fri 11 (3), Sat 12 make-up (4).
    create(&mut s, morning(), cb);
    let deadline = s.callback(CallbackId(1)).and_then(|c| c.spec.due.deadline);
    assert_eq!(deadline, Some(ts("2026-12-12T16:00:00Z")));
}

#[test]
fn a_crash_mid_dial_becomes_unknown_and_waits_its_retry_delay() {
    let mut s = scheduler();
    let now = morning();
    create(&mut s, now, callback(1, Some("Asia/Shanghai"), Some(DAY)));
    let mut log = Vec::new();
    let orders = dial_logged(&mut s, now, 1, &mut log);
    assert_eq!(orders.len(), 1);
    // The process dies; a new one replays the log.
    let mut restored = Scheduler::restore(config(), &log).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(restored.book(), s.book());
    let later = time::add(now, Duration::from_secs(5));
    restored
        .handle(later, Command::Restarted)
        .unwrap_or_else(|e| panic!("{e}"));
    let events = drain(&mut restored);
    assert!(matches!(
        events.first(),
        Some(CallbackEvent::AttemptEnded {
            outcome: DialOutcome {
                kind: OutcomeKind::Unknown,
                ..
            },
            ..
        })
    ));
    log.extend(events);
    // Not redialed before the unknown outcome's 15 min.
    assert!(dial_all(&mut restored, time::add(later, Duration::from_secs(899)), 5).is_empty());
    let orders = dial_all(&mut restored, time::add(later, Duration::from_secs(900)), 5);
    assert_eq!(orders.len(), 1);
    assert_eq!(orders[0].attempt, 2);
}

#[test]
fn an_attempt_never_reported_becomes_unknown_after_ring_and_grace() {
    let mut s = scheduler();
    let now = morning();
    create(&mut s, now, callback(1, Some("Asia/Shanghai"), None));
    dial_all(&mut s, now, 1);
    drain(&mut s);
    let (at, reason) = s.poll_timeout().unwrap_or_else(|| panic!("no timer"));
    assert_eq!(reason, TimerReason::AttemptTimeout { id: CallbackId(1) });
    assert_eq!(at, time::add(now, Duration::from_secs(90)));
    s.handle_timeout(at);
    let cb = s.callback(CallbackId(1)).unwrap_or_else(|| panic!("lost"));
    assert_eq!(cb.last_outcome.map(|o| o.kind), Some(OutcomeKind::Unknown));
    assert_eq!(cb.state, CallbackState::Waiting);
}

#[test]
fn cancel_applies_until_the_dial_and_stale_outcomes_are_refused() {
    let mut s = scheduler();
    let now = morning();
    create(&mut s, now, callback(1, Some("Asia/Shanghai"), None));
    create(&mut s, now, callback(2, Some("Asia/Shanghai"), None));
    let orders = dial_all(&mut s, now, 1);
    let cancel = s.handle(now, Command::Cancel { id: orders[0].id });
    assert!(matches!(
        cancel,
        Err(CommandError::WrongState {
            state: StateKind::Dialing,
            ..
        })
    ));
    let stale = s.handle(
        now,
        Command::Outcome {
            id: orders[0].id,
            attempt: 7,
            outcome: DialOutcome::of(OutcomeKind::Busy),
        },
    );
    assert!(matches!(
        stale,
        Err(CommandError::WrongAttempt {
            expected: 1,
            got: 7,
            ..
        })
    ));
    let other = if orders[0].id == CallbackId(1) { 2 } else { 1 };
    assert_eq!(
        s.handle(
            now,
            Command::Cancel {
                id: CallbackId(other)
            }
        ),
        Ok(())
    );
    assert_eq!(
        s.handle(
            now,
            Command::Cancel {
                id: CallbackId(other)
            }
        ),
        Err(CommandError::WrongState {
            id: CallbackId(other),
            state: StateKind::Cancelled,
            action: "cancel"
        })
    );
    assert_eq!(
        s.handle(now, Command::Cancel { id: CallbackId(9) }),
        Err(CommandError::Unknown(CallbackId(9)))
    );
    let dup = s.handle(now, Command::Create(Box::new(callback(1, None, None))));
    assert_eq!(dup, Err(CommandError::Duplicate(CallbackId(1))));
}

#[test]
fn sampling_leaves_out_callbacks_with_an_event_and_reports_the_share() {
    let mut config = config();
    config.sampling = serde_json::from_str(
        r#"{"seed": 5, "time_zone": "Asia/Shanghai", "rules": [
            {"name": "major", "match": {"reason": "complaint", "attributes": {"severity": "major"}}, "percent": 100},
            {"name": "complaints", "match": {"reason": "complaint"}, "percent": 50}]}"#,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let mut s = Scheduler::new(config).unwrap_or_else(|e| panic!("{e}"));
    let now = morning();
    for id in 0..100 {
        let mut cb = callback(id, Some("Asia/Shanghai"), Some(DAY));
        cb.reason = "complaint".into();
        if id % 10 == 0 {
            cb.attributes.insert("severity".into(), "major".into());
        }
        create(&mut s, now, cb);
    }
    let events = drain(&mut s);
    let left_out = events
        .iter()
        .filter(|e| {
            matches!(
                e,
                CallbackEvent::GivenUp {
                    reason: GiveUpReason::NotSampled,
                    ..
                }
            )
        })
        .count();
    assert_eq!(left_out, 50);
    for id in (0..100).step_by(10) {
        let state = s.callback(CallbackId(id)).map(|c| c.state.kind());
        assert_eq!(state, Some(StateKind::Waiting), "major {id}");
    }
    let report = s.sampling_report();
    let complaints = report
        .iter()
        .find(|r| r.rule == "complaints")
        .unwrap_or_else(|| panic!("no line"));
    assert_eq!(
        (
            complaints.month.as_str(),
            complaints.matched,
            complaints.kept
        ),
        ("2026-12", 100, 50)
    );
    assert_eq!(complaints.actual_percent, 50.0);
    assert_eq!(s.stats(now).not_sampled, 50);
}

#[test]
fn events_serialize_in_snake_case_and_read_back() {
    let mut s = scheduler();
    let now = morning();
    create(&mut s, now, callback(1, Some("Asia/Shanghai"), Some(DAY)));
    let mut events = Vec::new();
    let orders = dial_logged(&mut s, now, 1, &mut events);
    outcome(
        &mut s,
        now,
        &orders[0],
        DialOutcome::of(OutcomeKind::Answered),
    );
    events.extend(drain(&mut s));
    for e in &events {
        let json = serde_json::to_string(e).unwrap_or_else(|err| panic!("{err}"));
        assert!(
            json.starts_with(&format!("{{\"type\":\"{}\"", e.type_name())),
            "{json}"
        );
        let back: CallbackEvent =
            serde_json::from_str(&json).unwrap_or_else(|err| panic!("{json}: {err}"));
        assert_eq!(&back, e);
    }
    let json = serde_json::to_string(&events[2]).unwrap_or_default();
    assert_eq!(
        json,
        r#"{"type":"attempt_started","id":"00000000-0000-0000-0000-000000000001","at":"2026-12-07T02:00:00Z","attempt":1,"agent":"alice","number":"+8613800000001","caller_id":"+861088880000","ring_timeout_ms":30000}"#
    );
}

#[test]
fn list_filters_by_queue_state_and_deadline_in_dial_order() {
    let mut s = scheduler();
    let now = morning();
    create(
        &mut s,
        now,
        callback(1, Some("Asia/Shanghai"), Some(DAY * 2)),
    );
    create(&mut s, now, callback(2, Some("Asia/Shanghai"), Some(DAY)));
    create(&mut s, now, callback(3, Some("Asia/Shanghai"), None));
    s.handle(now, Command::Cancel { id: CallbackId(3) })
        .unwrap_or_else(|e| panic!("{e}"));
    let ids = |f: &ListFilter| s.list(f).iter().map(|c| c.id.0).collect::<Vec<_>>();
    assert_eq!(ids(&ListFilter::default()), [2, 1, 3]);
    let waiting = ListFilter {
        states: vec![StateKind::Waiting],
        ..ListFilter::default()
    };
    assert_eq!(ids(&waiting), [2, 1]);
    let soon = ListFilter {
        due_by: Some(time::add(now, DAY)),
        queue: Some(support()),
        ..ListFilter::default()
    };
    assert_eq!(ids(&soon), [2]);
}

#[test]
fn a_total_cap_takes_the_earliest_deadline_across_queues() {
    let mut config = config();
    let sales = QueueName::new("sales");
    config
        .queues
        .insert(sales.clone(), QueueSettings::default());
    let mut s = Scheduler::new(config).unwrap_or_else(|e| panic!("{e}"));
    let now = morning();
    create(&mut s, now, callback(1, Some("Asia/Shanghai"), Some(DAY)));
    let mut in_sales = callback(2, Some("Asia/Shanghai"), Some(HOUR));
    in_sales.queue = sales.clone();
    create(&mut s, now, in_sales);
    drain(&mut s);
    let capacity = Capacity {
        free_agents: [(support(), 1), (sales.clone(), 1)].into(),
        total: Some(1),
    };
    assert_eq!(s.dispatch(now, &capacity, &NoDnc), 1);
    let claimed = drain(&mut s);
    assert!(matches!(
        &claimed[..],
        [CallbackEvent::Claimed { id: CallbackId(2), queue, .. }] if *queue == sales
    ));
    // The open claim counts against the total.
    assert_eq!(s.dispatch(now, &capacity, &NoDnc), 0);
    let capacity = Capacity {
        total: Some(2),
        ..capacity
    };
    assert_eq!(s.dispatch(now, &capacity, &NoDnc), 1);
}

#[test]
fn a_clock_stepping_back_never_dates_an_event_earlier() {
    let mut s = scheduler();
    let now = morning();
    create(&mut s, now, callback(1, Some("Asia/Shanghai"), None));
    let orders = dial_all(&mut s, now, 1);
    let earlier = time::sub(now, HOUR);
    outcome(
        &mut s,
        earlier,
        &orders[0],
        DialOutcome::of(OutcomeKind::Busy),
    );
    let events = drain(&mut s);
    assert!(events.iter().all(|e| e.at() >= now), "{events:?}");
}

#[test]
fn a_retried_callback_keeps_its_place_before_later_deadlines() {
    let mut s = scheduler();
    let now = morning();
    create(
        &mut s,
        now,
        callback(1, Some("Asia/Shanghai"), Some(HOUR * 6)),
    );
    let orders = dial_all(&mut s, now, 1);
    outcome(&mut s, now, &orders[0], DialOutcome::of(OutcomeKind::Busy));
    // Newer callbacks with later deadlines arrive while it waits for its retry.
    for id in 2..5 {
        create(
            &mut s,
            now,
            callback(id, Some("Asia/Shanghai"), Some(HOUR * 8)),
        );
    }
    drain(&mut s);
    let retry = time::add(now, Duration::from_secs(600));
    assert_eq!(s.dispatch(retry, &free(1), &NoDnc), 1);
    assert_eq!(drain_claims(&mut s), [CallbackId(1)]);
}

#[test]
fn the_claimed_priority_rises_toward_the_deadline() {
    let mut s = scheduler();
    let now = morning();
    let mut cb = callback(1, Some("Asia/Shanghai"), Some(HOUR * 10));
    cb.priority = 3;
    create(&mut s, now, cb);
    let priority_at = |s: &mut Scheduler, at| {
        s.dispatch(at, &free(1), &NoDnc);
        let p = drain(s).into_iter().find_map(|e| match e {
            CallbackEvent::Claimed { priority, .. } => Some(priority),
            _ => None,
        });
        s.handle(at, Command::ReservationFailed { id: CallbackId(1) })
            .unwrap_or_else(|e| panic!("{e}"));
        p
    };
    // Ramp 10 over the 10 h window: +0 at the start, +5 halfway, +10 at the deadline.
    assert_eq!(priority_at(&mut s, now), Some(3));
    assert_eq!(priority_at(&mut s, time::add(now, HOUR * 5)), Some(8));
    assert_eq!(priority_at(&mut s, time::add(now, HOUR * 10)), Some(13));
}
