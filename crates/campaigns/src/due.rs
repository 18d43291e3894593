//! Due windows: when a callback may first be dialed and when it is due by, from what the API
//! gives ("within 24 h", "after 14:00 local", "5 working days"), and the priority that rises as
//! the deadline nears.

use std::time::Duration;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::calendar::NoWorkingDay;
use crate::config::SchedulerConfig;
use crate::time::{self, duration_text, instant_text, option_instant_text, LocalTime, Zone};

/// How a callback's deadline is given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Deadline {
    /// An instant.
    At(#[serde(with = "instant_text")] Timestamp),
    /// A duration from the callback's creation ("within 24 h").
    Within(#[serde(with = "duration_text")] Duration),
    /// The end of the Nth working day after creation, in a business calendar.
    WorkingDays {
        /// How many working days.
        days: u32,
        /// The calendar's name (None: the configured default).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        calendar: Option<String>,
    },
}

/// The due window as asked for.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DueSpec {
    /// Not before this instant.
    #[serde(
        default,
        with = "option_instant_text",
        skip_serializing_if = "Option::is_none"
    )]
    pub not_before: Option<Timestamp>,
    /// Not before this local time of day in the customer's zone ("after 14:00 local"): on the
    /// day the callback would otherwise start; already past that day means no wait.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_local: Option<LocalTime>,
    /// The deadline, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<Deadline>,
}

/// A resolved due window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DueWindow {
    /// The first instant it may be dialed (calling windows and retries apart).
    #[serde(with = "instant_text")]
    pub not_before: Timestamp,
    /// When it is due by.
    #[serde(
        default,
        with = "option_instant_text",
        skip_serializing_if = "Option::is_none"
    )]
    pub deadline: Option<Timestamp>,
}

/// A due window that cannot be resolved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DueError {
    /// A working-day deadline names no calendar and no default is configured, or an unknown one.
    #[error("no business calendar {0:?}")]
    UnknownCalendar(String),
    /// The calendar never reaches that many working days.
    #[error(transparent)]
    NoWorkingDay(#[from] NoWorkingDay),
    /// The deadline is not after the start.
    #[error("the deadline {deadline} is not after the start {not_before}")]
    DeadlineBeforeStart {
        /// The start.
        not_before: Timestamp,
        /// The deadline.
        deadline: Timestamp,
    },
}

impl DueSpec {
    /// Resolves the window for a callback created `now` for a customer in `zone` (unknown
    /// zone: `after_local` is ignored; such a callback is held until its zone is known).
    pub fn resolve(
        &self,
        now: Timestamp,
        zone: Option<&Zone>,
        config: &SchedulerConfig,
    ) -> Result<DueWindow, DueError> {
        let mut not_before = self.not_before.unwrap_or(now).max(now);
        if let (Some(after), Some(zone)) = (self.after_local, zone) {
            let date = zone.local(not_before).date();
            not_before = not_before.max(after.on(date, zone));
        }
        let deadline = match &self.deadline {
            None => None,
            Some(Deadline::At(at)) => Some(*at),
            Some(Deadline::Within(d)) => Some(time::add(now, *d)),
            Some(Deadline::WorkingDays { days, calendar }) => {
                let name = calendar
                    .as_ref()
                    .or(config.default_calendar.as_ref())
                    .ok_or_else(|| DueError::UnknownCalendar(String::new()))?;
                let cal = config
                    .calendars
                    .get(name)
                    .ok_or_else(|| DueError::UnknownCalendar(name.clone()))?;
                Some(cal.deadline_after(now, *days)?)
            }
        };
        if let Some(deadline) = deadline {
            if deadline <= not_before {
                return Err(DueError::DeadlineBeforeStart {
                    not_before,
                    deadline,
                });
            }
        }
        Ok(DueWindow {
            not_before,
            deadline,
        })
    }
}

