//! Internal consistency of the router's indexes under random commands.

use std::time::{Duration, Instant};

use proptest::prelude::*;

use super::{Phase, Router};
use crate::agent_state::{AgentState, NotReadyReason, RequestedState};
use crate::command::{Command, OfferFailure};
use crate::config::{
    AgentSettings, EmptyRule, EnqueueOptions, QueueConfig, RelaxAction, RelaxStep, RouterConfig,
    Strategy as Distribution,
};
use crate::ids::{AgentId, CallId, QueueId};
use crate::skills::{SkillId, SkillRequirement};
use crate::timers::TimerReason;

/// Every cross-reference between agents, calls, lines, the unoffered index and timers agrees.
pub(super) fn check(router: &Router) {
    let ready = router
        .agents
        .iter()
        .filter(|a| a.state == AgentState::Ready)
        .count();
    assert_eq!(router.ready, ready, "ready counter");
    for (id, call) in &router.calls {
        let in_line = router.queues[call.queue].line.get(&call.line_key()) == Some(id);
        let unoffered = router.unoffered.get(&call.seq) == Some(id);
        let ring_all = router.queues[call.queue].config.strategy == Distribution::RingAll;
        match call.phase {
            Phase::Waiting => assert!(in_line && unoffered, "{id} waiting"),
            Phase::RingingAll { ref agents } => {
                assert!(ring_all, "{id} rings several agents outside ring-all");
                assert!(in_line && !unoffered, "{id} ringing all");
                assert!(!agents.is_empty(), "{id} rings nobody");
                assert!(agents.windows(2).all(|w| w[0] < w[1]), "{id} agent order");
                for &agent in agents {
                    assert!(
                        router.qualifies(*id, agent),
                        "{id} offered to an unqualified agent"
                    );
                    assert_eq!(router.agents[agent].call, Some(*id));
                    assert!(router.agents[agent].state.holds_offer());
                }
            }
            Phase::Offered { agent } => {
                assert!(!ring_all, "a ring-all entry offered as a single offer");
                assert!(in_line && !unoffered, "{id} offered");
                assert!(
                    router.qualifies(*id, agent),
                    "{id} offered to an unqualified agent"
                );
                assert_eq!(router.agents[agent].call, Some(*id));
                assert!(router.agents[agent].state.holds_offer());
            }
            Phase::Dialing { agent } => {
                assert!(call.kind.is_callback(), "{id} dialed but not a callback");
                assert!(in_line && !unoffered, "{id} dialing");
                assert!(
                    router.qualifies(*id, agent),
                    "{id} due to an unqualified agent"
                );
                assert_eq!(router.agents[agent].call, Some(*id));
                assert_eq!(router.agents[agent].state, AgentState::Reserved);
            }
            Phase::RetryWait => {
                assert!(
                    call.kind.is_callback(),
                    "{id} retry-waits but not a callback"
                );
                assert!(in_line && !unoffered, "{id} retry-waiting");
            }
            Phase::Connected { agent, .. } => {
                assert!(!in_line && !unoffered, "{id} connected");
                assert_eq!(router.agents[agent].call, Some(*id));
                assert_eq!(router.agents[agent].state, AgentState::OnCall);
            }
        }
    }
    assert_eq!(
        router.unoffered.len(),
        router
            .calls
            .values()
            .filter(|c| matches!(c.phase, Phase::Waiting))
            .count()
    );
    for agent in &router.agents {
        let holds = agent.state.holds_offer() || agent.state == AgentState::OnCall;
        assert_eq!(agent.call.is_some(), holds, "{} call", agent.id);
    }
    // An agent holds at most one offer, whatever the number of offers of an entry.
    let mut holding = std::collections::BTreeSet::new();
    for call in router.calls.values() {
        for &agent in call.phase.offered() {
            assert!(
                holding.insert(agent),
                "{} holds two offers",
                router.agents[agent].id
            );
        }
        if let Phase::Dialing { agent } = call.phase {
            let name = &router.agents[agent].id;
            assert!(
                holding.insert(agent),
                "{name} holds an offer and a callback"
            );
        }
    }
    // Exactly one ring timer per offer and one wrap-up timer per agent in wrap-up.
    let mut armed = 0;
    for (id, call) in &router.calls {
        for &agent in call.phase.offered() {
            let agent = router.agents[agent].id.clone();
            assert!(router
                .timers
                .is_armed(&TimerReason::RingTimeout { call: *id, agent }));
            armed += 1;
        }
    }
    for agent in router
        .agents
        .iter()
        .filter(|a| a.state == AgentState::WrapUp)
    {
        let agent = agent.id.clone();
        assert!(router.timers.is_armed(&TimerReason::WrapUpEnd { agent }));
        armed += 1;
    }
    for (id, call) in &router.calls {
        for reason in [
            TimerReason::Relax { call: *id },
            TimerReason::MaxWait { call: *id },
        ] {
            if router.timers.is_armed(&reason) {
                assert!(!matches!(call.phase, Phase::Connected { .. }), "{reason:?}");
                armed += 1;
            }
        }
        armed += callbacks::check_timers(router, *id, call);
    }
    assert_eq!(router.timers.len(), armed, "no stray timers");
    let lines: usize = router.queues.iter().map(|q| q.line.len()).sum();
    let unconnected = router
        .calls
        .values()
        .filter(|c| !matches!(c.phase, Phase::Connected { .. }))
        .count();
    assert_eq!(
        lines, unconnected,
        "lines hold exactly the unconnected calls"
    );
    // Nobody ready is left with a call it could take.
    if router.ready > 0 {
        for &seq_call in router.unoffered.values() {
            let takers = (0..router.agents.len())
                .filter(|&a| router.agents[a].state == AgentState::Ready)
                .filter(|&a| router.qualifies(seq_call, a))
                .count();
            assert_eq!(takers, 0, "{seq_call} waits beside a ready member");
        }
    }
}

