//! The `voicemail` node: reading it, the executor's prompts, beep and recording ends, and
//! `simulate`.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use hotline_dialplan::{
    simulate, CallInfo, Dialplan, Ivr, IvrAction, IvrInput, IvrOutcome, IvrTimer, NodeKind,
    RecordingEnd, SimulatedCall, SimulationEnd, Step, ValidationContext, BEEP_PROMPT,
};

const PLAN: &str = r##"
version: 1
numbers:
  "300":
    start: message
    nodes:
      message:
        voicemail: { box: sales, prompt: leave_message, max_length: 2m, silence: 5s, end_key: "#" }
        next: goodbye
      goodbye: { play: goodbye, next: bye }
      bye: { hangup: true }
"##;

fn plan(source: &str) -> Arc<Dialplan> {
    match Dialplan::parse(source, "test.yaml", &ValidationContext::default()) {
        Ok(plan) => Arc::new(plan),
        Err(errors) => panic!("{errors}"),
    }
}

fn errors(source: &str) -> String {
    match Dialplan::parse(source, "test.yaml", &ValidationContext::default()) {
        Ok(_) => panic!("expected errors"),
        Err(errors) => errors.to_string(),
    }
}

fn drain(ivr: &mut Ivr) -> Vec<IvrAction> {
    std::iter::from_fn(|| ivr.poll_action()).collect()
}

fn play(prompt: &str) -> IvrAction {
    IvrAction::Play {
        prompt: prompt.to_owned(),
        barge_in: false,
        language: None,
    }
}

/// Starts number 300 and plays the prompt and beep to the start of recording.
fn recording(t0: Instant) -> Ivr {
    let mut ivr = Ivr::start(
        plan(PLAN),
        CallInfo::new("300", "+8613800000000", SystemTime::UNIX_EPOCH),
        t0,
    )
    .unwrap_or_else(|| panic!("number 300"));
    assert_eq!(drain(&mut ivr), [IvrAction::Answer, play("leave_message")]);
    // Keys during the prompt are not the end key yet.
    ivr.handle(t0, IvrInput::Digit('#'));
    assert!(matches!(
        drain(&mut ivr).as_slice(),
        [IvrAction::DigitIgnored { digit: '#', .. }]
    ));
    ivr.handle(t0 + Duration::from_secs(3), IvrInput::PlaybackFinished);
    assert_eq!(drain(&mut ivr), [play(BEEP_PROMPT)]);
    ivr.handle(t0 + Duration::from_secs(4), IvrInput::PlaybackFinished);
    assert_eq!(
        drain(&mut ivr),
        [IvrAction::Record {
            node: "message".into(),
            mailbox: "sales".into(),
            silence: Some(Duration::from_secs(5)),
        }]
    );
    assert_eq!(
        ivr.pending_timer(),
        Some((t0 + Duration::from_secs(124), IvrTimer::RecordLimit))
    );
    ivr
}

#[test]
fn voicemail_node_reads_every_setting() {
    let plan = plan(PLAN);
    let node = &plan.number("300").expect("300").nodes["message"];
    let NodeKind::Voicemail(voicemail) = &node.kind else {
        panic!("not a voicemail node: {node:?}");
    };
    assert_eq!(voicemail.mailbox, "sales");
    assert_eq!(voicemail.prompts, ["leave_message"]);
    assert_eq!(voicemail.max_length, Duration::from_secs(120));
    assert_eq!(voicemail.silence, Some(Duration::from_secs(5)));
    assert_eq!(voicemail.end_key, Some('#'));
    assert_eq!(voicemail.next, "goodbye");
    assert!(
        plan.prompts_used().contains(BEEP_PROMPT),
        "the beep is a prompt"
    );
    assert!(plan.prompts_used().contains("leave_message"));
}

#[test]
fn voicemail_node_defaults_to_two_minutes_without_silence_or_end_key() {
    let plan = plan(&PLAN.replace(
        "{ box: sales, prompt: leave_message, max_length: 2m, silence: 5s, end_key: \"#\" }",
        "{ box: sales }",
    ));
    let NodeKind::Voicemail(voicemail) = &plan.number("300").expect("300").nodes["message"].kind
    else {
        panic!("not a voicemail node");
    };
    assert!(voicemail.prompts.is_empty());
    assert_eq!(voicemail.max_length, Duration::from_secs(120));
    assert_eq!((voicemail.silence, voicemail.end_key), (None, None));
}

