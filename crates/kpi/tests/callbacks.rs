//! Callbacks in the KPIs, on hand-built event sequences: the conversation of a callback is
//! handled work of its agent and queue (not a new offered or answered call), attempts and
//! outcomes are counted per queue and agent, and callback completion (completed within the
//! due window / due) is scored in bands, per queue and overall.

mod support;

use std::time::Duration;

use hotline_events::AgentState::{OnCall, Ready, Reserved, Ringing, WrapUp};
use hotline_events::{CallbackFailCause, EndReason, ScheduledGiveUpReason};
use hotline_kpi::{
    AgentKpis, CompletionBand, KpiConfig, KpiProjection, KpiSnapshot, QueueKpiConfig, QueueKpis,
    Window,
};
use support::Journal;
use time::macros::datetime;

const LAST_15M: Window = Window::Rolling { seconds: 900 };
const LAST_60M: Window = Window::Rolling { seconds: 3600 };

fn queue_kpis(snap: &KpiSnapshot, queue: &str, w: Window) -> QueueKpis {
    snap.queues[queue]
        .windows
        .iter()
        .find(|x| x.window == w)
        .map(|x| x.kpis.clone())
        .expect("window present")
}

fn agent_kpis(snap: &KpiSnapshot, agent: &str, w: Window) -> AgentKpis {
    snap.agents[agent]
        .windows
        .iter()
        .find(|x| x.window == w)
        .map(|x| x.kpis.clone())
        .expect("window present")
}

fn total_kpis(snap: &KpiSnapshot, w: Window) -> QueueKpis {
    snap.totals
        .queues
        .iter()
        .find(|x| x.window == w)
        .map(|x| x.kpis.clone())
        .expect("window present")
}

/// A caller waits 30 s in `support`, chooses a callback and is hung up; at 60 s alice is
/// reserved and the customer dialed; they talk from 70 s for 130 s with 10 s on hold (120 s
/// of talk); alice wraps up for 30 s.
fn one_callback() -> Journal {
    let mut j = Journal::new(datetime!(2026-11-23 10:00 UTC));
    j.state(
        0,
        "alice",
        hotline_events::AgentState::LoggedOut,
        Ready,
        None,
    );
    j.arrived(0, 1).queued(0, 1, "support");
    j.converted(30_000, 1, "support", 0)
        .ended_with(31_000, 1, EndReason::CallbackRequested);
    j.state(60_000, "alice", Ready, Reserved, None)
        .callback_due(60_000, 1, "support", "alice", 1)
        .state(62_000, "alice", Reserved, Ringing, None)
        .state(65_000, "alice", Ringing, OnCall, None)
        .callback_dialing(65_000, 1, "support", "alice")
        .callback_connected(70_000, 1, "support", "alice");
    j.held(100_000, 1).resumed(110_000, 1);
    j.ended(200_000, 1)
        .state(200_000, "alice", OnCall, WrapUp, None)
        .state(230_000, "alice", WrapUp, Ready, None);
    j
}

