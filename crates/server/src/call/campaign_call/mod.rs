//! One task per customer-first campaign call: the customer is dialed through a trunk (the
//! campaign's caller id in From and P-Asserted-Identity; the trunk's allow-list, channel and
//! calls-per-second caps apply; the phone rings at least 15 s), the final response is
//! classified by [`hotline_campaigns::classify`], and an answer is listened to by the
//! answering-machine detector for up to its analysis time while the customer hears silence.
//! Then, per verdict and the plan's action for it:
//!
//! - a person (or `pass_to_agent`) is handed to the inbound call task (see `handoff`): with a
//!   queue target it becomes a routing entry above inbound priority whose max wait ends the
//!   connect time after the end of the person's greeting (where the detector heard it end;
//!   the answer when none was measured: detection off, an undecided answer, no audio), so
//!   less than the connect time is left after the verdict; offered, bridged and recorded like
//!   any caller; no agent in time plays the
//!   abandon message (who called, spoken from text synthesized ahead, and/or its prompt, then
//!   the callback number digit by digit) before the BYE;
//!   with a flow target the dialplan number runs on the leg as for a caller;
//! - `drop` hangs up at once;
//! - `leave_message` waits for the voicemail's beep to end (or 1.5 s of silence after the
//!   greeting, at most 30 s), plays the message prompt, and hangs up.
//!
//! Every milestone is sent on the dial's report channel as a [`CampaignCallReport`]; the last
//! one is always [`CampaignCallReport::Ended`] (sent by the inbound task after a hand-over).
//! Each call runs in a tracing span with its id and SIP Call-ID and counts in
//! `hotline_campaign_calls_total`. Debug builds can start calls from a file (`test_hook`).

mod detect;
mod handoff;
mod leg;
mod outcome;
#[cfg(debug_assertions)]
pub mod test_hook;

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hotline_campaigns::campaign::{AgentlessResult, AmdAction, AnswerVerdict, EntryId};
use hotline_campaigns::{DialOutcome, OutcomeKind};
use hotline_media::{AmdConfig, LegEvent, PlayMode};
use hotline_sip::message::{Method, Request, Response};
use hotline_sip::transaction::TransactionKey;
use tokio::sync::mpsc;
use tracing::Instrument;
use uuid::Uuid;

use super::CallInput;
use crate::endpoint::{EndpointCommand, LegRef, Shared};
use crate::redact::CallerNumber;

pub(super) use handoff::CampaignLink;

use detect::Listener;
use leg::TrunkLeg;

/// The shortest ring of the customer's phone: 15 s as regulators and carriers expect, plus a
/// quarter second so the far end, timing from its own receipt of the INVITE (transit and
/// coarse clocks included), still sees at least 15 s before the CANCEL.
const MIN_RING: Duration = Duration::from_millis(15_250);
/// How long a machine's greeting may run before the message is played anyway.
const MAX_GREETING_WAIT: Duration = Duration::from_secs(30);
/// Silence after the greeting that counts as its end when no beep came.
const GREETING_END_SILENCE: Duration = Duration::from_millis(1500);
/// Grace beyond the detector's analysis time for audio that never arrives.
const DETECT_GRACE: Duration = Duration::from_millis(1000);
/// How long a finished call waits for a late answer to its CANCEL.
const LINGER: Duration = Duration::from_secs(8);
/// The longest a prompt may take before the call is hung up anyway.
const PROMPT_LIMIT: Duration = Duration::from_secs(120);

