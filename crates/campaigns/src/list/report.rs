//! The per-line report of an import: one verdict per data line, and counts by reason.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use super::phone::PhoneError;

/// Why a line is not imported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum RejectReason {
    /// No number in any number column.
    MissingNumber,
    /// A number that cannot be dialed.
    InvalidNumber {
        /// What is wrong with it.
        detail: PhoneError,
    },
    /// A priority that is not a whole number in range.
    BadPriority {
        /// What is wrong with it.
        detail: String,
    },
    /// A due cell that cannot be read.
    BadDue {
        /// What is wrong with it.
        detail: String,
    },
    /// A time zone that is not an IANA name.
    BadTimeZone {
        /// What is wrong with it.
        detail: String,
    },
    /// More cells than the header has columns (often a delimiter inside an unquoted name).
    ExtraFields {
        /// Columns in the header.
        expected: usize,
        /// Cells in the line.
        found: usize,
    },
    /// The same number (after normalization) as an earlier imported line, which is kept.
    Duplicate {
        /// The line kept.
        of_line: u64,
    },
}

impl RejectReason {
    /// The reason without its details, for counting.
    pub fn kind(&self) -> ReasonKind {
        match self {
            Self::MissingNumber => ReasonKind::MissingNumber,
            Self::InvalidNumber { .. } => ReasonKind::InvalidNumber,
            Self::BadPriority { .. } => ReasonKind::BadPriority,
            Self::BadDue { .. } => ReasonKind::BadDue,
            Self::BadTimeZone { .. } => ReasonKind::BadTimeZone,
            Self::ExtraFields { .. } => ReasonKind::ExtraFields,
            Self::Duplicate { .. } => ReasonKind::Duplicate,
        }
    }
}

impl fmt::Display for RejectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MissingNumber => f.write_str("missing number"),
            Self::InvalidNumber { detail } => write!(f, "invalid number: {detail}"),
            Self::BadPriority { detail } => write!(f, "bad priority: {detail}"),
            Self::BadDue { detail } => write!(f, "bad due: {detail}"),
            Self::BadTimeZone { detail } => write!(f, "bad time zone: {detail}"),
            Self::ExtraFields { expected, found } => write!(
                f,
                "{found} cells for {expected} columns (an unquoted delimiter?)"
            ),
            Self::Duplicate { of_line } => write!(f, "duplicate of line {of_line}"),
        }
    }
}

/// A reject reason without details.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReasonKind {
    /// See [`RejectReason::MissingNumber`].
    MissingNumber,
    /// See [`RejectReason::InvalidNumber`].
    InvalidNumber,
    /// See [`RejectReason::BadPriority`].
    BadPriority,
    /// See [`RejectReason::BadDue`].
    BadDue,
    /// See [`RejectReason::BadTimeZone`].
    BadTimeZone,
    /// See [`RejectReason::ExtraFields`].
    ExtraFields,
    /// See [`RejectReason::Duplicate`].
    Duplicate,
}

impl ReasonKind {
    /// The reason's name in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::MissingNumber => "missing number",
            Self::InvalidNumber => "invalid number",
            Self::BadPriority => "bad priority",
            Self::BadDue => "bad due",
            Self::BadTimeZone => "bad time zone",
            Self::ExtraFields => "extra fields",
            Self::Duplicate => "duplicate",
        }
    }
}

/// Where an accepted line's time zone came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ZoneSource {
    /// The time zone column.
    Column,
    /// The number's country, which has a single zone.
    Country,
    /// Unknown: the callback is held, never dialed, until its zone is set.
    Unknown,
}

/// The verdict on one line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Verdict {
    /// Imported.
    Ok {
        /// Where its time zone came from.
        zone: ZoneSource,
    },
    /// Not imported.
    Rejected(RejectReason),
}

/// One data line's verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LineReport {
    /// The line it starts on, 1-based, the header counted.
    pub line: u64,
    /// The verdict.
    #[serde(flatten)]
    pub verdict: Verdict,
}

/// Totals of an import.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Data lines (blank lines apart).
    pub lines: usize,
    /// Lines imported.
    pub accepted: usize,
    /// Of those, lines whose time zone is unknown (held until it is set).
    pub unknown_zone: usize,
    /// Lines not imported.
    pub rejected: usize,
    /// Lines not imported, by reason.
    pub by_reason: BTreeMap<ReasonKind, usize>,
    /// Lines of empty cells only (`;;;`), skipped without a verdict like empty lines (which
    /// are not counted).
    pub blank_lines: usize,
}

impl Summary {
    /// Counts the verdicts of `lines`.
    pub fn of(lines: &[LineReport], blank_lines: usize) -> Self {
        let mut s = Self {
            lines: lines.len(),
            blank_lines,
            ..Self::default()
        };
        for line in lines {
            match &line.verdict {
                Verdict::Ok { zone } => {
                    s.accepted += 1;
                    if *zone == ZoneSource::Unknown {
                        s.unknown_zone += 1;
                    }
                }
                Verdict::Rejected(reason) => {
                    s.rejected += 1;
                    *s.by_reason.entry(reason.kind()).or_default() += 1;
                }
            }
        }
        s
    }
}