#[test]
fn a_callback_conversation_is_handled_work_of_its_agent_not_a_new_call() {
    let j = one_callback();
    let kpis = KpiProjection::from_events(KpiConfig::default(), &j.events);
    let snap = kpis.snapshot(j.at(300_000));

    let q = queue_kpis(&snap, "support", LAST_15M);
    // The caller's call: offered once, neither answered nor abandoned.
    assert_eq!((q.offered, q.answered, q.abandoned), (1, 0, 0));
    assert_eq!(q.asa_s, None);
    // The conversation: handled work of the queue.
    assert_eq!(q.handled, 1);
    assert_eq!(q.talk_ms, 120_000);
    assert_eq!(q.hold_ms, 10_000);
    assert_eq!(q.wrap_up_ms, 30_000);
    assert_eq!(q.aht_s, Some(160.0));
    let cb = &q.callbacks;
    assert_eq!(
        (cb.requested, cb.dialed, cb.connected, cb.failed),
        (1, 1, 1, 0)
    );
    assert_eq!(cb.customer_dialed, 1);
    assert_eq!((cb.handled, cb.talk_ms, cb.hold_ms), (1, 120_000, 10_000));
    assert_eq!(
        (cb.due, cb.completed, cb.completed_within_due_window),
        (1, 1, 1)
    );
    assert_eq!(cb.completion, Some(1.0));
    assert_eq!(cb.completion_band, Some(CompletionBand::Full));

    let a = agent_kpis(&snap, "alice", LAST_15M);
    assert_eq!(a.handled, 1);
    assert_eq!(a.talk_ms, 120_000);
    assert_eq!(a.hold_ms, 10_000);
    assert_eq!(a.aht_s, Some(160.0));
    // No inbound offer was made to her.
    assert_eq!((a.offers, a.answered, a.answer_rate), (0, 0, None));
    assert_eq!(a.callbacks.dialed, 1);
    assert_eq!(a.callbacks.connected, 1);
    assert_eq!((a.callbacks.handled, a.callbacks.talk_ms), (1, 120_000));
    assert_eq!(a.state_ms.on_call, 135_000);
    assert_eq!(snap.calls.in_progress, 0);

    // The center-wide totals carry the same figures.
    let t = total_kpis(&snap, LAST_15M);
    assert_eq!((t.answered, t.handled), (0, 1));
    assert_eq!(t.callbacks.completion, Some(1.0));
}

#[test]
fn without_the_callback_its_caller_counts_the_same_and_nobody_handled_anything() {
    // The same journal cut before the dial: the conversation is what adds the handled work.
    let mut j = one_callback();
    j.events.truncate(5);
    let snap = KpiProjection::from_events(KpiConfig::default(), &j.events).snapshot(j.at(300_000));
    let q = queue_kpis(&snap, "support", LAST_15M);
    assert_eq!(
        (q.offered, q.answered, q.abandoned, q.handled),
        (1, 0, 0, 0)
    );
    assert_eq!(q.callbacks.requested, 1);
    assert_eq!((q.callbacks.due, q.callbacks.completion), (0, None));
}

#[test]
fn failed_attempts_by_cause_and_a_give_up_lower_the_completion() {
    let mut j = one_callback();
    // A second caller converts; busy, then an agent who does not answer (the customer is
    // not dialed), then the queue gives up.
    j.queued(240_000, 2, "support")
        .converted(250_000, 2, "support", 240_000)
        .ended_with(251_000, 2, EndReason::CallbackRequested);
    j.callback_due(260_000, 2, "support", "alice", 1)
        .callback_dialing(262_000, 2, "support", "alice")
        .callback_failed(265_000, 2, "support", "alice", CallbackFailCause::Busy)
        .callback_due(300_000, 2, "support", "bob", 2)
        .callback_failed(
            330_000,
            2,
            "support",
            "bob",
            CallbackFailCause::AgentUnavailable,
        )
        .callback_given_up(330_000, 2, "support");
    let snap = KpiProjection::from_events(KpiConfig::default(), &j.events).snapshot(j.at(400_000));
    let cb = queue_kpis(&snap, "support", LAST_15M).callbacks;
    assert_eq!((cb.requested, cb.dialed, cb.connected), (2, 3, 1));
    assert_eq!(cb.customer_dialed, 2);
    assert_eq!(cb.failed, 2);
    assert_eq!(
        cb.failed_by_cause.into_iter().collect::<Vec<_>>(),
        [
            ("agent_unavailable".to_string(), 1),
            ("busy".to_string(), 1)
        ]
    );
    assert_eq!(cb.given_up, 1);
    assert_eq!(
        (cb.due, cb.completed, cb.completed_within_due_window),
        (2, 1, 1)
    );
    assert_eq!(cb.completion, Some(0.5));
    assert_eq!(cb.completion_band, Some(CompletionBand::Below75));
    // Each agent counts the attempts they were reserved for.
    let bob = agent_kpis(&snap, "bob", LAST_15M).callbacks;
    assert_eq!((bob.dialed, bob.connected, bob.failed), (1, 0, 1));
    assert_eq!(bob.failed_by_cause["agent_unavailable"], 1);
    assert_eq!(bob.customer_dialed, 0);
    let alice = agent_kpis(&snap, "alice", LAST_15M).callbacks;
    assert_eq!((alice.dialed, alice.connected, alice.failed), (2, 1, 1));
    // Two queued calls, still none answered.
    let q = queue_kpis(&snap, "support", LAST_15M);
    assert_eq!((q.offered, q.answered, q.abandoned), (2, 0, 0));
}

