//! The top-level `schedules:`: opening hours per weekday in a time zone, holidays, make-up
//! working days and overrides.

use std::collections::{BTreeMap, BTreeSet};

use jiff::civil::Date;
use jiff::tz::TimeZone;

use super::{is_identifier, scalar, Reader};
use crate::schedule::{parse_days, parse_hours, Hours, Schedule, WEEKDAYS};
use crate::yaml::{self, Value};

const SCHEDULE_KEYS: &[&str] = &[
    "time_zone",
    "hours",
    "holidays",
    "working_days",
    "working_day_hours",
    "overrides",
    "description",
];

/// Longest holiday range accepted (a typo such as `2026..2036` should not make ten years).
const MAX_RANGE_DAYS: i32 = 366;

impl Reader<'_, '_> {
    pub(super) fn schedules(&mut self, value: &yaml::Node) -> BTreeMap<String, Schedule> {
        let mut schedules = BTreeMap::new();
        let Value::Map(entries) = &value.value else {
            self.expected(value, "a mapping of schedule names to schedules");
            return schedules;
        };
        for (name, body) in entries {
            if !is_identifier(&name.text) {
                self.diags.error(
                    name.pos,
                    format!(
                        "bad schedule name `{}`: use letters, digits, `_` and `-`",
                        name.text
                    ),
                );
                continue;
            }
            if let Some(schedule) = self.schedule(&name.text, body) {
                schedules.insert(name.text.clone(), schedule);
            }
        }
        schedules
    }

    fn schedule(&mut self, name: &str, body: &yaml::Node) -> Option<Schedule> {
        let what = format!("schedule `{name}`");
        let fields = self.fields(
            body,
            &what,
            SCHEDULE_KEYS,
            "a mapping with `time_zone` and `hours`",
        )?;
        let errors_before = self.diags.error_count();
        let zone = match fields.get("time_zone") {
            Some((_, v)) => self.time_zone(v),
            None => {
                self.diags.error(
                    body.pos,
                    format!("{what} has no `time_zone`, e.g. `Asia/Shanghai`"),
                );
                None
            }
        };
        let mut weekly: [Vec<Hours>; 7] = Default::default();
        match fields.get("hours") {
            None => self.diags.error(
                body.pos,
                format!("{what} has no `hours`, e.g. `{{ mon-fri: \"09:00-18:00\" }}`"),
            ),
            Some((_, v)) => match &v.value {
                Value::Map(entries) => {
                    let mut seen: BTreeMap<usize, &str> = BTreeMap::new();
                    for (days_key, hours) in entries {
                        let Some(days) = parse_days(&days_key.text) else {
                            self.diags.error(
                                days_key.pos,
                                format!(
                                    "bad days `{}`: use {}, a range such as `mon-fri`, or `daily`",
                                    days_key.text,
                                    WEEKDAYS.join(", ")
                                ),
                            );
                            continue;
                        };
                        let Some(hours) = self.hours_list(hours) else {
                            continue;
                        };
                        for day in days {
                            if let Some(first) = seen.insert(day, &days_key.text) {
                                self.diags.error(
                                    days_key.pos,
                                    format!(
                                        "`{}` is given hours twice (also in `{first}`)",
                                        WEEKDAYS[day]
                                    ),
                                );
                            }
                            weekly[day].clone_from(&hours);
                        }
                    }
                }
                _ => self.expected(
                    v,
                    "a mapping of days to hours, e.g. `{ mon-fri: \"09:00-18:00\" }`",
                ),
            },
        }
        let holidays = match fields.get("holidays") {
            None => BTreeSet::new(),
            Some((_, v)) => self.dates(v),
        };
        let working_days = match fields.get("working_days") {
            None => BTreeSet::new(),
            Some((_, v)) => self.dates(v),
        };
        let working_day_hours = match fields.get("working_day_hours") {
            None => weekly[0].clone(),
            Some((_, v)) => self.hours_list(v).unwrap_or_default(),
        };
        if let Some((_, v)) = fields.get("working_days") {
            if !working_days.is_empty() && working_day_hours.is_empty() {
                self.diags.error(
                    v.pos,
                    format!("{what} has make-up working days but no hours for them: give `working_day_hours` or Monday's hours"),
                );
            }
        }
        let mut overrides = BTreeMap::new();
        if let Some((_, v)) = fields.get("overrides") {
            match &v.value {
                Value::Map(entries) => {
                    for (date_key, hours) in entries {
                        let Some(date) = self.date_text(&date_key.text, date_key.pos) else {
                            continue;
                        };
                        if let Some(hours) = self.hours_list(hours) {
                            overrides.insert(date, hours);
                        }
                    }
                }
                _ => self.expected(v, "a mapping of dates to hours or `closed`"),
            }
        }
        let (time_zone_name, time_zone) = zone?;
        (self.diags.error_count() == errors_before).then_some(Schedule {
            time_zone,
            time_zone_name,
            weekly,
            holidays,
            working_days,
            working_day_hours,
            overrides,
        })
    }

