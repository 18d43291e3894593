//! The pacer: how many calls to dial now.

use std::time::Duration;

use super::ledger::AbandonStats;
use super::model::LogNormal;
use super::profile::{DialMode, JurisdictionProfile, ProfileError};

/// A pacer's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct PacerConfig {
    /// The campaign's mode.
    pub mode: DialMode,
    /// The abandonment rules.
    pub profile: JurisdictionProfile,
    /// Predictive needs at least this many agents logged in to the campaign (else it dials
    /// progressively): with few agents, one early answer too many is a large share.
    pub min_agents_predictive: u32,
    /// The share of the cap kept free: with 0.2 and a 3% cap, the pacer aims at 2.4%.
    pub abandon_margin: f64,
    /// The live-answer rate assumed before any call is resolved.
    pub answer_prior: f64,
    /// How many resolved dials the prior is worth.
    pub answer_prior_weight: f64,
    /// How far ahead agents about to be free count (about the time from dial to answer).
    pub lookahead: Duration,
    /// At most this many calls in progress per logged-in agent.
    pub max_lines_per_agent: u32,
    /// Agentless mode: at most this many calls at once.
    pub agentless_lines: u32,
    /// How many live-answered calls at the aim the abandon rate's prior is worth: the pacer
    /// starts cautious and loosens as answered calls show a lower rate.
    pub abandon_prior_weight: f64,
    /// The safety (in standard deviations of the live answers expected) with no abandon yet.
    pub safety_min: f64,
    /// The safety when the abandon rate reaches the aim (cap less margin).
    pub safety_max: f64,
    /// Predictive dials progressively (one call per free agent) until at least this many of
    /// the campaign's dials have a known outcome: it dials ahead only on an answer rate it
    /// measured, not on the prior alone.
    pub warmup_resolved_dials: u64,
    /// ... and until at least this many of them were answered by a person.
    pub warmup_live_answers: u64,
}

impl Default for PacerConfig {
    fn default() -> Self {
        Self {
            mode: DialMode::Progressive,
            profile: JurisdictionProfile::Us,
            min_agents_predictive: 15,
            abandon_margin: 0.2,
            answer_prior: 0.25,
            answer_prior_weight: 40.0,
            lookahead: Duration::from_secs(10),
            max_lines_per_agent: 6,
            agentless_lines: 10,
            abandon_prior_weight: 50.0,
            safety_min: 0.0,
            safety_max: 2.0,
            warmup_resolved_dials: DEFAULT_WARMUP_RESOLVED_DIALS,
            warmup_live_answers: DEFAULT_WARMUP_LIVE_ANSWERS,
        }
    }
}

/// The default warm-up in resolved dials: about two progressive rounds of a 15-20 agent team
/// (a minute or two of dialing), after which the measured rate's standard error is about 0.08
/// and it carries 3/7 of the estimate against the prior's 40 pseudo-dials.
pub const DEFAULT_WARMUP_RESOLVED_DIALS: u64 = 30;

/// The default warm-up in live answers: cheap where answers are rare (unanswered dials resolve
/// within the ring timeout, so even at a 5% rate one agent team gets there in minutes), and
/// no predictive dial on a rate that has not seen a person yet.
pub const DEFAULT_WARMUP_LIVE_ANSWERS: u64 = 5;

/// A pacer's settings that cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PacerConfigError {
    /// The profile's figures.
    #[error(transparent)]
    Profile(#[from] ProfileError),
    /// The margin is not a share in [0, 1).
    #[error("the abandon margin {0} is not in [0, 1)")]
    Margin(f64),
    /// The answer prior is not a share in (0, 1].
    #[error("the answer prior {0} is not in (0, 1]")]
    AnswerPrior(f64),
    /// The safety bounds are reversed.
    #[error("safety_min {min} is above safety_max {max}")]
    Safety {
        /// The lower bound.
        min: f64,
        /// The upper bound.
        max: f64,
    },
}

impl PacerConfig {
    /// Checks the settings.
    pub fn validate(&self) -> Result<(), PacerConfigError> {
        self.profile.validate()?;
        if !(0.0..1.0).contains(&self.abandon_margin) {
            return Err(PacerConfigError::Margin(self.abandon_margin));
        }
        if !(self.answer_prior > 0.0 && self.answer_prior <= 1.0) {
            return Err(PacerConfigError::AnswerPrior(self.answer_prior));
        }
        if self.safety_min > self.safety_max {
            return Err(PacerConfigError::Safety {
                min: self.safety_min,
                max: self.safety_max,
            });
        }
        Ok(())
    }

