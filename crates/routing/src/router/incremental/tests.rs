//! The incremental dispatch against the full pass it replaces, on random multi-queue worlds.

use std::time::{Duration, Instant};

use proptest::prelude::*;

use crate::agent_state::{AgentState, NotReadyReason, RequestedState};
use crate::command::{Command, OfferFailure};
use crate::config::{
    AgentSettings, EnqueueOptions, QueueConfig, RelaxAction, RelaxStep, RouterConfig,
    ServiceLevelTarget, Strategy as Distribution,
};
use crate::event::RoutingEvent;
use crate::ids::{AgentId, CallId, QueueId};
use crate::router::Router;
use crate::skills::{SkillId, SkillRequirement, Skills};

const AGENTS: usize = 6;
const QUEUES: usize = 3;

fn agent(i: usize) -> AgentId {
    AgentId::new(format!("a{i}"))
}

fn queue_id(i: usize) -> QueueId {
    QueueId::new(format!("q{i}"))
}

fn skills(fr: u8, de: u8) -> Skills {
    let mut skills = Skills::new();
    if fr > 0 {
        skills.insert(SkillId::new("fr"), fr);
    }
    if de > 0 {
        skills.insert(SkillId::new("de"), de);
    }
    skills
}

/// Three overlapping queues with penalties, weights, service-level targets and relaxation steps
/// that lower proficiencies and overflow into the other queues.
fn world(now: Instant, strategies: [Distribution; QUEUES], seed: u64) -> Router {
    // Valid by construction.
    Router::new(config(strategies, seed, 0), now).expect("valid config")
}

/// The world's configuration; `reload` 1 and 2 are what a reload may change: 1 removes agent a5
/// and changes a1's skills and q1's penalties, 2 adds agent a6 to q0 and q1.
fn config(strategies: [Distribution; QUEUES], seed: u64, reload: u8) -> RouterConfig {
    let members: [&[usize]; QUEUES] = match reload {
        1 => [&[0, 1, 2], &[2, 3, 4], &[4, 0, 1]],
        2 => [&[0, 1, 2, 6], &[6, 2, 3, 4], &[4, 5, 0, 1]],
        _ => [&[0, 1, 2], &[2, 3, 4], &[4, 5, 0, 1]],
    };
    let agents: Vec<usize> = match reload {
        1 => (0..AGENTS - 1).collect(),
        2 => (0..=AGENTS).collect(),
        _ => (0..AGENTS).collect(),
    };
    let queues = (0..QUEUES)
        .map(|q| QueueConfig {
            id: queue_id(q),
            members: members[q].iter().map(|&a| agent(a)).collect(),
            ring_timeout: Duration::from_secs(2),
            wrap_up: Duration::from_millis(500 * q as u64),
            strategy: strategies[q],
            penalties: [
                (agent(members[q][1]), 1 + u32::from(reload == 1 && q == 1)),
                (agent(members[q][2]), 2),
            ]
            .into(),
            weights: [(agent(members[q][0]), 3)].into(),
            talk_time_window: Duration::from_secs(2 + 3 * q as u64),
            service_level: (q != 2).then_some(ServiceLevelTarget {
                threshold: Duration::from_secs(1),
                percent: 80,
            }),
            relaxation: vec![
                RelaxStep {
                    after: Duration::from_secs(1),
                    action: RelaxAction::LowerProficiency { by: 3 },
                },
                RelaxStep {
                    after: Duration::from_secs(2),
                    action: RelaxAction::AddQueues {
                        queues: vec![queue_id((q + 1) % QUEUES)],
                    },
                },
                RelaxStep {
                    after: Duration::from_secs(3),
                    action: RelaxAction::AddQueues {
                        queues: vec![queue_id((q + 2) % QUEUES)],
                    },
                },
            ],
            ..QueueConfig::default()
        })
        .collect();
    let mut proficiencies = [(3, 0), (8, 5), (0, 9), (5, 0), (10, 2), (0, 0), (7, 7)];
    if reload == 1 {
        proficiencies[1] = (2, 9);
    }
    let agent_settings = agents
        .iter()
        .map(|&a| {
            let (fr, de) = proficiencies[a];
            let settings = AgentSettings {
                skills: skills(fr, de),
                max_missed_offers: 2,
                ..AgentSettings::default()
            };
            (agent(a), settings)
        })
        .collect();
    RouterConfig {
        queues,
        agents: agents.into_iter().map(agent).collect(),
        agent_settings,
        seed,
        ..RouterConfig::default()
    }
}

/// One step of a scenario.
#[derive(Debug, Clone)]
enum Step {
    Command(Box<Command>),
    /// Virtual time moves on and the due timers fire.
    Tick,
    /// The configuration is replaced (see [`config`]).
    Reload(u8),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        20 => command().prop_map(|c| c.map_or(Step::Tick, |c| Step::Command(Box::new(c)))),
        1 => (0..3u8).prop_map(Step::Reload),
    ]
}

