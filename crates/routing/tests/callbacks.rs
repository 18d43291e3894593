//! Callback entries: conversion keeps place and age, a due callback reserves an agent, outcomes,
//! retries and expiry, callback offers, and restored callbacks placed by their original time.

mod sim;

use std::time::Duration;

use hotline_routing::replay::Replay;
use hotline_routing::{
    AgentState, CallId, CallStatus, CallbackFailure, CallbackNumber, CallbackOwner,
    CallbackRequest, Command, CommandError, EnqueueOptions, ExitReason, GiveUpReason, RelaxAction,
    RelaxStep, RoutingEvent,
};
use sim::{agent, config, plain_reason, queue, queue_config, Sim};

fn request(number: &str) -> CallbackRequest {
    CallbackRequest {
        number: CallbackNumber::new(number),
        note: Some("invoice".into()),
    }
}

fn restore(sim: &mut Sim, call: u128, entered_secs_ago: u64, attempts: u32) {
    let entered_at = sim.now - Duration::from_secs(entered_secs_ago);
    sim.cmd(Command::EnqueueCallback {
        call: CallId(call),
        queue: queue("support"),
        callback: request(&format!("+331000000{call:02}")),
        options: EnqueueOptions::default(),
        entered_at,
        attempts,
        owner: CallbackOwner::Queue,
        not_before: None,
    });
}

fn support(edit: impl FnOnce(&mut hotline_routing::QueueConfig)) -> Sim {
    let mut q = queue_config("support", &["ann", "bob"]);
    edit(&mut q);
    Sim::new(config(vec![q], &["ann", "bob"]))
}

/// The callback dials asked for, as (call, agent, attempt).
fn dials(events: &[RoutingEvent]) -> Vec<(CallId, String, u32)> {
    events
        .iter()
        .filter_map(|e| match e {
            RoutingEvent::CallbackDue {
                call,
                agent,
                attempt,
                ..
            } => Some((*call, agent.to_string(), *attempt)),
            _ => None,
        })
        .collect()
}

#[test]
fn a_converted_call_keeps_its_place_and_age_and_its_hang_up_is_not_an_abandon() {
    let mut sim = support(|_| {});
    sim.enqueue(1, "support");
    sim.advance(Duration::from_secs(10));
    sim.enqueue(2, "support");
    sim.advance(Duration::from_secs(10));
    sim.take();
    sim.cmd(Command::ConvertToCallback {
        call: CallId(1),
        callback: request("+33123456789"),
    });
    let converted = sim.take();
    assert!(matches!(
        &converted[..],
        [RoutingEvent::CallbackConverted { call: CallId(1), entered_at, .. }] if *entered_at == sim.t0
    ));
    // The caller hangs up: nothing happens to the entry.
    sim.cmd(Command::Abandon { call: CallId(1) });
    assert!(sim.take().is_empty());
    let view = sim.router.call(CallId(1)).expect("still queued");
    assert_eq!(view.status, CallStatus::Waiting { position: 1 });
    assert_eq!(view.enqueued_at, sim.t0);
    assert_eq!(
        view.callback.map(|c| c.number.as_str()),
        Some("+33123456789")
    );

    // The first agent takes the callback first (it is ahead), as a dial, not an offer.
    sim.login("ann");
    let events = sim.take();
    assert_eq!(dials(&events), vec![(CallId(1), "ann".to_string(), 1)]);
    assert!(events.contains(&RoutingEvent::CallbackDue {
        call: CallId(1),
        queue: queue("support"),
        agent: agent("ann"),
        callback: request("+33123456789"),
        attempt: 1,
        reason: plain_reason("support"),
        owner: CallbackOwner::Queue,
    }));
    assert_eq!(sim.state("ann"), AgentState::Reserved);
    assert!(matches!(
        sim.router.call(CallId(1)).map(|v| v.status),
        Some(CallStatus::Dialing { position: 1, .. })
    ));
    // A dialing callback is not offered: offer commands are refused.
    assert_eq!(
        sim.try_cmd(Command::OfferAnswered {
            call: CallId(1),
            agent: agent("ann")
        }),
        Err(CommandError::NotOffered {
            call: CallId(1),
            agent: agent("ann")
        })
    );
    sim.advance(Duration::from_secs(5));
    sim.cmd(Command::CallbackConnected {
        call: CallId(1),
        agent: agent("ann"),
    });
    assert!(sim.take().contains(&RoutingEvent::CallbackConnected {
        call: CallId(1),
        queue: queue("support"),
        agent: agent("ann"),
        wait: Duration::from_secs(25),
    }));
    assert_eq!(sim.state("ann"), AgentState::OnCall);
    sim.advance(Duration::from_secs(60));
    sim.end(1);
    assert_eq!(sim.state("ann"), AgentState::WrapUp);
    assert!(sim.router.call(CallId(1)).is_none());
}

