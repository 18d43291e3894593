//! One task per call: the B2BUA. It owns the caller's leg (hotline is UAS), the IVR executor, the
//! agent legs (hotline is UAC, forked to every contact of each agent offered the call: one agent,
//! or several at once under ring-all) and the RTP legs; it talks to the routing task and sends SIP
//! through the endpoint.

mod agent;
mod agent_offer;
mod agent_session;
mod announce;
mod callback_dial;
mod callback_number;
mod callback_offer;
mod caller;
mod campaign_call;
mod crm_lookup;
mod dial_out;
mod ivr;
mod recording;
mod sdp;
mod speech;
mod survey;
mod trunk_dial;
mod trunk_leg;
mod voicemail;

use std::sync::atomic::Ordering;
use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant};

use hotline_dialplan::Ivr;
use hotline_events::{EndReason, EventDraft, EventKind, HungUpBy};
use hotline_media::{LegConfig, LegEvent, RtpLeg, RtpLegHandle, SdpSession};
use hotline_sip::dialog::Dialog;
use hotline_sip::message::{Method, Request, Response};
use hotline_sip::transaction::TransactionKey;
use hotline_sip::transport::Target;
use tokio::sync::{mpsc, watch};
use tracing::Instrument;
use uuid::Uuid;

use crate::endpoint::{EndpointCommand, LegRef, Shared};
use crate::redact::CallerNumber;
use crate::router_task::RouteSignal;

use agent_offer::AgentLeg;
pub use announce::{QueueAnnounce, RawAnnounce};
pub use callback_dial::{
    spawn_dialer as spawn_callback_dialer, DialFailure, DialReport, DueCallback,
};
pub use callback_offer::PROMPTS as CALLBACK_OFFER_PROMPTS;
#[cfg(debug_assertions)]
pub use campaign_call::test_hook::start as start_test_campaign_calls;
pub use campaign_call::{
    spawn_campaign_call, AbandonPlan, AmdPlan, CampaignCallReport, CampaignDial, DialTarget,
};

/// What a call task receives.
pub enum CallInput {
    /// A request in one of the call's dialogs (`key` is `None` for an ACK).
    Request {
        /// The request (boxed: it is by far the largest input).
        request: Box<Request>,
        /// Its server transaction.
        key: Option<TransactionKey>,
        /// Where it came from.
        source: Target,
    },
    /// The caller sent CANCEL for the initial INVITE (the endpoint answered the CANCEL).
    Cancelled {
        /// The INVITE transaction.
        invite: TransactionKey,
    },
    /// A response to a request the call sent.
    Response {
        /// Which leg sent it.
        leg: LegRef,
        /// The response.
        response: Response,
    },
    /// A request the call sent got no final response (timeout or transport error).
    RequestFailed {
        /// Which leg sent it.
        leg: LegRef,
        /// The request's method.
        method: Method,
    },
    /// A final response of ours to an INVITE was never acknowledged.
    AckTimeout {
        /// The INVITE transaction.
        invite: TransactionKey,
    },
    /// The voicemail message being recorded went silent.
    RecordingSilent,
    /// The CRM lookup of an `http` node finished (after its retries).
    LookupDone(Result<serde_json::Value, hotline_dialplan::HttpFailure>),
    /// A transfer's gateway was located and its RTP port bound (or not).
    DialReady(Box<dial_out::DialPrep>),
    /// The synthesis of a `say` node's text finished (boxed: audio and the text).
    SpeechDone(Box<speech::SpeechDone>),
}

/// Everything the endpoint hands a new call.
pub struct NewCall {
    /// The INVITE.
    pub invite: Request,
    /// Its server transaction.
    pub key: TransactionKey,
    /// Where it came from.
    pub source: Target,
    /// The IVR, started on the dialed number.
    pub ivr: Ivr,
    /// The version of the dialplan the IVR runs on (in the call's events).
    pub dialplan_version: u64,
    /// Our To tag for the caller's dialog.
    pub local_tag: String,
}

