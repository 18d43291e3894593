//! Ring-all journals: one call offered to several agents at once. Each rung agent counts one
//! offer, ended answered, failed (its own `call.offer_failed`) or withdrawn (another agent
//! answered, or the call left); the queue counts the call once.

mod support;

use hotline_events::OfferFailCause;
use hotline_kpi::{AgentKpis, KpiConfig, KpiProjection, KpiSnapshot, QueueKpis, Window};
use support::Journal;
use time::macros::datetime;

const LAST_15M: Window = Window::Rolling { seconds: 900 };

fn queue(snap: &KpiSnapshot) -> QueueKpis {
    let w = snap.queues["support"]
        .windows
        .iter()
        .find(|w| w.window == LAST_15M);
    w.map(|w| w.kpis.clone()).expect("window present")
}

fn agent(snap: &KpiSnapshot, id: &str) -> AgentKpis {
    let w = snap.agents[id]
        .windows
        .iter()
        .find(|w| w.window == LAST_15M);
    w.map(|w| w.kpis.clone()).expect("window present")
}

fn team(snap: &KpiSnapshot) -> AgentKpis {
    let w = snap.totals.agents.iter().find(|w| w.window == LAST_15M);
    w.map(|w| w.kpis.clone()).expect("window present")
}

/// (offers, answered, failed, withdrawn).
fn outcomes(k: &AgentKpis) -> (u64, u64, u64, u64) {
    (k.offers, k.answered, k.offers_failed, k.offers_withdrawn)
}

fn snapshot(j: &Journal) -> KpiSnapshot {
    KpiProjection::from_events(KpiConfig::default(), &j.events).snapshot(j.at(120_000))
}

/// Call 1 queued at 0 s; alice and bob both ring from 2 s.
fn rung_at_two_seconds() -> Journal {
    let mut j = Journal::new(datetime!(2026-11-23 10:00 UTC));
    j.arrived(0, 1).queued(0, 1, "support");
    j.offered(2_000, 1, "support", "alice")
        .offered(2_000, 1, "support", "bob");
    j
}

#[test]
fn two_offers_one_answer_the_other_offer_is_withdrawn_not_failed() {
    let mut j = rung_at_two_seconds();
    j.answered(6_000, 1, "support", "bob", 6_000)
        .ended(60_000, 1);
    let snap = snapshot(&j);
    let q = queue(&snap);
    assert_eq!((q.offered, q.answered, q.abandoned), (1, 1, 0));
    // bob rang 4 s of a 5 s ring cycle.
    assert_eq!(q.rings_to_answer, Some(0.8));
    assert_eq!(q.asa_s, Some(6.0));

    let bob = agent(&snap, "bob");
    assert_eq!(outcomes(&bob), (1, 1, 0, 0));
    assert_eq!(bob.answer_rate, Some(1.0));
    assert_eq!(bob.rings_to_answer, Some(0.8));
    assert_eq!(bob.handled, 1);
    let alice = agent(&snap, "alice");
    assert_eq!(outcomes(&alice), (1, 0, 0, 1));
    // Every offer alice had was withdrawn: no answer rate to speak of.
    assert_eq!(alice.answer_rate, None);
    assert_eq!(alice.rings_to_answer, None);
    assert_eq!(outcomes(&team(&snap)), (2, 1, 0, 1));

    let text = hotline_kpi::render_prometheus(&snap.prometheus_samples());
    assert!(text
        .contains("hotline_kpi_agent_offers_withdrawn{agent=\"alice\",window=\"last_15m\"} 1\n"));
    assert!(
        text.contains("hotline_kpi_agent_offers_failed{agent=\"alice\",window=\"last_15m\"} 0\n")
    );
}

#[test]
fn a_declined_offer_fails_for_its_agent_while_the_other_answers() {
    let mut j = rung_at_two_seconds();
    j.offer_failed_with(3_000, 1, "support", "alice", OfferFailCause::Declined)
        .answered(7_000, 1, "support", "bob", 7_000)
        .ended(60_000, 1);
    let snap = snapshot(&j);
    let q = queue(&snap);
    assert_eq!((q.offered, q.answered), (1, 1));
    // The answering phone rang from 2 s to 7 s: one ring cycle.
    assert_eq!(q.rings_to_answer, Some(1.0));

    let alice = agent(&snap, "alice");
    assert_eq!(outcomes(&alice), (1, 0, 1, 0));
    assert_eq!(alice.answer_rate, Some(0.0));
    let bob = agent(&snap, "bob");
    assert_eq!(outcomes(&bob), (1, 1, 0, 0));
    assert_eq!(bob.rings_to_answer, Some(1.0));
    assert_eq!(outcomes(&team(&snap)), (2, 1, 1, 0));
}

