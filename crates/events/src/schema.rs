//! The versioned wire schema of hotline events (`"v": 1`).
//!
//! One event is one JSON object. Common fields come first, then the `type` tag and the
//! fields specific to that type, then the optional correlation fields:
//!
//! ```json
//! {"v":1,"id":"…","seq":7,"ts":"2026-11-23T10:15:02.123Z","node":"hl-1",
//!  "type":"call.queued","position":3,"call_id":"…","queue":"support"}
//! ```
//!
//! Consumers must ignore fields they do not know (new optional fields do not bump `v`),
//! and must deduplicate by `id`: delivery to Redis is at-least-once.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::timestamp::Timestamp;

mod callback;
mod campaign;
mod draft;
mod reasons;
mod recording;
mod scheduled;
mod transfer;
mod voicemail;

pub use callback::{CallbackFailCause, CallbackGiveUpReason};
pub use campaign::CampaignEventBody;
pub use draft::EventDraft;
pub use reasons::{AgentState, EndReason, HungUpBy, OfferFailCause, SurveySkipReason, TtsFailure};
pub use recording::{
    RecordingControl, RecordingInfo, RecordingPause, RecordingReason, RecordingSkipReason,
    RecordingStage,
};
pub use scheduled::{
    AttemptOutcome, ClaimReleaseReason, SamplingOutcome, ScheduledCallback, ScheduledGiveUpReason,
    ScheduledHoldReason,
};
pub use transfer::TransferFailCause;
pub use voicemail::{VoicemailEnd, VoicemailMessage};

/// The schema version written in every event's `v` field.
pub const SCHEMA_VERSION: u32 = 1;

/// One event as written to the journal and published to Redis.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Schema version, [`SCHEMA_VERSION`] for events written by this crate.
    pub v: u32,
    /// Globally unique id (UUID v7, time ordered); consumers deduplicate on it.
    pub id: Uuid,
    /// Per-node sequence number, strictly increasing in journal order, starting at 1.
    pub seq: u64,
    /// When the event was emitted (wall clock, UTC, milliseconds). Emitters run
    /// concurrently, so `ts` may step back by a few milliseconds between consecutive
    /// `seq`s: order by `seq`.
    pub ts: Timestamp,
    /// Name of the hotline node that wrote the event.
    pub node: String,
    /// The type tag and the fields specific to it.
    #[serde(flatten)]
    pub kind: EventKind,
    /// hotline's own id of the call this event is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call_id: Option<Uuid>,
    /// SIP Call-IDs of the call's legs (attributes only; omitted when empty).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sip_call_ids: Vec<String>,
    /// The agent this event is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<String>,
    /// The queue this event is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue: Option<String>,
    /// The version of the dialplan the call runs on (1, 2, ... per process: each dialplan
    /// reload adds one). Set on the events a call emits itself; absent in older journals.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dialplan_version: Option<u64>,
}

impl Event {
    /// The wire name of this event's type, e.g. `"call.queued"`.
    pub fn type_name(&self) -> &'static str {
        self.kind.type_name()
    }
}