/// Where the call is in its life.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Phase {
    /// Running the dialplan.
    Ivr,
    /// Waiting in a queue (music on hold), possibly ringing an agent.
    Queued { queue: String },
    /// Talking to an agent.
    Bridged { agent: String, queue: String },
    /// Over; the task is finishing.
    Ended,
}

static END_ALL: LazyLock<watch::Sender<bool>> = LazyLock::new(|| watch::channel(false).0);

/// Ends every call (shutdown after the grace period).
pub fn end_all_calls() {
    END_ALL.send_replace(true);
}

/// A random tag for From/To.
pub fn new_tag() -> String {
    format!("{:016x}", rand::random::<u64>())
}

/// Starts a call task; returns its input channel.
pub fn spawn(shared: Arc<Shared>, new: NewCall) -> mpsc::UnboundedSender<CallInput> {
    let (tx, rx) = mpsc::unbounded_channel();
    let id = Uuid::now_v7();
    let sip_call_id = new.invite.call_id().unwrap_or_default().to_string();
    let span = tracing::info_span!("call", call = %id, sip_call_id = %sip_call_id);
    let self_tx = tx.clone();
    tokio::spawn(
        async move {
            shared.metrics.active_calls.inc();
            let mut call = Call::new(shared.clone(), id, new, self_tx);
            call.run(rx).await;
            call.finish();
            shared.metrics.active_calls.dec();
            shared.active_calls.fetch_sub(1, Ordering::SeqCst);
        }
        .instrument(span),
    );
    tx
}

/// The caller's side of the call.
struct CallerLeg {
    invite: Request,
    key: TransactionKey,
    target: Target,
    local_tag: String,
    dialog: Option<Dialog>,
    /// A final response was sent to the INVITE.
    answered_final: bool,
    /// 200 sent (the IVR answered).
    answered: bool,
    media: Option<RtpLegHandle>,
    events: Option<mpsc::Receiver<LegEvent>>,
    sdp: SdpSession,
    /// The offer came in the INVITE; otherwise ours goes in the 200 and the answer in the ACK.
    remote_offer: Option<String>,
    /// Session timer: the caller must refresh before this.
    session_deadline: Option<Instant>,
    session_interval: Option<u32>,
    held: bool,
}

struct Call {
    id: Uuid,
    shared: Arc<Shared>,
    self_tx: mpsc::UnboundedSender<CallInput>,
    route_tx: mpsc::UnboundedSender<RouteSignal>,
    route_rx: mpsc::UnboundedReceiver<RouteSignal>,
    caller: CallerLeg,
    ivr: Option<Ivr>,
    dialplan_version: u64,
    phase: Phase,
    /// The agent leg that answered (bridged once the router connects it).
    agent: Option<AgentLeg>,
    /// Offers still ringing, one leg per agent (several at once under ring-all).
    ringing: Vec<AgentLeg>,
    /// Offers made so far (identifies late responses of earlier offers).
    offers: u32,
    /// Agent forks of ended offers that may still answer (late 200: ACK + BYE) or ring.
    stale_forks: Vec<agent_offer::StaleFork>,
    started: Instant,
    sip_call_ids: Vec<String>,
    end: Option<(EndReason, HungUpBy)>,
    /// Set when the call leaves routing: whether it was connected to an agent.
    routed: Option<bool>,
    /// The queue's announcements while the caller waits.
    announcer: Option<announce::Announcer>,
    /// The callback offer while the caller waits.
    callback: callback_offer::CallbackOffer,
    /// The post-call survey the queue node named, then the one running.
    survey: survey::SurveySlot,
    /// The voicemail message being recorded.
    recorder: Option<crate::voicemail::Recorder>,
    /// What the dialplan attached for the agent's screen (`X-Hotline-Data` on offers).
    attached: std::collections::BTreeMap<String, String>,
    /// The legs of `transfer` dials through a trunk.
    trunk: trunk_leg::TrunkSlot,
    /// A `say` node's text is being synthesized and the IVR waits for it.
    speech_pending: bool,
    /// What the dialplan decided about recording (policy node, consent).
    rec: recording::DialplanRecording,
    /// The campaign call this task took over once the customer answered (None: inbound).
    campaign: Option<campaign_call::CampaignLink>,
}

