//! Outbound campaign calls in the KPIs, on the event sequence the server writes for them
//! (the campaign engine's `campaign.*` events, the call task's `call.outbound`, the router's
//! `call.queued` / `call.offered` / `call.answered`, agent states, `call.ended`): the
//! conversation is handled work of its agent and queue, counted apart as campaign work, and
//! never an inbound offered, answered or abandoned call; an abandon per the campaign rule (no
//! agent within the connect time) is a campaign abandon, not an inbound one.

mod support;

use hotline_events::AgentState::{LoggedOut, OnCall, Ready, Reserved, Ringing, WrapUp};
use hotline_events::{EndReason, EventDraft, EventKind};
use hotline_kpi::{AgentKpis, KpiConfig, KpiProjection, KpiSnapshot, QueueKpis, Window};
use serde_json::json;
use support::{call, kind, Journal};
use time::macros::datetime;

const LAST_15M: Window = Window::Rolling { seconds: 900 };

fn queue_kpis(snap: &KpiSnapshot, queue: &str) -> QueueKpis {
    let q = snap.queues.get(queue).expect("queue present");
    let w = q.windows.iter().find(|x| x.window == LAST_15M);
    w.map(|x| x.kpis.clone()).expect("window present")
}

fn agent_kpis(snap: &KpiSnapshot, agent: &str) -> AgentKpis {
    let a = snap.agents.get(agent).expect("agent present");
    let w = a.windows.iter().find(|x| x.window == LAST_15M);
    w.map(|x| x.kpis.clone()).expect("window present")
}

/// A campaign engine event of campaign `renewals`.
fn engine(j: &mut Journal, ms: i64, fields: serde_json::Value) {
    let mut body = json!({"campaign": "renewals"});
    if let (Some(b), Some(f)) = (body.as_object_mut(), fields.as_object()) {
        b.extend(f.clone());
    }
    let agent = body["agent"].as_str().map(str::to_owned);
    let mut draft = EventDraft::new(kind(body));
    if let Some(agent) = agent {
        draft = draft.agent(agent);
    }
    j.push(ms, draft);
}

/// The call task's first event of an answered campaign call handed to `queue`'s agents.
fn outbound(j: &mut Journal, ms: i64, c: u128, queue: &str, entry: u64) {
    let k = EventKind::CallOutbound {
        campaign: "renewals".into(),
        entry,
        attempt: 1,
        flow: None,
    };
    j.push(ms, EventDraft::new(k).call(call(c)).queue(queue));
}

/// The engine's events of a dial answered by a person.
fn dial_answered_by_a_person(j: &mut Journal, ms: i64, entry: u64) {
    engine(
        j,
        ms,
        json!({"type": "campaign.attempt_started", "entry": entry, "attempt": 1,
               "number": "+12125550101", "trunk": "carrier"}),
    );
    engine(
        j,
        ms + 3_000,
        json!({"type": "campaign.picked_up", "entry": entry, "attempt": 1}),
    );
    engine(
        j,
        ms + 4_000,
        json!({"type": "campaign.answered", "entry": entry, "attempt": 1, "verdict": "human",
               "action": {"to_agent": {"live": true}}}),
    );
}

