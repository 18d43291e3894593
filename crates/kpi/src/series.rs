//! Time series of accumulators: a ring of fixed-width buckets for the live rolling windows,
//! and daily/weekly/monthly rollups in a fixed UTC offset.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::{Date, Duration as TimeDuration, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

use crate::config::{KpiConfig, Retention};
use crate::counters::Merge;

/// A calendar rollup granularity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Granularity {
    /// A local calendar day.
    Day,
    /// A local week, Monday to Sunday.
    Week,
    /// A local calendar month.
    Month,
}

impl Granularity {
    /// Every granularity, shortest first.
    pub const ALL: [Granularity; 3] = [Granularity::Day, Granularity::Week, Granularity::Month];

    /// The first local day of the period containing `date`.
    pub fn period_start(self, date: Date) -> Date {
        match self {
            Granularity::Day => date,
            Granularity::Week => {
                date - TimeDuration::days(i64::from(date.weekday().number_days_from_monday()))
            }
            // Day 1 exists in every month.
            Granularity::Month => date.replace_day(1).unwrap_or(date),
        }
    }

    /// The first local day of the period after the one starting at `start`.
    pub fn next_start(self, start: Date) -> Date {
        match self {
            Granularity::Day => start.next_day().unwrap_or(start),
            Granularity::Week => start + TimeDuration::days(7),
            Granularity::Month => {
                let (y, m) = (start.year(), start.month());
                let (y, m) = if m == time::Month::December {
                    (y + 1, time::Month::January)
                } else {
                    (y, m.next())
                };
                Date::from_calendar_date(y, m, 1).unwrap_or(start)
            }
        }
    }

    fn index(self) -> usize {
        match self {
            Granularity::Day => 0,
            Granularity::Week => 1,
            Granularity::Month => 2,
        }
    }
}

/// The local date of an instant in unix milliseconds.
pub(crate) fn local_date(ms: i64, offset: UtcOffset) -> Date {
    let nanos = i128::from(ms) * 1_000_000;
    OffsetDateTime::from_unix_timestamp_nanos(nanos)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
        .to_offset(offset)
        .date()
}

