//! The outbound leg of a transfer through a SIP trunk: the INVITE to the gateway (From our caller
//! id, P-Asserted-Identity, our SDP offer), digest answers to 401/407, CANCEL, the 2xx ACK and the
//! dialog, and the in-dialog requests of the far end.
//!
//! A call has at most one dial in progress ([`TrunkSlot::active`]); a dial given up while it
//! still rang waits in [`TrunkSlot::ending`] for its CANCEL to take (a late 2xx gets ACK + BYE).

use std::sync::Arc;
use std::time::{Duration, Instant};

use hotline_media::{LegEvent, RtpLegHandle, SdpSession};
use hotline_sip::dialog::Dialog;
use hotline_sip::message::{Method, Request, Response, SipUri};
use hotline_sip::transport::Target;
use tokio::sync::mpsc;

use super::agent_offer::{ack_from_dialog, send_cancel, uac_dialog};
use super::trunk_dial::digest_answer;
use super::Call;
use crate::endpoint::{our_contact, our_via, EndpointCommand, LegRef, Owner};
use crate::trunk::{Channel, Trunk};

/// Where a trunk leg is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TrunkLegState {
    /// Locating the gateway and binding RTP.
    Preparing,
    /// INVITE sent, nothing back yet.
    Calling,
    /// A provisional response came: CANCEL is allowed.
    Proceeding,
    /// The far end answered; the caller is bridged to it.
    Answered,
    /// Given up or over.
    Done,
}

/// One dial through a trunk.
pub(super) struct TrunkLeg {
    /// Which dial of the call (responses name it).
    pub(super) dial: u32,
    pub(super) trunk: Arc<Trunk>,
    /// Held for the leg's life: dropping the leg frees the trunk's channel.
    pub(super) _channel: Channel,
    /// The number dialed, E.164.
    pub(super) number: String,
    pub(super) state: TrunkLegState,
    /// The INVITE sent last (the one a CANCEL or ACK refers to).
    pub(super) invite: Option<Request>,
    pub(super) target: Option<Target>,
    pub(super) call_id: String,
    pub(super) local_tag: String,
    pub(super) cseq: u32,
    /// Credentials were sent: a further challenge is a failure.
    pub(super) authenticated: bool,
    /// Cancel as soon as a provisional response allows it.
    pub(super) cancel_wanted: bool,
    pub(super) media: Option<RtpLegHandle>,
    pub(super) events: Option<mpsc::Receiver<LegEvent>>,
    pub(super) sdp: Option<SdpSession>,
    pub(super) offer: String,
    pub(super) dialog: Option<Dialog>,
    /// When the far end may ring no longer.
    pub(super) ring_deadline: Option<Instant>,
    pub(super) ring_timeout: Duration,
    pub(super) started: Instant,
}

impl TrunkLeg {
    pub(super) fn close_media(&mut self) {
        if let Some(m) = self.media.take() {
            let _ = m.close();
        }
        self.events = None;
    }
}

/// The call's trunk legs.
#[derive(Default)]
pub(super) struct TrunkSlot {
    /// The dial in progress, or the answered leg.
    pub(super) active: Option<TrunkLeg>,
    /// Dials given up that may still answer or need their CANCEL.
    pub(super) ending: Vec<TrunkLeg>,
    /// Dials made so far.
    pub(super) dials: u32,
    /// A dial was answered: the call ends as transferred.
    pub(super) answered: bool,
}

impl TrunkSlot {
    /// When the active dial's ring time runs out.
    pub(super) fn ring_deadline(&self) -> Option<Instant> {
        self.active.as_ref().and_then(|l| l.ring_deadline)
    }

    /// Media events of the answered leg.
    pub(super) fn events(&mut self) -> Option<&mut mpsc::Receiver<LegEvent>> {
        self.active.as_mut().and_then(|l| l.events.as_mut())
    }

    /// Whether `call_id` is one of the trunk legs' dialogs.
    pub(super) fn owns(&self, call_id: Option<&str>) -> bool {
        call_id.is_some_and(|c| self.active.as_ref().is_some_and(|l| l.call_id == c))
    }

    /// Closes every leg's media (the call is over).
    pub(super) fn close_all(&mut self) {
        for l in self.active.iter_mut().chain(self.ending.iter_mut()) {
            l.close_media();
        }
    }
}

/// `Retry-After: 30` (comments and parameters ignored).
pub(super) fn retry_after(resp: &Response) -> Option<Duration> {
    let v = resp.headers().get("Retry-After")?;
    let secs: u64 = v
        .trim()
        .split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()?;
    Some(Duration::from_secs(secs))
}

