use std::collections::BTreeMap;

use hotline_campaigns::campaign::{
    CampaignEngine, CampaignId, CampaignSpec, Command, TrunkName, TrunkSpec,
};
use hotline_campaigns::list::ListRecord;
use hotline_campaigns::{NoDnc, QueueName, Zone, E164};
use proptest::prelude::*;
use uuid::Uuid;

use super::*;
use crate::recovery::test_journal::{
    at, cut, delete_old_segment, in_journal_order, load_with_older_snapshot, snapshot_plus_tail,
    start_with_old_segment, with_others_between,
};

fn cid(k: u8) -> CampaignId {
    CampaignId::new(format!("campaign-{k}"))
}

fn number(n: u32) -> E164 {
    E164::parse(&format!("+4420{n:08}")).unwrap_or_else(|e| panic!("{e}"))
}

fn spec(k: u8, variant: u8) -> CampaignSpec {
    let mut s = CampaignSpec::new(
        cid(k),
        QueueName::new("sales"),
        number(99_999_999),
        TrunkSpec {
            name: TrunkName::new("carrier"),
            channels: u32::from(variant % 4) + 1,
        },
    );
    s.default_zone = variant.is_multiple_of(2).then(Zone::utc);
    s
}

fn record(n: u32) -> ListRecord {
    ListRecord {
        line: u64::from(n) + 2,
        number: number(n),
        name: Some(format!("customer {n}")),
        time_zone: Some(Zone::utc()),
        priority: i32::try_from(n % 3).unwrap_or(0),
        due: Default::default(),
        attributes: BTreeMap::from([("n".to_string(), n.to_string())]),
    }
}

/// The engine events of `steps` (campaign, operation, variant) as the live engine writes them:
/// each step a command; the ones the engine refuses (a start of a running campaign) write
/// nothing.
fn engine_events(steps: &[(u8, u8, u8)]) -> Vec<CampaignEvent> {
    let mut engine = CampaignEngine::new();
    let mut out = Vec::new();
    for (i, &(k, op, variant)) in steps.iter().enumerate() {
        let now = at(i64::try_from(i).unwrap_or(0) * 7);
        let campaign = cid(k);
        let command = match op {
            0 => Command::Create(Box::new(spec(k, variant))),
            1 | 2 => Command::AddRecords {
                campaign,
                records: (0..u32::from(variant % 4) + 1)
                    .map(|r| record(u32::from(variant) * 10 + r))
                    .collect(),
            },
            3 => Command::AddDnc {
                campaign,
                numbers: vec![number(u32::from(variant) * 10)],
            },
            4 => Command::Start { campaign },
            5 => Command::Pause { campaign },
            6 => Command::Resume { campaign },
            _ => Command::Stop { campaign },
        };
        let _refused = engine.handle(now, command, &NoDnc);
        while let Some(event) = engine.poll_event() {
            out.push(event);
        }
    }
    out
}

/// The journal: each engine event through the driver's mapping, with other events between.
fn journal_of(events: &[CampaignEvent]) -> Vec<Event> {
    with_others_between(events.iter().map(|event| {
        let draft = journal::to_draft(event).unwrap_or_else(|e| panic!("{e}"));
        (draft, crate::callbacks::journal::wire_time(event.at()))
    }))
}

fn restore(events: &[&Event]) -> CampaignEngine {
    let mapped: Vec<CampaignEvent> = events
        .iter()
        .filter_map(|e| journal::from_event(e).unwrap_or_else(|e| panic!("{e}")))
        .collect();
    CampaignEngine::restore(&mapped)
}

/// A campaign's whole state as the API shows it: spec, run state, entries.
fn campaign_state(engine: &CampaignEngine, id: &CampaignId) -> String {
    format!(
        "{:?} {:?} {:?}",
        engine.spec(id),
        engine.run_state(id),
        engine.entries(id)
    )
}

