//! Reads the YAML tree into typed numbers and nodes, reporting every schema problem with its
//! position. References between nodes are recorded with their positions for [`crate::validate`].

use std::collections::BTreeMap;
use std::time::Duration;

use crate::duration::{format_duration, parse_duration};
use crate::error::{Diagnostics, Pos};
use crate::model::{
    Edge, Menu, Node, NodeKind, DEFAULT_MENU_RETRIES, DEFAULT_MENU_TIMEOUT, MAX_MENU_RETRIES,
    MAX_MENU_TIMEOUT, MIN_MENU_TIMEOUT,
};
use crate::yaml::{self, Key, Value};

mod queue_node;

/// The only dialplan format version this build reads.
pub const VERSION: u32 = 1;

const TOP_KEYS: &[&str] = &["version", "numbers"];
const NUMBER_KEYS: &[&str] = &["start", "nodes", "description"];

/// The key that says what a node does; exactly one per node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Answer,
    Play,
    Menu,
    Queue,
    Hangup,
}

impl Action {
    const ALL: [Action; 5] = [
        Action::Answer,
        Action::Play,
        Action::Menu,
        Action::Queue,
        Action::Hangup,
    ];

    fn key(self) -> &'static str {
        match self {
            Action::Answer => "answer",
            Action::Play => "play",
            Action::Menu => "menu",
            Action::Queue => "queue",
            Action::Hangup => "hangup",
        }
    }
}
const NODE_KEYS: &[&str] = &[
    "answer",
    "play",
    "menu",
    "queue",
    "hangup",
    "next",
    "description",
];
const MENU_KEYS: &[&str] = &[
    "prompt",
    "timeout",
    "retries",
    "options",
    "invalid",
    "on_timeout",
    "on_failure",
];

/// A value and where it was written.
#[derive(Debug, Clone)]
pub(crate) struct Located<T> {
    pub value: T,
    pub pos: Pos,
}

/// One number as read, with the positions validation needs.
#[derive(Debug)]
pub(crate) struct ReadNumber {
    /// The number as written (the mapping key).
    pub number: Located<String>,
    /// The start node reference, if present.
    pub start: Option<Located<String>>,
    /// Every node name declared, with its key position (also those whose body had errors).
    pub declared: BTreeMap<String, Pos>,
    /// Nodes whose body read without errors.
    pub nodes: BTreeMap<String, Node>,
    /// Every node reference: (from node, edge, target and its position).
    pub refs: Vec<(String, Edge, Located<String>)>,
    /// Every prompt reference.
    pub prompts: Vec<Located<String>>,
    /// Every queue reference.
    pub queues: Vec<Located<String>>,
}

/// Reads a whole dialplan file into its numbers; what cannot be read is reported and left out.
pub(crate) fn read(source: &str, diags: &mut Diagnostics<'_>) -> Vec<ReadNumber> {
    let (root, problems) = yaml::parse(source);
    for (pos, message) in problems {
        diags.error(pos, message);
    }
    let Some(root) = root else {
        return Vec::new();
    };
    let mut reader = Reader { diags };
    reader.file(&root)
}

struct Reader<'d, 'f> {
    diags: &'d mut Diagnostics<'f>,
}

/// A mapping's entries by key, after unknown keys were reported.
type Fields<'n> = BTreeMap<&'static str, (&'n Key, &'n yaml::Node)>;

impl Reader<'_, '_> {
    fn file(&mut self, root: &yaml::Node) -> Vec<ReadNumber> {
        let Some(fields) = self.fields(
            root,
            "the dialplan",
            TOP_KEYS,
            "a mapping with `version` and `numbers`",
        ) else {
            return Vec::new();
        };
        match fields.get("version") {
            None => self.diags.error(root.pos, "missing `version: 1`"),
            Some((_, value)) => match scalar(value) {
                Some(text) if text.trim() == VERSION.to_string() => {}
                Some(text) => self.diags.error(
                    value.pos,
                    format!("unsupported dialplan version `{text}`; this hotline reads version {VERSION}"),
                ),
                None => self.expected(value, "`version: 1`"),
            },
        }
        let Some((_, numbers)) = fields.get("numbers") else {
            self.diags
                .error(root.pos, "missing `numbers`: the numbers callers dial");
            return Vec::new();
        };
        let Value::Map(entries) = &numbers.value else {
            self.expected(
                numbers,
                "a mapping of dialed numbers, e.g. `\"100\": { start: ..., nodes: ... }`",
            );
            return Vec::new();
        };
        if entries.is_empty() {
            self.diags.error(numbers.pos, "`numbers` is empty");
        }
        entries
            .iter()
            .filter_map(|(key, body)| self.number(key, body))
            .collect()
    }

