//! A discrete-event simulation of one campaign on virtual time, driving the real [`Pacer`] and
//! [`AbandonLedger`] the way the server's driver would: seeded, so a seed replays the same run.
//!
//! Agents are free, talking or in wrap-up. A dial rings for a uniform answer delay and is
//! answered with the answer probability (by a machine for the machine fraction of answers,
//! dropped without an agent), else it rings out at the ring timeout. The answer is known for a
//! person or a machine only at the detector's verdict ([`Detection`]): a person's comes after
//! the silence before the greeting, the greeting and the silence that decides, and the connect
//! time counts from the greeting's end, so less than it is left after the verdict. A person
//! takes the longest-idle free agent at the verdict, or waits for one until the connect time
//! after the greeting's end and is abandoned. The pacer is asked after every event and on a
//! one-second tick.

use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap, VecDeque};
use std::time::Duration;

use jiff::Timestamp;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::ledger::AbandonLedger;
use super::model::{LogNormal, LogNormalEstimate};
use super::pacer::{BusyAgent, Pacer, PacerConfig, PacingInput, PacingReason};
use crate::number::E164;

/// What a simulated campaign looks like.
#[derive(Debug, Clone)]
pub(crate) struct SimConfig {
    pub agents: u32,
    pub duration: Duration,
    /// Share of dials answered (by a person or a machine).
    pub answer_rate: f64,
    /// Share of answers that are machines.
    pub machine_fraction: f64,
    /// An answered call rings for a uniform time in this range.
    pub answer_delay: (Duration, Duration),
    /// An unanswered call rings this long.
    pub ring_timeout: Duration,
    /// How long answering-machine detection takes (None: detection is off, every answer is a
    /// person known at once and the connect time counts from the answer).
    pub detection: Option<Detection>,
    /// True talk times.
    pub talk: LogNormal,
    /// True wrap-up times.
    pub wrap: LogNormal,
    pub tick: Duration,
    pub seed: u64,
    pub pacer: PacerConfig,
    /// With a pool of this many numbers, each dial takes a number that may be dialed (ledger's
    /// no-redial bar) and a finished number is ready again after a uniform retry gap.
    pub numbers: Option<(u32, Duration, Duration)>,
}

impl SimConfig {
    /// 20 agents for 8 hours, 3-4 min calls, 15 s wrap-ups, 20% of answers machines.
    pub fn campaign(agents: u32, answer_rate: f64, pacer: PacerConfig, seed: u64) -> Self {
        Self {
            agents,
            duration: Duration::from_secs(8 * 3600),
            answer_rate,
            machine_fraction: 0.2,
            answer_delay: (Duration::from_secs(4), Duration::from_secs(14)),
            ring_timeout: Duration::from_secs(25),
            detection: Some(Detection::measured()),
            talk: LogNormal::from_mean_cv(Duration::from_secs(180), 0.6),
            wrap: LogNormal::from_mean_cv(Duration::from_secs(15), 0.3),
            tick: Duration::from_secs(1),
            seed,
            pacer,
            numbers: None,
        }
    }
}

/// How long the detector takes to decide, from the answer (uniform ranges).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Detection {
    /// A person's silence before the greeting.
    pub before_greeting: (Duration, Duration),
    /// A person's greeting ("Hello?").
    pub greeting: (Duration, Duration),
    /// From the greeting's end to the verdict (the detector's after-greeting silence and its
    /// voice-activity hangover).
    pub decides_after: Duration,
    /// From a machine's answer to its verdict.
    pub machine: (Duration, Duration),
}

impl Detection {
    /// The default detector on people who say a word or three after 0.25-1.2 s (a person's
    /// verdict after 2.4 s on average, the benchmark's 2.46 s), machines after 1.5-3.5 s.
    pub fn measured() -> Self {
        Self {
            before_greeting: (Duration::from_millis(250), Duration::from_millis(1200)),
            greeting: (Duration::from_millis(400), Duration::from_millis(1200)),
            decides_after: Duration::from_millis(860),
            machine: (Duration::from_millis(1500), Duration::from_millis(3500)),
        }
    }
}

