//! The agent's side of a callback dial: the INVITE forked to every contact of the reserved agent
//! (the customer's number and note shown on the phone), the first answer kept, the others
//! cancelled.

use hotline_media::{Direction, LegEvent, RtpLegHandle, SdpSession};
use hotline_sip::dialog::Dialog;
use hotline_sip::message::{Method, Request, Response, SipUri};
use hotline_sip::transport::{Target, TransportKind};
use tokio::sync::mpsc;

use super::super::agent_offer::{ack_and_bye, ack_for, send_cancel, uac_dialog, Fork, ForkState};
use super::super::{new_tag, sdp};
use super::{Dial, Stage};
use crate::endpoint::{lock, our_contact, our_via, EndpointCommand, LegRef, Owner};
use crate::location::BindingTransport;

/// The offer number of a callback's agent forks (one offer per dial task).
const OFFER: u32 = 1;

/// The reserved agent's leg.
pub(super) struct AgentSide {
    forks: Vec<Fork>,
    pub(super) media: RtpLegHandle,
    pub(super) events: Option<mpsc::Receiver<LegEvent>>,
    pub(super) sdp: SdpSession,
    local_tag: String,
    dialog: Option<Dialog>,
    /// The fork that answered and where its dialog is reached.
    pub(super) answered: Option<(u32, Target)>,
}

impl AgentSide {
    /// Whether a fork may still answer (its CANCEL not yet taken).
    pub(super) fn ringing(&self) -> bool {
        self.forks
            .iter()
            .any(|f| matches!(f.state, ForkState::Calling | ForkState::Proceeding))
    }

