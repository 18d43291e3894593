//! A position-carrying YAML tree built from the saphyr event parser.
//!
//! The schema reader walks this tree by hand instead of deriving serde impls because serde stops at
//! the first problem, while operators want every problem in a dialplan reported in one pass, each
//! with its own `line:column`. Duplicate keys and aliases are reported here; everything else about
//! the meaning of the document is left to the schema reader.

use std::collections::BTreeMap;

use serde_saphyr::granit_parser::{Event, Marker, Options, Parser, ScalarStyle};

use crate::error::Pos;

/// Deepest nesting accepted; dialplans need about six levels.
const MAX_DEPTH: usize = 64;

/// One YAML node and where it starts in the source.
#[derive(Debug, Clone)]
pub(crate) struct Node {
    /// Where the node starts (1-based line and column).
    pub pos: Pos,
    /// The node's content.
    pub value: Value,
}

/// The content of a YAML node.
#[derive(Debug, Clone)]
pub(crate) enum Value {
    /// A scalar: its text after escape processing, and whether it was written quoted or as a block.
    Scalar { text: String, plain: bool },
    /// A mapping, in source order, keys already checked to be unique scalars.
    Map(Vec<(Key, Node)>),
    /// A sequence (no key takes a list yet; kept so one can without touching the parser).
    #[allow(dead_code)]
    Seq(Vec<Node>),
    /// A node that could not be represented (an alias, a non-scalar key); already reported.
    Invalid,
}

/// A mapping key: a scalar's text and its position.
#[derive(Debug, Clone)]
pub(crate) struct Key {
    /// Where the key starts.
    pub pos: Pos,
    /// The key text.
    pub text: String,
}

impl Node {
    /// Whether this is a plain (unquoted) null: empty, `~` or `null`.
    pub fn is_null(&self) -> bool {
        matches!(&self.value, Value::Scalar { text, plain: true }
            if text.is_empty() || text == "~" || text.eq_ignore_ascii_case("null"))
    }

    /// A short description of the node's kind, for "expected X, found Y" messages.
    pub fn kind_name(&self) -> &'static str {
        match &self.value {
            _ if self.is_null() => "nothing",
            Value::Scalar { .. } => "a value",
            Value::Map(_) => "a mapping",
            Value::Seq(_) => "a list",
            Value::Invalid => "an invalid value",
        }
    }
}

/// Problems found while building the tree: `(position, message)`.
pub(crate) type Problems = Vec<(Pos, String)>;

/// Parses `source` into a tree of positioned nodes.
///
/// A syntax error ends parsing: the returned tree is `None` and the problems hold the syntax error.
/// Duplicate keys, aliases and non-scalar keys are reported while the tree is still built.
pub(crate) fn parse(source: &str) -> (Option<Node>, Problems) {
    let mut options = Options::default();
    options.set_emit_comments(false);
    let mut builder = Builder {
        parser: Parser::new_from_str_with_options(source, options),
        problems: Vec::new(),
    };
    let root = builder.document();
    (root, builder.problems)
}

struct Builder<'a> {
    parser: Parser<'a, serde_saphyr::granit_parser::StrInput<'a>>,
    problems: Problems,
}

/// Why building stopped early.
struct Stop;

fn pos_of(marker: &Marker) -> Pos {
    Pos {
        line: u32::try_from(marker.line()).unwrap_or(u32::MAX),
        column: u32::try_from(marker.col().saturating_add(1)).unwrap_or(u32::MAX),
    }
}

impl<'a> Builder<'a> {
    /// Next event that is part of the data model (comments and anchor metadata are skipped).
    fn next(&mut self) -> Result<(Event<'a>, Pos), Stop> {
        loop {
            match self.parser.next_event() {
                None => return Err(Stop),
                Some(Err(error)) => {
                    let message = error.info();
                    let message = if message.is_empty() {
                        "YAML syntax error".to_owned()
                    } else {
                        format!("YAML syntax error: {message}")
                    };
                    self.problems.push((pos_of(error.marker()), message));
                    return Err(Stop);
                }
                Some(Ok((event, span))) => {
                    let structural = matches!(
                        event,
                        Event::StreamStart
                            | Event::StreamEnd
                            | Event::DocumentStart(..)
                            | Event::DocumentEnd
                            | Event::SequenceEnd
                            | Event::MappingEnd
                    );
                    if structural || event.is_node() {
                        return Ok((event, pos_of(&span.start)));
                    }
                }
            }
        }
    }