#[test]
fn only_a_waiting_live_call_converts() {
    let mut sim = support(|_| {});
    sim.login("ann");
    sim.enqueue(1, "support");
    sim.take();
    // Being offered.
    assert_eq!(
        sim.try_cmd(Command::ConvertToCallback {
            call: CallId(1),
            callback: request("1"),
        }),
        Err(CommandError::NotWaitingLive(CallId(1)))
    );
    assert_eq!(
        sim.try_cmd(Command::ConvertToCallback {
            call: CallId(9),
            callback: request("1"),
        }),
        Err(CommandError::UnknownCall(CallId(9)))
    );
    // A live call cannot be cancelled as a callback.
    assert_eq!(
        sim.try_cmd(Command::CancelCallback { call: CallId(1) }),
        Err(CommandError::NotWaitingCallback(CallId(1)))
    );
    assert!(sim.take().is_empty());
}

#[test]
fn a_failed_dial_releases_the_agent_without_a_miss_and_retries_after_the_delay_then_gives_up() {
    let mut sim = support(|q| {
        q.callback_retry_delay = Duration::from_secs(30);
        q.callback_max_attempts = 2;
    });
    restore(&mut sim, 1, 0, 0);
    sim.login("ann");
    assert_eq!(dials(&sim.take()).len(), 1);
    sim.cmd(Command::CallbackFailed {
        call: CallId(1),
        agent: agent("ann"),
        cause: CallbackFailure::Busy,
        retry_after: None,
    });
    let events = sim.take();
    assert!(events.contains(&RoutingEvent::CallbackFailed {
        call: CallId(1),
        queue: queue("support"),
        agent: agent("ann"),
        cause: CallbackFailure::Busy,
        attempts: 1,
        retry_after: Duration::from_secs(30),
        owner: CallbackOwner::Queue,
    }));
    // Ready again at once, not missed, and not handed the same callback before the delay.
    assert_eq!(sim.state("ann"), AgentState::Ready);
    assert!(dials(&events).is_empty());
    assert_eq!(
        sim.router.call(CallId(1)).map(|v| v.status),
        Some(CallStatus::Waiting { position: 1 })
    );
    // A live call arriving meanwhile is served: the callback does not hold the agent.
    sim.enqueue(2, "support");
    assert_eq!(sim.offers(), vec![(CallId(2), agent("ann"))]);
    sim.answer(2, "ann");
    sim.login("bob");
    assert!(dials(&sim.take()).is_empty(), "retry delay not over");
    sim.advance(Duration::from_secs(30));
    assert_eq!(dials(&sim.take()), vec![(CallId(1), "bob".to_string(), 2)]);
    sim.cmd(Command::CallbackFailed {
        call: CallId(1),
        agent: agent("bob"),
        cause: CallbackFailure::NoAnswer,
        retry_after: None,
    });
    let events = sim.take();
    assert!(events.contains(&RoutingEvent::CallbackGivenUp {
        call: CallId(1),
        queue: queue("support"),
        wait: Duration::from_secs(30),
        reason: GiveUpReason::AttemptsExhausted,
    }));
    assert!(sim.router.call(CallId(1)).is_none());
    assert_eq!(sim.state("bob"), AgentState::Ready);
}

