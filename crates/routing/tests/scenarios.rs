//! Scenario tests of the routing core on virtual time.

mod sim;

use std::time::Duration;

use hotline_routing::{
    AgentState, CallId, CallStatus, Command, CommandError, NotReadyReason, OfferFailure,
    RequestedState, RequeueReason, RevokeReason, RoutingEvent, TimerReason,
};
use sim::{agent, config, queue, queue_config, Sim};

fn lunch() -> RequestedState {
    RequestedState::NotReady(NotReadyReason::Manual("lunch".into()))
}

fn missed() -> AgentState {
    AgentState::NotReady(NotReadyReason::MissedOffer)
}

#[test]
fn offer_answer_end_wrap_up_then_ready() {
    let mut sim = Sim::new(config(vec![queue_config("sales", &["alice"])], &["alice"]));
    sim.login("alice");
    sim.take();
    sim.enqueue(1, "sales");
    let events = sim.take();
    assert_eq!(
        events[0],
        RoutingEvent::CallQueued {
            call: CallId(1),
            queue: queue("sales"),
            position: 1
        }
    );
    assert!(events.contains(&RoutingEvent::CallOffered {
        call: CallId(1),
        queue: queue("sales"),
        agent: agent("alice"),
        ring_timeout: Duration::from_secs(10),
        reason: sim::plain_reason("sales"),
    }));
    assert_eq!(sim.state("alice"), AgentState::Reserved);

    sim.cmd(Command::OfferRinging {
        call: CallId(1),
        agent: agent("alice"),
    });
    assert_eq!(sim.state("alice"), AgentState::Ringing);

    sim.advance(Duration::from_secs(3));
    sim.take();
    sim.answer(1, "alice");
    let events = sim.take();
    assert_eq!(
        events[0],
        RoutingEvent::CallConnected {
            call: CallId(1),
            queue: queue("sales"),
            agent: agent("alice"),
            wait: Duration::from_secs(3),
        }
    );
    assert_eq!(sim.state("alice"), AgentState::OnCall);
    assert_eq!(sim.router.poll_timeout(), None, "ring timer cancelled");

    sim.advance(Duration::from_secs(60));
    sim.end(1);
    let events = sim.take();
    assert!(events.contains(&RoutingEvent::CallCompleted {
        call: CallId(1),
        queue: queue("sales"),
        agent: agent("alice"),
        talk: Duration::from_secs(60),
    }));
    assert_eq!(sim.state("alice"), AgentState::WrapUp);
    assert_eq!(
        sim.router.poll_timeout(),
        Some((
            sim.secs(68),
            TimerReason::WrapUpEnd {
                agent: agent("alice")
            }
        ))
    );

    assert!(sim.next_timer());
    assert_eq!(sim.state("alice"), AgentState::Ready);
    let view = sim.router.agent(&agent("alice")).expect("alice");
    assert_eq!(view.since, sim.secs(68));
    assert_eq!(view.idle_since, Some(sim.secs(68)));
    assert_eq!(view.current_call, None);
    assert_eq!(sim.router.call_count(), 0);
}

#[test]
fn ring_timeout_offers_next_agent_and_marks_missed() {
    let mut sim = Sim::new(config(
        vec![queue_config("sales", &["alice", "bob"])],
        &["alice", "bob"],
    ));
    sim.login("alice");
    sim.advance(Duration::from_secs(1));
    sim.login("bob");
    sim.enqueue(1, "sales");
    assert_eq!(sim.offers(), vec![(CallId(1), agent("alice"))]);

    sim.advance(Duration::from_secs(10));
    let events = sim.take();
    let at = sim.secs(11);
    assert_eq!(
        events,
        vec![
            RoutingEvent::OfferRevoked {
                call: CallId(1),
                agent: agent("alice"),
                reason: RevokeReason::RingTimeout,
            },
            RoutingEvent::CallRequeued {
                call: CallId(1),
                queue: queue("sales"),
                agent: agent("alice"),
                reason: RequeueReason::RingTimeout,
            },
            RoutingEvent::AgentStateChanged {
                agent: agent("alice"),
                from: AgentState::Reserved,
                to: missed(),
                at,
            },
            RoutingEvent::AgentStateChanged {
                agent: agent("bob"),
                from: AgentState::Ready,
                to: AgentState::Reserved,
                at,
            },
            RoutingEvent::CallOffered {
                call: CallId(1),
                queue: queue("sales"),
                agent: agent("bob"),
                ring_timeout: Duration::from_secs(10),
                reason: sim::plain_reason("sales"),
            },
        ]
    );
    assert_eq!(sim.state("alice"), missed());
    assert!(matches!(
        sim.router.call(CallId(1)).map(|c| c.status),
        Some(CallStatus::Offered { position: 1, .. })
    ));
}

