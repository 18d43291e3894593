//! The event loop: a calendar of arrivals, hang-ups and patience expiries, merged with the
//! router's own timers, all on virtual time.

use std::cmp::{Ordering, Reverse};
use std::collections::{BTreeMap, BinaryHeap};
use std::time::{Duration, Instant};

use super::rng::SimRng;
use super::stats::{batch_se, ratio, Batch};
use super::{HandleTime, SimConfig, SimError, SimReport};
use crate::agent_state::AgentState;
use crate::command::Command;
use crate::config::RouterConfig;
use crate::event::RoutingEvent;
use crate::ids::{AgentId, CallId, QueueId};
use crate::router::Router;

/// Something the callers do at a given virtual time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Happening {
    /// The next Poisson arrival.
    Arrival,
    /// A connected call's handle time is over.
    HangUp(CallId),
    /// A waiting caller's patience ran out.
    PatienceOut(CallId),
}

/// A calendar entry: ordered by time, then by scheduling order (deterministic ties).
#[derive(Debug, Clone, Copy)]
struct Entry {
    at: f64,
    seq: u64,
    what: Happening,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Entry {
    fn cmp(&self, other: &Self) -> Ordering {
        self.at.total_cmp(&other.at).then(self.seq.cmp(&other.seq))
    }
}

/// A call the simulator follows.
#[derive(Debug, Clone, Copy)]
struct Tracked {
    arrived: f64,
    /// The batch it is counted in; `None` for warm-up and drain arrivals.
    batch: Option<usize>,
    estimate: f64,
    connected: bool,
}

/// One run's mutable state.
struct Run<'a> {
    config: &'a SimConfig,
    router: Router,
    queue: QueueId,
    t0: Instant,
    now: f64,
    calendar: BinaryHeap<Reverse<Entry>>,
    next_seq: u64,
    next_call: u128,
    arrivals: SimRng,
    handling: SimRng,
    patience: SimRng,
    calls: BTreeMap<CallId, Tracked>,
    batches: Vec<Batch>,
    /// Counted answered calls: sum of estimate errors.
    estimate_error_sum: f64,
    handle_sum: f64,
    handled: u64,
    /// Agents busy (offer, call, wrap-up) and logged in, and their integrals over the window.
    busy: usize,
    logged_in: usize,
    busy_time: f64,
    staffed_time: f64,
    router_events: u64,
    window: (f64, f64),
}

/// Runs `config` against a router built from `router_config`, feeding every call to `queue`.
///
/// Every agent of `router_config` is logged in and ready at the start; [`SimConfig::agents`] is
/// ignored (the configuration decides who serves). Use [`super::simulate`] for the one-queue case.
pub fn simulate_with(
    config: &SimConfig,
    router_config: RouterConfig,
    queue: &QueueId,
) -> Result<SimReport, SimError> {
    validate(config)?;
    if !router_config.queues.iter().any(|q| &q.id == queue) {
        return Err(SimError::InvalidParameter("the queue is not configured"));
    }
    let agents: Vec<AgentId> = router_config.agents.clone();
    let t0 = Instant::now();
    let router = Router::new(router_config, t0)?;
    let mut run = Run {
        config,
        router,
        queue: queue.clone(),
        t0,
        now: 0.0,
        calendar: BinaryHeap::new(),
        next_seq: 0,
        next_call: 1,
        // Independent streams, so changing one distribution leaves the others' samples alone.
        arrivals: SimRng::new(config.seed),
        handling: SimRng::new(config.seed ^ 0x5151_5151_5151_5151),
        patience: SimRng::new(config.seed ^ 0xa3a3_a3a3_a3a3_a3a3),
        calls: BTreeMap::new(),
        batches: vec![Batch::default(); config.batches],
        estimate_error_sum: 0.0,
        handle_sum: 0.0,
        handled: 0,
        busy: 0,
        logged_in: 0,
        busy_time: 0.0,
        staffed_time: 0.0,
        router_events: 0,
        window: (config.warmup, config.warmup + config.duration),
    };
    for agent in agents {
        run.command(Command::ContactsChanged { agent, count: 1 })?;
    }
    let first = run.arrivals.exponential(1.0 / config.arrival_rate);
    run.schedule(first, Happening::Arrival);
    run.run()?;
    Ok(run.report())
}

