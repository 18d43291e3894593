//! Restart recovery: what the journal says was still going on when hotline last stopped.
//!
//! A call's media and signalling live in the process, so a call that had arrived but not
//! ended when the process died is gone: it gets its terminal `call.ended` (reason
//! `node_restart`, hung up by the system) at the next start. Agents who were not ready come
//! back not ready with the same reason once their registrations are restored.
//!
//! Callbacks queued and not yet ended (connected, given up or cancelled) are queued again in the
//! router with their original entry time, so they keep their place and age; an attempt cut by
//! the stop counts, with cause `unknown`, and the callback waits its retry delay (see
//! `callbacks`).
//!
//! Scheduled callbacks not yet ended keep their journal events here (see [`scheduled`]), so the
//! scheduler's restore finds them after retention deleted the segments that held them.
//!
//! Outbound campaigns not stopped-and-finished keep their journal events here too (see
//! [`campaigns`]), so the campaign engine's restore finds them after retention.
//!
//! Skills set through the API are set again unless the configuration file changed the agent's
//! skills after them (the rule is in [`skills`]).
//!
//! The projection is small (open calls, not-ready agents, queued and scheduled callbacks,
//! skills) and is saved as a journal snapshot at each start, so the next start reads that
//! snapshot plus the journal's tail.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};
use hotline_events::{
    load_recovery, read_journal_dir, write_snapshot, AgentState, EndReason, Event, EventDraft,
    EventKind, EventSink, HungUpBy, Timestamp,
};
use serde::{Deserialize, Serialize};
use tokio::sync::watch;
use uuid::Uuid;

use crate::http::RequestedState;
use crate::router_task::RouterHandle;

mod callbacks;
pub mod campaigns;
pub mod scheduled;
pub mod skills;
#[cfg(test)]
mod test_journal;

pub use callbacks::QueuedCallback;
use campaigns::OpenCampaigns;
use scheduled::OpenScheduled;
use skills::JournaledSkills;

/// How often the running server refreshes the recovery snapshot.
pub const SNAPSHOT_INTERVAL: Duration = Duration::from_secs(300);

/// A call that arrived and had not ended when the journal stopped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenCall {
    /// When it arrived.
    pub arrived: Timestamp,
    /// The last queue it was in, if any.
    pub queue: Option<String>,
    /// The agent it was offered to or answered by last, if any.
    pub agent: Option<String>,
    /// SIP Call-IDs of its legs.
    pub sip_call_ids: Vec<String>,
}

/// The state restart recovery needs, projected from the journal.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RecoveryState {
    /// Calls with `call.arrived` and no `call.ended`, by call id.
    pub open_calls: BTreeMap<Uuid, OpenCall>,
    /// Agents whose last state change was to not ready, with its reason.
    pub not_ready: BTreeMap<String, Option<String>>,
    /// The last `seq` applied.
    pub seq: u64,
    /// Callbacks queued and not ended, by call id.
    #[serde(default)]
    pub callbacks: BTreeMap<Uuid, QueuedCallback>,
    /// Agents' skills as journaled: the file's last ones and the API's since, by agent.
    #[serde(default)]
    pub skills: BTreeMap<String, JournaledSkills>,
    /// Scheduled callbacks not ended, with their journal events (`None` in a snapshot written
    /// before they were kept there: [`Self::load`] rebuilds them from the journal).
    #[serde(default)]
    pub scheduled: Option<OpenScheduled>,
    /// Campaigns not stopped-and-finished, with their journal events (`None` in a snapshot
    /// written before they were kept there: [`Self::load`] rebuilds them from the journal).
    #[serde(default)]
    pub campaigns: Option<OpenCampaigns>,
}

impl RecoveryState {
    /// Applies one journal event.
    pub fn apply(&mut self, event: &Event) {
        self.seq = self.seq.max(event.seq);
        self.apply_callback(event);
        self.apply_skills(event);
        self.scheduled
            .get_or_insert_with(OpenScheduled::default)
            .apply(event);
        self.campaigns
            .get_or_insert_with(OpenCampaigns::default)
            .apply(event);
        match &event.kind {
            EventKind::CallArrived { .. } => {
                if let Some(call) = event.call_id {
                    self.open_calls.insert(
                        call,
                        OpenCall {
                            arrived: event.ts,
                            queue: event.queue.clone(),
                            agent: event.agent_id.clone(),
                            sip_call_ids: event.sip_call_ids.clone(),
                        },
                    );
                }
            }
            EventKind::CallEnded { .. } => {
                if let Some(call) = event.call_id {
                    self.open_calls.remove(&call);
                }
            }
            EventKind::AgentStateChanged { to, reason, .. } => {
                if let Some(agent) = &event.agent_id {
                    if *to == AgentState::NotReady {
                        self.not_ready.insert(agent.clone(), reason.clone());
                    } else {
                        self.not_ready.remove(agent);
                    }
                }
            }
            _ => {
                let Some(open) = event.call_id.and_then(|c| self.open_calls.get_mut(&c)) else {
                    return;
                };
                if event.queue.is_some() {
                    open.queue.clone_from(&event.queue);
                }
                if event.agent_id.is_some() {
                    open.agent.clone_from(&event.agent_id);
                }
                for id in &event.sip_call_ids {
                    if !open.sip_call_ids.contains(id) {
                        open.sip_call_ids.push(id.clone());
                    }
                }
            }
        }
    }

