//! Reloading the dialplan while hotline runs: `POST /api/v1/dialplan/reload`, the file watch and
//! SIGHUP. A call keeps the dialplan version it started on; a new call gets the new one; a file
//! with errors is refused with its `file:line:column` messages and the old version keeps serving.

#![allow(clippy::unwrap_used)]

mod support;

use std::time::Duration;

use serde_json::Value;
use support::sipp::{RunningSipp, Sipp};
use support::{http, Hotline, Options};

const TOKEN: &str = "hotline-demo-token";

/// Version 1: "2" goes to billing.
const V1: &str = r#"version: 1
numbers:
  "100":
    start: main_menu
    nodes:
      main_menu:
        menu:
          prompt: greeting
          timeout: 10s
          options:
            "1": to_support
            "2": to_billing
          on_timeout: to_support
      to_support:
        queue: support
      to_billing:
        queue: billing
"#;

/// Version 2: "2" goes to support too (shorter than V1).
fn v2() -> String {
    V1.replace("\"2\": to_billing", "\"2\": to_support")
        .replace("      to_billing:\n        queue: billing\n", "")
}

/// A caller dialing 100 who presses `digit` `digit_after_ms` after the answer, then waits 1.5 s
/// in the queue and hangs up.
fn caller(h: &Hotline, digit: u8, digit_after_ms: u64) -> RunningSipp {
    Sipp::new("caller_ivr_late_digit.xml", h.sip)
        .var("digit", digit)
        .var("digit_after_ms", digit_after_ms)
        .var("talk_ms", 1500)
        .key("caller_pt", 0)
        .args(&["-s", "100", "-m", "1"])
        .spawn()
}

/// The events of one call.
fn call_events(h: &Hotline, call_id: &str) -> Vec<Value> {
    h.events()
        .into_iter()
        .filter(|e| e["call_id"] == call_id)
        .collect()
}

/// The queue a call was put in.
fn queued_in(h: &Hotline, call_id: &str) -> String {
    let queued = h.wait_event("call.queued", Duration::from_secs(10), |e| {
        e["type"] == "call.queued" && e["call_id"] == call_id
    });
    queued["queue"].as_str().unwrap().to_string()
}

/// Every event the call task wrote itself carries `version`.
fn assert_call_version(h: &Hotline, call_id: &str, version: u64) {
    let events = call_events(h, call_id);
    for kind in [
        "call.arrived",
        "call.answered_by_ivr",
        "ivr.digit",
        "call.ended",
    ] {
        let e = events
            .iter()
            .find(|e| e["type"] == kind)
            .unwrap_or_else(|| panic!("no {kind} for call {call_id}: {events:?}"));
        assert_eq!(e["dialplan_version"], version, "{kind}: {e}");
    }
}

fn config_reload(h: &Hotline) -> (u16, Value) {
    let r = http::post(h.http, "/api/v1/config/reload", Some(TOKEN), "{}").unwrap();
    (r.status, serde_json::from_str(&r.body).unwrap())
}

