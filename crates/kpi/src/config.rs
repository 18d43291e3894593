//! Projection settings: the documented KPI variants, thresholds, windows and time zones.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use time::UtcOffset;

/// How the service level counts abandoned calls (see `KPIS.md`). The chosen variant is named
/// in every snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ServiceLevelVariant {
    /// The reference definition: answered within T / (answered + abandoned after T).
    /// Calls abandoned within T (short abandons included) are left out.
    #[default]
    AbandonedAfterThreshold,
    /// answered within T / (answered + abandoned), short abandons left out.
    AbandonedExceptShort,
    /// answered within T / (answered + every abandoned call).
    AllAbandons,
    /// answered within T / answered: abandons left out entirely.
    NoAbandons,
}

/// Whether short abandons count in the answer rate and the abandon rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShortAbandonPolicy {
    /// Short abandons are removed from both numerator and denominator (the default).
    #[default]
    Excluded,
    /// Short abandons count as offered and abandoned like any other call.
    Included,
}

/// Settings of one queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueKpiConfig {
    /// The service-level threshold T: answered within T counts as "in service level".
    pub service_level_threshold: Duration,
    /// The queue's time zone for daily/weekly/monthly rollups, as a fixed offset.
    /// Zones with daylight-saving time need a tz database (not supported yet): use the
    /// offset in force for most of the reporting period.
    pub utc_offset: UtcOffset,
    /// This queue's short-abandon threshold; `None` uses
    /// [`KpiConfig::short_abandon_threshold`].
    pub short_abandon_threshold: Option<Duration>,
    /// The due window of the queue's in-queue callbacks: one is completed within it when it
    /// connects at most this long after its original entry time (the queue's
    /// `callback_expiry`, after which the queue gives it up). `None`: any completion is
    /// within.
    pub callback_expiry: Option<Duration>,
}

impl Default for QueueKpiConfig {
    fn default() -> Self {
        Self {
            service_level_threshold: Duration::from_secs(20),
            utc_offset: UtcOffset::UTC,
            short_abandon_threshold: None,
            callback_expiry: None,
        }
    }
}

/// How many completed calendar periods each rollup keeps (the current one included).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// Daily rollups kept.
    pub days: usize,
    /// Weekly rollups kept (weeks start on Monday).
    pub weeks: usize,
    /// Monthly rollups kept.
    pub months: usize,
}

impl Default for Retention {
    fn default() -> Self {
        Self {
            days: 62,
            weeks: 15,
            months: 25,
        }
    }
}

/// Settings of a [`crate::KpiProjection`]. Changing them applies to events applied afterwards:
/// rebuild the projection by replaying the journal to re-compute history.
#[derive(Debug, Clone, PartialEq)]
pub struct KpiConfig {
    /// Abandons with a wait strictly below this are "short abandons" (default 5 s).
    pub short_abandon_threshold: Duration,
    /// Whether short abandons count in the answer and abandon rates.
    pub short_abandons: ShortAbandonPolicy,
    /// The service-level variant.
    pub service_level: ServiceLevelVariant,
    /// One ring cycle, to turn ringing time into rings (default 5 s: China's 1 s on, 4 s off;
    /// use 6 s for the US cadence).
    pub ring_cycle: Duration,
    /// Width of one rolling-window bucket (default 60 s). Rolling windows are whole buckets.
    pub bucket: Duration,
    /// The live rolling windows (default 15 and 60 minutes); each must be a multiple of
    /// `bucket` (it is rounded up otherwise).
    pub rolling_windows: Vec<Duration>,
    /// Settings of queues not listed in `queues`, and the time zone of agents' rollups.
    pub default_queue: QueueKpiConfig,
    /// Per-queue settings.
    pub queues: BTreeMap<String, QueueKpiConfig>,
    /// Calendar rollups kept.
    pub retention: Retention,
}

impl Default for KpiConfig {
    fn default() -> Self {
        Self {
            short_abandon_threshold: Duration::from_secs(5),
            short_abandons: ShortAbandonPolicy::Excluded,
            service_level: ServiceLevelVariant::AbandonedAfterThreshold,
            ring_cycle: Duration::from_secs(5),
            bucket: Duration::from_secs(60),
            rolling_windows: vec![Duration::from_secs(15 * 60), Duration::from_secs(60 * 60)],
            default_queue: QueueKpiConfig::default(),
            queues: BTreeMap::new(),
            retention: Retention::default(),
        }
    }
}

