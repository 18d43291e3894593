//! Callback entries: a customer who asked to be called back keeps a place in the queue.
//!
//! A callback entry waits in its queue's line like a live call, by (priority, original entry
//! time), so a live call that converts keeps its place and age, and a callback restored after a
//! restart takes the place its original entry time gives it. When its turn comes the chosen agent
//! is reserved and [`RoutingEvent::CallbackDue`] asks the server to dial; the server reports
//! [`Command::CallbackConnected`] or [`Command::CallbackFailed`].
//!
//! Rules that differ from live calls, because nobody is on the line:
//!
//! - the live call's max wait, the queue's leave-when-empty policy and relaxation `exit` steps do
//!   not apply; the queue's [`crate::QueueConfig::callback_expiry`] does, counted from the
//!   original entry time;
//! - an abandon (the caller's leg hanging up after converting) does nothing; only
//!   [`Command::CancelCallback`] drops a waiting callback;
//! - a failed dial releases the agent without a missed offer (it keeps its idle time) and puts
//!   the entry back at its place, dialed again no sooner than the queue's retry delay; after the
//!   queue's last attempt the callback is given up;
//! - queue statistics (service level) count live calls only;
//! - a failure the far end says will not change ([`CallbackFailure::InvalidNumber`]) gives the
//!   callback up at once; a Retry-After longer than the retry delay postpones the next attempt;
//! - an entry queued with a `not_before` keeps its place but is not reserved before it (a
//!   restored attempt whose outcome was lost waits out its retry delay);
//! - a [`CallbackOwner::Scheduler`] entry is dialed once: a failed dial takes it out of the
//!   queue (its scheduler retries it, or not), and the queue's retries, attempt limit and expiry
//!   do not apply to it.
//!
//! Every callback entry ends in exactly one of [`RoutingEvent::CallbackConnected`],
//! [`RoutingEvent::CallbackGivenUp`], [`RoutingEvent::CallbackCancelled`], (a configuration
//! reload removing its queue) [`RoutingEvent::CallExited`] or, for a scheduler-owned entry,
//! [`RoutingEvent::CallbackFailed`].

use std::time::{Duration, Instant};

use super::{Call, Phase, Router};
use crate::agent_state::AgentState;
use crate::command::{
    CallbackFailure, CallbackOwner, CallbackRequest, Command, CommandError, MAX_RETRY_AFTER,
};
use crate::config::EnqueueOptions;
use crate::event::{ExitReason, GiveUpReason, OfferReason, RevokeReason, RoutingEvent};
use crate::ids::{AgentId, CallId, QueueId};
use crate::timers::TimerReason;

/// What a queue entry is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum EntryKind {
    /// A caller on the line.
    Live {
        /// Whether the caller was offered a callback already (at most once per entry).
        callback_offered: bool,
    },
    /// A customer to call back (boxed: few entries are callbacks, and the box keeps every
    /// record small).
    Callback(Box<CallbackEntry>),
}

/// A callback entry's own data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct CallbackEntry {
    /// Whom to call back.
    pub(super) request: CallbackRequest,
    /// Dial attempts made so far.
    pub(super) attempts: u32,
    /// Who decides what follows a failed dial.
    pub(super) owner: CallbackOwner,
}

impl EntryKind {
    /// A live call not yet offered a callback.
    pub(super) fn live() -> Self {
        EntryKind::Live {
            callback_offered: false,
        }
    }

    /// Whether this is a callback entry.
    pub(super) fn is_callback(&self) -> bool {
        matches!(self, EntryKind::Callback(_))
    }

    /// The callback data, if a callback entry.
    pub(super) fn callback(&self) -> Option<&CallbackEntry> {
        match self {
            EntryKind::Callback(entry) => Some(entry),
            EntryKind::Live { .. } => None,
        }
    }
}

