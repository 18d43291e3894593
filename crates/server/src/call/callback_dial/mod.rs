//! Dialing a due in-queue callback, agent first: one task per due callback rings every contact
//! of the reserved agent (the customer's number and the callback's note in the From display
//! name and in `X-Hotline-Data`), and once the agent answers dials the customer through the
//! trunk (the agent hears silence meanwhile). Answered: the two RTP legs are bridged and the
//! router hears `CallbackConnected`; the conversation's end is `CallEnded` with a `call.ended`.
//! Any failure is `CallbackFailed` with its cause (the router releases the agent and retries the
//! callback later or gives up); the legs still up are hung up.
//!
//! The customer's final response is classified by [`hotline_campaigns::classify`] (see
//! `outcome`): 486/600 busy, 603 rejected, 404/484 an invalid number (never retried), 5xx a
//! network failure whose Retry-After postpones the next attempt, 408/480, a 487 after our own
//! CANCEL and the ring timeout (even after 183 early media) no answer; a Q.850 cause in a
//! `Reason` header refines a generic status and goes into `callback.failed` with the status.
//! The customer rings for the due callback's or the queue's ring time (30 s by default), never
//! less than 15 s, and sees the due callback's or the queue's `callback_caller_id` (else the
//! trunk's number) in From and P-Asserted-Identity; the agent sees the customer's number.
//!
//! Before the customer's INVITE a `callback.dialing` event is journaled and fsynced, so a crash
//! while the phone rings leaves the attempt on record (a restart counts it, cause `unknown`,
//! and waits its retry delay); when the journal cannot be flushed the customer is not dialed.
//!
//! With no trunk for the queue (a `callback_trunk` naming none, or not exactly one trunk) the
//! callback is not dialed: `CallbackFailed` with `NotDialed`, as before outbound dialing existed.
//!
//! When the due callback carries a `report` channel (a scheduled callback), the dial's end is
//! also sent there as a [`DialReport`].

mod agent;
mod customer;
mod outcome;

pub use outcome::{DialFailure, DialReport};

use std::sync::Arc;
use std::time::{Duration, Instant};

use hotline_campaigns::{classify, FinalResponse};
use hotline_events::{EndReason, EventDraft, EventKind, HungUpBy};
use hotline_media::LegEvent;
use hotline_routing::CallbackFailure;
use hotline_sip::message::{Method, Request, Response};
use hotline_sip::transaction::TransactionKey;
use tokio::sync::mpsc;
use tracing::Instrument;
use uuid::Uuid;

use super::CallInput;
use crate::endpoint::{our_contact, EndpointCommand, LegRef, Shared};
use crate::redact::CallerNumber;

/// How long the agent's phones ring for a callback when the queue is unknown (else the queue's
/// ring timeout).
const AGENT_RING: Duration = Duration::from_secs(15);
/// How long the customer's phone rings when neither the due callback nor the queue says.
const CUSTOMER_RING: Duration = Duration::from_secs(30);
/// The shortest ring of the customer's phone: 15 s as regulators and carriers expect, plus a
/// quarter second so the far end, timing from its own receipt of the INVITE, still sees at
/// least 15 s before the CANCEL.
const MIN_CUSTOMER_RING: Duration = Duration::from_millis(15_250);
/// How long a finished dial waits for late answers to its CANCELs.
const LINGER: Duration = Duration::from_secs(8);

/// A callback whose turn came: the router reserved `agent` for it.
#[derive(Debug, Clone)]
pub struct DueCallback {
    /// The callback's call id.
    pub call: Uuid,
    /// Its queue.
    pub queue: String,
    /// The reserved agent.
    pub agent: String,
    /// The customer's number (E.164).
    pub number: String,
    /// Why the customer asked to be called back.
    pub note: Option<String>,
    /// Which attempt this is (1 = the first).
    pub attempt: u32,
    /// The E.164 number the customer sees (None: the queue's `callback_caller_id`, else the
    /// trunk's `from_number`).
    pub caller_id: Option<String>,
    /// How long the customer's phone rings (None: the queue's `callback_ring_timeout`, else
    /// 30 s; never below 15 s).
    pub ring_timeout: Option<Duration>,
    /// Where the dial's end is reported, besides the router (a scheduled callback's driver).
    pub report: Option<mpsc::UnboundedSender<super::DialReport>>,
}

