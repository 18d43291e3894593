//! The `transfer` node: the call goes on in another number's flow, waits in a queue (the
//! settings of a `queue` node), or is bridged to an outside number dialed through a trunk.

use super::queue_node::QUEUE_SETTING_KEYS;
use super::{is_identifier, is_number, Fields, Located, ReadNumber, Reader};
use crate::duration::parse_duration;
use crate::e164::{normalize, E164Error};
use crate::model::{Dial, Edge, Transfer, DEFAULT_DIAL_TIMEOUT, MAX_DIAL_TIMEOUT};
use crate::yaml::{self, Key};

/// Every key a transfer mapping takes: its targets and their settings.
const TRANSFER_KEYS: &[&str] = &[
    "flow",
    "queue",
    "number",
    "trunk",
    "timeout",
    "failed",
    "announce",
    "priority",
    "skills",
    "preferred_skills",
    "max_wait",
    "callback_offer",
    "exit",
    "survey",
];

/// The settings of a transfer to an outside number.
const DIAL_KEYS: &[&str] = &["trunk", "timeout", "failed", "announce"];

/// Where a transfer goes, as the key that says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Flow,
    Queue,
    Number,
}

impl Target {
    const ALL: [Target; 3] = [Target::Flow, Target::Queue, Target::Number];

    fn key(self) -> &'static str {
        match self {
            Target::Flow => "flow",
            Target::Queue => "queue",
            Target::Number => "number",
        }
    }

    /// The keys that go with this target.
    fn settings(self) -> &'static [&'static str] {
        match self {
            Target::Flow => &[],
            Target::Queue => QUEUE_SETTING_KEYS,
            Target::Number => DIAL_KEYS,
        }
    }
}

impl Reader<'_, '_> {
    /// `transfer: { flow: "95501" }`, `transfer: { queue: billing, priority: 5, exit: sorry }`
    /// or `transfer: { number: "+861012345678", trunk: pstn, timeout: 30s, failed: sorry,
    /// announce: connecting }`.
    pub(super) fn transfer_node(
        &mut self,
        read: &mut ReadNumber,
        from: &str,
        value: &yaml::Node,
    ) -> Option<Transfer> {
        let what = format!("transfer `{from}`");
        let fields = self.fields(
            value,
            &what,
            TRANSFER_KEYS,
            "a mapping such as `{ flow: \"95501\" }`, `{ queue: billing }` or `{ number: \"+861012345678\" }`",
        )?;
        let targets: Vec<(Target, &Key, &yaml::Node)> = Target::ALL
            .iter()
            .filter_map(|t| fields.get(t.key()).map(|(key, v)| (*t, *key, *v)))
            .collect();
        let (target, target_value) = match targets.as_slice() {
            [] => {
                self.diags.error(
                    value.pos,
                    format!("{what} needs one of `flow` (another number of this dialplan), `queue` or `number` (an outside number)"),
                );
                return None;
            }
            [(target, _, v)] => (*target, *v),
            [(first, ..), rest @ ..] => {
                for (other, key, _) in rest {
                    self.diags.error(
                        key.pos,
                        format!(
                            "{what} has both `{}` and `{}`: a transfer goes to one place",
                            first.key(),
                            other.key()
                        ),
                    );
                }
                return None;
            }
        };
        self.misplaced_transfer_keys(target, &fields);
        match target {
            Target::Flow => {
                let number = self.text(target_value, "a number of this dialplan")?;
                if !is_number(&number) {
                    self.diags.error(
                        target_value.pos,
                        format!("bad number `{number}`: use digits, letters, `+`, `*`, `#`, `.`, `_` or `-`"),
                    );
                    return None;
                }
                read.flows.push((
                    from.to_owned(),
                    Located {
                        value: number.clone(),
                        pos: target_value.pos,
                    },
                ));
                Some(Transfer::Flow { number })
            }
            Target::Queue => {
                let queue = self.queue(read, target_value);
                let (options, exit) = self.queue_settings(read, from, &fields);
                Some(Transfer::Queue {
                    queue: queue?,
                    options: options?,
                    exit: exit?,
                })
            }
            Target::Number => self
                .dial(read, from, target_value, &fields)
                .map(Transfer::Dial),
        }
    }

