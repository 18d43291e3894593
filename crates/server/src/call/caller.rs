//! The caller's leg: answering, the IVR, queueing with music, in-dialog requests, hanging up.

use std::time::Instant;

use hotline_dialplan::IvrInput;
use hotline_events::{EndReason, EventDraft, EventKind, HungUpBy};
use hotline_media::{Direction, LegEvent};
use hotline_sip::dialog::{Dialog, DialogParams};
use hotline_sip::message::{Method, Request, Response};
use hotline_sip::transaction::TransactionKey;
use hotline_sip::transport::Target;

use super::sdp::{self, OfferOutcome};
use super::{secs, Call, Phase};
use crate::endpoint::{in_dialog_request, our_contact, EndpointCommand, LegRef, Owner};

/// Smallest session interval we accept (RFC 4028 Min-SE default).
const MIN_SE: u32 = 90;

impl Call {
    /// Prepares the caller leg and runs the IVR until it waits. False: the call is already over.
    pub(super) async fn start(&mut self) -> bool {
        if self.campaign_number().is_some() {
            return self.start_campaign();
        }
        let from = self.caller_number();
        let to = self
            .caller
            .invite
            .uri()
            .user_unescaped()
            .unwrap_or_default();
        tracing::info!(caller = %self.redacted_caller(), number = %to, "call arrived");
        self.emit(EventDraft::new(EventKind::CallArrived { from, to }));

        let Some((media, events)) = self.bind_leg().await else {
            self.reject(503, "Service Unavailable", EndReason::Error);
            return false;
        };
        self.caller.sdp = sdp::session_for(&self.shared, media.local_addr().port());
        self.caller.media = Some(media);
        self.caller.events = Some(events);

        let body = self.caller.invite.body().to_vec();
        if !body.is_empty() {
            match sdp::content_is_sdp(&self.caller.invite) {
                true => {
                    self.caller.remote_offer = Some(String::from_utf8_lossy(&body).into_owned())
                }
                false => {
                    let mut r =
                        Response::for_request(&self.caller.invite, 415, "Unsupported Media Type");
                    r.push_header("Accept", "application/sdp");
                    self.reject_with(r, EndReason::Error);
                    return false;
                }
            }
        }
        // Check the offer now, so a caller we cannot talk to gets 488 before any prompt.
        if let Some(offer) = &self.caller.remote_offer {
            if let Err(warning) = sdp::check_offer(offer) {
                let mut r = Response::for_request(&self.caller.invite, 488, "Not Acceptable Here");
                r.push_header("Warning", format!("305 hotline \"{warning}\""));
                self.reject_with(r, EndReason::Error);
                return false;
            }
        }
        if let Some(se) = self.caller.invite.headers().session_expires() {
            if se.delta_seconds < MIN_SE {
                let mut r =
                    Response::for_request(&self.caller.invite, 422, "Session Interval Too Small");
                r.push_header("Min-SE", MIN_SE.to_string());
                self.reject_with(r, EndReason::Error);
                return false;
            }
        }
        self.drive_ivr();
        self.phase != Phase::Ended
    }

    /// Puts the caller in `queue` with the dialplan node's `options` (skills, priority, max wait);
    /// the queue's announcements speak `language` (the call's, `None`: the default).
    pub(super) fn enqueue(
        &mut self,
        queue: String,
        options: hotline_dialplan::QueueOptions,
        language: Option<String>,
    ) {
        if !self.caller.answered {
            self.answer();
        }
        tracing::info!(%queue, "queued");
        let country = self
            .ivr
            .as_ref()
            .map(|ivr| ivr.plan().country())
            .unwrap_or_default();
        self.callback = super::callback_offer::CallbackOffer::new(language.clone(), country);
        self.start_queue_media(&queue, language);
        self.phase = Phase::Queued {
            queue: queue.clone(),
        };
        let router = &self.shared.router;
        if self.campaign.is_some() {
            router.enqueue_outbound(self.id, &queue, options, self.route_tx.clone());
        } else {
            router.enqueue(self.id, &queue, options, self.route_tx.clone());
        }
    }

