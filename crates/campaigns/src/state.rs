//! The durable state: callbacks, sampling tallies and recent claims per queue, rebuilt by
//! folding events. The live scheduler changes it only through [`Book::apply`], so a replay of
//! its events gives the same book.

use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

use jiff::Timestamp;
use serde::Serialize;

use crate::event::{CallbackEvent, CallbackSpec, GiveUpReason, HoldReason};
use crate::ids::{AgentName, CallbackId, QueueName};
use crate::outcome::{DialOutcome, OutcomeKind};
use crate::sampling::Sampler;
use crate::time;

/// A callback's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallbackState {
    /// Not dialed until the reason is gone.
    Held(HoldReason),
    /// Waiting for its start, retry time, calling window or an agent.
    Waiting,
    /// Handed to the driver to reserve an agent.
    Claimed {
        /// Since when.
        at: Timestamp,
    },
    /// Being dialed.
    Dialing {
        /// The attempt.
        attempt: u32,
        /// The agent reserved for it.
        agent: AgentName,
        /// When it started.
        started_at: Timestamp,
        /// Its ring timeout.
        ring_timeout: Duration,
    },
    /// The customer answered (terminal).
    Completed {
        /// Whether by the deadline.
        within_deadline: bool,
    },
    /// Cancelled (terminal).
    Cancelled,
    /// Given up (terminal).
    GivenUp(GiveUpReason),
}

/// The name of a state, for errors, filters and counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StateKind {
    /// [`CallbackState::Held`].
    Held,
    /// [`CallbackState::Waiting`].
    Waiting,
    /// [`CallbackState::Claimed`].
    Claimed,
    /// [`CallbackState::Dialing`].
    Dialing,
    /// [`CallbackState::Completed`].
    Completed,
    /// [`CallbackState::Cancelled`].
    Cancelled,
    /// [`CallbackState::GivenUp`].
    GivenUp,
}

impl CallbackState {
    /// Its name.
    pub fn kind(&self) -> StateKind {
        match self {
            Self::Held(_) => StateKind::Held,
            Self::Waiting => StateKind::Waiting,
            Self::Claimed { .. } => StateKind::Claimed,
            Self::Dialing { .. } => StateKind::Dialing,
            Self::Completed { .. } => StateKind::Completed,
            Self::Cancelled => StateKind::Cancelled,
            Self::GivenUp(_) => StateKind::GivenUp,
        }
    }

    /// Whether it is final.
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            Self::Completed { .. } | Self::Cancelled | Self::GivenUp(_)
        )
    }
}

/// One callback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Callback {
    /// Its id.
    pub id: CallbackId,
    /// What it is.
    pub spec: CallbackSpec,
    /// When it was created.
    pub created_at: Timestamp,
    /// Creation order (ties in the dial order go to the older).
    pub seq: u64,
    /// Its state.
    pub state: CallbackState,
    /// Attempts started.
    pub attempts: u32,
    /// Ended attempts per outcome.
    pub outcomes: BTreeMap<OutcomeKind, u32>,
    /// The last attempt's outcome.
    pub last_outcome: Option<DialOutcome>,
    /// Not dialed again before this.
    pub retry_at: Option<Timestamp>,
    /// Deadline warnings already emitted (or skipped as already past at creation), in the
    /// order of the lead times, longest first.
    pub warnings_done: usize,
    /// Whether `missed_deadline` was emitted.
    pub missed: bool,
    /// When it reached a terminal state.
    pub ended_at: Option<Timestamp>,
}

impl Callback {
    /// The earliest it may be dialed, calling windows apart.
    pub fn wake_at(&self) -> Timestamp {
        self.spec
            .due
            .not_before
            .max(self.retry_at.unwrap_or(Timestamp::MIN))
    }
}

/// The window of recent claims per queue that paces dials.
pub const PACING_WINDOW: Duration = Duration::from_secs(60);

/// The folded state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Book {
    /// Every callback, open or ended.
    pub callbacks: BTreeMap<CallbackId, Callback>,
    /// Sampling tallies.
    pub sampler: Sampler,
    /// Claim instants of the last minute per queue.
    pub recent_claims: BTreeMap<QueueName, VecDeque<Timestamp>>,
    next_seq: u64,
}