#[test]
fn rejected_offer_goes_to_next_agent_at_once() {
    let mut sim = Sim::new(config(
        vec![queue_config("sales", &["alice", "bob"])],
        &["alice", "bob"],
    ));
    sim.login("alice");
    sim.login("bob");
    sim.enqueue(1, "sales");
    assert_eq!(sim.offers(), vec![(CallId(1), agent("alice"))]);
    sim.cmd(Command::OfferFailed {
        call: CallId(1),
        agent: agent("alice"),
        cause: OfferFailure::Rejected,
    });
    let events = sim.take();
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, RoutingEvent::OfferRevoked { .. })),
        "a failed offer needs no cancel"
    );
    assert!(events.contains(&RoutingEvent::CallRequeued {
        call: CallId(1),
        queue: queue("sales"),
        agent: agent("alice"),
        reason: RequeueReason::OfferFailed(OfferFailure::Rejected),
    }));
    assert!(events.iter().any(|e| matches!(
        e,
        RoutingEvent::CallOffered { agent, .. } if *agent == sim::agent("bob")
    )));
    assert_eq!(sim.state("alice"), missed());
    assert_eq!(sim.now, sim.t0, "no time passed");
}

#[test]
fn abandon_while_queued_reports_wait_and_position() {
    let mut sim = Sim::new(config(vec![queue_config("sales", &["alice"])], &["alice"]));
    sim.enqueue(1, "sales");
    sim.advance(Duration::from_secs(2));
    sim.enqueue(2, "sales");
    sim.advance(Duration::from_secs(5));
    sim.take();
    sim.cmd(Command::Abandon { call: CallId(2) });
    assert_eq!(
        sim.take(),
        vec![RoutingEvent::CallAbandoned {
            call: CallId(2),
            queue: queue("sales"),
            wait: Duration::from_secs(5),
            position: 2,
        }]
    );
    let view = sim.router.queue(&queue("sales")).expect("sales");
    assert_eq!(view.waiting, 1);
    assert_eq!(view.oldest_wait_since, Some(sim.t0));
    assert_eq!(
        sim.try_cmd(Command::Abandon { call: CallId(2) }),
        Err(CommandError::UnknownCall(CallId(2)))
    );
}

#[test]
fn abandon_while_ringing_revokes_the_offer_and_frees_the_agent() {
    let mut sim = Sim::new(config(vec![queue_config("sales", &["alice"])], &["alice"]));
    sim.login("alice");
    sim.advance(Duration::from_secs(30));
    sim.enqueue(1, "sales");
    sim.advance(Duration::from_secs(4));
    sim.take();
    sim.cmd(Command::Abandon { call: CallId(1) });
    let events = sim.take();
    assert_eq!(
        events[..2],
        [
            RoutingEvent::OfferRevoked {
                call: CallId(1),
                agent: agent("alice"),
                reason: RevokeReason::CallerAbandoned,
            },
            RoutingEvent::CallAbandoned {
                call: CallId(1),
                queue: queue("sales"),
                wait: Duration::from_secs(4),
                position: 1,
            },
        ]
    );
    assert_eq!(sim.state("alice"), AgentState::Ready);
    assert_eq!(sim.router.poll_timeout(), None, "ring timer cancelled");
    // She did no work, so she keeps her place in the longest-idle order.
    let view = sim.router.agent(&agent("alice")).expect("alice");
    assert_eq!(view.idle_since, Some(sim.t0));
    // A late answer for the revoked offer is refused: the server hangs up that leg.
    assert_eq!(
        sim.try_cmd(Command::OfferAnswered {
            call: CallId(1),
            agent: agent("alice")
        }),
        Err(CommandError::UnknownCall(CallId(1)))
    );
}

