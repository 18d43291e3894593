//! The `set` node: variables and call attributes.

use super::{is_identifier, Reader};
use crate::model::{Assignment, NodeRecording};
use crate::yaml::{self, Value};
use hotline_recording::{RecordingPolicy, SampleShare};

const SET_KEYS: &[&str] = &[
    "variables",
    "language",
    "priority",
    "skills",
    "data",
    "recording",
];

impl Reader<'_, '_> {
    /// `set: { variables: {...}, language: zh, priority: 8, skills: {...}, data: {...} }`.
    pub(super) fn set_node(&mut self, from: &str, value: &yaml::Node) -> Option<Vec<Assignment>> {
        let what = format!("set `{from}`");
        let fields = self.fields(
            value,
            &what,
            SET_KEYS,
            "a mapping such as `{ language: zh, priority: 8 }`",
        )?;
        if fields.is_empty() {
            self.diags.error(value.pos, format!("{what} sets nothing"));
            return None;
        }
        let mut assignments = Vec::new();
        let mut ok = true;
        if let Some((_, v)) = fields.get("variables") {
            match self.text_map(v, "variables") {
                Some(pairs) => assignments.extend(
                    pairs
                        .into_iter()
                        .map(|(name, value)| Assignment::Variable { name, value }),
                ),
                None => ok = false,
            }
        }
        if let Some((_, v)) = fields.get("language") {
            match self.text(v, "a language folder name such as `zh`") {
                Some(language) if is_identifier(&language) => {
                    assignments.push(Assignment::Language(language));
                }
                Some(language) => {
                    self.diags.error(
                        v.pos,
                        format!("bad language `{language}`: use letters, digits, `_` and `-`"),
                    );
                    ok = false;
                }
                None => ok = false,
            }
        }
        if let Some((_, v)) = fields.get("priority") {
            match self.priority(v) {
                Some(p) => assignments.push(Assignment::Priority(p)),
                None => ok = false,
            }
        }
        if let Some((_, v)) = fields.get("skills") {
            match self.skills(v) {
                Some(skills) => assignments.extend(
                    skills
                        .into_iter()
                        .map(|(name, level)| Assignment::Skill { name, level }),
                ),
                None => ok = false,
            }
        }
        if let Some((_, v)) = fields.get("data") {
            match self.text_map(v, "data") {
                Some(pairs) => assignments.extend(
                    pairs
                        .into_iter()
                        .map(|(key, value)| Assignment::QueueData { key, value }),
                ),
                None => ok = false,
            }
        }
        if let Some((_, v)) = fields.get("recording") {
            match self.node_recording(v) {
                Some(recording) => assignments.push(Assignment::Recording(recording)),
                None => ok = false,
            }
        }
        ok.then_some(assignments)
    }

    /// `recording: always | never | on_demand | { sampled: 20% }`, or
    /// `{ policy: <one of those>, ivr: true }` to record the IVR part too.
    fn node_recording(&mut self, value: &yaml::Node) -> Option<NodeRecording> {
        const EXPECTED: &str = "a recording policy: `always`, `never`, `on_demand`, `{ sampled: 20% }` or `{ policy: always, ivr: true }`";
        let Value::Map(entries) = &value.value else {
            return self
                .recording_policy(value)
                .map(|policy| NodeRecording { policy, ivr: false });
        };
        if entries.iter().any(|(k, _)| k.text == "sampled") {
            return self
                .recording_policy(value)
                .map(|policy| NodeRecording { policy, ivr: false });
        }
        let fields = self.fields(value, "recording", &["policy", "ivr"], EXPECTED)?;
        let Some((_, policy)) = fields.get("policy") else {
            self.diags.error(
                value.pos,
                "recording needs `policy`: always, never, on_demand or { sampled: 20% }",
            );
            return None;
        };
        let policy = self.recording_policy(policy);
        let ivr = match fields.get("ivr") {
            None => Some(false),
            Some((_, v)) => self.boolean(v),
        };
        Some(NodeRecording {
            policy: policy?,
            ivr: ivr?,
        })
    }

    /// One policy: a word, or `{ sampled: 20% }`.
    fn recording_policy(&mut self, value: &yaml::Node) -> Option<RecordingPolicy> {
        const WORDS: &str = "`always`, `never`, `on_demand` or `{ sampled: 20% }`";
        if let Value::Map(_) = &value.value {
            let fields = self.fields(value, "recording", &["sampled"], WORDS)?;
            let (_, share) = fields.get("sampled")?;
            let text = self.text(share, "a share such as `20%`")?;
            return match text.parse::<SampleShare>() {
                Ok(share) => Some(RecordingPolicy::Sampled(share)),
                Err(e) => {
                    self.diags
                        .error(share.pos, format!("bad sample share: {e}"));
                    None
                }
            };
        }
        let word = self.text(value, WORDS)?;
        match word.as_str() {
            "always" => Some(RecordingPolicy::Always),
            "never" => Some(RecordingPolicy::Never),
            "on_demand" => Some(RecordingPolicy::OnDemand),
            other => {
                self.diags.error(
                    value.pos,
                    format!("unknown recording policy `{other}`: use {WORDS}"),
                );
                None
            }
        }
    }

    /// `{ name: text, ... }` with identifier names, in source order.
    fn text_map(&mut self, value: &yaml::Node, what: &str) -> Option<Vec<(String, String)>> {
        let Value::Map(entries) = &value.value else {
            self.expected(value, &format!("a mapping of {what} names to values"));
            return None;
        };
        let mut pairs = Vec::new();
        let mut ok = true;
        for (key, item) in entries {
            if !is_identifier(&key.text) {
                self.diags.error(
                    key.pos,
                    format!(
                        "bad name `{}` in {what}: use letters, digits, `_` and `-`",
                        key.text
                    ),
                );
                ok = false;
                continue;
            }
            match super::scalar(item) {
                Some(text) if !item.is_null() => pairs.push((key.text.clone(), text.to_owned())),
                _ => {
                    self.expected(item, "a value");
                    ok = false;
                }
            }
        }
        ok.then_some(pairs)
    }
}
