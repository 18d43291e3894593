//! Reloading config/hotline.yaml while hotline runs: `POST /api/v1/config/reload` and SIGHUP
//! apply queue changes at once (seen in `GET /api/v1/queues`), report settings that need a
//! restart, and refuse a broken file while the running configuration keeps serving real calls.

#![allow(clippy::unwrap_used)]

mod support;

use std::net::UdpSocket;
use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;
use support::agent::{AgentSetup, SippAgent};
use support::sipp::Sipp;
use support::{http, poll_until, Hotline, Options};

const TOKEN: &str = "hotline-demo-token";

fn config_path(h: &Hotline) -> PathBuf {
    h.dir.path().join("hotline.yaml")
}

/// Rewrites the running server's config file with `edits` applied.
fn edit_config(h: &Hotline, edits: &[(&str, &str)]) {
    let path = config_path(h);
    let mut text = std::fs::read_to_string(&path).unwrap();
    for (from, to) in edits {
        assert!(text.contains(from), "{from:?} not in the config");
        text = text.replacen(from, to, 1);
    }
    std::fs::write(&path, text).unwrap();
}

fn reload(h: &Hotline) -> (u16, Value) {
    let r = http::post(h.http, "/api/v1/config/reload", Some(TOKEN), "").unwrap();
    let body = serde_json::from_str(&r.body).unwrap_or(Value::Null);
    (r.status, body)
}

