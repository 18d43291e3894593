//! The campaign engine's events: every change of state is one, written to the journal (and
//! fsynced) before the driver acts on it; folding them in order rebuilds the engine.
//!
//! JSON: internally tagged with `type` in snake_case, instants as RFC 3339, durations as text.

use std::collections::BTreeMap;
use std::time::Duration;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::spec::{CampaignId, CampaignSpec, TrunkName};
use crate::ids::AgentName;
use crate::number::E164;
use crate::outcome::{DialOutcome, OutcomeKind};
use crate::time::{duration_text, instant_text, option_duration_text, option_instant_text, Zone};

/// A record's index in its campaign (in the order records were added).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(transparent)]
pub struct EntryId(pub u64);

/// A customer to call, as added to a campaign (due window resolved).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryRecord {
    /// The list line it came from.
    pub line: u64,
    /// Whom to call.
    pub number: E164,
    /// The customer's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The customer's zone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<Zone>,
    /// Higher first.
    #[serde(default)]
    pub priority: i32,
    /// Not dialed before this.
    #[serde(with = "instant_text")]
    pub not_before: Timestamp,
    /// Given up when not done by this.
    #[serde(
        default,
        with = "option_instant_text",
        skip_serializing_if = "Option::is_none"
    )]
    pub deadline: Option<Timestamp>,
    /// Free attributes.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: BTreeMap<String, String>,
}

/// A record not added, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "reason")]
pub enum NotAdded {
    /// Its number is already in the campaign (this import or an earlier one).
    Duplicate {
        /// The list line.
        line: u64,
        /// The number.
        number: E164,
        /// The entry that has it.
        of: EntryId,
    },
    /// Its due window cannot be resolved.
    BadDue {
        /// The list line.
        line: u64,
        /// What is wrong.
        problem: String,
    },
}

/// Where a campaign is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunState {
    /// Created, not started.
    Created,
    /// Dialing.
    Running,
    /// Not dialing; state kept; resumes where it was.
    Paused,
    /// Dialing ended for good.
    Stopped,
}

/// What the answering-machine detector said.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnswerVerdict {
    /// A person.
    Human,
    /// An answering machine.
    Machine,
    /// Undecided.
    NotSure,
}

/// What the engine decided for an answered call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnswerAction {
    /// Connect to an agent within the profile's connect time; `live` says whether it counts
    /// as a live answer for the abandonment rate.
    ToAgent {
        /// Counted as answered by a person.
        live: bool,
    },
    /// Run the agentless flow.
    Flow,
    /// Hang up (a machine).
    Drop,
    /// Leave the campaign's message on the machine.
    LeaveMessage,
}

/// How an agentless flow ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgentlessResult {
    /// The flow ran to its end.
    Completed,
    /// The customer hung up before its end.
    HungUp,
}

/// What an attempt came to (the per-outcome counts of a campaign).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttemptResult {
    /// Answered and connected to an agent.
    Connected,
    /// A live answer no agent took in time.
    Abandoned,
    /// A machine answered; the call was dropped.
    MachineDropped,
    /// A machine answered; the message was left.
    MessageLeft,
    /// The agentless flow ran to its end.
    FlowCompleted,
    /// The customer hung up during the agentless flow.
    FlowHungUp,
    /// Busy.
    Busy,
    /// Not answered.
    NoAnswer,
    /// The number does not exist.
    InvalidNumber,
    /// Declined.
    Rejected,
    /// Network or trunk failure.
    NetworkFailure,
    /// Never reported (a crash, a silent driver).
    Unknown,
}

impl AttemptResult {
    /// The result of a dial that was not answered.
    pub fn of_failure(kind: OutcomeKind) -> Self {
        match kind {
            OutcomeKind::Busy => Self::Busy,
            OutcomeKind::NoAnswer => Self::NoAnswer,
            OutcomeKind::InvalidNumber => Self::InvalidNumber,
            OutcomeKind::Rejected => Self::Rejected,
            OutcomeKind::NetworkFailure => Self::NetworkFailure,
            // An answer is never a failure; it is reported through the answer's own events.
            OutcomeKind::Answered | OutcomeKind::Unknown => Self::Unknown,
        }
    }

    /// The SIP outcome whose retry rule applies, if any.
    pub fn outcome_kind(self) -> Option<OutcomeKind> {
        match self {
            Self::Busy => Some(OutcomeKind::Busy),
            Self::NoAnswer => Some(OutcomeKind::NoAnswer),
            Self::InvalidNumber => Some(OutcomeKind::InvalidNumber),
            Self::Rejected => Some(OutcomeKind::Rejected),
            Self::NetworkFailure => Some(OutcomeKind::NetworkFailure),
            Self::Unknown => Some(OutcomeKind::Unknown),
            _ => None,
        }
    }
}

/// What happens to a record after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "step")]
pub enum NextStep {
    /// Dialed again from `at` on.
    Retry {
        /// Not before this.
        #[serde(with = "instant_text")]
        at: Timestamp,
    },
    /// Done: the attempt's result is final.
    Done,
    /// Not dialed again.
    GivenUp {
        /// Why.
        reason: GiveUpReason,
    },
}

