//! Callback entries under random commands: indexes, terminal events, FIFO by original entry
//! time, one offer or reservation per agent, and replay.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use proptest::prelude::*;

use super::super::callbacks::EntryKind;
use super::super::{Call, Phase, Router};
use super::{check, strategy};
use crate::agent_state::{AgentState, RequestedState};
use crate::command::{
    CallbackFailure, CallbackNumber, CallbackOwner, CallbackRequest, Command, OfferFailure,
};
use crate::config::{
    EnqueueOptions, QueueConfig, RelaxAction, RelaxStep, RouterConfig, Strategy as Distribution,
};
use crate::event::RoutingEvent;
use crate::ids::{AgentId, CallId, QueueId};
use crate::replay::Replay;
use crate::timers::TimerReason;

/// Asserts the callback timers of `call` fit its kind and phase; returns how many are armed.
pub(super) fn check_timers(router: &Router, id: CallId, call: &Call) -> usize {
    let armed = |reason: TimerReason| router.timers.is_armed(&reason);
    let connected = matches!(call.phase, Phase::Connected { .. });
    let callback = call.kind.is_callback();
    let offer = armed(TimerReason::CallbackOffer { call: id });
    let retry = armed(TimerReason::CallbackRetry { call: id });
    let expiry = armed(TimerReason::CallbackExpiry { call: id });
    assert!(
        !offer || (!callback && !connected),
        "{id} callback offer timer"
    );
    assert_eq!(
        retry,
        matches!(call.phase, Phase::RetryWait),
        "{id} retry timer iff waiting to retry"
    );
    assert!(!expiry || (callback && !connected), "{id} expiry timer");
    let scheduled = call
        .kind
        .callback()
        .is_some_and(|c| c.owner == CallbackOwner::Scheduler);
    assert!(
        !(scheduled && expiry),
        "{id}: a scheduled callback has no expiry"
    );
    if callback {
        assert!(
            !armed(TimerReason::MaxWait { call: id }),
            "{id}: a callback has no max wait"
        );
    }
    usize::from(offer) + usize::from(retry) + usize::from(expiry)
}

const AGENTS: usize = 3;

/// Two queues without skills (so any member may take any entry of its queue), with callback
/// offers, an exit step callbacks pass over, a max wait, a callback expiry and a retry limit.
fn config(strategy: Distribution) -> RouterConfig {
    let agents: Vec<AgentId> = (0..AGENTS).map(|i| AgentId::new(format!("a{i}"))).collect();
    let queue = |name: &str, members: &[usize]| QueueConfig {
        id: QueueId::new(name),
        members: members.iter().map(|&i| agents[i].clone()).collect(),
        ring_timeout: Duration::from_secs(2),
        wrap_up: Duration::from_secs(1),
        strategy,
        callback_retry_delay: Duration::from_secs(1),
        callback_max_attempts: 2,
        ..QueueConfig::default()
    };
    let mut q0 = queue("q0", &[0, 1]);
    q0.relaxation = vec![
        RelaxStep {
            after: Duration::from_secs(1),
            action: RelaxAction::OfferCallback,
        },
        RelaxStep {
            after: Duration::from_secs(5),
            action: RelaxAction::Exit,
        },
    ];
    q0.callback_expiry = Some(Duration::from_secs(9));
    let mut q1 = queue("q1", &[1, 2]);
    q1.max_wait = Some(Duration::from_secs(4));
    q1.callback_offer = Some(Duration::from_secs(2));
    RouterConfig {
        queues: vec![q0, q1],
        agents,
        seed: 11,
        ..RouterConfig::default()
    }
}

#[derive(Debug, Clone)]
enum Op {
    Enqueue {
        call: u128,
        queue: usize,
        priority: i32,
    },
    EnqueueCallback {
        call: u128,
        queue: usize,
        priority: i32,
        back_ms: u64,
        attempts: u32,
        /// Owned by an external scheduler (dialed once).
        scheduled: bool,
        /// Held back this long from now (0: due at once).
        hold_ms: u64,
    },
    Convert {
        call: u128,
    },
    Cancel {
        call: u128,
    },
    Abandon {
        call: u128,
    },
    End {
        call: u128,
    },
    /// Answers or fails the offer or dial the call holds, if any (a failed dial with the cause
    /// and Retry-After picked by `how`).
    Outcome {
        call: u128,
        ok: bool,
        how: u8,
    },
    /// An outcome reported for an agent the callback is not due to.
    StrayOutcome {
        call: u128,
        agent: usize,
    },
    Login {
        agent: usize,
        count: usize,
    },
    Ready {
        agent: usize,
    },
    Advance {
        ms: u64,
    },
}

