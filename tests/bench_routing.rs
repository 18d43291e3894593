//! `hotline bench routing`: the binary builds a seeded world, times routing decisions per
//! strategy and prints JSON with every figure (small sizes here: a debug build says nothing about
//! the targets, only that each figure is measured and sane).

#![allow(clippy::unwrap_used)]

use std::process::Command;

use serde_json::Value;

const SAMPLES: u64 = 60;

fn bench(extra: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_hotline"))
        .args(["bench", "routing"])
        .args([
            "--agents",
            "300",
            "--queues",
            "30",
            "--skills",
            "20",
            "--waiting",
            "200",
            "--samples",
            &SAMPLES.to_string(),
            "--mixed-inputs",
            "3000",
            "--seed",
            "7",
        ])
        .args(extra)
        .output()
        .unwrap()
}

fn number(json: &Value, field: &str) -> f64 {
    json[field]
        .as_f64()
        .unwrap_or_else(|| panic!("field {field} missing in {json}"))
}

#[test]
fn json_reports_latencies_throughput_and_memory_for_every_strategy_but_ring_all() {
    let out = bench(&["--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["parameters"]["agents"], 300);
    assert_eq!(json["parameters"]["waiting"], 200);
    let waiting = number(&json, "waiting");
    assert!((200.0..=210.0).contains(&waiting), "{waiting}");
    let bytes = number(&json, "bytes_per_waiting_entry");
    assert!(bytes > 0.0 && bytes < 100_000.0, "{bytes}");
    assert!(number(&json, "memory_entries") >= 20_000.0);

    let strategies = json["strategies"].as_array().unwrap();
    let names: Vec<&str> = strategies
        .iter()
        .map(|s| s["strategy"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "longest_idle",
            "fewest_calls",
            "least_talk_time",
            "round_robin",
            "linear",
            "random",
            "weighted_random",
            "best_skilled"
        ]
    );
    for s in strategies {
        for kind in [
            "arrive_all_busy",
            "arrive_agent_ready",
            "agent_free_wrap_up_end",
            "agent_free_set_ready",
        ] {
            let l = &s[kind];
            assert_eq!(l["samples"].as_u64(), Some(SAMPLES), "{kind}: {l}");
            let (p50, p99, max) = (
                number(l, "p50_us"),
                number(l, "p99_us"),
                number(l, "max_us"),
            );
            assert!(0.0 < p50 && p50 <= p99 && p99 <= max, "{kind}: {l}");
        }
        // Every main agent is busy when an entry arrives there, so none is offered.
        assert_eq!(s["arrive_all_busy"]["offers"].as_u64(), Some(0), "{s}");
        // A spare queue always has a ready member.
        assert_eq!(
            s["arrive_agent_ready"]["offers"].as_u64(),
            Some(SAMPLES),
            "{s}"
        );
        // A freed agent takes a waiting entry unless it qualifies for none of them.
        for kind in ["agent_free_wrap_up_end", "agent_free_set_ready"] {
            let offers = s[kind]["offers"].as_u64().unwrap();
            assert!(offers * 2 > SAMPLES, "{kind}: {s}");
        }
        let mixed = &s["mixed"];
        let inputs = number(mixed, "inputs");
        assert!(inputs >= 3000.0, "{mixed}");
        assert!(number(mixed, "events") > inputs, "{mixed}");
        let rate = number(mixed, "events_per_s");
        let expected = number(mixed, "events") / number(mixed, "router_s");
        assert!((rate - expected).abs() <= 1e-6 * expected, "{mixed}");
    }
}

#[test]
fn the_table_names_each_strategy_and_the_memory_figure() {
    let out = bench(&[]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("bytes per waiting entry"), "{text}");
    for name in ["longest_idle", "best_skilled", "weighted_random"] {
        assert!(text.contains(name), "{text}");
    }
}

#[test]
fn too_small_a_world_is_refused() {
    let out = Command::new(env!("CARGO_BIN_EXE_hotline"))
        .args(["bench", "routing", "--agents", "5"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("at least"));
}
