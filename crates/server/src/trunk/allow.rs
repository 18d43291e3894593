//! The toll-fraud allow-list of a trunk: which E.164 numbers a transfer may dial through it.
//!
//! A pattern is written in E.164 and read left to right:
//!
//! - `+` first, then digits that must match exactly;
//! - `X` (or `x`) matches any one digit;
//! - a `*` at the very end matches any number of further digits (none included).
//!
//! `+86XXXXXXXXXXX` allows every Chinese number of eleven national digits, `+8610*` every
//! number in Beijing, `+8613800138000` that one number. A number no pattern matches is refused,
//! and an empty list refuses everything.

use std::fmt;

/// Why an allow-list pattern is not valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatternError {
    /// The pattern does not start with `+`.
    #[error("pattern {0:?} must start with + (E.164)")]
    NoPlus(String),
    /// A character other than a digit, `X` or a final `*`.
    #[error(
        "pattern {0:?}: only digits, X (any digit) and a final * (any further digits) are allowed"
    )]
    BadCharacter(String),
    /// `+` alone, or `+*`: it would allow every number.
    #[error("pattern {0:?} allows every number: name at least a country code")]
    TooBroad(String),
    /// More than the 15 digits E.164 allows.
    #[error("pattern {0:?} is longer than an E.164 number (15 digits)")]
    TooLong(String),
}

/// One element of a pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Element {
    Digit(u8),
    AnyDigit,
}

/// One parsed allow-list pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NumberPattern {
    text: String,
    elements: Vec<Element>,
    /// A final `*`: any further digits.
    open: bool,
}

/// Most digits of an E.164 number.
const MAX_DIGITS: usize = 15;

impl NumberPattern {
    /// Parses one pattern (see the module documentation).
    pub fn parse(text: &str) -> Result<NumberPattern, PatternError> {
        let t = text.trim();
        let body = t
            .strip_prefix('+')
            .ok_or_else(|| PatternError::NoPlus(t.to_owned()))?;
        let (body, open) = match body.strip_suffix('*') {
            Some(rest) => (rest, true),
            None => (body, false),
        };
        let mut elements = Vec::with_capacity(body.len());
        for c in body.chars() {
            elements.push(match c {
                '0'..='9' => Element::Digit(c as u8 - b'0'),
                'X' | 'x' => Element::AnyDigit,
                _ => return Err(PatternError::BadCharacter(t.to_owned())),
            });
        }
        if elements.is_empty() || elements[0] == Element::AnyDigit {
            return Err(PatternError::TooBroad(t.to_owned()));
        }
        if elements.len() > MAX_DIGITS {
            return Err(PatternError::TooLong(t.to_owned()));
        }
        Ok(NumberPattern {
            text: t.to_owned(),
            elements,
            open,
        })
    }

    /// Whether `e164` (`+` and digits) matches.
    pub fn matches(&self, e164: &str) -> bool {
        let Some(digits) = e164.strip_prefix('+') else {
            return false;
        };
        let digits = digits.as_bytes();
        if !digits.iter().all(u8::is_ascii_digit) {
            return false;
        }
        let fits = if self.open {
            digits.len() >= self.elements.len()
        } else {
            digits.len() == self.elements.len()
        };
        fits && self.elements.iter().zip(digits).all(|(e, d)| match e {
            Element::AnyDigit => true,
            Element::Digit(want) => d - b'0' == *want,
        })
    }
}

impl fmt::Display for NumberPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// A trunk's allow-list: a number may be dialed when any pattern matches it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowList {
    patterns: Vec<NumberPattern>,
}

impl AllowList {
    /// Parses every pattern; the first bad one is the error.
    pub fn parse<S: AsRef<str>>(patterns: &[S]) -> Result<AllowList, PatternError> {
        Ok(AllowList {
            patterns: patterns
                .iter()
                .map(|p| NumberPattern::parse(p.as_ref()))
                .collect::<Result<_, _>>()?,
        })
    }

    /// Whether `e164` may be dialed (never, with an empty list).
    pub fn allows(&self, e164: &str) -> bool {
        self.patterns.iter().any(|p| p.matches(e164))
    }

    /// The patterns, in the order written.
    pub fn patterns(&self) -> &[NumberPattern] {
        &self.patterns
    }

    /// Number of patterns.
    pub fn len(&self) -> usize {
        self.patterns.len()
    }

    /// Whether the list has no pattern (and so refuses everything).
    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(p: &[&str]) -> AllowList {
        AllowList::parse(p).unwrap()
    }

    #[test]
    fn fixed_length_pattern_matches_exactly_that_many_digits() {
        let l = list(&["+86XXXXXXXXXXX"]);
        assert!(l.allows("+8613800138000"));
        assert!(!l.allows("+861380013800"));
        assert!(!l.allows("+86138001380001"));
        assert!(!l.allows("+8513800138000"));
    }

    #[test]
    fn open_pattern_matches_its_prefix_and_anything_after() {
        let l = list(&["+8610*"]);
        assert!(l.allows("+8610"));
        assert!(l.allows("+861012345678"));
        assert!(!l.allows("+862112345678"));
    }

    #[test]
    fn empty_list_refuses_everything() {
        let l = AllowList::default();
        assert!(l.is_empty());
        assert!(!l.allows("+8613800138000"));
    }

    #[test]
    fn numbers_not_in_e164_never_match() {
        let l = list(&["+86*"]);
        assert!(!l.allows("8613800138000"));
        assert!(!l.allows("+86138a"));
        assert!(!l.allows(""));
    }

    #[test]
    fn bad_patterns_are_refused_with_a_reason() {
        assert!(matches!(
            NumberPattern::parse("86*"),
            Err(PatternError::NoPlus(_))
        ));
        assert!(matches!(
            NumberPattern::parse("+86?"),
            Err(PatternError::BadCharacter(_))
        ));
        assert!(matches!(
            NumberPattern::parse("+8*6"),
            Err(PatternError::BadCharacter(_))
        ));
        assert!(matches!(
            NumberPattern::parse("+*"),
            Err(PatternError::TooBroad(_))
        ));
        assert!(matches!(
            NumberPattern::parse("+X*"),
            Err(PatternError::TooBroad(_))
        ));
        assert!(matches!(
            NumberPattern::parse("+1234567890123456"),
            Err(PatternError::TooLong(_))
        ));
        assert_eq!(
            NumberPattern::parse("+8610*").unwrap().to_string(),
            "+8610*"
        );
    }
}
