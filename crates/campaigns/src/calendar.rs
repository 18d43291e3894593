//! Business calendars: working weekdays, holidays and make-up working days in a time zone, for
//! deadlines counted in working days ("the first follow-up within 5 working days of a fix").
//!
//! The model is the dialplan schedules' (`crates/dialplan/src/schedule.rs`: holidays closed all
//! day, make-up working days open whatever their weekday) without their opening hours: a
//! deadline counts whole days. It is kept here rather than shared so the pure core does not
//! depend on the dialplan loader.

use std::collections::BTreeSet;

use jiff::civil::Date;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::time::Zone;
use crate::window::Days;

/// A business calendar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BusinessCalendar {
    /// The zone its dates are read in.
    pub time_zone: Zone,
    /// The usual working weekdays (default `mon-fri`).
    #[serde(default = "weekdays")]
    pub weekdays: Days,
    /// Dates not worked whatever their weekday.
    #[serde(default, with = "crate::time::date_set")]
    pub holidays: BTreeSet<Date>,
    /// Dates worked whatever their weekday (a Saturday worked to bridge a holiday).
    #[serde(default, with = "crate::time::date_set")]
    pub working_days: BTreeSet<Date>,
}

fn weekdays() -> Days {
    Days::WEEKDAYS
}

/// A working-day count no calendar day reaches.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no {days}th working day within {horizon} days of {from}")]
pub struct NoWorkingDay {
    /// The days asked for.
    pub days: u32,
    /// The start date.
    pub from: Date,
    /// How far the search went.
    pub horizon: u32,
}

/// How far a working-day search goes (ten years of calendar days).
const HORIZON_DAYS: u32 = 3660;

impl BusinessCalendar {
    /// Whether local `date` is worked: a make-up day always, a holiday never, else by weekday.
    pub fn is_working_day(&self, date: Date) -> bool {
        if self.working_days.contains(&date) {
            return true;
        }
        !self.holidays.contains(&date) && self.weekdays.contains(date.weekday())
    }

    /// The deadline `days` working days after `from`: the end (next local midnight) of the
    /// `days`-th working day after `from`'s local date. Zero days: the end of `from`'s own date.
    ///
    /// Counting starts the day after, so a fix on Monday afternoon with 5 working days is due
    /// by the end of the following Monday, and a holiday in between moves it on by a day.
    pub fn deadline_after(&self, from: Timestamp, days: u32) -> Result<Timestamp, NoWorkingDay> {
        let start = self.time_zone.local(from).date();
        let mut date = start;
        let mut counted = 0;
        let mut walked = 0;
        while counted < days {
            date = date.tomorrow().map_err(|_| self.no_day(days, start))?;
            walked += 1;
            if walked > HORIZON_DAYS {
                return Err(self.no_day(days, start));
            }
            if self.is_working_day(date) {
                counted += 1;
            }
        }
        let end = date.tomorrow().map_err(|_| self.no_day(days, start))?;
        Ok(self.time_zone.start_of(end))
    }

    fn no_day(&self, days: u32, from: Date) -> NoWorkingDay {
        NoWorkingDay {
            days,
            from,
            horizon: HORIZON_DAYS,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn ts(text: &str) -> Timestamp {
        text.parse().unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn shanghai() -> BusinessCalendar {
        BusinessCalendar {
            time_zone: Zone::new("Asia/Shanghai").unwrap_or_else(|e| panic!("{e}")),
            weekdays: Days::WEEKDAYS,
            // National Day week 2026: Oct 1-7 off, Sat Oct 10 worked.
            holidays: (1..=7).map(|d| date(2026, 10, d)).collect(),
            working_days: [date(2026, 10, 10)].into_iter().collect(),
        }
    }

    #[test]
    fn five_working_days_end_at_local_midnight_after_a_week() {
        let cal = shanghai();
        // Monday 2026-12-07 15:00 local (07:00Z): days Tue..Fri, Mon -> end of Mon 12-14.
        let due = cal.deadline_after(ts("2026-12-07T07:00:00Z"), 5);
        assert_eq!(due, Ok(ts("2026-12-14T16:00:00Z")));
        assert_eq!(
            cal.deadline_after(ts("2026-12-07T07:00:00Z"), 0),
            Ok(ts("2026-12-07T16:00:00Z"))
        );
    }

    #[test]
    fn holidays_are_skipped_and_make_up_days_count() {
        let cal = shanghai();
        // Tue 2026-09-29 10:00 local: Wed 30 (1), Oct 1-7 holidays, Thu 8 (2), Fri 9 (3),
        // Sat 10 make-up (4), Mon 12 (5).
        let due = cal.deadline_after(ts("2026-09-29T02:00:00Z"), 5);
        assert_eq!(due, Ok(ts("2026-10-12T16:00:00Z")));
        assert!(cal.is_working_day(date(2026, 10, 10)));
        assert!(!cal.is_working_day(date(2026, 10, 5)));
        assert!(!cal.is_working_day(date(2026, 10, 11)));
    }

    #[test]
    fn a_calendar_without_working_days_is_an_error_not_a_hang() {
        let cal = BusinessCalendar {
            time_zone: Zone::utc(),
            weekdays: "sat".parse().unwrap_or(Days::DAILY),
            holidays: BTreeSet::new(),
            working_days: BTreeSet::new(),
        };
        assert!(cal.deadline_after(ts("2026-12-07T07:00:00Z"), 1).is_ok());
        let none = BusinessCalendar {
            weekdays: Days::NONE,
            ..cal
        };
        assert!(none.deadline_after(ts("2026-12-07T07:00:00Z"), 1).is_err());
    }
}