/// One customer-first dial of a campaign.
#[derive(Debug, Clone)]
pub struct CampaignDial {
    /// The campaign.
    pub campaign: String,
    /// The campaign's entry (the customer's record).
    pub entry: EntryId,
    /// Which attempt this is (1 = the first).
    pub attempt: u32,
    /// The customer's number (E.164).
    pub number: String,
    /// The number the customer sees (E.164).
    pub caller_id: String,
    /// The trunk to dial through (None: the only trunk).
    pub trunk: Option<String>,
    /// How long the customer's phone rings (never below 15 s).
    pub ring_timeout: Duration,
    /// Where an answer by a person goes.
    pub target: DialTarget,
    /// Answering-machine detection (None: every answer is a person).
    pub amd: Option<AmdPlan>,
    /// What a person no agent took in time hears.
    pub abandon_message: Option<AbandonPlan>,
    /// Where the call's milestones are reported.
    pub report: mpsc::UnboundedSender<CampaignCallReport>,
}

/// Where an answer by a person goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DialTarget {
    /// To an agent of a queue, within `connect_within` of the end of the person's greeting
    /// (the answer when none was measured), else abandoned.
    Queue {
        /// The queue.
        queue: String,
        /// Skills the agent needs.
        skills: Vec<String>,
        /// The longest the customer waits for an agent (the profile's connect time).
        connect_within: Duration,
    },
    /// Through a dialplan flow (agentless: a survey, a notice).
    Flow {
        /// The flow's name (a number of the dialplan).
        flow: String,
    },
}

/// Answering-machine detection and what follows each verdict.
#[derive(Debug, Clone)]
pub struct AmdPlan {
    /// The detector's thresholds.
    pub config: AmdConfig,
    /// A machine answered.
    pub on_machine: AmdAction,
    /// The detector could not tell.
    pub on_not_sure: AmdAction,
    /// The prompt left on a machine (`leave_message`; None: the call is dropped instead).
    pub message: Option<String>,
}

/// What a person no agent took in time hears: who called and a number to call back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AbandonPlan {
    /// The text spoken first (who called), synthesized ahead and kept by the synthesizer
    /// (None: the prompt says it).
    pub identity: Option<crate::tts::Speech>,
    /// A prompt played after the text (None: none).
    pub prompt: Option<String>,
    /// The number the customer can call back (E.164).
    pub callback_number: String,
}

/// A campaign call's milestones, in order; `Ended` is always the last.
#[derive(Debug, Clone, PartialEq)]
pub enum CampaignCallReport {
    /// The dial never left: the trunk had no free channel or call-rate token when the call
    /// was to start (the attempt does not count).
    TrunkBusy {
        /// The call.
        call: Uuid,
    },
    /// The customer did not answer (busy, no answer, invalid number, network...).
    Final {
        /// The call.
        call: Uuid,
        /// The classified final response.
        outcome: DialOutcome,
    },
    /// The customer answered; the detector's verdict (human when detection is off).
    Answered {
        /// The call.
        call: Uuid,
        /// Who answered.
        verdict: AnswerVerdict,
        /// From the answer to the verdict, ms.
        after_ms: u64,
    },
    /// An agent took the call.
    Connected {
        /// The call.
        call: Uuid,
        /// The agent.
        agent: String,
        /// From the answer to the agent.
        after_answer: Duration,
        /// From the end of the person's greeting (the answer when none was measured) to the
        /// agent: what the connect time is measured on.
        since_greeting: Duration,
    },
    /// No agent within the connect time: the abandon message was played.
    Abandoned {
        /// The call.
        call: Uuid,
    },
    /// The campaign's message was left on a machine.
    MessageLeft {
        /// The call.
        call: Uuid,
    },
    /// A machine answered and the call was hung up.
    Dropped {
        /// The call.
        call: Uuid,
    },
    /// A survey node's survey on the call took an answer or ended (its events name the
    /// campaign, entry and attempt; the driver keeps the answers per record).
    Survey {
        /// The call.
        call: Uuid,
        /// What the survey did.
        note: crate::campaigns::surveys::SurveyNote,
    },
    /// The agentless flow ended.
    FlowDone {
        /// The call.
        call: Uuid,
        /// How.
        result: AgentlessResult,
    },
    /// The call is over (`talk`: from the answer, zero when never answered).
    Ended {
        /// The call.
        call: Uuid,
        /// Time since the answer.
        talk: Duration,
    },
}

