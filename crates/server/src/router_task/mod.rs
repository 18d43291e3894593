//! The routing task: the single owner of the pure [`Router`]. Call tasks, the registrar and the
//! HTTP API talk to it over a channel, so routing needs no locks and the order of its events is the
//! order of the log.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Instant;

use hotline_events::{EventDraft, EventSink};
use hotline_routing::{
    AgentId, AgentState, CallId, Command, EnqueueOptions, NotReadyReason, QueueId, RequestedState,
    Router,
};
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use crate::config::Config;
use crate::http::{
    self, AgentDetail, AgentInfo, QueueDetail, QueueInfo, SkillsChangeError, StateChangeError,
};
use crate::metrics::Metrics;

mod carry_out;
mod scheduled;
mod views;

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
    /// The queue offers the waiting caller a callback (its `callback_offer` wait passed, or a
    /// relaxation step offers one).
    CallbackOffered,
    /// The waiting call became a callback entry at its place: the caller may be let go.
    CallbackConverted,
    /// The call could not become a callback (an agent's phone rings for it, or it left).
    CallbackRefused,
}

enum Request {
    /// A reloaded configuration for the router (see `crate::reload`).
    Reconfigure {
        config: Box<Config>,
        /// Agents that keep the skills in force instead of the file's (see `crate::reload`).
        keep_skills: BTreeSet<String>,
        reply: oneshot::Sender<Result<(), hotline_routing::ConfigError>>,
    },
    Enqueue {
        call: Uuid,
        queue: String,
        /// The dialplan node's options; each one given wins over the queue's default.
        options: hotline_dialplan::QueueOptions,
        /// An outbound campaign's answered customer: kept out of the queue's service level.
        outbound: bool,
        notify: mpsc::UnboundedSender<RouteSignal>,
    },
    /// Data the dialplan attached to a call, shown with its offers (`call.offered`).
    Attach {
        call: Uuid,
        data: BTreeMap<String, String>,
    },
    Command(Command),
    /// A waiting call becomes a callback entry; a refusal is signalled to the call.
    ConvertToCallback {
        call: Uuid,
        callback: hotline_routing::CallbackRequest,
    },
    /// A command, then an event emitted after the routing events it causes.
    CommandThen(Command, Box<EventDraft>),
    Agents(oneshot::Sender<Vec<AgentInfo>>),
    Queues(oneshot::Sender<Vec<QueueInfo>>),
    SetState {
        agent: String,
        state: http::RequestedState,
        reason: Option<String>,
        reply: oneshot::Sender<Result<AgentInfo, StateChangeError>>,
    },
    Agent(String, oneshot::Sender<Option<AgentDetail>>),
    Queue(String, oneshot::Sender<Option<QueueDetail>>),
    /// A waiting call's place and estimated wait (queue announcements).
    Standing(Uuid, oneshot::Sender<Option<Standing>>),
    SetSkills {
        agent: String,
        skills: BTreeMap<String, u8>,
        reply: oneshot::Sender<Result<AgentDetail, SkillsChangeError>>,
    },
    /// Due callbacks go to this dialer from now on.
    SetCallbackDialer(mpsc::UnboundedSender<crate::call::DueCallback>),
    /// A callback's dial failed, with what SIP said.
    CallbackFailedWith {
        call: Uuid,
        agent: String,
        failure: crate::call::DialFailure,
    },
    /// Scheduled callbacks' requests (see `scheduled`).
    Scheduled(scheduled::ScheduledRequest),
}

/// Where a waiting call stands, for its queue announcements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Standing {
    /// Its 1-based position in its queue.
    pub position: usize,
    /// The routing core's estimate of the wait left, if it has one.
    pub estimated_wait: Option<std::time::Duration>,
}

/// A callback to queue again after a restart.
#[derive(Debug, Clone)]
pub struct RestoredCallback {
    /// Whom to call back.
    pub request: hotline_routing::CallbackRequest,
    /// Its original entry time.
    pub entered_at: Instant,
    /// Its priority.
    pub priority: i32,
    /// Dial attempts already made.
    pub attempts: u32,
    /// Not dialed before this instant (an attempt whose outcome was lost waits its retry delay).
    pub not_before: Option<Instant>,
}

/// A cloneable handle to the routing task.
#[derive(Clone)]
pub struct RouterHandle {
    tx: mpsc::UnboundedSender<Request>,
}

