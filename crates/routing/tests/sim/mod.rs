//! A tiny simulation driver: virtual time that jumps to the router's next deadline.

#![allow(dead_code)]

use std::time::{Duration, Instant};

use hotline_routing::{
    AgentId, AgentState, CallId, Command, CommandError, OfferReason, QueueConfig, QueueId,
    RequestedState, Router, RouterConfig, RoutingEvent, Strategy,
};

/// A router on virtual time, with everything it emitted so far.
pub struct Sim {
    pub router: Router,
    pub t0: Instant,
    pub now: Instant,
    /// Events not yet taken by a test.
    pub pending: Vec<RoutingEvent>,
    /// Every event ever emitted, in order.
    pub log: Vec<RoutingEvent>,
}

pub fn agent(name: &str) -> AgentId {
    AgentId::new(name)
}

pub fn queue(name: &str) -> QueueId {
    QueueId::new(name)
}

/// A queue with 10 s ring timeout and 5 s wrap-up.
pub fn queue_config(name: &str, members: &[&str]) -> QueueConfig {
    QueueConfig {
        id: queue(name),
        members: members.iter().map(|m| agent(m)).collect(),
        ring_timeout: Duration::from_secs(10),
        wrap_up: Duration::from_secs(5),
        strategy: Strategy::LongestIdle,
        ..QueueConfig::default()
    }
}

/// The reason of an offer through `queue_name` itself, at penalty 0, unrelaxed, by longest idle.
pub fn plain_reason(queue_name: &str) -> OfferReason {
    OfferReason {
        via_queue: queue(queue_name),
        penalty: 0,
        relaxation_step: 0,
        preferred_met: 0,
        strategy: Strategy::LongestIdle,
    }
}

pub fn config(queues: Vec<QueueConfig>, agents: &[&str]) -> RouterConfig {
    RouterConfig {
        queues,
        agents: agents.iter().map(|a| agent(a)).collect(),
        ..RouterConfig::default()
    }
}

impl Sim {
    pub fn new(config: RouterConfig) -> Self {
        let t0 = Instant::now();
        let router = Router::new(config, t0).expect("valid config");
        Self {
            router,
            t0,
            now: t0,
            pending: Vec::new(),
            log: Vec::new(),
        }
    }

    /// Collects what the router emitted.
    fn collect(&mut self) {
        while let Some(event) = self.router.poll_event() {
            self.log.push(event.clone());
            self.pending.push(event);
        }
    }

    pub fn try_cmd(&mut self, command: Command) -> Result<(), CommandError> {
        let result = self.router.handle(self.now, command);
        self.collect();
        result
    }

    pub fn cmd(&mut self, command: Command) {
        self.try_cmd(command).expect("command accepted");
    }

    /// Moves virtual time forward by `by`, firing every timer due on the way at its own deadline.
    pub fn advance(&mut self, by: Duration) {
        let until = self.now + by;
        while let Some((at, _)) = self.router.poll_timeout() {
            if at > until {
                break;
            }
            self.now = self.now.max(at);
            self.router.handle_timeout(self.now);
            self.collect();
        }
        self.now = until;
    }

    /// Jumps to the next deadline and fires it; false when none is armed.
    pub fn next_timer(&mut self) -> bool {
        let Some((at, _)) = self.router.poll_timeout() else {
            return false;
        };
        self.now = self.now.max(at);
        self.router.handle_timeout(self.now);
        self.collect();
        true
    }

    /// Takes the events not yet taken.
    pub fn take(&mut self) -> Vec<RoutingEvent> {
        std::mem::take(&mut self.pending)
    }

    /// Takes pending events and returns the offers among them as (call, agent).
    pub fn offers(&mut self) -> Vec<(CallId, AgentId)> {
        self.take()
            .into_iter()
            .filter_map(|e| match e {
                RoutingEvent::CallOffered { call, agent, .. } => Some((call, agent)),
                _ => None,
            })
            .collect()
    }

    pub fn login(&mut self, name: &str) {
        self.cmd(Command::ContactsChanged {
            agent: agent(name),
            count: 1,
        });
    }

    pub fn enqueue(&mut self, call: u128, queue_name: &str) {
        self.cmd(Command::Enqueue {
            call: CallId(call),
            queue: queue(queue_name),
        });
    }

    pub fn answer(&mut self, call: u128, name: &str) {
        self.cmd(Command::OfferAnswered {
            call: CallId(call),
            agent: agent(name),
        });
    }

    pub fn end(&mut self, call: u128) {
        self.cmd(Command::CallEnded { call: CallId(call) });
    }

    pub fn set(&mut self, name: &str, state: RequestedState) {
        self.cmd(Command::SetState {
            agent: agent(name),
            state,
        });
    }

    pub fn state(&self, name: &str) -> AgentState {
        self.router
            .agent(&agent(name))
            .expect("configured agent")
            .state
            .clone()
    }

    pub fn secs(&self, s: u64) -> Instant {
        self.t0 + Duration::from_secs(s)
    }
}
