//! Phone numbers in E.164 form, redacted in logs.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A number in E.164 form: `+`, then 2 to 15 digits, the first not 0.
///
/// Personal data: `Debug` and [`E164::redacted`] show only the country prefix and the last two
/// digits; `Display` and serde give the whole number (the driver dials it and a restart must
/// know it).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct E164(String);

/// Why a number is not in E.164 form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NumberError {
    /// It does not start with `+`.
    #[error("an E.164 number starts with '+'")]
    NoPlus,
    /// A character other than a digit follows the `+`.
    #[error("an E.164 number has only digits after '+'")]
    NotDigits,
    /// Fewer than 2 or more than 15 digits, or a leading 0.
    #[error("an E.164 number has 2 to 15 digits, the first not 0")]
    BadLength,
}

impl E164 {
    /// Reads `+8613800138000`; spaces, dashes, dots and parentheses are dropped first.
    pub fn parse(text: &str) -> Result<Self, NumberError> {
        let compact: String = text
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')'))
            .collect();
        let digits = compact.strip_prefix('+').ok_or(NumberError::NoPlus)?;
        if !digits.chars().all(|c| c.is_ascii_digit()) {
            return Err(NumberError::NotDigits);
        }
        if !(2..=15).contains(&digits.len()) || digits.starts_with('0') {
            return Err(NumberError::BadLength);
        }
        Ok(Self(compact))
    }

    /// The number with its `+`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A form safe for logs: `+86*********00`.
    pub fn redacted(&self) -> Redacted<'_> {
        Redacted(self)
    }
}

/// A number shown without its middle digits (see [`E164::redacted`]).
pub struct Redacted<'a>(&'a E164);

impl fmt::Display for Redacted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = &self.0 .0;
        let keep_head = 3.min(text.len());
        let keep_tail = 2.min(text.len() - keep_head);
        let hidden = text.len() - keep_head - keep_tail;
        write!(
            f,
            "{}{}{}",
            &text[..keep_head],
            "*".repeat(hidden),
            &text[text.len() - keep_tail..]
        )
    }
}

impl fmt::Debug for E164 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "E164({})", self.redacted())
    }
}

impl fmt::Display for E164 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for E164 {
    type Err = NumberError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

impl Serialize for E164 {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for E164 {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_in_e164_form_only() {
        assert_eq!(
            E164::parse("+86 138-0013-8000").map(|n| n.to_string()),
            Ok("+8613800138000".to_owned())
        );
        assert_eq!(E164::parse("13800138000"), Err(NumberError::NoPlus));
        assert_eq!(E164::parse("+86a"), Err(NumberError::NotDigits));
        assert_eq!(E164::parse("+0123"), Err(NumberError::BadLength));
        assert_eq!(
            E164::parse("+1234567890123456"),
            Err(NumberError::BadLength)
        );
        assert_eq!(E164::parse("+"), Err(NumberError::BadLength));
    }

    #[test]
    fn debug_and_redacted_hide_the_middle_digits() {
        let n = E164::parse("+8613800138000").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(n.redacted().to_string(), "+86*********00");
        assert_eq!(format!("{n:?}"), "E164(+86*********00)");
        let short = E164::parse("+12").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(short.redacted().to_string(), "+12");
    }
}
