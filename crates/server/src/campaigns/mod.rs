//! Outbound campaigns: lists imported through the API (or `hotline campaign import
//! --server`), dialed preview, progressive, predictive or agentless under a jurisdiction
//! profile's abandonment rules, within each customer's calling window, never to a number on
//! the global or the campaign's do-not-call list, retried per outcome.
//!
//! The decisions are the pure `hotline_campaigns::campaign::CampaignEngine`'s; this module is
//! its driver task ([`driver`]), its journal mapping ([`journal`]), the `campaigns:`
//! configuration ([`config`]), the agents' and queues' capacity ([`capacity`]), the campaign
//! calls ([`dial`]), the HTTP API ([`api`]) and the metrics. A restart rebuilds every campaign
//! from the journal's `campaign.*` events ([`restore`]): an attempt whose outcome the stop lost
//! becomes `unknown` and is not redialed before its retry delay.

pub mod abandon;
pub mod api;
pub mod capacity;
pub mod config;
pub mod dial;
pub mod dnc;
pub mod dnc_api;
mod driver;
pub mod journal;
mod metrics;
pub mod refs;
pub mod survey_api;
pub mod surveys;
pub mod upload;
pub mod view;

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result};
use hotline_campaigns::campaign::{
    CampaignEngine, CampaignEvent, CampaignId, CampaignSpec, CommandError, EntryId,
};
use hotline_campaigns::list::ListImport;
use hotline_campaigns::E164;
use hotline_events::EventSink;
use tokio::sync::{mpsc, oneshot};

pub use config::CampaignsSettings;
pub use driver::Control;
use driver::{Driver, Request};
use view::{CampaignView, PreviewView, UploadView};

/// The API's handle to the driver task.
#[derive(Clone)]
pub struct CampaignsHandle {
    tx: mpsc::UnboundedSender<Request>,
    /// The `campaigns:` section (defaults for new specifications, the list country).
    pub settings: Arc<CampaignsSettings>,
    /// What speaks the abandon messages (checked and synthesized at create).
    pub identities: Arc<abandon::Identities>,
    /// What a new campaign's trunk, queue, flow and prompt are checked against.
    pub references: refs::References,
}

impl CampaignsHandle {
    async fn ask<T>(&self, make: impl FnOnce(oneshot::Sender<T>) -> Request) -> Option<T> {
        let (tx, rx) = oneshot::channel();
        self.tx.send(make(tx)).ok()?;
        rx.await.ok()
    }

    /// Creates a campaign; `None` once the task stopped.
    pub async fn create(&self, spec: CampaignSpec) -> Option<Result<CampaignView, CommandError>> {
        self.ask(|tx| Request::Create(Box::new(spec), tx)).await
    }

    /// Every campaign.
    pub async fn list(&self) -> Option<Vec<CampaignView>> {
        self.ask(Request::List).await
    }

    /// One campaign (`Some(None)`: unknown).
    pub async fn one(&self, id: CampaignId) -> Option<Option<CampaignView>> {
        self.ask(|tx| Request::One(id, tx)).await
    }

    /// Starts, pauses, resumes or stops a campaign.
    pub async fn control(
        &self,
        id: CampaignId,
        control: Control,
    ) -> Option<Result<CampaignView, CommandError>> {
        self.ask(|tx| Request::Control(id, control, tx)).await
    }

    /// Adds a read list's accepted records.
    pub async fn records(
        &self,
        id: CampaignId,
        list: ListImport,
    ) -> Option<Result<UploadView, CommandError>> {
        self.ask(|tx| Request::Records(id, Box::new(list), tx))
            .await
    }

    /// Adds numbers to a campaign's do-not-call list; the numbers that were not listed before
    /// (those listed already change nothing).
    pub async fn dnc(
        &self,
        id: CampaignId,
        numbers: Vec<E164>,
    ) -> Option<Result<Vec<E164>, CommandError>> {
        self.ask(|tx| Request::Dnc(id, numbers, tx)).await
    }

    /// A campaign's own do-not-call list, in order (`Some(None)`: unknown campaign).
    pub async fn dnc_list(&self, id: CampaignId) -> Option<Option<Vec<E164>>> {
        self.ask(|tx| Request::DncList(id, tx)).await
    }

    /// Takes a number off a campaign's do-not-call list (false: it was not on it).
    pub async fn dnc_remove(
        &self,
        id: CampaignId,
        number: E164,
    ) -> Option<Result<bool, CommandError>> {
        self.ask(|tx| Request::DncRemove(id, number, tx)).await
    }

    /// The records offered to a preview agent.
    pub async fn previews(&self, agent: String) -> Option<Vec<PreviewView>> {
        self.ask(|tx| Request::Previews(agent, tx)).await
    }