#[test]
fn a_restored_callback_takes_the_place_of_its_original_entry_time() {
    let mut sim = support(|_| {});
    sim.now = sim.t0 + Duration::from_secs(600);
    sim.enqueue(1, "support");
    sim.advance(Duration::from_secs(60));
    // Entered 5 minutes ago, that is before call 1 (entered a minute ago).
    restore(&mut sim, 2, 300, 1);
    // Entered 30 s ago: behind call 1.
    restore(&mut sim, 3, 30, 0);
    let positions: Vec<usize> = sim
        .take()
        .iter()
        .filter_map(|e| match e {
            RoutingEvent::CallbackQueued { position, .. } => Some(*position),
            _ => None,
        })
        .collect();
    assert_eq!(positions, vec![1, 3]);
    let line: Vec<CallId> = sim
        .router
        .queue_line(&queue("support"))
        .iter()
        .map(|v| v.id)
        .collect();
    assert_eq!(line, vec![CallId(2), CallId(1), CallId(3)]);
    assert_eq!(
        sim.router.call(CallId(2)).map(|v| v.callback_attempts),
        Some(1)
    );
    sim.login("ann");
    assert_eq!(dials(&sim.take()), vec![(CallId(2), "ann".to_string(), 2)]);
    // An original entry time in the future is refused.
    let future = sim.now + Duration::from_secs(1);
    assert_eq!(
        sim.try_cmd(Command::EnqueueCallback {
            call: CallId(4),
            queue: queue("support"),
            callback: request("4"),
            options: EnqueueOptions::default(),
            entered_at: future,
            attempts: 0,
            owner: CallbackOwner::Queue,
            not_before: None,
        }),
        Err(CommandError::EnteredInFuture(CallId(4)))
    );
}

#[test]
fn max_wait_and_exit_steps_spare_callbacks_which_expire_on_their_own_rule() {
    let mut sim = support(|q| {
        q.max_wait = Some(Duration::from_secs(60));
        q.relaxation = vec![RelaxStep {
            after: Duration::from_secs(90),
            action: RelaxAction::Exit,
        }];
        q.callback_expiry = Some(Duration::from_secs(300));
    });
    sim.enqueue(1, "support");
    sim.enqueue(2, "support");
    sim.advance(Duration::from_secs(30));
    sim.cmd(Command::ConvertToCallback {
        call: CallId(1),
        callback: request("1"),
    });
    sim.advance(Duration::from_secs(120));
    let events = sim.take();
    // The live call left at its max wait; the callback stays past it and past the exit step.
    assert!(events.iter().any(|e| matches!(
        e,
        RoutingEvent::CallExited {
            call: CallId(2),
            reason: ExitReason::MaxWait,
            ..
        }
    )));
    assert!(events.iter().all(|e| e.call() != Some(CallId(1))
        || matches!(
            e,
            RoutingEvent::CallQueued { .. }
                | RoutingEvent::CallbackConverted { .. }
                | RoutingEvent::CallRelaxed { .. }
        )));
    assert!(sim.router.call(CallId(1)).is_some());
    sim.advance(Duration::from_secs(200));
    let expired: Vec<_> = sim
        .take()
        .into_iter()
        .filter(|e| matches!(e, RoutingEvent::CallbackGivenUp { .. }))
        .collect();
    assert_eq!(
        expired,
        vec![RoutingEvent::CallbackGivenUp {
            call: CallId(1),
            queue: queue("support"),
            wait: Duration::from_secs(300),
            reason: GiveUpReason::Expired,
        }]
    );
    assert_eq!(sim.router.call_count(), 0);
}

#[test]
fn a_cancelled_callback_ends_once_and_a_dialing_one_cannot_be_cancelled() {
    let mut sim = support(|_| {});
    restore(&mut sim, 1, 10, 0);
    restore(&mut sim, 2, 5, 0);
    sim.login("ann");
    assert_eq!(dials(&sim.take()), vec![(CallId(1), "ann".to_string(), 1)]);
    assert_eq!(
        sim.try_cmd(Command::CancelCallback { call: CallId(1) }),
        Err(CommandError::NotWaitingCallback(CallId(1)))
    );
    sim.cmd(Command::CancelCallback { call: CallId(2) });
    assert_eq!(
        sim.take(),
        vec![RoutingEvent::CallbackCancelled {
            call: CallId(2),
            queue: queue("support"),
            wait: Duration::from_secs(5),
        }]
    );
    assert_eq!(
        sim.try_cmd(Command::CancelCallback { call: CallId(2) }),
        Err(CommandError::UnknownCall(CallId(2)))
    );
    // An outcome reported for another agent is refused.
    assert_eq!(
        sim.try_cmd(Command::CallbackConnected {
            call: CallId(1),
            agent: agent("bob"),
        }),
        Err(CommandError::NotDialing {
            call: CallId(1),
            agent: agent("bob"),
        })
    );
}

