//! The `say` node: a value spoken in the call's language.

use super::Reader;
use crate::say::{say, SayKind, SayLanguage};
use crate::yaml;

const SAY_KEYS: &[&str] = &["value", "kind"];

impl Reader<'_, '_> {
    /// `say: { value: "${wait}", kind: digits|number|duration|position|text }`; a literal value
    /// is checked here, a `${variable}` when the node runs. Text is any words, synthesized by the
    /// server when the node runs.
    pub(super) fn say_node(&mut self, from: &str, value: &yaml::Node) -> Option<(String, SayKind)> {
        let what = format!("say `{from}`");
        let fields = self.fields(
            value,
            &what,
            SAY_KEYS,
            "a mapping such as `{ value: \"${position}\", kind: position }`",
        )?;
        let kinds: Vec<&str> = SayKind::ALL.iter().map(|k| k.name()).collect();
        let kind = match fields.get("kind") {
            None => {
                self.diags.error(
                    value.pos,
                    format!("{what} needs `kind`: one of {}", kinds.join(", ")),
                );
                None
            }
            Some((_, v)) => match self.text(v, "a kind of value") {
                Some(text) => match SayKind::from_name(text.trim()) {
                    Some(kind) => Some(kind),
                    None => {
                        self.diags.error(
                            v.pos,
                            format!(
                                "unknown say kind `{text}`: expected one of {}",
                                kinds.join(", ")
                            ),
                        );
                        None
                    }
                },
                None => None,
            },
        };
        let said = match fields.get("value") {
            None => {
                self.diags.error(
                    value.pos,
                    format!("{what} needs `value`: a literal or `${{variable}}`"),
                );
                None
            }
            Some((_, v)) => self.text(v, "a value or `${variable}`").map(|t| (t, v.pos)),
        };
        let ((text, pos), kind) = said.zip(kind)?;
        if kind == SayKind::Text {
            if text.trim().is_empty() {
                self.diags
                    .error(pos, format!("{what} has no text to speak"));
                return None;
            }
            return Some((text, kind));
        }
        if !text.contains("${") {
            if let Err(error) = say(kind, &text, SayLanguage::English) {
                self.diags
                    .error(pos, format!("{what} cannot say `{text}`: {error}"));
                return None;
            }
        }
        Some((text, kind))
    }
}
