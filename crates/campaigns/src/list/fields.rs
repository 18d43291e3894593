//! The typed columns of a list line other than the number: priority, due window, time zone.

use std::time::Duration;

use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;
use jiff::Timestamp;

use crate::due::{Deadline, DueSpec};
use crate::time::{LocalTime, Zone};

/// The priorities a list may give (the scheduler's base priority, higher first).
pub const PRIORITIES: std::ops::RangeInclusive<i32> = -1000..=1000;

/// Reads a priority: empty is 0.
pub fn priority(text: &str) -> Result<i32, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(0);
    }
    let n: i32 = text
        .strip_prefix('+')
        .unwrap_or(text)
        .parse()
        .map_err(|_| format!("{text:?} is not a whole number"))?;
    if !PRIORITIES.contains(&n) {
        return Err(format!(
            "{n} is outside {}..={}",
            PRIORITIES.start(),
            PRIORITIES.end()
        ));
    }
    Ok(n)
}

/// Reads an IANA zone name, case-insensitively, into its canonical spelling.
pub fn time_zone(text: &str) -> Result<Zone, String> {
    let text = text.trim();
    let bad = || format!("{text:?} is not an IANA time zone such as Asia/Shanghai");
    let tz = TimeZone::get(text).map_err(|_| bad())?;
    let name = tz.iana_name().unwrap_or(text);
    Zone::new(name).map_err(|_| bad())
}

/// The forms a due cell takes, for messages.
pub(super) const DUE_FORMS: &str =
    "24h, within 2 days, 5 working days, 2026-12-08, 2026-12-08 18:00, \
                         2026-12-08T18:00:00Z, after 14:00 (joined with '&')";

/// Reads a due cell: one or more of `within 24h` (or `24h`, `2 days`), `5 working days`, a
/// deadline (`by 2026-12-08`, a local date or date and time in the customer's zone, or an
/// RFC 3339 instant) and `after 14:00` (local), joined with `&` or ` and `. Empty is no due
/// window.
pub fn due(text: &str, zone: Option<&Zone>) -> Result<DueSpec, String> {
    let mut spec = DueSpec::default();
    let text = text.trim();
    if text.is_empty() {
        return Ok(spec);
    }
    for part in text.split('&').flat_map(|p| p.split(" and ")) {
        let part = part.trim();
        let lower = part.to_lowercase();
        if let Some(time) = lower.strip_prefix("after ") {
            let at: LocalTime = time
                .trim()
                .parse()
                .map_err(|_| format!("{part:?}: after takes a local time HH:MM"))?;
            if spec.after_local.replace(at).is_some() {
                return Err(format!("{text:?} gives two 'after' times"));
            }
            continue;
        }
        let deadline = deadline(&lower, zone).ok_or_else(|| {
            if zone.is_none() && looks_like_local_date(&lower) {
                format!("{part:?}: a local date needs the customer's time zone")
            } else {
                format!("{part:?} is not a due window ({DUE_FORMS})")
            }
        })?;
        if spec.deadline.replace(deadline).is_some() {
            return Err(format!("{text:?} gives two deadlines"));
        }
    }
    Ok(spec)
}

fn deadline(text: &str, zone: Option<&Zone>) -> Option<Deadline> {
    let text = text.trim();
    if let Some(rest) = text.strip_prefix("within ") {
        return within(rest).map(Deadline::Within);
    }
    if let Some(days) = working_days(text) {
        return Some(Deadline::WorkingDays {
            days,
            calendar: None,
        });
    }
    if let Some(d) = within(text) {
        return Some(Deadline::Within(d));
    }
    let when = text.strip_prefix("by ").unwrap_or(text).trim();
    if let Ok(at) = when.parse::<Timestamp>() {
        return Some(Deadline::At(at));
    }
    let zone = zone?;
    let civil = when.replacen(' ', "T", 1);
    if let Ok(local) = civil.parse::<DateTime>() {
        if civil.contains('T') {
            return Some(Deadline::At(zone.instant(local)));
        }
    }
    // A date alone: due by the end of that local day.
    let date = when.parse::<Date>().ok()?;
    Some(Deadline::At(zone.start_of(date.tomorrow().ok()?)))
}