/// Where a callback entry joins its queue.
#[derive(Debug, Clone, Copy)]
struct Place {
    /// Its original entry time.
    entered_at: Instant,
    /// Not reserved before this instant.
    not_before: Option<Instant>,
}

/// The agent dispatch chose for a due callback, and how it was placed.
#[derive(Debug, Clone)]
pub(super) struct DueChoice {
    /// The agent.
    pub(super) agent: usize,
    /// Its place in the home queue's member order (for round-robin).
    pub(super) order: usize,
    /// Why it was chosen.
    pub(super) reason: OfferReason,
}

impl Router {
    /// Applies one of the callback commands.
    pub(super) fn handle_callback(
        &mut self,
        now: Instant,
        command: Command,
    ) -> Result<(), CommandError> {
        match command {
            Command::ConvertToCallback { call, callback } => self.convert(now, call, callback),
            Command::EnqueueCallback {
                call,
                queue,
                callback,
                options,
                entered_at,
                attempts,
                owner,
                not_before,
            } => {
                let entry = CallbackEntry {
                    request: callback,
                    attempts,
                    owner,
                };
                let place = Place {
                    entered_at,
                    not_before,
                };
                self.enqueue_callback(now, call, &queue, entry, options, place)
            }
            Command::CancelCallback { call } => self.cancel_callback(now, call),
            Command::CallbackConnected { call, agent } => {
                let a = self.dialing_agent(call, &agent)?;
                self.callback_connected(now, call, a);
                Ok(())
            }
            Command::CallbackFailed {
                call,
                agent,
                cause,
                retry_after,
            } => {
                let a = self.dialing_agent(call, &agent)?;
                self.callback_failed(now, call, a, cause, retry_after);
                Ok(())
            }
            // `Router::handle` passes only the callback commands here.
            _ => Ok(()),
        }
    }

    /// Whether `call` is a callback entry.
    pub(super) fn is_callback(&self, call: CallId) -> bool {
        self.calls.get(&call).is_some_and(|c| c.kind.is_callback())
    }

    /// Fires a callback timer.
    pub(super) fn callback_timer(&mut self, now: Instant, reason: TimerReason) {
        match reason {
            TimerReason::CallbackOffer { call } => self.offer_callback(now, call),
            TimerReason::CallbackRetry { call } => {
                if let Some(entry) = self.calls.get_mut(&call) {
                    if matches!(entry.phase, Phase::RetryWait) {
                        entry.phase = Phase::Waiting;
                        let seq = entry.seq;
                        self.unoffered.insert(seq, call);
                    }
                }
            }
            TimerReason::CallbackExpiry { call } => {
                // A callback being dialed waits for its outcome; a failure then gives it up.
                let waiting = self.calls.get(&call).is_some_and(|c| {
                    c.kind.is_callback() && matches!(c.phase, Phase::Waiting | Phase::RetryWait)
                });
                if waiting {
                    self.give_up(now, call, GiveUpReason::Expired);
                }
            }
            _ => {}
        }
    }

    /// Emits [`RoutingEvent::CallbackOffered`] for a live, unconnected entry not offered one yet.
    pub(super) fn offer_callback(&mut self, now: Instant, call: CallId) {
        let Some(entry) = self.calls.get_mut(&call) else {
            return;
        };
        if matches!(entry.phase, Phase::Connected { .. }) {
            return;
        }
        let EntryKind::Live { callback_offered } = &mut entry.kind else {
            return;
        };
        if std::mem::replace(callback_offered, true) {
            return;
        }
        let wait = now.saturating_duration_since(entry.enqueued_at);
        let queue = self.queues[entry.queue].config.id.clone();
        self.emit(RoutingEvent::CallbackOffered { call, queue, wait });
    }

