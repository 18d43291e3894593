//! Each KPI of KPIS.md asserted exactly on hand-built event sequences.

mod support;

use std::time::Duration;

use hotline_events::AgentState::{LoggedOut, NotReady, OnCall, Ready, Ringing, WrapUp};
use hotline_kpi::{
    Granularity, KpiConfig, KpiProjection, KpiSnapshot, QueueKpiConfig, QueueKpis,
    ServiceLevelVariant, ShortAbandonPolicy, Window,
};
use support::Journal;
use time::macros::{datetime, offset};

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

fn agent_kpis(snap: &KpiSnapshot, agent: &str, w: Window) -> hotline_kpi::AgentKpis {
    snap.agents[agent]
        .windows
        .iter()
        .find(|x| x.window == w)
        .map(|x| x.kpis.clone())
        .expect("window present")
}

/// Five queued calls (two answered, three abandoned of which one short and one after T)
/// plus one IVR-only call.
fn mixed_queue() -> Journal {
    let mut j = Journal::new(datetime!(2026-11-23 10:00 UTC));
    j.state(0, "alice", LoggedOut, Ready, None)
        .state(0, "bob", LoggedOut, Ready, None);
    // c1: answered by alice after 8 s (rang 5 s); 60 s connected of which 10 s on hold;
    // 15 s wrap-up.
    j.arrived(0, 1).queued(0, 1, "support");
    j.state(3_000, "alice", Ready, Ringing, None)
        .offered(3_000, 1, "support", "alice");
    j.queued(10_000, 2, "support");
    j.state(8_000, "alice", Ringing, OnCall, None)
        .answered(8_000, 1, "support", "alice", 8_000);
    j.held(10_000, 1).resumed(20_000, 1);
    // c3: short abandon (3 s); c4: abandon within T (10 s); c5: abandon after T (30 s).
    j.queued(20_000, 3, "support")
        .abandoned(23_000, 3, "support", 3_000);
    j.queued(30_000, 4, "support");
    // c2: bob's first offer fails, then he answers after 30 s of wait (rang 4 s).
    j.offered(31_000, 2, "support", "bob")
        .offer_failed(35_000, 2, "support", "bob")
        .offered(36_000, 2, "support", "bob")
        .answered(40_000, 2, "support", "bob", 30_000);
    j.abandoned(40_000, 4, "support", 10_000);
    j.queued(50_000, 5, "support");
    j.ended(68_000, 1)
        .state(68_000, "alice", OnCall, WrapUp, None)
        .state(83_000, "alice", WrapUp, Ready, None);
    j.abandoned(80_000, 5, "support", 30_000);
    j.ended(23_000, 3).ended(40_000, 4).ended(80_000, 5);
    j.ended(160_000, 2);
    // c6: IVR only.
    j.arrived(100_000, 6).ended(110_000, 6);
    j
}

fn project(config: KpiConfig, j: &Journal) -> KpiProjection {
    KpiProjection::from_events(config, &j.events)
}

#[test]
fn counts_rates_service_level_asa_rings_and_aht_per_queue() {
    let j = mixed_queue();
    let snap = project(KpiConfig::default(), &j).snapshot(j.at(200_000));
    let k = queue_kpis(&snap, "support", LAST_15M);
    assert_eq!(k.offered, 5);
    assert_eq!(k.answered, 2);
    assert_eq!(k.abandoned, 3);
    assert_eq!(k.short_abandoned, 1);
    assert_eq!(k.answered_within_threshold, 1);
    assert_eq!(k.abandoned_after_threshold, 1);
    // Short abandons excluded: 2 / (5 - 1) and (3 - 1) / (5 - 1).
    assert_eq!(k.answer_rate, Some(0.5));
    assert_eq!(k.abandon_rate, Some(0.5));
    // answered within T / (answered + abandoned after T) = 1 / 3.
    assert_eq!(k.service_level, Some(1.0 / 3.0));
    assert_eq!(k.service_level_threshold_ms, Some(20_000));
    assert_eq!(k.asa_s, Some(19.0));
    // (5 s + 4 s) / 2 / 5 s.
    assert_eq!(k.rings_to_answer, Some(0.9));
    assert_eq!(k.handled, 2);
    assert_eq!(k.talk_ms, 50_000 + 120_000);
    assert_eq!(k.hold_ms, 10_000);
    assert_eq!(k.wrap_up_ms, 15_000);
    assert_eq!(k.aht_s, Some(97.5));
    assert_eq!(snap.calls.arrived, 2);
    assert_eq!(snap.calls.ivr_only, 1);
    assert_eq!(snap.calls.in_progress, 0);
    let arrivals = snap
        .totals
        .calls
        .iter()
        .find(|w| w.window == LAST_15M)
        .expect("window");
    assert_eq!((arrivals.kpis.arrived, arrivals.kpis.ivr_only), (2, 1));
    // Every window holds the same calls here.
    for w in [LAST_60M, Window::Day, Window::Week, Window::Month] {
        assert_eq!(queue_kpis(&snap, "support", w), k, "{w:?}");
    }
}

