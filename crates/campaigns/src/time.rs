//! Time helpers: named time zones, local times of day, durations written as `90s`/`15m`/`2h`/`1d`,
//! and the serde forms of instants (RFC 3339) and durations (milliseconds) in events.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;
use jiff::Timestamp;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An IANA time zone with its name, read from the compiled-in database (never from the host).
#[derive(Clone)]
pub struct Zone {
    name: Arc<str>,
    tz: TimeZone,
}

/// A time zone name the database does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown IANA time zone {0:?}")]
pub struct UnknownZone(pub String);

impl Zone {
    /// Looks up `name` (`Asia/Shanghai`, `America/New_York`, `UTC`).
    pub fn new(name: &str) -> Result<Self, UnknownZone> {
        TimeZone::get(name)
            .map(|tz| Self {
                name: Arc::from(name),
                tz,
            })
            .map_err(|_| UnknownZone(name.to_owned()))
    }

    /// UTC.
    pub fn utc() -> Self {
        Self {
            name: Arc::from("UTC"),
            tz: TimeZone::UTC,
        }
    }

    /// The name as given.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The name as shared text (a clone counts a reference).
    pub fn shared_name(&self) -> Arc<str> {
        Arc::clone(&self.name)
    }

    /// The zone's rules.
    pub fn tz(&self) -> &TimeZone {
        &self.tz
    }

    /// The local date and time of `at` in this zone.
    pub fn local(&self, at: Timestamp) -> DateTime {
        self.tz.to_datetime(at)
    }

    /// The instant of a local date and time; a time skipped by a DST change is read as after
    /// the change (02:30 on a spring-forward night is 03:30), a repeated time as its first
    /// occurrence.
    pub fn instant(&self, local: DateTime) -> Timestamp {
        self.tz
            .to_timestamp(local)
            // Only out of jiff's range (years beyond ±9999), which no calendar date here reaches.
            .unwrap_or(Timestamp::MAX)
    }

    /// The instant local `date` starts (its first minute, even on a day a DST change skips
    /// midnight).
    pub fn start_of(&self, date: Date) -> Timestamp {
        date.to_zoned_datetime(self.tz.clone())
            .map(|z| z.timestamp())
            .unwrap_or(Timestamp::MAX)
    }
}

impl PartialEq for Zone {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for Zone {}

impl fmt::Debug for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Zone({})", self.name)
    }
}

impl Serialize for Zone {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.name)
    }
}

impl<'de> Deserialize<'de> for Zone {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        Self::new(&name).map_err(serde::de::Error::custom)
    }
}

/// A local time of day in minutes from midnight, `00:00` to `24:00` (the end of the day).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LocalTime(pub(crate) u16);

/// A time of day that is not `HH:MM` between `00:00` and `24:00`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a time of day HH:MM (00:00-24:00): {0:?}")]
pub struct BadLocalTime(pub String);

impl LocalTime {
    /// Midnight at the start of the day.
    pub const MIDNIGHT: Self = Self(0);
    /// Midnight at the end of the day.
    pub const END_OF_DAY: Self = Self(1440);

    /// `hour:minute`; `None` past 24:00.
    pub fn new(hour: u16, minute: u16) -> Option<Self> {
        let minutes = hour.checked_mul(60)?.checked_add(minute)?;
        (minute < 60 && minutes <= 1440).then_some(Self(minutes))
    }

    /// Minutes from midnight.
    pub fn minutes(self) -> u16 {
        self.0
    }

    /// The instant this time falls on local `date` in `zone` (24:00 is the next day's start).
    pub fn on(self, date: Date, zone: &Zone) -> Timestamp {
        if self.0 >= 1440 {
            return match date.tomorrow() {
                Ok(next) => zone.start_of(next),
                Err(_) => Timestamp::MAX,
            };
        }
        let hour = i8::try_from(self.0 / 60).unwrap_or(0);
        let minute = i8::try_from(self.0 % 60).unwrap_or(0);
        zone.instant(date.at(hour, minute, 0, 0))
    }
}

impl FromStr for LocalTime {
    type Err = BadLocalTime;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || BadLocalTime(text.to_owned());
        let (h, m) = text.trim().split_once(':').ok_or_else(bad)?;
        if h.is_empty() || h.len() > 2 || m.len() != 2 {
            return Err(bad());
        }
        let h: u16 = h.parse().map_err(|_| bad())?;
        let m: u16 = m.parse().map_err(|_| bad())?;
        Self::new(h, m).ok_or_else(bad)
    }
}

impl fmt::Display for LocalTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.0 / 60, self.0 % 60)
    }
}

impl Serialize for LocalTime {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for LocalTime {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// Reads `500ms`, `90s`, `15m`, `2h`, `1d` or a bare number of seconds.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: u64 = number.parse().ok()?;
    let secs = |k: u64| n.checked_mul(k).map(Duration::from_secs);
    match unit.trim() {
        "ms" => Some(Duration::from_millis(n)),
        "" | "s" => secs(1),
        "m" => secs(60),
        "h" => secs(3600),
        "d" => secs(86_400),
        _ => None,
    }
}

/// Prints a duration in the largest unit that divides it (`2h`, `90s`, `500ms`).
pub fn format_duration(d: Duration) -> String {
    let ms = d.as_millis();
    for (unit, size) in [
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1000),
    ] {
        if ms >= size && ms.is_multiple_of(size) {
            return format!("{}{unit}", ms / size);
        }
    }
    format!("{ms}ms")
}