#[test]
fn a_ring_timeout_fails_both_offers_and_the_next_round_counts_afresh() {
    let mut j = rung_at_two_seconds();
    // The ring timeout (15 s) passes: the router fails both offers; the entry rings both
    // agents again and alice answers 3 s later.
    j.offer_failed(17_000, 1, "support", "alice")
        .offer_failed(17_000, 1, "support", "bob");
    j.offered(18_000, 1, "support", "alice")
        .offered(18_000, 1, "support", "bob")
        .answered(21_000, 1, "support", "alice", 21_000)
        .ended(60_000, 1);
    let snap = snapshot(&j);
    let q = queue(&snap);
    assert_eq!((q.offered, q.answered), (1, 1));
    // Only the answering offer's ringing counts: 3 s.
    assert_eq!(q.rings_to_answer, Some(0.6));

    let alice = agent(&snap, "alice");
    assert_eq!(outcomes(&alice), (2, 1, 1, 0));
    assert_eq!(alice.answer_rate, Some(0.5));
    let bob = agent(&snap, "bob");
    assert_eq!(outcomes(&bob), (2, 0, 1, 1));
    assert_eq!(bob.answer_rate, Some(0.0));
    assert_eq!(outcomes(&team(&snap)), (4, 1, 2, 1));
}

#[test]
fn a_ring_timeout_of_both_then_an_abandon_fails_each_offer_once() {
    let mut j = rung_at_two_seconds();
    j.offer_failed(17_000, 1, "support", "alice")
        .offer_failed(17_000, 1, "support", "bob")
        .abandoned(30_000, 1, "support", 30_000)
        .ended(30_000, 1);
    let snap = snapshot(&j);
    let q = queue(&snap);
    assert_eq!((q.offered, q.answered, q.abandoned), (1, 0, 1));
    for id in ["alice", "bob"] {
        let a = agent(&snap, id);
        assert_eq!(outcomes(&a), (1, 0, 1, 0), "{id}");
        assert_eq!(a.answer_rate, Some(0.0), "{id}");
    }
}

#[test]
fn the_caller_hanging_up_while_both_ring_withdraws_both_offers() {
    let mut j = rung_at_two_seconds();
    j.abandoned(9_000, 1, "support", 9_000).ended(9_000, 1);
    let snap = snapshot(&j);
    assert_eq!(queue(&snap).abandoned, 1);
    for id in ["alice", "bob"] {
        assert_eq!(outcomes(&agent(&snap, id)), (1, 0, 0, 1), "{id}");
    }
}

#[test]
fn an_offer_failed_because_the_caller_hung_up_is_withdrawn() {
    let mut j = rung_at_two_seconds();
    j.offer_failed_with(9_000, 1, "support", "alice", OfferFailCause::CallerHungUp)
        .offer_failed_with(9_000, 1, "support", "bob", OfferFailCause::Busy)
        .abandoned(9_000, 1, "support", 9_000);
    let snap = snapshot(&j);
    assert_eq!(outcomes(&agent(&snap, "alice")), (1, 0, 0, 1));
    assert_eq!(outcomes(&agent(&snap, "bob")), (1, 0, 1, 0));
}

#[test]
fn a_sequential_offer_repeated_to_the_same_agent_without_an_end_counts_a_failure() {
    let mut j = Journal::new(datetime!(2026-11-23 10:00 UTC));
    j.queued(0, 1, "support");
    // The first offer's end was not journaled (e.g. lost in a crash): it failed.
    j.offered(1_000, 1, "support", "alice")
        .offered(20_000, 1, "support", "alice")
        .answered(22_000, 1, "support", "alice", 22_000);
    let snap = snapshot(&j);
    let alice = agent(&snap, "alice");
    assert_eq!(outcomes(&alice), (2, 1, 1, 0));
    assert_eq!(queue(&snap).rings_to_answer, Some(0.4));
}
