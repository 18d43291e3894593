//! A `transfer` node's dial to an outside number: the number is put in E.164 with the dialplan's
//! country and checked against the trunk's allow-list, the trunk admits it (channel, calls per
//! second, not out of service after a 503), then the gateway is located and an RTP port bound off
//! the call's path; the INVITE goes out, rings at most the node's timeout, and on answer the
//! caller is bridged to the far end and the IVR hears `DialAnswered`; any failure is
//! `DialFailed`, so the node's `failed` branch runs. Each outcome is an event and a metric.

use std::sync::Arc;
use std::time::{Duration, Instant};

use hotline_dialplan::IvrInput;
use hotline_events::{EndReason, EventDraft, EventKind, HungUpBy, TransferFailCause};
use hotline_media::{Direction, LegConfig, LegEvent, RtpLeg, RtpLegHandle};
use hotline_sip::message::{Method, Response};
use hotline_sip::transport::Target;
use tokio::sync::mpsc;

use super::trunk_leg::{retry_after, TrunkLeg, TrunkLegState};
use super::{new_tag, sdp, Call, CallInput};
use crate::endpoint::{EndpointCommand, Shared};
use crate::redact::CallerNumber;
use crate::trunk::{DialOutcome, Refusal, Trunk};

/// What the preparation of a dial (DNS, RTP port) found.
pub struct DialPrep {
    dial: u32,
    result: Result<(Target, RtpLegHandle, mpsc::Receiver<LegEvent>), TransferFailCause>,
}

impl Call {
    /// Dials `number` through `trunk` (the only trunk when `None`), ringing at most `timeout`.
    pub(super) fn dial_out(&mut self, number: String, trunk: Option<String>, timeout: Duration) {
        let country = self
            .ivr
            .as_ref()
            .map(|i| i.plan().country())
            .unwrap_or_default();
        let redact = self.shared.config.redact_caller_numbers;
        let Ok(e164) = hotline_dialplan::normalize(&number, country) else {
            tracing::warn!(number = %CallerNumber::new(&number, redact), "transfer: not a phone number");
            return self.dial_refused(number, None, TransferFailCause::InvalidNumber);
        };
        let Some(trunk) = self.shared.trunks.pick(trunk.as_deref()) else {
            tracing::warn!(
                trunk = trunk.as_deref().unwrap_or("(none named)"),
                "transfer: no such trunk"
            );
            return self.dial_refused(e164, trunk, TransferFailCause::NoTrunk);
        };
        let name = trunk.settings.name.clone();
        if !trunk.settings.allow.allows(&e164) {
            tracing::warn!(trunk = %name, number = %CallerNumber::new(&e164, redact), "transfer refused: number not in the trunk's allow-list");
            trunk.record(DialOutcome::Refused);
            return self.dial_refused(e164, Some(name), TransferFailCause::RefusedByAllowList);
        }
        let now = Instant::now();
        let channel = match trunk.acquire(now) {
            Ok(c) => c,
            Err(refusal) => {
                let cause = match refusal {
                    Refusal::OutOfService { .. } => TransferFailCause::TrunkUnavailable,
                    Refusal::ChannelLimit => TransferFailCause::ChannelLimit,
                    Refusal::RateLimit => TransferFailCause::RateLimited,
                };
                tracing::warn!(trunk = %name, ?refusal, "transfer refused by the trunk's limits");
                trunk.record(DialOutcome::Refused);
                return self.dial_refused(e164, Some(name), cause);
            }
        };
        // A dial given up earlier in this call may still be ringing out: it waits for its CANCEL.
        if let Some(mut old) = self.trunk.active.take() {
            self.cancel_trunk(&mut old);
            self.trunk.ending.push(old);
        }
        self.trunk.dials += 1;
        let dial = self.trunk.dials;
        let call_id = format!("{}-t{dial}", self.id.simple());
        tracing::info!(trunk = %name, number = %CallerNumber::new(&e164, redact), trunk_call_id = %call_id, "transfer: dialing");
        self.emit(EventDraft::new(EventKind::TransferStarted {
            number: e164.clone(),
            trunk: name,
        }));
        self.trunk.active = Some(TrunkLeg {
            dial,
            trunk: trunk.clone(),
            _channel: channel,
            number: e164,
            state: TrunkLegState::Preparing,
            invite: None,
            target: None,
            call_id,
            local_tag: new_tag(),
            cseq: 1,
            authenticated: false,
            cancel_wanted: false,
            media: None,
            events: None,
            sdp: None,
            offer: String::new(),
            dialog: None,
            ring_deadline: None,
            ring_timeout: timeout,
            started: now,
        });
        let shared = self.shared.clone();
        let tx = self.self_tx.clone();
        tokio::spawn(async move {
            let result = prepare(&shared, &trunk).await;
            let _ = tx.send(CallInput::DialReady(Box::new(DialPrep { dial, result })));
        });
    }

