//! Reads the YAML tree into typed numbers and nodes, reporting every schema problem with its
//! position. References between nodes are recorded with their positions for [`crate::validate`].

use std::collections::BTreeMap;
use std::path::Path;

use crate::e164::{CountryCode, NumberList};
use crate::error::{Diagnostics, Pos};
use crate::model::{Edge, HangupCause, Node, NodeKind, Play};
use crate::schedule::Schedule;
use crate::yaml::{self, Key, Value};

pub(crate) use suggest::{closest, closest_name};

use action::{Action, NODE_KEYS};

mod action;
mod branch;
mod collect;
mod consent_node;
mod http_node;
mod lists;
mod menu;
mod queue_node;
mod say_node;
mod schedules;
mod set_node;
mod suggest;
mod surveys;
mod transfer_node;
mod voicemail_node;

/// The only dialplan format version this build reads.
pub const VERSION: u32 = 1;

const TOP_KEYS: &[&str] = &[
    "version",
    "country",
    "numbers",
    "lists",
    "schedules",
    "surveys",
];
const NUMBER_KEYS: &[&str] = &["start", "nodes", "description"];

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
    /// Every number list reference.
    pub lists: Vec<Located<String>>,
    /// Every schedule reference.
    pub schedules: Vec<Located<String>>,
    /// Every flow transfer: (from node, the number it goes to and its position).
    pub flows: Vec<(String, Located<String>)>,
    /// Every dial to an outside number: (from node, the number as written and the trunk named,
    /// each with its position).
    pub dials: Vec<(String, Located<String>, Option<Located<String>>)>,
}

/// A whole file as read.
#[derive(Debug, Default)]
pub(crate) struct ReadFile {
    /// The numbers.
    pub numbers: Vec<ReadNumber>,
    /// The number lists by name.
    pub lists: BTreeMap<String, NumberList>,
    /// The schedules by name.
    pub schedules: BTreeMap<String, Schedule>,
    /// The country calling code numbers without `+` are read in (`country:`).
    pub country: CountryCode,
    /// Every list name declared, also those whose body had errors (already reported), so a
    /// reference to one is not reported again as unknown.
    pub declared_lists: std::collections::BTreeSet<String>,
    /// Every schedule name declared, likewise.
    pub declared_schedules: std::collections::BTreeSet<String>,
    /// The post-call surveys by name.
    pub surveys: BTreeMap<String, crate::survey::Survey>,
    /// Every prompt the surveys name.
    pub survey_prompts: Vec<Located<String>>,
}

/// Reads a whole dialplan file; what cannot be read is reported and left out. `file` locates
/// list files given by a relative path.
pub(crate) fn read(source: &str, file: &Path, diags: &mut Diagnostics<'_>) -> ReadFile {
    let (root, problems) = yaml::parse(source);
    for (pos, message) in problems {
        diags.error(pos, message);
    }
    let Some(root) = root else {
        return ReadFile::default();
    };
    let mut reader = Reader {
        diags,
        file,
        country: CountryCode::DEFAULT,
        declared_surveys: std::collections::BTreeSet::new(),
    };
    reader.file(&root)
}

struct Reader<'d, 'f> {
    diags: &'d mut Diagnostics<'f>,
    file: &'d Path,
    country: CountryCode,
    /// Every survey name declared (also those whose body had errors), for `survey:` of queues.
    declared_surveys: std::collections::BTreeSet<String>,
}

/// A mapping's entries by key, after unknown keys were reported.
type Fields<'n> = BTreeMap<&'static str, (&'n Key, &'n yaml::Node)>;

