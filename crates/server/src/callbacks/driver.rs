//! The driver: one tokio task owning the [`Scheduler`]. It wakes at the scheduler's next
//! timeout or on input (an API request, a reserved agent, a dial report, agents freeing up),
//! counts the free agents per queue from the router, lets the scheduler claim callbacks, and
//! carries out the scheduler's events, always after writing them to the journal:
//!
//! - `claimed`: the callback joins its queue as a router entry owned by the scheduler, at the
//!   claim's priority and with its skills; the router reserves an agent when its turn comes;
//! - the router's `CallbackDue` for it: [`Scheduler::agent_reserved`] answers with a dial, whose
//!   `attempt_started` is fsynced before the dialer gets it, or a release (the router frees the
//!   agent with `CallbackFailed{NotDialed}` and the entry leaves the queue);
//! - a claim released or a callback cancelled or given up while its entry waits in the queue:
//!   the entry is cancelled;
//! - the dialer's [`DialReport`] becomes the attempt's outcome.

use std::collections::BTreeMap;
use std::time::Duration;

use hotline_campaigns::{
    AgentName, CallbackEvent, CallbackId, Command, CommandError, DialOrder, DialOutcome,
    ListFilter, OutcomeKind, Reservation, Scheduler, E164,
};
use hotline_events::EventSink;
use hotline_routing::CallbackFailure;
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use super::journal;
use super::metrics::{queue_counts, CallbackMetrics};
use super::view::{CallbackView, StatsView};
use super::{FreeAgents, RouterSignal};
use crate::call::{DialReport, DueCallback};
use crate::campaigns::dnc::SharedDnc;
use crate::router_task::RouterHandle;

/// What the API asks of the driver.
pub(crate) enum Request {
    Create(
        Box<hotline_campaigns::NewCallback>,
        oneshot::Sender<Result<CallbackView, CommandError>>,
    ),
    Cancel(
        CallbackId,
        oneshot::Sender<Result<CallbackView, CommandError>>,
    ),
    SetTimeZone(
        CallbackId,
        hotline_campaigns::Zone,
        oneshot::Sender<Result<CallbackView, CommandError>>,
    ),
    One(CallbackId, oneshot::Sender<Option<CallbackView>>),
    List(ListFilter, oneshot::Sender<Vec<CallbackView>>),
    Stats(oneshot::Sender<StatsView>),
    DncList(oneshot::Sender<Vec<String>>),
    DncAdd(E164, oneshot::Sender<Result<bool, String>>),
    DncRemove(E164, oneshot::Sender<Result<bool, String>>),
    DncImport(Vec<E164>, oneshot::Sender<Result<Vec<E164>, String>>),
}

/// Where a claimed callback's router entry is.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Entry {
    /// Waiting in its queue for an agent.
    Queued,
    /// An agent is reserved for it and the scheduler has not decided yet.
    Reserved(String),
    /// Being dialed with this agent.
    Dialing(String),
}

/// The task's state.
pub(crate) struct Driver {
    pub scheduler: Scheduler,
    pub dnc: SharedDnc,
    pub router: RouterHandle,
    pub events: EventSink,
    pub metrics: CallbackMetrics,
    pub requests: mpsc::UnboundedReceiver<Request>,
    pub signals: mpsc::UnboundedReceiver<RouterSignal>,
    pub reports_tx: mpsc::UnboundedSender<DialReport>,
    pub reports: mpsc::UnboundedReceiver<DialReport>,
    entries: BTreeMap<CallbackId, Entry>,
}

/// The current time as the scheduler sees it: milliseconds, the journal's precision, so a
/// replay of the journal gives the same instants.
pub fn now() -> jiff::Timestamp {
    let now = jiff::Timestamp::now();
    jiff::Timestamp::from_millisecond(now.as_millisecond()).unwrap_or(now)
}

/// How long until `at`, from `now` (zero when past).
pub fn until(at: jiff::Timestamp, now: jiff::Timestamp) -> Duration {
    let nanos = at.as_nanosecond() - now.as_nanosecond();
    u64::try_from(nanos).map_or(Duration::ZERO, Duration::from_nanos)
}

