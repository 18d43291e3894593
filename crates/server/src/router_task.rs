//! The routing task: the single owner of the pure [`Router`]. Call tasks, the registrar and the
//! HTTP API talk to it over a channel, so routing needs no locks and the order of its events is the
//! order of the log.

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use hotline_events::{EventDraft, EventKind, EventSink};
use hotline_routing::{
    AgentId, AgentSettings as RoutingAgentSettings, AgentState, CallId, Command, EnqueueOptions,
    NotReadyReason, QueueConfig, QueueId, RequestedState, RevokeReason, Router, RouterConfig,
    RoutingEvent, SkillId,
};
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use crate::config::Config;
use crate::http::{self, AgentInfo, QueueInfo, StateChangeError};
use crate::metrics::Metrics;

/// What the routing task tells a call task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouteSignal {
    /// Ring this agent's phones.
    Offer {
        /// The agent.
        agent: String,
        /// How long before the router gives up on this agent.
        ring_timeout: std::time::Duration,
    },
    /// Stop ringing this agent (ring timeout, agent logged out).
    Revoke {
        /// The agent.
        agent: String,
    },
    /// The agent answered and the router recorded the connection.
    Connected {
        /// The agent.
        agent: String,
    },
    /// The queue let the call go (max wait, relaxation exit, queue full or empty): the routing
    /// core has forgotten it, so the call ends with this reason.
    Left {
        /// Why, in the journal's vocabulary.
        reason: hotline_events::EndReason,
    },
    /// The agent answered an offer the router had already withdrawn: hang that leg up.
    AnswerRefused {
        /// The agent.
        agent: String,
    },
}

enum Request {
    Enqueue {
        call: Uuid,
        queue: String,
        notify: mpsc::UnboundedSender<RouteSignal>,
    },
    Command(Command),
    /// A command, then an event emitted after the routing events it causes.
    CommandThen(Command, EventDraft),
    Agents(oneshot::Sender<Vec<AgentInfo>>),
    Queues(oneshot::Sender<Vec<QueueInfo>>),
    SetState {
        agent: String,
        state: http::RequestedState,
        reason: Option<String>,
        reply: oneshot::Sender<Result<AgentInfo, StateChangeError>>,
    },
}

/// A cloneable handle to the routing task.
#[derive(Clone)]
pub struct RouterHandle {
    tx: mpsc::UnboundedSender<Request>,
}

impl RouterHandle {
    /// Puts a call in a queue; routing signals for it arrive on `notify`.
    pub fn enqueue(&self, call: Uuid, queue: &str, notify: mpsc::UnboundedSender<RouteSignal>) {
        let _ = self.tx.send(Request::Enqueue {
            call,
            queue: queue.to_string(),
            notify,
        });
    }

    /// The call is over: `Abandon` if it was waiting, `CallEnded` if it was connected; `last`
    /// (the call's `call.ended`) is journaled after the routing events this causes.
    pub fn finish(&self, call: Uuid, connected: bool, last: EventDraft) {
        let call = CallId(call.as_u128());
        let cmd = if connected {
            Command::CallEnded { call }
        } else {
            Command::Abandon { call }
        };
        let _ = self.tx.send(Request::CommandThen(cmd, last));
    }

    /// The agent's phone is ringing.
    pub fn ringing(&self, call: Uuid, agent: &str) {
        self.command(Command::OfferRinging {
            call: CallId(call.as_u128()),
            agent: AgentId::new(agent),
        });
    }

    /// The agent answered.
    pub fn answered(&self, call: Uuid, agent: &str) {
        self.command(Command::OfferAnswered {
            call: CallId(call.as_u128()),
            agent: AgentId::new(agent),
        });
    }

    /// The offer failed (rejected, busy, unreachable).
    pub fn offer_failed(&self, call: Uuid, agent: &str, cause: hotline_routing::OfferFailure) {
        self.command(Command::OfferFailed {
            call: CallId(call.as_u128()),
            agent: AgentId::new(agent),
            cause,
        });
    }