/// The priority a callback has at `now`: `base + floor(ramp * f)`, where `f` is the share of
/// its due window already gone, `(now - not_before) / (deadline - not_before)` clamped to
/// [0, 1]. So a callback gains `ramp` points (the configured `priority_ramp`) linearly from its
/// start to its deadline and keeps them once overdue; without a deadline it stays at `base`.
///
/// The driver hands this priority to the routing core when it reserves an agent, where the
/// callback competes with the queue's inbound callers; among callbacks, the order is deadline
/// first, then base priority.
pub fn effective_priority(base: i32, ramp: i32, window: &DueWindow, now: Timestamp) -> i32 {
    let Some(deadline) = window.deadline else {
        return base;
    };
    let total = time::since(deadline, window.not_before).as_millis();
    let gone = time::since(now, window.not_before).as_millis().min(total);
    if total == 0 {
        return base.saturating_add(ramp);
    }
    let gained =
        i128::from(ramp) * i128::try_from(gone).unwrap_or(0) / i128::try_from(total).unwrap_or(1);
    base.saturating_add(i32::try_from(gained).unwrap_or(ramp))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::BusinessCalendar;
    use crate::window::Days;

    fn ts(text: &str) -> Timestamp {
        text.parse().unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn config() -> SchedulerConfig {
        let mut config = SchedulerConfig::default();
        config.calendars.insert(
            "cn".into(),
            BusinessCalendar {
                time_zone: Zone::new("Asia/Shanghai").unwrap_or_else(|e| panic!("{e}")),
                weekdays: Days::WEEKDAYS,
                holidays: Default::default(),
                working_days: Default::default(),
            },
        );
        config.default_calendar = Some("cn".into());
        config
    }

    #[test]
    fn within_counts_from_creation() {
        let now = ts("2026-12-06T02:00:00Z");
        let spec = DueSpec {
            deadline: Some(Deadline::Within(Duration::from_secs(86_400))),
            ..DueSpec::default()
        };
        let w = spec.resolve(now, None, &config());
        assert_eq!(
            w,
            Ok(DueWindow {
                not_before: now,
                deadline: Some(ts("2026-12-07T02:00:00Z"))
            })
        );
    }

    #[test]
    fn after_local_waits_for_that_time_today_only() {
        let sh = Zone::new("Asia/Shanghai").unwrap_or_else(|e| panic!("{e}"));
        let spec = DueSpec {
            after_local: "14:00".parse().ok(),
            ..DueSpec::default()
        };
        // 10:00 local -> 14:00 local (06:00Z).
        let w = spec.resolve(ts("2026-12-06T02:00:00Z"), Some(&sh), &config());
        assert_eq!(w.map(|w| w.not_before), Ok(ts("2026-12-06T06:00:00Z")));
        // 15:00 local -> now.
        let w = spec.resolve(ts("2026-12-06T07:00:00Z"), Some(&sh), &config());
        assert_eq!(w.map(|w| w.not_before), Ok(ts("2026-12-06T07:00:00Z")));
    }

    #[test]
    fn working_days_use_the_default_calendar() {
        let spec = DueSpec {
            deadline: Some(Deadline::WorkingDays {
                days: 5,
                calendar: None,
            }),
            ..DueSpec::default()
        };
        // Sunday 2026-12-06 10:00 Shanghai: Mon..Fri -> end of Fri 12-11.
        let w = spec.resolve(ts("2026-12-06T02:00:00Z"), None, &config());
        assert_eq!(w.map(|w| w.deadline), Ok(Some(ts("2026-12-11T16:00:00Z"))));
        let other = DueSpec {
            deadline: Some(Deadline::WorkingDays {
                days: 5,
                calendar: Some("uk".into()),
            }),
            ..DueSpec::default()
        };
        assert_eq!(
            other.resolve(ts("2026-12-06T02:00:00Z"), None, &config()),
            Err(DueError::UnknownCalendar("uk".into()))
        );
    }

    #[test]
    fn a_deadline_before_the_start_is_refused() {
        let spec = DueSpec {
            not_before: Some(ts("2026-12-08T00:00:00Z")),
            deadline: Some(Deadline::At(ts("2026-12-07T00:00:00Z"))),
            ..DueSpec::default()
        };
        assert!(matches!(
            spec.resolve(ts("2026-12-06T00:00:00Z"), None, &config()),
            Err(DueError::DeadlineBeforeStart { .. })
        ));
    }

    #[test]
    fn priority_rises_linearly_to_the_deadline_and_stays() {
        let w = DueWindow {
            not_before: ts("2026-12-06T00:00:00Z"),
            deadline: Some(ts("2026-12-07T00:00:00Z")),
        };
        assert_eq!(effective_priority(5, 10, &w, ts("2026-12-05T00:00:00Z")), 5);
        assert_eq!(effective_priority(5, 10, &w, ts("2026-12-06T00:00:00Z")), 5);
        assert_eq!(
            effective_priority(5, 10, &w, ts("2026-12-06T12:00:00Z")),
            10
        );
        assert_eq!(
            effective_priority(5, 10, &w, ts("2026-12-06T21:36:00Z")),
            14
        );
        assert_eq!(
            effective_priority(5, 10, &w, ts("2026-12-09T00:00:00Z")),
            15
        );
        let open = DueWindow {
            deadline: None,
            ..w
        };
        assert_eq!(
            effective_priority(5, 10, &open, ts("2026-12-09T00:00:00Z")),
            5
        );
    }
}