#[test]
fn call_waits_without_agents_until_one_registers() {
    let mut sim = Sim::new(config(vec![queue_config("sales", &["alice"])], &["alice"]));
    sim.enqueue(1, "sales");
    assert_eq!(sim.router.poll_timeout(), None, "no wait limit yet");
    sim.advance(Duration::from_secs(3600));
    assert!(sim.offers().is_empty());
    sim.login("alice");
    assert_eq!(sim.offers(), vec![(CallId(1), agent("alice"))]);
}

#[test]
fn registration_refresh_does_not_undo_not_ready() {
    let mut sim = Sim::new(config(vec![queue_config("sales", &["alice"])], &["alice"]));
    assert_eq!(
        sim.try_cmd(Command::SetState {
            agent: agent("alice"),
            state: RequestedState::Ready
        }),
        Err(CommandError::AgentLoggedOut(agent("alice")))
    );
    sim.login("alice");
    sim.set("alice", lunch());
    sim.cmd(Command::ContactsChanged {
        agent: agent("alice"),
        count: 2,
    });
    sim.login("alice");
    assert_eq!(sim.state("alice"), AgentState::from(lunch()));
    sim.cmd(Command::ContactsChanged {
        agent: agent("alice"),
        count: 0,
    });
    assert_eq!(sim.state("alice"), AgentState::LoggedOut);
    sim.login("alice");
    assert_eq!(sim.state("alice"), AgentState::Ready);
}

#[test]
fn calls_in_a_queue_are_served_in_arrival_order() {
    let mut sim = Sim::new(config(vec![queue_config("sales", &["alice"])], &["alice"]));
    sim.login("alice");
    sim.set("alice", lunch());
    for call in 1..=3 {
        sim.enqueue(call, "sales");
        sim.advance(Duration::from_secs(1));
    }
    sim.take();
    sim.set("alice", RequestedState::Ready);
    let mut served = Vec::new();
    for _ in 1..=3 {
        let offers = sim.offers();
        assert_eq!(offers.len(), 1);
        let (call, _) = offers[0];
        served.push(call.0);
        sim.answer(call.0, "alice");
        sim.end(call.0);
        assert!(sim.next_timer(), "wrap-up ends");
    }
    assert_eq!(served, vec![1, 2, 3]);
}

#[test]
fn longest_idle_agent_gets_the_call_and_ties_follow_config_order() {
    let agents = ["alice", "bob", "carol"];
    let mut sim = Sim::new(config(vec![queue_config("sales", &agents)], &agents));
    // Everyone registers at once: a tie, broken by the configured order.
    for a in agents {
        sim.login(a);
    }
    sim.enqueue(1, "sales");
    assert_eq!(sim.offers(), vec![(CallId(1), agent("alice"))]);
    sim.answer(1, "alice");

    // Bob then carol become ready again at different times: bob has been idle longer.
    sim.set("carol", lunch());
    sim.set("bob", lunch());
    sim.advance(Duration::from_secs(1));
    sim.set("bob", RequestedState::Ready);
    sim.advance(Duration::from_secs(1));
    sim.set("carol", RequestedState::Ready);
    sim.take();
    sim.enqueue(2, "sales");
    assert_eq!(sim.offers(), vec![(CallId(2), agent("bob"))]);

    // Alice finishes her call and wrap-up after carol became ready: carol is next.
    sim.end(1);
    assert!(sim.next_timer());
    sim.enqueue(3, "sales");
    assert_eq!(sim.offers(), vec![(CallId(3), agent("carol"))]);
}