    /// Sends 200 OK to the INVITE (answer or, for a late offer, our offer).
    pub(super) fn answer(&mut self) {
        if self.caller.answered {
            return;
        }
        let caps = sdp::capabilities();
        let body = match self.caller.remote_offer.clone() {
            Some(offer) => match sdp::answer(&mut self.caller.sdp, &offer, &caps) {
                OfferOutcome::Answer { body, negotiated } => {
                    self.caller.held = negotiated.is_held_by_remote();
                    if let Some(m) = &self.caller.media {
                        let _ = m.set_remote(negotiated);
                    }
                    body
                }
                OfferOutcome::Refused(warning) => {
                    let mut r =
                        Response::for_request(&self.caller.invite, 488, "Not Acceptable Here");
                    r.push_header("Warning", format!("305 hotline \"{warning}\""));
                    self.reject_with(r, EndReason::Error);
                    return;
                }
            },
            None => self.caller.sdp.offer(&caps, Direction::SendRecv),
        };
        let invite = &self.caller.invite;
        let mut ok = Response::for_request(invite, 200, "OK");
        ok.set_to_tag(&self.caller.local_tag);
        ok.push_header(
            "Contact",
            our_contact(
                self.shared.endpoint.advertised,
                self.caller.target.transport,
            ),
        );
        ok.push_header("Allow", crate::endpoint::ALLOW);
        ok.push_header("Supported", crate::endpoint::SUPPORTED);
        if let Some(interval) = self.session_interval() {
            ok.push_header("Session-Expires", format!("{interval};refresher=uac"));
            ok.push_header("Require", "timer");
            self.caller.session_interval = Some(interval);
            self.caller.session_deadline = Some(Instant::now() + secs(interval));
        }
        ok.set_body("application/sdp", body.into_bytes());
        self.respond(&self.caller.key, ok);

        let params = DialogParams {
            call_id: invite.call_id().unwrap_or_default().to_string(),
            local_tag: self.caller.local_tag.clone(),
            remote_tag: invite
                .from()
                .and_then(|f| f.tag().map(str::to_string))
                .unwrap_or_default(),
            local_uri: invite.to().map(|t| t.uri.to_string()).unwrap_or_default(),
            remote_uri: invite.from().map(|f| f.uri.to_string()).unwrap_or_default(),
            remote_target: invite
                .headers()
                .contacts()
                .first()
                .and_then(|c| c.address().map(|a| a.uri.to_string()))
                .or_else(|| invite.from().map(|f| f.uri.to_string()))
                .unwrap_or_default(),
            record_route: invite
                .headers()
                .get_all("Record-Route")
                .map(str::to_string)
                .collect(),
            local_cseq: 0,
            remote_cseq: invite.cseq().map_or(0, |c| c.seq),
        };
        self.caller.dialog = Dialog::new_uas(params, 200).ok();
        self.caller.answered = true;
        self.caller.answered_final = true;
        self.emit(EventDraft::new(EventKind::CallAnsweredByIvr));
    }

    /// The session interval to impose on the caller (RFC 4028), if the caller supports timers.
    fn session_interval(&self) -> Option<u32> {
        let h = self.caller.invite.headers();
        let supported = h
            .supported()
            .iter()
            .any(|s| s.eq_ignore_ascii_case("timer"));
        let ours = self.shared.config.session_expires;
        match h.session_expires() {
            Some(se) => Some(se.delta_seconds.max(MIN_SE)),
            None if supported && ours > 0 => Some(ours),
            None => None,
        }
    }

    /// A final error response to the INVITE; the call ends.
    pub(super) fn reject(&mut self, status: u16, reason: &str, end: EndReason) {
        let r = Response::for_request(&self.caller.invite, status, reason);
        self.reject_with(r, end);
    }

    pub(super) fn reject_with(&mut self, mut r: Response, end: EndReason) {
        if !self.caller.answered_final {
            r.set_to_tag(&self.caller.local_tag);
            self.respond(&self.caller.key, r);
            self.caller.answered_final = true;
        }
        self.end.get_or_insert((end, HungUpBy::System));
        self.phase = Phase::Ended;
    }