/// Serde for configuration durations written as text (`2h`).
pub mod duration_text {
    use super::*;

    /// Writes `d` as text.
    pub fn serialize<S: Serializer>(d: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&format_duration(*d))
    }

    /// Reads a duration written as text.
    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
        let text = String::deserialize(deserializer)?;
        parse_duration(&text)
            .ok_or_else(|| serde::de::Error::custom(format!("not a duration: {text:?}")))
    }
}

/// Serde for optional durations written as text (null or absent: none).
pub mod option_duration_text {
    use super::*;

    /// Writes `d` as text, or null.
    pub fn serialize<S: Serializer>(
        d: &Option<Duration>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => serializer.serialize_str(&format_duration(*d)),
            None => serializer.serialize_none(),
        }
    }

    /// Reads a duration written as text, or null.
    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Duration>, D::Error> {
        let text = Option::<String>::deserialize(deserializer)?;
        text.map(|t| {
            parse_duration(&t)
                .ok_or_else(|| serde::de::Error::custom(format!("not a duration: {t:?}")))
        })
        .transpose()
    }
}

/// Serde for lists of configuration durations written as text.
pub mod durations_text {
    use super::*;

    /// Writes each duration as text.
    pub fn serialize<S: Serializer>(ds: &[Duration], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(ds.iter().map(|d| format_duration(*d)))
    }

    /// Reads durations written as text.
    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Vec<Duration>, D::Error> {
        let texts = Vec::<String>::deserialize(deserializer)?;
        texts
            .iter()
            .map(|t| {
                parse_duration(t)
                    .ok_or_else(|| serde::de::Error::custom(format!("not a duration: {t:?}")))
            })
            .collect()
    }
}

/// Serde for instants in events: RFC 3339 text (`2026-12-06T09:00:00Z`).
pub mod instant_text {
    use super::*;

    /// Writes `at` as RFC 3339.
    pub fn serialize<S: Serializer>(at: &Timestamp, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(at)
    }

    /// Reads an RFC 3339 instant.
    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Timestamp, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// Serde for optional instants in events.
pub mod option_instant_text {
    use super::*;

    /// Writes `at` as RFC 3339, or null.
    pub fn serialize<S: Serializer>(
        at: &Option<Timestamp>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match at {
            Some(at) => serializer.collect_str(at),
            None => serializer.serialize_none(),
        }
    }

    /// Reads an RFC 3339 instant or null.
    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Timestamp>, D::Error> {
        let text = Option::<String>::deserialize(deserializer)?;
        text.map(|t| t.parse().map_err(serde::de::Error::custom))
            .transpose()
    }
}

/// Serde for sets of dates written `2026-10-01`.
pub mod date_set {
    use super::*;
    use std::collections::BTreeSet;

    /// Writes each date as `YYYY-MM-DD`.
    pub fn serialize<S: Serializer>(
        dates: &BTreeSet<Date>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(dates.iter().map(|d| d.to_string()))
    }

    /// Reads dates written `YYYY-MM-DD`.
    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<BTreeSet<Date>, D::Error> {
        let texts = Vec::<String>::deserialize(deserializer)?;
        texts
            .iter()
            .map(|t| t.parse::<Date>().map_err(serde::de::Error::custom))
            .collect()
    }
}

/// `at + d`, saturating at the end of time.
pub fn add(at: Timestamp, d: Duration) -> Timestamp {
    at.checked_add(d).unwrap_or(Timestamp::MAX)
}

/// `at - d`, saturating at the start of time.
pub fn sub(at: Timestamp, d: Duration) -> Timestamp {
    at.checked_sub(d).unwrap_or(Timestamp::MIN)
}

/// `later - earlier`, zero when `later` is earlier.
pub fn since(later: Timestamp, earlier: Timestamp) -> Duration {
    Duration::try_from(later.duration_since(earlier)).unwrap_or(Duration::ZERO)
}

/// Milliseconds of `d`, saturating.
pub fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_and_print_in_their_units() {
        assert_eq!(parse_duration("2h"), Some(Duration::from_secs(7200)));
        assert_eq!(parse_duration("90s"), Some(Duration::from_secs(90)));
        assert_eq!(parse_duration("45"), Some(Duration::from_secs(45)));
        assert_eq!(parse_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_duration("1d"), Some(Duration::from_secs(86_400)));
        assert_eq!(parse_duration("2 weeks"), None);
        assert_eq!(parse_duration("h"), None);
        assert_eq!(format_duration(Duration::from_secs(7200)), "2h");
        assert_eq!(format_duration(Duration::from_secs(90)), "90s");
        assert_eq!(format_duration(Duration::from_millis(1500)), "1500ms");
    }

    #[test]
    fn local_times_read_with_24_00_as_end_of_day() {
        assert_eq!("09:00".parse::<LocalTime>().map(|t| t.minutes()), Ok(540));
        assert_eq!("24:00".parse::<LocalTime>(), Ok(LocalTime::END_OF_DAY));
        for bad in ["24:01", "9", "09:60", "x:00", "123:00"] {
            assert!(bad.parse::<LocalTime>().is_err(), "{bad}");
        }
    }

    #[test]
    fn zones_come_from_the_bundled_database() {
        assert!(Zone::new("America/New_York").is_ok());
        assert_eq!(
            Zone::new("Mars/Olympus").map(|z| z.name().to_owned()),
            Err(UnknownZone("Mars/Olympus".into()))
        );
    }
}
