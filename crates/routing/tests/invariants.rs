//! Property tests: invariants of the routing core over random command sequences.

mod sim;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use hotline_routing::replay::Replay;
use hotline_routing::{
    AgentId, AgentSettings, AgentState, CallId, CallStatus, Command, EnqueueOptions,
    NotReadyReason, OfferFailure, QueueId, RelaxAction, RelaxStep, RequestedState, RouterConfig,
    RoutingEvent, SkillId, SkillRequirement,
};
use proptest::prelude::*;
use sim::{agent, config, queue, queue_config, Sim};

const AGENTS: [&str; 4] = ["a0", "a1", "a2", "a3"];

fn test_config() -> RouterConfig {
    let mut q0 = queue_config("q0", &["a0", "a1"]);
    q0.ring_timeout = Duration::from_secs(3);
    q0.penalties = [(agent("a1"), 2)].into();
    q0.relaxation = vec![
        RelaxStep {
            after: Duration::from_secs(4),
            action: RelaxAction::LowerProficiency { by: 4 },
        },
        RelaxStep {
            after: Duration::from_secs(8),
            action: RelaxAction::AddQueues {
                queues: vec![queue("q1")],
            },
        },
    ];
    let mut q1 = queue_config("q1", &["a1", "a2", "a3"]);
    q1.wrap_up = Duration::ZERO;
    q1.relaxation = vec![RelaxStep {
        after: Duration::from_secs(5),
        action: RelaxAction::DropSkill {
            skill: SkillId::new("fr"),
        },
    }];
    // A queue nobody answers: its calls can only be abandoned.
    let q2 = queue_config("q2", &[]);
    let mut config = config(vec![q0, q1, q2], &AGENTS);
    let fr = |level: u8, missed: u32| AgentSettings {
        skills: [(SkillId::new("fr"), level)].into(),
        max_missed_offers: missed,
        ..AgentSettings::default()
    };
    config.agent_settings = [
        (agent("a0"), fr(3, 1)),
        (agent("a1"), fr(9, 2)),
        (agent("a2"), fr(6, 1)),
    ]
    .into();
    config
}

/// Whether `from -> to` is a transition the agent state machine allows.
fn legal(from: &AgentState, to: &AgentState) -> bool {
    use AgentState::*;
    match (from, to) {
        (_, LoggedOut) => !matches!(from, LoggedOut),
        (LoggedOut, to) => *to == Ready,
        (Ready, to) => matches!(to, Reserved | NotReady(_)),
        (Reserved, to) => matches!(to, Ringing | OnCall | Ready | NotReady(_)),
        (Ringing, to) => matches!(to, OnCall | Ready | NotReady(_)),
        (OnCall, to) => matches!(to, WrapUp | Ready | NotReady(_)),
        (WrapUp, to) => matches!(to, Ready | NotReady(_)),
        (NotReady(_), to) => matches!(to, Ready | NotReady(_)),
    }
}

#[derive(Debug, Clone)]
enum Op {
    Enqueue(usize, i32, u8),
    Abandon(usize),
    Ringing(usize),
    Answer(usize),
    Fail(usize, OfferFailure),
    End(usize),
    SetReady(usize),
    SetNotReady(usize),
    Contacts(usize, usize),
    Advance(u64),
    Stray(usize, usize),
}

fn failure() -> impl Strategy<Value = OfferFailure> {
    prop_oneof![
        Just(OfferFailure::Rejected),
        Just(OfferFailure::Busy),
        Just(OfferFailure::NoAnswer),
        Just(OfferFailure::Unreachable),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0..3usize, 0..3i32, 0..11u8).prop_map(|(q, p, fr)| Op::Enqueue(q, p, fr)),
        1 => any::<usize>().prop_map(Op::Abandon),
        1 => any::<usize>().prop_map(Op::Ringing),
        3 => any::<usize>().prop_map(Op::Answer),
        1 => (any::<usize>(), failure()).prop_map(|(p, f)| Op::Fail(p, f)),
        2 => any::<usize>().prop_map(Op::End),
        2 => (0..AGENTS.len()).prop_map(Op::SetReady),
        1 => (0..AGENTS.len()).prop_map(Op::SetNotReady),
        2 => (0..AGENTS.len(), 0..3usize).prop_map(|(a, n)| Op::Contacts(a, n)),
        2 => (0..8_000u64).prop_map(Op::Advance),
        1 => (any::<usize>(), 0..AGENTS.len()).prop_map(|(c, a)| Op::Stray(c, a)),
    ]
}

