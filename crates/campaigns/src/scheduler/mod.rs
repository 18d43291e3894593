//! The scheduler: commands and timeouts in, events out.
//!
//! The driver (one task in the server) owns a [`Scheduler`] and
//! - feeds it [`Command`]s (create, cancel, outcomes) with the current time;
//! - calls [`Scheduler::dispatch`] with the agents free per queue whenever agents free up or
//!   [`Scheduler::poll_timeout`] says so; the scheduler claims at most that many callbacks
//!   (`claimed` events): for each the driver reserves an agent, then calls
//!   [`Scheduler::agent_reserved`], which checks the do-not-call list and the calling window
//!   again and answers with the dial to make (`attempt_started`) or a release;
//! - drains [`Scheduler::poll_event`], appends the events to its journal and fsyncs them, and
//!   only then carries them out (reserves, dials, frees agents);
//! - on restart rebuilds the scheduler with [`Scheduler::restore`] from the journal and sends
//!   [`Command::Restarted`].

mod dispatch;
mod index;
mod views;

pub use dispatch::{Capacity, DialOrder, DoNotCall, NoDnc, Reservation};
pub use index::TimerReason;
pub use views::{ListFilter, Stats};

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;

use crate::command::{Command, CommandError, NewCallback};
use crate::config::{ConfigError, SchedulerConfig, MAX_RETRY_AFTER};
use crate::event::{CallbackEvent, CallbackSpec, GiveUpReason, HoldReason, ReleaseReason};
use crate::ids::{CallbackId, QueueName};
use crate::outcome::{DialOutcome, OutcomeKind};
use crate::state::{Book, CallbackState};
use crate::time;
use index::{Index, TimerKind};

/// The callback scheduler (see the module documentation for the driver's loop).
#[derive(Debug)]
pub struct Scheduler {
    config: SchedulerConfig,
    /// The configured warning lead times, longest first.
    leads: Vec<Duration>,
    book: Book,
    index: Index,
    out: VecDeque<CallbackEvent>,
    /// The latest time seen.
    now: Timestamp,
    /// Queues whose dials-per-minute budget was spent while callbacks waited, with when it
    /// frees up.
    pacing_wake: BTreeMap<QueueName, Timestamp>,
    /// Queues and zones whose calling window was closed while callbacks waited in them and
    /// agents were free, with when it opens.
    window_wake: BTreeMap<(QueueName, Arc<str>), Timestamp>,
}

impl Scheduler {
    /// An empty scheduler on a checked configuration.
    pub fn new(config: SchedulerConfig) -> Result<Self, ConfigError> {
        config.validate()?;
        let leads = config.sorted_warnings();
        Ok(Self {
            config,
            leads,
            book: Book::default(),
            index: Index::default(),
            out: VecDeque::new(),
            now: Timestamp::MIN,
            pacing_wake: BTreeMap::new(),
            window_wake: BTreeMap::new(),
        })
    }

