//! The conditions of a `branch` node and how they are judged against one call.

use std::collections::BTreeMap;
use std::fmt;

use jiff::tz::TimeZone;
use jiff::Timestamp;

use crate::e164::NumberList;
use crate::schedule::Hours;

/// A regular expression as written in the dialplan; compared by its text.
#[derive(Clone)]
pub struct Pattern(pub regex::Regex);

impl Pattern {
    /// Whether the whole of `text` matches (the pattern is anchored at both ends).
    pub fn matches_whole(&self, text: &str) -> bool {
        self.0
            .find(text)
            .is_some_and(|m| m.start() == 0 && m.end() == text.len())
    }
}

impl PartialEq for Pattern {
    fn eq(&self, other: &Self) -> bool {
        self.0.as_str() == other.0.as_str()
    }
}

impl fmt::Debug for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "/{}/", self.0.as_str())
    }
}

/// One condition of a branch rule.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    /// The caller's number (E.164) is in the named list.
    CallerIn(String),
    /// The caller's number (E.164) is not in the named list.
    CallerNotIn(String),
    /// The caller's number is this one (written in any form; compared in E.164).
    Caller(String),
    /// The caller's number (E.164) starts with this (`+8610`).
    CallerPrefix(String),
    /// The dialed number is this one.
    Dialed(String),
    /// The dialed number starts with this.
    DialedPrefix(String),
    /// A test on a variable set by `set` or `collect`.
    Variable {
        /// The variable.
        name: String,
        /// The test.
        test: VariableTest,
    },
    /// The local time in a time zone falls on these weekdays and within these hours.
    Time(TimeWindow),
}

/// What a variable condition asks.
#[derive(Debug, Clone, PartialEq)]
pub enum VariableTest {
    /// Equal to this text.
    Equals(String),
    /// Equal to one of these.
    OneOf(Vec<String>),
    /// The whole value matches this regular expression.
    Matches(Pattern),
    /// Set (`true`) or not set (`false`).
    IsSet(bool),
}

/// A `time:` condition.
#[derive(Debug, Clone, PartialEq)]
pub struct TimeWindow {
    /// The zone's name as written.
    pub time_zone_name: String,
    /// The zone.
    pub time_zone: TimeZone,
    /// Weekdays (Monday 0) it applies to; every day when empty.
    pub days: Vec<usize>,
    /// Hours it applies to; all day when empty.
    pub hours: Vec<Hours>,
}

/// What a call's conditions are judged against.
pub(crate) struct Facts<'a> {
    /// The caller number in E.164 (or as sent when it has no E.164 form).
    pub caller: &'a str,
    /// The dialed number.
    pub dialed: &'a str,
    /// Variables set so far.
    pub variables: &'a BTreeMap<String, String>,
    /// The wall-clock time now.
    pub at: Timestamp,
    /// The dialplan's number lists.
    pub lists: &'a BTreeMap<String, NumberList>,
}

impl Condition {
    /// The number list this condition reads, if any.
    pub fn list(&self) -> Option<&str> {
        match self {
            Condition::CallerIn(list) | Condition::CallerNotIn(list) => Some(list),
            _ => None,
        }
    }

    /// Whether the condition holds for this call now.
    pub(crate) fn holds(&self, facts: &Facts<'_>) -> bool {
        let in_list = |list: &str| {
            facts
                .lists
                .get(list)
                .is_some_and(|l| l.contains(facts.caller))
        };
        match self {
            Condition::CallerIn(list) => in_list(list),
            Condition::CallerNotIn(list) => !in_list(list),
            Condition::Caller(number) => facts.caller == number,
            Condition::CallerPrefix(prefix) => facts.caller.starts_with(prefix.as_str()),
            Condition::Dialed(number) => facts.dialed == number,
            Condition::DialedPrefix(prefix) => facts.dialed.starts_with(prefix.as_str()),
            Condition::Variable { name, test } => {
                let value = facts.variables.get(name);
                match test {
                    VariableTest::Equals(expected) => value == Some(expected),
                    VariableTest::OneOf(values) => value.is_some_and(|v| values.contains(v)),
                    VariableTest::Matches(pattern) => {
                        value.is_some_and(|v| pattern.matches_whole(v))
                    }
                    VariableTest::IsSet(set) => value.is_some() == *set,
                }
            }
            Condition::Time(window) => window.contains(facts.at),
        }
    }
}

impl TimeWindow {
    /// Whether `at`, read in the window's zone, falls inside.
    pub fn contains(&self, at: Timestamp) -> bool {
        let local = at.to_zoned_datetime(self.time_zone.clone());
        let day = usize::try_from(local.weekday().to_monday_zero_offset()).unwrap_or(0);
        let minute =
            u16::try_from(i32::from(local.hour()) * 60 + i32::from(local.minute())).unwrap_or(0);
        (self.days.is_empty() || self.days.contains(&day))
            && (self.hours.is_empty() || self.hours.iter().any(|h| h.contains(minute)))
    }
}