    /// An agent's registered contact count changed.
    pub fn contacts_changed(&self, agent: &str, count: usize) {
        self.command(Command::ContactsChanged {
            agent: AgentId::new(agent),
            count,
        });
    }

    fn command(&self, cmd: Command) {
        let _ = self.tx.send(Request::Command(cmd));
    }

    /// Every agent, for the API. `None` once the task stopped.
    pub async fn agents(&self) -> Option<Vec<AgentInfo>> {
        let (tx, rx) = oneshot::channel();
        self.tx.send(Request::Agents(tx)).ok()?;
        rx.await.ok()
    }

    /// Every queue, for the API.
    pub async fn queues(&self) -> Option<Vec<QueueInfo>> {
        let (tx, rx) = oneshot::channel();
        self.tx.send(Request::Queues(tx)).ok()?;
        rx.await.ok()
    }

    /// Sets an agent ready or not ready from the API.
    pub async fn set_state(
        &self,
        agent: String,
        state: http::RequestedState,
        reason: Option<String>,
    ) -> Option<Result<AgentInfo, StateChangeError>> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Request::SetState {
                agent,
                state,
                reason,
                reply,
            })
            .ok()?;
        rx.await.ok()
    }
}

/// Starts the routing task.
pub fn spawn(config: &Config, events: EventSink, metrics: Metrics) -> anyhow::Result<RouterHandle> {
    let router_config = RouterConfig {
        queues: config
            .queues
            .iter()
            .map(|(name, q)| QueueConfig {
                id: QueueId::new(name.clone()),
                members: q.members.iter().map(|m| AgentId::new(m.clone())).collect(),
                ring_timeout: q.ring_timeout,
                wrap_up: q.wrap_up,
                strategy: q.strategy,
                penalties: q
                    .penalties
                    .iter()
                    .map(|(a, p)| (AgentId::new(a.clone()), *p))
                    .collect(),
                service_level: q.service_level,
                relaxation: q.relaxation.clone(),
                ..QueueConfig::default()
            })
            .collect(),
        agents: config
            .agents
            .keys()
            .map(|a| AgentId::new(a.clone()))
            .collect(),
        agent_settings: config
            .agents
            .iter()
            .filter(|(_, a)| !a.skills.is_empty())
            .map(|(id, a)| {
                let settings = RoutingAgentSettings {
                    skills: a
                        .skills
                        .iter()
                        .map(|(s, p)| (SkillId::new(s.clone()), *p))
                        .collect(),
                    ..RoutingAgentSettings::default()
                };
                (AgentId::new(id.clone()), settings)
            })
            .collect(),
        ..RouterConfig::default()
    };
    let (tx, rx) = mpsc::unbounded_channel();
    let task = RouterTask {
        router: Router::new(router_config, Instant::now())?,
        calls: HashMap::new(),
        contacts: BTreeMap::new(),
        members: config
            .queues
            .iter()
            .map(|(name, q)| (name.clone(), q.members.clone()))
            .collect(),
        priorities: config
            .queues
            .iter()
            .map(|(name, q)| (name.clone(), q.priority))
            .collect(),
        names: config
            .agents
            .iter()
            .filter_map(|(id, a)| a.name.clone().map(|n| (id.clone(), n)))
            .collect(),
        events,
        metrics,
        rx,
    };
    tokio::spawn(task.run());
    Ok(RouterHandle { tx })
}

struct RouterTask {
    router: Router,
    calls: HashMap<u128, mpsc::UnboundedSender<RouteSignal>>,
    contacts: BTreeMap<String, usize>,
    members: BTreeMap<String, Vec<String>>,
    /// The priority each queue gives its entries.
    priorities: BTreeMap<String, i32>,
    names: BTreeMap<String, String>,
    events: EventSink,
    metrics: Metrics,
    rx: mpsc::UnboundedReceiver<Request>,
}

