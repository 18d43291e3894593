//! The `consent` node and a `set` node's `recording:`: reading them (errors with positions),
//! the executor's answers, and `simulate`.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use hotline_dialplan::{
    simulate, CallInfo, ConsentAnswer, Dialplan, Ivr, IvrAction, IvrInput, IvrTimer, NodeKind,
    NodeRecording, SimulatedCall, SimulationEnd, ValidationContext,
};
use hotline_recording::{RecordingPolicy, SampleShare};

const PLAN: &str = r##"
version: 1
numbers:
  "400":
    start: notice
    nodes:
      notice:
        consent: { prompt: recording_notice, opt_out: "9", timeout: 3s }
        next: policy
      policy:
        set: { recording: { policy: always, ivr: true } }
        next: agents
      agents: { queue: support }
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

fn start(source: &str, t0: Instant) -> Ivr {
    Ivr::start(
        plan(source),
        CallInfo::new("400", "+8613800000000", SystemTime::UNIX_EPOCH),
        t0,
    )
    .unwrap_or_else(|| panic!("number 400"))
}

fn node_policy(source: &str) -> NodeRecording {
    let plan = plan(source);
    let node = &plan.number("400").expect("400").nodes["policy"];
    let NodeKind::Set { assignments, .. } = &node.kind else {
        panic!("a set node: {node:?}");
    };
    match assignments.as_slice() {
        [hotline_dialplan::Assignment::Recording(r)] => *r,
        other => panic!("{other:?}"),
    }
}

#[test]
fn consent_node_reads_its_prompt_key_and_timeout() {
    let plan = plan(PLAN);
    let node = &plan.number("400").expect("400").nodes["notice"];
    let NodeKind::Consent(consent) = &node.kind else {
        panic!("a consent node: {node:?}");
    };
    assert_eq!(consent.prompt, "recording_notice");
    assert_eq!(consent.opt_out, Some('9'));
    assert_eq!(consent.timeout, Duration::from_secs(3));
    assert_eq!(consent.next, "policy");
    assert_eq!(node.kind.prompts(), ["recording_notice"]);
}

#[test]
fn set_reads_every_recording_policy() {
    let with = |text: &str| node_policy(&PLAN.replace("{ policy: always, ivr: true }", text));
    assert_eq!(
        node_policy(PLAN),
        NodeRecording {
            policy: RecordingPolicy::Always,
            ivr: true
        }
    );
    assert_eq!(
        with("never"),
        NodeRecording {
            policy: RecordingPolicy::Never,
            ivr: false
        }
    );
    assert_eq!(with("on_demand").policy, RecordingPolicy::OnDemand);
    assert_eq!(
        with("{ sampled: \"20%\" }").policy,
        RecordingPolicy::Sampled(SampleShare::from_ppm(200_000))
    );
    assert_eq!(
        with("{ policy: { sampled: 12.5% }, ivr: false }").policy,
        RecordingPolicy::Sampled(SampleShare::from_ppm(125_000))
    );
}

#[test]
fn bad_consent_and_recording_settings_are_errors_with_positions() {
    let swap = |from: &str, to: &str| errors(&PLAN.replace(from, to));
    let key = swap("opt_out: \"9\"", "opt_out: \"99\"");
    assert!(key.contains("bad opt_out key `99`"), "{key}");
    assert!(key.contains("test.yaml:8:"), "{key}");
    let no_prompt = swap("prompt: recording_notice, ", "");
    assert!(no_prompt.contains("needs `prompt`"), "{no_prompt}");
    let timeout = swap("timeout: 3s", "timeout: 10m");
    assert!(timeout.contains("consent timeout `10m`"), "{timeout}");
    let lonely = swap("opt_out: \"9\", ", "");
    assert!(lonely.contains("no `opt_out` key"), "{lonely}");
    let typo = swap("opt_out", "optout");
    assert!(typo.contains("did you mean `opt_out`?"), "{typo}");
    let no_next = swap("        next: policy\n", "");
    assert!(no_next.contains("needs `next`"), "{no_next}");
    let policy = swap("policy: always", "policy: sometimes");
    assert!(
        policy.contains("unknown recording policy `sometimes`"),
        "{policy}"
    );
    assert!(policy.contains("test.yaml:11:"), "{policy}");
    let share = swap("{ policy: always, ivr: true }", "{ sampled: 120% }");
    assert!(share.contains("bad sample share"), "{share}");
    let ivr = swap("ivr: true", "ivr: maybe");
    assert!(ivr.contains("test.yaml:11:"), "{ivr}");
}

