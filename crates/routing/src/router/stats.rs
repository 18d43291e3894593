//! Per-queue service level and handle time, and the wait estimate built on them.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::{Phase, Router};
use crate::agent_state::AgentState;
use crate::config::{QueueConfig, ServiceLevelTarget};
use crate::ids::CallId;

/// The handle time assumed before any call completed, unless the queue sets one.
const DEFAULT_HANDLE_TIME: Duration = Duration::from_secs(180);

/// The service-level window when the queue sets none.
pub(super) const DEFAULT_SL_WINDOW: Duration = Duration::from_secs(3600);

/// How many buckets a service-level window is cut into: a call counts for between
/// `window - window / SL_BUCKETS` and `window` after it was answered or lost.
const SL_BUCKETS: u32 = 60;

/// The service-level counts of calls that ended within one bucket of time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct SlCounts {
    /// Answered calls.
    answered: u64,
    /// Answered within the target's threshold.
    within: u64,
    /// Abandoned or exited after the threshold.
    late_lost: u64,
}

impl SlCounts {
    fn add(&mut self, other: SlCounts) {
        self.answered += other.answered;
        self.within += other.within;
        self.late_lost += other.late_lost;
    }

    fn sub(&mut self, other: SlCounts) {
        self.answered -= other.answered;
        self.within -= other.within;
        self.late_lost -= other.late_lost;
    }
}

/// Service-level counts over a rolling window, in buckets so that counting a call and reading
/// the level are O(1) (amortized) whatever the call rate.
#[derive(Debug, Clone)]
struct RollingSl {
    window: Duration,
    bucket: Duration,
    /// (bucket start, counts), oldest first.
    buckets: VecDeque<(Instant, SlCounts)>,
    /// The sum of `buckets`.
    total: SlCounts,
}

impl RollingSl {
    fn new(window: Duration) -> Self {
        let window = if window.is_zero() {
            DEFAULT_SL_WINDOW
        } else {
            window
        };
        Self {
            window,
            bucket: (window / SL_BUCKETS).max(Duration::from_millis(1)),
            buckets: VecDeque::new(),
            total: SlCounts::default(),
        }
    }

    /// Whether the bucket starting at `start` fell out of the window at `now`.
    fn expired(&self, start: Instant, now: Instant) -> bool {
        start + self.window <= now
    }

    /// Drops the buckets that left the window.
    fn roll(&mut self, now: Instant) {
        while let Some(&(start, counts)) = self.buckets.front() {
            if !self.expired(start, now) {
                break;
            }
            self.total.sub(counts);
            self.buckets.pop_front();
        }
    }

    fn count(&mut self, now: Instant, counts: SlCounts) {
        self.roll(now);
        match self.buckets.back_mut() {
            Some((start, last)) if now < *start + self.bucket => last.add(counts),
            _ => self.buckets.push_back((now, counts)),
        }
        self.total.add(counts);
    }

    /// The counts within the window at `now` (buckets not yet rolled out are left out).
    fn at(&self, now: Instant) -> SlCounts {
        let mut total = self.total;
        for &(start, counts) in &self.buckets {
            if !self.expired(start, now) {
                break;
            }
            total.sub(counts);
        }
        total
    }

    /// The same counts under a new window length (the buckets already cut are kept).
    fn resize(&mut self, window: Duration) {
        let resized = Self::new(window);
        self.window = resized.window;
        self.bucket = resized.bucket;
    }
}

/// Counters of one queue: its service level over a rolling window and its handle time.
#[derive(Debug, Clone)]
pub(super) struct QueueStats {
    target: Option<ServiceLevelTarget>,
    sl: RollingSl,
    /// Exponentially weighted handle time (talk plus the queue's wrap-up), in nanoseconds.
    handle_nanos: u128,
    /// Calls folded into `handle_nanos` so far, up to [`HANDLE_TIME_SPAN`].
    handled: u128,
    wrap_up: Duration,
}

/// The handle-time average weighs each completed call 1/(n+1) (a plain mean with the configured
/// expected handle time as its first value) until it reaches 1/50, then exponentially: a short
/// span makes the average swing by a third with exponential handle times, and the caller's
/// position multiplies that swing into the wait estimate (benches/README.md, "Wait estimate
/// error").
const HANDLE_TIME_SPAN: u128 = 50;

impl QueueStats {
    pub(super) fn new(config: &QueueConfig) -> Self {
        let initial = if config.expected_handle_time.is_zero() {
            DEFAULT_HANDLE_TIME
        } else {
            config.expected_handle_time
        };
        Self {
            target: config.service_level,
            sl: RollingSl::new(config.service_level_window),
            handle_nanos: initial.as_nanos(),
            handled: 0,
            wrap_up: config.wrap_up,
        }
    }

    /// Takes a reloaded queue configuration: the counts so far are kept, the target, window and
    /// wrap-up change; a new expected handle time only matters before any call completed, so the
    /// running average is kept.
    pub(super) fn reconfigure(&mut self, config: &QueueConfig) {
        self.target = config.service_level;
        self.sl.resize(config.service_level_window);
        self.wrap_up = config.wrap_up;
    }

    pub(super) fn answered(&mut self, now: Instant, wait: Duration) {
        let within = self.target.is_some_and(|t| wait <= t.threshold);
        let counts = SlCounts {
            answered: 1,
            within: u64::from(within),
            late_lost: 0,
        };
        self.sl.count(now, counts);
    }

