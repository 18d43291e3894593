//! Caller numbers in E.164 (`+8613800000000`), so lists and conditions compare like with like
//! whatever form the caller's network sends (`013800000000`, `008613800000000`, `138 0000 0000`).

use std::collections::BTreeSet;
use std::fmt;

/// A country calling code (`86` for China, `1` for North America, `44` for the UK): numbers
/// written without `+` are read in its numbering plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CountryCode(u16);

impl CountryCode {
    /// The code hotline assumes when none is configured (`86`, the bundled hotline's country).
    pub const DEFAULT: CountryCode = CountryCode(86);

    /// A calling code of one to three digits (1-999).
    pub fn new(code: u16) -> Option<CountryCode> {
        (1..=999).contains(&code).then_some(CountryCode(code))
    }

    /// Reads `86`, `+86` or `1`.
    pub fn parse(text: &str) -> Option<CountryCode> {
        let digits = text.trim().trim_start_matches('+');
        if digits.is_empty() || digits.len() > 3 || !digits.chars().all(|c| c.is_ascii_digit()) {
            return None;
        }
        digits.parse().ok().and_then(CountryCode::new)
    }

    /// The code as a number.
    pub fn code(self) -> u16 {
        self.0
    }
}

impl Default for CountryCode {
    fn default() -> Self {
        CountryCode::DEFAULT
    }
}

impl fmt::Display for CountryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "+{}", self.0)
    }
}

/// Why a number has no E.164 form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum E164Error {
    /// Letters or symbols other than separators (a SIP user name such as `alice`).
    #[error("`{0}` is not a phone number")]
    NotANumber(String),
    /// Fewer than 7 digits: an extension or a service code, not a subscriber number.
    #[error("`{0}` is too short for a phone number")]
    TooShort(String),
    /// More than the 15 digits E.164 allows.
    #[error("`{0}` has more than 15 digits")]
    TooLong(String),
}

/// Fewest digits of a national number (shorter ones are extensions or service codes).
const MIN_NATIONAL_DIGITS: usize = 7;
/// Most digits of an E.164 number, country code included.
const MAX_E164_DIGITS: usize = 15;

/// The E.164 form of `raw`, reading national forms in `country`'s numbering plan.
///
/// Separators (space, `-`, `.`, `(`, `)`) are dropped. `+...` is kept; `00...` (and `011...` in
/// North America) is the international prefix; a leading `0` is the national trunk prefix; a
/// number without either is a national number. In North America (`1`), ten digits are a
/// national number and eleven starting with `1` already carry the country code.
pub fn normalize(raw: &str, country: CountryCode) -> Result<String, E164Error> {
    let cleaned: String = raw
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')'))
        .collect();
    let (plus, digits) = match cleaned.strip_prefix('+') {
        Some(rest) => (true, rest),
        None => (false, cleaned.as_str()),
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err(E164Error::NotANumber(raw.to_owned()));
    }
    let cc = country.code().to_string();
    let international = if plus {
        digits.to_owned()
    } else if let Some(rest) = digits.strip_prefix("00") {
        rest.to_owned()
    } else if let (1, Some(rest)) = (country.code(), digits.strip_prefix("011")) {
        rest.to_owned()
    } else if country.code() == 1 && digits.len() == 11 && digits.starts_with('1') {
        digits.to_owned()
    } else {
        let national = match country.code() {
            1 => digits,
            _ => digits.strip_prefix('0').unwrap_or(digits),
        };
        if national.len() < MIN_NATIONAL_DIGITS {
            return Err(E164Error::TooShort(raw.to_owned()));
        }
        format!("{cc}{national}")
    };
    if international.len() < MIN_NATIONAL_DIGITS {
        return Err(E164Error::TooShort(raw.to_owned()));
    }
    if international.len() > MAX_E164_DIGITS {
        return Err(E164Error::TooLong(raw.to_owned()));
    }
    Ok(format!("+{international}"))
}

/// The form a caller number is compared in: E.164 when it has one, else as sent (an extension
/// or a SIP user name still matches a condition written the same way).
pub fn comparable(raw: &str, country: CountryCode) -> String {
    normalize(raw, country).unwrap_or_else(|_| raw.trim().to_owned())
}

/// A named list of numbers (`lists:`), each stored in E.164.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NumberList {
    numbers: BTreeSet<String>,
}

impl NumberList {
    /// A list of numbers already in E.164.
    pub fn new(numbers: BTreeSet<String>) -> NumberList {
        NumberList { numbers }
    }

    /// Whether the list holds this E.164 number.
    pub fn contains(&self, e164: &str) -> bool {
        self.numbers.contains(e164)
    }

    /// The numbers, sorted.
    pub fn numbers(&self) -> impl Iterator<Item = &str> + '_ {
        self.numbers.iter().map(String::as_str)
    }

    /// How many numbers the list holds.
    pub fn len(&self) -> usize {
        self.numbers.len()
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.numbers.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn country_codes_are_one_to_three_digits() {
        assert_eq!(CountryCode::parse("+86").map(CountryCode::code), Some(86));
        assert_eq!(CountryCode::parse("1").map(CountryCode::code), Some(1));
        for bad in ["", "0", "1000", "cn", "+"] {
            assert_eq!(CountryCode::parse(bad), None, "{bad}");
        }
    }
}
