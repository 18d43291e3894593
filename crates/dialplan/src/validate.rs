//! Checks that span nodes: references resolve, no cycle runs without caller input, nodes are
//! reachable, and prompts and queues exist where the caller says which exist.

use std::collections::{BTreeMap, BTreeSet};

use crate::error::{Diagnostics, Pos};
use crate::model::Number;
use crate::read::{closest_name, ReadFile, ReadNumber};

/// What the dialplan is checked against beyond itself. Both sets are optional so a dialplan can
/// be checked without a server configuration (`hotline dialplan check FILE`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ValidationContext {
    /// Queue names configured in the server; `None` accepts any queue name.
    pub queues: Option<BTreeSet<String>>,
    /// Prompt names available (files `prompts/<lang>/<name>.wav`); `None` accepts any name.
    pub prompts: Option<BTreeSet<String>>,
}

/// The validated parts a [`crate::Dialplan`] is built from.
pub(crate) struct Validated {
    pub numbers: BTreeMap<String, Number>,
    pub prompts: BTreeSet<String>,
    pub queues: BTreeSet<String>,
}

/// Runs the cross-node checks on every number read.
pub(crate) fn validate(
    file: ReadFile,
    ctx: &ValidationContext,
    diags: &mut Diagnostics<'_>,
) -> Validated {
    let mut validated = Validated {
        numbers: BTreeMap::new(),
        prompts: BTreeSet::new(),
        queues: BTreeSet::new(),
    };
    crate::transfers::check_flows(&file, diags);
    for prompt in &file.survey_prompts {
        known(
            diags,
            ctx.prompts.as_ref(),
            &prompt.value,
            prompt.pos,
            "prompt",
            "known prompts",
        );
        validated.prompts.insert(prompt.value.clone());
    }
    for read in file.numbers {
        let number = &read.number.value;
        for list in &read.lists {
            if !file.lists.contains_key(&list.value) && !file.declared_lists.contains(&list.value) {
                let names: Vec<&str> = file.lists.keys().map(String::as_str).collect();
                diags.error(
                    list.pos,
                    format!(
                        "unknown list `{}`; lists: {}",
                        list.value,
                        if names.is_empty() {
                            "none".to_owned()
                        } else {
                            names.join(", ")
                        }
                    ),
                );
            }
        }
        for schedule in &read.schedules {
            if !file.schedules.contains_key(&schedule.value)
                && !file.declared_schedules.contains(&schedule.value)
            {
                let names: Vec<&str> = file.schedules.keys().map(String::as_str).collect();
                diags.error(
                    schedule.pos,
                    format!(
                        "unknown schedule `{}`; schedules: {}",
                        schedule.value,
                        if names.is_empty() {
                            "none".to_owned()
                        } else {
                            names.join(", ")
                        }
                    ),
                );
            }
        }
        let mut targets = read
            .refs
            .iter()
            .map(|(_, _, target)| target)
            .collect::<Vec<_>>();
        targets.extend(read.start.iter());
        for target in targets {
            if !read.declared.contains_key(&target.value) {
                let names: Vec<&str> = read.declared.keys().map(String::as_str).collect();
                diags.error_with_hint(
                    target.pos,
                    format!("unknown node `{}` in number `{number}`", target.value),
                    closest_name(&target.value, &names)
                        .map(|near| format!("did you mean `{near}`?")),
                );
            }
        }
        for prompt in &read.prompts {
            known(
                diags,
                ctx.prompts.as_ref(),
                &prompt.value,
                prompt.pos,
                "prompt",
                "known prompts",
            );
            validated.prompts.insert(prompt.value.clone());
        }
        for queue in &read.queues {
            known(
                diags,
                ctx.queues.as_ref(),
                &queue.value,
                queue.pos,
                "queue",
                "configured queues",
            );
            validated.queues.insert(queue.value.clone());
        }
        cycles_without_input(&read, diags);
        unreachable_nodes(&read, diags);
        if let Some(start) = read.start {
            validated.numbers.insert(
                read.number.value,
                Number {
                    start: start.value,
                    nodes: read.nodes,
                },
            );
        }
    }
    validated
}

