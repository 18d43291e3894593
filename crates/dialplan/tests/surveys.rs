//! Surveys in the dialplan: the top-level `surveys:`, a queue node's `survey:` (post-call), a
//! `survey` node in any flow, what the loader and the check refuse, what the executor hands the
//! server and how `simulate` runs a survey node.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use hotline_dialplan::{
    check, CallInfo, CheckContext, Dialplan, HangupCause, HangupReason, Ivr, IvrAction, IvrInput,
    IvrOutcome, PromptFiles, Survey, SurveyEnd, SurveyQuestion, ValidationContext,
};

const FILE: &str = "dialplans/test.yaml";

fn source(surveys: &str, queue: &str) -> String {
    format!(
        "version: 1\nsurveys:\n{surveys}numbers:\n  \"300\":\n    start: q\n    nodes:\n      q: {{ queue: {queue} }}\n"
    )
}

const CSAT: &str = "  csat:\n    intro: survey_intro\n    questions:\n      - survey_agent\n      - { prompt: survey_resolved, min: 1, max: 2 }\n    timeout: 4s\n    retries: 2\n    invalid: survey_invalid\n    thanks: survey_thanks\n";

fn errors(src: &str) -> Vec<String> {
    match Dialplan::parse(src, FILE, &ValidationContext::default()) {
        Ok(_) => Vec::new(),
        Err(errors) => errors.errors().iter().map(ToString::to_string).collect(),
    }
}

