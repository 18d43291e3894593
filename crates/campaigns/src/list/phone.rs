//! Phone numbers as people write them in lists (`138 0013 8000`, `(212) 555-0100`,
//! `+44 (0)20 7946 0000`, `0086-138...`) normalized to E.164 with a default country.
//!
//! The country table holds each country's calling code, trunk and international prefixes, and
//! the lengths and leading digits of its national significant numbers (the digits after the
//! country code), so a number that is too short, too long or starts wrongly is refused with a
//! reason instead of dialed. Numbers of countries outside the table are accepted in
//! international form with E.164's own length bounds.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::number::E164;

/// A country of the normalization table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Country {
    /// China (+86).
    CN,
    /// United States (+1, NANP).
    US,
    /// Canada (+1, NANP).
    CA,
    /// United Kingdom (+44).
    GB,
    /// Germany (+49).
    DE,
    /// France (+33).
    FR,
    /// Japan (+81).
    JP,
    /// India (+91).
    IN,
    /// Australia (+61).
    AU,
    /// Hong Kong (+852).
    HK,
    /// Singapore (+65).
    SG,
}

/// A country code that is not in the table.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown country {0:?} (known: CN, US, CA, GB, DE, FR, JP, IN, AU, HK, SG)")]
pub struct UnknownCountry(pub String);

impl FromStr for Country {
    type Err = UnknownCountry;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Ok(match text.trim().to_ascii_uppercase().as_str() {
            "CN" => Self::CN,
            "US" => Self::US,
            "CA" => Self::CA,
            "GB" | "UK" => Self::GB,
            "DE" => Self::DE,
            "FR" => Self::FR,
            "JP" => Self::JP,
            "IN" => Self::IN,
            "AU" => Self::AU,
            "HK" => Self::HK,
            "SG" => Self::SG,
            _ => return Err(UnknownCountry(text.to_owned())),
        })
    }
}

impl fmt::Display for Country {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// The numbering plan shared by the countries of one calling code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Plan {
    Nanp,
    China,
    Britain,
    Germany,
    France,
    Japan,
    India,
    Australia,
    HongKong,
    Singapore,
}

/// Calling code and plan of each plan, longest codes first so `852` is tried before `8x`.
const CODES: [(&str, Plan); 10] = [
    ("852", Plan::HongKong),
    ("86", Plan::China),
    ("44", Plan::Britain),
    ("49", Plan::Germany),
    ("33", Plan::France),
    ("81", Plan::Japan),
    ("91", Plan::India),
    ("61", Plan::Australia),
    ("65", Plan::Singapore),
    ("1", Plan::Nanp),
];

impl Country {
    fn plan(self) -> Plan {
        match self {
            Self::CN => Plan::China,
            Self::US | Self::CA => Plan::Nanp,
            Self::GB => Plan::Britain,
            Self::DE => Plan::Germany,
            Self::FR => Plan::France,
            Self::JP => Plan::Japan,
            Self::IN => Plan::India,
            Self::AU => Plan::Australia,
            Self::HK => Plan::HongKong,
            Self::SG => Plan::Singapore,
        }
    }

    /// The country calling code, without `+`.
    pub fn calling_code(self) -> &'static str {
        self.plan().code()
    }

    /// The prefixes dialed before an international number from this country.
    pub fn international_prefixes(self) -> &'static [&'static str] {
        match self.plan() {
            Plan::Nanp => &["011"],
            Plan::Japan => &["010"],
            Plan::Australia => &["0011"],
            Plan::HongKong | Plan::Singapore => &["001"],
            _ => &["00"],
        }
    }
}

