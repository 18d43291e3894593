//! The trunks' channels and call rate shared by the campaigns of one engine, and a dial that
//! found its trunk busy.

use super::testutil::*;
use super::*;
use crate::outcome::{DialOutcome, OutcomeKind};
use crate::pacing::DialMode;
use crate::scheduler::NoDnc;

fn other() -> CampaignId {
    CampaignId::new("winback")
}

/// Two progressive campaigns on the trunk `carrier`, 10 records each, 5 free agents each.
fn two_campaigns() -> (CampaignEngine, DialCapacity) {
    let mut e = engine_with(spec(DialMode::Progressive), 10);
    let mut s = spec(DialMode::Progressive);
    s.id = other();
    e.handle(t0(), Command::Create(Box::new(s)), &NoDnc)
        .unwrap_or_else(|e| panic!("{e}"));
    let records = (100..110).map(record).collect();
    let add = Command::AddRecords {
        campaign: other(),
        records,
    };
    e.handle(t0(), add, &NoDnc)
        .unwrap_or_else(|e| panic!("{e}"));
    e.handle(t0(), Command::Start { campaign: other() }, &NoDnc)
        .unwrap_or_else(|e| panic!("{e}"));
    let mut cap = capacity(5, vec![]);
    let mine = cap.campaigns[&cid()].clone();
    cap.campaigns.insert(other(), mine);
    (e, cap)
}

fn dials(work: &[Work]) -> Vec<DialOrder> {
    work.iter()
        .filter_map(|w| match w {
            Work::Dial(d) => Some(d.clone()),
            Work::Offer(_) => None,
        })
        .collect()
}

fn carrier() -> TrunkName {
    TrunkName::new("carrier")
}

#[test]
fn campaigns_on_one_trunk_share_its_free_channels_in_one_round() {
    let (mut e, mut cap) = two_campaigns();
    cap.trunks_free.insert(carrier(), 2);
    let d = dials(&e.next_dials(t0(), &cap, &NoDnc));
    assert_eq!(d.len(), 2, "{d:?}");
    // The engine asks to look again: other calls free channels without telling it.
    assert_eq!(e.poll_timeout(), Some((secs(1), EngineTimer::TrunkBudget)));
    // Its own open attempts count against the campaigns' configured channels as before.
    cap.trunks_free.insert(carrier(), 0);
    assert!(dials(&e.next_dials(secs(1), &cap, &NoDnc)).is_empty());
    cap.trunks_free.insert(carrier(), 3);
    assert_eq!(dials(&e.next_dials(secs(2), &cap, &NoDnc)).len(), 3);
}

#[test]
fn campaigns_on_one_trunk_share_its_call_rate_tokens() {
    let (mut e, mut cap) = two_campaigns();
    cap.trunks_rate.insert(carrier(), 3);
    let d = dials(&e.next_dials(t0(), &cap, &NoDnc));
    assert_eq!(d.len(), 3, "{d:?}");
    assert_eq!(
        d.iter().filter(|o| o.campaign == other()).count(),
        0,
        "campaigns dial in id order"
    );
    cap.trunks_rate.insert(carrier(), 10);
    let d = dials(&e.next_dials(secs(1), &cap, &NoDnc));
    // renewals has 2 agents left, winback 5.
    assert_eq!(d.len(), 7, "{d:?}");
    assert_eq!(
        e.poll_timeout().map(|(_, t)| t == EngineTimer::TrunkBudget),
        Some(false)
    );
    // Without any limit from the driver the campaigns dial as their agents allow.
    let (mut e, cap) = two_campaigns();
    assert_eq!(dials(&e.next_dials(t0(), &cap, &NoDnc)).len(), 10);
}

#[test]
fn a_dial_that_found_its_trunk_busy_goes_back_without_using_an_attempt() {
    let mut s = spec(DialMode::Progressive);
    s.max_attempts = 1;
    let mut e = engine_with(s, 1);
    let cap = capacity(1, vec![]);
    let d = dials(&e.next_dials(t0(), &cap, &NoDnc));
    let o = &d[0];
    let busy = Command::TrunkBusy {
        campaign: o.campaign.clone(),
        entry: o.entry,
        attempt: o.attempt,
    };
    e.handle(secs(1), busy.clone(), &NoDnc)
        .unwrap_or_else(|e| panic!("{e}"));
    let events: Vec<CampaignEvent> = std::iter::from_fn(|| e.poll_event()).collect();
    let held = events.last().cloned();
    assert!(
        matches!(
            held,
            Some(CampaignEvent::Held { reason: HoldReason::TrunkBusy, until, .. })
                if until == secs(1) + TRUNK_BUSY_RETRY
        ),
        "{held:?}"
    );
    let entry = &e.entries(&cid())[0];
    assert_eq!(entry.attempts, 0);
    let stats = e
        .stats(secs(1), &cid())
        .unwrap_or_else(|| panic!("no stats"));
    assert_eq!((stats.dials, stats.pending, stats.in_progress), (0, 1, 0));
    // A second report of the same attempt is stale.
    assert!(e.handle(secs(1), busy, &NoDnc).is_err());
    // Its one attempt is still there: dialed again once due, with attempt 1 again.
    assert!(dials(&e.next_dials(secs(1), &cap, &NoDnc)).is_empty());
    let again = dials(&e.next_dials(secs(2), &cap, &NoDnc));
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].attempt, 1);
    // A replay of the events rebuilds the same record.
    let mut log = events;
    log.extend(std::iter::from_fn(|| e.poll_event()));
    let restored = CampaignEngine::restore(&log);
    assert_eq!(restored.entries(&cid()), e.entries(&cid()));
    // A real failure uses the attempt: with max_attempts 1 the record is given up.
    let fail = Command::Outcome {
        campaign: cid(),
        entry: again[0].entry,
        attempt: 1,
        outcome: DialOutcome::of(OutcomeKind::NetworkFailure),
    };
    e.handle(secs(3), fail, &NoDnc)
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(e.entries(&cid())[0].state.is_final());
}
