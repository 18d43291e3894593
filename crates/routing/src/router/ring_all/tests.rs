//! Ring-all rules on virtual time.

use std::time::{Duration, Instant};

use crate::agent_state::{AgentState, NotReadyReason, RequestedState};
use crate::command::{Command, CommandError, OfferFailure};
use crate::config::{AgentSettings, QueueConfig, RouterConfig, Strategy};
use crate::event::{OfferReason, RequeueReason, RevokeReason, RoutingEvent};
use crate::ids::{AgentId, CallId, QueueId};
use crate::replay::Replay;
use crate::router::{CallStatus, Router};

const RING: Duration = Duration::from_secs(20);

/// A router on virtual time with one ring-all queue "sales" (ann, bob, cat; cat at penalty 1)
/// that folds every event into a replay as it drains them.
struct Harness {
    router: Router,
    now: Instant,
    replay: Replay,
}

fn id(name: &str) -> AgentId {
    AgentId::new(name)
}

fn sales() -> QueueId {
    QueueId::new("sales")
}

impl Harness {
    fn new(max_missed: u32) -> Self {
        let agents: Vec<AgentId> = ["ann", "bob", "cat"].into_iter().map(id).collect();
        let config = RouterConfig {
            queues: vec![QueueConfig {
                id: sales(),
                members: agents.clone(),
                ring_timeout: RING,
                wrap_up: Duration::ZERO,
                strategy: Strategy::RingAll,
                penalties: [(id("cat"), 1)].into(),
                ..QueueConfig::default()
            }],
            agent_settings: agents
                .iter()
                .map(|a| {
                    let settings = AgentSettings {
                        max_missed_offers: max_missed,
                        ..AgentSettings::default()
                    };
                    (a.clone(), settings)
                })
                .collect(),
            agents: agents.clone(),
            ..RouterConfig::default()
        };
        let t0 = Instant::now();
        let router = Router::new(config, t0).expect("valid configuration");
        Self {
            router,
            now: t0,
            replay: Replay::new(agents, t0),
        }
    }

    /// Logs the agents in one second apart (so ann has been idle the longest).
    fn login(&mut self, names: &[&str]) {
        for name in names {
            self.cmd(Command::ContactsChanged {
                agent: id(name),
                count: 1,
            });
            self.advance(Duration::from_secs(1));
        }
        self.take();
    }

    fn cmd(&mut self, command: Command) {
        self.try_cmd(command).expect("command accepted");
    }

    fn try_cmd(&mut self, command: Command) -> Result<(), CommandError> {
        self.router.handle(self.now, command)
    }

    fn advance(&mut self, by: Duration) {
        self.now += by;
        self.router.handle_timeout(self.now);
    }

    fn enqueue(&mut self, call: u128) {
        self.cmd(Command::Enqueue {
            call: CallId(call),
            queue: sales(),
        });
    }

    fn take(&mut self) -> Vec<RoutingEvent> {
        let events: Vec<RoutingEvent> = std::iter::from_fn(|| self.router.poll_event()).collect();
        for event in &events {
            self.replay.apply(event);
        }
        events
    }

    fn state(&self, name: &str) -> AgentState {
        self.router
            .agent(&id(name))
            .map(|a| a.state.clone())
            .expect("configured agent")
    }

    fn idle_since(&self, name: &str) -> Option<Instant> {
        self.router.agent(&id(name)).and_then(|a| a.idle_since)
    }

    fn ringing(&self, call: u128) -> Vec<String> {
        match self.router.call(CallId(call)).map(|c| c.status) {
            Some(CallStatus::RingingAll { agents, .. }) => {
                agents.iter().map(|a| a.as_str().to_string()).collect()
            }
            other => panic!("call {call} not ringing all: {other:?}"),
        }
    }

    /// The replay agrees with the router on every agent and call.
    fn assert_replay(&self) {
        for view in self.router.agents() {
            let replayed = &self.replay.agents()[view.id];
            assert_eq!(&replayed.state, view.state, "state of {}", view.id);
            assert_eq!(replayed.since, view.since, "since of {}", view.id);
            assert_eq!(replayed.current_call, view.current_call, "{}", view.id);
        }
        assert_eq!(self.replay.calls().len(), self.router.call_count());
        for (call, replayed) in self.replay.calls() {
            let view = self.router.call(*call).expect("replayed call known");
            let (ringing, agent, connected): (Vec<&AgentId>, Option<&AgentId>, bool) =
                match view.status {
                    CallStatus::Waiting { .. } => (vec![], None, false),
                    CallStatus::Offered { agent, .. } | CallStatus::Dialing { agent, .. } => {
                        (vec![agent], Some(agent), false)
                    }
                    CallStatus::RingingAll { agents, .. } => {
                        let one = (agents.len() == 1).then(|| agents[0]);
                        (agents, one, false)
                    }
                    CallStatus::Connected { agent, .. } => (vec![], Some(agent), true),
                };
            assert_eq!(replayed.ringing.iter().collect::<Vec<_>>(), ringing);
            assert_eq!(replayed.agent.as_ref(), agent);
            assert_eq!(replayed.connected, connected);
        }
    }
}

