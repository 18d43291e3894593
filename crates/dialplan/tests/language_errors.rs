//! Each new parse error of the dialplan language, at its `file:line:column`, all in one pass.

use hotline_dialplan::{Dialplan, ValidationContext};

const BROKEN: &str = r###"version: 1
country: "9999"
lists:
  vip: ["+86138", "alice"]
  bad: { file: missing.txt }
schedules:
  s:
    time_zone: Mars/Olympus
    hours: { mon-fri: "18:00-09:00", weekend: "10:00-12:00" }
    holidays: ["2026-13-01", "2026-10-07..2026-10-01"]
    overrides: { "2026-12-31": ["09:00-12:00", "11:00-13:00"] }
numbers:
  "1":
    start: a
    nodes:
      a: { play: [], next: b }
      b: { collect: { max_digits: 99, min_digits: 3, terminator: "##", pattern: "([0-9", into: "a b" }, next: c }
      c:
        branch:
          - when: { caller_in: nolist, caller_prefix: "010" }
            goto: d
          - when: { var: { name: x, equals: 1, set: true } }
        otherwise: d
      d: { schedule: nosuch, open: e }
      e: { set: { priority: high, language: "../x" }, next: f }
      f: { hangup: maybe }
      g: { goto: a, next: b }
      h: { queue: { name: support, exit: nowhere } }
      i: { play: x, barge_in: sometimes, next: a }
      j: { menu: { options: { "1": a }, default: nowhere, timeout_prompt: "bad name" } }
"###;

#[test]
fn every_new_error_is_reported_at_its_position() {
    let errors = match Dialplan::parse(
        BROKEN,
        "dialplans/broken.yaml",
        &ValidationContext::default(),
    ) {
        Ok(_) => panic!("the broken plan parsed"),
        Err(errors) => errors,
    };
    let got: Vec<String> = errors.errors().iter().map(ToString::to_string).collect();
    let expected = [
        "dialplans/broken.yaml:2:10: bad country: give the calling code numbers without `+` are read in, e.g. `86` or `1`",
        "dialplans/broken.yaml:4:9: list `vip`: `+86138` is too short for a phone number",
        "dialplans/broken.yaml:4:19: list `vip`: `alice` is not a phone number",
        "dialplans/broken.yaml:5:16: list `bad`: cannot read dialplans/missing.txt: No such file or directory (os error 2)",
        "dialplans/broken.yaml:8:16: unknown time zone `Mars/Olympus`; use an IANA name such as `Asia/Shanghai` or `Europe/Paris`",
        "dialplans/broken.yaml:9:23: bad hours `18:00-09:00`: use `HH:MM-HH:MM` with the end after the start (e.g. `09:00-18:00`, `20:00-24:00`), or `closed`",
        "dialplans/broken.yaml:9:38: bad days `weekend`: use mon, tue, wed, thu, fri, sat, sun, a range such as `mon-fri`, or `daily`",
        "dialplans/broken.yaml:10:16: bad date `2026-13-01`: use YYYY-MM-DD, e.g. `2026-10-01`",
        "dialplans/broken.yaml:10:30: bad date range `2026-10-07..2026-10-01`: the end must be on or after the start, at most 366 days later",
        "dialplans/broken.yaml:11:32: overlapping hours: each stretch must end before the next starts",
        "dialplans/broken.yaml:16:18: empty prompt list: name at least one prompt",
        "dialplans/broken.yaml:17:35: bad max_digits `99`: expected a whole number from 1 to 64",
        "dialplans/broken.yaml:17:66: bad terminator `##`: use a single 0-9, `*` or `#`",
        "dialplans/broken.yaml:17:81: bad pattern `([0-9`: error: unclosed character class",
        "dialplans/broken.yaml:17:96: bad variable name `a b`: use letters, digits, `_` and `-`",
        "dialplans/broken.yaml:20:32: unknown list `nolist`; lists: none",
        "dialplans/broken.yaml:20:55: bad caller_prefix `010`: write it in E.164, `+` and digits, e.g. `+8610`",
        "dialplans/broken.yaml:22:13: a branch rule needs `goto`: the node it leads to",
        "dialplans/broken.yaml:22:26: a `var` condition needs exactly one of `equals`, `in`, `matches`, `set`",
        "dialplans/broken.yaml:24:7: schedule node `d` needs `open` and `closed`: the nodes to go to in and out of hours",
        "dialplans/broken.yaml:24:22: unknown schedule `nosuch`; schedules: none",
        "dialplans/broken.yaml:25:29: bad priority `high`: expected a whole number (higher is served first)",
        "dialplans/broken.yaml:25:45: bad language `../x`: use letters, digits, `_` and `-`",
        "dialplans/broken.yaml:26:20: unknown hangup cause `maybe`; use `true` or one of: normal, busy, rejected, unavailable, congestion, not_found",
        "dialplans/broken.yaml:27:21: `next` is not allowed on a `goto` node; `goto` names the node itself",
        "dialplans/broken.yaml:28:42: unknown node `nowhere` in number `1`",
        "dialplans/broken.yaml:29:31: expected `true` or `false`, found a value",
        "dialplans/broken.yaml:30:50: unknown node `nowhere` in number `1`",
        "dialplans/broken.yaml:30:75: bad prompt name `bad name`: use letters, digits, `_` and `-`",
    ];
    assert_eq!(got, expected);
}

#[test]
fn a_loop_through_set_and_branch_without_input_is_refused() {
    let source = "version: 1\nnumbers:\n  \"1\":\n    start: a\n    nodes:\n      a: { set: { variables: { x: \"1\" } }, next: b }\n      b:\n        branch:\n          - when: { var: { name: x, equals: \"1\" } }\n            goto: a\n        otherwise: c\n      c: { hangup: true }\n";
    let errors = Dialplan::parse(source, "loop.yaml", &ValidationContext::default())
        .err()
        .map(|e| e.to_string());
    assert_eq!(
        errors.as_deref(),
        Some("loop.yaml:10:19: cycle without caller input: `a` -> `b` -> `a`; a caller who presses nothing would loop forever")
    );
}

#[test]
fn a_loop_back_to_a_collect_waits_for_digits_and_is_fine() {
    let source = "version: 1\nnumbers:\n  \"1\":\n    start: a\n    nodes:\n      a: { collect: { max_digits: 4, into: pin }, next: b }\n      b:\n        branch:\n          - when: { var: { name: pin, equals: \"1234\" } }\n            goto: q\n        otherwise: a\n      q: { queue: support }\n";
    let parsed = Dialplan::parse(source, "retry.yaml", &ValidationContext::default());
    assert!(parsed.is_ok(), "{parsed:?}");
}
