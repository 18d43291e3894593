//! Queue node options: required and preferred skills, priority and max wait for one caller.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use hotline_dialplan::{
    CallInfo, Dialplan, Ivr, IvrAction, NodeKind, QueueOptions, ValidationContext,
};

const FILE: &str = "dialplans/test.yaml";

fn source(queue: &str) -> String {
    format!("version: 1\nnumbers:\n  \"300\":\n    start: q\n    nodes:\n      q: {{ queue: {queue} }}\n")
}

fn errors(queue: &str) -> Vec<String> {
    match Dialplan::parse(&source(queue), FILE, &ValidationContext::default()) {
        Ok(_) => Vec::new(),
        Err(errors) => errors.errors().iter().map(ToString::to_string).collect(),
    }
}

fn options(queue: &str) -> (String, QueueOptions) {
    let plan = match Dialplan::parse(&source(queue), FILE, &ValidationContext::default()) {
        Ok(plan) => plan,
        Err(errors) => panic!("{errors}"),
    };
    match &plan.number("300").expect("number 300").nodes["q"].kind {
        NodeKind::Queue { queue, options, .. } => (queue.clone(), options.clone()),
        other => panic!("{other:?}"),
    }
}

fn skills(list: &[(&str, u8)]) -> BTreeMap<String, u8> {
    list.iter().map(|(s, p)| ((*s).to_owned(), *p)).collect()
}

#[test]
fn a_plain_queue_name_asks_for_nothing_more() {
    assert_eq!(
        options("support"),
        ("support".to_owned(), QueueOptions::default())
    );
}

#[test]
fn every_option_is_read() {
    let (queue, opts) = options(
        "{ name: support, priority: -2, skills: { french: 6, billing: 1 }, preferred_skills: { english: 10 }, max_wait: 90s, callback_offer: 2m }",
    );
    assert_eq!(queue, "support");
    assert_eq!(
        opts,
        QueueOptions {
            priority: Some(-2),
            skills: skills(&[("french", 6), ("billing", 1)]),
            preferred_skills: skills(&[("english", 10)]),
            max_wait: Some(Duration::from_secs(90)),
            callback_offer: Some(Duration::from_secs(120)),
            survey: None,
        }
    );
    // Only the name: the queue's defaults for the rest.
    assert_eq!(
        options("{ name: billing }"),
        ("billing".to_owned(), QueueOptions::default())
    );
}

#[test]
fn the_executor_hands_the_options_to_the_server() {
    let plan = Dialplan::parse(
        &source("{ name: support, skills: { french: 6 }, priority: 3 }"),
        FILE,
        &ValidationContext::default(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let mut ivr = Ivr::start(
        Arc::new(plan),
        CallInfo::new("300", "+8613800000000", SystemTime::UNIX_EPOCH),
        Instant::now(),
    )
    .expect("number 300");
    assert_eq!(ivr.poll_action(), Some(IvrAction::Answer));
    assert_eq!(
        ivr.poll_action(),
        Some(IvrAction::Queue {
            queue: "support".into(),
            options: QueueOptions {
                priority: Some(3),
                skills: skills(&[("french", 6)]),
                ..QueueOptions::default()
            },
            data: Default::default(),
        })
    );
    assert!(ivr.is_finished());
}

#[test]
fn bad_options_are_reported_where_they_are_written() {
    assert_eq!(
        errors("{ name: support, skills: { french: 11 } }"),
        ["dialplans/test.yaml:6:54: bad proficiency `11` for skill `french`: use 1 to 10"]
    );
    assert_eq!(
        errors("{ name: support, preferred_skills: { \"fr ench\": 3 } }"),
        ["dialplans/test.yaml:6:56: bad skill name `fr ench`: use letters, digits, `_` and `-`"]
    );
    assert_eq!(
        errors("{ name: support, priority: high }"),
        ["dialplans/test.yaml:6:46: bad priority `high`: expected a whole number (higher is served first)"]
    );
    assert_eq!(
        errors("{ name: support, max_wait: 0s }"),
        ["dialplans/test.yaml:6:46: max_wait must be longer than zero"]
    );
    assert_eq!(
        errors("{ name: support, callback_offer: 0s }"),
        ["dialplans/test.yaml:6:52: callback_offer must be longer than zero"]
    );
    assert_eq!(
        errors("{ name: support, skils: { french: 5 } }"),
        ["dialplans/test.yaml:6:36: unknown key `skils` in queue of node `q`; did you mean `skills`?"]
    );
    assert_eq!(
        errors("{ skills: { french: 5 } }"),
        ["dialplans/test.yaml:6:19: queue of node `q` has no `name`"]
    );
    assert_eq!(
        errors("{ name: support, skills: [french] }"),
        ["dialplans/test.yaml:6:44: expected a mapping of skills to proficiency 1-10, such as `{ french: 5 }`, found a list"]
    );
}

#[test]
fn queue_names_in_the_mapping_are_checked_against_the_configured_queues() {
    let ctx = ValidationContext {
        queues: Some(["support".to_owned()].into()),
        prompts: None,
    };
    let result = Dialplan::parse(&source("{ name: sales, priority: 1 }"), FILE, &ctx);
    let errors: Vec<String> = match result {
        Ok(_) => Vec::new(),
        Err(errors) => errors.errors().iter().map(ToString::to_string).collect(),
    };
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].contains("sales"), "{errors:?}");
}
