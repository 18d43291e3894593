//! A deterministic discrete-event simulation of a call center driving the real
//! [`Router`](crate::Router).
//!
//! Calls arrive as a Poisson process, wait in one queue served by `agents` identical agents,
//! are answered the instant they are offered (no ring delay) and hold their agent for an
//! exponential or log-normal handle time; with a patience, each caller hangs up after an
//! exponential time unless answered first. Time is virtual (no clock is read, no sleep, no
//! tokio): a run of days takes milliseconds, and the same seed replays the same run.
//!
//! Calls arriving during the warm-up drive the system towards its steady state and are not
//! counted; calls arriving in the measured window `[warmup, warmup + duration)` are counted and
//! followed to their end. [`erlang`] holds the formulas a run is checked against.
//!
//! # Wait estimate
//!
//! Each call is told, on entry, the router's own estimate ([`Router::estimated_wait`](crate::Router::estimated_wait):
//! `max(0, position − ready agents) × EWMA(handle time) / staffed agents`, zero when an agent
//! takes it at once). `ewt_mae_s` is the mean absolute error of that estimate against the wait
//! the call then had, over answered calls (an abandoned call's true wait is unknown, so it is
//! left out).
//!
//! ```
//! use hotline_routing::sim::{simulate, SimConfig};
//! let config = SimConfig { agents: 5, arrival_rate: 4.0 / 60.0, aht: 60.0, ..SimConfig::default() };
//! let report = simulate(&config).unwrap();
//! assert!(report.offered > 0 && report.p_wait > 0.0 && report.p_wait < 1.0);
//! ```

mod engine;
pub mod erlang;
mod rng;
mod stats;

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::config::{ConfigError, QueueConfig, RouterConfig, Strategy};
use crate::ids::{AgentId, QueueId};

pub use engine::simulate_with;
pub use rng::SimRng;

/// The distribution of handle times.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum HandleTime {
    /// Exponential with mean [`SimConfig::aht`] (the Erlang assumption).
    #[default]
    Exponential,
    /// Log-normal with mean [`SimConfig::aht`] and this coefficient of variation (sd / mean);
    /// real call centers measure about 1.
    LogNormal {
        /// Standard deviation over mean.
        cv: f64,
    },
}

/// What to simulate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimConfig {
    /// Agents serving the queue (all logged in and ready at the start).
    pub agents: usize,
    /// Poisson arrival rate, calls per second.
    pub arrival_rate: f64,
    /// Mean handle time, seconds.
    pub aht: f64,
    /// Distribution of handle times.
    pub handle_time: HandleTime,
    /// Mean of the callers' exponential patience, seconds; `None`: nobody hangs up while waiting.
    pub patience: Option<f64>,
    /// Service-level threshold `T`, seconds.
    pub sl_threshold: f64,
    /// Length of the measured window, seconds of virtual time.
    pub duration: f64,
    /// Virtual time simulated before the measured window and discarded, seconds.
    pub warmup: f64,
    /// Seed of the random number generator.
    pub seed: u64,
    /// After-call work per call, seconds (zero: ready at once).
    pub wrap_up: f64,
    /// Number of batches (by arrival time) the measured window is cut into for standard errors.
    pub batches: usize,
}

impl Default for SimConfig {
    /// 10 agents at 80% load with 180 s calls, `T` = 20 s, one simulated day after an hour.
    fn default() -> Self {
        Self {
            agents: 10,
            arrival_rate: 8.0 / 180.0,
            aht: 180.0,
            handle_time: HandleTime::Exponential,
            patience: None,
            sl_threshold: 20.0,
            duration: 86_400.0,
            warmup: 3_600.0,
            seed: 1,
            wrap_up: 0.0,
            batches: 20,
        }
    }
}

impl SimConfig {
    /// The queue simulated by [`simulate`].
    pub fn queue_id() -> QueueId {
        QueueId::new("sim")
    }

    /// The router configuration [`simulate`] uses: one queue, longest-idle, agents `a1..aN`.
    pub fn router_config(&self) -> RouterConfig {
        let agents: Vec<AgentId> = (1..=self.agents)
            .map(|i| AgentId::new(format!("a{i}")))
            .collect();
        RouterConfig {
            queues: vec![QueueConfig {
                id: Self::queue_id(),
                members: agents.clone(),
                // Offers are answered at once, so the ring timeout never fires.
                ring_timeout: Duration::from_secs(3600),
                wrap_up: Duration::from_secs_f64(self.wrap_up.max(0.0)),
                strategy: Strategy::LongestIdle,
                ..QueueConfig::default()
            }],
            agents,
            ..RouterConfig::default()
        }
    }
}

/// What a run measured, over calls that arrived in the measured window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimReport {
    /// Calls that entered the queue.
    pub offered: u64,
    /// Calls connected to an agent.
    pub answered: u64,
    /// Calls whose caller hung up, or that the queue let out (max wait, exit step), before an
    /// agent answered.
    pub abandoned: u64,
    /// Answered within `T` / (answered + abandoned after `T`).
    pub service_level: f64,
    /// Batch-means standard error of `service_level`.
    pub service_level_se: f64,
    /// Average speed of answer: mean wait of answered calls (zero waits included), seconds.
    pub asa_s: f64,
    /// Batch-means standard error of `asa_s`, seconds.
    pub asa_se_s: f64,
    /// Share of calls that found no free agent on arrival.
    pub p_wait: f64,
    /// Batch-means standard error of `p_wait`.
    pub p_wait_se: f64,
    /// Abandoned / offered.
    pub abandon_rate: f64,
    /// Time agents spent reserved, ringing, on a call or in wrap-up over time logged in, during
    /// the measured window.
    pub occupancy: f64,
    /// Mean absolute error of the wait estimate given to each answered call on arrival, seconds
    /// (the router's [`Router::estimated_wait`](crate::Router::estimated_wait) at entry, see the module docs).
    pub ewt_mae_s: f64,
    /// Mean handle time measured over answered calls, seconds.
    pub aht_s: f64,
    /// Routing events the router emitted over the whole run.
    pub router_events: u64,
}

/// Why a simulation could not run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SimError {
    /// A parameter is out of range.
    #[error("invalid simulation parameter: {0}")]
    InvalidParameter(&'static str),
    /// The router refused the generated configuration.
    #[error("router configuration: {0}")]
    Config(#[from] ConfigError),
    /// The router refused a command the simulator sent; a bug in one or the other.
    #[error("the router refused a simulated command: {0}")]
    Command(#[from] crate::command::CommandError),
}

/// Runs the simulation of `config` on a single queue of `config.agents` agents.
pub fn simulate(config: &SimConfig) -> Result<SimReport, SimError> {
    simulate_with(config, config.router_config(), &SimConfig::queue_id())
}
