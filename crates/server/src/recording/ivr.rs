//! The dialplan's part in recording: a `set` node's policy (over the queue's), the consent
//! node's answer, and IVR-part recordings that start in the IVR (the customer on the left, the
//! right channel silent) and go on in the same file once an agent joins, or the far end of a
//! transfer to an outside number answers (on the right).

use std::sync::Arc;

use hotline_events::{EventDraft, EventKind, RecordingReason, RecordingSkipReason};
use hotline_media::RtpLegHandle;
use hotline_recording::{Consent, Decision, RecordingPolicy};
use uuid::Uuid;

use super::task::{self, Control};
use super::{lock, start_reason, Bridged, Live, QueueRecording, RecordingState, Recordings};

/// What a call's policy decision and consent mean now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Outcome {
    /// Record from now on.
    Record(RecordingReason),
    /// Not recorded, for this reason (a `recording.skipped` event).
    Skip(RecordingSkipReason),
    /// Not recorded unless the API asks (on demand).
    Wait,
}

/// The policy's decision, unless the customer declined: then nothing is recorded whatever the
/// policy.
pub(super) fn outcome(decision: Decision, consent: Consent) -> Outcome {
    if consent == Consent::Declined {
        return Outcome::Skip(RecordingSkipReason::ConsentDeclined);
    }
    match (start_reason(decision), decision) {
        (Some(reason), _) => Outcome::Record(reason),
        (None, Decision::Never) => Outcome::Skip(RecordingSkipReason::Never),
        (None, Decision::SampledOut) => Outcome::Skip(RecordingSkipReason::SampledOut),
        (None, _) => Outcome::Wait,
    }
}

/// A call whose dialplan asks to record the IVR part: recording starts when the call is
/// answered (or at the `set` node, if later).
pub struct IvrStart {
    /// Hotline's call id.
    pub call_id: Uuid,
    /// The customer's leg (left channel).
    pub customer: RtpLegHandle,
    /// The customer's number.
    pub customer_number: Option<String>,
    /// The number the customer dialed.
    pub dialed_number: Option<String>,
    /// The `set` node that chose the policy.
    pub node: String,
    /// Its policy.
    pub policy: RecordingPolicy,
    /// The customer's answer at a consent node so far.
    pub consent: Consent,
    /// The call's ids for events (its kind is replaced).
    pub template: EventDraft,
}

impl Recordings {
    /// Starts an IVR-part recording if the node's policy records this call and the customer
    /// has not declined; else the decision waits for the agent (`bridged`).
    pub fn ivr_started(self: &Arc<Self>, start: IvrStart) {
        if start.consent == Consent::Declined || lock(&self.live).contains_key(&start.call_id) {
            return;
        }
        let decision = start.policy.decide(start.call_id, self.settings.seed);
        let Outcome::Record(reason) = outcome(decision, start.consent) else {
            tracing::debug!(?decision, node = %start.node, "IVR part not recorded");
            return;
        };
        let mut live = Live {
            call_id: start.call_id,
            customer: start.customer,
            agent_leg: None,
            queue: None,
            agent: None,
            customer_number: start.customer_number,
            dialed_number: start.dialed_number,
            template: start.template,
            consent: start.consent,
            // No queue yet: the top-level redaction covers the numbers until one joins.
            settings: QueueRecording {
                redact_numbers: self.settings.redact_numbers,
                ..QueueRecording::default()
            },
            state: RecordingState::Off,
            writer: None,
            taps: None,
            dropped_before: 0,
            codes: self.codes(),
        };
        tracing::info!(node = %start.node, "recording the IVR part");
        self.start_writer(&mut live, reason);
        lock(&self.live).insert(start.call_id, live);
    }

