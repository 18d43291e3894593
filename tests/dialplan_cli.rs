//! `hotline dialplan check` and `hotline dialplan simulate` run as an operator runs them: the
//! built binary, in the repository folder, on the bundled plan and config and on broken files.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The workspace root, where the server and these tools are run from.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

fn hotline(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hotline"))
        .current_dir(root())
        .args(args)
        .output()
        .unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// `hotline dialplan simulate dialplans/default.yaml --to 95500 ...`; the output lines.
fn simulate(extra: &[&str]) -> Vec<String> {
    let mut args = vec![
        "dialplan",
        "simulate",
        "dialplans/default.yaml",
        "--config",
        "config/hotline.yaml",
        "--to",
        "95500",
    ];
    args.extend_from_slice(extra);
    let out = hotline(&args);
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out).lines().map(str::to_owned).collect()
}

// 2026-11-23 is a Monday.
const MONDAY_MORNING: &str = "2026-11-23T10:00:00+08:00";
const ORDINARY: &str = "+8613800000000";

#[test]
fn simulate_in_open_hours_reaches_the_menu_and_the_chosen_queue_with_its_survey() {
    // 2: English in the language menu, then 1 in the menu of services.
    let lines = simulate(&["--from", ORDINARY, "--digits", "21", "--at", MONDAY_MORNING]);
    assert_eq!(
        lines,
        [
            "node screen",
            "node language",
            "answer",
            "play language_menu",
            "key 2 in language -> hours",
            "node hours",
            "node tier",
            "node lookup",
            "CRM lookup in lookup failed: not found",
            "node services",
            "play services",
            "key 1 in services -> customer_service",
            "node customer_service",
            "end: queue support callback_offer 1m survey satisfaction",
        ]
    );
}

#[test]
fn simulate_after_hours_plays_the_hours_and_takes_a_message() {
    // English (2), 1 to leave a message, `#` to end it.
    let lines = simulate(&[
        "--from",
        ORDINARY,
        "--digits",
        "2,1,#",
        "--at",
        "2026-11-23T20:00:00+08:00",
    ]);
    assert_eq!(
        lines,
        [
            "node screen",
            "node language",
            "answer",
            "play language_menu",
            "key 2 in language -> hours",
            "node hours",
            "node after_hours",
            "play closed",
            "node offer_message",
            "play message_offer",
            "key 1 in offer_message -> take_message",
            "node take_message",
            "play leave_message",
            "play beep",
            "voicemail box service max_length 2m silence 5s end_key #",
            "message ended: end_key",
            "node message_saved",
            "play message_saved",
            "node hang_up",
            "end: hangup normal",
        ]
    );
}

#[test]
fn simulate_after_hours_without_a_key_says_goodbye_without_a_message() {
    let lines = simulate(&["--from", ORDINARY, "--at", "2026-11-23T20:00:00+08:00"]);
    assert_eq!(
        lines[lines.len() - 6..],
        [
            "play message_offer",
            "timeout in offer_message",
            "node goodbye",
            "play goodbye",
            "node hang_up",
            "end: hangup normal",
        ],
        "{lines:?}"
    );
    assert!(
        !lines.iter().any(|l| l.starts_with("voicemail")),
        "{lines:?}"
    );
}

#[test]
fn simulate_on_a_holiday_plays_the_holiday_notice_and_takes_a_message_in_mandarin() {
    // National Day week, a Friday: an ordinary working day but for the holiday. Mandarin (1),
    // then 1 for a message that runs to its longest; the last key is never used.
    let lines = simulate(&[
        "--from",
        ORDINARY,
        "--digits",
        "1,1,,5",
        "--at",
        "2026-10-02T10:00:00+08:00",
    ]);
    for line in [
        "node holiday_notice",
        "play holiday (zh-CN)",
        "play message_offer (zh-CN)",
        "play leave_message (zh-CN)",
        "voicemail box service max_length 2m silence 5s end_key #",
        "message ended: max_length",
        "play message_saved (zh-CN)",
        "end: hangup normal",
    ] {
        assert!(lines.contains(&line.to_owned()), "{line}: {lines:?}");
    }
    assert!(
        !lines.contains(&"play closed (zh-CN)".to_owned()),
        "{lines:?}"
    );
    assert_eq!(lines.last().unwrap(), "(1 key not used)");
}