impl Call {
    fn new(
        shared: Arc<Shared>,
        id: Uuid,
        new: NewCall,
        self_tx: mpsc::UnboundedSender<CallInput>,
    ) -> Self {
        let (route_tx, route_rx) = mpsc::unbounded_channel();
        let ip = shared.config.media_ip();
        let sip_call_id = new.invite.call_id().unwrap_or_default().to_string();
        Call {
            id,
            route_tx,
            route_rx,
            caller: CallerLeg {
                invite: new.invite,
                key: new.key,
                target: new.source,
                local_tag: new.local_tag,
                dialog: None,
                answered_final: false,
                answered: false,
                media: None,
                events: None,
                sdp: SdpSession::new(u64::from(rand::random::<u32>()), ip, 0),
                remote_offer: None,
                session_deadline: None,
                session_interval: None,
                held: false,
            },
            ivr: Some(new.ivr),
            dialplan_version: new.dialplan_version,
            phase: Phase::Ivr,
            agent: None,
            ringing: Vec::new(),
            offers: 0,
            stale_forks: Vec::new(),
            started: Instant::now(),
            sip_call_ids: vec![sip_call_id],
            end: None,
            routed: None,
            announcer: None,
            callback: callback_offer::CallbackOffer::default(),
            survey: survey::SurveySlot::None,
            recorder: None,
            attached: std::collections::BTreeMap::new(),
            trunk: trunk_leg::TrunkSlot::default(),
            speech_pending: false,
            rec: recording::DialplanRecording::default(),
            campaign: None,
            shared,
            self_tx,
        }
    }

    async fn run(&mut self, mut rx: mpsc::UnboundedReceiver<CallInput>) {
        if !self.start().await {
            return;
        }
        let mut end_all = END_ALL.subscribe();
        while self.phase != Phase::Ended {
            let ivr_deadline = self.ivr.as_ref().and_then(Ivr::poll_timeout);
            let session_deadline = self.caller.session_deadline;
            let agent_timer = self.agent.as_ref().and_then(|a| a.session_timer());
            let announce_at = self.announce_deadline();
            let survey_at = self.survey_deadline();
            let callback_at = self.callback_deadline();
            tokio::select! {
                input = rx.recv() => match input {
                    Some(input) => self.handle_input(input).await,
                    None => break,
                },
                Some(signal) = self.route_rx.recv() => {
                    let Some(signal) = self.campaign_signal(signal) else {
                        continue;
                    };
                    // A queue node with `exit` takes a caller the queue let go back to the IVR.
                    let back_to_ivr =
                        matches!(signal, RouteSignal::Left { .. }) && self.queue_left_to_ivr();
                    if !back_to_ivr {
                        self.handle_route(signal).await;
                    }
                }
                ev = recv_leg(self.caller.events.as_mut()) => match ev {
                    Some(ev) => self.caller_media_event(ev),
                    None => self.caller.events = None,
                },
                ev = recv_leg(self.agent.as_mut().and_then(|a| a.events.as_mut())) => match ev {
                    Some(ev) => self.agent_media_event(ev),
                    None => if let Some(a) = self.agent.as_mut() { a.events = None },
                },
                () = sleep_until(ivr_deadline) => {
                    if let Some(ivr) = self.ivr.as_mut() {
                        ivr.handle_timeout(Instant::now());
                    }
                    self.drive_ivr();
                }
                () = sleep_until(agent_timer) => self.agent_session_timer(),
                () = sleep_until(self.trunk.ring_deadline()) => self.dial_timed_out(),
                ev = recv_leg(self.trunk.events()) => match ev {
                    Some(ev) => self.trunk_media_event(ev),
                    None => if let Some(l) = self.trunk.active.as_mut() { l.events = None },
                },
                () = sleep_until(announce_at) => self.announce_due(),
                () = sleep_until(survey_at) => self.survey_timed_out(),
                () = sleep_until(callback_at) => self.callback_timer(),
                standing = announce::recv_standing(
                    self.announcer.as_mut().and_then(|a| a.asking.as_mut())
                ) => {
                    self.announce_standing(standing);
                }
                () = sleep_until(session_deadline) => {
                    tracing::info!("session timer expired without refresh");
                    self.hang_up_all(EndReason::Error, HungUpBy::System);
                }
                () = async { let _ = end_all.wait_for(|v| *v).await; } => {
                    self.hang_up_all(EndReason::Shutdown, HungUpBy::System);
                }
            }
        }
    }

