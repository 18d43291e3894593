//! Caller numbers are personal data: logs show them through [`CallerNumber`], which redacts them
//! unless the operator configured otherwise.

use std::fmt;

/// A caller number or URI user part for logs.
pub struct CallerNumber<'a> {
    value: &'a str,
    redact: bool,
}

impl<'a> CallerNumber<'a> {
    /// Wraps a number; `redact` comes from `logging.redact_caller_numbers`.
    pub fn new(value: &'a str, redact: bool) -> Self {
        Self { value, redact }
    }
}

impl fmt::Display for CallerNumber<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.redact {
            return f.write_str(self.value);
        }
        // Keep the last two characters so support can correlate without exposing the number.
        let n = self.value.chars().count();
        if n <= 2 {
            return f.write_str("**");
        }
        let tail: String = self.value.chars().skip(n - 2).collect();
        write!(f, "{}{}", "*".repeat(n.min(12) - 2), tail)
    }
}

impl fmt::Debug for CallerNumber<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_all_but_the_last_two() {
        assert_eq!(CallerNumber::new("5551234", true).to_string(), "*****34");
        assert_eq!(CallerNumber::new("5551234", false).to_string(), "5551234");
        assert_eq!(CallerNumber::new("1", true).to_string(), "**");
    }
}
