//! The routing task's side of scheduled callbacks: the driver's claims join their queue as
//! scheduler-owned callback entries, their due turn goes to the driver (not to the plain
//! dialer), agents becoming ready wake the driver, and the driver reads the free agents.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use hotline_events::{EventDraft, EventKind};
use hotline_routing::{
    AgentState, CallId, CallbackFailure, CallbackNumber, CallbackOwner, CallbackRequest, Command,
    EnqueueOptions, QueueId, RoutingEvent, SkillRequirement,
};
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use super::{Request, RouterHandle, RouterTask};
use crate::callbacks::{FreeAgents, RouterSignal};

/// The driver's requests to the routing task.
pub(super) enum ScheduledRequest {
    /// Scheduler-owned entries' turns and ready agents go to this driver from now on.
    SetDriver(mpsc::UnboundedSender<RouterSignal>),
    /// The agents free now.
    FreeAgents(oneshot::Sender<FreeAgents>),
    /// Dial a journaled attempt with the outbound dialer; false: there is none.
    Dial(Box<crate::call::DueCallback>, oneshot::Sender<bool>),
}

impl RouterHandle {
    /// Scheduler-owned callback entries are handed to `driver` when their turn comes.
    pub fn set_scheduled_driver(&self, driver: mpsc::UnboundedSender<RouterSignal>) {
        let _ = self
            .tx
            .send(Request::Scheduled(ScheduledRequest::SetDriver(driver)));
    }

    /// The agents logged in, ready and not reserved, per queue; `None` once the task stopped.
    pub async fn free_agents(&self) -> Option<FreeAgents> {
        let (tx, rx) = oneshot::channel();
        self.tx
            .send(Request::Scheduled(ScheduledRequest::FreeAgents(tx)))
            .ok()?;
        rx.await.ok()
    }

    /// Hands a journaled attempt to the outbound dialer; `Some(false)`: there is no dialer.
    pub async fn dial_scheduled(&self, due: crate::call::DueCallback) -> Option<bool> {
        let (tx, rx) = oneshot::channel();
        self.tx
            .send(Request::Scheduled(ScheduledRequest::Dial(
                Box::new(due),
                tx,
            )))
            .ok()?;
        rx.await.ok()
    }

    /// A claimed scheduled callback joins `queue` (dialed once; the scheduler decides what
    /// follows a failed dial).
    #[allow(clippy::too_many_arguments)]
    pub fn enqueue_scheduled(
        &self,
        call: Uuid,
        queue: &str,
        number: &str,
        note: &str,
        priority: i32,
        skills: Vec<String>,
        attempts: u32,
    ) {
        let _ = self.tx.send(Request::Command(Command::EnqueueCallback {
            call: CallId(call.as_u128()),
            queue: QueueId::new(queue),
            callback: CallbackRequest {
                number: CallbackNumber::new(number),
                note: (!note.is_empty()).then(|| note.to_string()),
            },
            options: EnqueueOptions {
                priority,
                required: skills
                    .into_iter()
                    .map(|s| SkillRequirement::new(s, 1))
                    .collect(),
                ..EnqueueOptions::default()
            },
            entered_at: Instant::now(),
            attempts,
            owner: CallbackOwner::Scheduler,
            not_before: None,
        }));
    }

    /// Takes a waiting callback entry out of its queue.
    pub fn cancel_callback(&self, call: Uuid) {
        let _ = self.tx.send(Request::Command(Command::CancelCallback {
            call: CallId(call.as_u128()),
        }));
    }
}

impl RouterTask {
    pub(super) fn scheduled_request(&mut self, req: ScheduledRequest) {
        match req {
            ScheduledRequest::SetDriver(driver) => self.scheduled = Some(driver),
            ScheduledRequest::FreeAgents(reply) => {
                let _ = reply.send(self.free_agents());
            }
            ScheduledRequest::Dial(due, reply) => {
                let sent = self.dialer.as_ref().is_some_and(|d| d.send(*due).is_ok());
                let _ = reply.send(sent);
            }
        }
    }

    /// Agents ready with no call and no pending not-ready, counted in each of their queues.
    fn free_agents(&self) -> FreeAgents {
        let mut queues: BTreeMap<String, u32> = BTreeMap::new();
        let mut agents = BTreeSet::new();
        for a in self.router.agents() {
            let free = *a.state == AgentState::Ready
                && a.current_call.is_none()
                && a.pending_not_ready.is_none();
            if !free {
                continue;
            }
            agents.insert(a.id.as_str().to_string());
            for q in a.queues {
                *queues.entry(q.as_str().to_string()).or_default() += 1;
            }
        }
        FreeAgents {
            queues,
            total: u32::try_from(agents.len()).unwrap_or(u32::MAX),
        }
    }

    /// Hands a scheduler-owned entry's turn to the driver (journaling `callback.due`) and wakes
    /// the driver when an agent becomes ready; every other event is given back.
    pub(super) fn route_scheduled(&mut self, ev: RoutingEvent) -> Option<RoutingEvent> {
        match ev {
            RoutingEvent::CallbackDue {
                call,
                queue,
                agent,
                attempt,
                owner: CallbackOwner::Scheduler,
                ..
            } => {
                let uuid = Uuid::from_u128(call.0);
                let signal = RouterSignal::Due {
                    call: uuid,
                    agent: agent.as_str().to_string(),
                };
                let sent = self
                    .scheduled
                    .as_ref()
                    .is_some_and(|d| d.send(signal).is_ok());
                self.emit(
                    EventDraft::new(EventKind::CallbackDue {
                        attempt,
                        scheduled: true,
                    })
                    .call(uuid)
                    .agent(agent.as_str())
                    .queue(queue.as_str()),
                );
                if !sent {
                    tracing::warn!(call = %uuid, "scheduled callback due without its driver: released");
                    let failed = Command::CallbackFailed {
                        call,
                        agent,
                        cause: CallbackFailure::NotDialed,
                        retry_after: None,
                    };
                    if let Err(e) = self.router.handle(Instant::now(), failed) {
                        tracing::warn!(call = %uuid, "releasing the callback's agent refused: {e}");
                    }
                }
                None
            }
            RoutingEvent::AgentStateChanged {
                to: AgentState::Ready,
                ..
            } => {
                if let Some(driver) = &self.scheduled {
                    let _ = driver.send(RouterSignal::AgentsFreed);
                }
                Some(ev)
            }
            other => Some(other),
        }
    }
}
