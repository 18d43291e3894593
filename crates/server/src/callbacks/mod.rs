//! Scheduled callbacks: callbacks created through the API ("call this customer back within
//! 24 h, after 14:00 their time, within 5 working days"), dialed agent first when an agent of
//! their queue is free, within the customer's calling window, never to a number on the
//! do-not-call list, retried per outcome, with deadline warnings and missed deadlines.
//!
//! The decisions are the pure `hotline_campaigns::Scheduler`'s; this module is its driver task
//! ([`driver`]), its journal mapping ([`journal`]), the `callbacks:` configuration
//! ([`config`]), the do-not-call list ([`dnc`]), the HTTP API ([`api`]) and the metrics.
//! A restart rebuilds the scheduler from the journal's scheduled-callback events
//! ([`restore`]): nothing is lost, and an attempt whose outcome the stop lost becomes `unknown`
//! and is not redialed before its retry delay.

pub mod api;
pub mod config;
pub mod dnc;
mod driver;
pub mod journal;
mod metrics;
pub mod view;

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result};
use hotline_campaigns::{CallbackEvent, CallbackId, CommandError, ListFilter, Scheduler, E164};
use hotline_events::EventSink;
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

pub use config::CallbacksSettings;
use driver::{Driver, Request};
use view::{CallbackView, StatsView};

/// Agents free now: logged in, ready and not reserved, per queue they can take calls of.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FreeAgents {
    /// Per queue.
    pub queues: BTreeMap<String, u32>,
    /// Distinct agents (one agent may count in several queues).
    pub total: u32,
}

/// What the routing task tells the driver about scheduler-owned entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouterSignal {
    /// The entry's turn came: `agent` is reserved for it.
    Due {
        /// The callback's id.
        call: Uuid,
        /// The reserved agent.
        agent: String,
    },
    /// An agent became ready: callbacks may be claimed.
    AgentsFreed,
}

/// The API's handle to the driver task.
#[derive(Clone)]
pub struct CallbacksHandle {
    tx: mpsc::UnboundedSender<Request>,
}

impl CallbacksHandle {
    async fn ask<T>(&self, make: impl FnOnce(oneshot::Sender<T>) -> Request) -> Option<T> {
        let (tx, rx) = oneshot::channel();
        self.tx.send(make(tx)).ok()?;
        rx.await.ok()
    }

    /// Creates a callback; `None` once the task stopped.
    pub async fn create(
        &self,
        new: hotline_campaigns::NewCallback,
    ) -> Option<Result<CallbackView, CommandError>> {
        self.ask(|tx| Request::Create(Box::new(new), tx)).await
    }

    /// Cancels a callback not being dialed.
    pub async fn cancel(&self, id: CallbackId) -> Option<Result<CallbackView, CommandError>> {
        self.ask(|tx| Request::Cancel(id, tx)).await
    }

    /// Sets (or corrects) the customer's time zone: a held callback waits to be dialed again.
    pub async fn set_time_zone(
        &self,
        id: CallbackId,
        time_zone: hotline_campaigns::Zone,
    ) -> Option<Result<CallbackView, CommandError>> {
        self.ask(|tx| Request::SetTimeZone(id, time_zone, tx)).await
    }

    /// One callback (`Some(None)`: unknown).
    pub async fn one(&self, id: CallbackId) -> Option<Option<CallbackView>> {
        self.ask(|tx| Request::One(id, tx)).await
    }

    /// Callbacks matching `filter`, in dial order.
    pub async fn list(&self, filter: ListFilter) -> Option<Vec<CallbackView>> {
        self.ask(|tx| Request::List(filter, tx)).await
    }

    /// The counts and the completion KPI.
    pub async fn stats(&self) -> Option<StatsView> {
        self.ask(Request::Stats).await
    }

    /// The do-not-call list.
    pub async fn dnc_list(&self) -> Option<Vec<String>> {
        self.ask(Request::DncList).await
    }

