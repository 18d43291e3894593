//! Whether a plan's dials can be made with the configured trunks: a named trunk must exist, an
//! unnamed one must be the only one, and a literal number must pass the trunk's allow-list.
//! Checked by `hotline dialplan check --config`, at start and at every dialplan reload, so a
//! transfer that could never be dialed is refused with its position before a caller needs it.

use std::collections::BTreeMap;
use std::path::Path;

use hotline_dialplan::{closest_name, DialNode, DialplanError, Severity, SourcePos};

use super::TrunkSettings;

/// One error per dial of `file` that the configured `trunks` could never make; none when every
/// dial can be made (or the plan dials nothing).
pub fn dial_errors(
    trunks: &BTreeMap<String, TrunkSettings>,
    file: &Path,
    dials: &[DialNode],
) -> Vec<DialplanError> {
    let names: Vec<&str> = trunks.keys().map(String::as_str).collect();
    let error = |at: SourcePos, message: String, hint: Option<String>| DialplanError {
        file: file.to_path_buf(),
        line: at.line,
        column: at.column,
        message,
        severity: Severity::Error,
        hint,
    };
    let mut errors = Vec::new();
    for dial in dials {
        let node = &dial.node;
        let trunk = match &dial.trunk {
            Some((name, at)) => match trunks.get(name) {
                Some(trunk) => trunk,
                None if names.is_empty() => {
                    errors.push(error(
                        *at,
                        format!("unknown trunk `{name}` in the transfer of node `{node}`: no trunks are configured"),
                        Some("add it under `trunks:` in the configuration".to_owned()),
                    ));
                    continue;
                }
                None => {
                    errors.push(error(
                        *at,
                        format!(
                            "unknown trunk `{name}` in the transfer of node `{node}`; configured trunks: {}",
                            names.join(", ")
                        ),
                        closest_name(name, &names).map(|near| format!("did you mean `{near}`?")),
                    ));
                    continue;
                }
            },
            None => match trunks.values().collect::<Vec<_>>().as_slice() {
                [only] => only,
                [] => {
                    errors.push(error(
                        dial.at,
                        format!("transfer `{node}` dials out and no trunk is configured"),
                        Some("add one under `trunks:` in the configuration".to_owned()),
                    ));
                    continue;
                }
                several => {
                    errors.push(error(
                        dial.at,
                        format!(
                            "transfer `{node}` names no trunk and {} trunks are configured",
                            several.len()
                        ),
                        Some(format!("name the trunk: {}", names.join(", "))),
                    ));
                    continue;
                }
            },
        };
        // A number the dialplan cannot read was reported when it loaded; a variable is checked
        // when the node runs.
        let Some(Ok(e164)) = dial.literal_e164() else {
            continue;
        };
        if trunk.allow.allows(&e164) {
            continue;
        }
        let written = if e164 == dial.number {
            format!("`{e164}`")
        } else {
            format!("`{}` ({e164})", dial.number)
        };
        let trunk_name = &trunk.name;
        let (message, hint) = if trunk.allow.is_empty() {
            (
                format!("number {written} can never be dialed: trunk `{trunk_name}` has an empty allow-list, which refuses every number"),
                format!("allow it under `trunks: {trunk_name}: allow:` in the configuration"),
            )
        } else {
            let patterns: Vec<String> = trunk
                .allow
                .patterns()
                .iter()
                .map(ToString::to_string)
                .collect();
            (
                format!("number {written} can never be dialed: trunk `{trunk_name}`'s allow-list refuses it"),
                format!("the allow-list has {}; add a pattern for it or dial another number", patterns.join(", ")),
            )
        };
        errors.push(error(dial.number_at, message, Some(hint)));
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trunk::config::{parse_trunks, RawTrunk};
    use hotline_dialplan::{Dialplan, ValidationContext};

    fn trunks(allows: &[(&str, &str)]) -> BTreeMap<String, TrunkSettings> {
        let yaml: String = allows
            .iter()
            .map(|(name, allow)| {
                format!("{name}:\n  gateway: 192.0.2.1\n  from_number: \"+8675512345678\"\n  allow: {allow}\n")
            })
            .collect();
        let raw: BTreeMap<String, RawTrunk> = if yaml.is_empty() {
            BTreeMap::new()
        } else {
            serde_saphyr::from_str(&yaml).unwrap_or_else(|e| panic!("{e}"))
        };
        parse_trunks(raw).unwrap_or_else(|e| panic!("{e:#}"))
    }

    /// The errors for a plan whose node `out` (line 6) has this transfer mapping.
    fn errors(transfer: &str, trunks: &BTreeMap<String, TrunkSettings>) -> Vec<String> {
        let source = format!("version: 1\nnumbers:\n  \"1\":\n    start: out\n    nodes:\n      out: {{ transfer: {transfer} }}\n");
        let plan = Dialplan::parse(&source, "p.yaml", &ValidationContext::default())
            .unwrap_or_else(|e| panic!("{e}"));
        dial_errors(trunks, plan.file(), plan.dial_nodes())
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    const TWO: &[(&str, &str)] = &[("carrier", "[\"+86*\"]"), ("pstn", "[\"+8610*\"]")];

    #[test]
    fn an_unknown_trunk_is_an_error_at_its_name_with_the_nearest_one() {
        let found = errors("{ number: \"+861060000000\", trunk: pstm }", &trunks(TWO));
        assert_eq!(
            found,
            ["p.yaml:6:58: unknown trunk `pstm` in the transfer of node `out`; configured trunks: carrier, pstn; did you mean `pstn`?"]
        );
        let found = errors("{ number: \"+861060000000\", trunk: mobile }", &trunks(TWO));
        assert_eq!(
            found,
            ["p.yaml:6:58: unknown trunk `mobile` in the transfer of node `out`; configured trunks: carrier, pstn"]
        );
        let found = errors("{ number: \"+861060000000\", trunk: pstn }", &trunks(&[]));
        assert_eq!(
            found,
            ["p.yaml:6:58: unknown trunk `pstn` in the transfer of node `out`: no trunks are configured; add it under `trunks:` in the configuration"]
        );
    }

    #[test]
    fn no_trunk_named_needs_exactly_one_configured() {
        let dial = "{ number: \"+861060000000\" }";
        assert_eq!(
            errors(dial, &trunks(TWO)),
            ["p.yaml:6:7: transfer `out` names no trunk and 2 trunks are configured; name the trunk: carrier, pstn"]
        );
        assert_eq!(
            errors(dial, &trunks(&[])),
            ["p.yaml:6:7: transfer `out` dials out and no trunk is configured; add one under `trunks:` in the configuration"]
        );
        assert!(errors(dial, &trunks(&TWO[1..])).is_empty());
    }

    #[test]
    fn a_literal_number_the_allow_list_refuses_is_an_error_at_the_number() {
        // Read with the dialplan's country (86) as the dial reads it: 010... is +8610...
        let found = errors("{ number: \"021 6000 0000\", trunk: pstn }", &trunks(TWO));
        assert_eq!(
            found,
            ["p.yaml:6:34: number `021 6000 0000` (+862160000000) can never be dialed: trunk `pstn`'s allow-list refuses it; the allow-list has +8610*; add a pattern for it or dial another number"]
        );
        assert!(errors("{ number: \"010 6000 0000\", trunk: pstn }", &trunks(TWO)).is_empty());
        let found = errors(
            "{ number: \"+861060000000\" }",
            &trunks(&[("carrier", "[]")]),
        );
        assert_eq!(
            found,
            ["p.yaml:6:34: number `+861060000000` can never be dialed: trunk `carrier` has an empty allow-list, which refuses every number; allow it under `trunks: carrier: allow:` in the configuration"]
        );
    }

    #[test]
    fn a_variable_number_is_left_to_the_run() {
        let dial = "{ number: \"${callback}\", trunk: pstn }";
        assert!(errors(dial, &trunks(&[("pstn", "[]")])).is_empty());
        // The trunk is still checked.
        assert_eq!(errors(dial, &trunks(&[("carrier", "[]")])).len(), 1);
    }
}
