//! The customer's side of a callback dial: through the trunk (allow-list, channel and
//! calls-per-second caps, digest answers to 401/407), with the `callback.dialing` event fsynced
//! before the INVITE, ringing for the dial's ring time; answered, it is bridged with the agent;
//! otherwise the classified SIP outcome is the callback's failure.

use std::sync::Arc;
use std::time::Instant;

use hotline_campaigns::{DialOutcome as CustomerOutcome, OutcomeKind};
use hotline_events::{EventDraft, EventKind};
use hotline_media::{Direction, LegEvent, RtpLegHandle, SdpSession};
use hotline_recording::Consent;
use hotline_routing::CallbackFailure;
use hotline_sip::dialog::Dialog;
use hotline_sip::digest_client::ServerChallenge;
use hotline_sip::message::{Method, Request, Response, SipUri};
use hotline_sip::transport::Target;
use tokio::sync::mpsc;

use super::super::agent_offer::{ack_from_dialog, send_cancel, uac_dialog};
use super::super::{new_tag, sdp};
use super::outcome::{final_response, trunk_outcome, Failure};
use super::{Dial, Stage};
use crate::endpoint::{our_contact, our_via, EndpointCommand, LegRef, Owner};
use crate::recording::Bridged;
use crate::trunk::{Channel, DialOutcome, Refusal, Trunk};

/// The dial number of a callback's trunk leg (one per dial task).
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
pub(super) struct CustomerSide {
    trunk: Arc<Trunk>,
    _channel: Channel,
    state: LegState,
    invite: Option<Request>,
    pub(super) target: Target,
    pub(super) call_id: String,
    local_tag: String,
    cseq: u32,
    authenticated: bool,
    cancel_wanted: bool,
    /// Whether we cancelled the INVITE (a 487 then means no answer, not a network failure).
    cancelled: bool,
    pub(super) media: RtpLegHandle,
    pub(super) events: Option<mpsc::Receiver<LegEvent>>,
    pub(super) sdp: SdpSession,
    offer: String,
    dialog: Option<Dialog>,
    started: Instant,
}

impl CustomerSide {
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
        let leg = CustomerSide {
            trunk: trunk.clone(),
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
            started: Instant::now(),
        };
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
        self.send_invite(leg, None);
    }

    /// Sends the leg's INVITE (with credentials answering a challenge when `auth` is given).
    fn send_invite(&mut self, mut leg: CustomerSide, auth: Option<(&str, String)>) {
        let Some(invite) = self.customer_invite(&leg, auth) else {
            self.customer = Some(leg);
            return self.customer_failed(CustomerOutcome::of(OutcomeKind::NetworkFailure));
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
        self.customer = Some(leg);
    }

    fn customer_invite(&self, leg: &CustomerSide, auth: Option<(&str, String)>) -> Option<Request> {
        let settings = &leg.trunk.settings;
        let advertised = self.shared.endpoint.advertised;
        let uri = SipUri::parse(&format!(
            "sip:{}@{}",
            self.due.number,
            settings.gateway.uri_host()
        ))
        .ok()?;
        let presented = self.caller_id().unwrap_or(&settings.from_number);
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

    /// A response to the customer's INVITE.
    pub(super) fn customer_response(&mut self, resp: &Response) {
        if resp.cseq().map(|c| c.method) != Some(Method::Invite) {
            return; // BYE and CANCEL answers
        }
        let Some(mut leg) = self.customer.take() else {
            return;
        };
        if resp.cseq().map(|c| c.seq) != Some(leg.cseq) {
            self.customer = Some(leg);
            return; // an answer to an INVITE re-sent with credentials since
        }
        let status = resp.status();
        match status {
            100 => self.customer = Some(leg),
            101..=199 => {
                if leg.state == LegState::Calling {
                    leg.state = LegState::Proceeding;
                }
                if leg.cancel_wanted {
                    leg.cancel_wanted = false;
                    self.cancel_customer(&leg);
                }
                self.customer = Some(leg);
            }
            200..=299 => self.customer_answered(leg, resp),
            401 | 407 if self.stage == Stage::Customer && leg.state != LegState::Done => {
                match self.answer_challenge(&mut leg, resp) {
                    Some(auth) => {
                        leg.cseq += 1;
                        leg.authenticated = true;
                        leg.state = LegState::Calling;
                        let (name, value) = auth;
                        self.send_invite(leg, Some((name, value)));
                    }
                    None => {
                        leg.state = LegState::Done;
                        let outcome = final_response(resp, leg.cancelled);
                        self.customer = Some(leg);
                        self.customer_failed(outcome);
                    }
                }
            }
            _ => {
                let was_ringing = leg.ringing();
                leg.state = LegState::Done;
                let outcome = final_response(resp, leg.cancelled);
                self.customer = Some(leg);
                if was_ringing && self.stage == Stage::Customer {
                    self.customer_failed(outcome);
                }
            }
        }
    }

    /// The digest answer to a 401/407, once; `None` when it cannot be answered.
    fn answer_challenge(
        &self,
        leg: &mut CustomerSide,
        resp: &Response,
    ) -> Option<(&'static str, String)> {
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

    fn customer_answered(&mut self, mut leg: CustomerSide, resp: &Response) {
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
            self.customer = Some(leg); // our ACK was lost: the 200 came again
            return;
        }
        leg.dialog = dialog;
        let wanted = self.stage == Stage::Customer && leg.state != LegState::Done;
        let answer = String::from_utf8_lossy(resp.body()).into_owned();
        let negotiated = sdp::accept_answer(&leg.sdp, &answer);
        leg.state = LegState::Answered;
        if !wanted {
            // Answered after we gave up: hang up at once.
            self.bye_customer(&mut leg);
            self.customer = Some(leg);
            return;
        }
        match negotiated {
            Ok(neg) if leg.dialog.is_some() => {
                let _ = leg.media.set_remote(neg);
            }
            other => {
                if let Err(e) = other {
                    tracing::warn!("customer's SDP answer unusable: {e}");
                }
                self.customer = Some(leg);
                let mut outcome = CustomerOutcome::of(OutcomeKind::NetworkFailure);
                outcome.sip_status = Some(resp.status());
                return self.customer_failed(outcome);
            }
        }
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
        self.customer = Some(leg);
        self.stage = Stage::Talking;
        self.deadline = None;
        self.started = Instant::now();
        self.shared
            .router
            .callback_connected(self.due.call, &self.due.agent);
        self.report_answered(resp.status());
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
        match leg.state {
            LegState::Answered => {
                self.bye_customer(leg);
                leg.state = LegState::Done;
            }
            LegState::Proceeding => {
                leg.cancelled = true;
                self.cancel_customer(leg);
            }
            LegState::Calling => {
                leg.cancelled = true;
                leg.cancel_wanted = true;
            }
            LegState::Done => {}
        }
    }

    fn cancel_customer(&self, leg: &CustomerSide) {
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

    fn bye_customer(&self, leg: &mut CustomerSide) {
        let Some(d) = leg.dialog.as_mut() else { return };
        let owner = Owner {
            tx: self.self_tx.clone(),
            leg: LegRef::Trunk { dial: DIAL },
        };
        self.shared.endpoint.send_bye(d, leg.target, owner);
    }
}