impl Call {
    /// The INVITE of `leg` with CSeq `leg.cseq` and a fresh branch; `auth` is the
    /// (header name, value) answering a challenge.
    pub(super) fn trunk_invite(
        &self,
        leg: &TrunkLeg,
        auth: Option<(&str, String)>,
    ) -> Option<Request> {
        let target = leg.target?;
        let settings = &leg.trunk.settings;
        let advertised = self.shared.endpoint.advertised;
        let uri = SipUri::parse(&format!(
            "sip:{}@{}",
            leg.number,
            settings.gateway.uri_host()
        ))
        .ok()?;
        let identity = format!("<sip:{}@{}>", settings.from_number, advertised.ip());
        let mut b = Request::builder(Method::Invite, uri.clone())
            .header("Via", our_via(advertised, target.transport))
            .header("Max-Forwards", "70")
            .header("From", format!("{identity};tag={}", leg.local_tag))
            .header("To", format!("<{uri}>"))
            .header("Call-ID", leg.call_id.clone())
            .header("CSeq", format!("{} INVITE", leg.cseq))
            .header("Contact", our_contact(advertised, target.transport))
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

    /// Sends `invite` for the active leg.
    pub(super) fn send_trunk_invite(&mut self, invite: Request) {
        let Some(leg) = self.trunk.active.as_mut() else {
            return;
        };
        let Some(target) = leg.target else { return };
        leg.invite = Some(invite.clone());
        self.shared.endpoint.send(EndpointCommand::Request {
            request: invite,
            target,
            owner: Owner {
                tx: self.self_tx.clone(),
                leg: LegRef::Trunk { dial: leg.dial },
            },
        });
    }

    /// A 401/407 to the active leg's INVITE: the same INVITE again (new CSeq and branch, same
    /// Call-ID and From tag) with credentials, once. False: it cannot be answered.
    pub(super) fn answer_challenge(&mut self, resp: &Response) -> bool {
        let Some(leg) = self.trunk.active.as_ref() else {
            return false;
        };
        let Some(creds) = leg.trunk.settings.credentials.clone() else {
            tracing::warn!(trunk = %leg.trunk.settings.name, "trunk asks for credentials; none configured");
            return false;
        };
        if leg.authenticated {
            tracing::warn!(trunk = %leg.trunk.settings.name, "trunk refused our credentials");
            return false;
        }
        let Some(uri) = leg.invite.as_ref().map(|i| i.uri().to_string()) else {
            return false;
        };
        let Some((answer_header, value)) = digest_answer(&creds, resp, &uri) else {
            tracing::warn!(trunk = %leg.trunk.settings.name, "trunk's challenge cannot be answered");
            return false;
        };
        let Some(leg) = self.trunk.active.as_mut() else {
            return false;
        };
        leg.cseq += 1;
        leg.authenticated = true;
        leg.state = TrunkLegState::Calling;
        let Some(leg) = self.trunk.active.as_ref() else {
            return false;
        };
        let Some(invite) = self.trunk_invite(leg, Some((answer_header, value))) else {
            return false;
        };
        tracing::info!(trunk = %leg.trunk.settings.name, status = resp.status(), "answering the trunk's challenge");
        self.send_trunk_invite(invite);
        true
    }

    /// ACK for a 2xx to `leg`'s INVITE; returns the dialog it creates.
    pub(super) fn ack_trunk(&self, leg: &TrunkLeg, resp: &Response) -> Option<Dialog> {
        let invite = leg.invite.as_ref()?;
        let target = leg.target?;
        let dialog = uac_dialog(invite, resp, &leg.local_tag)?;
        if let Some(ack) = ack_from_dialog(&dialog, invite, target, self.shared.endpoint.advertised)
        {
            self.shared.endpoint.send(EndpointCommand::Ack {
                request: ack,
                target,
            });
        }
        Some(dialog)
    }

    /// BYE on `leg`'s dialog.
    pub(super) fn bye_trunk(&self, leg: &mut TrunkLeg) {
        let (Some(d), Some(target)) = (leg.dialog.as_mut(), leg.target) else {
            return;
        };
        let owner = Owner {
            tx: self.self_tx.clone(),
            leg: LegRef::Trunk { dial: leg.dial },
        };
        self.shared.endpoint.send_bye(d, target, owner);
    }

    /// Stops a ringing leg: CANCEL now if a provisional response came, else on the first one.
    pub(super) fn cancel_trunk(&self, leg: &mut TrunkLeg) {
        match leg.state {
            TrunkLegState::Proceeding => {
                if let (Some(invite), Some(target)) = (leg.invite.as_ref(), leg.target) {
                    send_cancel(
                        &self.shared,
                        &self.self_tx,
                        invite,
                        target,
                        LegRef::Trunk { dial: leg.dial },
                    );
                }
            }
            TrunkLegState::Calling => leg.cancel_wanted = true,
            TrunkLegState::Preparing | TrunkLegState::Answered | TrunkLegState::Done => {}
        }
        leg.ring_deadline = None;
    }

    /// A response to a dial given up: CANCEL it once it rings, ACK + BYE a late 2xx, forget it
    /// once final.
    pub(super) fn ending_trunk_response(&mut self, dial: u32, resp: &Response) {
        let Some(i) = self.trunk.ending.iter().position(|l| l.dial == dial) else {
            return;
        };
        match resp.status() {
            101..=199 => {
                let leg = &mut self.trunk.ending[i];
                if leg.cancel_wanted {
                    leg.cancel_wanted = false;
                    leg.state = TrunkLegState::Proceeding;
                    let mut leg = self.trunk.ending.remove(i);
                    self.cancel_trunk(&mut leg);
                    self.trunk.ending.push(leg);
                }
            }
            200..=299 => {
                let mut leg = self.trunk.ending.remove(i);
                leg.dialog = self.ack_trunk(&leg, resp);
                self.bye_trunk(&mut leg);
                leg.close_media();
            }
            _ => {
                let mut leg = self.trunk.ending.remove(i);
                leg.close_media();
            }
        }
    }

    /// Requests in the answered trunk leg's dialog.
    pub(super) fn trunk_request(
        &mut self,
        req: Request,
        key: Option<hotline_sip::transaction::TransactionKey>,
    ) {
        let Some(key) = key else { return }; // the ACK of a 2xx we sent: nothing to do
        match req.method() {
            Method::Bye => {
                self.respond(&key, Response::for_request(&req, 200, "OK"));
                tracing::info!("the transfer's far end hung up");
                if let Some(d) = self.trunk.active.as_mut().and_then(|l| l.dialog.as_mut()) {
                    d.terminate();
                }
                self.hang_up_all(
                    hotline_events::EndReason::Transferred,
                    hotline_events::HungUpBy::Transferee,
                );
            }
            Method::Invite => {
                // A refresh or a hold from the network: answer with our session as it is.
                let Some(leg) = self.trunk.active.as_mut() else {
                    return;
                };
                let offer = String::from_utf8_lossy(req.body()).into_owned();
                let mut ok = Response::for_request(&req, 200, "OK");
                let Some(session) = leg.sdp.as_mut() else {
                    return;
                };
                let body = if offer.is_empty() {
                    session.offer(
                        &super::sdp::capabilities(),
                        hotline_media::Direction::SendRecv,
                    )
                } else {
                    match super::sdp::answer(session, &offer, &super::sdp::capabilities()) {
                        super::sdp::OfferOutcome::Answer { body, negotiated } => {
                            if let Some(m) = &leg.media {
                                let _ = m.set_remote(negotiated);
                            }
                            body
                        }
                        super::sdp::OfferOutcome::Refused(w) => {
                            let mut r = Response::for_request(&req, 488, "Not Acceptable Here");
                            r.push_header("Warning", format!("305 hotline \"{w}\""));
                            self.respond(&key, r);
                            return;
                        }
                    }
                };
                if let Some(t) = leg.target {
                    ok.push_header(
                        "Contact",
                        our_contact(self.shared.endpoint.advertised, t.transport),
                    );
                }
                ok.set_body("application/sdp", body.into_bytes());
                self.respond(&key, ok);
            }
            Method::Update | Method::Info | Method::Options => {
                self.respond(&key, Response::for_request(&req, 200, "OK"));
            }
            _ => {
                let mut r = Response::for_request(&req, 405, "Method Not Allowed");
                r.push_header("Allow", crate::endpoint::ALLOW);
                self.respond(&key, r);
            }
        }
    }

    /// Media of the answered leg stopped.
    pub(super) fn trunk_media_event(&mut self, ev: LegEvent) {
        let answered = self
            .trunk
            .active
            .as_ref()
            .is_some_and(|l| l.state == TrunkLegState::Answered);
        if ev == LegEvent::Inactive && answered {
            tracing::info!("no RTP from the transfer's far end: hanging up");
            self.hang_up_all(
                hotline_events::EndReason::MediaTimeout,
                hotline_events::HungUpBy::System,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(extra: &str) -> Response {
        let text = format!(
            "SIP/2.0 503 Service Unavailable\r\nVia: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKx\r\n\
             From: <sip:a@b>;tag=1\r\nTo: <sip:c@d>;tag=2\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\n\
             {extra}Content-Length: 0\r\n\r\n"
        );
        match hotline_sip::message::parse(text.as_bytes()).unwrap() {
            hotline_sip::message::Message::Response(r) => r,
            hotline_sip::message::Message::Request(_) => unreachable!(),
        }
    }

    #[test]
    fn retry_after_reads_seconds_and_ignores_comments() {
        assert_eq!(
            retry_after(&response("Retry-After: 30\r\n")),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            retry_after(&response("Retry-After: 120 (maintenance);duration=60\r\n")),
            Some(Duration::from_secs(120))
        );
        assert_eq!(retry_after(&response("")), None);
        assert_eq!(retry_after(&response("Retry-After: soon\r\n")), None);
    }
}