#[test]
fn service_level_variants_and_short_abandon_policy_are_configurable_and_named() {
    let j = mixed_queue();
    let cases = [
        (ServiceLevelVariant::AbandonedAfterThreshold, 1.0 / 3.0),
        (ServiceLevelVariant::AbandonedExceptShort, 0.25),
        (ServiceLevelVariant::AllAbandons, 0.2),
        (ServiceLevelVariant::NoAbandons, 0.5),
    ];
    for (variant, expected) in cases {
        let config = KpiConfig {
            service_level: variant,
            ..KpiConfig::default()
        };
        let snap = project(config, &j).snapshot(j.at(200_000));
        assert_eq!(snap.definitions.service_level, variant);
        assert_eq!(
            queue_kpis(&snap, "support", LAST_15M).service_level,
            Some(expected)
        );
    }
    let config = KpiConfig {
        short_abandons: ShortAbandonPolicy::Included,
        ..KpiConfig::default()
    };
    let snap = project(config, &j).snapshot(j.at(200_000));
    let k = queue_kpis(&snap, "support", LAST_15M);
    assert_eq!(k.answer_rate, Some(0.4));
    assert_eq!(k.abandon_rate, Some(0.6));
    let json = serde_json::to_value(&snap).expect("serializes");
    assert_eq!(json["definitions"]["short_abandons"], "included");
    assert_eq!(
        json["definitions"]["service_level"],
        "abandoned_after_threshold"
    );
    assert_eq!(json["definitions"]["short_abandon_threshold_ms"], 5_000);
    assert_eq!(
        json["queues"]["support"]["windows"][0]["window"]["kind"],
        "rolling"
    );
    assert_eq!(
        json["queues"]["support"]["windows"][0]["window"]["seconds"],
        900
    );
}

#[test]
fn short_abandon_threshold_and_ring_cycle_and_threshold_t_are_configurable() {
    let j = mixed_queue();
    let mut config = KpiConfig {
        short_abandon_threshold: Duration::from_secs(11),
        ring_cycle: Duration::from_secs(6),
        ..KpiConfig::default()
    };
    config.queues.insert(
        "support".into(),
        QueueKpiConfig {
            service_level_threshold: Duration::from_secs(30),
            utc_offset: offset!(+8),
            short_abandon_threshold: None,
            callback_expiry: None,
        },
    );
    let snap = project(config, &j).snapshot(j.at(200_000));
    let k = queue_kpis(&snap, "support", LAST_15M);
    assert_eq!(k.short_abandoned, 2);
    // T = 30 s: both answers within T (30 s counts), no abandon after T.
    assert_eq!(k.answered_within_threshold, 2);
    assert_eq!(k.abandoned_after_threshold, 0);
    assert_eq!(k.service_level, Some(1.0));
    assert_eq!(k.rings_to_answer, Some(0.75));
    assert_eq!(k.answer_rate, Some(2.0 / 3.0));
    assert_eq!(snap.queues["support"].utc_offset, "+08:00");
}

