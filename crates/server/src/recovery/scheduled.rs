//! Scheduled callbacks in the recovery projection: the journal events of every scheduled
//! callback that has not ended (completed, cancelled or given up), so the scheduler's restore
//! finds them even after journal retention deleted the segments holding them.
//!
//! The scheduler rebuilds itself by replaying its events in journal order; a callback created
//! long ago has its `callback.scheduled` in a segment that retention deletes once a snapshot
//! covers it. The projection keeps each open callback's events (the snapshot holds them), and
//! [`merge`] puts them back in front of whatever the journal still has, each event once, in
//! `seq` order. An ended callback's events are dropped from the projection: it stays known for
//! as long as the journal holds its events.

use std::collections::BTreeMap;

use hotline_campaigns::CallbackEvent;
use hotline_events::Event;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::callbacks::journal;

/// The journal events of each scheduled callback not ended yet.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct OpenScheduled {
    /// Per callback id, its events in journal order (the first is its `callback.scheduled`).
    callbacks: BTreeMap<Uuid, Vec<Event>>,
}

impl OpenScheduled {
    /// Applies one journal event (events of other kinds, or that do not read back as the
    /// scheduler's, change nothing: the restore skips them too).
    pub fn apply(&mut self, event: &Event) {
        let Ok(Some(scheduled)) = journal::from_event(event) else {
            return;
        };
        let id = journal::uuid(scheduled.id());
        match scheduled {
            // A second creation of the same id changes nothing in the scheduler either.
            CallbackEvent::Created { .. } => {
                self.callbacks
                    .entry(id)
                    .or_insert_with(|| vec![event.clone()]);
            }
            CallbackEvent::Completed { .. }
            | CallbackEvent::Cancelled { .. }
            | CallbackEvent::GivenUp { .. } => {
                self.callbacks.remove(&id);
            }
            _ => {
                if let Some(events) = self.callbacks.get_mut(&id) {
                    events.push(event.clone());
                }
            }
        }
    }

    /// The ids of the open callbacks.
    #[cfg(test)]
    pub fn ids(&self) -> impl Iterator<Item = &Uuid> {
        self.callbacks.keys()
    }
}

/// The events the scheduler's restore replays: the open callbacks' events of the projection and
/// every event of `journal` (what is left of it on disk), each `seq` once, in `seq` order.
pub fn merge<'a>(open: &'a OpenScheduled, journal: &'a [Event]) -> Vec<&'a Event> {
    let mut by_seq: BTreeMap<u64, &Event> = BTreeMap::new();
    for event in open.callbacks.values().flatten().chain(journal) {
        by_seq.entry(event.seq).or_insert(event);
    }
    by_seq.into_values().collect()
}

#[cfg(test)]
mod tests;