impl RouterTask {
    async fn run(mut self) {
        self.publish_gauges();
        loop {
            let deadline = self.router.poll_timeout().map(|(at, _)| at);
            let sleep = async {
                match deadline {
                    Some(at) => tokio::time::sleep_until(at.into()).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                req = self.rx.recv() => {
                    let Some(req) = req else { break };
                    self.handle(req);
                }
                () = sleep => {
                    self.router.handle_timeout(Instant::now());
                }
            }
            self.drain();
        }
    }

    fn handle(&mut self, req: Request) {
        let now = Instant::now();
        match req {
            Request::Enqueue {
                call,
                queue,
                notify,
            } => {
                self.calls.insert(call.as_u128(), notify);
                let options = EnqueueOptions {
                    priority: self.priorities.get(&queue).copied().unwrap_or(0),
                    ..EnqueueOptions::default()
                };
                let cmd = Command::EnqueueWith {
                    call: CallId(call.as_u128()),
                    queue: QueueId::new(queue),
                    options,
                };
                if let Err(e) = self.router.handle(now, cmd) {
                    tracing::warn!(%call, "enqueue refused: {e}");
                }
            }
            Request::Command(cmd) => {
                if let Command::ContactsChanged { agent, count } = &cmd {
                    self.contacts.insert(agent.as_str().to_string(), *count);
                }
                let answered = match &cmd {
                    Command::OfferAnswered { call, agent } => Some((*call, agent.clone())),
                    _ => None,
                };
                if let Err(e) = self.router.handle(now, cmd) {
                    tracing::debug!("routing command refused: {e}");
                    if let Some((call, agent)) = answered {
                        self.signal(
                            call,
                            RouteSignal::AnswerRefused {
                                agent: agent.as_str().to_string(),
                            },
                        );
                    }
                }
            }
            Request::CommandThen(cmd, last) => {
                if let Err(e) = self.router.handle(now, cmd) {
                    tracing::debug!("routing command refused: {e}");
                }
                self.drain();
                self.events.emit(last);
            }
            Request::Agents(reply) => {
                let _ = reply.send(self.agent_infos(now));
            }
            Request::Queues(reply) => {
                let _ = reply.send(self.queue_infos(now));
            }
            Request::SetState {
                agent,
                state,
                reason,
                reply,
            } => {
                let id = AgentId::new(agent.clone());
                let result = match self.router.agent(&id) {
                    None => Err(StateChangeError::UnknownAgent),
                    Some(view) if *view.state == AgentState::LoggedOut => {
                        Err(StateChangeError::LoggedOut)
                    }
                    Some(_) => {
                        let requested = match state {
                            http::RequestedState::Ready => RequestedState::Ready,
                            http::RequestedState::NotReady => RequestedState::NotReady(
                                NotReadyReason::from_api(reason.as_deref().unwrap_or("break")),
                            ),
                        };
                        let cmd = Command::SetState {
                            agent: id.clone(),
                            state: requested,
                        };
                        match self.router.handle(now, cmd) {
                            Ok(()) => {
                                self.drain();
                                self.agent_infos(now)
                                    .into_iter()
                                    .find(|a| a.id == agent)
                                    .ok_or(StateChangeError::UnknownAgent)
                            }
                            Err(_) => Err(StateChangeError::LoggedOut),
                        }
                    }
                };
                let _ = reply.send(result);
            }
        }
    }

    /// Carries out every routing event: signals to call tasks, journal events, gauges.
    fn drain(&mut self) {
        let mut changed = false;
        while let Some(ev) = self.router.poll_event() {
            changed = true;
            self.carry_out(ev);
        }
        if changed {
            self.publish_gauges();
        }
    }

    fn carry_out(&mut self, ev: RoutingEvent) {
        match ev {
            RoutingEvent::CallQueued {
                call,
                queue,
                position,
            } => self.emit(
                EventDraft::new(EventKind::CallQueued {
                    position: u32::try_from(position).unwrap_or(u32::MAX),
                })
                .call(Uuid::from_u128(call.0))
                .queue(queue.as_str()),
            ),
            RoutingEvent::CallOffered {
                call,
                queue,
                agent,
                ring_timeout,
                ..
            } => {
                self.emit(
                    EventDraft::new(EventKind::CallOffered {
                        ring_timeout_ms: millis(ring_timeout),
                    })
                    .call(Uuid::from_u128(call.0))
                    .agent(agent.as_str())
                    .queue(queue.as_str()),
                );
                self.signal(
                    call,
                    RouteSignal::Offer {
                        agent: agent.as_str().to_string(),
                        ring_timeout,
                    },
                );
            }
            RoutingEvent::OfferRevoked {
                call,
                agent,
                reason,
            } => {
                if reason != RevokeReason::CallerAbandoned {
                    self.signal(
                        call,
                        RouteSignal::Revoke {
                            agent: agent.as_str().to_string(),
                        },
                    );
                }
            }
            RoutingEvent::CallRequeued {
                call,
                queue,
                agent,
                reason,
            } => self.emit(
                EventDraft::new(EventKind::CallOfferFailed {
                    cause: offer_fail_cause(reason),
                })
                .call(Uuid::from_u128(call.0))
                .agent(agent.as_str())
                .queue(queue.as_str()),
            ),
            RoutingEvent::CallConnected {
                call,
                queue,
                agent,
                wait,
            } => {
                self.emit(
                    EventDraft::new(EventKind::CallAnswered {
                        wait_ms: millis(wait),
                    })
                    .call(Uuid::from_u128(call.0))
                    .agent(agent.as_str())
                    .queue(queue.as_str()),
                );
                self.signal(
                    call,
                    RouteSignal::Connected {
                        agent: agent.as_str().to_string(),
                    },
                );
            }
            RoutingEvent::CallAbandoned {
                call,
                queue,
                wait,
                position,
            } => {
                self.emit(
                    EventDraft::new(EventKind::CallAbandoned {
                        wait_ms: millis(wait),
                        position: u32::try_from(position).ok(),
                    })
                    .call(Uuid::from_u128(call.0))
                    .queue(queue.as_str()),
                );
                self.calls.remove(&call.0);
            }
            RoutingEvent::CallCompleted { call, .. } => {
                self.calls.remove(&call.0);
            }
            // The bundled configuration sets no max wait, max length, empty policy or exit
            // step, so these do not happen yet; the call task has no exit path to take.
            RoutingEvent::CallExited {
                call,
                queue,
                reason,
                ..
            } => {
                tracing::info!(call = %Uuid::from_u128(call.0), %queue, ?reason, "call left the queue");
                let reason = match reason {
                    hotline_routing::ExitReason::MaxWait
                    | hotline_routing::ExitReason::RelaxationExit => {
                        hotline_events::EndReason::MaxWaitExceeded
                    }
                    hotline_routing::ExitReason::QueueEmpty => hotline_events::EndReason::NoAgents,
                };
                self.signal(call, RouteSignal::Left { reason });
                self.calls.remove(&call.0);
            }
            RoutingEvent::CallRejected {
                call,
                queue,
                reason,
            } => {
                tracing::info!(call = %Uuid::from_u128(call.0), %queue, ?reason, "queue refused the call");
                let reason = match reason {
                    hotline_routing::RejectReason::QueueFull => hotline_events::EndReason::Error,
                    hotline_routing::RejectReason::QueueEmpty => {
                        hotline_events::EndReason::NoAgents
                    }
                };
                self.signal(call, RouteSignal::Left { reason });
                self.calls.remove(&call.0);
            }
            RoutingEvent::CallRelaxed { .. } => {}
            RoutingEvent::AgentStateChanged {
                agent, from, to, ..
            } => {
                let reason = match &to {
                    AgentState::NotReady(r) => Some(not_ready_text(r)),
                    _ => None,
                };
                self.emit(
                    EventDraft::new(EventKind::AgentStateChanged {
                        from: wire_state(&from),
                        to: wire_state(&to),
                        reason,
                    })
                    .agent(agent.as_str()),
                );
            }
        }
    }

    fn signal(&mut self, call: CallId, signal: RouteSignal) {
        if let Some(tx) = self.calls.get(&call.0) {
            if tx.send(signal).is_err() {
                self.calls.remove(&call.0);
            }
        }
    }

    fn emit(&self, draft: EventDraft) {
        self.events.emit(draft);
    }

    fn agent_infos(&self, now: Instant) -> Vec<AgentInfo> {
        self.router
            .agents()
            .map(|a| AgentInfo {
                id: a.id.as_str().to_string(),
                name: self.names.get(a.id.as_str()).cloned(),
                state: a.state.name().to_string(),
                reason: match &a.state {
                    AgentState::NotReady(r) => Some(not_ready_text(r)),
                    _ => None,
                },
                in_state_ms: millis(now.saturating_duration_since(a.since)),
                queues: a.queues.iter().map(|q| q.as_str().to_string()).collect(),
                contacts: self.contacts.get(a.id.as_str()).copied().unwrap_or(0),
            })
            .collect()
    }

    fn queue_infos(&self, now: Instant) -> Vec<QueueInfo> {
        self.router
            .queues()
            .map(|q| QueueInfo {
                name: q.id.as_str().to_string(),
                waiting: q.waiting,
                longest_wait_ms: q
                    .oldest_wait_since
                    .map_or(0, |t| millis(now.saturating_duration_since(t))),
                agents_ready: q.agents_ready,
                members: self.members.get(q.id.as_str()).cloned().unwrap_or_default(),
            })
            .collect()
    }

    fn publish_gauges(&self) {
        let mut by_state: BTreeMap<&'static str, i64> = [
            "logged_out",
            "ready",
            "reserved",
            "ringing",
            "on_call",
            "wrap_up",
            "not_ready",
        ]
        .into_iter()
        .map(|s| (s, 0))
        .collect();
        for a in self.router.agents() {
            *by_state.entry(a.state.name()).or_default() += 1;
        }
        for (state, n) in by_state {
            self.metrics
                .agents_by_state
                .with_label_values(&[state])
                .set(n);
        }
        for q in self.router.queues() {
            self.metrics
                .queue_waiting
                .with_label_values(&[q.id.as_str()])
                .set(i64::try_from(q.waiting).unwrap_or(i64::MAX));
        }
    }
}