fn queues(h: &Hotline) -> Vec<Value> {
    let r = http::get(h.http, "/api/v1/queues", Some(TOKEN)).unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    serde_json::from_str::<Value>(&r.body)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

fn queue(h: &Hotline, name: &str) -> Option<Value> {
    queues(h).into_iter().find(|q| q["name"] == name)
}

fn members(h: &Hotline, name: &str) -> Vec<String> {
    let q = queue(h, name).unwrap_or_else(|| panic!("no queue {name}"));
    q["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap().to_string())
        .collect()
}

fn strategy(h: &Hotline, name: &str) -> String {
    let r = http::get(h.http, &format!("/api/v1/queues/{name}"), Some(TOKEN)).unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    let detail: Value = serde_json::from_str(&r.body).unwrap();
    detail["config"]["strategy"].as_str().unwrap().to_string()
}

fn reloads_counted(h: &Hotline, result: &str) -> u64 {
    let r = http::get(h.http, "/metrics", None).unwrap();
    let prefix = format!("hotline_config_reloads_total{{result=\"{result}\"}} ");
    r.body
        .lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .map_or(0, |v| v.trim().parse().unwrap())
}

const SALES: &str = "  sales:\n    ring_timeout: 15s\n    wrap_up: 2s\n    members: [\"1004\"]\n    strategy: linear\nagents:\n";

#[test]
fn a_reload_changes_queues_live_and_a_broken_file_is_refused() {
    let h = Hotline::start(Options::default());
    assert_eq!(members(&h, "support"), ["1001", "1002"]);
    assert!(queue(&h, "sales").is_none());
    assert_eq!(strategy(&h, "support"), "longest_idle");

    // A member and a strategy change, a new queue, and a setting that needs a restart.
    edit_config(
        &h,
        &[
            (
                "members: [\"1001\", \"1002\"]",
                "members: [\"1001\", \"1002\", \"1003\"]",
            ),
            ("strategy: longest_idle", "strategy: round_robin"),
            ("\nagents:\n", &format!("\n{SALES}")),
            ("session_expires: 1800", "session_expires: 900"),
        ],
    );
    // Bearer auth like every /api/v1 route.
    let r = http::post(h.http, "/api/v1/config/reload", None, "").unwrap();
    assert_eq!(r.status, 401);
    let (status, body) = reload(&h);
    assert_eq!(status, 200, "{body}");
    let changed: Vec<&str> = body["changed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert_eq!(changed, ["queue sales added", "queue support changed"]);
    assert_eq!(
        body["restart_needed"],
        serde_json::json!(["sip.session_expires"])
    );
    assert_eq!(members(&h, "support"), ["1001", "1002", "1003"]);
    assert_eq!(members(&h, "sales"), ["1004"]);
    assert_eq!(strategy(&h, "support"), "round_robin");
    assert_eq!(strategy(&h, "sales"), "linear");
    assert_eq!(reloads_counted(&h, "ok"), 1);
    assert!(h.log().contains("configuration reloaded"), "{}", h.log());

    // A member that is not an agent: refused with the reason, nothing changes.
    edit_config(
        &h,
        &[("members: [\"1004\"]", "members: [\"1004\", \"9999\"]")],
    );
    let (status, body) = reload(&h);
    assert_eq!(status, 400, "{body}");
    assert!(body["error"].as_str().unwrap().contains("9999"), "{body}");
    // A YAML mistake: refused with its line and column.
    edit_config(
        &h,
        &[(
            "    strategy: linear\n",
            "    strategy: linear\n    max_wiat: 5m\n",
        )],
    );
    let line = std::fs::read_to_string(config_path(&h))
        .unwrap()
        .lines()
        .position(|l| l.contains("max_wiat"))
        .unwrap()
        + 1;
    let (status, body) = reload(&h);
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("max_wiat"),
        "{body}"
    );
    assert_eq!(body["line"], line, "{body}");
    assert!(body["column"].as_u64().is_some(), "{body}");
    assert_eq!(reloads_counted(&h, "error"), 2);
    assert_eq!(members(&h, "sales"), ["1004"]);
    assert_eq!(members(&h, "support"), ["1001", "1002", "1003"]);
    assert!(
        h.log().contains("configuration reload refused"),
        "{}",
        h.log()
    );

    // A valid file without the new queue: it goes, from the API and from the metrics.
    edit_config(
        &h,
        &[
            ("    max_wiat: 5m\n", ""),
            ("members: [\"1004\", \"9999\"]", "members: [\"1004\"]"),
            (SALES, "agents:\n"),
        ],
    );
    let (status, body) = reload(&h);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["changed"], serde_json::json!(["queue sales removed"]));
    assert!(queue(&h, "sales").is_none());
    let metrics = http::get(h.http, "/metrics", None).unwrap().body;
    assert!(
        !metrics.contains("hotline_queue_waiting_calls{queue=\"sales\"}"),
        "{metrics}"
    );
    assert!(metrics.contains("hotline_queue_waiting_calls{queue=\"support\"}"));

    // The running configuration still serves a real call: 1001 answers a caller of support.
    let agent = SippAgent::start(
        &h,
        AgentSetup {
            hold_ms: 12_000,
            ..AgentSetup::default()
        },
    );
    let rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let caller = Sipp::new("caller_wait.xml", h.sip)
        .var("wait_ms", 3000)
        .key("caller_rtp_port", rtp.local_addr().unwrap().port())
        .args(&["-s", "200", "-m", "1"])
        .spawn();
    let answered = h.wait_type("call.answered", Duration::from_secs(10));
    assert_eq!(answered["agent_id"], "1001");
    assert_eq!(answered["queue"], "support");
    caller.wait(Duration::from_secs(20)).assert_ok("caller");
    let ended = h.wait_type("call.ended", Duration::from_secs(10));
    assert_eq!(ended["reason"], "completed");
    agent.finish(Duration::from_secs(20)).assert_ok("agent");
}

/// The pid of the hotline serving `config` (found by its unique config path).
fn hotline_pid(config: &std::path::Path) -> u32 {
    let wanted = config.display().to_string();
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .find(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| {
                let args: Vec<String> = c
                    .split(|b| *b == 0)
                    .map(|a| String::from_utf8_lossy(a).into_owned())
                    .collect();
                args.iter()
                    .any(|a| a.ends_with("hotline") || a.ends_with("/hotline"))
                    && args.contains(&wanted)
            })
        })
        .expect("the hotline process")
}

#[test]
fn sighup_reloads_the_file() {
    let h = Hotline::start(Options::default());
    edit_config(&h, &[("\nagents:\n", &format!("\n{SALES}"))]);
    let pid = hotline_pid(&config_path(&h));
    let status = std::process::Command::new("kill")
        .arg("-HUP")
        .arg(pid.to_string())
        .status()
        .unwrap();
    assert!(status.success());
    let seen = poll_until(Duration::from_secs(10), || queue(&h, "sales").is_some());
    assert!(seen, "SIGHUP did not add the queue:\n{}", h.log());
    assert_eq!(members(&h, "sales"), ["1004"]);
    assert_eq!(reloads_counted(&h, "ok"), 1);
    // Still serving after the signal.
    let r = http::get(h.http, "/healthz", None).unwrap();
    assert_eq!(r.status, 200);
}

