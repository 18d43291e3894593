//! The top-level `surveys:`: satisfaction surveys a queue node names (asked after the agent
//! hangs up) or a `survey` node asks in the flow (`{ survey: csat, next: thanks, on_skipped:
//! sorry }`).
//!
//! ```yaml
//! surveys:
//!   csat:
//!     intro: survey_intro
//!     questions:
//!       - survey_agent                               # min 1, max 5
//!       - { prompt: survey_resolved, min: 1, max: 2 }
//!     timeout: 5s
//!     retries: 1
//!     invalid: survey_invalid
//!     thanks: survey_thanks
//! ```

use std::collections::BTreeMap;
use std::time::Duration;

use super::{is_identifier, scalar, Fields, Located, ReadNumber, Reader};
use crate::duration::parse_duration;
use crate::model::{Edge, SurveyNode};
use crate::model::{MAX_MENU_RETRIES, MAX_MENU_TIMEOUT, MIN_MENU_TIMEOUT};
use crate::survey::{
    Survey, SurveyQuestion, DEFAULT_SURVEY_MAX, DEFAULT_SURVEY_MIN, DEFAULT_SURVEY_RETRIES,
    DEFAULT_SURVEY_TIMEOUT,
};
use crate::yaml::{self, Value};

const SURVEY_KEYS: &[&str] = &[
    "intro",
    "questions",
    "timeout",
    "retries",
    "invalid",
    "thanks",
    "description",
];

const QUESTION_KEYS: &[&str] = &["prompt", "min", "max"];

/// Most questions a survey may ask.
const MAX_QUESTIONS: usize = 10;

impl Reader<'_, '_> {
    /// `surveys: { name: { questions, ... } }`; every prompt named goes to `prompts`.
    pub(super) fn surveys(
        &mut self,
        value: &yaml::Node,
        prompts: &mut Vec<Located<String>>,
    ) -> BTreeMap<String, Survey> {
        let mut surveys = BTreeMap::new();
        let Value::Map(entries) = &value.value else {
            self.expected(value, "a mapping of survey names to surveys");
            return surveys;
        };
        for (name, body) in entries {
            if !is_identifier(&name.text) {
                self.diags.error(
                    name.pos,
                    format!(
                        "bad survey name `{}`: use letters, digits, `_` and `-`",
                        name.text
                    ),
                );
                continue;
            }
            if let Some(survey) = self.survey(&name.text, body, prompts) {
                surveys.insert(name.text.clone(), survey);
            }
        }
        surveys
    }

    fn survey(
        &mut self,
        name: &str,
        body: &yaml::Node,
        prompts: &mut Vec<Located<String>>,
    ) -> Option<Survey> {
        let what = format!("survey `{name}`");
        let fields = self.fields(
            body,
            &what,
            SURVEY_KEYS,
            "a mapping with `questions`, such as `{ questions: [survey_agent] }`",
        )?;
        let errors_before = self.diags.error_count();
        let mut prompt_of = |reader: &mut Self, key: &str| match fields.get(key) {
            None => Some(None),
            Some((_, v)) => reader.survey_prompt(v, prompts).map(Some),
        };
        let intro = prompt_of(self, "intro");
        let invalid = prompt_of(self, "invalid");
        let thanks = prompt_of(self, "thanks");
        let questions = match fields.get("questions") {
            None => {
                self.diags.error(
                    body.pos,
                    format!("{what} has no `questions`: list at least one question prompt"),
                );
                None
            }
            Some((_, v)) => self.questions(&what, v, prompts),
        };
        let timeout = match fields.get("timeout") {
            None => Some(DEFAULT_SURVEY_TIMEOUT),
            Some((_, v)) => self.survey_timeout(v),
        };
        let retries = match fields.get("retries") {
            None => Some(DEFAULT_SURVEY_RETRIES),
            Some((_, v)) => self.whole_number(v, "retries", 0..=MAX_MENU_RETRIES),
        };
        if self.diags.error_count() > errors_before {
            return None;
        }
        Some(Survey {
            intro: intro?,
            questions: questions?,
            timeout: timeout?,
            retries: retries?,
            invalid: invalid?,
            thanks: thanks?,
        })
    }

    fn questions(
        &mut self,
        what: &str,
        value: &yaml::Node,
        prompts: &mut Vec<Located<String>>,
    ) -> Option<Vec<SurveyQuestion>> {
        let Value::Seq(items) = &value.value else {
            self.expected(
                value,
                "a list of questions, such as `[survey_agent, { prompt: survey_resolved, max: 2 }]`",
            );
            return None;
        };
        if items.is_empty() || items.len() > MAX_QUESTIONS {
            self.diags.error(
                value.pos,
                format!("{what} must ask 1 to {MAX_QUESTIONS} questions"),
            );
            return None;
        }
        let questions: Vec<Option<SurveyQuestion>> = items
            .iter()
            .map(|item| self.question(item, prompts))
            .collect();
        questions.into_iter().collect()
    }

