//! The `branch` node and its conditions.

use super::{scalar, Located, ReadNumber, Reader};
use crate::condition::{Condition, Pattern, TimeWindow, VariableTest};
use crate::e164::comparable;
use crate::error::Pos;
use crate::model::{Branch, Edge, Rule};
use crate::yaml::{self, Key, Value};

const RULE_KEYS: &[&str] = &["when", "goto"];
const CONDITION_KEYS: &[&str] = &[
    "caller_in",
    "caller_not_in",
    "caller",
    "caller_prefix",
    "dialed",
    "dialed_prefix",
    "var",
    "time",
];
const VAR_KEYS: &[&str] = &["name", "equals", "in", "matches", "set"];
const TIME_KEYS: &[&str] = &["time_zone", "days", "hours"];

impl Reader<'_, '_> {
    /// `branch: [ { when: {...}, goto: node }, ... ]` with `otherwise: node` beside it.
    pub(super) fn branch(
        &mut self,
        read: &mut ReadNumber,
        from: &str,
        pos: Pos,
        value: &yaml::Node,
        otherwise: Option<&(&Key, &yaml::Node)>,
    ) -> Option<Branch> {
        let otherwise = match otherwise {
            Some((_, v)) => self.reference(read, from, Edge::Otherwise, v),
            None => {
                self.diags.error(
                    pos,
                    format!(
                        "branch `{from}` needs `otherwise`: the node to go to when no rule matches"
                    ),
                );
                None
            }
        };
        let Value::Seq(items) = &value.value else {
            self.expected(
                value,
                "a list of rules such as `- { when: { caller_in: vip }, goto: vip_queue }`",
            );
            return None;
        };
        if items.is_empty() {
            self.diags
                .error(value.pos, format!("branch `{from}` has no rules"));
            return None;
        }
        let mut rules = Vec::new();
        let mut ok = true;
        for item in items {
            match self.rule(read, from, item) {
                Some(rule) => rules.push(rule),
                None => ok = false,
            }
        }
        let otherwise = otherwise?;
        ok.then_some(Branch { rules, otherwise })
    }

    fn rule(&mut self, read: &mut ReadNumber, from: &str, item: &yaml::Node) -> Option<Rule> {
        let fields = self.fields(
            item,
            &format!("a rule of branch `{from}`"),
            RULE_KEYS,
            "a mapping with `when` and `goto`",
        )?;
        let goto = match fields.get("goto") {
            Some((_, v)) => self.reference(read, from, Edge::Rule, v),
            None => {
                self.diags
                    .error(item.pos, "a branch rule needs `goto`: the node it leads to");
                None
            }
        };
        let when = match fields.get("when") {
            None => {
                self.diags
                    .error(item.pos, "a branch rule needs `when`: its conditions");
                None
            }
            Some((_, v)) => match &v.value {
                Value::Seq(parts) => {
                    let all: Vec<Option<Vec<Condition>>> =
                        parts.iter().map(|p| self.conditions(read, p)).collect();
                    all.into_iter()
                        .collect::<Option<Vec<_>>>()
                        .map(|c| c.into_iter().flatten().collect())
                }
                _ => self.conditions(read, v),
            },
        };
        Some(Rule {
            when: when?,
            goto: goto?,
        })
    }

    /// One mapping of conditions (all must hold).
    fn conditions(&mut self, read: &mut ReadNumber, value: &yaml::Node) -> Option<Vec<Condition>> {
        let fields = self.fields(
            value,
            "a condition",
            CONDITION_KEYS,
            "a mapping such as `{ caller_in: vip }`",
        )?;
        if fields.is_empty() {
            self.diags
                .error(value.pos, "a condition needs at least one test");
            return None;
        }
        let mut conditions = Vec::new();
        let mut ok = true;
        for (key, (_, v)) in &fields {
            let condition = match *key {
                "caller_in" | "caller_not_in" => self.text(v, "a list name").map(|list| {
                    read.lists.push(Located {
                        value: list.clone(),
                        pos: v.pos,
                    });
                    if *key == "caller_in" {
                        Condition::CallerIn(list)
                    } else {
                        Condition::CallerNotIn(list)
                    }
                }),
                "caller" => self
                    .text(v, "a phone number")
                    .map(|n| Condition::Caller(comparable(&n, self.country))),
                "caller_prefix" => self.e164_prefix(v).map(Condition::CallerPrefix),
                "dialed" => self.text(v, "a dialed number").map(Condition::Dialed),
                "dialed_prefix" => self.text(v, "a number prefix").map(Condition::DialedPrefix),
                "var" => self.variable_condition(v),
                "time" => self.time_window(v).map(Condition::Time),
                _ => None,
            };
            match condition {
                Some(c) => conditions.push(c),
                None => ok = false,
            }
        }
        ok.then_some(conditions)
    }

