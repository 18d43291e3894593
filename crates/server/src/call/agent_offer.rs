//! An offer to one agent: the INVITE forked to every registered contact of the agent, each fork's
//! state, and the SIP pieces an offer needs (CANCEL, ACK, the dialog a 2xx creates).
//!
//! A call may ring several agents at once (ring-all): each offer is its own [`AgentLeg`] with its
//! own offer number, so a response or a revocation reaches the forks of that agent alone.

use std::time::Instant;

use hotline_media::{Direction, LegEvent, RtpLegHandle, SdpSession};
use hotline_routing::OfferFailure;
use hotline_sip::dialog::{Dialog, DialogParams};
use hotline_sip::message::{Method, Request, Response, SipUri};
use hotline_sip::transport::{Target, TransportKind};
use tokio::sync::mpsc;

use super::agent_session::AgentSession;
use super::{new_tag, sdp, Call, CallInput};
use crate::endpoint::{
    in_dialog_request, lock, our_contact, our_via, EndpointCommand, LegRef, Owner, Shared,
};
use crate::location::BindingTransport;

/// Where one fork of an offer is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ForkState {
    /// INVITE sent, nothing back yet.
    Calling,
    /// A provisional response came: CANCEL is allowed.
    Proceeding,
    /// This fork answered.
    Answered,
    /// Final failure or cancelled.
    Done,
}

/// One INVITE to one contact of the agent.
pub(super) struct Fork {
    pub(super) invite: Request,
    pub(super) target: Target,
    pub(super) state: ForkState,
    /// Cancel as soon as a provisional response allows it.
    pub(super) cancel_wanted: bool,
    /// Final failure status, if any.
    pub(super) failure: Option<u16>,
}

/// A fork of an ended offer that might still answer (a late 200 gets ACK + BYE) or, when it had
/// sent nothing back yet, still ring (its first provisional response gets the CANCEL).
pub(super) struct StaleFork {
    pub(super) offer: u32,
    pub(super) fork: u32,
    pub(super) invite: Request,
    pub(super) target: Target,
    /// The offer ended before CANCEL was allowed: send it on the first provisional response.
    pub(super) cancel_wanted: bool,
}

/// One agent's side of the call: ringing while its offer lasts, then the answered leg.
pub struct AgentLeg {
    /// The agent id.
    pub agent: String,
    pub(super) offer: u32,
    pub(super) forks: Vec<Fork>,
    pub(super) media: RtpLegHandle,
    /// Media events of the agent's RTP leg.
    pub events: Option<mpsc::Receiver<LegEvent>>,
    pub(super) sdp: SdpSession,
    pub(super) dialog: Option<Dialog>,
    /// The fork that answered and where its dialog is reached.
    pub(super) answered: Option<(u32, Target)>,
    pub(super) ringing_reported: bool,
    pub(super) held: bool,
    pub(super) local_tag: String,
    pub(super) session: Option<AgentSession>,
    /// Our re-INVITE (session refresh) is waiting for its final response: CSeq.
    pub(super) reinvite_pending: Option<u32>,
}

impl AgentLeg {
    /// Closes the RTP leg.
    pub fn close_media(&mut self) {
        let _ = self.media.close();
    }

    /// When the session timer of this leg needs attention.
    pub fn session_timer(&self) -> Option<Instant> {
        self.session.map(|s| s.due)
    }

    /// Drops media events queued while the leg only rang (nothing flows before the answer, so an
    /// inactivity report from then says nothing about the call).
    pub(super) fn forget_ringing_events(&mut self) {
        if let Some(events) = self.events.as_mut() {
            while events.try_recv().is_ok() {}
        }
    }

    /// Why the offer failed once every fork ended without an answer: the most telling failure
    /// (a decline over busy over no answer over unreachable); `None` when every fork was
    /// cancelled (487).
    pub(super) fn failure(&self) -> Option<OfferFailure> {
        self.forks
            .iter()
            .filter_map(|f| f.failure)
            .filter(|s| *s != 487)
            .map(offer_failure)
            .min_by_key(|c| match c {
                OfferFailure::Rejected => 0,
                OfferFailure::Busy => 1,
                OfferFailure::NoAnswer => 2,
                OfferFailure::Unreachable => 3,
            })
    }