fn offered(events: &[RoutingEvent]) -> Vec<(CallId, String, OfferReason)> {
    events
        .iter()
        .filter_map(|e| match e {
            RoutingEvent::CallOffered {
                call,
                agent,
                reason,
                ..
            } => Some((*call, agent.as_str().to_string(), reason.clone())),
            _ => None,
        })
        .collect()
}

fn revoked(events: &[RoutingEvent]) -> Vec<(String, RevokeReason)> {
    events
        .iter()
        .filter_map(|e| match e {
            RoutingEvent::OfferRevoked { agent, reason, .. } => {
                Some((agent.as_str().to_string(), *reason))
            }
            _ => None,
        })
        .collect()
}

fn requeued(events: &[RoutingEvent]) -> Vec<(String, RequeueReason)> {
    events
        .iter()
        .filter_map(|e| match e {
            RoutingEvent::CallRequeued { agent, reason, .. } => {
                Some((agent.as_str().to_string(), *reason))
            }
            _ => None,
        })
        .collect()
}

fn missed() -> AgentState {
    AgentState::NotReady(NotReadyReason::MissedOffer)
}

#[test]
fn every_best_placed_ready_agent_rings_at_once() {
    let mut h = Harness::new(1);
    h.login(&["ann", "bob", "cat"]);
    h.enqueue(1);
    let events = h.take();
    let offers = offered(&events);
    // cat's penalty places it behind ann and bob, who ring together.
    let names: Vec<&str> = offers.iter().map(|(_, a, _)| a.as_str()).collect();
    assert_eq!(names, ["ann", "bob"]);
    for (call, _, reason) in &offers {
        assert_eq!(*call, CallId(1));
        assert_eq!(reason.strategy, Strategy::RingAll);
        assert_eq!(reason.penalty, 0);
        assert_eq!(reason.via_queue, sales());
    }
    assert_eq!(h.state("ann"), AgentState::Reserved);
    assert_eq!(h.state("bob"), AgentState::Reserved);
    assert_eq!(h.state("cat"), AgentState::Ready);
    assert_eq!(h.ringing(1), ["ann", "bob"]);
    let view = h.router.queue(&sales()).expect("queue");
    assert_eq!((view.waiting, view.offering), (1, 1));
    // One ring timer per offer, both due together.
    assert_eq!(
        h.router.poll_timeout().map(|(at, _)| at),
        Some(h.now + RING)
    );
    // Each phone may report ringing on its own.
    h.cmd(Command::OfferRinging {
        call: CallId(1),
        agent: id("bob"),
    });
    assert_eq!(h.state("bob"), AgentState::Ringing);
    assert_eq!(h.state("ann"), AgentState::Reserved);
    h.take();
    h.assert_replay();
}

#[test]
fn first_answer_takes_the_call_and_the_others_keep_their_idle_time() {
    let mut h = Harness::new(1);
    h.login(&["ann", "bob"]);
    let ann_idle = h.idle_since("ann");
    h.enqueue(1);
    h.take();
    h.advance(Duration::from_secs(4));
    h.cmd(Command::OfferAnswered {
        call: CallId(1),
        agent: id("bob"),
    });
    let events = h.take();
    assert!(matches!(
        &events[0],
        RoutingEvent::CallConnected { agent, wait, .. }
            if agent.as_str() == "bob" && *wait == Duration::from_secs(4)
    ));
    assert_eq!(
        revoked(&events),
        [("ann".to_string(), RevokeReason::AnsweredElsewhere)]
    );
    assert!(requeued(&events).is_empty(), "the call did not go back");
    assert_eq!(h.state("bob"), AgentState::OnCall);
    // No missed offer (max 1 would have made ann not ready) and the same idle time.
    assert_eq!(h.state("ann"), AgentState::Ready);
    assert_eq!(h.idle_since("ann"), ann_idle);
    assert_eq!(h.router.poll_timeout(), None, "every ring timer cancelled");
    // ann's late answer is refused: the offer is gone.
    assert!(matches!(
        h.try_cmd(Command::OfferAnswered {
            call: CallId(1),
            agent: id("ann"),
        }),
        Err(CommandError::NotOffered { .. })
    ));
    h.assert_replay();
}

