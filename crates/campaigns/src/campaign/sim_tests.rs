//! The engine on a simulated call model (the pacing simulation's: answer delays, machines,
//! log-normal talk and wrap-up times), driven the way the server's driver would: every dial
//! the engine orders is answered, rings out or meets a machine; the answer is reported at the
//! detector's verdict (a person's after the silence before the greeting, the greeting and the
//! 860 ms of silence that decides); a person takes the longest-idle agent or waits until 2 s
//! after the greeting's end and is abandoned.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::time::Duration;

use jiff::Timestamp;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::testutil::{agent, cid, record, spec, t0};
use super::*;
use crate::ids::AgentName;
use crate::outcome::{DialOutcome, OutcomeKind};
use crate::pacing::{BusyAgent, DialMode, LogNormal};
use crate::scheduler::NoDnc;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Ev {
    Tick,
    /// The verdict on a call answered at `answered`; a person's greeting ended at
    /// `greeting_end`.
    Answer {
        entry: EntryId,
        attempt: u32,
        human: bool,
        answered: u64,
        greeting_end: u64,
    },
    NoAnswer {
        entry: EntryId,
        attempt: u32,
    },
    ConnectDeadline {
        entry: EntryId,
        attempt: u32,
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
    WrapUp { since: u64, talk: u64 },
}

struct Model {
    engine: CampaignEngine,
    rng: ChaCha8Rng,
    now: u64,
    seq: u64,
    events: BinaryHeap<Reverse<(u64, u64, Ev)>>,
    agents: Vec<Agent>,
    idle: VecDeque<usize>,
    /// Live answers waiting for an agent: (entry, attempt, answered at, greeting's end).
    waiting: VecDeque<(EntryId, u32, u64, u64)>,
    answer_rate: f64,
    machine_fraction: f64,
    talk: LogNormal,
    wrap: LogNormal,
    busy_ms: u64,
}

fn at(ms: u64) -> Timestamp {
    crate::time::add(t0(), Duration::from_millis(ms))
}

impl Model {
    fn schedule(&mut self, when: u64, ev: Ev) {
        self.seq += 1;
        self.events.push(Reverse((when, self.seq, ev)));
    }

    fn draw(&mut self, model: LogNormal) -> u64 {
        let u1: f64 = 1.0 - self.rng.random::<f64>();
        let u2: f64 = self.rng.random::<f64>();
        let z = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
        ((model.mu + model.sigma * z).exp() * 1000.0).max(1.0) as u64
    }

    fn cmd(&mut self, command: Command) {
        let now = at(self.now);
        self.engine
            .handle(now, command, &NoDnc)
            .unwrap_or_else(|e| panic!("{e}"));
    }

    fn connect(
        &mut self,
        agent: usize,
        entry: EntryId,
        attempt: u32,
        answered: u64,
        greeting: u64,
    ) {
        self.cmd(Command::ConnectedToAgent {
            campaign: cid(),
            entry,
            attempt,
            agent: AgentName::new(format!("agent{agent}")),
            after: Duration::from_millis(self.now - answered),
            since_greeting: Duration::from_millis(self.now - greeting),
        });
        let talk = self.draw(self.talk);
        self.agents[agent] = Agent::Talking { since: self.now };
        self.schedule(self.now + talk, Ev::TalkEnd { agent });
    }

    fn handle(&mut self, ev: Ev) {
        match ev {
            Ev::Tick => self.schedule(self.now + 1000, Ev::Tick),
            Ev::NoAnswer { entry, attempt } => self.cmd(Command::Outcome {
                campaign: cid(),
                entry,
                attempt,
                outcome: DialOutcome::of(OutcomeKind::NoAnswer),
            }),
            Ev::Answer {
                entry,
                attempt,
                human,
                answered,
                greeting_end,
            } => {
                self.cmd(Command::Outcome {
                    campaign: cid(),
                    entry,
                    attempt,
                    outcome: DialOutcome::of(OutcomeKind::Answered),
                });
                let verdict = if human {
                    AnswerVerdict::Human
                } else {
                    AnswerVerdict::Machine
                };
                self.cmd(Command::Answered {
                    campaign: cid(),
                    entry,
                    attempt,
                    verdict,
                });
                if !human {
                    return;
                }
                match self.idle.pop_front() {
                    Some(agent) => self.connect(agent, entry, attempt, answered, greeting_end),
                    None => {
                        self.waiting
                            .push_back((entry, attempt, answered, greeting_end));
                        let deadline = (greeting_end + 2000).max(self.now);
                        self.schedule(deadline, Ev::ConnectDeadline { entry, attempt });
                    }
                }
            }
            Ev::ConnectDeadline { entry, attempt } => {
                if let Some(i) = self
                    .waiting
                    .iter()
                    .position(|(e, a, _, _)| *e == entry && *a == attempt)
                {
                    self.waiting.remove(i);
                    self.cmd(Command::Abandoned {
                        campaign: cid(),
                        entry,
                        attempt,
                    });
                }
            }
            Ev::TalkEnd { agent } => {
                if let Agent::Talking { since } = self.agents[agent] {
                    self.busy_ms += self.now - since;
                    let wrap = self.draw(self.wrap);
                    self.agents[agent] = Agent::WrapUp {
                        since: self.now,
                        talk: self.now - since,
                    };
                    self.schedule(self.now + wrap, Ev::WrapEnd { agent });
                }
            }
            Ev::WrapEnd { agent } => {
                if let Agent::WrapUp { since, talk } = self.agents[agent] {
                    self.busy_ms += self.now - since;
                    self.cmd(Command::CallHandled {
                        campaign: cid(),
                        talk: Duration::from_millis(talk),
                        wrap: Duration::from_millis(self.now - since),
                    });
                }
                self.agents[agent] = Agent::Free;
                match self.waiting.pop_front() {
                    Some((entry, attempt, answered, greeting)) => {
                        self.connect(agent, entry, attempt, answered, greeting)
                    }
                    None => self.idle.push_back(agent),
                }
            }
        }
    }

    fn dial(&mut self) {
        let mut cap = CampaignCapacity::default();
        for (i, a) in self.agents.iter().enumerate() {
            match *a {
                Agent::Free if self.idle.contains(&i) => cap.free_agents.push(agent(i as u32)),
                Agent::Free => {}
                Agent::Talking { since } => cap.busy.push(BusyAgent::Talking {
                    age: Duration::from_millis(self.now - since),
                }),
                Agent::WrapUp { since, .. } => cap.busy.push(BusyAgent::WrapUp {
                    age: Duration::from_millis(self.now - since),
                }),
            }
        }
        let capacity = DialCapacity {
            campaigns: [(cid(), cap)].into(),
            trunks_free: Default::default(),
            trunks_rate: Default::default(),
        };
        for work in self.engine.next_dials(at(self.now), &capacity, &NoDnc) {
            let Work::Dial(order) = work else { continue };
            let (entry, attempt) = (order.entry, order.attempt);
            if self.rng.random::<f64>() < self.answer_rate {
                let delay = self.rng.random_range(4_000..=14_000);
                let human = self.rng.random::<f64>() >= self.machine_fraction;
                let answered = self.now + delay;
                // People: 0.25-1.2 s of silence, a 0.4-1.2 s greeting, decided 860 ms after
                // it; machines: decided 1.5-3.5 s after the answer.
                let (greeting_end, verdict) = if human {
                    let end = answered
                        + self.rng.random_range(250..=1_200)
                        + self.rng.random_range(400..=1_200);
                    (end, end + 860)
                } else {
                    (answered, answered + self.rng.random_range(1_500..=3_500))
                };
                self.schedule(
                    verdict,
                    Ev::Answer {
                        entry,
                        attempt,
                        human,
                        answered,
                        greeting_end,
                    },
                );
            } else {
                let ring = order.ring_timeout.as_millis() as u64;
                self.schedule(self.now + ring, Ev::NoAnswer { entry, attempt });
            }
        }
        while self.engine.poll_event().is_some() {}
    }
}

/// Runs a campaign of `agents` for `hours`; returns its stats and the agents' occupancy.
fn simulate(mode: DialMode, agents: usize, hours: u64, seed: u64) -> (CampaignStats, f64) {
    let mut s = spec(mode);
    s.max_dials_per_minute = 200;
    let mut engine = CampaignEngine::new();
    let setup = [
        Command::Create(Box::new(s)),
        Command::AddRecords {
            campaign: cid(),
            records: (0..30_000).map(record).collect(),
        },
        Command::Start { campaign: cid() },
    ];
    for c in setup {
        engine
            .handle(t0(), c, &NoDnc)
            .unwrap_or_else(|e| panic!("{e}"));
    }
    let mut m = Model {
        engine,
        rng: ChaCha8Rng::seed_from_u64(seed),
        now: 0,
        seq: 0,
        events: BinaryHeap::new(),
        agents: vec![Agent::Free; agents],
        idle: (0..agents).collect(),
        waiting: VecDeque::new(),
        answer_rate: 0.3,
        machine_fraction: 0.2,
        talk: LogNormal::from_mean_cv(Duration::from_secs(180), 0.6),
        wrap: LogNormal::from_mean_cv(Duration::from_secs(15), 0.3),
        busy_ms: 0,
    };
    let end = hours * 3_600_000;
    m.schedule(0, Ev::Tick);
    while let Some(Reverse((when, _, ev))) = m.events.pop() {
        if when > end {
            break;
        }
        m.now = when;
        m.handle(ev);
        m.dial();
    }
    for a in &m.agents {
        if let Agent::Talking { since } | Agent::WrapUp { since, .. } = a {
            m.busy_ms += end.saturating_sub(*since);
        }
    }
    let occupancy = m.busy_ms as f64 / (end as f64 * agents as f64);
    let stats = m
        .engine
        .stats(at(end), &cid())
        .unwrap_or_else(|| panic!("no stats"));
    (stats, occupancy)
}

fn line(name: &str, seed: u64, s: &CampaignStats, occupancy: f64) -> String {
    format!(
        "{name} seed {seed}: abandon {:.2}% (aim {:.1}%, cap {:.0}%) occupancy {:.1}% dials {} live {} connected {} abandoned {} pacing ratio {:.2} dials/connect",
        s.abandon_rate * 100.0,
        s.abandon_aim * 100.0,
        s.abandon_cap * 100.0,
        occupancy * 100.0,
        s.dials,
        s.live_answered,
        s.connected,
        s.abandoned,
        s.pacing_ratio,
    )
}

#[test]
fn predictive_engine_with_20_agents_for_4_hours_keeps_abandons_under_3_percent() {
    for seed in 1..=3 {
        let (s, occupancy) = simulate(DialMode::Predictive, 20, 4, seed);
        let text = line("predictive, 20 agents, 4 h", seed, &s, occupancy);
        println!("{text}");
        assert!(s.live_answered > 1_000, "{text}");
        assert!(s.abandon_rate <= 0.03, "{text}");
        // It dialed ahead of free agents: some answers found none.
        assert!(s.abandoned > 0, "{text}");
        assert!(s.pacing_ratio > 1.0 / 0.3, "{text}");
        // Virtual time and fixed seeds: 87.2%, 87.3% and 86.6% for seeds 1 to 3.
        assert!(occupancy >= 0.85, "{text}");
        assert_eq!(s.done + s.pending + s.in_progress, s.total);
    }
}

#[test]
fn progressive_engine_never_abandons_and_keeps_agents_idler() {
    let (p, p_occ) = simulate(DialMode::Progressive, 20, 4, 1);
    let (q, q_occ) = simulate(DialMode::Predictive, 20, 4, 1);
    println!("{}", line("progressive, 20 agents, 4 h", 1, &p, p_occ));
    assert_eq!(p.abandoned, 0);
    assert!(q_occ > p_occ, "predictive {q_occ} progressive {p_occ}");
    assert!(q.connected > p.connected);
}