fn millis(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

fn not_ready_text(r: &NotReadyReason) -> String {
    match r {
        NotReadyReason::MissedOffer => "missed_offer".to_string(),
        NotReadyReason::Manual(text) => text.clone(),
    }
}

fn wire_state(s: &AgentState) -> hotline_events::AgentState {
    use hotline_events::AgentState as W;
    match s {
        AgentState::LoggedOut => W::LoggedOut,
        AgentState::Ready => W::Ready,
        AgentState::Reserved => W::Reserved,
        AgentState::Ringing => W::Ringing,
        AgentState::OnCall => W::OnCall,
        AgentState::WrapUp => W::WrapUp,
        AgentState::NotReady(_) => W::NotReady,
    }
}

fn offer_fail_cause(reason: hotline_routing::RequeueReason) -> hotline_events::OfferFailCause {
    use hotline_events::OfferFailCause as C;
    use hotline_routing::{OfferFailure, RequeueReason};
    match reason {
        RequeueReason::RingTimeout => C::NoAnswer,
        RequeueReason::OfferFailed(OfferFailure::Busy) => C::Busy,
        RequeueReason::OfferFailed(OfferFailure::Rejected) => C::Declined,
        RequeueReason::OfferFailed(OfferFailure::NoAnswer) => C::NoAnswer,
        RequeueReason::OfferFailed(OfferFailure::Unreachable) => C::Unreachable,
        RequeueReason::AgentLoggedOut => C::Unreachable,
    }
}
