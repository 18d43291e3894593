//! [`EventDraft`]: an event as the emitter describes it, before the journal writer stamps it.

use uuid::Uuid;

use super::{Event, EventKind, SCHEMA_VERSION};
use crate::timestamp::Timestamp;

/// An event as the emitter describes it; the journal writer stamps `v`, `id`, `seq` and `node`.
#[derive(Debug, Clone, PartialEq)]
pub struct EventDraft {
    /// What happened.
    pub kind: EventKind,
    /// hotline's own id of the call.
    pub call_id: Option<Uuid>,
    /// SIP Call-IDs of the call's legs.
    pub sip_call_ids: Vec<String>,
    /// The agent concerned.
    pub agent_id: Option<String>,
    /// The queue concerned.
    pub queue: Option<String>,
    /// The version of the dialplan the call runs on.
    pub dialplan_version: Option<u64>,
    /// When it happened; `None` means "when emitted" (the sink reads the wall clock).
    pub ts: Option<Timestamp>,
}

impl EventDraft {
    /// A draft with no correlation fields set.
    pub fn new(kind: EventKind) -> Self {
        Self {
            kind,
            call_id: None,
            sip_call_ids: Vec::new(),
            agent_id: None,
            queue: None,
            dialplan_version: None,
            ts: None,
        }
    }

    /// Sets the call this event is about.
    pub fn call(mut self, call_id: Uuid) -> Self {
        self.call_id = Some(call_id);
        self
    }

    /// Adds the SIP Call-ID of one of the call's legs.
    pub fn sip_call_id(mut self, sip_call_id: impl Into<String>) -> Self {
        self.sip_call_ids.push(sip_call_id.into());
        self
    }

    /// Sets the agent this event is about.
    pub fn agent(mut self, agent_id: impl Into<String>) -> Self {
        self.agent_id = Some(agent_id.into());
        self
    }

    /// Sets the queue this event is about.
    pub fn queue(mut self, queue: impl Into<String>) -> Self {
        self.queue = Some(queue.into());
        self
    }

    /// Sets the version of the dialplan the call runs on.
    pub fn dialplan_version(mut self, version: u64) -> Self {
        self.dialplan_version = Some(version);
        self
    }

    /// Sets when the event happened instead of "when emitted".
    pub fn at(mut self, ts: Timestamp) -> Self {
        self.ts = Some(ts);
        self
    }

    /// Completes the draft into an event (used by the journal writer).
    pub fn into_event(self, id: Uuid, seq: u64, ts: Timestamp, node: &str) -> Event {
        Event {
            v: SCHEMA_VERSION,
            id,
            seq,
            ts: self.ts.unwrap_or(ts),
            node: node.to_owned(),
            kind: self.kind,
            call_id: self.call_id,
            sip_call_ids: self.sip_call_ids,
            agent_id: self.agent_id,
            queue: self.queue,
            dialplan_version: self.dialplan_version,
        }
    }
}
