//! The no-redial bar after an abandon holds across the campaigns of the engine and survives
//! a restart.

use std::collections::HashMap;
use std::time::Duration;

use jiff::Timestamp;
use proptest::prelude::*;

use super::testutil::*;
use super::*;
use crate::number::E164;
use crate::outcome::{DialOutcome, OutcomeKind};
use crate::pacing::{DialMode, JurisdictionProfile};
use crate::scheduler::NoDnc;
use crate::time::LocalTime;
use crate::window::{CallingWindow, Days, WindowSpan};

const BAR: Duration = Duration::from_secs(72 * 3600);

fn all_day() -> CallingWindow {
    CallingWindow {
        spans: vec![WindowSpan {
            days: Days::DAILY,
            start: LocalTime::MIDNIGHT,
            end: LocalTime::END_OF_DAY,
        }],
    }
}

/// Campaign `c{i}` with records for numbers 0..n; UK for even i, US for odd.
fn campaign(i: usize, n: u32) -> (CampaignSpec, Vec<crate::list::ListRecord>) {
    let mut s = spec(DialMode::Progressive);
    s.id = CampaignId::new(format!("c{i}"));
    s.profile = if i.is_multiple_of(2) {
        JurisdictionProfile::Uk
    } else {
        JurisdictionProfile::Us
    };
    s.window = all_day();
    s.max_attempts = 20;
    s.retry_abandoned.delay = Duration::from_secs(600);
    s.retry_abandoned.max_attempts = 20;
    s.retry.busy.delay = Duration::from_secs(60);
    s.retry.busy.max_attempts = 20;
    (s, (0..n).map(record).collect())
}

fn engine(campaigns: usize, n: u32) -> CampaignEngine {
    let mut e = CampaignEngine::new();
    for i in 0..campaigns {
        let (s, records) = campaign(i, n);
        let id = s.id.clone();
        for c in [
            Command::Create(Box::new(s)),
            Command::AddRecords {
                campaign: id.clone(),
                records,
            },
            Command::Start { campaign: id },
        ] {
            e.handle(t0(), c, &NoDnc).unwrap_or_else(|e| panic!("{e}"));
        }
    }
    e
}

fn free(e: &CampaignEngine, agents: u32) -> DialCapacity {
    let mut cap = DialCapacity::default();
    for id in e.campaigns() {
        cap.campaigns.insert(
            id.clone(),
            CampaignCapacity {
                free_agents: (0..agents).map(agent).collect(),
                busy: vec![],
            },
        );
    }
    cap
}

fn abandon(e: &mut CampaignEngine, now: Timestamp, o: &DialOrder) -> Result<(), CommandError> {
    let (campaign, entry, attempt) = (o.campaign.clone(), o.entry, o.attempt);
    e.handle(
        now,
        Command::Outcome {
            campaign: campaign.clone(),
            entry,
            attempt,
            outcome: DialOutcome::of(OutcomeKind::Answered),
        },
        &NoDnc,
    )?;
    e.handle(
        now,
        Command::Answered {
            campaign: campaign.clone(),
            entry,
            attempt,
            verdict: AnswerVerdict::Human,
        },
        &NoDnc,
    )?;
    e.handle(
        now,
        Command::Abandoned {
            campaign,
            entry,
            attempt,
        },
        &NoDnc,
    )?;
    Ok(())
}

