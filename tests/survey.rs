//! Post-call surveys on real calls: a SIPp caller queued for support, a SIPp agent answers and
//! talks, then hangs up (BYE); the caller stays, hears the survey question, presses 4 (an RFC
//! 4733 pcap) and hears the thanks before hotline hangs up. The journal holds
//! `survey.answered` (score 4, tied to the call, agent 1001 and queue support) and
//! `survey.completed`, and `/api/v1/kpis` shows satisfaction 4 and response rate 1. A Mandarin
//! caller hears the survey in Mandarin; a key that is no score plays the invalid prompt and the
//! question again, and no key then skips the survey (response rate 0). When the caller hangs up
//! first there is no survey.

#![allow(clippy::unwrap_used)]

mod support;

use std::time::Duration;

use serde_json::Value;
use support::agent::{AgentSetup, SippAgent};
use support::http::get;
use support::sipp::Sipp;
use support::{call_event_types, poll_until, Hotline, Options};

const TOKEN: &str = "hotline-demo-token";

const SURVEY_PLAN: &str = r#"version: 1
surveys:
  csat:
    questions: [survey_agent]
    timeout: 5s
    retries: 1
    invalid: survey_invalid
    thanks: survey_thanks
numbers:
  "800":
    start: wait
    nodes:
      wait: { queue: { name: support, survey: csat } }
  "801":
    start: mandarin
    nodes:
      mandarin: { set: { language: zh-CN }, next: wait }
      wait: { queue: { name: support, survey: csat } }
"#;

/// The KPIs of `queue` (or `agent`) over the last 15 minutes, from the whole snapshot.
fn last_15m(snapshot: &Value, kind: &str, name: &str) -> Value {
    snapshot[kind][name]["windows"]
        .as_array()
        .unwrap_or_else(|| panic!("no {kind} {name}: {snapshot}"))
        .iter()
        .find(|w| w["window"]["kind"] == "rolling" && w["window"]["seconds"] == 900)
        .map(|w| w["kpis"].clone())
        .unwrap()
}

#[test]
fn the_agent_hangs_up_and_the_caller_answers_the_survey_with_4() {
    let h = Hotline::start_with_dialplan(Options::default(), SURVEY_PLAN);
    let agent = SippAgent::start(
        &h,
        AgentSetup {
            id: "1001",
            hold_ms: 20_000,
            answer_scenario: "agent_hangup.xml",
            extra: Vec::new(),
            ..AgentSetup::default()
        },
    );
    // The agent's scenario talks 2 s after answering; the survey question (about 7 s, a key
    // interrupts it) starts then, and the caller presses 4 five seconds after the answer.
    let caller = Sipp::new("caller_survey.xml", h.sip)
        .var("press_ms", 5_000)
        .var("key", 4)
        .var("bye_ms", 20_000)
        .args(&["-s", "800", "-m", "1"])
        .spawn();
    let answered = h.wait_type("survey.answered", Duration::from_secs(20));
    let call = answered["call_id"].clone();
    assert_eq!(answered["score"], 4, "{answered}");
    assert_eq!(answered["question"], 0, "{answered}");
    assert_eq!(answered["survey"], "csat", "{answered}");
    assert_eq!(answered["agent_id"], "1001", "{answered}");
    assert_eq!(answered["queue"], "support", "{answered}");
    let connected = h.wait_type("call.answered", Duration::from_secs(1));
    assert_eq!(connected["call_id"], call);

    let ended = h.wait_event("the call's end", Duration::from_secs(15), |e| {
        e["type"] == "call.ended" && e["call_id"] == call
    });
    assert_eq!(ended["reason"], "completed", "{ended}");
    assert_eq!(ended["hung_up_by"], "agent", "{ended}");
    caller
        .wait(Duration::from_secs(20))
        .assert_ok("caller (hung up by hotline after the thanks)");
    agent
        .finish(Duration::from_secs(30))
        .assert_ok("agent 1001 (sent BYE)");

    let events = h.events();
    let types = call_event_types(&events, call.as_str().unwrap());
    let at = |t: &str| {
        types
            .iter()
            .position(|x| x == t)
            .unwrap_or_else(|| panic!("{t}: {types:?}"))
    };
    assert!(at("call.answered") < at("survey.answered"), "{types:?}");
    assert!(at("survey.answered") < at("survey.completed"), "{types:?}");
    assert!(at("survey.completed") < at("call.ended"), "{types:?}");
    assert!(!types.iter().any(|t| t == "survey.skipped"), "{types:?}");
    // The caller heard the question, then the thanks, in the server's language.
    let prompts: Vec<&str> = events
        .iter()
        .filter(|e| e["type"] == "ivr.prompt" && e["call_id"] == call)
        .map(|e| e["prompt"].as_str().unwrap())
        .collect();
    assert_eq!(prompts, ["survey_agent", "survey_thanks"], "{prompts:?}");
    // The agent was released when they hung up, before the survey ended.
    let wrap_up = events
        .iter()
        .position(|e| e["type"] == "agent.state_changed" && e["to"] == "wrap_up")
        .expect("agent wrap-up");
    let answer_at = events
        .iter()
        .position(|e| e["type"] == "survey.answered")
        .unwrap();
    assert!(
        wrap_up < answer_at,
        "the agent stayed on the call during the survey"
    );

    let mut snap = Value::Null;
    let ok = poll_until(Duration::from_secs(10), || {
        let r = get(h.http, "/api/v1/kpis", Some(TOKEN)).unwrap();
        assert_eq!(r.status, 200, "{}", r.body);
        snap = serde_json::from_str(&r.body).unwrap();
        last_15m(&snap, "queues", "support")["survey_responses"] == 1
    });
    assert!(ok, "KPIs never showed the survey: {snap}");
    let support = last_15m(&snap, "queues", "support");
    assert_eq!(support["satisfaction"], 4.0, "{support}");
    assert_eq!(support["response_rate"], 1.0, "{support}");
    assert_eq!(support["surveys_offered"], 1, "{support}");
    let alice = last_15m(&snap, "agents", "1001");
    assert_eq!(alice["satisfaction"], 4.0, "{alice}");
    assert_eq!(alice["response_rate"], 1.0, "{alice}");
    let metrics = get(h.http, "/metrics", None).unwrap().body;
    assert!(
        metrics.contains("hotline_kpi_queue_satisfaction{queue=\"support\",window=\"last_15m\"} 4"),
        "{metrics}"
    );
}