    /// A preview agent accepts (dial it) or skips the record offered.
    pub async fn decide(
        &self,
        agent: String,
        entry: EntryId,
        accept: bool,
    ) -> Option<Result<(), String>> {
        self.ask(|reply| Request::Decide {
            entry,
            agent,
            accept,
            reply,
        })
        .await
    }

    /// A campaign's survey answers per record (`Some(None)`: unknown campaign).
    pub async fn survey(&self, id: CampaignId) -> Option<Option<survey_api::SurveyReport>> {
        self.ask(|tx| Request::Survey(id, tx)).await
    }
}

/// The campaign events to rebuild the engine from, in journal order (read at start, before new
/// events are written): the events of the campaigns not stopped-and-finished, which the
/// recovery projection keeps (its snapshot plus the journal's tail), so retention deleting old
/// segments never loses a campaign; and every one the journal still holds. An event that does
/// not read back is skipped with a warning.
pub fn restore(data_dir: &Path) -> Result<Restored> {
    let recovered = crate::recovery::RecoveryState::load(data_dir)
        .context("reading the recovery snapshot for campaigns")?;
    let events = hotline_events::read_journal_dir(data_dir)
        .context("reading the event journal for campaigns")?;
    let open = recovered.campaigns.unwrap_or_default();
    let mut restored = Restored::default();
    for event in crate::recovery::campaigns::merge(&open, &events) {
        restored.surveys.apply(event);
        match journal::from_event(event) {
            Ok(Some(e)) => restored.events.push(e),
            Ok(None) => {}
            Err(e) => tracing::warn!(seq = event.seq, "campaign event skipped: {e}"),
        }
    }
    Ok(restored)
}

/// What a restart rebuilds the campaigns from ([`restore`]).
#[derive(Debug, Default)]
pub struct Restored {
    /// The engine's events, in journal order.
    pub events: Vec<CampaignEvent>,
    /// The survey answers of the campaigns' calls (`survey.*` events naming a campaign).
    pub surveys: surveys::SurveyBook,
}

/// What [`spawn`] needs.
pub struct DriverSettings<'a> {
    /// The `campaigns:` section.
    pub settings: &'a CampaignsSettings,
    /// The global do-not-call file (`callbacks.dnc_file`), one list for the scheduled
    /// callbacks and the campaigns (None: `dnc.txt` in the data folder).
    pub callbacks_dnc: Option<&'a Path>,
    /// The data folder (the default do-not-call file lives there).
    pub data_dir: &'a Path,
    /// The journal's campaign events and survey answers ([`restore`]).
    pub restored: Restored,
    /// The routing task.
    pub router: crate::router_task::RouterHandle,
    /// The journal.
    pub events: EventSink,
    /// The server's metrics (the campaigns' are registered with them).
    pub metrics: &'a crate::metrics::Metrics,
    /// What starts campaign calls (the SIP endpoint's shared state).
    pub dialer: Option<Arc<crate::endpoint::Shared>>,
}

/// Starts the driver.
pub fn spawn(s: DriverSettings<'_>) -> Result<CampaignsHandle> {
    let engine = CampaignEngine::restore(&s.restored.events);
    let campaigns = engine.campaigns().count();
    if campaigns > 0 {
        tracing::info!(campaigns, "campaigns restored from the journal");
    }
    let dnc = match s.callbacks_dnc {
        Some(path) => dnc::SharedDnc::load(path, true)?,
        None => dnc::SharedDnc::load(&s.data_dir.join("dnc.txt"), false)?,
    };
    let metrics = metrics::CampaignMetrics::register(s.metrics)
        .context("registering the campaign metrics")?;
    let identities = Arc::new(abandon::Identities {
        tts: s.dialer.as_ref().map(|d| d.tts.clone()),
        language: s
            .dialer
            .as_ref()
            .map_or_else(|| "en".to_owned(), |d| d.config.language.clone()),
        company: s.settings.company.clone(),
    });
    identities.restore(
        engine
            .campaigns()
            .filter_map(|id| engine.spec(id))
            .filter(|spec| spec.abandon_message.is_some()),
    );
    let (tx, requests) = mpsc::unbounded_channel();
    let settings = Arc::new(s.settings.clone());
    let references = refs::References {
        shared: s.dialer.clone(),
        router: s.router.clone(),
    };
    let mut driver = Driver::new(
        engine,
        s.settings.clone(),
        dnc,
        s.router,
        s.events,
        metrics,
        s.dialer,
        requests,
    );
    driver.surveys = s.restored.surveys;
    tokio::spawn(driver.run());
    Ok(CampaignsHandle {
        tx,
        settings,
        identities,
        references,
    })
}