    /// The abandon rate the pacer aims under: the cap less the margin.
    pub fn aim(&self) -> f64 {
        self.profile.cap() * (1.0 - self.abandon_margin)
    }
}

/// What a busy agent of the campaign is doing, and for how long already.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BusyAgent {
    /// On a call that started `age` ago.
    Talking {
        /// Time on the call so far.
        age: Duration,
    },
    /// In wrap-up that started `age` ago.
    WrapUp {
        /// Time in wrap-up so far.
        age: Duration,
    },
}

/// The measured state the pacer decides from.
#[derive(Debug, Clone, PartialEq)]
pub struct PacingInput<'a> {
    /// Dials with a known outcome (answered, no answer, busy, failed) in the span measured.
    pub resolved_dials: u64,
    /// Of those, answered by a person.
    pub live_answers: u64,
    /// Talk time estimate.
    pub talk: LogNormal,
    /// Wrap-up time estimate.
    pub wrap: LogNormal,
    /// Agents logged in to the campaign, free and eligible for outbound work.
    pub free_agents: u32,
    /// The campaign's busy agents.
    pub busy: &'a [BusyAgent],
    /// The campaign's calls dialed and not yet answered or failed (agentless: every call in
    /// progress).
    pub ringing: u32,
    /// Calls answered by a person and waiting (within the connect time) for an agent.
    pub waiting_live: u32,
    /// The campaign's abandonment over the profile's window.
    pub abandon: AbandonStats,
}

/// Why the pacer chose its number (JSON: `{"kind": "warming_up", "resolved": 4, ...}`).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PacingReason {
    /// Preview: nothing is dialed until an agent accepts a record.
    Preview,
    /// Progressive: one call per free agent.
    Progressive,
    /// Predictive, from the answer rate and the agents about to be free.
    Predictive,
    /// Predictive asked for, but too few agents are logged in: progressive instead.
    TooFewAgents {
        /// Agents logged in.
        agents: u32,
        /// The minimum for predictive.
        min: u32,
    },
    /// Predictive asked for, but too few of the campaign's dials have a known outcome yet:
    /// progressive until the answer rate is measured.
    WarmingUp {
        /// Dials with a known outcome so far.
        resolved: u64,
        /// Resolved dials needed.
        needed: u64,
        /// Live answers so far.
        live: u64,
        /// Live answers needed.
        live_needed: u64,
    },
    /// Predictive asked for, but the abandon rate reached the cap: no dial ahead of free agents
    /// until it falls back under it.
    AtCap {
        /// The rate over the window.
        rate: f64,
        /// The cap.
        cap: f64,
    },
    /// Agentless: up to the line limit.
    Agentless,
}

/// How many calls to start now, in which mode, and why.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PacingDecision {
    /// Calls to dial now.
    pub dials: u32,
    /// The mode the number follows (progressive when predictive degraded).
    pub mode: DialMode,
    /// Why.
    pub reason: PacingReason,
    /// The live-answer rate used (the prior blended with the measured one).
    pub answer_rate: f64,
    /// Agents free now plus those expected free within the lookahead.
    pub expected_free: f64,
    /// The abandon rate over the window.
    pub abandon_rate: f64,
    /// The safety used, in standard deviations (predictive only).
    pub safety: f64,
}

/// Decides how many calls to dial now from measured state (pure: no clock, no I/O).
#[derive(Debug, Clone)]
pub struct Pacer {
    config: PacerConfig,
}

impl Pacer {
    /// A pacer on checked settings.
    pub fn new(config: PacerConfig) -> Result<Self, PacerConfigError> {
        config.validate()?;
        Ok(Self { config })
    }

    /// The settings.
    pub fn config(&self) -> &PacerConfig {
        &self.config
    }

    /// The live-answer rate: the prior's pseudo-dials pooled with the measured ones.
    pub fn answer_rate(&self, resolved_dials: u64, live_answers: u64) -> f64 {
        let w = self.config.answer_prior_weight;
        let rate = (self.config.answer_prior * w + live_answers as f64)
            / (w + resolved_dials as f64).max(1e-9);
        rate.clamp(1e-3, 1.0)
    }

    /// The abandon rate pooled with the prior's pseudo-calls at the aim.
    pub fn smoothed_abandon_rate(&self, abandon: AbandonStats) -> f64 {
        let w = self.config.abandon_prior_weight.max(0.0);
        let live = abandon.live_answered as f64 + w;
        if live <= 0.0 {
            return 0.0;
        }
        (abandon.abandoned as f64 + w * self.config.aim()) / live
    }