#[test]
fn the_opt_out_key_during_the_notice_declines_and_goes_on() {
    let t0 = Instant::now();
    let mut ivr = start(PLAN, t0);
    assert_eq!(
        drain(&mut ivr),
        [
            IvrAction::Answer,
            IvrAction::Play {
                prompt: "recording_notice".into(),
                barge_in: true,
                language: None,
            }
        ]
    );
    // Another key does nothing.
    ivr.handle(t0, IvrInput::Digit('1'));
    assert!(matches!(
        drain(&mut ivr).as_slice(),
        [IvrAction::DigitIgnored { digit: '1', .. }]
    ));
    ivr.handle(t0 + Duration::from_secs(1), IvrInput::Digit('9'));
    let actions = drain(&mut ivr);
    assert_eq!(actions[0], IvrAction::StopPlayback);
    assert_eq!(
        actions[1],
        IvrAction::ConsentAnswered {
            node: "notice".into(),
            answer: ConsentAnswer::Declined
        }
    );
    assert!(matches!(
        &actions[2],
        IvrAction::RecordingSet { node, recording } if node == "policy" && recording.ivr
    ));
    assert!(matches!(&actions[3], IvrAction::Queue { queue, .. } if queue == "support"));
    assert_eq!(ivr.attributes().consent, Some(ConsentAnswer::Declined));
    assert_eq!(
        ivr.attributes().recording.as_ref().map(|(n, _)| n.as_str()),
        Some("policy")
    );
}

#[test]
fn the_key_in_the_wait_declines_and_silence_gives_consent() {
    let t0 = Instant::now();
    let mut ivr = start(PLAN, t0);
    drain(&mut ivr);
    ivr.handle(t0 + Duration::from_secs(4), IvrInput::PlaybackFinished);
    assert!(drain(&mut ivr).is_empty());
    assert_eq!(
        ivr.pending_timer(),
        Some((t0 + Duration::from_secs(7), IvrTimer::DigitTimeout))
    );
    let mut declined = ivr.clone();
    declined.handle(t0 + Duration::from_secs(5), IvrInput::Digit('9'));
    assert_eq!(
        drain(&mut declined)[0],
        IvrAction::ConsentAnswered {
            node: "notice".into(),
            answer: ConsentAnswer::Declined
        }
    );
    // No timeout before its time.
    ivr.handle_timeout(t0 + Duration::from_secs(6));
    assert!(drain(&mut ivr).is_empty());
    ivr.handle_timeout(t0 + Duration::from_secs(7));
    let actions = drain(&mut ivr);
    assert_eq!(
        actions[0],
        IvrAction::ConsentAnswered {
            node: "notice".into(),
            answer: ConsentAnswer::Given
        }
    );
    assert_eq!(ivr.attributes().consent, Some(ConsentAnswer::Given));
}

#[test]
fn a_notice_without_an_opt_out_key_gives_consent_when_it_ends() {
    let t0 = Instant::now();
    let mut ivr = start(&PLAN.replace("opt_out: \"9\", timeout: 3s", ""), t0);
    assert!(matches!(
        drain(&mut ivr).as_slice(),
        [
            IvrAction::Answer,
            IvrAction::Play {
                barge_in: false,
                ..
            }
        ]
    ));
    ivr.handle(t0, IvrInput::Digit('9'));
    assert!(matches!(
        drain(&mut ivr).as_slice(),
        [IvrAction::DigitIgnored { .. }]
    ));
    ivr.handle(t0 + Duration::from_secs(4), IvrInput::PlaybackFinished);
    assert_eq!(
        drain(&mut ivr)[0],
        IvrAction::ConsentAnswered {
            node: "notice".into(),
            answer: ConsentAnswer::Given
        }
    );
}

#[test]
fn simulate_shows_the_consent_and_where_the_recording_policy_comes_from() {
    let call = |keys: Vec<Option<char>>| SimulatedCall {
        to: "400".into(),
        from: "+8613800000000".into(),
        at: SystemTime::UNIX_EPOCH,
        keys,
    };
    let lines = |keys| -> Vec<String> {
        let walk = simulate(plan(PLAN), &call(keys), Instant::now());
        assert!(matches!(walk.end, SimulationEnd::Queue { .. }));
        walk.steps.iter().map(ToString::to_string).collect()
    };
    assert_eq!(
        lines(Vec::new()),
        [
            "node notice",
            "answer",
            "play recording_notice",
            "recording consent in notice: given",
            "node policy",
            "node agents",
            "recording policy always + IVR set in policy",
            "recording: always + IVR (from node policy, over the queue's policy)",
        ]
    );
    let declined = lines(vec![Some('9')]);
    assert!(declined.contains(&"recording consent in notice: declined".to_owned()));
    assert_eq!(
        declined.last().map(String::as_str),
        Some("recording: none (consent declined)")
    );
}

#[test]
fn check_finds_the_notice_in_every_bundled_language_and_reports_a_missing_one() {
    let prompts = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../prompts");
    let ctx = hotline_dialplan::CheckContext {
        prompt_files: Some(hotline_dialplan::PromptFiles {
            dir: prompts,
            languages: vec!["en".into(), "zh-CN".into()],
        }),
        ..hotline_dialplan::CheckContext::default()
    };
    let report = hotline_dialplan::check(PLAN, "test.yaml", &ctx);
    assert_eq!(report.error_count(), 0, "{}", report.render());
    let missing = hotline_dialplan::check(
        &PLAN.replace("prompt: recording_notice", "prompt: recording_notise"),
        "test.yaml",
        &ctx,
    );
    let rendered = missing.render();
    assert_eq!(missing.error_count(), 2, "{rendered}");
    assert!(
        rendered.contains(
            "test.yaml:8:28: error: prompt `recording_notise` has no file for language `zh-CN`"
        ),
        "{rendered}"
    );
}
