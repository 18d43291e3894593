//! A customer's leg dialed through a trunk, as a callback dial and a campaign call both place it:
//! the leg's state (calling, proceeding, answered, done), the INVITE with our caller id and SDP
//! offer, the digest answer to a 401/407, the CANCEL wanted before a provisional response, the
//! ACK of a 2xx, BYE and CANCEL, the final response classified as a dial outcome, and what a
//! response to the INVITE asks of the leg's owner ([`InviteReply`]).

use std::sync::Arc;
use std::time::{Duration, Instant};

use hotline_campaigns::{classify, DialOutcome, FinalResponse, OutcomeKind};
use hotline_media::{LegEvent, RtpLegHandle, SdpSession};
use hotline_sip::dialog::Dialog;
use hotline_sip::digest_client::ServerChallenge;
use hotline_sip::message::{Method, Request, Response, SipUri};
use hotline_sip::transport::Target;
use tokio::sync::mpsc;

use super::agent_offer::{ack_from_dialog, send_cancel, uac_dialog};
use super::{sdp, CallInput};
use crate::endpoint::{our_contact, our_via, EndpointCommand, LegRef, Owner, Shared};
use crate::trunk::config::TrunkCredentials;
use crate::trunk::{Channel, DialOutcome as TrunkOutcome, Trunk};

/// The dial number of a customer's trunk leg (one per dialing task).
pub(super) const DIAL: u32 = 1;

/// Where the customer's leg is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum LegState {
    /// INVITE sent, nothing back yet.
    Calling,
    /// A provisional response came: CANCEL is allowed.
    Proceeding,
    /// The customer answered.
    Answered,
    /// Failed, cancelled or hung up.
    Done,
}

/// What ending a leg takes (see [`DialLeg::end`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Ending {
    /// Answered: hang up with a BYE.
    Bye,
    /// Ringing after a provisional response: CANCEL now.
    Cancel,
    /// Nothing to send (a CANCEL waits for a provisional response, or the leg is over).
    Nothing,
}

/// What a response to the leg's INVITE asks of the leg's owner, once the leg has taken it
/// (a CANCEL wanted earlier sent, a 2xx ACKed, a failure classified).
#[derive(Debug)]
pub(super) enum InviteReply {
    /// Nothing more: a 100 or provisional response, a challenge answered (the INVITE sent
    /// again with credentials), an answer to an INVITE re-sent since, a repeated 2xx (our ACK
    /// was lost), or a failure after ringing ended.
    Nothing,
    /// The leg failed while the customer's phone could still answer: the dial's outcome.
    Failed(DialOutcome),
    /// Answered after the owner stopped dialing (or the leg had ended): hang up.
    Unwanted,
    /// Answered with an SDP answer we cannot use: the dial failed with this outcome.
    Unusable(DialOutcome),
    /// Answered: the media now goes to the customer.
    Answered,
}

/// The kind of a response to the leg's INVITE, before the leg acts on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    /// Not an answer to the INVITE sent last (a BYE's or CANCEL's, or an older INVITE's).
    Ignore,
    /// 100 Trying.
    Trying,
    /// 101–199.
    Provisional,
    /// 2xx.
    Success,
    /// A 401/407 while the owner still dials: to be answered with credentials.
    Challenge,
    /// Any other final response.
    Failure,
}

/// The step `resp` calls for on a leg whose INVITE sent last has `cseq`, in `state`
/// (`dialing`: the owner still waits for the customer to answer).
fn step(resp: &Response, cseq: u32, state: LegState, dialing: bool) -> Step {
    let Some(of) = resp.cseq() else {
        return Step::Ignore;
    };
    if of.method != Method::Invite || of.seq != cseq {
        return Step::Ignore;
    }
    match resp.status() {
        100 => Step::Trying,
        101..=199 => Step::Provisional,
        200..=299 => Step::Success,
        401 | 407 if dialing && state != LegState::Done => Step::Challenge,
        _ => Step::Failure,
    }
}

