//! What a campaign names outside itself, checked when it is created: its trunk (a typo would
//! fail every dial as a network failure), its agents' queue, its agentless flow (a number of
//! the running dialplan), its abandon message's prompt, and its numbers (E.164). A campaign
//! naming something unknown is refused with a 400 that names the field (`{"error": ...,
//! "field": "trunk.name"}`).

use std::sync::Arc;

use axum::http::StatusCode;
use axum::response::Response;
use hotline_campaigns::campaign::{Audience, CampaignSpec};
use hotline_campaigns::E164;
use serde_json::Value;

use crate::endpoint::Shared;
use crate::http::errors::field_error;
use crate::router_task::RouterHandle;

/// A reference a campaign specification gets wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RefError {
    /// No configured trunk of that name.
    #[error("trunk.name: no trunk {name:?} is configured (trunks: {known})")]
    UnknownTrunk {
        /// The name given.
        name: String,
        /// The configured trunks, comma separated.
        known: String,
    },
    /// No queue of that name.
    #[error("audience.agents.queue: no queue {name:?} (queues: {known})")]
    UnknownQueue {
        /// The name given.
        name: String,
        /// The queues, comma separated.
        known: String,
    },
    /// The flow is not a number of the running dialplan.
    #[error("audience.flow: {flow:?} is not a number of the dialplan (numbers: {known})")]
    UnknownFlow {
        /// The flow given.
        flow: String,
        /// The dialplan's numbers, comma separated.
        known: String,
    },
    /// The abandon message's prompt is not among the loaded prompts.
    #[error(
        "abandon_message.prompt: no prompt {name:?} in the prompt folder of the server's language"
    )]
    UnknownPrompt {
        /// The name given.
        name: String,
    },
    /// A number that is not E.164.
    #[error("{field}: {text} is not an E.164 number (+ then 2 to 15 digits)")]
    NotE164 {
        /// The field.
        field: &'static str,
        /// What it says (as JSON).
        text: String,
    },
}

impl RefError {
    /// The field at fault, as the specification spells it.
    pub fn field(&self) -> &'static str {
        match self {
            Self::UnknownTrunk { .. } => "trunk.name",
            Self::UnknownQueue { .. } => "audience.agents.queue",
            Self::UnknownFlow { .. } => "audience.flow",
            Self::UnknownPrompt { .. } => "abandon_message.prompt",
            Self::NotE164 { field, .. } => field,
        }
    }

    /// The API's answer: 400 with the error and the field.
    pub fn response(&self) -> Response {
        field_error(StatusCode::BAD_REQUEST, self.to_string(), self.field())
    }
}

/// The numbers of a specification, checked on its JSON before it is read (so the answer names
/// the field rather than serde's position).
pub fn check_numbers(body: &Value) -> Result<(), RefError> {
    let fields: [(&'static str, Option<&Value>); 2] = [
        ("caller_id", body.get("caller_id")),
        (
            "abandon_message.callback_number",
            body.get("abandon_message")
                .and_then(|m| m.get("callback_number")),
        ),
    ];
    for (field, value) in fields {
        let Some(value) = value else { continue };
        if value.as_str().is_none_or(|t| E164::parse(t).is_err()) {
            return Err(RefError::NotE164 {
                field,
                text: value.to_string(),
            });
        }
    }
    Ok(())
}

fn joined<'a>(names: impl Iterator<Item = &'a str>) -> String {
    let names: Vec<&str> = names.collect();
    if names.is_empty() {
        "none".into()
    } else {
        names.join(", ")
    }
}

/// What the references are checked against: the SIP endpoint's configuration, dialplan and
/// prompts, and the router's queues.
#[derive(Clone)]
pub struct References {
    /// The endpoint (None: no SIP endpoint; trunks, flows and prompts are not checked).
    pub shared: Option<Arc<Shared>>,
    /// The routing task (its queues are the configuration's as last reloaded).
    pub router: RouterHandle,
}

impl References {
    /// Checks everything `spec` names outside itself.
    pub async fn check(&self, spec: &CampaignSpec) -> Result<(), RefError> {
        if let Some(shared) = &self.shared {
            let trunks = &shared.config.trunks;
            if !trunks.contains_key(spec.trunk.name.as_str()) {
                return Err(RefError::UnknownTrunk {
                    name: spec.trunk.name.as_str().to_owned(),
                    known: joined(trunks.keys().map(String::as_str)),
                });
            }
        }
        match &spec.audience {
            Audience::Agents { queue, .. } => {
                // A router that stopped answering is the server shutting down: not the
                // campaign's fault, and the create is refused later anyway.
                if let Some(queues) = self.router.queues().await {
                    if !queues.iter().any(|q| q.name == queue.as_str()) {
                        return Err(RefError::UnknownQueue {
                            name: queue.as_str().to_owned(),
                            known: joined(queues.iter().map(|q| q.name.as_str())),
                        });
                    }
                }
            }
            Audience::Flow { flow } => {
                if let Some(shared) = &self.shared {
                    let dialplan = shared.dialplan.current();
                    if dialplan.plan.number(flow).is_none() {
                        return Err(RefError::UnknownFlow {
                            flow: flow.clone(),
                            known: joined(dialplan.plan.numbers()),
                        });
                    }
                }
            }
        }
        let prompt = spec
            .abandon_message
            .as_ref()
            .and_then(|m| m.prompt.as_deref())
            .filter(|p| !p.trim().is_empty());
        if let (Some(name), Some(shared)) = (prompt, &self.shared) {
            if shared.prompts.get(name).is_none() {
                return Err(RefError::UnknownPrompt {
                    name: name.to_owned(),
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numbers_that_are_not_e164_are_named_by_their_field() {
        let good = json!({"caller_id": "+8675512345678",
                          "abandon_message": {"callback_number": "+8675512345678"}});
        assert_eq!(check_numbers(&good), Ok(()));
        let national = json!({"caller_id": "0755 1234 5678"});
        let e = check_numbers(&national).err();
        assert_eq!(e.as_ref().map(RefError::field), Some("caller_id"));
        assert!(
            e.is_some_and(|e| e.to_string().contains("\"0755 1234 5678\"")),
            "the answer says what was given"
        );
        let callback = json!({"caller_id": "+8675512345678",
                              "abandon_message": {"callback_number": 12}});
        assert_eq!(
            check_numbers(&callback).err().map(|e| e.field()),
            Some("abandon_message.callback_number")
        );
    }

    #[test]
    fn each_error_names_its_field_in_its_message() {
        let errors = [
            RefError::UnknownTrunk {
                name: "carier".into(),
                known: "carrier".into(),
            },
            RefError::UnknownQueue {
                name: "sales".into(),
                known: "support".into(),
            },
            RefError::UnknownFlow {
                flow: "9".into(),
                known: "100".into(),
            },
            RefError::UnknownPrompt {
                name: "sorry".into(),
            },
        ];
        for e in errors {
            assert!(e.to_string().starts_with(e.field()), "{e}");
        }
        assert_eq!(joined(std::iter::empty()), "none");
    }
}
