//! Small lookups in the positioned YAML tree the analyses walk.

use crate::yaml::{Key, Node, Value};

/// The entries of a mapping node; empty for anything else (already reported by the reader).
pub(super) fn entries(node: &Node) -> &[(Key, Node)] {
    match &node.value {
        Value::Map(entries) => entries,
        _ => &[],
    }
}

/// The entry under `key` in a mapping node.
pub(super) fn get<'n>(node: &'n Node, key: &str) -> Option<(&'n Key, &'n Node)> {
    entries(node)
        .iter()
        .find(|(k, _)| k.text == key)
        .map(|(k, v)| (k, v))
}

/// A scalar's text.
pub(super) fn text(node: &Node) -> Option<&str> {
    match &node.value {
        Value::Scalar { text, .. } => Some(text),
        _ => None,
    }
}

/// The items of a sequence, or the node itself when it is a single value.
pub(super) fn items(node: &Node) -> Vec<&Node> {
    match &node.value {
        Value::Seq(items) => items.iter().collect(),
        _ => vec![node],
    }
}