fn steps() -> impl Strategy<Value = Vec<(u8, u8, u8)>> {
    prop::collection::vec((0u8..3, 0u8..8, 0u8..12), 0..60)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Whatever retention deleted of what a snapshot covers, the engine restored from the
    /// snapshot, its tail and what is left of the journal has every campaign not stopped of the
    /// one restored from the whole journal, with the same spec, run state and records; with
    /// nothing deleted, the very same campaigns.
    #[test]
    fn restore_from_snapshot_and_tail_equals_restore_from_the_whole_journal(
        steps in steps(),
        snapshot_at in 0.0f64..=1.0,
        deleted_at in 0.0f64..=1.0,
    ) {
        let journal = journal_of(&engine_events(&steps));
        let (snapshot, deleted) = cut(journal.len(), snapshot_at, deleted_at);
        let whole = restore(&journal.iter().collect::<Vec<_>>());
        let state = snapshot_plus_tail(&journal, snapshot);
        let open = state.campaigns.clone().unwrap_or_default();
        let merged = merge(&open, &journal[deleted..]);
        // Journal order, each event once.
        prop_assert!(in_journal_order(&merged));
        let restored = restore(&merged);
        let live: Vec<&CampaignId> = whole
            .campaigns()
            .filter(|id| whole.run_state(id) != Some(RunState::Stopped))
            .collect();
        for id in &live {
            prop_assert_eq!(campaign_state(&restored, id), campaign_state(&whole, id));
        }
        // The projection keeps exactly the campaigns not stopped (no attempt is ever open here).
        let kept: Vec<&str> = open.ids().collect();
        let expected: Vec<&str> = live.iter().map(|id| id.as_str()).collect();
        prop_assert_eq!(kept, expected);
        // Nothing restored that the whole journal does not have.
        prop_assert!(restored.campaigns().all(|id| whole.spec(id).is_some()));
        if deleted == 0 {
            let ids: Vec<&CampaignId> = restored.campaigns().collect();
            prop_assert_eq!(ids, whole.campaigns().collect::<Vec<_>>());
            for id in whole.campaigns() {
                prop_assert_eq!(campaign_state(&restored, id), campaign_state(&whole, id));
            }
        }
    }
}

#[test]
fn the_restore_finds_a_campaign_whose_segments_retention_deleted() {
    // 0 is created with records, started and paused, 1 is created and stopped, 2 is
    // created with records and a do-not-call number, never started.
    let steps = [
        (0, 0, 2),
        (0, 1, 3),
        (1, 0, 1),
        (2, 0, 5),
        (2, 2, 7),
        (2, 3, 7),
        (0, 4, 0),
        (1, 7, 0),
        (0, 5, 0),
    ];
    let journal = journal_of(&engine_events(&steps));
    let whole = restore(&journal.iter().collect::<Vec<_>>());
    assert_eq!(whole.campaigns().count(), 3);
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    // A start saves the snapshot; retention then deletes the segment it covers.
    let state = start_with_old_segment(dir.path(), &journal, journal.len() - 2);
    let kept: Vec<String> = state
        .campaigns
        .as_ref()
        .map(|c| c.ids().map(str::to_string).collect())
        .unwrap_or_default();
    assert_eq!(kept, ["campaign-0", "campaign-2"]);
    delete_old_segment(dir.path());

    let after = crate::campaigns::restore(dir.path()).unwrap_or_else(|e| panic!("{e}"));
    let restored = CampaignEngine::restore(&after.events);
    for k in [0, 2] {
        assert_eq!(
            campaign_state(&restored, &cid(k)),
            campaign_state(&whole, &cid(k))
        );
    }
    assert_eq!(restored.run_state(&cid(0)), Some(RunState::Paused));
    assert_eq!(restored.entries(&cid(2)).len(), 4);
    // The stopped one is gone with its events.
    assert!(restored.spec(&cid(1)).is_none());
}

/// A survey event of a campaign call: `outcome` None is an answer (question, score).
fn survey_event(
    seq: u64,
    campaign: &str,
    entry: u64,
    answer: Option<(u32, u8)>,
    skipped: Option<hotline_events::SurveySkipReason>,
) -> Event {
    use hotline_events::EventKind;
    let (campaign, entry, attempt) = (Some(campaign.to_string()), Some(entry), Some(1));
    let kind = match (answer, skipped) {
        (Some((question, score)), _) => EventKind::SurveyAnswered {
            survey: "csat".into(),
            question,
            score,
            campaign,
            entry,
            attempt,
        },
        (None, Some(reason)) => EventKind::SurveySkipped {
            survey: "csat".into(),
            answered: 1,
            reason,
            campaign,
            entry,
            attempt,
        },
        (None, None) => EventKind::SurveyCompleted {
            survey: "csat".into(),
            answered: 2,
            campaign,
            entry,
            attempt,
        },
    };
    let ts = crate::callbacks::journal::wire_time(at(900));
    hotline_events::EventDraft::new(kind)
        .call(Uuid::from_u128(u128::from(1000 + entry.unwrap_or(0))))
        .into_event(Uuid::from_u128(u128::from(seq)), seq, ts, "n")
}

