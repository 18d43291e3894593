//! Every kind of dialplan error, asserted as the exact `file:line:column: message` operators see.

use std::collections::BTreeSet;

use hotline_dialplan::{Dialplan, LoadError, Severity, ValidationContext};

const FILE: &str = "dialplans/test.yaml";

fn errors_with(source: &str, ctx: &ValidationContext) -> Vec<String> {
    match Dialplan::parse(source, FILE, ctx) {
        Ok(_) => Vec::new(),
        Err(errors) => errors.errors().iter().map(ToString::to_string).collect(),
    }
}

fn errors(source: &str) -> Vec<String> {
    errors_with(source, &ValidationContext::default())
}

fn set(names: &[&str]) -> Option<BTreeSet<String>> {
    Some(names.iter().map(|n| (*n).to_owned()).collect())
}

#[test]
fn bundled_dialplan_parses_cleanly() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../dialplans/default.yaml");
    let ctx = ValidationContext {
        queues: set(&["support", "billing"]),
        prompts: set(&[
            "greeting",
            "invalid",
            "goodbye",
            "moh",
            "services",
            "closed",
            "holiday",
            "refused",
            "language_menu",
            "message_offer",
            "leave_message",
            "beep",
            "message_saved",
            "survey_intro",
            "survey_agent",
            "survey_resolved",
            "survey_invalid",
            "survey_thanks",
        ]),
    };
    let plan = match Dialplan::load(path, &ctx) {
        Ok(plan) => plan,
        Err(error) => panic!("{error}"),
    };
    assert_eq!(
        plan.numbers().collect::<Vec<_>>(),
        ["100", "200", "95500", "95501", "95502"]
    );
    assert_eq!(
        plan.prompts_used().iter().collect::<Vec<_>>(),
        [
            "beep",
            "closed",
            "goodbye",
            "greeting",
            "holiday",
            "invalid",
            "language_menu",
            "leave_message",
            "message_offer",
            "message_saved",
            "refused",
            "services",
            "survey_agent",
            "survey_intro",
            "survey_invalid",
            "survey_resolved",
            "survey_thanks"
        ]
    );
    assert_eq!(
        plan.queues_used().iter().collect::<Vec<_>>(),
        ["billing", "support"]
    );
    assert!(plan.warnings().is_empty(), "{:?}", plan.warnings());
}

#[test]
fn windows_line_endings_are_fine() {
    let source = include_str!("../../../dialplans/default.yaml").replace('\n', "\r\n");
    // Named after the bundled file so its list file is found beside it.
    let bundled = concat!(env!("CARGO_MANIFEST_DIR"), "/../../dialplans/default.yaml");
    let parsed = Dialplan::parse(&source, bundled, &ValidationContext::default());
    assert!(parsed.is_ok(), "{parsed:?}");
    let broken =
        "version: 1\r\nnumbers:\r\n  \"1\":\r\n    start: x\r\n    nodes: { q: { queue: s } }\r\n";
    assert_eq!(
        errors(broken),
        ["dialplans/test.yaml:4:12: unknown node `x` in number `1`",]
    );
}

#[test]
fn yaml_syntax_error() {
    assert_eq!(
        errors("version: 1\nnumbers: [\n"),
        ["dialplans/test.yaml:2:10: YAML syntax error: unclosed bracket '['"]
    );
}

#[test]
fn unknown_node() {
    let source = "\
version: 1
numbers:
  \"100\":
    start: a
    nodes:
      a: { play: hello, next: menu }
";
    assert_eq!(
        errors(source),
        ["dialplans/test.yaml:6:31: unknown node `menu` in number `100`"]
    );
}

#[test]
fn bad_digit() {
    let source = "\
version: 1
numbers:
  \"100\":
    start: m
    nodes:
      m:
        menu:
          options:
            \"1\": q
            \"12\": q
            a: q
      q: { queue: support }
";
    assert_eq!(
        errors(source),
        [
            "dialplans/test.yaml:10:13: bad menu digit `12`: use a single 0-9, `*` or `#`",
            "dialplans/test.yaml:11:13: bad menu digit `a`: use a single 0-9, `*` or `#`",
        ]
    );
}