/// Starts the task that dials each due callback it receives; returns its input.
pub fn spawn_dialer(shared: Arc<Shared>) -> mpsc::UnboundedSender<DueCallback> {
    let (tx, mut rx) = mpsc::unbounded_channel::<DueCallback>();
    tokio::spawn(async move {
        while let Some(due) = rx.recv().await {
            let span = tracing::info_span!("callback", call = %due.call, attempt = due.attempt);
            tokio::spawn(run(shared.clone(), due).instrument(span));
        }
    });
    tx
}

/// Where a callback dial is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// The agent's phones ring.
    Agent,
    /// The agent answered; the customer's phone is being dialed.
    Customer,
    /// Agent and customer talk.
    Talking,
    /// Over: waiting only for late answers to CANCELs.
    Over,
}

struct Dial {
    shared: Arc<Shared>,
    due: DueCallback,
    self_tx: mpsc::UnboundedSender<CallInput>,
    stage: Stage,
    agent: Option<agent::AgentSide>,
    customer: Option<customer::CustomerSide>,
    /// When the current stage's ringing runs out.
    deadline: Option<Instant>,
    started: Instant,
    /// SIP Call-IDs of the legs (dialogs registered with the endpoint).
    dialogs: Vec<(String, String)>,
    /// The number the customer sees, if not the trunk's.
    caller_id: Option<String>,
    /// How long the customer's phone rings.
    customer_ring: Duration,
}

async fn run(shared: Arc<Shared>, due: DueCallback) {
    let queue = shared.config.queues.get(&due.queue);
    let trunk_name = queue.and_then(|q| q.callback_trunk.clone());
    let agent_ring = queue.map_or(AGENT_RING, |q| q.ring_timeout);
    let caller_id = due
        .caller_id
        .clone()
        .or_else(|| queue.and_then(|q| q.callback_caller_id.clone()));
    let customer_ring = due
        .ring_timeout
        .or_else(|| queue.and_then(|q| q.callback_ring_timeout))
        .unwrap_or(CUSTOMER_RING)
        .max(MIN_CUSTOMER_RING);
    let Some(trunk) = shared.trunks.pick(trunk_name.as_deref()) else {
        tracing::warn!(
            queue = %due.queue,
            "callback due but no trunk to dial it through: the agent is released and the \
             callback keeps its place until its retry"
        );
        // Nothing came from SIP: the plain failure says it all.
        shared
            .router
            .callback_failed(due.call, &due.agent, CallbackFailure::NotDialed);
        report(
            &due,
            &outcome::Failure::not_dialed(CallbackFailure::NotDialed),
        );
        return;
    };
    let (tx, mut rx) = mpsc::unbounded_channel();
    let mut dial = Dial {
        shared,
        due,
        self_tx: tx,
        stage: Stage::Agent,
        agent: None,
        customer: None,
        deadline: None,
        started: Instant::now(),
        dialogs: Vec::new(),
        caller_id,
        customer_ring,
    };
    match dial.invite_agent().await {
        Ok(side) => {
            dial.agent = Some(side);
            dial.deadline = Some(Instant::now() + agent_ring);
        }
        Err(()) => return dial.fail(outcome::Failure::agent(false)),
    }
    let linger_until = loop {
        if dial.stage == Stage::Over {
            break Instant::now() + LINGER;
        }
        tokio::select! {
            input = rx.recv() => match input {
                Some(input) => dial.input(input, &trunk).await,
                None => break Instant::now(),
            },
            ev = super::recv_leg(dial.agent.as_mut().and_then(|a| a.events.as_mut())) => match ev {
                Some(ev) => dial.media_event(ev, HungUpBy::Agent),
                None => if let Some(a) = dial.agent.as_mut() { a.events = None },
            },
            ev = super::recv_leg(dial.customer.as_mut().and_then(|c| c.events.as_mut())) => match ev {
                Some(ev) => dial.media_event(ev, HungUpBy::Caller),
                None => if let Some(c) = dial.customer.as_mut() { c.events = None },
            },
            () = super::sleep_until(dial.deadline) => dial.timed_out(),
        }
    };
    // Late answers to our CANCELs get ACK + BYE until nothing rings any more.
    while dial.still_ringing() {
        tokio::select! {
            input = rx.recv() => match input {
                Some(input) => dial.input(input, &trunk).await,
                None => break,
            },
            () = tokio::time::sleep_until(linger_until.into()) => break,
        }
    }
    dial.forget_dialogs();
}