/// What happened, with the data specific to that type of event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum EventKind {
    /// A call reached hotline.
    #[serde(rename = "call.arrived")]
    CallArrived {
        /// The caller's number or URI. Personal data: stored as given; the server decides
        /// whether to redact it before emitting.
        from: String,
        /// The dialed number or URI.
        to: String,
    },
    /// hotline answered the call to run its dialplan (IVR).
    #[serde(rename = "call.answered_by_ivr")]
    CallAnsweredByIvr,
    /// An outbound campaign call answered by the customer became a call of hotline: the
    /// outbound counterpart of `call.arrived` (none is written for it), and the first event
    /// under its `call_id`. With `queue` set it is queued for an agent of that queue next
    /// (its `call.queued`, offers, `call.answered`, `call.ended` follow as for a caller);
    /// without, it runs the agentless flow `flow`. Consumers tell campaign conversations
    /// from inbound calls by it.
    #[serde(rename = "call.outbound")]
    CallOutbound {
        /// The campaign's id.
        campaign: String,
        /// The campaign's entry (the customer's record).
        entry: u64,
        /// Which attempt of the entry this is (1 = the first).
        attempt: u32,
        /// The agentless flow the call runs (a number of the dialplan); absent when it goes to
        /// an agent of the event's `queue`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        flow: Option<String>,
    },
    /// The caller pressed a DTMF key in the IVR.
    #[serde(rename = "ivr.digit")]
    IvrDigit {
        /// The key: `0`-`9`, `*`, `#`, `A`-`D`.
        digit: char,
        /// The dialplan node collecting the digit. On the wire `dialplan_node`, because the
        /// event's top-level `node` already names the hotline node.
        dialplan_node: String,
    },
    /// A prompt was played to the caller (by the dialplan or a queue announcement).
    #[serde(rename = "ivr.prompt")]
    IvrPrompt {
        /// The prompt name (`prompts/<language>/<prompt>.wav`).
        prompt: String,
        /// The language folder it was played from.
        language: String,
    },
    /// Text was spoken to the caller by the speech synthesizer (a dialplan `say` with `kind:
    /// text`), or could not be. The text itself may be personal data and is not in the event.
    #[serde(rename = "ivr.tts")]
    IvrTts {
        /// The call language it was spoken in.
        language: String,
        /// The synthesizer's voice (none when the language has no voice).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        voice: Option<String>,
        /// How many characters were spoken (after the configured cut).
        chars: u32,
        /// Whether the audio came from the cache (synthesized for an earlier call).
        cached: bool,
        /// How long the audio plays, in milliseconds (0 when it failed).
        audio_ms: u64,
        /// Why nothing was spoken; absent when it was.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        failure: Option<TtsFailure>,
    },
    /// The call entered a queue.
    #[serde(rename = "call.queued")]
    CallQueued {
        /// 1-based position in the queue on entry.
        position: u32,
    },
    /// The call was offered to an agent (the agent's phone rings).
    #[serde(rename = "call.offered")]
    CallOffered {
        /// How long the agent's phone rings before the offer is withdrawn.
        ring_timeout_ms: u64,
        /// What the dialplan attached to the call for the agent's screen (e.g. CRM fields).
        #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
        data: std::collections::BTreeMap<String, String>,
    },
    /// An offer to an agent failed; the call stays queued.
    #[serde(rename = "call.offer_failed")]
    CallOfferFailed {
        /// Why the offer failed.
        cause: OfferFailCause,
    },
    /// An agent answered the call.
    #[serde(rename = "call.answered")]
    CallAnswered {
        /// Time the caller waited in queue before an agent answered.
        wait_ms: u64,
    },
    /// The caller hung up while waiting in queue.
    #[serde(rename = "call.abandoned")]
    CallAbandoned {
        /// Time the caller waited in queue.
        wait_ms: u64,
        /// The caller's position in queue when they hung up, if known.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        position: Option<u32>,
    },
    /// A callback entry joined a queue directly (the API, or a restart restoring it), at the
    /// place its original entry time gives it.
    #[serde(rename = "callback.queued")]
    CallbackQueued {
        /// The customer's number to call back. Personal data, kept as given because a restart
        /// must dial it; logs redact it.
        number: String,
        /// The customer's reason or note.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<String>,
        /// When the entry originally entered the queue (its age counts from it).
        entered_at: Timestamp,
        /// Its priority (higher is served first).
        #[serde(default)]
        priority: i32,
        /// Dial attempts already made.
        #[serde(default)]
        attempts: u32,
        /// 1-based position in the queue on entry.
        position: u32,
        /// Set for a scheduled callback's entry (its scheduler decides what follows a failed
        /// dial, and a restart leaves it to the scheduler).
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        scheduled: bool,
    },
    /// A waiting caller asked to be called back: the call became a callback entry, keeping its
    /// place and age. The caller's hang-up that follows is not an abandon.
    #[serde(rename = "callback.converted")]
    CallbackConverted {
        /// The customer's number to call back (personal data, as in `callback.queued`).
        number: String,
        /// The customer's reason or note.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<String>,
        /// When the call originally entered the queue.
        entered_at: Timestamp,
        /// Its priority.
        #[serde(default)]
        priority: i32,
    },
    /// The waiting caller is offered a callback.
    #[serde(rename = "callback.offered")]
    CallbackOffered {
        /// How long the caller had waited.
        wait_ms: u64,
    },
    /// The waiting caller accepted the callback offer (pressed 1, and typed and confirmed a
    /// number when their own was withheld or unusable); `callback.converted` follows once the
    /// queue turned the entry into a callback.
    #[serde(rename = "callback.accepted")]
    CallbackAccepted {
        /// Whether the caller typed the number (their own was withheld or unusable).
        number_entered: bool,
    },
    /// A callback's turn came: the agent is reserved and hotline dials the customer.
    #[serde(rename = "callback.due")]
    CallbackDue {
        /// Which attempt this is (1 = the first).
        attempt: u32,
        /// Set for a scheduled callback's entry (dialed by the scheduler's driver).
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        scheduled: bool,
    },
    /// A due callback's customer is about to be dialed through a trunk: journaled and fsynced
    /// before the INVITE, so a crash while it rings leaves the attempt on record.
    #[serde(rename = "callback.dialing")]
    CallbackDialing {
        /// Which attempt this is (1 = the first).
        attempt: u32,
        /// The trunk it goes through.
        trunk: String,
        /// The number the customer sees (From and P-Asserted-Identity), if set.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        caller_id: Option<String>,
        /// The customer's number, redacted as the queue's recordings redact numbers.
        number: String,
    },
    /// The customer and the agent of a callback are talking (a terminal outcome of the entry).
    #[serde(rename = "callback.connected")]
    CallbackConnected {
        /// How long the entry waited, from its original entry time.
        wait_ms: u64,
    },
    /// A callback's dial failed; it waits at its place again unless `callback.given_up`
    /// follows.
    #[serde(rename = "callback.failed")]
    CallbackFailed {
        /// What happened.
        cause: CallbackFailCause,
        /// Attempts made so far, this one included.
        attempts: u32,
        /// How long before it may be dialed again.
        retry_after_ms: u64,
        /// The final SIP status of the customer's leg, if one came.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        sip_status: Option<u16>,
        /// The Q.850 cause of the customer's leg (RFC 3326 `Reason` header), if one came.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        q850_cause: Option<u16>,
    },
    /// The queue gave a callback up (a terminal outcome of the entry).
    #[serde(rename = "callback.given_up")]
    CallbackGivenUp {
        /// How long it waited, from its original entry time.
        wait_ms: u64,
        /// Why.
        reason: CallbackGiveUpReason,
    },
    /// A waiting callback was cancelled (a terminal outcome of the entry).
    #[serde(rename = "callback.cancelled")]
    CallbackCancelled {
        /// How long it waited, from its original entry time.
        wait_ms: u64,
    },
    /// A scheduled callback was created through the API (the scheduler's `created`).
    #[serde(rename = "callback.scheduled")]
    CallbackScheduled(Box<ScheduledCallback>),
    /// A scheduled callback is held: it is not dialed until the reason is gone.
    #[serde(rename = "callback.held")]
    CallbackHeld {
        /// The callback.
        callback_id: Uuid,
        /// Why.
        reason: ScheduledHoldReason,
    },
    /// A scheduled callback's time zone was set (a held callback becomes due again).
    #[serde(rename = "callback.time_zone_set")]
    CallbackTimeZoneSet {
        /// The callback.
        callback_id: Uuid,
        /// The IANA zone.
        time_zone: String,
    },
    /// The scheduler handed a scheduled callback to its queue to reserve an agent.
    #[serde(rename = "callback.claimed")]
    CallbackClaimed {
        /// The callback.
        callback_id: Uuid,
        /// Skills the agent needs.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        skills: Vec<String>,
        /// Its priority now (rising toward the deadline).
        priority: i32,
    },
    /// A claim ended without a dial; the scheduled callback waits again.
    #[serde(rename = "callback.claim_released")]
    CallbackClaimReleased {
        /// The callback.
        callback_id: Uuid,
        /// Why.
        reason: ClaimReleaseReason,
    },
    /// A scheduled callback's dial attempt: written and fsynced before the INVITE (the event's
    /// `agent_id` is the reserved agent).
    #[serde(rename = "callback.attempt_started")]
    CallbackAttemptStarted {
        /// The callback.
        callback_id: Uuid,
        /// 1 for the first attempt.
        attempt: u32,
        /// The number dialed, E.164 (personal data, as in `callback.scheduled`).
        number: String,
        /// The caller ID presented, when the queue sets one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        caller_id: Option<String>,
        /// How long the customer's phone rings.
        ring_timeout_ms: u64,
    },
    /// A scheduled callback's dial attempt ended.
    #[serde(rename = "callback.attempt_ended")]
    CallbackAttemptEnded {
        /// The callback.
        callback_id: Uuid,
        /// Which attempt.
        attempt: u32,
        /// What it came to.
        outcome: AttemptOutcome,
        /// The final SIP status, when one came.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        sip_status: Option<u16>,
        /// The Q.850 cause of the response's Reason header.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        q850_cause: Option<u16>,
        /// The response's Retry-After, ms.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retry_after_ms: Option<u64>,
        /// When it may be dialed again (absent: a terminal event follows).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retry_at: Option<Timestamp>,
    },
    /// A scheduled callback's deadline is `lead_ms` away and it is not done.
    #[serde(rename = "callback.deadline_warning")]
    CallbackDeadlineWarning {
        /// The callback.
        callback_id: Uuid,
        /// Its deadline.
        deadline: Timestamp,
        /// The configured lead time that fired.
        lead_ms: u64,
    },
    /// A scheduled callback's deadline passed and it is not done (it goes on being tried).
    #[serde(rename = "callback.missed_deadline")]
    CallbackMissedDeadline {
        /// The callback.
        callback_id: Uuid,
        /// Its deadline.
        deadline: Timestamp,
    },
    /// The customer of a scheduled callback answered: done.
    #[serde(rename = "callback.completed")]
    CallbackCompleted {
        /// The callback.
        callback_id: Uuid,
        /// The attempt that reached the customer.
        attempt: u32,
        /// Whether it was done by its deadline (true without a deadline).
        within_deadline: bool,
        /// Its deadline, if it had one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        deadline: Option<Timestamp>,
    },
    /// A scheduled callback was cancelled.
    #[serde(rename = "callback.scheduled_cancelled")]
    CallbackScheduledCancelled {
        /// The callback.
        callback_id: Uuid,
    },
    /// A scheduled callback was given up.
    #[serde(rename = "callback.scheduled_given_up")]
    CallbackScheduledGivenUp {
        /// The callback.
        callback_id: Uuid,
        /// Why.
        reason: ScheduledGiveUpReason,
        /// Attempts made.
        attempts: u32,
    },
    /// A `transfer` node dials an outside number through a trunk.
    #[serde(rename = "transfer.started")]
    TransferStarted {
        /// The number dialed, in E.164 (personal data, kept like `call.arrived`'s numbers).
        number: String,
        /// The trunk dialed through.
        trunk: String,
    },
    /// The outside number answered; the caller is bridged to it.
    #[serde(rename = "transfer.answered")]
    TransferAnswered {
        /// The number dialed, in E.164.
        number: String,
        /// The trunk dialed through.
        trunk: String,
        /// Time from the INVITE to the answer.
        ring_ms: u64,
    },
    /// A transfer's dial failed (or was refused before dialing); the node's `failed` branch runs.
    #[serde(rename = "transfer.failed")]
    TransferFailed {
        /// The number as the dialplan gave it (E.164 when it has that form).
        number: String,
        /// The trunk, when one was chosen.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        trunk: Option<String>,
        /// Why.
        cause: TransferFailCause,
        /// The final SIP status from the trunk, when there was one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        status: Option<u16>,
    },
    /// The call ended (always the last event of a call).
    #[serde(rename = "call.ended")]
    CallEnded {
        /// Why the call ended.
        reason: EndReason,
        /// Which party hung up.
        hung_up_by: HungUpBy,
        /// Time from arrival to end.
        duration_ms: u64,
    },
    /// An agent's phone registered (REGISTER accepted).
    #[serde(rename = "agent.registered")]
    AgentRegistered {
        /// The registered contact URIs.
        contacts: Vec<String>,
        /// Registration lifetime in seconds.
        expires: u32,
    },
    /// An agent's registration was removed or expired.
    #[serde(rename = "agent.unregistered")]
    AgentUnregistered,
    /// An agent's routing state changed.
    #[serde(rename = "agent.state_changed")]
    AgentStateChanged {
        /// State before the change.
        from: AgentState,
        /// State after the change.
        to: AgentState,
        /// Why the agent is not ready (`missed_offer`, or the reason given through the API).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// An agent's skills were replaced (through the API); the full new set.
    #[serde(rename = "agent.skills_changed")]
    AgentSkillsChanged {
        /// Proficiency 1-10 per skill name.
        skills: std::collections::BTreeMap<String, u8>,
    },
    /// The configuration file set an agent's skills: written at start when the file's skills
    /// differ from the last ones journaled (or none were), and by a reload that changes them.
    /// They are in force from then on and replace skills set through the API.
    #[serde(rename = "agent.skills_configured")]
    AgentSkillsConfigured {
        /// Proficiency 1-10 per skill name, as in the file.
        skills: std::collections::BTreeMap<String, u8>,
    },
    /// The call was put on hold.
    #[serde(rename = "call.held")]
    CallHeld,
    /// The call was taken off hold.
    #[serde(rename = "call.resumed")]
    CallResumed,
    /// A dialplan version went live for new calls: the one read at start (version 1), then each
    /// reload that changed it. Versions count from 1 in each process, so a journal spanning
    /// restarts tells them apart by order: a call's `dialplan_version` is that of the last
    /// `dialplan.loaded` before its `call.arrived`.
    #[serde(rename = "dialplan.loaded")]
    DialplanLoaded {
        /// The version number calls starting on it carry as `dialplan_version`.
        version: u64,
        /// SHA-256 of the dialplan file's content, lowercase hex.
        hash: String,
        /// The file it was read from.
        file: String,
    },
    /// The caller answered one question of a survey: a post-call one (after the agent hung
    /// up; the event names the call, the agent and the queue of the conversation) or a
    /// dialplan `survey` node's (no agent or queue; on an outbound campaign call the event
    /// names the campaign, the customer's record and the attempt).
    #[serde(rename = "survey.answered")]
    SurveyAnswered {
        /// The survey's name (the dialplan's `surveys:`).
        survey: String,
        /// 0-based index of the question in the survey.
        question: u32,
        /// The digit pressed, within the question's `min`..=`max`.
        score: u8,
        /// The outbound campaign whose call this is; absent on other calls.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        campaign: Option<String>,
        /// The campaign's entry (the customer's record), with `campaign`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        entry: Option<u64>,
        /// The attempt of the entry (1 = the first), with `campaign`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        attempt: Option<u32>,
    },
    /// The caller answered every question of a survey (one outcome per survey offered).
    #[serde(rename = "survey.completed")]
    SurveyCompleted {
        /// The survey's name.
        survey: String,
        /// Questions answered.
        answered: u32,
        /// The outbound campaign whose call this is; absent on other calls.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        campaign: Option<String>,
        /// The campaign's entry (the customer's record), with `campaign`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        entry: Option<u64>,
        /// The attempt of the entry (1 = the first), with `campaign`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        attempt: Option<u32>,
    },
    /// A survey ended before every question was answered (one outcome per survey offered).
    #[serde(rename = "survey.skipped")]
    SurveySkipped {
        /// The survey's name.
        survey: String,
        /// Questions answered before it ended.
        answered: u32,
        /// Why it ended.
        reason: SurveySkipReason,
        /// The outbound campaign whose call this is; absent on other calls.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        campaign: Option<String>,
        /// The campaign's entry (the customer's record), with `campaign`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        entry: Option<u64>,
        /// The attempt of the entry (1 = the first), with `campaign`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        attempt: Option<u32>,
    },
    /// A voicemail message was recorded to a box (WAV file plus a JSON sidecar beside it).
    #[serde(rename = "voicemail.recorded")]
    VoicemailRecorded(Box<VoicemailMessage>),
    /// A voicemail recording was too short to keep (under a second) and was dropped.
    #[serde(rename = "voicemail.empty")]
    VoicemailEmpty {
        /// The box.
        #[serde(rename = "box")]
        mailbox: String,
        /// The length that was recorded.
        duration_ms: u64,
        /// Why recording ended.
        end_reason: VoicemailEnd,
    },
    /// Call recording started (when the agent was bridged, or when the API asked).
    #[serde(rename = "recording.started")]
    RecordingStarted {
        /// The WAV file's path relative to the recordings folder (`YYYY/MM/DD/<call-id>.wav`).
        file: String,
        /// Why the call is recorded.
        reason: RecordingReason,
    },
    /// Recording was paused (e.g. while the customer reads a card number): silence follows.
    #[serde(rename = "recording.paused")]
    RecordingPaused {
        /// Where in the audio the silence starts, ms.
        at_ms: u64,
        /// Who paused it.
        by: RecordingControl,
    },
    /// Recording resumed after a pause.
    #[serde(rename = "recording.resumed")]
    RecordingResumed {
        /// Where in the audio the sound resumes, ms.
        at_ms: u64,
        /// Who resumed it.
        by: RecordingControl,
    },
    /// A recording was finished: the same facts as its JSON sidecar (the call, queue and agent
    /// are the event's own fields).
    #[serde(rename = "recording.completed")]
    RecordingCompleted(Box<RecordingInfo>),
    /// A recording stopped because its files could not be written (the call went on).
    #[serde(rename = "recording.failed")]
    RecordingFailed {
        /// The WAV file's path relative to the recordings folder.
        file: String,
        /// What was being done.
        stage: RecordingStage,
        /// The error.
        error: String,
        /// Audio written before the failure, ms.
        duration_ms: u64,
    },
    /// A call reached an agent (or a recorded IVR) without being recorded, and why.
    #[serde(rename = "recording.skipped")]
    RecordingSkipped {
        /// Why the call is not recorded.
        reason: RecordingSkipReason,
        /// The dialplan `set` node whose policy decided; absent: the queue's policy.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        policy_node: Option<String>,
    },
    /// A recording was deleted by the queue's retention.
    #[serde(rename = "recording.deleted")]
    RecordingDeleted {
        /// The WAV file's path relative to the recordings folder.
        file: String,
        /// The recording's age in days when deleted.
        age_days: u32,
    },
    /// A campaign was created (`spec`: its specification).
    #[serde(rename = "campaign.created")]
    CampaignCreated(CampaignEventBody),
    /// Records were added to a campaign (`first` entry id, `records`, `not_added`).
    #[serde(rename = "campaign.records_added")]
    CampaignRecordsAdded(CampaignEventBody),
    /// Numbers joined a campaign's do-not-call list (`numbers`).
    #[serde(rename = "campaign.dnc_added")]
    CampaignDncAdded(CampaignEventBody),
    /// Numbers were taken off a campaign's do-not-call list (`numbers`).
    #[serde(rename = "campaign.dnc_removed")]
    CampaignDncRemoved(CampaignEventBody),
    /// A campaign started, paused, resumed or stopped (`state`).
    #[serde(rename = "campaign.run_state_changed")]
    CampaignRunStateChanged(CampaignEventBody),
    /// A preview record was offered to an agent (`entry`, `agent`).
    #[serde(rename = "campaign.offered")]
    CampaignOffered(CampaignEventBody),
    /// A preview offer ended without a dial (`entry`, `reason`, `retry_at`).
    #[serde(rename = "campaign.offer_skipped")]
    CampaignOfferSkipped(CampaignEventBody),
    /// A campaign dial starts (`entry`, `attempt`, `number`, `trunk`): fsynced before its INVITE.
    #[serde(rename = "campaign.attempt_started")]
    CampaignAttemptStarted(CampaignEventBody),
    /// The customer's side answered a campaign dial (`entry`, `attempt`).
    #[serde(rename = "campaign.picked_up")]
    CampaignPickedUp(CampaignEventBody),
    /// Who answered a campaign dial and what is done with it (`verdict`, `action`).
    #[serde(rename = "campaign.answered")]
    CampaignAnswered(CampaignEventBody),
    /// An agent took an answered campaign call (`agent`, `after`, `late`, `live`).
    #[serde(rename = "campaign.connected")]
    CampaignConnected(CampaignEventBody),
    /// An answered campaign call no agent took in time (`number`, `live`).
    #[serde(rename = "campaign.abandoned")]
    CampaignAbandoned(CampaignEventBody),
    /// A campaign attempt ended (`result`, `outcome`, `next`).
    #[serde(rename = "campaign.attempt_ended")]
    CampaignAttemptEnded(CampaignEventBody),
    /// A due campaign record was held (`reason`, `until`).
    #[serde(rename = "campaign.held")]
    CampaignHeld(CampaignEventBody),
    /// A campaign record is not dialed any more (`reason`).
    #[serde(rename = "campaign.given_up")]
    CampaignGivenUp(CampaignEventBody),
    /// An agent finished a campaign call (`talk`, `wrap`).
    #[serde(rename = "campaign.call_handled")]
    CampaignCallHandled(CampaignEventBody),
}

