//! Campaign lists: a CSV file of customers to call, read into typed records with a verdict on
//! every line.
//!
//! Pure: the input is bytes (or any [`Read`]), nothing touches files or the clock. The reader
//! takes what spreadsheets and CRMs export: a UTF-8 byte order mark, UTF-16 ("Unicode text"),
//! `,`, `;` or tab as the delimiter (detected from the header line), quoted cells with
//! delimiters and line breaks inside, CRLF line ends, blank and all-empty lines. The header
//! names the columns (see [`Field::from_header`] for the names understood, English and
//! Chinese); every other column is a free attribute.
//!
//! Each data line gets exactly one [`Verdict`]: imported, or rejected with a [`RejectReason`]
//! (missing number, invalid number with what is wrong with it, bad priority, bad due window,
//! bad time zone, too many cells, duplicate of an earlier line). Numbers are normalized to
//! E.164 with a default country ([`phone::normalize`]); a line without a time zone column gets
//! its number's country's zone when that country has one zone, else none (the scheduler holds
//! such a callback until its zone is set). Duplicates are found on the normalized number, the
//! first imported line kept.
//!
//! ```
//! use hotline_campaigns::list::{Country, ImportOptions, ListImport};
//!
//! let csv = "phone;name;due\n138 0013 8000;Li Na;24h\n;Wang Wei;\n+86 138-0013-8000;Li Na;2d\n";
//! let list = ListImport::from_slice(csv.as_bytes(), &ImportOptions { country: Some(Country::CN) }).unwrap();
//! assert_eq!(list.records.len(), 1);
//! assert_eq!(list.records[0].number.as_str(), "+8613800138000");
//! let verdicts: Vec<String> = list.lines.iter().map(|l| format!("{}: {}", l.line, l.verdict)).collect();
//! assert_eq!(verdicts, ["2: ok", "3: missing number", "4: duplicate of line 2"]);
//! ```

mod columns;
pub mod dnc;
mod fields;
pub mod phone;
mod report;

#[cfg(test)]
mod tests;

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::io::Read;

use serde::Serialize;

use crate::command::NewCallback;
use crate::due::DueSpec;
use crate::ids::{CallbackId, QueueName};
use crate::number::E164;
use crate::time::Zone;

pub use columns::{Columns, Field};
pub use fields::PRIORITIES;
pub use phone::{normalize, Country, NumberProblem, PhoneError, UnknownCountry};
pub use report::{LineReport, ReasonKind, RejectReason, Summary, Verdict, ZoneSource};

/// Why a file cannot be read as a list at all (a line's problems are verdicts instead).
#[derive(Debug, thiserror::Error)]
pub enum ListError {
    /// Reading the input failed.
    #[error("cannot read the list: {0}")]
    Io(#[from] std::io::Error),
    /// Nothing but blank lines.
    #[error("the list is empty (no header line)")]
    Empty,
    /// Binary content (a NUL byte), not text.
    #[error("not a text file (binary content at line {line})")]
    NotText {
        /// The line of the first NUL byte.
        line: u64,
    },
    /// Not UTF-8 (often a legacy encoding such as GBK).
    #[error("not UTF-8 text at line {line}: save the list as CSV UTF-8")]
    NotUtf8 {
        /// The line of the first bad byte.
        line: u64,
    },
    /// The first line holds a phone number: the header line is missing.
    #[error(
        "the first line holds a phone number, not column names: add a header line (phone,name,...)"
    )]
    NoHeader,
    /// No header names a phone number.
    #[error("no number column in the header {headers:?} (expected number, phone, mobile or 电话)")]
    NoNumberColumn {
        /// The headers as read.
        headers: Vec<String>,
    },
    /// Two columns for the same field.
    #[error("two {field} columns: {first:?} and {second:?}")]
    DuplicateColumn {
        /// The field.
        field: &'static str,
        /// The first column's header.
        first: String,
        /// The second column's header.
        second: String,
    },
    /// The CSV reader failed.
    #[error("not a CSV list: {0}")]
    Csv(String),
}

/// How to read a list.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// The country of numbers written without a country code (None: such numbers are
    /// rejected).
    pub country: Option<Country>,
}

/// One imported line: a customer to call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ListRecord {
    /// The line it came from.
    pub line: u64,
    /// The number, normalized.
    pub number: E164,
    /// The customer's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The customer's zone (None: unknown, held until set).
    pub time_zone: Option<Zone>,
    /// Base priority.
    pub priority: i32,
    /// The due window.
    pub due: DueSpec,
    /// The other columns' non-empty cells, by header.
    pub attributes: BTreeMap<String, String>,
}

impl ListRecord {
    /// The callback this line becomes in `queue` (the name joins the attributes as `name`).
    pub fn to_callback(&self, id: CallbackId, queue: QueueName, reason: &str) -> NewCallback {
        let mut attributes = self.attributes.clone();
        if let Some(name) = &self.name {
            attributes.insert("name".into(), name.clone());
        }
        NewCallback {
            id,
            number: self.number.clone(),
            time_zone: self.time_zone.clone(),
            reason: reason.to_owned(),
            attributes,
            queue,
            skills: vec![],
            priority: self.priority,
            due: self.due.clone(),
        }
    }
}