    /// Adds a number to the do-not-call list (false: listed already).
    pub async fn dnc_add(&self, number: E164) -> Option<Result<bool, String>> {
        self.ask(|tx| Request::DncAdd(number, tx)).await
    }

    /// Removes a number from the do-not-call list (false: not listed).
    pub async fn dnc_remove(&self, number: E164) -> Option<Result<bool, String>> {
        self.ask(|tx| Request::DncRemove(number, tx)).await
    }

    /// Adds numbers to the do-not-call list in one change of its file; the numbers that were
    /// not listed before.
    pub async fn dnc_import(&self, numbers: Vec<E164>) -> Option<Result<Vec<E164>, String>> {
        self.ask(|tx| Request::DncImport(numbers, tx)).await
    }
}

/// The scheduled-callback events to rebuild the scheduler from, in journal order (read at
/// start, before new events are written): the events of the callbacks not ended, which the
/// recovery projection keeps (its snapshot plus the journal's tail), so retention deleting old
/// segments never loses a callback; and every one the journal still holds, so ended callbacks
/// stay listed and counted while their events are kept. An event that does not read back is
/// skipped with a warning.
pub fn restore(data_dir: &Path) -> Result<Vec<CallbackEvent>> {
    let recovered = crate::recovery::RecoveryState::load(data_dir)
        .context("reading the recovery snapshot for scheduled callbacks")?;
    let events = hotline_events::read_journal_dir(data_dir)
        .context("reading the event journal for scheduled callbacks")?;
    let open = recovered.scheduled.unwrap_or_default();
    let mut restored = Vec::new();
    for event in crate::recovery::scheduled::merge(&open, &events) {
        match journal::from_event(event) {
            Ok(Some(cb)) => restored.push(cb),
            Ok(None) => {}
            Err(e) => tracing::warn!(seq = event.seq, "scheduled callback event skipped: {e}"),
        }
    }
    Ok(restored)
}

/// What [`spawn`] needs.
pub struct DriverSettings<'a> {
    /// The `callbacks:` section.
    pub settings: &'a CallbacksSettings,
    /// The data folder (the default do-not-call file lives there).
    pub data_dir: &'a Path,
    /// The journal's scheduled-callback events ([`restore`]).
    pub restored: Vec<CallbackEvent>,
    /// The routing task.
    pub router: crate::router_task::RouterHandle,
    /// The journal.
    pub events: EventSink,
    /// The server's metrics (the callbacks' are registered with them).
    pub metrics: &'a crate::metrics::Metrics,
}

/// Starts the driver and routes the router's scheduler-owned entries to it.
pub fn spawn(s: DriverSettings<'_>) -> Result<CallbacksHandle> {
    let scheduler = Scheduler::restore(s.settings.scheduler.clone(), &s.restored)
        .context("callbacks: the scheduler refused its settings")?;
    let open = scheduler
        .book()
        .callbacks
        .values()
        .filter(|c| !c.state.is_terminal())
        .count();
    if open > 0 {
        tracing::info!(open, "scheduled callbacks restored from the journal");
    }
    // The one global list, also the campaigns'; read again whenever the file changes.
    let dnc = match &s.settings.dnc_file {
        Some(path) => crate::campaigns::dnc::SharedDnc::load(path, true)?,
        None => crate::campaigns::dnc::SharedDnc::load(&s.data_dir.join("dnc.txt"), false)?,
    };
    let metrics = metrics::CallbackMetrics::register(s.metrics)
        .context("registering the scheduled-callback metrics")?;
    let (tx, requests) = mpsc::unbounded_channel();
    let (signals_tx, signals) = mpsc::unbounded_channel();
    s.router.set_scheduled_driver(signals_tx);
    let driver = Driver::new(
        scheduler, dnc, s.router, s.events, metrics, requests, signals,
    );
    tokio::spawn(driver.run());
    Ok(CallbacksHandle { tx })
}
