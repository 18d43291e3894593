//! Calling windows: when a customer may be called, in the customer's local time.
//!
//! A window is a list of spans (`mon-fri 09:00-21:00`, `sat 10:00-18:00`); each span opens on
//! its days at a local time and closes at another on the same local date. Local times are
//! turned into instants with the zone's rules on that date, so a 09:00-21:00 window is 12 hours
//! on the spring-forward and fall-back days as on any other, and a span starting in a skipped
//! hour opens when the clocks resume.

use std::fmt;
use std::str::FromStr;

use jiff::civil::{Date, Weekday};
use jiff::Timestamp;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::time::{LocalTime, Zone};

/// A set of weekdays: `daily`, `mon-fri`, `sat`, or a comma list of those (`mon-wed,fri`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Days(u8);

const NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// A day set that does not read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a day set (daily, mon-fri, sat, mon,wed): {0:?}")]
pub struct BadDays(pub String);

impl Days {
    /// Every day.
    pub const DAILY: Self = Self(0x7f);
    /// No day.
    pub const NONE: Self = Self(0);
    /// Monday to Friday.
    pub const WEEKDAYS: Self = Self(0x1f);

    /// Whether `day` is in the set.
    pub fn contains(self, day: Weekday) -> bool {
        self.0 & (1 << day.to_monday_zero_offset()) != 0
    }

    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
}

impl FromStr for Days {
    type Err = BadDays;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || BadDays(text.to_owned());
        let index = |name: &str| NAMES.iter().position(|d| *d == name.trim());
        let mut bits = 0u8;
        for part in text.split(',') {
            let part = part.trim();
            if part == "daily" {
                bits |= 0x7f;
                continue;
            }
            let (from, to) = match part.split_once('-') {
                Some((a, b)) => (index(a).ok_or_else(bad)?, index(b).ok_or_else(bad)?),
                None => {
                    let d = index(part).ok_or_else(bad)?;
                    (d, d)
                }
            };
            if from > to {
                return Err(bad());
            }
            for d in from..=to {
                bits |= 1 << d;
            }
        }
        Ok(Self(bits))
    }
}

impl fmt::Display for Days {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if *self == Self::DAILY {
            return f.write_str("daily");
        }
        let names: Vec<&str> = (0..7)
            .filter(|d| self.0 & (1 << d) != 0)
            .map(|d| NAMES[d])
            .collect();
        f.write_str(&names.join(","))
    }
}

impl Serialize for Days {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Days {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// One span of a calling window: on `days`, from `start` to `end` local time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WindowSpan {
    /// The days it applies to.
    #[serde(default = "daily")]
    pub days: Days,
    /// When calls may start (local time).
    pub start: LocalTime,
    /// When they must stop (local time, after `start`; `24:00` is midnight).
    pub end: LocalTime,
}

fn daily() -> Days {
    Days::DAILY
}

/// When customers may be called, in their own local time (default: daily 09:00-21:00).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CallingWindow {
    /// The spans; an instant is inside the window when it is inside any span.
    pub spans: Vec<WindowSpan>,
}

impl Default for CallingWindow {
    fn default() -> Self {
        Self {
            spans: vec![WindowSpan {
                days: Days::DAILY,
                start: LocalTime(540),
                end: LocalTime(1260),
            }],
        }
    }
}

/// A window that could never open.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WindowError {
    /// A span ends at or before it starts.
    #[error("a calling window span ends ({end}) at or before it starts ({start})")]
    EndsBeforeStart {
        /// Its start.
        start: LocalTime,
        /// Its end.
        end: LocalTime,
    },
    /// A span has no days, or the window no spans.
    #[error("a calling window never opens (no spans, or a span without days)")]
    NeverOpen,
}

/// How far ahead [`CallingWindow::next_open`] looks: a week and a day covers every weekly span.
const LOOKAHEAD_DAYS: i32 = 8;

impl CallingWindow {
    /// Checks that every span opens.
    pub fn validate(&self) -> Result<(), WindowError> {
        if self.spans.is_empty() {
            return Err(WindowError::NeverOpen);
        }
        for span in &self.spans {
            if span.days.is_empty() {
                return Err(WindowError::NeverOpen);
            }
            if span.end <= span.start {
                return Err(WindowError::EndsBeforeStart {
                    start: span.start,
                    end: span.end,
                });
            }
        }
        Ok(())
    }