#[test]
fn the_queue_callback_expiry_is_the_due_window_and_cancelled_ones_are_not_due() {
    let mut config = KpiConfig::default();
    config.queues.insert(
        "support".into(),
        QueueKpiConfig {
            callback_expiry: Some(Duration::from_secs(600)),
            ..QueueKpiConfig::default()
        },
    );
    let mut j = Journal::new(datetime!(2026-11-23 10:00 UTC));
    // c1 entered at 0: connected at 11 min, past its 10 min window (completed late).
    j.queued(0, 1, "support")
        .converted(30_000, 1, "support", 0)
        .callback_due(655_000, 1, "support", "alice", 1)
        .callback_connected(660_000, 1, "support", "alice")
        .ended(700_000, 1);
    // c2 entered at 60 s: connected at 10 min, within.
    j.queued(60_000, 2, "support")
        .converted(90_000, 2, "support", 60_000)
        .callback_due(595_000, 2, "support", "bob", 1)
        .callback_connected(600_000, 2, "support", "bob")
        .ended(640_000, 2);
    // c3 cancelled while waiting: not due.
    j.queued(100_000, 3, "support")
        .converted(110_000, 3, "support", 100_000)
        .callback_cancelled(200_000, 3, "support");
    // c4 connected exactly at the end of its window: within.
    j.callback_queued(120_000, 4, "support", 60_000)
        .callback_connected(660_000, 4, "support", "carol")
        .ended(670_000, 4);
    let snap = KpiProjection::from_events(config, &j.events).snapshot(j.at(720_000));
    let cb = queue_kpis(&snap, "support", LAST_15M).callbacks;
    assert_eq!((cb.requested, cb.cancelled), (4, 1));
    assert_eq!(
        (cb.due, cb.completed, cb.completed_within_due_window),
        (3, 3, 2)
    );
    let completion = cb.completion.unwrap();
    assert!((completion - 2.0 / 3.0).abs() < 1e-12, "{completion}");
    assert_eq!(cb.completion_band, Some(CompletionBand::Below75));
    assert_eq!((cb.handled, cb.talk_ms), (3, 40_000 + 40_000 + 10_000));
}

#[test]
fn a_restart_queuing_a_callback_again_does_not_count_a_new_request() {
    let mut j = Journal::new(datetime!(2026-11-23 10:00 UTC));
    j.queued(0, 1, "support")
        .converted(30_000, 1, "support", 0)
        .ended_with(31_000, 1, EndReason::CallbackRequested)
        // The next start restores the entry.
        .callback_queued(120_000, 1, "support", 0)
        .callback_due(130_000, 1, "support", "alice", 1)
        .callback_connected(135_000, 1, "support", "alice")
        .ended(195_000, 1);
    let snap = KpiProjection::from_events(KpiConfig::default(), &j.events).snapshot(j.at(200_000));
    let cb = queue_kpis(&snap, "support", LAST_15M).callbacks;
    assert_eq!((cb.requested, cb.due, cb.completed), (1, 1, 1));
    assert_eq!((cb.handled, cb.talk_ms), (1, 60_000));
}