#[test]
fn an_abandon_under_a_uk_profile_bars_the_number_in_every_campaign_also_after_a_restart() {
    let mut e = engine(2, 1);
    let work = e.next_dials(t0(), &free(&e, 1), &NoDnc);
    let orders: Vec<DialOrder> = work
        .into_iter()
        .filter_map(|w| match w {
            Work::Dial(d) => Some(d),
            Work::Offer(_) => None,
        })
        .collect();
    assert_eq!(orders.len(), 2, "{orders:?}");
    // The UK campaign c0 abandons; the US campaign c1's call is busy.
    abandon(&mut e, secs(10), &orders[0]).unwrap_or_else(|e| panic!("{e}"));
    let busy = Command::Outcome {
        campaign: orders[1].campaign.clone(),
        entry: orders[1].entry,
        attempt: orders[1].attempt,
        outcome: DialOutcome::of(OutcomeKind::Busy),
    };
    e.handle(secs(10), busy, &NoDnc)
        .unwrap_or_else(|e| panic!("{e}"));
    let mut log: Vec<CampaignEvent> = std::iter::from_fn(|| e.poll_event()).collect();
    // The US campaign's retry is due after 60 s, but the number is barred for 72 h.
    let until = time::add(secs(10), BAR);
    assert!(e.next_dials(secs(100), &free(&e, 1), &NoDnc).is_empty());
    let held: Vec<CampaignEvent> = std::iter::from_fn(|| e.poll_event()).collect();
    assert!(
        held.iter().any(|ev| matches!(ev,
            CampaignEvent::Held { campaign, reason: HoldReason::NoRedialBar, until: u, .. }
                if campaign.as_str() == "c1" && *u == until)),
        "{held:?}"
    );
    log.extend(held);
    // A restart rebuilds the bar from the journal.
    let mut restored = CampaignEngine::restore(&log);
    let dialed = restored.next_dials(secs(200), &free(&restored, 1), &NoDnc);
    assert!(dialed.is_empty(), "{dialed:?}");
    let dialed = restored.next_dials(until, &free(&restored, 1), &NoDnc);
    assert_eq!(dialed.len(), 2, "{dialed:?}");
}

#[derive(Debug, Clone)]
enum Op {
    Advance(u64),
    Dial(u32),
    Abandon(usize),
    Busy(usize),
    Restart,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => prop_oneof![0u64..600, (1u64..30).prop_map(|h| h * 3600), Just(72 * 3600 - 1)]
            .prop_map(Op::Advance),
        4 => (0u32..4).prop_map(Op::Dial),
        3 => any::<usize>().prop_map(Op::Abandon),
        3 => any::<usize>().prop_map(Op::Busy),
        1 => Just(Op::Restart),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// No number whose live answer was abandoned by a UK campaign is dialed by any campaign
    /// (UK or US) within 72 h of the abandon, restarts included.
    #[test]
    fn no_campaign_redials_a_number_within_72_h_of_a_uk_abandon(
        ops in prop::collection::vec(op(), 1..120),
    ) {
        let mut e = engine(3, 6);
        let mut log: Vec<CampaignEvent> = vec![];
        let mut now = t0();
        let mut calls: Vec<DialOrder> = vec![];
        let mut uk_abandons: HashMap<E164, Timestamp> = HashMap::new();
        for op in ops {
            match op {
                Op::Advance(s) => now = time::add(now, Duration::from_secs(s)),
                Op::Dial(agents) => {
                    let cap = free(&e, agents);
                    for w in e.next_dials(now, &cap, &NoDnc) {
                        if let Work::Dial(d) = w {
                            if let Some(at) = uk_abandons.get(&d.number) {
                                prop_assert!(
                                    now >= time::add(*at, BAR),
                                    "{} dialed by {} at {now}, abandoned at {at}",
                                    d.number.as_str(), d.campaign
                                );
                            }
                            calls.push(d);
                        }
                    }
                }
                Op::Abandon(i) if !calls.is_empty() => {
                    let d = calls.remove(i % calls.len());
                    if abandon(&mut e, now, &d).is_ok() && d.campaign.as_str() != "c1" {
                        uk_abandons.insert(d.number.clone(), now);
                    }
                }
                Op::Busy(i) if !calls.is_empty() => {
                    let d = calls.remove(i % calls.len());
                    let busy = Command::Outcome {
                        campaign: d.campaign.clone(),
                        entry: d.entry,
                        attempt: d.attempt,
                        outcome: DialOutcome::of(OutcomeKind::Busy),
                    };
                    let _ = e.handle(now, busy, &NoDnc);
                }
                Op::Restart => {
                    log.extend(std::iter::from_fn(|| e.poll_event()));
                    e = CampaignEngine::restore(&log);
                    e.handle(now, Command::Restarted, &NoDnc)
                        .unwrap_or_else(|e| panic!("{e}"));
                    calls.clear();
                }
                _ => {}
            }
            log.extend(std::iter::from_fn(|| e.poll_event()));
        }
    }
}
