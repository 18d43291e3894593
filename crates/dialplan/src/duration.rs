//! Durations as operators write them: `5s`, `1500ms`, `2m`.

use std::time::Duration;

/// Why a duration could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    /// A bare number: the unit is required so `5` is never mistaken for milliseconds.
    #[error("bad duration `{0}`: add a unit, e.g. `5s` or `1500ms`")]
    MissingUnit(String),
    /// Anything else that is not `<whole number><ms|s|m>`.
    #[error("bad duration `{0}`: expected a whole number followed by `ms`, `s` or `m`, e.g. `5s` or `1500ms`")]
    Malformed(String),
}

/// Parses `<whole number><unit>` with unit `ms`, `s` or `m` (e.g. `5s`, `1500ms`, `2m`).
pub fn parse_duration(text: &str) -> Result<Duration, DurationError> {
    let trimmed = text.trim();
    let split = trimmed
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(trimmed.len());
    let (digits, unit) = trimmed.split_at(split);
    if digits.is_empty() {
        return Err(DurationError::Malformed(text.to_owned()));
    }
    let Ok(value) = digits.parse::<u64>() else {
        return Err(DurationError::Malformed(text.to_owned()));
    };
    let millis_per_unit = match unit {
        "" => return Err(DurationError::MissingUnit(text.to_owned())),
        "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        _ => return Err(DurationError::Malformed(text.to_owned())),
    };
    value
        .checked_mul(millis_per_unit)
        .map(Duration::from_millis)
        .ok_or_else(|| DurationError::Malformed(text.to_owned()))
}

/// Prints a duration the way [`parse_duration`] reads it, in the largest exact unit.
pub fn format_duration(duration: Duration) -> String {
    let millis = duration.as_millis();
    if millis != 0 && millis.is_multiple_of(60_000) {
        format!("{}m", millis / 60_000)
    } else if millis.is_multiple_of(1_000) {
        format!("{}s", millis / 1_000)
    } else {
        format!("{millis}ms")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_each_unit() {
        assert_eq!(parse_duration("5s"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_duration("1500ms"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
    }

    #[test]
    fn refuses_missing_units_and_garbage() {
        assert_eq!(
            parse_duration("5"),
            Err(DurationError::MissingUnit("5".to_owned()))
        );
        for bad in [
            "",
            "s",
            "5 s",
            "1.5s",
            "-1s",
            "5h",
            "fives",
            "99999999999999999999s",
        ] {
            assert!(
                matches!(parse_duration(bad), Err(DurationError::Malformed(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn formats_round_trip() {
        for text in ["5s", "1500ms", "2m", "0s"] {
            let parsed = parse_duration(text).unwrap_or_default();
            assert_eq!(format_duration(parsed), text);
        }
    }
}
