//! The agent legs: ringing the agents the router offers the call to (one, or several at once
//! under ring-all), taking the first answer, ending the offers the router revokes, bridging, and
//! the answering agent's in-dialog requests.
//!
//! A leg still ringing lives in `Call::ringing`; the leg that answered moves to `Call::agent`.
//! A revocation for agent X ends X's leg alone, so the router's revocations after the first
//! answer cancel the other agents' phones; a 200 that arrives from any of them after that gets
//! ACK + BYE.

use hotline_events::{EndReason, HungUpBy};
use hotline_media::{Direction, LegEvent, PlayMode};
use hotline_routing::OfferFailure;
use hotline_sip::message::{Method, Refresher, Request, Response};
use hotline_sip::transaction::TransactionKey;
use hotline_sip::transport::Target;

use super::agent_offer::{ack_for, send_cancel, uac_dialog, AgentLeg, ForkState, StaleFork};
use super::agent_session::{session_due, AgentSession, REFRESH};
use super::sdp::{self, OfferOutcome};
use super::{Call, Phase};
use crate::endpoint::{our_contact, EndpointCommand, LegRef, Owner};
use crate::router_task::RouteSignal;

impl Call {
    pub(super) async fn handle_route(&mut self, signal: RouteSignal) {
        match signal {
            RouteSignal::Offer { agent, .. } => self.offer_to(agent).await,
            RouteSignal::Revoke { agent } => {
                tracing::info!(%agent, "offer withdrawn");
                self.end_leg_of(&agent);
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
                self.end_leg_of(&agent);
            }
            RouteSignal::CallbackOffered
            | RouteSignal::CallbackConverted
            | RouteSignal::CallbackRefused => self.callback_signal(signal),
        }
    }

    /// Rings every contact of `agent`, beside the offers already ringing.
    async fn offer_to(&mut self, agent: String) {
        if !matches!(self.phase, Phase::Queued { .. }) {
            return;
        }
        // A leg of this agent left over from an earlier offer goes first.
        self.end_leg_of(&agent);
        self.offers += 1;
        let offer = self.offers;
        match self.invite_agent(agent.clone(), offer).await {
            Ok(leg) => self.ringing.push(leg),
            Err(cause) => self.shared.router.offer_failed(self.id, &agent, cause),
        }
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
        if self.agent.as_ref().is_some_and(|a| a.offer == offer) {
            if fork == REFRESH {
                self.refresh_response(&resp);
            } else {
                self.answered_leg_response(fork, leg, &resp);
            }
            return;
        }
        match self.ringing.iter().position(|a| a.offer == offer) {
            Some(i) => self.ringing_response(i, fork, leg, resp),
            None => self.stale_response(offer, fork, &resp),
        }
    }

    /// A response to a fork of the leg that answered: a retransmitted 200 (our ACK got lost),
    /// or the agent's other phones.
    fn answered_leg_response(&mut self, fork: u32, leg: LegRef, resp: &Response) {
        let Some(a) = self.agent.as_mut() else { return };
        let Some(f) = a.forks.get_mut(fork as usize) else {
            return;
        };
        match resp.status() {
            // A phone that had not rung when another one answered: CANCEL is allowed now.
            101..=199 if f.cancel_wanted => {
                f.cancel_wanted = false;
                send_cancel(&self.shared, &self.self_tx, &f.invite, f.target, leg);
                f.state = ForkState::Done;
                return;
            }
            200..=299 => {}
            300.. if f.state != ForkState::Answered => {
                f.state = ForkState::Done;
                return;
            }
            _ => return,
        }
        if a.answered.is_some_and(|(n, _)| n == fork) {
            if let Some(ack) = ack_for(resp, &f.invite, f.target) {
                self.shared.endpoint.send(EndpointCommand::Ack {
                    request: ack,
                    target: f.target,
                });
            }
            return;
        }
        // Another phone of the same agent answered too late: acknowledge and hang it up.
        f.state = ForkState::Done;
        let (invite, target) = (f.invite.clone(), f.target);
        self.ack_and_bye(&invite, target, resp, leg);
    }

