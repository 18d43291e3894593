//! The `menu` node: one digit, options, retries and the prompts around them.

use std::collections::BTreeMap;
use std::time::Duration;

use super::{menu_digit, ReadNumber, Reader};
use crate::duration::{format_duration, parse_duration};
use crate::model::{
    Edge, Menu, DEFAULT_MENU_RETRIES, DEFAULT_MENU_TIMEOUT, MAX_MENU_RETRIES, MAX_MENU_TIMEOUT,
    MIN_MENU_TIMEOUT,
};
use crate::yaml::{self, Key, Value};

pub(super) const MENU_KEYS: &[&str] = &[
    "prompt",
    "timeout",
    "retries",
    "options",
    "default",
    "invalid",
    "timeout_prompt",
    "on_timeout",
    "on_failure",
];

impl Reader<'_, '_> {
    pub(super) fn menu(
        &mut self,
        read: &mut ReadNumber,
        from: &str,
        key: &Key,
        body: &yaml::Node,
    ) -> Option<Menu> {
        let what = format!("menu `{from}`");
        let fields = self.fields(
            body,
            &what,
            MENU_KEYS,
            "a mapping with `prompt`, `options`, ...",
        )?;
        let prompts = match fields.get("prompt") {
            None => Some(Vec::new()),
            Some((_, v)) => self.prompts(read, v),
        };
        let invalid = fields
            .get("invalid")
            .and_then(|(_, v)| self.prompt(read, v));
        let timeout_prompt = fields
            .get("timeout_prompt")
            .and_then(|(_, v)| self.prompt(read, v));
        // Keep reading after a bad value so every error in the menu is reported.
        let timeout = match fields.get("timeout") {
            None => Some(DEFAULT_MENU_TIMEOUT),
            Some((_, value)) => self.timeout(value, "menu timeout"),
        };
        let retries = match fields.get("retries") {
            None => Some(DEFAULT_MENU_RETRIES),
            Some((_, value)) => self.whole_number(value, "retries", 0..=MAX_MENU_RETRIES),
        };
        let mut options = BTreeMap::new();
        match fields.get("options") {
            None => self
                .diags
                .error(key.pos, format!("{what} has no `options`")),
            Some((_, value)) => match &value.value {
                Value::Map(entries) if entries.is_empty() => {
                    self.diags
                        .error(value.pos, format!("{what} has no `options`"));
                }
                Value::Map(entries) => {
                    for (digit_key, target) in entries {
                        let digit = menu_digit(&digit_key.text);
                        if digit.is_none() {
                            self.diags.error(
                                digit_key.pos,
                                format!(
                                    "bad menu digit `{}`: use a single 0-9, `*` or `#`",
                                    digit_key.text
                                ),
                            );
                        }
                        let target =
                            self.reference(read, from, Edge::Digit(digit.unwrap_or('?')), target);
                        if let (Some(digit), Some(target)) = (digit, target) {
                            options.insert(digit, target);
                        }
                    }
                }
                _ => self.expected(
                    value,
                    "a mapping of digits to nodes, e.g. `{ \"1\": support }`",
                ),
            },
        }
        let default = fields
            .get("default")
            .and_then(|(_, v)| self.reference(read, from, Edge::AnyDigit, v));
        let on_timeout = fields
            .get("on_timeout")
            .and_then(|(_, v)| self.reference(read, from, Edge::Timeout, v));
        let on_failure = fields
            .get("on_failure")
            .and_then(|(_, v)| self.reference(read, from, Edge::Failure, v));
        Some(Menu {
            prompts: prompts?,
            timeout: timeout?,
            retries: retries?,
            options,
            default,
            invalid,
            timeout_prompt,
            on_timeout,
            on_failure,
        })
    }

    /// A digit wait: a duration from 500ms to 5m.
    pub(super) fn timeout(&mut self, value: &yaml::Node, what: &str) -> Option<Duration> {
        let text = self.text(value, "a duration such as `5s` or `1500ms`")?;
        match parse_duration(&text) {
            Err(error) => {
                self.diags.error(value.pos, error.to_string());
                None
            }
            Ok(timeout) if !(MIN_MENU_TIMEOUT..=MAX_MENU_TIMEOUT).contains(&timeout) => {
                self.diags.error(
                    value.pos,
                    format!(
                        "{what} `{text}` is out of range: use {} to {}",
                        format_duration(MIN_MENU_TIMEOUT),
                        format_duration(MAX_MENU_TIMEOUT)
                    ),
                );
                None
            }
            Ok(timeout) => Some(timeout),
        }
    }
}