    /// Rebuilds a scheduler from its logged events (then send [`Command::Restarted`]).
    pub fn restore<'a>(
        config: SchedulerConfig,
        events: impl IntoIterator<Item = &'a CallbackEvent>,
    ) -> Result<Self, ConfigError> {
        let mut scheduler = Self::new(config)?;
        for event in events {
            scheduler.apply(event);
        }
        Ok(scheduler)
    }

    /// Folds a logged event into the state and indexes without emitting it (replay).
    pub fn apply(&mut self, event: &CallbackEvent) {
        self.book.apply(event, &self.leads);
        self.now = self.now.max(event.at());
        self.reindex(event.id());
    }

    /// The configuration.
    pub fn config(&self) -> &SchedulerConfig {
        &self.config
    }

    /// The durable state (what a replay must reproduce).
    pub fn book(&self) -> &Book {
        &self.book
    }

    /// The next event to write, then carry out.
    pub fn poll_event(&mut self) -> Option<CallbackEvent> {
        self.out.pop_front()
    }

    /// The next instant the scheduler wants [`Scheduler::handle_timeout`] (and, for
    /// [`TimerReason::Eligible`], [`TimerReason::Pacing`] and [`TimerReason::WindowOpens`],
    /// [`Scheduler::dispatch`]).
    pub fn poll_timeout(&self) -> Option<(Timestamp, TimerReason)> {
        let timer = self
            .index
            .timers
            .first()
            .map(|(at, id, kind)| (*at, kind.reason(*id)));
        let pacing = self
            .pacing_wake
            .iter()
            .min_by_key(|(_, at)| **at)
            .map(|(queue, at)| {
                (
                    *at,
                    TimerReason::Pacing {
                        queue: queue.clone(),
                    },
                )
            });
        let window =
            self.window_wake
                .iter()
                .min_by_key(|(_, at)| **at)
                .map(|((queue, zone), at)| {
                    let reason = TimerReason::WindowOpens {
                        queue: queue.clone(),
                        zone: Arc::clone(zone),
                    };
                    (*at, reason)
                });
        [timer, pacing, window]
            .into_iter()
            .flatten()
            .min_by_key(|(at, _)| *at)
    }

    /// Handles a command at `now` (a `now` earlier than one already seen counts as that one).
    pub fn handle(&mut self, now: Timestamp, command: Command) -> Result<(), CommandError> {
        let now = self.clock(now);
        self.handle_timeout(now);
        match command {
            Command::Create(new) => self.create(now, *new),
            Command::Cancel { id } => {
                let state = self.state_of(id)?;
                match state {
                    CallbackState::Waiting
                    | CallbackState::Held(_)
                    | CallbackState::Claimed { .. } => {
                        self.emit(CallbackEvent::Cancelled { id, at: now });
                        Ok(())
                    }
                    other => Err(wrong(id, &other, "cancel")),
                }
            }
            Command::SetTimeZone { id, time_zone } => {
                let state = self.state_of(id)?;
                if state.is_terminal() {
                    return Err(wrong(id, &state, "set the time zone"));
                }
                self.emit(CallbackEvent::TimeZoneSet {
                    id,
                    at: now,
                    time_zone,
                });
                Ok(())
            }
            Command::ReservationFailed { id } => match self.state_of(id)? {
                CallbackState::Claimed { .. } => {
                    self.emit(CallbackEvent::ClaimReleased {
                        id,
                        at: now,
                        reason: ReleaseReason::NoAgent,
                    });
                    Ok(())
                }
                other => Err(wrong(id, &other, "fail a reservation")),
            },
            Command::Outcome {
                id,
                attempt,
                outcome,
            } => match self.state_of(id)? {
                CallbackState::Dialing {
                    attempt: current, ..
                } if current == attempt => {
                    self.end_attempt(now, id, attempt, outcome);
                    Ok(())
                }
                CallbackState::Dialing {
                    attempt: current, ..
                } => Err(CommandError::WrongAttempt {
                    id,
                    expected: current,
                    got: attempt,
                }),
                other => Err(wrong(id, &other, "report an outcome")),
            },
            Command::Restarted => {
                let open: Vec<(CallbackId, CallbackState)> = self
                    .book
                    .callbacks
                    .values()
                    .filter(|cb| {
                        matches!(
                            cb.state,
                            CallbackState::Claimed { .. } | CallbackState::Dialing { .. }
                        )
                    })
                    .map(|cb| (cb.id, cb.state.clone()))
                    .collect();
                for (id, state) in open {
                    match state {
                        CallbackState::Claimed { .. } => self.emit(CallbackEvent::ClaimReleased {
                            id,
                            at: now,
                            reason: ReleaseReason::Restart,
                        }),
                        CallbackState::Dialing { attempt, .. } => self.end_attempt(
                            now,
                            id,
                            attempt,
                            DialOutcome::of(OutcomeKind::Unknown),
                        ),
                        _ => {}
                    }
                }
                Ok(())
            }
        }
    }

    /// Fires every timer due at `now`: promotes callbacks that became eligible, emits deadline
    /// warnings, missed deadlines and expiries, and turns unanswered claims and attempts into
    /// releases and `unknown` outcomes.
    pub fn handle_timeout(&mut self, now: Timestamp) {
        let now = self.clock(now);
        self.now = now;
        self.pacing_wake.retain(|_, at| *at > now);
        self.window_wake.retain(|_, at| *at > now);
        while let Some(&(at, id, kind)) = self.index.timers.first() {
            if at > now {
                break;
            }
            self.index.disarm(id, at, kind);
            self.fire(now, id, kind);
        }
    }

    fn fire(&mut self, now: Timestamp, id: CallbackId, kind: TimerKind) {
        let Some(cb) = self.book.callbacks.get(&id) else {
            return;
        };
        let deadline = cb.spec.due.deadline;
        match (kind, &cb.state) {
            (_, state) if state.is_terminal() => {}
            (TimerKind::Eligible, CallbackState::Waiting) => self.index.make_ready(cb),
            (TimerKind::DeadlineWarning, _) => {
                let (Some(deadline), Some(lead)) = (deadline, self.leads.get(cb.warnings_done))
                else {
                    return;
                };
                let lead_ms = time::millis(*lead);
                self.emit(CallbackEvent::DeadlineWarning {
                    id,
                    at: now,
                    deadline,
                    lead_ms,
                });
            }
            (TimerKind::Deadline, _) if !cb.missed => {
                if let Some(deadline) = deadline {
                    self.emit(CallbackEvent::MissedDeadline {
                        id,
                        at: now,
                        deadline,
                    });
                }
            }
            (TimerKind::Expiry, CallbackState::Waiting | CallbackState::Held(_)) => {
                let attempts = cb.attempts;
                self.emit(CallbackEvent::GivenUp {
                    id,
                    at: now,
                    reason: GiveUpReason::Expired,
                    attempts,
                });
            }
            (TimerKind::ClaimTimeout, CallbackState::Claimed { .. }) => {
                self.emit(CallbackEvent::ClaimReleased {
                    id,
                    at: now,
                    reason: ReleaseReason::Timeout,
                });
            }
            (TimerKind::AttemptTimeout, CallbackState::Dialing { attempt, .. }) => {
                let attempt = *attempt;
                self.end_attempt(now, id, attempt, DialOutcome::of(OutcomeKind::Unknown));
            }
            _ => {}
        }
    }

    fn create(&mut self, now: Timestamp, new: NewCallback) -> Result<(), CommandError> {
        if self.book.callbacks.contains_key(&new.id) {
            return Err(CommandError::Duplicate(new.id));
        }
        if !self.config.queues.contains_key(&new.queue) {
            return Err(CommandError::UnknownQueue(new.queue));
        }
        let due = new.due.resolve(now, new.time_zone.as_ref(), &self.config)?;
        let sampling = self.book.sampler.decide(
            &self.config.sampling,
            new.id,
            &new.reason,
            &new.attributes,
            now,
        );
        let kept = sampling.as_ref().is_none_or(|d| d.kept);
        let held = new.time_zone.is_none();
        let id = new.id;
        let spec = CallbackSpec {
            number: new.number,
            time_zone: new.time_zone,
            reason: new.reason,
            attributes: new.attributes,
            queue: new.queue,
            skills: new.skills,
            priority: new.priority,
            due,
            sampling,
        };
        self.emit(CallbackEvent::Created {
            id,
            at: now,
            callback: Box::new(spec),
        });
        if !kept {
            self.emit(CallbackEvent::GivenUp {
                id,
                at: now,
                reason: GiveUpReason::NotSampled,
                attempts: 0,
            });
        } else if held {
            self.emit(CallbackEvent::Held {
                id,
                at: now,
                reason: HoldReason::UnknownTimeZone,
            });
        }
        Ok(())
    }

    /// Ends the attempt in progress and decides what follows: done, retry or give up.
    fn end_attempt(&mut self, now: Timestamp, id: CallbackId, attempt: u32, outcome: DialOutcome) {
        let Some(cb) = self.book.callbacks.get(&id) else {
            return;
        };
        let attempts = cb.attempts;
        let deadline = cb.spec.due.deadline;
        let expiry =
            deadline.and_then(|d| self.config.give_up_after_deadline.map(|g| time::add(d, g)));
        let kind_count = cb.outcomes.get(&outcome.kind).copied().unwrap_or(0) + 1;
        enum Next {
            Done,
            GiveUp(GiveUpReason),
            Retry(Timestamp),
        }
        let next = match (outcome.kind, self.config.retry.rule(outcome.kind)) {
            (OutcomeKind::Answered, _) => Next::Done,
            (OutcomeKind::InvalidNumber, _) | (_, None) => {
                Next::GiveUp(GiveUpReason::InvalidNumber)
            }
            (_, Some(rule)) => {
                let wait = outcome
                    .retry_after()
                    .map_or(rule.delay, |ra| rule.delay.max(ra.min(MAX_RETRY_AFTER)));
                let retry_at = time::add(now, wait);
                if kind_count >= rule.max_attempts || attempts >= self.config.retry.max_attempts {
                    Next::GiveUp(GiveUpReason::AttemptsExhausted)
                } else if expiry.is_some_and(|e| retry_at > e) {
                    Next::GiveUp(GiveUpReason::Expired)
                } else {
                    Next::Retry(retry_at)
                }
            }
        };
        let retry_at = match next {
            Next::Retry(at) => Some(at),
            _ => None,
        };
        self.emit(CallbackEvent::AttemptEnded {
            id,
            at: now,
            attempt,
            outcome,
            retry_at,
        });
        match next {
            Next::Done => self.emit(CallbackEvent::Completed {
                id,
                at: now,
                attempt,
                within_deadline: deadline.is_none_or(|d| now <= d),
            }),
            Next::GiveUp(reason) => self.emit(CallbackEvent::GivenUp {
                id,
                at: now,
                reason,
                attempts,
            }),
            Next::Retry(_) => {}
        }
    }

    /// `now`, never earlier than a time already seen: a driver's clock stepping back must not
    /// date an event before the ones it follows (retry times and the pacing window count on it).
    fn clock(&self, now: Timestamp) -> Timestamp {
        now.max(self.now)
    }

    fn state_of(&self, id: CallbackId) -> Result<CallbackState, CommandError> {
        self.book
            .callbacks
            .get(&id)
            .map(|cb| cb.state.clone())
            .ok_or(CommandError::Unknown(id))
    }

    /// Applies an event and queues it for the driver.
    fn emit(&mut self, event: CallbackEvent) {
        self.apply(&event);
        self.out.push_back(event);
    }

    fn reindex(&mut self, id: CallbackId) {
        match self.book.callbacks.get(&id) {
            Some(cb) => self.index.reindex(cb, &self.config, &self.leads, self.now),
            None => self.index.clear(id),
        }
    }
}

fn wrong(id: CallbackId, state: &CallbackState, action: &'static str) -> CommandError {
    CommandError::WrongState {
        id,
        state: state.kind(),
        action,
    }
}