    fn document(&mut self) -> Option<Node> {
        let mut root = None;
        let mut documents = 0usize;
        loop {
            let Ok((event, pos)) = self.next() else {
                return None;
            };
            match event {
                Event::StreamStart | Event::DocumentEnd => {}
                Event::StreamEnd => break,
                Event::DocumentStart(..) => {
                    documents += 1;
                    if documents > 1 {
                        self.problems.push((
                            pos,
                            "a dialplan file holds exactly one YAML document".to_owned(),
                        ));
                        return None;
                    }
                }
                event => {
                    let node = self.node(event, pos, 0).ok()?;
                    root = Some(node);
                }
            }
        }
        if root.is_none() {
            self.problems.push((
                Pos { line: 1, column: 1 },
                "the file is empty: expected `version: 1` and `numbers:`".to_owned(),
            ));
        }
        root
    }

    fn node(&mut self, event: Event<'a>, pos: Pos, depth: usize) -> Result<Node, Stop> {
        if depth > MAX_DEPTH {
            self.problems
                .push((pos, format!("nesting deeper than {MAX_DEPTH} levels")));
            return Err(Stop);
        }
        let value = match event {
            Event::Scalar(text, style, ..) => Value::Scalar {
                text: text.into_owned(),
                plain: matches!(style, ScalarStyle::Plain),
            },
            Event::Alias(_) => {
                self.problems.push((
                    pos,
                    "aliases (`*name`) are not supported in dialplans; quote `*` when it is a digit"
                        .to_owned(),
                ));
                Value::Invalid
            }
            Event::SequenceStart(..) => {
                let mut items = Vec::new();
                loop {
                    let (event, item_pos) = self.next()?;
                    if matches!(event, Event::SequenceEnd) {
                        break;
                    }
                    items.push(self.node(event, item_pos, depth + 1)?);
                }
                Value::Seq(items)
            }
            Event::MappingStart(..) => Value::Map(self.mapping(depth)?),
            _ => {
                self.problems
                    .push((pos, "unexpected YAML structure".to_owned()));
                return Err(Stop);
            }
        };
        Ok(Node { pos, value })
    }

    fn mapping(&mut self, depth: usize) -> Result<Vec<(Key, Node)>, Stop> {
        let mut entries: Vec<(Key, Node)> = Vec::new();
        let mut seen: BTreeMap<String, Pos> = BTreeMap::new();
        loop {
            let (event, key_pos) = self.next()?;
            if matches!(event, Event::MappingEnd) {
                return Ok(entries);
            }
            let key = self.node(event, key_pos, depth + 1)?;
            let (value_event, value_pos) = self.next()?;
            let value = self.node(value_event, value_pos, depth + 1)?;
            let Value::Scalar { text, .. } = key.value else {
                if !matches!(key.value, Value::Invalid) {
                    self.problems
                        .push((key.pos, "mapping keys must be plain text".to_owned()));
                }
                continue;
            };
            if let Some(first) = seen.get(&text) {
                self.problems.push((
                    key.pos,
                    format!(
                        "duplicate key `{text}` (first defined at line {})",
                        first.line
                    ),
                ));
                continue;
            }
            seen.insert(text.clone(), key.pos);
            entries.push((Key { pos: key.pos, text }, value));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(source: &str) -> Vec<String> {
        parse(source)
            .1
            .into_iter()
            .map(|(pos, message)| format!("{}:{}: {message}", pos.line, pos.column))
            .collect()
    }

    #[test]
    fn positions_are_one_based() {
        let (root, problems) = parse("a:\n  b: c\n");
        assert!(problems.is_empty());
        let Some(Node {
            value: Value::Map(entries),
            ..
        }) = root
        else {
            panic!("expected a mapping");
        };
        assert_eq!(entries[0].0.pos, Pos { line: 1, column: 1 });
        let Value::Map(inner) = &entries[0].1.value else {
            panic!("expected a mapping");
        };
        assert_eq!(inner[0].0.pos, Pos { line: 2, column: 3 });
        assert_eq!(inner[0].1.pos, Pos { line: 2, column: 6 });
    }

    #[test]
    fn duplicate_keys_are_reported_with_both_lines() {
        assert_eq!(
            problems("a: 1\nb: 2\na: 3\n"),
            ["3:1: duplicate key `a` (first defined at line 1)"]
        );
    }

    #[test]
    fn aliases_are_rejected() {
        assert_eq!(
            problems("a: &x 1\nb: *x\n"),
            ["2:4: aliases (`*name`) are not supported in dialplans; quote `*` when it is a digit"]
        );
    }

    #[test]
    fn syntax_errors_stop_parsing() {
        let (root, problems) = parse("a: [1, 2\nb: 3\n");
        assert!(root.is_none());
        assert_eq!(problems.len(), 1);
    }

    #[test]
    fn several_documents_are_rejected() {
        assert_eq!(
            problems("a: 1\n---\nb: 2\n"),
            ["2:1: a dialplan file holds exactly one YAML document"]
        );
    }
}