impl Dial {
    async fn input(&mut self, input: CallInput, trunk: &Arc<crate::trunk::Trunk>) {
        match input {
            CallInput::Response {
                leg: LegRef::Agent { fork, .. },
                response,
            } if self.agent_response(fork, &response) => self.dial_customer(trunk).await,
            CallInput::Response {
                leg: LegRef::Trunk { .. },
                response,
            } => self.customer_response(&response),
            CallInput::RequestFailed {
                leg: LegRef::Agent { fork, .. },
                method: Method::Invite,
            } => self.agent_fork_failed(fork, None),
            CallInput::RequestFailed {
                leg: LegRef::Trunk { .. },
                method: Method::Invite,
            } => self.customer_failed(hotline_campaigns::DialOutcome::of(
                hotline_campaigns::OutcomeKind::NetworkFailure,
            )),
            // An ACK (no transaction) needs nothing.
            CallInput::Request {
                request,
                key: Some(key),
                ..
            } => self.request(*request, &key),
            _ => {}
        }
    }

    /// A request in the agent's or the customer's dialog.
    fn request(&mut self, req: Request, key: &TransactionKey) {
        let from_customer = self
            .customer
            .as_ref()
            .is_some_and(|c| req.call_id() == Some(c.call_id.as_str()));
        match req.method() {
            Method::Bye => {
                self.respond(key, Response::for_request(&req, 200, "OK"));
                let by = if from_customer {
                    HungUpBy::Caller
                } else {
                    HungUpBy::Agent
                };
                if from_customer {
                    if let Some(c) = self.customer.as_mut() {
                        c.terminate_dialog();
                    }
                } else if let Some(a) = self.agent.as_mut() {
                    a.terminate_dialog();
                }
                self.hung_up(by);
            }
            Method::Invite => self.reinvite(&req, key, from_customer),
            Method::Update | Method::Info | Method::Options => {
                self.respond(key, Response::for_request(&req, 200, "OK"));
            }
            _ => {
                let mut r = Response::for_request(&req, 405, "Method Not Allowed");
                r.push_header("Allow", crate::endpoint::ALLOW);
                self.respond(key, r);
            }
        }
    }

    /// A re-INVITE (refresh or hold): answered with the leg's session as it is.
    fn reinvite(&mut self, req: &Request, key: &TransactionKey, from_customer: bool) {
        let advertised = self.shared.endpoint.advertised;
        let (session, media, transport) = if from_customer {
            match self.customer.as_mut() {
                Some(c) => (&mut c.sdp, &c.media, c.target.transport),
                None => return,
            }
        } else {
            match self.agent.as_mut().and_then(|a| {
                let t = a.answered.map(|(_, t)| t.transport)?;
                Some((&mut a.sdp, &a.media, t))
            }) {
                Some(parts) => parts,
                None => return,
            }
        };
        let offer = String::from_utf8_lossy(req.body()).into_owned();
        let body = if offer.is_empty() {
            session.offer(
                &super::sdp::capabilities(),
                hotline_media::Direction::SendRecv,
            )
        } else {
            match super::sdp::answer(session, &offer, &super::sdp::capabilities()) {
                super::sdp::OfferOutcome::Answer { body, negotiated } => {
                    let _ = media.set_remote(negotiated);
                    body
                }
                super::sdp::OfferOutcome::Refused(w) => {
                    let mut r = Response::for_request(req, 488, "Not Acceptable Here");
                    r.push_header("Warning", format!("305 hotline \"{w}\""));
                    return self.respond(key, r);
                }
            }
        };
        let mut ok = Response::for_request(req, 200, "OK");
        ok.push_header("Contact", our_contact(advertised, transport));
        ok.set_body("application/sdp", body.into_bytes());
        self.respond(key, ok);
    }

    /// One side hung up (`by`).
    fn hung_up(&mut self, by: HungUpBy) {
        match self.stage {
            Stage::Agent | Stage::Customer => {
                tracing::info!("the agent hung up before the customer answered");
                let ringing = self.customer.is_some();
                self.fail(outcome::Failure::agent(ringing));
            }
            Stage::Talking => self.conversation_over(EndReason::Completed, by),
            Stage::Over => {}
        }
    }

    fn media_event(&mut self, ev: LegEvent, side: HungUpBy) {
        if ev == LegEvent::Inactive && self.stage == Stage::Talking {
            tracing::info!(?side, "no RTP from one side of the callback: hanging up");
            self.conversation_over(EndReason::MediaTimeout, HungUpBy::System);
        }
    }