#[test]
fn ring_timeout_revokes_every_ringing_offer_and_counts_each_a_miss() {
    let mut h = Harness::new(2);
    h.login(&["ann", "bob"]);
    h.enqueue(1);
    h.enqueue(2);
    h.take();
    h.advance(RING);
    let events = h.take();
    assert_eq!(
        revoked(&events),
        [
            ("ann".to_string(), RevokeReason::RingTimeout),
            ("bob".to_string(), RevokeReason::RingTimeout),
        ]
    );
    assert_eq!(
        requeued(&events),
        [
            ("ann".to_string(), RequeueReason::RingTimeout),
            ("bob".to_string(), RequeueReason::RingTimeout),
        ]
    );
    // One miss each (of two allowed): both ready again, and the entry, which kept its place
    // ahead of call 2, rings them again.
    let again = offered(&events);
    assert_eq!(
        again
            .iter()
            .map(|(c, a, _)| (c.0, a.as_str()))
            .collect::<Vec<_>>(),
        [(1, "ann"), (1, "bob")]
    );
    h.assert_replay();
    // A second timeout is the second miss in a row: both not ready, the entry waits first.
    h.advance(RING);
    h.take();
    assert_eq!(h.state("ann"), missed());
    assert_eq!(h.state("bob"), missed());
    assert!(matches!(
        h.router.call(CallId(1)).map(|c| c.status),
        Some(CallStatus::Waiting { position: 1 })
    ));
    h.assert_replay();
}

#[test]
fn an_agent_failing_its_own_offer_leaves_the_others_ringing() {
    let mut h = Harness::new(1);
    h.login(&["ann", "bob", "cat"]);
    h.enqueue(1);
    h.take();
    h.cmd(Command::OfferFailed {
        call: CallId(1),
        agent: id("ann"),
        cause: OfferFailure::Rejected,
    });
    let events = h.take();
    assert_eq!(
        requeued(&events),
        [(
            "ann".to_string(),
            RequeueReason::OfferFailed(OfferFailure::Rejected)
        )]
    );
    assert!(revoked(&events).is_empty());
    assert!(offered(&events).is_empty(), "cat is not added to the ring");
    assert_eq!(h.state("ann"), missed());
    assert_eq!(h.state("bob"), AgentState::Reserved);
    assert_eq!(h.ringing(1), ["bob"]);
    // bob's ring timer still runs; ann's is gone.
    assert_eq!(
        h.router.poll_timeout().map(|(at, _)| at),
        Some(h.now + RING)
    );
    h.assert_replay();

    // The last offer failing puts the entry back to wait; cat, ready, is rung at once.
    h.cmd(Command::OfferFailed {
        call: CallId(1),
        agent: id("bob"),
        cause: OfferFailure::Busy,
    });
    let events = h.take();
    assert_eq!(
        requeued(&events),
        [(
            "bob".to_string(),
            RequeueReason::OfferFailed(OfferFailure::Busy)
        )]
    );
    assert_eq!(h.state("bob"), missed());
    assert_eq!(
        offered(&events)
            .iter()
            .map(|(_, a, _)| a.as_str())
            .collect::<Vec<_>>(),
        ["cat"]
    );
    assert_eq!(h.ringing(1), ["cat"]);
    h.assert_replay();
}

#[test]
fn the_last_failure_without_another_agent_leaves_the_entry_waiting() {
    let mut h = Harness::new(1);
    h.login(&["ann", "bob"]);
    h.enqueue(1);
    h.take();
    for name in ["bob", "ann"] {
        h.cmd(Command::OfferFailed {
            call: CallId(1),
            agent: id(name),
            cause: OfferFailure::Unreachable,
        });
    }
    h.take();
    assert!(matches!(
        h.router.call(CallId(1)).map(|c| c.status),
        Some(CallStatus::Waiting { position: 1 })
    ));
    assert_eq!(h.router.poll_timeout(), None, "no ring timer left");
    h.assert_replay();
}