    async fn handle_input(&mut self, input: CallInput) {
        match input {
            CallInput::Request {
                request,
                key,
                source,
            } => {
                if self.is_caller_dialog(&request) {
                    self.caller_request(*request, key, source).await;
                } else if self.trunk.owns(request.call_id()) {
                    self.trunk_request(*request, key);
                } else {
                    self.agent_request(*request, key);
                }
            }
            CallInput::Cancelled { invite } => self.caller_cancelled(invite),
            CallInput::Response {
                leg: LegRef::Trunk { dial },
                response,
            } => self.trunk_response(dial, response),
            CallInput::RequestFailed {
                leg: LegRef::Trunk { dial },
                method,
            } => self.trunk_request_failed(dial, method),
            CallInput::DialReady(prep) => self.dial_ready(*prep),
            CallInput::Response { leg, response } => self.agent_response(leg, response),
            CallInput::RequestFailed { leg, method } => self.request_failed(leg, method),
            CallInput::RecordingSilent => self.recording_silent(),
            CallInput::LookupDone(result) => self.lookup_done(result),
            CallInput::SpeechDone(done) => self.speech_done(*done),
            CallInput::AckTimeout { invite } => {
                // Only the 200 that answered the call matters; a lost ACK of a 491 or of a
                // re-INVITE's answer does not end the call.
                if invite == self.caller.key && self.caller.answered {
                    tracing::warn!("no ACK from the caller for our 200 OK");
                    self.hang_up_all(EndReason::Error, HungUpBy::System);
                }
            }
        }
    }

    fn is_caller_dialog(&self, req: &Request) -> bool {
        req.call_id() == self.caller.invite.call_id()
            && req
                .to()
                .and_then(|t| t.tag().map(str::to_string))
                .is_some_and(|t| t == self.caller.local_tag)
    }

    /// Sends a response on a server transaction of the call.
    fn respond(&self, key: &TransactionKey, resp: Response) {
        self.shared.endpoint.send(EndpointCommand::Respond {
            key: key.clone(),
            response: resp,
        });
    }

    fn emit(&self, draft: EventDraft) {
        self.shared.events.emit(self.draft(draft));
    }

    /// Adds the call's ids to an event.
    fn draft(&self, draft: EventDraft) -> EventDraft {
        let mut draft = draft.call(self.id).dialplan_version(self.dialplan_version);
        for c in &self.sip_call_ids {
            draft = draft.sip_call_id(c.clone());
        }
        draft
    }

    /// The caller's number: P-Asserted-Identity from a trunk, else the From user (one rule for
    /// the endpoint and the call, see [`crate::trunk::caller_number`]).
    fn caller_number(&self) -> String {
        if let Some(number) = self.campaign_number() {
            return number;
        }
        crate::trunk::caller_number(
            &self.caller.invite,
            self.caller.target.addr.ip(),
            &self.shared.trunks,
        )
    }