    fn timed_out(&mut self) {
        self.deadline = None;
        match self.stage {
            Stage::Agent => {
                tracing::info!(agent = %self.due.agent, "the agent did not answer the callback");
                self.fail(outcome::Failure::agent(false));
            }
            Stage::Customer => {
                tracing::info!("the customer did not answer within the ring time");
                self.customer_failed(hotline_campaigns::outcome::ring_timeout());
            }
            Stage::Talking | Stage::Over => {}
        }
    }

    /// The dial failed: the router releases the agent (and the report channel hears it);
    /// every leg is ended.
    fn fail(&mut self, failure: outcome::Failure) {
        if self.stage == Stage::Over {
            return;
        }
        tracing::info!(cause = ?failure.cause, outcome = ?failure.outcome, "callback dial failed");
        self.shared
            .router
            .callback_failed_with(self.due.call, &self.due.agent, failure.router());
        report(&self.due, &failure);
        self.end_legs();
    }

    /// The customer answered: the report channel hears it.
    fn report_answered(&self, status: u16) {
        if let Some(tx) = self.due.report.as_ref() {
            let outcome = classify(FinalResponse {
                status,
                retry_after: None,
                reason: None,
                cancelled_by_us: false,
            });
            let _ = tx.send(DialReport {
                call: self.due.call,
                attempt: self.due.attempt,
                outcome,
                customer_dialed: true,
                agent_failed: false,
            });
        }
    }

    /// Both talked; one side hung up (or media stopped): the other is hung up and the
    /// conversation ends in the router and the journal.
    fn conversation_over(&mut self, reason: EndReason, by: HungUpBy) {
        let duration_ms = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        tracing::info!(?reason, ?by, duration_ms, "callback conversation ended");
        self.end_legs();
        let ended = EventDraft::new(EventKind::CallEnded {
            reason,
            hung_up_by: by,
            duration_ms,
        })
        .call(self.due.call)
        .agent(self.due.agent.as_str())
        .queue(self.due.queue.as_str());
        self.shared.router.finish(self.due.call, true, ended);
    }

    /// Hangs up whatever leg is up and stops the ringing ones.
    fn end_legs(&mut self) {
        if self.stage == Stage::Talking {
            self.shared.recordings.call_ended(self.due.call);
        }
        self.stage = Stage::Over;
        self.deadline = None;
        if let Some(mut c) = self.customer.take() {
            self.end_customer(&mut c);
            self.customer = Some(c);
        }
        if let Some(mut a) = self.agent.take() {
            self.end_agent(&mut a);
            self.agent = Some(a);
        }
    }

    fn still_ringing(&self) -> bool {
        self.agent.as_ref().is_some_and(agent::AgentSide::ringing)
            || self
                .customer
                .as_ref()
                .is_some_and(customer::CustomerSide::ringing)
    }

    fn respond(&self, key: &TransactionKey, resp: Response) {
        self.shared.endpoint.send(EndpointCommand::Respond {
            key: key.clone(),
            response: resp,
        });
    }

    /// Registers a dialog of ours with the endpoint, so requests in it reach this task.
    fn add_dialog(&mut self, call_id: &str, local_tag: &str) {
        self.shared.endpoint.send(EndpointCommand::AddDialog {
            call_id: call_id.to_string(),
            local_tag: local_tag.to_string(),
            owner: self.self_tx.clone(),
        });
        self.dialogs
            .push((call_id.to_string(), local_tag.to_string()));
    }

    fn forget_dialogs(&mut self) {
        for (call_id, local_tag) in self.dialogs.drain(..) {
            self.shared
                .endpoint
                .send(EndpointCommand::RemoveDialog { call_id, local_tag });
        }
        for m in self
            .agent
            .as_mut()
            .map(|a| &a.media)
            .into_iter()
            .chain(self.customer.as_ref().map(|c| &c.media))
        {
            let _ = m.close();
        }
    }

    /// The caller-ID the customer's INVITE presents, if not the trunk's.
    fn caller_id(&self) -> Option<&str> {
        self.caller_id.as_deref()
    }

    fn redacted_number(&self) -> String {
        CallerNumber::new(&self.due.number, self.shared.config.redact_caller_numbers).to_string()
    }
}

/// Sends a failed dial's report when the due callback asks for one.
fn report(due: &DueCallback, failure: &outcome::Failure) {
    if let Some(tx) = due.report.as_ref() {
        let _ = tx.send(DialReport {
            call: due.call,
            attempt: due.attempt,
            outcome: failure.outcome,
            customer_dialed: failure.customer_dialed,
            agent_failed: failure.agent_failed,
        });
    }
}
