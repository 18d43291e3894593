//! Callback dial outcomes on virtual time: an invalid number is given up at once, a far end's
//! Retry-After postpones the next attempt, a scheduler-owned entry is dialed once, and an entry
//! held back by `not_before` keeps its place ahead of later entries.

mod sim;

use std::time::Duration;

use hotline_routing::replay::Replay;
use hotline_routing::{
    AgentState, CallId, CallStatus, CallbackFailure, CallbackNumber, CallbackOwner,
    CallbackRequest, Command, CommandError, EnqueueOptions, GiveUpReason, RoutingEvent,
    MAX_RETRY_AFTER,
};
use sim::{agent, config, queue, queue_config, Sim};

fn request(call: u128) -> CallbackRequest {
    CallbackRequest {
        number: CallbackNumber::new(format!("+331000000{call:02}")),
        note: None,
    }
}

fn support(edit: impl FnOnce(&mut hotline_routing::QueueConfig)) -> Sim {
    let mut q = queue_config("support", &["ann", "bob"]);
    edit(&mut q);
    Sim::new(config(vec![q], &["ann", "bob"]))
}

/// Queues callback `call`, entered `ago` before now, with its owner and hold.
fn queue_callback(
    sim: &mut Sim,
    call: u128,
    ago: Duration,
    owner: CallbackOwner,
    hold: Option<Duration>,
) {
    let entered_at = sim.now - ago;
    let not_before = hold.map(|h| sim.now + h);
    sim.cmd(Command::EnqueueCallback {
        call: CallId(call),
        queue: queue("support"),
        callback: request(call),
        options: EnqueueOptions::default(),
        entered_at,
        attempts: 0,
        owner,
        not_before,
    });
}

/// The callback dials asked for, as (call, agent, attempt, owner).
fn dials(events: &[RoutingEvent]) -> Vec<(CallId, String, u32, CallbackOwner)> {
    events
        .iter()
        .filter_map(|e| match e {
            RoutingEvent::CallbackDue {
                call,
                agent,
                attempt,
                owner,
                ..
            } => Some((*call, agent.to_string(), *attempt, *owner)),
            _ => None,
        })
        .collect()
}

fn fail(sim: &mut Sim, call: u128, name: &str, cause: CallbackFailure, after: Option<Duration>) {
    sim.cmd(Command::CallbackFailed {
        call: CallId(call),
        agent: agent(name),
        cause,
        retry_after: after,
    });
}

/// When the next `CallbackDue` of `call` comes, jumping timer by timer (at most `limit` ahead).
fn next_due_at(sim: &mut Sim, call: u128, limit: Duration) -> Option<Duration> {
    let start = sim.now;
    while sim.now - start <= limit {
        if dials(&sim.take()).iter().any(|d| d.0 == CallId(call)) {
            return Some(sim.now - start);
        }
        if !sim.next_timer() {
            return None;
        }
    }
    None
}

#[test]
fn an_invalid_number_is_given_up_after_one_attempt_whatever_the_attempts_left() {
    let mut sim = support(|q| {
        q.callback_max_attempts = 5;
        q.callback_retry_delay = Duration::from_secs(10);
    });
    queue_callback(&mut sim, 1, Duration::ZERO, CallbackOwner::Queue, None);
    sim.login("ann");
    assert_eq!(dials(&sim.take()).len(), 1);
    sim.advance(Duration::from_secs(3));
    fail(&mut sim, 1, "ann", CallbackFailure::InvalidNumber, None);
    let events = sim.take();
    let ends: Vec<&RoutingEvent> = events
        .iter()
        .filter(|e| {
            matches!(
                e,
                RoutingEvent::CallbackFailed { .. } | RoutingEvent::CallbackGivenUp { .. }
            )
        })
        .collect();
    assert!(matches!(
        ends[..],
        [
            RoutingEvent::CallbackFailed {
                cause: CallbackFailure::InvalidNumber,
                attempts: 1,
                ..
            },
            RoutingEvent::CallbackGivenUp {
                reason: GiveUpReason::InvalidNumber,
                ..
            }
        ]
    ));
    assert!(sim.router.call(CallId(1)).is_none());
    assert_eq!(sim.state("ann"), AgentState::Ready);
    // Nothing is left to dial, however long we wait.
    sim.advance(Duration::from_secs(3600));
    assert!(dials(&sim.take()).is_empty());
    // Other causes are retried under the same queue.
    queue_callback(&mut sim, 2, Duration::ZERO, CallbackOwner::Queue, None);
    assert_eq!(dials(&sim.take()).len(), 1);
    fail(&mut sim, 2, "ann", CallbackFailure::Rejected, None);
    assert!(!sim
        .take()
        .iter()
        .any(|e| matches!(e, RoutingEvent::CallbackGivenUp { .. })));
    assert_eq!(
        next_due_at(&mut sim, 2, Duration::from_secs(60)),
        Some(Duration::from_secs(10))
    );
}