fn plan(src: &str) -> Dialplan {
    Dialplan::parse(src, FILE, &ValidationContext::default()).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn a_survey_is_read_with_its_questions_prompts_and_timing() {
    let plan = plan(&source(CSAT, "{ name: support, survey: csat }"));
    assert_eq!(
        plan.survey("csat"),
        Some(&Survey {
            intro: Some("survey_intro".into()),
            questions: vec![
                SurveyQuestion {
                    prompt: "survey_agent".into(),
                    min: 1,
                    max: 5
                },
                SurveyQuestion {
                    prompt: "survey_resolved".into(),
                    min: 1,
                    max: 2
                },
            ],
            timeout: Duration::from_secs(4),
            retries: 2,
            invalid: Some("survey_invalid".into()),
            thanks: Some("survey_thanks".into()),
        })
    );
    for prompt in [
        "survey_intro",
        "survey_agent",
        "survey_resolved",
        "survey_invalid",
        "survey_thanks",
    ] {
        assert!(plan.prompts_used().contains(prompt), "{prompt}");
    }
}

#[test]
fn defaults_are_scores_1_to_5_a_5s_timeout_and_one_retry() {
    let plan = plan(&source(
        "  short:\n    questions: [survey_agent]\n",
        "{ name: support, survey: short }",
    ));
    let survey = plan.survey("short").expect("declared");
    assert_eq!(survey.timeout, Duration::from_secs(5));
    assert_eq!(survey.retries, 1);
    assert_eq!((survey.questions[0].min, survey.questions[0].max), (1, 5));
    assert_eq!(
        (survey.intro.as_ref(), survey.thanks.as_ref()),
        (None, None)
    );
}

#[test]
fn the_executor_hands_the_survey_name_with_the_queue() {
    let plan = plan(&source(CSAT, "{ name: support, survey: csat }"));
    let mut ivr = Ivr::start(
        Arc::new(plan),
        CallInfo::new("300", "+8613800000000", SystemTime::UNIX_EPOCH),
        Instant::now(),
    )
    .expect("number 300");
    assert_eq!(ivr.poll_action(), Some(IvrAction::Answer));
    match ivr.poll_action() {
        Some(IvrAction::Queue { queue, options, .. }) => {
            assert_eq!(queue, "support");
            assert_eq!(options.survey.as_deref(), Some("csat"));
        }
        other => panic!("{other:?}"),
    }
    // The survey is looked up in the plan the call runs on.
    assert!(ivr.plan().survey("csat").is_some());
}

#[test]
fn a_queue_without_survey_asks_none() {
    let plan = plan(&source(CSAT, "support"));
    let mut ivr = Ivr::start(
        Arc::new(plan),
        CallInfo::new("300", "+8613800000000", SystemTime::UNIX_EPOCH),
        Instant::now(),
    )
    .expect("number 300");
    ivr.poll_action();
    match ivr.poll_action() {
        Some(IvrAction::Queue { options, .. }) => assert_eq!(options.survey, None),
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_unknown_survey_is_refused_with_a_hint() {
    let errors = errors(&source(CSAT, "{ name: support, survey: cstat }"));
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].starts_with("dialplans/test.yaml:16:44:"),
        "{errors:?}"
    );
    assert!(errors[0].contains("unknown survey `cstat`"), "{errors:?}");
    assert!(errors[0].contains("did you mean `csat`?"), "{errors:?}");
}

#[test]
fn bad_surveys_are_refused_with_positions() {
    let cases = [
        ("  s:\n    timeout: 5s\n", "has no `questions`"),
        ("  s:\n    questions: []\n", "must ask 1 to 10 questions"),
        (
            "  s:\n    questions: [{ prompt: q, min: 4, max: 2 }]\n",
            "`min` 4 is above `max` 2",
        ),
        (
            "  s:\n    questions: [{ prompt: q, max: 12 }]\n",
            "bad score `max` `12`",
        ),
        (
            "  s:\n    questions: [q]\n    timeout: 10m\n",
            "survey timeout `10m` out of range",
        ),
        (
            "  s:\n    questions: [q]\n    thank: t\n",
            "did you mean `thanks`?",
        ),
        (
            "  s:\n    questions: [\"bad name\"]\n",
            "bad prompt name `bad name`",
        ),
    ];
    for (survey, expected) in cases {
        let errors = errors(&source(survey, "{ name: support, survey: s }"));
        assert!(
            errors.iter().any(|e| e.contains(expected)),
            "{survey}: {errors:?}"
        );
        assert!(
            errors.iter().all(|e| e.starts_with("dialplans/test.yaml:")),
            "{errors:?}"
        );
    }
}

#[test]
fn survey_prompts_are_checked_against_known_prompts_and_prompt_files() {
    let src = source(CSAT, "{ name: support, survey: csat }");
    let ctx = ValidationContext {
        queues: None,
        prompts: Some(
            [
                "survey_intro",
                "survey_agent",
                "survey_resolved",
                "survey_invalid",
            ]
            .into_iter()
            .map(str::to_owned)
            .collect(),
        ),
    };
    let errors = match Dialplan::parse(&src, FILE, &ctx) {
        Ok(_) => panic!("survey_thanks is unknown"),
        Err(errors) => errors.to_string(),
    };
    assert!(errors.contains("survey_thanks"), "{errors}");

    let dir = std::env::temp_dir().join(format!("hotline-survey-check-{}", std::process::id()));
    let en = dir.join("en");
    std::fs::create_dir_all(&en).expect("en");
    for p in [
        "survey_intro",
        "survey_agent",
        "survey_resolved",
        "survey_invalid",
    ] {
        std::fs::write(en.join(format!("{p}.wav")), b"").expect("wav");
    }
    let report = check(
        &src,
        FILE,
        &CheckContext {
            prompt_files: Some(PromptFiles {
                dir: dir.clone(),
                languages: vec!["en".into()],
            }),
            ..CheckContext::default()
        },
    );
    let _ = std::fs::remove_dir_all(&dir);
    let rendered = report.render();
    assert_eq!(report.error_count(), 1, "{rendered}");
    assert!(
        rendered.contains("prompt `survey_thanks` has no file for language `en`"),
        "{rendered}"
    );
}

#[test]
fn simulate_shows_the_survey_a_queued_caller_will_hear() {
    let plan = Arc::new(plan(&source(CSAT, "{ name: support, survey: csat }")));
    let call = hotline_dialplan::SimulatedCall {
        to: "300".into(),
        from: "+8613800000000".into(),
        at: SystemTime::UNIX_EPOCH,
        keys: Vec::new(),
    };
    let run = hotline_dialplan::simulate(plan, &call, Instant::now());
    assert_eq!(run.end.to_string(), "queue support survey csat");
}

/// A flow that asks survey `csat` in a `survey` node (an agentless campaign's flow).
fn flow(node: &str) -> String {
    format!(
        "version: 1\nsurveys:\n{CSAT}numbers:\n  \"700\":\n    start: ask\n    nodes:\n      ask: {node}\n      thanks: {{ play: goodbye, next: bye }}\n      sorry: {{ play: invalid, next: bye }}\n      bye: {{ hangup: true }}\n"
    )
}

fn start_flow(src: &str, now: Instant) -> Ivr {
    Ivr::start(
        Arc::new(plan(src)),
        CallInfo::new("700", "+12125550109", SystemTime::UNIX_EPOCH),
        now,
    )
    .expect("number 700")
}

fn drain(ivr: &mut Ivr) -> Vec<IvrAction> {
    std::iter::from_fn(|| ivr.poll_action()).collect()
}

#[test]
fn a_survey_node_hands_the_survey_to_the_server_and_goes_on_at_next_once_completed() {
    let t0 = Instant::now();
    let mut ivr = start_flow(
        &flow("{ survey: csat, next: thanks, on_skipped: sorry }"),
        t0,
    );
    assert_eq!(
        drain(&mut ivr),
        [
            IvrAction::Answer,
            IvrAction::Survey {
                node: "ask".into(),
                survey: "csat".into(),
                language: None,
            }
        ]
    );
    // The survey's keys and prompts are the server's survey machine's, not the IVR's.
    ivr.handle(t0, IvrInput::Digit('4'));
    ivr.handle(t0, IvrInput::PlaybackFinished);
    assert_eq!(drain(&mut ivr), []);
    assert_eq!(ivr.current_node(), "ask");
    assert!(ivr.poll_timeout().is_some(), "a survey is guarded");
    ivr.handle(t0, IvrInput::SurveyFinished(SurveyEnd::Completed));
    assert_eq!(
        drain(&mut ivr),
        [IvrAction::Play {
            prompt: "goodbye".into(),
            barge_in: false,
            language: None
        }]
    );
    assert_eq!(ivr.current_node(), "thanks");
}

#[test]
fn a_skipped_survey_goes_to_on_skipped_and_a_caller_hanging_up_ends_the_ivr() {
    let t0 = Instant::now();
    let src = flow("{ survey: csat, next: thanks, on_skipped: sorry }");
    let mut ivr = start_flow(&src, t0);
    drain(&mut ivr);
    ivr.handle(t0, IvrInput::SurveyFinished(SurveyEnd::NoAnswer));
    assert_eq!(ivr.current_node(), "sorry");

    let mut ivr = start_flow(&src, t0);
    drain(&mut ivr);
    ivr.handle(t0, IvrInput::SurveyFinished(SurveyEnd::CallerHungUp));
    assert_eq!(drain(&mut ivr), []);
    assert_eq!(ivr.outcome(), Some(&IvrOutcome::CallerHungUp));
}

#[test]
fn without_next_or_on_skipped_the_call_is_hung_up_after_the_survey() {
    let t0 = Instant::now();
    for end in [SurveyEnd::Completed, SurveyEnd::NoAnswer] {
        let mut ivr = start_flow(&flow("{ survey: csat }"), t0);
        drain(&mut ivr);
        ivr.handle(t0, IvrInput::SurveyFinished(end));
        assert_eq!(
            drain(&mut ivr),
            [IvrAction::Hangup {
                reason: HangupReason::SurveyEnded,
                cause: HangupCause::Normal
            }],
            "{end:?}"
        );
        assert!(ivr.is_finished());
    }
}

#[test]
fn a_survey_never_reported_counts_as_skipped_once_its_longest_run_is_over() {
    let t0 = Instant::now();
    let mut ivr = start_flow(&flow("{ survey: csat, on_skipped: sorry }"), t0);
    drain(&mut ivr);
    let deadline = ivr.poll_timeout().expect("guarded");
    // Intro, 2 questions x 3 attempts (each with the invalid prompt), thanks: far beyond the
    // survey's own timeouts.
    assert!(
        deadline - t0 > Duration::from_secs(2 * 3 * 4),
        "{deadline:?}"
    );
    ivr.handle_timeout(deadline - Duration::from_millis(1));
    assert_eq!(ivr.current_node(), "ask");
    ivr.handle_timeout(deadline);
    assert_eq!(ivr.current_node(), "sorry");
}

#[test]
fn a_survey_node_naming_an_unknown_survey_is_refused_with_a_hint_and_position() {
    let errors = errors(&flow("{ survey: cast, next: thanks }"));
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].starts_with("dialplans/test.yaml:16:22:"),
        "{errors:?}"
    );
    assert!(errors[0].contains("unknown survey `cast`"), "{errors:?}");
    assert!(errors[0].contains("did you mean `csat`?"), "{errors:?}");
    let report = check(&flow("{ survey: cast }"), FILE, &CheckContext::default());
    assert_eq!(report.error_count(), 1, "{}", report.render());
}