#[test]
fn agent_offers_rings_aht_occupancy_and_not_ready_by_reason() {
    let mut j = mixed_queue();
    j.state(180_000, "alice", Ready, NotReady, Some("lunch"))
        .state(240_000, "alice", NotReady, Ready, None)
        .state(300_000, "alice", Ready, NotReady, Some("break"));
    let snap = project(KpiConfig::default(), &j).snapshot(j.at(330_000));
    let a = agent_kpis(&snap, "alice", LAST_15M);
    assert_eq!(a.offers, 1);
    assert_eq!(a.answered, 1);
    assert_eq!(a.offers_failed, 0);
    assert_eq!(a.answer_rate, Some(1.0));
    assert_eq!(a.rings_to_answer, Some(1.0));
    assert_eq!(a.handled, 1);
    assert_eq!(
        (a.talk_ms, a.hold_ms, a.wrap_up_ms),
        (50_000, 10_000, 15_000)
    );
    assert_eq!(a.aht_s, Some(75.0));
    // ready 0-3 s, 83-180 s and 240-300 s; ringing 3-8 s; on call 8-68 s; wrap-up 68-83 s.
    assert_eq!(a.state_ms.ready, 3_000 + 97_000 + 60_000);
    assert_eq!(a.state_ms.ringing, 5_000);
    assert_eq!(a.state_ms.on_call, 60_000);
    assert_eq!(a.state_ms.wrap_up, 15_000);
    // The open "break" interval counts up to the snapshot time.
    assert_eq!(a.state_ms.not_ready, 90_000);
    assert_eq!(a.not_ready_ms["lunch"], 60_000);
    assert_eq!(a.not_ready_ms["break"], 30_000);
    assert_eq!(a.occupancy, Some(75_000.0 / 240_000.0));
    assert_eq!(snap.agents["alice"].state, NotReady);
    assert_eq!(snap.agents["alice"].reason.as_deref(), Some("break"));
    let text = hotline_kpi::render_prometheus(&snap.prometheus_samples());
    assert!(text.contains(
        "hotline_kpi_agent_not_ready_seconds{agent=\"alice\",window=\"day\",reason=\"lunch\"} 60\n"
    ));
    assert!(
        text.contains("hotline_kpi_agent_occupancy{agent=\"alice\",window=\"last_15m\"} 0.3125\n")
    );

    let b = agent_kpis(&snap, "bob", LAST_15M);
    assert_eq!((b.offers, b.answered, b.offers_failed), (2, 1, 1));
    assert_eq!(b.answer_rate, Some(0.5));
    assert_eq!(b.rings_to_answer, Some(0.8));
    assert_eq!(b.talk_ms, 120_000);
    assert_eq!(b.aht_s, Some(120.0));
}

#[test]
fn not_ready_without_reason_is_unspecified() {
    let mut j = Journal::new(datetime!(2026-11-23 10:00 UTC));
    j.state(0, "carol", LoggedOut, NotReady, None)
        .state(7_000, "carol", NotReady, Ready, None);
    let snap = project(KpiConfig::default(), &j).snapshot(j.at(10_000));
    let c = agent_kpis(&snap, "carol", LAST_15M);
    assert_eq!(c.not_ready_ms[hotline_kpi::UNSPECIFIED_REASON], 7_000);
    assert_eq!(c.state_ms.ready, 3_000);
    // Not ready time is outside the occupancy denominator; nothing busy yet.
    assert_eq!(c.occupancy, Some(0.0));
}

#[test]
fn rolling_windows_keep_only_their_buckets() {
    let mut j = Journal::new(datetime!(2026-11-23 10:00 UTC));
    let min = 60_000;
    j.queued(0, 1, "sales")
        .abandoned(30_000, 1, "sales", 30_000);
    j.queued(50 * min, 2, "sales")
        .answered(50 * min + 5_000, 2, "sales", "alice", 5_000);
    j.queued(70 * min, 3, "sales");
    let p = project(KpiConfig::default(), &j);
    let snap = p.snapshot(j.at(70 * min + 30_000));
    // last 15 min = buckets 10:56..11:10: only c3 (still waiting).
    let k15 = queue_kpis(&snap, "sales", LAST_15M);
    assert_eq!((k15.offered, k15.answered, k15.abandoned), (1, 0, 0));
    assert_eq!(k15.answer_rate, Some(0.0));
    assert_eq!(k15.service_level, None);
    // last 60 min = buckets 10:11..11:10: c2 and c3.
    let k60 = queue_kpis(&snap, "sales", LAST_60M);
    assert_eq!((k60.offered, k60.answered, k60.abandoned), (2, 1, 0));
    let w = snap.queues["sales"]
        .windows
        .iter()
        .find(|x| x.window == LAST_60M)
        .expect("window");
    assert_eq!(w.from, j.at(11 * min));
    assert_eq!(w.to, j.at(70 * min + 30_000));
    // The day holds all three.
    let day = queue_kpis(&snap, "sales", Window::Day);
    assert_eq!((day.offered, day.answered, day.abandoned), (3, 1, 1));
    // Two hours later the rolling windows are empty, the day is not.
    let later = p.snapshot(j.at(190 * min));
    assert_eq!(queue_kpis(&later, "sales", LAST_60M).offered, 0);
    assert_eq!(queue_kpis(&later, "sales", Window::Day).offered, 3);
}