/// The campaign `renewals` of queue `sales`: entry 1 answered by a person and connected to
/// alice 600 ms after its queue entry (talk 90 s, wrap-up 20 s); entry 2 answered by a person
/// whom no agent takes within the 2 s connect time (bob's phone rings, never answered: the
/// abandon message plays, then hotline hangs up); entry 3 a machine, dropped; one dial nobody
/// answers.
fn campaign_journal() -> Journal {
    let mut j = Journal::new(datetime!(2026-12-07 09:00 UTC));
    j.state(0, "alice", LoggedOut, Ready, None)
        .state(0, "bob", LoggedOut, Ready, None);
    engine(
        &mut j,
        0,
        json!({"type": "campaign.created", "spec": {"id": "renewals",
               "audience": {"agents": {"queue": "sales", "skills": []}}}}),
    );
    // Entry 1: connected.
    dial_answered_by_a_person(&mut j, 1_000, 1);
    outbound(&mut j, 5_000, 1, "sales", 1);
    j.queued(5_001, 1, "sales")
        .state(5_002, "alice", Ready, Reserved, None)
        .offered(5_003, 1, "sales", "alice")
        .state(5_004, "alice", Reserved, Ringing, None)
        .answered(5_600, 1, "sales", "alice", 600)
        .state(5_601, "alice", Ringing, OnCall, None);
    engine(
        &mut j,
        5_610,
        json!({"type": "campaign.connected", "entry": 1, "attempt": 1, "agent": "alice",
               "after": "1.6s", "late": false, "live": true}),
    );
    j.ended(95_600, 1)
        .state(95_601, "alice", OnCall, WrapUp, None)
        .state(115_601, "alice", WrapUp, Ready, None);
    // Entry 2: abandoned per the campaign rule.
    dial_answered_by_a_person(&mut j, 120_000, 2);
    outbound(&mut j, 124_000, 2, "sales", 2);
    j.queued(124_001, 2, "sales")
        .state(124_002, "bob", Ready, Reserved, None)
        .offered(124_003, 2, "sales", "bob")
        .state(124_004, "bob", Reserved, Ringing, None)
        .state(126_001, "bob", Ringing, Ready, None);
    engine(
        &mut j,
        126_005,
        json!({"type": "campaign.abandoned", "entry": 2, "attempt": 1,
               "number": "+12125550102", "live": true}),
    );
    j.ended_with(133_000, 2, EndReason::Abandoned);
    // Entry 3: a machine; entry 4: no answer. No call of hotline for either.
    engine(
        &mut j,
        140_000,
        json!({"type": "campaign.attempt_started", "entry": 3, "attempt": 1,
               "number": "+12125550105", "trunk": "carrier"}),
    );
    engine(
        &mut j,
        143_000,
        json!({"type": "campaign.picked_up", "entry": 3, "attempt": 1}),
    );
    engine(
        &mut j,
        146_000,
        json!({"type": "campaign.answered", "entry": 3, "attempt": 1, "verdict": "machine",
               "action": "drop"}),
    );
    engine(
        &mut j,
        150_000,
        json!({"type": "campaign.attempt_started", "entry": 4, "attempt": 1,
               "number": "+12125550103", "trunk": "carrier"}),
    );
    j
}

#[test]
fn campaign_calls_are_outbound_work_never_inbound_calls_of_the_queue() {
    let j = campaign_journal();
    let kpis = KpiProjection::from_events(KpiConfig::default(), &j.events);
    let snap = kpis.snapshot(j.at(170_000));
    let sales = queue_kpis(&snap, "sales");
    // No inbound call: nothing offered, answered or abandoned; no service level, ASA, rates.
    assert_eq!(
        (sales.offered, sales.answered, sales.abandoned),
        (0, 0, 0),
        "{sales:?}"
    );
    assert_eq!(sales.service_level, None);
    assert_eq!(sales.asa_s, None);
    assert_eq!(sales.abandon_rate, None);
    assert_eq!(sales.answer_rate, None);
    // The campaign's own figures.
    let c = &sales.campaigns;
    assert_eq!((c.dialed, c.answered), (4, 3), "{c:?}");
    assert_eq!(c.answer_rate, Some(0.75));
    assert_eq!((c.live_answers, c.machine_answers), (2, 1), "{c:?}");
    assert_eq!((c.queued, c.connected, c.abandoned), (2, 1, 1), "{c:?}");
    assert_eq!(c.abandon_rate, Some(0.5));
    assert_eq!(c.mean_wait_s, Some(0.6));
    assert_eq!(c.conversations, 1);
    assert_eq!((c.talk_ms, c.hold_ms, c.wrap_up_ms), (90_000, 0, 20_000));
    assert_eq!(c.aht_s, Some(110.0));
    // The conversation is handled work of the queue too.
    assert_eq!(
        (sales.handled, sales.talk_ms, sales.wrap_up_ms),
        (1, 90_000, 20_000)
    );
    assert_eq!(sales.aht_s, Some(110.0));
    // And of alice: her phone rang and she answered; talk, wrap-up, occupancy.
    let alice = agent_kpis(&snap, "alice");
    assert_eq!((alice.offers, alice.answered), (1, 1), "{alice:?}");
    assert_eq!(
        (alice.handled, alice.talk_ms, alice.wrap_up_ms),
        (1, 90_000, 20_000)
    );
    assert_eq!(alice.aht_s, Some(110.0));
    assert!(alice.occupancy.is_some_and(|o| o > 0.6), "{alice:?}");
    let ac = &alice.campaigns;
    assert_eq!((ac.connected, ac.conversations), (1, 1), "{ac:?}");
    assert_eq!(
        (ac.talk_ms, ac.wrap_up_ms, ac.aht_s),
        (90_000, 20_000, Some(110.0))
    );
    // Bob's phone rang for the abandoned call: the offer was withdrawn, not failed by him.
    let bob = agent_kpis(&snap, "bob");
    assert_eq!(
        (
            bob.offers,
            bob.answered,
            bob.offers_failed,
            bob.offers_withdrawn
        ),
        (1, 0, 0, 1),
        "{bob:?}"
    );
    assert_eq!(bob.campaigns.conversations, 0);
    // Center-wide: the same split.
    let total = snap
        .totals
        .queues
        .iter()
        .find(|w| w.window == LAST_15M)
        .map(|w| w.kpis.clone())
        .expect("window present");
    assert_eq!((total.offered, total.abandoned), (0, 0));
    assert_eq!(
        (total.campaigns.connected, total.campaigns.abandoned),
        (1, 1)
    );
    // IVR-only and arrived calls: none (campaign calls never arrive).
    assert_eq!((snap.calls.arrived, snap.calls.ivr_only), (0, 0));
}