/// What a run measured.
#[derive(Debug, Clone, Default)]
pub(crate) struct SimReport {
    pub dials: u64,
    pub live_answered: u64,
    pub connects: u64,
    pub abandoned: u64,
    pub machines: u64,
    /// Decisions where predictive acted progressive for lack of agents.
    pub too_few_agents: u64,
    /// Decisions where predictive stopped at the cap.
    pub at_cap: u64,
    /// Dials skipped because the ledger barred the number.
    pub barred_skips: u64,
    /// Talk and wrap-up time over logged-in time.
    pub occupancy: f64,
    /// The longest time from a person's greeting's end to the agent, ms.
    pub longest_since_greeting_ms: u64,
    /// Mean time from the answer to a person's verdict, ms.
    pub mean_person_verdict_ms: f64,
    /// Every dial: (ms, number).
    pub dial_log: Vec<(u64, u32)>,
    /// Every abandon: (ms, number).
    pub abandon_log: Vec<(u64, u32)>,
}

impl SimReport {
    /// Abandoned share of live-answered calls.
    pub fn abandon_rate(&self) -> f64 {
        self.abandoned as f64 / (self.live_answered.max(1)) as f64
    }

    /// Dials per connected call.
    pub fn pacing_ratio(&self) -> f64 {
        self.dials as f64 / (self.connects.max(1)) as f64
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Ev {
    Tick,
    /// The verdict on an answered call; a person's greeting ended at `greeting_end` (ms).
    Answer {
        call: u64,
        human: bool,
        greeting_end: u64,
    },
    NoAnswer {
        call: u64,
    },
    ConnectDeadline {
        call: u64,
    },
    TalkEnd {
        agent: usize,
    },
    WrapEnd {
        agent: usize,
    },
}

#[derive(Debug, Clone, Copy)]
enum Agent {
    Free,
    Talking { since: u64 },
    WrapUp { since: u64 },
}

struct Sim {
    config: SimConfig,
    rng: ChaCha8Rng,
    pacer: Pacer,
    ledger: AbandonLedger,
    t0: Timestamp,
    now: u64,
    seq: u64,
    events: BinaryHeap<Reverse<(u64, u64, Ev)>>,
    agents: Vec<Agent>,
    /// Free agents, longest idle first.
    idle: VecDeque<usize>,
    ringing: u32,
    /// Live answers waiting for an agent, oldest first: (call, number, greeting's end).
    waiting: VecDeque<(u64, u32, u64)>,
    /// The number of each call.
    numbers_of: std::collections::HashMap<u64, u32>,
    /// Numbers ready to dial: (ready at, number).
    ready: BTreeSet<(u64, u32)>,
    next_call: u64,
    resolved: u64,
    live: u64,
    talk_est: LogNormalEstimate,
    wrap_est: LogNormalEstimate,
    busy_ms: u64,
    /// People's verdicts and their total time from the answer, ms.
    person_verdicts: u64,
    person_verdict_ms: u64,
    report: SimReport,
}

const MS: u64 = 1000;

fn ms(d: Duration) -> u64 {
    d.as_millis() as u64
}

impl Sim {
    fn new(config: SimConfig) -> Self {
        let pacer = Pacer::new(config.pacer.clone()).unwrap_or_else(|e| panic!("{e}"));
        let ledger = AbandonLedger::new(&config.pacer.profile);
        let prior = LogNormal::from_mean_cv(Duration::from_secs(120), 1.0);
        let wrap_prior = LogNormal::from_mean_cv(Duration::from_secs(30), 0.5);
        let ready = match config.numbers {
            Some((n, _, _)) => (0..n).map(|i| (0, i)).collect(),
            None => BTreeSet::new(),
        };
        let agents = config.agents as usize;
        Self {
            rng: ChaCha8Rng::seed_from_u64(config.seed),
            pacer,
            ledger,
            t0: "2026-12-06T08:00:00Z"
                .parse()
                .unwrap_or_else(|e| panic!("{e}")),
            now: 0,
            seq: 0,
            events: BinaryHeap::new(),
            agents: vec![Agent::Free; agents],
            idle: (0..agents).collect(),
            ringing: 0,
            waiting: VecDeque::new(),
            numbers_of: Default::default(),
            ready,
            next_call: 0,
            resolved: 0,
            live: 0,
            talk_est: LogNormalEstimate::new(prior, 20.0),
            wrap_est: LogNormalEstimate::new(wrap_prior, 20.0),
            busy_ms: 0,
            person_verdicts: 0,
            person_verdict_ms: 0,
            report: SimReport::default(),
            config,
        }
    }

    fn at(&self, t: u64) -> Timestamp {
        self.t0 + Duration::from_millis(t)
    }

    fn schedule(&mut self, at: u64, ev: Ev) {
        self.seq += 1;
        self.events.push(Reverse((at, self.seq, ev)));
    }

    fn draw(&mut self, model: LogNormal) -> u64 {
        // Box-Muller: u1 in (0, 1].
        let u1: f64 = 1.0 - self.rng.random::<f64>();
        let u2: f64 = self.rng.random::<f64>();
        let z = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
        ((model.mu + model.sigma * z).exp() * MS as f64).max(1.0) as u64
    }

    fn run(mut self) -> SimReport {
        let end = ms(self.config.duration);
        self.schedule(0, Ev::Tick);
        while let Some(Reverse((at, _, ev))) = self.events.pop() {
            if at > end {
                break;
            }
            self.now = at;
            self.handle(ev);
            self.pace();
        }
        // Busy time of agents still on a call or in wrap-up at the end.
        for agent in &self.agents {
            match agent {
                Agent::Talking { since } | Agent::WrapUp { since } => {
                    self.busy_ms += end.saturating_sub(*since)
                }
                Agent::Free => {}
            }
        }
        self.report.occupancy = self.busy_ms as f64 / (end as f64 * self.config.agents as f64);
        self.report.mean_person_verdict_ms =
            self.person_verdict_ms as f64 / self.person_verdicts.max(1) as f64;
        self.report
    }

    fn handle(&mut self, ev: Ev) {
        match ev {
            Ev::Tick => {
                let next = self.now + ms(self.config.tick);
                self.schedule(next, Ev::Tick);
            }
            Ev::NoAnswer { call } => {
                self.ringing -= 1;
                self.resolved += 1;
                self.number_done(call);
            }
            Ev::Answer {
                call,
                human,
                greeting_end,
            } => {
                self.ringing -= 1;
                self.resolved += 1;
                if !human {
                    self.report.machines += 1;
                    self.number_done(call);
                    return;
                }
                self.live += 1;
                self.report.live_answered += 1;
                let number = self.numbers_of.get(&call).copied().unwrap_or(0);
                match self.idle.pop_front() {
                    Some(agent) => self.connect(agent, call, greeting_end),
                    None => {
                        self.waiting.push_back((call, number, greeting_end));
                        let within = ms(self.config.pacer.profile.connect_within());
                        let deadline = (greeting_end + within).max(self.now);
                        self.schedule(deadline, Ev::ConnectDeadline { call });
                    }
                }
            }
            Ev::ConnectDeadline { call } => {
                if let Some(i) = self.waiting.iter().position(|(c, _, _)| *c == call) {
                    let (_, number, _) = self.waiting.remove(i).unwrap_or((call, 0, 0));
                    self.report.abandoned += 1;
                    self.ledger
                        .record_abandoned(self.at(self.now), &phone(number));
                    self.report.abandon_log.push((self.now, number));
                    self.number_done(call);
                }
            }
            Ev::TalkEnd { agent } => {
                if let Agent::Talking { since } = self.agents[agent] {
                    self.busy_ms += self.now - since;
                    self.talk_est
                        .observe(Duration::from_millis(self.now - since));
                }
                self.agents[agent] = Agent::WrapUp { since: self.now };
                let wrap = self.draw(self.config.wrap);
                self.schedule(self.now + wrap, Ev::WrapEnd { agent });
            }
            Ev::WrapEnd { agent } => {
                if let Agent::WrapUp { since } = self.agents[agent] {
                    self.busy_ms += self.now - since;
                    self.wrap_est
                        .observe(Duration::from_millis(self.now - since));
                }
                self.agents[agent] = Agent::Free;
                match self.waiting.pop_front() {
                    Some((call, _, greeting_end)) => self.connect(agent, call, greeting_end),
                    None => self.idle.push_back(agent),
                }
            }
        }
    }

    fn connect(&mut self, agent: usize, call: u64, greeting_end: u64) {
        self.report.connects += 1;
        let since_greeting = self.now.saturating_sub(greeting_end);
        self.report.longest_since_greeting_ms =
            self.report.longest_since_greeting_ms.max(since_greeting);
        self.ledger.record_connected(self.at(self.now));
        self.agents[agent] = Agent::Talking { since: self.now };
        let talk = self.draw(self.config.talk);
        self.schedule(self.now + talk, Ev::TalkEnd { agent });
        self.number_done(call);
    }

    /// The call's number is ready again after a retry gap.
    fn number_done(&mut self, call: u64) {
        let Some(number) = self.numbers_of.remove(&call) else {
            return;
        };
        if let Some((_, lo, hi)) = self.config.numbers {
            let gap = self.rng.random_range(ms(lo)..=ms(hi));
            self.ready.insert((self.now + gap, number));
        }
    }

    fn pace(&mut self) {
        let now = self.at(self.now);
        let busy: Vec<BusyAgent> = self
            .agents
            .iter()
            .filter_map(|a| match *a {
                Agent::Free => None,
                Agent::Talking { since } => Some(BusyAgent::Talking {
                    age: Duration::from_millis(self.now - since),
                }),
                Agent::WrapUp { since } => Some(BusyAgent::WrapUp {
                    age: Duration::from_millis(self.now - since),
                }),
            })
            .collect();
        let input = PacingInput {
            resolved_dials: self.resolved,
            live_answers: self.live,
            talk: self.talk_est.model(),
            wrap: self.wrap_est.model(),
            free_agents: self.idle.len() as u32,
            busy: &busy,
            ringing: self.ringing,
            waiting_live: self.waiting.len() as u32,
            abandon: self.ledger.stats(now),
        };
        let decision = self.pacer.decide(&input);
        match decision.reason {
            PacingReason::TooFewAgents { .. } => self.report.too_few_agents += 1,
            PacingReason::AtCap { .. } => self.report.at_cap += 1,
            _ => {}
        }
        for _ in 0..decision.dials {
            if !self.dial() {
                break;
            }
        }
    }

    /// Starts one call; false when no number may be dialed now.
    fn dial(&mut self) -> bool {
        let call = self.next_call;
        if self.config.numbers.is_some() {
            let Some(number) = self.next_number() else {
                return false;
            };
            self.numbers_of.insert(call, number);
            self.report.dial_log.push((self.now, number));
        }
        self.next_call += 1;
        self.report.dials += 1;
        self.ringing += 1;
        if self.rng.random::<f64>() < self.config.answer_rate {
            let (lo, hi) = self.config.answer_delay;
            let delay = self.rng.random_range(ms(lo)..=ms(hi));
            let human = self.rng.random::<f64>() >= self.config.machine_fraction;
            let answered = self.now + delay;
            let (greeting_end, verdict) = self.detect(answered, human);
            self.schedule(
                verdict,
                Ev::Answer {
                    call,
                    human,
                    greeting_end,
                },
            );
        } else {
            let at = self.now + ms(self.config.ring_timeout);
            self.schedule(at, Ev::NoAnswer { call });
        }
        true
    }

    /// When a call answered at `answered` has its verdict, and when a person's greeting ended
    /// (the answer itself without detection: the connect time then counts from it).
    fn detect(&mut self, answered: u64, human: bool) -> (u64, u64) {
        let Some(d) = self.config.detection else {
            return (answered, answered);
        };
        let mut uniform = |(lo, hi): (Duration, Duration)| self.rng.random_range(ms(lo)..=ms(hi));
        if !human {
            return (answered, answered + uniform(d.machine));
        }
        let greeting_end = answered + uniform(d.before_greeting) + uniform(d.greeting);
        let verdict = greeting_end + ms(d.decides_after);
        self.person_verdicts += 1;
        self.person_verdict_ms += verdict - answered;
        (greeting_end, verdict)
    }

    /// The first ready number the ledger lets us dial; barred ones wait for their bar to end.
    fn next_number(&mut self) -> Option<u32> {
        let now = self.at(self.now);
        while let Some(&(ready_at, number)) = self.ready.first() {
            if ready_at > self.now {
                return None;
            }
            self.ready.pop_first();
            match self.ledger.may_dial(now, &phone(number)) {
                Ok(()) => return Some(number),
                Err(until) => {
                    self.report.barred_skips += 1;
                    let wait = until.duration_since(self.t0).as_millis().max(0) as u64;
                    self.ready.insert((wait, number));
                }
            }
        }
        None
    }
}

fn phone(number: u32) -> E164 {
    E164::parse(&format!("+4420{number:08}")).unwrap_or_else(|e| panic!("{e}"))
}

/// Runs one simulation.
pub(crate) fn simulate(config: SimConfig) -> SimReport {
    Sim::new(config).run()
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use proptest::prelude::*;

    use super::*;
    use crate::pacing::{DialMode, JurisdictionProfile};

    fn config(mode: DialMode) -> PacerConfig {
        PacerConfig {
            mode,
            ..PacerConfig::default()
        }
    }

    fn line(name: &str, rate: f64, seed: u64, r: &SimReport) -> String {
        format!(
            "{name} answer {:.0}% seed {seed}: abandon {:.2}% occupancy {:.1}% dials {} live {} connects {} abandoned {} machines {} pacing ratio {:.2} dials/connect; person verdict {:.0} ms after the answer, connected at most {} ms after the greeting",
            rate * 100.0,
            r.abandon_rate() * 100.0,
            r.occupancy * 100.0,
            r.dials,
            r.live_answered,
            r.connects,
            r.abandoned,
            r.machines,
            r.pacing_ratio(),
            r.mean_person_verdict_ms,
            r.longest_since_greeting_ms,
        )
    }

    #[test]
    fn predictive_with_20_agents_keeps_abandons_under_3_percent_and_occupancy_over_85() {
        for rate in [0.3, 0.6] {
            for seed in 1..=5 {
                let r = simulate(SimConfig::campaign(
                    20,
                    rate,
                    config(DialMode::Predictive),
                    seed,
                ));
                println!("{}", line("predictive", rate, seed, &r));
                assert!(r.live_answered > 2_000, "{r:?}");
                assert!(
                    r.abandon_rate() <= 0.03,
                    "{}",
                    line("predictive", rate, seed, &r)
                );
                assert!(
                    r.occupancy >= 0.85,
                    "{}",
                    line("predictive", rate, seed, &r)
                );
                // It did dial ahead: some answers found no agent, and more than one call per
                // connect was needed.
                assert!(r.abandoned > 0);
                // One clock: every connection within the connect time of the greeting's end,
                // people known about 2.4 s after their answer.
                assert!(r.longest_since_greeting_ms <= 2_000, "{r:?}");
                assert!(
                    (2_000.0..2_800.0).contains(&r.mean_person_verdict_ms),
                    "{r:?}"
                );
                assert!(r.pacing_ratio() > 1.0 / rate);
            }
        }
    }

    #[test]
    fn progressive_never_abandons_and_keeps_agents_idler_than_predictive() {
        for rate in [0.3, 0.6] {
            for seed in 1..=3 {
                let progressive = simulate(SimConfig::campaign(
                    20,
                    rate,
                    config(DialMode::Progressive),
                    seed,
                ));
                let predictive = simulate(SimConfig::campaign(
                    20,
                    rate,
                    config(DialMode::Predictive),
                    seed,
                ));
                let ratio = predictive.occupancy / progressive.occupancy;
                println!("{}", line("progressive", rate, seed, &progressive));
                println!(
                    "answer {:.0}% seed {seed}: occupancy predictive / progressive = {ratio:.3}",
                    rate * 100.0
                );
                assert_eq!(progressive.abandoned, 0);
                assert!(ratio > 1.02, "{ratio}");
            }
        }
    }

    #[test]
    fn below_15_agents_predictive_dials_exactly_as_progressive() {
        let predictive = simulate(SimConfig::campaign(
            14,
            0.3,
            config(DialMode::Predictive),
            7,
        ));
        let progressive = simulate(SimConfig::campaign(
            14,
            0.3,
            config(DialMode::Progressive),
            7,
        ));
        assert!(predictive.too_few_agents > 0);
        assert_eq!(predictive.abandoned, 0);
        assert_eq!(
            (predictive.dials, predictive.connects, predictive.occupancy),
            (
                progressive.dials,
                progressive.connects,
                progressive.occupancy
            )
        );
        // At 15 agents it dials ahead.
        let fifteen = simulate(SimConfig::campaign(
            15,
            0.3,
            config(DialMode::Predictive),
            7,
        ));
        println!("{}", line("predictive, 14 agents", 0.3, 7, &predictive));
        println!("{}", line("progressive, 14 agents", 0.3, 7, &progressive));
        println!("{}", line("predictive, 15 agents", 0.3, 7, &fifteen));
        assert_eq!(fifteen.too_few_agents, 0);
        assert!(fifteen.occupancy > progressive.occupancy, "{fifteen:?}");
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 4, ..ProptestConfig::default() })]