#[test]
fn bad_voicemail_settings_are_errors_with_positions() {
    let swap = |from: &str, to: &str| errors(&PLAN.replace(from, to));
    let no_box = swap("box: sales, ", "");
    assert!(no_box.contains("needs `box`"), "{no_box}");
    let bad_box = swap("box: sales", "box: \"../etc\"");
    assert!(bad_box.contains("bad box name `../etc`"), "{bad_box}");
    let bad_key = swap("end_key: \"#\"", "end_key: \"##\"");
    assert!(bad_key.contains("bad end_key `##`"), "{bad_key}");
    let too_long = swap("max_length: 2m", "max_length: 11m");
    assert!(too_long.contains("bad max_length `11m`"), "{too_long}");
    let silence = swap("silence: 5s", "silence: 3m");
    assert!(
        silence.contains("`silence` must be shorter than `max_length`"),
        "{silence}"
    );
    let typo = swap("max_length", "max_lenght");
    assert!(typo.contains("did you mean `max_length`?"), "{typo}");
    let no_next = swap("        next: goodbye\n", "");
    assert!(no_next.contains("needs `next`"), "{no_next}");
    assert!(no_next.contains("test.yaml:"), "{no_next}");
}

#[test]
fn end_key_ends_the_message_and_goes_on() {
    let t0 = Instant::now();
    let mut ivr = recording(t0);
    // Other keys are part of the message.
    ivr.handle(t0 + Duration::from_secs(5), IvrInput::Digit('5'));
    assert!(matches!(
        drain(&mut ivr).as_slice(),
        [IvrAction::DigitIgnored { digit: '5', .. }]
    ));
    ivr.handle(t0 + Duration::from_secs(7), IvrInput::Digit('#'));
    assert_eq!(
        drain(&mut ivr),
        [
            IvrAction::StopRecording {
                reason: RecordingEnd::EndKey
            },
            play("goodbye")
        ]
    );
    assert_eq!(ivr.current_node(), "goodbye");
}

#[test]
fn max_length_and_silence_end_the_message() {
    let t0 = Instant::now();
    let mut ivr = recording(t0);
    ivr.handle_timeout(t0 + Duration::from_secs(123));
    assert_eq!(drain(&mut ivr), [], "not due yet");
    ivr.handle_timeout(t0 + Duration::from_secs(124));
    assert_eq!(
        drain(&mut ivr),
        [
            IvrAction::StopRecording {
                reason: RecordingEnd::MaxLength
            },
            play("goodbye")
        ]
    );

    let mut ivr = recording(t0);
    ivr.handle(t0 + Duration::from_secs(10), IvrInput::RecordingSilent);
    assert_eq!(
        drain(&mut ivr),
        [
            IvrAction::StopRecording {
                reason: RecordingEnd::Silence
            },
            play("goodbye")
        ]
    );
    // A late report once the message ended changes nothing.
    ivr.handle(t0 + Duration::from_secs(11), IvrInput::RecordingSilent);
    assert_eq!(drain(&mut ivr), []);
}

#[test]
fn caller_hanging_up_keeps_the_message() {
    let t0 = Instant::now();
    let mut ivr = recording(t0);
    ivr.handle(t0 + Duration::from_secs(8), IvrInput::Hangup);
    assert_eq!(
        drain(&mut ivr),
        [IvrAction::StopRecording {
            reason: RecordingEnd::CallerHungUp
        }]
    );
    assert_eq!(ivr.outcome(), Some(&IvrOutcome::CallerHungUp));
}

#[test]
fn simulate_prints_the_box_its_limits_and_the_end_key() {
    let call = |keys: Vec<Option<char>>| SimulatedCall {
        to: "300".into(),
        from: "+8613800000000".into(),
        at: SystemTime::UNIX_EPOCH,
        keys,
    };
    let walk = simulate(plan(PLAN), &call(vec![Some('#')]), Instant::now());
    let lines: Vec<String> = walk.steps.iter().map(ToString::to_string).collect();
    assert_eq!(
        lines,
        [
            "node message",
            "answer",
            "play leave_message",
            "play beep",
            "voicemail box sales max_length 2m silence 5s end_key #",
            "message ended: end_key",
            "node goodbye",
            "play goodbye",
            "node bye",
        ]
    );
    assert!(matches!(walk.end, SimulationEnd::Hangup { .. }));
    assert!(walk.steps.contains(&Step::Voicemail {
        mailbox: "sales".into(),
        max_length: Duration::from_secs(120),
        silence: Some(Duration::from_secs(5)),
        end_key: Some('#'),
    }));
    let walk = simulate(plan(PLAN), &call(Vec::new()), Instant::now());
    assert!(walk.steps.contains(&Step::MessageEnded {
        reason: RecordingEnd::MaxLength
    }));
}

#[test]
fn simulate_shows_the_default_length_of_a_node_without_limits() {
    let source = PLAN.replace(
        "{ box: sales, prompt: leave_message, max_length: 2m, silence: 5s, end_key: \"#\" }",
        "{ box: support }",
    );
    let call = SimulatedCall {
        to: "300".into(),
        from: "+8613800000000".into(),
        at: SystemTime::UNIX_EPOCH,
        keys: Vec::new(),
    };
    let walk = simulate(plan(&source), &call, Instant::now());
    let lines: Vec<String> = walk.steps.iter().map(ToString::to_string).collect();
    assert_eq!(
        lines[..5],
        [
            "node message",
            "answer",
            "play beep",
            "voicemail box support max_length 2m",
            "message ended: max_length",
        ]
    );
}
