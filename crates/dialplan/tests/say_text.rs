//! `say` with `kind: text`: read with positioned errors, spoken as one `Speak` action in the
//! call's language, shown by the simulation, and listed for the server's synthesizer check.

use std::sync::Arc;
use std::time::{Instant, SystemTime};

use hotline_dialplan::{
    simulate_with_crm, CrmFixture, Dialplan, SimulatedCall, Step, ValidationContext,
};

const PLAN: &str = r#"version: 1
country: "86"
numbers:
  "1":
    start: lookup
    nodes:
      lookup:
        http: { url: "/customers?number=${caller}", map: { name: customer.name }, on_failure: bye }
        next: greet
      greet: { say: { value: "Hello ${name}", kind: text }, next: zh }
      zh: { set: { language: zh-CN }, next: again }
      again: { say: { value: "${name}", kind: text }, next: bye }
      bye: { hangup: true }
"#;

fn parse(source: &str) -> Result<Dialplan, String> {
    Dialplan::parse(source, "t.yaml", &ValidationContext::default()).map_err(|e| e.to_string())
}

#[test]
fn simulate_shows_the_text_it_would_speak_in_each_language() {
    let plan = Arc::new(parse(PLAN).unwrap_or_else(|e| panic!("{e}")));
    let fixture = CrmFixture::parse(r#"{ "+8613800000001": { "customer": { "name": "Li Na" } } }"#)
        .unwrap_or_else(|e| panic!("{e}"));
    let call = SimulatedCall {
        to: "1".into(),
        from: "13800000001".into(),
        at: SystemTime::UNIX_EPOCH,
        keys: Vec::new(),
    };
    let sim = simulate_with_crm(plan, &call, Instant::now(), Some(&fixture));
    let spoken: Vec<&Step> = sim
        .steps
        .iter()
        .filter(|s| matches!(s, Step::Speak { .. }))
        .collect();
    assert_eq!(
        spoken,
        [
            &Step::Speak {
                text: "Hello Li Na".into(),
                language: None
            },
            &Step::Speak {
                text: "Li Na".into(),
                language: Some("zh-CN".into())
            }
        ]
    );
    let lines: Vec<String> = sim.steps.iter().map(ToString::to_string).collect();
    assert!(
        lines.contains(&"speak \"Hello Li Na\"".to_owned()),
        "{lines:?}"
    );
    assert!(
        lines.contains(&"speak \"Li Na\" (zh-CN)".to_owned()),
        "{lines:?}"
    );
    assert_eq!(sim.end.to_string(), "hangup normal");
}

#[test]
fn a_caller_the_crm_does_not_know_hears_no_name() {
    // Unknown callers take on_failure; a found one without a name skips the empty text.
    let plan = Arc::new(parse(PLAN).unwrap_or_else(|e| panic!("{e}")));
    let fixture = CrmFixture::parse(r#"{ "+8613800000002": { "customer": {} } }"#)
        .unwrap_or_else(|e| panic!("{e}"));
    let call = SimulatedCall {
        to: "1".into(),
        from: "13800000002".into(),
        at: SystemTime::UNIX_EPOCH,
        keys: Vec::new(),
    };
    let sim = simulate_with_crm(plan, &call, Instant::now(), Some(&fixture));
    let spoken: Vec<&Step> = sim
        .steps
        .iter()
        .filter(|s| matches!(s, Step::Speak { .. }))
        .collect();
    // "Hello " is still said; the bare variable is empty and skipped.
    assert_eq!(
        spoken,
        [&Step::Speak {
            text: "Hello".into(),
            language: None
        }]
    );
}

#[test]
fn an_empty_literal_text_is_refused_where_it_is_written() {
    let source = "version: 1\nnumbers:\n  \"1\":\n    start: a\n    nodes:\n      a: { say: { value: \"  \", kind: text }, next: b }\n      b: { hangup: true }\n";
    let error = parse(source).err().unwrap_or_default();
    assert_eq!(error, "t.yaml:6:26: say `a` has no text to speak");
}

#[test]
fn an_unknown_kind_lists_text_among_the_kinds() {
    let source = "version: 1\nnumbers:\n  \"1\":\n    start: a\n    nodes:\n      a: { say: { value: hi, kind: txt }, next: b }\n      b: { hangup: true }\n";
    let error = parse(source).err().unwrap_or_default();
    assert!(
        error.contains("expected one of digits, number, duration, position, text"),
        "{error}"
    );
}
