//! The customer's side of a callback dial: through the trunk (allow-list, channel and
//! calls-per-second caps, digest answers to 401/407), with the `callback.dialing` event fsynced
//! before the INVITE, ringing for the dial's ring time; answered, it is bridged with the agent;
//! otherwise the classified SIP outcome is the callback's failure.

use std::sync::Arc;
use std::time::Instant;

use hotline_campaigns::{DialOutcome as CustomerOutcome, OutcomeKind};
use hotline_events::{EventDraft, EventKind};
use hotline_media::Direction;
use hotline_recording::Consent;
use hotline_routing::CallbackFailure;
use hotline_sip::message::Response;

use super::super::trunk_dial::{trunk_outcome, DialLeg, InviteReply, NewLeg};
use super::super::{new_tag, sdp};
use super::outcome::Failure;
use super::{Dial, Stage};
use crate::recording::Bridged;
use crate::trunk::{DialOutcome, Refusal, Trunk};

/// The customer's leg through the trunk.
pub(super) type CustomerSide = DialLeg;

impl Dial {
    /// The agent answered: dial the customer through `trunk`.
    pub(super) async fn dial_customer(&mut self, trunk: &Arc<Trunk>) {
        self.stage = Stage::Customer;
        self.deadline = None;
        let name = trunk.settings.name.clone();
        let number = self.due.number.clone();
        if !trunk.settings.allow.allows(&number) {
            tracing::warn!(trunk = %name, number = %self.redacted_number(), "callback refused: number not in the trunk's allow-list");
            trunk.record(DialOutcome::Refused);
            return self.fail(Failure::not_dialed(CallbackFailure::Unreachable));
        }
        let channel = match trunk.acquire(Instant::now()) {
            Ok(c) => c,
            Err(refusal) => {
                tracing::warn!(trunk = %name, ?refusal, "callback not dialed: the trunk's limits");
                trunk.record(DialOutcome::Refused);
                let _: &Refusal = &refusal;
                return self.fail(Failure::not_dialed(CallbackFailure::NotDialed));
            }
        };
        let target = match trunk.target().await {
            Ok(t) => t,
            Err(e) => {
                tracing::warn!(trunk = %name, "callback not dialed: {e}");
                trunk.record(DialOutcome::Failed);
                return self.fail(Failure::not_dialed(CallbackFailure::NotDialed));
            }
        };
        let Some((media, events)) = self.bind().await else {
            return self.fail(Failure::not_dialed(CallbackFailure::NotDialed));
        };
        if self.stage != Stage::Customer {
            // The agent hung up meanwhile.
            let _ = media.close();
            return;
        }
        let mut session = sdp::session_for(&self.shared, media.local_addr().port());
        let offer = session.offer(&sdp::capabilities(), Direction::SendRecv);
        let call_id = format!("{}-cb{}-t", self.due.call.simple(), self.due.attempt);
        let local_tag = new_tag();
        self.add_dialog(&call_id, &local_tag);
        let presented = self.caller_id().unwrap_or(&trunk.settings.from_number);
        let mut leg = DialLeg::new(NewLeg {
            trunk: trunk.clone(),
            channel,
            target,
            call_id,
            local_tag,
            media: (media, events),
            sdp: (session, offer),
            number: number.clone(),
            presented: presented.to_string(),
        });
        // On record before the phone can ring: a crash from here on leaves the attempt in the
        // journal, and a restart does not dial it again before its retry delay.
        let dialing = EventDraft::new(EventKind::CallbackDialing {
            attempt: self.due.attempt,
            trunk: name.clone(),
            caller_id: self.caller_id().map(str::to_string),
            number: self.redacted_number(),
        })
        .call(self.due.call)
        .agent(self.due.agent.as_str())
        .queue(self.due.queue.as_str());
        self.shared.events.emit(dialing);
        if let Err(e) = self.shared.events.flush().await {
            tracing::error!(
                "callback not dialed: its callback.dialing event could not be fsynced: {e}"
            );
            let _ = leg.media.close();
            return self.fail(Failure::not_dialed(CallbackFailure::NotDialed));
        }
        tracing::info!(trunk = %name, number = %self.redacted_number(), "callback: dialing the customer");
        self.deadline = Some(Instant::now() + self.customer_ring);
        let sent = leg.send_invite(&self.shared, &self.self_tx, None);
        self.customer = Some(leg);
        if !sent {
            self.customer_failed(CustomerOutcome::of(OutcomeKind::NetworkFailure));
        }
    }

    /// A response to the customer's INVITE (BYE and CANCEL answers need nothing).
    pub(super) fn customer_response(&mut self, resp: &Response) {
        let dialing = self.stage == Stage::Customer;
        let Some(leg) = self.customer.as_mut() else {
            return;
        };
        match leg.invite_response(resp, dialing, &self.shared, &self.self_tx) {
            InviteReply::Nothing => {}
            InviteReply::Failed(outcome) | InviteReply::Unusable(outcome) => {
                self.customer_failed(outcome)
            }
            // Answered after we gave up: hang up at once.
            InviteReply::Unwanted => leg.bye(&self.shared, &self.self_tx),
            InviteReply::Answered => self.customer_answered(resp.status()),
        }
    }

    /// The customer answered: bridged with the agent, the call is talking.
    fn customer_answered(&mut self, status: u16) {
        let Some(leg) = self.customer.as_mut() else {
            return;
        };
        if let Some(events) = leg.events.as_mut() {
            while events.try_recv().is_ok() {}
        }
        if let Some(a) = self.agent.as_ref() {
            let _ = a.media.bridge_to(&leg.media);
            // Recorded as the queue's policy says: the customer left, the agent right.
            self.shared.recordings.bridged(Bridged {
                call_id: self.due.call,
                queue: self.due.queue.clone(),
                agent: self.due.agent.clone(),
                customer: leg.media.clone(),
                agent_leg: a.media.clone(),
                customer_number: Some(self.due.number.clone()),
                dialed_number: None,
                template: EventDraft::new(EventKind::CallHeld).call(self.due.call),
                node_policy: None,
                consent: Consent::NotAsked,
            });
        }
        let ring_ms = u64::try_from(leg.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        leg.trunk.record(DialOutcome::Answered);
        tracing::info!(ring_ms, "the customer answered: bridged with the agent");
        self.stage = Stage::Talking;
        self.deadline = None;
        self.started = Instant::now();
        self.shared
            .router
            .callback_connected(self.due.call, &self.due.agent);
        self.report_answered(status);
    }

    /// The customer's leg came to `outcome` (not an answer).
    pub(super) fn customer_failed(&mut self, outcome: CustomerOutcome) {
        if self.stage != Stage::Customer {
            return;
        }
        if let Some(leg) = self.customer.as_ref() {
            leg.trunk.record(trunk_outcome(outcome.kind));
        }
        tracing::info!(
            kind = ?outcome.kind,
            status = ?outcome.sip_status,
            q850 = ?outcome.q850_cause,
            "the customer's leg failed"
        );
        self.fail(Failure::customer(outcome));
    }

    /// Ends the customer's leg: BYE if answered, CANCEL if ringing.
    pub(super) fn end_customer(&self, leg: &mut CustomerSide) {
        let ending = leg.end();
        leg.send_ending(ending, &self.shared, &self.self_tx);
    }
}
