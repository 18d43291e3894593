//! Post-call surveys in the dialplan: the top-level `surveys:`, a queue node's `survey:`, what
//! the loader and the check refuse, and what the executor hands the server.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use hotline_dialplan::{
    check, CallInfo, CheckContext, Dialplan, Ivr, IvrAction, PromptFiles, Survey, SurveyQuestion,
    ValidationContext,
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