#[test]
fn outcomes_count_in_the_window_the_call_entered_the_queue() {
    let mut j = Journal::new(datetime!(2026-11-23 10:00 UTC));
    let min = 60_000;
    j.queued(0, 1, "sales")
        .answered(20 * min, 1, "sales", "alice", 20 * min as u64);
    let snap = project(KpiConfig::default(), &j).snapshot(j.at(21 * min));
    let k15 = queue_kpis(&snap, "sales", LAST_15M);
    assert_eq!((k15.offered, k15.answered), (0, 0));
    let k60 = queue_kpis(&snap, "sales", LAST_60M);
    assert_eq!((k60.offered, k60.answered), (1, 1));
    assert_eq!(k60.asa_s, Some(1200.0));
}

#[test]
fn daily_weekly_monthly_rollups_follow_the_queue_time_zone() {
    let mut config = KpiConfig::default();
    config.queues.insert(
        "cn".into(),
        QueueKpiConfig {
            service_level_threshold: Duration::from_secs(20),
            utc_offset: offset!(+8),
            short_abandon_threshold: None,
            callback_expiry: None,
        },
    );
    // 2026-11-23 is a Monday. 15:59 UTC is 23:59 in +08:00, 16:01 UTC is 00:01 on Tuesday.
    let mut j = Journal::new(datetime!(2026-11-23 15:59 UTC));
    j.queued(0, 1, "cn").queued(2 * 60_000, 2, "cn");
    j.queued(0, 3, "utc");
    let p = project(config, &j);
    let snap = p.snapshot(j.at(6 * 60_000));
    assert_eq!(queue_kpis(&snap, "cn", Window::Day).offered, 1);
    assert_eq!(queue_kpis(&snap, "cn", Window::Week).offered, 2);
    assert_eq!(queue_kpis(&snap, "cn", Window::Month).offered, 2);
    assert_eq!(queue_kpis(&snap, "cn", LAST_15M).offered, 2);
    let day = snap.queues["cn"]
        .windows
        .iter()
        .find(|w| w.window == Window::Day)
        .expect("day");
    assert_eq!(day.from.to_string(), "2026-11-23T16:00:00.000Z");
    // The UTC queue's day is still Monday.
    assert_eq!(queue_kpis(&snap, "utc", Window::Day).offered, 1);

    let days = p.queue_history("cn", Granularity::Day);
    let got: Vec<_> = days
        .iter()
        .map(|d| (d.period.as_str(), d.kpis.offered))
        .collect();
    assert_eq!(got, [("2026-11-23", 1), ("2026-11-24", 1)]);
    assert_eq!(days[1].to.to_string(), "2026-11-24T16:00:00.000Z");
    let weeks = p.queue_history("cn", Granularity::Week);
    assert_eq!(weeks.len(), 1);
    assert_eq!(weeks[0].period, "2026-11-23");
    assert_eq!(weeks[0].to.to_string(), "2026-11-29T16:00:00.000Z");
    let months = p.queue_history("cn", Granularity::Month);
    assert_eq!(months[0].period, "2026-11-01");
    assert_eq!(months[0].from.to_string(), "2026-10-31T16:00:00.000Z");
    assert_eq!(months[0].to.to_string(), "2026-11-30T16:00:00.000Z");
    assert!(p.queue_history("nope", Granularity::Day).is_empty());
}

