//! Do-not-call imports: numbers never to dial, read with the list import's normalization
//! ([`super::phone::normalize`] with a default country) and its tolerance of exports (a UTF-8
//! byte order mark, UTF-16, CRLF), with a verdict on every line.
//!
//! A file is either one number per line (`#` starts a comment, blank lines are skipped) or a
//! CSV export whose header names a number column (`phone`, `number`, `mobile`, 电话...; other
//! columns are ignored, lines starting with `#` are skipped). Numbers given as a JSON array are
//! read by [`NumberList::from_texts`], each "line" being the number's 1-based position.
//!
//! Reading says which lines hold a number ([`ReadNumber`]); applying the numbers to a list
//! says which were added and which were listed already ([`NumberList::report`]). A bad line
//! never keeps the good ones out.
//!
//! ```
//! use hotline_campaigns::list::dnc::NumberList;
//! use hotline_campaigns::list::{Country, ImportOptions};
//!
//! let text = "# opted out\n020 7946 0001\n+44 20 7946 0002\n12ab\n02079460001\n";
//! let options = ImportOptions { country: Some(Country::GB) };
//! let list = NumberList::from_slice(text.as_bytes(), &options).unwrap();
//! let numbers: Vec<&str> = list.numbers().map(|n| n.as_str()).collect();
//! assert_eq!(numbers, ["+442079460001", "+442079460002"]);
//! let report = list.report(|n| n.as_str() != "+442079460002");
//! assert_eq!((report.summary.added, report.summary.already_listed), (1, 1));
//! assert_eq!((report.summary.rejected, report.summary.duplicate), (1, 1));
//! assert_eq!(report.lines[2].line, 4);
//! ```

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use super::{
    decode, detect_delimiter, phone, Columns, ImportOptions, LineCounter, ListError, ReasonKind,
    RejectReason,
};
use crate::number::E164;

/// What one line holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadNumber {
    /// A number, the first time the input gives it.
    Number(E164),
    /// A number an earlier line gave already.
    Repeated {
        /// The number.
        number: E164,
        /// The line that gave it first.
        of_line: u64,
    },
    /// No number that can be dialed (missing or invalid).
    Rejected(RejectReason),
}

/// One line of the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NumberLine {
    /// The 1-based line (the position in a JSON array).
    pub line: u64,
    /// The text as written (the number cell of a CSV line).
    pub input: String,
    /// What it holds.
    pub read: ReadNumber,
}

/// Numbers read from a do-not-call import, a verdict per line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NumberList {
    /// Every line with something on it, in input order.
    pub lines: Vec<NumberLine>,
}

/// The verdict on one line once the numbers were applied to a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum DncVerdict {
    /// The number joined the list.
    Added {
        /// The number, normalized.
        number: E164,
    },
    /// The number was on the list already.
    AlreadyListed {
        /// The number, normalized.
        number: E164,
    },
    /// An earlier line gave the same number.
    Duplicate {
        /// The number, normalized.
        number: E164,
        /// The earlier line.
        of_line: u64,
    },
    /// No number that can be dialed.
    Rejected {
        /// The text as written.
        input: String,
        /// Why.
        #[serde(flatten)]
        reason: RejectReason,
        /// The reason as a sentence.
        message: String,
    },
}

/// One line's verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DncLine {
    /// The 1-based line (the position in a JSON array).
    pub line: u64,
    /// The verdict.
    #[serde(flatten)]
    pub verdict: DncVerdict,
}

/// Totals of a do-not-call import.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DncSummary {
    /// Lines with something on them.
    pub lines: usize,
    /// Numbers that joined the list.
    pub added: usize,
    /// Numbers that were listed already.
    pub already_listed: usize,
    /// Lines repeating an earlier line's number.
    pub duplicate: usize,
    /// Lines without a number that can be dialed.
    pub rejected: usize,
    /// Rejected lines by reason.
    pub by_reason: BTreeMap<ReasonKind, usize>,
}

/// The answer to a do-not-call import: totals and a verdict on every line.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DncReport {
    /// Totals.
    pub summary: DncSummary,
    /// One verdict per line, in input order.
    pub lines: Vec<DncLine>,
}