#[test]
fn the_callers_late_hang_up_does_not_end_the_callback_conversation() {
    let mut j = Journal::new(datetime!(2026-11-23 10:00 UTC));
    j.queued(0, 1, "support")
        .converted(30_000, 1, "support", 0)
        .callback_due(31_000, 1, "support", "alice", 1)
        .callback_connected(40_000, 1, "support", "alice")
        // The caller's own end is journaled after the conversation started.
        .ended_with(41_000, 1, EndReason::CallbackRequested)
        .ended(160_000, 1);
    let snap = KpiProjection::from_events(KpiConfig::default(), &j.events).snapshot(j.at(200_000));
    let a = agent_kpis(&snap, "alice", LAST_15M);
    assert_eq!((a.handled, a.talk_ms), (1, 120_000));
}

#[test]
fn callback_outcomes_count_in_the_bucket_of_their_event() {
    let mut j = one_callback();
    // Twenty minutes later: only the last hour still holds the callback.
    j.arrived(1_500_000, 9).ended(1_510_000, 9);
    let snap =
        KpiProjection::from_events(KpiConfig::default(), &j.events).snapshot(j.at(1_500_000));
    assert_eq!(
        queue_kpis(&snap, "support", LAST_15M).callbacks.connected,
        0
    );
    assert_eq!(queue_kpis(&snap, "support", LAST_15M).handled, 0);
    assert_eq!(
        queue_kpis(&snap, "support", LAST_60M).callbacks.connected,
        1
    );
    assert_eq!(
        queue_kpis(&snap, "support", LAST_60M).callbacks.completion,
        Some(1.0)
    );
    assert_eq!(queue_kpis(&snap, "support", Window::Day).callbacks.due, 1);
}

#[test]
fn the_live_fold_with_redeliveries_equals_a_replay_of_the_journal() {
    let mut j = one_callback();
    j.queued(240_000, 2, "support")
        .converted(250_000, 2, "support", 240_000)
        .callback_due(260_000, 2, "support", "alice", 1)
        .callback_failed(265_000, 2, "support", "alice", CallbackFailCause::Busy)
        .callback_given_up(300_000, 2, "support");
    // Live: each event as committed, with snapshots read in between, and an at-least-once
    // stream delivering every event a second time after the next one.
    let mut live = KpiProjection::new(KpiConfig::default());
    let mut previous = None;
    for ev in &j.events {
        assert!(live.apply(ev));
        let _ = live.snapshot(ev.ts);
        if let Some(prev) = previous.replace(ev) {
            assert!(!live.apply(prev), "a redelivery is ignored");
        }
    }
    let replay = KpiProjection::from_events(KpiConfig::default(), &j.events);
    let at = j.at(400_000);
    assert_eq!(live.snapshot(at), replay.snapshot(at));
    let cb = queue_kpis(&replay.snapshot(at), "support", LAST_15M).callbacks;
    assert_eq!((cb.due, cb.completed_within_due_window), (2, 1));
    // The JSON of the API round-trips.
    let json = serde_json::to_string(&replay.snapshot(at)).unwrap();
    let back: KpiSnapshot = serde_json::from_str(&json).unwrap();
    assert_eq!(back, replay.snapshot(at));
}