#[test]
fn a_caller_hanging_up_revokes_every_offer() {
    let mut h = Harness::new(1);
    h.login(&["ann", "bob"]);
    let idle = (h.idle_since("ann"), h.idle_since("bob"));
    h.enqueue(1);
    h.take();
    h.advance(Duration::from_secs(3));
    h.cmd(Command::Abandon { call: CallId(1) });
    let events = h.take();
    assert_eq!(
        revoked(&events),
        [
            ("ann".to_string(), RevokeReason::CallerAbandoned),
            ("bob".to_string(), RevokeReason::CallerAbandoned),
        ]
    );
    assert!(events
        .iter()
        .any(|e| matches!(e, RoutingEvent::CallAbandoned { .. })));
    assert_eq!(h.state("ann"), AgentState::Ready);
    assert_eq!(h.state("bob"), AgentState::Ready);
    assert_eq!((h.idle_since("ann"), h.idle_since("bob")), idle);
    assert_eq!(h.router.poll_timeout(), None);
    h.assert_replay();
}

#[test]
fn an_agent_logging_out_revokes_its_own_offer_alone() {
    let mut h = Harness::new(1);
    h.login(&["ann", "bob"]);
    h.enqueue(1);
    h.take();
    h.cmd(Command::ContactsChanged {
        agent: id("ann"),
        count: 0,
    });
    let events = h.take();
    assert_eq!(
        revoked(&events),
        [("ann".to_string(), RevokeReason::AgentLoggedOut)]
    );
    assert_eq!(h.state("ann"), AgentState::LoggedOut);
    assert_eq!(h.ringing(1), ["bob"]);
    h.cmd(Command::OfferAnswered {
        call: CallId(1),
        agent: id("bob"),
    });
    let events = h.take();
    assert!(revoked(&events).is_empty(), "nobody else to revoke");
    assert_eq!(h.state("bob"), AgentState::OnCall);
    h.assert_replay();
}

#[test]
fn an_agent_never_holds_two_offers() {
    let mut h = Harness::new(1);
    h.login(&["ann", "bob"]);
    h.enqueue(1);
    h.enqueue(2);
    let events = h.take();
    assert!(offered(&events).iter().all(|(c, _, _)| *c == CallId(1)));
    assert!(matches!(
        h.router.call(CallId(2)).map(|c| c.status),
        Some(CallStatus::Waiting { position: 2 })
    ));
    // bob answers call 1: ann is released and call 2 rings her alone.
    h.cmd(Command::OfferAnswered {
        call: CallId(1),
        agent: id("bob"),
    });
    let events = h.take();
    assert_eq!(
        offered(&events)
            .iter()
            .map(|(c, a, _)| (c.0, a.as_str()))
            .collect::<Vec<_>>(),
        [(2, "ann")]
    );
    assert_eq!(h.ringing(2), ["ann"]);
    h.assert_replay();
}

#[test]
fn a_pending_not_ready_applies_when_answered_elsewhere() {
    let mut h = Harness::new(1);
    h.login(&["ann", "bob"]);
    h.enqueue(1);
    h.take();
    let lunch = NotReadyReason::Manual("lunch".into());
    h.cmd(Command::SetState {
        agent: id("ann"),
        state: RequestedState::NotReady(lunch.clone()),
    });
    h.cmd(Command::OfferAnswered {
        call: CallId(1),
        agent: id("bob"),
    });
    h.take();
    assert_eq!(h.state("ann"), AgentState::NotReady(lunch));
    h.assert_replay();
}

#[test]
fn the_simulator_runs_a_ring_all_queue() {
    // Offers are answered at once in the simulator, so every agent rung beside the first is
    // answered elsewhere; the run must go through and match longest-idle's totals (the same
    // callers, and a free agent answers at once either way).
    let config = crate::sim::SimConfig {
        agents: 3,
        arrival_rate: 2.0 / 180.0,
        duration: 20_000.0,
        patience: Some(60.0),
        ..crate::sim::SimConfig::default()
    };
    let mut router_config = config.router_config();
    let longest_idle = crate::sim::simulate_with(
        &config,
        router_config.clone(),
        &crate::sim::SimConfig::queue_id(),
    )
    .expect("longest-idle run");
    router_config.queues[0].strategy = Strategy::RingAll;
    let ring_all =
        crate::sim::simulate_with(&config, router_config, &crate::sim::SimConfig::queue_id())
            .expect("ring-all run");
    assert!(ring_all.answered > 0);
    assert_eq!(ring_all.offered, longest_idle.offered);
    assert_eq!(ring_all.answered, longest_idle.answered);
    assert_eq!(ring_all.abandoned, longest_idle.abandoned);
}
