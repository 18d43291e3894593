//! Internal consistency of the router's indexes under random commands.

use std::time::{Duration, Instant};

use proptest::prelude::*;

use super::{Phase, Router};
use crate::agent_state::{AgentState, NotReadyReason, RequestedState};
use crate::command::{Command, OfferFailure};
use crate::config::{QueueConfig, RouterConfig, Strategy as Distribution};
use crate::ids::{AgentId, CallId, QueueId};
use crate::timers::TimerReason;

/// Every cross-reference between agents, calls, lines, the unoffered index and timers agrees.
fn check(router: &Router) {
    let ready = router
        .agents
        .iter()
        .filter(|a| a.state == AgentState::Ready)
        .count();
    assert_eq!(router.ready, ready, "ready counter");
    for (id, call) in &router.calls {
        let in_line = router.queues[call.queue].line.contains(id);
        let unoffered = router.unoffered.get(&call.seq) == Some(id);
        match call.phase {
            Phase::Waiting => assert!(in_line && unoffered, "{id} waiting"),
            Phase::Offered { agent } => {
                assert!(in_line && !unoffered, "{id} offered");
                assert_eq!(router.agents[agent].call, Some(*id));
                assert!(router.agents[agent].state.holds_offer());
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
    // Exactly one ring timer per offer and one wrap-up timer per agent in wrap-up.
    let mut armed = 0;
    for (id, call) in &router.calls {
        if let Phase::Offered { agent } = call.phase {
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
    assert_eq!(router.timers.len(), armed, "no stray timers");
    // Nobody ready is left with a call it could take.
    if router.ready > 0 {
        for &seq_call in router.unoffered.values() {
            let q = router.calls[&seq_call].queue;
            let takers = router.queues[q]
                .members
                .iter()
                .filter(|&&a| router.agents[a].state == AgentState::Ready)
                .count();
            assert_eq!(takers, 0, "{seq_call} waits beside a ready member");
        }
    }
}

fn router(now: Instant) -> Router {
    let agents: Vec<AgentId> = (0..3).map(|i| AgentId::new(format!("a{i}"))).collect();
    let queue = |name: &str, members: &[usize]| QueueConfig {
        id: QueueId::new(name),
        members: members.iter().map(|&i| agents[i].clone()).collect(),
        ring_timeout: Duration::from_secs(2),
        wrap_up: Duration::from_secs(1),
        strategy: Distribution::LongestIdle,
    };
    let config = RouterConfig {
        queues: vec![queue("q0", &[0, 1]), queue("q1", &[1, 2])],
        agents: agents.clone(),
    };
    // The configuration above is valid by construction.
    Router::new(config, now).expect("valid config")
}

fn command() -> impl Strategy<Value = Option<Command>> {
    let call = (0..6u128).prop_map(CallId);
    let agent = (0..3usize).prop_map(|i| AgentId::new(format!("a{i}")));
    let queue = (0..2usize).prop_map(|i| QueueId::new(format!("q{i}")));
    prop_oneof![
        (call.clone(), queue).prop_map(|(call, queue)| Some(Command::Enqueue { call, queue })),
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
        (agent, 0..3usize)
            .prop_map(|(agent, count)| Some(Command::ContactsChanged { agent, count })),
        Just(None),
    ]
}

proptest! {
    #[test]
    fn indexes_stay_consistent(commands in proptest::collection::vec(command(), 1..80)) {
        let t0 = Instant::now();
        let mut router = router(t0);
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