impl Reader<'_, '_> {
    fn file(&mut self, root: &yaml::Node) -> ReadFile {
        let mut file = ReadFile::default();
        let Some(fields) = self.fields(
            root,
            "the dialplan",
            TOP_KEYS,
            "a mapping with `version` and `numbers`",
        ) else {
            return file;
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
        if let Some((_, value)) = fields.get("country") {
            match scalar(value).and_then(CountryCode::parse) {
                Some(country) => self.country = country,
                None => self.diags.error(
                    value.pos,
                    "bad country: give the calling code numbers without `+` are read in, e.g. `86` or `1`",
                ),
            }
        }
        file.country = self.country;
        if let Some((_, lists)) = fields.get("lists") {
            file.lists = self.lists(lists);
            file.declared_lists.extend(yaml_keys(lists));
        }
        if let Some((_, schedules)) = fields.get("schedules") {
            file.schedules = self.schedules(schedules);
            file.declared_schedules.extend(yaml_keys(schedules));
        }
        if let Some((_, surveys)) = fields.get("surveys") {
            self.declared_surveys.extend(yaml_keys(surveys));
            let mut prompts = Vec::new();
            file.surveys = self.surveys(surveys, &mut prompts);
            file.survey_prompts = prompts;
        }
        let Some((_, numbers)) = fields.get("numbers") else {
            self.diags
                .error(root.pos, "missing `numbers`: the numbers callers dial");
            return file;
        };
        let Value::Map(entries) = &numbers.value else {
            self.expected(
                numbers,
                "a mapping of dialed numbers, e.g. `\"100\": { start: ..., nodes: ... }`",
            );
            return file;
        };
        if entries.is_empty() {
            self.diags.error(numbers.pos, "`numbers` is empty");
        }
        file.numbers = entries
            .iter()
            .filter_map(|(key, body)| self.number(key, body))
            .collect();
        file
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
            lists: Vec::new(),
            schedules: Vec::new(),
            flows: Vec::new(),
            dials: Vec::new(),
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
                let kinds: Vec<String> = Action::ALL
                    .iter()
                    .map(|a| format!("`{}`", a.key()))
                    .collect();
                self.diags.error(
                    name.pos,
                    format!("{what} does nothing: give it one of {}", kinds.join(", ")),
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
        self.misplaced_keys(action, &fields);
        let next = fields.get("next");
        let from = name.text.as_str();
        let kind = match action {
            Action::Answer => {
                self.flag(value, action);
                self.next(read, from, &what, action, name.pos, next)
                    .map(|next| NodeKind::Answer { next })
            }
            Action::Play => {
                let prompts = self.prompts(read, value);
                let barge_in = match fields.get("barge_in") {
                    None => Some(false),
                    Some((_, v)) => self.boolean(v),
                };
                let next = self.next(read, from, &what, action, name.pos, next);
                match (prompts, barge_in, next) {
                    (Some(prompts), Some(barge_in), Some(next)) => Some(NodeKind::Play(Play {
                        prompts,
                        barge_in,
                        next,
                    })),
                    _ => None,
                }
            }
            Action::Say => {
                let said = self.say_node(from, value);
                let next = self.next(read, from, &what, action, name.pos, next);
                said.zip(next).map(|((value, kind), next)| {
                    NodeKind::Say(crate::model::Say { value, kind, next })
                })
            }
            Action::Menu => self.menu(read, from, action_key, value).map(NodeKind::Menu),
            Action::Collect => {
                let refs_before = read.refs.len();
                let next = self.next(read, from, &what, action, name.pos, next);
                let collect = self.collect(read, from, action_key, value, next);
                // Good input needs a digit unless empty input is allowed: only then is `next`
                // an edge the executor can take by itself.
                if collect.as_ref().is_some_and(|c| c.min_digits > 0) {
                    for (_, edge, _) in &mut read.refs[refs_before..] {
                        if *edge == Edge::Next {
                            *edge = Edge::Collected;
                        }
                    }
                }
                collect.map(NodeKind::Collect)
            }
            Action::Set => {
                let assignments = self.set_node(from, value);
                let next = self.next(read, from, &what, action, name.pos, next);
                assignments
                    .zip(next)
                    .map(|(assignments, next)| NodeKind::Set { assignments, next })
            }
            Action::Branch => self
                .branch(read, from, name.pos, value, fields.get("otherwise"))
                .map(NodeKind::Branch),
            Action::Schedule => self.schedule_node(read, from, name.pos, value, &fields),
            Action::Queue => {
                self.queue_node(read, &name.text, value)
                    .map(|(queue, options, exit)| NodeKind::Queue {
                        queue,
                        options,
                        exit,
                    })
            }
            Action::Goto => self
                .reference(read, from, Edge::Next, value)
                .map(|next| NodeKind::Goto { next }),
            Action::Hangup => self.hangup(value).map(|cause| NodeKind::Hangup { cause }),
            Action::Http => {
                let next = self.next(read, from, &what, action, name.pos, next);
                self.http_node(read, from, value, next).map(NodeKind::Http)
            }
            Action::Voicemail => {
                let next = self.next(read, from, &what, action, name.pos, next);
                self.voicemail_node(read, from, value, next)
                    .map(NodeKind::Voicemail)
            }
            Action::Transfer => self
                .transfer_node(read, from, value)
                .map(NodeKind::Transfer),
            Action::Consent => {
                let next = self.next(read, from, &what, action, name.pos, next);
                self.consent_node(read, from, value, next)
                    .map(NodeKind::Consent)
            }
            Action::Survey => self
                .survey_node(read, from, value, &fields)
                .map(NodeKind::Survey),
        };
        if let Some(kind) = kind {
            if self.diags.error_count() == errors_before {
                read.nodes
                    .insert(name.text.clone(), Node { kind, description });
            }
        }
    }

    /// `schedule: business` with `open`, `closed` and optional `holiday`.
    fn schedule_node(
        &mut self,
        read: &mut ReadNumber,
        from: &str,
        pos: Pos,
        value: &yaml::Node,
        fields: &Fields<'_>,
    ) -> Option<NodeKind> {
        let schedule = self.text(value, "a schedule name")?;
        read.schedules.push(Located {
            value: schedule.clone(),
            pos: value.pos,
        });
        let mut branch = |reader: &mut Self, key: &str, edge: Edge| match fields.get(key) {
            Some((_, v)) => reader.reference(read, from, edge, v).map(Some),
            None => Some(None),
        };
        let open = branch(self, "open", Edge::Open);
        let closed = branch(self, "closed", Edge::Closed);
        let holiday = branch(self, "holiday", Edge::Holiday);
        let (open, closed) = match (open?, closed?) {
            (Some(open), Some(closed)) => (open, closed),
            _ => {
                self.diags.error(
                    pos,
                    format!("schedule node `{from}` needs `open` and `closed`: the nodes to go to in and out of hours"),
                );
                return None;
            }
        };
        Some(NodeKind::Schedule {
            schedule,
            open,
            closed,
            holiday: holiday?,
        })
    }

    /// `hangup: true`, or a cause: `busy`, `rejected`, `unavailable`, `congestion`, `not_found`.
    fn hangup(&mut self, value: &yaml::Node) -> Option<HangupCause> {
        let text = self.text(value, "`true` or a hangup cause")?;
        if text == "true" {
            return Some(HangupCause::Normal);
        }
        match HangupCause::ALL.iter().find(|c| c.name() == text) {
            Some(cause) => Some(*cause),
            None => {
                let names: Vec<&str> = HangupCause::ALL.iter().map(|c| c.name()).collect();
                self.diags.error(
                    value.pos,
                    format!(
                        "unknown hangup cause `{text}`; use `true` or one of: {}",
                        names.join(", ")
                    ),
                );
                None
            }
        }
    }

    /// One prompt name or a list of them.
    fn prompts(&mut self, read: &mut ReadNumber, value: &yaml::Node) -> Option<Vec<String>> {
        match &value.value {
            Value::Seq(items) if items.is_empty() => {
                self.diags
                    .error(value.pos, "empty prompt list: name at least one prompt");
                None
            }
            Value::Seq(items) => {
                let prompts: Vec<Option<String>> =
                    items.iter().map(|item| self.prompt(read, item)).collect();
                prompts.into_iter().collect()
            }
            _ => self.prompt(read, value).map(|p| vec![p]),
        }
    }

    /// `true` or `false`.
    fn boolean(&mut self, value: &yaml::Node) -> Option<bool> {
        match scalar(value) {
            Some("true") => Some(true),
            Some("false") => Some(false),
            _ => {
                self.expected(value, "`true` or `false`");
                None
            }
        }
    }

    /// A whole number within `range`, named `what` in the message.
    fn whole_number(
        &mut self,
        value: &yaml::Node,
        what: &str,
        range: std::ops::RangeInclusive<u32>,
    ) -> Option<u32> {
        let text = self.text(value, "a whole number")?;
        match text.trim().parse::<u32>() {
            Ok(n) if range.contains(&n) => Some(n),
            _ => {
                self.diags.error(
                    value.pos,
                    format!(
                        "bad {what} `{text}`: expected a whole number from {} to {}",
                        range.start(),
                        range.end()
                    ),
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
                self.diags.error_with_hint(
                    key.pos,
                    format!("unknown key `{}` in {what}", key.text),
                    Some(hint),
                );
            }
        }
        Some(fields)
    }
}

/// The keys of a mapping node (none for anything else).
fn yaml_keys(node: &yaml::Node) -> Vec<String> {
    match &node.value {
        Value::Map(entries) => entries.iter().map(|(k, _)| k.text.clone()).collect(),
        _ => Vec::new(),
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
        assert_eq!(closest("timout", menu::MENU_KEYS), Some("timeout"));
        assert_eq!(closest("colour", menu::MENU_KEYS), None);
        assert_eq!(closest("nxet", NODE_KEYS), Some("next"));
    }

    #[test]
    fn names_cannot_escape_the_prompt_folder() {
        assert!(is_identifier("greeting_2"));
        assert!(!is_identifier("../etc/passwd"));
        assert!(!is_identifier(""));
    }
}