fn validate(config: &SimConfig) -> Result<(), SimError> {
    let positive = |v: f64| v.is_finite() && v > 0.0;
    let non_negative = |v: f64| v.is_finite() && v >= 0.0;
    if !positive(config.arrival_rate) {
        return Err(SimError::InvalidParameter("arrival rate must be positive"));
    }
    if !positive(config.aht) {
        return Err(SimError::InvalidParameter("handle time must be positive"));
    }
    if let HandleTime::LogNormal { cv } = config.handle_time {
        if !positive(cv) {
            return Err(SimError::InvalidParameter(
                "handle-time coefficient of variation must be positive",
            ));
        }
    }
    if config.patience.is_some_and(|p| !positive(p)) {
        return Err(SimError::InvalidParameter("patience must be positive"));
    }
    if !positive(config.duration) {
        return Err(SimError::InvalidParameter("duration must be positive"));
    }
    if !non_negative(config.warmup) || !non_negative(config.sl_threshold) {
        return Err(SimError::InvalidParameter(
            "warm-up and service-level threshold must not be negative",
        ));
    }
    if !non_negative(config.wrap_up) {
        return Err(SimError::InvalidParameter("wrap-up must not be negative"));
    }
    if config.batches == 0 {
        return Err(SimError::InvalidParameter("batches must be at least 1"));
    }
    Ok(())
}

