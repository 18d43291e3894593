//! The `collect` node: several digits into a variable.

use std::time::Duration;

use super::{is_identifier, menu_digit, ReadNumber, Reader};
use crate::condition::Pattern;
use crate::model::{Collect, Edge, DEFAULT_MENU_RETRIES, MAX_COLLECT_DIGITS, MAX_MENU_RETRIES};
use crate::yaml::{self, Key};

const COLLECT_KEYS: &[&str] = &[
    "prompt",
    "min_digits",
    "max_digits",
    "terminator",
    "timeout",
    "inter_digit_timeout",
    "pattern",
    "into",
    "retries",
    "invalid",
    "on_failure",
];

/// Default wait for the first digit.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
/// Default wait between digits.
const DEFAULT_INTER_DIGIT: Duration = Duration::from_secs(3);

impl Reader<'_, '_> {
    pub(super) fn collect(
        &mut self,
        read: &mut ReadNumber,
        from: &str,
        key: &Key,
        body: &yaml::Node,
        next: Option<String>,
    ) -> Option<Collect> {
        let what = format!("collect `{from}`");
        let fields = self.fields(
            body,
            &what,
            COLLECT_KEYS,
            "a mapping with `into`, `max_digits`, ...",
        )?;
        let prompts = match fields.get("prompt") {
            None => Some(Vec::new()),
            Some((_, v)) => self.prompts(read, v),
        };
        let invalid = fields
            .get("invalid")
            .and_then(|(_, v)| self.prompt(read, v));
        let min_digits = match fields.get("min_digits") {
            None => Some(1),
            Some((_, v)) => self.whole_number(v, "min_digits", 0..=MAX_COLLECT_DIGITS),
        };
        let max_digits = match fields.get("max_digits") {
            None => {
                self.diags.error(
                    key.pos,
                    format!("{what} has no `max_digits`: the most digits to take"),
                );
                None
            }
            Some((_, v)) => self.whole_number(v, "max_digits", 1..=MAX_COLLECT_DIGITS),
        };
        if let (Some(min), Some(max), Some((_, v))) =
            (min_digits, max_digits, fields.get("min_digits"))
        {
            if min > max {
                self.diags.error(
                    v.pos,
                    format!("min_digits {min} is more than max_digits {max}"),
                );
            }
        }
        let terminator = match fields.get("terminator") {
            None => Some(None),
            Some((_, v)) => {
                let text = self.text(v, "a key such as `#`")?;
                match menu_digit(&text) {
                    Some(c) => Some(Some(c)),
                    None => {
                        self.diags.error(
                            v.pos,
                            format!("bad terminator `{text}`: use a single 0-9, `*` or `#`"),
                        );
                        None
                    }
                }
            }
        };
        let timeout = match fields.get("timeout") {
            None => Some(DEFAULT_TIMEOUT),
            Some((_, v)) => self.timeout(v, "collect timeout"),
        };
        let inter_digit_timeout = match fields.get("inter_digit_timeout") {
            None => Some(DEFAULT_INTER_DIGIT),
            Some((_, v)) => self.timeout(v, "inter_digit_timeout"),
        };
        let pattern = match fields.get("pattern") {
            None => Some(None),
            Some((_, v)) => {
                let text = self.text(v, "a regular expression")?;
                match regex::Regex::new(&text) {
                    Ok(re) => Some(Some(Pattern(re))),
                    Err(error) => {
                        let detail = error.to_string();
                        let last = detail.lines().last().unwrap_or_default().trim().to_owned();
                        self.diags
                            .error(v.pos, format!("bad pattern `{text}`: {last}"));
                        None
                    }
                }
            }
        };
        let into = match fields.get("into") {
            None => {
                self.diags.error(
                    key.pos,
                    format!("{what} has no `into`: the variable that receives the digits"),
                );
                None
            }
            Some((_, v)) => self.variable_name(v),
        };
        let retries = match fields.get("retries") {
            None => Some(DEFAULT_MENU_RETRIES),
            Some((_, v)) => self.whole_number(v, "retries", 0..=MAX_MENU_RETRIES),
        };
        let on_failure = fields
            .get("on_failure")
            .and_then(|(_, v)| self.reference(read, from, Edge::Failure, v));
        Some(Collect {
            prompts: prompts?,
            min_digits: min_digits?,
            max_digits: max_digits?,
            terminator: terminator?,
            timeout: timeout?,
            inter_digit_timeout: inter_digit_timeout?,
            pattern: pattern?,
            into: into?,
            retries: retries?,
            invalid,
            next: next?,
            on_failure,
        })
    }

    /// A variable name: letters, digits, `_` and `-`.
    pub(super) fn variable_name(&mut self, value: &yaml::Node) -> Option<String> {
        let text = self.text(value, "a variable name")?;
        if is_identifier(&text) {
            Some(text)
        } else {
            self.diags.error(
                value.pos,
                format!("bad variable name `{text}`: use letters, digits, `_` and `-`"),
            );
            None
        }
    }
}