fn router(now: Instant, strategy: Distribution) -> Router {
    let agents: Vec<AgentId> = (0..3).map(|i| AgentId::new(format!("a{i}"))).collect();
    let queue = |name: &str, members: &[usize]| QueueConfig {
        id: QueueId::new(name),
        members: members.iter().map(|&i| agents[i].clone()).collect(),
        ring_timeout: Duration::from_secs(2),
        wrap_up: Duration::from_secs(1),
        strategy,
        penalties: [(agents[1].clone(), 1)].into(),
        ..QueueConfig::default()
    };
    let mut q0 = queue("q0", &[0, 1]);
    q0.relaxation = vec![
        RelaxStep {
            after: Duration::from_secs(1),
            action: RelaxAction::LowerProficiency { by: 3 },
        },
        RelaxStep {
            after: Duration::from_secs(2),
            action: RelaxAction::AddQueues {
                queues: vec![QueueId::new("q1")],
            },
        },
        RelaxStep {
            after: Duration::from_secs(5),
            action: RelaxAction::Exit,
        },
    ];
    q0.max_len = Some(4);
    let mut q1 = queue("q1", &[1, 2]);
    q1.max_wait = Some(Duration::from_secs(4));
    q1.leave_when_empty = EmptyRule::NoneLoggedIn;
    let skills = |fr: u8| AgentSettings {
        skills: [(SkillId::new("fr"), fr)].into(),
        max_missed_offers: 2,
        ..AgentSettings::default()
    };
    let config = RouterConfig {
        queues: vec![q0, q1],
        agents: agents.clone(),
        agent_settings: [
            (agents[0].clone(), skills(3)),
            (agents[1].clone(), skills(8)),
        ]
        .into(),
        seed: 7,
        ..RouterConfig::default()
    };
    // The configuration above is valid by construction.
    Router::new(config, now).expect("valid config")
}

fn command() -> impl Strategy<Value = Option<Command>> {
    let call = (0..6u128).prop_map(CallId);
    let agent = (0..3usize).prop_map(|i| AgentId::new(format!("a{i}")));
    let queue = (0..2usize).prop_map(|i| QueueId::new(format!("q{i}")));
    let options = (0..3i32, 0..11u8).prop_map(|(priority, fr)| EnqueueOptions {
        required: if fr == 0 {
            vec![]
        } else {
            vec![SkillRequirement::new("fr", fr)]
        },
        priority,
        ..EnqueueOptions::default()
    });
    prop_oneof![
        (call.clone(), queue, options).prop_map(|(call, queue, options)| Some(
            Command::EnqueueWith {
                call,
                queue,
                options
            }
        )),
        call.clone()
            .prop_map(|call| Some(Command::Abandon { call })),
        call.clone()
            .prop_map(|call| Some(Command::CallEnded { call })),
        (call.clone(), agent.clone())
            .prop_map(|(call, agent)| Some(Command::OfferRinging { call, agent })),
        (call.clone(), agent.clone())
            .prop_map(|(call, agent)| Some(Command::OfferAnswered { call, agent })),
        (call, agent.clone()).prop_map(|(call, agent)| Some(Command::OfferFailed {
            call,
            agent,
            cause: OfferFailure::Busy
        })),
        (agent.clone(), any::<bool>()).prop_map(|(agent, ready)| Some(Command::SetState {
            agent,
            state: if ready {
                RequestedState::Ready
            } else {
                RequestedState::NotReady(NotReadyReason::Manual("x".into()))
            },
        })),
        agent
            .clone()
            .prop_map(|agent| Some(Command::EndWrapUp { agent })),
        agent.clone().prop_map(|agent| Some(Command::ExtendWrapUp {
            agent,
            by: Duration::from_secs(1)
        })),
        (agent, 0..3usize)
            .prop_map(|(agent, count)| Some(Command::ContactsChanged { agent, count })),
        Just(None),
    ]
}

fn strategy() -> impl Strategy<Value = Distribution> {
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

proptest! {
    #[test]
    fn indexes_stay_consistent(
        commands in proptest::collection::vec(command(), 1..80),
        strategy in strategy(),
    ) {
        let t0 = Instant::now();
        let mut router = router(t0, strategy);
        let mut now = t0;
        for command in commands {
            match command {
                Some(command) => {
                    let before = router.events.len();
                    if router.handle(now, command).is_err() {
                        prop_assert_eq!(router.events.len(), before, "a refusal emits nothing");
                    }
                }
                None => {
                    now += Duration::from_millis(700);
                    router.handle_timeout(now);
                }
            }
            check(&router);
            if let Some((at, _)) = router.poll_timeout() {
                prop_assert!(at >= t0);
            }
            router.events.clear();
        }
    }
}

proptest! {
    /// Ring-all with every penalty at 0, so that most entries ring several agents at once.
    #[test]
    fn ring_all_indexes_stay_consistent(
        commands in proptest::collection::vec(command(), 1..80),
    ) {
        let t0 = Instant::now();
        let mut router = router(t0, Distribution::RingAll);
        for queue in &mut router.queues {
            queue.penalties.fill(0);
        }
        let mut now = t0;
        for command in commands {
            match command {
                Some(command) => {
                    let before = router.events.len();
                    if router.handle(now, command).is_err() {
                        prop_assert_eq!(router.events.len(), before, "a refusal emits nothing");
                    }
                }
                None => {
                    now += Duration::from_millis(700);
                    router.handle_timeout(now);
                }
            }
            check(&router);
            router.events.clear();
        }
    }
}

mod callbacks;