/// What the events say, and the invariants checked as they arrive.
#[derive(Default)]
struct Checker {
    config: RouterConfig,
    members: BTreeMap<QueueId, BTreeSet<AgentId>>,
    /// Calls not connected per queue, by (priority desc, arrival).
    lines: BTreeMap<QueueId, Vec<CallId>>,
    /// What each call was enqueued with, recorded before the command is sent.
    options: BTreeMap<CallId, EnqueueOptions>,
    /// Relaxation steps applied per waiting call.
    steps: BTreeMap<CallId, usize>,
    offers: BTreeMap<CallId, AgentId>,
    connected: BTreeMap<CallId, AgentId>,
    enqueued: Vec<CallId>,
    terminals: BTreeMap<CallId, usize>,
    replay: Replay,
}

impl Checker {
    fn new(sim: &Sim) -> Self {
        let config = test_config();
        Self {
            members: config
                .queues
                .iter()
                .map(|q| (q.id.clone(), q.members.iter().cloned().collect()))
                .collect(),
            replay: Replay::new(config.agents.clone(), sim.t0),
            config,
            ..Self::default()
        }
    }

    fn busy(&self, agent: &AgentId) -> bool {
        self.offers.values().any(|a| a == agent) || self.connected.values().any(|a| a == agent)
    }

    fn priority(&self, call: &CallId) -> i32 {
        self.options.get(call).map_or(0, |o| o.priority)
    }

    /// Whether `agent` may take `call` of `queue` at the call's current relaxation step: a member
    /// of its queue or of an overflow queue, with every required skill at the relaxed minimum.
    fn qualifies(&self, call: &CallId, queue: &QueueId, agent: &AgentId) -> bool {
        let step = self.steps.get(call).copied().unwrap_or(0);
        let mut required = self
            .options
            .get(call)
            .map(|o| o.required.clone())
            .unwrap_or_default();
        let mut serving = vec![queue.clone()];
        let q = self.config.queues.iter().find(|q| &q.id == queue);
        for relax in q.map_or(&[][..], |q| &q.relaxation[..step.min(q.relaxation.len())]) {
            match &relax.action {
                RelaxAction::LowerProficiency { by } => {
                    for r in &mut required {
                        r.min_proficiency = r.min_proficiency.saturating_sub(*by).max(1);
                    }
                }
                RelaxAction::DropSkill { skill } => required.retain(|r| &r.skill != skill),
                RelaxAction::AddQueues { queues } => serving.extend(queues.iter().cloned()),
                RelaxAction::Exit | RelaxAction::OfferCallback => {}
            }
        }
        let skills = self
            .config
            .agent_settings
            .get(agent)
            .map(|s| s.skills.clone())
            .unwrap_or_default();
        serving.iter().any(|q| self.members[q].contains(agent))
            && required.iter().all(|r| r.met_by(&skills))
    }