    /// Whether every fork ended without an answer.
    pub(super) fn all_forks_failed(&self) -> bool {
        self.answered.is_none() && self.forks.iter().all(|f| f.state == ForkState::Done)
    }
}

fn binding_target(b: &crate::location::Binding) -> Target {
    Target {
        addr: b.source,
        transport: match b.transport {
            BindingTransport::Udp => TransportKind::Udp,
            BindingTransport::Tcp => TransportKind::Tcp,
        },
        conn: b.connection,
    }
}

fn offer_failure(status: u16) -> OfferFailure {
    match status {
        486 | 600 => OfferFailure::Busy,
        603 => OfferFailure::Rejected,
        408 | 480 => OfferFailure::NoAnswer,
        _ => OfferFailure::Unreachable,
    }
}

impl Call {
    /// Invites every contact of `agent` for offer number `offer`: the new leg, or why there is
    /// none (no contact, no RTP port).
    pub(super) async fn invite_agent(
        &mut self,
        agent: String,
        offer: u32,
    ) -> Result<AgentLeg, OfferFailure> {
        let bindings = lock(&self.shared.locations).bindings(&agent).to_vec();
        if bindings.is_empty() {
            return Err(OfferFailure::Unreachable);
        }
        let Some((media, events)) = self.bind_leg().await else {
            return Err(OfferFailure::Unreachable);
        };
        let mut sdp_session = sdp::session_for(&self.shared, media.local_addr().port());
        let body = sdp_session.offer(&sdp::capabilities(), Direction::SendRecv);
        let local_tag = new_tag();
        let advertised = self.shared.endpoint.advertised;
        let caller = self.caller_number();
        let display = self
            .caller
            .invite
            .from()
            .and_then(|f| f.display_name.clone())
            .unwrap_or_else(|| caller.clone());
        let screen_pop = self.screen_pop_header();
        let mut forks = Vec::new();
        for (i, b) in bindings.iter().enumerate() {
            let Ok(uri) = SipUri::parse(&b.contact) else {
                continue;
            };
            let target = binding_target(b);
            let call_id = format!("{}-{offer}-{i}", self.id.simple());
            let mut invite = Request::builder(Method::Invite, uri)
                .header("Via", our_via(advertised, target.transport))
                .header("Max-Forwards", "70")
                .header(
                    "From",
                    format!(
                        "\"{}\" <sip:{}@{}>;tag={local_tag}",
                        display.replace('"', ""),
                        if caller.is_empty() {
                            "anonymous"
                        } else {
                            &caller
                        },
                        advertised
                    ),
                )
                .header("To", format!("<sip:{agent}@{advertised}>"))
                .header("Call-ID", call_id.clone())
                .header("CSeq", "1 INVITE")
                .header("Contact", our_contact(advertised, target.transport))
                .header("Allow", crate::endpoint::ALLOW)
                .header("Supported", crate::endpoint::SUPPORTED)
                .header(
                    "Session-Expires",
                    format!(
                        "{};refresher=uac",
                        self.shared.config.session_expires.max(90)
                    ),
                )
                .header("Min-SE", "90")
                .header("User-Agent", concat!("hotline/", env!("CARGO_PKG_VERSION")));
            if let Some(data) = &screen_pop {
                invite = invite.header("X-Hotline-Data", data.clone());
            }
            let invite = invite
                .body("application/sdp", body.clone().into_bytes())
                .build();
            self.shared.endpoint.send(EndpointCommand::AddDialog {
                call_id: call_id.clone(),
                local_tag: local_tag.clone(),
                owner: self.self_tx.clone(),
            });
            self.sip_call_ids.push(call_id);
            // The fork index is the position in `forks`, which skips unusable contacts.
            let fork = u32::try_from(forks.len()).unwrap_or(u32::MAX);
            self.shared.endpoint.send(EndpointCommand::Request {
                request: invite.clone(),
                target,
                owner: Owner {
                    tx: self.self_tx.clone(),
                    leg: LegRef::Agent { offer, fork },
                },
            });
            forks.push(Fork {
                invite,
                target,
                state: ForkState::Calling,
                cancel_wanted: false,
                failure: None,
            });
        }
        tracing::info!(%agent, contacts = forks.len(), "offering to agent");
        Ok(AgentLeg {
            agent,
            offer,
            forks,
            media,
            events: Some(events),
            sdp: sdp_session,
            dialog: None,
            answered: None,
            ringing_reported: false,
            held: false,
            local_tag,
            session: None,
            reinvite_pending: None,
        })
    }
}

