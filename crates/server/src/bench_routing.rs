//! `hotline bench routing`: how long one routing decision takes on a large, seeded world, how
//! many routing events per second the core handles in a long mixed run, and how much memory a
//! waiting entry costs.
//!
//! The world: `--agents` agents with 1-10 of `--skills` skills each, `--queues` queues that each
//! require one or two skills, every agent a member of two to four queues (with penalties 0-2)
//! whose skills it has. Nine queues in ten are the main group: `--waiting` entries wait there
//! with every member busy. The tenth are the spare group, whose members stay ready with empty
//! lines, to time an entry that arrives while an agent is free. The two groups share no agent
//! and overflow only within themselves. Every queue has a 20 s / 80 % service-level target, a
//! 10 s wrap-up, and relaxation steps: after 30 s the minimum proficiencies drop by 2, after
//! 60 s the second skill is dropped and a sibling queue requiring the same first skill may take
//! the entry. Entries arrive 0.5 ms of virtual time apart while the world fills.
//!
//! Each decision is timed with [`Instant`] around `Router::handle` plus draining its events.

use std::collections::HashMap;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use hotline_routing::{
    AgentId, AgentState, CallId, Command, EnqueueOptions, NotReadyReason, RequestedState, Router,
    RoutingEvent, SkillRequirement, Strategy,
};
use serde::Serialize;

mod world;

use world::{agent_id, queue_id, skill, Rng, World};

/// `hotline bench ...` subcommands.
#[derive(clap::Subcommand, Debug, Clone)]
pub enum BenchCommand {
    /// Time routing decisions of the distribution core on a large seeded world.
    Routing(BenchRoutingArgs),
}