/// A list read: the accepted records and a verdict on every data line.
#[derive(Debug, Clone, Serialize)]
pub struct ListImport {
    /// The delimiter found.
    pub delimiter: char,
    /// The columns found.
    pub columns: Columns,
    /// The accepted lines, in file order.
    pub records: Vec<ListRecord>,
    /// One verdict per data line, in file order.
    pub lines: Vec<LineReport>,
    /// Totals.
    pub summary: Summary,
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Ok { .. } => f.write_str("ok"),
            Self::Rejected(reason) => reason.fmt(f),
        }
    }
}

impl ListImport {
    /// Reads a list from `reader` (the whole input, then [`ListImport::from_slice`]).
    pub fn from_reader(mut reader: impl Read, options: &ImportOptions) -> Result<Self, ListError> {
        let mut bytes = Vec::new();
        reader.read_to_end(&mut bytes)?;
        Self::from_slice(&bytes, options)
    }

    /// Reads a list from its bytes.
    pub fn from_slice(bytes: &[u8], options: &ImportOptions) -> Result<Self, ListError> {
        let text = decode(bytes)?;
        let delimiter = detect_delimiter(&text);
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(delimiter)
            .from_reader(text.as_bytes());
        let mut records = reader.records();
        let header = loop {
            match records.next() {
                None => return Err(ListError::Empty),
                Some(Err(e)) => return Err(ListError::Csv(e.to_string())),
                Some(Ok(r)) if r.iter().all(|c| c.trim().is_empty()) => {}
                Some(Ok(r)) => break r,
            }
        };
        let columns = Columns::from_headers(header.iter().map(str::to_owned).collect())?;
        // Sized once from the line count: growing vectors of 100,000 records by doubling
        // costs more in the allocator than reading them.
        let expected = text.bytes().filter(|b| *b == b'\n').count() + 1;
        let mut import = Importer {
            columns: &columns,
            options,
            seen: HashMap::with_capacity(expected),
            zones: HashMap::new(),
        };
        let mut accepted = Vec::with_capacity(expected);
        let mut lines = Vec::with_capacity(expected);
        let mut blank_lines = 0;
        let mut lines_seen = LineCounter::new(&text);
        for record in records {
            let record = record.map_err(|e| ListError::Csv(e.to_string()))?;
            if record.iter().all(|c| c.trim().is_empty()) {
                blank_lines += 1;
                continue;
            }
            let line = lines_seen.line_at(record.position().map_or(0, csv::Position::byte));
            let verdict = match import.line(line, &record) {
                Ok(r) => {
                    let zone = r.1;
                    accepted.push(r.0);
                    Verdict::Ok { zone }
                }
                Err(reason) => Verdict::Rejected(reason),
            };
            lines.push(LineReport { line, verdict });
        }
        let summary = Summary::of(&lines, blank_lines);
        Ok(Self {
            delimiter: char::from(delimiter),
            columns,
            records: accepted,
            lines,
            summary,
        })
    }
}

/// The state of one import: columns, options and the numbers taken so far.
struct Importer<'a> {
    columns: &'a Columns,
    options: &'a ImportOptions,
    seen: HashMap<E164, u64>,
    /// Zones read so far by the text that named them: a list names the same few zones on
    /// every line, and a lookup locks the zone database's global cache and allocates a name.
    zones: HashMap<String, Result<Zone, String>>,
}

