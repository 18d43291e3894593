//! Read-only views: one callback, filtered lists, counts for the API and the callback
//! completion KPI, and the sampling report.

use jiff::Timestamp;
use serde::Serialize;

use super::Scheduler;
use crate::event::GiveUpReason;
use crate::ids::{CallbackId, QueueName};
use crate::sampling::SamplingShare;
use crate::state::{Callback, CallbackState, StateKind};

/// Which callbacks [`Scheduler::list`] returns (every set field must match).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListFilter {
    /// Of this queue.
    pub queue: Option<QueueName>,
    /// In one of these states (empty: any).
    pub states: Vec<StateKind>,
    /// With a deadline at or before this.
    pub due_by: Option<Timestamp>,
    /// At most this many, in dial order (None: all).
    pub limit: Option<usize>,
}

/// Counts at an instant, per the callback-completion KPI: completed within their due window /
/// callbacks due, where a callback is due once its deadline passed or it ended (callbacks the
/// sampling rules left out, and cancelled ones, are not due).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    /// Open callbacks (held, waiting, claimed or dialing).
    pub open: u64,
    /// Open callbacks that may be dialed now (start and retry time passed).
    pub due_now: u64,
    /// Open callbacks past their deadline.
    pub overdue: u64,
    /// Completed by their deadline.
    pub completed_within_deadline: u64,
    /// Completed after it.
    pub completed_late: u64,
    /// Given up (sampling apart).
    pub given_up: u64,
    /// Cancelled.
    pub cancelled: u64,
    /// Left out by sampling.
    pub not_sampled: u64,
    /// The KPI's denominator: callbacks due.
    pub kpi_due: u64,
}

impl Stats {
    /// The callback-completion KPI in percent (None when nothing was due yet).
    pub fn completion_percent(&self) -> Option<f64> {
        (self.kpi_due > 0)
            .then(|| self.completed_within_deadline as f64 * 100.0 / self.kpi_due as f64)
    }
}

impl Scheduler {
    /// One callback.
    pub fn callback(&self, id: CallbackId) -> Option<&Callback> {
        self.book.callbacks.get(&id)
    }

    /// Callbacks matching `filter`, in dial order (deadline, priority, age).
    pub fn list(&self, filter: &ListFilter) -> Vec<&Callback> {
        let mut found: Vec<&Callback> = self
            .book
            .callbacks
            .values()
            .filter(|cb| filter.queue.as_ref().is_none_or(|q| *q == cb.spec.queue))
            .filter(|cb| filter.states.is_empty() || filter.states.contains(&cb.state.kind()))
            .filter(|cb| {
                filter
                    .due_by
                    .is_none_or(|by| cb.spec.due.deadline.is_some_and(|d| d <= by))
            })
            .collect();
        found.sort_by_key(|cb| super::Index::key(cb));
        if let Some(limit) = filter.limit {
            found.truncate(limit);
        }
        found
    }

    /// Counts at `now`.
    pub fn stats(&self, now: Timestamp) -> Stats {
        let mut s = Stats::default();
        for cb in self.book.callbacks.values() {
            let past_deadline = cb.spec.due.deadline.is_some_and(|d| d < now);
            match &cb.state {
                CallbackState::Completed { within_deadline } => {
                    s.kpi_due += 1;
                    if *within_deadline {
                        s.completed_within_deadline += 1;
                    } else {
                        s.completed_late += 1;
                    }
                }
                CallbackState::Cancelled => s.cancelled += 1,
                CallbackState::GivenUp(GiveUpReason::NotSampled) => s.not_sampled += 1,
                CallbackState::GivenUp(_) => {
                    s.given_up += 1;
                    s.kpi_due += 1;
                }
                open => {
                    s.open += 1;
                    if past_deadline {
                        s.overdue += 1;
                        s.kpi_due += 1;
                    }
                    if matches!(open, CallbackState::Waiting) && cb.wake_at() <= now {
                        s.due_now += 1;
                    }
                }
            }
        }
        s
    }

    /// Each sampling rule's share per month against its target.
    pub fn sampling_report(&self) -> Vec<SamplingShare> {
        self.book.sampler.report(&self.config.sampling)
    }
}
