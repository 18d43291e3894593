//! The `set` node: variables and call attributes.

use super::{is_identifier, Reader};
use crate::model::Assignment;
use crate::yaml::{self, Value};

const SET_KEYS: &[&str] = &["variables", "language", "priority", "skills", "data"];

impl Reader<'_, '_> {
    /// `set: { variables: {...}, language: zh, priority: 8, skills: {...}, data: {...} }`.
    pub(super) fn set_node(&mut self, from: &str, value: &yaml::Node) -> Option<Vec<Assignment>> {
        let what = format!("set `{from}`");
        let fields = self.fields(
            value,
            &what,
            SET_KEYS,
            "a mapping such as `{ language: zh, priority: 8 }`",
        )?;
        if fields.is_empty() {
            self.diags.error(value.pos, format!("{what} sets nothing"));
            return None;
        }
        let mut assignments = Vec::new();
        let mut ok = true;
        if let Some((_, v)) = fields.get("variables") {
            match self.text_map(v, "variables") {
                Some(pairs) => assignments.extend(
                    pairs
                        .into_iter()
                        .map(|(name, value)| Assignment::Variable { name, value }),
                ),
                None => ok = false,
            }
        }
        if let Some((_, v)) = fields.get("language") {
            match self.text(v, "a language folder name such as `zh`") {
                Some(language) if is_identifier(&language) => {
                    assignments.push(Assignment::Language(language));
                }
                Some(language) => {
                    self.diags.error(
                        v.pos,
                        format!("bad language `{language}`: use letters, digits, `_` and `-`"),
                    );
                    ok = false;
                }
                None => ok = false,
            }
        }
        if let Some((_, v)) = fields.get("priority") {
            match self.priority(v) {
                Some(p) => assignments.push(Assignment::Priority(p)),
                None => ok = false,
            }
        }
        if let Some((_, v)) = fields.get("skills") {
            match self.skills(v) {
                Some(skills) => assignments.extend(
                    skills
                        .into_iter()
                        .map(|(name, level)| Assignment::Skill { name, level }),
                ),
                None => ok = false,
            }
        }
        if let Some((_, v)) = fields.get("data") {
            match self.text_map(v, "data") {
                Some(pairs) => assignments.extend(
                    pairs
                        .into_iter()
                        .map(|(key, value)| Assignment::QueueData { key, value }),
                ),
                None => ok = false,
            }
        }
        ok.then_some(assignments)
    }

    /// `{ name: text, ... }` with identifier names, in source order.
    fn text_map(&mut self, value: &yaml::Node, what: &str) -> Option<Vec<(String, String)>> {
        let Value::Map(entries) = &value.value else {
            self.expected(value, &format!("a mapping of {what} names to values"));
            return None;
        };
        let mut pairs = Vec::new();
        let mut ok = true;
        for (key, item) in entries {
            if !is_identifier(&key.text) {
                self.diags.error(
                    key.pos,
                    format!(
                        "bad name `{}` in {what}: use letters, digits, `_` and `-`",
                        key.text
                    ),
                );
                ok = false;
                continue;
            }
            match super::scalar(item) {
                Some(text) if !item.is_null() => pairs.push((key.text.clone(), text.to_owned())),
                _ => {
                    self.expected(item, "a value");
                    ok = false;
                }
            }
        }
        ok.then_some(pairs)
    }
}