    /// Keys that belong to another target (`trunk` beside `queue`, `exit` beside `number`).
    fn misplaced_transfer_keys(&mut self, target: Target, fields: &Fields<'_>) {
        for (key, (located, _)) in fields {
            if *key == target.key() || target.settings().contains(key) {
                continue;
            }
            let belongs = Target::ALL
                .iter()
                .find(|t| t.settings().contains(key))
                .map_or(*key, |t| t.key());
            self.diags.error(
                located.pos,
                format!(
                    "`{key}` is not allowed beside `{}`: it goes with `{belongs}`",
                    target.key()
                ),
            );
        }
    }

    /// `number` with `trunk`, `timeout`, `failed` and `announce`.
    fn dial(
        &mut self,
        read: &mut ReadNumber,
        from: &str,
        value: &yaml::Node,
        fields: &Fields<'_>,
    ) -> Option<Dial> {
        let number = self.dialed_number(value);
        let trunk = match fields.get("trunk") {
            None => Some(None),
            Some((_, v)) => match self.text(v, "a trunk name") {
                Some(name) if is_identifier(&name) => Some(Some(Located {
                    value: name,
                    pos: v.pos,
                })),
                Some(name) => {
                    self.diags.error(
                        v.pos,
                        format!("bad trunk name `{name}`: use letters, digits, `_` and `-`"),
                    );
                    None
                }
                None => None,
            },
        };
        let timeout = match fields.get("timeout") {
            None => Some(DEFAULT_DIAL_TIMEOUT),
            Some((_, v)) => match self.text(v, "a duration such as `30s`") {
                Some(text) => match parse_duration(&text) {
                    Ok(d) if !d.is_zero() && d <= MAX_DIAL_TIMEOUT => Some(d),
                    _ => {
                        self.diags.error(
                            v.pos,
                            format!(
                                "bad timeout `{text}`: the ring time, above 0 and at most {}s, e.g. `30s`",
                                MAX_DIAL_TIMEOUT.as_secs()
                            ),
                        );
                        None
                    }
                },
                None => None,
            },
        };
        let failed = match fields.get("failed") {
            None => Some(None),
            Some((_, v)) => self.reference(read, from, Edge::Failure, v).map(Some),
        };
        let announce = match fields.get("announce") {
            None => Some(Vec::new()),
            Some((_, v)) => self.prompts(read, v),
        };
        let (number, trunk) = (number?, trunk?);
        // Kept with their positions, for the server to check the trunk and its allow-list.
        read.dials.push((
            from.to_owned(),
            Located {
                value: number.clone(),
                pos: value.pos,
            },
            trunk.clone(),
        ));
        Some(Dial {
            number,
            trunk: trunk.map(|t| t.value),
            timeout: timeout?,
            failed: failed?,
            announce: announce?,
        })
    }

    /// The number to dial: `${variable}` (checked when the node runs), or a literal that must
    /// look like a phone number; a short one (a service code) is only a warning.
    fn dialed_number(&mut self, value: &yaml::Node) -> Option<String> {
        let number = self.text(value, "a phone number or `${variable}`")?;
        let number = number.trim().to_owned();
        if number.is_empty() {
            self.diags.error(
                value.pos,
                "empty number: give the number to dial, e.g. `\"+861012345678\"` or `\"${callback}\"`",
            );
            return None;
        }
        if number.contains("${") {
            return Some(number);
        }
        match normalize(&number, self.country) {
            Ok(_) => Some(number),
            Err(E164Error::TooShort(_)) => {
                self.diags.warning(
                    value.pos,
                    format!("`{number}` is too short for a phone number: only a service code or an extension the trunk knows can be dialed so"),
                );
                Some(number)
            }
            Err(error) => {
                self.diags.error(
                    value.pos,
                    format!("bad number: {error}; dial a phone number such as `\"+861012345678\"`, or `\"${{variable}}\"`"),
                );
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_transfer_to_a_queue_takes_every_queue_setting() {
        for key in QUEUE_SETTING_KEYS.iter().chain(DIAL_KEYS) {
            assert!(TRANSFER_KEYS.contains(key), "{key}");
        }
        assert_eq!(
            TRANSFER_KEYS.len(),
            Target::ALL.len() + QUEUE_SETTING_KEYS.len() + DIAL_KEYS.len()
        );
    }
}
