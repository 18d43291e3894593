//! Callback counts and the callback-completion KPI: the sums kept per bucket and the values
//! reported per queue and per agent.
//!
//! A callback is a queue entry with nobody on the line: an in-queue callback (a waiting
//! caller pressed 1: `callback.converted`; or an entry created directly: `callback.queued`)
//! or a scheduled callback (`callback.scheduled`). When its turn comes an agent is reserved
//! and the customer dialed (`callback.due`, one per attempt); an attempt ends connected
//! (`callback.connected`) or failed (`callback.failed`, with a cause); the callback ends
//! connected, given up or cancelled. The conversation that follows a connection is counted
//! like any handled call of the agent and the queue (talk, hold, wrap-up, AHT), and apart in
//! [`CallbackKpis::handled`] / [`CallbackKpis::talk_ms`]; it is never a new offered or answered
//! inbound call.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::counters::Merge;

/// Raw callback sums for one queue or agent over one bucket or period, each counted in the
/// period of its event (completion: of the instant the callback became due, see
/// [`CallbackKpis::due`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct CallbackCounters {
    pub requested: u64,
    pub scheduled: u64,
    pub dialed: u64,
    pub customer_dialed: u64,
    pub connected: u64,
    pub failed: u64,
    pub failed_by_cause: BTreeMap<String, u64>,
    pub given_up: u64,
    pub cancelled: u64,
    pub handled: u64,
    pub talk_ms: u64,
    pub hold_ms: u64,
    pub due: u64,
    pub completed: u64,
    pub completed_within: u64,
    pub missed_deadline: u64,
}

impl Merge for CallbackCounters {
    fn merge(&mut self, o: &Self) {
        self.requested += o.requested;
        self.scheduled += o.scheduled;
        self.dialed += o.dialed;
        self.customer_dialed += o.customer_dialed;
        self.connected += o.connected;
        self.failed += o.failed;
        for (cause, n) in &o.failed_by_cause {
            *self.failed_by_cause.entry(cause.clone()).or_default() += n;
        }
        self.given_up += o.given_up;
        self.cancelled += o.cancelled;
        self.handled += o.handled;
        self.talk_ms += o.talk_ms;
        self.hold_ms += o.hold_ms;
        self.due += o.due;
        self.completed += o.completed;
        self.completed_within += o.completed_within;
        self.missed_deadline += o.missed_deadline;
    }
}

/// The band a callback-completion figure scores in (`KPIS.md`: 100 / 95 / 80 / 75%).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CompletionBand {
    /// Every callback due was completed within its due window.
    Full,
    /// At least 95%.
    AtLeast95,
    /// At least 80%.
    AtLeast80,
    /// At least 75%.
    AtLeast75,
    /// Under 75%.
    Below75,
}

impl CompletionBand {
    /// The band of `within` completed in time out of `due`; `None` when nothing was due.
    /// Compared on whole numbers, so 19 of 20 is exactly 95%.
    pub fn of(within: u64, due: u64) -> Option<Self> {
        if due == 0 {
            return None;
        }
        let pct = |p: u64| u128::from(within) * 100 >= u128::from(due) * u128::from(p);
        Some(if within >= due {
            Self::Full
        } else if pct(95) {
            Self::AtLeast95
        } else if pct(80) {
            Self::AtLeast80
        } else if pct(75) {
            Self::AtLeast75
        } else {
            Self::Below75
        })
    }

    /// The band's floor in percent (0 for [`CompletionBand::Below75`]): the value of the
    /// `callback_completion_band` gauge.
    pub fn percent(self) -> u8 {
        match self {
            Self::Full => 100,
            Self::AtLeast95 => 95,
            Self::AtLeast80 => 80,
            Self::AtLeast75 => 75,
            Self::Below75 => 0,
        }
    }
}