    /// The gateway is located and RTP bound: send the INVITE.
    pub(super) fn dial_ready(&mut self, prep: DialPrep) {
        let current = self
            .trunk
            .active
            .as_ref()
            .is_some_and(|l| l.dial == prep.dial && l.state == TrunkLegState::Preparing);
        let (target, media, events) = match prep.result {
            Ok(ready) if current => ready,
            Ok((_, media, _)) => {
                // The call moved on (caller hung up) while we prepared.
                let _ = media.close();
                return;
            }
            Err(cause) => {
                if current {
                    self.dial_failed(cause, None, DialOutcome::Failed);
                }
                return;
            }
        };
        let mut session = sdp::session_for(&self.shared, media.local_addr().port());
        let offer = session.offer(&sdp::capabilities(), Direction::SendRecv);
        let Some(leg) = self.trunk.active.as_mut() else {
            return;
        };
        leg.target = Some(target);
        leg.media = Some(media);
        leg.events = Some(events);
        leg.sdp = Some(session);
        leg.offer = offer;
        leg.state = TrunkLegState::Calling;
        leg.ring_deadline = Some(Instant::now() + leg.ring_timeout);
        self.shared.endpoint.send(EndpointCommand::AddDialog {
            call_id: leg.call_id.clone(),
            local_tag: leg.local_tag.clone(),
            owner: self.self_tx.clone(),
        });
        self.sip_call_ids.push(leg.call_id.clone());
        let Some(invite) = self
            .trunk
            .active
            .as_ref()
            .and_then(|l| self.trunk_invite(l, None))
        else {
            return self.dial_failed(TransferFailCause::Failed, None, DialOutcome::Failed);
        };
        self.send_trunk_invite(invite);
    }

    /// A response to one of our requests on a trunk leg.
    pub(super) fn trunk_response(&mut self, dial: u32, resp: Response) {
        if resp.cseq().map(|c| c.method) != Some(Method::Invite) {
            return; // BYE and CANCEL answers
        }
        let Some(leg) = self.trunk.active.as_mut().filter(|l| l.dial == dial) else {
            return self.ending_trunk_response(dial, &resp);
        };
        // Answers to an INVITE we already re-sent with credentials are old news.
        if resp.cseq().map(|c| c.seq) != Some(leg.cseq) {
            return;
        }
        let status = resp.status();
        match status {
            100 => {}
            101..=199 => {
                if leg.state == TrunkLegState::Calling {
                    leg.state = TrunkLegState::Proceeding;
                }
                if leg.cancel_wanted {
                    leg.cancel_wanted = false;
                    let mut leg = self.trunk.active.take();
                    if let Some(l) = leg.as_mut() {
                        self.cancel_trunk(l);
                    }
                    self.trunk.active = leg;
                }
            }
            200..=299 => self.trunk_answered(&resp),
            401 | 407 => {
                if !self.answer_challenge(&resp) {
                    self.dial_failed(
                        TransferFailCause::AuthFailed,
                        Some(status),
                        DialOutcome::Rejected,
                    );
                }
            }
            503 => {
                leg.trunk.unavailable(Instant::now(), retry_after(&resp));
                self.dial_failed(
                    TransferFailCause::TrunkUnavailable,
                    Some(status),
                    DialOutcome::Failed,
                );
            }
            486 | 600 => self.dial_failed(TransferFailCause::Busy, Some(status), DialOutcome::Busy),
            408 | 480 | 487 => {
                self.dial_failed(
                    TransferFailCause::NoAnswer,
                    Some(status),
                    DialOutcome::NoAnswer,
                );
            }
            500..=599 => {
                self.dial_failed(TransferFailCause::Failed, Some(status), DialOutcome::Failed);
            }
            _ => self.dial_failed(
                TransferFailCause::Rejected,
                Some(status),
                DialOutcome::Rejected,
            ),
        }
    }