impl Plan {
    fn code(self) -> &'static str {
        CODES
            .iter()
            .find(|(_, p)| *p == self)
            .map_or("", |(code, _)| code)
    }

    /// The name in messages.
    fn label(self) -> &'static str {
        match self {
            Self::Nanp => "NANP",
            Self::China => "CN",
            Self::Britain => "GB",
            Self::Germany => "DE",
            Self::France => "FR",
            Self::Japan => "JP",
            Self::India => "IN",
            Self::Australia => "AU",
            Self::HongKong => "HK",
            Self::Singapore => "SG",
        }
    }

    /// The digit dialed before a national number inside the country (`0`; NANP's `1`).
    fn trunk_prefix(self) -> Option<char> {
        match self {
            Self::Nanp => Some('1'),
            Self::HongKong | Self::Singapore => None,
            _ => Some('0'),
        }
    }

    /// The single IANA zone of the plan's country, if it has one.
    fn zone(self) -> Option<&'static str> {
        match self {
            Self::China => Some("Asia/Shanghai"),
            Self::Britain => Some("Europe/London"),
            Self::Germany => Some("Europe/Berlin"),
            Self::France => Some("Europe/Paris"),
            Self::Japan => Some("Asia/Tokyo"),
            Self::India => Some("Asia/Kolkata"),
            Self::HongKong => Some("Asia/Hong_Kong"),
            Self::Singapore => Some("Asia/Singapore"),
            // The US, Canada and Australia span several zones.
            Self::Nanp | Self::Australia => None,
        }
    }

    /// Checks a national significant number (the digits after the country code).
    fn check(self, nsn: &str) -> Result<(), NumberProblem> {
        let len = nsn.len();
        let first = nsn.as_bytes().first().copied().unwrap_or(b'0');
        let length = |min: usize, max: usize, kind: &'static str| {
            if len < min {
                Err(NumberProblem::TooShort {
                    digits: len,
                    min,
                    kind,
                })
            } else if len > max {
                Err(NumberProblem::TooLong {
                    digits: len,
                    max,
                    kind,
                })
            } else {
                Ok(())
            }
        };
        let starts = |ok: bool, expected: &'static str| {
            if ok {
                Ok(())
            } else {
                Err(NumberProblem::BadStart { expected })
            }
        };
        match self {
            Self::China => {
                if nsn.starts_with("10") {
                    // Beijing's area code 10, then 8 digits.
                    length(10, 10, "Beijing landline")
                } else if first == b'1' {
                    length(11, 11, "mobile")?;
                    starts(
                        matches!(nsn.as_bytes()[1], b'3'..=b'9'),
                        "a mobile number with 13-19",
                    )
                } else if first == b'2' {
                    length(10, 10, "landline")
                } else {
                    starts(first != b'0', "an area code 1-9")?;
                    length(10, 11, "landline")
                }
            }
            Self::Nanp => {
                length(10, 10, "NANP number")?;
                let b = nsn.as_bytes();
                starts(
                    matches!(b[0], b'2'..=b'9') && b[1] != b'9' && !(b[1] == b'1' && b[2] == b'1'),
                    "an area code 2-9, not N11 or N9X",
                )?;
                starts(
                    matches!(b[3], b'2'..=b'9') && !(b[4] == b'1' && b[5] == b'1'),
                    "an exchange code 2-9, not N11",
                )
            }
            Self::Britain => {
                starts(
                    matches!(first, b'1' | b'2' | b'3' | b'5' | b'7' | b'8' | b'9'),
                    "1, 2, 3, 5, 7, 8 or 9 after the trunk 0",
                )?;
                if first == b'7' {
                    length(10, 10, "mobile")
                } else {
                    length(9, 10, "number")
                }
            }
            Self::Germany => {
                starts(first != b'0', "an area code 1-9")?;
                if matches!(nsn.get(..2), Some("15" | "16" | "17")) {
                    length(10, 11, "mobile")
                } else {
                    length(6, 11, "number")
                }
            }
            Self::France => {
                starts(first != b'0', "1-9 after the trunk 0")?;
                length(9, 9, "number")
            }
            Self::Japan => {
                starts(first != b'0', "1-9 after the trunk 0")?;
                if matches!(nsn.get(..2), Some("50" | "70" | "80" | "90")) {
                    length(10, 10, "mobile or IP")
                } else {
                    length(9, 9, "landline")
                }
            }
            Self::India => {
                starts(first != b'0', "1-9 after the trunk 0")?;
                length(10, 10, "number")
            }
            Self::Australia => {
                starts(
                    matches!(first, b'2' | b'3' | b'4' | b'7' | b'8'),
                    "2, 3, 4, 7 or 8 after the trunk 0",
                )?;
                length(9, 9, "number")
            }
            Self::HongKong => {
                starts(
                    matches!(first, b'2' | b'3' | b'5' | b'6' | b'7' | b'9'),
                    "2, 3, 5, 6, 7 or 9",
                )?;
                length(8, 8, "number")
            }
            Self::Singapore => {
                starts(matches!(first, b'3' | b'6' | b'8' | b'9'), "3, 6, 8 or 9")?;
                length(8, 8, "number")
            }
        }
    }
}

/// What is wrong with the digits of a number in a known country.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum NumberProblem {
    /// Fewer digits than such a number has.
    TooShort {
        /// Digits after the country code.
        digits: usize,
        /// The fewest allowed.
        min: usize,
        /// Which kind of number the leading digits say it is.
        kind: &'static str,
    },
    /// More digits than such a number has.
    TooLong {
        /// Digits after the country code.
        digits: usize,
        /// The most allowed.
        max: usize,
        /// Which kind of number the leading digits say it is.
        kind: &'static str,
    },
    /// Leading digits no number of the country has.
    BadStart {
        /// What it should start with.
        expected: &'static str,
    },
}

