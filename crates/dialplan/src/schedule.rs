//! Opening hours: hours per weekday in a named time zone, holidays, make-up working days and
//! dated overrides. Pure: the time is an argument; the time-zone rules are compiled in.

use std::collections::{BTreeMap, BTreeSet};

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::Timestamp;

/// A stretch of a day, in minutes from local midnight: `start` included, `end` excluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Hours {
    /// First minute open (0-1439).
    pub start: u16,
    /// First minute closed again (1-1440; 1440 is midnight at the end of the day).
    pub end: u16,
}

impl Hours {
    /// Whether `minute` (from local midnight) falls inside.
    pub fn contains(self, minute: u16) -> bool {
        (self.start..self.end).contains(&minute)
    }
}

/// What a schedule says about one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScheduleStatus {
    /// Within opening hours.
    Open,
    /// Outside opening hours (or a day overridden as closed).
    Closed,
    /// A holiday: closed all day, with its own branch.
    Holiday,
}

/// A named schedule (`schedules:`).
#[derive(Debug, Clone)]
pub struct Schedule {
    /// The IANA time zone the hours are written in (`Asia/Shanghai`).
    pub time_zone: TimeZone,
    /// Its name as written.
    pub time_zone_name: String,
    /// Opening hours per weekday, Monday first; empty: closed that day.
    pub weekly: [Vec<Hours>; 7],
    /// Dates closed all day as holidays.
    pub holidays: BTreeSet<Date>,
    /// Dates that are working days whatever their weekday (e.g. a Saturday worked to make up a
    /// holiday bridge); they open `working_day_hours`.
    pub working_days: BTreeSet<Date>,
    /// The hours of a make-up working day.
    pub working_day_hours: Vec<Hours>,
    /// Dates with their own hours; empty: closed (not a holiday). They win over everything.
    pub overrides: BTreeMap<Date, Vec<Hours>>,
}

impl PartialEq for Schedule {
    fn eq(&self, other: &Self) -> bool {
        self.time_zone_name == other.time_zone_name
            && self.weekly == other.weekly
            && self.holidays == other.holidays
            && self.working_days == other.working_days
            && self.working_day_hours == other.working_day_hours
            && self.overrides == other.overrides
    }
}

impl Schedule {
    /// Whether the schedule is open, closed or on holiday at `at`, read in its time zone.
    ///
    /// An override for the local date wins, then a holiday, then a make-up working day, then
    /// the weekday's hours.
    pub fn status_at(&self, at: Timestamp) -> ScheduleStatus {
        let local = at.to_zoned_datetime(self.time_zone.clone());
        let date = local.date();
        let minute =
            u16::try_from(i32::from(local.hour()) * 60 + i32::from(local.minute())).unwrap_or(0);
        let hours: &[Hours] = if let Some(hours) = self.overrides.get(&date) {
            hours
        } else if self.holidays.contains(&date) {
            return ScheduleStatus::Holiday;
        } else if self.working_days.contains(&date) {
            &self.working_day_hours
        } else {
            let day = usize::try_from(local.weekday().to_monday_zero_offset()).unwrap_or(0);
            &self.weekly[day % 7]
        };
        if hours.iter().any(|h| h.contains(minute)) {
            ScheduleStatus::Open
        } else {
            ScheduleStatus::Closed
        }
    }
}

/// The weekday names a schedule's `hours:` takes, Monday first.
pub(crate) const WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// Reads `HH:MM-HH:MM` (end `24:00` allowed); `None` when malformed or empty.
pub(crate) fn parse_hours(text: &str) -> Option<Hours> {
    let (start, end) = text.trim().split_once('-')?;
    let start = parse_minute(start)?;
    let end = parse_minute(end)?;
    (start < end && start < 1440).then_some(Hours { start, end })
}

fn parse_minute(text: &str) -> Option<u16> {
    let (h, m) = text.trim().split_once(':')?;
    if h.is_empty() || h.len() > 2 || m.len() != 2 {
        return None;
    }
    let h: u16 = h.parse().ok()?;
    let m: u16 = m.parse().ok()?;
    if m >= 60 || h > 24 || (h == 24 && m != 0) {
        return None;
    }
    Some(h * 60 + m)
}

/// Reads `mon`, `mon-fri`, `sat-sun` or `daily` into weekday indexes (Monday 0).
pub(crate) fn parse_days(text: &str) -> Option<Vec<usize>> {
    let text = text.trim();
    if text == "daily" {
        return Some((0..7).collect());
    }
    let index = |name: &str| WEEKDAYS.iter().position(|d| *d == name.trim());
    match text.split_once('-') {
        Some((from, to)) => {
            let (from, to) = (index(from)?, index(to)?);
            (from <= to).then(|| (from..=to).collect())
        }
        None => index(text).map(|d| vec![d]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hours_read_with_24_00_as_end_of_day() {
        assert_eq!(
            parse_hours("09:00-18:30"),
            Some(Hours {
                start: 540,
                end: 1110
            })
        );
        assert_eq!(parse_hours("20:00-24:00").map(|h| h.end), Some(1440));
        for bad in [
            "18:00-09:00",
            "9-18",
            "09:00",
            "25:00-26:00",
            "09:60-10:00",
            "24:00-24:00",
        ] {
            assert_eq!(parse_hours(bad), None, "{bad}");
        }
    }

    #[test]
    fn day_ranges_read() {
        assert_eq!(parse_days("mon-fri"), Some(vec![0, 1, 2, 3, 4]));
        assert_eq!(parse_days("sun"), Some(vec![6]));
        assert_eq!(parse_days("daily").map(|d| d.len()), Some(7));
        assert_eq!(parse_days("fri-mon"), None);
        assert_eq!(parse_days("monday"), None);
    }
}
