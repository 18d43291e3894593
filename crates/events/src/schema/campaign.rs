//! Payload of the outbound campaign events (`campaign.created`, `campaign.attempt_started`,
//! ...): the campaign engine's own events, one `campaign.*` type per engine event type.
//!
//! The event's `ts` is when the engine decided (milliseconds, the engine's clock in the
//! server); `campaign` names the campaign; the other fields are the engine event's own, as the
//! engine writes them (`entry`, `attempt`, `number`, `result`, `next`, the campaign's `spec` on
//! `campaign.created`, ...). Consumers read the fields they know and ignore the others.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The fields of one `campaign.*` event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CampaignEventBody {
    /// The campaign's id.
    pub campaign: String,
    /// The engine event's other fields, by name (everything a restart needs to rebuild the
    /// campaign).
    #[serde(flatten)]
    pub fields: BTreeMap<String, serde_json::Value>,
}

#[cfg(test)]
mod tests {
    use crate::{Event, EventKind};

    #[test]
    fn a_campaign_event_round_trips_with_its_wire_name_and_fields() {
        let line = r#"{"v":1,"id":"0190a0e4-0000-7000-8000-000000000001","seq":9,
            "ts":"2026-12-08T10:00:00.000Z","node":"hl-1","type":"campaign.attempt_started",
            "campaign":"renewals","entry":3,"attempt":2,"number":"+442079460001",
            "trunk":"carrier","agent_id":"alice"}"#;
        let event: Event = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(event.type_name(), "campaign.attempt_started");
        assert_eq!(event.agent_id.as_deref(), Some("alice"));
        let EventKind::CampaignAttemptStarted(body) = &event.kind else {
            panic!("{:?}", event.kind)
        };
        assert_eq!(body.campaign, "renewals");
        assert_eq!(body.fields.get("entry"), Some(&serde_json::json!(3)));
        assert!(!body.fields.contains_key("agent_id"));
        let back = serde_json::to_string(&event).unwrap_or_default();
        let again: Event = serde_json::from_str(&back).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(again, event);
    }
}