    pub(super) fn terminate_dialog(&mut self) {
        if let Some(d) = self.dialog.as_mut() {
            d.terminate();
        }
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

/// What the agent's screen shows: the customer's number, the note and the queue.
fn screen_pop(due: &super::DueCallback) -> String {
    let mut data = std::collections::BTreeMap::new();
    data.insert("callback_number", due.number.clone());
    data.insert("callback_note", due.note.clone().unwrap_or_default());
    data.insert("queue", due.queue.clone());
    data.insert("attempt", due.attempt.to_string());
    serde_json::to_string(&data).unwrap_or_default()
}

impl Dial {
    /// Rings every contact of the reserved agent; `Err` when it has none or no RTP port is free.
    pub(super) async fn invite_agent(&mut self) -> Result<AgentSide, ()> {
        let agent = self.due.agent.clone();
        let bindings = lock(&self.shared.locations).bindings(&agent).to_vec();
        if bindings.is_empty() {
            tracing::info!(%agent, "the callback's agent has no registered phone");
            return Err(());
        }
        let (media, events) = self.bind().await.ok_or(())?;
        let mut session = sdp::session_for(&self.shared, media.local_addr().port());
        let body = session.offer(&sdp::capabilities(), Direction::SendRecv);
        let local_tag = new_tag();
        let advertised = self.shared.endpoint.advertised;
        let display = match &self.due.note {
            Some(note) if !note.is_empty() => format!("Callback {}: {note}", self.due.number),
            _ => format!("Callback {}", self.due.number),
        };
        let pop = screen_pop(&self.due);
        let mut forks = Vec::new();
        for (i, b) in bindings.iter().enumerate() {
            let Ok(uri) = SipUri::parse(&b.contact) else {
                continue;
            };
            let target = binding_target(b);
            let call_id = format!("{}-cb{}-{i}", self.due.call.simple(), self.due.attempt);
            let invite = Request::builder(Method::Invite, uri)
                .header("Via", our_via(advertised, target.transport))
                .header("Max-Forwards", "70")
                .header(
                    "From",
                    format!(
                        "\"{}\" <sip:{}@{}>;tag={local_tag}",
                        display.replace(['"', '\\'], ""),
                        self.due.number,
                        advertised
                    ),
                )
                .header("To", format!("<sip:{agent}@{advertised}>"))
                .header("Call-ID", call_id.clone())
                .header("CSeq", "1 INVITE")
                .header("Contact", our_contact(advertised, target.transport))
                .header("Allow", crate::endpoint::ALLOW)
                .header("X-Hotline-Data", pop.clone())
                .header("User-Agent", concat!("hotline/", env!("CARGO_PKG_VERSION")))
                .body("application/sdp", body.clone().into_bytes())
                .build();
            self.add_dialog(&call_id, &local_tag);
            let fork = u32::try_from(forks.len()).unwrap_or(u32::MAX);
            self.shared.endpoint.send(EndpointCommand::Request {
                request: invite.clone(),
                target,
                owner: Owner {
                    tx: self.self_tx.clone(),
                    leg: LegRef::Agent { offer: OFFER, fork },
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
        if forks.is_empty() {
            let _ = media.close();
            return Err(());
        }
        tracing::info!(%agent, contacts = forks.len(), number = %self.redacted_number(), "callback: ringing the agent");
        Ok(AgentSide {
            forks,
            media,
            events: Some(events),
            sdp: session,
            local_tag,
            dialog: None,
            answered: None,
        })
    }

    /// A response to an agent fork's INVITE; true when the agent just answered (the customer
    /// is dialed next).
    pub(super) fn agent_response(&mut self, fork: u32, resp: &Response) -> bool {
        if resp.cseq().map(|c| c.method) != Some(Method::Invite) {
            return false;
        }
        let Some(mut a) = self.agent.take() else {
            return false;
        };
        let answered = self.agent_fork_response(&mut a, fork, resp);
        self.agent = Some(a);
        if !answered && self.stage == Stage::Agent {
            let all_failed = self
                .agent
                .as_ref()
                .is_some_and(|a| a.forks.iter().all(|f| f.state == ForkState::Done));
            if all_failed {
                tracing::info!(agent = %self.due.agent, "every phone of the agent refused the callback");
                self.fail(super::outcome::Failure::agent(false));
            }
        }
        answered
    }

    fn agent_fork_response(&mut self, a: &mut AgentSide, fork: u32, resp: &Response) -> bool {
        let status = resp.status();
        let leg = LegRef::Agent { offer: OFFER, fork };
        let Some(f) = a.forks.get_mut(fork as usize) else {
            return false;
        };
        match status {
            100 => false,
            101..=199 => {
                if f.state == ForkState::Calling {
                    f.state = ForkState::Proceeding;
                }
                if f.cancel_wanted {
                    f.cancel_wanted = false;
                    send_cancel(&self.shared, &self.self_tx, &f.invite, f.target, leg);
                }
                false
            }
            200..=299 => {
                let mine = self.stage == Stage::Agent && a.answered.is_none();
                if !mine {
                    // Another phone was first, or the dial is over: ACK and BYE this one.
                    if a.answered.map(|(i, _)| i) != Some(fork) {
                        f.state = ForkState::Done;
                        ack_and_bye(&self.shared, &self.self_tx, &f.invite, f.target, resp, leg);
                    }
                    return false;
                }
                f.state = ForkState::Answered;
                let (invite, target) = (f.invite.clone(), f.target);
                let answer = String::from_utf8_lossy(resp.body()).into_owned();
                match sdp::accept_answer(&a.sdp, &answer) {
                    Ok(neg) => {
                        let _ = a.media.set_remote(neg);
                    }
                    Err(e) => {
                        tracing::warn!("agent's SDP answer unusable: {e}");
                        f.state = ForkState::Done;
                        ack_and_bye(&self.shared, &self.self_tx, &invite, target, resp, leg);
                        return false;
                    }
                }
                a.dialog = uac_dialog(&invite, resp, &a.local_tag);
                if let Some(ack) = ack_for(resp, &invite, target) {
                    self.shared.endpoint.send(EndpointCommand::Ack {
                        request: ack,
                        target,
                    });
                }
                a.answered = Some((fork, target));
                for (i, other) in a.forks.iter_mut().enumerate() {
                    if i == fork as usize {
                        continue;
                    }
                    self.stop_fork(other, i);
                }
                // Nothing flowed while it rang: an inactivity report from then says nothing.
                if let Some(events) = a.events.as_mut() {
                    while events.try_recv().is_ok() {}
                }
                tracing::info!(agent = %self.due.agent, "the agent answered the callback");
                true
            }
            _ => {
                f.state = ForkState::Done;
                f.failure = Some(status);
                false
            }
        }
    }

    /// An agent fork's INVITE got no response at all.
    pub(super) fn agent_fork_failed(&mut self, fork: u32, status: Option<u16>) {
        let Some(a) = self.agent.as_mut() else {
            return;
        };
        if let Some(f) = a.forks.get_mut(fork as usize) {
            f.state = ForkState::Done;
            f.failure = status;
        }
        if self.stage == Stage::Agent && a.forks.iter().all(|f| f.state == ForkState::Done) {
            self.fail(super::outcome::Failure::agent(false));
        }
    }

    fn stop_fork(&self, f: &mut Fork, i: usize) {
        let fork = u32::try_from(i).unwrap_or(u32::MAX);
        match f.state {
            ForkState::Proceeding => {
                send_cancel(
                    &self.shared,
                    &self.self_tx,
                    &f.invite,
                    f.target,
                    LegRef::Agent { offer: OFFER, fork },
                );
                // Still `Proceeding` until its final response (a late 200 gets ACK + BYE).
            }
            ForkState::Calling => f.cancel_wanted = true,
            ForkState::Answered | ForkState::Done => {}
        }
    }

    /// Hangs the agent's leg up: BYE if answered, CANCEL for forks still ringing.
    pub(super) fn end_agent(&self, a: &mut AgentSide) {
        for (i, f) in a.forks.iter_mut().enumerate() {
            if f.state != ForkState::Answered {
                self.stop_fork(f, i);
            }
        }
        let Some((_, target)) = a.answered else {
            return;
        };
        let fork = a.answered.map_or(0, |(f, _)| f);
        let Some(d) = a.dialog.as_mut() else { return };
        let owner = Owner {
            tx: self.self_tx.clone(),
            leg: LegRef::Agent { offer: OFFER, fork },
        };
        self.shared.endpoint.send_bye(d, target, owner);
    }

    /// Binds an RTP leg where we listen.
    pub(super) async fn bind(&self) -> Option<(RtpLegHandle, mpsc::Receiver<LegEvent>)> {
        super::super::trunk_dial::bind_rtp(&self.shared, "callback").await
    }
}