impl fmt::Display for NumberProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooShort { digits, min, kind } => {
                write!(f, "too short: {digits} digits, a {kind} has at least {min}")
            }
            Self::TooLong { digits, max, kind } => {
                write!(f, "too long: {digits} digits, a {kind} has at most {max}")
            }
            Self::BadStart { expected } => write!(f, "must start with {expected}"),
        }
    }
}

/// Why a written number cannot be dialed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PhoneError {
    /// Nothing but separators.
    #[error("no digits")]
    NoDigits,
    /// An extension (`x123`, `ext. 12`, `#12`, `转12`, a pause `,`) that the dialer cannot
    /// reach.
    #[error("has an extension, which cannot be dialed")]
    Extension,
    /// A spreadsheet turned it into a number in scientific notation (`1.38E+10`): digits are
    /// lost.
    #[error("written in scientific notation by a spreadsheet: digits are lost")]
    ScientificNotation,
    /// A letter or symbol that is not part of a number.
    #[error("contains {found:?}, not a digit or separator")]
    BadCharacter {
        /// The first such character.
        found: char,
    },
    /// A `+` that is not at the start.
    #[error("has a '+' inside")]
    MisplacedPlus,
    /// A national number (no `+` or international prefix) and no default country.
    #[error("no country code and no default country")]
    NoCountry,
    /// Not a number of its country.
    #[error("not a {country} number: {problem}")]
    Invalid {
        /// The country (or NANP) it was read in.
        country: &'static str,
        /// What is wrong.
        problem: NumberProblem,
    },
    /// An international number outside the table with fewer than 7 or more than 15 digits.
    #[error("an international number has 7 to 15 digits, this one {digits}")]
    BadLength {
        /// Its digits, country code included.
        digits: usize,
    },
}

/// Normalizes `text` to E.164, reading a number without `+` or international prefix as a
/// national number of `default` (with or without its trunk prefix).
pub fn normalize(text: &str, default: Option<Country>) -> Result<E164, PhoneError> {
    let as_written = normalize_compact(&compact(text)?, default);
    // A spreadsheet or script that read the column as a float appends ".0"; only when the
    // dot read as a separator gives no number (`2000000.0` is Hong Kong's 2000 0000).
    match (&as_written, text.trim().strip_suffix(".0")) {
        (Err(_), Some(head)) if !head.is_empty() && head.chars().all(|c| c.is_ascii_digit()) => {
            normalize_compact(head, default).or(as_written)
        }
        _ => as_written,
    }
}

fn normalize_compact(compact: &str, default: Option<Country>) -> Result<E164, PhoneError> {
    let e164 = if let Some(international) = compact.strip_prefix('+') {
        international_number(international)?
    } else if let Some(country) = default {
        let international = country
            .international_prefixes()
            .iter()
            .find_map(|prefix| compact.strip_prefix(prefix));
        match international {
            Some(rest) => international_number(rest)?,
            None => national_number(compact, country)?,
        }
    } else {
        return Err(PhoneError::NoCountry);
    };
    // The checks above keep to E.164's shape; parse once more so the type's own rule holds.
    E164::parse(&e164).map_err(|_| PhoneError::BadLength {
        digits: e164.len().saturating_sub(1),
    })
}

/// The single IANA zone of the country `number` belongs to; None for countries of several
/// zones (US, Canada, Australia) and countries outside the table.
pub fn country_zone(number: &E164) -> Option<&'static str> {
    let digits = number.as_str().strip_prefix('+')?;
    CODES
        .iter()
        .find(|(code, _)| digits.starts_with(code))
        .and_then(|(_, plan)| plan.zone())
}