fn command() -> impl Strategy<Value = Option<Command>> {
    let call = (0..10u128).prop_map(CallId);
    let agent = (0..AGENTS).prop_map(agent);
    let queue = (0..QUEUES).prop_map(queue_id);
    let requirement = (0..3usize, 1..11u8).prop_map(|(skill, min)| match skill {
        0 => vec![],
        1 => vec![SkillRequirement::new("fr", min)],
        _ => vec![SkillRequirement::new("de", min)],
    });
    let options =
        (0..3i32, requirement.clone(), requirement).prop_map(|(priority, required, preferred)| {
            EnqueueOptions {
                required,
                preferred,
                priority,
                ..EnqueueOptions::default()
            }
        });
    prop_oneof![
        3 => (call.clone(), queue, options).prop_map(|(call, queue, options)| Some(
            Command::EnqueueWith {
                call,
                queue,
                options
            }
        )),
        1 => call.clone().prop_map(|call| Some(Command::Abandon { call })),
        2 => call.clone().prop_map(|call| Some(Command::CallEnded { call })),
        2 => (call.clone(), agent.clone())
            .prop_map(|(call, agent)| Some(Command::OfferAnswered { call, agent })),
        1 => (call, agent.clone()).prop_map(|(call, agent)| Some(Command::OfferFailed {
            call,
            agent,
            cause: OfferFailure::NoAnswer
        })),
        2 => (agent.clone(), any::<bool>()).prop_map(|(agent, ready)| Some(Command::SetState {
            agent,
            state: if ready {
                RequestedState::Ready
            } else {
                RequestedState::NotReady(NotReadyReason::Manual("break".into()))
            },
        })),
        1 => agent.clone().prop_map(|agent| Some(Command::EndWrapUp { agent })),
        2 => (agent.clone(), 0..2usize)
            .prop_map(|(agent, count)| Some(Command::ContactsChanged { agent, count })),
        1 => (agent, 0..11u8, 0..11u8).prop_map(|(agent, fr, de)| Some(Command::SetSkills {
            agent,
            skills: skills(fr, de)
        })),
        3 => Just(None),
    ]
}

fn distribution() -> impl Strategy<Value = Distribution> {
    prop_oneof![
        Just(Distribution::LongestIdle),
        Just(Distribution::FewestCalls),
        Just(Distribution::LeastTalkTime),
        Just(Distribution::RoundRobin),
        Just(Distribution::Linear),
        Just(Distribution::Random),
        Just(Distribution::WeightedRandom),
        Just(Distribution::BestSkilled),
        Just(Distribution::RingAll),
    ]
}

/// A (waiting entry, ready agent qualified for it) pair, if one is left.
fn placeable_pair(router: &Router) -> Option<(CallId, AgentId)> {
    for &call in router.unoffered.values() {
        for a in 0..router.agents.len() {
            if router.agents[a].state == AgentState::Ready && router.qualifies(call, a) {
                return Some((call, router.agents[a].id.clone()));
            }
        }
    }
    None
}

fn drain(router: &mut Router) -> Vec<RoutingEvent> {
    std::iter::from_fn(|| router.poll_event()).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Same commands, same events: the incremental dispatch offers exactly what a full pass over
    /// every waiting entry offers, and leaves no placeable pair behind.
    #[test]
    fn incremental_dispatch_matches_the_full_pass(
        steps in proptest::collection::vec(step(), 1..120),
        strategies in [distribution(), distribution(), distribution()],
        seed in 0..1000u64,
    ) {
        let t0 = Instant::now();
        let mut incremental = world(t0, strategies, seed);
        let mut reference = world(t0, strategies, seed);
        reference.index.reference = true;
        let mut now = t0;
        for step in steps {
            match step {
                Step::Command(command) => {
                    let a = incremental.handle(now, (*command).clone());
                    let b = reference.handle(now, *command);
                    prop_assert_eq!(a, b);
                }
                Step::Tick => {
                    now += Duration::from_millis(400);
                    incremental.handle_timeout(now);
                    reference.handle_timeout(now);
                }
                Step::Reload(variant) => {
                    let a = incremental.reconfigure(now, config(strategies, seed, variant));
                    let b = reference.reconfigure(now, config(strategies, seed, variant));
                    prop_assert_eq!(a, b);
                }
            }
            prop_assert_eq!(drain(&mut incremental), drain(&mut reference));
            prop_assert_eq!(placeable_pair(&incremental), None);
        }
    }
}

