//! Queue node settings that override the queue's own setting in the server configuration: both
//! being set is legal (the node wins for its callers) but often a leftover, so it is a warning.

use std::collections::BTreeMap;

use super::{tree, QueueDefaults};
use crate::duration::format_duration;
use crate::error::Diagnostics;
use crate::yaml::Node;

/// Warns for each `priority` or `max_wait` of a queue node (or a transfer to a queue) whose
/// queue sets its own.
pub(super) fn both_set(
    root: &Node,
    defaults: &BTreeMap<String, QueueDefaults>,
    diags: &mut Diagnostics<'_>,
) {
    if defaults.is_empty() {
        return;
    }
    let Some((_, numbers)) = tree::get(root, "numbers") else {
        return;
    };
    for (_, number) in tree::entries(numbers) {
        let Some((_, nodes)) = tree::get(number, "nodes") else {
            continue;
        };
        for (node_name, node) in tree::entries(nodes) {
            let Some((queue, queue_name)) = queue_settings(node) else {
                continue;
            };
            let Some(own) = defaults.get(queue_name) else {
                continue;
            };
            let settings = [
                ("priority", own.priority.map(|p| p.to_string())),
                ("max_wait", own.max_wait.map(format_duration)),
            ];
            for (key, queue_value) in settings {
                let (Some(queue_value), Some((located, value))) =
                    (queue_value, tree::get(queue, key))
                else {
                    continue;
                };
                let node_value = tree::text(value).unwrap_or_default();
                diags.warning_with_hint(
                    located.pos,
                    format!(
                        "node `{}` sets `{key}: {node_value}` over queue `{queue_name}`'s own {key} of {queue_value} in the configuration",
                        node_name.text
                    ),
                    Some(
                        "the node's value wins for its callers; remove one of the two if that is not meant"
                            .to_owned(),
                    ),
                );
            }
        }
    }
}

/// The mapping holding a node's queue settings and the queue's name: a queue node's mapping
/// (`queue: { name: ..., priority: ... }`) or a transfer to a queue (`transfer: { queue: ...,
/// priority: ... }`).
fn queue_settings(node: &Node) -> Option<(&Node, &str)> {
    if let Some((_, queue)) = tree::get(node, "queue") {
        let (_, name) = tree::get(queue, "name")?;
        return tree::text(name).map(|name| (queue, name));
    }
    let (_, transfer) = tree::get(node, "transfer")?;
    let (_, name) = tree::get(transfer, "queue")?;
    tree::text(name).map(|name| (transfer, name))
}