fn known(
    diags: &mut Diagnostics<'_>,
    set: Option<&BTreeSet<String>>,
    name: &str,
    pos: Pos,
    what: &str,
    list: &str,
) {
    let Some(set) = set else {
        return;
    };
    if set.contains(name) {
        return;
    }
    const SHOWN: usize = 10;
    let mut names: Vec<&str> = set.iter().map(String::as_str).take(SHOWN).collect();
    if set.len() > SHOWN {
        names.push("...");
    }
    let names = if names.is_empty() {
        "none".to_owned()
    } else {
        names.join(", ")
    };
    diags.error(pos, format!("unknown {what} `{name}`; {list}: {names}"));
}

/// A cycle made only of edges the executor follows by itself (`next`, `on_timeout`,
/// `on_failure`) would loop forever for a caller who presses nothing, so it is an error. Cycles
/// through a menu digit are fine: the caller chose to go round again.
fn cycles_without_input(read: &ReadNumber, diags: &mut Diagnostics<'_>) {
    let mut graph: BTreeMap<&str, Vec<(&str, Pos)>> = BTreeMap::new();
    for (from, edge, target) in &read.refs {
        if !edge.needs_caller_input() && read.declared.contains_key(&target.value) {
            graph
                .entry(from.as_str())
                .or_default()
                .push((target.value.as_str(), target.pos));
        }
    }
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Unseen,
        OnPath,
        Done,
    }
    let mut marks: BTreeMap<&str, Mark> = read
        .declared
        .keys()
        .map(|name| (name.as_str(), Mark::Unseen))
        .collect();
    let no_edges = Vec::new();
    // From the start node first, then the rest in source order, so reports read top-down.
    let mut roots: Vec<(&str, Pos)> = read
        .declared
        .iter()
        .map(|(name, pos)| (name.as_str(), *pos))
        .collect();
    roots.sort_by_key(|(name, pos)| {
        (
            Some(*name) != read.start.as_ref().map(|s| s.value.as_str()),
            *pos,
        )
    });
    for (root, _) in roots {
        if marks.get(root) != Some(&Mark::Unseen) {
            continue;
        }
        // Iterative depth-first search: (node, index of the next edge to follow).
        let mut path: Vec<(&str, usize)> = vec![(root, 0)];
        marks.insert(root, Mark::OnPath);
        while let Some(top) = path.last_mut() {
            let (node, index) = *top;
            top.1 += 1;
            let edges = graph.get(node).unwrap_or(&no_edges);
            let Some((target, pos)) = edges.get(index).copied() else {
                marks.insert(node, Mark::Done);
                path.pop();
                continue;
            };
            match marks.get(target).copied().unwrap_or(Mark::Done) {
                Mark::Unseen => {
                    marks.insert(target, Mark::OnPath);
                    path.push((target, 0));
                }
                Mark::OnPath => {
                    let start = path.iter().position(|(n, _)| *n == target).unwrap_or(0);
                    let mut names: Vec<String> = path[start..]
                        .iter()
                        .map(|(n, _)| format!("`{n}`"))
                        .collect();
                    names.push(format!("`{target}`"));
                    diags.error(
                        pos,
                        format!(
                            "cycle without caller input: {}; a caller who presses nothing would loop forever",
                            names.join(" -> ")
                        ),
                    );
                }
                Mark::Done => {}
            }
        }
    }
}

/// Nodes no path from the start reaches are a warning: the plan works, but something is off.
fn unreachable_nodes(read: &ReadNumber, diags: &mut Diagnostics<'_>) {
    let Some(start) = &read.start else {
        return;
    };
    if !read.declared.contains_key(&start.value) {
        return;
    }
    let mut graph: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (from, _, target) in &read.refs {
        graph.entry(from.as_str()).or_default().push(&target.value);
    }
    let mut reached: BTreeSet<&str> = BTreeSet::new();
    let mut todo = vec![start.value.as_str()];
    while let Some(node) = todo.pop() {
        if reached.insert(node) {
            todo.extend(graph.get(node).into_iter().flatten().copied());
        }
    }
    for (name, pos) in &read.declared {
        if !reached.contains(name.as_str()) {
            diags.warning(
                *pos,
                format!(
                    "node `{name}` is never reached from start node `{}`",
                    start.value
                ),
            );
        }
    }
}