    /// Loads the state from `data_dir`: the latest snapshot plus the events after it, or the
    /// whole journal if the snapshot's state is unreadable.
    pub fn load(data_dir: &Path) -> Result<Self> {
        Self::load_upto(data_dir, None)
    }

    /// Like [`Self::load`] while the journal is being written: applies only events with
    /// `seq <= upto` (the fsynced ones, which a crash cannot take back) and refuses a tail
    /// that is not contiguous (a rotation raced the listing of segments).
    fn load_live(data_dir: &Path, upto: u64) -> Result<Self> {
        Self::load_upto(data_dir, Some(upto))
    }

    fn load_upto(data_dir: &Path, upto: Option<u64>) -> Result<Self> {
        let mut recovery = load_recovery(data_dir).context("reading the event journal")?;
        if let Some(upto) = upto {
            recovery.events.retain(|e| e.seq <= upto);
            let from = recovery.snapshot.as_ref().map_or(0, |s| s.seq);
            let contiguous = recovery
                .events
                .iter()
                .zip(from + 1..)
                .all(|(e, expected)| e.seq == expected);
            anyhow::ensure!(contiguous, "journal tail read with a gap; try again");
        }
        let mut state = match recovery.snapshot {
            None => Self::default(),
            Some(snapshot) => match serde_json::from_value::<Self>(snapshot.state) {
                Ok(mut state) => {
                    state.seq = snapshot.seq;
                    if state.scheduled.is_none() {
                        state.scheduled = Some(Self::scheduled_upto(data_dir, snapshot.seq)?);
                    }
                    if state.campaigns.is_none() {
                        state.campaigns = Some(Self::campaigns_upto(data_dir, snapshot.seq)?);
                    }
                    state
                }
                Err(err) => {
                    tracing::warn!(%err, "unreadable recovery snapshot; replaying the whole journal");
                    let mut state = Self::default();
                    let all = read_journal_dir(data_dir).context("reading the event journal")?;
                    for event in all.iter().filter(|e| upto.is_none_or(|u| e.seq <= u)) {
                        state.apply(event);
                    }
                    return Ok(state);
                }
            },
        };
        for event in &recovery.events {
            state.apply(event);
        }
        Ok(state)
    }

    /// The open scheduled callbacks of the journal's events up to `seq`, for a snapshot written
    /// before they were kept in it (from what the journal still holds).
    fn scheduled_upto(data_dir: &Path, seq: u64) -> Result<OpenScheduled> {
        let all = read_journal_dir(data_dir).context("reading the event journal")?;
        let mut open = OpenScheduled::default();
        for event in all.iter().take_while(|e| e.seq <= seq) {
            open.apply(event);
        }
        Ok(open)
    }

    /// The campaigns kept of the journal's events up to `seq`, for a snapshot written before
    /// they were kept in it (from what the journal still holds).
    fn campaigns_upto(data_dir: &Path, seq: u64) -> Result<OpenCampaigns> {
        let all = read_journal_dir(data_dir).context("reading the event journal")?;
        let mut open = OpenCampaigns::default();
        for event in all.iter().take_while(|e| e.seq <= seq) {
            open.apply(event);
        }
        Ok(open)
    }

    /// Saves the state as a snapshot covering `self.seq` (nothing to do on an empty journal).
    pub fn save(&self, data_dir: &Path) -> Result<()> {
        if self.seq == 0 {
            return Ok(());
        }
        let state = serde_json::to_value(self).context("serializing the recovery state")?;
        write_snapshot(data_dir, self.seq, &state).context("writing the recovery snapshot")?;
        Ok(())
    }