    pub(super) fn caller_media_event(&mut self, ev: LegEvent) {
        match ev {
            LegEvent::Dtmf(d) => {
                if !self.survey_input(hotline_dialplan::SurveyInput::Digit(d)) {
                    self.caller_digit(d);
                }
            }
            LegEvent::PlaybackFinished => {
                if self.campaign_playback_finished() {
                    return;
                }
                if self.survey_input(hotline_dialplan::SurveyInput::PlaybackFinished) {
                    return;
                }
                if self.callback_playback_finished() || self.announce_playback_finished() {
                    return;
                }
                if let Some(ivr) = self.ivr.as_mut() {
                    ivr.handle(Instant::now(), IvrInput::PlaybackFinished);
                    self.drive_ivr();
                }
            }
            LegEvent::Inactive => {
                if !self.caller.held {
                    tracing::info!("no RTP from the caller: hanging up");
                    self.hang_up_all(EndReason::MediaTimeout, HungUpBy::System);
                }
            }
            LegEvent::FirstPacket => {}
        }
    }

    fn caller_digit(&mut self, digit: char) {
        tracing::debug!(%digit, "DTMF from caller");
        if self.callback_digit(digit) {
            return;
        }
        if let Some(ivr) = self.ivr.as_mut() {
            ivr.handle(Instant::now(), IvrInput::Digit(digit));
            self.drive_ivr();
        }
    }

    /// In-dialog requests from the caller.
    pub(super) async fn caller_request(
        &mut self,
        req: Request,
        key: Option<TransactionKey>,
        source: Target,
    ) {
        let method = req.method().clone();
        if method == Method::Ack {
            if self.caller.remote_offer.is_none() && !req.body().is_empty() {
                // Late offer: the answer to our offer in the 200 comes in the ACK.
                let text = String::from_utf8_lossy(req.body()).into_owned();
                match sdp::accept_answer(&self.caller.sdp, &text) {
                    Ok(neg) => {
                        self.caller.remote_offer = Some(text);
                        if let Some(m) = &self.caller.media {
                            let _ = m.set_remote(neg);
                        }
                    }
                    Err(e) => {
                        tracing::info!("unusable SDP answer in ACK: {e}");
                        self.hang_up_all(EndReason::Error, HungUpBy::System);
                    }
                }
            }
            if let Some(d) = self.caller.dialog.as_mut() {
                d.confirm();
            }
            return;
        }
        let Some(key) = key else { return };
        if let Some(d) = self.caller.dialog.as_mut() {
            if let Some(cseq) = req.cseq() {
                if d.check_remote_cseq(cseq.seq).is_err() {
                    self.respond(&key, Response::for_request(&req, 500, "CSeq Out Of Order"));
                    return;
                }
            }
        }
        let _ = source;
        match method {
            Method::Bye => {
                self.respond(&key, Response::for_request(&req, 200, "OK"));
                tracing::info!("caller hung up");
                let reason = match self.phase {
                    Phase::Ivr => EndReason::CallerLeftIvr,
                    Phase::Queued { .. } if self.callback_converted() => {
                        EndReason::CallbackRequested
                    }
                    Phase::Queued { .. } => EndReason::Abandoned,
                    _ => EndReason::Completed,
                };
                self.hang_up_all(reason, hotline_events::HungUpBy::Caller);
            }
            Method::Invite => self.caller_reinvite(req, key),
            Method::Update => {
                self.refresh_session(&req);
                let mut ok = Response::for_request(&req, 200, "OK");
                if let Some(i) = self.caller.session_interval {
                    ok.push_header("Session-Expires", format!("{i};refresher=uac"));
                    ok.push_header("Require", "timer");
                }
                self.respond(&key, ok);
            }
            Method::Info => {
                let digit = sdp::info_digit(&req);
                self.respond(&key, Response::for_request(&req, 200, "OK"));
                if let Some(d) = digit {
                    self.caller_digit(d);
                }
            }
            Method::Options => {
                let mut ok = Response::for_request(&req, 200, "OK");
                ok.push_header("Allow", crate::endpoint::ALLOW);
                self.respond(&key, ok);
            }
            _ => {
                let mut r = Response::for_request(&req, 405, "Method Not Allowed");
                r.push_header("Allow", crate::endpoint::ALLOW);
                self.respond(&key, r);
            }
        }
    }

    fn refresh_session(&mut self, req: &Request) {
        if let Some(se) = req.headers().session_expires() {
            self.caller.session_interval = Some(se.delta_seconds.max(MIN_SE));
        }
        if let Some(i) = self.caller.session_interval {
            self.caller.session_deadline = Some(Instant::now() + secs(i));
        }
    }