impl RouterHandle {
    /// Puts a call in a queue with the dialplan node's options; routing signals for it arrive
    /// on `notify`.
    pub fn enqueue(
        &self,
        call: Uuid,
        queue: &str,
        options: hotline_dialplan::QueueOptions,
        notify: mpsc::UnboundedSender<RouteSignal>,
    ) {
        let _ = self.tx.send(Request::Enqueue {
            call,
            queue: queue.to_string(),
            options,
            outbound: false,
            notify,
        });
    }

    /// Puts an outbound campaign's answered customer in a queue like [`RouterHandle::enqueue`];
    /// the entry stays out of the queue's service level (it measures the inbound callers).
    pub fn enqueue_outbound(
        &self,
        call: Uuid,
        queue: &str,
        options: hotline_dialplan::QueueOptions,
        notify: mpsc::UnboundedSender<RouteSignal>,
    ) {
        let _ = self.tx.send(Request::Enqueue {
            call,
            queue: queue.to_string(),
            options,
            outbound: true,
            notify,
        });
    }

    /// Attaches data to a call for its agent offers (sent before [`RouterHandle::enqueue`]).
    pub fn attach(&self, call: Uuid, data: BTreeMap<String, String>) {
        let _ = self.tx.send(Request::Attach { call, data });
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
        let _ = self.tx.send(Request::CommandThen(cmd, Box::new(last)));
    }