fn op() -> impl Strategy<Value = Op> {
    let call = 0..8u128;
    prop_oneof![
        3 => (call.clone(), 0..2usize, 0..2i32)
            .prop_map(|(call, queue, priority)| Op::Enqueue { call, queue, priority }),
        3 => (
            (call.clone(), 0..2usize, 0..2i32, 0..12_000u64, 0..2u32),
            any::<bool>(),
            prop_oneof![Just(0u64), 1..4_000u64],
        )
            .prop_map(|((call, queue, priority, back_ms, attempts), scheduled, hold_ms)| {
                Op::EnqueueCallback { call, queue, priority, back_ms, attempts, scheduled, hold_ms }
            }),
        2 => call.clone().prop_map(|call| Op::Convert { call }),
        1 => call.clone().prop_map(|call| Op::Cancel { call }),
        1 => call.clone().prop_map(|call| Op::Abandon { call }),
        2 => call.clone().prop_map(|call| Op::End { call }),
        4 => (call.clone(), any::<bool>(), any::<u8>())
            .prop_map(|(call, ok, how)| Op::Outcome { call, ok, how }),
        1 => (call, 0..AGENTS).prop_map(|(call, agent)| Op::StrayOutcome { call, agent }),
        2 => (0..AGENTS, 0..2usize).prop_map(|(agent, count)| Op::Login { agent, count }),
        1 => (0..AGENTS).prop_map(|agent| Op::Ready { agent }),
        3 => (0..3_000u64).prop_map(|ms| Op::Advance { ms }),
    ]
}

fn agent(i: usize) -> AgentId {
    AgentId::new(format!("a{i}"))
}

fn request(call: u128) -> CallbackRequest {
    CallbackRequest {
        number: CallbackNumber::new(format!("+3312345{call:04}")),
        note: call.is_multiple_of(2).then(|| "invoice".to_string()),
    }
}

/// The failure causes a dial may report.
const CAUSES: [CallbackFailure; 9] = [
    CallbackFailure::NoAnswer,
    CallbackFailure::Busy,
    CallbackFailure::Unreachable,
    CallbackFailure::AgentUnavailable,
    CallbackFailure::NotDialed,
    CallbackFailure::Rejected,
    CallbackFailure::InvalidNumber,
    CallbackFailure::NetworkFailure,
    CallbackFailure::Unknown,
];

/// The command that reports the outcome of whatever `call` holds (offer or dial), if anything.
fn outcome(router: &Router, call: CallId, ok: bool, how: u8) -> Option<Command> {
    let entry = router.calls.get(&call)?;
    if let Phase::Dialing { agent } = entry.phase {
        let agent = router.agents[agent].id.clone();
        return Some(if ok {
            Command::CallbackConnected { call, agent }
        } else {
            Command::CallbackFailed {
                call,
                agent,
                cause: CAUSES[usize::from(how) % CAUSES.len()],
                retry_after: (how >= 128).then(|| Duration::from_millis(u64::from(how) * 20)),
            }
        });
    }
    let &a = entry.phase.offered().first()?;
    let agent = router.agents[a].id.clone();
    Some(if ok {
        Command::OfferAnswered { call, agent }
    } else {
        Command::OfferFailed {
            call,
            agent,
            cause: OfferFailure::NoAnswer,
        }
    })
}

/// What the events say, checked as they arrive.
struct Checker {
    replay: Replay,
    /// Entries not yet ended: (queue, priority, original entry time, arrival number).
    entries: BTreeMap<CallId, (QueueId, i32, Instant, u64)>,
    /// Entries holding an offer or a dial, and callbacks waiting out a retry delay.
    busy: BTreeSet<CallId>,
    retrying: BTreeSet<CallId>,
    /// Agents holding an offer or a dial, by the call.
    holders: BTreeMap<AgentId, CallId>,
    /// Connected calls and their agent.
    connected: BTreeMap<CallId, AgentId>,
    arrivals: u64,
    callbacks_seen: usize,
    dials: usize,
}

impl Checker {
    fn new(t0: Instant) -> Self {
        Self {
            replay: Replay::new((0..AGENTS).map(agent), t0),
            entries: BTreeMap::new(),
            busy: BTreeSet::new(),
            retrying: BTreeSet::new(),
            holders: BTreeMap::new(),
            connected: BTreeMap::new(),
            arrivals: 0,
            callbacks_seen: 0,
            dials: 0,
        }
    }