    /// Ends the call: records why, ends both legs.
    fn hang_up_all(&mut self, reason: EndReason, by: HungUpBy) {
        if self.phase == Phase::Ended {
            return;
        }
        self.end.get_or_insert((reason, by));
        self.routed = match self.phase {
            Phase::Queued { .. } => Some(false),
            Phase::Bridged { .. } => Some(true),
            Phase::Ivr | Phase::Ended => None,
        };
        if let Some(ivr) = self.ivr.as_mut() {
            if by == HungUpBy::Caller {
                ivr.handle(Instant::now(), hotline_dialplan::IvrInput::Hangup);
            }
        }
        if by == HungUpBy::Caller {
            self.survey_caller_hung_up();
        }
        self.ivr = None;
        self.end_trunk_legs(by);
        if by != HungUpBy::Agent {
            self.end_agent_legs();
        } else if let Some(mut a) = self.agent.take() {
            a.close_media();
            self.end_agent_legs();
        }
        if by != HungUpBy::Caller {
            self.end_caller_leg();
        }
        self.phase = Phase::Ended;
    }

    /// Cleanup when the task ends: event, dialogs, media.
    fn finish(&mut self) {
        // The conversation's recording ends with the call.
        self.recording_ended();
        // A message being recorded keeps what was said.
        self.stop_recording(hotline_dialplan::RecordingEnd::CallerHungUp);
        let (reason, by) = self.end.unwrap_or((EndReason::Error, HungUpBy::System));
        let reason = self.transferred_reason(reason);
        let duration_ms = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        tracing::info!(?reason, ?by, duration_ms, "call ended");
        let ended = self.draft(EventDraft::new(EventKind::CallEnded {
            reason,
            hung_up_by: by,
            duration_ms,
        }));
        match self.routed {
            Some(connected) => self.shared.router.finish(self.id, connected, ended),
            None => self.shared.events.emit(ended),
        }
        if let Some(call_id) = self.caller.invite.call_id() {
            self.shared.endpoint.send(EndpointCommand::RemoveDialog {
                call_id: call_id.to_string(),
                local_tag: self.caller.local_tag.clone(),
            });
        }
        if let Some(m) = self.caller.media.take() {
            self.count_rtp(&m);
            let _ = m.close();
        }
        for mut a in self.agent.take().into_iter().chain(self.ringing.drain(..)) {
            a.close_media();
        }
        self.trunk.close_all();
        self.campaign_ended();
    }

    fn count_rtp(&self, leg: &RtpLegHandle) {
        let s = leg.stats();
        self.shared
            .metrics
            .rtp_packets
            .with_label_values(&["in"])
            .inc_by(s.rx_packets);
        self.shared
            .metrics
            .rtp_packets
            .with_label_values(&["out"])
            .inc_by(s.tx_packets);
    }

    async fn bind_leg(&self) -> Option<(RtpLegHandle, mpsc::Receiver<LegEvent>)> {
        let config = LegConfig {
            inactivity_timeout: self.shared.config.rtp_timeout,
            ..LegConfig::default()
        };
        // Bind where we listen; the SDP carries the advertised address (NAT).
        let bind_ip = self.shared.config.sip_listen.ip();
        let result = RtpLeg::bind(bind_ip, &self.shared.ports, config).await;
        self.shared
            .metrics
            .rtp_ports_in_use
            .set(i64::try_from(self.shared.ports.in_use()).unwrap_or(i64::MAX));
        match result {
            Ok(leg) => Some(leg),
            Err(e) => {
                tracing::warn!("no RTP leg: {e}");
                None
            }
        }
    }

    fn redacted_caller(&self) -> String {
        let number = self.caller_number();
        CallerNumber::new(&number, self.shared.config.redact_caller_numbers).to_string()
    }
}

async fn recv_leg(events: Option<&mut mpsc::Receiver<LegEvent>>) -> Option<LegEvent> {
    match events {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at.into()).await,
        None => std::future::pending().await,
    }
}

/// Seconds as a Duration, for session timers.
fn secs(n: u32) -> Duration {
    Duration::from_secs(u64::from(n))
}