/// The customer's leg through a trunk.
pub(super) struct DialLeg {
    /// The trunk it goes through.
    pub(super) trunk: Arc<Trunk>,
    /// Held for the leg's life: dropping the leg frees the trunk's channel.
    pub(super) channel: Channel,
    /// Where the leg is.
    pub(super) state: LegState,
    /// The INVITE sent last (the one a CANCEL or ACK refers to).
    pub(super) invite: Option<Request>,
    /// The trunk's gateway.
    pub(super) target: Target,
    /// The leg's SIP Call-ID.
    pub(super) call_id: String,
    /// Our From tag.
    pub(super) local_tag: String,
    /// The CSeq of the INVITE sent last.
    pub(super) cseq: u32,
    /// Credentials were sent: a further challenge is a failure.
    authenticated: bool,
    /// Cancel as soon as a provisional response allows it.
    cancel_wanted: bool,
    /// Whether we cancelled the INVITE (a 487 then means no answer, not a network failure).
    cancelled: bool,
    /// The leg's RTP.
    pub(super) media: RtpLegHandle,
    /// The RTP leg's events.
    pub(super) events: Option<mpsc::Receiver<LegEvent>>,
    /// The leg's SDP session.
    pub(super) sdp: SdpSession,
    /// Our SDP offer.
    offer: String,
    /// The customer's number (E.164) the INVITE goes to.
    number: String,
    /// The number the customer sees.
    presented: String,
    /// The dialog of the answer.
    pub(super) dialog: Option<Dialog>,
    /// When the INVITE was first sent.
    pub(super) started: Instant,
}

/// What a new [`DialLeg`] is made of.
pub(super) struct NewLeg {
    /// The trunk.
    pub(super) trunk: Arc<Trunk>,
    /// The trunk's channel it holds.
    pub(super) channel: Channel,
    /// The trunk's gateway.
    pub(super) target: Target,
    /// The leg's SIP Call-ID.
    pub(super) call_id: String,
    /// Our From tag.
    pub(super) local_tag: String,
    /// The leg's RTP and its events.
    pub(super) media: (RtpLegHandle, mpsc::Receiver<LegEvent>),
    /// The leg's SDP session and our offer in it.
    pub(super) sdp: (SdpSession, String),
    /// The customer's number (E.164).
    pub(super) number: String,
    /// The number the customer sees.
    pub(super) presented: String,
}

impl DialLeg {
    /// A leg about to send its first INVITE.
    pub(super) fn new(parts: NewLeg) -> Self {
        Self {
            trunk: parts.trunk,
            channel: parts.channel,
            state: LegState::Calling,
            invite: None,
            target: parts.target,
            call_id: parts.call_id,
            local_tag: parts.local_tag,
            cseq: 1,
            authenticated: false,
            cancel_wanted: false,
            cancelled: false,
            media: parts.media.0,
            events: Some(parts.media.1),
            sdp: parts.sdp.0,
            offer: parts.sdp.1,
            number: parts.number,
            presented: parts.presented,
            dialog: None,
            started: Instant::now(),
        }
    }

    /// Whether the customer's phone may still answer.
    pub(super) fn ringing(&self) -> bool {
        matches!(self.state, LegState::Calling | LegState::Proceeding)
    }

    /// The dialog ended (a BYE came): the leg is over.
    pub(super) fn terminate_dialog(&mut self) {
        if let Some(d) = self.dialog.as_mut() {
            d.terminate();
        }
        self.state = LegState::Done;
    }

    /// The INVITE to the customer's number presenting ours, with credentials answering a
    /// challenge when `auth` is given; `None` when the number makes no URI.
    fn build_invite(&self, shared: &Shared, auth: Option<(&str, String)>) -> Option<Request> {
        let settings = &self.trunk.settings;
        let advertised = shared.endpoint.advertised;
        let uri = SipUri::parse(&format!(
            "sip:{}@{}",
            self.number,
            settings.gateway.uri_host()
        ))
        .ok()?;
        let identity = format!("<sip:{}@{}>", self.presented, advertised.ip());
        let mut b = Request::builder(Method::Invite, uri.clone())
            .header("Via", our_via(advertised, self.target.transport))
            .header("Max-Forwards", "70")
            .header("From", format!("{identity};tag={}", self.local_tag))
            .header("To", format!("<{uri}>"))
            .header("Call-ID", self.call_id.clone())
            .header("CSeq", format!("{} INVITE", self.cseq))
            .header("Contact", our_contact(advertised, self.target.transport))
            .header("P-Asserted-Identity", identity)
            .header("Allow", crate::endpoint::ALLOW)
            .header("User-Agent", concat!("hotline/", env!("CARGO_PKG_VERSION")));
        if let Some((name, value)) = auth {
            b = b.header(name, value);
        }
        Some(
            b.body("application/sdp", self.offer.clone().into_bytes())
                .build(),
        )
    }