#[test]
fn simulate_on_a_make_up_working_day_opens_although_it_is_a_sunday() {
    // 2026-09-27 is a Sunday declared a working day; the Sunday before is closed.
    let made_up = simulate(&[
        "--from",
        ORDINARY,
        "--digits",
        "22",
        "--at",
        "2026-09-27T10:00:00+08:00",
    ]);
    assert!(made_up.contains(&"node services".to_owned()), "{made_up:?}");
    assert_eq!(
        made_up.last().unwrap(),
        "end: queue billing callback_offer 1m survey satisfaction"
    );
    let plain_sunday = simulate(&["--from", ORDINARY, "--at", "2026-09-20T10:00:00+08:00"]);
    assert!(
        plain_sunday.contains(&"node after_hours".to_owned()),
        "{plain_sunday:?}"
    );
}

#[test]
fn simulate_a_vip_waits_at_priority_ten() {
    // Written the national way; the list has it as 013900000002 too, compared in E.164.
    let lines = simulate(&[
        "--from",
        "+86 139 0000 0002",
        "--digits",
        "22",
        "--at",
        MONDAY_MORNING,
    ]);
    assert!(lines.contains(&"node vip".to_owned()), "{lines:?}");
    assert_eq!(
        lines.last().unwrap(),
        "end: queue billing priority 10 callback_offer 1m survey satisfaction data tier=vip"
    );
}