    fn apply(&mut self, event: &RoutingEvent) -> Result<(), TestCaseError> {
        match event {
            RoutingEvent::CallQueued {
                call,
                queue,
                position,
            } => {
                let priority = self.priority(call);
                let options = &self.options;
                let line = self.lines.entry(queue.clone()).or_default();
                let at = line
                    .iter()
                    .position(|c| options.get(c).map_or(0, |o| o.priority) < priority)
                    .unwrap_or(line.len());
                line.insert(at, *call);
                prop_assert_eq!(*position, at + 1);
                self.enqueued.push(*call);
            }
            RoutingEvent::CallRejected { call, .. } => {
                self.enqueued.push(*call);
                *self.terminals.entry(*call).or_default() += 1;
            }
            RoutingEvent::CallRelaxed { call, step, .. } => {
                let before = self.steps.insert(*call, *step).unwrap_or(0);
                prop_assert_eq!(before + 1, *step, "relaxation steps apply one at a time");
            }
            RoutingEvent::CallOffered {
                call,
                queue,
                agent,
                reason,
                ..
            } => {
                prop_assert!(!self.busy(agent), "{agent} holds two offers or calls");
                prop_assert!(!self.offers.contains_key(call), "{call} offered twice");
                prop_assert!(
                    self.qualifies(call, queue, agent),
                    "{agent} lacks the skills or membership {call} requires at its step"
                );
                prop_assert_eq!(
                    reason.relaxation_step,
                    self.steps.get(call).copied().unwrap_or(0)
                );
                let line = &self.lines[queue];
                let place = line.iter().position(|c| c == call);
                prop_assert!(place.is_some(), "offered call not waiting");
                for ahead in &line[..place.unwrap_or(0)] {
                    // An entry ahead waits unoffered only if this agent could not take it.
                    prop_assert!(
                        self.offers.contains_key(ahead) || !self.qualifies(ahead, queue, agent),
                        "FIFO: {call} offered to {agent} while {ahead} waits unoffered"
                    );
                }
                self.offers.insert(*call, agent.clone());
            }
            RoutingEvent::OfferRevoked { call, agent, .. } => {
                prop_assert_eq!(self.offers.get(call), Some(agent));
            }
            RoutingEvent::CallRequeued { call, agent, .. } => {
                prop_assert_eq!(self.offers.remove(call), Some(agent.clone()));
            }
            RoutingEvent::CallConnected {
                call, queue, agent, ..
            } => {
                prop_assert_eq!(self.offers.remove(call), Some(agent.clone()));
                self.lines
                    .entry(queue.clone())
                    .or_default()
                    .retain(|c| c != call);
                self.connected.insert(*call, agent.clone());
                *self.terminals.entry(*call).or_default() += 1;
            }
            RoutingEvent::CallAbandoned { call, queue, .. }
            | RoutingEvent::CallExited { call, queue, .. } => {
                self.offers.remove(call);
                let line = self.lines.entry(queue.clone()).or_default();
                prop_assert!(line.contains(call));
                line.retain(|c| c != call);
                *self.terminals.entry(*call).or_default() += 1;
            }
            RoutingEvent::CallCompleted { call, agent, .. } => {
                prop_assert_eq!(self.connected.remove(call), Some(agent.clone()));
            }
            // No callback command is sent here (see the router's consistency tests).
            RoutingEvent::CallbackQueued { .. }
            | RoutingEvent::CallbackConverted { .. }
            | RoutingEvent::CallbackOffered { .. }
            | RoutingEvent::CallbackDue { .. }
            | RoutingEvent::CallbackConnected { .. }
            | RoutingEvent::CallbackFailed { .. }
            | RoutingEvent::CallbackGivenUp { .. }
            | RoutingEvent::CallbackCancelled { .. } => {
                prop_assert!(false, "unexpected callback event {:?}", event);
            }
            // No reload is done here (see the router's reconfigure tests).
            RoutingEvent::Reconfigured { .. } => {
                prop_assert!(false, "unexpected reload event {:?}", event);
            }
            RoutingEvent::AgentStateChanged {
                agent, from, to, ..
            } => {
                prop_assert_ne!(from, to);
                prop_assert_eq!(&self.replay.agents()[agent].state, from);
                prop_assert!(legal(from, to), "illegal {agent}: {from} -> {to}");
            }
        }
        self.replay.apply(event);
        Ok(())
    }

    /// The replayed agents equal the router's.
    fn check_replay(&self, sim: &Sim) -> Result<(), TestCaseError> {
        for view in sim.router.agents() {
            let replayed = &self.replay.agents()[view.id];
            prop_assert_eq!(&replayed.state, view.state, "state of {}", view.id);
            prop_assert_eq!(replayed.since, view.since, "since of {}", view.id);
            prop_assert_eq!(replayed.current_call, view.current_call);
        }
        prop_assert_eq!(self.replay.calls().len(), sim.router.call_count());
        for (id, replayed) in self.replay.calls() {
            let view = sim.router.call(*id);
            prop_assert!(view.is_some(), "replayed call {id} unknown to the router");
            let Some(view) = view else { continue };
            prop_assert_eq!(&replayed.queue, view.queue);
            prop_assert_eq!(replayed.relaxation_step, view.relaxation_step);
            let (agent, connected) = match view.status {
                CallStatus::Waiting { .. } => (None, false),
                CallStatus::Offered { agent, .. } | CallStatus::Dialing { agent, .. } => {
                    (Some(agent.clone()), false)
                }
                CallStatus::RingingAll { agents, .. } => {
                    ((agents.len() == 1).then(|| agents[0].clone()), false)
                }
                CallStatus::Connected { agent, .. } => (Some(agent.clone()), true),
            };
            prop_assert_eq!(&replayed.agent, &agent);
            prop_assert_eq!(replayed.connected, connected);
        }
        Ok(())
    }
}

fn pick<T: Clone>(items: impl Iterator<Item = T>, index: usize) -> Option<T> {
    let items: Vec<T> = items.collect();
    (!items.is_empty()).then(|| items[index % items.len()].clone())
}