    /// Sends the leg's INVITE (with credentials answering a challenge when `auth` is given),
    /// its responses to `self_tx`; false, sending nothing, when the number makes no URI.
    pub(super) fn send_invite(
        &mut self,
        shared: &Shared,
        self_tx: &mpsc::UnboundedSender<CallInput>,
        auth: Option<(&str, String)>,
    ) -> bool {
        let Some(invite) = self.build_invite(shared, auth) else {
            return false;
        };
        self.invite = Some(invite.clone());
        shared.endpoint.send(EndpointCommand::Request {
            request: invite,
            target: self.target,
            owner: owner(self_tx),
        });
        true
    }

    /// Takes a response to the leg's INVITE (`dialing`: the owner still waits for the
    /// customer to answer): sends a CANCEL wanted since, answers a challenge, ACKs a 2xx and
    /// takes its SDP answer, classifies a failure; what is left for the owner to do.
    pub(super) fn invite_response(
        &mut self,
        resp: &Response,
        dialing: bool,
        shared: &Shared,
        self_tx: &mpsc::UnboundedSender<CallInput>,
    ) -> InviteReply {
        match step(resp, self.cseq, self.state, dialing) {
            Step::Ignore | Step::Trying => InviteReply::Nothing,
            Step::Provisional => {
                if self.provisional() {
                    self.cancel(shared, self_tx);
                }
                InviteReply::Nothing
            }
            Step::Success => self.answered(resp, dialing, shared),
            Step::Challenge => match self.challenged(resp) {
                Some((name, value)) => {
                    if self.send_invite(shared, self_tx, Some((name, value))) {
                        InviteReply::Nothing
                    } else {
                        InviteReply::Failed(DialOutcome::of(OutcomeKind::NetworkFailure))
                    }
                }
                None => InviteReply::Failed(self.failed(resp)),
            },
            Step::Failure => {
                let was_ringing = self.ringing();
                let outcome = self.failed(resp);
                if was_ringing {
                    InviteReply::Failed(outcome)
                } else {
                    InviteReply::Nothing
                }
            }
        }
    }

    /// A 2xx: ACK it (every copy); the first copy, when wanted, sets the leg's media to the
    /// customer's SDP answer.
    fn answered(&mut self, resp: &Response, dialing: bool, shared: &Shared) -> InviteReply {
        let dialog = self.ack(shared, resp);
        if self.state == LegState::Answered {
            return InviteReply::Nothing; // our ACK was lost: the 200 came again
        }
        self.dialog = dialog;
        let wanted = dialing && self.state != LegState::Done;
        self.state = LegState::Answered;
        if !wanted {
            return InviteReply::Unwanted;
        }
        let answer = String::from_utf8_lossy(resp.body());
        match sdp::accept_answer(&self.sdp, &answer) {
            Ok(neg) if self.dialog.is_some() => {
                let _ = self.media.set_remote(neg);
                InviteReply::Answered
            }
            other => {
                if let Err(e) = other {
                    tracing::warn!("customer's SDP answer unusable: {e}");
                }
                let mut outcome = DialOutcome::of(OutcomeKind::NetworkFailure);
                outcome.sip_status = Some(resp.status());
                InviteReply::Unusable(outcome)
            }
        }
    }

    /// A provisional response came; true when a CANCEL wanted earlier is to be sent now.
    fn provisional(&mut self) -> bool {
        if self.state == LegState::Calling {
            self.state = LegState::Proceeding;
        }
        std::mem::take(&mut self.cancel_wanted)
    }

    /// A 401/407: the header answering it, once, with the next CSeq taken for the INVITE that
    /// carries it; `None` when it cannot be answered (the leg is then over).
    fn challenged(&mut self, resp: &Response) -> Option<(&'static str, String)> {
        let auth = self.answer_challenge(resp)?;
        self.cseq += 1;
        self.authenticated = true;
        self.state = LegState::Calling;
        Some(auth)
    }

    fn answer_challenge(&self, resp: &Response) -> Option<(&'static str, String)> {
        let creds = self.trunk.settings.credentials.clone()?;
        if self.authenticated {
            tracing::warn!(trunk = %self.trunk.settings.name, "trunk refused our credentials");
            return None;
        }
        let uri = self.invite.as_ref()?.uri().to_string();
        digest_answer(&creds, resp, &uri)
    }

    /// A final failure response: the leg is over, with its outcome.
    fn failed(&mut self, resp: &Response) -> DialOutcome {
        self.state = LegState::Done;
        final_response(resp, self.cancelled)
    }

