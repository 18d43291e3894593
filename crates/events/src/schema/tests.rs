use super::*;
use proptest::prelude::*;
use time::macros::datetime;

pub(super) fn ts() -> Timestamp {
    Timestamp::from_datetime(datetime!(2026-11-23 10:15:02.123 UTC))
}

fn all_kinds() -> Vec<EventKind> {
    vec![
        EventKind::CallArrived {
            from: "sip:+33123456789@carrier".into(),
            to: "sip:support@hotline".into(),
        },
        EventKind::CallAnsweredByIvr,
        EventKind::CallOutbound {
            campaign: "renewals".into(),
            entry: 3,
            attempt: 2,
            flow: None,
        },
        EventKind::CallOutbound {
            campaign: "survey".into(),
            entry: 1,
            attempt: 1,
            flow: Some("9001".into()),
        },
        EventKind::IvrDigit {
            digit: '#',
            dialplan_node: "main_menu".into(),
        },
        EventKind::IvrTts {
            language: "zh-CN".into(),
            voice: Some("cmn".into()),
            chars: 2,
            cached: false,
            audio_ms: 940,
            failure: None,
        },
        EventKind::IvrTts {
            language: "fr".into(),
            voice: None,
            chars: 7,
            cached: false,
            audio_ms: 0,
            failure: Some(TtsFailure::NoVoice),
        },
        EventKind::CallQueued { position: 3 },
        EventKind::CallOffered {
            ring_timeout_ms: 15_000,
            data: [("name".to_owned(), "Li Na".to_owned())].into(),
        },
        EventKind::CallOfferFailed {
            cause: OfferFailCause::NoAnswer,
        },
        EventKind::CallAnswered { wait_ms: 42_000 },
        EventKind::CallAbandoned {
            wait_ms: 61_000,
            position: Some(2),
        },
        EventKind::CallAbandoned {
            wait_ms: 1,
            position: None,
        },
        EventKind::CallbackQueued {
            number: "+33123456789".into(),
            note: Some("billing question".into()),
            entered_at: ts(),
            priority: 2,
            attempts: 1,
            position: 4,
            scheduled: false,
        },
        EventKind::CallbackQueued {
            number: "+33123456789".into(),
            note: None,
            entered_at: ts(),
            priority: 0,
            attempts: 0,
            position: 1,
            scheduled: true,
        },
        EventKind::CallbackConverted {
            number: "+33123456789".into(),
            note: None,
            entered_at: ts(),
            priority: 0,
        },
        EventKind::CallbackOffered { wait_ms: 90_000 },
        EventKind::CallbackAccepted {
            number_entered: true,
        },
        EventKind::CallbackDue {
            attempt: 2,
            scheduled: false,
        },
        EventKind::CallbackDue {
            attempt: 1,
            scheduled: true,
        },
        EventKind::CallbackDialing {
            attempt: 2,
            trunk: "carrier".into(),
            caller_id: Some("+33100000000".into()),
            number: "***6789".into(),
        },
        EventKind::CallbackConnected { wait_ms: 600_000 },
        EventKind::CallbackFailed {
            cause: CallbackFailCause::Busy,
            attempts: 1,
            retry_after_ms: 60_000,
            sip_status: Some(486),
            q850_cause: Some(17),
        },
        EventKind::CallbackFailed {
            cause: CallbackFailCause::Unknown,
            attempts: 2,
            retry_after_ms: 60_000,
            sip_status: None,
            q850_cause: None,
        },
        EventKind::CallbackGivenUp {
            wait_ms: 1_000,
            reason: CallbackGiveUpReason::InvalidNumber,
        },
        EventKind::CallbackGivenUp {
            wait_ms: 7_200_000,
            reason: CallbackGiveUpReason::AttemptsExhausted,
        },
        EventKind::CallbackCancelled { wait_ms: 5_000 },
        EventKind::CallEnded {
            reason: EndReason::Completed,
            hung_up_by: HungUpBy::Agent,
            duration_ms: 300_000,
        },
        EventKind::AgentRegistered {
            contacts: vec!["sip:alice@10.0.0.5:5060".into()],
            expires: 3600,
        },
        EventKind::AgentUnregistered,
        EventKind::AgentStateChanged {
            from: AgentState::Ringing,
            to: AgentState::NotReady,
            reason: Some("missed_offer".into()),
        },
        EventKind::AgentStateChanged {
            from: AgentState::WrapUp,
            to: AgentState::Ready,
            reason: None,
        },
        EventKind::AgentSkillsChanged {
            skills: [("billing".to_string(), 7), ("french".to_string(), 3)].into(),
        },
        EventKind::AgentSkillsConfigured {
            skills: [("english".to_string(), 8)].into(),
        },
        EventKind::CallHeld,
        EventKind::CallResumed,
        EventKind::DialplanLoaded {
            version: 2,
            hash: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad".into(),
            file: "dialplans/default.yaml".into(),
        },
        EventKind::SurveyAnswered {
            survey: "csat".into(),
            question: 0,
            score: 4,
            campaign: None,
            entry: None,
            attempt: None,
        },
        EventKind::SurveyAnswered {
            survey: "csat".into(),
            question: 1,
            score: 2,
            campaign: Some("satisfaction".into()),
            entry: Some(3),
            attempt: Some(2),
        },
        EventKind::SurveyCompleted {
            survey: "csat".into(),
            answered: 2,
            campaign: None,
            entry: None,
            attempt: None,
        },
        EventKind::SurveyCompleted {
            survey: "csat".into(),
            answered: 2,
            campaign: Some("satisfaction".into()),
            entry: Some(0),
            attempt: Some(1),
        },
        EventKind::SurveySkipped {
            survey: "csat".into(),
            answered: 1,
            reason: SurveySkipReason::CallerHungUp,
            campaign: Some("satisfaction".into()),
            entry: Some(1),
            attempt: Some(1),
        },
    ]
}