#[test]
fn agent_state_time_is_split_at_local_midnight() {
    let mut config = KpiConfig::default();
    config.default_queue.utc_offset = offset!(+8);
    let mut j = Journal::new(datetime!(2026-11-23 15:00 UTC));
    j.state(0, "alice", LoggedOut, Ready, None).state(
        2 * 3_600_000,
        "alice",
        Ready,
        NotReady,
        Some("break"),
    );
    let p = project(config, &j);
    let days = p.agent_history("alice", Granularity::Day);
    let got: Vec<_> = days
        .iter()
        .map(|d| (d.period.as_str(), d.kpis.state_ms.ready))
        .collect();
    assert_eq!(got, [("2026-11-23", 3_600_000), ("2026-11-24", 3_600_000)]);
    let snap = p.snapshot(j.at(2 * 3_600_000 + 60_000));
    let day = agent_kpis(&snap, "alice", Window::Day);
    assert_eq!(day.state_ms.ready, 3_600_000);
    assert_eq!(day.not_ready_ms["break"], 60_000);
    // The last hour is the 60 buckets 16:02..17:01: 58 min ready, then 1 min of break.
    let h = agent_kpis(&snap, "alice", LAST_60M);
    assert_eq!(h.state_ms.ready, 58 * 60_000);
    assert_eq!(h.not_ready_ms["break"], 60_000);
}

#[test]
fn duplicate_deliveries_are_ignored() {
    let j = mixed_queue();
    let mut p = KpiProjection::new(KpiConfig::default());
    for ev in &j.events {
        assert!(p.apply(ev));
        assert!(!p.apply(ev), "a second delivery is a duplicate");
    }
    let once = project(KpiConfig::default(), &j);
    assert_eq!(p.snapshot(j.at(200_000)), once.snapshot(j.at(200_000)));
}

#[test]
fn calls_still_in_queue_are_offered_but_not_yet_answered_or_abandoned() {
    let mut j = Journal::new(datetime!(2026-11-23 10:00 UTC));
    j.queued(0, 1, "support")
        .offered(1_000, 1, "support", "alice");
    let mut p = project(KpiConfig::default(), &j);
    let snap = p.snapshot(j.at(5_000));
    assert_eq!(snap.calls.in_progress, 1);
    let k = queue_kpis(&snap, "support", LAST_15M);
    assert_eq!((k.offered, k.answered, k.abandoned), (1, 0, 0));
    p.forget_calls_before(j.at(2_000));
    assert_eq!(p.snapshot(j.at(5_000)).calls.in_progress, 0);
}

#[test]
fn prometheus_samples_render_as_labelled_gauges() {
    let j = mixed_queue();
    let snap = project(KpiConfig::default(), &j).snapshot(j.at(200_000));
    let text = hotline_kpi::render_prometheus(&snap.prometheus_samples());
    assert!(text.contains("# TYPE hotline_kpi_queue_service_level gauge\n"));
    assert!(text.contains("hotline_kpi_queue_offered{queue=\"support\",window=\"last_15m\"} 5\n"));
    assert!(text.contains("hotline_kpi_queue_asa_seconds{queue=\"support\",window=\"day\"} 19\n"));
    assert!(
        text.contains("hotline_kpi_agent_aht_seconds{agent=\"alice\",window=\"last_60m\"} 75\n")
    );
    assert_eq!(text.matches("# HELP hotline_kpi_queue_offered ").count(), 1);
    assert!(text.contains("hotline_kpi_calls_ivr_only{window=\"month\"} 1\n"));
}

