//! Pacing: which callbacks to claim for the agents free now, and the dial once an agent is
//! reserved.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;

use super::index::{ReadyKey, ZoneKey};
use super::{wrong, Scheduler};
use crate::command::CommandError;
use crate::due::effective_priority;
use crate::event::{CallbackEvent, GiveUpReason, ReleaseReason};
use crate::ids::{AgentName, CallbackId, QueueName};
use crate::number::E164;
use crate::state::{CallbackState, PACING_WINDOW};
use crate::time;

/// The do-not-call list, as the driver holds it; checked at claim and again at dial time.
pub trait DoNotCall {
    /// Whether `number` must not be called.
    fn blocks(&self, number: &E164) -> bool;
}

/// No do-not-call list.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoDnc;

impl DoNotCall for NoDnc {
    fn blocks(&self, _: &E164) -> bool {
        false
    }
}

impl DoNotCall for BTreeSet<E164> {
    fn blocks(&self, number: &E164) -> bool {
        self.contains(number)
    }
}

impl DoNotCall for HashSet<E164> {
    fn blocks(&self, number: &E164) -> bool {
        self.contains(number)
    }
}

/// The agents free now, as the driver counts them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Capacity {
    /// Per queue: agents logged in, idle and not reserved who could take its callbacks.
    /// Claims the driver has not yet answered are subtracted by the scheduler.
    pub free_agents: BTreeMap<QueueName, u32>,
    /// At most this many claims in all (for agents counted in several queues); None: the sum.
    pub total: Option<u32>,
}

/// A dial to make: the driver writes the `attempt_started` event first, then dials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DialOrder {
    /// The callback.
    pub id: CallbackId,
    /// The attempt number (report it with the outcome).
    pub attempt: u32,
    /// The agent reserved for it.
    pub agent: AgentName,
    /// Whom to dial.
    pub number: E164,
    /// The caller ID to present (None: the trunk's default).
    pub caller_id: Option<E164>,
    /// How long to ring before cancelling (at least 15 s).
    pub ring_timeout: Duration,
}

/// The scheduler's answer to a reserved agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reservation {
    /// Dial.
    Dial(DialOrder),
    /// Do not dial; free the agent (the event says why: `claim_released` or `given_up`).
    Release,
}

impl Scheduler {
    /// Claims up to the free agents' worth of ready callbacks at `now` (and fires due timers
    /// first). Order: deadline (none last), then base priority, then age, across queues; each
    /// queue within its free agents and its dials-per-minute. A ready number on the DNC list is
    /// given up on the spot; a callback outside its calling window waits for it to open.
    /// Returns the number of `claimed` events emitted.
    pub fn dispatch(&mut self, now: Timestamp, capacity: &Capacity, dnc: &dyn DoNotCall) -> usize {
        let now = self.clock(now);
        self.handle_timeout(now);
        let mut budget: BTreeMap<QueueName, u32> = BTreeMap::new();
        for (queue, free) in &capacity.free_agents {
            let Some(settings) = self.config.queues.get(queue) else {
                continue;
            };
            let open = self
                .index
                .claimed
                .get(queue)
                .map_or(0, |s| u32::try_from(s.len()).unwrap_or(u32::MAX));
            let (recent, oldest) = self.book.claims_in_last_minute(queue, now);
            let rate_left = settings.max_dials_per_minute.saturating_sub(recent);
            let agents_left = free.saturating_sub(open);
            if rate_left == 0 && agents_left > 0 && self.has_ready(queue) {
                if let Some(oldest) = oldest {
                    self.pacing_wake
                        .insert(queue.clone(), time::add(oldest, PACING_WINDOW));
                }
            }
            let b = agents_left.min(rate_left);
            if b > 0 {
                budget.insert(queue.clone(), b);
            }
        }
        let open_total: usize = self.index.claimed.values().map(BTreeSet::len).sum();
        let mut total = capacity.total.map_or(u32::MAX, |t| {
            t.saturating_sub(u32::try_from(open_total).unwrap_or(u32::MAX))
        });
        let mut claimed = 0;
        let mut windows: HashMap<(QueueName, ZoneKey), bool> = HashMap::new();
        while total > 0 {
            let Some((key, queue)) = self.head(now, &budget, &mut windows) else {
                break;
            };
            let id = key.3;
            if self.dnc_gives_up(now, id, dnc) {
                continue;
            }
            let Some(cb) = self.book.callbacks.get(&id) else {
                self.index.unready(id);
                continue;
            };
            let priority = effective_priority(
                cb.spec.priority,
                self.config.priority_ramp,
                &cb.spec.due,
                now,
            );
            let skills = cb.spec.skills.clone();
            self.emit(CallbackEvent::Claimed {
                id,
                at: now,
                queue: queue.clone(),
                skills,
                priority,
            });
            claimed += 1;
            total -= 1;
            if let Some(b) = budget.get_mut(&queue) {
                *b -= 1;
                if *b == 0 {
                    budget.remove(&queue);
                }
            }
        }
        claimed
    }