#[test]
fn an_agent_removed_during_a_call_finishes_it_and_is_then_gone() {
    let h = Hotline::start(Options::default());
    let agent = SippAgent::start(
        &h,
        AgentSetup {
            hold_ms: 12_000,
            ..AgentSetup::default()
        },
    );
    let rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let caller = Sipp::new("caller_wait.xml", h.sip)
        .var("wait_ms", 4000)
        .key("caller_rtp_port", rtp.local_addr().unwrap().port())
        .args(&["-s", "200", "-m", "1"])
        .spawn();
    let answered = h.wait_type("call.answered", Duration::from_secs(10));
    assert_eq!(answered["agent_id"], "1001");

    edit_config(
        &h,
        &[
            ("members: [\"1001\", \"1002\"]", "members: [\"1002\"]"),
            (
                "  \"1001\": { password: demo1001, name: \"Agent 1001\", skills: { english: 8 } }\n",
                "",
            ),
        ],
    );
    let (status, body) = reload(&h);
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["changed"],
        serde_json::json!(["queue support changed", "agent 1001 removed"])
    );
    assert_eq!(members(&h, "support"), ["1002"]);
    // Still on the call: the call goes on to its normal end.
    caller.wait(Duration::from_secs(20)).assert_ok("caller");
    let ended = h.wait_type("call.ended", Duration::from_secs(10));
    assert_eq!(ended["reason"], "completed");
    // Then 1001 logs out, with no wrap-up, and is no longer listed.
    h.wait_event("1001 logged out", Duration::from_secs(10), |e| {
        e["type"] == "agent.state_changed" && e["agent_id"] == "1001" && e["to"] == "logged_out"
    });
    let states: Vec<String> = h
        .events()
        .iter()
        .filter(|e| e["type"] == "agent.state_changed" && e["agent_id"] == "1001")
        .map(|e| e["to"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(states.last().map(String::as_str), Some("logged_out"));
    assert!(!states.contains(&"wrap_up".to_string()), "{states:?}");
    let r = http::get(h.http, "/api/v1/agents", Some(TOKEN)).unwrap();
    let agents: Value = serde_json::from_str(&r.body).unwrap();
    assert!(
        agents.as_array().unwrap().iter().all(|a| a["id"] != "1001"),
        "{agents}"
    );
    agent.finish(Duration::from_secs(20)).assert_ok("agent");
}

#[test]
fn an_offer_ringing_at_a_member_a_reload_removes_is_cancelled_without_a_missed_offer() {
    let h = Hotline::start(Options::default());
    let marks = tempfile::tempdir().unwrap();
    let mark = marks.path().join("mark");
    let mark_arg = mark.display().to_string();
    let agent = SippAgent::start(
        &h,
        AgentSetup {
            hold_ms: 12_000,
            answer_scenario: "agent_noanswer.xml",
            extra: vec!["-key", "mark_file", &mark_arg],
            ..AgentSetup::default()
        },
    );
    let rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let caller = Sipp::new("caller_wait.xml", h.sip)
        .var("wait_ms", 9000)
        .key("caller_rtp_port", rtp.local_addr().unwrap().port())
        .args(&["-s", "200", "-m", "1"])
        .spawn();
    // The 15 s ring timeout is far off: 1001's phone rings when the reload takes it off support.
    h.wait_event("1001 ringing", Duration::from_secs(10), |e| {
        e["type"] == "agent.state_changed" && e["agent_id"] == "1001" && e["to"] == "ringing"
    });
    edit_config(
        &h,
        &[("members: [\"1001\", \"1002\"]", "members: [\"1002\"]")],
    );
    let (status, body) = reload(&h);
    assert_eq!(status, 200, "{body}");
    // The offer is withdrawn at once, long before the caller gives up.
    let failed = h.wait_event("1001's offer withdrawn", Duration::from_secs(2), |e| {
        e["type"] == "call.offer_failed" && e["agent_id"] == "1001"
    });
    assert_eq!(failed["cause"], "failed", "{failed}");
    let cancelled = poll_until(Duration::from_secs(3), || {
        std::fs::read_to_string(&mark).is_ok_and(|s| s.contains("cancelled"))
    });
    assert!(cancelled, "1001's phone never got the CANCEL");
    // Not a missed offer: 1001 is ready again (and serves no queue now).
    h.wait_agent_state("1001", "ready", Duration::from_secs(5));
    assert!(h.agent("1001")["queues"].as_array().unwrap().is_empty());
    assert!(!h
        .events()
        .iter()
        .any(|e| e["type"] == "agent.state_changed" && e["to"] == "not_ready"));
    // The caller keeps waiting in support until it hangs up.
    caller.wait(Duration::from_secs(20)).assert_ok("caller");
    let ended = h.wait_type("call.ended", Duration::from_secs(10));
    assert_eq!(ended["reason"], "abandoned", "{ended}");
    agent.finish(Duration::from_secs(20)).assert_ok("agent");
}
