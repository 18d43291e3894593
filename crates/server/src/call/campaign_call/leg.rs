//! The customer's leg of a campaign call through a trunk: allow-list, channel and
//! calls-per-second caps, the digest answer to a 401/407, ringing for the dial's ring time,
//! the ACK of the answer, CANCEL and BYE.

use std::sync::Arc;
use std::time::Instant;

use hotline_campaigns::{DialOutcome, OutcomeKind};
use hotline_media::{Direction, LegEvent, RtpLegHandle, SdpSession};
use hotline_sip::dialog::Dialog;
use hotline_sip::digest_client::ServerChallenge;
use hotline_sip::message::{Method, Request, Response, SipUri};
use hotline_sip::transaction::TransactionKey;
use hotline_sip::transport::Target;
use tokio::sync::mpsc;

use super::super::agent_offer::{ack_from_dialog, send_cancel, uac_dialog};
use super::super::{new_tag, sdp};
use super::outcome::final_response;
use super::{CampaignCall, Stage, MIN_RING};
use crate::endpoint::{our_contact, our_via, EndpointCommand, LegRef, Owner};
use crate::trunk::{Channel, DialOutcome as TrunkOutcome, Trunk};

/// The dial number of the customer's trunk leg (one per task).
const DIAL: u32 = 1;

/// Where the customer's leg is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LegState {
    /// INVITE sent, nothing back yet.
    Calling,
    /// A provisional response came: CANCEL is allowed.
    Proceeding,
    /// The customer answered.
    Answered,
    /// Failed, cancelled or hung up.
    Done,
}

/// The customer's leg through the trunk.
pub(super) struct TrunkLeg {
    pub(super) trunk: Arc<Trunk>,
    _channel: Channel,
    state: LegState,
    invite: Option<Request>,
    target: Target,
    pub(super) call_id: String,
    pub(super) local_tag: String,
    cseq: u32,
    authenticated: bool,
    cancel_wanted: bool,
    cancelled: bool,
    pub(super) media: RtpLegHandle,
    pub(super) events: Option<mpsc::Receiver<LegEvent>>,
    sdp: SdpSession,
    offer: String,
    dialog: Option<Dialog>,
}

impl TrunkLeg {
    /// The answered leg, for the inbound call task to take over.
    pub(super) fn into_answered(self) -> Option<super::handoff::AnsweredLeg> {
        if self.state != LegState::Answered {
            return None;
        }
        Some(super::handoff::AnsweredLeg {
            invite: self.invite?,
            target: self.target,
            local_tag: self.local_tag,
            dialog: self.dialog,
            media: self.media,
            events: self.events,
            sdp: self.sdp,
            channel: self._channel,
        })
    }

    /// Whether the customer's phone may still answer.
    pub(super) fn ringing(&self) -> bool {
        matches!(self.state, LegState::Calling | LegState::Proceeding)
    }