    /// The customer pressed the opt-out key: an IVR-part recording under way is discarded (its
    /// files deleted); the call is not recorded from here on.
    pub fn consent_declined(&self, call_id: Uuid) {
        let mut live = lock(&self.live);
        let Some(call) = live.get_mut(&call_id) else {
            return;
        };
        call.consent = Consent::Declined;
        if call.agent_leg.is_some() {
            // Already with an agent: the bridge decided, the consent came too late to matter.
            return;
        }
        if let Some(mut call) = live.remove(&call_id) {
            call.taps = None;
            let _ = call.customer.set_tap(None);
            if let Some(writer) = call.writer.take() {
                tracing::info!("consent declined: the IVR part's recording is discarded");
                let _ = writer.send(Control::Discard);
            }
        }
    }

    /// The call was transferred to an outside number `number` through `trunk` and bridged to
    /// its far end: an IVR-part recording under way goes on in the same file with the far end on
    /// the right channel (queue and agent stay empty). A call not being recorded stays so.
    pub fn transferred(&self, call_id: Uuid, far_leg: RtpLegHandle, number: &str, trunk: &str) {
        let mut live = lock(&self.live);
        let Some(call) = live.get_mut(&call_id) else {
            return;
        };
        if call.agent_leg.is_some() {
            // The right channel is taken (an agent's, or an earlier transfer's).
            return;
        }
        call.dropped_before += far_leg.stats().tap_dropped;
        if let (Some(taps), RecordingState::Recording | RecordingState::Paused) =
            (&call.taps, call.state)
        {
            let _ = far_leg.set_tap(Some((task::AGENT, taps.clone())));
            if let Some(writer) = &call.writer {
                tracing::info!(%trunk, "the transfer's far end joins the recording");
                let _ = writer.send(Control::Transferred {
                    number: number.to_owned(),
                    trunk: trunk.to_owned(),
                });
            }
        }
        call.agent_leg = Some(far_leg);
    }

    /// Journals why a bridged call is not recorded.
    pub(super) fn skipped(
        &self,
        call: &Live,
        reason: RecordingSkipReason,
        policy_node: Option<String>,
    ) {
        tracing::info!(?reason, "call not recorded");
        let mut draft = call.template.clone();
        if let Some(queue) = &call.queue {
            draft = draft.queue(queue.clone());
        }
        if let Some(agent) = &call.agent {
            draft = draft.agent(agent.clone());
        }
        draft.kind = EventKind::RecordingSkipped {
            reason,
            policy_node,
        };
        self.events.emit(draft);
    }
}

/// The agent of a call whose IVR part is being recorded answered: their leg goes on the right
/// channel of the same file.
pub(super) fn join(call: &mut Live, bridged: Bridged, settings: QueueRecording) {
    call.dropped_before += bridged.agent_leg.stats().tap_dropped;
    if let (Some(taps), RecordingState::Recording | RecordingState::Paused) =
        (&call.taps, call.state)
    {
        let _ = bridged.agent_leg.set_tap(Some((task::AGENT, taps.clone())));
        if let Some(writer) = &call.writer {
            let _ = writer.send(Control::Joined {
                queue: bridged.queue.clone(),
                agent: bridged.agent.clone(),
                redaction: settings.redact_numbers,
            });
        }
    }
    call.agent_leg = Some(bridged.agent_leg);
    call.queue = Some(bridged.queue);
    call.agent = Some(bridged.agent);
    call.settings = settings;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_declined_consent_records_nothing_whatever_the_policy() {
        for d in [
            Decision::Always,
            Decision::SampledIn,
            Decision::OnDemand,
            Decision::Never,
        ] {
            assert_eq!(
                outcome(d, Consent::Declined),
                Outcome::Skip(RecordingSkipReason::ConsentDeclined)
            );
        }
        assert_eq!(
            outcome(Decision::Always, Consent::Given),
            Outcome::Record(RecordingReason::Always)
        );
        assert_eq!(
            outcome(Decision::SampledOut, Consent::NotAsked),
            Outcome::Skip(RecordingSkipReason::SampledOut)
        );
        assert_eq!(
            outcome(Decision::Never, Consent::Given),
            Outcome::Skip(RecordingSkipReason::Never)
        );
        assert_eq!(outcome(Decision::OnDemand, Consent::Given), Outcome::Wait);
    }
}