impl Run<'_> {
    fn instant(&self, at: f64) -> Instant {
        self.t0 + Duration::from_secs_f64(at)
    }

    fn schedule(&mut self, at: f64, what: Happening) {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.calendar.push(Reverse(Entry { at, seq, what }));
    }

    /// Processes the calendar and the router's timers in time order until nothing is left.
    fn run(&mut self) -> Result<(), SimError> {
        loop {
            let router_next = self
                .router
                .poll_timeout()
                .map(|(at, _)| at.saturating_duration_since(self.t0).as_secs_f64());
            let calendar_next = self.calendar.peek().map(|Reverse(e)| e.at);
            match (router_next, calendar_next) {
                (None, None) => return Ok(()),
                (Some(r), c) if c.is_none_or(|c| r <= c) => {
                    self.advance(r);
                    let now = self.instant(r);
                    self.router.handle_timeout(now);
                    self.drain()?;
                }
                _ => {
                    let Some(Reverse(entry)) = self.calendar.pop() else {
                        return Ok(());
                    };
                    self.advance(entry.at);
                    self.happen(entry.what)?;
                }
            }
        }
    }

    /// Moves virtual time to `to`, integrating agent occupancy over the measured window.
    fn advance(&mut self, to: f64) {
        let (start, end) = self.window;
        let overlap = to.min(end) - self.now.max(start);
        if overlap > 0.0 {
            self.busy_time += overlap * self.busy as f64;
            self.staffed_time += overlap * self.logged_in as f64;
        }
        self.now = self.now.max(to);
    }

    fn happen(&mut self, what: Happening) -> Result<(), SimError> {
        match what {
            Happening::Arrival => self.arrive(),
            Happening::HangUp(call) => self.command(Command::CallEnded { call }),
            Happening::PatienceOut(call) => match self.calls.get(&call) {
                Some(tracked) if !tracked.connected => self.command(Command::Abandon { call }),
                _ => Ok(()),
            },
        }
    }

    fn arrive(&mut self) -> Result<(), SimError> {
        let (start, end) = self.window;
        if self.now >= end {
            return Ok(()); // No more arrivals: the run drains.
        }
        let next = self.now + self.arrivals.exponential(1.0 / self.config.arrival_rate);
        self.schedule(next, Happening::Arrival);
        let call = CallId(self.next_call);
        self.next_call += 1;
        let batch = (self.now >= start).then(|| {
            let share = (self.now - start) / self.config.duration;
            ((share * self.config.batches as f64) as usize).min(self.config.batches - 1)
        });
        self.calls.insert(
            call,
            Tracked {
                arrived: self.now,
                batch,
                estimate: 0.0,
                connected: false,
            },
        );
        self.command(Command::Enqueue {
            call,
            queue: self.queue.clone(),
        })?;
        // The router's own estimate, as a caller would be told it on entry (`None` once
        // connected: no wait).
        let estimate = self
            .router
            .estimated_wait(call)
            .map_or(0.0, |wait| wait.as_secs_f64());
        let Some(tracked) = self.calls.get_mut(&call) else {
            return Ok(()); // Already over (cannot happen with a positive handle time).
        };
        let waited = !tracked.connected;
        tracked.estimate = estimate;
        if let Some(b) = batch {
            self.batches[b].offered += 1;
            self.batches[b].waited += u64::from(waited);
        }
        if waited {
            if let Some(mean) = self.config.patience {
                let at = self.now + self.patience.exponential(mean);
                self.schedule(at, Happening::PatienceOut(call));
            }
        }
        Ok(())
    }

    /// Sends one command at the current time and carries out what the router asks.
    fn command(&mut self, command: Command) -> Result<(), SimError> {
        let now = self.instant(self.now);
        self.router.handle(now, command)?;
        self.drain()
    }

    /// Drains the router's events; offers are answered at once (no ring delay).
    fn drain(&mut self) -> Result<(), SimError> {
        loop {
            let mut offers = Vec::new();
            while let Some(event) = self.router.poll_event() {
                self.router_events += 1;
                self.observe(event, &mut offers);
            }
            if offers.is_empty() {
                return Ok(());
            }
            let now = self.instant(self.now);
            for (call, agent) in offers {
                match self
                    .router
                    .handle(now, Command::OfferAnswered { call, agent })
                {
                    // A ring-all entry: an agent rung beside it answered first.
                    Err(crate::command::CommandError::NotOffered { .. }) => {}
                    other => other?,
                }
            }
        }
    }

    fn observe(&mut self, event: RoutingEvent, offers: &mut Vec<(CallId, AgentId)>) {
        match event {
            RoutingEvent::CallOffered { call, agent, .. } => offers.push((call, agent)),
            RoutingEvent::CallConnected { call, .. } => self.connected(call),
            // A queue exit (max wait, exit step) loses the caller just like a hang-up.
            RoutingEvent::CallAbandoned { call, .. } | RoutingEvent::CallExited { call, .. } => {
                if let Some(tracked) = self.calls.remove(&call) {
                    if let Some(b) = tracked.batch {
                        let batch = &mut self.batches[b];
                        batch.abandoned += 1;
                        let wait = self.now - tracked.arrived;
                        batch.abandoned_after += u64::from(wait > self.config.sl_threshold);
                    }
                }
            }
            RoutingEvent::CallCompleted { call, .. } | RoutingEvent::CallRejected { call, .. } => {
                self.calls.remove(&call);
            }
            RoutingEvent::AgentStateChanged { from, to, .. } => {
                let busy = |s: &AgentState| {
                    matches!(
                        s,
                        AgentState::Reserved
                            | AgentState::Ringing
                            | AgentState::OnCall
                            | AgentState::WrapUp
                    )
                };
                let logged_in = |s: &AgentState| *s != AgentState::LoggedOut;
                self.busy = self.busy + usize::from(busy(&to)) - usize::from(busy(&from));
                self.logged_in =
                    self.logged_in + usize::from(logged_in(&to)) - usize::from(logged_in(&from));
            }
            _ => {}
        }
    }

    fn connected(&mut self, call: CallId) {
        let handle = match self.config.handle_time {
            HandleTime::Exponential => self.handling.exponential(self.config.aht),
            HandleTime::LogNormal { cv } => self.handling.log_normal(self.config.aht, cv),
        };
        let Some(tracked) = self.calls.get_mut(&call) else {
            return;
        };
        tracked.connected = true;
        if let Some(b) = tracked.batch {
            let wait = self.now - tracked.arrived;
            let batch = &mut self.batches[b];
            batch.answered += 1;
            batch.answered_within += u64::from(wait <= self.config.sl_threshold);
            batch.wait_sum += wait;
            self.estimate_error_sum += (tracked.estimate - wait).abs();
            self.handle_sum += handle;
            self.handled += 1;
        }
        self.schedule(self.now + handle, Happening::HangUp(call));
    }

    fn report(&self) -> SimReport {
        let mut total = Batch::default();
        for batch in &self.batches {
            total.add(batch);
        }
        let p_waits: Vec<f64> = self.batches.iter().map(Batch::p_wait).collect();
        let levels: Vec<f64> = self.batches.iter().map(Batch::service_level).collect();
        let asas: Vec<f64> = self.batches.iter().map(Batch::asa).collect();
        let answered = total.answered;
        let mean = |sum: f64| {
            if answered == 0 {
                0.0
            } else {
                sum / answered as f64
            }
        };
        SimReport {
            offered: total.offered,
            answered,
            abandoned: total.abandoned,
            service_level: total.service_level(),
            service_level_se: batch_se(&levels),
            asa_s: total.asa(),
            asa_se_s: batch_se(&asas),
            p_wait: total.p_wait(),
            p_wait_se: batch_se(&p_waits),
            abandon_rate: ratio(total.abandoned, total.offered),
            occupancy: if self.staffed_time > 0.0 {
                self.busy_time / self.staffed_time
            } else {
                0.0
            },
            ewt_mae_s: mean(self.estimate_error_sum),
            aht_s: if self.handled == 0 {
                0.0
            } else {
                self.handle_sum / self.handled as f64
            },
            router_events: self.router_events,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::simulate;

    fn small() -> SimConfig {
        SimConfig {
            agents: 3,
            arrival_rate: 2.0 / 60.0,
            aht: 60.0,
            duration: 20_000.0,
            warmup: 1_000.0,
            ..SimConfig::default()
        }
    }

    #[test]
    fn same_seed_gives_the_same_report() {
        let a = simulate(&small()).unwrap();
        let b = simulate(&small()).unwrap();
        assert_eq!(a, b);
        let other = simulate(&SimConfig {
            seed: 99,
            ..small()
        })
        .unwrap();
        assert_ne!(a, other);
        assert_eq!(a.offered, a.answered);
        assert!(a.router_events > 5 * a.offered);
    }

    #[test]
    fn nonsense_parameters_are_refused() {
        for bad in [
            SimConfig {
                arrival_rate: 0.0,
                ..small()
            },
            SimConfig {
                aht: f64::NAN,
                ..small()
            },
            SimConfig {
                patience: Some(-1.0),
                ..small()
            },
            SimConfig {
                handle_time: HandleTime::LogNormal { cv: 0.0 },
                ..small()
            },
            SimConfig {
                batches: 0,
                ..small()
            },
        ] {
            assert!(matches!(simulate(&bad), Err(SimError::InvalidParameter(_))));
        }
        let config = small();
        assert!(matches!(
            simulate_with(&config, config.router_config(), &QueueId::new("nope")),
            Err(SimError::InvalidParameter(_))
        ));
    }

    #[test]
    fn wrap_up_keeps_agents_busy_longer() {
        let plain = simulate(&small()).unwrap();
        let wrapped = simulate(&SimConfig {
            wrap_up: 20.0,
            ..small()
        })
        .unwrap();
        // Load 2/3 per agent rises to 8/9 with 20 s of wrap-up on 60 s calls.
        assert!((plain.occupancy - 2.0 / 3.0).abs() < 0.05, "{plain:?}");
        assert!((wrapped.occupancy - 8.0 / 9.0).abs() < 0.05, "{wrapped:?}");
        assert!(wrapped.p_wait > plain.p_wait + 0.2);
    }

    #[test]
    fn log_normal_handle_times_keep_their_mean_and_patience_abandons() {
        let report = simulate(&SimConfig {
            handle_time: HandleTime::LogNormal { cv: 1.0 },
            patience: Some(30.0),
            ..small()
        })
        .unwrap();
        assert!((report.aht_s - 60.0).abs() < 5.0, "{report:?}");
        assert!(report.abandoned > 0);
        assert_eq!(report.answered + report.abandoned, report.offered);
        assert!(report.ewt_mae_s > 0.0);
    }
}