fn looks_like_local_date(text: &str) -> bool {
    let when = text.strip_prefix("by ").unwrap_or(text).trim();
    when.get(..10).is_some_and(|d| d.parse::<Date>().is_ok())
}

/// `24h`, `24 hours`, `90m`, `2d`, `2 days`, `3天`, `24小时` (a bare number is refused: its
/// unit is a guess).
fn within(text: &str) -> Option<Duration> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: u64 = number.parse().ok()?;
    let secs = match unit.trim() {
        "m" | "min" | "mins" | "minute" | "minutes" | "分钟" => 60,
        "h" | "hr" | "hrs" | "hour" | "hours" | "小时" => 3600,
        "d" | "day" | "days" | "天" => 86_400,
        "w" | "week" | "weeks" | "周" => 7 * 86_400,
        _ => return None,
    };
    let d = n.checked_mul(secs).map(Duration::from_secs)?;
    (!d.is_zero()).then_some(d)
}

/// `5 working days`, `5 business days`, `5wd`, `5个工作日`.
fn working_days(text: &str) -> Option<u32> {
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let days: u32 = number.parse().ok()?;
    let unit = unit.trim();
    let known = [
        "working days",
        "working day",
        "business days",
        "business day",
        "wd",
        "个工作日",
        "工作日",
    ];
    (days > 0 && known.contains(&unit)).then_some(days)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shanghai() -> Zone {
        Zone::new("Asia/Shanghai").unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn priorities_are_whole_numbers_in_range() {
        assert_eq!(priority(""), Ok(0));
        assert_eq!(priority(" +5 "), Ok(5));
        assert_eq!(priority("-3"), Ok(-3));
        assert!(priority("high").is_err());
        assert!(priority("2.5").is_err());
        assert!(priority("1001").is_err());
    }

    #[test]
    fn zones_are_read_case_insensitively_into_their_canonical_name() {
        assert_eq!(
            time_zone("asia/shanghai").map(|z| z.name().to_owned()),
            Ok("Asia/Shanghai".to_owned())
        );
        assert!(time_zone("Beijing").is_err());
        assert!(time_zone("+08:00").is_err());
    }

    #[test]
    fn due_cells_in_their_forms() {
        let day = Duration::from_secs(86_400);
        let within_day = Some(Deadline::Within(day));
        for text in ["24h", "within 24 h", "1 day", "24小时", "within 1d"] {
            assert_eq!(
                due(text, None).map(|d| d.deadline),
                Ok(within_day.clone()),
                "{text}"
            );
        }
        assert_eq!(
            due("5 working days", None).map(|d| d.deadline),
            Ok(Some(Deadline::WorkingDays {
                days: 5,
                calendar: None
            }))
        );
        let at = |t: &str| {
            Ok(Some(Deadline::At(
                t.parse().unwrap_or_else(|e| panic!("{e}")),
            )))
        };
        let sh = shanghai();
        assert_eq!(
            due("by 2026-12-08", Some(&sh)).map(|d| d.deadline),
            at("2026-12-08T16:00:00Z")
        );
        assert_eq!(
            due("2026-12-08 18:00", Some(&sh)).map(|d| d.deadline),
            at("2026-12-08T10:00:00Z")
        );
        assert_eq!(
            due("2026-12-08T18:00:00Z", None).map(|d| d.deadline),
            at("2026-12-08T18:00:00Z")
        );
        let both = due("after 14:00 & within 2d", Some(&sh));
        assert_eq!(
            both.as_ref().map(|d| d.after_local),
            Ok("14:00".parse().ok())
        );
        assert_eq!(
            both.map(|d| d.deadline),
            Ok(Some(Deadline::Within(2 * day)))
        );
    }

    #[test]
    fn bad_due_cells_say_why() {
        assert!(due("24", None).is_err_and(|e| e.contains("not a due window")));
        assert!(due("0h", None).is_err());
        assert!(due("soon", None).is_err());
        assert!(due("2026-12-08", None).is_err_and(|e| e.contains("time zone")));
        assert!(due("24h & 2d", None).is_err_and(|e| e.contains("two deadlines")));
        assert!(due("after 25:00", None).is_err());
    }
}