#[test]
fn center_and_team_totals_sum_every_queue_and_agent() {
    let mut j = mixed_queue();
    j.queued(100_000, 7, "sales")
        .offered(120_000, 7, "sales", "carol")
        .answered(125_000, 7, "sales", "carol", 25_000);
    let mut config = KpiConfig::default();
    config.queues.insert(
        "sales".into(),
        QueueKpiConfig {
            service_level_threshold: Duration::from_secs(30),
            utc_offset: offset!(UTC),
            short_abandon_threshold: None,
            callback_expiry: None,
        },
    );
    let snap = project(config.clone(), &j).snapshot(j.at(200_000));
    let center = snap
        .totals
        .queues
        .iter()
        .find(|w| w.window == LAST_15M)
        .map(|w| w.kpis.clone())
        .expect("window");
    assert_eq!(
        (center.offered, center.answered, center.abandoned),
        (6, 3, 3)
    );
    // Each call judged by its own queue's T: c1 (8 s <= 20 s) and c7 (25 s <= 30 s).
    assert_eq!(center.answered_within_threshold, 2);
    assert_eq!(center.service_level, Some(2.0 / 4.0));
    assert_eq!(center.service_level_threshold_ms, None);
    let team = snap
        .totals
        .agents
        .iter()
        .find(|w| w.window == LAST_15M)
        .map(|w| w.kpis.clone())
        .expect("window");
    assert_eq!((team.offers, team.answered, team.offers_failed), (4, 3, 1));
    let text = hotline_kpi::render_prometheus(&snap.prometheus_samples());
    assert!(text.contains("hotline_kpi_center_offered{window=\"last_15m\"} 6\n"));
    assert!(text.contains("hotline_kpi_team_offers{window=\"day\"} 4\n"));
    assert!(text.contains("hotline_kpi_queue_offered{queue=\"sales\",window=\"last_15m\"} 1\n"));

    // With one shared threshold the totals name it.
    let snap = project(KpiConfig::default(), &mixed_queue()).snapshot(j.at(200_000));
    assert_eq!(
        snap.totals.queues[0].kpis.service_level_threshold_ms,
        Some(20_000)
    );
}

#[test]
fn events_about_unknown_calls_are_ignored() {
    let mut j = Journal::new(datetime!(2026-11-23 10:00 UTC));
    j.offered(0, 9, "support", "alice")
        .offer_failed(1_000, 9, "support", "alice")
        .answered(2_000, 9, "support", "alice", 2_000)
        .abandoned(3_000, 9, "support", 3_000)
        .held(4_000, 9)
        .ended(5_000, 9);
    let snap = project(KpiConfig::default(), &j).snapshot(j.at(6_000));
    assert_eq!(snap.calls.in_progress, 0);
    assert!(snap.queues.is_empty());
    assert!(snap.agents.is_empty());
}

#[test]
fn declared_queues_and_agents_appear_with_zero_counts_and_keep_replayed_state() {
    let mut j = Journal::new(datetime!(2026-11-23 10:00 UTC));
    j.state(0, "alice", LoggedOut, Ready, None);
    let mut p = KpiProjection::new(KpiConfig::default());
    for e in &j.events {
        p.apply(e);
    }
    p.declare_queue("billing");
    p.declare_agent("bob", j.at(5_000));
    // Declaring a known agent changes nothing.
    p.declare_agent("alice", j.at(5_000));
    let snap = p.snapshot(j.at(60_000));
    let billing = queue_kpis(&snap, "billing", LAST_15M);
    assert_eq!((billing.offered, billing.answered), (0, 0));
    assert_eq!(billing.service_level, None);
    assert_eq!(snap.agents["bob"].state, LoggedOut);
    assert_eq!(snap.agents["alice"].state, Ready);
    assert_eq!(snap.agents["alice"].since, j.at(0));
}

#[test]
fn a_queue_can_set_its_own_short_abandon_threshold() {
    let mut j = Journal::new(datetime!(2026-11-23 10:00 UTC));
    j.queued(0, 1, "support")
        .abandoned(7_000, 1, "support", 7_000);
    j.queued(0, 2, "billing")
        .abandoned(7_000, 2, "billing", 7_000);
    let mut config = KpiConfig::default();
    config.queues.insert(
        "support".into(),
        QueueKpiConfig {
            short_abandon_threshold: Some(Duration::from_secs(10)),
            ..QueueKpiConfig::default()
        },
    );
    let snap = project(config, &j).snapshot(j.at(60_000));
    assert_eq!(queue_kpis(&snap, "support", LAST_15M).short_abandoned, 1);
    assert_eq!(queue_kpis(&snap, "billing", LAST_15M).short_abandoned, 0);
    assert_eq!(snap.queues["support"].short_abandon_threshold_ms, 10_000);
    assert_eq!(snap.queues["billing"].short_abandon_threshold_ms, 5_000);
}
