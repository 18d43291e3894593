//! The agent leg: offering the call to every registered contact of the chosen agent, taking the
//! first answer, cancelling the rest, bridging, and the agent's in-dialog requests.

use std::time::Instant;

use hotline_events::{EndReason, HungUpBy};
use hotline_media::{Direction, LegEvent, PlayMode, RtpLegHandle, SdpSession};
use hotline_routing::OfferFailure;
use hotline_sip::dialog::{Dialog, DialogParams};
use hotline_sip::message::{Method, Refresher, Request, Response, SipUri};
use hotline_sip::transaction::TransactionKey;
use hotline_sip::transport::{Target, TransportKind};
use tokio::sync::mpsc;

use super::agent_session::{session_due, AgentSession, REFRESH};
use super::sdp::{self, OfferOutcome};
use super::{new_tag, Call, Phase};
use crate::endpoint::{
    in_dialog_request, lock, our_contact, our_via, EndpointCommand, LegRef, Owner,
};
use crate::location::BindingTransport;
use crate::router_task::RouteSignal;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ForkState {
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
pub struct Fork {
    invite: Request,
    target: Target,
    state: ForkState,
    /// Cancel as soon as a provisional response allows it.
    cancel_wanted: bool,
    /// Final failure status, if any.
    failure: Option<u16>,
}

/// A fork of an earlier offer that might still answer: a late 200 gets ACK + BYE.
pub struct StaleFork {
    offer: u32,
    fork: u32,
    invite: Request,
    target: Target,
}

/// The agent's side of the call.
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
    pub(super) async fn handle_route(&mut self, signal: RouteSignal) {
        match signal {
            RouteSignal::Offer { agent, .. } => self.offer_to(agent).await,
            RouteSignal::Revoke { agent } => {
                tracing::info!(%agent, "offer withdrawn");
                self.end_agent_leg();
            }
            RouteSignal::Connected { agent } => self.bridge(agent),
            RouteSignal::Left { reason } => {
                if matches!(self.phase, Phase::Queued { .. }) {
                    self.hang_up_all(reason, HungUpBy::System);
                    // The routing core already forgot this call: nothing to tell it.
                    self.routed = None;
                }
            }
            RouteSignal::AnswerRefused { agent } => {
                tracing::info!(%agent, "answer came after the offer was withdrawn");
                self.end_agent_leg();
            }
        }
    }

    /// Rings every contact of `agent`.
    async fn offer_to(&mut self, agent: String) {
        if !matches!(self.phase, Phase::Queued { .. }) {
            return;
        }
        self.end_agent_leg();
        self.offers += 1;
        let offer = self.offers;
        let bindings = lock(&self.shared.locations).bindings(&agent).to_vec();
        if bindings.is_empty() {
            self.shared
                .router
                .offer_failed(self.id, &agent, OfferFailure::Unreachable);
            return;
        }
        let Some((media, events)) = self.bind_leg().await else {
            self.shared
                .router
                .offer_failed(self.id, &agent, OfferFailure::Unreachable);
            return;
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
        let mut forks = Vec::new();
        for (i, b) in bindings.iter().enumerate() {
            let Ok(uri) = SipUri::parse(&b.contact) else {
                continue;
            };
            let target = binding_target(b);
            let call_id = format!("{}-{offer}-{i}", self.id.simple());
            let invite = Request::builder(Method::Invite, uri)
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
                .header("User-Agent", concat!("hotline/", env!("CARGO_PKG_VERSION")))
                .body("application/sdp", body.clone().into_bytes())
                .build();
            self.shared.endpoint.send(EndpointCommand::AddDialog {
                call_id: call_id.clone(),
                local_tag: local_tag.clone(),
                owner: self.self_tx.clone(),
            });
            self.sip_call_ids.push(call_id);
            self.shared.endpoint.send(EndpointCommand::Request {
                request: invite.clone(),
                target,
                owner: Owner {
                    tx: self.self_tx.clone(),
                    leg: LegRef::Agent {
                        offer,
                        fork: u32::try_from(i).unwrap_or(u32::MAX),
                    },
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
        self.agent = Some(AgentLeg {
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
        });
    }

    /// A response to one of the agent forks (or to a BYE/CANCEL we sent).
    pub(super) fn agent_response(&mut self, leg: LegRef, resp: Response) {
        let LegRef::Agent { offer, fork } = leg else {
            return; // responses to our BYE towards the caller need nothing
        };
        let method = resp
            .cseq()
            .map(|c| c.method)
            .unwrap_or(Method::Other(String::new()));
        if method != Method::Invite {
            return; // CANCEL/BYE/ACK answers
        }
        let status = resp.status();
        let current = self.agent.as_ref().is_some_and(|a| a.offer == offer);
        if current && fork == REFRESH {
            self.refresh_response(&resp);
            return;
        }
        if !current {
            if (200..300).contains(&status) {
                self.ack_and_bye_stale(offer, fork, &resp);
            }
            return;
        }
        let id = self.id;
        let Some(a) = self.agent.as_mut() else { return };
        let Some(f) = a.forks.get_mut(fork as usize) else {
            return;
        };
        match status {
            100 => {}
            101..=199 => {
                if f.state == ForkState::Calling {
                    f.state = ForkState::Proceeding;
                }
                if f.cancel_wanted {
                    send_cancel(&self.shared, &self.self_tx, f, leg);
                    f.state = ForkState::Done;
                } else if !a.ringing_reported {
                    a.ringing_reported = true;
                    self.shared.router.ringing(id, &a.agent);
                }
            }
            200..=299 => {
                if a.answered.is_some_and(|(n, _)| n == fork) {
                    // A retransmitted 200: the ACK got lost.
                    if let Some(ack) = ack_for(&resp, f) {
                        self.shared.endpoint.send(EndpointCommand::Ack {
                            request: ack,
                            target: f.target,
                        });
                    }
                    return;
                }
                if a.answered.is_some() || f.cancel_wanted {
                    // Another contact answered first: acknowledge and hang this one up.
                    f.state = ForkState::Done;
                    let (invite, target) = (f.invite.clone(), f.target);
                    self.ack_and_bye(&invite, target, &resp, leg);
                    return;
                }
                f.state = ForkState::Answered;
                let answer = String::from_utf8_lossy(resp.body()).into_owned();
                match sdp::accept_answer(&a.sdp, &answer) {
                    Ok(neg) => {
                        a.held = neg.is_held_by_remote();
                        let _ = a.media.set_remote(neg);
                    }
                    Err(e) => {
                        tracing::warn!("agent's SDP answer unusable: {e}");
                        let (invite, target) = (f.invite.clone(), f.target);
                        let agent = a.agent.clone();
                        self.ack_and_bye(&invite, target, &resp, leg);
                        self.shared
                            .router
                            .offer_failed(id, &agent, OfferFailure::Unreachable);
                        if let Some(mut a) = self.agent.take() {
                            a.close_media();
                        }
                        return;
                    }
                }
                let dialog = uac_dialog(&f.invite, &resp, &a.local_tag);
                if let (Some(d), Some(ack)) = (dialog.as_ref(), ack_for(&resp, f)) {
                    let _ = d;
                    self.shared.endpoint.send(EndpointCommand::Ack {
                        request: ack,
                        target: f.target,
                    });
                }
                a.dialog = dialog;
                a.answered = Some((fork, f.target));
                a.session = resp.headers().session_expires().map(|se| {
                    let we_refresh = se.refresher != Some(Refresher::Uas);
                    AgentSession {
                        interval: se.delta_seconds.max(90),
                        we_refresh,
                        due: session_due(se.delta_seconds.max(90), we_refresh),
                    }
                });
                // Stop ringing the agent's other phones.
                for (i, other) in a.forks.iter_mut().enumerate() {
                    if i as u32 == fork {
                        continue;
                    }
                    match other.state {
                        ForkState::Proceeding => {
                            send_cancel(
                                &self.shared,
                                &self.self_tx,
                                other,
                                LegRef::Agent {
                                    offer,
                                    fork: i as u32,
                                },
                            );
                            other.state = ForkState::Done;
                        }
                        ForkState::Calling => other.cancel_wanted = true,
                        _ => {}
                    }
                }
                tracing::info!(agent = %a.agent, "agent answered");
                self.shared.router.answered(id, &a.agent);
            }
            _ => {
                f.state = ForkState::Done;
                f.failure = Some(status);
                self.fork_failed();
            }
        }
    }

    /// When every fork of the current offer failed, the offer failed.
    fn fork_failed(&mut self) {
        let Some(a) = self.agent.as_ref() else { return };
        if a.answered.is_some() || a.forks.iter().any(|f| f.state != ForkState::Done) {
            return;
        }
        let worst = a
            .forks
            .iter()
            .filter_map(|f| f.failure)
            .filter(|s| *s != 487)
            .map(offer_failure)
            .min_by_key(|c| match c {
                OfferFailure::Rejected => 0,
                OfferFailure::Busy => 1,
                OfferFailure::NoAnswer => 2,
                OfferFailure::Unreachable => 3,
            });
        let agent = a.agent.clone();
        if let Some(cause) = worst {
            tracing::info!(%agent, ?cause, "offer failed");
            self.shared.router.offer_failed(self.id, &agent, cause);
        }
        if let Some(mut a) = self.agent.take() {
            a.close_media();
        }
    }

    /// A request of ours got no answer.
    pub(super) fn request_failed(&mut self, leg: LegRef, method: Method) {
        match leg {
            LegRef::Caller => {
                if method == Method::Bye {
                    tracing::debug!("caller never answered our BYE");
                }
            }
            LegRef::Agent { offer, fork } => {
                if method != Method::Invite {
                    return;
                }
                let Some(a) = self.agent.as_mut() else { return };
                if a.offer != offer {
                    return;
                }
                if fork == REFRESH {
                    tracing::info!("agent session refresh got no answer: hanging up");
                    self.hang_up_all(EndReason::Error, HungUpBy::System);
                    return;
                }
                if let Some(f) = a.forks.get_mut(fork as usize) {
                    if f.state != ForkState::Answered {
                        f.state = ForkState::Done;
                        f.failure = Some(408);
                    }
                }
                self.fork_failed();
            }
        }
    }

    /// The router recorded the answer: connect caller and agent.
    fn bridge(&mut self, agent: String) {
        let Phase::Queued { queue } = self.phase.clone() else {
            return;
        };
        let (Some(a), Some(caller)) = (self.agent.as_ref(), self.caller.media.as_ref()) else {
            return;
        };
        if a.agent != agent {
            return;
        }
        let _ = caller.bridge_to(&a.media);
        tracing::info!(%agent, "bridged");
        self.phase = Phase::Bridged { agent, queue };
        if a.held || self.caller.held {
            self.hold_changed(true);
        }
    }

    /// One side is on hold: the other hears music; on resume, bridge again.
    pub(super) fn hold_changed(&mut self, _held: bool) {
        let (Some(a), Some(caller)) = (self.agent.as_ref(), self.caller.media.as_ref()) else {
            return;
        };
        let moh = self.shared.prompts.music_on_hold();
        match (self.caller.held, a.held) {
            (false, false) => {
                let _ = caller.bridge_to(&a.media);
                self.emit(hotline_events::EventDraft::new(
                    hotline_events::EventKind::CallResumed,
                ));
            }
            (caller_held, agent_held) => {
                let _ = caller.unbridge();
                if caller_held && !agent_held {
                    let _ = a.media.play(moh, PlayMode::Loop);
                } else if agent_held && !caller_held {
                    let _ = caller.play(moh, PlayMode::Loop);
                }
                self.emit(hotline_events::EventDraft::new(
                    hotline_events::EventKind::CallHeld,
                ));
            }
        }
    }

    /// Requests from the agent's dialog.
    pub(super) fn agent_request(&mut self, req: Request, key: Option<TransactionKey>) {
        let method = req.method().clone();
        if method == Method::Ack {
            return;
        }
        let Some(key) = key else { return };
        let current = self.agent.as_ref().is_some_and(|a| {
            a.dialog
                .as_ref()
                .is_some_and(|d| Some(d.id().call_id.as_str()) == req.call_id())
        });
        if !current {
            self.respond(
                &key,
                Response::for_request(&req, 481, "Call/Transaction Does Not Exist"),
            );
            return;
        }
        match method {
            Method::Bye => {
                self.respond(&key, Response::for_request(&req, 200, "OK"));
                tracing::info!("agent hung up");
                if let Some(d) = self.agent.as_mut().and_then(|a| a.dialog.as_mut()) {
                    d.terminate();
                }
                if matches!(self.phase, Phase::Bridged { .. }) {
                    self.hang_up_all(EndReason::Completed, HungUpBy::Agent);
                } else if let Some(mut a) = self.agent.take() {
                    // Hung up before the router connected: the offer failed.
                    a.close_media();
                    self.shared
                        .router
                        .offer_failed(self.id, &a.agent, OfferFailure::Rejected);
                }
            }
            Method::Invite => {
                let offer = String::from_utf8_lossy(req.body()).into_owned();
                let Some(a) = self.agent.as_mut() else { return };
                if a.reinvite_pending.is_some() {
                    // Glare (RFC 3261 14.2): our own re-INVITE is in progress on this dialog.
                    let mut r = Response::for_request(&req, 491, "Request Pending");
                    r.push_header("Retry-After", "1");
                    self.respond(&key, r);
                    return;
                }
                if let Some(s) = a.session.as_mut() {
                    if !s.we_refresh {
                        s.due = session_due(s.interval, false);
                    }
                }
                if offer.is_empty() {
                    // An offerless re-INVITE (session refresh): offer the session as it is.
                    let body = a.sdp.offer(&sdp::capabilities(), Direction::SendRecv);
                    let mut ok = Response::for_request(&req, 200, "OK");
                    ok.set_body("application/sdp", body.into_bytes());
                    self.respond(&key, ok);
                    return;
                }
                let outcome = sdp::answer(&mut a.sdp, &offer, &sdp::capabilities());
                match outcome {
                    OfferOutcome::Answer { body, negotiated } => {
                        let held = negotiated.is_held_by_remote();
                        let _ = a.media.set_remote(negotiated);
                        let _ = a.media.set_hold(held);
                        let target = a.answered.map(|(_, t)| t).unwrap_or(self.caller.target);
                        let changed = a.held != held;
                        a.held = held;
                        let mut ok = Response::for_request(&req, 200, "OK");
                        ok.push_header(
                            "Contact",
                            our_contact(self.shared.endpoint.advertised, target.transport),
                        );
                        ok.set_body("application/sdp", body.into_bytes());
                        self.respond(&key, ok);
                        if changed && matches!(self.phase, Phase::Bridged { .. }) {
                            self.hold_changed(held);
                        }
                    }
                    OfferOutcome::Refused(w) => {
                        let mut r = Response::for_request(&req, 488, "Not Acceptable Here");
                        r.push_header("Warning", format!("305 hotline \"{w}\""));
                        self.respond(&key, r);
                    }
                }
            }
            Method::Update => {
                if let Some(s) = self.agent.as_mut().and_then(|a| a.session.as_mut()) {
                    if !s.we_refresh {
                        s.due = session_due(s.interval, false);
                    }
                }
                self.respond(&key, Response::for_request(&req, 200, "OK"));
            }
            Method::Info | Method::Options => {
                self.respond(&key, Response::for_request(&req, 200, "OK"));
            }
            _ => {
                let mut r = Response::for_request(&req, 405, "Method Not Allowed");
                r.push_header("Allow", crate::endpoint::ALLOW);
                self.respond(&key, r);
            }
        }
    }

    pub(super) fn agent_media_event(&mut self, ev: LegEvent) {
        if ev == LegEvent::Inactive && matches!(self.phase, Phase::Bridged { .. }) {
            let held = self.agent.as_ref().is_some_and(|a| a.held);
            if !held {
                tracing::info!("no RTP from the agent: hanging up");
                self.hang_up_all(EndReason::MediaTimeout, HungUpBy::System);
            }
        }
    }

    /// Ends the agent leg, whatever its state: CANCEL ringing forks, BYE an answered one.
    pub(super) fn end_agent_leg(&mut self) {
        let Some(mut a) = self.agent.take() else {
            return;
        };
        let offer = a.offer;
        if let (Some(d), Some((_, target))) = (a.dialog.as_mut(), a.answered) {
            if d.state() != hotline_sip::dialog::DialogState::Terminated {
                if let Ok(fields) = d.next_request("BYE") {
                    d.terminate();
                    if let Some(bye) = in_dialog_request(
                        &fields,
                        Method::Bye,
                        self.shared.endpoint.advertised,
                        &target,
                    ) {
                        self.shared.endpoint.send(EndpointCommand::Request {
                            request: bye,
                            target,
                            owner: Owner {
                                tx: self.self_tx.clone(),
                                leg: LegRef::Agent {
                                    offer,
                                    fork: u32::MAX,
                                },
                            },
                        });
                    }
                }
            }
        }
        for (i, f) in a.forks.iter_mut().enumerate() {
            let leg = LegRef::Agent {
                offer,
                fork: i as u32,
            };
            match f.state {
                ForkState::Proceeding => {
                    send_cancel(&self.shared, &self.self_tx, f, leg);
                    f.state = ForkState::Done;
                }
                ForkState::Calling => {
                    // No provisional yet: CANCEL is not allowed; a late 200 gets ACK + BYE.
                    self.stale_forks.push(StaleFork {
                        offer,
                        fork: i as u32,
                        invite: f.invite.clone(),
                        target: f.target,
                    });
                }
                _ => {}
            }
            if f.state == ForkState::Done {
                self.stale_forks.push(StaleFork {
                    offer,
                    fork: i as u32,
                    invite: f.invite.clone(),
                    target: f.target,
                });
            }
        }
        a.close_media();
    }

    fn ack_and_bye_stale(&mut self, offer: u32, fork: u32, resp: &Response) {
        let Some(pos) = self
            .stale_forks
            .iter()
            .position(|s| s.offer == offer && s.fork == fork)
        else {
            return;
        };
        let s = self.stale_forks.remove(pos);
        self.ack_and_bye(&s.invite, s.target, resp, LegRef::Agent { offer, fork });
    }

    /// ACK a 2xx we do not want, then BYE it (RFC 3261 15: a late answer must be ended).
    fn ack_and_bye(&self, invite: &Request, target: Target, resp: &Response, leg: LegRef) {
        let Some(mut d) = uac_dialog(invite, resp, "") else {
            return;
        };
        let local_tag = invite
            .from()
            .and_then(|f| f.tag().map(str::to_string))
            .unwrap_or_default();
        if let Some(ack) = ack_from_dialog(&d, invite, target, self.shared.endpoint.advertised) {
            self.shared.endpoint.send(EndpointCommand::Ack {
                request: ack,
                target,
            });
        }
        let _ = local_tag;
        if let Ok(fields) = d.next_request("BYE") {
            if let Some(bye) = in_dialog_request(
                &fields,
                Method::Bye,
                self.shared.endpoint.advertised,
                &target,
            ) {
                self.shared.endpoint.send(EndpointCommand::Request {
                    request: bye,
                    target,
                    owner: Owner {
                        tx: self.self_tx.clone(),
                        leg,
                    },
                });
            }
        }
    }
}

/// The UAC dialog a 2xx to our INVITE creates.
fn uac_dialog(invite: &Request, resp: &Response, local_tag: &str) -> Option<Dialog> {
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

fn ack_for(resp: &Response, f: &Fork) -> Option<Request> {
    let d = uac_dialog(&f.invite, resp, "")?;
    ack_from_dialog(&d, &f.invite, f.target, resp_advertised(&f.invite)?)
}

/// Our advertised address, read back from the Via of the INVITE we sent.
fn resp_advertised(invite: &Request) -> Option<std::net::SocketAddr> {
    let via = invite.top_via()?;
    let ip = via.host.ip()?;
    Some(std::net::SocketAddr::new(ip, via.port.unwrap_or(5060)))
}

fn ack_from_dialog(
    d: &Dialog,
    invite: &Request,
    target: Target,
    advertised: std::net::SocketAddr,
) -> Option<Request> {
    let cseq = invite.cseq()?.seq;
    let fields = d.ack_request(cseq);
    in_dialog_request(&fields, Method::Ack, advertised, &target)
}

/// CANCEL for a ringing fork (RFC 3261 9.1: same Request-URI, Call-ID, From, To, CSeq number
/// and top Via as the INVITE).
fn send_cancel(
    shared: &crate::endpoint::Shared,
    self_tx: &mpsc::UnboundedSender<super::CallInput>,
    f: &Fork,
    leg: LegRef,
) {
    let inv = &f.invite;
    let mut b = Request::builder(Method::Cancel, inv.uri().clone());
    for name in ["Via", "From", "To", "Call-ID"] {
        if let Some(v) = inv.headers().get(name) {
            b = b.header(name, v.to_string());
        }
    }
    if let Some(c) = inv.cseq() {
        b = b.header("CSeq", format!("{} CANCEL", c.seq));
    }
    let cancel = b.header("Max-Forwards", "70").build();
    shared.endpoint.send(EndpointCommand::Request {
        request: cancel,
        target: f.target,
        owner: Owner {
            tx: self_tx.clone(),
            leg,
        },
    });
}