    /// A caller prefix written in E.164 (`+8610`), since national prefixes differ by country.
    fn e164_prefix(&mut self, value: &yaml::Node) -> Option<String> {
        let text = self.text(value, "a prefix such as `+8610`")?;
        let digits = text.strip_prefix('+').unwrap_or("");
        if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
            self.diags.error(
                value.pos,
                format!(
                    "bad caller_prefix `{text}`: write it in E.164, `+` and digits, e.g. `+8610`"
                ),
            );
            return None;
        }
        Some(text)
    }

    /// `var: { name: tier, equals: gold }` (or `in: [...]`, `matches: regex`, `set: true`).
    fn variable_condition(&mut self, value: &yaml::Node) -> Option<Condition> {
        let fields = self.fields(
            value,
            "a `var` condition",
            VAR_KEYS,
            "a mapping such as `{ name: tier, equals: gold }`",
        )?;
        let name = match fields.get("name") {
            Some((_, v)) => self.variable_name(v),
            None => {
                self.diags
                    .error(value.pos, "a `var` condition needs `name`");
                None
            }
        };
        let tests: Vec<&str> = ["equals", "in", "matches", "set"]
            .into_iter()
            .filter(|k| fields.contains_key(k))
            .collect();
        if tests.len() != 1 {
            self.diags.error(
                value.pos,
                "a `var` condition needs exactly one of `equals`, `in`, `matches`, `set`",
            );
            return None;
        }
        let (_, v) = fields.get(tests[0])?;
        let test = match tests[0] {
            "equals" => self.text(v, "a value").map(VariableTest::Equals),
            "in" => match &v.value {
                Value::Seq(items) => items
                    .iter()
                    .map(|item| self.text(item, "a value"))
                    .collect::<Option<Vec<_>>>()
                    .map(VariableTest::OneOf),
                _ => {
                    self.expected(v, "a list of values");
                    None
                }
            },
            "matches" => {
                let text = self.text(v, "a regular expression")?;
                match regex::Regex::new(&text) {
                    Ok(re) => Some(VariableTest::Matches(Pattern(re))),
                    Err(error) => {
                        let detail = error.to_string();
                        let last = detail.lines().last().unwrap_or_default().trim().to_owned();
                        self.diags
                            .error(v.pos, format!("bad pattern `{text}`: {last}"));
                        None
                    }
                }
            }
            _ => self.boolean(v).map(VariableTest::IsSet),
        };
        Some(Condition::Variable {
            name: name?,
            test: test?,
        })
    }

    /// `time: { time_zone: Asia/Shanghai, days: mon-fri, hours: "09:00-12:00" }`.
    fn time_window(&mut self, value: &yaml::Node) -> Option<TimeWindow> {
        let fields = self.fields(
            value,
            "a `time` condition",
            TIME_KEYS,
            "a mapping such as `{ time_zone: Asia/Shanghai, days: mon-fri, hours: \"09:00-12:00\" }`",
        )?;
        let zone = match fields.get("time_zone") {
            Some((_, v)) => self.time_zone(v),
            None => {
                self.diags.error(
                    value.pos,
                    "a `time` condition needs `time_zone`, e.g. `Asia/Shanghai`",
                );
                None
            }
        };
        let days = match fields.get("days") {
            None => Some(Vec::new()),
            Some((_, v)) => self.day_list(v),
        };
        let hours = match fields.get("hours") {
            None => Some(Vec::new()),
            Some((_, v)) => self.hours_list(v),
        };
        let (time_zone_name, time_zone) = zone?;
        Some(TimeWindow {
            time_zone_name,
            time_zone,
            days: days?,
            hours: hours?,
        })
    }

    /// `mon-fri` or a list of days and ranges.
    fn day_list(&mut self, value: &yaml::Node) -> Option<Vec<usize>> {
        let items: Vec<&yaml::Node> = match &value.value {
            Value::Seq(items) => items.iter().collect(),
            _ => vec![value],
        };
        let mut days = Vec::new();
        for item in items {
            let text = scalar(item).unwrap_or_default().to_owned();
            match crate::schedule::parse_days(&text) {
                Some(more) => days.extend(more),
                None => {
                    self.diags.error(
                        item.pos,
                        format!("bad days `{text}`: use `mon`..`sun`, a range such as `mon-fri`, or `daily`"),
                    );
                    return None;
                }
            }
        }
        days.sort_unstable();
        days.dedup();
        Some(days)
    }
}
