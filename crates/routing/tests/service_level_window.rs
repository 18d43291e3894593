//! The cross-queue choice looks at each queue's service level over its rolling window: a queue
//! that fell behind long ago no longer jumps the line.

use std::time::{Duration, Instant};

use hotline_routing::{
    AgentId, CallId, Command, NotReadyReason, QueueConfig, QueueId, RequestedState, Router,
    RouterConfig, RoutingEvent, ServiceLevelTarget,
};

fn queue(id: &str, window: Duration) -> QueueConfig {
    QueueConfig {
        id: QueueId::new(id),
        members: vec![AgentId::new("ann")],
        ring_timeout: Duration::from_secs(15),
        service_level: Some(ServiceLevelTarget {
            threshold: Duration::from_secs(20),
            percent: 80,
        }),
        service_level_window: window,
        ..QueueConfig::default()
    }
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

fn enqueue(call: u128, queue: &str) -> Command {
    Command::Enqueue {
        call: CallId(call),
        queue: QueueId::new(queue),
    }
}

/// "slow" answers one call late at the start; `later` after that, an older call waits in "fast"
/// and a newer one in "slow", and ann becomes ready: the call she is offered.
fn offered_after(later: Duration, window: Duration) -> CallId {
    let t0 = Instant::now();
    let config = RouterConfig {
        queues: vec![queue("fast", window), queue("slow", window)],
        agents: vec![AgentId::new("ann")],
        ..RouterConfig::default()
    };
    let mut router = Router::new(config, t0).expect("valid config");
    let ann = AgentId::new("ann");
    cmd(
        &mut router,
        t0,
        Command::ContactsChanged {
            agent: ann.clone(),
            count: 1,
        },
    );
    cmd(&mut router, t0, set(false));
    cmd(&mut router, t0, enqueue(1, "slow"));
    let t1 = t0 + Duration::from_secs(30);
    cmd(&mut router, t1, set(true));
    cmd(
        &mut router,
        t1,
        Command::OfferAnswered {
            call: CallId(1),
            agent: ann.clone(),
        },
    );
    cmd(&mut router, t1, Command::CallEnded { call: CallId(1) });
    cmd(&mut router, t1, set(false));
    let t2 = t1 + later;
    cmd(&mut router, t2, enqueue(2, "fast"));
    let t3 = t2 + Duration::from_secs(1);
    cmd(&mut router, t3, enqueue(3, "slow"));
    let events = cmd(&mut router, t3, set(true));
    events
        .iter()
        .find_map(|e| match e {
            RoutingEvent::CallOffered { call, .. } => Some(*call),
            _ => None,
        })
        .expect("an offer")
}

#[test]
fn a_queue_behind_within_the_window_goes_first() {
    assert_eq!(
        offered_after(Duration::from_secs(60), Duration::ZERO),
        CallId(3)
    );
}

#[test]
fn a_late_answer_older_than_the_window_no_longer_counts() {
    // Default window: one hour.
    assert_eq!(
        offered_after(Duration::from_secs(3700), Duration::ZERO),
        CallId(2)
    );
    // A ten-minute window forgets it sooner.
    assert_eq!(
        offered_after(Duration::from_secs(700), Duration::from_secs(600)),
        CallId(2)
    );
    assert_eq!(
        offered_after(Duration::from_secs(300), Duration::from_secs(600)),
        CallId(3)
    );
}