#[test]
fn survey_node_keys_and_targets_are_checked() {
    let bad_target = errors(&flow("{ survey: csat, next: thank }"));
    assert!(
        bad_target.iter().any(|e| e.contains("thank")),
        "{bad_target:?}"
    );
    let misplaced = errors(&flow("{ survey: csat, otherwise: thanks }"));
    assert!(
        misplaced
            .iter()
            .any(|e| e.contains("`otherwise` is not allowed on a `survey` node")),
        "{misplaced:?}"
    );
    let report = check(
        &flow("{ survey: csat, next: thanks, on_skipped: sorry }"),
        FILE,
        &CheckContext::default(),
    );
    assert_eq!(report.error_count(), 0, "{}", report.render());
}

#[test]
fn a_cycle_through_a_completed_survey_needs_keys_but_one_through_on_skipped_does_not() {
    // Asking again after every answer is the caller's doing: fine.
    assert_eq!(
        errors(&flow("{ survey: csat, next: ask }")),
        Vec::<String>::new()
    );
    // Skipped again and again by a silent caller: refused.
    let errors = errors(&flow("{ survey: csat, on_skipped: again }").replace(
        "      bye: { hangup: true }\n",
        "      bye: { hangup: true }\n      again: { goto: ask }\n",
    ));
    assert!(
        errors
            .iter()
            .any(|e| e.contains("cycle without caller input")),
        "{errors:?}"
    );
}