    /// Agents free now plus the expected number of busy ones free within the lookahead.
    pub fn expected_free(&self, input: &PacingInput<'_>) -> f64 {
        let h = self.config.lookahead;
        let wrap_mean = input.wrap.mean();
        let soon: f64 = input
            .busy
            .iter()
            .map(|agent| match *agent {
                BusyAgent::WrapUp { age } => input.wrap.ends_within(age, h),
                // A talking agent still has a wrap-up to do: count the talk ending early
                // enough to leave an average wrap-up inside the lookahead.
                BusyAgent::Talking { age } => match h.checked_sub(wrap_mean) {
                    Some(left) if !left.is_zero() => input.talk.ends_within(age, left),
                    _ => 0.0,
                },
            })
            .sum();
        (input.free_agents as f64 + soon - input.waiting_live as f64).max(0.0)
    }

    /// How many calls to start now.
    pub fn decide(&self, input: &PacingInput<'_>) -> PacingDecision {
        let c = &self.config;
        let answer_rate = self.answer_rate(input.resolved_dials, input.live_answers);
        let abandon_rate = input.abandon.rate();
        let progressive = input
            .free_agents
            .saturating_sub(input.ringing + input.waiting_live);
        let mut decision = PacingDecision {
            dials: progressive,
            mode: DialMode::Progressive,
            reason: PacingReason::Progressive,
            answer_rate,
            expected_free: input.free_agents as f64,
            abandon_rate,
            safety: 0.0,
        };
        match c.mode {
            DialMode::Preview => {
                decision.dials = 0;
                decision.mode = DialMode::Preview;
                decision.reason = PacingReason::Preview;
                decision
            }
            DialMode::Progressive => decision,
            DialMode::Agentless => {
                decision.dials = c.agentless_lines.saturating_sub(input.ringing);
                decision.mode = DialMode::Agentless;
                decision.reason = PacingReason::Agentless;
                decision
            }
            DialMode::Predictive => {
                let agents = input.free_agents + input.busy.len() as u32;
                if agents < c.min_agents_predictive {
                    decision.reason = PacingReason::TooFewAgents {
                        agents,
                        min: c.min_agents_predictive,
                    };
                    return decision;
                }
                let cap = c.profile.cap();
                if input.abandon.abandoned > 0 && abandon_rate >= cap {
                    decision.reason = PacingReason::AtCap {
                        rate: abandon_rate,
                        cap,
                    };
                    return decision;
                }
                if input.resolved_dials < c.warmup_resolved_dials
                    || input.live_answers < c.warmup_live_answers
                {
                    decision.reason = PacingReason::WarmingUp {
                        resolved: input.resolved_dials,
                        needed: c.warmup_resolved_dials,
                        live: input.live_answers,
                        live_needed: c.warmup_live_answers,
                    };
                    return decision;
                }
                let supply = self.expected_free(input);
                // The safety grows from its minimum to its maximum as the rate nears the aim,
                // and keeps growing past it up to the cap.
                let pressure = self.smoothed_abandon_rate(input.abandon) / c.aim();
                let safety = c.safety_min + (c.safety_max - c.safety_min) * pressure;
                let in_flight = calls_for(supply, answer_rate, safety);
                let limit = (agents * c.max_lines_per_agent) as f64;
                let target = in_flight.min(limit).floor() as u32;
                decision.dials = target.saturating_sub(input.ringing).max(progressive);
                decision.mode = DialMode::Predictive;
                decision.reason = PacingReason::Predictive;
                decision.expected_free = supply;
                decision.safety = safety;
                decision
            }
        }
    }
}

/// The most calls in progress whose live answers, `safety` standard deviations above their
/// mean, do not exceed `supply` agents: the largest `m` with
/// `m p + z sqrt(m p (1 - p)) <= supply`.
fn calls_for(supply: f64, p: f64, z: f64) -> f64 {
    if supply <= 0.0 {
        return 0.0;
    }
    // In x = sqrt(m): p x^2 + z s x - supply = 0 with s = sqrt(p (1 - p)).
    let b = z * (p * (1.0 - p)).sqrt();
    let x = (-b + (b * b + 4.0 * p * supply).sqrt()) / (2.0 * p);
    x * x
}

#[cfg(test)]
mod tests {
    use super::*;

    fn talk() -> LogNormal {
        LogNormal::from_mean_cv(Duration::from_secs(180), 0.6)
    }

    fn wrap() -> LogNormal {
        LogNormal::from_mean_cv(Duration::from_secs(15), 0.3)
    }

    fn pacer(mode: DialMode) -> Pacer {
        Pacer::new(PacerConfig {
            mode,
            ..PacerConfig::default()
        })
        .unwrap_or_else(|e| panic!("{e}"))
    }