    /// The far end answered: ACK, bridge, tell the IVR.
    fn trunk_answered(&mut self, resp: &Response) {
        let Some(mut leg) = self.trunk.active.take() else {
            return;
        };
        if leg.state == TrunkLegState::Answered {
            // Our ACK was lost: the 200 came again.
            let _ = self.ack_trunk(&leg, resp);
            self.trunk.active = Some(leg);
            return;
        }
        let dialog = self.ack_trunk(&leg, resp);
        let answer = String::from_utf8_lossy(resp.body()).into_owned();
        let negotiated = leg.sdp.as_ref().map(|s| sdp::accept_answer(s, &answer));
        leg.dialog = dialog;
        match negotiated {
            Some(Ok(neg)) if leg.dialog.is_some() => {
                if let Some(m) = &leg.media {
                    let _ = m.set_remote(neg);
                }
            }
            other => {
                if let Some(Err(e)) = other {
                    tracing::warn!("transfer's SDP answer unusable: {e}");
                }
                self.bye_trunk(&mut leg);
                self.trunk.active = Some(leg);
                return self.dial_failed(
                    TransferFailCause::Failed,
                    Some(resp.status()),
                    DialOutcome::Failed,
                );
            }
        }
        leg.state = TrunkLegState::Answered;
        leg.ring_deadline = None;
        // Nothing flowed while it rang: an inactivity report from then says nothing.
        if let Some(events) = leg.events.as_mut() {
            while events.try_recv().is_ok() {}
        }
        if let (Some(caller), Some(far)) = (self.caller.media.as_ref(), leg.media.as_ref()) {
            let _ = caller.bridge_to(far);
            self.recording_transferred(far, &leg.number, &leg.trunk.settings.name);
        }
        let ring_ms = u64::try_from(leg.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        leg.trunk.record(DialOutcome::Answered);
        tracing::info!(trunk = %leg.trunk.settings.name, ring_ms, "transfer answered: bridged");
        self.emit(EventDraft::new(EventKind::TransferAnswered {
            number: leg.number.clone(),
            trunk: leg.trunk.settings.name.clone(),
            ring_ms,
        }));
        self.trunk.active = Some(leg);
        self.trunk.answered = true;
        if let Some(ivr) = self.ivr.as_mut() {
            ivr.handle(Instant::now(), IvrInput::DialAnswered);
            self.drive_ivr();
        }
    }

    /// The INVITE (or its CANCEL) got no final response at all.
    pub(super) fn trunk_request_failed(&mut self, dial: u32, method: Method) {
        if method != Method::Invite {
            return;
        }
        if self.trunk.active.as_ref().is_some_and(|l| {
            l.dial == dial && matches!(l.state, TrunkLegState::Calling | TrunkLegState::Proceeding)
        }) {
            self.dial_failed(TransferFailCause::Failed, None, DialOutcome::Failed);
        } else if let Some(i) = self.trunk.ending.iter().position(|l| l.dial == dial) {
            let mut leg = self.trunk.ending.remove(i);
            leg.close_media();
        }
    }

    /// The far end rang for the node's whole timeout.
    pub(super) fn dial_timed_out(&mut self) {
        tracing::info!("transfer: no answer within the ring time");
        self.dial_failed(TransferFailCause::NoAnswer, None, DialOutcome::NoAnswer);
    }

    /// The active dial failed: event, counter, the leg ended, the IVR goes to `failed`.
    fn dial_failed(&mut self, cause: TransferFailCause, status: Option<u16>, outcome: DialOutcome) {
        let Some(leg) = self.trunk.active.take() else {
            return;
        };
        tracing::info!(trunk = %leg.trunk.settings.name, ?cause, ?status, "transfer failed");
        leg.trunk.record(outcome);
        self.emit(EventDraft::new(EventKind::TransferFailed {
            number: leg.number.clone(),
            trunk: Some(leg.trunk.settings.name.clone()),
            cause,
            status,
        }));
        self.end_trunk_leg(leg);
        if let Some(ivr) = self.ivr.as_mut() {
            ivr.handle(Instant::now(), IvrInput::DialFailed);
            self.drive_ivr();
        }
    }

    /// Refused before any INVITE: event and `failed`.
    fn dial_refused(&mut self, number: String, trunk: Option<String>, cause: TransferFailCause) {
        self.emit(EventDraft::new(EventKind::TransferFailed {
            number,
            trunk,
            cause,
            status: None,
        }));
        if let Some(ivr) = self.ivr.as_mut() {
            ivr.handle(Instant::now(), IvrInput::DialFailed);
            self.drive_ivr();
        }
    }

    /// Ends one leg whatever its state: BYE if answered, CANCEL if ringing (it then waits among
    /// the ending legs for the CANCEL to take).
    fn end_trunk_leg(&mut self, mut leg: TrunkLeg) {
        match leg.state {
            TrunkLegState::Answered => self.bye_trunk(&mut leg),
            TrunkLegState::Calling | TrunkLegState::Proceeding => {
                self.cancel_trunk(&mut leg);
                leg.state = TrunkLegState::Done;
                leg.close_media();
                self.trunk.ending.push(leg);
                return;
            }
            TrunkLegState::Preparing | TrunkLegState::Done => {}
        }
        leg.state = TrunkLegState::Done;
        leg.close_media();
    }

    /// The call is ending (`by` hung up): the transfer leg ends too. A dial still ringing is a
    /// failed transfer (the caller left).
    pub(super) fn end_trunk_legs(&mut self, by: HungUpBy) {
        let Some(leg) = self.trunk.active.take() else {
            return;
        };
        if by == HungUpBy::Transferee {
            let mut leg = leg;
            leg.state = TrunkLegState::Done;
            leg.close_media();
            return;
        }
        if leg.state != TrunkLegState::Answered {
            leg.trunk.record(DialOutcome::NoAnswer);
            self.emit(EventDraft::new(EventKind::TransferFailed {
                number: leg.number.clone(),
                trunk: Some(leg.trunk.settings.name.clone()),
                cause: TransferFailCause::CallerHungUp,
                status: None,
            }));
        }
        self.end_trunk_leg(leg);
    }

    /// The end reason of a call that was transferred says so.
    pub(super) fn transferred_reason(&self, reason: EndReason) -> EndReason {
        match reason {
            EndReason::CallerLeftIvr | EndReason::Completed | EndReason::DialplanFinished
                if self.trunk.answered =>
            {
                EndReason::Transferred
            }
            other => other,
        }
    }
}

/// Locates the gateway and binds an RTP port (off the call's path).
async fn prepare(
    shared: &Arc<Shared>,
    trunk: &Arc<Trunk>,
) -> Result<(Target, RtpLegHandle, mpsc::Receiver<LegEvent>), TransferFailCause> {
    let target = trunk.target().await.map_err(|e| {
        tracing::warn!("{e}");
        TransferFailCause::TrunkUnavailable
    })?;
    let config = LegConfig {
        inactivity_timeout: shared.config.rtp_timeout,
        ..LegConfig::default()
    };
    let bound = RtpLeg::bind(shared.config.sip_listen.ip(), &shared.ports, config).await;
    shared
        .metrics
        .rtp_ports_in_use
        .set(i64::try_from(shared.ports.in_use()).unwrap_or(i64::MAX));
    match bound {
        Ok((media, events)) => Ok((target, media, events)),
        Err(e) => {
            tracing::warn!("no RTP leg for the transfer: {e}");
            Err(TransferFailCause::Failed)
        }
    }
}