    pub(super) fn terminate_dialog(&mut self) {
        if let Some(d) = self.dialog.as_mut() {
            d.terminate();
        }
        self.state = LegState::Done;
    }
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
        let leg = TrunkLeg {
            trunk,
            _channel: channel,
            state: LegState::Calling,
            invite: None,
            target,
            call_id,
            local_tag,
            cseq: 1,
            authenticated: false,
            cancel_wanted: false,
            cancelled: false,
            media,
            events: Some(events),
            sdp: session,
            offer,
            dialog: None,
        };
        tracing::info!(trunk = %name, number = %self.redacted_number(), "dialing the customer");
        self.deadline = Some(Instant::now() + self.dial.ring_timeout.max(MIN_RING));
        self.send_invite(leg, None);
    }

    async fn bind(&self) -> Option<(RtpLegHandle, mpsc::Receiver<LegEvent>)> {
        let config = hotline_media::LegConfig {
            inactivity_timeout: self.shared.config.rtp_timeout,
            ..hotline_media::LegConfig::default()
        };
        let bound = hotline_media::RtpLeg::bind(
            self.shared.config.sip_listen.ip(),
            &self.shared.ports,
            config,
        )
        .await;
        self.shared
            .metrics
            .rtp_ports_in_use
            .set(i64::try_from(self.shared.ports.in_use()).unwrap_or(i64::MAX));
        match bound {
            Ok(leg) => Some(leg),
            Err(e) => {
                tracing::warn!("no RTP leg for the campaign call: {e}");
                None
            }
        }
    }

    fn send_invite(&mut self, mut leg: TrunkLeg, auth: Option<(&str, String)>) {
        let Some(invite) = self.invite(&leg, auth) else {
            self.leg = Some(leg);
            return self.not_answered(DialOutcome::of(OutcomeKind::NetworkFailure));
        };
        leg.invite = Some(invite.clone());
        self.shared.endpoint.send(EndpointCommand::Request {
            request: invite,
            target: leg.target,
            owner: Owner {
                tx: self.self_tx.clone(),
                leg: LegRef::Trunk { dial: DIAL },
            },
        });
        self.leg = Some(leg);
    }

    fn invite(&self, leg: &TrunkLeg, auth: Option<(&str, String)>) -> Option<Request> {
        let settings = &leg.trunk.settings;
        let advertised = self.shared.endpoint.advertised;
        let uri = SipUri::parse(&format!(
            "sip:{}@{}",
            self.dial.number,
            settings.gateway.uri_host()
        ))
        .ok()?;
        let presented = if self.dial.caller_id.is_empty() {
            settings.from_number.as_str()
        } else {
            self.dial.caller_id.as_str()
        };
        let identity = format!("<sip:{}@{}>", presented, advertised.ip());
        let mut b = Request::builder(Method::Invite, uri.clone())
            .header("Via", our_via(advertised, leg.target.transport))
            .header("Max-Forwards", "70")
            .header("From", format!("{identity};tag={}", leg.local_tag))
            .header("To", format!("<{uri}>"))
            .header("Call-ID", leg.call_id.clone())
            .header("CSeq", format!("{} INVITE", leg.cseq))
            .header("Contact", our_contact(advertised, leg.target.transport))
            .header("P-Asserted-Identity", identity)
            .header("Allow", crate::endpoint::ALLOW)
            .header("User-Agent", concat!("hotline/", env!("CARGO_PKG_VERSION")));
        if let Some((name, value)) = auth {
            b = b.header(name, value);
        }
        Some(
            b.body("application/sdp", leg.offer.clone().into_bytes())
                .build(),
        )
    }

    /// A response to the customer's INVITE (BYE and CANCEL answers need nothing).
    pub(super) fn response(&mut self, resp: &Response) {
        if resp.cseq().map(|c| c.method) != Some(Method::Invite) {
            return;
        }
        let Some(mut leg) = self.leg.take() else {
            return;
        };
        if resp.cseq().map(|c| c.seq) != Some(leg.cseq) {
            self.leg = Some(leg);
            return; // an answer to an INVITE re-sent with credentials since
        }
        match resp.status() {
            100 => self.leg = Some(leg),
            101..=199 => {
                if leg.state == LegState::Calling {
                    leg.state = LegState::Proceeding;
                }
                if leg.cancel_wanted {
                    leg.cancel_wanted = false;
                    self.cancel(&leg);
                }
                self.leg = Some(leg);
            }
            200..=299 => self.answer(leg, resp),
            401 | 407 if self.stage == Stage::Ringing && leg.state != LegState::Done => {
                match answer_challenge(&mut leg, resp) {
                    Some((name, value)) => {
                        leg.cseq += 1;
                        leg.authenticated = true;
                        leg.state = LegState::Calling;
                        self.send_invite(leg, Some((name, value)));
                    }
                    None => {
                        leg.state = LegState::Done;
                        let outcome = final_response(resp, leg.cancelled);
                        self.leg = Some(leg);
                        self.not_answered(outcome);
                    }
                }
            }
            _ => {
                let was_ringing = leg.ringing();
                leg.state = LegState::Done;
                let outcome = final_response(resp, leg.cancelled);
                self.leg = Some(leg);
                if was_ringing {
                    self.not_answered(outcome);
                }
            }
        }
    }

    /// A 2xx: ACK it; a wanted answer starts the media and the listening.
    fn answer(&mut self, mut leg: TrunkLeg, resp: &Response) {
        let dialog = leg
            .invite
            .as_ref()
            .and_then(|invite| uac_dialog(invite, resp, &leg.local_tag));
        if let (Some(d), Some(invite)) = (dialog.as_ref(), leg.invite.as_ref()) {
            if let Some(ack) =
                ack_from_dialog(d, invite, leg.target, self.shared.endpoint.advertised)
            {
                self.shared.endpoint.send(EndpointCommand::Ack {
                    request: ack,
                    target: leg.target,
                });
            }
        }
        if leg.state == LegState::Answered {
            self.leg = Some(leg); // our ACK was lost: the 200 came again
            return;
        }
        leg.dialog = dialog;
        let wanted = self.stage == Stage::Ringing && leg.state != LegState::Done;
        leg.state = LegState::Answered;
        if !wanted {
            tracing::info!("answered after we gave up: hanging up");
            self.bye(&mut leg);
            leg.state = LegState::Done;
            self.leg = Some(leg);
            return;
        }
        let answer = String::from_utf8_lossy(resp.body()).into_owned();
        match sdp::accept_answer(&leg.sdp, &answer) {
            Ok(neg) if leg.dialog.is_some() => {
                let _ = leg.media.set_remote(neg);
            }
            other => {
                if let Err(e) = other {
                    tracing::warn!("customer's SDP answer unusable: {e}");
                }
                self.bye(&mut leg);
                leg.state = LegState::Done;
                self.leg = Some(leg);
                let mut outcome = DialOutcome::of(OutcomeKind::NetworkFailure);
                outcome.sip_status = Some(resp.status());
                return self.not_answered(outcome);
            }
        }
        leg.trunk.record(TrunkOutcome::Answered);
        // Silence until we know who answered (the detector listens).
        let _ = leg.media.silence();
        self.leg = Some(leg);
        self.deadline = None;
        self.answered();
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
        match leg.state {
            LegState::Answered => {
                self.bye(leg);
                leg.state = LegState::Done;
            }
            LegState::Proceeding => {
                leg.cancelled = true;
                self.cancel(leg);
            }
            LegState::Calling => {
                leg.cancelled = true;
                leg.cancel_wanted = true;
            }
            LegState::Done => {}
        }
    }

    fn cancel(&self, leg: &TrunkLeg) {
        if let Some(invite) = leg.invite.as_ref() {
            send_cancel(
                &self.shared,
                &self.self_tx,
                invite,
                leg.target,
                LegRef::Trunk { dial: DIAL },
            );
        }
    }

    fn bye(&self, leg: &mut TrunkLeg) {
        let Some(d) = leg.dialog.as_mut() else { return };
        let owner = Owner {
            tx: self.self_tx.clone(),
            leg: LegRef::Trunk { dial: DIAL },
        };
        self.shared.endpoint.send_bye(d, leg.target, owner);
    }
}

/// The digest answer to a 401/407, once; `None` when it cannot be answered.
fn answer_challenge(leg: &mut TrunkLeg, resp: &Response) -> Option<(&'static str, String)> {
    let creds = leg.trunk.settings.credentials.clone()?;
    if leg.authenticated {
        tracing::warn!(trunk = %leg.trunk.settings.name, "trunk refused our credentials");
        return None;
    }
    let (challenge_header, answer_header) = if resp.status() == 407 {
        ("Proxy-Authenticate", "Proxy-Authorization")
    } else {
        ("WWW-Authenticate", "Authorization")
    };
    let challenge = resp
        .headers()
        .get_all(challenge_header)
        .find_map(|v| ServerChallenge::parse(v).ok())?;
    let uri = leg.invite.as_ref()?.uri().to_string();
    let cnonce = format!("{:016x}", rand::random::<u64>());
    let value = challenge.answer(&creds.username, &creds.password, "INVITE", &uri, &cnonce);
    Some((answer_header, value))
}