#[test]
fn an_inbound_call_in_the_same_queue_still_counts_inbound() {
    let mut j = campaign_journal();
    // A caller waits 8 s and alice answers; they talk 60 s.
    j.arrived(200_000, 9)
        .queued(201_000, 9, "sales")
        .state(208_000, "alice", Ready, Reserved, None)
        .offered(208_001, 9, "sales", "alice")
        .answered(209_000, 9, "sales", "alice", 8_000)
        .state(209_001, "alice", Reserved, OnCall, None)
        .ended(269_000, 9)
        .state(269_001, "alice", OnCall, Ready, None);
    let kpis = KpiProjection::from_events(KpiConfig::default(), &j.events);
    let snap = kpis.snapshot(j.at(300_000));
    let sales = queue_kpis(&snap, "sales");
    assert_eq!((sales.offered, sales.answered, sales.abandoned), (1, 1, 0));
    assert_eq!(sales.asa_s, Some(8.0));
    assert_eq!(sales.service_level, Some(1.0));
    assert_eq!(sales.abandon_rate, Some(0.0));
    assert_eq!(
        (sales.campaigns.queued, sales.campaigns.conversations),
        (2, 1)
    );
    assert_eq!(sales.handled, 2);
    // The inbound call is no campaign work of alice, nor is the wrap-up after it.
    let alice = agent_kpis(&snap, "alice");
    assert_eq!((alice.handled, alice.campaigns.conversations), (2, 1));
    assert_eq!(alice.campaigns.wrap_up_ms, 20_000);
}

#[test]
fn a_campaign_customer_who_hangs_up_while_waiting_is_a_campaign_abandon() {
    let mut j = Journal::new(datetime!(2026-12-07 09:00 UTC));
    outbound(&mut j, 0, 1, "sales", 1);
    j.queued(1, 1, "sales").abandoned(900, 1, "sales", 899);
    j.ended(901, 1);
    let kpis = KpiProjection::from_events(KpiConfig::default(), &j.events);
    let sales = queue_kpis(&kpis.snapshot(j.at(10_000)), "sales");
    assert_eq!(
        (sales.offered, sales.abandoned, sales.short_abandoned),
        (0, 0, 0)
    );
    assert_eq!((sales.campaigns.queued, sales.campaigns.abandoned), (1, 1));
}

#[test]
fn a_campaign_call_the_queue_refuses_is_a_campaign_abandon_once() {
    // No `call.queued` (the queue refused the entry): handed over, never connected.
    let mut j = Journal::new(datetime!(2026-12-07 09:00 UTC));
    outbound(&mut j, 0, 1, "sales", 1);
    j.ended_with(1_000, 1, EndReason::Abandoned);
    // A duplicate end (replayed, another node) adds nothing.
    j.ended_with(1_001, 1, EndReason::Abandoned);
    let kpis = KpiProjection::from_events(KpiConfig::default(), &j.events);
    let sales = queue_kpis(&kpis.snapshot(j.at(10_000)), "sales");
    assert_eq!(sales.offered, 0);
    assert_eq!((sales.campaigns.queued, sales.campaigns.abandoned), (1, 1));
}