#[test]
fn no_survey_when_the_caller_hangs_up_first() {
    let h = Hotline::start_with_dialplan(Options::default(), SURVEY_PLAN);
    let agent = SippAgent::start(
        &h,
        AgentSetup {
            id: "1001",
            hold_ms: 15_000,
            ..AgentSetup::default()
        },
    );
    // The caller talks about 3 s with the agent, then hangs up; the agent waits for the BYE.
    let caller = Sipp::new("caller_digits.xml", h.sip)
        .var("from", "13900000000")
        .var("key1", 1)
        .var("key2", 2)
        .var("key3", 3)
        .var("talk_ms", 3_000)
        .key("caller_pt", 0)
        .args(&["-s", "800", "-m", "1"])
        .spawn();
    let ended = h.wait_type("call.ended", Duration::from_secs(20));
    assert_eq!(ended["hung_up_by"], "caller", "{ended}");
    assert_eq!(ended["reason"], "completed", "{ended}");
    caller.wait(Duration::from_secs(10)).assert_ok("caller");
    agent
        .finish(Duration::from_secs(30))
        .assert_ok("agent 1001 (got the BYE)");
    let events = h.events();
    let types = call_event_types(&events, ended["call_id"].as_str().unwrap());
    assert!(types.iter().any(|t| t == "call.answered"), "{types:?}");
    assert!(
        !types.iter().any(|t| t.starts_with("survey.")),
        "a survey after the caller left: {types:?}"
    );
    assert!(
        !events
            .iter()
            .any(|e| e["type"] == "ivr.prompt" && e["prompt"] == "survey_agent"),
        "the survey question was played"
    );
}

#[test]
fn a_mandarin_caller_hears_the_survey_in_mandarin_and_a_wrong_key_then_silence_skips_it() {
    let h = Hotline::start_with_dialplan(Options::default(), SURVEY_PLAN);
    let agent = SippAgent::start(
        &h,
        AgentSetup {
            id: "1001",
            hold_ms: 20_000,
            answer_scenario: "agent_hangup.xml",
            ..AgentSetup::default()
        },
    );
    // `#` is no score: the invalid prompt, the question again, then no key within the timeout.
    let caller = Sipp::new("caller_survey.xml", h.sip)
        .var("press_ms", 5_000)
        .var("key", "pound")
        .var("bye_ms", 45_000)
        .args(&["-s", "801", "-m", "1"])
        .spawn();
    let skipped = h.wait_type("survey.skipped", Duration::from_secs(45));
    assert_eq!(skipped["reason"], "no_answer", "{skipped}");
    assert_eq!(skipped["answered"], 0, "{skipped}");
    assert_eq!(skipped["agent_id"], "1001", "{skipped}");
    assert_eq!(skipped["queue"], "support", "{skipped}");
    let call = skipped["call_id"].clone();
    caller
        .wait(Duration::from_secs(20))
        .assert_ok("caller (hung up by hotline after the survey)");
    agent
        .finish(Duration::from_secs(30))
        .assert_ok("agent 1001 (sent BYE)");
    // The call's end is written after the survey's outcome: wait for it before reading the journal.
    h.wait_event("the call's end", Duration::from_secs(15), |e| {
        e["type"] == "call.ended" && e["call_id"] == call
    });
    let events = h.events();
    let heard: Vec<(&str, &str)> = events
        .iter()
        .filter(|e| e["type"] == "ivr.prompt" && e["call_id"] == call)
        .map(|e| {
            (
                e["prompt"].as_str().unwrap(),
                e["language"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        heard,
        [
            ("survey_agent", "zh-CN"),
            ("survey_invalid", "zh-CN"),
            ("survey_agent", "zh-CN")
        ],
        "{heard:?}"
    );
    let types = call_event_types(&events, call.as_str().unwrap());
    assert!(
        !types
            .iter()
            .any(|t| t == "survey.answered" || t == "survey.completed"),
        "{types:?}"
    );
    let ended = events
        .iter()
        .find(|e| e["type"] == "call.ended" && e["call_id"] == call)
        .unwrap();
    assert_eq!(ended["reason"], "completed", "{ended}");

    let mut snap = Value::Null;
    let ok = poll_until(Duration::from_secs(10), || {
        let r = get(h.http, "/api/v1/kpis", Some(TOKEN)).unwrap();
        snap = serde_json::from_str(&r.body).unwrap();
        last_15m(&snap, "queues", "support")["surveys_offered"] == 1
    });
    assert!(ok, "KPIs never showed the survey: {snap}");
    let support = last_15m(&snap, "queues", "support");
    assert_eq!(support["survey_responses"], 0, "{support}");
    assert_eq!(support["response_rate"], 0.0, "{support}");
    assert_eq!(support["satisfaction"], Value::Null, "{support}");
}