    fn enter(&mut self, call: CallId, queue: &QueueId, priority: i32, entered: Instant) {
        let fresh = self
            .entries
            .insert(call, (queue.clone(), priority, entered, self.arrivals));
        assert!(fresh.is_none(), "{call} entered twice");
        self.arrivals += 1;
    }

    /// The entry ended: exactly once per entry.
    fn terminal(&mut self, call: CallId) {
        assert!(
            self.entries.remove(&call).is_some(),
            "{call}: a second terminal event"
        );
        self.busy.remove(&call);
        self.retrying.remove(&call);
    }

    /// An agent takes an offer or dial of `call`: it holds nothing else, and no entry ahead of
    /// `call` in its queue waits unoffered (every member may take every entry here).
    fn take(&mut self, call: CallId, agent: &AgentId) {
        let holder = self.holders.insert(agent.clone(), call);
        assert!(holder.is_none(), "{agent} holds two offers or reservations");
        assert!(
            !self.connected.values().any(|a| a == agent),
            "{agent} is on a call"
        );
        let Some((queue, priority, entered, arrival)) = self.entries.get(&call).cloned() else {
            panic!("{call} offered but not queued");
        };
        let key = (std::cmp::Reverse(priority), entered, arrival);
        for (other, (q, p, e, n)) in &self.entries {
            let ahead = (std::cmp::Reverse(*p), *e, *n) < key;
            if *q == queue
                && ahead
                && !self.busy.contains(other)
                && !self.retrying.contains(other)
                && !self.connected.contains_key(other)
            {
                // A callback whose retry delay ran out waits again without an event; the
                // checker still counts it as retrying, so it is never wrongly flagged here.
                panic!("FIFO: {call} given to {agent} while {other} waits ahead of it");
            }
        }
        self.busy.insert(call);
    }

    fn release(&mut self, call: CallId, agent: &AgentId) {
        if self.holders.get(agent) == Some(&call) {
            self.holders.remove(agent);
        }
    }

    fn apply(&mut self, event: &RoutingEvent, now: Instant, router: &Router) {
        match event {
            RoutingEvent::CallQueued { call, queue, .. } => {
                let priority = router.calls.get(call).map_or(0, |c| c.priority);
                self.enter(*call, queue, priority, now);
            }
            RoutingEvent::CallbackQueued {
                call,
                queue,
                priority,
                entered_at,
                not_before,
                ..
            } => {
                self.callbacks_seen += 1;
                self.enter(*call, queue, *priority, *entered_at);
                if not_before.is_some_and(|at| at > now) {
                    // Held back at its place: like a callback waiting out a retry delay.
                    self.retrying.insert(*call);
                }
            }
            RoutingEvent::CallbackConverted {
                call, entered_at, ..
            } => {
                self.callbacks_seen += 1;
                let entry = self.entries.get(call).expect("converted entry is queued");
                assert_eq!(entry.2, *entered_at, "{call} keeps its original entry time");
                assert!(!self.busy.contains(call), "{call} converted while offered");
            }
            RoutingEvent::CallOffered { call, agent, .. } => self.take(*call, agent),
            RoutingEvent::CallbackDue { call, agent, .. } => {
                self.dials += 1;
                self.retrying.remove(call);
                self.take(*call, agent);
            }
            RoutingEvent::OfferRevoked { call, agent, .. } => self.release(*call, agent),
            RoutingEvent::CallRequeued { call, agent, .. } => {
                self.release(*call, agent);
                if !self.holders.values().any(|c| c == call) {
                    self.busy.remove(call);
                }
            }
            RoutingEvent::CallbackFailed {
                call, agent, owner, ..
            } => {
                self.release(*call, agent);
                self.busy.remove(call);
                self.retrying.insert(*call);
                if *owner == CallbackOwner::Scheduler {
                    // Dialed once: it leaves the queue, and nothing else ends it.
                    self.terminal(*call);
                }
            }
            RoutingEvent::CallConnected { call, agent, .. }
            | RoutingEvent::CallbackConnected { call, agent, .. } => {
                self.release(*call, agent);
                self.terminal(*call);
                self.connected.insert(*call, agent.clone());
            }
            RoutingEvent::CallAbandoned { call, .. }
            | RoutingEvent::CallExited { call, .. }
            | RoutingEvent::CallbackGivenUp { call, .. }
            | RoutingEvent::CallbackCancelled { call, .. } => {
                self.holders.retain(|_, c| c != call);
                self.terminal(*call);
            }
            RoutingEvent::CallRejected { call, .. } => {
                assert!(
                    !self.entries.contains_key(call),
                    "{call} rejected while queued"
                );
            }
            RoutingEvent::CallCompleted { call, agent, .. } => {
                assert_eq!(self.connected.remove(call).as_ref(), Some(agent));
            }
            RoutingEvent::CallbackOffered { call, .. } => {
                assert!(self.entries.contains_key(call), "{call} offered a callback");
            }
            _ => {}
        }
        self.replay.apply(event);
    }

