//! Prometheus metrics of the scheduled callbacks: open, due and overdue callbacks per queue
//! (gauges), and counters of completions, missed deadlines, give-ups and attempts.

use std::collections::BTreeMap;

use hotline_campaigns::{CallbackEvent, CallbackState, Scheduler};
use prometheus::{IntCounter, IntCounterVec, IntGaugeVec, Opts};

use super::journal::{give_up_to_wire, outcome_to_wire};

/// The scheduled-callback metrics, registered with the server's.
#[derive(Clone)]
pub struct CallbackMetrics {
    /// Open callbacks per queue (held, waiting, claimed or dialing).
    pending: IntGaugeVec,
    /// Waiting callbacks per queue whose start and retry time passed.
    due: IntGaugeVec,
    /// Open callbacks per queue past their deadline.
    overdue: IntGaugeVec,
    /// Callbacks completed (the customer answered).
    completed: IntCounter,
    /// Callbacks completed by their deadline.
    completed_within_deadline: IntCounter,
    /// Deadlines missed.
    missed_deadline: IntCounter,
    /// Callbacks given up, by reason.
    given_up: IntCounterVec,
    /// Dial attempts ended, by outcome.
    attempts: IntCounterVec,
}

fn wire_name<T: serde::Serialize>(value: T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

impl CallbackMetrics {
    /// Creates the metrics and registers them with `metrics`.
    pub fn register(metrics: &crate::metrics::Metrics) -> prometheus::Result<Self> {
        let gauge = |name: &str, help: &str| IntGaugeVec::new(Opts::new(name, help), &["queue"]);
        let this = Self {
            pending: gauge(
                "hotline_scheduled_callbacks_pending",
                "Open scheduled callbacks (held, waiting, claimed or dialing) per queue",
            )?,
            due: gauge(
                "hotline_scheduled_callbacks_due",
                "Scheduled callbacks that may be dialed now per queue",
            )?,
            overdue: gauge(
                "hotline_scheduled_callbacks_overdue",
                "Open scheduled callbacks past their deadline per queue",
            )?,
            completed: IntCounter::new(
                "hotline_scheduled_callbacks_completed_total",
                "Scheduled callbacks that reached the customer",
            )?,
            completed_within_deadline: IntCounter::new(
                "hotline_scheduled_callbacks_completed_within_deadline_total",
                "Scheduled callbacks that reached the customer by their deadline",
            )?,
            missed_deadline: IntCounter::new(
                "hotline_scheduled_callbacks_missed_deadline_total",
                "Scheduled callbacks whose deadline passed before they were done",
            )?,
            given_up: IntCounterVec::new(
                Opts::new(
                    "hotline_scheduled_callbacks_given_up_total",
                    "Scheduled callbacks given up, by reason",
                ),
                &["reason"],
            )?,
            attempts: IntCounterVec::new(
                Opts::new(
                    "hotline_scheduled_callback_attempts_total",
                    "Scheduled callback dial attempts ended, by outcome",
                ),
                &["outcome"],
            )?,
        };
        for collector in [
            Box::new(this.pending.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(this.due.clone()),
            Box::new(this.overdue.clone()),
            Box::new(this.completed.clone()),
            Box::new(this.completed_within_deadline.clone()),
            Box::new(this.missed_deadline.clone()),
            Box::new(this.given_up.clone()),
            Box::new(this.attempts.clone()),
        ] {
            metrics.register(collector)?;
        }
        Ok(this)
    }

    /// Counts one event the scheduler emitted (not replayed ones).
    pub fn count(&self, event: &CallbackEvent) {
        match event {
            CallbackEvent::Completed {
                within_deadline, ..
            } => {
                self.completed.inc();
                if *within_deadline {
                    self.completed_within_deadline.inc();
                }
            }
            CallbackEvent::MissedDeadline { .. } => self.missed_deadline.inc(),
            CallbackEvent::GivenUp { reason, .. } => self
                .given_up
                .with_label_values(&[wire_name(give_up_to_wire(*reason)).as_str()])
                .inc(),
            CallbackEvent::AttemptEnded { outcome, .. } => self
                .attempts
                .with_label_values(&[wire_name(outcome_to_wire(outcome.kind)).as_str()])
                .inc(),
            _ => {}
        }
    }

    /// Sets the per-queue gauges from the scheduler's state at `now`.
    pub fn publish(&self, scheduler: &Scheduler, now: jiff::Timestamp) {
        let counts = queue_counts(scheduler, now);
        for queue in scheduler.config().queues.keys() {
            let c = counts.get(queue.as_str()).copied().unwrap_or_default();
            let label = [queue.as_str()];
            self.pending.with_label_values(&label).set(c.pending);
            self.due.with_label_values(&label).set(c.due);
            self.overdue.with_label_values(&label).set(c.overdue);
        }
    }
}

/// Open, due and overdue callbacks of one queue.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueueCounts {
    /// Open (held, waiting, claimed or dialing).
    pub pending: i64,
    /// Waiting and past their start and retry time.
    pub due: i64,
    /// Open and past their deadline.
    pub overdue: i64,
}

/// Counts per queue at `now`.
pub fn queue_counts(scheduler: &Scheduler, now: jiff::Timestamp) -> BTreeMap<String, QueueCounts> {
    let mut counts: BTreeMap<String, QueueCounts> = BTreeMap::new();
    for cb in scheduler.book().callbacks.values() {
        if cb.state.is_terminal() {
            continue;
        }
        let c = counts
            .entry(cb.spec.queue.as_str().to_string())
            .or_default();
        c.pending += 1;
        if matches!(cb.state, CallbackState::Waiting) && cb.wake_at() <= now {
            c.due += 1;
        }
        if cb.spec.due.deadline.is_some_and(|d| d < now) {
            c.overdue += 1;
        }
    }
    counts
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use hotline_campaigns::{
        CallbackId, Command, Deadline, DueSpec, NewCallback, QueueName, QueueSettings,
        SchedulerConfig, Zone, E164,
    };

    use super::*;

    fn new(id: u128, zone: Option<&str>, within_mins: u64) -> Command {
        Command::Create(Box::new(NewCallback {
            id: CallbackId(id),
            number: E164::parse("+8613800138000").unwrap_or_else(|e| panic!("{e}")),
            time_zone: zone.map(|z| Zone::new(z).unwrap_or_else(|e| panic!("{e}"))),
            reason: "complaint".into(),
            attributes: Default::default(),
            queue: QueueName::new("support"),
            skills: vec![],
            priority: 0,
            due: DueSpec {
                deadline: Some(Deadline::Within(Duration::from_secs(within_mins * 60))),
                ..DueSpec::default()
            },
        }))
    }

    #[test]
    fn queues_count_their_open_due_and_overdue_callbacks() {
        let mut config = SchedulerConfig::default();
        config
            .queues
            .insert(QueueName::new("support"), QueueSettings::default());
        let mut s = Scheduler::new(config).unwrap_or_else(|e| panic!("{e}"));
        let now: jiff::Timestamp = "2026-12-07T02:00:00Z".parse().unwrap_or_default();
        for cmd in [
            new(1, Some("Asia/Shanghai"), 60),
            new(2, None, 180),
            new(3, Some("Asia/Shanghai"), 240),
        ] {
            s.handle(now, cmd).unwrap_or_else(|e| panic!("{e}"));
        }
        s.handle(now, Command::Cancel { id: CallbackId(3) })
            .unwrap_or_else(|e| panic!("{e}"));
        let support = |at: &str| {
            let at: jiff::Timestamp = at.parse().unwrap_or_default();
            queue_counts(&s, at)
                .get("support")
                .copied()
                .unwrap_or_default()
        };
        // The held one (no zone) is open but not due; the cancelled one is not counted.
        assert_eq!(
            support("2026-12-07T02:00:00Z"),
            QueueCounts {
                pending: 2,
                due: 1,
                overdue: 0
            }
        );
        assert_eq!(support("2026-12-07T03:30:00Z").overdue, 1);
        assert_eq!(support("2026-12-07T05:30:00Z").overdue, 2);
    }
}