    /// An IANA time zone name, looked up in the database compiled into hotline.
    pub(super) fn time_zone(&mut self, value: &yaml::Node) -> Option<(String, TimeZone)> {
        let name = self.text(value, "a time zone name such as `Asia/Shanghai`")?;
        match TimeZone::get(&name) {
            Ok(zone) => Some((name, zone)),
            Err(_) => {
                self.diags.error(
                    value.pos,
                    format!("unknown time zone `{name}`; use an IANA name such as `Asia/Shanghai` or `Europe/Paris`"),
                );
                None
            }
        }
    }

    /// `"09:00-18:00"`, a list of such, or `closed` (no hours).
    pub(super) fn hours_list(&mut self, value: &yaml::Node) -> Option<Vec<Hours>> {
        let items: Vec<&yaml::Node> = match &value.value {
            Value::Seq(items) => items.iter().collect(),
            _ => vec![value],
        };
        let mut hours = Vec::new();
        for item in items {
            let text = scalar(item).unwrap_or_default();
            if text == "closed" {
                continue;
            }
            match parse_hours(text) {
                Some(h) => hours.push(h),
                None => {
                    self.diags.error(
                        item.pos,
                        format!("bad hours `{text}`: use `HH:MM-HH:MM` with the end after the start (e.g. `09:00-18:00`, `20:00-24:00`), or `closed`"),
                    );
                    return None;
                }
            }
        }
        hours.sort_unstable();
        for pair in hours.windows(2) {
            if pair[1].start < pair[0].end {
                self.diags.error(
                    value.pos,
                    "overlapping hours: each stretch must end before the next starts",
                );
                return None;
            }
        }
        Some(hours)
    }

    /// A list of dates (`2026-10-01`) and ranges (`2026-10-01..2026-10-07`, both included).
    fn dates(&mut self, value: &yaml::Node) -> BTreeSet<Date> {
        let mut dates = BTreeSet::new();
        let Value::Seq(items) = &value.value else {
            self.expected(value, "a list of dates such as `[\"2026-10-01\"]`");
            return dates;
        };
        for item in items {
            let Some(text) = self.text(item, "a date such as `2026-10-01`") else {
                continue;
            };
            match text.split_once("..") {
                Some((from, to)) => {
                    let (Some(from), Some(to)) =
                        (self.date_text(from, item.pos), self.date_text(to, item.pos))
                    else {
                        continue;
                    };
                    let days = to.since(from).map(|span| span.get_days()).unwrap_or(-1);
                    if !(0..=MAX_RANGE_DAYS).contains(&days) {
                        self.diags.error(
                            item.pos,
                            format!("bad date range `{text}`: the end must be on or after the start, at most {MAX_RANGE_DAYS} days later"),
                        );
                        continue;
                    }
                    let mut day = from;
                    while day <= to {
                        dates.insert(day);
                        match day.tomorrow() {
                            Ok(next) => day = next,
                            Err(_) => break,
                        }
                    }
                }
                None => {
                    if let Some(date) = self.date_text(&text, item.pos) {
                        dates.insert(date);
                    }
                }
            }
        }
        dates
    }

    fn date_text(&mut self, text: &str, pos: crate::error::Pos) -> Option<Date> {
        let text = text.trim();
        let valid_shape = text.len() == 10 && text.as_bytes().get(4) == Some(&b'-');
        match text.parse::<Date>() {
            Ok(date) if valid_shape => Some(date),
            _ => {
                self.diags.error(
                    pos,
                    format!("bad date `{text}`: use YYYY-MM-DD, e.g. `2026-10-01`"),
                );
                None
            }
        }
    }
}