/// Why a record is not dialed any more.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GiveUpReason {
    /// Its attempts (in all, or of one outcome) are used up.
    AttemptsExhausted,
    /// On a do-not-call list at dial time.
    DoNotCall,
    /// The number does not exist.
    InvalidNumber,
    /// Its deadline passed.
    Expired,
    /// No time zone, so no calling window can be checked.
    NoTimeZone,
}

/// Why a record that was due is held instead of dialed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HoldReason {
    /// Outside the calling window in the customer's local time.
    OutsideWindow,
    /// An abandoned call to the number, by any campaign, is too recent (UK: 72 h).
    NoRedialBar,
    /// The dial found no free channel or call-rate token on its trunk when it was to start:
    /// the `attempt_started` before it is taken back (no attempt used, no dial counted).
    TrunkBusy,
}

/// Why a preview offer ended without a dial.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    /// The agent skipped it.
    Agent,
    /// The agent did not answer in time.
    Timeout,
    /// The campaign was paused or stopped.
    NotRunning,
    /// The engine restarted with the offer open.
    Restart,
}

/// One change of the engine's state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum CampaignEvent {
    /// A campaign was created.
    Created {
        /// When.
        #[serde(with = "instant_text")]
        at: Timestamp,
        /// Its specification.
        spec: Box<CampaignSpec>,
    },
    /// Records were added (entries `first`, `first + 1`, ...), others reported.
    RecordsAdded {
        /// When.
        #[serde(with = "instant_text")]
        at: Timestamp,
        /// The campaign.
        campaign: CampaignId,
        /// The first new entry's id.
        first: EntryId,
        /// The records added.
        records: Vec<EntryRecord>,
        /// The records not added.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        not_added: Vec<NotAdded>,
    },
    /// Numbers joined the campaign's do-not-call list.
    DncAdded {
        /// When.
        #[serde(with = "instant_text")]
        at: Timestamp,
        /// The campaign.
        campaign: CampaignId,
        /// The numbers.
        numbers: Vec<E164>,
    },
    /// Numbers were taken off the campaign's do-not-call list.
    DncRemoved {
        /// When.
        #[serde(with = "instant_text")]
        at: Timestamp,
        /// The campaign.
        campaign: CampaignId,
        /// The numbers.
        numbers: Vec<E164>,
    },
    /// The campaign's run state changed (start, pause, stop, resume).
    RunStateChanged {
        /// When.
        #[serde(with = "instant_text")]
        at: Timestamp,
        /// The campaign.
        campaign: CampaignId,
        /// The new state.
        state: RunState,
    },
    /// A preview record went to an agent.
    Offered {
        /// When.
        #[serde(with = "instant_text")]
        at: Timestamp,
        /// The campaign.
        campaign: CampaignId,
        /// The entry.
        entry: EntryId,
        /// The agent.
        agent: AgentName,
    },
    /// A preview offer ended without a dial; the record is due again at `retry_at`.
    OfferSkipped {
        /// When.
        #[serde(with = "instant_text")]
        at: Timestamp,
        /// The campaign.
        campaign: CampaignId,
        /// The entry.
        entry: EntryId,
        /// Why.
        reason: SkipReason,
        /// Due again from then.
        #[serde(with = "instant_text")]
        retry_at: Timestamp,
    },
    /// A dial starts: written and fsynced before the INVITE.
    AttemptStarted {
        /// When.
        #[serde(with = "instant_text")]
        at: Timestamp,
        /// The campaign.
        campaign: CampaignId,
        /// The entry.
        entry: EntryId,
        /// The attempt's number (1 for the first).
        attempt: u32,
        /// Whom.
        number: E164,
        /// The trunk.
        trunk: TrunkName,
        /// The preview agent who accepted it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        agent: Option<AgentName>,
    },
    /// The customer's side answered (SIP 2xx) and detection runs.
    PickedUp {
        /// When.
        #[serde(with = "instant_text")]
        at: Timestamp,
        /// The campaign.
        campaign: CampaignId,
        /// The entry.
        entry: EntryId,
        /// The attempt.
        attempt: u32,
    },
    /// Who answered, and what the engine does with the call.
    Answered {
        /// When.
        #[serde(with = "instant_text")]
        at: Timestamp,
        /// The campaign.
        campaign: CampaignId,
        /// The entry.
        entry: EntryId,
        /// The attempt.
        attempt: u32,
        /// The detector's verdict.
        verdict: AnswerVerdict,
        /// The decision.
        action: AnswerAction,
    },
    /// An agent took the answered call; `late` when after the profile's connect time counted
    /// from the end of the person's greeting (then it counts as abandoned in the rate).
    Connected {
        /// When.
        #[serde(with = "instant_text")]
        at: Timestamp,
        /// The campaign.
        campaign: CampaignId,
        /// The entry.
        entry: EntryId,
        /// The attempt.
        attempt: u32,
        /// The agent.
        agent: AgentName,
        /// From the answer to the agent.
        #[serde(with = "duration_text")]
        after: Duration,
        /// From the end of the person's greeting (the answer when none was measured) to the
        /// agent: what `late` was decided on (absent in journals written before it was kept,
        /// whose `late` was decided on `after`; replay keeps the verdict written).
        #[serde(
            default,
            skip_serializing_if = "Option::is_none",
            with = "option_duration_text"
        )]
        since_greeting: Option<Duration>,
        /// After the profile's connect time.
        late: bool,
        /// Counted as a live answer.
        live: bool,
    },
    /// A live answer no agent took in time (the customer heard the abandon message).
    Abandoned {
        /// When.
        #[serde(with = "instant_text")]
        at: Timestamp,
        /// The campaign.
        campaign: CampaignId,
        /// The entry.
        entry: EntryId,
        /// The attempt.
        attempt: u32,
        /// The number (barred from redial per the profile).
        number: E164,
        /// Counted as a live answer.
        live: bool,
    },
    /// An attempt ended: its result and what happens next.
    AttemptEnded {
        /// When.
        #[serde(with = "instant_text")]
        at: Timestamp,
        /// The campaign.
        campaign: CampaignId,
        /// The entry.
        entry: EntryId,
        /// The attempt.
        attempt: u32,
        /// What it came to.
        result: AttemptResult,
        /// What SIP said, for failures.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        outcome: Option<DialOutcome>,
        /// What happens next.
        next: NextStep,
    },
    /// A due record was not dialed; due again at `until`.
    Held {
        /// When.
        #[serde(with = "instant_text")]
        at: Timestamp,
        /// The campaign.
        campaign: CampaignId,
        /// The entry.
        entry: EntryId,
        /// Why.
        reason: HoldReason,
        /// Due again from then.
        #[serde(with = "instant_text")]
        until: Timestamp,
    },
    /// A record is not dialed any more (checked at dial time).
    GivenUp {
        /// When.
        #[serde(with = "instant_text")]
        at: Timestamp,
        /// The campaign.
        campaign: CampaignId,
        /// The entry.
        entry: EntryId,
        /// Why.
        reason: GiveUpReason,
    },
    /// An agent finished a campaign call: its talk and wrap-up times feed the pacer.
    CallHandled {
        /// When.
        #[serde(with = "instant_text")]
        at: Timestamp,
        /// The campaign.
        campaign: CampaignId,
        /// Talk time.
        #[serde(with = "duration_text")]
        talk: Duration,
        /// Wrap-up time.
        #[serde(with = "duration_text")]
        wrap: Duration,
    },
}