impl KpiConfig {
    /// The settings of `queue`.
    pub fn queue(&self, queue: &str) -> QueueKpiConfig {
        self.queues
            .get(queue)
            .copied()
            .unwrap_or(self.default_queue)
    }

    /// The short-abandon threshold of `queue`, in milliseconds.
    pub(crate) fn short_abandon_ms(&self, queue: &str) -> u64 {
        let t = self
            .queue(queue)
            .short_abandon_threshold
            .unwrap_or(self.short_abandon_threshold);
        u64::try_from(duration_ms(t)).unwrap_or(u64::MAX)
    }

    /// Bucket width in milliseconds, at least 1.
    pub(crate) fn bucket_ms(&self) -> i64 {
        duration_ms(self.bucket).max(1)
    }

    /// Number of buckets each rolling series keeps (enough for the longest window).
    pub(crate) fn bucket_count(&self) -> usize {
        let bucket = self.bucket_ms();
        let longest = self
            .rolling_windows
            .iter()
            .map(|w| duration_ms(*w))
            .max()
            .unwrap_or(bucket);
        usize::try_from((longest + bucket - 1) / bucket)
            .unwrap_or(1)
            .max(1)
    }
}

/// A duration in whole milliseconds, saturating.
pub(crate) fn duration_ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// A UTC offset that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid UTC offset {0:?}: expected Z, +HH:MM, -HH:MM, +HH or -HH (up to ±23:59)")]
pub struct OffsetParseError(pub String);

/// Parses a fixed UTC offset as written in configuration: `Z`, `UTC`, `+08:00`, `-05:30`,
/// `+08`, `+0800`.
pub fn parse_utc_offset(s: &str) -> Result<UtcOffset, OffsetParseError> {
    let err = || OffsetParseError(s.to_owned());
    let t = s.trim();
    if t.eq_ignore_ascii_case("z") || t.eq_ignore_ascii_case("utc") {
        return Ok(UtcOffset::UTC);
    }
    let (sign, rest) = match t.as_bytes().first() {
        Some(b'+') => (1i8, &t[1..]),
        Some(b'-') => (-1i8, &t[1..]),
        _ => return Err(err()),
    };
    let digits: String = rest.chars().filter(|c| *c != ':').collect();
    if !digits.chars().all(|c| c.is_ascii_digit()) || !(rest.len() == 2 || digits.len() == 4) {
        return Err(err());
    }
    let (h, m) = match digits.len() {
        2 => (digits.parse::<i8>().map_err(|_| err())?, 0),
        4 => (
            digits[..2].parse::<i8>().map_err(|_| err())?,
            digits[2..].parse::<i8>().map_err(|_| err())?,
        ),
        _ => return Err(err()),
    };
    if h > 23 || m > 59 {
        return Err(err());
    }
    UtcOffset::from_hms(sign * h, sign * m, 0).map_err(|_| err())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::offset;

    #[test]
    fn parses_offsets_as_written_in_config() {
        assert_eq!(parse_utc_offset("+08:00"), Ok(offset!(+8)));
        assert_eq!(parse_utc_offset("+08"), Ok(offset!(+8)));
        assert_eq!(parse_utc_offset("-0530"), Ok(offset!(-5:30)));
        assert_eq!(parse_utc_offset("-05:30"), Ok(offset!(-5:30)));
        assert_eq!(parse_utc_offset("Z"), Ok(UtcOffset::UTC));
        assert_eq!(parse_utc_offset(" utc "), Ok(UtcOffset::UTC));
        for bad in [
            "",
            "8",
            "+8",
            "+24:00",
            "+08:60",
            "+08:0",
            "Asia/Shanghai",
            "+0８:00",
            "+-8",
        ] {
            assert!(parse_utc_offset(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn windows_round_up_to_whole_buckets() {
        let c = KpiConfig {
            rolling_windows: vec![Duration::from_secs(90)],
            ..KpiConfig::default()
        };
        assert_eq!(c.bucket_count(), 2);
        assert_eq!(KpiConfig::default().bucket_count(), 60);
        assert_eq!(
            KpiConfig::default().queue("x").service_level_threshold,
            Duration::from_secs(20)
        );
    }
}