#[test]
fn an_agent_freed_takes_an_overflowed_entry_before_a_later_home_entry() {
    let t0 = Instant::now();
    let strategies = [Distribution::LongestIdle; QUEUES];
    let mut router = world(t0, strategies, 1);
    // a3 serves q1 only; an entry of q0 overflows into q1 after 2 s.
    router
        .handle(
            t0,
            Command::ContactsChanged {
                agent: agent(3),
                count: 1,
            },
        )
        .unwrap();
    router
        .handle(
            t0,
            Command::SetState {
                agent: agent(3),
                state: RequestedState::NotReady(NotReadyReason::Manual("lunch".into())),
            },
        )
        .unwrap();
    let fr = |min| EnqueueOptions {
        required: vec![SkillRequirement::new("fr", min)],
        ..EnqueueOptions::default()
    };
    for (call, queue) in [(1, 0), (2, 1)] {
        router
            .handle(
                t0 + Duration::from_millis(call as u64),
                Command::EnqueueWith {
                    call: CallId(call),
                    queue: queue_id(queue),
                    options: fr(1),
                },
            )
            .unwrap();
    }
    let t2 = t0 + Duration::from_millis(2500);
    router.handle_timeout(t2);
    assert!(router.index.overflowed[1].contains_key(&0));
    drain(&mut router);
    router
        .handle(
            t2,
            Command::SetState {
                agent: agent(3),
                state: RequestedState::Ready,
            },
        )
        .unwrap();
    let offered: Vec<CallId> = drain(&mut router)
        .into_iter()
        .filter_map(|e| match e {
            RoutingEvent::CallOffered { call, .. } => Some(call),
            _ => None,
        })
        .collect();
    assert_eq!(
        offered,
        vec![CallId(1)],
        "the earlier entry, overflowed, goes first"
    );
}

#[test]
fn least_talk_time_forgets_calls_older_than_every_window() {
    let t0 = Instant::now();
    let mut router = world(t0, [Distribution::LeastTalkTime; QUEUES], 1);
    let a = 0;
    let later = t0 + Duration::from_secs(100);
    router.record_talk(a, t0 + Duration::from_secs(1), Duration::from_secs(1));
    router.record_talk(a, later, Duration::from_secs(2));
    // The longest window of the world is 8 s: the first call is dropped.
    assert_eq!(router.agents[a].talk.len(), 1);
    assert_eq!(
        router.talk_within(a, later, Duration::from_secs(8)),
        Duration::from_secs(2)
    );
    assert_eq!(
        router.talk_within(a, later + Duration::from_secs(3), Duration::from_secs(2)),
        Duration::ZERO
    );
}

/// How long one arrival takes with the incremental dispatch and with the full pass, 5,000
/// entries waiting while a few agents of other queues are ready. A measurement, not a check:
/// `cargo test --release -p hotline-routing --lib -- --ignored --nocapture full_pass_cost`.
#[test]
#[ignore = "a measurement; run it in release"]
fn full_pass_cost() {
    const QUEUES: usize = 100;
    const MEMBERS: usize = 20;
    const WAITING: usize = 5_000;
    const SAMPLES: u32 = 2_000;
    let build = |reference: bool| {
        let t0 = Instant::now();
        let queues = (0..QUEUES)
            .map(|q| QueueConfig {
                id: queue_id(q),
                members: (0..MEMBERS).map(|m| agent(q * MEMBERS + m)).collect(),
                ring_timeout: Duration::from_secs(15),
                ..QueueConfig::default()
            })
            .collect();
        let config = RouterConfig {
            queues,
            agents: (0..QUEUES * MEMBERS).map(agent).collect(),
            ..RouterConfig::default()
        };
        let mut router = Router::new(config, t0).expect("valid config");
        router.index.reference = reference;
        for a in 0..QUEUES * MEMBERS {
            router
                .handle(
                    t0,
                    Command::ContactsChanged {
                        agent: agent(a),
                        count: 1,
                    },
                )
                .expect("known agent");
        }
        // Queue 0 keeps its members ready; the others are all busy with WAITING waiting.
        let mut call = 0u128;
        let mut enqueue = |router: &mut Router, q: usize| {
            call += 1;
            router
                .handle(
                    t0,
                    Command::Enqueue {
                        call: CallId(call),
                        queue: queue_id(q),
                    },
                )
                .expect("known queue");
            for event in drain(router) {
                if let RoutingEvent::CallOffered { call, agent, .. } = event {
                    router
                        .handle(t0, Command::OfferAnswered { call, agent })
                        .expect("offered");
                }
            }
        };
        for i in 0..(QUEUES - 1) * MEMBERS + WAITING {
            enqueue(&mut router, 1 + i % (QUEUES - 1));
        }
        drain(&mut router);
        let started = std::time::Instant::now();
        for i in 0..SAMPLES as usize {
            enqueue(&mut router, 1 + i % (QUEUES - 1));
        }
        started.elapsed() / SAMPLES
    };
    let incremental = build(false);
    let full = build(true);
    eprintln!("one arrival, {WAITING} waiting: incremental {incremental:?}, full pass {full:?}");
}
