//! The abandonment ledger of one campaign: live-answered and abandoned calls over the
//! profile's rolling window, and the numbers that may not be dialed again yet.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use jiff::Timestamp;

use super::profile::JurisdictionProfile;
use crate::number::E164;

/// Live-answered and abandoned calls in the window ending now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AbandonStats {
    /// Calls answered by a person (abandoned ones included).
    pub live_answered: u64,
    /// Of those, calls not connected to an agent in time.
    pub abandoned: u64,
}

impl AbandonStats {
    /// The abandoned share of live-answered calls (0 when none was answered).
    pub fn rate(&self) -> f64 {
        if self.live_answered == 0 {
            0.0
        } else {
            self.abandoned as f64 / self.live_answered as f64
        }
    }
}

/// Calls recorded at one instant (one entry per distinct instant keeps a busy campaign's
/// 30 days small).
#[derive(Debug, Clone, Copy)]
struct Entry {
    at: Timestamp,
    live: u64,
    abandoned: u64,
}

/// One campaign's abandonment record over the profile's rolling window.
///
/// A call recorded at `t` counts at `now` while `now - window < t <= now`: it leaves the window
/// exactly `window` after it was recorded. Recording and reading are O(1) amortized: entries
/// leave from the front as time passes. Instants earlier than one already seen count as that
/// one (the clock never runs backward in the ledger).
#[derive(Debug, Clone)]
pub struct AbandonLedger {
    window: Duration,
    entries: VecDeque<Entry>,
    totals: AbandonStats,
    latest: Timestamp,
    no_redial: NoRedial,
}

impl AbandonLedger {
    /// An empty ledger with the profile's window and no-redial rule.
    pub fn new(profile: &JurisdictionProfile) -> Self {
        Self {
            window: profile.window(),
            entries: VecDeque::new(),
            totals: AbandonStats::default(),
            latest: Timestamp::MIN,
            no_redial: NoRedial::new(profile.no_redial_after_abandon()),
        }
    }

    /// A call answered by a person and connected to an agent in time.
    pub fn record_connected(&mut self, now: Timestamp) {
        self.record(now, 1, 0);
    }

    /// A call answered by a person and not connected in time: counted, and its number barred
    /// from redial for the profile's period.
    pub fn record_abandoned(&mut self, now: Timestamp, number: &E164) {
        let now = self.record(now, 1, 1);
        self.no_redial.insert(now, number);
    }

    /// The calls in the window ending at `now`.
    pub fn stats(&mut self, now: Timestamp) -> AbandonStats {
        self.advance(now);
        self.totals
    }

    /// Whether `number` may be dialed at `now`: `Err(until)` while an abandoned call to it is
    /// more recent than the no-redial period (it may be dialed again from `until` on).
    pub fn may_dial(&mut self, now: Timestamp, number: &E164) -> Result<(), Timestamp> {
        let now = self.advance(now);
        self.no_redial.check(now, number)
    }

    /// Numbers currently barred from redial.
    pub fn barred(&self) -> usize {
        self.no_redial.until.len()
    }

    fn record(&mut self, now: Timestamp, live: u64, abandoned: u64) -> Timestamp {
        let now = self.advance(now);
        self.totals.live_answered += live;
        self.totals.abandoned += abandoned;
        match self.entries.back_mut() {
            Some(last) if last.at == now => {
                last.live += live;
                last.abandoned += abandoned;
            }
            _ => self.entries.push_back(Entry {
                at: now,
                live,
                abandoned,
            }),
        }
        now
    }

    /// Moves the ledger's clock to `now` (never backward) and drops what left the window.
    fn advance(&mut self, now: Timestamp) -> Timestamp {
        let now = now.max(self.latest);
        self.latest = now;
        while let Some(first) = self.entries.front() {
            if !left_window(first.at, self.window, now) {
                break;
            }
            self.totals.live_answered -= first.live;
            self.totals.abandoned -= first.abandoned;
            self.entries.pop_front();
        }
        self.no_redial.expire(now);
        now
    }
}

/// Whether a call recorded at `at` is out of the window ending at `now`.
fn left_window(at: Timestamp, window: Duration, now: Timestamp) -> bool {
    match at.checked_add(window) {
        Ok(leaves) => leaves <= now,
        // Past the end of time: never leaves.
        Err(_) => false,
    }
}

/// Abandoned numbers and when they may be dialed again.
#[derive(Debug, Clone)]
struct NoRedial {
    period: Option<Duration>,
    /// Number -> the instant it may be dialed again (the latest abandon's).
    until: HashMap<E164, Timestamp>,
    /// The same in time order, possibly with stale entries of numbers abandoned again since.
    order: VecDeque<(Timestamp, E164)>,
}

impl NoRedial {
    fn new(period: Option<Duration>) -> Self {
        Self {
            period,
            until: HashMap::new(),
            order: VecDeque::new(),
        }
    }

    fn insert(&mut self, now: Timestamp, number: &E164) {
        let Some(period) = self.period else { return };
        let until = now.checked_add(period).unwrap_or(Timestamp::MAX);
        self.until.insert(number.clone(), until);
        self.order.push_back((until, number.clone()));
    }