/// Callback counts of one queue (or of every queue) over one window.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CallbackKpis {
    /// In-queue callbacks asked for: waiting callers who chose to be called back
    /// (`callback.converted`, their call counted offered, neither answered nor abandoned) and
    /// entries created directly (`callback.queued` of a callback not seen before).
    pub requested: u64,
    /// Scheduled callbacks created (`callback.scheduled`).
    pub scheduled: u64,
    /// Dial attempts: an agent reserved and the customer to be dialed (`callback.due`).
    pub dialed: u64,
    /// Attempts whose customer was dialed through the trunk once the agent answered
    /// (`callback.dialing`).
    pub customer_dialed: u64,
    /// Attempts that connected the customer to the agent (`callback.connected`).
    pub connected: u64,
    /// Attempts that failed (`callback.failed`), every cause.
    pub failed: u64,
    /// Failed attempts per cause (`no_answer`, `busy`, `agent_unavailable`, ...).
    pub failed_by_cause: BTreeMap<String, u64>,
    /// Callbacks given up (attempts exhausted, expired, invalid number; scheduled ones also
    /// on the do-not-call list or left out by the sampling rules).
    pub given_up: u64,
    /// Callbacks cancelled while waiting (left out of the completion KPI).
    pub cancelled: u64,
    /// Callback conversations that ended (also in the queue's and agent's `handled`).
    pub handled: u64,
    /// Talk time of those conversations (also in `talk_ms`).
    pub talk_ms: u64,
    /// Hold time of those conversations (also in `hold_ms`).
    pub hold_ms: u64,
    /// Callbacks due: each callback counts once, when it completed within its due window, or
    /// when that window was lost (completed late, deadline missed, given up). Cancelled
    /// callbacks, and scheduled ones the sampling rules left out, whose window was still
    /// open are not due.
    pub due: u64,
    /// Callbacks completed (connected), within their due window or not.
    pub completed: u64,
    /// Callbacks completed within their due window.
    pub completed_within_due_window: u64,
    /// Scheduled callbacks whose deadline passed before they were completed
    /// (`callback.missed_deadline`).
    pub missed_deadline: u64,
    /// Callback completion: completed within their due window / due.
    pub completion: Option<f64>,
    /// The band the completion scores in.
    pub completion_band: Option<CompletionBand>,
}

impl CallbackKpis {
    pub(crate) fn compute(c: &CallbackCounters) -> Self {
        Self {
            requested: c.requested,
            scheduled: c.scheduled,
            dialed: c.dialed,
            customer_dialed: c.customer_dialed,
            connected: c.connected,
            failed: c.failed,
            failed_by_cause: c.failed_by_cause.clone(),
            given_up: c.given_up,
            cancelled: c.cancelled,
            handled: c.handled,
            talk_ms: c.talk_ms,
            hold_ms: c.hold_ms,
            due: c.due,
            completed: c.completed,
            completed_within_due_window: c.completed_within,
            missed_deadline: c.missed_deadline,
            completion: (c.due > 0).then(|| c.completed_within as f64 / c.due as f64),
            completion_band: CompletionBand::of(c.completed_within, c.due),
        }
    }
}

/// Callback counts of one agent (or of the team) over one window.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AgentCallbackKpis {
    /// Dial attempts the agent was reserved for (`callback.due`).
    pub dialed: u64,
    /// Of those, attempts whose customer was dialed once the agent answered
    /// (`callback.dialing`).
    pub customer_dialed: u64,
    /// Attempts that connected the customer to the agent.
    pub connected: u64,
    /// Attempts that failed, every cause (the agent's side or the customer's).
    pub failed: u64,
    /// Failed attempts per cause.
    pub failed_by_cause: BTreeMap<String, u64>,
    /// Callback conversations that ended (also in the agent's `handled`).
    pub handled: u64,
    /// Their talk time (also in `talk_ms`).
    pub talk_ms: u64,
    /// Their hold time (also in `hold_ms`).
    pub hold_ms: u64,
}

impl AgentCallbackKpis {
    pub(crate) fn compute(c: &CallbackCounters) -> Self {
        Self {
            dialed: c.dialed,
            customer_dialed: c.customer_dialed,
            connected: c.connected,
            failed: c.failed,
            failed_by_cause: c.failed_by_cause.clone(),
            handled: c.handled,
            talk_ms: c.talk_ms,
            hold_ms: c.hold_ms,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bands_are_scored_on_whole_numbers() {
        assert_eq!(CompletionBand::of(0, 0), None);
        assert_eq!(CompletionBand::of(20, 20), Some(CompletionBand::Full));
        assert_eq!(CompletionBand::of(19, 20), Some(CompletionBand::AtLeast95));
        assert_eq!(CompletionBand::of(94, 100), Some(CompletionBand::AtLeast80));
        assert_eq!(CompletionBand::of(4, 5), Some(CompletionBand::AtLeast80));
        assert_eq!(CompletionBand::of(3, 4), Some(CompletionBand::AtLeast75));
        assert_eq!(CompletionBand::of(74, 100), Some(CompletionBand::Below75));
        assert_eq!(CompletionBand::of(0, 3), Some(CompletionBand::Below75));
        assert_eq!(CompletionBand::Below75.percent(), 0);
        assert_eq!(CompletionBand::AtLeast95.percent(), 95);
    }
}