#[test]
fn a_retry_after_longer_than_the_queue_delay_postpones_the_next_attempt() {
    let mut sim = support(|q| {
        q.callback_max_attempts = 5;
        q.callback_retry_delay = Duration::from_secs(30);
    });
    queue_callback(&mut sim, 1, Duration::ZERO, CallbackOwner::Queue, None);
    sim.login("ann");
    assert_eq!(dials(&sim.take()).len(), 1);
    fail(
        &mut sim,
        1,
        "ann",
        CallbackFailure::NetworkFailure,
        Some(Duration::from_secs(120)),
    );
    let failed = sim.take();
    assert!(failed.iter().any(|e| matches!(
        e,
        RoutingEvent::CallbackFailed {
            cause: CallbackFailure::NetworkFailure,
            retry_after,
            ..
        } if *retry_after == Duration::from_secs(120)
    )));
    assert_eq!(
        next_due_at(&mut sim, 1, Duration::from_secs(600)),
        Some(Duration::from_secs(120))
    );

    // A shorter Retry-After does not shorten the queue's delay.
    fail(
        &mut sim,
        1,
        "ann",
        CallbackFailure::NetworkFailure,
        Some(Duration::from_secs(5)),
    );
    assert_eq!(
        next_due_at(&mut sim, 1, Duration::from_secs(600)),
        Some(Duration::from_secs(30))
    );

    // An absurd Retry-After is capped at a day.
    fail(
        &mut sim,
        1,
        "ann",
        CallbackFailure::NetworkFailure,
        Some(Duration::from_secs(30 * 24 * 3600)),
    );
    assert!(sim.take().iter().any(|e| matches!(
        e,
        RoutingEvent::CallbackFailed { retry_after, .. } if *retry_after == MAX_RETRY_AFTER
    )));
    assert_eq!(
        next_due_at(&mut sim, 1, Duration::from_secs(48 * 3600)),
        Some(MAX_RETRY_AFTER)
    );
}

#[test]
fn a_scheduler_owned_entry_leaves_after_a_failed_dial_and_is_never_retried() {
    let mut sim = support(|q| {
        q.callback_max_attempts = 5;
        q.callback_retry_delay = Duration::from_secs(10);
        q.callback_expiry = Some(Duration::from_secs(60));
    });
    queue_callback(&mut sim, 1, Duration::ZERO, CallbackOwner::Scheduler, None);
    let queued = sim.take();
    assert!(queued.iter().any(|e| matches!(
        e,
        RoutingEvent::CallbackQueued {
            owner: CallbackOwner::Scheduler,
            ..
        }
    )));
    sim.login("ann");
    assert_eq!(
        dials(&sim.take()),
        vec![(CallId(1), "ann".to_string(), 1, CallbackOwner::Scheduler)]
    );
    fail(&mut sim, 1, "ann", CallbackFailure::Busy, None);
    let events = sim.take();
    assert!(events.iter().any(|e| matches!(
        e,
        RoutingEvent::CallbackFailed {
            owner: CallbackOwner::Scheduler,
            cause: CallbackFailure::Busy,
            ..
        }
    )));
    // No give-up: the scheduler decides. The entry is gone and the agent free.
    assert!(!events
        .iter()
        .any(|e| matches!(e, RoutingEvent::CallbackGivenUp { .. })));
    assert!(sim.router.call(CallId(1)).is_none());
    assert_eq!(sim.state("ann"), AgentState::Ready);
    sim.advance(Duration::from_secs(3600));
    assert!(sim.take().iter().all(|e| e.call() != Some(CallId(1))));

    // A second scheduler-owned entry is not expired by the queue, can be cancelled while it
    // waits, and its replay leaves nothing behind for a restart to restore.
    sim.cmd(Command::ContactsChanged {
        agent: agent("ann"),
        count: 0,
    });
    queue_callback(&mut sim, 2, Duration::ZERO, CallbackOwner::Scheduler, None);
    sim.advance(Duration::from_secs(120));
    assert!(sim.router.call(CallId(2)).is_some(), "no queue expiry");
    sim.cmd(Command::CancelCallback { call: CallId(2) });
    assert!(sim.take().iter().any(|e| matches!(
        e,
        RoutingEvent::CallbackCancelled {
            call: CallId(2),
            ..
        }
    )));
    let mut replay = Replay::new([agent("ann"), agent("bob")], sim.t0);
    for event in &sim.log {
        replay.apply(event);
    }
    assert!(replay.waiting_callbacks().is_empty());
    assert!(replay.calls().is_empty());
}

