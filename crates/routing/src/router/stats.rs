//! Per-queue service level and handle time, and the wait estimate built on them.

use std::time::Duration;

use super::{Phase, Router};
use crate::agent_state::AgentState;
use crate::config::{QueueConfig, ServiceLevelTarget};
use crate::ids::CallId;

/// The handle time assumed before any call completed, unless the queue sets one.
const DEFAULT_HANDLE_TIME: Duration = Duration::from_secs(180);

/// Running counters of one queue since the router started.
#[derive(Debug, Clone)]
pub(super) struct QueueStats {
    target: Option<ServiceLevelTarget>,
    /// Answered calls.
    answered: u64,
    /// Answered within the target's threshold.
    within: u64,
    /// Abandoned or exited after the threshold.
    late_lost: u64,
    /// Exponentially weighted handle time (talk plus the queue's wrap-up), in nanoseconds.
    handle_nanos: u128,
    wrap_up: Duration,
}

impl QueueStats {
    pub(super) fn new(config: &QueueConfig) -> Self {
        let initial = if config.expected_handle_time.is_zero() {
            DEFAULT_HANDLE_TIME
        } else {
            config.expected_handle_time
        };
        Self {
            target: config.service_level,
            answered: 0,
            within: 0,
            late_lost: 0,
            handle_nanos: initial.as_nanos(),
            wrap_up: config.wrap_up,
        }
    }

    pub(super) fn answered(&mut self, wait: Duration) {
        self.answered += 1;
        if self.target.is_some_and(|t| wait <= t.threshold) {
            self.within += 1;
        }
    }

    pub(super) fn left(&mut self, wait: Duration) {
        if self.target.is_some_and(|t| wait > t.threshold) {
            self.late_lost += 1;
        }
    }

    /// Folds a completed call's talk time into the handle-time average (weight 1/5).
    pub(super) fn completed(&mut self, talk: Duration) {
        let handle = (talk + self.wrap_up).as_nanos();
        self.handle_nanos = (self.handle_nanos * 4 + handle) / 5;
    }

    /// Answered within threshold / (answered + lost after threshold), if any call counted.
    pub(super) fn service_level(&self) -> Option<f64> {
        let total = self.answered + self.late_lost;
        (self.target.is_some() && total > 0).then(|| self.within as f64 / total as f64)
    }

    /// How far below target the queue is, in basis points (negative: ahead; 0 without a target
    /// or data).
    pub(super) fn behind_target_bp(&self) -> i64 {
        let (Some(target), total) = (self.target, self.answered + self.late_lost) else {
            return 0;
        };
        if total == 0 {
            return 0;
        }
        let achieved = i64::try_from(self.within * 10_000 / total).unwrap_or(i64::MAX);
        i64::from(target.percent) * 100 - achieved
    }

    pub(super) fn handle_time(&self) -> Duration {
        let nanos = u64::try_from(self.handle_nanos).unwrap_or(u64::MAX);
        Duration::from_nanos(nanos)
    }
}

impl Router {
    /// The estimated wait left for a waiting entry: with `p` its position among the entries of its
    /// queue not yet offered, `r` the
    /// ready members and `s` the staffed ones (logged in, not not-ready), `max(0, p - r) * AHT / s`
    /// — the expected time until `p - r` of `s` busy agents free up when handle times are
    /// exponential. `None` if the call is not waiting or nobody staffs the queue.
    pub fn estimated_wait(&self, call: CallId) -> Option<Duration> {
        let entry = self.calls.get(&call)?;
        if matches!(entry.phase, Phase::Connected { .. }) {
            return None;
        }
        if !entry.phase.offered().is_empty() {
            return Some(Duration::ZERO);
        }
        let queue = &self.queues[entry.queue];
        // Entries ahead that already hold an offer need no agent to free up.
        let position = queue
            .line
            .range(..=entry.line_key())
            .filter(|(_, c)| {
                self.calls
                    .get(c)
                    .is_some_and(|c| matches!(c.phase, Phase::Waiting))
            })
            .count();
        let (mut ready, mut staffed) = (0usize, 0u32);
        for &a in &queue.members {
            match self.agents[a].state {
                AgentState::LoggedOut | AgentState::NotReady(_) => {}
                AgentState::Ready => {
                    ready += 1;
                    staffed += 1;
                }
                _ => staffed += 1,
            }
        }
        if staffed == 0 {
            return None;
        }
        let ahead = u32::try_from(position.saturating_sub(ready)).unwrap_or(u32::MAX);
        Some(queue.stats.handle_time() * ahead / staffed)
    }

    /// The queue's service level so far (answered within threshold over answered plus lost after
    /// threshold), if it has a target and any call counted.
    pub fn service_level(&self, queue: &crate::QueueId) -> Option<f64> {
        let &q = self.queue_index.get(queue)?;
        self.queues[q].stats.service_level()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats(percent: u8) -> QueueStats {
        QueueStats::new(&QueueConfig {
            service_level: Some(ServiceLevelTarget {
                threshold: Duration::from_secs(20),
                percent,
            }),
            expected_handle_time: Duration::from_secs(100),
            ..QueueConfig::default()
        })
    }

    #[test]
    fn service_level_counts_late_losses_and_gap() {
        let mut s = stats(80);
        assert_eq!(s.behind_target_bp(), 0);
        s.answered(Duration::from_secs(5));
        s.answered(Duration::from_secs(30));
        s.left(Duration::from_secs(3)); // a short abandon does not count
        s.left(Duration::from_secs(40));
        assert_eq!(s.service_level(), Some(1.0 / 3.0));
        assert_eq!(s.behind_target_bp(), 8000 - 3333);
    }

    #[test]
    fn handle_time_is_an_exponential_average() {
        let mut s = stats(80);
        assert_eq!(s.handle_time(), Duration::from_secs(100));
        s.completed(Duration::from_secs(200));
        assert_eq!(s.handle_time(), Duration::from_secs(120));
    }
}