#[test]
fn agent_in_two_queues_gets_the_longest_waiting_call_across_them() {
    let mut sim = Sim::new(config(
        vec![
            queue_config("sales", &["alice"]),
            queue_config("support", &["alice", "bob"]),
        ],
        &["alice", "bob"],
    ));
    sim.enqueue(1, "sales");
    sim.advance(Duration::from_secs(1));
    sim.enqueue(2, "support");
    sim.advance(Duration::from_secs(1));
    sim.enqueue(3, "sales");
    sim.login("alice");
    assert_eq!(sim.offers(), vec![(CallId(1), agent("alice"))]);
    sim.login("bob");
    assert_eq!(sim.offers(), vec![(CallId(2), agent("bob"))]);

    // Alice misses call 1; bob is not a sales member, so call 1 waits at the head of sales.
    sim.cmd(Command::OfferFailed {
        call: CallId(1),
        agent: agent("alice"),
        cause: OfferFailure::NoAnswer,
    });
    assert!(sim.offers().is_empty());
    sim.set("alice", RequestedState::Ready);
    assert_eq!(sim.offers(), vec![(CallId(1), agent("alice"))]);
    let sales = sim.router.queue(&queue("sales")).expect("sales");
    assert_eq!((sales.waiting, sales.offering), (2, 1));
}

#[test]
fn not_ready_during_a_call_applies_after_wrap_up() {
    let mut sim = Sim::new(config(vec![queue_config("sales", &["alice"])], &["alice"]));
    sim.login("alice");
    sim.enqueue(1, "sales");
    sim.answer(1, "alice");
    sim.set("alice", lunch());
    assert_eq!(sim.state("alice"), AgentState::OnCall);
    let view = sim.router.agent(&agent("alice")).expect("alice");
    assert_eq!(
        view.pending_not_ready,
        Some(&NotReadyReason::Manual("lunch".into()))
    );
    sim.end(1);
    assert_eq!(sim.state("alice"), AgentState::WrapUp);
    assert!(sim.next_timer());
    assert_eq!(sim.state("alice"), AgentState::from(lunch()));
}

#[test]
fn ready_during_wrap_up_ends_it_early() {
    let mut sim = Sim::new(config(vec![queue_config("sales", &["alice"])], &["alice"]));
    sim.login("alice");
    sim.enqueue(1, "sales");
    sim.answer(1, "alice");
    sim.end(1);
    sim.enqueue(2, "sales");
    sim.take();
    sim.set("alice", RequestedState::Ready);
    assert_eq!(sim.offers(), vec![(CallId(2), agent("alice"))]);
    assert!(matches!(
        sim.router.poll_timeout(),
        Some((_, TimerReason::RingTimeout { .. }))
    ));
}

#[test]
fn logout_while_ringing_revokes_and_requeues() {
    let mut sim = Sim::new(config(
        vec![queue_config("sales", &["alice", "bob"])],
        &["alice", "bob"],
    ));
    sim.login("alice");
    sim.enqueue(1, "sales");
    sim.take();
    sim.cmd(Command::ContactsChanged {
        agent: agent("alice"),
        count: 0,
    });
    let events = sim.take();
    assert!(events.contains(&RoutingEvent::OfferRevoked {
        call: CallId(1),
        agent: agent("alice"),
        reason: RevokeReason::AgentLoggedOut,
    }));
    assert_eq!(sim.state("alice"), AgentState::LoggedOut);
    assert!(matches!(
        sim.router.call(CallId(1)).map(|c| c.status),
        Some(CallStatus::Waiting { position: 1 })
    ));
    sim.login("bob");
    assert_eq!(sim.offers(), vec![(CallId(1), agent("bob"))]);
}

#[test]
fn registration_lapse_during_a_call_logs_out_after_it() {
    let mut sim = Sim::new(config(vec![queue_config("sales", &["alice"])], &["alice"]));
    sim.login("alice");
    sim.enqueue(1, "sales");
    sim.answer(1, "alice");
    sim.cmd(Command::ContactsChanged {
        agent: agent("alice"),
        count: 0,
    });
    assert_eq!(sim.state("alice"), AgentState::OnCall);
    sim.end(1);
    assert_eq!(sim.state("alice"), AgentState::LoggedOut);
    assert_eq!(sim.router.poll_timeout(), None);
}