    fn number(&mut self, key: &Key, body: &yaml::Node) -> Option<ReadNumber> {
        if !is_number(&key.text) {
            self.diags.error(
                key.pos,
                format!(
                    "bad number `{}`: use digits, letters, `+`, `*`, `#`, `.`, `_` or `-`",
                    key.text
                ),
            );
        }
        let what = format!("number `{}`", key.text);
        let fields = self.fields(
            body,
            &what,
            NUMBER_KEYS,
            "a mapping with `start` and `nodes`",
        )?;
        let mut read = ReadNumber {
            number: Located {
                value: key.text.clone(),
                pos: key.pos,
            },
            start: None,
            declared: BTreeMap::new(),
            nodes: BTreeMap::new(),
            refs: Vec::new(),
            prompts: Vec::new(),
            queues: Vec::new(),
        };
        self.description(&fields);
        match fields.get("start") {
            None => self
                .diags
                .error(key.pos, format!("{what} has no `start` node")),
            Some((_, value)) => read.start = self.node_name(value),
        }
        match fields.get("nodes") {
            None => self.diags.error(key.pos, format!("{what} has no `nodes`")),
            Some((_, nodes)) => match &nodes.value {
                Value::Map(entries) => {
                    for (name, body) in entries {
                        self.node(&mut read, name, body);
                    }
                }
                _ => self.expected(nodes, "a mapping of node names to nodes"),
            },
        }
        Some(read)
    }

    fn node(&mut self, read: &mut ReadNumber, name: &Key, body: &yaml::Node) {
        if !is_identifier(&name.text) {
            self.diags.error(
                name.pos,
                format!(
                    "bad node name `{}`: use letters, digits, `_` and `-`",
                    name.text
                ),
            );
        }
        read.declared.insert(name.text.clone(), name.pos);
        let what = format!("node `{}`", name.text);
        let Some(fields) = self.fields(
            body,
            &what,
            NODE_KEYS,
            "a mapping such as `{ play: greeting, next: main_menu }`",
        ) else {
            return;
        };
        let description = self.description(&fields);
        let actions: Vec<(Action, &Key, &yaml::Node)> = Action::ALL
            .iter()
            .filter_map(|action| {
                fields
                    .get(action.key())
                    .map(|(key, value)| (*action, *key, *value))
            })
            .collect();
        let (action, action_key, value) = match actions.as_slice() {
            [] => {
                self.diags.error(
                    name.pos,
                    format!("{what} does nothing: give it one of `answer`, `play`, `menu`, `queue`, `hangup`"),
                );
                return;
            }
            [one] => *one,
            [(first, ..), rest @ ..] => {
                for (other, key, _) in rest {
                    self.diags.error(
                        key.pos,
                        format!(
                            "{what} has both `{}` and `{}`: a node does one thing; chain nodes with `next`",
                            first.key(),
                            other.key()
                        ),
                    );
                }
                return;
            }
        };
        let errors_before = self.diags.error_count();
        let next = fields.get("next");
        let from = name.text.as_str();
        let kind = match action {
            Action::Answer => {
                self.flag(value, action);
                self.next(read, from, &what, action, name.pos, next)
                    .map(|next| NodeKind::Answer { next })
            }
            Action::Play => {
                let prompt = self.prompt(read, value);
                let next = self.next(read, from, &what, action, name.pos, next);
                prompt
                    .zip(next)
                    .map(|(prompt, next)| NodeKind::Play { prompt, next })
            }
            Action::Menu => {
                self.no_next(action, next);
                self.menu(read, from, action_key, value).map(NodeKind::Menu)
            }
            Action::Queue => {
                self.no_next(action, next);
                self.queue_node(read, &name.text, value)
                    .map(|(queue, options)| NodeKind::Queue { queue, options })
            }
            Action::Hangup => {
                self.no_next(action, next);
                self.flag(value, action);
                Some(NodeKind::Hangup)
            }
        };
        if let Some(kind) = kind {
            if self.diags.error_count() == errors_before {
                read.nodes
                    .insert(name.text.clone(), Node { kind, description });
            }
        }
    }