impl Importer<'_> {
    fn zone(&mut self, text: &str) -> Result<Zone, String> {
        if let Some(zone) = self.zones.get(text) {
            return zone.clone();
        }
        let zone = fields::time_zone(text);
        self.zones.insert(text.to_owned(), zone.clone());
        zone
    }

    fn line(
        &mut self,
        line: u64,
        record: &csv::StringRecord,
    ) -> Result<(ListRecord, ZoneSource), RejectReason> {
        let c = self.columns;
        if record.len() > c.headers.len() {
            // Cells past the header that are all empty are a trailing delimiter, not a shift.
            if record
                .iter()
                .skip(c.headers.len())
                .any(|v| !v.trim().is_empty())
            {
                return Err(RejectReason::ExtraFields {
                    expected: c.headers.len(),
                    found: record.len(),
                });
            }
        }
        let cell = |i: Option<usize>| i.and_then(|i| record.get(i)).map_or("", str::trim);
        let raw_number = c
            .number
            .iter()
            .map(|i| cell(Some(*i)))
            .find(|v| !v.is_empty())
            .ok_or(RejectReason::MissingNumber)?;
        let number = phone::normalize(raw_number, self.options.country)
            .map_err(|detail| RejectReason::InvalidNumber { detail })?;
        let (time_zone, source) = match cell(c.time_zone) {
            "" => match phone::country_zone(&number).map(|name| self.zone(name)) {
                Some(Ok(zone)) => (Some(zone), ZoneSource::Country),
                _ => (None, ZoneSource::Unknown),
            },
            text => (
                Some(
                    self.zone(text)
                        .map_err(|detail| RejectReason::BadTimeZone { detail })?,
                ),
                ZoneSource::Column,
            ),
        };
        let priority = fields::priority(cell(c.priority))
            .map_err(|detail| RejectReason::BadPriority { detail })?;
        let due = fields::due(cell(c.due), time_zone.as_ref())
            .map_err(|detail| RejectReason::BadDue { detail })?;
        if let Some(first) = self.seen.get(&number) {
            return Err(RejectReason::Duplicate { of_line: *first });
        }
        self.seen.insert(number.clone(), line);
        let name = Some(cell(c.name))
            .filter(|n| !n.is_empty())
            .map(str::to_owned);
        let attributes = c
            .attributes
            .iter()
            .filter_map(|(i, key)| {
                let v = cell(Some(*i));
                (!v.is_empty()).then(|| (key.clone(), v.to_owned()))
            })
            .collect();
        Ok((
            ListRecord {
                line,
                number,
                name,
                time_zone,
                priority,
                due,
                attributes,
            },
            source,
        ))
    }
}

/// The input as UTF-8 text: a UTF-8 byte order mark dropped, UTF-16 with its mark decoded.
fn decode(bytes: &[u8]) -> Result<Cow<'_, str>, ListError> {
    let utf16 = |be: bool, body: &[u8]| {
        let units: Vec<u16> = body
            .chunks(2)
            .map(|p| {
                let pair = [p[0], p.get(1).copied().unwrap_or(0)];
                if be {
                    u16::from_be_bytes(pair)
                } else {
                    u16::from_le_bytes(pair)
                }
            })
            .collect();
        String::from_utf16(&units).map_err(|_| ListError::NotUtf8 { line: 1 })
    };
    let text: Cow<'_, str> = match bytes {
        [0xFF, 0xFE, body @ ..] => Cow::Owned(utf16(false, body)?),
        [0xFE, 0xFF, body @ ..] => Cow::Owned(utf16(true, body)?),
        _ => {
            let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
            match std::str::from_utf8(body) {
                Ok(t) => Cow::Borrowed(t),
                Err(e) => {
                    let line = line_of(&body[..e.valid_up_to()]);
                    return Err(ListError::NotUtf8 { line });
                }
            }
        }
    };
    if let Some(at) = text.find('\0') {
        return Err(ListError::NotText {
            line: line_of(&text.as_bytes()[..at]),
        });
    }
    if text.trim().is_empty() {
        return Err(ListError::Empty);
    }
    Ok(text)
}

/// Line numbers of byte offsets met in increasing order (CRLF, LF and a lone CR each end a
/// line; blank lines count, as in an editor).
struct LineCounter<'a> {
    text: &'a [u8],
    at: usize,
    line: u64,
}

impl<'a> LineCounter<'a> {
    fn new(text: &'a str) -> Self {
        Self {
            text: text.as_bytes(),
            at: 0,
            line: 1,
        }
    }

    /// The 1-based line of the record that the reader placed at byte `offset` (not before
    /// the previous one asked). The reader's offset can be on the line end before the record
    /// or on blank lines it skipped: a record never starts with a line end, so they are passed.
    fn line_at(&mut self, offset: u64) -> u64 {
        let mut end = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(self.text.len());
        while matches!(self.text.get(end), Some(b'\r' | b'\n')) {
            end += 1;
        }
        while self.at < end {
            match self.text[self.at] {
                b'\n' => self.line += 1,
                b'\r' if self.text.get(self.at + 1) != Some(&b'\n') => self.line += 1,
                _ => {}
            }
            self.at += 1;
        }
        self.line
    }
}

/// The 1-based line a position is on, given the bytes before it.
fn line_of(before: &[u8]) -> u64 {
    let newlines = before.iter().filter(|b| **b == b'\n').count();
    u64::try_from(newlines)
        .unwrap_or(u64::MAX)
        .saturating_add(1)
}

/// The delimiter of the header line: the most frequent of `,`, `;` and tab outside quotes
/// (`,` on a tie or when there is none).
fn detect_delimiter(text: &str) -> u8 {
    let header = text
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or_default();
    let mut counts = [0usize; 3];
    let mut quoted = false;
    for b in header.bytes() {
        match b {
            b'"' => quoted = !quoted,
            b',' if !quoted => counts[0] += 1,
            b';' if !quoted => counts[1] += 1,
            b'\t' if !quoted => counts[2] += 1,
            _ => {}
        }
    }
    let candidates = [b',', b';', b'\t'];
    let mut best = 0;
    for i in 1..3 {
        if counts[i] > counts[best] {
            best = i;
        }
    }
    candidates[best]
}