/// Where the call is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// The INVITE is out; the phone rings.
    Ringing,
    /// Answered: the detector listens.
    Detecting,
    /// A machine: waiting for the beep or the end of the greeting.
    AwaitingBeep,
    /// The message plays to the machine.
    LeavingMessage,
    /// Over: only late answers to a CANCEL are waited for.
    Over,
}

/// Starts the task of one campaign call; returns the call's id (in its reports and events).
pub fn spawn_campaign_call(shared: Arc<Shared>, dial: CampaignDial) -> Uuid {
    let id = Uuid::now_v7();
    let sip_call_id = format!("{}-cc", id.simple());
    let span = tracing::info_span!(
        "campaign_call",
        call = %id,
        sip_call_id = %sip_call_id,
        campaign = %dial.campaign,
        entry = dial.entry.0,
        attempt = dial.attempt,
    );
    tokio::spawn(run(shared, dial, id, sip_call_id).instrument(span));
    id
}

/// The state of one campaign call task.
struct CampaignCall {
    shared: Arc<Shared>,
    dial: CampaignDial,
    id: Uuid,
    self_tx: mpsc::UnboundedSender<CallInput>,
    stage: Stage,
    leg: Option<TrunkLeg>,
    /// The detector on the customer's audio, while it listens.
    listener: Option<Listener>,
    /// When the current stage runs out.
    deadline: Option<Instant>,
    answered_at: Option<Instant>,
    /// When the person's greeting ended, as the detector measured it.
    greeting_end: Option<Instant>,
    /// The report to send when the current prompt ends.
    after_prompt: Option<CampaignCallReport>,
    ended: bool,
    /// The inbound call task that took the answered call over (and reports its end).
    handed_off: Option<mpsc::UnboundedSender<CallInput>>,
}

async fn run(shared: Arc<Shared>, dial: CampaignDial, id: Uuid, sip_call_id: String) {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let mut call = CampaignCall {
        shared,
        dial,
        id,
        self_tx: tx,
        stage: Stage::Ringing,
        leg: None,
        listener: None,
        deadline: None,
        answered_at: None,
        greeting_end: None,
        after_prompt: None,
        ended: false,
        handed_off: None,
    };
    call.shared.metrics.active_calls.inc();
    call.shared.active_calls.fetch_add(1, Ordering::SeqCst);
    call.start(sip_call_id).await;
    let linger_until = loop {
        if call.stage == Stage::Over {
            break Instant::now() + LINGER;
        }
        let deadline = call.deadline;
        tokio::select! {
            input = rx.recv() => match input {
                Some(input) => call.input(input),
                None => break Instant::now(),
            },
            ev = super::recv_leg(call.leg.as_mut().and_then(|l| l.events.as_mut())) => match ev {
                Some(ev) => call.media_event(ev),
                None => if let Some(l) = call.leg.as_mut() { l.events = None },
            },
            frame = detect::recv(call.listener.as_mut()) => match frame {
                Some(frame) => call.heard(&frame),
                None => call.listener = None,
            },
            () = super::sleep_until(deadline) => call.timed_out(),
        }
    };
    while call.leg.as_ref().is_some_and(TrunkLeg::ringing) {
        tokio::select! {
            input = rx.recv() => match input {
                Some(input) => call.input(input),
                None => break,
            },
            () = tokio::time::sleep_until(linger_until.into()) => break,
        }
    }
    call.finish();
    call.shared.metrics.active_calls.dec();
    call.shared.active_calls.fetch_sub(1, Ordering::SeqCst);
    // A request of the customer's dialog that reached this task around the hand-over (a BYE
    // just as the verdict came) goes on to the task that now owns the dialog.
    if let Some(taken_by) = call.handed_off.take() {
        drop(call);
        while let Some(input) = rx.recv().await {
            if matches!(input, CallInput::Request { .. }) {
                let _ = taken_by.send(input);
            }
        }
    }
}