#[test]
fn an_agentless_flow_and_a_journal_without_the_marker_count_as_before() {
    // An agentless flow: no queue, no agent work, no IVR-only inbound call.
    let mut j = Journal::new(datetime!(2026-12-07 09:00 UTC));
    let k = EventKind::CallOutbound {
        campaign: "survey".into(),
        entry: 1,
        attempt: 1,
        flow: Some("9001".into()),
    };
    j.push(0, EventDraft::new(k).call(call(1)));
    j.ended(30_000, 1);
    let snap = KpiProjection::from_events(KpiConfig::default(), &j.events).snapshot(j.at(60_000));
    assert!(snap.queues.is_empty(), "{:?}", snap.queues.keys());
    assert_eq!((snap.calls.arrived, snap.calls.ivr_only), (0, 0));
    // A journal written before `call.outbound` existed: the campaign call is what it was
    // then (an offered and answered call of the queue); nothing is lost or double counted.
    let old: Vec<_> = campaign_journal()
        .events
        .into_iter()
        .filter(|e| e.type_name() != "call.outbound")
        .collect();
    let snap = KpiProjection::from_events(KpiConfig::default(), &old).snapshot(j.at(170_000));
    let sales = queue_kpis(&snap, "sales");
    assert_eq!((sales.offered, sales.answered), (2, 1));
    assert_eq!((sales.campaigns.queued, sales.campaigns.connected), (0, 0));
    assert_eq!(sales.campaigns.dialed, 4);
}

#[test]
fn a_dial_that_found_its_trunk_busy_is_not_counted_dialed() {
    let mut j = campaign_journal();
    engine(
        &mut j,
        155_000,
        json!({"type": "campaign.attempt_started", "entry": 5, "attempt": 1,
               "number": "+12125550106", "trunk": "carrier"}),
    );
    engine(
        &mut j,
        155_010,
        json!({"type": "campaign.held", "entry": 5, "reason": "trunk_busy",
               "until": "2026-12-07T09:02:36.010Z"}),
    );
    // A record held for another reason had no dial open: nothing changes.
    engine(
        &mut j,
        156_000,
        json!({"type": "campaign.held", "entry": 4, "reason": "outside_window",
               "until": "2026-12-08T09:00:00Z"}),
    );
    let snap = KpiProjection::from_events(KpiConfig::default(), &j.events).snapshot(j.at(170_000));
    assert_eq!(queue_kpis(&snap, "sales").campaigns.dialed, 4);
}

#[test]
fn campaign_kpis_are_in_the_json_and_in_prometheus() {
    let j = campaign_journal();
    let snap = KpiProjection::from_events(KpiConfig::default(), &j.events).snapshot(j.at(170_000));
    let body = serde_json::to_value(&snap).expect("serializes");
    let w = &body["queues"]["sales"]["windows"][0]["kpis"]["campaigns"];
    assert_eq!(w["conversations"], json!(1), "{w}");
    assert_eq!(w["abandoned"], json!(1), "{w}");
    // Older snapshots (no `campaigns`) still read.
    let mut old = body.clone();
    if let Some(k) = old["queues"]["sales"]["windows"][0]["kpis"].as_object_mut() {
        k.remove("campaigns");
    }
    let back: KpiSnapshot = serde_json::from_value(old).expect("reads without campaigns");
    assert_eq!(
        back.queues["sales"].windows[0].kpis.campaigns.conversations,
        0
    );
    let text = hotline_kpi::render_prometheus(&snap.prometheus_samples());
    for line in [
        "hotline_kpi_queue_campaign_conversations{queue=\"sales\",window=\"last_15m\"} 1",
        "hotline_kpi_queue_campaign_connected{queue=\"sales\",window=\"last_15m\"} 1",
        "hotline_kpi_queue_campaign_abandoned{queue=\"sales\",window=\"last_15m\"} 1",
        "hotline_kpi_queue_campaign_dialed{queue=\"sales\",window=\"last_15m\"} 4",
        "hotline_kpi_queue_campaign_aht_seconds{queue=\"sales\",window=\"last_15m\"} 110",
        "hotline_kpi_center_campaign_conversations{window=\"last_15m\"} 1",
        "hotline_kpi_agent_campaign_conversations{agent=\"alice\",window=\"last_15m\"} 1",
        "hotline_kpi_queue_offered{queue=\"sales\",window=\"last_15m\"} 0",
    ] {
        assert!(text.contains(line), "missing {line}");
    }
}