#[test]
fn callback_kpis_are_prometheus_gauges() {
    let mut j = one_callback();
    j.queued(240_000, 2, "support")
        .converted(250_000, 2, "support", 240_000)
        .callback_due(260_000, 2, "support", "alice", 1)
        .callback_failed(265_000, 2, "support", "alice", CallbackFailCause::Busy);
    let snap = KpiProjection::from_events(KpiConfig::default(), &j.events).snapshot(j.at(300_000));
    let text = hotline_kpi::render_prometheus(&snap.prometheus_samples());
    for line in [
        "hotline_kpi_queue_callbacks_requested{queue=\"support\",window=\"last_15m\"} 2",
        "hotline_kpi_queue_callbacks_dialed{queue=\"support\",window=\"last_15m\"} 2",
        "hotline_kpi_queue_callback_completion{queue=\"support\",window=\"last_15m\"} 1",
        "hotline_kpi_queue_callback_completion_band{queue=\"support\",window=\"last_15m\"} 100",
        "hotline_kpi_center_callback_completion{window=\"last_15m\"} 1",
        "hotline_kpi_queue_callbacks_failed_by_cause{queue=\"support\",window=\"last_15m\",cause=\"busy\"} 1",
        "hotline_kpi_agent_callbacks_failed_by_cause{agent=\"alice\",window=\"last_15m\",cause=\"busy\"} 1",
        "hotline_kpi_agent_callbacks_handled{agent=\"alice\",window=\"last_15m\"} 1",
    ] {
        assert!(text.lines().any(|l| l == line), "missing {line}:\n{text}");
    }
}

/// Scheduled callbacks of `support` (minutes from 10:00): c10 due by 60, talked 2 min at
/// 10-12 (completed within); c11 due by 5, missed, completed at 20; c12 due by 30, busy then
/// given up at 15 (attempts exhausted); c13 left out by sampling; c14 cancelled; c15 on the
/// do-not-call list.
fn scheduled_callbacks() -> Journal {
    const MIN: i64 = 60_000;
    let mut j = Journal::new(datetime!(2026-11-23 10:00 UTC));
    for (c, deadline) in [(10, 60), (11, 5), (12, 30), (13, 60), (14, 60)] {
        j.scheduled(0, c, "support", Some(deadline * MIN));
    }
    // The router's view of the scheduled entry: queued, due, connected, under the
    // callback's id; the scheduler's completion may come before the router's connection.
    j.callback_queued(9 * MIN, 10, "support", 9 * MIN)
        .callback_due(9 * MIN, 10, "support", "alice", 1)
        .completed(10 * MIN, 10, "support", true)
        .callback_connected(10 * MIN, 10, "support", "alice")
        .ended(12 * MIN, 10);
    j.missed_deadline(5 * MIN, 11, "support", 5 * MIN)
        .callback_due(19 * MIN, 11, "support", "bob", 1)
        .callback_connected(20 * MIN, 11, "support", "bob")
        .completed(20 * MIN, 11, "support", false)
        .ended(21 * MIN, 11);
    j.callback_due(14 * MIN, 12, "support", "alice", 1)
        .callback_failed(14 * MIN, 12, "support", "alice", CallbackFailCause::Busy)
        .scheduled_given_up(
            15 * MIN,
            12,
            "support",
            ScheduledGiveUpReason::AttemptsExhausted,
        );
    j.scheduled_given_up(1_000, 13, "support", ScheduledGiveUpReason::NotSampled);
    j.scheduled_entry_queued(2 * MIN, 14, "support")
        .callback_cancelled(3 * MIN, 14, "support")
        .scheduled_cancelled(3 * MIN, 14, "support");
    // c15: its number is on the do-not-call list: given up, and due (never completed).
    j.scheduled(0, 15, "support", Some(60 * MIN))
        .scheduled_given_up(MIN, 15, "support", ScheduledGiveUpReason::DoNotCall);
    j
}