pub(super) fn sample(kind: EventKind) -> Event {
    EventDraft::new(kind)
        .call(Uuid::from_u128(0x0193_5b7e_1c2d_7abc_8def_0123_4567_89ab))
        .sip_call_id("a84b4c76e66710@pc33.example.com")
        .agent("alice")
        .queue("support")
        .into_event(
            Uuid::from_u128(0x0193_5b7e_1c2d_7000_8000_0000_0000_0001),
            7,
            ts(),
            "hl-1",
        )
}

#[test]
fn every_kind_round_trips() {
    for kind in all_kinds() {
        let event = sample(kind);
        let json = serde_json::to_string(&event).unwrap();
        let back: Event = serde_json::from_str(&json).unwrap();
        assert_eq!(back, event, "{json}");
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(value["type"], event.type_name());
        assert_eq!(value["v"], 1);
    }
}

#[test]
fn json_of_call_queued_is_stable() {
    let event = sample(EventKind::CallQueued { position: 3 });
    assert_eq!(
        serde_json::to_string(&event).unwrap(),
        r#"{"v":1,"id":"01935b7e-1c2d-7000-8000-000000000001","seq":7,"ts":"2026-11-23T10:15:02.123Z","node":"hl-1","type":"call.queued","position":3,"call_id":"01935b7e-1c2d-7abc-8def-0123456789ab","sip_call_ids":["a84b4c76e66710@pc33.example.com"],"agent_id":"alice","queue":"support"}"#
    );
}

#[test]
fn json_of_call_ended_is_stable() {
    let event = EventDraft::new(EventKind::CallEnded {
        reason: EndReason::MaxWaitExceeded,
        hung_up_by: HungUpBy::System,
        duration_ms: 600_000,
    })
    .into_event(Uuid::nil(), 1, ts(), "n");
    assert_eq!(
        serde_json::to_string(&event).unwrap(),
        r#"{"v":1,"id":"00000000-0000-0000-0000-000000000000","seq":1,"ts":"2026-11-23T10:15:02.123Z","node":"n","type":"call.ended","reason":"max_wait_exceeded","hung_up_by":"system","duration_ms":600000}"#
    );
}