    /// ACKs a 2xx (every copy of it); the dialog it makes.
    fn ack(&self, shared: &Shared, resp: &Response) -> Option<Dialog> {
        let invite = self.invite.as_ref()?;
        let dialog = uac_dialog(invite, resp, &self.local_tag)?;
        if let Some(ack) = ack_from_dialog(&dialog, invite, self.target, shared.endpoint.advertised)
        {
            shared.endpoint.send(EndpointCommand::Ack {
                request: ack,
                target: self.target,
            });
        }
        Some(dialog)
    }

    /// Ends the leg as its state allows: what to send now (see [`Ending`]).
    pub(super) fn end(&mut self) -> Ending {
        match self.state {
            LegState::Answered => {
                self.state = LegState::Done;
                Ending::Bye
            }
            LegState::Proceeding => {
                self.cancelled = true;
                Ending::Cancel
            }
            LegState::Calling => {
                self.cancelled = true;
                self.cancel_wanted = true;
                Ending::Nothing
            }
            LegState::Done => Ending::Nothing,
        }
    }

    /// Sends a CANCEL of the leg's INVITE.
    pub(super) fn cancel(&self, shared: &Shared, self_tx: &mpsc::UnboundedSender<CallInput>) {
        if let Some(invite) = self.invite.as_ref() {
            send_cancel(
                shared,
                self_tx,
                invite,
                self.target,
                LegRef::Trunk { dial: DIAL },
            );
        }
    }

    /// Sends a BYE in the leg's dialog, if it has one.
    pub(super) fn bye(&mut self, shared: &Shared, self_tx: &mpsc::UnboundedSender<CallInput>) {
        let Some(d) = self.dialog.as_mut() else {
            return;
        };
        shared.endpoint.send_bye(d, self.target, owner(self_tx));
    }

    /// Carries out `ending` (see [`DialLeg::end`]).
    pub(super) fn send_ending(
        &mut self,
        ending: Ending,
        shared: &Shared,
        self_tx: &mpsc::UnboundedSender<CallInput>,
    ) {
        match ending {
            Ending::Bye => self.bye(shared, self_tx),
            Ending::Cancel => self.cancel(shared, self_tx),
            Ending::Nothing => {}
        }
    }
}

fn owner(self_tx: &mpsc::UnboundedSender<CallInput>) -> Owner {
    Owner {
        tx: self_tx.clone(),
        leg: LegRef::Trunk { dial: DIAL },
    }
}

/// Binds an RTP leg where we listen; `None` (logged as for `what`) when no port is free.
pub(super) async fn bind_rtp(
    shared: &Shared,
    what: &str,
) -> Option<(RtpLegHandle, mpsc::Receiver<LegEvent>)> {
    let config = hotline_media::LegConfig {
        inactivity_timeout: shared.config.rtp_timeout,
        ..hotline_media::LegConfig::default()
    };
    let bound =
        hotline_media::RtpLeg::bind(shared.config.sip_listen.ip(), &shared.ports, config).await;
    shared
        .metrics
        .rtp_ports_in_use
        .set(i64::try_from(shared.ports.in_use()).unwrap_or(i64::MAX));
    match bound {
        Ok(leg) => Some(leg),
        Err(e) => {
            tracing::warn!("no RTP leg for the {what}: {e}");
            None
        }
    }
}

/// The digest answer to a 401/407 for an INVITE to `uri`: the header name and its value;
/// `None` when the response carries no challenge we can answer.
pub(super) fn digest_answer(
    creds: &TrunkCredentials,
    resp: &Response,
    uri: &str,
) -> Option<(&'static str, String)> {
    let (challenge_header, answer_header) = if resp.status() == 407 {
        ("Proxy-Authenticate", "Proxy-Authorization")
    } else {
        ("WWW-Authenticate", "Authorization")
    };
    let challenge = resp
        .headers()
        .get_all(challenge_header)
        .find_map(|v| ServerChallenge::parse(v).ok())?;
    let cnonce = format!("{:016x}", rand::random::<u64>());
    let value = challenge.answer(&creds.username, &creds.password, "INVITE", uri, &cnonce);
    Some((answer_header, value))
}

/// The outcome of a final response to the customer's INVITE (`cancelled_by_us`: a 487 after
/// our own CANCEL is no answer, not a failure).
pub(super) fn final_response(resp: &Response, cancelled_by_us: bool) -> DialOutcome {
    let reasons: Vec<&str> = resp.headers().get_all("Reason").collect();
    let reason = reasons.join(", ");
    classify(FinalResponse {
        status: resp.status(),
        retry_after: resp.header("Retry-After").and_then(retry_after),
        reason: (!reason.is_empty()).then_some(reason.as_str()),
        cancelled_by_us,
    })
}