    /// The replay of the events equals the router's agents and entries.
    fn check_replay(&self, router: &Router) {
        for view in router.agents() {
            let replayed = &self.replay.agents()[view.id];
            assert_eq!(&replayed.state, view.state, "state of {}", view.id);
            assert_eq!(replayed.current_call, view.current_call, "{}", view.id);
        }
        assert_eq!(self.replay.calls().len(), router.call_count());
        for (id, replayed) in self.replay.calls() {
            let view = router.call(*id).expect("replayed call known to the router");
            assert_eq!(&replayed.queue, view.queue);
            let callback = replayed.callback.as_ref().map(|c| &c.request);
            assert_eq!(callback, view.callback, "{id} callback");
            if let Some(c) = &replayed.callback {
                assert_eq!(c.entered_at, view.enqueued_at, "{id} entry time");
                assert_eq!(c.attempts, view.callback_attempts, "{id} attempts");
                assert_eq!(c.priority, view.priority, "{id} priority");
            }
            let agent = match view.status {
                super::super::CallStatus::Dialing { agent, .. }
                | super::super::CallStatus::Offered { agent, .. }
                | super::super::CallStatus::Connected { agent, .. } => Some(agent),
                super::super::CallStatus::RingingAll { ref agents, .. } => {
                    (agents.len() == 1).then(|| agents[0])
                }
                super::super::CallStatus::Waiting { .. } => None,
            };
            assert_eq!(replayed.agent.as_ref(), agent, "{id} agent");
        }
        // The rebuilt waiting callbacks are the router's, in each queue's line order.
        let rebuilt: Vec<CallId> = self
            .replay
            .waiting_callbacks()
            .iter()
            .map(|(id, _, _)| *id)
            .collect();
        let mut lines: Vec<(QueueId, usize, CallId)> = Vec::new();
        for q in router.queues() {
            for (i, view) in router.queue_line(q.id).iter().enumerate() {
                if view.callback.is_some() {
                    lines.push((q.id.clone(), i, view.id));
                }
            }
        }
        lines.sort();
        let expected: Vec<CallId> = lines.into_iter().map(|(_, _, id)| id).collect();
        if entry_times_distinct(router) {
            assert_eq!(rebuilt, expected, "waiting callbacks in line order");
        }
    }
}

/// Whether no two entries of a queue share an original entry time (replay orders ties by id).
fn entry_times_distinct(router: &Router) -> bool {
    let mut seen = BTreeSet::new();
    router
        .calls
        .values()
        .all(|c| seen.insert((c.queue, c.priority, c.enqueued_at)))
}

/// Applies `op` at `now`; refusals must change nothing.
fn run(router: &mut Router, op: &Op, now: &mut Instant, t0: Instant) {
    let command = match *op {
        Op::Enqueue {
            call,
            queue,
            priority,
        } => Command::EnqueueWith {
            call: CallId(call),
            queue: QueueId::new(format!("q{queue}")),
            options: EnqueueOptions {
                priority,
                ..EnqueueOptions::default()
            },
        },
        Op::EnqueueCallback {
            call,
            queue,
            priority,
            back_ms,
            attempts,
            scheduled,
            hold_ms,
        } => Command::EnqueueCallback {
            call: CallId(call),
            queue: QueueId::new(format!("q{queue}")),
            callback: request(call),
            options: EnqueueOptions {
                priority,
                ..EnqueueOptions::default()
            },
            entered_at: now
                .checked_sub(Duration::from_millis(back_ms))
                .unwrap_or(t0),
            attempts,
            owner: if scheduled {
                CallbackOwner::Scheduler
            } else {
                CallbackOwner::Queue
            },
            not_before: (hold_ms > 0).then(|| *now + Duration::from_millis(hold_ms)),
        },
        Op::Convert { call } => Command::ConvertToCallback {
            call: CallId(call),
            callback: request(call),
        },
        Op::Cancel { call } => Command::CancelCallback { call: CallId(call) },
        Op::Abandon { call } => Command::Abandon { call: CallId(call) },
        Op::End { call } => Command::CallEnded { call: CallId(call) },
        Op::Outcome { call, ok, how } => match outcome(router, CallId(call), ok, how) {
            Some(command) => command,
            None => return,
        },
        Op::StrayOutcome { call, agent: a } => {
            let dialing = router.calls.get(&CallId(call)).and_then(|c| match c.phase {
                Phase::Dialing { agent } => Some(agent),
                _ => None,
            });
            let command = Command::CallbackConnected {
                call: CallId(call),
                agent: agent(a),
            };
            let before = router.events.len();
            let result = router.handle(*now, command);
            assert_eq!(
                result.is_ok(),
                dialing == Some(a),
                "accepted iff due to that agent"
            );
            if result.is_err() {
                assert_eq!(router.events.len(), before, "a refusal emits nothing");
            }
            return;
        }
        Op::Login { agent: a, count } => Command::ContactsChanged {
            agent: agent(a),
            count,
        },
        Op::Ready { agent: a } => Command::SetState {
            agent: agent(a),
            state: RequestedState::Ready,
        },
        Op::Advance { ms } => {
            *now += Duration::from_millis(ms);
            router.handle_timeout(*now);
            return;
        }
    };
    let before = router.events.len();
    if router.handle(*now, command).is_err() {
        assert_eq!(router.events.len(), before, "a refusal emits nothing");
    }
}

