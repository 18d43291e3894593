//! Wire names and fields of the survey, transfer, recording, scheduled-callback and outbound
//! campaign call events.

use super::tests::{sample, ts};
use super::*;

#[test]
fn json_of_survey_answered_is_stable() {
    let event = sample(EventKind::SurveyAnswered {
        survey: "csat".into(),
        question: 1,
        score: 4,
        campaign: None,
        entry: None,
        attempt: None,
    });
    let json = serde_json::to_string(&event).unwrap();
    assert!(
        json.contains(
            r#""type":"survey.answered","survey":"csat","question":1,"score":4,"call_id""#
        ),
        "{json}"
    );
    assert!(
        json.contains(r#""agent_id":"alice","queue":"support""#),
        "{json}"
    );
}

#[test]
fn survey_events_of_a_campaign_call_name_the_record_and_old_lines_still_read() {
    let event = EventDraft::new(EventKind::SurveySkipped {
        survey: "csat".into(),
        answered: 1,
        reason: SurveySkipReason::CallerHungUp,
        campaign: Some("satisfaction".into()),
        entry: Some(4),
        attempt: Some(2),
    })
    .call(Uuid::from_u128(9))
    .into_event(Uuid::nil(), 5, ts(), "n");
    let json = serde_json::to_string(&event).unwrap();
    assert!(
        json.contains(
            r#""reason":"caller_hung_up","campaign":"satisfaction","entry":4,"attempt":2"#
        ),
        "{json}"
    );
    assert!(
        !json.contains("agent_id") && !json.contains("queue"),
        "{json}"
    );
    assert_eq!(serde_json::from_str::<Event>(&json).unwrap(), event);
    // A line written before the campaign fields existed reads with none.
    let old = r#"{"v":1,"id":"00000000-0000-0000-0000-000000000000","seq":1,"ts":"2026-11-23T10:15:02.123Z","node":"n","type":"survey.answered","survey":"csat","question":0,"score":4,"agent_id":"alice","queue":"support"}"#;
    let read = serde_json::from_str::<Event>(old).unwrap();
    assert_eq!(
        read.kind,
        EventKind::SurveyAnswered {
            survey: "csat".into(),
            question: 0,
            score: 4,
            campaign: None,
            entry: None,
            attempt: None,
        }
    );
    let back = serde_json::to_string(&read).unwrap();
    assert!(!back.contains("campaign"), "{back}");
    assert_eq!(serde_json::from_str::<Event>(&back).unwrap(), read);
}

#[test]
fn transfer_events_round_trip_with_their_wire_names() {
    let kinds = [
        EventKind::TransferStarted {
            number: "+8613800138000".into(),
            trunk: "carrier".into(),
        },
        EventKind::TransferAnswered {
            number: "+8613800138000".into(),
            trunk: "carrier".into(),
            ring_ms: 2100,
        },
        EventKind::TransferFailed {
            number: "+15550100".into(),
            trunk: None,
            cause: TransferFailCause::RefusedByAllowList,
            status: None,
        },
        EventKind::TransferFailed {
            number: "+8613800138000".into(),
            trunk: Some("carrier".into()),
            cause: TransferFailCause::Busy,
            status: Some(486),
        },
    ];
    let names = [
        "transfer.started",
        "transfer.answered",
        "transfer.failed",
        "transfer.failed",
    ];
    for (kind, name) in kinds.into_iter().zip(names) {
        let event = sample(kind);
        let json = serde_json::to_string(&event).unwrap();
        let back: Event = serde_json::from_str(&json).unwrap();
        assert_eq!(back, event, "{json}");
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(value["type"], name);
    }
    let refused = sample(EventKind::TransferFailed {
        number: "+15550100".into(),
        trunk: None,
        cause: TransferFailCause::RefusedByAllowList,
        status: None,
    });
    let value = serde_json::to_value(&refused).unwrap();
    assert_eq!(value["cause"], "refused_by_allow_list");
    assert!(value.get("status").is_none());
    let ended = sample(EventKind::CallEnded {
        reason: EndReason::Transferred,
        hung_up_by: HungUpBy::Transferee,
        duration_ms: 1,
    });
    assert_eq!(
        serde_json::to_value(&ended).unwrap()["hung_up_by"],
        "transferee"
    );
}

#[test]
fn recording_events_round_trip_with_their_wire_names() {
    let info = RecordingInfo {
        file: "2026/11/23/0193.wav".into(),
        direction: "inbound".into(),
        customer_number: Some("*******8000".into()),
        dialed_number: None,
        transferred_to: Some("+*********8000".into()),
        transfer_trunk: Some("carrier".into()),
        started_at: ts(),
        ended_at: ts(),
        pauses: vec![RecordingPause {
            start_ms: 1000,
            end_ms: 3000,
        }],
        consent: "not_asked".into(),
        sample_rate: 8000,
        channels: 2,
        duration_ms: 120_000,
        sha256: "00".repeat(32),
        frames_dropped: 0,
    };
    let kinds = [
        (
            EventKind::RecordingStarted {
                file: "2026/11/23/0193.wav".into(),
                reason: RecordingReason::OnDemand,
            },
            "recording.started",
        ),
        (
            EventKind::RecordingPaused {
                at_ms: 1000,
                by: RecordingControl::Agent,
            },
            "recording.paused",
        ),
        (
            EventKind::RecordingResumed {
                at_ms: 3000,
                by: RecordingControl::Api,
            },
            "recording.resumed",
        ),
        (
            EventKind::RecordingCompleted(Box::new(info)),
            "recording.completed",
        ),
        (
            EventKind::RecordingFailed {
                file: "2026/11/23/0193.wav".into(),
                stage: RecordingStage::Write,
                error: "File too large".into(),
                duration_ms: 4000,
            },
            "recording.failed",
        ),
        (
            EventKind::RecordingDeleted {
                file: "2026/11/23/0193.wav".into(),
                age_days: 91,
            },
            "recording.deleted",
        ),
        (
            EventKind::RecordingSkipped {
                reason: RecordingSkipReason::ConsentDeclined,
                policy_node: Some("policy".into()),
            },
            "recording.skipped",
        ),
    ];
    for (kind, name) in kinds {
        let event = sample(kind);
        let json = serde_json::to_string(&event).unwrap();
        let back: Event = serde_json::from_str(&json).unwrap();
        assert_eq!(back, event, "{json}");
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(value["type"], name);
        assert_eq!(value["queue"], "support", "{json}");
    }
    let json = serde_json::to_string(&sample(EventKind::RecordingPaused {
        at_ms: 1000,
        by: RecordingControl::Agent,
    }))
    .unwrap();
    assert!(
        json.contains(r#""type":"recording.paused","at_ms":1000,"by":"agent""#),
        "{json}"
    );
}

#[test]
fn scheduled_callback_events_round_trip_with_their_wire_names() {
    let id = Uuid::from_u128(0x0193_5b7e_1c2d_7abc_8def_0000_0000_0042);
    let kinds = [
        (
            EventKind::CallbackScheduled(Box::new(ScheduledCallback {
                callback_id: id,
                number: "+8613800138000".into(),
                time_zone: Some("Asia/Shanghai".into()),
                reason: "complaint".into(),
                attributes: [("severity".to_string(), "major".to_string())].into(),
                skills: vec!["mandarin".into()],
                priority: 3,
                not_before: ts(),
                deadline: Some(ts()),
                sampling: Some(SamplingOutcome {
                    month: "2026-11".into(),
                    rules: vec!["major".into()],
                    kept: true,
                }),
            })),
            "callback.scheduled",
        ),
        (
            EventKind::CallbackHeld {
                callback_id: id,
                reason: ScheduledHoldReason::UnknownTimeZone,
            },
            "callback.held",
        ),
        (
            EventKind::CallbackTimeZoneSet {
                callback_id: id,
                time_zone: "Europe/Paris".into(),
            },
            "callback.time_zone_set",
        ),
        (
            EventKind::CallbackClaimed {
                callback_id: id,
                skills: vec![],
                priority: 7,
            },
            "callback.claimed",
        ),
        (
            EventKind::CallbackClaimReleased {
                callback_id: id,
                reason: ClaimReleaseReason::WindowClosed,
            },
            "callback.claim_released",
        ),
        (
            EventKind::CallbackAttemptStarted {
                callback_id: id,
                attempt: 2,
                number: "+8613800138000".into(),
                caller_id: Some("+861088880000".into()),
                ring_timeout_ms: 30_000,
            },
            "callback.attempt_started",
        ),
        (
            EventKind::CallbackAttemptEnded {
                callback_id: id,
                attempt: 2,
                outcome: AttemptOutcome::NetworkFailure,
                sip_status: Some(503),
                q850_cause: Some(34),
                retry_after_ms: Some(120_000),
                retry_at: Some(ts()),
            },
            "callback.attempt_ended",
        ),
        (
            EventKind::CallbackDeadlineWarning {
                callback_id: id,
                deadline: ts(),
                lead_ms: 7_200_000,
            },
            "callback.deadline_warning",
        ),
        (
            EventKind::CallbackMissedDeadline {
                callback_id: id,
                deadline: ts(),
            },
            "callback.missed_deadline",
        ),
        (
            EventKind::CallbackCompleted {
                callback_id: id,
                attempt: 1,
                within_deadline: true,
                deadline: None,
            },
            "callback.completed",
        ),
        (
            EventKind::CallbackScheduledCancelled { callback_id: id },
            "callback.scheduled_cancelled",
        ),
        (
            EventKind::CallbackScheduledGivenUp {
                callback_id: id,
                reason: ScheduledGiveUpReason::DoNotCall,
                attempts: 0,
            },
            "callback.scheduled_given_up",
        ),
    ];
    for (kind, name) in kinds {
        let event = sample(kind);
        let json = serde_json::to_string(&event).unwrap();
        let back: Event = serde_json::from_str(&json).unwrap();
        assert_eq!(back, event, "{json}");
        assert_eq!(event.type_name(), name);
        assert!(json.contains(&format!(r#""type":"{name}""#)), "{json}");
        assert!(json.contains(r#""callback_id":"01935b7e-1c2d-7abc-8def-000000000042""#));
    }
}

#[test]
fn an_outbound_campaign_call_round_trips_and_leaves_out_an_absent_flow() {
    let event = EventDraft::new(EventKind::CallOutbound {
        campaign: "renewals".into(),
        entry: 7,
        attempt: 2,
        flow: None,
    })
    .call(Uuid::from_u128(9))
    .queue("sales")
    .into_event(Uuid::nil(), 4, ts(), "n");
    let json = serde_json::to_string(&event).unwrap();
    assert!(
        json.contains(r#""type":"call.outbound","campaign":"renewals","entry":7,"attempt":2"#),
        "{json}"
    );
    assert!(!json.contains("flow"), "{json}");
    assert_eq!(serde_json::from_str::<Event>(&json).unwrap(), event);
    // An agentless flow is named; a line without `flow` reads as a queue target.
    let line = r#"{"v":1,"id":"00000000-0000-0000-0000-000000000000","seq":1,"ts":"2026-11-23T10:15:02.123Z","node":"n","type":"call.outbound","campaign":"survey","entry":1,"attempt":1,"flow":"9001"}"#;
    let flow = serde_json::from_str::<Event>(line).unwrap();
    assert_eq!(flow.type_name(), "call.outbound");
    assert!(matches!(
        flow.kind,
        EventKind::CallOutbound { flow: Some(ref f), .. } if f == "9001"
    ));
}