/// Options of `hotline bench routing`.
#[derive(clap::Args, Debug, Clone)]
pub struct BenchRoutingArgs {
    /// Agents in the world.
    #[arg(long, default_value_t = 10_000)]
    pub agents: usize,
    /// Queues in the world.
    #[arg(long, default_value_t = 500)]
    pub queues: usize,
    /// Distinct skills.
    #[arg(long, default_value_t = 200)]
    pub skills: usize,
    /// Entries waiting while every main agent is busy.
    #[arg(long, default_value_t = 5_000)]
    pub waiting: usize,
    /// Timed decisions of each kind, per strategy.
    #[arg(long, default_value_t = 2_000)]
    pub samples: usize,
    /// Inputs (commands and timer firings) of the mixed run, per strategy.
    #[arg(long, default_value_t = 200_000)]
    pub mixed_inputs: usize,
    /// Seed of the world and of the runs.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Runs `hotline bench ...`.
pub fn run(command: BenchCommand) -> ExitCode {
    let BenchCommand::Routing(args) = command;
    match bench_and_print(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hotline bench routing: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// The strategies timed: all but ring-all, which offers to every tied agent at once.
const STRATEGIES: [(Strategy, &str); 8] = [
    (Strategy::LongestIdle, "longest_idle"),
    (Strategy::FewestCalls, "fewest_calls"),
    (Strategy::LeastTalkTime, "least_talk_time"),
    (Strategy::RoundRobin, "round_robin"),
    (Strategy::Linear, "linear"),
    (Strategy::Random, "random"),
    (Strategy::WeightedRandom, "weighted_random"),
    (Strategy::BestSkilled, "best_skilled"),
];

/// What `hotline bench routing --json` prints.
#[derive(Debug, Serialize)]
struct Report {
    parameters: Parameters,
    /// Entries actually waiting when the timing started (the first strategy's world).
    waiting: usize,
    /// Resident memory added per waiting entry, measured over `memory_entries` extra entries.
    bytes_per_waiting_entry: f64,
    /// How many entries the memory figure was measured over.
    memory_entries: usize,
    strategies: Vec<StrategyReport>,
}

#[derive(Debug, Serialize)]
struct Parameters {
    agents: usize,
    queues: usize,
    skills: usize,
    waiting: usize,
    samples: usize,
    mixed_inputs: usize,
    seed: u64,
}

/// One strategy's figures.
#[derive(Debug, Serialize)]
struct StrategyReport {
    strategy: &'static str,
    /// An entry arrives while every agent that could take it is busy.
    arrive_all_busy: Latency,
    /// An entry arrives and a ready agent takes it.
    arrive_agent_ready: Latency,
    /// An agent's wrap-up ends and it takes the first waiting entry for it.
    agent_free_wrap_up_end: Latency,
    /// An agent not ready asks to be ready and takes the first waiting entry for it.
    agent_free_set_ready: Latency,
    /// The long mixed run.
    mixed: Throughput,
}

/// Latency of one kind of decision, in microseconds.
#[derive(Debug, Serialize)]
struct Latency {
    samples: usize,
    /// How many of the samples made an offer.
    offers: usize,
    p50_us: f64,
    p99_us: f64,
    max_us: f64,
}

/// The mixed run: arrivals, answers, hang-ups, wrap-up ends, abandons and timers on virtual time.
#[derive(Debug, Serialize)]
struct Throughput {
    /// Commands and timer firings handled.
    inputs: u64,
    /// Routing events emitted.
    events: u64,
    /// Time inside the router (handle, handle_timeout, draining events), seconds.
    router_s: f64,
    inputs_per_s: f64,
    events_per_s: f64,
}

fn bench_and_print(args: &BenchRoutingArgs) -> Result<()> {
    if args.agents < 20 || args.queues < 10 || args.skills < 2 {
        bail!("need at least 20 agents, 10 queues and 2 skills");
    }
    let mut strategies = Vec::new();
    let mut waiting = 0;
    let mut memory = (0.0, 0);
    for (i, &(strategy, name)) in STRATEGIES.iter().enumerate() {
        let world = World::build(args, strategy);
        let mut bench = Bench::new(args, &world)?;
        bench.fill(args.waiting)?;
        if i == 0 {
            waiting = bench.router_waiting();
            memory = bench.bytes_per_entry(args.waiting.max(20_000))?;
        }
        let arrive_all_busy_and_free = bench.time_agents_freeing(args.samples)?;
        let arrive_agent_ready = bench.time_spare_arrivals(args.samples)?;
        let mixed = bench.mixed_run(args.mixed_inputs)?;
        let (arrive_all_busy, agent_free_wrap_up_end, agent_free_set_ready) =
            arrive_all_busy_and_free;
        strategies.push(StrategyReport {
            strategy: name,
            arrive_all_busy,
            arrive_agent_ready,
            agent_free_wrap_up_end,
            agent_free_set_ready,
            mixed,
        });
    }
    let report = Report {
        parameters: Parameters {
            agents: args.agents,
            queues: args.queues,
            skills: args.skills,
            waiting: args.waiting,
            samples: args.samples,
            mixed_inputs: args.mixed_inputs,
            seed: args.seed,
        },
        waiting,
        bytes_per_waiting_entry: memory.0,
        memory_entries: memory.1,
        strategies,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_table(&report);
    }
    Ok(())
}

fn print_table(report: &Report) {
    let p = &report.parameters;
    println!(
        "routing core: {} agents, {} queues, {} skills, {} waiting, {} samples per kind",
        p.agents, p.queues, p.skills, report.waiting, p.samples
    );
    println!(
        "memory: {:.0} bytes per waiting entry (RSS over {} entries)",
        report.bytes_per_waiting_entry, report.memory_entries
    );
    println!(
        "{:<16} {:>22} {:>22} {:>22} {:>22} {:>12}",
        "p50/p99/max us",
        "arrive, all busy",
        "arrive, agent ready",
        "wrap-up ends",
        "set ready",
        "events/s"
    );
    let cell = |l: &Latency| format!("{:.1}/{:.1}/{:.0}", l.p50_us, l.p99_us, l.max_us);
    for s in &report.strategies {
        println!(
            "{:<16} {:>22} {:>22} {:>22} {:>22} {:>12.0}",
            s.strategy,
            cell(&s.arrive_all_busy),
            cell(&s.arrive_agent_ready),
            cell(&s.agent_free_wrap_up_end),
            cell(&s.agent_free_set_ready),
            s.mixed.events_per_s
        );
    }
}

/// A set with O(1) insert, remove and random pick (order is not kept).
struct PickSet<T: Copy + Eq + std::hash::Hash> {
    items: Vec<T>,
    at: HashMap<T, usize>,
}

impl<T: Copy + Eq + std::hash::Hash> Default for PickSet<T> {
    fn default() -> Self {
        Self {
            items: Vec::new(),
            at: HashMap::new(),
        }
    }
}

impl<T: Copy + Eq + std::hash::Hash> PickSet<T> {
    fn insert(&mut self, item: T) {
        if !self.at.contains_key(&item) {
            self.at.insert(item, self.items.len());
            self.items.push(item);
        }
    }

    fn remove(&mut self, item: T) {
        if let Some(i) = self.at.remove(&item) {
            self.items.swap_remove(i);
            if let Some(&moved) = self.items.get(i) {
                self.at.insert(moved, i);
            }
        }
    }

    fn pick(&self, rng: &mut Rng) -> Option<T> {
        (!self.items.is_empty()).then(|| self.items[rng.below(self.items.len())])
    }

    fn len(&self) -> usize {
        self.items.len()
    }

    fn reserve(&mut self, more: usize) {
        self.items.reserve(more);
        self.at.reserve(more);
    }
}

/// Agents by state, as the events tell them.
#[derive(Default)]
struct AgentsByState {
    ready: PickSet<usize>,
    on_call: PickSet<usize>,
    wrap_up: PickSet<usize>,
    not_ready: PickSet<usize>,
}

impl AgentsByState {
    fn set(&mut self, a: usize, from: &AgentState, to: &AgentState) {
        if let Some(set) = self.of(from) {
            set.remove(a);
        }
        if let Some(set) = self.of(to) {
            set.insert(a);
        }
    }

    fn of(&mut self, state: &AgentState) -> Option<&mut PickSet<usize>> {
        match state {
            AgentState::Ready => Some(&mut self.ready),
            AgentState::OnCall => Some(&mut self.on_call),
            AgentState::WrapUp => Some(&mut self.wrap_up),
            AgentState::NotReady(_) => Some(&mut self.not_ready),
            _ => None,
        }
    }
}

/// A router over a world, the virtual clock, and what the bench follows of it.
struct Bench<'w> {
    world: &'w World,
    router: Router,
    rng: Rng,
    now: Instant,
    /// Per agent: the call it is connected to.
    connected: Vec<Option<CallId>>,
    agents: AgentsByState,
    /// Entries waiting without an offer.
    waiting: PickSet<CallId>,
    /// Offers not answered yet.
    offers: Vec<(CallId, AgentId)>,
    /// The events of the last input, reused.
    drained: Vec<RoutingEvent>,
    inputs: u64,
    events: u64,
    /// Time spent inside the router.
    busy: Duration,
}

fn agent_index(id: &AgentId) -> usize {
    id.as_str()
        .strip_prefix("agent")
        .and_then(|n| n.parse().ok())
        .unwrap_or(usize::MAX)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

fn latency(mut samples: Vec<Duration>, offers: usize) -> Latency {
    let mut us: Vec<f64> = samples.drain(..).map(|d| d.as_secs_f64() * 1e6).collect();
    us.sort_by(f64::total_cmp);
    Latency {
        samples: us.len(),
        offers,
        p50_us: percentile(&us, 0.50),
        p99_us: percentile(&us, 0.99),
        max_us: us.last().copied().unwrap_or(0.0),
    }
}

/// The resident set size of this process, from `/proc/self/status`.
fn resident_bytes() -> Result<u64> {
    let status =
        std::fs::read_to_string("/proc/self/status").context("reading /proc/self/status")?;
    let line = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .context("no VmRSS in /proc/self/status")?;
    let kib: u64 = line
        .trim_start_matches("VmRSS:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .context("parsing VmRSS")?;
    Ok(kib * 1024)
}

impl<'w> Bench<'w> {
    fn new(args: &BenchRoutingArgs, world: &'w World) -> Result<Self> {
        let now = Instant::now();
        let router = Router::new(world.config.clone(), now).context("building the router")?;
        let agents = world.config.agents.len();
        let mut bench = Self {
            world,
            router,
            rng: Rng(args.seed ^ 0xB0B),
            now,
            connected: vec![None; agents],
            agents: AgentsByState::default(),
            waiting: PickSet::default(),
            offers: Vec::new(),
            drained: Vec::new(),
            inputs: 0,
            events: 0,
            busy: Duration::ZERO,
        };
        for a in 0..agents {
            bench.apply(Command::ContactsChanged {
                agent: agent_id(a),
                count: 1,
            })?;
        }
        Ok(bench)
    }

    /// Hands `command` to the router and drains its events; returns the time both took.
    fn timed(&mut self, command: Command) -> Result<Duration> {
        let start = Instant::now();
        let handled = self.router.handle(self.now, command);
        self.drained
            .extend(std::iter::from_fn(|| self.router.poll_event()));
        let took = start.elapsed();
        handled.context("the router refused a bench command")?;
        self.busy += took;
        self.inputs += 1;
        self.follow();
        Ok(took)
    }

    /// Applies `command` and answers the offers it made.
    fn apply(&mut self, command: Command) -> Result<()> {
        self.timed(command)?;
        self.answer()
    }

    /// Answers every offer at once.
    fn answer(&mut self) -> Result<()> {
        while let Some((call, agent)) = self.offers.pop() {
            self.timed(Command::OfferAnswered { call, agent })?;
        }
        Ok(())
    }

    /// Fires the router's timers due at `now` and answers the offers they made.
    fn fire_timers(&mut self) -> Result<()> {
        let start = Instant::now();
        self.router.handle_timeout(self.now);
        self.drained
            .extend(std::iter::from_fn(|| self.router.poll_event()));
        let took = start.elapsed();
        if !self.drained.is_empty() {
            self.busy += took;
            self.inputs += 1;
        }
        self.follow();
        self.answer()
    }

    /// Folds the drained events into what the bench follows.
    fn follow(&mut self) {
        let drained = std::mem::take(&mut self.drained);
        self.events += drained.len() as u64;
        for event in &drained {
            match event {
                RoutingEvent::AgentStateChanged {
                    agent, from, to, ..
                } => self.agents.set(agent_index(agent), from, to),
                RoutingEvent::CallQueued { call, .. } | RoutingEvent::CallRequeued { call, .. } => {
                    self.waiting.insert(*call)
                }
                RoutingEvent::CallOffered { call, agent, .. } => {
                    self.waiting.remove(*call);
                    self.offers.push((*call, agent.clone()));
                }
                RoutingEvent::CallConnected { call, agent, .. } => {
                    if let Some(slot) = self.connected.get_mut(agent_index(agent)) {
                        *slot = Some(*call);
                    }
                }
                RoutingEvent::CallCompleted { agent, .. } => {
                    if let Some(slot) = self.connected.get_mut(agent_index(agent)) {
                        *slot = None;
                    }
                }
                RoutingEvent::CallAbandoned { call, .. }
                | RoutingEvent::CallExited { call, .. } => self.waiting.remove(*call),
                _ => {}
            }
        }
        self.drained = drained;
        self.drained.clear();
    }

    fn router_waiting(&self) -> usize {
        self.waiting.len()
    }

    /// A new entry for queue `q`: its required skills at a random minimum proficiency 1-5 (1 for
    /// `easy`), sometimes a preferred skill, sometimes a higher priority.
    fn entry(&mut self, q: usize, easy: bool) -> (CallId, Command) {
        // Random like the UUIDs the server passes.
        let call = CallId(u128::from(self.rng.next()) << 64 | u128::from(self.rng.next()));
        let required = self.world.required[q]
            .iter()
            .map(|&s| SkillRequirement {
                skill: skill(s),
                min_proficiency: if easy {
                    1
                } else {
                    self.rng.between(1, 5) as u8
                },
            })
            .collect();
        let preferred = if self.rng.below(2) == 0 {
            let s = self.rng.below(self.world.skills);
            vec![SkillRequirement {
                skill: skill(s),
                min_proficiency: 1,
            }]
        } else {
            Vec::new()
        };
        let command = Command::EnqueueWith {
            call,
            queue: queue_id(q),
            options: EnqueueOptions {
                required,
                preferred,
                priority: i32::from(self.rng.below(10) == 0),
                ..EnqueueOptions::default()
            },
        };
        (call, command)
    }

    fn main_arrival(&mut self) -> (CallId, Command) {
        let q = self.rng.below(self.world.spare_from);
        self.entry(q, false)
    }

    /// Makes every main agent busy and `target` entries wait: main arrivals until they do; main
    /// agents still ready then (qualified for none of the entries) go not ready.
    fn fill(&mut self, target: usize) -> Result<()> {
        let mut guard = 0usize;
        while self.waiting.len() < target {
            self.now += Duration::from_micros(500);
            self.fire_timers()?;
            let (_, arrival) = self.main_arrival();
            self.apply(arrival)?;
            guard += 1;
            if guard > 20 * (target + self.connected.len()) {
                bail!("the world never filled: {} waiting", self.waiting.len());
            }
        }
        self.main_ready_to_not_ready()
    }

    fn main_ready_to_not_ready(&mut self) -> Result<()> {
        let main = self.world.spare_agents_from;
        let ready: Vec<usize> = self.agents.ready.items.clone();
        for a in ready.into_iter().filter(|&a| a < main) {
            self.apply(Command::SetState {
                agent: agent_id(a),
                state: RequestedState::NotReady(NotReadyReason::Manual("bench".into())),
            })?;
        }
        Ok(())
    }

    /// Resident bytes added per entry over `count` extra waiting entries (then abandoned).
    ///
    /// The bench's own records of those entries (their ids, its set of waiting calls) get their
    /// memory written before the first reading, so the growth is the router's alone.
    fn bytes_per_entry(&mut self, count: usize) -> Result<(f64, usize)> {
        self.waiting.reserve(count);
        let mut calls = vec![CallId(u128::MAX); count];
        // Touches the set's reserved memory: ids no call has, inserted and removed again.
        for i in 0..count {
            self.waiting.insert(CallId(u128::MAX - i as u128));
        }
        for i in 0..count {
            self.waiting.remove(CallId(u128::MAX - i as u128));
        }
        let before = resident_bytes()?;
        for slot in calls.iter_mut() {
            let (call, arrival) = self.main_arrival();
            *slot = call;
            self.apply(arrival)?;
        }
        let after = resident_bytes()?;
        for call in calls {
            if self.waiting.at.contains_key(&call) {
                self.apply(Command::Abandon { call })?;
            }
        }
        Ok((after.saturating_sub(before) as f64 / count as f64, count))
    }

    /// Times an agent freeing up (wrap-up ends, or back from not ready) and taking an entry,
    /// each followed by a timed arrival while every agent is busy, which keeps the line length.
    fn time_agents_freeing(&mut self, samples: usize) -> Result<(Latency, Latency, Latency)> {
        let (mut arrive, mut wrap_up_end, mut set_ready) = (Vec::new(), Vec::new(), Vec::new());
        let (mut arrive_offers, mut wrap_up_offers, mut ready_offers) = (0, 0, 0);
        for i in 0..2 * samples {
            let Some(a) = self.agents.on_call.pick(&mut self.rng) else {
                bail!("no agent on a call");
            };
            let Some(call) = self.connected[a] else {
                bail!("agent {a} on a call without one");
            };
            self.apply(Command::CallEnded { call })?;
            let agent = agent_id(a);
            let took = if i % 2 == 0 {
                self.timed(Command::EndWrapUp {
                    agent: agent.clone(),
                })?
            } else {
                self.apply(Command::SetState {
                    agent: agent.clone(),
                    state: RequestedState::NotReady(NotReadyReason::Manual("bench".into())),
                })?;
                self.timed(Command::SetState {
                    agent: agent.clone(),
                    state: RequestedState::Ready,
                })?
            };
            let offered = usize::from(!self.offers.is_empty());
            if i % 2 == 0 {
                wrap_up_end.push(took);
                wrap_up_offers += offered;
            } else {
                set_ready.push(took);
                ready_offers += offered;
            }
            self.answer()?;
            self.main_ready_to_not_ready()?;
            let (_, arrival) = self.main_arrival();
            let took = self.timed(arrival)?;
            // One arrival in two is timed, so each kind has `samples`.
            if i % 2 == 0 {
                arrive.push(took);
                arrive_offers += usize::from(!self.offers.is_empty());
            }
            self.answer()?;
        }
        Ok((
            latency(arrive, arrive_offers),
            latency(wrap_up_end, wrap_up_offers),
            latency(set_ready, ready_offers),
        ))
    }

    /// Times an entry arriving in a spare queue, whose ready members take it at once; the agent
    /// is made ready again (untimed) after each.
    fn time_spare_arrivals(&mut self, samples: usize) -> Result<Latency> {
        let mut took = Vec::with_capacity(samples);
        let mut offers = 0;
        let spare = self.world.spare_from..self.world.required.len();
        for _ in 0..samples {
            let q = spare.start + self.rng.below(spare.len());
            let (call, arrival) = self.entry(q, true);
            took.push(self.timed(arrival)?);
            let offered: Vec<(CallId, AgentId)> = self.offers.clone();
            offers += usize::from(!offered.is_empty());
            self.answer()?;
            for (call, agent) in offered {
                self.apply(Command::CallEnded { call })?;
                self.apply(Command::EndWrapUp { agent })?;
            }
            if self.waiting.at.contains_key(&call) {
                // Nobody was ready in that queue: the entry leaves so the spare lines stay empty.
                self.apply(Command::Abandon { call })?;
            }
        }
        Ok(latency(took, offers))
    }

    /// A long run of arrivals, hang-ups, wrap-up ends, abandons, state changes and timers on
    /// virtual time, counting the router's own time.
    fn mixed_run(&mut self, inputs: usize) -> Result<Throughput> {
        let target = self.waiting.len().max(1);
        let (inputs0, events0, busy0) = (self.inputs, self.events, self.busy);
        while self.inputs - inputs0 < inputs as u64 {
            self.now += Duration::from_millis(50);
            self.fire_timers()?;
            let roll = self.rng.below(100);
            if roll < 40 && self.waiting.len() < target + target / 10 {
                let (_, arrival) = self.main_arrival();
                self.apply(arrival)?;
            } else if roll < 80 {
                if let Some(a) = self.agents.on_call.pick(&mut self.rng) {
                    if let Some(call) = self.connected[a] {
                        self.apply(Command::CallEnded { call })?;
                    }
                }
            } else if roll < 88 {
                if let Some(a) = self.agents.wrap_up.pick(&mut self.rng) {
                    self.apply(Command::EndWrapUp { agent: agent_id(a) })?;
                }
            } else if roll < 94 {
                if let Some(call) = self.waiting.pick(&mut self.rng) {
                    self.apply(Command::Abandon { call })?;
                }
            } else if let Some(a) = self.agents.not_ready.pick(&mut self.rng) {
                self.apply(Command::SetState {
                    agent: agent_id(a),
                    state: RequestedState::Ready,
                })?;
            }
        }
        let inputs = self.inputs - inputs0;
        let events = self.events - events0;
        let router_s = (self.busy - busy0).as_secs_f64();
        Ok(Throughput {
            inputs,
            events,
            router_s,
            inputs_per_s: inputs as f64 / router_s.max(1e-9),
            events_per_s: events as f64 / router_s.max(1e-9),
        })
    }
}
