//! The driver: one tokio task owning the [`CampaignEngine`]. It wakes at the engine's next
//! timeout, on an API request, on a campaign call's report, and at least once a second (agents
//! and queues change without telling it); each time it reads the agents and queues from the
//! router, asks the engine what to dial, and carries out the engine's events, always after
//! writing them to the journal: an `attempt_started` is fsynced before its call starts.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use hotline_campaigns::campaign::{
    CampaignEngine, CampaignEvent, CampaignId, CampaignSpec, Command, CommandError, DialOrder,
    EntryId, EntryState, RunState, TrunkName, Work,
};
use hotline_campaigns::list::ListImport;
use hotline_campaigns::{AgentName, DialOutcome, OutcomeKind, E164};
use hotline_events::EventSink;
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use super::capacity::{dial_capacity, inbound_queues, outbound_waiting, QueueLevel};
use super::config::CampaignsSettings;
use super::dial::{call_of, campaign_dial, commands, LiveCall};
use super::dnc::SharedDnc;
use super::journal;
use super::metrics::CampaignMetrics;
use super::view::{CampaignView, PacingView, PreviewView, StatsView, UploadView};
use crate::call::CampaignCallReport;
use crate::endpoint::Shared;
use crate::router_task::RouterHandle;

/// The longest the driver sleeps: agents and queues change without telling it.
pub const TICK: Duration = Duration::from_secs(1);

/// A run-state change asked through the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    /// Start a created campaign.
    Start,
    /// Pause a running one.
    Pause,
    /// Resume a paused one.
    Resume,
    /// Stop for good.
    Stop,
}

/// What the API asks of the driver.
pub(crate) enum Request {
    Create(
        Box<CampaignSpec>,
        oneshot::Sender<Result<CampaignView, CommandError>>,
    ),
    List(oneshot::Sender<Vec<CampaignView>>),
    One(CampaignId, oneshot::Sender<Option<CampaignView>>),
    Control(
        CampaignId,
        Control,
        oneshot::Sender<Result<CampaignView, CommandError>>,
    ),
    Records(
        CampaignId,
        Box<ListImport>,
        oneshot::Sender<Result<UploadView, CommandError>>,
    ),
    Dnc(
        CampaignId,
        Vec<E164>,
        oneshot::Sender<Result<Vec<E164>, CommandError>>,
    ),
    DncList(CampaignId, oneshot::Sender<Option<Vec<E164>>>),
    DncRemove(
        CampaignId,
        E164,
        oneshot::Sender<Result<bool, CommandError>>,
    ),
    Previews(String, oneshot::Sender<Vec<PreviewView>>),
    Survey(
        CampaignId,
        oneshot::Sender<Option<super::survey_api::SurveyReport>>,
    ),
    Decide {
        entry: EntryId,
        agent: String,
        accept: bool,
        reply: oneshot::Sender<Result<(), String>>,
    },
}

/// The current time as the engine sees it: milliseconds, the journal's precision, so a replay
/// of the journal gives the same instants.
pub fn now() -> jiff::Timestamp {
    let now = jiff::Timestamp::now();
    jiff::Timestamp::from_millisecond(now.as_millisecond()).unwrap_or(now)
}

/// How long until `at`, from `now` (zero when past).
pub fn until(at: jiff::Timestamp, now: jiff::Timestamp) -> Duration {
    let nanos = at.as_nanosecond() - now.as_nanosecond();
    u64::try_from(nanos).map_or(Duration::ZERO, Duration::from_nanos)
}

