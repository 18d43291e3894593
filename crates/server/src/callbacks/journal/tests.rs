use std::collections::BTreeMap;

use hotline_campaigns::sampling::SamplingDecision;

use super::*;

fn at(text: &str) -> jiff::Timestamp {
    text.parse().unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn id() -> CallbackId {
    CallbackId(0x0193_5b7e_1c2d_7abc_8def_0000_0000_0042)
}

fn spec(time_zone: Option<&str>, deadline: Option<&str>) -> CallbackSpec {
    CallbackSpec {
        number: E164::parse("+8613800138000").unwrap_or_else(|e| panic!("{e}")),
        time_zone: time_zone.map(|z| Zone::new(z).unwrap_or_else(|e| panic!("{e}"))),
        reason: "complaint".into(),
        attributes: BTreeMap::from([("severity".to_string(), "major".to_string())]),
        queue: QueueName::new("support"),
        skills: vec![SkillName::new("mandarin")],
        priority: 4,
        due: DueWindow {
            not_before: at("2026-12-07T02:00:00.250Z"),
            deadline: deadline.map(at),
        },
        sampling: Some(SamplingDecision {
            month: "2026-12".into(),
            rules: vec!["major".into()],
            kept: true,
        }),
    }
}

/// One event of every variant, and every value of their enums.
fn every_event() -> Vec<CallbackEvent> {
    let t = at("2026-12-07T02:00:01.123Z");
    let id = id();
    let mut events = vec![
        CallbackEvent::Created {
            id,
            at: t,
            callback: Box::new(spec(Some("Asia/Shanghai"), Some("2026-12-08T02:00:00Z"))),
        },
        CallbackEvent::Created {
            id,
            at: t,
            callback: Box::new(CallbackSpec {
                attributes: BTreeMap::new(),
                skills: vec![],
                sampling: None,
                ..spec(None, None)
            }),
        },
        CallbackEvent::Held {
            id,
            at: t,
            reason: HoldReason::UnknownTimeZone,
        },
        CallbackEvent::TimeZoneSet {
            id,
            at: t,
            time_zone: Zone::new("America/New_York").unwrap_or_else(|e| panic!("{e}")),
        },
        CallbackEvent::Claimed {
            id,
            at: t,
            queue: QueueName::new("support"),
            skills: vec![SkillName::new("mandarin")],
            priority: 9,
        },
        CallbackEvent::AttemptStarted {
            id,
            at: t,
            attempt: 2,
            agent: AgentName::new("1001"),
            number: E164::parse("+8613800138000").unwrap_or_else(|e| panic!("{e}")),
            caller_id: Some(E164::parse("+861088880000").unwrap_or_else(|e| panic!("{e}"))),
            ring_timeout_ms: 30_000,
        },
        CallbackEvent::AttemptStarted {
            id,
            at: t,
            attempt: 1,
            agent: AgentName::new("1002"),
            number: E164::parse("+33123456789").unwrap_or_else(|e| panic!("{e}")),
            caller_id: None,
            ring_timeout_ms: 15_000,
        },
        CallbackEvent::DeadlineWarning {
            id,
            at: t,
            deadline: at("2026-12-08T02:00:00Z"),
            lead_ms: 7_200_000,
        },
        CallbackEvent::MissedDeadline {
            id,
            at: t,
            deadline: at("2026-12-08T02:00:00Z"),
        },
        CallbackEvent::Completed {
            id,
            at: t,
            attempt: 3,
            within_deadline: false,
        },
        CallbackEvent::Cancelled { id, at: t },
    ];
    for reason in [
        ReleaseReason::NoAgent,
        ReleaseReason::Timeout,
        ReleaseReason::WindowClosed,
        ReleaseReason::Restart,
    ] {
        events.push(CallbackEvent::ClaimReleased { id, at: t, reason });
    }
    for kind in [
        OutcomeKind::Answered,
        OutcomeKind::Busy,
        OutcomeKind::NoAnswer,
        OutcomeKind::InvalidNumber,
        OutcomeKind::Rejected,
        OutcomeKind::NetworkFailure,
        OutcomeKind::Unknown,
    ] {
        events.push(CallbackEvent::AttemptEnded {
            id,
            at: t,
            attempt: 1,
            outcome: DialOutcome {
                kind,
                sip_status: Some(503),
                q850_cause: Some(34),
                retry_after_ms: Some(120_000),
            },
            retry_at: Some(at("2026-12-07T02:10:00Z")),
        });
    }
    events.push(CallbackEvent::AttemptEnded {
        id,
        at: t,
        attempt: 1,
        outcome: DialOutcome::of(OutcomeKind::Busy),
        retry_at: None,
    });
    for reason in [
        GiveUpReason::NotSampled,
        GiveUpReason::DoNotCall,
        GiveUpReason::InvalidNumber,
        GiveUpReason::AttemptsExhausted,
        GiveUpReason::Expired,
    ] {
        events.push(CallbackEvent::GivenUp {
            id,
            at: t,
            reason,
            attempts: 2,
        });
    }
    events
}

#[test]
fn every_scheduler_event_reads_back_from_the_journal_unchanged() {
    let queue = QueueName::new("support");
    let mut seen = std::collections::BTreeSet::new();
    for event in every_event() {
        let draft = to_draft(&event, Some(&queue), Some(at("2026-12-08T02:00:00Z")));
        let written = draft.into_event(Uuid::from_u128(1), 7, Timestamp::now(), "hl-1");
        let json = serde_json::to_string(&written).unwrap_or_default();
        let read: Event = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{json}: {e}"));
        assert!(read.type_name().starts_with("callback."), "{json}");
        assert_eq!(read.queue.as_deref(), Some("support"), "{json}");
        let back = from_event(&read).unwrap_or_else(|e| panic!("{json}: {e}"));
        assert_eq!(back.as_ref(), Some(&event), "{json}");
        seen.insert(event.type_name());
    }
    assert_eq!(seen.len(), 12, "every variant is covered: {seen:?}");
}

#[test]
fn completed_names_the_deadline_and_attempts_name_the_agent() {
    let t = at("2026-12-07T02:00:01Z");
    let completed = CallbackEvent::Completed {
        id: id(),
        at: t,
        attempt: 1,
        within_deadline: true,
    };
    let draft = to_draft(&completed, None, Some(at("2026-12-08T02:00:00Z")));
    let EventKind::CallbackCompleted { deadline, .. } = &draft.kind else {
        panic!("{draft:?}");
    };
    assert_eq!(
        deadline.map(|d| d.to_string()).as_deref(),
        Some("2026-12-08T02:00:00.000Z")
    );
    assert_eq!(draft.ts, Some(wire_time(t)));
    let every = every_event();
    let started = every
        .iter()
        .find(|e| e.type_name() == "attempt_started")
        .unwrap_or_else(|| panic!("no attempt"));
    assert_eq!(
        to_draft(started, None, None).agent_id.as_deref(),
        Some("1001")
    );
}

#[test]
fn events_of_other_kinds_are_not_the_schedulers_and_broken_ones_are_refused() {
    let other = EventDraft::new(EventKind::CallQueued { position: 1 }).into_event(
        Uuid::nil(),
        1,
        Timestamp::now(),
        "n",
    );
    assert_eq!(from_event(&other), Ok(None));
    let claimed = EventDraft::new(EventKind::CallbackClaimed {
        callback_id: Uuid::from_u128(5),
        skills: vec![],
        priority: 0,
    })
    .into_event(Uuid::nil(), 2, Timestamp::now(), "n");
    assert_eq!(
        from_event(&claimed),
        Err(JournalError::Missing {
            kind: "callback.claimed",
            field: "queue"
        })
    );
    let zone = EventDraft::new(EventKind::CallbackTimeZoneSet {
        callback_id: Uuid::from_u128(5),
        time_zone: "Mars/Olympus".into(),
    })
    .into_event(Uuid::nil(), 3, Timestamp::now(), "n");
    assert!(matches!(
        from_event(&zone),
        Err(JournalError::Bad {
            field: "time_zone",
            ..
        })
    ));
}
