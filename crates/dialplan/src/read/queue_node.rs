//! The `queue` action's value: a queue name, or a mapping with the caller's requirements.

use std::collections::BTreeMap;
use std::time::Duration;

use super::{is_identifier, Fields, ReadNumber, Reader};
use crate::duration::parse_duration;
use crate::model::{Edge, QueueOptions, MAX_PROFICIENCY, MIN_PROFICIENCY};
use crate::yaml::{self, Value};

/// The keys of a queue mapping besides `name` (a transfer to a queue takes them too).
pub(super) const QUEUE_SETTING_KEYS: &[&str] = &[
    "priority",
    "skills",
    "preferred_skills",
    "max_wait",
    "callback_offer",
    "exit",
    "survey",
];

const QUEUE_KEYS: &[&str] = &[
    "name",
    "priority",
    "skills",
    "preferred_skills",
    "max_wait",
    "callback_offer",
    "exit",
    "survey",
];

impl Reader<'_, '_> {
    /// `queue: name` or
    /// `queue: { name, priority, skills, preferred_skills, max_wait, callback_offer, exit,
    /// survey }`.
    pub(super) fn queue_node(
        &mut self,
        read: &mut ReadNumber,
        from: &str,
        value: &yaml::Node,
    ) -> Option<(String, QueueOptions, Option<String>)> {
        if !matches!(value.value, Value::Map(_)) {
            return self
                .queue(read, value)
                .map(|queue| (queue, QueueOptions::default(), None));
        }
        let what = format!("queue of node `{from}`");
        let fields = self.fields(
            value,
            &what,
            QUEUE_KEYS,
            "a queue name or a mapping such as `{ name: support, skills: { french: 5 } }`",
        )?;
        // Keep reading after a bad value so every error in the mapping is reported.
        let queue = match fields.get("name") {
            Some((_, name)) => self.queue(read, name),
            None => {
                self.diags.error(value.pos, format!("{what} has no `name`"));
                None
            }
        };
        let settings = self.queue_settings(read, from, &fields);
        Some((queue?, settings.0?, settings.1?))
    }

    /// The settings of a queue mapping beside the queue's name ([`QUEUE_SETTING_KEYS`]): the
    /// options, and `exit`; each `None` when reported bad.
    pub(super) fn queue_settings(
        &mut self,
        read: &mut ReadNumber,
        from: &str,
        fields: &Fields<'_>,
    ) -> (Option<QueueOptions>, Option<Option<String>>) {
        let priority = match fields.get("priority") {
            None => Some(None),
            Some((_, v)) => self.priority(v).map(Some),
        };
        let skills = match fields.get("skills") {
            None => Some(BTreeMap::new()),
            Some((_, v)) => self.skills(v),
        };
        let preferred_skills = match fields.get("preferred_skills") {
            None => Some(BTreeMap::new()),
            Some((_, v)) => self.skills(v),
        };
        let max_wait = match fields.get("max_wait") {
            None => Some(None),
            Some((_, v)) => self.positive_duration(v, "max_wait").map(Some),
        };
        let callback_offer = match fields.get("callback_offer") {
            None => Some(None),
            Some((_, v)) => self.positive_duration(v, "callback_offer").map(Some),
        };
        let survey = match fields.get("survey") {
            None => Some(None),
            Some((_, v)) => self.survey_reference(v).map(Some),
        };
        let exit = match fields.get("exit") {
            None => Some(None),
            Some((_, v)) => self.reference(read, from, Edge::QueueExit, v).map(Some),
        };
        let options = match (
            priority,
            skills,
            preferred_skills,
            max_wait,
            callback_offer,
            survey,
        ) {
            (
                Some(priority),
                Some(skills),
                Some(preferred_skills),
                Some(max_wait),
                Some(callback_offer),
                Some(survey),
            ) => Some(QueueOptions {
                priority,
                skills,
                preferred_skills,
                max_wait,
                callback_offer,
                survey,
            }),
            _ => None,
        };
        (options, exit)
    }

    pub(super) fn priority(&mut self, value: &yaml::Node) -> Option<i32> {
        let text = self.text(value, "a whole number")?;
        match text.trim().parse::<i32>() {
            Ok(priority) => Some(priority),
            Err(_) => {
                self.diags.error(
                    value.pos,
                    format!(
                        "bad priority `{text}`: expected a whole number (higher is served first)"
                    ),
                );
                None
            }
        }
    }

    /// `{ skill: proficiency, ... }` with proficiencies 1-10.
    pub(super) fn skills(&mut self, value: &yaml::Node) -> Option<BTreeMap<String, u8>> {
        let Value::Map(entries) = &value.value else {
            self.expected(
                value,
                "a mapping of skills to proficiency 1-10, such as `{ french: 5 }`",
            );
            return None;
        };
        let mut skills = BTreeMap::new();
        let mut ok = true;
        for (skill, level) in entries {
            if !is_identifier(&skill.text) {
                self.diags.error(
                    skill.pos,
                    format!(
                        "bad skill name `{}`: use letters, digits, `_` and `-`",
                        skill.text
                    ),
                );
                ok = false;
                continue;
            }
            let Some(text) = self.text(level, "a proficiency 1-10") else {
                ok = false;
                continue;
            };
            match text.trim().parse::<u8>() {
                Ok(p) if (MIN_PROFICIENCY..=MAX_PROFICIENCY).contains(&p) => {
                    skills.insert(skill.text.clone(), p);
                }
                _ => {
                    self.diags.error(
                        level.pos,
                        format!(
                            "bad proficiency `{text}` for skill `{}`: use {MIN_PROFICIENCY} to {MAX_PROFICIENCY}",
                            skill.text
                        ),
                    );
                    ok = false;
                }
            }
        }
        ok.then_some(skills)
    }

    /// A duration longer than zero, for the setting `what`.
    fn positive_duration(&mut self, value: &yaml::Node, what: &str) -> Option<Duration> {
        let text = self.text(value, "a duration such as `5m` or `90s`")?;
        match parse_duration(&text) {
            Err(error) => {
                self.diags.error(value.pos, error.to_string());
                None
            }
            Ok(wait) if wait.is_zero() => {
                self.diags
                    .error(value.pos, format!("{what} must be longer than zero"));
                None
            }
            Ok(wait) => Some(wait),
        }
    }
}
