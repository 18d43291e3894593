//! Additive accumulators: one per bucket or calendar period; windows are their sums.

use std::collections::BTreeMap;

use hotline_events::AgentState;

use crate::callbacks::CallbackCounters;
use crate::campaigns::CampaignCounters;

/// Something that can be summed over buckets.
pub(crate) trait Merge: Default + Clone {
    /// Adds `other` into `self`.
    fn merge(&mut self, other: &Self);
}

/// Raw sums for one queue over one bucket or period. Call outcomes (answered, abandoned,
/// waits, rings) are counted in the period the call entered the queue; handling times
/// (talk, hold, wrap-up) in the period the work ended.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct QueueCounters {
    pub offered: u64,
    pub answered: u64,
    pub abandoned: u64,
    pub short_abandoned: u64,
    pub answered_within_t: u64,
    pub abandoned_after_t: u64,
    pub wait_answered_ms: u64,
    pub ring_answered_ms: u64,
    pub handled: u64,
    pub talk_ms: u64,
    pub hold_ms: u64,
    pub wrap_up_ms: u64,
    pub surveys: SurveyCounters,
    pub callbacks: CallbackCounters,
    pub campaigns: CampaignCounters,
}

impl Merge for QueueCounters {
    fn merge(&mut self, o: &Self) {
        self.offered += o.offered;
        self.answered += o.answered;
        self.abandoned += o.abandoned;
        self.short_abandoned += o.short_abandoned;
        self.answered_within_t += o.answered_within_t;
        self.abandoned_after_t += o.abandoned_after_t;
        self.wait_answered_ms += o.wait_answered_ms;
        self.ring_answered_ms += o.ring_answered_ms;
        self.handled += o.handled;
        self.talk_ms += o.talk_ms;
        self.hold_ms += o.hold_ms;
        self.wrap_up_ms += o.wrap_up_ms;
        self.surveys.merge(&o.surveys);
        self.callbacks.merge(&o.callbacks);
        self.campaigns.merge(&o.campaigns);
    }
}

/// Post-call survey sums, counted in the period of each survey event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct SurveyCounters {
    /// Surveys that ended (`survey.completed` or `survey.skipped`): each survey offered ends once.
    pub offered: u64,
    /// Surveys completed (every question answered).
    pub responses: u64,
    /// Answers (`survey.answered`).
    pub answers: u64,
    /// Sum of the answers' scores.
    pub score_sum: u64,
}

impl Merge for SurveyCounters {
    fn merge(&mut self, o: &Self) {
        self.offered += o.offered;
        self.responses += o.responses;
        self.answers += o.answers;
        self.score_sum += o.score_sum;
    }
}

/// Number of [`AgentState`] variants.
pub(crate) const STATES: usize = 7;

/// Index of a state in [`AgentCounters::state_ms`].
pub(crate) fn state_index(s: AgentState) -> usize {
    match s {
        AgentState::LoggedOut => 0,
        AgentState::Ready => 1,
        AgentState::Reserved => 2,
        AgentState::Ringing => 3,
        AgentState::OnCall => 4,
        AgentState::WrapUp => 5,
        AgentState::NotReady => 6,
    }
}

/// Raw sums for one agent over one bucket or period. Offers and their outcomes are counted
/// in the period of the offer; handling times in the period the work ended; state time is
/// split exactly across periods.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct AgentCounters {
    pub offers: u64,
    pub answered: u64,
    pub offers_failed: u64,
    pub offers_withdrawn: u64,
    pub ring_answered_ms: u64,
    pub handled: u64,
    pub talk_ms: u64,
    pub hold_ms: u64,
    pub wrap_up_ms: u64,
    pub state_ms: [u64; STATES],
    pub not_ready_ms: BTreeMap<String, u64>,
    pub surveys: SurveyCounters,
    pub callbacks: CallbackCounters,
    pub campaigns: CampaignCounters,
}

impl Merge for AgentCounters {
    fn merge(&mut self, o: &Self) {
        self.offers += o.offers;
        self.answered += o.answered;
        self.offers_failed += o.offers_failed;
        self.offers_withdrawn += o.offers_withdrawn;
        self.ring_answered_ms += o.ring_answered_ms;
        self.handled += o.handled;
        self.talk_ms += o.talk_ms;
        self.hold_ms += o.hold_ms;
        self.wrap_up_ms += o.wrap_up_ms;
        self.surveys.merge(&o.surveys);
        self.callbacks.merge(&o.callbacks);
        self.campaigns.merge(&o.campaigns);
        for (a, b) in self.state_ms.iter_mut().zip(o.state_ms.iter()) {
            *a += b;
        }
        for (reason, ms) in &o.not_ready_ms {
            *self.not_ready_ms.entry(reason.clone()).or_default() += ms;
        }
    }
}

impl AgentCounters {
    /// Adds `ms` of time spent in `state` (with `reason` when not ready).
    pub(crate) fn add_state_time(&mut self, state: AgentState, reason: Option<&str>, ms: u64) {
        if ms == 0 {
            return;
        }
        self.state_ms[state_index(state)] += ms;
        if state == AgentState::NotReady {
            let reason = reason.unwrap_or(crate::report::UNSPECIFIED_REASON);
            *self.not_ready_ms.entry(reason.to_owned()).or_default() += ms;
        }
    }
}

impl Merge for crate::report::CallCounts {
    fn merge(&mut self, o: &Self) {
        self.arrived += o.arrived;
        self.ivr_only += o.ivr_only;
    }
}