    fn menu(
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
        let prompt = fields.get("prompt").and_then(|(_, v)| self.prompt(read, v));
        let invalid = fields
            .get("invalid")
            .and_then(|(_, v)| self.prompt(read, v));
        // Keep reading after a bad value so every error in the menu is reported.
        let timeout = match fields.get("timeout") {
            None => Some(DEFAULT_MENU_TIMEOUT),
            Some((_, value)) => self.timeout(value),
        };
        let retries = match fields.get("retries") {
            None => Some(DEFAULT_MENU_RETRIES),
            Some((_, value)) => self.retries(value),
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
        let on_timeout = fields
            .get("on_timeout")
            .and_then(|(_, v)| self.reference(read, from, Edge::Timeout, v));
        let on_failure = fields
            .get("on_failure")
            .and_then(|(_, v)| self.reference(read, from, Edge::Failure, v));
        Some(Menu {
            prompt,
            timeout: timeout?,
            retries: retries?,
            options,
            invalid,
            on_timeout,
            on_failure,
        })
    }

    fn timeout(&mut self, value: &yaml::Node) -> Option<Duration> {
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
                        "menu timeout `{text}` is out of range: use {} to {}",
                        format_duration(MIN_MENU_TIMEOUT),
                        format_duration(MAX_MENU_TIMEOUT)
                    ),
                );
                None
            }
            Ok(timeout) => Some(timeout),
        }
    }

    fn retries(&mut self, value: &yaml::Node) -> Option<u32> {
        let text = self.text(value, "a whole number")?;
        match text.trim().parse::<u32>() {
            Ok(retries) if retries <= MAX_MENU_RETRIES => Some(retries),
            _ => {
                self.diags.error(
                    value.pos,
                    format!("bad retries `{text}`: expected a whole number from 0 to {MAX_MENU_RETRIES}"),
                );
                None
            }
        }
    }

    /// `next` of an answer or play node: required.
    fn next(
        &mut self,
        read: &mut ReadNumber,
        from: &str,
        what: &str,
        action: Action,
        pos: Pos,
        next: Option<&(&Key, &yaml::Node)>,
    ) -> Option<String> {
        match next {
            None => {
                self.diags.error(
                    pos,
                    format!(
                        "{what} needs `next`: the node to go to after `{}`",
                        action.key()
                    ),
                );
                None
            }
            Some((_, value)) => self.reference(read, from, Edge::Next, value),
        }
    }

    fn no_next(&mut self, action: Action, next: Option<&(&Key, &yaml::Node)>) {
        if let Some((key, _)) = next {
            let instead = if action == Action::Menu {
                "; a menu leads on through `options`, `on_timeout` and `on_failure`"
            } else {
                "; the call leaves the dialplan here"
            };
            self.diags.error(
                key.pos,
                format!(
                    "`next` is not allowed on a `{}` node{instead}",
                    action.key()
                ),
            );
        }
    }

    fn reference(
        &mut self,
        read: &mut ReadNumber,
        from: &str,
        edge: Edge,
        value: &yaml::Node,
    ) -> Option<String> {
        let target = self.node_name(value)?;
        read.refs.push((from.to_owned(), edge, target.clone()));
        Some(target.value)
    }

    fn node_name(&mut self, value: &yaml::Node) -> Option<Located<String>> {
        let text = self.text(value, "a node name")?;
        if !is_identifier(&text) {
            self.diags.error(
                value.pos,
                format!("bad node name `{text}`: use letters, digits, `_` and `-`"),
            );
            return None;
        }
        Some(Located {
            value: text,
            pos: value.pos,
        })
    }

    fn prompt(&mut self, read: &mut ReadNumber, value: &yaml::Node) -> Option<String> {
        let text = self.text(value, "a prompt name")?;
        if !is_identifier(&text) {
            self.diags.error(
                value.pos,
                format!("bad prompt name `{text}`: use letters, digits, `_` and `-`"),
            );
            return None;
        }
        read.prompts.push(Located {
            value: text.clone(),
            pos: value.pos,
        });
        Some(text)
    }

    fn queue(&mut self, read: &mut ReadNumber, value: &yaml::Node) -> Option<String> {
        let text = self.text(value, "a queue name")?;
        if text.trim().is_empty() || text.chars().any(char::is_control) {
            self.diags
                .error(value.pos, format!("bad queue name `{text}`"));
            return None;
        }
        read.queues.push(Located {
            value: text.clone(),
            pos: value.pos,
        });
        Some(text)
    }

    /// `answer: true` / `hangup: true`.
    fn flag(&mut self, value: &yaml::Node, action: Action) {
        if !matches!(scalar(value), Some(text) if text == "true") {
            self.diags
                .error(value.pos, format!("`{}` must be `true`", action.key()));
        }
    }

    fn description(&mut self, fields: &Fields<'_>) -> Option<String> {
        let (_, value) = fields.get("description")?;
        self.text(value, "free text")
    }

    /// A non-null scalar's text, or an error.
    fn text(&mut self, value: &yaml::Node, expected: &str) -> Option<String> {
        match scalar(value) {
            Some(text) if !value.is_null() => Some(text.to_owned()),
            _ => {
                self.expected(value, expected);
                None
            }
        }
    }

    fn expected(&mut self, value: &yaml::Node, expected: &str) {
        if !matches!(value.value, Value::Invalid) {
            self.diags.error(
                value.pos,
                format!("expected {expected}, found {}", value.kind_name()),
            );
        }
    }

    /// The entries of a mapping, reporting unknown keys; `None` (reported) if not a mapping.
    fn fields<'n>(
        &mut self,
        node: &'n yaml::Node,
        what: &str,
        allowed: &[&'static str],
        expected: &str,
    ) -> Option<Fields<'n>> {
        let Value::Map(entries) = &node.value else {
            if !matches!(node.value, Value::Invalid) {
                self.diags.error(
                    node.pos,
                    format!("{what}: expected {expected}, found {}", node.kind_name()),
                );
            }
            return None;
        };
        let mut fields = BTreeMap::new();
        for (key, value) in entries {
            if let Some(known) = allowed.iter().find(|k| **k == key.text) {
                fields.insert(*known, (key, value));
            } else {
                let hint = match closest(&key.text, allowed) {
                    Some(near) => format!("did you mean `{near}`?"),
                    None => format!("expected one of: {}", allowed.join(", ")),
                };
                self.diags.error(
                    key.pos,
                    format!("unknown key `{}` in {what}; {hint}", key.text),
                );
            }
        }
        Some(fields)
    }
}

