//! Unit tests of the engine's dial capacity on virtual time: dials per minute, trunk
//! channels, blending with inbound queues and the pacing decision it reports.

use super::testutil::*;
use super::*;
use crate::ids::QueueName;
use crate::outcome::OutcomeKind;
use crate::pacing::{DialMode, InboundHold, InboundLevel, PacingReason};
use crate::scheduler::NoDnc;

#[test]
fn dials_per_minute_and_trunk_channels_cap_the_dials() {
    let mut s = spec(DialMode::Progressive);
    s.max_dials_per_minute = 4;
    let mut e = engine_with(s, 20);
    let d = dials(&e.next_dials(t0(), &capacity(10, vec![]), &NoDnc));
    assert_eq!(d.len(), 4);
    for o in &d {
        ok(&mut e, secs(10), outcome(o, OutcomeKind::Busy));
    }
    assert!(e
        .next_dials(secs(59), &capacity(10, vec![]), &NoDnc)
        .is_empty());
    assert!(matches!(
        e.poll_timeout(),
        Some((at, EngineTimer::RateBudget { .. })) if at == secs(60)
    ));
    assert_eq!(
        dials(&e.next_dials(secs(60), &capacity(10, vec![]), &NoDnc)).len(),
        4
    );

    let mut s = spec(DialMode::Progressive);
    s.trunk.channels = 3;
    let mut e = engine_with(s, 20);
    assert_eq!(
        dials(&e.next_dials(t0(), &capacity(10, vec![]), &NoDnc)).len(),
        3
    );
    let mut e = engine_with(spec(DialMode::Progressive), 20);
    let mut cap = capacity(10, vec![]);
    cap.trunks_free.insert(TrunkName::new("carrier"), 2);
    assert_eq!(dials(&e.next_dials(t0(), &cap, &NoDnc)).len(), 2);
}

#[test]
fn blended_agents_take_outbound_only_while_inbound_meets_its_target() {
    let mut e = engine_with(spec(DialMode::Progressive), 10);
    let level = |service_level, waiting| InboundLevel {
        queue: QueueName::new("support"),
        service_level,
        target: 0.8,
        waiting,
    };
    let mut cap = capacity(3, vec![]);
    if let Some(c) = cap.campaigns.get_mut(&cid()) {
        c.free_agents[0].inbound = vec![level(0.7, 0)];
        c.free_agents[1].inbound = vec![level(0.9, 1)];
        c.free_agents[2].inbound = vec![level(0.9, 0)];
    }
    assert_eq!(dials(&e.next_dials(t0(), &cap, &NoDnc)).len(), 1);
    // The API says why the other two were not used.
    assert_eq!(
        e.held_for_inbound(&cid()),
        Some(InboundHold {
            waiting: 1,
            below_target: 1
        })
    );
}

#[test]
fn a_preview_campaign_reports_its_pacing_and_the_agents_held_for_inbound_work() {
    let mut e = engine_with(spec(DialMode::Preview), 10);
    let mut cap = capacity(2, vec![]);
    if let Some(c) = cap.campaigns.get_mut(&cid()) {
        c.free_agents[0].inbound = vec![InboundLevel {
            queue: QueueName::new("support"),
            service_level: 0.9,
            target: 0.8,
            waiting: 1,
        }];
    }
    let offers = e
        .next_dials(t0(), &cap, &NoDnc)
        .iter()
        .filter(|w| matches!(w, Work::Offer(_)))
        .count();
    assert_eq!(offers, 1);
    let pacing = e.last_pacing(&cid());
    assert_eq!(pacing.map(|d| d.reason), Some(PacingReason::Preview));
    assert_eq!(pacing.map(|d| d.expected_free), Some(1.0));
    assert_eq!(
        e.held_for_inbound(&cid()),
        Some(InboundHold {
            waiting: 1,
            below_target: 0
        })
    );
}

#[test]
fn a_campaign_not_putting_inbound_first_holds_nobody_for_inbound_work() {
    let mut s = spec(DialMode::Progressive);
    s.blend.inbound_first = false;
    let mut e = engine_with(s, 10);
    let mut cap = capacity(2, vec![]);
    if let Some(c) = cap.campaigns.get_mut(&cid()) {
        for a in &mut c.free_agents {
            a.inbound = vec![InboundLevel {
                queue: QueueName::new("support"),
                service_level: 0.5,
                target: 0.8,
                waiting: 3,
            }];
        }
    }
    assert_eq!(dials(&e.next_dials(t0(), &cap, &NoDnc)).len(), 2);
    assert_eq!(e.held_for_inbound(&cid()), Some(InboundHold::default()));
}

#[test]
fn the_pacing_decision_is_reported_with_its_reason() {
    let mut e = engine_with(spec(DialMode::Predictive), 50);
    assert!(e.last_pacing(&cid()).is_none());
    e.next_dials(t0(), &capacity(5, vec![]), &NoDnc);
    let decision = e
        .last_pacing(&cid())
        .unwrap_or_else(|| panic!("no decision"));
    assert_eq!(decision.mode, DialMode::Progressive);
    assert_eq!(
        decision.reason,
        crate::pacing::PacingReason::TooFewAgents { agents: 5, min: 15 }
    );
}

#[test]
fn campaigns_sharing_a_trunk_share_its_channels() {
    let mut a = spec(DialMode::Progressive);
    a.trunk.channels = 5;
    let mut b = a.clone();
    b.id = CampaignId::new("winback");
    let mut e = engine_with(a, 10);
    ok(&mut e, t0(), Command::Create(Box::new(b.clone())));
    let add = Command::AddRecords {
        campaign: b.id.clone(),
        records: (10..20).map(record).collect(),
    };
    ok(&mut e, t0(), add);
    ok(
        &mut e,
        t0(),
        Command::Start {
            campaign: b.id.clone(),
        },
    );
    let mut cap = capacity(4, vec![]);
    cap.campaigns.insert(
        b.id.clone(),
        CampaignCapacity {
            free_agents: (10..14).map(agent).collect(),
            busy: vec![],
        },
    );
    let d = dials(&e.next_dials(t0(), &cap, &NoDnc));
    let of = |id: &CampaignId| d.iter().filter(|o| o.campaign == *id).count();
    assert_eq!((of(&cid()), of(&b.id)), (4, 1));
    assert!(e.next_dials(t0(), &cap, &NoDnc).is_empty());
}

#[test]
fn a_live_answer_never_reported_connected_counts_as_abandoned() {
    let mut e = engine_with(spec(DialMode::Progressive), 1);
    let d = dials(&e.next_dials(t0(), &capacity(1, vec![]), &NoDnc));
    ok(&mut e, secs(5), answered(&d[0], AnswerVerdict::Human));
    let (at, _) = e.poll_timeout().unwrap_or_else(|| panic!("no timer"));
    assert_eq!(at, secs(5 + 2 + 60));
    e.handle_timeout(at);
    let stats = e.stats(at, &cid()).unwrap_or_else(|| panic!("no stats"));
    assert_eq!((stats.live_answered, stats.abandoned), (1, 1));
    assert_eq!(stats.by_result.get(&AttemptResult::Abandoned), Some(&1));
}