    /// A question: a prompt name (scores 1-5) or `{ prompt, min, max }`.
    fn question(
        &mut self,
        item: &yaml::Node,
        prompts: &mut Vec<Located<String>>,
    ) -> Option<SurveyQuestion> {
        if !matches!(item.value, Value::Map(_)) {
            return self
                .survey_prompt(item, prompts)
                .map(|prompt| SurveyQuestion {
                    prompt,
                    min: DEFAULT_SURVEY_MIN,
                    max: DEFAULT_SURVEY_MAX,
                });
        }
        let fields = self.fields(
            item,
            "a survey question",
            QUESTION_KEYS,
            "a prompt name or `{ prompt, min, max }`",
        )?;
        let prompt = match fields.get("prompt") {
            None => {
                self.diags
                    .error(item.pos, "a survey question needs a `prompt`");
                None
            }
            Some((_, v)) => self.survey_prompt(v, prompts),
        };
        let score = |reader: &mut Self, key: &str, default: u8| match fields.get(key) {
            None => Some(default),
            Some((_, v)) => reader
                .whole_number(v, &format!("score `{key}`"), 0..=9)
                .and_then(|n| u8::try_from(n).ok()),
        };
        let min = score(self, "min", DEFAULT_SURVEY_MIN);
        let max = score(self, "max", DEFAULT_SURVEY_MAX);
        let (prompt, min, max) = (prompt?, min?, max?);
        if min > max {
            self.diags.error(
                item.pos,
                format!("survey question `{prompt}`: `min` {min} is above `max` {max}"),
            );
            return None;
        }
        Some(SurveyQuestion { prompt, min, max })
    }

    fn survey_prompt(
        &mut self,
        value: &yaml::Node,
        prompts: &mut Vec<Located<String>>,
    ) -> Option<String> {
        let text = self.text(value, "a prompt name")?;
        if !is_identifier(&text) {
            self.diags.error(
                value.pos,
                format!("bad prompt name `{text}`: use letters, digits, `_` and `-`"),
            );
            return None;
        }
        prompts.push(Located {
            value: text.clone(),
            pos: value.pos,
        });
        Some(text)
    }

    fn survey_timeout(&mut self, value: &yaml::Node) -> Option<Duration> {
        let text = scalar(value).unwrap_or_default().to_owned();
        match parse_duration(&text) {
            Ok(t) if (MIN_MENU_TIMEOUT..=MAX_MENU_TIMEOUT).contains(&t) => Some(t),
            Ok(_) => {
                self.diags.error(
                    value.pos,
                    format!(
                        "survey timeout `{text}` out of range: from {} to {}",
                        crate::duration::format_duration(MIN_MENU_TIMEOUT),
                        crate::duration::format_duration(MAX_MENU_TIMEOUT)
                    ),
                );
                None
            }
            Err(error) => {
                self.diags.error(value.pos, error.to_string());
                None
            }
        }
    }

    /// A `survey` node: the survey's name, `next` once answered and `on_skipped`, both optional
    /// (hung up without them). `next` needs the caller's keys (every question answered), so a
    /// cycle through it is fine; `on_skipped` is taken on silence, like a menu's `on_failure`.
    pub(super) fn survey_node(
        &mut self,
        read: &mut ReadNumber,
        from: &str,
        value: &yaml::Node,
        fields: &Fields<'_>,
    ) -> Option<SurveyNode> {
        let survey = self.survey_reference(value);
        let mut target = |reader: &mut Self, key: &str, edge: Edge| match fields.get(key) {
            None => Some(None),
            Some((_, v)) => reader.reference(read, from, edge, v).map(Some),
        };
        let next = target(self, "next", Edge::Surveyed);
        let on_skipped = target(self, "on_skipped", Edge::Failure);
        Some(SurveyNode {
            survey: survey?,
            next: next?,
            on_skipped: on_skipped?,
        })
    }

    /// A queue node's `survey:` (or a survey node's): the name of a survey declared at the top
    /// level.
    pub(super) fn survey_reference(&mut self, value: &yaml::Node) -> Option<String> {
        let text = self.text(value, "a survey name")?;
        if self.declared_surveys.contains(&text) {
            return Some(text);
        }
        let names: Vec<&str> = self.declared_surveys.iter().map(String::as_str).collect();
        let hint = match super::closest_name(&text, &names) {
            Some(near) => format!("did you mean `{near}`?"),
            None if names.is_empty() => "declare it under the top-level `surveys:`".to_owned(),
            None => format!("surveys: {}", names.join(", ")),
        };
        self.diags
            .error_with_hint(value.pos, format!("unknown survey `{text}`"), Some(hint));
        None
    }
}
