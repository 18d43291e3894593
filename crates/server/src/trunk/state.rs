//! The admission state of one trunk: concurrent channels, the calls-per-second token bucket and
//! the out-of-service window a 503 opens. Pure: no clock reads, `now` is an argument.

use std::time::{Duration, Instant};

/// How long a trunk stays out of service after a 503 without `Retry-After`.
pub const DEFAULT_503_BACKOFF: Duration = Duration::from_secs(5);
/// The longest `Retry-After` honoured (a gateway asking for a day is capped to this).
pub const MAX_503_BACKOFF: Duration = Duration::from_secs(3600);

/// Micro-tokens per token: the bucket counts in millionths so slow rates refill smoothly.
const MICRO: u128 = 1_000_000;

/// Why a dial may not start now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The trunk answered 503 and is out of service until then.
    OutOfService {
        /// When dials may start again.
        until: Instant,
    },
    /// Every channel is in use.
    ChannelLimit,
    /// The calls-per-second budget is spent for now.
    RateLimit,
}

/// How a dial through the trunk ended, for counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DialOutcome {
    /// The far end answered.
    Answered,
    /// 486/600.
    Busy,
    /// Ring timeout, 408 or 480.
    NoAnswer,
    /// 603 or another 4xx/6xx refusal.
    Rejected,
    /// 5xx or no response at all.
    Failed,
    /// Refused before any INVITE (allow-list, trunk state, limits).
    Refused,
}

impl DialOutcome {
    /// Every outcome, for metric labels.
    pub const ALL: [DialOutcome; 6] = [
        DialOutcome::Answered,
        DialOutcome::Busy,
        DialOutcome::NoAnswer,
        DialOutcome::Rejected,
        DialOutcome::Failed,
        DialOutcome::Refused,
    ];