    /// Saves a fresh snapshot every `every`, from the previous one plus the fsynced tail
    /// (`written` is the journal's fsynced seq), so a restart reads at most that much tail.
    pub fn spawn_snapshots(
        data_dir: PathBuf,
        written: watch::Receiver<u64>,
        every: Duration,
    ) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            tick.tick().await;
            let mut last = 0;
            loop {
                tick.tick().await;
                let upto = *written.borrow();
                if upto == last {
                    continue;
                }
                let dir = data_dir.clone();
                let saved = tokio::task::spawn_blocking(move || {
                    let state = Self::load_live(&dir, upto)?;
                    state.save(&dir)?;
                    Ok::<_, anyhow::Error>(state.seq)
                })
                .await;
                match saved {
                    Ok(Ok(seq)) => {
                        last = upto;
                        tracing::debug!(seq, "recovery snapshot saved");
                    }
                    Ok(Err(err)) => tracing::warn!("recovery snapshot not saved: {err:#}"),
                    Err(err) => tracing::warn!(%err, "recovery snapshot task failed"),
                }
            }
        })
    }

    /// Emits `call.ended` (reason `node_restart`, hung up by the system) for every open
    /// call, with its duration up to `now`; returns how many.
    pub fn end_open_calls(&self, sink: &EventSink, now: Timestamp) -> usize {
        for (call, open) in &self.open_calls {
            let elapsed = now.unix_millis() - open.arrived.unix_millis();
            let mut draft = EventDraft::new(EventKind::CallEnded {
                reason: EndReason::NodeRestart,
                hung_up_by: HungUpBy::System,
                duration_ms: u64::try_from(elapsed).unwrap_or(0),
            })
            .call(*call);
            if let Some(queue) = &open.queue {
                draft = draft.queue(queue.clone());
            }
            if let Some(agent) = &open.agent {
                draft = draft.agent(agent.clone());
            }
            for id in &open.sip_call_ids {
                draft = draft.sip_call_id(id.clone());
            }
            sink.emit(draft);
        }
        self.open_calls.len()
    }

    /// Puts agents who were not ready back to not ready with their reason. Must run after
    /// the restored registrations reached the router (agents without any stay logged out).
    pub async fn restore_agent_states(&self, router: &RouterHandle) {
        for (agent, reason) in &self.not_ready {
            match router
                .set_state(agent.clone(), RequestedState::NotReady, reason.clone())
                .await
            {
                Some(Ok(_)) => tracing::info!(agent, ?reason, "agent restored not ready"),
                Some(Err(err)) => {
                    tracing::info!(agent, ?err, "not-ready state not restored");
                }
                None => return,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(seq: u64, kind: EventKind) -> Event {
        EventDraft::new(kind).into_event(Uuid::now_v7(), seq, Timestamp::now(), "n")
    }

    fn arrived(seq: u64, call: Uuid) -> Event {
        let mut e = event(
            seq,
            EventKind::CallArrived {
                from: "1".into(),
                to: "2".into(),
            },
        );
        e.call_id = Some(call);
        e
    }

    fn state(seq: u64, agent: &str, to: AgentState, reason: Option<&str>) -> Event {
        let mut e = event(
            seq,
            EventKind::AgentStateChanged {
                from: AgentState::Ready,
                to,
                reason: reason.map(str::to_owned),
            },
        );
        e.agent_id = Some(agent.into());
        e
    }

    #[test]
    fn calls_without_an_end_stay_open_with_their_last_queue() {
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let mut queued = event(3, EventKind::CallQueued { position: 1 });
        queued.call_id = Some(a);
        queued.queue = Some("support".into());
        let mut ended = event(
            4,
            EventKind::CallEnded {
                reason: EndReason::Completed,
                hung_up_by: HungUpBy::Caller,
                duration_ms: 5,
            },
        );
        ended.call_id = Some(b);
        let mut s = RecoveryState::default();
        for e in [arrived(1, a), arrived(2, b), queued, ended] {
            s.apply(&e);
        }
        assert_eq!(s.open_calls.len(), 1);
        assert_eq!(s.open_calls[&a].queue.as_deref(), Some("support"));
        assert_eq!(s.seq, 4);
    }

    fn callback(seq: u64, call: Uuid, kind: EventKind) -> Event {
        let mut e = event(seq, kind);
        e.call_id = Some(call);
        e.queue = Some("support".into());
        e
    }

    #[test]
    fn callbacks_stay_queued_until_an_outcome_ends_them() {
        let (a, b, c, d) = (
            Uuid::now_v7(),
            Uuid::now_v7(),
            Uuid::now_v7(),
            Uuid::now_v7(),
        );
        let entered = Timestamp::now();
        let queued = |number: &str| EventKind::CallbackQueued {
            number: number.into(),
            note: None,
            entered_at: entered,
            priority: 1,
            attempts: 0,
            position: 1,
            scheduled: false,
        };
        let mut s = RecoveryState::default();
        for e in [
            callback(1, a, queued("1")),
            callback(2, b, queued("2")),
            callback(3, d, queued("4")),
            callback(
                4,
                b,
                EventKind::CallbackDue {
                    attempt: 1,
                    scheduled: false,
                },
            ),
            callback(
                5,
                b,
                EventKind::CallbackFailed {
                    cause: hotline_events::CallbackFailCause::Busy,
                    attempts: 1,
                    retry_after_ms: 60_000,
                    sip_status: Some(486),
                    q850_cause: None,
                },
            ),
            // Due again when the process died: no outcome, so it stays queued.
            callback(
                6,
                b,
                EventKind::CallbackDue {
                    attempt: 2,
                    scheduled: false,
                },
            ),
            callback(
                7,
                c,
                EventKind::CallbackConverted {
                    number: "3".into(),
                    note: Some("refund".into()),
                    entered_at: entered,
                    priority: 0,
                },
            ),
            callback(8, a, EventKind::CallbackCancelled { wait_ms: 5 }),
            callback(9, d, EventKind::CallbackConnected { wait_ms: 5 }),
        ] {
            s.apply(&e);
        }
        assert_eq!(s.callbacks.keys().copied().collect::<Vec<_>>(), {
            let mut left = vec![b, c];
            left.sort();
            left
        });
        assert_eq!(s.callbacks[&b].attempts, 1);
        assert_eq!(s.callbacks[&b].priority, 1);
        assert_eq!(s.callbacks[&c].note.as_deref(), Some("refund"));
        assert_eq!(s.callbacks[&c].queue, "support");
        // A snapshot written before callbacks were tracked still loads.
        let old = serde_json::json!({"open_calls": {}, "not_ready": {}, "seq": 3});
        let old: RecoveryState = serde_json::from_value(old).unwrap();
        assert!(old.callbacks.is_empty());
    }

    #[test]
    fn the_last_state_change_decides_not_ready() {
        let mut s = RecoveryState::default();
        for e in [
            state(1, "alice", AgentState::NotReady, Some("lunch")),
            state(2, "bob", AgentState::NotReady, Some("break")),
            state(3, "bob", AgentState::Ready, None),
            state(4, "carol", AgentState::NotReady, None),
        ] {
            s.apply(&e);
        }
        let expected: BTreeMap<String, Option<String>> = [
            ("alice".to_string(), Some("lunch".to_string())),
            ("carol".to_string(), None),
        ]
        .into_iter()
        .collect();
        assert_eq!(s.not_ready, expected);
    }

    fn write_journal(dir: &Path, events: &[Event]) {
        let text: String = events
            .iter()
            .map(|e| format!("{}\n", serde_json::to_string(e).unwrap()))
            .collect();
        std::fs::write(dir.join("events.jsonl"), text).unwrap();
    }

    #[test]
    fn a_live_snapshot_takes_only_fsynced_events_and_the_next_load_adds_the_tail() {
        let dir = tempfile::tempdir().unwrap();
        let call = Uuid::now_v7();
        let mut ended = event(
            3,
            EventKind::CallEnded {
                reason: EndReason::Completed,
                hung_up_by: HungUpBy::Caller,
                duration_ms: 5,
            },
        );
        ended.call_id = Some(call);
        write_journal(
            dir.path(),
            &[
                arrived(1, call),
                state(2, "alice", AgentState::NotReady, Some("lunch")),
                ended,
            ],
        );
        // Only seq 1..=2 are fsynced: the snapshot must not include seq 3.
        let live = RecoveryState::load_live(dir.path(), 2).unwrap();
        assert_eq!((live.seq, live.open_calls.len()), (2, 1));
        live.save(dir.path()).unwrap();
        let full = RecoveryState::load(dir.path()).unwrap();
        assert_eq!((full.seq, full.open_calls.len()), (3, 0));
        assert_eq!(full.not_ready.len(), 1);
    }

    #[test]
    fn a_live_load_refuses_a_tail_with_a_gap() {
        let dir = tempfile::tempdir().unwrap();
        write_journal(
            dir.path(),
            &[arrived(1, Uuid::now_v7()), arrived(3, Uuid::now_v7())],
        );
        assert!(RecoveryState::load_live(dir.path(), 3).is_err());
        // At start (no writer running) the journal is taken as it is.
        assert_eq!(RecoveryState::load(dir.path()).unwrap().seq, 3);
    }

    #[test]
    fn state_round_trips_through_a_snapshot() {
        let dir = tempfile::tempdir().unwrap();
        let events = [
            arrived(1, Uuid::now_v7()),
            state(2, "alice", AgentState::NotReady, Some("training")),
            callback(
                3,
                Uuid::now_v7(),
                EventKind::CallbackQueued {
                    number: "+33100000001".into(),
                    note: None,
                    entered_at: Timestamp::now(),
                    priority: 0,
                    attempts: 2,
                    position: 1,
                    scheduled: false,
                },
            ),
        ];
        write_journal(dir.path(), &events);
        let mut s = RecoveryState::default();
        for e in &events {
            s.apply(e);
        }
        s.save(dir.path()).unwrap();
        // The snapshot alone (the journal is read from after it) gives the same state.
        assert_eq!(RecoveryState::load(dir.path()).unwrap(), s);
    }
}
