//! Number 95500 of the bundled dialplan end to end with SIPp, outside opening hours and after a
//! call. Closed: a caller chooses English (2), hears the opening hours and the offer, presses 1,
//! hears the message prompt and the beep, speaks (SIPp's g711a.pcap, about 7 s of A-law speech),
//! ends with `#` and hears the confirmation before hotline hangs up; the message is in
//! `<data-dir>/voicemail/service/YYYY/MM/DD/<call-id>.wav` with its sidecar and a
//! `voicemail.recorded` event. Open: a caller keeps the default language and chooses customer
//! service, agent 1001 answers and hangs up, and the caller answers the two questions of the
//! `satisfaction` survey (5 for the service, 2 for how well the question was resolved): two
//! `survey.answered`, a `survey.completed`, and the queue's satisfaction KPI is their mean.

#![allow(clippy::unwrap_used)]

mod support;

use std::time::Duration;

use serde_json::Value;
use support::agent::{AgentSetup, SippAgent};
use support::http::get;
use support::sipp::Sipp;
use support::{call_event_types, poll_until, root, Hotline, Options};

const TOKEN: &str = "hotline-demo-token";

/// The bundled dialplan with the service line's schedule replaced by `hours` every day, no
/// holidays and no overrides, so the test does not depend on when it runs.
fn bundled_with_hours(hours: &str) -> String {
    let bundled = std::fs::read_to_string(root().join("dialplans/default.yaml")).unwrap();
    let edits = [
        (
            "      mon-fri: \"09:00-18:00\"\n      sat: \"09:00-12:00\"\n",
            format!("      daily: {hours}\n"),
        ),
        (
            "holidays: [\"2026-10-01..2026-10-07\", \"2027-01-01\"]",
            "holidays: []".to_owned(),
        ),
        (
            "working_days: [\"2026-09-27\", \"2026-10-10\"]",
            "working_days: []".to_owned(),
        ),
        (
            "\"2026-12-31\": \"09:00-15:00\"",
            "\"2000-01-01\": closed".to_owned(),
        ),
    ];
    edits.iter().fold(bundled, |text, (from, to)| {
        assert!(text.contains(from), "bundled dialplan changed: {from:?}");
        text.replace(from, to)
    })
}

/// How long a bundled English prompt plays, in ms: its PCM data at 8 kHz, 16 bits, mono.
fn prompt_ms(name: &str) -> u64 {
    let path = root().join("prompts/en").join(format!("{name}.wav"));
    let reader = hound::WavReader::open(&path).unwrap();
    u64::from(reader.duration()) * 1000 / u64::from(reader.spec().sample_rate)
}

/// An RFC 4733 key from the pcaps SIPp ships, then `pause_ms` of nothing.
fn key(name: &str, pause_ms: u64) -> String {
    format!(
        r#"<nop><action><exec play_pcap_audio="/usr/share/sip-tester/dtmf_2833_{name}.pcap"/></action></nop>
  <pause milliseconds="{pause_ms}"/>
  "#
    )
}

/// The speech SIPp ships: 236 packets of 30 ms.
const SPEECH_MS: i64 = 7_080;

const SPEECH: &str = r#"<nop><action><exec play_pcap_audio="/usr/share/sip-tester/g711a.pcap"/></action></nop>
  <pause milliseconds="7500"/>
  "#;

/// hotline ends the call: BYE, answered.
const HOTLINE_BYE: &str = r#"<recv request="BYE" timeout="30000"/>
  <send>
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]>
  </send>"#;

