//! `hotline simulate`: the binary runs the real router on virtual time and prints JSON whose
//! figures agree with Erlang C.

#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

fn hotline() -> Command {
    Command::new(env!("CARGO_BIN_EXE_hotline"))
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn simulate_json(args: &[&str]) -> Value {
    let out = hotline()
        .arg("simulate")
        .args(args)
        .arg("--json")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn number(json: &Value, field: &str) -> f64 {
    json[field]
        .as_f64()
        .unwrap_or_else(|| panic!("field {field} missing in {json}"))
}

#[test]
fn ten_agents_at_eight_erlangs_agree_with_erlang_c() {
    // 8 Erlangs on 10 agents: the textbook P(wait) = 0.4092. 80 days, about 300,000 calls.
    let json = simulate_json(&[
        "--agents",
        "10",
        "--arrival-rate",
        &(8.0_f64 / 180.0).to_string(),
        "--aht",
        "180",
        "--sl-threshold",
        "20",
        "--duration",
        "6912000",
        "--warmup",
        "14400",
        "--seed",
        "5",
    ]);
    for field in [
        "offered",
        "answered",
        "abandoned",
        "service_level",
        "asa_s",
        "p_wait",
        "occupancy",
        "ewt_mae_s",
    ] {
        assert!(json.get(field).is_some(), "{field} missing in {json}");
    }
    let offered = json["offered"].as_u64().unwrap();
    assert!(offered > 250_000, "{offered}");
    assert_eq!(json["answered"].as_u64(), Some(offered));
    assert_eq!(json["abandoned"].as_u64(), Some(0));
    let theory = &json["theory"];
    assert_eq!(theory["model"], "erlang_c");
    assert!((number(theory, "p_wait") - 0.4092).abs() < 1e-4);
    for (field, se) in [
        ("p_wait", "p_wait_se"),
        ("service_level", "service_level_se"),
    ] {
        let (simulated, predicted, se) = (
            number(&json, field),
            number(theory, field),
            number(&json, se),
        );
        assert!(se < 0.007, "{field}: standard error {se}");
        assert!(
            (simulated - predicted).abs() <= 0.02,
            "{field}: simulated {simulated} vs Erlang C {predicted}"
        );
    }
    assert!((number(&json, "occupancy") - 0.8).abs() < 0.01);
    assert!(number(&json, "ewt_mae_s") > 0.0);
}

#[test]
fn a_configured_queue_is_simulated_with_its_members() {
    let config = root().join("config/hotline.yaml");
    let json = simulate_json(&[
        "--config",
        config.to_str().unwrap(),
        "--queue",
        "support",
        "--wrap-up",
        "0",
        "--arrival-rate",
        "0.01",
        "--aht",
        "100",
        "--patience",
        "60",
        "--duration",
        "100000",
    ]);
    assert_eq!(json["queue"], "support");
    assert_eq!(json["parameters"]["agents"], 2);
    assert_eq!(json["theory"]["model"], "erlang_a");
    assert!(json["abandoned"].as_u64().unwrap() > 0);
}

#[test]
fn missing_agents_is_an_error() {
    let out = hotline()
        .args(["simulate", "--arrival-rate", "1", "--aht", "1", "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--agents"));
}