impl Book {
    /// Folds one event; `warning_leads` are the configured lead times, longest first. Events
    /// about unknown callbacks or not fitting the callback's state change nothing (a log
    /// written by another version never panics the fold).
    pub fn apply(&mut self, event: &CallbackEvent, warning_leads: &[Duration]) {
        let id = event.id();
        if let CallbackEvent::Created { at, callback, .. } = event {
            if self.callbacks.contains_key(&id) {
                return;
            }
            if let Some(decision) = &callback.sampling {
                self.sampler.record(decision);
            }
            let warnings_done = callback.due.deadline.map_or(0, |deadline| {
                warning_leads
                    .iter()
                    .filter(|lead| time::sub(deadline, **lead) < *at)
                    .count()
            });
            let callback = Callback {
                id,
                spec: (**callback).clone(),
                created_at: *at,
                seq: self.next_seq,
                state: CallbackState::Waiting,
                attempts: 0,
                outcomes: BTreeMap::new(),
                last_outcome: None,
                retry_at: None,
                warnings_done,
                missed: false,
                ended_at: None,
            };
            self.next_seq += 1;
            self.callbacks.insert(id, callback);
            return;
        }
        let Some(cb) = self.callbacks.get_mut(&id) else {
            return;
        };
        match event {
            CallbackEvent::Created { .. } => {}
            CallbackEvent::Held { reason, .. } => cb.state = CallbackState::Held(*reason),
            CallbackEvent::TimeZoneSet { time_zone, .. } => {
                cb.spec.time_zone = Some(time_zone.clone());
                if matches!(cb.state, CallbackState::Held(HoldReason::UnknownTimeZone)) {
                    cb.state = CallbackState::Waiting;
                }
            }
            CallbackEvent::Claimed { at, queue, .. } => {
                cb.state = CallbackState::Claimed { at: *at };
                let recent = self.recent_claims.entry(queue.clone()).or_default();
                let horizon = time::sub(*at, PACING_WINDOW);
                while recent.front().is_some_and(|t| *t <= horizon) {
                    recent.pop_front();
                }
                recent.push_back(*at);
            }
            CallbackEvent::ClaimReleased { .. } => cb.state = CallbackState::Waiting,
            CallbackEvent::AttemptStarted {
                at,
                attempt,
                agent,
                ring_timeout_ms,
                ..
            } => {
                cb.attempts = *attempt;
                cb.state = CallbackState::Dialing {
                    attempt: *attempt,
                    agent: agent.clone(),
                    started_at: *at,
                    ring_timeout: Duration::from_millis(*ring_timeout_ms),
                };
            }
            CallbackEvent::AttemptEnded {
                outcome, retry_at, ..
            } => {
                *cb.outcomes.entry(outcome.kind).or_default() += 1;
                cb.last_outcome = Some(*outcome);
                cb.retry_at = *retry_at;
                cb.state = CallbackState::Waiting;
            }
            CallbackEvent::DeadlineWarning { .. } => cb.warnings_done += 1,
            CallbackEvent::MissedDeadline { .. } => cb.missed = true,
            CallbackEvent::Completed {
                at,
                within_deadline,
                ..
            } => {
                cb.state = CallbackState::Completed {
                    within_deadline: *within_deadline,
                };
                cb.ended_at = Some(*at);
            }
            CallbackEvent::Cancelled { at, .. } => {
                cb.state = CallbackState::Cancelled;
                cb.ended_at = Some(*at);
            }
            CallbackEvent::GivenUp { at, reason, .. } => {
                cb.state = CallbackState::GivenUp(*reason);
                cb.ended_at = Some(*at);
            }
        }
    }

    /// Claims of `queue` within the pacing window before `now`.
    pub fn claims_in_last_minute(
        &self,
        queue: &QueueName,
        now: Timestamp,
    ) -> (u32, Option<Timestamp>) {
        let horizon = time::sub(now, PACING_WINDOW);
        let Some(recent) = self.recent_claims.get(queue) else {
            return (0, None);
        };
        let mut inside = recent.iter().filter(|t| **t > horizon);
        let oldest = inside.clone().next().copied();
        (
            u32::try_from(inside.by_ref().count()).unwrap_or(u32::MAX),
            oldest,
        )
    }
}