#[test]
fn survey_answers_of_a_kept_campaign_survive_retention_and_a_restart() {
    use crate::campaigns::surveys::{SurveyCounts, SurveyOutcome};
    use hotline_events::SurveySkipReason::CallerHungUp;
    // Campaign 0 is created with records and started; campaign 1 is created and stopped.
    let mut journal = journal_of(&engine_events(&[
        (0, 0, 2),
        (0, 1, 3),
        (0, 4, 0),
        (1, 0, 1),
        (1, 7, 0),
    ]));
    let mut seq = journal.len() as u64;
    let mut next = || {
        seq += 1;
        seq
    };
    let c0 = "campaign-0";
    for event in [
        survey_event(next(), c0, 0, Some((0, 4)), None),
        survey_event(next(), c0, 0, Some((1, 2)), None),
        survey_event(next(), c0, 0, None, None),
        survey_event(next(), c0, 1, Some((0, 5)), None),
        // The stopped campaign's answer goes with it.
        survey_event(next(), "campaign-1", 0, Some((0, 3)), None),
        survey_event(next(), c0, 1, None, Some(CallerHungUp)),
    ] {
        journal.push(event);
    }
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    // Everything but the last skip is in the segment retention deletes.
    start_with_old_segment(dir.path(), &journal, journal.len() - 1);
    delete_old_segment(dir.path());

    let after = crate::campaigns::restore(dir.path()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        after.surveys.counts(c0),
        SurveyCounts {
            completed: 1,
            skipped: 1,
            answers: 3
        }
    );
    /// A record's entry, its answers (question, score) and how its survey ended.
    type Row = (u64, Vec<(u32, u8)>, Option<SurveyOutcome>);
    let rows: Vec<Row> = after
        .surveys
        .of(c0)
        .map(|(k, r)| {
            (
                k.entry,
                r.answers.iter().map(|(q, s)| (*q, *s)).collect(),
                r.outcome,
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            (0, vec![(0, 4), (1, 2)], Some(SurveyOutcome::Completed)),
            (1, vec![(0, 5)], Some(SurveyOutcome::CallerHungUp)),
        ]
    );
    assert_eq!(after.surveys.counts("campaign-1"), SurveyCounts::default());
    // The campaign itself came back too.
    let restored = CampaignEngine::restore(&after.events);
    assert_eq!(restored.run_state(&cid(0)), Some(RunState::Running));
}

#[test]
fn a_snapshot_without_campaigns_gets_them_from_the_journal() {
    let journal = journal_of(&engine_events(&[(0, 0, 2), (1, 0, 2), (1, 7, 0)]));
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    // The snapshot was written by a version that did not keep them.
    let state = load_with_older_snapshot(dir.path(), &journal, journal.len() as u64);
    let ids: Vec<String> = state
        .campaigns
        .as_ref()
        .map(|c| c.ids().map(str::to_string).collect())
        .unwrap_or_default();
    assert_eq!(ids, ["campaign-0"]);
}

#[test]
fn a_dial_that_found_its_trunk_busy_leaves_no_attempt_open_in_the_projection() {
    use hotline_campaigns::campaign::{CampaignCapacity, DialCapacity, FreeAgent, Work};
    use hotline_campaigns::AgentName;
    // 10:00 on the tests' first day: inside the default calling window.
    let ten = |s: i64| at(36_000 + s);
    let mut engine = CampaignEngine::new();
    let id = cid(1);
    let setup = [
        Command::Create(Box::new(spec(1, 0))),
        Command::AddRecords {
            campaign: id.clone(),
            records: vec![record(1)],
        },
        Command::Start {
            campaign: id.clone(),
        },
    ];
    for command in setup {
        engine
            .handle(ten(0), command, &NoDnc)
            .unwrap_or_else(|e| panic!("{e}"));
    }
    let free = CampaignCapacity {
        free_agents: vec![FreeAgent {
            name: AgentName::new("alice"),
            inbound: vec![],
        }],
        busy: vec![],
    };
    let capacity = DialCapacity {
        campaigns: [(id.clone(), free)].into(),
        ..Default::default()
    };
    let work = engine.next_dials(ten(1), &capacity, &NoDnc);
    let Some(Work::Dial(order)) = work.first() else {
        panic!("{work:?}")
    };
    let busy = Command::TrunkBusy {
        campaign: id.clone(),
        entry: order.entry,
        attempt: order.attempt,
    };
    for (t, command) in [(2, busy), (3, Command::Stop { campaign: id })] {
        engine
            .handle(ten(t), command, &NoDnc)
            .unwrap_or_else(|e| panic!("{e}"));
    }
    let events: Vec<CampaignEvent> = std::iter::from_fn(|| engine.poll_event()).collect();
    let mut open = OpenCampaigns::default();
    for event in journal_of(&events) {
        open.apply(&event);
    }
    // Stopped with no attempt open: no longer kept.
    assert_eq!(open.ids().count(), 0, "{events:?}");
}