    pub(super) fn left(&mut self, now: Instant, wait: Duration) {
        if self.target.is_some_and(|t| wait > t.threshold) {
            let counts = SlCounts {
                late_lost: 1,
                ..SlCounts::default()
            };
            self.sl.count(now, counts);
        }
    }

    /// Folds a completed call's talk time into the handle-time average (weight 1/(n+2), at
    /// least 1/50: see [`HANDLE_TIME_SPAN`]).
    pub(super) fn completed(&mut self, talk: Duration) {
        let handle = (talk + self.wrap_up).as_nanos();
        self.handled = (self.handled + 1).min(HANDLE_TIME_SPAN - 1);
        let n = self.handled;
        self.handle_nanos = (self.handle_nanos * n + handle) / (n + 1);
    }

    /// Answered within threshold / (answered + lost after threshold) over the window ending at
    /// `now`, if any call counted.
    pub(super) fn service_level(&self, now: Instant) -> Option<f64> {
        let counts = self.sl.at(now);
        let total = counts.answered + counts.late_lost;
        (self.target.is_some() && total > 0).then(|| counts.within as f64 / total as f64)
    }

    /// How far below target the queue is over the window ending at `now`, in basis points
    /// (negative: ahead; 0 without a target or data).
    pub(super) fn behind_target_bp(&self, now: Instant) -> i64 {
        let Some(target) = self.target else {
            return 0;
        };
        let counts = self.sl.at(now);
        let total = counts.answered + counts.late_lost;
        if total == 0 {
            return 0;
        }
        let achieved = i64::try_from(counts.within * 10_000 / total).unwrap_or(i64::MAX);
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

    /// The queue's service level over its rolling window (`service_level_window`) ending at
    /// `now`: answered within threshold over answered plus lost after threshold, if it has a
    /// target and any call counted.
    pub fn service_level(&self, queue: &crate::QueueId, now: Instant) -> Option<f64> {
        let &q = self.queue_index.get(queue)?;
        self.queues[q].stats.service_level(now)
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
        let t0 = Instant::now();
        let mut s = stats(80);
        assert_eq!(s.behind_target_bp(t0), 0);
        s.answered(t0, Duration::from_secs(5));
        s.answered(t0, Duration::from_secs(30));
        s.left(t0, Duration::from_secs(3)); // a short abandon does not count
        s.left(t0, Duration::from_secs(40));
        assert_eq!(s.service_level(t0), Some(1.0 / 3.0));
        assert_eq!(s.behind_target_bp(t0), 8000 - 3333);
    }

    #[test]
    fn service_level_forgets_calls_older_than_the_window() {
        let t0 = Instant::now();
        let min = Duration::from_secs(60);
        let mut s = stats(80);
        // A bad start: two late answers.
        s.answered(t0, Duration::from_secs(90));
        s.answered(t0 + min, Duration::from_secs(90));
        assert_eq!(s.service_level(t0 + min), Some(0.0));
        // Then good calls for the next hour.
        for i in 2..=59u32 {
            s.answered(t0 + min * i, Duration::from_secs(1));
        }
        let at = t0 + min * 59;
        assert_eq!(s.service_level(at), Some(58.0 / 60.0));
        // One hour after the first call it leaves the window, without any new call counted.
        assert_eq!(s.service_level(t0 + min * 60), Some(58.0 / 59.0));
        assert_eq!(s.service_level(t0 + min * 61), Some(1.0));
        // Reading is the same once the window rolls on a new count.
        s.answered(t0 + min * 61, Duration::from_secs(1));
        assert_eq!(s.service_level(t0 + min * 61), Some(1.0));
        assert_eq!(s.sl.buckets.len(), 59, "expired buckets are dropped");
        // Long after, nothing counts.
        assert_eq!(s.service_level(t0 + min * 200), None);
        assert_eq!(s.behind_target_bp(t0 + min * 200), 0);
    }

    #[test]
    fn calls_in_one_bucket_share_it_and_the_window_is_configurable() {
        let t0 = Instant::now();
        let mut s = QueueStats::new(&QueueConfig {
            service_level: Some(ServiceLevelTarget {
                threshold: Duration::from_secs(20),
                percent: 50,
            }),
            service_level_window: Duration::from_secs(600),
            ..QueueConfig::default()
        });
        for i in 0..1000u64 {
            // 1,000 calls within the first 10 s bucket of a 10 min window.
            s.answered(
                t0 + Duration::from_millis(i * 9),
                Duration::from_secs(i % 2 * 60),
            );
        }
        assert_eq!(s.sl.buckets.len(), 1);
        assert_eq!(s.service_level(t0 + Duration::from_secs(599)), Some(0.5));
        assert_eq!(s.service_level(t0 + Duration::from_secs(600)), None);
    }

    #[test]
    fn handle_time_is_an_exponential_average() {
        let mut s = stats(80);
        assert_eq!(s.handle_time(), Duration::from_secs(100));
        s.completed(Duration::from_secs(200));
        assert_eq!(s.handle_time(), Duration::from_secs(150));
        s.completed(Duration::from_secs(300));
        assert_eq!(s.handle_time(), Duration::from_secs(200));
        for _ in 0..1000 {
            s.completed(Duration::from_secs(300));
        }
        // Once the span is reached each call weighs 1/50.
        let before = s.handle_time();
        s.completed(Duration::ZERO);
        let after = s.handle_time().as_secs_f64();
        assert!(
            (after - before.as_secs_f64() * 49.0 / 50.0).abs() < 1e-3,
            "{after}"
        );
    }
}