#[test]
fn stale_offer_responses_are_refused_without_effect() {
    let mut sim = Sim::new(config(
        vec![queue_config("sales", &["alice", "bob"])],
        &["alice", "bob"],
    ));
    sim.login("alice");
    sim.enqueue(1, "sales");
    sim.advance(Duration::from_secs(10));
    sim.take();
    let late = sim.try_cmd(Command::OfferAnswered {
        call: CallId(1),
        agent: agent("alice"),
    });
    assert_eq!(
        late,
        Err(CommandError::NotOffered {
            call: CallId(1),
            agent: agent("alice")
        })
    );
    assert!(sim.take().is_empty());
    assert_eq!(
        sim.try_cmd(Command::Enqueue {
            call: CallId(1),
            queue: queue("sales")
        }),
        Err(CommandError::CallAlreadyRouted(CallId(1)))
    );
    assert_eq!(
        sim.try_cmd(Command::Enqueue {
            call: CallId(9),
            queue: queue("nope")
        }),
        Err(CommandError::UnknownQueue(queue("nope")))
    );
}

#[test]
fn zero_wrap_up_makes_the_agent_ready_when_the_call_ends() {
    let mut q = queue_config("sales", &["alice"]);
    q.wrap_up = Duration::ZERO;
    let mut sim = Sim::new(config(vec![q], &["alice"]));
    sim.login("alice");
    sim.enqueue(1, "sales");
    sim.enqueue(2, "sales");
    sim.answer(1, "alice");
    sim.take();
    // A caller hang-up reported as an abandon still completes a connected call.
    sim.cmd(Command::Abandon { call: CallId(1) });
    let events = sim.take();
    assert!(matches!(
        events[0],
        RoutingEvent::CallCompleted {
            call: CallId(1),
            ..
        }
    ));
    assert!(!events
        .iter()
        .any(|e| matches!(e, RoutingEvent::CallAbandoned { .. })));
    assert!(events.contains(&RoutingEvent::AgentStateChanged {
        agent: agent("alice"),
        from: AgentState::OnCall,
        to: AgentState::Ready,
        at: sim.t0,
    }));
    assert_eq!(events.last().and_then(RoutingEvent::call), Some(CallId(2)));
    assert_eq!(sim.state("alice"), AgentState::Reserved);
}

#[test]
fn abandon_while_ringing_applies_a_pending_not_ready() {
    let mut sim = Sim::new(config(vec![queue_config("sales", &["alice"])], &["alice"]));
    sim.login("alice");
    sim.enqueue(1, "sales");
    sim.set("alice", lunch());
    assert_eq!(sim.state("alice"), AgentState::Reserved);
    sim.cmd(Command::Abandon { call: CallId(1) });
    assert_eq!(sim.state("alice"), AgentState::from(lunch()));
}

#[test]
fn queue_view_counts_calls_and_members() {
    let agents = ["alice", "bob", "carol", "dave"];
    let mut sim = Sim::new(config(vec![queue_config("sales", &agents)], &agents));
    sim.login("alice");
    sim.login("bob");
    sim.login("carol");
    sim.set("carol", lunch());
    sim.enqueue(1, "sales");
    sim.answer(1, "alice");
    sim.advance(Duration::from_secs(1));
    sim.enqueue(2, "sales");
    sim.advance(Duration::from_secs(1));
    sim.enqueue(3, "sales");
    let view = sim.router.queue(&queue("sales")).expect("sales");
    assert_eq!(view.waiting, 2);
    assert_eq!(view.offering, 1, "bob rings for call 2");
    assert_eq!(view.oldest_wait_since, Some(sim.secs(1)));
    assert_eq!(view.members, 4);
    assert_eq!(view.agents_logged_in, 3);
    assert_eq!(view.agents_ready, 0);
    assert_eq!(view.agents_busy, 2);
    assert_eq!(view.agents_not_ready, 1);
    assert!(matches!(
        sim.router.call(CallId(3)).map(|c| c.status),
        Some(CallStatus::Waiting { position: 2 })
    ));
    assert_eq!(sim.router.queues().count(), 1);
    assert_eq!(sim.router.agents().count(), 4);
}