    /// The conversation with the agent is over but the call goes on (a post-call survey):
    /// the agent is released now; [`RouterHandle::finish`] follows when the call ends.
    pub fn conversation_ended(&self, call: Uuid) {
        self.command(Command::CallEnded {
            call: CallId(call.as_u128()),
        });
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

    /// Turns a waiting call into a callback entry at its place (the caller accepted the
    /// offer); the call hears [`RouteSignal::CallbackConverted`] or
    /// [`RouteSignal::CallbackRefused`].
    pub fn convert_to_callback(&self, call: Uuid, number: &str, note: &str) {
        let _ = self.tx.send(Request::ConvertToCallback {
            call,
            callback: hotline_routing::CallbackRequest {
                number: hotline_routing::CallbackNumber::new(number),
                note: Some(note.to_owned()),
            },
        });
    }

    /// Queues a callback again after a restart, at the place of its original entry time.
    pub fn restore_callback(&self, call: Uuid, queue: &str, callback: RestoredCallback) {
        self.command(Command::EnqueueCallback {
            call: CallId(call.as_u128()),
            queue: QueueId::new(queue),
            callback: callback.request,
            options: EnqueueOptions {
                priority: callback.priority,
                ..EnqueueOptions::default()
            },
            entered_at: callback.entered_at,
            attempts: callback.attempts,
            owner: hotline_routing::CallbackOwner::Queue,
            not_before: callback.not_before,
        });
    }

    /// Due callbacks are dialed by `dialer` (without one, a due callback is not dialed).
    pub fn set_callback_dialer(&self, dialer: mpsc::UnboundedSender<crate::call::DueCallback>) {
        let _ = self.tx.send(Request::SetCallbackDialer(dialer));
    }

    /// The customer of a due callback answered and talks with the agent.
    pub fn callback_connected(&self, call: Uuid, agent: &str) {
        self.command(Command::CallbackConnected {
            call: CallId(call.as_u128()),
            agent: AgentId::new(agent),
        });
    }

    /// The dial of a due callback failed: the agent is released, the callback retried later.
    pub fn callback_failed(
        &self,
        call: Uuid,
        agent: &str,
        cause: hotline_routing::CallbackFailure,
    ) {
        self.command(Command::CallbackFailed {
            call: CallId(call.as_u128()),
            agent: AgentId::new(agent),
            cause,
            retry_after: None,
        });
    }

    /// The dial of a due callback failed with what SIP said: a Retry-After postpones the next
    /// attempt, and the status and Q.850 cause go into `callback.failed`.
    pub fn callback_failed_with(&self, call: Uuid, agent: &str, failure: crate::call::DialFailure) {
        let _ = self.tx.send(Request::CallbackFailedWith {
            call,
            agent: agent.to_string(),
            failure,
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

    /// Asks where a call stands in its queue; the answer (`None`: not waiting) comes on the
    /// returned channel, so the call task keeps serving its other inputs meanwhile.
    pub fn standing(&self, call: Uuid) -> oneshot::Receiver<Option<Standing>> {
        let (tx, rx) = oneshot::channel();
        let _ = self.tx.send(Request::Standing(call, tx));
        rx
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

    /// One agent in detail (state, skills, queues with penalties); `Some(None)` if unknown.
    pub async fn agent(&self, id: String) -> Option<Option<AgentDetail>> {
        let (tx, rx) = oneshot::channel();
        self.tx.send(Request::Agent(id, tx)).ok()?;
        rx.await.ok()
    }

    /// One queue's configuration and live statistics; `Some(None)` if unknown.
    pub async fn queue(&self, id: String) -> Option<Option<QueueDetail>> {
        let (tx, rx) = oneshot::channel();
        self.tx.send(Request::Queue(id, tx)).ok()?;
        rx.await.ok()
    }

    /// Replaces an agent's skills in the running router (journaled as
    /// `agent.skills_changed`); waiting calls it now qualifies for may be offered at once.
    pub async fn set_skills(
        &self,
        agent: String,
        skills: BTreeMap<String, u8>,
    ) -> Option<Result<AgentDetail, SkillsChangeError>> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Request::SetSkills {
                agent,
                skills,
                reply,
            })
            .ok()?;
        rx.await.ok()
    }

    /// Replaces the router's queues and agents with those of a reloaded configuration; the
    /// router refuses an invalid one and keeps the old. `None` once the task stopped.
    /// The agents in `keep_skills` keep the skills in force (read and kept in the same step,
    /// so an API change cannot fall in between).
    pub async fn reconfigure(
        &self,
        config: Config,
        keep_skills: BTreeSet<String>,
    ) -> Option<Result<(), hotline_routing::ConfigError>> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Request::Reconfigure {
                config: Box::new(config),
                keep_skills,
                reply,
            })
            .ok()?;
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
    let router_config = crate::routing_config::router_config(config);
    let (tx, rx) = mpsc::unbounded_channel();
    let task = RouterTask {
        router: Router::new(router_config, Instant::now())?,
        calls: HashMap::new(),
        dialer: None,
        dial_failures: HashMap::new(),
        scheduled: None,
        attached: HashMap::new(),
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
    /// Where due callbacks are sent to be dialed (none: they are released undialed).
    dialer: Option<mpsc::UnboundedSender<crate::call::DueCallback>>,
    /// The SIP status and Q.850 cause of a failing dial, while its `callback.failed` is written.
    dial_failures: HashMap<u128, (Option<u16>, Option<u16>)>,
    /// The scheduled callbacks' driver (none: their due entries are released undialed).
    scheduled: Option<mpsc::UnboundedSender<crate::callbacks::RouterSignal>>,
    /// What the dialplan attached to each call, until the call leaves routing.
    attached: HashMap<u128, BTreeMap<String, String>>,
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
                options: node,
                outbound,
                notify,
            } => {
                self.calls.insert(call.as_u128(), notify);
                let requirements = |skills: &BTreeMap<String, u8>| {
                    skills
                        .iter()
                        .map(|(s, p)| hotline_routing::SkillRequirement::new(s.clone(), *p))
                        .collect()
                };
                // The dialplan node's values win over the queue's defaults.
                let options = EnqueueOptions {
                    priority: node
                        .priority
                        .unwrap_or_else(|| self.priorities.get(&queue).copied().unwrap_or(0)),
                    required: requirements(&node.skills),
                    preferred: requirements(&node.preferred_skills),
                    max_wait: node.max_wait,
                    callback_offer: node.callback_offer,
                    outside_service_level: outbound,
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
            Request::ConvertToCallback { call, callback } => {
                let cmd = Command::ConvertToCallback {
                    call: CallId(call.as_u128()),
                    callback,
                };
                if let Err(e) = self.router.handle(now, cmd) {
                    tracing::info!(%call, "callback refused: {e}");
                    self.signal(CallId(call.as_u128()), RouteSignal::CallbackRefused);
                }
            }
            Request::Attach { call, data } => {
                self.attached.insert(call.as_u128(), data);
            }
            Request::SetCallbackDialer(dialer) => self.dialer = Some(dialer),
            Request::CallbackFailedWith {
                call,
                agent,
                failure,
            } => self.callback_failed_with(now, call, &agent, failure),
            Request::Scheduled(req) => self.scheduled_request(req),
            Request::CommandThen(cmd, last) => {
                if let Command::CallEnded { call } | Command::Abandon { call } = &cmd {
                    self.attached.remove(&call.0);
                }
                if let Err(e) = self.router.handle(now, cmd) {
                    tracing::debug!("routing command refused: {e}");
                }
                self.drain();
                self.events.emit(*last);
            }
            Request::Reconfigure {
                config,
                keep_skills,
                reply,
            } => {
                let mut routing = crate::routing_config::router_config(&config);
                for id in keep_skills.into_iter().map(AgentId::new) {
                    if let (Some(view), Some(settings)) =
                        (self.router.agent(&id), routing.agent_settings.get_mut(&id))
                    {
                        settings.skills = view.skills.clone();
                    }
                }
                let result = self.router.reconfigure(now, routing);
                if result.is_ok() {
                    self.members = config
                        .queues
                        .iter()
                        .map(|(name, q)| (name.clone(), q.members.clone()))
                        .collect();
                    self.priorities = config
                        .queues
                        .iter()
                        .map(|(name, q)| (name.clone(), q.priority))
                        .collect();
                    self.names = config
                        .agents
                        .iter()
                        .filter_map(|(id, a)| a.name.clone().map(|n| (id.clone(), n)))
                        .collect();
                    self.drain();
                    // Removed queues leave the per-queue gauges.
                    self.metrics.queue_waiting.reset();
                    self.publish_gauges();
                }
                let _ = reply.send(result);
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
            Request::Agent(id, reply) => {
                let _ = reply.send(self.agent_detail(&id, now));
            }
            Request::Queue(id, reply) => {
                let _ = reply.send(self.queue_detail(&id, now));
            }
            Request::Standing(call, reply) => {
                let call = CallId(call.as_u128());
                let position = self.router.call(call).and_then(|view| match view.status {
                    hotline_routing::CallStatus::Waiting { position }
                    | hotline_routing::CallStatus::Offered { position, .. }
                    | hotline_routing::CallStatus::Dialing { position, .. }
                    | hotline_routing::CallStatus::RingingAll { position, .. } => Some(position),
                    _ => None,
                });
                let _ = reply.send(position.map(|position| Standing {
                    position,
                    estimated_wait: self.router.estimated_wait(call),
                }));
            }
            Request::SetSkills {
                agent,
                skills,
                reply,
            } => {
                let _ = reply.send(self.set_skills(agent, skills, now));
            }
        }
    }

    /// Applies an API skills change, journals it, and carries out the offers it allows.
    fn set_skills(
        &mut self,
        agent: String,
        skills: BTreeMap<String, u8>,
        now: Instant,
    ) -> Result<AgentDetail, SkillsChangeError> {
        let cmd = Command::SetSkills {
            agent: AgentId::new(agent.clone()),
            skills: skills
                .iter()
                .map(|(s, p)| (hotline_routing::SkillId::new(s.clone()), *p))
                .collect(),
        };
        match self.router.handle(now, cmd) {
            Ok(()) => {}
            Err(hotline_routing::CommandError::UnknownAgent(_)) => {
                return Err(SkillsChangeError::UnknownAgent)
            }
            Err(e) => return Err(SkillsChangeError::Invalid(e.to_string())),
        }
        // Journaled before the offers it causes, so a replay sees the cause first.
        self.emit(
            EventDraft::new(hotline_events::EventKind::AgentSkillsChanged { skills })
                .agent(agent.clone()),
        );
        self.drain();
        self.agent_detail(&agent, now)
            .ok_or(SkillsChangeError::UnknownAgent)
    }

    /// Carries out every routing event: signals to call tasks, journal events, gauges.
    fn drain(&mut self) {
        let mut changed = false;
        while let Some(ev) = self.router.poll_event() {
            changed = true;
            let Some(ev) = self.route_scheduled(ev) else {
                continue;
            };
            self.carry_out(ev);
        }
        if changed {
            self.publish_gauges();
        }
    }

    pub(super) fn signal(&mut self, call: CallId, signal: RouteSignal) {
        if let Some(tx) = self.calls.get(&call.0) {
            if tx.send(signal).is_err() {
                self.calls.remove(&call.0);
            }
        }
    }

    pub(super) fn emit(&self, draft: EventDraft) {
        self.events.emit(draft);
    }
}
