//! Where a dialplan dials outside numbers (`transfer: { number, trunk }`): the server checks
//! each against its trunks before a call needs it (the trunk exists, or one is the only one; a
//! literal number passes the trunk's allow-list), so a plan that could never dial is refused
//! with the position of the node, the trunk or the number.

use crate::e164::{normalize, CountryCode, E164Error};
use crate::read::{closest_name as nearest, ReadFile};

/// A 1-based line and column (in characters) in a dialplan file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct SourcePos {
    /// 1-based line.
    pub line: u32,
    /// 1-based column, in characters.
    pub column: u32,
}

/// A `transfer` node that dials an outside number, and where its parts are written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DialNode {
    /// The dialed number whose flow has the node (a key of `numbers:`).
    pub flow: String,
    /// The node's name.
    pub node: String,
    /// Where the node's name is written.
    pub at: SourcePos,
    /// The number to dial as written: a literal or one with `${variable}`s.
    pub number: String,
    /// Where the number is written.
    pub number_at: SourcePos,
    /// The trunk named and where its name is written; `None`: the only configured trunk.
    pub trunk: Option<(String, SourcePos)>,
    /// The country the dialplan reads numbers without `+` in.
    pub country: CountryCode,
}

impl DialNode {
    /// The number in E.164 when it is a literal (`None` when it has a `${variable}`, filled in
    /// only when the node runs), read with the dialplan's country as the dial reads it.
    pub fn literal_e164(&self) -> Option<Result<String, E164Error>> {
        (!self.number.contains("${")).then(|| normalize(&self.number, self.country))
    }
}

/// Every node of `read` that dials an outside number, in file order.
pub(crate) fn dial_nodes(read: &ReadFile) -> Vec<DialNode> {
    let pos = |p: crate::error::Pos| SourcePos {
        line: p.line,
        column: p.column,
    };
    let mut found: Vec<DialNode> = read
        .numbers
        .iter()
        .flat_map(|number| {
            number.dials.iter().filter_map(|(node, dialed, trunk)| {
                let at = number.declared.get(node)?;
                Some(DialNode {
                    flow: number.number.value.clone(),
                    node: node.clone(),
                    at: pos(*at),
                    number: dialed.value.clone(),
                    number_at: pos(dialed.pos),
                    trunk: trunk.as_ref().map(|t| (t.value.clone(), pos(t.pos))),
                    country: read.country,
                })
            })
        })
        .collect();
    found.sort_by_key(|n| n.at);
    found
}

/// The name of `names` nearest to a misspelt `word`, close enough for a "did you mean" hint
/// (the rule the dialplan's own hints follow).
pub fn closest_name<'a>(word: &str, names: &[&'a str]) -> Option<&'a str> {
    nearest(word, names)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{check, CheckContext, Dialplan, ValidationContext};

    const PLAN: &str = "version: 1\ncountry: \"86\"\nnumbers:\n  \"1\":\n    start: out\n    nodes:\n      out: { transfer: { number: \"010 6000 0000\", trunk: pstn, failed: cb } }\n      cb: { transfer: { number: \"${callback}\" } }\n  \"2\":\n    start: q\n    nodes:\n      q: { queue: support }\n";

    #[test]
    fn dials_are_listed_with_the_positions_of_node_number_and_trunk() {
        let plan = Dialplan::parse(PLAN, "p.yaml", &ValidationContext::default()).unwrap();
        let dials = plan.dial_nodes();
        assert_eq!(dials.len(), 2);
        let out = &dials[0];
        assert_eq!((out.flow.as_str(), out.node.as_str()), ("1", "out"));
        assert_eq!(out.at, SourcePos { line: 7, column: 7 });
        assert_eq!(out.number, "010 6000 0000");
        assert_eq!(
            out.number_at,
            SourcePos {
                line: 7,
                column: 34
            }
        );
        assert_eq!(
            out.trunk,
            Some((
                "pstn".to_owned(),
                SourcePos {
                    line: 7,
                    column: 58
                }
            ))
        );
        assert_eq!(out.literal_e164(), Some(Ok("+861060000000".to_owned())));
        let cb = &dials[1];
        assert_eq!((cb.node.as_str(), cb.trunk.as_ref()), ("cb", None));
        assert_eq!(cb.at, SourcePos { line: 8, column: 7 });
        assert_eq!(
            cb.literal_e164(),
            None,
            "a variable is filled in at run time"
        );
        let report = check(PLAN, "p.yaml", &CheckContext::default());
        assert!(!report.has_errors(), "{}", report.render());
        assert_eq!(report.dial_nodes, dials);
    }

    #[test]
    fn a_plan_without_dials_lists_none() {
        let plan = "version: 1\nnumbers:\n  \"2\":\n    start: q\n    nodes:\n      q: { transfer: { queue: support } }\n";
        let plan = Dialplan::parse(plan, "p.yaml", &ValidationContext::default()).unwrap();
        assert!(plan.dial_nodes().is_empty());
    }

    #[test]
    fn a_near_name_is_suggested_and_a_far_one_is_not() {
        assert_eq!(closest_name("pstm", &["carrier", "pstn"]), Some("pstn"));
        assert_eq!(closest_name("mobile", &["carrier", "pstn"]), None);
    }
}
