//! Long simulated runs of the real router agree with queueing theory: Erlang C without
//! abandonment, Erlang A (Palm) with exponential patience, within 2 percentage points.
//!
//! Run lengths come from the batch-means standard errors (SE) the simulator reports. Near full
//! load successive waits are strongly correlated, so a 2 pp claim needs millions of calls:
//!
//! - `cargo test --release` (the proof): runs of 120 to 300 simulated days (0.5 to 7 million
//!   calls each, about 25 s in all on two cores); each run asserts its SE is at most 0.75 pp, so
//!   2 pp is at least 2.7 SE, and then asserts agreement within 2 pp.
//! - debug builds (the everyday check, about 12 s): runs 12 times shorter, where the SE is 0.5 to
//!   2 pp; they assert agreement within the larger of 2 pp and 3 SE, i.e. no evidence of
//!   disagreement at that precision.
//!
//! Seeds are fixed, so each run is reproducible.
//!
//! Release figures (simulated ± SE vs theory; service level within 20 s, AHT 180 s):
//!
//! | agents | load | patience | p_wait | service level | abandon rate |
//! |---|---|---|---|---|---|
//! | 5 | 0.80 | - | 0.5560 ± .0028 vs 0.5541 (C) | 0.5024 ± .0031 vs 0.5042 | - |
//! | 20 | 0.90 | - | 0.5545 ± .0038 vs 0.5508 (C) | 0.5539 ± .0044 vs 0.5590 | - |
//! | 50 | 0.95 | - | 0.6226 ± .0029 vs 0.6291 (C) | 0.5314 ± .0035 vs 0.5235 | - |
//! | 10 | 1.00 | 120 s | 0.4991 ± .0025 vs 0.4969 (A) | 0.6832 ± .0022 vs 0.6845 | 0.1384 vs 0.1375 |
//! | 30 | 0.95 | 300 s | 0.4573 ± .0024 vs 0.4601 (A) | 0.7435 ± .0023 vs 0.7425 | 0.0434 vs 0.0435 |

use hotline_routing::sim::erlang::{ErlangA, ErlangC};
use hotline_routing::sim::{simulate, SimConfig, SimReport};

const AHT: f64 = 180.0;
const T: f64 = 20.0;
const TOLERANCE: f64 = 0.02;

/// How much longer than the nominal run a build simulates, and the SE it must reach.
#[cfg(debug_assertions)]
const SCALE: f64 = 1.0;
#[cfg(not(debug_assertions))]
const SCALE: f64 = 12.0;
#[cfg(not(debug_assertions))]
const MAX_SE: f64 = 0.0075;

fn run(
    agents: usize,
    load_per_agent: f64,
    patience: Option<f64>,
    days: f64,
    seed: u64,
) -> SimReport {
    let config = SimConfig {
        agents,
        arrival_rate: agents as f64 * load_per_agent / AHT,
        aht: AHT,
        patience,
        sl_threshold: T,
        duration: days * SCALE * 86_400.0,
        warmup: 4.0 * 3_600.0,
        seed,
        ..SimConfig::default()
    };
    let report = simulate(&config).expect("valid simulation");
    eprintln!("N={agents} load={load_per_agent} patience={patience:?}: {report:?}");
    report
}

#[cfg(not(debug_assertions))]
fn tolerance(what: &str, se: f64) -> f64 {
    assert!(
        se <= MAX_SE,
        "{what}: standard error {se:.4} too large for the run length"
    );
    TOLERANCE
}

#[cfg(debug_assertions)]
fn tolerance(_what: &str, se: f64) -> f64 {
    TOLERANCE.max(3.0 * se)
}

fn assert_close(what: &str, simulated: f64, se: f64, theory: f64) {
    let tolerance = tolerance(what, se);
    assert!(
        (simulated - theory).abs() <= tolerance,
        "{what}: simulated {simulated:.4} (se {se:.4}) vs theory {theory:.4}"
    );
}

fn check_erlang_c(agents: usize, load: f64, days: f64, seed: u64) {
    let report = run(agents, load, None, days, seed);
    let theory = ErlangC::new(agents as u32, agents as f64 * load / AHT, AHT).expect("stable load");
    assert_eq!(report.abandoned, 0);
    assert_eq!(report.answered, report.offered);
    assert_close("p_wait", report.p_wait, report.p_wait_se, theory.p_wait());
    assert_close(
        "service_level",
        report.service_level,
        report.service_level_se,
        theory.service_level(T),
    );
    assert!((report.occupancy - theory.occupancy()).abs() < 0.02);
    // ASA: within 4 standard errors (its relative error is larger than the shares').
    let asa = theory.asa();
    assert!(
        (report.asa_s - asa).abs() <= 4.0 * report.asa_se_s,
        "asa {} (se {}) vs {asa}",
        report.asa_s,
        report.asa_se_s
    );
}

fn check_erlang_a(agents: usize, load: f64, patience: f64, days: f64, seed: u64) {
    let report = run(agents, load, Some(patience), days, seed);
    let theory = ErlangA::new(agents as u32, agents as f64 * load / AHT, AHT, patience)
        .expect("valid model");
    assert!(report.abandoned > 0);
    assert_close("p_wait", report.p_wait, report.p_wait_se, theory.p_wait());
    assert_close(
        "service_level",
        report.service_level,
        report.service_level_se,
        theory.service_level(T).expect("computable"),
    );
    assert!(
        (report.abandon_rate - theory.p_abandon()).abs() <= TOLERANCE,
        "abandon rate {} vs {}",
        report.abandon_rate,
        theory.p_abandon()
    );
    let asa = theory.asa();
    assert!(
        (report.asa_s - asa).abs() <= 4.0 * report.asa_se_s,
        "asa {} (se {}) vs {asa}",
        report.asa_s,
        report.asa_se_s
    );
}

#[test]
fn five_agents_at_80_percent_match_erlang_c() {
    check_erlang_c(5, 0.8, 20.0, 11);
}

#[test]
fn twenty_agents_at_90_percent_match_erlang_c() {
    check_erlang_c(20, 0.9, 15.0, 12);
}

#[test]
fn fifty_agents_at_95_percent_match_erlang_c() {
    check_erlang_c(50, 0.95, 25.0, 13);
}

#[test]
fn ten_agents_fully_loaded_with_patience_match_erlang_a() {
    check_erlang_a(10, 1.0, 120.0, 10.0, 21);
}

#[test]
fn thirty_agents_at_95_percent_with_patience_match_erlang_a() {
    check_erlang_a(30, 0.95, 300.0, 10.0, 22);
}