#[test]
fn a_call_in_the_menu_finishes_on_its_version_and_a_new_call_gets_the_new_one() {
    let h = Hotline::start_with_dialplan(Options::default(), V1);
    assert_eq!(h.metric("hotline_dialplan_version"), 1.0);

    // Caller A is in the menu of version 1 while the file changes; it presses 2 after 4 s.
    let a = caller(&h, 2, 4000);
    let a_answered = h.wait_type("call.answered_by_ivr", Duration::from_secs(10));
    let a_id = a_answered["call_id"].as_str().unwrap().to_string();
    h.write_dialplan(&v2());
    let (status, answer) = h.reload_dialplan();
    assert_eq!(status, 200, "{answer}");
    // The file watch may have taken the change a moment before the API call.
    assert!(
        answer["result"] == "ok" || answer["result"] == "unchanged",
        "{answer}"
    );
    assert_eq!(answer["running"]["version"], 2, "{answer}");
    assert_eq!(answer["running"]["hash"].as_str().unwrap().len(), 64);
    assert!(
        !h.events().iter().any(|e| e["type"] == "ivr.digit"),
        "caller A pressed its digit before the reload: the test did not reload under the call"
    );

    // Caller B arrives on version 2 and presses the same digit.
    let b = caller(&h, 2, 1000);
    let b_arrived = h.wait_event("call B", Duration::from_secs(10), |e| {
        e["type"] == "call.arrived" && e["call_id"] != a_id.as_str()
    });
    let b_id = b_arrived["call_id"].as_str().unwrap().to_string();

    assert_eq!(queued_in(&h, &a_id), "billing", "A runs on version 1");
    assert_eq!(queued_in(&h, &b_id), "support", "B runs on version 2");
    a.wait(Duration::from_secs(20)).assert_ok("caller A");
    b.wait(Duration::from_secs(20)).assert_ok("caller B");
    h.wait_event("both calls ended", Duration::from_secs(10), |e| {
        e["type"] == "call.ended" && e["call_id"] == b_id.as_str()
    });
    h.wait_event("both calls ended", Duration::from_secs(10), |e| {
        e["type"] == "call.ended" && e["call_id"] == a_id.as_str()
    });
    assert_call_version(&h, &a_id, 1);
    assert_call_version(&h, &b_id, 2);
    // The journal says which file content each version is, before the calls that run on it.
    let events = h.events();
    let loaded: Vec<&Value> = events
        .iter()
        .filter(|e| e["type"] == "dialplan.loaded")
        .collect();
    assert_eq!(loaded.len(), 2, "{loaded:?}");
    assert_eq!(loaded[0]["version"], 1);
    assert_eq!(loaded[1]["version"], 2);
    assert_eq!(loaded[1]["hash"], answer["running"]["hash"]);
    assert_ne!(loaded[0]["hash"], loaded[1]["hash"]);
    assert_eq!(loaded[1]["file"], h.dialplan_path().display().to_string());
    let seq_of = |id: &str| {
        events
            .iter()
            .find(|e| e["type"] == "call.arrived" && e["call_id"] == id)
            .unwrap()["seq"]
            .as_u64()
            .unwrap()
    };
    assert!(loaded[0]["seq"].as_u64().unwrap() < seq_of(&a_id));
    assert!(loaded[1]["seq"].as_u64().unwrap() < seq_of(&b_id));
    assert_eq!(h.metric("hotline_dialplan_version"), 2.0);
    assert_eq!(
        h.metric("hotline_dialplan_reloads_total{result=\"ok\"}"),
        1.0
    );
    assert!(
        h.log()
            .contains("dialplan reloaded: new calls start on version 2"),
        "{}",
        h.log()
    );
}

#[test]
fn an_invalid_file_is_refused_with_its_positions_and_the_old_plan_keeps_serving() {
    let h = Hotline::start_with_dialplan(Options::default(), V1);
    let anonymous = http::post(h.http, "/api/v1/dialplan/reload", None, "{}").unwrap();
    assert_eq!(anonymous.status, 401, "the reload wants the API token");
    // Two mistakes: a digit going to a node that does not exist, a queue the config lacks.
    let broken = V1
        .replace("\"2\": to_billing", "\"2\": to_nowhere")
        .replace("queue: billing", "queue: sales");
    let line_of = |needle: &str| broken.lines().position(|l| l.contains(needle)).unwrap() + 1;
    h.write_dialplan(&broken);
    let (status, answer) = h.reload_dialplan();
    assert_eq!(status, 400, "{answer}");
    assert_eq!(answer["result"], "invalid");
    assert_eq!(answer["running"]["version"], 1, "the old version stays");
    let errors: Vec<&str> = answer["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect();
    let file = h.dialplan_path().display().to_string();
    for (needle, word) in [("to_nowhere", "to_nowhere"), ("queue: sales", "sales")] {
        let prefix = format!("{file}:{}:", line_of(needle));
        let error = errors
            .iter()
            .find(|e| e.starts_with(&prefix) && e.contains(word))
            .unwrap_or_else(|| panic!("no error at {prefix} about {word}: {errors:?}"));
        // file:line:column: message
        let column = error[prefix.len()..].split(':').next().unwrap();
        assert!(column.parse::<u32>().is_ok(), "{error}");
        assert!(h.log().contains(*error), "the log names the error");
    }
    // The file watch may have refused the same file already: counted at least once.
    assert!(h.metric("hotline_dialplan_reloads_total{result=\"invalid\"}") >= 1.0);
    assert_eq!(h.metric("hotline_dialplan_version"), 1.0);

    // A new call still runs on version 1: "2" goes to billing.
    let c = caller(&h, 2, 1000);
    let arrived = h.wait_type("call.arrived", Duration::from_secs(10));
    let id = arrived["call_id"].as_str().unwrap().to_string();
    assert_eq!(queued_in(&h, &id), "billing");
    c.wait(Duration::from_secs(20)).assert_ok("caller");
    h.wait_type("call.ended", Duration::from_secs(10));
    assert_call_version(&h, &id, 1);
}

const SALES: &str = "  sales:\n    ring_timeout: 15s\n    wrap_up: 2s\n    members: [\"1004\"]\n    strategy: linear\nagents:\n";

#[test]
fn dialplan_and_config_reloads_check_queues_against_each_other() {
    let h = Hotline::start_with_dialplan(Options::default(), V1);
    let config = h.dir.path().join("hotline.yaml");
    let original = std::fs::read_to_string(&config).unwrap();
    let with_sales = V1.replace("queue: billing", "queue: sales");

    // The dialplan may not send callers to a queue the running configuration lacks.
    h.write_dialplan(&with_sales);
    let (status, answer) = h.reload_dialplan();
    assert_eq!(status, 400, "{answer}");
    assert!(answer["errors"][0].as_str().unwrap().contains("sales"));

    // Once a configuration reload adds the queue, the same file goes live.
    std::fs::write(
        &config,
        original.replace("\nagents:\n", &format!("\n{SALES}")),
    )
    .unwrap();
    let (status, answer) = config_reload(&h);
    assert_eq!(status, 200, "{answer}");
    let (status, answer) = h.reload_dialplan();
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["running"]["version"], 2);

    // A configuration reload is now checked against version 2, which uses sales.
    std::fs::write(&config, &original).unwrap();
    let (status, answer) = config_reload(&h);
    assert_eq!(status, 400, "{answer}");
    let error = answer["error"].as_str().unwrap();
    assert!(
        error.contains("sales") && error.contains("version 2"),
        "{error}"
    );
}