#[test]
fn scheduled_callbacks_count_within_their_deadline_and_their_conversations_are_handled() {
    let j = scheduled_callbacks();
    let snap =
        KpiProjection::from_events(KpiConfig::default(), &j.events).snapshot(j.at(1_500_000));
    let q = queue_kpis(&snap, "support", LAST_60M);
    // No inbound call at all: two handled conversations.
    assert_eq!((q.offered, q.answered, q.abandoned), (0, 0, 0));
    assert_eq!((q.handled, q.talk_ms), (2, 180_000));
    let cb = &q.callbacks;
    // The router's queuing of a scheduled entry is not an in-queue request.
    assert_eq!((cb.requested, cb.scheduled), (0, 6));
    assert_eq!((cb.dialed, cb.connected, cb.failed), (3, 2, 1));
    // c13 (not sampled) is given up but not due; c14 is cancelled once.
    assert_eq!((cb.given_up, cb.cancelled), (3, 1));
    assert_eq!(
        (cb.due, cb.completed, cb.completed_within_due_window),
        (4, 2, 1)
    );
    assert_eq!(cb.missed_deadline, 1);
    assert_eq!(cb.completion, Some(0.25));
    assert_eq!(cb.completion_band, Some(CompletionBand::Below75));
    let alice = agent_kpis(&snap, "alice", LAST_60M);
    assert_eq!(
        (alice.handled, alice.talk_ms, alice.answered),
        (1, 120_000, 0)
    );
    assert_eq!(alice.callbacks.handled, 1);
    let bob = agent_kpis(&snap, "bob", LAST_60M);
    assert_eq!((bob.handled, bob.talk_ms), (1, 60_000));

    // Earlier in the journal (c10 completed, c11's deadline missed, c12 not given up yet):
    // two due, one within.
    let early = KpiProjection::from_events(KpiConfig::default(), &j.events[..12]);
    let cb = queue_kpis(&early.snapshot(j.at(11 * 60_000)), "support", LAST_60M).callbacks;
    assert_eq!(
        (cb.due, cb.completed_within_due_window, cb.missed_deadline),
        (2, 1, 1)
    );
}

#[test]
fn completion_bands_per_queue_and_overall() {
    const MIN: i64 = 60_000;
    let mut j = Journal::new(datetime!(2026-11-23 10:00 UTC));
    // support: 20 scheduled, 19 completed within their deadline, 1 missed: 95%.
    for c in 0..20 {
        j.scheduled(0, 100 + c, "support", Some(30 * MIN));
    }
    for c in 0..19 {
        j.completed(MIN + c as i64, 100 + c, "support", true);
    }
    j.missed_deadline(30 * MIN, 119, "support", 30 * MIN);
    // sales: 4 in-queue callbacks, 3 connected, 1 given up: 75%.
    for c in 0..4 {
        j.queued(MIN, 200 + c, "sales")
            .converted(2 * MIN, 200 + c, "sales", MIN);
    }
    for c in 0..3 {
        j.callback_connected(3 * MIN, 200 + c, "sales", "carol")
            .ended(4 * MIN, 200 + c);
    }
    j.callback_given_up(5 * MIN, 203, "sales");
    let snap = KpiProjection::from_events(KpiConfig::default(), &j.events).snapshot(j.at(31 * MIN));
    let support = queue_kpis(&snap, "support", LAST_60M).callbacks;
    assert_eq!((support.due, support.completed_within_due_window), (20, 19));
    assert_eq!(support.completion, Some(0.95));
    assert_eq!(support.completion_band, Some(CompletionBand::AtLeast95));
    let sales = queue_kpis(&snap, "sales", LAST_60M).callbacks;
    assert_eq!(sales.completion, Some(0.75));
    assert_eq!(sales.completion_band, Some(CompletionBand::AtLeast75));
    // Overall: 22 of 24.
    let all = total_kpis(&snap, LAST_60M).callbacks;
    assert_eq!((all.due, all.completed_within_due_window), (24, 22));
    assert_eq!(all.completion_band, Some(CompletionBand::AtLeast80));
    let text = hotline_kpi::render_prometheus(&snap.prometheus_samples());
    assert!(
        text.lines()
            .any(|l| l == "hotline_kpi_queue_callback_completion_band{queue=\"support\",window=\"last_60m\"} 95"),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l == "hotline_kpi_center_callback_completion_band{window=\"last_60m\"} 80"),
        "{text}"
    );
}