/// Unix milliseconds of local midnight starting `date`.
pub(crate) fn midnight_ms(date: Date, offset: UtcOffset) -> i64 {
    let at = PrimitiveDateTime::new(date, Time::MIDNIGHT).assume_offset(offset);
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

/// Longest interval split across periods; older parts of an interval are dropped (they are
/// beyond any retention and only guard against absurd timestamps).
const MAX_SPLIT_MS: i64 = 800 * 86_400_000;

/// One key's accumulators over time.
#[derive(Debug, Clone)]
pub(crate) struct Series<C> {
    bucket_ms: i64,
    ring: Vec<Option<(i64, C)>>,
    offset: UtcOffset,
    retention: Retention,
    rollups: [BTreeMap<Date, C>; 3],
}

impl<C: Merge> Series<C> {
    /// An empty series for the given settings and time zone.
    pub(crate) fn new(config: &KpiConfig, offset: UtcOffset) -> Self {
        Self {
            bucket_ms: config.bucket_ms(),
            ring: vec![None; config.bucket_count()],
            offset,
            retention: config.retention,
            rollups: Default::default(),
        }
    }

    /// Applies `f` to the bucket and to the rollups containing instant `ms`.
    pub(crate) fn add_at(&mut self, ms: i64, f: impl Fn(&mut C)) {
        if let Some(c) = self.bucket_mut(ms) {
            f(c);
        }
        let date = local_date(ms, self.offset);
        for g in Granularity::ALL {
            if let Some(c) = self.rollup_mut(g, g.period_start(date)) {
                f(c);
            }
        }
    }

    /// Splits `[start, end)` at bucket and local-midnight boundaries and applies
    /// `f(counters, milliseconds)` to each piece.
    pub(crate) fn add_interval(&mut self, start: i64, end: i64, f: impl Fn(&mut C, u64)) {
        let start = start.max(end.saturating_sub(MAX_SPLIT_MS));
        if end <= start {
            return;
        }
        // Buckets: only the span the ring can hold.
        let ring_span = self.bucket_ms * self.ring.len() as i64;
        let mut cur = start.max(end - ring_span);
        while cur < end {
            let next = (cur.div_euclid(self.bucket_ms) + 1) * self.bucket_ms;
            let piece_end = next.min(end);
            let ms = u64::try_from(piece_end - cur).unwrap_or(0);
            if let Some(c) = self.bucket_mut(cur) {
                f(c, ms);
            }
            cur = piece_end;
        }
        // Calendar days, each added to its day, week and month.
        let mut cur = start;
        while cur < end {
            let date = local_date(cur, self.offset);
            let next = date
                .next_day()
                .map_or(end, |d| midnight_ms(d, self.offset))
                .max(cur + 1);
            let piece_end = next.min(end);
            let ms = u64::try_from(piece_end - cur).unwrap_or(0);
            for g in Granularity::ALL {
                if let Some(c) = self.rollup_mut(g, g.period_start(date)) {
                    f(c, ms);
                }
            }
            cur = piece_end;
        }
    }

    fn bucket_mut(&mut self, ms: i64) -> Option<&mut C> {
        let idx = ms.div_euclid(self.bucket_ms);
        let len = self.ring.len() as i64;
        // rem_euclid of a positive length is in 0..len, so the cast and index are in range.
        let slot = &mut self.ring[idx.rem_euclid(len) as usize];
        let held = slot.as_ref().map(|(held, _)| *held);
        match held {
            Some(held) if held > idx => return None,
            Some(held) if held == idx => {}
            _ => *slot = Some((idx, C::default())),
        }
        slot.as_mut().map(|(_, c)| c)
    }

    fn rollup_mut(&mut self, g: Granularity, start: Date) -> Option<&mut C> {
        let keep = match g {
            Granularity::Day => self.retention.days,
            Granularity::Week => self.retention.weeks,
            Granularity::Month => self.retention.months,
        }
        .max(1);
        let map = &mut self.rollups[g.index()];
        if !map.contains_key(&start) {
            if map.len() >= keep {
                let oldest = *map.keys().next()?;
                if start < oldest {
                    return None;
                }
                map.remove(&oldest);
            }
            map.insert(start, C::default());
        }
        map.get_mut(&start)
    }

    /// The sum of the `buckets` buckets ending with the one containing `now`, and the
    /// instant the first of them starts.
    pub(crate) fn rolling(&self, now: i64, buckets: usize) -> (i64, C) {
        let now_idx = now.div_euclid(self.bucket_ms);
        let buckets = buckets.clamp(1, self.ring.len()) as i64;
        let first = now_idx - buckets + 1;
        let mut sum = C::default();
        for (idx, c) in self.ring.iter().flatten() {
            if (first..=now_idx).contains(idx) {
                sum.merge(c);
            }
        }
        (first * self.bucket_ms, sum)
    }

    /// The rollup of the period of granularity `g` containing `now`, with its local start.
    pub(crate) fn current(&self, now: i64, g: Granularity) -> (Date, C) {
        let start = g.period_start(local_date(now, self.offset));
        let c = self.rollups[g.index()]
            .get(&start)
            .cloned()
            .unwrap_or_default();
        (start, c)
    }

    /// Every retained rollup of granularity `g`, oldest first.
    pub(crate) fn history(&self, g: Granularity) -> impl Iterator<Item = (Date, &C)> {
        self.rollups[g.index()].iter().map(|(d, c)| (*d, c))
    }

    /// The series' time zone.
    pub(crate) fn offset(&self) -> UtcOffset {
        self.offset
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::counters::QueueCounters;
    use time::macros::{date, offset};

    fn config(days: usize) -> KpiConfig {
        KpiConfig {
            rolling_windows: vec![std::time::Duration::from_secs(180)],
            retention: Retention {
                days,
                weeks: 2,
                months: 2,
            },
            ..KpiConfig::default()
        }
    }

    fn offered(s: &Series<QueueCounters>, now: i64, n: usize) -> u64 {
        s.rolling(now, n).1.offered
    }

    #[test]
    fn ring_reuses_slots_and_drops_events_older_than_it_holds() {
        let mut s: Series<QueueCounters> = Series::new(&config(5), UtcOffset::UTC);
        assert_eq!(s.ring.len(), 3);
        s.add_at(0, |c| c.offered += 1);
        s.add_at(60_000, |c| c.offered += 1);
        assert_eq!(offered(&s, 60_000, 3), 2);
        // Minute 3 takes minute 0's slot.
        s.add_at(180_000, |c| c.offered += 1);
        assert_eq!(offered(&s, 180_000, 3), 2);
        assert_eq!(offered(&s, 180_000, 1), 1);
        // Minute 0 is gone: a late event for it is not counted in the ring.
        s.add_at(1_000, |c| c.offered += 1);
        assert_eq!(offered(&s, 180_000, 3), 2);
        // The day still counts everything.
        assert_eq!(s.current(180_000, Granularity::Day).1.offered, 4);
    }

    #[test]
    fn rollups_keep_the_most_recent_periods() {
        let mut s: Series<QueueCounters> = Series::new(&config(2), UtcOffset::UTC);
        let day = 86_400_000;
        for d in 0..4 {
            s.add_at(d * day, |c| c.offered += 1);
        }
        let kept: Vec<Date> = s.history(Granularity::Day).map(|(d, _)| d).collect();
        assert_eq!(kept, [date!(1970 - 01 - 03), date!(1970 - 01 - 04)]);
        // Older than everything kept: ignored rather than evicting newer days.
        s.add_at(0, |c| c.offered += 1);
        assert_eq!(s.history(Granularity::Day).count(), 2);
        assert_eq!(s.current(3 * day, Granularity::Day).1.offered, 1);
    }

    #[test]
    fn periods_start_on_local_days_mondays_and_firsts() {
        let d = date!(2026 - 12 - 31);
        assert_eq!(Granularity::Week.period_start(d), date!(2026 - 12 - 28));
        assert_eq!(Granularity::Month.period_start(d), date!(2026 - 12 - 01));
        assert_eq!(
            Granularity::Month.next_start(date!(2026 - 12 - 01)),
            date!(2027 - 01 - 01)
        );
        assert_eq!(
            Granularity::Week.next_start(date!(2026 - 12 - 28)),
            date!(2027 - 01 - 04)
        );
        let ms = midnight_ms(date!(2026 - 11 - 24), offset!(+8));
        assert_eq!(local_date(ms, offset!(+8)), date!(2026 - 11 - 24));
        assert_eq!(local_date(ms - 1, offset!(+8)), date!(2026 - 11 - 23));
        assert_eq!(local_date(ms, UtcOffset::UTC), date!(2026 - 11 - 23));
    }

    #[test]
    fn intervals_split_at_buckets_and_midnight() {
        let mut s: Series<QueueCounters> = Series::new(&config(5), offset!(-5));
        // 04:59:30 to 05:00:30 UTC crosses midnight at -05:00 and a bucket boundary.
        let start = midnight_ms(date!(2026 - 11 - 24), offset!(-5)) - 30_000;
        s.add_interval(start, start + 60_000, |c, ms| c.talk_ms += ms);
        let days: Vec<(Date, u64)> = s
            .history(Granularity::Day)
            .map(|(d, c)| (d, c.talk_ms))
            .collect();
        assert_eq!(
            days,
            [
                (date!(2026 - 11 - 23), 30_000),
                (date!(2026 - 11 - 24), 30_000)
            ]
        );
        assert_eq!(s.rolling(start + 60_000, 1).1.talk_ms, 30_000);
        assert_eq!(s.rolling(start + 60_000, 2).1.talk_ms, 60_000);
    }
}
