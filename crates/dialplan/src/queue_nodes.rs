//! Where a dialplan puts callers in a queue (`queue` nodes and transfers to a queue): the server
//! checks what those queues need from it (the callback offer's prompts) at the nodes' positions.

use crate::dials::SourcePos;
use crate::model::{NodeKind, Transfer};
use crate::read::ReadFile;

/// A node that puts callers in a queue, and where it is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueNode {
    /// The dialed number whose flow has the node (a key of `numbers:`).
    pub flow: String,
    /// The node's name.
    pub node: String,
    /// Where the node's name is written.
    pub at: SourcePos,
    /// The queue.
    pub queue: String,
    /// Whether the node itself offers a callback (`callback_offer`).
    pub callback_offer: bool,
}

/// Every node of `read` that puts callers in a queue, in file order.
pub(crate) fn queue_nodes(read: &ReadFile) -> Vec<QueueNode> {
    let mut found: Vec<QueueNode> = read
        .numbers
        .iter()
        .flat_map(|number| {
            number.nodes.iter().filter_map(|(name, node)| {
                let (queue, options) = match &node.kind {
                    NodeKind::Queue { queue, options, .. }
                    | NodeKind::Transfer(Transfer::Queue { queue, options, .. }) => {
                        (queue, options)
                    }
                    _ => return None,
                };
                let at = number.declared.get(name)?;
                Some(QueueNode {
                    flow: number.number.value.clone(),
                    node: name.clone(),
                    at: SourcePos {
                        line: at.line,
                        column: at.column,
                    },
                    queue: queue.clone(),
                    callback_offer: options.callback_offer.is_some(),
                })
            })
        })
        .collect();
    found.sort_by_key(|n| n.at);
    found
}

#[cfg(test)]
mod tests {
    use crate::{check, CheckContext};

    const PLAN: &str = "version: 1\nnumbers:\n  \"1\":\n    start: menu\n    nodes:\n      menu: { menu: { options: { \"1\": a, \"2\": b } } }\n      a: { queue: { name: support, callback_offer: 1m } }\n      b: { transfer: { queue: billing } }\n";

    #[test]
    fn queue_nodes_and_transfers_are_listed_with_their_offers() {
        let report = check(PLAN, "p.yaml", &CheckContext::default());
        assert!(!report.has_errors(), "{}", report.render());
        let found: Vec<(&str, &str, u32, bool)> = report
            .queue_nodes
            .iter()
            .map(|n| {
                (
                    n.node.as_str(),
                    n.queue.as_str(),
                    n.at.line,
                    n.callback_offer,
                )
            })
            .collect();
        assert_eq!(
            found,
            [("a", "support", 7, true), ("b", "billing", 8, false)]
        );
    }
}