/// Digits with an optional leading `+`: separators dropped, full-width forms folded,
/// extensions and spreadsheet damage refused.
fn compact(text: &str) -> Result<String, PhoneError> {
    let text = text.trim().trim_start_matches('\'');
    let has = |letter: u8| text.bytes().any(|b| b.eq_ignore_ascii_case(&letter));
    // `x12`, `ext 12`, `ext. 12`.
    if has(b'x') || text.contains('#') || text.contains('转') {
        return Err(PhoneError::Extension);
    }
    if has(b'e') && text.chars().any(|c| c.is_ascii_digit()) {
        let lower = text.to_ascii_lowercase();
        let mantissa_exponent = lower.split_once('e').is_some_and(|(m, e)| {
            !m.is_empty()
                && m.chars().all(|c| c.is_ascii_digit() || c == '.')
                && e.trim_start_matches(['+', '-'])
                    .chars()
                    .all(|c| c.is_ascii_digit())
                && !e.is_empty()
        });
        if mantissa_exponent {
            return Err(PhoneError::ScientificNotation);
        }
    }
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let c = fold_width(c);
        match c {
            '0'..='9' => out.push(c),
            '+' if out.is_empty() => out.push('+'),
            '+' => return Err(PhoneError::MisplacedPlus),
            ',' | ';' | 'p' | 'w' => return Err(PhoneError::Extension),
            ' ' | '-' | '.' | '(' | ')' | '/' | '\u{a0}' | '\t' | '\u{2010}'..='\u{2015}' => {}
            found => return Err(PhoneError::BadCharacter { found }),
        }
    }
    if !out.chars().any(|c| c.is_ascii_digit()) {
        return Err(PhoneError::NoDigits);
    }
    Ok(out)
}

/// Full-width digits, plus, parentheses and space (common in lists typed with a CJK input
/// method) as their ASCII forms.
fn fold_width(c: char) -> char {
    match c {
        '０'..='９' => char::from(b'0' + (c as u32 - '０' as u32) as u8),
        '＋' => '+',
        '（' => '(',
        '）' => ')',
        '－' => '-',
        '\u{3000}' => ' ',
        other => other,
    }
}

/// `+` and the digits of an international number (country code first).
fn international_number(digits: &str) -> Result<String, PhoneError> {
    let Some((code, plan)) = CODES.iter().find(|(code, _)| digits.starts_with(code)) else {
        if !(7..=15).contains(&digits.len()) || digits.starts_with('0') {
            return Err(PhoneError::BadLength {
                digits: digits.len(),
            });
        }
        return Ok(format!("+{digits}"));
    };
    let mut nsn = &digits[code.len()..];
    // `+44 (0)20 ...`: the trunk prefix written inside an international number.
    if plan.trunk_prefix() == Some('0') {
        if let Some(rest) = nsn.strip_prefix('0') {
            nsn = rest;
        }
    }
    checked(*plan, nsn)
}

/// A national number of `country`, with or without its trunk prefix; a number that already
/// starts with the country code (`8613800138000`, a `+` or `00` lost) is read as such when
/// it does not fit as a national number.
fn national_number(digits: &str, country: Country) -> Result<String, PhoneError> {
    let plan = country.plan();
    let nsn = match plan.trunk_prefix() {
        Some(trunk) => digits.strip_prefix(trunk).unwrap_or(digits),
        None => digits,
    };
    match plan.check(nsn) {
        Ok(()) => Ok(format!("+{}{nsn}", plan.code())),
        Err(problem) => {
            if let Some(rest) = digits.strip_prefix(plan.code()) {
                if plan.check(rest).is_ok() {
                    return Ok(format!("+{}{rest}", plan.code()));
                }
            }
            Err(PhoneError::Invalid {
                country: plan.label(),
                problem,
            })
        }
    }
}

