//! The top-level `lists:`: named number lists, inline or from a file, stored in E.164.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use super::{is_identifier, Reader};
use crate::e164::{normalize, NumberList};
use crate::error::Pos;
use crate::yaml::{self, Value};

const LIST_KEYS: &[&str] = &["numbers", "file", "description"];

/// Largest list file read (a million numbers is about 16 MB).
const MAX_LIST_FILE_BYTES: u64 = 32 * 1024 * 1024;

impl Reader<'_, '_> {
    pub(super) fn lists(&mut self, value: &yaml::Node) -> BTreeMap<String, NumberList> {
        let mut lists = BTreeMap::new();
        let Value::Map(entries) = &value.value else {
            self.expected(value, "a mapping of list names to numbers");
            return lists;
        };
        for (name, body) in entries {
            if !is_identifier(&name.text) {
                self.diags.error(
                    name.pos,
                    format!(
                        "bad list name `{}`: use letters, digits, `_` and `-`",
                        name.text
                    ),
                );
                continue;
            }
            if let Some(list) = self.list(&name.text, body) {
                lists.insert(name.text.clone(), list);
            }
        }
        lists
    }

    /// `[numbers...]`, `{ numbers: [...] }` or `{ file: path }` (one number a line, `#` comments).
    fn list(&mut self, name: &str, body: &yaml::Node) -> Option<NumberList> {
        if let Value::Seq(items) = &body.value {
            return self.inline_numbers(name, items);
        }
        let what = format!("list `{name}`");
        let fields = self.fields(
            body,
            &what,
            LIST_KEYS,
            "a list of numbers, or a mapping with `numbers` or `file`",
        )?;
        match (fields.get("numbers"), fields.get("file")) {
            (Some((_, numbers)), None) => match &numbers.value {
                Value::Seq(items) => self.inline_numbers(name, items),
                _ => {
                    self.expected(numbers, "a list of numbers");
                    None
                }
            },
            (None, Some((_, file))) => {
                let path = self.text(file, "a file path")?;
                self.list_file(name, &path, file.pos)
            }
            _ => {
                self.diags.error(
                    body.pos,
                    format!("{what} needs exactly one of `numbers` and `file`"),
                );
                None
            }
        }
    }

    fn inline_numbers(&mut self, name: &str, items: &[yaml::Node]) -> Option<NumberList> {
        let mut numbers = BTreeSet::new();
        let mut ok = true;
        for item in items {
            let Some(text) = self.text(item, "a phone number") else {
                ok = false;
                continue;
            };
            match normalize(&text, self.country) {
                Ok(number) => {
                    numbers.insert(number);
                }
                Err(error) => {
                    self.diags
                        .error(item.pos, format!("list `{name}`: {error}"));
                    ok = false;
                }
            }
        }
        ok.then(|| NumberList::new(numbers))
    }

    /// Reads a list file, relative to the dialplan file's folder.
    fn list_file(&mut self, name: &str, path: &str, pos: Pos) -> Option<NumberList> {
        let path = PathBuf::from(path);
        let full = if path.is_absolute() {
            path.clone()
        } else {
            self.file
                .parent()
                .map_or_else(|| path.clone(), |dir| dir.join(&path))
        };
        let too_big = std::fs::metadata(&full).is_ok_and(|m| m.len() > MAX_LIST_FILE_BYTES);
        if too_big {
            self.diags.error(
                pos,
                format!(
                    "list `{name}`: {} is larger than {} MB",
                    full.display(),
                    MAX_LIST_FILE_BYTES / 1024 / 1024
                ),
            );
            return None;
        }
        let text = match std::fs::read_to_string(&full) {
            Ok(text) => text,
            Err(error) => {
                self.diags.error(
                    pos,
                    format!("list `{name}`: cannot read {}: {error}", full.display()),
                );
                return None;
            }
        };
        let mut numbers = BTreeSet::new();
        let mut ok = true;
        for (index, line) in text.lines().enumerate() {
            let entry = line.split('#').next().unwrap_or_default().trim();
            if entry.is_empty() {
                continue;
            }
            match normalize(entry, self.country) {
                Ok(number) => {
                    numbers.insert(number);
                }
                Err(error) => {
                    self.diags.error(
                        pos,
                        format!(
                            "list `{name}`: {} line {}: {error}",
                            full.display(),
                            index + 1
                        ),
                    );
                    ok = false;
                }
            }
        }
        ok.then(|| NumberList::new(numbers))
    }
}