/// The scheduler's capacity from the router's free agents.
pub fn capacity(free: &FreeAgents) -> hotline_campaigns::Capacity {
    hotline_campaigns::Capacity {
        free_agents: free
            .queues
            .iter()
            .map(|(q, n)| (hotline_campaigns::QueueName::new(q.as_str()), *n))
            .collect(),
        total: Some(free.total),
    }
}

/// The attempt's outcome from the dialer's report. A dial that never reached the customer
/// (the agent's phone failed, no trunk, the trunk's limits) comes as a `network_failure`
/// without SIP status: the attempt counts and is retried after the network-failure delay.
pub fn report_outcome(report: &DialReport) -> DialOutcome {
    if report.customer_dialed {
        report.outcome
    } else {
        DialOutcome::of(OutcomeKind::NetworkFailure)
    }
}

impl Driver {
    /// A driver over a restored scheduler.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        scheduler: Scheduler,
        dnc: SharedDnc,
        router: RouterHandle,
        events: EventSink,
        metrics: CallbackMetrics,
        requests: mpsc::UnboundedReceiver<Request>,
        signals: mpsc::UnboundedReceiver<RouterSignal>,
    ) -> Self {
        let (reports_tx, reports) = mpsc::unbounded_channel();
        Self {
            scheduler,
            dnc,
            router,
            events,
            metrics,
            requests,
            signals,
            reports_tx,
            reports,
            entries: BTreeMap::new(),
        }
    }

    /// Runs until the API's side of the channel is gone.
    pub async fn run(mut self) {
        // Open claims of the last run are released and attempts without an outcome become
        // `unknown` (not redialed before their retry delay).
        if let Err(e) = self.scheduler.handle(now(), Command::Restarted) {
            tracing::warn!("scheduled callbacks: restart refused: {e}");
        }
        let mut published = tokio::time::Instant::now();
        loop {
            self.dispatch().await;
            self.carry_out();
            if published.elapsed() >= Duration::from_secs(1) {
                self.metrics.publish(&self.scheduler, now());
                published = tokio::time::Instant::now();
            }
            let wake = self
                .scheduler
                .poll_timeout()
                .map(|(at, _)| until(at, now()).min(Duration::from_secs(1)))
                .unwrap_or(Duration::from_secs(1));
            tokio::select! {
                req = self.requests.recv() => match req {
                    Some(req) => self.request(req),
                    None => break,
                },
                Some(signal) = self.signals.recv() => self.signal(signal).await,
                Some(report) = self.reports.recv() => self.report(report),
                () = tokio::time::sleep(wake) => self.scheduler.handle_timeout(now()),
            }
        }
    }

    /// Lets the scheduler claim callbacks for the agents free now.
    async fn dispatch(&mut self) {
        let Some(free) = self.router.free_agents().await else {
            return;
        };
        self.scheduler
            .dispatch(now(), &capacity(&free), self.dnc.current());
    }

    /// Journals every event the scheduler emitted, then carries them out.
    fn carry_out(&mut self) {
        while let Some(event) = self.scheduler.poll_event() {
            let cb = self.scheduler.callback(event.id());
            let queue = cb.map(|c| c.spec.queue.clone());
            let deadline = cb.and_then(|c| c.spec.due.deadline);
            self.events
                .emit(journal::to_draft(&event, queue.as_ref(), deadline));
            self.metrics.count(&event);
            self.act(&event);
        }
    }

    /// What one journaled event asks of the router.
    fn act(&mut self, event: &CallbackEvent) {
        match event {
            CallbackEvent::Claimed {
                id,
                queue,
                skills,
                priority,
                ..
            } => {
                let Some(cb) = self.scheduler.callback(*id) else {
                    return;
                };
                self.router.enqueue_scheduled(
                    journal::uuid(*id),
                    queue.as_str(),
                    cb.spec.number.as_str(),
                    &cb.spec.reason,
                    *priority,
                    skills.iter().map(|s| s.as_str().to_string()).collect(),
                    cb.attempts,
                );
                self.entries.insert(*id, Entry::Queued);
            }
            CallbackEvent::ClaimReleased { id, .. }
            | CallbackEvent::Cancelled { id, .. }
            | CallbackEvent::GivenUp { id, .. } => self.leave_router(*id),
            CallbackEvent::AttemptEnded { id, .. } | CallbackEvent::Completed { id, .. } => {
                self.entries.remove(id);
            }
            _ => {}
        }
    }

    /// Takes a callback's entry out of the router: cancelled while it waits, its agent freed
    /// when one was reserved.
    fn leave_router(&mut self, id: CallbackId) {
        match self.entries.remove(&id) {
            Some(Entry::Queued) => self.router.cancel_callback(journal::uuid(id)),
            Some(Entry::Reserved(agent)) => {
                self.router
                    .callback_failed(journal::uuid(id), &agent, CallbackFailure::NotDialed)
            }
            Some(Entry::Dialing(agent)) => {
                // The dial is under way; its report ends the attempt.
                self.entries.insert(id, Entry::Dialing(agent));
            }
            None => {}
        }
    }

    async fn signal(&mut self, signal: RouterSignal) {
        match signal {
            RouterSignal::AgentsFreed => {}
            RouterSignal::Due { call, agent } => self.reserved(call, agent).await,
        }
    }

    /// The router reserved `agent` for the scheduled callback `call`.
    async fn reserved(&mut self, call: Uuid, agent: String) {
        let id = CallbackId(call.as_u128());
        let at = now();
        let answer = self.scheduler.agent_reserved(
            at,
            id,
            AgentName::new(agent.as_str()),
            self.dnc.current(),
        );
        match answer {
            Ok(Reservation::Dial(order)) => {
                self.entries.insert(id, Entry::Dialing(agent.clone()));
                self.carry_out();
                // `attempt_started` is on disk before the INVITE can leave.
                if let Err(e) = self.events.flush().await {
                    tracing::error!(callback = %id, "attempt not journaled, not dialing: {e}");
                    self.router
                        .callback_failed(call, &agent, CallbackFailure::NotDialed);
                    self.outcome(
                        order.id,
                        order.attempt,
                        DialOutcome::of(OutcomeKind::Unknown),
                    );
                    return;
                }
                self.dial(order, call, agent).await;
            }
            Ok(Reservation::Release) => {
                self.entries.insert(id, Entry::Reserved(agent));
                self.carry_out();
                // Whatever the events did not free (a release without a known entry).
                if let Some(Entry::Reserved(agent)) = self.entries.remove(&id) {
                    self.router
                        .callback_failed(call, &agent, CallbackFailure::NotDialed);
                }
            }
            Err(e) => {
                tracing::info!(callback = %id, "reserved agent released: {e}");
                self.entries.remove(&id);
                self.router
                    .callback_failed(call, &agent, CallbackFailure::NotDialed);
            }
        }
    }

    /// Hands a journaled attempt to the dialer.
    async fn dial(&mut self, order: DialOrder, call: Uuid, agent: String) {
        let Some(cb) = self.scheduler.callback(order.id) else {
            return;
        };
        let due = DueCallback {
            call,
            queue: cb.spec.queue.as_str().to_string(),
            agent: agent.clone(),
            number: order.number.as_str().to_string(),
            note: Some(cb.spec.reason.clone()),
            attempt: order.attempt,
            caller_id: order.caller_id.as_ref().map(|c| c.as_str().to_string()),
            ring_timeout: Some(order.ring_timeout),
            report: Some(self.reports_tx.clone()),
        };
        let sent = self.router.dial_scheduled(due).await.unwrap_or(false);
        if !sent {
            tracing::warn!(callback = %order.id, "no outbound dialer: the attempt ends undialed");
            self.router
                .callback_failed(call, &agent, CallbackFailure::NotDialed);
            self.outcome(
                order.id,
                order.attempt,
                DialOutcome::of(OutcomeKind::NetworkFailure),
            );
        }
    }

    fn report(&mut self, report: DialReport) {
        let id = CallbackId(report.call.as_u128());
        self.outcome(id, report.attempt, report_outcome(&report));
    }

    fn outcome(&mut self, id: CallbackId, attempt: u32, outcome: DialOutcome) {
        let command = Command::Outcome {
            id,
            attempt,
            outcome,
        };
        if let Err(e) = self.scheduler.handle(now(), command) {
            tracing::warn!(callback = %id, attempt, "dial outcome refused: {e}");
        }
        self.carry_out();
    }

    fn request(&mut self, req: Request) {
        let at = now();
        match req {
            Request::Create(new, reply) => {
                let id = new.id;
                let result = self
                    .scheduler
                    .handle(at, Command::Create(new))
                    .map(|()| self.view(id));
                self.carry_out();
                let _ = reply.send(result.and_then(|v| v.ok_or(CommandError::Unknown(id))));
            }
            Request::Cancel(id, reply) => {
                let result = self
                    .scheduler
                    .handle(at, Command::Cancel { id })
                    .map(|()| self.view(id));
                self.carry_out();
                let _ = reply.send(result.and_then(|v| v.ok_or(CommandError::Unknown(id))));
            }
            Request::SetTimeZone(id, time_zone, reply) => {
                let result = self
                    .scheduler
                    .handle(at, Command::SetTimeZone { id, time_zone })
                    .map(|()| self.view(id));
                self.carry_out();
                let _ = reply.send(result.and_then(|v| v.ok_or(CommandError::Unknown(id))));
            }
            Request::One(id, reply) => {
                let _ = reply.send(self.view(id));
            }
            Request::List(filter, reply) => {
                let list = self
                    .scheduler
                    .list(&filter)
                    .into_iter()
                    .map(CallbackView::of)
                    .collect();
                let _ = reply.send(list);
            }
            Request::Stats(reply) => {
                let stats = self.scheduler.stats(at);
                let _ = reply.send(StatsView {
                    completed_within_deadline_percent: stats.completion_percent(),
                    stats,
                    queues: queue_counts(&self.scheduler, at)
                        .into_iter()
                        .map(|(q, c)| (q, c.into()))
                        .collect(),
                });
            }
            Request::DncList(reply) => {
                let listed = self.dnc.current().numbers();
                let _ = reply.send(listed.map(|n| n.as_str().to_string()).collect());
            }
            Request::DncAdd(number, reply) => {
                let _ = reply.send(
                    self.dnc
                        .change(|l| l.add(number))
                        .map_err(|e| e.to_string()),
                );
            }
            Request::DncRemove(number, reply) => {
                let removed = self.dnc.change(|l| l.remove(&number));
                let _ = reply.send(removed.map_err(|e| e.to_string()));
            }
            Request::DncImport(numbers, reply) => {
                let added = self.dnc.change(|l| l.add_all(&numbers));
                let _ = reply.send(added.map_err(|e| e.to_string()));
            }
        }
    }

    fn view(&self, id: CallbackId) -> Option<CallbackView> {
        self.scheduler.callback(id).map(CallbackView::of)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_are_never_negative_and_keep_nanoseconds() {
        let at: jiff::Timestamp = "2026-12-07T02:00:01.5Z".parse().unwrap_or_default();
        let before: jiff::Timestamp = "2026-12-07T02:00:00Z".parse().unwrap_or_default();
        assert_eq!(until(at, before), Duration::from_millis(1500));
        assert_eq!(until(before, at), Duration::ZERO);
    }

    #[test]
    fn the_schedulers_clock_ticks_in_journal_milliseconds() {
        let t = now();
        assert_eq!(t.subsec_nanosecond() % 1_000_000, 0);
        assert_eq!(journal::scheduler_time(journal::wire_time(t)), t);
    }

    #[test]
    fn a_dial_that_never_reached_the_customer_is_a_network_failure() {
        let busy = hotline_campaigns::classify(hotline_campaigns::FinalResponse {
            status: 486,
            retry_after: None,
            reason: None,
            cancelled_by_us: false,
        });
        let report = |customer_dialed, agent_failed| DialReport {
            call: Uuid::from_u128(9),
            attempt: 2,
            outcome: busy,
            customer_dialed,
            agent_failed,
        };
        assert_eq!(report_outcome(&report(true, false)), busy);
        assert_eq!(report_outcome(&report(true, false)).kind, OutcomeKind::Busy);
        assert_eq!(
            report_outcome(&report(false, true)),
            DialOutcome::of(OutcomeKind::NetworkFailure)
        );
    }

    #[test]
    fn free_agents_become_the_schedulers_capacity() {
        let free = FreeAgents {
            queues: [("support".to_string(), 2), ("sales".to_string(), 0)].into(),
            total: 2,
        };
        let cap = capacity(&free);
        assert_eq!(
            cap.free_agents
                .get(&hotline_campaigns::QueueName::new("support")),
            Some(&2)
        );
        assert_eq!(cap.total, Some(2));
    }
}