#[test]
fn a_scheduler_owned_entry_that_connects_behaves_like_a_queue_callback() {
    let mut sim = support(|_| {});
    queue_callback(&mut sim, 1, Duration::ZERO, CallbackOwner::Scheduler, None);
    sim.login("bob");
    assert_eq!(dials(&sim.take()).len(), 1);
    sim.cmd(Command::CallbackConnected {
        call: CallId(1),
        agent: agent("bob"),
    });
    assert_eq!(sim.state("bob"), AgentState::OnCall);
    sim.end(1);
    assert!(sim.take().iter().any(|e| matches!(
        e,
        RoutingEvent::CallCompleted {
            call: CallId(1),
            ..
        }
    )));
    assert_eq!(sim.state("bob"), AgentState::WrapUp);
}

#[test]
fn a_held_back_callback_keeps_its_place_and_is_not_reserved_before_its_instant() {
    let mut sim = support(|q| q.callback_retry_delay = Duration::from_secs(5));
    sim.now = sim.t0 + Duration::from_secs(1000);
    // Entered 10 minutes ago, restored with its last attempt lost: held 30 s.
    queue_callback(
        &mut sim,
        1,
        Duration::from_secs(600),
        CallbackOwner::Queue,
        Some(Duration::from_secs(30)),
    );
    assert!(sim.take().iter().any(|e| matches!(
        e,
        RoutingEvent::CallbackQueued { position: 1, not_before: Some(at), .. }
            if *at == sim.now + Duration::from_secs(30)
    )));
    sim.enqueue(2, "support");
    sim.enqueue(3, "support");
    assert_eq!(
        sim.router.call(CallId(1)).map(|v| v.status),
        Some(CallStatus::Waiting { position: 1 })
    );
    assert_eq!(
        sim.router.call(CallId(2)).map(|v| v.status),
        Some(CallStatus::Waiting { position: 2 })
    );
    // An agent arriving meanwhile takes the next live call, not the held callback.
    sim.advance(Duration::from_secs(10));
    sim.login("bob");
    let events = sim.take();
    assert!(dials(&events).is_empty());
    assert!(events.iter().any(|e| matches!(
        e,
        RoutingEvent::CallOffered {
            call: CallId(2),
            ..
        }
    )));
    sim.answer(2, "bob");
    // Still held at +29 s.
    sim.advance(Duration::from_secs(19));
    sim.login("ann");
    let events = sim.take();
    assert!(dials(&events).is_empty());
    assert!(events.iter().any(|e| matches!(
        e,
        RoutingEvent::CallOffered {
            call: CallId(3),
            ..
        }
    )));
    sim.answer(3, "ann");
    sim.enqueue(4, "support");
    // Its instant passes while nobody is free; the first free agent takes it ahead of call 4.
    sim.advance(Duration::from_secs(5));
    sim.end(2);
    sim.advance(Duration::from_secs(5));
    assert_eq!(
        dials(&sim.take()),
        vec![(CallId(1), "bob".to_string(), 1, CallbackOwner::Queue)]
    );
    assert_eq!(
        sim.router.call(CallId(4)).map(|v| v.status),
        Some(CallStatus::Waiting { position: 2 })
    );
}

#[test]
fn a_not_before_already_past_is_due_at_once() {
    let mut sim = support(|_| {});
    sim.now = sim.t0 + Duration::from_secs(100);
    sim.login("ann");
    sim.take();
    let past = sim.now - Duration::from_secs(1);
    sim.cmd(Command::EnqueueCallback {
        call: CallId(1),
        queue: queue("support"),
        callback: request(1),
        options: EnqueueOptions::default(),
        entered_at: sim.now,
        attempts: 2,
        owner: CallbackOwner::Queue,
        not_before: Some(past),
    });
    assert_eq!(
        dials(&sim.take()),
        vec![(CallId(1), "ann".to_string(), 3, CallbackOwner::Queue)]
    );
    assert_eq!(
        sim.try_cmd(Command::CancelCallback { call: CallId(1) }),
        Err(CommandError::NotWaitingCallback(CallId(1)))
    );
}
