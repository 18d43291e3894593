//! `hotline simulate`: runs the real router on virtual time against Poisson traffic and prints
//! what a call center would measure, beside the Erlang C or Erlang A prediction for the same
//! parameters.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use hotline_routing::sim::erlang::{ErlangA, ErlangC};
use hotline_routing::sim::{simulate, simulate_with, HandleTime, SimConfig, SimReport};
use hotline_routing::{AgentId, QueueId, RouterConfig};
use serde::Serialize;

use crate::config::Config;

/// Options of `hotline simulate`.
#[derive(clap::Args, Debug, Clone)]
pub struct SimulateArgs {
    /// Agents serving the queue (not needed with --config: the queue's members serve).
    #[arg(long)]
    pub agents: Option<usize>,
    /// Poisson arrival rate, calls per second.
    #[arg(long)]
    pub arrival_rate: f64,
    /// Mean handle time, seconds.
    #[arg(long)]
    pub aht: f64,
    /// Mean exponential patience of callers, seconds (default: nobody abandons).
    #[arg(long)]
    pub patience: Option<f64>,
    /// Service-level threshold, seconds.
    #[arg(long, default_value_t = 20.0)]
    pub sl_threshold: f64,
    /// Measured window, seconds of simulated time.
    #[arg(long, default_value_t = 86_400.0)]
    pub duration: f64,
    /// Simulated time discarded before the measured window, seconds.
    #[arg(long, default_value_t = 3_600.0)]
    pub warmup: f64,
    /// Seed of the random number generator: the same seed gives the same run.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Log-normal handle times with this coefficient of variation (default: exponential).
    #[arg(long)]
    pub handle_cv: Option<f64>,
    /// Wrap-up after each call, seconds (default 0, or the queue's with --config).
    #[arg(long)]
    pub wrap_up: Option<f64>,
    /// Simulate this configuration's queue, with its members, ring timeout and wrap-up.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// The queue of --config to simulate (default: the first one).
    #[arg(long, requires = "config")]
    pub queue: Option<String>,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// What `hotline simulate --json` prints.
#[derive(Debug, Serialize)]
struct Output {
    #[serde(flatten)]
    report: SimReport,
    /// The parameters of the run.
    parameters: SimConfig,
    /// The queue simulated.
    queue: String,
    /// The queueing-theory prediction, when the run fits its assumptions.
    theory: Option<Theory>,
}

/// Erlang C or Erlang A figures for the same parameters.
#[derive(Debug, Serialize)]
struct Theory {
    /// `erlang_c` or `erlang_a`.
    model: &'static str,
    p_wait: f64,
    service_level: f64,
    asa_s: f64,
    occupancy: f64,
    abandon_rate: f64,
}

/// Runs `hotline simulate`.
pub fn run(args: SimulateArgs) -> ExitCode {
    match simulate_and_print(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hotline simulate: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn simulate_and_print(args: &SimulateArgs) -> Result<()> {
    let mut sim = SimConfig {
        agents: args.agents.unwrap_or(0),
        arrival_rate: args.arrival_rate,
        aht: args.aht,
        handle_time: match args.handle_cv {
            Some(cv) => HandleTime::LogNormal { cv },
            None => HandleTime::Exponential,
        },
        patience: args.patience,
        sl_threshold: args.sl_threshold,
        duration: args.duration,
        warmup: args.warmup,
        seed: args.seed,
        wrap_up: args.wrap_up.unwrap_or(0.0),
        ..SimConfig::default()
    };
    let (report, queue) = match &args.config {
        Some(path) => {
            let config =
                Config::load(path).with_context(|| format!("loading {}", path.display()))?;
            let (router_config, queue) =
                queue_config(&config, args.queue.as_deref(), args.wrap_up)?;
            sim.agents = router_config.agents.len();
            if let Some(q) = router_config.queues.first() {
                sim.wrap_up = q.wrap_up.as_secs_f64();
            }
            (simulate_with(&sim, router_config, &queue)?, queue)
        }
        None => {
            if sim.agents == 0 {
                bail!("--agents must be at least 1 (or give --config)");
            }
            (simulate(&sim)?, SimConfig::queue_id())
        }
    };
    let output = Output {
        theory: theory(&sim),
        report,
        parameters: sim,
        queue: queue.to_string(),
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&output)?);
    } else {
        print_text(&output);
    }
    Ok(())
}

/// One queue of the configuration, alone with its members, as the router would run it.
fn queue_config(
    config: &Config,
    queue: Option<&str>,
    wrap_up: Option<f64>,
) -> Result<(RouterConfig, QueueId)> {
    let (name, settings) = match queue {
        Some(name) => config
            .queues
            .get_key_value(name)
            .with_context(|| format!("no queue `{name}` in the configuration"))?,
        None => config
            .queues
            .iter()
            .next()
            .context("the configuration has no queue")?,
    };
    if settings.members.is_empty() {
        bail!("queue `{name}` has no members");
    }
    let members: Vec<AgentId> = settings.members.iter().map(AgentId::new).collect();
    let id = QueueId::new(name.clone());
    let mut queue = crate::routing_config::queue_config(name, settings);
    if let Some(s) = wrap_up {
        queue.wrap_up = std::time::Duration::try_from_secs_f64(s)
            .context("--wrap-up must be a non-negative number of seconds")?;
    }
    // Alone, the queue cannot overflow into the others.
    queue
        .relaxation
        .retain(|step| !matches!(step.action, hotline_routing::RelaxAction::AddQueues { .. }));
    let mut router_config = crate::routing_config::router_config(config);
    router_config.queues = vec![queue];
    router_config
        .agent_settings
        .retain(|a, _| members.contains(a));
    router_config.agents = members;
    Ok((router_config, id))
}

/// The Erlang prediction, when the run meets its assumptions (exponential handle times, no
/// wrap-up; Erlang C also needs a load below the agent count).
fn theory(sim: &SimConfig) -> Option<Theory> {
    if sim.handle_time != HandleTime::Exponential || sim.wrap_up > 0.0 {
        return None;
    }
    let agents = u32::try_from(sim.agents).ok()?;
    match sim.patience {
        None => {
            let c = ErlangC::new(agents, sim.arrival_rate, sim.aht).ok()?;
            Some(Theory {
                model: "erlang_c",
                p_wait: c.p_wait(),
                service_level: c.service_level(sim.sl_threshold),
                asa_s: c.asa(),
                occupancy: c.occupancy(),
                abandon_rate: 0.0,
            })
        }
        Some(patience) => {
            let a = ErlangA::new(agents, sim.arrival_rate, sim.aht, patience).ok()?;
            Some(Theory {
                model: "erlang_a",
                p_wait: a.p_wait(),
                service_level: a.service_level(sim.sl_threshold).ok()?,
                asa_s: a.asa(),
                occupancy: a.occupancy(),
                abandon_rate: a.p_abandon(),
            })
        }
    }
}

fn print_text(output: &Output) {
    let r = &output.report;
    let p = &output.parameters;
    println!(
        "queue {}: {} agents, {:.4} calls/s, AHT {:.1} s, {} s simulated after {} s warm-up (seed {})",
        output.queue, p.agents, p.arrival_rate, p.aht, p.duration, p.warmup, p.seed
    );
    println!(
        "offered {}  answered {}  abandoned {}",
        r.offered, r.answered, r.abandoned
    );
    let theory = output.theory.as_ref();
    let row = |name: &str, value: f64, se: Option<f64>, predicted: Option<f64>| {
        let se = se.map_or(String::new(), |se| format!(" ± {se:.4}"));
        let predicted = predicted.map_or(String::new(), |t| format!("   theory {t:.4}"));
        println!("{name:<22}{value:>10.4}{se}{predicted}");
    };
    row(
        &format!("service level ({} s)", p.sl_threshold),
        r.service_level,
        Some(r.service_level_se),
        theory.map(|t| t.service_level),
    );
    row(
        "p(wait)",
        r.p_wait,
        Some(r.p_wait_se),
        theory.map(|t| t.p_wait),
    );
    row(
        "ASA (s)",
        r.asa_s,
        Some(r.asa_se_s),
        theory.map(|t| t.asa_s),
    );
    row(
        "abandon rate",
        r.abandon_rate,
        None,
        theory.map(|t| t.abandon_rate),
    );
    row("occupancy", r.occupancy, None, theory.map(|t| t.occupancy));
    row("wait estimate MAE (s)", r.ewt_mae_s, None, None);
    if let Some(t) = theory {
        println!("(theory: {})", t.model);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn theory_applies_only_under_its_assumptions() {
        let sim = SimConfig::default();
        assert_eq!(theory(&sim).map(|t| t.model), Some("erlang_c"));
        let patient = SimConfig {
            patience: Some(60.0),
            ..SimConfig::default()
        };
        assert_eq!(theory(&patient).map(|t| t.model), Some("erlang_a"));
        let wrapped = SimConfig {
            wrap_up: 5.0,
            ..SimConfig::default()
        };
        assert!(theory(&wrapped).is_none());
        let overloaded = SimConfig {
            arrival_rate: 1.0,
            ..SimConfig::default()
        };
        assert!(theory(&overloaded).is_none());
    }
}