#[test]
fn simulate_the_english_line_goes_on_in_the_service_line_without_the_language_menu() {
    let out = hotline(&[
        "dialplan",
        "simulate",
        "dialplans/default.yaml",
        "--config",
        "config/hotline.yaml",
        "--to",
        "95501",
        "--from",
        ORDINARY,
        "--digits",
        "1",
        "--at",
        MONDAY_MORNING,
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let lines: Vec<String> = stdout(&out).lines().map(str::to_owned).collect();
    assert_eq!(
        lines,
        [
            "node english",
            "node service_line",
            "transfer to number 95500",
            "node screen",
            "node hours",
            "node tier",
            "node lookup",
            "CRM lookup in lookup failed: not found",
            "node services",
            "answer",
            "play services (en)",
            "key 1 in services -> customer_service",
            "node customer_service",
            "end: queue support callback_offer 1m survey satisfaction",
        ]
    );
}

#[test]
fn simulate_a_blacklisted_caller_is_refused() {
    let lines = simulate(&["--from", "013900000666", "--at", MONDAY_MORNING]);
    assert_eq!(
        lines,
        [
            "node screen",
            "node refuse",
            "answer",
            "play refused",
            "node reject",
            "end: hangup rejected",
        ]
    );
}

#[test]
fn simulate_without_keys_times_out_through_every_attempt() {
    let lines = simulate(&["--from", ORDINARY, "--at", MONDAY_MORNING]);
    let timeouts = lines.iter().filter(|l| *l == "timeout in services").count();
    assert_eq!(timeouts, 3, "{lines:?}");
    assert!(lines.contains(&"node goodbye".to_owned()), "{lines:?}");
    assert_eq!(lines.last().unwrap(), "end: hangup normal");
}

#[test]
fn simulate_prints_json_on_request() {
    let out = hotline(&[
        "dialplan",
        "simulate",
        "dialplans/default.yaml",
        "--to",
        "95500",
        "--from",
        "+8613800000001",
        "--digits",
        "21",
        "--at",
        MONDAY_MORNING,
        "--json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let walk: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(walk["end"]["kind"], "queue");
    assert_eq!(walk["end"]["queue"], "support");
    assert_eq!(walk["end"]["priority"], 10);
    assert_eq!(walk["end"]["data"]["tier"], "vip");
    assert_eq!(walk["end"]["survey"], "satisfaction");
    assert_eq!(walk["end"]["callback_offer_ms"], 60_000);
    assert_eq!(
        walk["end_text"],
        "queue support priority 10 callback_offer 1m survey satisfaction data tier=vip"
    );
    let steps = walk["steps"].as_array().unwrap();
    assert_eq!(steps[0]["node"], "screen");
    assert!(steps.iter().any(|s| s["play"] == "services"), "{steps:?}");
}

#[test]
fn simulate_json_shows_the_voicemail_box_and_its_limits() {
    let out = hotline(&[
        "dialplan",
        "simulate",
        "dialplans/default.yaml",
        "--to",
        "95500",
        "--digits",
        "2,1,#",
        "--at",
        "2027-01-01T10:00:00+08:00",
        "--json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let walk: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let steps = walk["steps"].as_array().unwrap();
    assert!(
        steps.iter().any(|s| s["node"] == "holiday_notice"),
        "{steps:?}"
    );
    let voicemail = steps
        .iter()
        .find(|s| s.get("voicemail").is_some())
        .unwrap_or_else(|| panic!("no voicemail step: {steps:?}"));
    assert_eq!(
        voicemail,
        &serde_json::json!({
            "voicemail": "service",
            "max_length_ms": 120_000,
            "silence_ms": 5_000,
            "end_key": "#",
        })
    );
    assert!(
        steps.iter().any(|s| s["message_ended"] == "end_key"),
        "{steps:?}"
    );
    assert_eq!(walk["end"]["kind"], "hangup");
    assert_eq!(walk["end"]["cause"], "normal");
}

#[test]
fn simulate_an_unknown_number_says_so() {
    let out = hotline(&[
        "dialplan",
        "simulate",
        "dialplans/default.yaml",
        "--to",
        "999",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "end: no such number (404)\n");
}

#[test]
fn simulate_refuses_a_bad_time() {
    let out = hotline(&[
        "dialplan",
        "simulate",
        "dialplans/default.yaml",
        "--to",
        "95500",
        "--at",
        "christmas",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("--at `christmas`"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn check_reports_every_problem_with_hints_and_fails() {
    let file = "crates/dialplan/tests/corpus/every_problem_at_once.yaml";
    let out = hotline(&["dialplan", "check", file, "--config", "config/hotline.yaml"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    for line in [
        format!("{file}:6:32: error: unknown key `nxt` in node `welcome`\n  hint: did you mean `next`?\n"),
        format!("{file}:9:19: error: prompt `greting` has no file for language `en`: prompts/en/greting.wav is missing\n  hint: did you mean `greeting`?\n"),
        format!("{file}:10:39: error: unknown node `nowhere` in number `100`\n"),
        format!("{file}:11:23: error: unknown queue `sales`; configured queues: billing, support\n"),
        format!("{file}:13:22: error: cycle without caller input: `spin` -> `spin2` -> `spin`; a caller who presses nothing would loop forever\n"),
        format!("{file}:12:7: warning: node `spin` is never reached from start node `welcome`\n"),
        format!("{file}: 6 errors, 4 warnings\n"),
    ] {
        assert!(err.contains(&line), "missing {line:?} in:\n{err}");
    }
}

#[test]
fn check_passes_with_warnings_only() {
    let file = "crates/dialplan/tests/corpus/unreachable_node.yaml";
    let out = hotline(&["dialplan", "check", file]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stderr(&out),
        format!("{file}:7:7: warning: node `billing` is never reached from start node `support`\n")
    );
    assert_eq!(stdout(&out), format!("{file}: ok (1 warning)\n"));
}

#[test]
fn check_warns_where_a_node_overrides_the_queues_own_setting() {
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("plan.yaml");
    std::fs::write(
        &plan,
        "version: 1\nnumbers:\n  \"100\":\n    start: q\n    nodes:\n      q: { queue: { name: billing, priority: 5 } }\n",
    )
    .unwrap();
    let out = hotline(&[
        "dialplan",
        "check",
        plan.to_str().unwrap(),
        "--config",
        "config/hotline.yaml",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stderr(&out),
        format!(
            "{}:6:36: warning: node `q` sets `priority: 5` over queue `billing`'s own priority of 1 in the configuration\n  hint: the node's value wins for its callers; remove one of the two if that is not meant\n",
            plan.display()
        )
    );
}

#[test]
fn check_takes_several_files_and_fails_if_any_has_an_error() {
    let good = "dialplans/default.yaml";
    let bad = "crates/dialplan/tests/corpus/unknown_queue.yaml";
    let out = hotline(&[
        "dialplan",
        "check",
        good,
        bad,
        "--config",
        "config/hotline.yaml",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stdout(&out), format!("{good}: ok (0 warnings)\n"));
    assert!(
        stderr(&out).starts_with(&format!(
            "{bad}:6:26: error: unknown queue `sales`; configured queues: billing, support\n"
        )),
        "{}",
        stderr(&out)
    );
}

const TRANSFERS: &str = "crates/dialplan/tests/data/transfer.yaml";

#[test]
fn simulate_a_dialed_transfer_answers_or_takes_its_failed_branch() {
    let run = |extra: &[&str]| {
        let mut args = vec![
            "dialplan", "simulate", TRANSFERS, "--to", "95500", "--digits", "2",
        ];
        args.extend_from_slice(extra);
        let out = hotline(&args);
        assert!(out.status.success(), "{}", stderr(&out));
        stdout(&out)
    };
    assert_eq!(
        run(&[]),
        "node menu\nanswer\nplay greeting\nkey 2 in menu -> to_branch\nnode to_branch\n\
         play connecting\ndial +861060000000 via trunk pstn\n\
         end: transferred to +861060000000 via trunk pstn\n"
    );
    assert_eq!(
        run(&["--dial-fails"]),
        "node menu\nanswer\nplay greeting\nkey 2 in menu -> to_branch\nnode to_branch\n\
         play connecting\ndial +861060000000 via trunk pstn\ndial failed in to_branch\n\
         node sorry\nplay goodbye\nnode bye\nend: hangup normal\n"
    );
}

#[test]
fn simulate_json_shows_a_flow_transfer_and_a_dial() {
    let json = |digits: &str, extra: &[&str]| -> serde_json::Value {
        let mut args = vec![
            "dialplan", "simulate", TRANSFERS, "--to", "95500", "--digits", digits, "--json",
        ];
        args.extend_from_slice(extra);
        let out = hotline(&args);
        assert!(out.status.success(), "{}", stderr(&out));
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let flow = json("1", &[]);
    let steps = flow["steps"].as_array().unwrap();
    let at = steps.iter().position(|s| s["flow"] == "95501");
    let at = at.unwrap_or_else(|| panic!("no flow step in {steps:?}"));
    assert_eq!(steps[at - 1]["node"], "to_cards");
    assert_eq!(steps[at + 1]["node"], "cards");
    assert_eq!(flow["end"]["kind"], "queue");
    assert_eq!(flow["end"]["queue"], "support");
    assert_eq!(flow["end"]["priority"], 4);
    let dialed = json("2", &[]);
    let steps = dialed["steps"].as_array().unwrap();
    assert!(
        steps.iter().any(|s| s["dial"] == "+861060000000"
            && s["trunk"] == "pstn"
            && s["node"] == "to_branch"),
        "{steps:?}"
    );
    assert_eq!(dialed["end"]["kind"], "dialed");
    assert_eq!(dialed["end"]["number"], "+861060000000");
    assert_eq!(dialed["end"]["trunk"], "pstn");
    let failed = json("2", &["--dial-fails"]);
    let steps = failed["steps"].as_array().unwrap();
    assert!(
        steps.iter().any(|s| s["dial_failed"] == "to_branch"),
        "{steps:?}"
    );
    assert_eq!(failed["end"]["kind"], "hangup");
}

#[test]
fn check_reports_a_transfer_to_an_unknown_number_with_a_suggestion() {
    let file = "crates/dialplan/tests/corpus/transfer_unknown_flow.yaml";
    let out = hotline(&["dialplan", "check", file]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        format!(
            "{file}:10:34: error: unknown number `95051` in the transfer of node `cards`; numbers: 95500, 95501\n  hint: did you mean `95501`?\n\
             {file}:11:34: error: unknown number `12345` in the transfer of node `loans`; numbers: 95500, 95501\n\
             {file}: 2 errors, 0 warnings\n"
        )
    );
}

/// The bundled configuration plus two trunks, `carrier` (any Chinese number) and `pstn`
/// (Beijing and Shanghai only), written into `dir`.
fn config_with_trunks(dir: &Path) -> PathBuf {
    let anchor = "routing:\n  not_ready_reasons: []\n  seed: 0\n";
    let bundled = std::fs::read_to_string(root().join("config/hotline.yaml")).unwrap();
    assert!(bundled.contains(anchor), "bundled config changed");
    let trunks = "trunks:\n  carrier:\n    gateway: 192.0.2.1\n    from_number: \"+8675512345678\"\n    allow: [\"+86*\"]\n  pstn:\n    gateway: 192.0.2.2\n    from_number: \"+8675512345678\"\n    allow: [\"+8610*\", \"+8621*\"]\n";
    let path = dir.join("hotline.yaml");
    std::fs::write(&path, bundled.replace(anchor, &format!("{anchor}{trunks}"))).unwrap();
    path
}

/// `hotline dialplan check` of `plan` (written into `dir`) with `config`.
fn check_plan(dir: &Path, plan: &str, config: &Path) -> (PathBuf, Output) {
    let file = dir.join("plan.yaml");
    std::fs::write(&file, plan).unwrap();
    let out = hotline(&[
        "dialplan",
        "check",
        file.to_str().unwrap(),
        "--config",
        config.to_str().unwrap(),
    ]);
    (file, out)
}

const DIALS: &str = r#"version: 1
numbers:
  "500":
    start: typo
    nodes:
      typo: { transfer: { number: "+861060000000", trunk: pstm } }
  "501":
    start: unnamed
    nodes:
      unnamed: { transfer: { number: "+861060000000" } }
  "502":
    start: abroad
    nodes:
      abroad: { transfer: { number: "001 555 0100 200", trunk: pstn } }
"#;

#[test]
fn check_refuses_dials_the_configured_trunks_could_never_make() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_with_trunks(dir.path());
    let (plan, out) = check_plan(dir.path(), DIALS, &config);
    assert_eq!(out.status.code(), Some(1));
    let plan = plan.display();
    assert_eq!(
        stderr(&out),
        format!(
            "{plan}:6:59: error: unknown trunk `pstm` in the transfer of node `typo`; configured trunks: carrier, pstn\n  hint: did you mean `pstn`?\n\
             {plan}:10:7: error: transfer `unnamed` names no trunk and 2 trunks are configured\n  hint: name the trunk: carrier, pstn\n\
             {plan}:14:37: error: number `001 555 0100 200` (+15550100200) can never be dialed: trunk `pstn`'s allow-list refuses it\n  hint: the allow-list has +8610*, +8621*; add a pattern for it or dial another number\n\
             {plan}: 3 errors, 0 warnings\n"
        )
    );
    assert_eq!(stdout(&out), "");
}

const CALLBACK_DIAL: &str = r#"version: 1
numbers:
  "503":
    start: callback
    nodes:
      callback: { set: { variables: { target: "+15550100200" } }, next: dial }
      dial: { transfer: { number: "${target}", trunk: pstn } }
"#;

#[test]
fn check_leaves_a_variable_number_to_the_run_but_still_needs_its_trunk() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_with_trunks(dir.path());
    let (plan, out) = check_plan(dir.path(), CALLBACK_DIAL, &config);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stderr(&out), "");
    assert_eq!(
        stdout(&out),
        format!("{}: ok (0 warnings)\n", plan.display())
    );
    // The bundled configuration has no trunks at all.
    let bundled = root().join("config/hotline.yaml");
    let (plan, out) = check_plan(dir.path(), CALLBACK_DIAL, &bundled);
    assert_eq!(out.status.code(), Some(1));
    let plan = plan.display();
    assert_eq!(
        stderr(&out),
        format!(
            "{plan}:7:55: error: unknown trunk `pstn` in the transfer of node `dial`: no trunks are configured\n  hint: add it under `trunks:` in the configuration\n\
             {plan}: 1 error, 0 warnings\n"
        )
    );
}

#[test]
fn check_refuses_a_callback_offer_whose_prompts_are_missing() {
    let dir = tempfile::tempdir().unwrap();
    // The bundled prompts without one of the offer's.
    let prompts = dir.path().join("prompts");
    std::fs::create_dir_all(prompts.join("en")).unwrap();
    for entry in std::fs::read_dir(root().join("prompts/en")).unwrap() {
        let path = entry.unwrap().path();
        if path.file_name().unwrap() != "callback_confirm.wav" {
            std::fs::copy(&path, prompts.join("en").join(path.file_name().unwrap())).unwrap();
        }
    }
    let bundled = std::fs::read_to_string(root().join("config/hotline.yaml")).unwrap();
    let anchor = "prompts:\n  dir: prompts\n";
    assert!(bundled.contains(anchor), "bundled config changed");
    let config = dir.path().join("hotline.yaml");
    let edited = format!("prompts:\n  dir: {}\n", prompts.display());
    std::fs::write(&config, bundled.replace(anchor, &edited)).unwrap();
    let plan = "version: 1\nnumbers:\n  \"700\":\n    start: menu\n    nodes:\n      menu: { menu: { options: { \"1\": wait, \"2\": plain } } }\n      wait: { queue: { name: support, callback_offer: 1m } }\n      plain: { queue: billing }\n";
    let (file, out) = check_plan(dir.path(), plan, &config);
    assert_eq!(out.status.code(), Some(1));
    let (file, en) = (file.display(), prompts.join("en"));
    let en = en.display();
    assert_eq!(
        stderr(&out),
        format!(
            "{file}:7:7: error: the callback offer of queue `support` plays prompts with no file for language `en`: callback_confirm (missing from {en})\n  hint: record them in {en}, or offer no callback in queue `support`\n\
             {file}: 1 error, 0 warnings\n"
        )
    );
    // With every prompt there, the same plan passes.
    let (file, out) = check_plan(dir.path(), plan, &root().join("config/hotline.yaml"));
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        format!("{}: ok (0 warnings)\n", file.display())
    );
}

#[test]
fn simulate_runs_the_agentless_survey_flow_with_the_keys_given() {
    let out = hotline(&[
        "dialplan",
        "simulate",
        "dialplans/default.yaml",
        "--to",
        "95502",
        "--digits",
        "4,9,5",
        "--json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let walk: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let steps = walk["steps"].as_array().unwrap();
    let answers: Vec<(u64, u64)> = steps
        .iter()
        .filter(|s| s["survey"] == "satisfaction" && s["score"].is_u64())
        .map(|s| {
            (
                s["question"].as_u64().unwrap(),
                s["score"].as_u64().unwrap(),
            )
        })
        .collect();
    // 9 is out of range (1-5): the invalid prompt, then the question again.
    assert_eq!(answers, [(0, 4), (1, 5)], "{steps:?}");
    assert!(
        steps.iter().any(|s| s["play"] == "survey_invalid"),
        "{steps:?}"
    );
    assert!(
        steps
            .iter()
            .any(|s| s["ended"] == "survey satisfaction completed after 2 answers"),
        "{steps:?}"
    );
    assert_eq!(walk["end"]["kind"], "hungup", "{walk}");
    assert_eq!(walk["end_text"], "hung up after the survey", "{walk}");
}
