//! Schedule dates that cannot be meant: a holiday also declared a make-up working day (the
//! holiday always wins, so the working day never opens), an override on a holiday or working
//! day that hides it, and dates in years no schedule runs in (a typo in the year). They are
//! warnings: the plan still does something well defined, and a check must refuse exactly what
//! the loader refuses, or a plan that passes `check` could fail to reload.
//!
//! Malformed hours, overlapping stretches and ranges ending before they start are errors of the
//! reader already.

use std::collections::BTreeMap;

use jiff::civil::Date;

use super::tree;
use crate::error::{Diagnostics, Pos};
use crate::yaml::Node;

/// Years a schedule date may sensibly fall in.
const SENSIBLE_YEARS: std::ops::RangeInclusive<i16> = 2000..=2099;

/// Longest range expanded here (the reader refuses longer ones).
const MAX_RANGE_DAYS: usize = 366;

/// Reports impossible or suspicious dates in every schedule.
pub(super) fn impossible_dates(root: &Node, diags: &mut Diagnostics<'_>) {
    let Some((_, schedules)) = tree::get(root, "schedules") else {
        return;
    };
    for (name, body) in tree::entries(schedules) {
        let holidays = dates(body, "holidays", &name.text, diags);
        let working_days = dates(body, "working_days", &name.text, diags);
        for (date, pos) in &working_days {
            if holidays.contains_key(date) {
                diags.warning_with_hint(
                    *pos,
                    format!(
                        "{date} is both a holiday and a make-up working day in schedule `{}`",
                        name.text
                    ),
                    Some("the holiday wins and the working day never opens; remove the date from one list".to_owned()),
                );
            }
        }
        if let Some((_, overrides)) = tree::get(body, "overrides") {
            for (key, _) in tree::entries(overrides) {
                let Ok(date) = key.text.trim().parse::<Date>() else {
                    continue;
                };
                sensible_year(date, key.pos, &name.text, diags);
                let hidden = if holidays.contains_key(&date) {
                    Some("holiday")
                } else if working_days.contains_key(&date) {
                    Some("make-up working day")
                } else {
                    None
                };
                if let Some(what) = hidden {
                    diags.warning_with_hint(
                        key.pos,
                        format!(
                            "the override of {date} hides its {what} in schedule `{}`",
                            name.text
                        ),
                        Some(
                            "an override wins over holidays and working days; drop one of them"
                                .to_owned(),
                        ),
                    );
                }
            }
        }
    }
}

/// The dates of a `holidays` or `working_days` list, each with the position of its item;
/// years out of range are reported once per item.
fn dates(
    schedule: &Node,
    key: &str,
    schedule_name: &str,
    diags: &mut Diagnostics<'_>,
) -> BTreeMap<Date, Pos> {
    let mut out = BTreeMap::new();
    let Some((_, list)) = tree::get(schedule, key) else {
        return out;
    };
    for item in tree::items(list) {
        let Some(text) = tree::text(item) else {
            continue;
        };
        let (from, to) = text.split_once("..").unwrap_or((text, text));
        let (Ok(from), Ok(to)) = (from.trim().parse::<Date>(), to.trim().parse::<Date>()) else {
            continue;
        };
        if !sensible_year(from, item.pos, schedule_name, diags) {
            continue;
        }
        let mut day = from;
        for _ in 0..MAX_RANGE_DAYS {
            if day > to {
                break;
            }
            out.entry(day).or_insert(item.pos);
            match day.tomorrow() {
                Ok(next) => day = next,
                Err(_) => break,
            }
        }
    }
    out
}

/// Warns about a date outside [`SENSIBLE_YEARS`]; returns whether it is inside.
fn sensible_year(date: Date, pos: Pos, schedule: &str, diags: &mut Diagnostics<'_>) -> bool {
    if SENSIBLE_YEARS.contains(&date.year()) {
        return true;
    }
    diags.warning_with_hint(
        pos,
        format!(
            "{date} in schedule `{schedule}` is outside the years a schedule runs ({}-{})",
            SENSIBLE_YEARS.start(),
            SENSIBLE_YEARS.end()
        ),
        Some("a typo in the year?".to_owned()),
    );
    false
}
