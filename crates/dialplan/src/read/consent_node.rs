//! The `consent` node: the recording notice and the caller's opt-out key.

use super::{menu_digit, scalar, ReadNumber, Reader};
use crate::model::{Consent, DEFAULT_CONSENT_TIMEOUT};
use crate::yaml;

const CONSENT_KEYS: &[&str] = &["prompt", "opt_out", "timeout"];

impl Reader<'_, '_> {
    /// `consent: { prompt: recording_notice, opt_out: "9", timeout: 3s }` with the node's `next`.
    pub(super) fn consent_node(
        &mut self,
        read: &mut ReadNumber,
        from: &str,
        value: &yaml::Node,
        next: Option<String>,
    ) -> Option<Consent> {
        let what = format!("consent `{from}`");
        let fields = self.fields(
            value,
            &what,
            CONSENT_KEYS,
            "a mapping such as `{ prompt: recording_notice, opt_out: \"9\", timeout: 3s }`",
        )?;
        let mut ok = true;
        let prompt = match fields.get("prompt") {
            None => {
                self.diags.error(
                    value.pos,
                    format!("{what} needs `prompt`: the notice that the call may be recorded"),
                );
                None
            }
            Some((_, v)) => self.prompt(read, v),
        };
        let opt_out = match fields.get("opt_out") {
            None => None,
            Some((_, v)) => match scalar(v).filter(|_| !v.is_null()).and_then(menu_digit) {
                Some(key) => Some(key),
                None => {
                    self.diags.error(
                        v.pos,
                        format!(
                            "bad opt_out key `{}`: use a single 0-9, `*` or `#`",
                            scalar(v).unwrap_or_default()
                        ),
                    );
                    ok = false;
                    None
                }
            },
        };
        let timeout = match fields.get("timeout") {
            None => Some(DEFAULT_CONSENT_TIMEOUT),
            Some((_, v)) => self.timeout(v, "consent timeout"),
        };
        if fields.contains_key("timeout") && opt_out.is_none() && ok {
            if let Some((key, _)) = fields.get("timeout") {
                self.diags.error(
                    key.pos,
                    format!("{what} has a `timeout` but no `opt_out` key to wait for"),
                );
                ok = false;
            }
        }
        match (ok, prompt, timeout, next) {
            (true, Some(prompt), Some(timeout), Some(next)) => Some(Consent {
                prompt,
                opt_out,
                timeout,
                next,
            }),
            _ => None,
        }
    }
}