    /// A response to a fork of the ringing leg `i`.
    fn ringing_response(&mut self, i: usize, fork: u32, leg: LegRef, resp: Response) {
        let id = self.id;
        let someone_answered = self.agent.is_some();
        let a = &mut self.ringing[i];
        let Some(f) = a.forks.get_mut(fork as usize) else {
            return;
        };
        match resp.status() {
            100 => {}
            101..=199 => {
                if f.state == ForkState::Calling {
                    f.state = ForkState::Proceeding;
                }
                if f.cancel_wanted {
                    send_cancel(&self.shared, &self.self_tx, &f.invite, f.target, leg);
                    f.state = ForkState::Done;
                } else if !a.ringing_reported {
                    a.ringing_reported = true;
                    self.shared.router.ringing(id, &a.agent);
                }
            }
            200..=299 => {
                if someone_answered || f.cancel_wanted {
                    // Another agent (or phone) answered first; the router revokes this offer.
                    f.state = ForkState::Done;
                    let (invite, target) = (f.invite.clone(), f.target);
                    self.ack_and_bye(&invite, target, &resp, leg);
                    return;
                }
                let a = self.ringing.remove(i);
                self.take_answer(a, fork, leg, &resp);
            }
            status => {
                f.state = ForkState::Done;
                f.failure = Some(status);
                self.ringing_fork_ended(i);
            }
        }
    }

    /// Leg `a`'s fork `fork` answered first: it becomes the call's agent leg and the router
    /// hears of the answer.
    fn take_answer(&mut self, mut a: AgentLeg, fork: u32, leg: LegRef, resp: &Response) {
        let Some(f) = a.forks.get_mut(fork as usize) else {
            return;
        };
        f.state = ForkState::Answered;
        let (invite, target) = (f.invite.clone(), f.target);
        let answer = String::from_utf8_lossy(resp.body()).into_owned();
        match sdp::accept_answer(&a.sdp, &answer) {
            Ok(neg) => {
                a.held = neg.is_held_by_remote();
                let _ = a.media.set_remote(neg);
            }
            Err(e) => {
                tracing::warn!("agent's SDP answer unusable: {e}");
                self.ack_and_bye(&invite, target, resp, leg);
                self.shared
                    .router
                    .offer_failed(self.id, &a.agent, OfferFailure::Unreachable);
                self.end_leg(a);
                return;
            }
        }
        let dialog = uac_dialog(&invite, resp, &a.local_tag);
        if dialog.is_some() {
            if let Some(ack) = ack_for(resp, &invite, target) {
                self.shared.endpoint.send(EndpointCommand::Ack {
                    request: ack,
                    target,
                });
            }
        }
        a.dialog = dialog;
        a.answered = Some((fork, target));
        a.session = resp.headers().session_expires().map(|se| {
            let we_refresh = se.refresher != Some(Refresher::Uas);
            AgentSession {
                interval: se.delta_seconds.max(90),
                we_refresh,
                due: session_due(se.delta_seconds.max(90), we_refresh),
            }
        });
        // Stop ringing the agent's other phones.
        let offer = a.offer;
        for (i, other) in a.forks.iter_mut().enumerate() {
            let i = u32::try_from(i).unwrap_or(u32::MAX);
            if i == fork {
                continue;
            }
            match other.state {
                ForkState::Proceeding => {
                    let leg = LegRef::Agent { offer, fork: i };
                    send_cancel(
                        &self.shared,
                        &self.self_tx,
                        &other.invite,
                        other.target,
                        leg,
                    );
                    other.state = ForkState::Done;
                }
                ForkState::Calling => other.cancel_wanted = true,
                ForkState::Answered | ForkState::Done => {}
            }
        }
        a.forget_ringing_events();
        tracing::info!(agent = %a.agent, "agent answered");
        self.shared.router.answered(self.id, &a.agent);
        self.agent = Some(a);
    }

    /// When every fork of ringing leg `i` failed, that agent's offer failed.
    fn ringing_fork_ended(&mut self, i: usize) {
        if !self.ringing[i].all_forks_failed() {
            return;
        }
        let mut a = self.ringing.remove(i);
        if let Some(cause) = a.failure() {
            tracing::info!(agent = %a.agent, ?cause, "offer failed");
            self.shared.router.offer_failed(self.id, &a.agent, cause);
        }
        a.close_media();
    }