    /// The spans of local `date` as instants, `(open, close)`.
    fn spans_on(
        &self,
        date: Date,
        zone: &Zone,
    ) -> impl Iterator<Item = (Timestamp, Timestamp)> + '_ {
        let zone = zone.clone();
        self.spans
            .iter()
            .filter(move |s| s.days.contains(date.weekday()))
            .map(move |s| (s.start.on(date, &zone), s.end.on(date, &zone)))
    }

    /// Whether a call may start at `at` in `zone`.
    pub fn is_open(&self, at: Timestamp, zone: &Zone) -> bool {
        self.close_after(at, zone).is_some()
    }

    /// When the window that contains `at` closes; `None` if `at` is outside the window.
    pub fn close_after(&self, at: Timestamp, zone: &Zone) -> Option<Timestamp> {
        let date = zone.local(at).date();
        // A span of the previous local date cannot reach past its midnight, so today's spans
        // decide.
        self.spans_on(date, zone)
            .filter(|(open, close)| *open <= at && at < *close)
            .map(|(_, close)| close)
            .max()
    }

    /// The first instant at or after `at` when a call may start in `zone`; `None` only for a
    /// window that never opens.
    pub fn next_open(&self, at: Timestamp, zone: &Zone) -> Option<Timestamp> {
        if self.is_open(at, zone) {
            return Some(at);
        }
        let mut date = zone.local(at).date();
        for _ in 0..LOOKAHEAD_DAYS {
            let first = self
                .spans_on(date, zone)
                .filter(|(open, close)| *close > at && open < close)
                .map(|(open, _)| open.max(at))
                .min();
            if first.is_some() {
                return first;
            }
            date = date.tomorrow().ok()?;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(text: &str) -> Timestamp {
        text.parse().unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn zone(name: &str) -> Zone {
        Zone::new(name).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn day_sets_read_ranges_and_lists() {
        assert_eq!("mon-fri".parse::<Days>(), Ok(Days::WEEKDAYS));
        assert_eq!("daily".parse::<Days>(), Ok(Days::DAILY));
        let odd: Days = "mon,wed-thu".parse().unwrap_or(Days(0));
        assert!(odd.contains(Weekday::Wednesday) && !odd.contains(Weekday::Tuesday));
        assert_eq!(odd.to_string(), "mon,wed,thu");
        assert!("fri-mon".parse::<Days>().is_err());
        assert!("monday".parse::<Days>().is_err());
    }

    #[test]
    fn default_window_is_nine_to_nine_local() {
        let w = CallingWindow::default();
        let sh = zone("Asia/Shanghai");
        // 00:59 UTC is 08:59 in Shanghai; 01:00 UTC is 09:00.
        assert!(!w.is_open(ts("2026-12-06T00:59:00Z"), &sh));
        assert!(w.is_open(ts("2026-12-06T01:00:00Z"), &sh));
        assert!(w.is_open(ts("2026-12-06T12:59:59Z"), &sh));
        assert!(!w.is_open(ts("2026-12-06T13:00:00Z"), &sh));
        assert_eq!(
            w.next_open(ts("2026-12-06T13:00:00Z"), &sh),
            Some(ts("2026-12-07T01:00:00Z"))
        );
        assert_eq!(
            w.close_after(ts("2026-12-06T05:00:00Z"), &sh),
            Some(ts("2026-12-06T13:00:00Z"))
        );
    }

    #[test]
    fn weekday_spans_skip_the_weekend() {
        let w = CallingWindow {
            spans: vec![WindowSpan {
                days: Days::WEEKDAYS,
                start: LocalTime(540),
                end: LocalTime(1080),
            }],
        };
        let utc = Zone::utc();
        // Friday 2026-12-04 18:00 -> Monday 09:00.
        assert_eq!(
            w.next_open(ts("2026-12-04T18:00:00Z"), &utc),
            Some(ts("2026-12-07T09:00:00Z"))
        );
    }

    #[test]
    fn windows_that_never_open_are_refused() {
        assert_eq!(
            CallingWindow { spans: vec![] }.validate(),
            Err(WindowError::NeverOpen)
        );
        let backwards = CallingWindow {
            spans: vec![WindowSpan {
                days: Days::DAILY,
                start: LocalTime(600),
                end: LocalTime(600),
            }],
        };
        assert!(matches!(
            backwards.validate(),
            Err(WindowError::EndsBeforeStart { .. })
        ));
        assert_eq!(CallingWindow::default().validate(), Ok(()));
    }
}
