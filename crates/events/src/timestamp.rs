//! Wall-clock timestamps as they appear on the wire: RFC 3339, UTC, milliseconds.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{OffsetDateTime, UtcOffset};

/// A UTC instant serialized as `2026-11-23T10:15:02.123Z` (always millisecond precision).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(OffsetDateTime);

impl Timestamp {
    /// The current wall-clock time, truncated to milliseconds.
    pub fn now() -> Self {
        Self::from_datetime(OffsetDateTime::now_utc())
    }

    /// Wraps a date-time, converting it to UTC and truncating it to milliseconds.
    pub fn from_datetime(at: OffsetDateTime) -> Self {
        let utc = at.to_offset(UtcOffset::UTC);
        let millis = utc.millisecond();
        // Replacing the sub-second part with a whole number of milliseconds (0..=999)
        // is always in range, so this cannot fail; fall back to the untruncated value anyway.
        Self(utc.replace_millisecond(millis).unwrap_or(utc))
    }

    /// Milliseconds since the Unix epoch.
    pub fn unix_millis(&self) -> i128 {
        self.0.unix_timestamp_nanos() / 1_000_000
    }

    /// The wrapped UTC date-time.
    pub fn datetime(&self) -> OffsetDateTime {
        self.0
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let format = format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
        );
        match self.0.format(format) {
            Ok(s) => f.write_str(&s),
            Err(_) => Err(fmt::Error),
        }
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        OffsetDateTime::parse(&s, &Rfc3339)
            .map(Self::from_datetime)
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn formats_utc_with_milliseconds() {
        let ts = Timestamp::from_datetime(datetime!(2026-11-23 10:15:02.123456 UTC));
        assert_eq!(ts.to_string(), "2026-11-23T10:15:02.123Z");
        let whole = Timestamp::from_datetime(datetime!(2026-11-23 10:15:02 UTC));
        assert_eq!(whole.to_string(), "2026-11-23T10:15:02.000Z");
    }

    #[test]
    fn converts_offsets_to_utc() {
        let ts = Timestamp::from_datetime(datetime!(2026-11-23 11:15:02.5 +01:00));
        assert_eq!(ts.to_string(), "2026-11-23T10:15:02.500Z");
    }

    #[test]
    fn parses_what_it_prints() {
        let ts = Timestamp::from_datetime(datetime!(2026-01-02 03:04:05.006 UTC));
        let json = serde_json::to_string(&ts).unwrap();
        assert_eq!(json, "\"2026-01-02T03:04:05.006Z\"");
        let back: Timestamp = serde_json::from_str(&json).unwrap();
        assert_eq!(back, ts);
    }

    #[test]
    fn rejects_garbage() {
        assert!(serde_json::from_str::<Timestamp>("\"yesterday\"").is_err());
    }
}