#[test]
fn an_agent_logging_out_while_dialing_puts_the_callback_back_without_an_attempt() {
    let mut sim = support(|_| {});
    restore(&mut sim, 1, 10, 0);
    sim.login("ann");
    sim.take();
    sim.cmd(Command::ContactsChanged {
        agent: agent("ann"),
        count: 0,
    });
    sim.take();
    assert_eq!(
        sim.router
            .call(CallId(1))
            .map(|v| (v.status, v.callback_attempts)),
        Some((CallStatus::Waiting { position: 1 }, 0))
    );
    sim.login("bob");
    assert_eq!(dials(&sim.take()), vec![(CallId(1), "bob".to_string(), 1)]);
}

#[test]
fn a_callback_is_offered_once_at_the_entrys_wait_or_the_queues() {
    let mut sim = support(|q| {
        q.callback_offer = Some(Duration::from_secs(60));
        q.relaxation = vec![RelaxStep {
            after: Duration::from_secs(90),
            action: RelaxAction::OfferCallback,
        }];
    });
    sim.enqueue(1, "support");
    sim.cmd(Command::EnqueueWith {
        call: CallId(2),
        queue: queue("support"),
        options: EnqueueOptions {
            callback_offer: Some(Duration::from_secs(20)),
            ..EnqueueOptions::default()
        },
    });
    sim.advance(Duration::from_secs(120));
    let offered: Vec<(CallId, Duration)> = sim
        .take()
        .into_iter()
        .filter_map(|e| match e {
            RoutingEvent::CallbackOffered { call, wait, .. } => Some((call, wait)),
            _ => None,
        })
        .collect();
    // Call 2 at its own (the dialplan's) 20 s, call 1 at the queue's 60 s; the relaxation step
    // at 90 s offers nothing more to either.
    assert_eq!(
        offered,
        vec![
            (CallId(2), Duration::from_secs(20)),
            (CallId(1), Duration::from_secs(60)),
        ]
    );
}

#[test]
fn a_relaxation_step_offers_a_callback_to_a_call_without_an_offer_wait() {
    let mut sim = support(|q| {
        q.relaxation = vec![RelaxStep {
            after: Duration::from_secs(45),
            action: RelaxAction::OfferCallback,
        }];
    });
    sim.enqueue(1, "support");
    sim.advance(Duration::from_secs(50));
    let events = sim.take();
    assert!(events.contains(&RoutingEvent::CallRelaxed {
        call: CallId(1),
        queue: queue("support"),
        step: 1,
    }));
    assert!(events.contains(&RoutingEvent::CallbackOffered {
        call: CallId(1),
        queue: queue("support"),
        wait: Duration::from_secs(45),
    }));
}

#[test]
fn replay_rebuilds_the_waiting_callbacks_a_restart_needs() {
    let mut sim = support(|q| q.callback_retry_delay = Duration::from_secs(10));
    sim.now = sim.t0 + Duration::from_secs(100);
    restore(&mut sim, 1, 50, 0);
    restore(&mut sim, 2, 80, 0);
    sim.enqueue(3, "support");
    sim.cmd(Command::ConvertToCallback {
        call: CallId(3),
        callback: request("+33100000003"),
    });
    sim.login("ann");
    sim.cmd(Command::CallbackFailed {
        call: CallId(2),
        agent: agent("ann"),
        cause: CallbackFailure::Unreachable,
        retry_after: None,
    });
    let mut replay = Replay::new([agent("ann"), agent("bob")], sim.t0);
    for event in &sim.log {
        replay.apply(event);
    }
    let waiting: Vec<(CallId, u32, std::time::Instant)> = replay
        .waiting_callbacks()
        .iter()
        .map(|(id, _, cb)| (*id, cb.attempts, cb.entered_at))
        .collect();
    // Call 2 failed once and waits out its delay; ann took call 1 next.
    assert_eq!(
        waiting,
        vec![
            (CallId(2), 1, sim.now - Duration::from_secs(80)),
            (CallId(1), 0, sim.now - Duration::from_secs(50)),
            (CallId(3), 0, sim.now),
        ]
    );
    assert_eq!(
        replay.calls()[&CallId(1)].agent.as_ref(),
        Some(&agent("ann"))
    );
    // The number is kept for the journal but not shown in debug output.
    let debug = format!("{:?}", replay.calls()[&CallId(3)]);
    assert!(
        !debug.contains("+33100000003") && debug.contains("03"),
        "{debug}"
    );
}
