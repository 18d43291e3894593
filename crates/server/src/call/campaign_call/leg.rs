//! The customer's leg of a campaign call through a trunk: allow-list, channel and
//! calls-per-second caps, the digest answer to a 401/407, ringing for the dial's ring time,
//! the ACK of the answer, CANCEL and BYE.

use std::time::Instant;

use hotline_campaigns::{DialOutcome, OutcomeKind};
use hotline_media::{Direction, LegEvent, RtpLegHandle};
use hotline_sip::message::{Request, Response};
use hotline_sip::transaction::TransactionKey;
use tokio::sync::mpsc;

use super::super::trunk_dial::{DialLeg, InviteReply, LegState, NewLeg};
use super::super::{new_tag, sdp};
use super::{CampaignCall, Stage, MIN_RING};
use crate::endpoint::{our_contact, EndpointCommand};
use crate::trunk::DialOutcome as TrunkOutcome;
use crate::trunk::Refusal;

/// The customer's leg through the trunk.
pub(super) type TrunkLeg = DialLeg;

/// The answered leg, for the inbound call task to take over.
pub(super) fn into_answered(leg: TrunkLeg) -> Option<super::handoff::AnsweredLeg> {
    if leg.state != LegState::Answered {
        return None;
    }
    Some(super::handoff::AnsweredLeg {
        invite: leg.invite?,
        target: leg.target,
        local_tag: leg.local_tag,
        dialog: leg.dialog,
        media: leg.media,
        events: leg.events,
        sdp: leg.sdp,
        channel: leg.channel,
    })
}

impl CampaignCall {
    /// Dials the customer; a dial that cannot start is reported `Final` at once.
    pub(super) async fn start(&mut self, call_id: String) {
        let not_dialed = DialOutcome::of(OutcomeKind::NetworkFailure);
        let Some(trunk) = self.shared.trunks.pick(self.dial.trunk.as_deref()) else {
            tracing::warn!(trunk = ?self.dial.trunk, "campaign call not dialed: no such trunk");
            return self.not_answered(not_dialed);
        };
        let name = trunk.settings.name.clone();
        if !trunk.settings.allow.allows(&self.dial.number) {
            tracing::warn!(trunk = %name, number = %self.redacted_number(), "campaign call refused: number not in the trunk's allow-list");
            trunk.record(TrunkOutcome::Refused);
            return self.not_answered(not_dialed);
        }
        let channel = match trunk.acquire(Instant::now()) {
            Ok(c) => c,
            Err(refusal) => {
                tracing::warn!(trunk = %name, ?refusal, "campaign call not dialed: the trunk's limits");
                trunk.record(TrunkOutcome::Refused);
                // Full or over its call rate: the record waits without losing an attempt.
                if matches!(refusal, Refusal::ChannelLimit | Refusal::RateLimit) {
                    return self.trunk_busy();
                }
                return self.not_answered(not_dialed);
            }
        };
        let target = match trunk.target().await {
            Ok(t) => t,
            Err(e) => {
                tracing::warn!(trunk = %name, "campaign call not dialed: {e}");
                trunk.record(TrunkOutcome::Failed);
                return self.not_answered(not_dialed);
            }
        };
        let Some((media, events)) = self.bind().await else {
            return self.not_answered(not_dialed);
        };
        let mut session = sdp::session_for(&self.shared, media.local_addr().port());
        let offer = session.offer(&sdp::capabilities(), Direction::SendRecv);
        let local_tag = new_tag();
        self.shared.endpoint.send(EndpointCommand::AddDialog {
            call_id: call_id.clone(),
            local_tag: local_tag.clone(),
            owner: self.self_tx.clone(),
        });
        let presented = if self.dial.caller_id.is_empty() {
            trunk.settings.from_number.clone()
        } else {
            self.dial.caller_id.clone()
        };
        let mut leg = DialLeg::new(NewLeg {
            trunk,
            channel,
            target,
            call_id,
            local_tag,
            media: (media, events),
            sdp: (session, offer),
            number: self.dial.number.clone(),
            presented,
        });
        tracing::info!(trunk = %name, number = %self.redacted_number(), "dialing the customer");
        self.deadline = Some(Instant::now() + self.dial.ring_timeout.max(MIN_RING));
        let sent = leg.send_invite(&self.shared, &self.self_tx, None);
        self.leg = Some(leg);
        if !sent {
            self.not_answered(not_dialed);
        }
    }

    /// Binds an RTP leg where we listen.
    pub(super) async fn bind(&self) -> Option<(RtpLegHandle, mpsc::Receiver<LegEvent>)> {
        super::super::trunk_dial::bind_rtp(&self.shared, "campaign call").await
    }

    /// A response to the customer's INVITE (BYE and CANCEL answers need nothing).
    pub(super) fn response(&mut self, resp: &Response) {
        let dialing = self.stage == Stage::Ringing;
        let Some(leg) = self.leg.as_mut() else {
            return;
        };
        match leg.invite_response(resp, dialing, &self.shared, &self.self_tx) {
            InviteReply::Nothing => {}
            InviteReply::Failed(outcome) => self.not_answered(outcome),
            InviteReply::Unwanted => {
                tracing::info!("answered after we gave up: hanging up");
                leg.bye(&self.shared, &self.self_tx);
                leg.state = LegState::Done;
            }
            InviteReply::Unusable(outcome) => {
                leg.bye(&self.shared, &self.self_tx);
                leg.state = LegState::Done;
                self.not_answered(outcome);
            }
            InviteReply::Answered => {
                leg.trunk.record(TrunkOutcome::Answered);
                // Silence until we know who answered (the detector listens).
                let _ = leg.media.silence();
                self.deadline = None;
                self.answered();
            }
        }
    }

    /// A re-INVITE (refresh or hold): answered with the leg's session as it is.
    pub(super) fn reinvite(&mut self, req: &Request, key: &TransactionKey) {
        let advertised = self.shared.endpoint.advertised;
        let Some(leg) = self.leg.as_mut() else {
            return;
        };
        let offer = String::from_utf8_lossy(req.body()).into_owned();
        let body = if offer.is_empty() {
            leg.sdp
                .offer(&sdp::capabilities(), hotline_media::Direction::SendRecv)
        } else {
            match sdp::answer(&mut leg.sdp, &offer, &sdp::capabilities()) {
                sdp::OfferOutcome::Answer { body, negotiated } => {
                    let _ = leg.media.set_remote(negotiated);
                    body
                }
                sdp::OfferOutcome::Refused(w) => {
                    let mut r = Response::for_request(req, 488, "Not Acceptable Here");
                    r.push_header("Warning", format!("305 hotline \"{w}\""));
                    return self.respond(key, r);
                }
            }
        };
        let mut ok = Response::for_request(req, 200, "OK");
        ok.push_header("Contact", our_contact(advertised, leg.target.transport));
        ok.set_body("application/sdp", body.into_bytes());
        self.respond(key, ok);
    }

    /// Ends the leg: BYE if answered, CANCEL if ringing (or once a provisional response came).
    pub(super) fn end_leg(&self, leg: &mut TrunkLeg) {
        let ending = leg.end();
        leg.send_ending(ending, &self.shared, &self.self_tx);
    }
}