/// Feeds the pending events to the checker and checks the router.
fn settle(router: &mut Router, checker: &mut Checker, now: Instant) {
    let events: Vec<RoutingEvent> = router.events.drain(..).collect();
    for event in &events {
        checker.apply(event, now, router);
    }
    check(router);
    checker.check_replay(router);
}

/// Ends every entry: answers offers and dials, ends calls, drops what still waits.
fn drain(router: &mut Router, checker: &mut Checker, now: &mut Instant) {
    for _ in 0..200 {
        let Some((&call, entry)) = router.calls.iter().next() else {
            return;
        };
        let command = match (&entry.phase, &entry.kind) {
            (Phase::Connected { .. }, _) => Command::CallEnded { call },
            (Phase::Waiting | Phase::RetryWait, EntryKind::Callback(_)) => {
                Command::CancelCallback { call }
            }
            (Phase::Waiting, EntryKind::Live { .. }) => Command::Abandon { call },
            _ => outcome(router, call, true, 0).expect("an offered or dialed entry"),
        };
        router
            .handle(*now, command)
            .expect("drain commands are valid");
        settle(router, checker, *now);
        *now += Duration::from_millis(1);
    }
    panic!("entries left after draining: {}", router.call_count());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn callbacks_keep_indexes_order_and_replay(
        ops in proptest::collection::vec(op(), 1..100),
        strategy in strategy(),
    ) {
        let t0 = Instant::now();
        let mut router = Router::new(config(strategy), t0).expect("valid config");
        let mut checker = Checker::new(t0);
        let mut now = t0 + Duration::from_secs(20);
        for op in &ops {
            run(&mut router, op, &mut now, t0);
            settle(&mut router, &mut checker, now);
        }
        drain(&mut router, &mut checker, &mut now);
        prop_assert!(checker.entries.is_empty(), "every entry ended exactly once");
        prop_assert!(checker.holders.is_empty());
        for view in router.agents() {
            prop_assert_ne!(view.state, &AgentState::Reserved);
        }
    }
}

#[test]
fn the_generated_runs_reach_callback_dials() {
    // Guards the generator: a plain run that dials, fails, retries and connects.
    let t0 = Instant::now();
    let mut router = Router::new(config(Distribution::LongestIdle), t0).expect("valid config");
    let mut checker = Checker::new(t0);
    let mut now = t0 + Duration::from_secs(20);
    let ops = [
        Op::EnqueueCallback {
            call: 1,
            queue: 0,
            priority: 0,
            back_ms: 3_000,
            attempts: 0,
            scheduled: false,
            hold_ms: 0,
        },
        Op::EnqueueCallback {
            call: 2,
            queue: 0,
            priority: 0,
            back_ms: 6_000,
            attempts: 0,
            scheduled: false,
            hold_ms: 0,
        },
        Op::Login { agent: 0, count: 1 },
        Op::Outcome {
            call: 2,
            ok: false,
            how: 0,
        },
        Op::Outcome {
            call: 1,
            ok: true,
            how: 0,
        },
        Op::Advance { ms: 1_500 },
    ];
    for op in &ops {
        run(&mut router, op, &mut now, t0);
        settle(&mut router, &mut checker, now);
    }
    assert_eq!(checker.dials, 2);
    assert!(checker.callbacks_seen >= 2);
    drain(&mut router, &mut checker, &mut now);
    assert!(checker.entries.is_empty());
}
