//! The call's side of call recording: it tells the recordings service when the customer and
//! the agent are bridged, what the agent keys, and when the conversation is over.

use std::time::Instant;

use hotline_events::{EventDraft, EventKind};

use super::Call;
use crate::recording::Bridged;

impl Call {
    /// The customer and the agent of `queue` were just bridged: recording starts if the queue's
    /// policy says so (or later through the API).
    pub(super) fn recording_bridged(&self, queue: &str, agent: &str) {
        let (Some(customer), Some(a)) = (self.caller.media.as_ref(), self.agent.as_ref()) else {
            return;
        };
        let number = self.caller_number();
        // The number the customer dialed (the IVR may be over by now).
        let dialed = self
            .caller
            .invite
            .uri()
            .user_unescaped()
            .map(|n| n.to_string())
            .filter(|n| !n.is_empty());
        self.shared.recordings.bridged(Bridged {
            call_id: self.id,
            queue: queue.to_owned(),
            agent: agent.to_owned(),
            customer: customer.clone(),
            agent_leg: a.media.clone(),
            customer_number: Some(number).filter(|n| !n.is_empty()),
            dialed_number: dialed,
            template: self.draft(EventDraft::new(EventKind::CallHeld)),
        });
    }

    /// A digit from the agent's phone (the pause and resume codes).
    pub(super) fn recording_agent_digit(&self, digit: char) {
        self.shared
            .recordings
            .agent_digit(self.id, digit, Instant::now());
    }

    /// The conversation is over: its recording (if any) ends now.
    pub(super) fn recording_ended(&self) {
        self.shared.recordings.call_ended(self.id);
    }
}
