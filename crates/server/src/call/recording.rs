//! The call's side of call recording: it tells the recordings service what the dialplan decided
//! (a `set` node's policy, the consent node's answer), when the IVR part starts being recorded,
//! when the customer and the agent (or a transfer's far end) are bridged, what the agent keys,
//! and when the conversation is over.

use std::time::Instant;

use hotline_dialplan::{ConsentAnswer, NodeRecording};
use hotline_events::{EventDraft, EventKind};
use hotline_media::RtpLegHandle;
use hotline_recording::Consent;

use super::Call;
use crate::recording::ivr::IvrStart;
use crate::recording::Bridged;

/// What the dialplan decided about this call's recording (kept after the IVR ends).
#[derive(Debug, Default)]
pub(super) struct DialplanRecording {
    /// The last `set` node with `recording:` and what it set.
    node: Option<(String, NodeRecording)>,
    /// The customer's answer at the last consent node.
    consent: Option<ConsentAnswer>,
}

impl DialplanRecording {
    fn consent(&self) -> Consent {
        match self.consent {
            None => Consent::NotAsked,
            Some(ConsentAnswer::Given) => Consent::Given,
            Some(ConsentAnswer::Declined) => Consent::Declined,
        }
    }
}

impl Call {
    /// The number the customer dialed (the IVR may be over by now).
    fn dialed_number(&self) -> Option<String> {
        self.caller
            .invite
            .uri()
            .user_unescaped()
            .map(|n| n.to_string())
            .filter(|n| !n.is_empty())
    }

    /// A `set` node chose the call's recording policy; with `ivr: true` the IVR part is
    /// recorded from now on (from the answer, if the call is not answered yet).
    pub(super) fn recording_set(&mut self, node: String, recording: NodeRecording) {
        tracing::debug!(%node, policy = ?recording.policy, ivr = recording.ivr, "recording policy set by the dialplan");
        self.rec.node = Some((node, recording));
        self.recording_ivr_maybe();
    }

    /// Starts the IVR part's recording if the dialplan asked for it and the call is answered.
    pub(super) fn recording_ivr_maybe(&self) {
        let Some((node, recording)) = &self.rec.node else {
            return;
        };
        if !recording.ivr || !self.caller.answered {
            return;
        }
        let Some(customer) = self.caller.media.as_ref() else {
            return;
        };
        let number = self.caller_number();
        self.shared.recordings.ivr_started(IvrStart {
            call_id: self.id,
            customer: customer.clone(),
            customer_number: Some(number).filter(|n| !n.is_empty()),
            dialed_number: self.dialed_number(),
            node: node.clone(),
            policy: recording.policy,
            consent: self.rec.consent(),
            template: self.draft(EventDraft::new(EventKind::CallHeld)),
        });
    }

    /// A consent node has the customer's answer; declining discards an IVR-part recording.
    pub(super) fn consent_answered(&mut self, node: String, answer: ConsentAnswer) {
        tracing::info!(%node, ?answer, "recording consent");
        self.rec.consent = Some(answer);
        if answer == ConsentAnswer::Declined {
            self.shared.recordings.consent_declined(self.id);
        }
    }

    /// The customer and the agent of `queue` were just bridged: recording starts if the
    /// dialplan's or else the queue's policy says so and the customer did not decline (or
    /// later through the API); an IVR-part recording goes on with the agent.
    pub(super) fn recording_bridged(&self, queue: &str, agent: &str) {
        let (Some(customer), Some(a)) = (self.caller.media.as_ref(), self.agent.as_ref()) else {
            return;
        };
        let number = self.caller_number();
        self.shared.recordings.bridged(Bridged {
            call_id: self.id,
            queue: queue.to_owned(),
            agent: agent.to_owned(),
            customer: customer.clone(),
            agent_leg: a.media.clone(),
            customer_number: Some(number).filter(|n| !n.is_empty()),
            dialed_number: self.dialed_number(),
            template: self.draft(EventDraft::new(EventKind::CallHeld)),
            node_policy: self.rec.node.as_ref().map(|(n, r)| (n.clone(), r.policy)),
            consent: self.rec.consent(),
        });
    }

    /// The customer was just bridged to the far end of a transfer to `number` through `trunk`:
    /// an IVR-part recording goes on with the far end on the right channel.
    pub(super) fn recording_transferred(&self, far: &RtpLegHandle, number: &str, trunk: &str) {
        self.shared
            .recordings
            .transferred(self.id, far.clone(), number, trunk);
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
