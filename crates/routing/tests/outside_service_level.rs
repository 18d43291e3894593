//! Entries marked outside the service level (an outbound campaign's answered customers handed
//! to a queue) are served like any entry but leave the queue's service level to its inbound
//! callers: neither their answers nor their late losses count.

use std::time::{Duration, Instant};

use hotline_routing::{
    AgentId, CallId, Command, EnqueueOptions, NotReadyReason, QueueConfig, QueueId, RequestedState,
    Router, RouterConfig, RoutingEvent, ServiceLevelTarget,
};

fn router(t0: Instant) -> Router {
    let queue = QueueConfig {
        id: QueueId::new("support"),
        members: vec![AgentId::new("ann")],
        ring_timeout: Duration::from_secs(15),
        service_level: Some(ServiceLevelTarget {
            threshold: Duration::from_secs(20),
            percent: 80,
        }),
        ..QueueConfig::default()
    };
    let config = RouterConfig {
        queues: vec![queue],
        agents: vec![AgentId::new("ann")],
        ..RouterConfig::default()
    };
    let mut router = Router::new(config, t0).expect("valid config");
    cmd(
        &mut router,
        t0,
        Command::ContactsChanged {
            agent: AgentId::new("ann"),
            count: 1,
        },
    );
    cmd(&mut router, t0, set(false));
    router
}

fn cmd(router: &mut Router, now: Instant, command: Command) -> Vec<RoutingEvent> {
    router.handle(now, command).expect("command accepted");
    std::iter::from_fn(|| router.poll_event()).collect()
}

fn set(ready: bool) -> Command {
    let state = if ready {
        RequestedState::Ready
    } else {
        RequestedState::NotReady(NotReadyReason::Manual("x".into()))
    };
    Command::SetState {
        agent: AgentId::new("ann"),
        state,
    }
}

fn enqueue(call: u128, outside_service_level: bool, max_wait: Option<Duration>) -> Command {
    Command::EnqueueWith {
        call: CallId(call),
        queue: QueueId::new("support"),
        options: EnqueueOptions {
            outside_service_level,
            max_wait,
            ..EnqueueOptions::default()
        },
    }
}

/// Ann gets ready at `at`, answers `call` (it must be what she is offered) and hangs up, then
/// goes not ready again.
fn serve(router: &mut Router, at: Instant, call: u128) {
    let events = cmd(router, at, set(true));
    assert!(
        events
            .iter()
            .any(|e| matches!(e, RoutingEvent::CallOffered { call: c, .. } if *c == CallId(call))),
        "call {call} offered: {events:?}"
    );
    cmd(
        router,
        at,
        Command::OfferAnswered {
            call: CallId(call),
            agent: AgentId::new("ann"),
        },
    );
    cmd(router, at, Command::CallEnded { call: CallId(call) });
    cmd(router, at, set(false));
}

#[test]
fn entries_outside_the_service_level_leave_it_to_the_inbound_callers() {
    let t0 = Instant::now();
    let support = QueueId::new("support");
    let mut router = router(t0);
    // An inbound caller answered after 30 s: 0% within the 20 s target.
    cmd(&mut router, t0, enqueue(1, false, None));
    let t1 = t0 + Duration::from_secs(30);
    serve(&mut router, t1, 1);
    assert_eq!(router.service_level(&support, t1), Some(0.0));
    // A campaign's customer answered at once: served, and the level stays where it was.
    cmd(&mut router, t1, enqueue(2, true, None));
    serve(&mut router, t1, 2);
    assert_eq!(router.service_level(&support, t1), Some(0.0));
    // One lost after the threshold (its max wait) does not count as a late loss either.
    cmd(
        &mut router,
        t1,
        enqueue(3, true, Some(Duration::from_secs(25))),
    );
    let t2 = t1 + Duration::from_secs(25);
    router.handle_timeout(t2);
    let events: Vec<RoutingEvent> = std::iter::from_fn(|| router.poll_event()).collect();
    assert!(
        events
            .iter()
            .any(|e| matches!(e, RoutingEvent::CallExited { call, .. } if *call == CallId(3))),
        "{events:?}"
    );
    assert_eq!(router.service_level(&support, t2), Some(0.0));
    // An inbound caller answered at once counts: one of two within the target.
    cmd(&mut router, t2, enqueue(4, false, None));
    serve(&mut router, t2, 4);
    assert_eq!(router.service_level(&support, t2), Some(0.5));
}
