//! Routing decisions on a world of 2,000 agents in 100 queues with 5,000 entries waiting and
//! every agent busy: an entry arriving (and leaving again), and an agent freeing up, taking the
//! first entry for it and answering while a new entry arrives. `hotline bench routing` times the
//! single decisions on a larger world; this is the quick loop while working on the core.

// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use hotline_routing::{
    AgentId, CallId, Command, EnqueueOptions, QueueConfig, QueueId, Router, RouterConfig,
    RoutingEvent, SkillRequirement, Strategy,
};

const QUEUES: usize = 100;
const MEMBERS: usize = 20;
const WAITING: usize = 5_000;

fn agent(a: usize) -> AgentId {
    AgentId::new(format!("agent{a}"))
}

fn queue(q: usize) -> QueueId {
    QueueId::new(format!("queue{q}"))
}

struct World {
    router: Router,
    now: Instant,
    next_call: u128,
    /// Per agent: its connected call.
    connected: Vec<Option<CallId>>,
}

impl World {
    fn new(strategy: Strategy) -> Self {
        let now = Instant::now();
        // An agent has the skill of its own queue and of the previous one (which it also
        // serves when it is in the first half of its queue's members).
        let skills = |a: usize| {
            let own = a / MEMBERS;
            [own, (own + QUEUES - 1) % QUEUES]
                .into_iter()
                .map(|q| (hotline_routing::SkillId::new(format!("s{}", q % 7)), 5))
                .collect()
        };
        let config = RouterConfig {
            queues: (0..QUEUES)
                .map(|q| QueueConfig {
                    id: queue(q),
                    // Each agent serves its own queue and the next one.
                    members: (0..MEMBERS)
                        .map(|m| agent(q * MEMBERS + m))
                        .chain((0..MEMBERS / 2).map(|m| agent(((q + 1) % QUEUES) * MEMBERS + m)))
                        .collect(),
                    ring_timeout: Duration::from_secs(15),
                    strategy,
                    ..QueueConfig::default()
                })
                .collect(),
            agents: (0..QUEUES * MEMBERS).map(agent).collect(),
            agent_settings: (0..QUEUES * MEMBERS)
                .map(|a| {
                    let settings = hotline_routing::AgentSettings {
                        skills: skills(a),
                        ..Default::default()
                    };
                    (agent(a), settings)
                })
                .collect(),
            ..RouterConfig::default()
        };
        let router = Router::new(config, now).expect("valid config");
        let mut world = Self {
            router,
            now,
            next_call: 0,
            connected: vec![None; QUEUES * MEMBERS],
        };
        for a in 0..QUEUES * MEMBERS {
            world.apply(Command::ContactsChanged {
                agent: agent(a),
                count: 1,
            });
        }
        for i in 0..QUEUES * MEMBERS + WAITING {
            world.arrive(i % QUEUES);
        }
        world
    }

    /// Applies `command` and answers the offers it made.
    fn apply(&mut self, command: Command) {
        self.router
            .handle(self.now, command)
            .expect("valid command");
        while let Some(event) = self.router.poll_event() {
            match event {
                RoutingEvent::CallOffered { call, agent, .. } => {
                    self.router
                        .handle(self.now, Command::OfferAnswered { call, agent })
                        .expect("offered");
                }
                RoutingEvent::CallConnected { call, agent, .. } => {
                    let a: usize = agent.as_str()[5..].parse().expect("agent name");
                    self.connected[a] = Some(call);
                }
                _ => {}
            }
        }
    }

    fn arrive(&mut self, q: usize) -> CallId {
        self.next_call += 1;
        let call = CallId(self.next_call);
        let required = vec![SkillRequirement::new(format!("s{}", q % 7), 1)];
        self.apply(Command::EnqueueWith {
            call,
            queue: queue(q),
            options: EnqueueOptions {
                required,
                ..EnqueueOptions::default()
            },
        });
        call
    }
}

fn bench(c: &mut Criterion) {
    for (strategy, name) in [
        (Strategy::LongestIdle, "longest idle"),
        (Strategy::BestSkilled, "best skilled"),
    ] {
        let mut world = World::new(strategy);
        let mut q = 0;
        c.bench_function(&format!("{name}: arrive and leave, all busy"), |b| {
            b.iter(|| {
                q = (q + 1) % QUEUES;
                let call = world.arrive(black_box(q));
                world.apply(Command::Abandon { call });
            })
        });
        let mut a = 0;
        c.bench_function(
            &format!("{name}: agent frees, takes an entry, an entry arrives"),
            |b| {
                b.iter(|| {
                    a = (a + 7) % (QUEUES * MEMBERS);
                    if let Some(call) = world.connected[a].take() {
                        world.apply(Command::CallEnded { call });
                    }
                    world.arrive(a / MEMBERS);
                })
            },
        );
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