    fn input(free: u32, busy: &[BusyAgent], ringing: u32) -> PacingInput<'_> {
        PacingInput {
            resolved_dials: 1000,
            live_answers: 300,
            talk: talk(),
            wrap: wrap(),
            free_agents: free,
            busy,
            ringing,
            waiting_live: 0,
            abandon: AbandonStats::default(),
        }
    }

    const WRAPPING: BusyAgent = BusyAgent::WrapUp {
        age: Duration::from_secs(14),
    };
    const NEW_CALL: BusyAgent = BusyAgent::Talking {
        age: Duration::from_secs(1),
    };

    #[test]
    fn progressive_dials_free_agents_less_ringing_calls() {
        let busy = [NEW_CALL; 10];
        let d = pacer(DialMode::Progressive).decide(&input(5, &busy, 2));
        assert_eq!((d.dials, d.reason), (3, PacingReason::Progressive));
        let d = pacer(DialMode::Progressive).decide(&input(2, &busy, 5));
        assert_eq!(d.dials, 0);
    }

    #[test]
    fn predictive_below_the_minimum_acts_progressive_and_says_why() {
        let busy = [NEW_CALL; 10];
        let d = pacer(DialMode::Predictive).decide(&input(4, &busy, 1));
        assert_eq!(d.dials, 3);
        assert_eq!(d.mode, DialMode::Progressive);
        assert_eq!(
            d.reason,
            PacingReason::TooFewAgents {
                agents: 14,
                min: 15
            }
        );
    }

    #[test]
    fn predictive_dials_ahead_for_agents_about_to_free_up() {
        let fresh = [NEW_CALL; 20];
        let wrapping = [WRAPPING; 20];
        let p = pacer(DialMode::Predictive);
        let none = p.decide(&input(0, &fresh, 0));
        let some = p.decide(&input(0, &wrapping, 0));
        assert_eq!(none.dials, 0, "{none:?}");
        assert!(some.expected_free > 10.0, "{some:?}");
        assert!(some.dials as f64 > some.expected_free * 2.0, "{some:?}");
        assert_eq!(some.reason, PacingReason::Predictive);
    }

    #[test]
    fn the_margin_tightens_pacing_as_the_rate_nears_the_cap_and_stops_at_it() {
        let busy = [WRAPPING; 20];
        let p = pacer(DialMode::Predictive);
        let dials_at = |abandoned: u64| {
            let mut i = input(0, &busy, 0);
            i.abandon = AbandonStats {
                live_answered: 1000,
                abandoned,
            };
            p.decide(&i)
        };
        let low = dials_at(0);
        let mid = dials_at(12);
        let near = dials_at(28);
        let at_cap = dials_at(30);
        assert!(
            low.dials > mid.dials && mid.dials > near.dials,
            "{low:?} {mid:?} {near:?}"
        );
        assert_eq!(at_cap.dials, 0);
        assert_eq!(at_cap.mode, DialMode::Progressive);
        assert!(matches!(at_cap.reason, PacingReason::AtCap { .. }));
    }

    #[test]
    fn predictive_warms_up_progressively_until_enough_dials_have_an_outcome() {
        let p = pacer(DialMode::Predictive);
        let wrapping = [WRAPPING; 20];
        let at = |resolved: u64, live: u64| {
            let mut i = input(4, &wrapping, 1);
            i.resolved_dials = resolved;
            i.live_answers = live;
            p.decide(&i)
        };
        // A fresh campaign: one call per free agent, not the prior's burst.
        let fresh = at(0, 0);
        assert_eq!((fresh.dials, fresh.mode), (3, DialMode::Progressive));
        assert_eq!(
            fresh.reason,
            PacingReason::WarmingUp {
                resolved: 0,
                needed: 30,
                live: 0,
                live_needed: 5
            }
        );
        // Enough resolved dials but too few people yet: still warming up.
        let few_live = at(40, 4);
        assert_eq!(few_live.dials, 3);
        assert!(matches!(
            few_live.reason,
            PacingReason::WarmingUp { live: 4, .. }
        ));
        assert!(matches!(
            at(29, 20).reason,
            PacingReason::WarmingUp { resolved: 29, .. }
        ));
        // Both reached: it dials ahead for the agents about to be free.
        let warm = at(30, 5);
        assert_eq!(warm.reason, PacingReason::Predictive);
        assert_eq!(warm.mode, DialMode::Predictive);
        assert!(warm.dials > 3 * fresh.dials, "{warm:?}");
    }

    #[test]
    fn a_warm_up_of_zero_dials_ahead_at_once_and_the_cap_outranks_the_warm_up() {
        let wrapping = [WRAPPING; 20];
        let p = Pacer::new(PacerConfig {
            mode: DialMode::Predictive,
            warmup_resolved_dials: 0,
            warmup_live_answers: 0,
            ..PacerConfig::default()
        })
        .unwrap_or_else(|e| panic!("{e}"));
        let mut fresh = input(4, &wrapping, 0);
        fresh.resolved_dials = 0;
        fresh.live_answers = 0;
        let d = p.decide(&fresh);
        assert_eq!(d.reason, PacingReason::Predictive);
        assert!(d.dials > 4, "{d:?}");
        // At the cap while warming up: the cap is what holds it back longest.
        let mut capped = fresh.clone();
        capped.abandon = AbandonStats {
            live_answered: 6,
            abandoned: 2,
        };
        let d = pacer(DialMode::Predictive).decide(&capped);
        assert!(matches!(d.reason, PacingReason::AtCap { .. }), "{d:?}");
        assert_eq!(d.dials, 4);
    }

    /// The start of a campaign whose every dial is answered by a person, four agents: without
    /// the warm-up the prior's answer rate (25%) sends six calls and two of the six people find
    /// no agent; with it, no more calls than free agents until the rate is measured.
    #[test]
    fn the_warm_up_spares_the_first_people_of_a_campaign_that_everyone_answers() {
        let four = PacerConfig {
            mode: DialMode::Predictive,
            min_agents_predictive: 3,
            ..PacerConfig::default()
        };
        let first = |config: PacerConfig| {
            let p = Pacer::new(config).unwrap_or_else(|e| panic!("{e}"));
            let mut i = input(4, &[], 0);
            i.resolved_dials = 0;
            i.live_answers = 0;
            p.decide(&i).dials
        };
        let cold = first(PacerConfig {
            warmup_resolved_dials: 0,
            warmup_live_answers: 0,
            ..four.clone()
        });
        assert!(cold > 4, "{cold}");
        assert_eq!(first(four), 4);
    }

    /// The first half hour of a 20-agent campaign whose answers are 95% people, simulated
    /// (crate::pacing::sim): started cold, the prior's 25% answer rate sends a burst and about
    /// one person in seven is abandoned; warmed up, the abandon rate stays under the cap.
    #[test]
    fn the_warm_up_keeps_a_high_answer_rate_start_under_the_cap() {
        use crate::pacing::sim::{simulate, SimConfig};
        let run = |warmup: (u64, u64), seed: u64| {
            let pacer = PacerConfig {
                mode: DialMode::Predictive,
                warmup_resolved_dials: warmup.0,
                warmup_live_answers: warmup.1,
                ..PacerConfig::default()
            };
            let mut sim = SimConfig::campaign(20, 0.95, pacer, seed);
            sim.machine_fraction = 0.0;
            sim.duration = Duration::from_secs(30 * 60);
            simulate(sim)
        };
        for seed in 1..=3 {
            let cold = run((0, 0), seed);
            let warm = run(
                (DEFAULT_WARMUP_RESOLVED_DIALS, DEFAULT_WARMUP_LIVE_ANSWERS),
                seed,
            );
            println!(
                "answer 95%, 20 agents, 30 min, seed {seed}: cold start {} of {} abandoned ({:.1}%, occupancy {:.1}%), warmed up {} of {} ({:.1}%, occupancy {:.1}%)",
                cold.abandoned,
                cold.live_answered,
                cold.abandon_rate() * 100.0,
                cold.occupancy * 100.0,
                warm.abandoned,
                warm.live_answered,
                warm.abandon_rate() * 100.0,
                warm.occupancy * 100.0
            );
            assert!(cold.abandon_rate() > 0.10, "{cold:?}");
            assert!(warm.abandon_rate() <= 0.03, "{warm:?}");
            assert!(warm.live_answered > 150, "{warm:?}");
            // The warm-up costs no occupancy worth the name.
            assert!(warm.occupancy > cold.occupancy - 0.02, "{warm:?} {cold:?}");
        }
    }

    #[test]
    fn the_answer_rate_starts_at_the_prior() {
        let p = pacer(DialMode::Predictive);
        assert!((p.answer_rate(0, 0) - 0.25).abs() < 1e-12);
        assert!((p.answer_rate(100_000, 60_000) - 0.6).abs() < 1e-3);
    }

    #[test]
    fn preview_and_agentless() {
        let busy = [NEW_CALL; 3];
        assert_eq!(
            pacer(DialMode::Preview).decide(&input(5, &busy, 0)).dials,
            0
        );
        assert_eq!(
            pacer(DialMode::Agentless).decide(&input(0, &busy, 4)).dials,
            6
        );
    }
}