impl CampaignEvent {
    /// When it happened.
    pub fn at(&self) -> Timestamp {
        match self {
            Self::Created { at, .. }
            | Self::RecordsAdded { at, .. }
            | Self::DncAdded { at, .. }
            | Self::DncRemoved { at, .. }
            | Self::RunStateChanged { at, .. }
            | Self::Offered { at, .. }
            | Self::OfferSkipped { at, .. }
            | Self::AttemptStarted { at, .. }
            | Self::PickedUp { at, .. }
            | Self::Answered { at, .. }
            | Self::Connected { at, .. }
            | Self::Abandoned { at, .. }
            | Self::AttemptEnded { at, .. }
            | Self::Held { at, .. }
            | Self::GivenUp { at, .. }
            | Self::CallHandled { at, .. } => *at,
        }
    }

    /// The campaign it is about.
    pub fn campaign(&self) -> &CampaignId {
        match self {
            Self::Created { spec, .. } => &spec.id,
            Self::RecordsAdded { campaign, .. }
            | Self::DncAdded { campaign, .. }
            | Self::DncRemoved { campaign, .. }
            | Self::RunStateChanged { campaign, .. }
            | Self::Offered { campaign, .. }
            | Self::OfferSkipped { campaign, .. }
            | Self::AttemptStarted { campaign, .. }
            | Self::PickedUp { campaign, .. }
            | Self::Answered { campaign, .. }
            | Self::Connected { campaign, .. }
            | Self::Abandoned { campaign, .. }
            | Self::AttemptEnded { campaign, .. }
            | Self::Held { campaign, .. }
            | Self::GivenUp { campaign, .. }
            | Self::CallHandled { campaign, .. } => campaign,
        }
    }

    /// The `type` tag, as in JSON.
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::Created { .. } => "created",
            Self::RecordsAdded { .. } => "records_added",
            Self::DncAdded { .. } => "dnc_added",
            Self::DncRemoved { .. } => "dnc_removed",
            Self::RunStateChanged { .. } => "run_state_changed",
            Self::Offered { .. } => "offered",
            Self::OfferSkipped { .. } => "offer_skipped",
            Self::AttemptStarted { .. } => "attempt_started",
            Self::PickedUp { .. } => "picked_up",
            Self::Answered { .. } => "answered",
            Self::Connected { .. } => "connected",
            Self::Abandoned { .. } => "abandoned",
            Self::AttemptEnded { .. } => "attempt_ended",
            Self::Held { .. } => "held",
            Self::GivenUp { .. } => "given_up",
            Self::CallHandled { .. } => "call_handled",
        }
    }
}