    fn check(&self, now: Timestamp, number: &E164) -> Result<(), Timestamp> {
        match self.until.get(number) {
            Some(until) if now < *until => Err(*until),
            _ => Ok(()),
        }
    }

    fn expire(&mut self, now: Timestamp) {
        while let Some((until, _)) = self.order.front() {
            if *until > now {
                break;
            }
            if let Some((until, number)) = self.order.pop_front() {
                // A later abandon of the same number keeps it barred.
                if self.until.get(&number) == Some(&until) {
                    self.until.remove(&number);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn t0() -> Timestamp {
        "2026-12-06T00:00:00Z"
            .parse()
            .unwrap_or_else(|e| panic!("{e}"))
    }

    fn number(n: u32) -> E164 {
        E164::parse(&format!("+4420{:08}", n)).unwrap_or_else(|e| panic!("{e}"))
    }

    fn at(secs: u64) -> Timestamp {
        t0() + Duration::from_secs(secs)
    }

    #[test]
    fn a_call_leaves_the_window_exactly_at_its_end() {
        let mut ledger = AbandonLedger::new(&JurisdictionProfile::Uk);
        ledger.record_connected(at(0));
        ledger.record_abandoned(at(10), &number(1));
        let day = 86_400;
        assert_eq!(ledger.stats(at(day - 1)).live_answered, 2);
        let s = ledger.stats(at(day));
        assert_eq!((s.live_answered, s.abandoned), (1, 1));
        assert_eq!(ledger.stats(at(day + 9)).rate(), 1.0);
        assert_eq!(ledger.stats(at(day + 10)), AbandonStats::default());
    }

    #[test]
    fn uk_bars_an_abandoned_number_for_72_hours() {
        let mut ledger = AbandonLedger::new(&JurisdictionProfile::Uk);
        ledger.record_abandoned(at(100), &number(7));
        let until = at(100 + 72 * 3600);
        assert_eq!(ledger.may_dial(at(101), &number(7)), Err(until));
        assert_eq!(ledger.may_dial(at(101), &number(8)), Ok(()));
        assert_eq!(
            ledger.may_dial(at(100 + 72 * 3600 - 1), &number(7)),
            Err(until)
        );
        assert_eq!(ledger.may_dial(until, &number(7)), Ok(()));
        assert_eq!(ledger.barred(), 0);
    }

    #[test]
    fn us_has_no_redial_bar() {
        let mut ledger = AbandonLedger::new(&JurisdictionProfile::Us);
        ledger.record_abandoned(at(100), &number(7));
        assert_eq!(ledger.may_dial(at(101), &number(7)), Ok(()));
    }

    #[derive(Debug, Clone)]
    enum Op {
        Connected(u64),
        Abandoned(u64, u32),
        Read(u64),
        Dial(u64, u32),
    }

    fn op() -> impl Strategy<Value = Op> {
        // Steps of 0 to 3 h, so that many calls leave a 24 h window and a 72 h bar, some
        // exactly at the edge (steps are whole hours or seconds).
        let step = prop_oneof![0u64..4, (0u64..4).prop_map(|h| h * 3600)];
        prop_oneof![
            step.clone().prop_map(Op::Connected),
            (step.clone(), 0u32..6).prop_map(|(s, n)| Op::Abandoned(s, n)),
            step.clone().prop_map(Op::Read),
            (step, 0u32..6).prop_map(|(s, n)| Op::Dial(s, n)),
        ]
    }

    proptest! {
        /// The ledger's counts equal a naive recount of every call in the window, and a number
        /// is barred exactly while an abandon of it is less than 72 h old.
        #[test]
        fn ledger_matches_a_naive_recount(ops in prop::collection::vec(op(), 1..300)) {
            let profile = JurisdictionProfile::Uk;
            let window = profile.window().as_secs();
            let bar = 72 * 3600;
            let mut ledger = AbandonLedger::new(&profile);
            let mut log: Vec<(u64, bool, Option<u32>)> = vec![];
            let mut now = 0u64;
            for op in ops {
                match op {
                    Op::Connected(step) => {
                        now += step;
                        ledger.record_connected(at(now));
                        log.push((now, false, None));
                    }
                    Op::Abandoned(step, n) => {
                        now += step;
                        ledger.record_abandoned(at(now), &number(n));
                        log.push((now, true, Some(n)));
                    }
                    Op::Read(step) => {
                        now += step;
                        let in_window = |t: u64| t + window > now;
                        let live = log.iter().filter(|(t, _, _)| in_window(*t)).count() as u64;
                        let abandoned = log.iter().filter(|(t, a, _)| *a && in_window(*t)).count() as u64;
                        let s = ledger.stats(at(now));
                        prop_assert_eq!((s.live_answered, s.abandoned), (live, abandoned));
                    }
                    Op::Dial(step, n) => {
                        now += step;
                        let last = log.iter().filter(|(_, _, m)| *m == Some(n)).map(|(t, _, _)| *t).max();
                        let expected = match last {
                            Some(t) if now < t + bar => Err(at(t + bar)),
                            _ => Ok(()),
                        };
                        prop_assert_eq!(ledger.may_dial(at(now), &number(n)), expected);
                    }
                }
            }
        }
    }
}