impl CampaignCall {
    fn input(&mut self, input: CallInput) {
        match input {
            CallInput::Response {
                leg: LegRef::Trunk { .. },
                response,
            } => self.response(&response),
            CallInput::RequestFailed {
                leg: LegRef::Trunk { .. },
                method: Method::Invite,
            } => self.not_answered(DialOutcome::of(OutcomeKind::NetworkFailure)),
            CallInput::Request {
                request,
                key: Some(key),
                ..
            } => self.request(*request, &key),
            _ => {}
        }
    }

    /// A request in the customer's dialog.
    fn request(&mut self, req: Request, key: &TransactionKey) {
        match req.method() {
            Method::Bye => {
                self.respond(key, Response::for_request(&req, 200, "OK"));
                if let Some(l) = self.leg.as_mut() {
                    l.terminate_dialog();
                }
                tracing::info!(stage = ?self.stage, "the customer hung up");
                self.customer_hung_up();
            }
            Method::Invite => self.reinvite(&req, key),
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

    /// The customer hung up after answering.
    fn customer_hung_up(&mut self) {
        match self.stage {
            Stage::Detecting => {
                // Hung up before a verdict: a person who said "hello" and left is what it
                // sounds like most; the detector's view so far decides.
                let verdict = self
                    .listener
                    .as_ref()
                    .and_then(Listener::decision)
                    .map_or(AnswerVerdict::NotSure, |d| detect::verdict(d.verdict));
                self.report_answered(verdict);
                self.over();
            }
            Stage::AwaitingBeep | Stage::LeavingMessage => {
                self.after_prompt = None;
                self.report(CampaignCallReport::Dropped { call: self.id });
                self.count("dropped");
                self.over();
            }
            Stage::Ringing | Stage::Over => self.over(),
        }
    }

    fn media_event(&mut self, ev: LegEvent) {
        match ev {
            LegEvent::PlaybackFinished if self.stage == Stage::LeavingMessage => {
                if let Some(r) = self.after_prompt.take() {
                    self.report(r);
                }
                self.hang_up();
            }
            LegEvent::Inactive if self.stage != Stage::Ringing => {
                tracing::info!("no RTP from the customer: hanging up");
                self.customer_hung_up();
                self.hang_up();
            }
            _ => {}
        }
    }

    fn timed_out(&mut self) {
        self.deadline = None;
        match self.stage {
            Stage::Ringing => {
                tracing::info!("the customer did not answer within the ring time");
                self.not_answered(hotline_campaigns::outcome::ring_timeout());
            }
            Stage::Detecting => {
                tracing::info!("no verdict within the analysis time (no audio?): not sure");
                self.verdict(AnswerVerdict::NotSure);
            }
            Stage::AwaitingBeep => {
                tracing::info!("no beep nor end of the greeting: leaving the message anyway");
                self.leave_message();
            }
            Stage::LeavingMessage => {
                tracing::warn!("a prompt never finished: hanging up");
                if let Some(r) = self.after_prompt.take() {
                    self.report(r);
                }
                self.hang_up();
            }
            Stage::Over => {}
        }
    }

    /// The customer answered and the media is up: listen, or go on as a person.
    fn answered(&mut self) {
        self.answered_at = Some(Instant::now());
        self.count("answered");
        let plan = self.dial.amd.clone();
        match plan {
            Some(plan) => {
                let Some(media) = self.leg.as_ref().map(|l| l.media.clone()) else {
                    return;
                };
                let analysis = Duration::from_millis(u64::from(plan.config.total_analysis_time_ms));
                self.listener = Some(Listener::start(&media, &plan.config));
                self.stage = Stage::Detecting;
                self.deadline = Some(Instant::now() + analysis + DETECT_GRACE);
                tracing::info!(
                    analysis_ms = analysis.as_millis() as u64,
                    "answered: the detector listens"
                );
            }
            None => self.verdict(AnswerVerdict::Human),
        }
    }

    /// Audio from the customer.
    fn heard(&mut self, frame: &hotline_media::tap::TapFrame) {
        let Some(listener) = self.listener.as_mut() else {
            return;
        };
        let decided = listener.push(frame);
        match self.stage {
            Stage::Detecting => {
                if let Some(d) = decided {
                    tracing::info!(verdict = ?d.verdict, cause = ?d.cause, at_ms = d.at_ms, greeting_end_ms = ?d.greeting_end_ms, "detector verdict");
                    self.greeting_end = listener.greeting_end();
                    self.verdict(detect::verdict(d.verdict));
                }
            }
            Stage::AwaitingBeep => {
                if listener.beep_ended() {
                    tracing::info!("the machine's beep ended: leaving the message");
                    self.leave_message();
                } else if listener.silence() >= GREETING_END_SILENCE && !listener.in_beep() {
                    tracing::info!("the machine's greeting ended (no beep): leaving the message");
                    self.leave_message();
                }
            }
            _ => {}
        }
    }

    /// The detector's verdict (or a person, without detection): report it and act.
    fn verdict(&mut self, verdict: AnswerVerdict) {
        self.report_answered(verdict);
        let action = match (verdict, self.dial.amd.as_ref()) {
            (AnswerVerdict::Human, _) | (_, None) => AmdAction::PassToAgent,
            (AnswerVerdict::Machine, Some(plan)) => plan.on_machine,
            (AnswerVerdict::NotSure, Some(plan)) => plan.on_not_sure,
        };
        let message = self.dial.amd.as_ref().and_then(|p| p.message.clone());
        match action {
            AmdAction::Drop => self.drop_machine(),
            AmdAction::LeaveMessage if message.is_none() => {
                tracing::warn!("leave_message without a message prompt: dropping the call");
                self.drop_machine();
            }
            AmdAction::LeaveMessage => self.await_beep(),
            AmdAction::PassToAgent => {
                self.listener = None;
                self.route_person();
            }
        }
    }

    fn report_answered(&mut self, verdict: AnswerVerdict) {
        let after_ms = self.answered_at.map_or(0, |t| {
            u64::try_from(t.elapsed().as_millis()).unwrap_or(u64::MAX)
        });
        self.count(match verdict {
            AnswerVerdict::Human => "human",
            AnswerVerdict::Machine => "machine",
            AnswerVerdict::NotSure => "not_sure",
        });
        self.report(CampaignCallReport::Answered {
            call: self.id,
            verdict,
            after_ms,
        });
    }

    fn drop_machine(&mut self) {
        tracing::info!("dropping the call");
        self.report(CampaignCallReport::Dropped { call: self.id });
        self.count("dropped");
        self.hang_up();
    }

    /// Keeps listening for the beep (it may already have come and gone).
    fn await_beep(&mut self) {
        if self.listener.as_ref().is_some_and(Listener::beep_ended) {
            return self.leave_message();
        }
        self.stage = Stage::AwaitingBeep;
        self.deadline = Some(Instant::now() + MAX_GREETING_WAIT);
    }

    fn leave_message(&mut self) {
        self.listener = None;
        let name = self.dial.amd.as_ref().and_then(|p| p.message.clone());
        let prompt = name.as_deref().and_then(|n| self.shared.prompts.get(n));
        let Some(prompt) = prompt else {
            tracing::warn!(prompt = ?name, "the message prompt is unknown: dropping the call");
            return self.drop_machine();
        };
        let played = self
            .leg
            .as_ref()
            .is_some_and(|l| l.media.play(prompt, PlayMode::Once).is_ok());
        if !played {
            return self.hang_up();
        }
        tracing::info!("leaving the message");
        self.stage = Stage::LeavingMessage;
        self.deadline = Some(Instant::now() + PROMPT_LIMIT);
        self.after_prompt = Some(CampaignCallReport::MessageLeft { call: self.id });
        self.count("message_left");
    }

    /// A person (or a pass to an agent): the inbound call task takes the call over, queued
    /// for an agent or running the flow; it sends the remaining reports.
    fn route_person(&mut self) {
        let Some(leg) = self.leg.take() else {
            return self.over();
        };
        let call_id = leg.call_id.clone();
        let local_tag = leg.local_tag.clone();
        let Some(answered) = leg::into_answered(leg) else {
            tracing::warn!("the customer's leg is not up: nothing to hand over");
            self.shared
                .endpoint
                .send(EndpointCommand::RemoveDialog { call_id, local_tag });
            return self.over();
        };
        let answered_at = self.answered_at.unwrap_or_else(Instant::now);
        // The connect time counts from the end of the person's greeting (the verdict's moment
        // when words were still coming then); without one (detection off, nothing said, no
        // audio) from the answer: never later than the greeting could have ended.
        let greeting_end = self
            .greeting_end
            .map_or(answered_at, |end| end.clamp(answered_at, Instant::now()));
        let taken_by = handoff::hand_off(
            self.shared.clone(),
            self.id,
            answered,
            &self.dial,
            handoff::Clocks {
                answered_at,
                greeting_end,
            },
        );
        self.handed_off = Some(taken_by);
        self.over();
    }

    /// The trunk had no channel or call-rate token for the dial: nothing was sent.
    fn trunk_busy(&mut self) {
        if self.stage != Stage::Ringing {
            return;
        }
        tracing::info!("campaign call not dialed: the trunk is busy");
        self.report(CampaignCallReport::TrunkBusy { call: self.id });
        self.over();
    }

    /// The customer's phone came to `outcome` without an answer.
    fn not_answered(&mut self, outcome: DialOutcome) {
        if self.stage != Stage::Ringing {
            return;
        }
        if let Some(l) = self.leg.as_ref() {
            l.trunk
                .record(super::trunk_dial::trunk_outcome(outcome.kind));
        }
        tracing::info!(kind = ?outcome.kind, status = ?outcome.sip_status, q850 = ?outcome.q850_cause, "not answered");
        self.count(outcome::label(outcome.kind));
        self.report(CampaignCallReport::Final {
            call: self.id,
            outcome,
        });
        self.hang_up();
    }

    /// Ends the customer's leg (BYE, or CANCEL while ringing) and the call.
    fn hang_up(&mut self) {
        if let Some(mut l) = self.leg.take() {
            self.end_leg(&mut l);
            self.leg = Some(l);
        }
        self.over();
    }

    fn over(&mut self) {
        self.stage = Stage::Over;
        self.deadline = None;
        self.listener = None;
    }

    /// The last report, dialogs and media released.
    fn finish(&mut self) {
        if let Some(l) = self.leg.as_mut() {
            self.shared.endpoint.send(EndpointCommand::RemoveDialog {
                call_id: l.call_id.clone(),
                local_tag: l.local_tag.clone(),
            });
            let _ = l.media.close();
        }
        if !self.ended && self.handed_off.is_none() {
            self.ended = true;
            let talk = self.answered_at.map_or(Duration::ZERO, |t| t.elapsed());
            tracing::info!(talk_ms = talk.as_millis() as u64, "campaign call ended");
            self.report(CampaignCallReport::Ended {
                call: self.id,
                talk,
            });
        }
    }

    fn report(&self, report: CampaignCallReport) {
        let _ = self.dial.report.send(report);
    }

    fn count(&self, result: &str) {
        self.shared
            .metrics
            .campaign_calls
            .with_label_values(&[result])
            .inc();
    }

    fn respond(&self, key: &TransactionKey, resp: Response) {
        self.shared.endpoint.send(EndpointCommand::Respond {
            key: key.clone(),
            response: resp,
        });
    }

    fn redacted_number(&self) -> String {
        CallerNumber::new(&self.dial.number, self.shared.config.redact_caller_numbers).to_string()
    }
}