    /// The metric label.
    pub fn as_str(self) -> &'static str {
        match self {
            DialOutcome::Answered => "answered",
            DialOutcome::Busy => "busy",
            DialOutcome::NoAnswer => "no_answer",
            DialOutcome::Rejected => "rejected",
            DialOutcome::Failed => "failed",
            DialOutcome::Refused => "refused",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Counters of one trunk.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TrunkCounters {
    /// Dials by outcome, indexed like [`DialOutcome::ALL`].
    pub dials: [u64; 6],
    /// 503 answers received.
    pub unavailable: u64,
}

impl TrunkCounters {
    /// Dials that ended with `outcome`.
    pub fn dials(&self, outcome: DialOutcome) -> u64 {
        self.dials[outcome.index()]
    }
}

/// The admission state of one trunk.
#[derive(Debug, Clone)]
pub struct TrunkState {
    max_channels: Option<u32>,
    max_cps: Option<u32>,
    in_use: u32,
    /// Micro-tokens in the bucket and when it was last refilled.
    tokens: u128,
    refilled: Option<Instant>,
    out_until: Option<Instant>,
    counters: TrunkCounters,
}

impl TrunkState {
    /// A trunk with these limits (`None`: no limit); the bucket starts full.
    pub fn new(max_channels: Option<u32>, max_cps: Option<u32>) -> TrunkState {
        TrunkState {
            max_channels,
            max_cps,
            in_use: 0,
            tokens: max_cps.map_or(0, |c| u128::from(c) * MICRO),
            refilled: None,
            out_until: None,
            counters: TrunkCounters::default(),
        }
    }

    /// Takes a channel and a call token, or says why not. A refusal takes nothing.
    pub fn try_acquire(&mut self, now: Instant) -> Result<(), Refusal> {
        if let Some(until) = self.out_until {
            if now < until {
                return Err(Refusal::OutOfService { until });
            }
            self.out_until = None;
        }
        if self.max_channels.is_some_and(|max| self.in_use >= max) {
            return Err(Refusal::ChannelLimit);
        }
        if let Some(cps) = self.max_cps {
            self.refill(now, cps);
            if self.tokens < MICRO {
                return Err(Refusal::RateLimit);
            }
            self.tokens -= MICRO;
        }
        self.in_use += 1;
        Ok(())
    }

    /// Dials that may start at `now`: the whole call-rate tokens in the bucket, 0 while out
    /// of service; None without a call-rate limit (in service).
    pub fn dials_allowed(&mut self, now: Instant) -> Option<u32> {
        if self.out_until.is_some_and(|until| now < until) {
            return Some(0);
        }
        let cps = self.max_cps?;
        self.refill(now, cps);
        Some(u32::try_from(self.tokens / MICRO).unwrap_or(u32::MAX))
    }

    fn refill(&mut self, now: Instant, cps: u32) {
        let capacity = u128::from(cps) * MICRO;
        if let Some(last) = self.refilled {
            // `now` earlier than the last refill (callers racing) adds nothing.
            let elapsed = now.saturating_duration_since(last).as_micros();
            self.tokens = (self.tokens + elapsed * u128::from(cps)).min(capacity);
        }
        if self.refilled.is_none_or(|last| now > last) {
            self.refilled = Some(now);
        }
    }

    /// A channel taken by [`TrunkState::try_acquire`] is free again.
    pub fn release(&mut self) {
        self.in_use = self.in_use.saturating_sub(1);
    }

    /// The gateway answered 503: no dials until `Retry-After` (or the default) has passed.
    pub fn unavailable(&mut self, now: Instant, retry_after: Option<Duration>) {
        let wait = retry_after.map_or(DEFAULT_503_BACKOFF, |d| d.min(MAX_503_BACKOFF));
        let until = now + wait;
        self.out_until = Some(self.out_until.map_or(until, |u| u.max(until)));
        self.counters.unavailable += 1;
    }

    /// Records how a dial ended.
    pub fn record(&mut self, outcome: DialOutcome) {
        self.counters.dials[outcome.index()] += 1;
    }

    /// Channels in use.
    pub fn in_use(&self) -> u32 {
        self.in_use
    }

    /// Until when the trunk is out of service, if it is at `now`.
    #[cfg(test)]
    pub fn out_of_service(&self, now: Instant) -> Option<Instant> {
        self.out_until.filter(|u| now < *u)
    }

    /// The counters.
    pub fn counters(&self) -> TrunkCounters {
        self.counters
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dials_allowed_are_the_whole_tokens_left_and_none_out_of_service() {
        let t = t0();
        let mut s = TrunkState::new(Some(10), Some(2));
        assert_eq!(s.dials_allowed(t), Some(2));
        assert_eq!(s.try_acquire(t), Ok(()));
        assert_eq!(s.dials_allowed(t), Some(1));
        assert_eq!(s.try_acquire(t), Ok(()));
        assert_eq!(s.dials_allowed(t), Some(0));
        assert_eq!(s.try_acquire(t), Err(Refusal::RateLimit));
        assert_eq!(s.dials_allowed(t + Duration::from_millis(500)), Some(1));
        s.unavailable(t + Duration::from_millis(500), Some(Duration::from_secs(5)));
        assert_eq!(s.dials_allowed(t + Duration::from_secs(1)), Some(0));
        assert_eq!(s.dials_allowed(t + Duration::from_secs(6)), Some(2));
        assert_eq!(TrunkState::new(Some(1), None).dials_allowed(t), None);
    }
    use proptest::prelude::*;

    fn t0() -> Instant {
        Instant::now()
    }

    #[test]
    fn channel_limit_refuses_until_a_channel_is_released() {
        let now = t0();
        let mut s = TrunkState::new(Some(1), None);
        assert_eq!(s.try_acquire(now), Ok(()));
        assert_eq!(s.try_acquire(now), Err(Refusal::ChannelLimit));
        s.release();
        assert_eq!(s.try_acquire(now), Ok(()));
        assert_eq!(s.in_use(), 1);
    }

    #[test]
    fn token_bucket_allows_a_burst_then_the_rate() {
        let now = t0();
        let mut s = TrunkState::new(None, Some(2));
        assert_eq!(s.try_acquire(now), Ok(()));
        assert_eq!(s.try_acquire(now), Ok(()));
        assert_eq!(s.try_acquire(now), Err(Refusal::RateLimit));
        // Half a second refills one token at 2 per second.
        let later = now + Duration::from_millis(499);
        assert_eq!(s.try_acquire(later), Err(Refusal::RateLimit));
        let later = now + Duration::from_millis(500);
        assert_eq!(s.try_acquire(later), Ok(()));
        assert_eq!(s.try_acquire(later), Err(Refusal::RateLimit));
    }

    #[test]
    fn a_rate_refusal_takes_no_channel() {
        let now = t0();
        let mut s = TrunkState::new(Some(5), Some(1));
        assert_eq!(s.try_acquire(now), Ok(()));
        assert_eq!(s.try_acquire(now), Err(Refusal::RateLimit));
        assert_eq!(s.in_use(), 1);
    }

    #[test]
    fn retry_after_keeps_the_trunk_out_of_service_until_then() {
        let now = t0();
        let mut s = TrunkState::new(None, None);
        s.unavailable(now, Some(Duration::from_secs(30)));
        let until = now + Duration::from_secs(30);
        assert_eq!(
            s.try_acquire(now + Duration::from_secs(29)),
            Err(Refusal::OutOfService { until })
        );
        assert_eq!(s.out_of_service(now), Some(until));
        assert_eq!(s.try_acquire(until), Ok(()));
        assert_eq!(s.out_of_service(until), None);
        assert_eq!(s.counters().unavailable, 1);
    }

    #[test]
    fn a_503_without_retry_after_backs_off_briefly() {
        let now = t0();
        let mut s = TrunkState::new(None, None);
        s.unavailable(now, None);
        assert!(s.try_acquire(now + DEFAULT_503_BACKOFF / 2).is_err());
        assert_eq!(s.try_acquire(now + DEFAULT_503_BACKOFF), Ok(()));
    }

    #[test]
    fn an_enormous_retry_after_is_capped() {
        let now = t0();
        let mut s = TrunkState::new(None, None);
        s.unavailable(now, Some(Duration::from_secs(86_400 * 365)));
        assert_eq!(s.out_of_service(now), Some(now + MAX_503_BACKOFF));
    }

    #[test]
    fn outcomes_are_counted() {
        let mut s = TrunkState::new(None, None);
        s.record(DialOutcome::Answered);
        s.record(DialOutcome::Busy);
        s.record(DialOutcome::Busy);
        assert_eq!(s.counters().dials(DialOutcome::Busy), 2);
        assert_eq!(s.counters().dials(DialOutcome::Answered), 1);
        assert_eq!(s.counters().dials(DialOutcome::Refused), 0);
    }

    /// One step of a random run: advance the clock, then acquire or release.
    #[derive(Debug, Clone)]
    enum Step {
        Acquire { after_ms: u64 },
        Release { after_ms: u64 },
        Unavailable { after_ms: u64, retry_s: Option<u64> },
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            4 => (0u64..700).prop_map(|after_ms| Step::Acquire { after_ms }),
            2 => (0u64..700).prop_map(|after_ms| Step::Release { after_ms }),
            1 => ((0u64..700), proptest::option::of(0u64..5))
                .prop_map(|(after_ms, retry_s)| Step::Unavailable { after_ms, retry_s }),
        ]
    }

    proptest! {
        /// Channels in use never exceed the cap; acquisitions in any one-second window never
        /// exceed the burst plus the rate; nothing is admitted while out of service.
        #[test]
        fn limits_hold_on_any_run(
            max_channels in 1u32..6,
            max_cps in 1u32..5,
            steps in proptest::collection::vec(step(), 1..200),
        ) {
            let start = t0();
            let mut now = start;
            let mut s = TrunkState::new(Some(max_channels), Some(max_cps));
            let mut held = 0u32;
            let mut admitted: Vec<Instant> = Vec::new();
            let mut out_until: Option<Instant> = None;
            for st in steps {
                match st {
                    Step::Acquire { after_ms } => {
                        now += Duration::from_millis(after_ms);
                        let r = s.try_acquire(now);
                        if r.is_ok() {
                            held += 1;
                            admitted.push(now);
                            prop_assert!(out_until.is_none_or(|u| now >= u));
                        }
                        if out_until.is_some_and(|u| now < u) {
                            let out = matches!(r, Err(Refusal::OutOfService { .. }));
                            prop_assert!(out, "admitted while out of service");
                        }
                    }
                    Step::Release { after_ms } => {
                        now += Duration::from_millis(after_ms);
                        if held > 0 {
                            held -= 1;
                            s.release();
                        }
                    }
                    Step::Unavailable { after_ms, retry_s } => {
                        now += Duration::from_millis(after_ms);
                        s.unavailable(now, retry_s.map(Duration::from_secs));
                        let until = now + retry_s.map_or(DEFAULT_503_BACKOFF, Duration::from_secs);
                        out_until = Some(out_until.map_or(until, |u| u.max(until)));
                    }
                }
                prop_assert_eq!(s.in_use(), held);
                prop_assert!(s.in_use() <= max_channels);
            }
            for (i, t) in admitted.iter().enumerate() {
                let window = admitted[i..]
                    .iter()
                    .take_while(|u| u.duration_since(*t) < Duration::from_secs(1))
                    .count();
                prop_assert!(window <= 2 * max_cps as usize, "{} in one second", window);
            }
        }
    }
}
