//! Outbound campaigns in the recovery projection: the journal events of every campaign that is
//! not stopped-and-finished (stopped with no attempt still open), so the campaign driver's
//! restore finds them even after journal retention deleted the segments holding them.
//!
//! The engine rebuilds itself by replaying its `campaign.*` events in journal order; a campaign
//! created long ago has its `campaign.created` and `campaign.records_added` in segments that
//! retention deletes once a snapshot covers them. The projection keeps each such campaign's
//! events (the snapshot holds them), and [`merge`] puts them back in front of whatever the
//! journal still has, each event once, in `seq` order. A campaign stopped for good whose last
//! attempt has ended is dropped from the projection: it stays known for as long as the journal
//! holds its events.

use std::collections::{BTreeMap, BTreeSet};

use hotline_campaigns::campaign::{CampaignEvent, HoldReason, RunState};
use hotline_events::Event;
use serde::{Deserialize, Serialize};

use crate::campaigns::journal;

/// One campaign kept by the projection.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OpenCampaign {
    /// Its events in journal order (the first is its `campaign.created`).
    events: Vec<Event>,
    /// Stopped for good (`campaign.run_state_changed` to `stopped`).
    #[serde(default)]
    stopped: bool,
    /// The attempts started and not ended, as (entry, attempt).
    #[serde(default)]
    attempts: BTreeSet<(u64, u32)>,
}

/// The journal events of each campaign not stopped-and-finished, by campaign id.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct OpenCampaigns {
    /// Per campaign id.
    campaigns: BTreeMap<String, OpenCampaign>,
}

impl OpenCampaigns {
    /// Applies one journal event (events of other kinds, or that do not read back as the
    /// engine's, change nothing: the restore skips them too). The survey events of a kept
    /// campaign's calls are kept with it: the restore rebuilds its answers per record from them.
    pub fn apply(&mut self, event: &Event) {
        if let Some(campaign) = crate::campaigns::surveys::campaign_of(event) {
            if let Some(open) = self.campaigns.get_mut(campaign) {
                open.events.push(event.clone());
            }
            return;
        }
        let Ok(Some(engine_event)) = journal::from_event(event) else {
            return;
        };
        let id = engine_event.campaign().as_str();
        if let CampaignEvent::Created { .. } = engine_event {
            // A second creation of the same id changes nothing in the engine either.
            self.campaigns
                .entry(id.to_string())
                .or_insert_with(|| OpenCampaign {
                    events: vec![event.clone()],
                    ..OpenCampaign::default()
                });
            return;
        }
        let Some(open) = self.campaigns.get_mut(id) else {
            return;
        };
        open.events.push(event.clone());
        match &engine_event {
            CampaignEvent::RunStateChanged { state, .. } => {
                open.stopped = *state == RunState::Stopped;
            }
            CampaignEvent::AttemptStarted { entry, attempt, .. } => {
                open.attempts.insert((entry.0, *attempt));
            }
            CampaignEvent::AttemptEnded { entry, attempt, .. } => {
                open.attempts.remove(&(entry.0, *attempt));
            }
            // A dial that found its trunk busy never started (one attempt open per record).
            CampaignEvent::Held {
                entry,
                reason: HoldReason::TrunkBusy,
                ..
            } => open.attempts.retain(|(e, _)| *e != entry.0),
            _ => {}
        }
        if open.stopped && open.attempts.is_empty() {
            self.campaigns.remove(id);
        }
    }

    /// The ids of the campaigns kept.
    #[cfg(test)]
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.campaigns.keys().map(String::as_str)
    }
}

/// The events the campaign engine's restore replays: the kept campaigns' events of the
/// projection and every event of `journal` (what is left of it on disk), each `seq` once, in
/// `seq` order.
pub fn merge<'a>(open: &'a OpenCampaigns, journal: &'a [Event]) -> Vec<&'a Event> {
    let mut by_seq: BTreeMap<u64, &Event> = BTreeMap::new();
    for event in open
        .campaigns
        .values()
        .flat_map(|c| c.events.iter())
        .chain(journal)
    {
        by_seq.entry(event.seq).or_insert(event);
    }
    by_seq.into_values().collect()
}

#[cfg(test)]
mod tests;