#[test]
fn json_of_agent_skills_changed_is_stable() {
    let ev = EventDraft::new(EventKind::AgentSkillsChanged {
        skills: [("billing".to_string(), 7)].into(),
    })
    .agent("1003")
    .into_event(Uuid::from_u128(1), 9, ts(), "hl-1");
    let json = serde_json::to_string(&ev).unwrap();
    assert!(
        json.contains(r#""type":"agent.skills_changed","skills":{"billing":7},"agent_id":"1003""#),
        "{json}"
    );
}

#[test]
fn json_of_callback_queued_keeps_the_number_and_entry_time() {
    let ev = EventDraft::new(EventKind::CallbackQueued {
        number: "+33123456789".into(),
        note: None,
        entered_at: ts(),
        priority: 0,
        attempts: 0,
        position: 2,
        scheduled: false,
    })
    .queue("support")
    .into_event(Uuid::from_u128(1), 9, ts(), "hl-1");
    let json = serde_json::to_string(&ev).unwrap();
    assert!(
        json.contains(r#""type":"callback.queued","number":"+33123456789","entered_at":"2026-11-23T10:15:02.123Z","priority":0,"attempts":0,"position":2"#),
        "{json}"
    );
    // Fields added later default when an older writer left them out.
    let old = r#"{"v":1,"id":"00000000-0000-0000-0000-000000000001","seq":9,"ts":"2026-11-23T10:15:02.123Z","node":"n","type":"callback.queued","number":"1","entered_at":"2026-11-23T10:15:02.123Z","position":1}"#;
    let back: Event = serde_json::from_str(old).unwrap();
    assert!(matches!(
        back.kind,
        EventKind::CallbackQueued {
            priority: 0,
            attempts: 0,
            scheduled: false,
            ..
        }
    ));
}

#[test]
fn json_of_a_failed_callback_dial_names_its_sip_status_and_q850_cause() {
    let ev = EventDraft::new(EventKind::CallbackFailed {
        cause: CallbackFailCause::NetworkFailure,
        attempts: 1,
        retry_after_ms: 120_000,
        sip_status: Some(503),
        q850_cause: Some(41),
    })
    .into_event(Uuid::from_u128(1), 9, ts(), "hl-1");
    let json = serde_json::to_string(&ev).unwrap();
    assert!(
        json.contains(r#""type":"callback.failed","cause":"network_failure","attempts":1,"retry_after_ms":120000,"sip_status":503,"q850_cause":41"#),
        "{json}"
    );
    // An older writer's event reads back without them; an unscheduled due omits the marker.
    let old = r#"{"v":1,"id":"00000000-0000-0000-0000-000000000001","seq":9,"ts":"2026-11-23T10:15:02.123Z","node":"n","type":"callback.failed","cause":"busy","attempts":1,"retry_after_ms":5}"#;
    let back: Event = serde_json::from_str(old).unwrap();
    assert!(matches!(
        back.kind,
        EventKind::CallbackFailed {
            sip_status: None,
            q850_cause: None,
            ..
        }
    ));
    let due = EventDraft::new(EventKind::CallbackDue {
        attempt: 1,
        scheduled: false,
    })
    .into_event(Uuid::from_u128(1), 9, ts(), "hl-1");
    let json = serde_json::to_string(&due).unwrap();
    assert!(
        json.contains(r#""type":"callback.due","attempt":1"#) && !json.contains("scheduled"),
        "{json}"
    );
    assert_eq!(
        serde_json::to_string(&CallbackGiveUpReason::InvalidNumber).unwrap(),
        r#""invalid_number""#
    );
}

#[test]
fn callback_requested_is_snake_case() {
    assert_eq!(
        serde_json::to_string(&EndReason::CallbackRequested).unwrap(),
        r#""callback_requested""#
    );
}

#[test]
fn node_restart_is_snake_case() {
    assert_eq!(
        serde_json::to_string(&EndReason::NodeRestart).unwrap(),
        r#""node_restart""#
    );
}

#[test]
fn empty_correlation_fields_are_omitted() {
    let event = EventDraft::new(EventKind::CallHeld).into_event(Uuid::nil(), 1, ts(), "n");
    let json = serde_json::to_string(&event).unwrap();
    for absent in [
        "call_id",
        "sip_call_ids",
        "agent_id",
        "queue",
        "dialplan_version",
    ] {
        assert!(!json.contains(absent), "{json}");
    }
}

#[test]
fn the_dialplan_version_is_written_and_absent_in_older_journals_reads_as_none() {
    let event = EventDraft::new(EventKind::CallArrived {
        from: "5551234".into(),
        to: "100".into(),
    })
    .dialplan_version(2)
    .into_event(Uuid::nil(), 1, ts(), "n");
    let json = serde_json::to_string(&event).unwrap();
    assert!(json.ends_with(r#","dialplan_version":2}"#), "{json}");
    assert_eq!(serde_json::from_str::<Event>(&json).unwrap(), event);
    let old = r#"{"v":1,"id":"00000000-0000-0000-0000-000000000000","seq":1,"ts":"2026-11-23T10:15:02.123Z","node":"n","type":"call.arrived","from":"5551234","to":"100"}"#;
    assert_eq!(
        serde_json::from_str::<Event>(old).unwrap().dialplan_version,
        None
    );
}

#[test]
fn unknown_fields_are_ignored() {
    let json = r#"{"v":1,"id":"00000000-0000-0000-0000-000000000000","seq":1,"ts":"2026-11-23T10:15:02.123Z","node":"n","type":"call.held","added_later":true}"#;
    let event: Event = serde_json::from_str(json).unwrap();
    assert_eq!(event.kind, EventKind::CallHeld);
}

#[test]
fn unknown_type_is_an_error() {
    let json = r#"{"v":1,"id":"00000000-0000-0000-0000-000000000000","seq":1,"ts":"2026-11-23T10:15:02.123Z","node":"n","type":"call.teleported"}"#;
    assert!(serde_json::from_str::<Event>(json).is_err());
}

#[test]
fn draft_timestamp_overrides_the_write_time() {
    let at = Timestamp::from_datetime(datetime!(2020-01-01 00:00:00 UTC));
    let event = EventDraft::new(EventKind::CallHeld)
        .at(at)
        .into_event(Uuid::nil(), 1, ts(), "n");
    assert_eq!(event.ts, at);
}

proptest! {
    #[test]
    fn arbitrary_events_round_trip(
        idx in 0usize..all_kinds().len(),
        seq in any::<u64>(),
        millis in 0i64..4_000_000_000_000,
        call in proptest::option::of(any::<u128>()),
        sip in proptest::collection::vec("[ -~]{0,20}", 0..3),
        agent in proptest::option::of("\\PC{0,12}"),
        queue in proptest::option::of("\\PC{0,12}"),
        dialplan_version in proptest::option::of(any::<u64>()),
        node in "\\PC{0,12}",
    ) {
        let kind = all_kinds().swap_remove(idx);
        let at = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000).unwrap();
        let event = Event {
            v: SCHEMA_VERSION,
            id: Uuid::now_v7(),
            seq,
            ts: Timestamp::from_datetime(at),
            node,
            kind,
            call_id: call.map(Uuid::from_u128),
            sip_call_ids: sip,
            agent_id: agent,
            queue,
            dialplan_version,
        };
        let json = serde_json::to_string(&event).unwrap();
        prop_assert!(!json.contains('\n'));
        let back: Event = serde_json::from_str(&json).unwrap();
        prop_assert_eq!(back, event);
    }
}