/// The prompts the call heard, as (prompt, language), in order.
fn prompts_heard(events: &[Value], call: &Value) -> Vec<(String, String)> {
    events
        .iter()
        .filter(|e| e["type"] == "ivr.prompt" && &e["call_id"] == call)
        .map(|e| {
            (
                e["prompt"].as_str().unwrap().to_owned(),
                e["language"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn a_caller_after_hours_hears_the_hours_and_leaves_a_message() {
    let h = Hotline::start_with_dialplan(Options::default(), &bundled_with_hours("closed"));
    // 2 over the language menu; 1 over the offer, which follows the hours (keys over those are
    // dropped); speech once the message prompt and the beep are over; then `#`.
    let audio = [
        key("2", prompt_ms("closed") + 1_500),
        key("1", prompt_ms("leave_message") + prompt_ms("beep") + 1_000),
        SPEECH.to_owned(),
        key("pound", 0),
    ]
    .concat();
    Sipp::new("caller_voicemail.xml", h.sip)
        .var("wait_ms", 1_000)
        .var("audio", audio)
        .var("ending", HOTLINE_BYE)
        .args(&["-s", "95500", "-m", "1"])
        .run(Duration::from_secs(60))
        .assert_ok("caller leaving a message on 95500");

    let recorded = h.wait_type("voicemail.recorded", Duration::from_secs(10));
    assert_eq!(recorded["box"], "service", "{recorded}");
    assert_eq!(recorded["to"], "95500", "{recorded}");
    assert_eq!(recorded["end_reason"], "end_key", "{recorded}");
    let call = recorded["call_id"].clone();
    let file = recorded["file"].as_str().unwrap();
    let day = recorded["started"].as_str().unwrap()[..10].replace('-', "/");
    assert_eq!(
        file,
        format!("voicemail/service/{day}/{}.wav", call.as_str().unwrap())
    );
    let wav = h.dir.path().join(file);
    let reader = hound::WavReader::open(&wav).unwrap();
    let spec = reader.spec();
    assert_eq!(
        (spec.sample_rate, spec.channels, spec.bits_per_sample),
        (8000, 1, 16)
    );
    let length_ms = i64::from(reader.duration()) * 1000 / 8000;
    assert!(
        (length_ms - SPEECH_MS).abs() <= 100,
        "message of {length_ms} ms for {SPEECH_MS} ms of speech"
    );
    let sidecar: Value =
        serde_json::from_slice(&std::fs::read(wav.with_extension("json")).unwrap()).unwrap();
    assert_eq!(sidecar["box"], "service", "{sidecar}");
    assert_eq!(sidecar["sha256"], recorded["sha256"], "{sidecar}");

    h.wait_event("the call's end", Duration::from_secs(10), |e| {
        e["type"] == "call.ended" && e["call_id"] == call
    });
    let events = h.events();
    let heard = prompts_heard(&events, &call);
    let names: Vec<&str> = heard.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        names,
        [
            "language_menu",
            "closed",
            "message_offer",
            "leave_message",
            "beep",
            "message_saved"
        ],
        "{heard:?}"
    );
    assert!(heard.iter().all(|(_, l)| l == "en"), "{heard:?}");
    let digits: Vec<(&Value, &Value)> = events
        .iter()
        .filter(|e| e["type"] == "ivr.digit" && e["call_id"] == call)
        .map(|e| (&e["dialplan_node"], &e["digit"]))
        .collect();
    assert_eq!(
        digits,
        [
            (&Value::from("language"), &Value::from("2")),
            (&Value::from("offer_message"), &Value::from("1")),
        ],
        "{digits:?}"
    );
    // Nobody was queued: the line was closed.
    let types = call_event_types(&events, call.as_str().unwrap());
    assert!(!types.iter().any(|t| t == "call.queued"), "{types:?}");
}

#[test]
fn after_a_call_on_the_service_queue_the_caller_answers_both_survey_questions() {
    let h =
        Hotline::start_with_dialplan(Options::default(), &bundled_with_hours("\"00:00-24:00\""));
    let agent = SippAgent::start(
        &h,
        AgentSetup {
            id: "1001",
            hold_ms: 30_000,
            answer_scenario: "agent_hangup.xml",
            ..AgentSetup::default()
        },
    );
    // No key in the language menu (its timeout keeps the default language), then 1 (customer
    // service) over the menu of services; the agent answers at once, talks 2 s and hangs up;
    // the survey's intro plays (keys over it are dropped), then the first question: 5 over it;
    // then the second: 2. Each key only once: hotline drops an RFC 4733 event it
    // has seen, and SIPp's pcap of a key always carries the same timestamp.
    let services_at = prompt_ms("language_menu") + 4_000 + 1_500;
    let audio = [
        key("1", 2_000 + prompt_ms("survey_intro") + 4_000),
        key("5", prompt_ms("survey_resolved") / 2),
        key("2", 0),
    ]
    .concat();
    let caller = Sipp::new("caller_voicemail.xml", h.sip)
        .var("wait_ms", services_at)
        .var("audio", audio)
        .var("ending", HOTLINE_BYE)
        .args(&["-s", "95500", "-m", "1"])
        .spawn();

    let completed = h.wait_type("survey.completed", Duration::from_secs(45));
    let call = completed["call_id"].clone();
    assert_eq!(completed["survey"], "satisfaction", "{completed}");
    caller
        .wait(Duration::from_secs(30))
        .assert_ok("caller (hung up by hotline after the thanks)");
    agent
        .finish(Duration::from_secs(40))
        .assert_ok("agent 1001 (sent BYE)");
    h.wait_event("the call's end", Duration::from_secs(10), |e| {
        e["type"] == "call.ended" && e["call_id"] == call
    });

    let events = h.events();
    let answers: Vec<(&Value, &Value)> = events
        .iter()
        .filter(|e| e["type"] == "survey.answered" && e["call_id"] == call)
        .map(|e| (&e["question"], &e["score"]))
        .collect();
    assert_eq!(
        answers,
        [
            (&Value::from(0), &Value::from(5)),
            (&Value::from(1), &Value::from(2))
        ],
        "{answers:?}"
    );
    let answered = events
        .iter()
        .find(|e| e["type"] == "survey.answered" && e["call_id"] == call)
        .unwrap();
    assert_eq!(answered["survey"], "satisfaction", "{answered}");
    assert_eq!(answered["queue"], "support", "{answered}");
    assert_eq!(answered["agent_id"], "1001", "{answered}");
    let heard = prompts_heard(&events, &call);
    let survey: Vec<&str> = heard
        .iter()
        .map(|(p, _)| p.as_str())
        .filter(|p| p.starts_with("survey_"))
        .collect();
    assert_eq!(
        survey,
        [
            "survey_intro",
            "survey_agent",
            "survey_resolved",
            "survey_thanks"
        ],
        "{heard:?}"
    );
    let types = call_event_types(&events, call.as_str().unwrap());
    assert!(!types.iter().any(|t| t == "survey.skipped"), "{types:?}");

    // Both answers count in the queue's satisfaction: (5 + 2) / 2.
    let mut support = Value::Null;
    let ok = poll_until(Duration::from_secs(10), || {
        let r = get(h.http, "/api/v1/kpis/queues/support", Some(TOKEN)).unwrap();
        assert_eq!(r.status, 200, "{}", r.body);
        let snapshot: Value = serde_json::from_str(&r.body).unwrap();
        support = snapshot["windows"]
            .as_array()
            .and_then(|w| {
                w.iter()
                    .find(|w| w["window"]["kind"] == "rolling" && w["window"]["seconds"] == 900)
            })
            .map(|w| w["kpis"].clone())
            .unwrap_or(Value::Null);
        support["survey_responses"] == 1
    });
    assert!(ok, "the KPIs never showed the survey: {support}");
    assert_eq!(support["satisfaction"], 3.5, "{support}");
    assert_eq!(support["response_rate"], 1.0, "{support}");
}