/// The delay of a Retry-After value (RFC 3261 §20.33: seconds, then an optional comment and
/// parameters).
pub(super) fn retry_after(value: &str) -> Option<Duration> {
    let digits: &str = value
        .trim_start()
        .split(|c: char| !c.is_ascii_digit())
        .next()?;
    digits.parse::<u64>().ok().map(Duration::from_secs)
}

/// The trunk's statistics outcome for a customer's outcome.
pub(super) fn trunk_outcome(kind: OutcomeKind) -> TrunkOutcome {
    match kind {
        OutcomeKind::Answered => TrunkOutcome::Answered,
        OutcomeKind::Busy => TrunkOutcome::Busy,
        OutcomeKind::NoAnswer => TrunkOutcome::NoAnswer,
        OutcomeKind::InvalidNumber | OutcomeKind::Rejected => TrunkOutcome::Rejected,
        OutcomeKind::NetworkFailure | OutcomeKind::Unknown => TrunkOutcome::Failed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hotline_sip::message::{Method, Request, SipUri};

    fn response(status: u16, headers: &[(&str, &str)]) -> Response {
        let mut r = with_cseq(status, "1 INVITE");
        for (n, v) in headers {
            r.push_header(n, *v);
        }
        r
    }

    /// A response with `status` to a request whose CSeq is `cseq`.
    fn with_cseq(status: u16, cseq: &str) -> Response {
        let uri = SipUri::parse("sip:+15550100@192.0.2.1").unwrap_or_else(|_| unreachable!());
        let req = Request::builder(Method::Invite, uri)
            .header("Via", "SIP/2.0/UDP 192.0.2.2:5060;branch=z9hG4bKx")
            .header("From", "<sip:a@192.0.2.2>;tag=1")
            .header("To", "<sip:+15550100@192.0.2.1>")
            .header("Call-ID", "c")
            .header("CSeq", cseq)
            .build();
        Response::for_request(&req, status, "X")
    }

    #[test]
    fn busy_invalid_and_cancelled_responses_are_classified() {
        assert_eq!(
            final_response(&response(486, &[]), false).kind,
            OutcomeKind::Busy
        );
        assert_eq!(
            final_response(&response(404, &[]), false).kind,
            OutcomeKind::InvalidNumber
        );
        assert_eq!(
            final_response(&response(487, &[]), true).kind,
            OutcomeKind::NoAnswer
        );
        let failed = final_response(
            &response(503, &[("Retry-After", "120 (maintenance)")]),
            false,
        );
        assert_eq!(failed.kind, OutcomeKind::NetworkFailure);
        assert_eq!(failed.retry_after(), Some(Duration::from_secs(120)));
    }

    #[test]
    fn only_answers_to_the_invite_sent_last_are_acted_on() {
        let step_of = |status, cseq| step(&with_cseq(status, cseq), 2, LegState::Calling, true);
        assert_eq!(step_of(180, "2 INVITE"), Step::Provisional);
        assert_eq!(
            step_of(180, "1 INVITE"),
            Step::Ignore,
            "re-sent with credentials since"
        );
        assert_eq!(step_of(200, "2 BYE"), Step::Ignore);
        assert_eq!(step_of(200, "2 CANCEL"), Step::Ignore);
        assert_eq!(step_of(100, "2 INVITE"), Step::Trying);
        assert_eq!(step_of(200, "2 INVITE"), Step::Success);
        assert_eq!(step_of(486, "2 INVITE"), Step::Failure);
    }

    #[test]
    fn a_challenge_is_answered_only_while_the_owner_still_dials() {
        let challenge = with_cseq(407, "1 INVITE");
        assert_eq!(
            step(&challenge, 1, LegState::Calling, true),
            Step::Challenge
        );
        assert_eq!(
            step(&with_cseq(401, "1 INVITE"), 1, LegState::Proceeding, true),
            Step::Challenge
        );
        assert_eq!(step(&challenge, 1, LegState::Calling, false), Step::Failure);
        assert_eq!(step(&challenge, 1, LegState::Done, true), Step::Failure);
    }

    #[test]
    fn a_q850_reason_refines_a_generic_status() {
        let r = response(480, &[("Reason", "Q.850;cause=17;text=\"busy\"")]);
        let outcome = final_response(&r, false);
        assert_eq!(outcome.kind, OutcomeKind::Busy);
        assert_eq!(outcome.q850_cause, Some(17));
    }
}