#[test]
fn the_file_watch_picks_up_a_change_without_any_call_to_the_api() {
    let h = Hotline::start_with_dialplan(Options::default(), V1);
    h.write_dialplan(&v2());
    h.wait_metric("hotline_dialplan_version", 2.0, Duration::from_secs(10));
    assert_eq!(
        h.metric("hotline_dialplan_reloads_total{result=\"ok\"}"),
        1.0
    );
    // A broken edit is refused by the watch too; version 2 stays.
    h.write_dialplan("version: 1\nnumbers: [\n");
    h.wait_metric(
        "hotline_dialplan_reloads_total{result=\"invalid\"}",
        1.0,
        Duration::from_secs(10),
    );
    assert_eq!(h.metric("hotline_dialplan_version"), 2.0);
    assert!(h
        .log()
        .contains("dialplan reload refused, version 2 keeps running"));
    // Back to a valid file: version 3.
    h.write_dialplan(V1);
    h.wait_metric("hotline_dialplan_version", 3.0, Duration::from_secs(10));
    let (status, answer) = h.reload_dialplan();
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["result"], "unchanged");
    assert_eq!(answer["running"]["version"], 3);
    assert_eq!(
        h.metric("hotline_dialplan_reloads_total{result=\"unchanged\"}"),
        1.0
    );
}

#[test]
fn sighup_reloads_the_dialplan_and_the_configuration() {
    let h = Hotline::start_with_dialplan(Options::default(), V1);
    // Hidden from the file watch (same size and time): only the signal can pick it up.
    h.write_dialplan_unseen(&v2());
    h.hangup_signal();
    h.wait_metric("hotline_dialplan_version", 2.0, Duration::from_secs(10));
    h.wait_metric(
        "hotline_config_reloads_total{result=\"ok\"}",
        1.0,
        Duration::from_secs(10),
    );
    // A second signal with nothing changed: the dialplan is unchanged, its version stays.
    h.hangup_signal();
    h.wait_metric(
        "hotline_dialplan_reloads_total{result=\"unchanged\"}",
        1.0,
        Duration::from_secs(10),
    );
    assert_eq!(h.metric("hotline_dialplan_version"), 2.0);
    assert_eq!(
        h.metric("hotline_dialplan_reloads_total{result=\"ok\"}"),
        1.0
    );
    // A new call runs on version 2: "2" goes to support.
    let c = caller(&h, 2, 1000);
    let arrived = h.wait_type("call.arrived", Duration::from_secs(10));
    let id = arrived["call_id"].as_str().unwrap().to_string();
    assert_eq!(queued_in(&h, &id), "support");
    c.wait(Duration::from_secs(20)).assert_ok("caller");
    h.wait_type("call.ended", Duration::from_secs(10));
    assert_call_version(&h, &id, 2);
}
