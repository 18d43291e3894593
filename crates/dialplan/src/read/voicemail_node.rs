//! The `voicemail` node: prompts, a beep, then the caller's message recorded to a box.

use std::time::Duration;

use super::{is_identifier, menu_digit, Located, ReadNumber, Reader};
use crate::duration::parse_duration;
use crate::model::{Voicemail, BEEP_PROMPT, DEFAULT_VOICEMAIL_MAX_LENGTH, MAX_VOICEMAIL_LENGTH};
use crate::yaml;

pub(super) const VOICEMAIL_KEYS: &[&str] = &["box", "prompt", "max_length", "silence", "end_key"];

impl Reader<'_, '_> {
    /// `voicemail: { box: sales, prompt: leave_message, max_length: 2m, silence: 5s,
    /// end_key: "#" }`; `next` is read by the caller.
    pub(super) fn voicemail_node(
        &mut self,
        read: &mut ReadNumber,
        from: &str,
        value: &yaml::Node,
        next: Option<String>,
    ) -> Option<Voicemail> {
        let what = format!("voicemail `{from}`");
        let fields = self.fields(
            value,
            &what,
            VOICEMAIL_KEYS,
            "a mapping such as `{ box: sales, prompt: leave_message, max_length: 2m }`",
        )?;
        let mut ok = true;
        let mailbox = match fields.get("box") {
            None => {
                self.diags.error(
                    value.pos,
                    format!("{what} needs `box`: the voicemail box the message goes to"),
                );
                None
            }
            Some((_, v)) => match self.text(v, "a box name") {
                Some(name) if is_identifier(&name) => Some(name),
                Some(name) => {
                    self.diags.error(
                        v.pos,
                        format!("bad box name `{name}`: use letters, digits, `_` and `-`"),
                    );
                    None
                }
                None => None,
            },
        };
        let prompts = match fields.get("prompt") {
            None => Some(Vec::new()),
            Some((_, v)) => self.prompts(read, v),
        };
        // The beep is a prompt file like any other: checked and loaded with the rest.
        read.prompts.push(Located {
            value: BEEP_PROMPT.to_owned(),
            pos: value.pos,
        });
        let max_length = match fields.get("max_length") {
            None => Some(DEFAULT_VOICEMAIL_MAX_LENGTH),
            Some((_, v)) => self.voicemail_duration(v, "max_length"),
        };
        let silence = match fields.get("silence") {
            None => Some(None),
            Some((_, v)) => self.voicemail_duration(v, "silence").map(Some),
        };
        let end_key = match fields.get("end_key") {
            None => Some(None),
            Some((_, v)) => {
                match self.text(v, "a key such as `\"#\"`") {
                    Some(text) => match menu_digit(text.trim()) {
                        Some(key) => Some(Some(key)),
                        None => {
                            self.diags.error(
                            v.pos,
                            format!("bad end_key `{text}`: one key `0`-`9`, `*` or `#` (quote `\"#\"`)"),
                        );
                            None
                        }
                    },
                    None => None,
                }
            }
        };
        if let (Some(max), Some(Some(silence))) = (max_length, silence) {
            if silence >= max {
                self.diags.error(
                    value.pos,
                    format!("{what}: `silence` must be shorter than `max_length`"),
                );
                ok = false;
            }
        }
        let (mailbox, prompts, max_length, silence, end_key, next) =
            (mailbox?, prompts?, max_length?, silence?, end_key?, next?);
        ok.then_some(Voicemail {
            mailbox,
            prompts,
            max_length,
            silence,
            end_key,
            next,
        })
    }

    /// A duration from 1 s up to [`MAX_VOICEMAIL_LENGTH`].
    fn voicemail_duration(&mut self, value: &yaml::Node, what: &str) -> Option<Duration> {
        let text = self.text(value, "a duration such as `2m` or `5s`")?;
        match parse_duration(&text) {
            Err(error) => {
                self.diags.error(value.pos, error.to_string());
                None
            }
            Ok(length) if length < Duration::from_secs(1) || length > MAX_VOICEMAIL_LENGTH => {
                self.diags.error(
                    value.pos,
                    format!(
                        "bad {what} `{text}`: expected from 1s to {}s",
                        MAX_VOICEMAIL_LENGTH.as_secs()
                    ),
                );
                None
            }
            Ok(length) => Some(length),
        }
    }
}