fn run(sim: &mut Sim, checker: &mut Checker, op: &Op, next_call: &mut u128) {
    let lunch = RequestedState::NotReady(NotReadyReason::Manual("break".into()));
    // Refusals are legitimate here (e.g. SetState on a logged-out agent); they must not change
    // anything, which the event checks and the replay comparison catch.
    let _ = match op {
        Op::Enqueue(q, priority, fr) => {
            *next_call += 1;
            let call = CallId(*next_call);
            let options = EnqueueOptions {
                required: if *fr == 0 {
                    vec![]
                } else {
                    vec![SkillRequirement::new("fr", *fr)]
                },
                priority: *priority,
                ..EnqueueOptions::default()
            };
            checker.options.insert(call, options.clone());
            sim.try_cmd(Command::EnqueueWith {
                call,
                queue: queue(&format!("q{q}")),
                options,
            })
        }
        Op::Abandon(p) => match pick(checker.lines.values().flatten().copied(), *p) {
            Some(call) => sim.try_cmd(Command::Abandon { call }),
            None => Ok(()),
        },
        Op::Ringing(p) | Op::Answer(p) | Op::Fail(p, _) => {
            let Some((call, agent)) = pick(checker.offers.clone().into_iter(), *p) else {
                return;
            };
            let command = match op {
                Op::Ringing(_) => Command::OfferRinging { call, agent },
                Op::Answer(_) => Command::OfferAnswered { call, agent },
                Op::Fail(_, cause) => Command::OfferFailed {
                    call,
                    agent,
                    cause: *cause,
                },
                _ => return,
            };
            sim.try_cmd(command)
        }
        Op::End(p) => match pick(checker.connected.keys().copied(), *p) {
            Some(call) => sim.try_cmd(Command::CallEnded { call }),
            None => Ok(()),
        },
        Op::SetReady(a) => sim.try_cmd(Command::SetState {
            agent: agent(AGENTS[*a]),
            state: RequestedState::Ready,
        }),
        Op::SetNotReady(a) => sim.try_cmd(Command::SetState {
            agent: agent(AGENTS[*a]),
            state: lunch,
        }),
        Op::Contacts(a, count) => sim.try_cmd(Command::ContactsChanged {
            agent: agent(AGENTS[*a]),
            count: *count,
        }),
        Op::Advance(ms) => {
            sim.advance(Duration::from_millis(*ms));
            Ok(())
        }
        Op::Stray(c, a) => {
            let Some(call) = pick(checker.enqueued.iter().copied(), *c) else {
                return;
            };
            let agent = agent(AGENTS[*a]);
            let offered = checker.offers.get(&call) == Some(&agent);
            let result = sim.try_cmd(Command::OfferAnswered { call, agent });
            assert_eq!(result.is_ok(), offered, "answer accepted iff offered");
            result
        }
    };
}

/// Feeds the pending events to the checker.
fn check_events(sim: &mut Sim, checker: &mut Checker) -> Result<(), TestCaseError> {
    for event in sim.take() {
        checker.apply(&event)?;
    }
    checker.check_replay(sim)
}

/// Brings everyone in, answers and ends every call, then abandons what nobody can answer.
fn drain(sim: &mut Sim, checker: &mut Checker) -> Result<(), TestCaseError> {
    for _ in 0..1_000 {
        for name in AGENTS {
            let _ = sim.try_cmd(Command::ContactsChanged {
                agent: agent(name),
                count: 1,
            });
            let _ = sim.try_cmd(Command::SetState {
                agent: agent(name),
                state: RequestedState::Ready,
            });
            check_events(sim, checker)?;
        }
        let offers: Vec<_> = checker.offers.clone().into_iter().collect();
        for (call, agent) in offers {
            sim.cmd(Command::OfferAnswered { call, agent });
            check_events(sim, checker)?;
        }
        let connected: Vec<_> = checker.connected.keys().copied().collect();
        for call in &connected {
            sim.cmd(Command::CallEnded { call: *call });
            check_events(sim, checker)?;
        }
        let fired = sim.next_timer();
        check_events(sim, checker)?;
        if !fired && connected.is_empty() && checker.offers.is_empty() {
            break;
        }
    }
    let left: Vec<CallId> = checker.lines.values().flatten().copied().collect();
    for call in left {
        sim.cmd(Command::Abandon { call });
        check_events(sim, checker)?;
    }
    prop_assert_eq!(sim.router.call_count(), 0);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn routing_invariants_hold_over_random_commands(ops in proptest::collection::vec(op(), 1..120)) {
        let mut sim = Sim::new(test_config());
        let mut checker = Checker::new(&sim);
        let mut next_call = 0u128;
        for op in &ops {
            run(&mut sim, &mut checker, op, &mut next_call);
            check_events(&mut sim, &mut checker)?;
        }
        drain(&mut sim, &mut checker)?;
        for call in &checker.enqueued {
            prop_assert_eq!(
                checker.terminals.get(call).copied().unwrap_or(0),
                1,
                "call {} must end exactly once (connected, abandoned, exited or rejected)",
                call
            );
        }
        // Replaying the whole log from scratch gives the same agents as the router.
        let mut replay = Replay::new(test_config().agents, sim.t0);
        for event in &sim.log {
            replay.apply(event);
        }
        for view in sim.router.agents() {
            prop_assert_eq!(&replay.agents()[view.id].state, view.state);
        }
    }
}