/// The task's state.
pub(crate) struct Driver {
    pub engine: CampaignEngine,
    pub settings: CampaignsSettings,
    pub dnc: SharedDnc,
    pub router: RouterHandle,
    pub events: EventSink,
    pub metrics: CampaignMetrics,
    /// Starts campaign calls (None: no SIP endpoint, every dial fails as a network failure).
    pub dialer: Option<Arc<Shared>>,
    pub requests: mpsc::UnboundedReceiver<Request>,
    reports_tx: mpsc::UnboundedSender<CampaignCallReport>,
    reports: mpsc::UnboundedReceiver<CampaignCallReport>,
    /// Calls in progress.
    calls: BTreeMap<Uuid, LiveCall>,
    /// Open preview offers: agent -> (campaign, entry).
    offers: BTreeMap<String, (CampaignId, EntryId)>,
    /// The survey answers of the campaigns' calls, per record.
    pub surveys: super::surveys::SurveyBook,
}

impl Driver {
    /// A driver over a restored engine.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        engine: CampaignEngine,
        settings: CampaignsSettings,
        dnc: SharedDnc,
        router: RouterHandle,
        events: EventSink,
        metrics: CampaignMetrics,
        dialer: Option<Arc<Shared>>,
        requests: mpsc::UnboundedReceiver<Request>,
    ) -> Self {
        let (reports_tx, reports) = mpsc::unbounded_channel();
        Self {
            engine,
            settings,
            dnc,
            router,
            events,
            metrics,
            dialer,
            requests,
            reports_tx,
            reports,
            calls: BTreeMap::new(),
            offers: BTreeMap::new(),
            surveys: super::surveys::SurveyBook::default(),
        }
    }

    /// Runs until the API's side of the channel is gone.
    pub async fn run(mut self) {
        // Attempts the stop cut become `unknown` (not redialed before their retry delay);
        // open preview offers go back to their lists.
        let at = now();
        if let Err(e) = self
            .engine
            .handle(at, Command::Restarted, self.dnc.current())
        {
            tracing::warn!("campaigns: restart refused: {e}");
        }
        self.carry_out();
        let mut published = tokio::time::Instant::now();
        loop {
            self.dispatch().await;
            if published.elapsed() >= TICK {
                self.publish();
                published = tokio::time::Instant::now();
            }
            let wake = self
                .engine
                .poll_timeout()
                .map(|(at, _)| until(at, now()).min(TICK))
                .unwrap_or(TICK);
            tokio::select! {
                req = self.requests.recv() => match req {
                    Some(req) => self.request(req).await,
                    None => break,
                },
                Some(report) = self.reports.recv() => self.report(report),
                () = tokio::time::sleep(wake) => {
                    self.engine.handle_timeout(now());
                    self.carry_out();
                }
            }
        }
    }

    /// Sets the metrics' gauges from every campaign's statistics.
    fn publish(&mut self) {
        let at = now();
        let ids: Vec<CampaignId> = self.engine.campaigns().cloned().collect();
        for id in ids {
            if let Some(stats) = self.engine.stats(at, &id) {
                self.metrics.publish(&stats);
            }
        }
    }

    /// Asks the engine what to dial for the agents and trunks free now, and does it.
    async fn dispatch(&mut self) {
        let running: Vec<CampaignSpec> = self
            .engine
            .campaigns()
            .filter(|id| self.engine.run_state(id) == Some(RunState::Running))
            .filter_map(|id| self.engine.spec(id).cloned())
            .collect();
        if running.is_empty() {
            return;
        }
        let Some(agents) = self.router.agents().await else {
            return;
        };
        let mut levels = BTreeMap::new();
        for queue in inbound_queues(&running, &agents) {
            if let Some(Some(detail)) = self.router.queue(queue.clone()).await {
                levels.insert(queue, QueueLevel::of(&detail));
            }
        }
        let mut held: BTreeSet<String> = self.offers.keys().cloned().collect();
        held.extend(
            self.calls
                .values()
                .filter_map(|c| c.agent.as_ref().map(|a| a.as_str().to_string())),
        );
        let outbound = outbound_waiting(&self.engine, self.calls.values());
        let mut capacity = dial_capacity(&running, &agents, &levels, &held, &outbound);
        if let Some(shared) = &self.dialer {
            capacity.trunks_free = shared
                .trunks
                .free_channels()
                .into_iter()
                .map(|(name, free)| (TrunkName::new(name), free))
                .collect();
            capacity.trunks_rate = shared
                .trunks
                .dials_allowed(std::time::Instant::now())
                .into_iter()
                .map(|(name, n)| (TrunkName::new(name), n))
                .collect();
        }
        let work = self.engine.next_dials(now(), &capacity, self.dnc.current());
        self.carry_out();
        let dials: Vec<DialOrder> = work
            .into_iter()
            .filter_map(|w| match w {
                Work::Dial(order) => Some(order),
                // The offer is recorded from its `offered` event; the agent reads it through
                // the API.
                Work::Offer(_) => None,
            })
            .collect();
        self.dial_all(dials).await;
    }

    /// Starts journaled dials once their `attempt_started` is on disk.
    async fn dial_all(&mut self, dials: Vec<DialOrder>) {
        if dials.is_empty() {
            return;
        }
        if let Err(e) = self.events.flush().await {
            tracing::error!("campaign attempts not journaled, not dialing: {e}");
            for order in dials {
                self.fail(&order, OutcomeKind::Unknown);
            }
            return;
        }
        for order in dials {
            self.start(order);
        }
    }

    /// Starts one campaign call.
    fn start(&mut self, order: DialOrder) {
        let Some(spec) = self.engine.spec(&order.campaign) else {
            return;
        };
        let Some(shared) = self.dialer.clone() else {
            tracing::warn!(campaign = %order.campaign, "no SIP endpoint: the attempt ends undialed");
            self.fail(&order, OutcomeKind::NetworkFailure);
            return;
        };
        let wrap = super::capacity::campaign_queue(spec)
            .and_then(|q| shared.config.queues.get(q))
            .map_or(Duration::ZERO, |q| q.wrap_up);
        let identity = super::abandon::Identities::of_calls(&shared, &self.settings.company)
            .speech(spec)
            .ok()
            .flatten();
        let dial = campaign_dial(
            &order,
            spec,
            &self.settings,
            identity,
            self.reports_tx.clone(),
        );
        let call = crate::call::spawn_campaign_call(shared, dial);
        tracing::info!(campaign = %order.campaign, entry = order.entry.0, attempt = order.attempt, %call, "campaign dial started");
        self.calls.insert(
            call,
            LiveCall {
                campaign: order.campaign,
                entry: order.entry,
                attempt: order.attempt,
                agent: order.agent,
                connected: false,
                wrap,
            },
        );
    }

    /// Ends an attempt that never became a call.
    fn fail(&mut self, order: &DialOrder, kind: OutcomeKind) {
        let command = Command::Outcome {
            campaign: order.campaign.clone(),
            entry: order.entry,
            attempt: order.attempt,
            outcome: DialOutcome::of(kind),
        };
        self.command(command);
    }

    /// Hands one command to the engine and journals what it emitted.
    fn command(&mut self, command: Command) {
        if let Err(e) = self.engine.handle(now(), command, self.dnc.current()) {
            tracing::warn!("campaign report refused: {e}");
        }
        self.carry_out();
    }

    /// A campaign call's milestone.
    fn report(&mut self, report: CampaignCallReport) {
        let call = call_of(&report);
        let Some(live) = self.calls.get_mut(&call) else {
            return;
        };
        if let CampaignCallReport::Survey { note, .. } = &report {
            let key = super::surveys::SurveyKey {
                campaign: live.campaign.as_str().to_string(),
                entry: live.entry.0,
                attempt: live.attempt,
            };
            self.surveys.note(key, note.clone());
        }
        for command in commands(live, &report) {
            self.command(command);
        }
        if matches!(report, CampaignCallReport::Ended { .. }) {
            self.calls.remove(&call);
        }
    }

    /// Journals every event the engine emitted, then keeps the offers it made.
    fn carry_out(&mut self) -> Vec<CampaignEvent> {
        let mut out = vec![];
        while let Some(event) = self.engine.poll_event() {
            match journal::to_draft(&event) {
                Ok(draft) => self.events.emit(draft),
                Err(e) => tracing::error!("campaign event not journaled: {e}"),
            }
            self.metrics.count(&event);
            self.act(&event);
            out.push(event);
        }
        out
    }

    fn act(&mut self, event: &CampaignEvent) {
        match event {
            CampaignEvent::Offered {
                campaign,
                entry,
                agent,
                ..
            } => {
                self.offers
                    .insert(agent.as_str().to_string(), (campaign.clone(), *entry));
            }
            CampaignEvent::OfferSkipped {
                campaign, entry, ..
            }
            | CampaignEvent::AttemptStarted {
                campaign, entry, ..
            } => self
                .offers
                .retain(|_, (c, e)| !(c == campaign && e == entry)),
            _ => {}
        }
    }

    async fn request(&mut self, req: Request) {
        let at = now();
        match req {
            Request::Create(spec, reply) => {
                let id = spec.id.clone();
                let result = self.handle(Command::Create(spec)).map(|_| ());
                let _ = reply.send(result.and_then(|()| self.known(&id)));
            }
            Request::List(reply) => {
                let ids: Vec<CampaignId> = self.engine.campaigns().cloned().collect();
                let views = ids.iter().filter_map(|id| self.view(id)).collect();
                let _ = reply.send(views);
            }
            Request::One(id, reply) => {
                let _ = reply.send(self.view(&id));
            }
            Request::Control(campaign, control, reply) => {
                let id = campaign.clone();
                let command = match control {
                    Control::Start => Command::Start { campaign },
                    Control::Pause => Command::Pause { campaign },
                    Control::Resume => Command::Resume { campaign },
                    Control::Stop => Command::Stop { campaign },
                };
                let result = self.handle(command).map(|_| ());
                let _ = reply.send(result.and_then(|()| self.known(&id)));
            }
            Request::Records(campaign, list, reply) => {
                let records = list.records.clone();
                let result = self.engine.handle(
                    at,
                    Command::AddRecords { campaign, records },
                    self.dnc.current(),
                );
                let events = self.carry_out();
                let result = result.map(|_| {
                    let (added, not_added) = events
                        .into_iter()
                        .find_map(|e| match e {
                            CampaignEvent::RecordsAdded {
                                records, not_added, ..
                            } => Some((records.len(), not_added)),
                            _ => None,
                        })
                        .unwrap_or_default();
                    UploadView {
                        summary: list.summary.clone(),
                        lines: list.lines.clone(),
                        added,
                        not_added,
                    }
                });
                let _ = reply.send(result);
            }
            Request::Dnc(campaign, numbers, reply) => {
                // Only the numbers not listed yet are added (and journaled).
                let listed = self.engine.dnc(&campaign);
                let known = listed.is_some();
                let new: Vec<E164> = numbers
                    .into_iter()
                    .filter(|n| listed.is_some_and(|l| !l.contains(n)))
                    .collect();
                let result = match (known, new.is_empty()) {
                    (false, _) => Err(CommandError::UnknownCampaign(campaign)),
                    (true, true) => Ok(new),
                    (true, false) => self
                        .handle(Command::AddDnc {
                            campaign,
                            numbers: new.clone(),
                        })
                        .map(|_| new),
                };
                self.journaled("added to").await;
                let _ = reply.send(result);
            }
            Request::DncList(campaign, reply) => {
                let listed = self.engine.dnc(&campaign);
                let _ = reply.send(listed.map(|l| l.iter().cloned().collect()));
            }
            Request::DncRemove(campaign, number, reply) => {
                let result = match self.engine.dnc(&campaign).map(|l| l.contains(&number)) {
                    None => Err(CommandError::UnknownCampaign(campaign)),
                    Some(false) => Ok(false),
                    Some(true) => self
                        .handle(Command::RemoveDnc {
                            campaign,
                            numbers: vec![number],
                        })
                        .map(|_| true),
                };
                self.journaled("taken off").await;
                let _ = reply.send(result);
            }
            Request::Previews(agent, reply) => {
                let _ = reply.send(self.previews(&agent));
            }
            Request::Survey(id, reply) => {
                let report = self.engine.spec(&id).map(|_| {
                    super::survey_api::report(id.as_str(), &self.surveys, self.engine.entries(&id))
                });
                let _ = reply.send(report);
            }
            Request::Decide {
                entry,
                agent,
                accept,
                reply,
            } => {
                let Some((campaign, _)) = self.offers.get(&agent).filter(|(_, e)| *e == entry)
                else {
                    let _ = reply.send(Err(format!("entry {} is not offered to {agent}", entry.0)));
                    return;
                };
                let campaign = campaign.clone();
                let agent = AgentName::new(agent);
                let command = if accept {
                    Command::Accept {
                        campaign,
                        entry,
                        agent,
                    }
                } else {
                    Command::Skip {
                        campaign,
                        entry,
                        agent,
                    }
                };
                match self.handle(command) {
                    Ok(order) => {
                        let _ = reply.send(Ok(()));
                        self.dial_all(order.into_iter().collect()).await;
                    }
                    Err(e) => {
                        let _ = reply.send(Err(e.to_string()));
                    }
                }
            }
        }
    }

    /// Waits until the do-not-call numbers just `changed` (added to, taken off) a campaign's
    /// list are on disk, so an opt-out the API acknowledged survives a crash.
    async fn journaled(&self, changed: &str) {
        if let Err(e) = self.events.flush().await {
            tracing::error!("numbers {changed} a campaign's do-not-call list not fsynced: {e}");
        }
    }

    /// Hands an API command to the engine and journals what it emitted.
    fn handle(&mut self, command: Command) -> Result<Option<DialOrder>, CommandError> {
        let result = self.engine.handle(now(), command, self.dnc.current());
        self.carry_out();
        result
    }

    fn known(&mut self, id: &CampaignId) -> Result<CampaignView, CommandError> {
        self.view(id)
            .ok_or_else(|| CommandError::UnknownCampaign(id.clone()))
    }

    fn view(&mut self, id: &CampaignId) -> Option<CampaignView> {
        let stats = self.engine.stats(now(), id)?;
        let spec = self.engine.spec(id)?.clone();
        let pacing = self.engine.last_pacing(id).map(|d| {
            let held = self.engine.held_for_inbound(id).unwrap_or_default();
            PacingView::of(spec.mode, &d, held)
        });
        let surveys = self.surveys.counts(id.as_str());
        Some(CampaignView {
            spec,
            stats: StatsView {
                engine: stats,
                surveys,
            },
            pacing,
        })
    }

    fn previews(&self, agent: &str) -> Vec<PreviewView> {
        let Some((campaign, entry)) = self.offers.get(agent) else {
            return vec![];
        };
        let Some(e) = self.engine.entries(campaign).get(entry.0 as usize) else {
            return vec![];
        };
        if !matches!(&e.state, EntryState::Offered { agent: a, .. } if a.as_str() == agent) {
            return vec![];
        }
        vec![PreviewView {
            campaign: campaign.as_str().to_string(),
            entry: entry.0,
            record: e.record.clone(),
            attempts: e.attempts,
        }]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_are_never_negative_and_the_clock_ticks_in_milliseconds() {
        let at: jiff::Timestamp = "2026-12-07T02:00:01.5Z".parse().unwrap_or_default();
        let before: jiff::Timestamp = "2026-12-07T02:00:00Z".parse().unwrap_or_default();
        assert_eq!(until(at, before), Duration::from_millis(1500));
        assert_eq!(until(before, at), Duration::ZERO);
        assert_eq!(now().subsec_nanosecond() % 1_000_000, 0);
    }
}
