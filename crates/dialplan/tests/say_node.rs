//! The `say` node: read with positioned errors, run as prompts in the call's language.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use hotline_dialplan::{CallInfo, Dialplan, Ivr, IvrAction, IvrInput, ValidationContext};

const PLAN: &str = r#"version: 1
numbers:
  "1":
    start: collect
    nodes:
      collect: { collect: { max_digits: 8, into: n }, next: in_english }
      in_english: { say: { value: "${n}", kind: number }, next: to_mandarin }
      to_mandarin: { set: { language: zh-CN }, next: in_mandarin }
      in_mandarin: { say: { value: "${n}", kind: number }, next: position }
      position: { say: { value: "2", kind: position }, next: wait }
      wait: { say: { value: 130s, kind: duration }, next: bye }
      bye: { hangup: true }
"#;

fn plan(source: &str) -> Result<Dialplan, String> {
    Dialplan::parse(source, "test.yaml", &ValidationContext::default()).map_err(|e| e.to_string())
}

/// Plays every prompt to its end, answering each with `PlaybackFinished`; the prompt names and
/// languages heard, until the IVR asks for something else.
fn hear(ivr: &mut Ivr, now: Instant) -> Vec<(String, Option<String>)> {
    let mut heard = Vec::new();
    loop {
        let mut played = false;
        while let Some(action) = ivr.poll_action() {
            if let IvrAction::Play {
                prompt, language, ..
            } = action
            {
                heard.push((prompt, language));
                played = true;
            }
        }
        if !played {
            return heard;
        }
        ivr.handle(now, IvrInput::PlaybackFinished);
    }
}

fn names(heard: &[(String, Option<String>)]) -> Vec<&str> {
    heard.iter().map(|(p, _)| p.as_str()).collect()
}

#[test]
fn a_say_node_speaks_a_variable_by_the_rules_of_the_call_language() {
    let plan = Arc::new(plan(PLAN).unwrap_or_else(|e| panic!("{e}")));
    let t0 = Instant::now();
    let mut ivr = Ivr::start(plan, CallInfo::new("1", "100", SystemTime::UNIX_EPOCH), t0)
        .unwrap_or_else(|| panic!("number 1"));
    let _ = std::iter::from_fn(|| ivr.poll_action()).count();
    for digit in "22000".chars() {
        ivr.handle(t0, IvrInput::Digit(digit));
    }
    ivr.handle_timeout(t0 + Duration::from_secs(60));
    let heard = hear(&mut ivr, t0 + Duration::from_secs(60));
    assert_eq!(
        names(&heard),
        [
            // English: twenty two thousand.
            "num_20",
            "num_2",
            "thousand",
            // Mandarin: 两万两千.
            "liang",
            "ten_thousand",
            "liang",
            "thousand",
            // 您排在第 二 位.
            "position_prefix",
            "num_2",
            "position_suffix",
            // 大约 两 分钟.
            "about",
            "liang",
            "minutes",
        ]
    );
    assert!(heard[..3].iter().all(|(_, l)| l.is_none()));
    assert!(heard[3..]
        .iter()
        .all(|(_, l)| l.as_deref() == Some("zh-CN")));
    assert!(ivr.is_finished());
}

#[test]
fn a_variable_that_is_not_a_number_skips_the_say() {
    let source = PLAN.replace("max_digits: 8", "max_digits: 8, terminator: \"#\"");
    let plan = Arc::new(plan(&source).unwrap_or_else(|e| panic!("{e}")));
    let t0 = Instant::now();
    let mut ivr = Ivr::start(plan, CallInfo::new("1", "100", SystemTime::UNIX_EPOCH), t0)
        .unwrap_or_else(|| panic!("number 1"));
    let _ = std::iter::from_fn(|| ivr.poll_action()).count();
    // `*` is stored but is no number: both number nodes are skipped.
    for digit in ['*', '#'] {
        ivr.handle(t0, IvrInput::Digit(digit));
    }
    let heard = hear(&mut ivr, t0);
    assert_eq!(names(&heard)[0], "position_prefix");
}

#[test]
fn digits_pressed_while_a_value_is_spoken_are_dropped() {
    let plan = Arc::new(plan(PLAN).unwrap_or_else(|e| panic!("{e}")));
    let t0 = Instant::now();
    let mut ivr = Ivr::start(plan, CallInfo::new("1", "100", SystemTime::UNIX_EPOCH), t0)
        .unwrap_or_else(|| panic!("number 1"));
    let _ = std::iter::from_fn(|| ivr.poll_action()).count();
    ivr.handle(t0, IvrInput::Digit('5'));
    ivr.handle_timeout(t0 + Duration::from_secs(60));
    let _ = std::iter::from_fn(|| ivr.poll_action()).count();
    ivr.handle(t0, IvrInput::Digit('1'));
    assert!(matches!(
        ivr.poll_action(),
        Some(IvrAction::DigitIgnored { digit: '1', .. })
    ));
    assert_eq!(ivr.current_node(), "in_english");
}

#[test]
fn say_errors_are_reported_at_their_position() {
    let source = r#"version: 1
numbers:
  "1":
    start: a
    nodes:
      a: { say: { value: "12", kind: amount }, next: b }
      b: { say: { value: "twelve", kind: number }, next: c }
      c: { say: { kind: digits }, next: d }
      d: { say: { value: "1", kind: digits, as: x }, next: e }
      e: { say: { value: "1", kind: digits } }
      f: { hangup: true }
"#;
    let errors = plan(source).err().unwrap_or_default();
    for expected in [
        "test.yaml:6:38: unknown say kind `amount`: expected one of digits, number, duration, position",
        "test.yaml:7:26: say `b` cannot say `twelve`: `twelve` is not a whole number",
        "test.yaml:8:17: say `c` needs `value`",
        "test.yaml:9:45: unknown key `as` in say `d`",
        "test.yaml:10:7: node `e` needs `next`",
    ] {
        assert!(errors.contains(expected), "missing {expected:?} in:\n{errors}");
    }
}