#[test]
fn simulate_runs_a_survey_node_with_the_keys_given_in_advance() {
    let plan = Arc::new(plan(&flow(
        "{ survey: csat, next: thanks, on_skipped: sorry }",
    )));
    let call = |keys: &str| hotline_dialplan::SimulatedCall {
        to: "700".into(),
        from: "+12125550109".into(),
        at: SystemTime::UNIX_EPOCH,
        keys: keys.chars().map(Some).collect(),
    };
    let run = hotline_dialplan::simulate(plan.clone(), &call("42"), Instant::now());
    let lines: Vec<String> = run.steps.iter().map(ToString::to_string).collect();
    assert_eq!(
        lines,
        [
            "node ask",
            "answer",
            "play survey_intro",
            "play survey_agent",
            "survey csat question 1: 4",
            "play survey_resolved",
            "survey csat question 2: 2",
            "survey csat completed after 2 answers",
            "play survey_thanks",
            "node thanks",
            "play goodbye",
            "node bye",
        ]
    );
    assert_eq!(run.end.to_string(), "hangup normal");
    assert_eq!(run.unused_keys, 0);

    // A 7 is out of range (1-5), a second one too: skipped after the invalid prompt.
    let run = hotline_dialplan::simulate(plan, &call("77"), Instant::now());
    let lines: Vec<String> = run.steps.iter().map(ToString::to_string).collect();
    assert!(
        lines.contains(&"play survey_invalid".to_owned()),
        "{lines:?}"
    );
    assert!(
        lines.contains(&"survey csat skipped (no answer) after 0 answers".to_owned()),
        "{lines:?}"
    );
    assert!(lines.contains(&"node sorry".to_owned()), "{lines:?}");
}

#[test]
fn the_bundled_agentless_survey_flow_asks_the_satisfaction_survey_then_hangs_up() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../dialplans/default.yaml");
    let plan = Arc::new(
        Dialplan::load(path, &ValidationContext::default()).unwrap_or_else(|e| panic!("{e}")),
    );
    let call = hotline_dialplan::SimulatedCall {
        to: "95502".into(),
        from: "+12125550109".into(),
        at: SystemTime::UNIX_EPOCH,
        keys: vec![Some('4'), Some('5')],
    };
    let run = hotline_dialplan::simulate(plan, &call, Instant::now());
    let lines: Vec<String> = run.steps.iter().map(ToString::to_string).collect();
    assert!(
        lines.contains(&"survey satisfaction completed after 2 answers".to_owned()),
        "{lines:?}"
    );
    assert_eq!(lines.last().map(String::as_str), Some("play survey_thanks"));
    assert_eq!(run.end.to_string(), "hung up after the survey");
}