impl NumberList {
    /// Reads an import's bytes: one number per line, or a CSV export with a number column.
    /// Errors only when the input is not text at all (binary, not UTF-8, empty).
    pub fn from_slice(bytes: &[u8], options: &ImportOptions) -> Result<Self, ListError> {
        let text = decode(bytes)?;
        let header = text
            .lines()
            .find(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
            .unwrap_or_default();
        let delimiter = detect_delimiter(header);
        let cells: Vec<String> = header
            .split(char::from(delimiter))
            .map(|c| c.trim().trim_matches('"').to_owned())
            .collect();
        match Columns::from_headers(cells) {
            Ok(columns) => Self::from_csv(&text, delimiter, &columns, options),
            Err(_) => Ok(Self::from_lines(&text, options)),
        }
    }

    /// Reads numbers given one by one (a JSON array): line `n` is the `n`th number.
    pub fn from_texts<S: AsRef<str>>(
        texts: impl IntoIterator<Item = S>,
        options: &ImportOptions,
    ) -> Self {
        let mut reader = Reader::new(options);
        for (i, text) in texts.into_iter().enumerate() {
            reader.push(i as u64 + 1, text.as_ref().trim());
        }
        reader.list
    }

    /// One number per line, `#` comments.
    fn from_lines(text: &str, options: &ImportOptions) -> Self {
        let mut reader = Reader::new(options);
        // `str::lines` ends lines at LF (a CR before it dropped); a lone CR ends one too.
        let lines = text.split('\n').flat_map(|l| {
            let l = l.strip_suffix('\r').unwrap_or(l);
            l.split('\r')
        });
        for (i, line) in lines.enumerate() {
            let entry = line.split('#').next().unwrap_or_default().trim();
            if !entry.is_empty() {
                reader.push(i as u64 + 1, entry);
            }
        }
        reader.list
    }

    /// A CSV export: the first non-empty number column of each line.
    fn from_csv(
        text: &str,
        delimiter: u8,
        columns: &Columns,
        options: &ImportOptions,
    ) -> Result<Self, ListError> {
        let mut csv = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(true)
            .comment(Some(b'#'))
            .delimiter(delimiter)
            .from_reader(text.as_bytes());
        let mut reader = Reader::new(options);
        let mut counter = LineCounter::new(text);
        for record in csv.records() {
            let record = record.map_err(|e| ListError::Csv(e.to_string()))?;
            if record.iter().all(|c| c.trim().is_empty()) {
                continue;
            }
            let line = counter.line_at(record.position().map_or(0, csv::Position::byte));
            let cell = columns
                .number
                .iter()
                .filter_map(|i| record.get(*i))
                .map(str::trim)
                .find(|v| !v.is_empty())
                .unwrap_or_default();
            reader.push(line, cell);
        }
        Ok(reader.list)
    }

    /// The numbers to list, each once, in input order.
    pub fn numbers(&self) -> impl Iterator<Item = &E164> {
        self.lines.iter().filter_map(|l| match &l.read {
            ReadNumber::Number(n) => Some(n),
            _ => None,
        })
    }

    /// The verdicts once the numbers were applied to a list: `added` says whether a number
    /// joined it (else it was listed already).
    pub fn report(&self, added: impl Fn(&E164) -> bool) -> DncReport {
        let mut summary = DncSummary {
            lines: self.lines.len(),
            ..DncSummary::default()
        };
        let lines = self
            .lines
            .iter()
            .map(|l| {
                let verdict = match &l.read {
                    ReadNumber::Number(number) if added(number) => {
                        summary.added += 1;
                        DncVerdict::Added {
                            number: number.clone(),
                        }
                    }
                    ReadNumber::Number(number) => {
                        summary.already_listed += 1;
                        DncVerdict::AlreadyListed {
                            number: number.clone(),
                        }
                    }
                    ReadNumber::Repeated { number, of_line } => {
                        summary.duplicate += 1;
                        DncVerdict::Duplicate {
                            number: number.clone(),
                            of_line: *of_line,
                        }
                    }
                    ReadNumber::Rejected(reason) => {
                        summary.rejected += 1;
                        *summary.by_reason.entry(reason.kind()).or_default() += 1;
                        DncVerdict::Rejected {
                            input: l.input.clone(),
                            reason: reason.clone(),
                            message: reason.to_string(),
                        }
                    }
                };
                DncLine {
                    line: l.line,
                    verdict,
                }
            })
            .collect();
        DncReport { summary, lines }
    }
}

/// Reads lines one by one, remembering the numbers seen.
struct Reader<'a> {
    options: &'a ImportOptions,
    seen: HashMap<E164, u64>,
    list: NumberList,
}

impl<'a> Reader<'a> {
    fn new(options: &'a ImportOptions) -> Self {
        Self {
            options,
            seen: HashMap::new(),
            list: NumberList::default(),
        }
    }