#[test]
fn unknown_key() {
    let source = "\
version: 1
numbers:
  \"100\":
    start: m
    nodes:
      m:
        menu:
          timout: 5s
          colour: red
          options: { \"1\": q }
      q: { queue: support, priority: 1 }
";
    assert_eq!(
        errors(source),
        [
            "dialplans/test.yaml:8:11: unknown key `timout` in menu `m`; did you mean `timeout`?",
            "dialplans/test.yaml:9:11: unknown key `colour` in menu `m`; expected one of: prompt, timeout, retries, options, default, invalid, timeout_prompt, on_timeout, on_failure",
            "dialplans/test.yaml:11:28: unknown key `priority` in node `q`; expected one of: answer, play, say, menu, collect, set, branch, schedule, queue, goto, hangup, voicemail, http, transfer, consent, survey, next, barge_in, otherwise, open, closed, holiday, on_skipped, description",
        ]
    );
}

#[test]
fn bad_duration() {
    let source = "\
version: 1
numbers:
  \"100\":
    start: m
    nodes:
      m:
        menu: { timeout: 5, options: { \"1\": q } }
      n:
        menu: { timeout: five seconds, options: { \"1\": q } }
      q: { queue: support }
";
    assert_eq!(
        errors(source),
        [
            "dialplans/test.yaml:7:26: bad duration `5`: add a unit, e.g. `5s` or `1500ms`",
            "dialplans/test.yaml:9:26: bad duration `five seconds`: expected a whole number followed by `ms`, `s` or `m`, e.g. `5s` or `1500ms`",
        ]
    );
}

#[test]
fn zero_and_absurd_timeouts() {
    let source = "\
version: 1
numbers:
  \"100\":
    start: m
    nodes:
      m:
        menu: { timeout: 0s, options: { \"1\": n } }
      n:
        menu: { timeout: 1000m, retries: 99, options: { \"1\": q } }
      q: { queue: support }
";
    assert_eq!(
        errors(source),
        [
            "dialplans/test.yaml:7:26: menu timeout `0s` is out of range: use 500ms to 5m",
            "dialplans/test.yaml:9:26: menu timeout `1000m` is out of range: use 500ms to 5m",
            "dialplans/test.yaml:9:42: bad retries `99`: expected a whole number from 0 to 10",
        ]
    );
}

#[test]
fn missing_start() {
    let source = "\
version: 1
numbers:
  \"100\":
    nodes:
      q: { queue: support }
  \"200\":
    start: nowhere
    nodes:
      q: { queue: support }
";
    assert_eq!(
        errors(source),
        [
            "dialplans/test.yaml:3:3: number `100` has no `start` node",
            "dialplans/test.yaml:7:12: unknown node `nowhere` in number `200`",
        ]
    );
}

#[test]
fn cycle_without_input() {
    let source = "\
version: 1
numbers:
  \"100\":
    start: a
    nodes:
      a: { play: one, next: b }
      b: { play: two, next: a }
";
    assert_eq!(
        errors(source),
        ["dialplans/test.yaml:7:29: cycle without caller input: `a` -> `b` -> `a`; a caller who presses nothing would loop forever"]
    );
}

#[test]
fn menu_timeout_looping_back_is_a_cycle_but_a_digit_loop_is_not() {
    let source = "\
version: 1
numbers:
  \"100\":
    start: m
    nodes:
      m:
        menu:
          prompt: menu
          options: { \"1\": q, \"9\": m }
          on_timeout: again
      again: { play: sorry, next: m }
      q: { queue: support }
";
    assert_eq!(
        errors(source),
        ["dialplans/test.yaml:11:35: cycle without caller input: `m` -> `again` -> `m`; a caller who presses nothing would loop forever"]
    );
}

#[test]
fn duplicate_keys() {
    let source = "\
version: 1
numbers:
  \"100\":
    start: q
    nodes:
      q: { queue: support }
      q: { queue: billing }
";
    assert_eq!(
        errors(source),
        ["dialplans/test.yaml:7:7: duplicate key `q` (first defined at line 6)"]
    );
}

#[test]
fn node_shape_errors() {
    let source = "\
version: 1
numbers:
  \"100\":
    start: a
    nodes:
      a: { answer: true }
      b: { answer: true, play: x, next: c }
      c: { description: nothing here }
      d: { queue: support, next: a }
      e: { hangup: yes }
";
    assert_eq!(
        errors(source),
        [
            "dialplans/test.yaml:6:7: node `a` needs `next`: the node to go to after `answer`",
            "dialplans/test.yaml:7:26: node `b` has both `answer` and `play`: a node does one thing; chain nodes with `next`",
            "dialplans/test.yaml:8:7: node `c` does nothing: give it one of `answer`, `play`, `say`, `menu`, `collect`, `set`, `branch`, `schedule`, `queue`, `goto`, `hangup`, `voicemail`, `http`, `transfer`, `consent`, `survey`",
            "dialplans/test.yaml:9:28: `next` is not allowed on a `queue` node; the call leaves the dialplan here",
            "dialplans/test.yaml:10:20: unknown hangup cause `yes`; use `true` or one of: normal, busy, rejected, unavailable, congestion, not_found",
        ]
    );
}

#[test]
fn top_level_errors() {
    assert_eq!(
        errors(""),
        ["dialplans/test.yaml:1:1: the file is empty: expected `version: 1` and `numbers:`"]
    );
    assert_eq!(
        errors("version: 2\nnumbers: {}\n"),
        [
            "dialplans/test.yaml:1:10: unsupported dialplan version `2`; this hotline reads version 1",
            "dialplans/test.yaml:2:10: `numbers` is empty",
        ]
    );
    assert_eq!(
        errors("numbers:\n  \"1\": { start: q, nodes: { q: { queue: s } } }\n"),
        ["dialplans/test.yaml:1:1: missing `version: 1`"]
    );
}

#[test]
fn unknown_queues_and_prompts_with_a_context() {
    let source = "\
version: 1
numbers:
  \"100\":
    start: a
    nodes:
      a: { play: welcom, next: q }
      q: { queue: sales }
";
    assert!(errors(source).is_empty());
    let ctx = ValidationContext {
        queues: set(&["support", "billing"]),
        prompts: set(&["greeting", "welcome"]),
    };
    assert_eq!(
        errors_with(source, &ctx),
        [
            "dialplans/test.yaml:6:18: unknown prompt `welcom`; known prompts: greeting, welcome",
            "dialplans/test.yaml:7:19: unknown queue `sales`; configured queues: billing, support",
        ]
    );
}

#[test]
fn prompt_names_cannot_be_paths() {
    let source = "\
version: 1
numbers:
  \"100\":
    start: a
    nodes:
      a: { play: ../../etc/passwd, next: q }
      q: { queue: support }
";
    assert_eq!(
        errors(source),
        ["dialplans/test.yaml:6:18: bad prompt name `../../etc/passwd`: use letters, digits, `_` and `-`"]
    );
}

#[test]
fn all_errors_are_reported_not_just_the_first() {
    let source = "\
version: 1
numbers:
  \"100\":
    start: m
    nodes:
      m:
        menu:
          timeout: soon
          options: { \"x\": nowhere }
        extra: 1
";
    assert_eq!(errors(source).len(), 4, "{:#?}", errors(source));
}

#[test]
fn unreachable_nodes_are_warnings() {
    let source = "\
version: 1
numbers:
  \"100\":
    start: q
    nodes:
      q: { queue: support }
      orphan: { hangup: true }
";
    let plan = match Dialplan::parse(source, FILE, &ValidationContext::default()) {
        Ok(plan) => plan,
        Err(errors) => panic!("{errors}"),
    };
    let warnings: Vec<String> = plan.warnings().iter().map(ToString::to_string).collect();
    assert_eq!(
        warnings,
        ["dialplans/test.yaml:7:7: warning: node `orphan` is never reached from start node `q`"]
    );
    assert_eq!(plan.warnings()[0].severity, Severity::Warning);
}

#[test]
fn a_missing_file_is_a_read_error() {
    let result = Dialplan::load("/nonexistent/dialplan.yaml", &ValidationContext::default());
    assert!(matches!(result, Err(LoadError::Read { .. })));
}