    /// A response to a fork of an offer that ended: CANCEL it once it rings, ACK + BYE a 200.
    fn stale_response(&mut self, offer: u32, fork: u32, resp: &Response) {
        let Some(pos) = self
            .stale_forks
            .iter()
            .position(|s| s.offer == offer && s.fork == fork)
        else {
            return;
        };
        let leg = LegRef::Agent { offer, fork };
        match resp.status() {
            101..=199 if self.stale_forks[pos].cancel_wanted => {
                let s = &mut self.stale_forks[pos];
                s.cancel_wanted = false;
                send_cancel(&self.shared, &self.self_tx, &s.invite, s.target, leg);
            }
            200..=299 => {
                let s = self.stale_forks.remove(pos);
                self.ack_and_bye(&s.invite, s.target, resp, leg);
            }
            _ => {}
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
            // Routed to the trunk leg before it gets here.
            LegRef::Trunk { .. } => {}
            LegRef::Agent { offer, fork } => {
                if method != Method::Invite {
                    return;
                }
                if let Some(a) = self.agent.as_mut().filter(|a| a.offer == offer) {
                    if fork == REFRESH {
                        tracing::info!("agent session refresh got no answer: hanging up");
                        self.hang_up_all(EndReason::Error, HungUpBy::System);
                    } else if let Some(f) = a.forks.get_mut(fork as usize) {
                        if f.state != ForkState::Answered {
                            f.state = ForkState::Done;
                        }
                    }
                    return;
                }
                let Some(i) = self.ringing.iter().position(|a| a.offer == offer) else {
                    return;
                };
                if let Some(f) = self.ringing[i].forks.get_mut(fork as usize) {
                    f.state = ForkState::Done;
                    f.failure = Some(408);
                }
                self.ringing_fork_ended(i);
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
        self.recording_bridged(&queue, &agent);
        let held = a.held;
        // The other agents' phones stop with the router's revocations, which follow.
        self.phase = Phase::Bridged { agent, queue };
        if held || self.caller.held {
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
                self.recording_ended();
                if self.start_survey_after_agent() {
                    // The caller stays for the survey.
                } else if matches!(self.phase, Phase::Bridged { .. }) {
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
        if let LegEvent::Dtmf(digit) = ev {
            self.recording_agent_digit(digit);
        }
        if ev == LegEvent::Inactive && matches!(self.phase, Phase::Bridged { .. }) {
            let held = self.agent.as_ref().is_some_and(|a| a.held);
            if !held {
                tracing::info!("no RTP from the agent: hanging up");
                self.hang_up_all(EndReason::MediaTimeout, HungUpBy::System);
            }
        }
    }

    /// Ends every agent leg: the ringing ones and the one that answered.
    pub(super) fn end_agent_legs(&mut self) {
        if let Some(a) = self.agent.take() {
            self.end_leg(a);
        }
        for a in std::mem::take(&mut self.ringing) {
            self.end_leg(a);
        }
    }

    /// Ends the leg of `agent`, ringing or answered; the other agents' legs go on.
    fn end_leg_of(&mut self, agent: &str) {
        if self.agent.as_ref().is_some_and(|a| a.agent == agent) {
            if let Some(a) = self.agent.take() {
                self.end_leg(a);
            }
        }
        if let Some(i) = self.ringing.iter().position(|a| a.agent == agent) {
            let a = self.ringing.remove(i);
            self.end_leg(a);
        }
    }

    /// Ends one agent leg, whatever its state: CANCEL ringing forks, BYE an answered one.
    fn end_leg(&mut self, mut a: AgentLeg) {
        let offer = a.offer;
        if let (Some(d), Some((_, target))) = (a.dialog.as_mut(), a.answered) {
            let owner = Owner {
                tx: self.self_tx.clone(),
                leg: LegRef::Agent {
                    offer,
                    fork: u32::MAX,
                },
            };
            self.shared.endpoint.send_bye(d, target, owner);
        }
        for (i, f) in a.forks.iter_mut().enumerate() {
            let fork = u32::try_from(i).unwrap_or(u32::MAX);
            let leg = LegRef::Agent { offer, fork };
            let cancel_wanted = match f.state {
                ForkState::Proceeding => {
                    send_cancel(&self.shared, &self.self_tx, &f.invite, f.target, leg);
                    f.state = ForkState::Done;
                    false
                }
                // No provisional yet: CANCEL is not allowed until one comes.
                ForkState::Calling => true,
                ForkState::Done => false,
                ForkState::Answered => continue,
            };
            // Either may still answer late (ACK + BYE) or, not yet ringing, get its CANCEL.
            self.stale_forks.push(StaleFork {
                offer,
                fork,
                invite: f.invite.clone(),
                target: f.target,
                cancel_wanted,
            });
        }
        a.close_media();
    }

    /// ACK a 2xx we do not want, then BYE it (RFC 3261 15: a late answer must be ended).
    fn ack_and_bye(&self, invite: &Request, target: Target, resp: &Response, leg: LegRef) {
        super::agent_offer::ack_and_bye(&self.shared, &self.self_tx, invite, target, resp, leg);
    }
}