    /// A waiting live call becomes a callback entry at the same place.
    fn convert(
        &mut self,
        now: Instant,
        call: CallId,
        request: CallbackRequest,
    ) -> Result<(), CommandError> {
        let entry = self
            .calls
            .get_mut(&call)
            .ok_or(CommandError::UnknownCall(call))?;
        if entry.kind.is_callback() || !matches!(entry.phase, Phase::Waiting) {
            return Err(CommandError::NotWaitingLive(call));
        }
        entry.kind = EntryKind::Callback(Box::new(CallbackEntry {
            request: request.clone(),
            attempts: 0,
            owner: CallbackOwner::Queue,
        }));
        let (q, entered_at, priority) = (entry.queue, entry.enqueued_at, entry.priority);
        self.timers.cancel(&TimerReason::MaxWait { call });
        self.timers.cancel(&TimerReason::CallbackOffer { call });
        self.arm_expiry(call, q, entered_at);
        self.emit(RoutingEvent::CallbackConverted {
            call,
            queue: self.queues[q].config.id.clone(),
            callback: request,
            entered_at,
            priority,
        });
        // Steps that do not apply to a live call any more (an exit) are passed over from now on.
        self.relax(now, call);
        Ok(())
    }

    /// A callback entry joins `queue` at the place of `place.entered_at`.
    fn enqueue_callback(
        &mut self,
        now: Instant,
        call: CallId,
        queue: &QueueId,
        entry: CallbackEntry,
        options: EnqueueOptions,
        place: Place,
    ) -> Result<(), CommandError> {
        let Place {
            entered_at,
            not_before,
        } = place;
        let q = *self
            .queue_index
            .get(queue)
            .ok_or_else(|| CommandError::UnknownQueue(queue.clone()))?;
        if self.calls.contains_key(&call) {
            return Err(CommandError::CallAlreadyRouted(call));
        }
        if entered_at > now {
            return Err(CommandError::EnteredInFuture(call));
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        let (callback, attempts, owner) = (entry.request.clone(), entry.attempts, entry.owner);
        // Not reservable yet: it waits at its place like a callback waiting out a retry delay.
        let held = not_before.filter(|&at| at > now);
        let required = self.index.skill_numbers.needs(&options.required);
        let preferred = self.index.skill_numbers.needs(&options.preferred);
        let call_entry = Call {
            queue: q,
            enqueued_at: entered_at,
            seq,
            priority: options.priority,
            original_required: None,
            own_max_wait: None,
            required,
            preferred,
            overflow: Vec::new(),
            step: 0,
            phase: if held.is_some() {
                Phase::RetryWait
            } else {
                Phase::Waiting
            },
            kind: EntryKind::Callback(Box::new(entry)),
            outside_service_level: options.outside_service_level,
        };
        let key = call_entry.line_key();
        self.calls.insert(call, call_entry);
        match held {
            Some(at) => self.timers.set(TimerReason::CallbackRetry { call }, at),
            None => {
                self.unoffered.insert(seq, call);
            }
        }
        let line = &mut self.queues[q].line;
        line.insert(key, call);
        let position = super::entries::line_position(line, key);
        self.emit(RoutingEvent::CallbackQueued {
            call,
            queue: queue.clone(),
            callback,
            entered_at,
            priority: options.priority,
            attempts,
            position,
            owner,
            not_before,
        });
        if owner == CallbackOwner::Queue {
            self.arm_expiry(call, q, entered_at);
        }
        self.relax(now, call);
        Ok(())
    }

    /// Arms the callback expiry of queue `q`, if it sets one.
    fn arm_expiry(&mut self, call: CallId, q: usize, entered_at: Instant) {
        if let Some(expiry) = self.queues[q].config.callback_expiry {
            self.timers
                .set(TimerReason::CallbackExpiry { call }, entered_at + expiry);
        }
    }

    /// Drops a callback that is waiting (or waiting to retry).
    fn cancel_callback(&mut self, now: Instant, call: CallId) -> Result<(), CommandError> {
        let entry = self
            .calls
            .get(&call)
            .ok_or(CommandError::UnknownCall(call))?;
        if !entry.kind.is_callback() || !matches!(entry.phase, Phase::Waiting | Phase::RetryWait) {
            return Err(CommandError::NotWaitingCallback(call));
        }
        if let Some((entry, _)) = self.take_out(call) {
            let wait = now.saturating_duration_since(entry.enqueued_at);
            let queue = self.queues[entry.queue].config.id.clone();
            self.emit(RoutingEvent::CallbackCancelled { call, queue, wait });
        }
        Ok(())
    }

    /// The index of `agent` if callback `call` is being dialed for it.
    fn dialing_agent(&self, call: CallId, agent: &AgentId) -> Result<usize, CommandError> {
        let a = self.agent_idx(agent)?;
        let entry = self
            .calls
            .get(&call)
            .ok_or(CommandError::UnknownCall(call))?;
        match entry.phase {
            Phase::Dialing { agent: dialing } if dialing == a => Ok(a),
            _ => Err(CommandError::NotDialing {
                call,
                agent: agent.clone(),
            }),
        }
    }

    /// Reserves the chosen agent for waiting callback `call` and asks the server to dial.
    pub(super) fn callback_due(&mut self, now: Instant, call: CallId, choice: DueChoice) {
        let a = choice.agent;
        let Some(entry) = self.calls.get_mut(&call) else {
            return;
        };
        let EntryKind::Callback(callback) = &entry.kind else {
            return;
        };
        let (request, attempt, owner) = (
            callback.request.clone(),
            callback.attempts + 1,
            callback.owner,
        );
        self.unoffered.remove(&entry.seq);
        entry.phase = Phase::Dialing { agent: a };
        let home = &mut self.queues[entry.queue];
        if home.config.strategy == crate::config::Strategy::RoundRobin
            && choice.order < home.members.len()
        {
            home.rr_last = Some(choice.order);
        }
        let queue = home.config.id.clone();
        self.agents[a].call = Some(call);
        self.set_state_keeping_idle(a, AgentState::Reserved, now);
        self.emit(RoutingEvent::CallbackDue {
            call,
            queue,
            agent: self.agents[a].id.clone(),
            callback: request,
            attempt,
            reason: choice.reason,
            owner,
        });
    }

    /// The dial of callback `call` connected the customer with agent `a`.
    fn callback_connected(&mut self, now: Instant, call: CallId, a: usize) {
        self.cancel_entry_timers(call);
        let Some(entry) = self.calls.get_mut(&call) else {
            return;
        };
        entry.phase = Phase::Connected { agent: a, at: now };
        let wait = now.saturating_duration_since(entry.enqueued_at);
        let q = entry.queue;
        let key = entry.line_key();
        self.queues[q].line.remove(&key);
        self.agents[a].calls_taken += 1;
        self.emit(RoutingEvent::CallbackConnected {
            call,
            queue: self.queues[q].config.id.clone(),
            agent: self.agents[a].id.clone(),
            wait,
        });
        self.set_state(a, AgentState::OnCall, now);
    }

    /// The dial of callback `call` failed: release agent `a`, then retry later, give up, or
    /// (a scheduler-owned entry) take the entry out.
    fn callback_failed(
        &mut self,
        now: Instant,
        call: CallId,
        a: usize,
        cause: CallbackFailure,
        far_retry_after: Option<Duration>,
    ) {
        let Some(entry) = self.calls.get_mut(&call) else {
            return;
        };
        let EntryKind::Callback(callback) = &mut entry.kind else {
            return;
        };
        callback.attempts += 1;
        let (attempts, owner) = (callback.attempts, callback.owner);
        let config = &self.queues[entry.queue].config;
        let retry_after = far_retry_after
            .map(|d| d.min(MAX_RETRY_AFTER))
            .unwrap_or_default()
            .max(config.callback_retry_delay());
        let expired = config
            .callback_expiry
            .is_some_and(|expiry| entry.enqueued_at + expiry <= now);
        let exhausted = attempts >= config.callback_max_attempts();
        let queue = config.id.clone();
        entry.phase = Phase::RetryWait;
        self.emit(RoutingEvent::CallbackFailed {
            call,
            queue,
            agent: self.agents[a].id.clone(),
            cause,
            attempts,
            retry_after,
            owner,
        });
        if owner == CallbackOwner::Scheduler {
            // Its scheduler decides what follows; the queue forgets it.
            self.take_out(call);
            self.release(now, a);
            return;
        }
        self.release(now, a);
        if cause == CallbackFailure::InvalidNumber {
            self.give_up(now, call, GiveUpReason::InvalidNumber);
        } else if exhausted {
            self.give_up(now, call, GiveUpReason::AttemptsExhausted);
        } else if expired {
            self.give_up(now, call, GiveUpReason::Expired);
        } else {
            self.timers
                .set(TimerReason::CallbackRetry { call }, now + retry_after);
        }
    }

    /// Frees agent `a` after a callback dial without counting a missed offer: it keeps its idle
    /// time, or takes the not-ready state it asked for meanwhile.
    fn release(&mut self, now: Instant, a: usize) {
        self.agents[a].call = None;
        match self.agents[a].pending_not_ready.take() {
            Some(reason) => self.set_state(a, AgentState::NotReady(reason), now),
            None => self.set_state_keeping_idle(a, AgentState::Ready, now),
        }
    }

    /// Takes a waiting callback out with [`RoutingEvent::CallbackGivenUp`].
    fn give_up(&mut self, now: Instant, call: CallId, reason: GiveUpReason) {
        if let Some((entry, _)) = self.take_out(call) {
            let wait = now.saturating_duration_since(entry.enqueued_at);
            let queue = self.queues[entry.queue].config.id.clone();
            self.emit(RoutingEvent::CallbackGivenUp {
                call,
                queue,
                wait,
                reason,
            });
        }
    }

    /// The queue takes an unconnected callback out (its queue was removed): a dial in progress
    /// is revoked and its agent released.
    pub(super) fn callback_exit(&mut self, now: Instant, call: CallId, reason: ExitReason) {
        let dialing = match self.calls.get(&call).map(|c| &c.phase) {
            None | Some(Phase::Connected { .. }) => return,
            Some(Phase::Dialing { agent }) => Some(*agent),
            Some(_) => None,
        };
        let Some((entry, _)) = self.take_out(call) else {
            return;
        };
        if let Some(a) = dialing {
            self.emit(RoutingEvent::OfferRevoked {
                call,
                agent: self.agents[a].id.clone(),
                reason: RevokeReason::CallExited,
            });
        }
        let wait = now.saturating_duration_since(entry.enqueued_at);
        self.emit(RoutingEvent::CallExited {
            call,
            queue: self.queues[entry.queue].config.id.clone(),
            wait,
            reason,
        });
        if let Some(a) = dialing {
            self.release(now, a);
        }
    }

    /// Removes an unconnected entry from every index and timer; returns it with its position.
    fn take_out(&mut self, call: CallId) -> Option<(Call, usize)> {
        let entry = self.calls.remove(&call)?;
        self.cancel_entry_timers(call);
        self.unoffered.remove(&entry.seq);
        let key = entry.line_key();
        self.index
            .overflow_removed(&entry.overflow, entry.queue, key);
        let line = &mut self.queues[entry.queue].line;
        let position = super::entries::line_position(line, key);
        line.remove(&key);
        Some((entry, position))
    }

    /// Disarms every per-entry timer of `call` but ring timeouts.
    fn cancel_entry_timers(&mut self, call: CallId) {
        for reason in [
            TimerReason::Relax { call },
            TimerReason::MaxWait { call },
            TimerReason::CallbackOffer { call },
            TimerReason::CallbackRetry { call },
            TimerReason::CallbackExpiry { call },
        ] {
            self.timers.cancel(&reason);
        }
    }
}
