//! Where a dialplan speaks text at run time (`say` with `kind: text`): the server needs a speech
//! synthesizer for those nodes and refuses a plan that has them when it has none.

use crate::model::NodeKind;
use crate::read::ReadFile;
use crate::say::SayKind;

/// A `say` node that speaks text synthesized at run time, and where it is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpeechNode {
    /// The dialed number whose flow has the node.
    pub number: String,
    /// The node's name.
    pub node: String,
    /// 1-based line of the node's name in the file.
    pub line: u32,
    /// 1-based column of the node's name, in characters.
    pub column: u32,
}

/// Every node of `read` that speaks text, in file order.
pub(crate) fn speech_nodes(read: &ReadFile) -> Vec<SpeechNode> {
    let mut found: Vec<SpeechNode> = read
        .numbers
        .iter()
        .flat_map(|number| {
            number.nodes.iter().filter_map(|(name, node)| {
                let speaks = matches!(&node.kind, NodeKind::Say(say) if say.kind == SayKind::Text);
                let pos = number.declared.get(name)?;
                speaks.then(|| SpeechNode {
                    number: number.number.value.clone(),
                    node: name.clone(),
                    line: pos.line,
                    column: pos.column,
                })
            })
        })
        .collect();
    found.sort_by_key(|n| (n.line, n.column));
    found
}

#[cfg(test)]
mod tests {
    use crate::{check, CheckContext, Dialplan, ValidationContext};

    const PLAN: &str = "version: 1\nnumbers:\n  \"1\":\n    start: greet\n    nodes:\n      greet: { say: { value: \"${name}\", kind: text }, next: count }\n      count: { say: { value: \"12\", kind: number }, next: bye }\n      bye: { hangup: true }\n  \"2\":\n    start: hello\n    nodes:\n      hello: { say: { value: Hello there, kind: text }, next: bye }\n      bye: { hangup: true }\n";

    #[test]
    fn text_say_nodes_are_listed_with_their_positions() {
        let plan = Dialplan::parse(PLAN, "p.yaml", &ValidationContext::default()).unwrap();
        let found: Vec<(String, String, u32, u32)> = plan
            .speech_nodes()
            .iter()
            .map(|n| (n.number.clone(), n.node.clone(), n.line, n.column))
            .collect();
        assert_eq!(
            found,
            [
                ("1".into(), "greet".into(), 6, 7),
                ("2".into(), "hello".into(), 12, 7)
            ]
        );
        let report = check(PLAN, "p.yaml", &CheckContext::default());
        assert!(!report.has_errors(), "{}", report.render());
        assert_eq!(report.speech_nodes, plan.speech_nodes());
    }

    #[test]
    fn a_plan_without_text_needs_no_synthesizer() {
        let plan = PLAN
            .replace("kind: text", "kind: digits")
            .replace("value: Hello there", "value: \"42\"");
        let plan = Dialplan::parse(&plan, "p.yaml", &ValidationContext::default()).unwrap();
        assert!(plan.speech_nodes().is_empty());
    }
}