impl EventKind {
    /// The wire name of this type, e.g. `"call.queued"`.
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::CallArrived { .. } => "call.arrived",
            Self::CallAnsweredByIvr => "call.answered_by_ivr",
            Self::CallOutbound { .. } => "call.outbound",
            Self::IvrDigit { .. } => "ivr.digit",
            Self::IvrPrompt { .. } => "ivr.prompt",
            Self::IvrTts { .. } => "ivr.tts",
            Self::CallQueued { .. } => "call.queued",
            Self::CallOffered { .. } => "call.offered",
            Self::CallOfferFailed { .. } => "call.offer_failed",
            Self::CallAnswered { .. } => "call.answered",
            Self::CallAbandoned { .. } => "call.abandoned",
            Self::CallbackQueued { .. } => "callback.queued",
            Self::CallbackConverted { .. } => "callback.converted",
            Self::CallbackOffered { .. } => "callback.offered",
            Self::CallbackAccepted { .. } => "callback.accepted",
            Self::CallbackDue { .. } => "callback.due",
            Self::CallbackDialing { .. } => "callback.dialing",
            Self::CallbackConnected { .. } => "callback.connected",
            Self::CallbackFailed { .. } => "callback.failed",
            Self::CallbackGivenUp { .. } => "callback.given_up",
            Self::CallbackCancelled { .. } => "callback.cancelled",
            Self::CallbackScheduled(_) => "callback.scheduled",
            Self::CallbackHeld { .. } => "callback.held",
            Self::CallbackTimeZoneSet { .. } => "callback.time_zone_set",
            Self::CallbackClaimed { .. } => "callback.claimed",
            Self::CallbackClaimReleased { .. } => "callback.claim_released",
            Self::CallbackAttemptStarted { .. } => "callback.attempt_started",
            Self::CallbackAttemptEnded { .. } => "callback.attempt_ended",
            Self::CallbackDeadlineWarning { .. } => "callback.deadline_warning",
            Self::CallbackMissedDeadline { .. } => "callback.missed_deadline",
            Self::CallbackCompleted { .. } => "callback.completed",
            Self::CallbackScheduledCancelled { .. } => "callback.scheduled_cancelled",
            Self::CallbackScheduledGivenUp { .. } => "callback.scheduled_given_up",
            Self::CallEnded { .. } => "call.ended",
            Self::TransferStarted { .. } => "transfer.started",
            Self::TransferAnswered { .. } => "transfer.answered",
            Self::TransferFailed { .. } => "transfer.failed",
            Self::AgentRegistered { .. } => "agent.registered",
            Self::AgentUnregistered => "agent.unregistered",
            Self::AgentStateChanged { .. } => "agent.state_changed",
            Self::AgentSkillsChanged { .. } => "agent.skills_changed",
            Self::AgentSkillsConfigured { .. } => "agent.skills_configured",
            Self::CallHeld => "call.held",
            Self::CallResumed => "call.resumed",
            Self::DialplanLoaded { .. } => "dialplan.loaded",
            Self::SurveyAnswered { .. } => "survey.answered",
            Self::SurveyCompleted { .. } => "survey.completed",
            Self::SurveySkipped { .. } => "survey.skipped",
            Self::VoicemailRecorded(_) => "voicemail.recorded",
            Self::VoicemailEmpty { .. } => "voicemail.empty",
            Self::RecordingStarted { .. } => "recording.started",
            Self::RecordingPaused { .. } => "recording.paused",
            Self::RecordingResumed { .. } => "recording.resumed",
            Self::RecordingCompleted(_) => "recording.completed",
            Self::RecordingFailed { .. } => "recording.failed",
            Self::RecordingDeleted { .. } => "recording.deleted",
            Self::RecordingSkipped { .. } => "recording.skipped",
            Self::CampaignCreated(_) => "campaign.created",
            Self::CampaignRecordsAdded(_) => "campaign.records_added",
            Self::CampaignDncAdded(_) => "campaign.dnc_added",
            Self::CampaignDncRemoved(_) => "campaign.dnc_removed",
            Self::CampaignRunStateChanged(_) => "campaign.run_state_changed",
            Self::CampaignOffered(_) => "campaign.offered",
            Self::CampaignOfferSkipped(_) => "campaign.offer_skipped",
            Self::CampaignAttemptStarted(_) => "campaign.attempt_started",
            Self::CampaignPickedUp(_) => "campaign.picked_up",
            Self::CampaignAnswered(_) => "campaign.answered",
            Self::CampaignConnected(_) => "campaign.connected",
            Self::CampaignAbandoned(_) => "campaign.abandoned",
            Self::CampaignAttemptEnded(_) => "campaign.attempt_ended",
            Self::CampaignHeld(_) => "campaign.held",
            Self::CampaignGivenUp(_) => "campaign.given_up",
            Self::CampaignCallHandled(_) => "campaign.call_handled",
        }
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod wire_tests;