    /// The driver reserved `agent` for claimed callback `id`: checks the DNC list and the
    /// calling window once more and answers with the dial (after an `attempt_started` event)
    /// or a release.
    pub fn agent_reserved(
        &mut self,
        now: Timestamp,
        id: CallbackId,
        agent: AgentName,
        dnc: &dyn DoNotCall,
    ) -> Result<Reservation, CommandError> {
        let now = self.clock(now);
        self.handle_timeout(now);
        let cb = self
            .book
            .callbacks
            .get(&id)
            .ok_or(CommandError::Unknown(id))?;
        if !matches!(cb.state, CallbackState::Claimed { .. }) {
            return Err(wrong(id, &cb.state, "reserve an agent"));
        }
        if self.dnc_gives_up(now, id, dnc) {
            return Ok(Reservation::Release);
        }
        if !self.window_open(now, id) {
            self.emit(CallbackEvent::ClaimReleased {
                id,
                at: now,
                reason: ReleaseReason::WindowClosed,
            });
            return Ok(Reservation::Release);
        }
        let cb = self
            .book
            .callbacks
            .get(&id)
            .ok_or(CommandError::Unknown(id))?;
        let settings = self.config.queues.get(&cb.spec.queue);
        let order = DialOrder {
            id,
            attempt: cb.attempts + 1,
            agent: agent.clone(),
            number: cb.spec.number.clone(),
            caller_id: settings.and_then(|s| s.caller_id.clone()),
            ring_timeout: settings.map_or(crate::config::MIN_RING, |s| s.effective_ring_timeout()),
        };
        self.emit(CallbackEvent::AttemptStarted {
            id,
            at: now,
            attempt: order.attempt,
            agent,
            number: order.number.clone(),
            caller_id: order.caller_id.clone(),
            ring_timeout_ms: time::millis(order.ring_timeout),
        });
        Ok(Reservation::Dial(order))
    }

    fn has_ready(&self, queue: &QueueName) -> bool {
        self.index.ready.get(queue).is_some_and(|s| !s.is_empty())
    }

    /// The first ready callback in dial order among the queues with budget left, skipping
    /// zones whose calling window is closed (each checked once per dispatch; a closed zone
    /// with callbacks waiting arms a wake for when it opens).
    fn head(
        &mut self,
        now: Timestamp,
        budget: &BTreeMap<QueueName, u32>,
        windows: &mut HashMap<(QueueName, ZoneKey), bool>,
    ) -> Option<(ReadyKey, QueueName)> {
        let mut best: Option<(ReadyKey, QueueName)> = None;
        for queue in budget.keys() {
            let Some(zones) = self.index.ready.get(queue) else {
                continue;
            };
            let settings = self.config.queues.get(queue);
            for (zone_key, bucket) in zones {
                let Some(first) = bucket.first() else {
                    continue;
                };
                let open = *windows
                    .entry((queue.clone(), zone_key.clone()))
                    .or_insert_with(|| {
                        let zone = self
                            .book
                            .callbacks
                            .get(&first.3)
                            .and_then(|cb| cb.spec.time_zone.as_ref());
                        match (settings, zone, zone_key) {
                            (Some(s), Some(zone), Some(name)) => {
                                if s.window.is_open(now, zone) {
                                    return true;
                                }
                                if let Some(at) = s.window.next_open(now, zone) {
                                    self.window_wake
                                        .insert((queue.clone(), Arc::clone(name)), at);
                                }
                                false
                            }
                            _ => false,
                        }
                    });
                if open && best.as_ref().is_none_or(|(k, _)| first < k) {
                    best = Some((*first, queue.clone()));
                }
            }
        }
        best
    }

    /// Gives the callback up if its number is on the DNC list.
    fn dnc_gives_up(&mut self, now: Timestamp, id: CallbackId, dnc: &dyn DoNotCall) -> bool {
        let Some(cb) = self.book.callbacks.get(&id) else {
            return false;
        };
        if !dnc.blocks(&cb.spec.number) {
            return false;
        }
        let attempts = cb.attempts;
        self.emit(CallbackEvent::GivenUp {
            id,
            at: now,
            reason: GiveUpReason::DoNotCall,
            attempts,
        });
        true
    }

    /// Whether the callback's calling window is open at `now` (closed for an unknown zone).
    fn window_open(&self, now: Timestamp, id: CallbackId) -> bool {
        let Some(cb) = self.book.callbacks.get(&id) else {
            return false;
        };
        let window = self.config.queues.get(&cb.spec.queue).map(|s| &s.window);
        match (window, cb.spec.time_zone.as_ref()) {
            (Some(w), Some(zone)) => w.is_open(now, zone),
            _ => false,
        }
    }
}