    /// A re-INVITE from the caller: hold, resume or session refresh.
    fn caller_reinvite(&mut self, req: Request, key: TransactionKey) {
        self.refresh_session(&req);
        let caps = sdp::capabilities();
        let body = if req.body().is_empty() {
            // An offerless re-INVITE: offer the current session again.
            self.caller.sdp.offer(&caps, Direction::SendRecv)
        } else {
            let offer = String::from_utf8_lossy(req.body()).into_owned();
            match sdp::answer(&mut self.caller.sdp, &offer, &caps) {
                OfferOutcome::Answer { body, negotiated } => {
                    let held = negotiated.is_held_by_remote();
                    if let Some(m) = &self.caller.media {
                        let _ = m.set_remote(negotiated);
                    }
                    self.set_caller_hold(held);
                    body
                }
                OfferOutcome::Refused(warning) => {
                    let mut r = Response::for_request(&req, 488, "Not Acceptable Here");
                    r.push_header("Warning", format!("305 hotline \"{warning}\""));
                    self.respond(&key, r);
                    return;
                }
            }
        };
        let mut ok = Response::for_request(&req, 200, "OK");
        ok.push_header(
            "Contact",
            our_contact(
                self.shared.endpoint.advertised,
                self.caller.target.transport,
            ),
        );
        if let Some(i) = self.caller.session_interval {
            ok.push_header("Session-Expires", format!("{i};refresher=uac"));
            ok.push_header("Require", "timer");
        }
        ok.set_body("application/sdp", body.into_bytes());
        self.respond(&key, ok);
    }

    /// The caller put the call on hold or resumed: the agent hears music meanwhile.
    fn set_caller_hold(&mut self, held: bool) {
        if held == self.caller.held {
            return;
        }
        self.caller.held = held;
        if let Some(m) = &self.caller.media {
            let _ = m.set_hold(held);
        }
        if let Phase::Bridged { .. } = self.phase {
            self.hold_changed(held);
        }
    }

    /// CANCEL of the initial INVITE.
    pub(super) fn caller_cancelled(&mut self, invite: TransactionKey) {
        if self.caller.answered_final {
            return;
        }
        let r = Response::for_request(&self.caller.invite, 487, "Request Terminated");
        self.caller.answered_final = true;
        let mut r = r;
        r.set_to_tag(&self.caller.local_tag);
        self.respond(&invite, r);
        tracing::info!("caller cancelled");
        let reason = match self.phase {
            Phase::Queued { .. } => EndReason::Abandoned,
            _ => EndReason::CallerLeftIvr,
        };
        self.hang_up_all(reason, HungUpBy::Caller);
    }

    /// Ends the caller's side: BYE if answered, else a final error response.
    pub(super) fn end_caller_leg(&mut self) {
        self.end_caller_leg_with_reason(None);
    }

    /// Ends the caller's side; a dialplan hangup cause goes in the BYE's `Reason` header.
    pub(super) fn end_caller_leg_with_reason(
        &mut self,
        cause: Option<hotline_dialplan::HangupCause>,
    ) {
        if !self.caller.answered_final {
            let mut r = Response::for_request(&self.caller.invite, 480, "Temporarily Unavailable");
            r.set_to_tag(&self.caller.local_tag);
            self.respond(&self.caller.key, r);
            self.caller.answered_final = true;
            return;
        }
        let Some(dialog) = self.caller.dialog.as_mut() else {
            return;
        };
        let Ok(fields) = dialog.next_request("BYE") else {
            return;
        };
        dialog.terminate();
        if let Some(mut bye) = in_dialog_request(
            &fields,
            Method::Bye,
            self.shared.endpoint.advertised,
            &self.caller.target,
        ) {
            if let Some(cause) = cause {
                bye.headers_mut()
                    .push("Reason", super::ivr::reason_header(cause));
            }
            self.shared.endpoint.send(EndpointCommand::Request {
                request: bye,
                target: self.caller.target,
                owner: Owner {
                    tx: self.self_tx.clone(),
                    leg: LegRef::Caller,
                },
            });
        }
    }
}