fn checked(plan: Plan, nsn: &str) -> Result<String, PhoneError> {
    plan.check(nsn)
        .map(|()| format!("+{}{nsn}", plan.code()))
        .map_err(|problem| PhoneError::Invalid {
            country: plan.label(),
            problem,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str, country: Option<Country>) -> String {
        normalize(text, country)
            .map(|n| n.to_string())
            .unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    #[test]
    fn chinese_mobiles_and_landlines_in_their_usual_forms() {
        let cn = Some(Country::CN);
        for text in [
            "13800138000",
            "138 0013 8000",
            "138-0013-8000",
            "+86 138 0013 8000",
            "0086 13800138000",
            "8613800138000",
            "'13800138000",
            "13800138000.0",
            "１３８００１３８０００",
            "＋86 138-0013-8000",
        ] {
            assert_eq!(ok(text, cn), "+8613800138000", "{text}");
        }
        assert_eq!(ok("010-12345678", cn), "+861012345678");
        assert_eq!(ok("(021) 6234 5678", cn), "+862162345678");
        assert_eq!(ok("0755-12345678", cn), "+8675512345678");
        assert_eq!(ok("0571 8888888", cn), "+865718888888");
    }

    #[test]
    fn wrong_lengths_say_how_many_digits_and_what_was_expected() {
        let cn = Some(Country::CN);
        let e = normalize("1380013800", cn).map_err(|e| e.to_string());
        assert_eq!(
            e,
            Err("not a CN number: too short: 10 digits, a mobile has at least 11".into())
        );
        let e = normalize("138001380001", cn).map_err(|e| e.to_string());
        assert_eq!(
            e,
            Err("not a CN number: too long: 12 digits, a mobile has at most 11".into())
        );
        assert!(matches!(
            normalize("12800138000", cn),
            Err(PhoneError::Invalid {
                problem: NumberProblem::BadStart { .. },
                ..
            })
        ));
        assert!(matches!(
            normalize("+44 20 7946 00", None),
            Err(PhoneError::Invalid {
                problem: NumberProblem::TooShort { .. },
                ..
            })
        ));
    }

    #[test]
    fn nanp_numbers_with_and_without_the_trunk_one() {
        let us = Some(Country::US);
        for text in [
            "(212) 555-0100",
            "212.555.0100",
            "1-212-555-0100",
            "+1 212 555 0100",
        ] {
            assert_eq!(ok(text, us), "+12125550100", "{text}");
        }
        assert_eq!(ok("011 44 20 7946 0000", us), "+442079460000");
        assert!(normalize("(911) 555-0100", us).is_err());
        assert!(normalize("(212) 155-0100", us).is_err());
        assert_eq!(ok("416-555-0199", Some(Country::CA)), "+14165550199");
    }

    #[test]
    fn european_and_asian_numbers() {
        assert_eq!(ok("020 7946 0000", Some(Country::GB)), "+442079460000");
        assert_eq!(ok("07911 123456", Some(Country::GB)), "+447911123456");
        assert_eq!(ok("+44 (0)20 7946 0000", None), "+442079460000");
        assert_eq!(ok("030 1234567", Some(Country::DE)), "+49301234567");
        assert_eq!(ok("0151 23456789", Some(Country::DE)), "+4915123456789");
        assert_eq!(ok("01 23 45 67 89", Some(Country::FR)), "+33123456789");
        assert_eq!(ok("06.12.34.56.78", Some(Country::FR)), "+33612345678");
        assert_eq!(ok("03-1234-5678", Some(Country::JP)), "+81312345678");
        assert_eq!(ok("090-1234-5678", Some(Country::JP)), "+819012345678");
        assert_eq!(
            ok("010 86 138 0013 8000", Some(Country::JP)),
            "+8613800138000"
        );
        assert_eq!(ok("098765 43210", Some(Country::IN)), "+919876543210");
        assert_eq!(ok("0412 345 678", Some(Country::AU)), "+61412345678");
        assert_eq!(
            ok("0011 86 13800138000", Some(Country::AU)),
            "+8613800138000"
        );
        assert_eq!(ok("9123 4567", Some(Country::HK)), "+85291234567");
        // A dot before the last digit is a separator when that makes a number.
        assert_eq!(ok("2000000.0", Some(Country::HK)), "+85220000000");
        assert_eq!(ok("001 65 9123 4567", Some(Country::HK)), "+6591234567");
        // A country outside the table, in international form.
        assert_eq!(ok("+7 495 123-45-67", Some(Country::CN)), "+74951234567");
    }

    #[test]
    fn extensions_letters_and_spreadsheet_damage_are_refused() {
        let cn = Some(Country::CN);
        for text in [
            "010-12345678 ext 12",
            "010-12345678x12",
            "010-12345678#12",
            "010-12345678转123",
            "010-12345678,12",
        ] {
            assert_eq!(normalize(text, cn), Err(PhoneError::Extension), "{text}");
        }
        assert_eq!(
            normalize("1.38001E+10", cn),
            Err(PhoneError::ScientificNotation)
        );
        assert_eq!(
            normalize("1-800-FLOWERS", Some(Country::US)),
            Err(PhoneError::BadCharacter { found: 'F' })
        );
        assert_eq!(normalize("--", cn), Err(PhoneError::NoDigits));
        assert_eq!(normalize("138+0013", cn), Err(PhoneError::MisplacedPlus));
        assert_eq!(normalize("13800138000", None), Err(PhoneError::NoCountry));
        assert_eq!(
            normalize("+99912", None),
            Err(PhoneError::BadLength { digits: 5 })
        );
    }

    #[test]
    fn zones_come_from_countries_with_one_zone() {
        let zone = |t: &str| country_zone(&E164::parse(t).unwrap_or_else(|e| panic!("{e}")));
        assert_eq!(zone("+8613800138000"), Some("Asia/Shanghai"));
        assert_eq!(zone("+442079460000"), Some("Europe/London"));
        assert_eq!(zone("+85291234567"), Some("Asia/Hong_Kong"));
        assert_eq!(zone("+12125550100"), None);
        assert_eq!(zone("+61412345678"), None);
        assert_eq!(zone("+74951234567"), None);
    }
}
