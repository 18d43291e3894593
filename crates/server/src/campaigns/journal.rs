//! The campaign engine's events in the journal: each [`CampaignEvent`] becomes one
//! `campaign.*` event ([`to_draft`]) and reads back into the same value ([`from_event`]), so a
//! restart rebuilds every campaign from the journal alone.
//!
//! The engine's instant is the event's `ts` (the driver feeds the engine millisecond instants,
//! the journal's precision), the campaign its `campaign` field, and every other field of the
//! engine's event is kept by name in the body. The agent of an offer, a preview dial or a
//! connected call is also written as the event's `agent_id` for consumers that correlate by
//! agent.

use hotline_campaigns::campaign::CampaignEvent;
use hotline_events::{CampaignEventBody, Event, EventDraft, EventKind};
use serde_json::Value;

use crate::callbacks::journal::{scheduler_time, wire_time};

/// A journaled campaign event that does not read back.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// The engine's event does not serialize as an object (never for the engine's own types).
    #[error("campaign event {0} is not a JSON object")]
    NotAnObject(&'static str),
    /// The fields do not make the engine's event.
    #[error("{kind}: {source}")]
    Fields {
        /// The event's type.
        kind: &'static str,
        /// What serde said.
        source: serde_json::Error,
    },
}

/// The wire kind of an engine event type and its body.
fn wrap(tag: &str, body: CampaignEventBody) -> Option<EventKind> {
    Some(match tag {
        "created" => EventKind::CampaignCreated(body),
        "records_added" => EventKind::CampaignRecordsAdded(body),
        "dnc_added" => EventKind::CampaignDncAdded(body),
        "dnc_removed" => EventKind::CampaignDncRemoved(body),
        "run_state_changed" => EventKind::CampaignRunStateChanged(body),
        "offered" => EventKind::CampaignOffered(body),
        "offer_skipped" => EventKind::CampaignOfferSkipped(body),
        "attempt_started" => EventKind::CampaignAttemptStarted(body),
        "picked_up" => EventKind::CampaignPickedUp(body),
        "answered" => EventKind::CampaignAnswered(body),
        "connected" => EventKind::CampaignConnected(body),
        "abandoned" => EventKind::CampaignAbandoned(body),
        "attempt_ended" => EventKind::CampaignAttemptEnded(body),
        "held" => EventKind::CampaignHeld(body),
        "given_up" => EventKind::CampaignGivenUp(body),
        "call_handled" => EventKind::CampaignCallHandled(body),
        _ => return None,
    })
}

/// The engine event type and body of a `campaign.*` event; None for other kinds.
fn unwrap(kind: &EventKind) -> Option<(&'static str, &CampaignEventBody)> {
    Some(match kind {
        EventKind::CampaignCreated(b) => ("created", b),
        EventKind::CampaignRecordsAdded(b) => ("records_added", b),
        EventKind::CampaignDncAdded(b) => ("dnc_added", b),
        EventKind::CampaignDncRemoved(b) => ("dnc_removed", b),
        EventKind::CampaignRunStateChanged(b) => ("run_state_changed", b),
        EventKind::CampaignOffered(b) => ("offered", b),
        EventKind::CampaignOfferSkipped(b) => ("offer_skipped", b),
        EventKind::CampaignAttemptStarted(b) => ("attempt_started", b),
        EventKind::CampaignPickedUp(b) => ("picked_up", b),
        EventKind::CampaignAnswered(b) => ("answered", b),
        EventKind::CampaignConnected(b) => ("connected", b),
        EventKind::CampaignAbandoned(b) => ("abandoned", b),
        EventKind::CampaignAttemptEnded(b) => ("attempt_ended", b),
        EventKind::CampaignHeld(b) => ("held", b),
        EventKind::CampaignGivenUp(b) => ("given_up", b),
        EventKind::CampaignCallHandled(b) => ("call_handled", b),
        _ => return None,
    })
}

/// The journal event of one engine event.
pub fn to_draft(event: &CampaignEvent) -> Result<EventDraft, JournalError> {
    let tag = event.type_name();
    let Ok(Value::Object(mut fields)) = serde_json::to_value(event) else {
        return Err(JournalError::NotAnObject(tag));
    };
    fields.remove("type");
    fields.remove("at");
    fields.remove("campaign");
    let agent = fields
        .get("agent")
        .and_then(Value::as_str)
        .map(str::to_string);
    let body = CampaignEventBody {
        campaign: event.campaign().as_str().to_string(),
        fields: fields.into_iter().collect(),
    };
    let kind = wrap(tag, body).ok_or(JournalError::NotAnObject(tag))?;
    let mut draft = EventDraft::new(kind).at(wire_time(event.at()));
    if let Some(agent) = agent {
        draft = draft.agent(agent);
    }
    Ok(draft)
}

/// The engine event a journal event records; `Ok(None)` for events of other kinds.
pub fn from_event(event: &Event) -> Result<Option<CampaignEvent>, JournalError> {
    let Some((tag, body)) = unwrap(&event.kind) else {
        return Ok(None);
    };
    let mut fields: serde_json::Map<String, Value> = body
        .fields
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    fields.insert("type".into(), Value::String(tag.into()));
    fields.insert(
        "at".into(),
        Value::String(scheduler_time(event.ts).to_string()),
    );
    if tag != "created" {
        fields.insert("campaign".into(), Value::String(body.campaign.clone()));
    }
    serde_json::from_value(Value::Object(fields))
        .map(Some)
        .map_err(|source| JournalError::Fields { kind: tag, source })
}

#[cfg(test)]
mod tests;