fn scalar(node: &yaml::Node) -> Option<&str> {
    match &node.value {
        Value::Scalar { text, .. } => Some(text),
        _ => None,
    }
}

fn menu_digit(text: &str) -> Option<char> {
    let mut chars = text.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) if c.is_ascii_digit() || c == '*' || c == '#' => Some(c),
        _ => None,
    }
}

/// Node and prompt names: they become file names and event fields, so keep them tame.
fn is_identifier(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 64
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// Dialed numbers: the user part of a Request-URI.
fn is_number(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 64
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+*#._-".contains(c))
}

/// The allowed key nearest to a misspelt one (at most two edits away).
fn closest<'a>(word: &str, allowed: &[&'a str]) -> Option<&'a str> {
    allowed
        .iter()
        .map(|candidate| (edit_distance(word, candidate), *candidate))
        .filter(|(distance, _)| *distance <= 2)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = if ca == *cb {
                diagonal
            } else {
                1 + diagonal.min(above).min(row[j])
            };
            diagonal = above;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_are_single_keypad_keys() {
        assert_eq!(menu_digit("1"), Some('1'));
        assert_eq!(menu_digit("*"), Some('*'));
        assert_eq!(menu_digit("#"), Some('#'));
        for bad in ["", "12", "a", "A", " "] {
            assert_eq!(menu_digit(bad), None, "{bad}");
        }
    }

    #[test]
    fn misspelt_keys_get_a_suggestion() {
        assert_eq!(closest("timout", MENU_KEYS), Some("timeout"));
        assert_eq!(closest("colour", MENU_KEYS), None);
    }

    #[test]
    fn names_cannot_escape_the_prompt_folder() {
        assert!(is_identifier("greeting_2"));
        assert!(!is_identifier("../etc/passwd"));
        assert!(!is_identifier(""));
    }
}
