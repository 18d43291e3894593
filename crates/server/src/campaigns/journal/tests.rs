use std::collections::BTreeMap;
use std::time::Duration;

use hotline_campaigns::campaign::*;
use hotline_campaigns::{AgentName, DialOutcome, OutcomeKind, QueueName, E164};
use uuid::Uuid;

use super::*;

fn at(text: &str) -> jiff::Timestamp {
    text.parse().unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn number(text: &str) -> E164 {
    E164::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"))
}

/// One event of every type, with optional fields both set and unset somewhere.
fn every_event() -> Vec<CampaignEvent> {
    let t = at("2026-12-08T10:00:00.123Z");
    let later = at("2026-12-08T11:30:00Z");
    let campaign = CampaignId::new("renewals");
    let entry = EntryId(7);
    let mut spec = CampaignSpec::new(
        campaign.clone(),
        QueueName::new("sales"),
        number("+442071234567"),
        TrunkSpec {
            name: TrunkName::new("carrier"),
            channels: 30,
        },
    );
    spec.dnc.insert(number("+442079999999"));
    spec.abandon_margin = 0.25;
    let record = EntryRecord {
        line: 2,
        number: number("+442079460001"),
        name: Some("Ann".into()),
        time_zone: Some(
            hotline_campaigns::Zone::new("Europe/London").unwrap_or_else(|e| panic!("{e}")),
        ),
        priority: 3,
        not_before: t,
        deadline: Some(later),
        attributes: BTreeMap::from([("plan".to_string(), "gold".to_string())]),
    };
    let bare = EntryRecord {
        line: 3,
        number: number("+442079460002"),
        name: None,
        time_zone: None,
        priority: 0,
        not_before: t,
        deadline: None,
        attributes: BTreeMap::new(),
    };
    let busy = DialOutcome {
        kind: OutcomeKind::Busy,
        sip_status: Some(486),
        q850_cause: Some(17),
        retry_after_ms: Some(5000),
    };
    let c = || campaign.clone();
    vec![
        CampaignEvent::Created {
            at: t,
            spec: Box::new(spec),
        },
        CampaignEvent::RecordsAdded {
            at: t,
            campaign: c(),
            first: EntryId(0),
            records: vec![record, bare],
            not_added: vec![
                NotAdded::Duplicate {
                    line: 4,
                    number: number("+442079460001"),
                    of: EntryId(0),
                },
                NotAdded::BadDue {
                    line: 5,
                    problem: "no zone".into(),
                },
            ],
        },
        CampaignEvent::DncAdded {
            at: t,
            campaign: c(),
            numbers: vec![number("+442079460003")],
        },
        CampaignEvent::DncRemoved {
            at: t,
            campaign: c(),
            numbers: vec![number("+442079460003")],
        },
        CampaignEvent::RunStateChanged {
            at: t,
            campaign: c(),
            state: RunState::Paused,
        },
        CampaignEvent::Offered {
            at: t,
            campaign: c(),
            entry,
            agent: AgentName::new("alice"),
        },
        CampaignEvent::OfferSkipped {
            at: t,
            campaign: c(),
            entry,
            reason: SkipReason::Timeout,
            retry_at: later,
        },
        CampaignEvent::AttemptStarted {
            at: t,
            campaign: c(),
            entry,
            attempt: 2,
            number: number("+442079460001"),
            trunk: TrunkName::new("carrier"),
            agent: None,
        },
        CampaignEvent::AttemptStarted {
            at: t,
            campaign: c(),
            entry,
            attempt: 3,
            number: number("+442079460001"),
            trunk: TrunkName::new("carrier"),
            agent: Some(AgentName::new("bob")),
        },
        CampaignEvent::PickedUp {
            at: t,
            campaign: c(),
            entry,
            attempt: 2,
        },
        CampaignEvent::Answered {
            at: t,
            campaign: c(),
            entry,
            attempt: 2,
            verdict: AnswerVerdict::NotSure,
            action: AnswerAction::ToAgent { live: true },
        },
        CampaignEvent::Connected {
            at: t,
            campaign: c(),
            entry,
            attempt: 2,
            agent: AgentName::new("alice"),
            after: Duration::from_millis(1500),
            since_greeting: Some(Duration::from_millis(900)),
            late: false,
            live: true,
        },
        CampaignEvent::Abandoned {
            at: t,
            campaign: c(),
            entry,
            attempt: 2,
            number: number("+442079460001"),
            live: true,
        },
        CampaignEvent::AttemptEnded {
            at: t,
            campaign: c(),
            entry,
            attempt: 2,
            result: AttemptResult::Busy,
            outcome: Some(busy),
            next: NextStep::Retry { at: later },
        },
        CampaignEvent::AttemptEnded {
            at: t,
            campaign: c(),
            entry,
            attempt: 2,
            result: AttemptResult::Connected,
            outcome: None,
            next: NextStep::GivenUp {
                reason: GiveUpReason::AttemptsExhausted,
            },
        },
        CampaignEvent::Held {
            at: t,
            campaign: c(),
            entry,
            reason: HoldReason::NoRedialBar,
            until: later,
        },
        CampaignEvent::GivenUp {
            at: t,
            campaign: c(),
            entry,
            reason: GiveUpReason::DoNotCall,
        },
        CampaignEvent::CallHandled {
            at: t,
            campaign: c(),
            talk: Duration::from_secs(95),
            wrap: Duration::from_millis(12_500),
        },
    ]
}

fn through_the_journal(event: &CampaignEvent) -> (Event, Option<CampaignEvent>) {
    let draft = to_draft(event).unwrap_or_else(|e| panic!("{e}"));
    let ts = hotline_events::Timestamp::from_datetime(time::OffsetDateTime::UNIX_EPOCH);
    let written = draft.into_event(Uuid::from_u128(1), 1, ts, "hl-1");
    let line = serde_json::to_string(&written).unwrap_or_else(|e| panic!("{e}"));
    let read: Event = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{line}: {e}"));
    let back = from_event(&read).unwrap_or_else(|e| panic!("{line}: {e}"));
    (read, back)
}

#[test]
fn every_campaign_event_reads_back_from_its_journal_line_unchanged() {
    let events = every_event();
    let mut types: Vec<&str> = events.iter().map(CampaignEvent::type_name).collect();
    types.dedup();
    assert_eq!(types.len(), 16, "one sample of each engine event type");
    for event in &events {
        let (read, back) = through_the_journal(event);
        assert_eq!(read.type_name(), format!("campaign.{}", event.type_name()));
        assert_eq!(back.as_ref(), Some(event), "{}", event.type_name());
    }
}

#[test]
fn the_agent_of_an_offer_or_a_preview_dial_is_the_events_agent_id() {
    let events = every_event();
    let agents: Vec<Option<String>> = events
        .iter()
        .filter(|e| matches!(e.type_name(), "offered" | "attempt_started" | "connected"))
        .map(|e| through_the_journal(e).0.agent_id)
        .collect();
    assert_eq!(
        agents,
        [
            Some("alice".into()),
            None,
            Some("bob".into()),
            Some("alice".into())
        ]
    );
}

#[test]
fn other_events_are_not_campaign_events_and_a_broken_body_is_an_error() {
    let ts = hotline_events::Timestamp::from_datetime(time::OffsetDateTime::UNIX_EPOCH);
    let other = EventDraft::new(EventKind::CallQueued { position: 1 }).into_event(
        Uuid::from_u128(2),
        2,
        ts,
        "hl-1",
    );
    assert!(matches!(from_event(&other), Ok(None)));
    let broken = EventDraft::new(EventKind::CampaignHeld(CampaignEventBody {
        campaign: "renewals".into(),
        fields: BTreeMap::from([("entry".to_string(), serde_json::json!("seven"))]),
    }))
    .into_event(Uuid::from_u128(3), 3, ts, "hl-1");
    assert!(matches!(
        from_event(&broken),
        Err(JournalError::Fields { kind: "held", .. })
    ));
}