    fn push(&mut self, line: u64, input: &str) {
        let read = if input.is_empty() {
            ReadNumber::Rejected(RejectReason::MissingNumber)
        } else {
            match phone::normalize(input, self.options.country) {
                Err(detail) => ReadNumber::Rejected(RejectReason::InvalidNumber { detail }),
                Ok(number) => match self.seen.get(&number) {
                    Some(first) => ReadNumber::Repeated {
                        number,
                        of_line: *first,
                    },
                    None => {
                        self.seen.insert(number.clone(), line);
                        ReadNumber::Number(number)
                    }
                },
            }
        };
        self.list.lines.push(NumberLine {
            line,
            input: input.to_owned(),
            read,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::list::{Country, PhoneError};

    fn gb() -> ImportOptions {
        ImportOptions {
            country: Some(Country::GB),
        }
    }

    fn read(bytes: &[u8]) -> NumberList {
        NumberList::from_slice(bytes, &gb()).unwrap_or_else(|e| panic!("{e}"))
    }

    fn shown(list: &NumberList) -> Vec<(u64, String)> {
        list.report(|_| true)
            .lines
            .iter()
            .map(|l| {
                let v = match &l.verdict {
                    DncVerdict::Added { number } => number.as_str().to_owned(),
                    DncVerdict::AlreadyListed { number } => format!("listed {number}"),
                    DncVerdict::Duplicate { of_line, .. } => format!("dup {of_line}"),
                    DncVerdict::Rejected { reason, .. } => reason.kind().as_str().to_owned(),
                };
                (l.line, v)
            })
            .collect()
    }

    #[test]
    fn one_number_per_line_with_comments_national_forms_and_bad_lines() {
        let text = "# opted out 2026\n\n07700 900123  # by phone\n+44 20 7946 0001\r\n\
                    0044 20 7946 0001\nabc\n020 7946\n";
        let list = read(text.as_bytes());
        assert_eq!(
            shown(&list),
            [
                (3, "+447700900123".to_owned()),
                (4, "+442079460001".to_owned()),
                (5, "dup 4".to_owned()),
                (6, "invalid number".to_owned()),
                (7, "invalid number".to_owned()),
            ]
        );
        let numbers: Vec<&str> = list.numbers().map(E164::as_str).collect();
        assert_eq!(numbers, ["+447700900123", "+442079460001"]);
    }

    #[test]
    fn a_csv_export_reads_its_number_column_and_ignores_the_others() {
        let text = "\u{feff}name;mobile;opted out\r\nAnn;07700 900123;2026-01-02\r\nBob;;x\r\n\
                    \"Cy; Jr\";+33 1 23 45 67 89;\r\n";
        let list = read(text.as_bytes());
        assert_eq!(
            shown(&list),
            [
                (2, "+447700900123".to_owned()),
                (3, "missing number".to_owned()),
                (4, "+33123456789".to_owned()),
            ]
        );
    }

    #[test]
    fn utf16_with_its_mark_reads_like_utf8() {
        let text = "phone\r\n07700 900123\r\n";
        let mut bytes = vec![0xFF, 0xFE];
        bytes.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        let list = read(&bytes);
        assert_eq!(shown(&list), [(2, "+447700900123".to_owned())]);
    }

    #[test]
    fn without_a_country_national_numbers_are_rejected_and_say_why() {
        let list = NumberList::from_texts(["07700 900123", "+442079460001", ""], &{
            ImportOptions { country: None }
        });
        let report = list.report(|n| n.as_str() == "+442079460001");
        assert_eq!(
            report.lines[0].verdict,
            DncVerdict::Rejected {
                input: "07700 900123".into(),
                reason: RejectReason::InvalidNumber {
                    detail: PhoneError::NoCountry
                },
                message: "invalid number: no country code and no default country".into(),
            }
        );
        assert_eq!(report.lines[2].line, 3);
        assert_eq!(
            report.summary.by_reason,
            [
                (ReasonKind::InvalidNumber, 1),
                (ReasonKind::MissingNumber, 1)
            ]
            .into()
        );
        assert_eq!((report.summary.added, report.summary.rejected), (1, 2));
    }

    #[test]
    fn the_report_says_which_numbers_were_listed_already() {
        let list = read(b"+442079460001\n+442079460002\n");
        let report = list.report(|n| n.as_str().ends_with('2'));
        let json = serde_json::to_value(&report).unwrap_or_default();
        assert_eq!(json["lines"][0]["verdict"], "already_listed", "{json}");
        assert_eq!(json["lines"][1]["verdict"], "added", "{json}");
        assert_eq!(json["lines"][1]["number"], "+442079460002", "{json}");
        assert_eq!(json["summary"]["already_listed"], 1, "{json}");
    }

    #[test]
    fn binary_or_empty_input_is_refused_whole() {
        assert!(NumberList::from_slice(b"\n \n", &gb()).is_err());
        assert!(NumberList::from_slice(b"+44\0", &gb()).is_err());
    }

    #[test]
    fn a_rejected_line_serializes_its_reason_and_input() {
        let report = read(b"12ab\n").report(|_| true);
        let json = serde_json::to_value(&report).unwrap_or_default();
        let line = &json["lines"][0];
        assert_eq!(line["verdict"], "rejected", "{json}");
        assert_eq!(line["reason"], "invalid_number", "{json}");
        assert_eq!(line["input"], "12ab", "{json}");
        assert_eq!(line["line"], 1, "{json}");
    }
}