        /// UK: a number whose call was abandoned is not dialed again within 72 h, whatever the
        /// list's retry gaps (numbers come back within hours, so the bar is tried often).
        #[test]
        fn uk_never_redials_an_abandoned_number_within_72_hours(
            seed in any::<u64>(),
            numbers in 3_000u32..8_000,
            gap_lo_min in 30u64..120,
            gap_hi_h in 4u64..12,
        ) {
            let pacer = PacerConfig {
                mode: DialMode::Predictive,
                profile: JurisdictionProfile::Uk,
                ..PacerConfig::default()
            };
            let mut sim = SimConfig::campaign(15, 0.3, pacer, seed);
            sim.duration = Duration::from_secs(80 * 3600);
            sim.tick = Duration::from_secs(5);
            sim.numbers = Some((
                numbers,
                Duration::from_secs(gap_lo_min * 60),
                Duration::from_secs(gap_hi_h * 3600),
            ));
            let r = simulate(sim);
            println!(
                "UK, 15 agents, 80 h, {numbers} numbers, retry gap {gap_lo_min} min to {gap_hi_h} h, seed {seed}: abandon {:.2}% occupancy {:.1}% abandoned {} dials skipped by the 72 h bar {}",
                r.abandon_rate() * 100.0,
                r.occupancy * 100.0,
                r.abandoned,
                r.barred_skips
            );
            prop_assert!(!r.abandon_log.is_empty());
            prop_assert!(r.barred_skips > 0);
            let mut dials: HashMap<u32, Vec<u64>> = HashMap::new();
            for (at, number) in &r.dial_log {
                dials.entry(*number).or_default().push(*at);
            }
            let bar = 72 * 3600 * MS;
            for (abandoned_at, number) in &r.abandon_log {
                let times = &dials[number];
                let first_after = times.partition_point(|t| t <= abandoned_at);
                if let Some(next) = times.get(first_after) {
                    prop_assert!(
                        *next >= abandoned_at + bar,
                        "number {} abandoned at {} ms dialed again at {} ms", number, abandoned_at, next
                    );
                }
            }
        }
    }
}