/// The UAC dialog a 2xx to our INVITE creates.
pub(super) fn uac_dialog(invite: &Request, resp: &Response, local_tag: &str) -> Option<Dialog> {
    let local_tag = if local_tag.is_empty() {
        invite.from()?.tag()?.to_string()
    } else {
        local_tag.to_string()
    };
    let to = resp.to()?;
    let params = DialogParams {
        call_id: invite.call_id()?.to_string(),
        local_tag,
        remote_tag: to.tag().unwrap_or_default().to_string(),
        local_uri: invite.from()?.uri.to_string(),
        remote_uri: to.uri.to_string(),
        remote_target: resp
            .headers()
            .contacts()
            .first()
            .and_then(|c| c.address().map(|a| a.uri.to_string()))
            .unwrap_or_else(|| invite.uri().to_string()),
        record_route: resp
            .headers()
            .get_all("Record-Route")
            .map(str::to_string)
            .collect(),
        local_cseq: invite.cseq().map_or(1, |c| c.seq),
        remote_cseq: 0,
    };
    Dialog::new_uac(params, resp.status()).ok()
}

/// The ACK of a 2xx to `invite`.
pub(super) fn ack_for(resp: &Response, invite: &Request, target: Target) -> Option<Request> {
    let d = uac_dialog(invite, resp, "")?;
    ack_from_dialog(&d, invite, target, resp_advertised(invite)?)
}

/// Our advertised address, read back from the Via of the INVITE we sent.
fn resp_advertised(invite: &Request) -> Option<std::net::SocketAddr> {
    let via = invite.top_via()?;
    let ip = via.host.ip()?;
    Some(std::net::SocketAddr::new(ip, via.port.unwrap_or(5060)))
}

pub(super) fn ack_from_dialog(
    d: &Dialog,
    invite: &Request,
    target: Target,
    advertised: std::net::SocketAddr,
) -> Option<Request> {
    let cseq = invite.cseq()?.seq;
    let fields = d.ack_request(cseq);
    in_dialog_request(&fields, Method::Ack, advertised, &target)
}

/// ACK a 2xx to `invite` nobody wants, then BYE it (RFC 3261 15: a late answer must be ended).
pub(super) fn ack_and_bye(
    shared: &Shared,
    self_tx: &mpsc::UnboundedSender<CallInput>,
    invite: &Request,
    target: Target,
    resp: &Response,
    leg: LegRef,
) {
    let Some(mut d) = uac_dialog(invite, resp, "") else {
        return;
    };
    if let Some(ack) = ack_from_dialog(&d, invite, target, shared.endpoint.advertised) {
        shared.endpoint.send(EndpointCommand::Ack {
            request: ack,
            target,
        });
    }
    let owner = Owner {
        tx: self_tx.clone(),
        leg,
    };
    shared.endpoint.send_bye(&mut d, target, owner);
}

/// CANCEL for a ringing fork (RFC 3261 9.1: same Request-URI, Call-ID, From, To, CSeq number
/// and top Via as the INVITE).
pub(super) fn send_cancel(
    shared: &Shared,
    self_tx: &mpsc::UnboundedSender<CallInput>,
    invite: &Request,
    target: Target,
    leg: LegRef,
) {
    let mut b = Request::builder(Method::Cancel, invite.uri().clone());
    for name in ["Via", "From", "To", "Call-ID"] {
        if let Some(v) = invite.headers().get(name) {
            b = b.header(name, v.to_string());
        }
    }
    if let Some(c) = invite.cseq() {
        b = b.header("CSeq", format!("{} CANCEL", c.seq));
    }
    let cancel = b.header("Max-Forwards", "70").build();
    shared.endpoint.send(EndpointCommand::Request {
        request: cancel,
        target,
        owner: Owner {
            tx: self_tx.clone(),
            leg,
        },
    });
}
