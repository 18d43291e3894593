//! The states an agent moves through, and the states the API may ask for.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Where an agent is in its working cycle.
///
/// `LoggedOut -> Ready -> Reserved -> Ringing -> OnCall -> WrapUp -> Ready`, with `NotReady` reachable
/// from the API or after a missed offer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgentState {
    /// No registered SIP contact: cannot be offered calls.
    LoggedOut,
    /// Registered and idle: can be offered a call.
    Ready,
    /// Chosen for a call; the server is inviting the agent's phone.
    Reserved,
    /// The agent's phone reports ringing (180/183).
    Ringing,
    /// Bridged with a caller.
    OnCall,
    /// After-call work; becomes `Ready` when the queue's wrap-up time ends.
    WrapUp,
    /// Registered but unavailable, with the reason.
    NotReady(NotReadyReason),
}

/// Why an agent is not ready.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotReadyReason {
    /// The agent let an offer time out, rejected it, was busy or unreachable.
    MissedOffer,
    /// Set by the agent or a supervisor through the API, with their free-text reason.
    Manual(String),
}

/// A state the API may ask an agent to take (see [`crate::Command::SetState`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestedState {
    /// Available for calls.
    Ready,
    /// Unavailable, with the reason.
    NotReady(NotReadyReason),
}

impl AgentState {
    /// True while the agent holds an offer (reserved or ringing).
    pub fn holds_offer(&self) -> bool {
        matches!(self, AgentState::Reserved | AgentState::Ringing)
    }

    /// The stable lower-case name used in APIs and metrics labels (`not_ready` for any reason).
    pub fn name(&self) -> &'static str {
        match self {
            AgentState::LoggedOut => "logged_out",
            AgentState::Ready => "ready",
            AgentState::Reserved => "reserved",
            AgentState::Ringing => "ringing",
            AgentState::OnCall => "on_call",
            AgentState::WrapUp => "wrap_up",
            AgentState::NotReady(_) => "not_ready",
        }
    }
}

impl NotReadyReason {
    /// Parses the API's reason text: `missed_offer` is the router's own reason, anything else is manual.
    pub fn from_api(text: &str) -> Self {
        if text == "missed_offer" {
            NotReadyReason::MissedOffer
        } else {
            NotReadyReason::Manual(text.to_owned())
        }
    }
}

impl fmt::Display for NotReadyReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NotReadyReason::MissedOffer => f.write_str("missed_offer"),
            NotReadyReason::Manual(text) => f.write_str(text),
        }
    }
}

impl fmt::Display for AgentState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AgentState::NotReady(reason) => write!(f, "not_ready({reason})"),
            other => f.write_str(other.name()),
        }
    }
}

impl From<RequestedState> for AgentState {
    fn from(state: RequestedState) -> Self {
        match state {
            RequestedState::Ready => AgentState::Ready,
            RequestedState::NotReady(reason) => AgentState::NotReady(reason),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_reason_text_round_trips() {
        assert_eq!(
            NotReadyReason::from_api("missed_offer"),
            NotReadyReason::MissedOffer
        );
        let lunch = NotReadyReason::from_api("lunch");
        assert_eq!(lunch, NotReadyReason::Manual("lunch".into()));
        assert_eq!(lunch.to_string(), "lunch");
        assert_eq!(AgentState::NotReady(lunch).to_string(), "not_ready(lunch)");
    }
}
