//! Checks of flow transfers (`transfer: { flow: "95501" }`), which span numbers: the number
//! must exist, and no loop may run through transfers without caller input.
//!
//! A flow transfer enters the other number at its start node. So a loop across numbers without
//! input goes from each number's start, through edges the executor follows by itself, to a flow
//! transfer into the next number, and back to the first: a cycle in the graph "number A leads
//! to number B" where B is named by a flow transfer that A's start reaches without input.
//! Loops within one number are found by [`crate::validate`].

use std::collections::{BTreeMap, BTreeSet};

use crate::error::{Diagnostics, Pos};
use crate::read::{closest_name, ReadFile, ReadNumber};

/// Reports flow transfers to unknown numbers and loops through flow transfers that need no
/// caller input.
pub(crate) fn check_flows(file: &ReadFile, diags: &mut Diagnostics<'_>) {
    let numbers: BTreeMap<&str, &ReadNumber> = file
        .numbers
        .iter()
        .map(|read| (read.number.value.as_str(), read))
        .collect();
    let names: Vec<&str> = numbers.keys().copied().collect();
    for read in &file.numbers {
        for (from, target) in &read.flows {
            if !numbers.contains_key(target.value.as_str()) {
                diags.error_with_hint(
                    target.pos,
                    format!(
                        "unknown number `{}` in the transfer of node `{from}`; numbers: {}",
                        target.value,
                        names.join(", ")
                    ),
                    closest_name(&target.value, &names)
                        .map(|near| format!("did you mean `{near}`?")),
                );
            }
        }
    }
    // Number -> (the number a transfer reached without input leads to, the transfer node, the
    // position of its `flow`).
    let mut graph: BTreeMap<&str, Vec<(&str, &str, Pos)>> = BTreeMap::new();
    for read in &file.numbers {
        let silent = reached_without_input(read);
        for (from, target) in &read.flows {
            if silent.contains(from.as_str()) {
                if let Some((to, _)) = numbers.get_key_value(target.value.as_str()) {
                    graph.entry(read.number.value.as_str()).or_default().push((
                        to,
                        from.as_str(),
                        target.pos,
                    ));
                }
            }
        }
    }
    report_cycles(&names, &graph, diags);
}

/// The nodes a call reaches from the number's start without the caller pressing anything.
fn reached_without_input(read: &ReadNumber) -> BTreeSet<&str> {
    let mut reached = BTreeSet::new();
    let Some(start) = &read.start else {
        return reached;
    };
    let mut edges: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (from, edge, target) in &read.refs {
        if !edge.needs_caller_input() {
            edges
                .entry(from.as_str())
                .or_default()
                .push(target.value.as_str());
        }
    }
    let mut todo = vec![start.value.as_str()];
    while let Some(node) = todo.pop() {
        if reached.insert(node) {
            todo.extend(edges.get(node).into_iter().flatten().copied());
        }
    }
    reached
}

/// Depth-first search over numbers; each cycle is reported once, at the transfer closing it.
fn report_cycles(
    numbers: &[&str],
    graph: &BTreeMap<&str, Vec<(&str, &str, Pos)>>,
    diags: &mut Diagnostics<'_>,
) {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Unseen,
        OnPath,
        Done,
    }
    let mut marks: BTreeMap<&str, Mark> = numbers.iter().map(|n| (*n, Mark::Unseen)).collect();
    let no_edges = Vec::new();
    for root in numbers {
        if marks.get(root) != Some(&Mark::Unseen) {
            continue;
        }
        // (number, index of the next edge to follow, the transfer node that led here).
        let mut path: Vec<(&str, usize, &str)> = vec![(root, 0, "")];
        marks.insert(root, Mark::OnPath);
        while let Some(top) = path.last_mut() {
            let (number, index, _) = *top;
            top.1 += 1;
            let edges = graph.get(number).unwrap_or(&no_edges);
            let Some((target, via, pos)) = edges.get(index).copied() else {
                marks.insert(number, Mark::Done);
                path.pop();
                continue;
            };
            match marks.get(target).copied().unwrap_or(Mark::Done) {
                Mark::Unseen => {
                    marks.insert(target, Mark::OnPath);
                    path.push((target, 0, via));
                }
                Mark::OnPath => {
                    let start = path.iter().position(|(n, ..)| *n == target).unwrap_or(0);
                    // Each step names the number and the transfer node it leaves by.
                    let mut steps: Vec<String> = path[start..]
                        .windows(2)
                        .map(|pair| format!("`{}` (node `{}`)", pair[0].0, pair[1].2))
                        .collect();
                    steps.push(format!("`{number}` (node `{via}`)"));
                    steps.push(format!("`{target}`"));
                    diags.error(
                        pos,
                        format!(
                            "loop through transfers without caller input: {}; a caller who presses nothing would loop forever",
                            steps.join(" -> ")
                        ),
                    );
                }
                Mark::Done => {}
            }
        }
    }
}
