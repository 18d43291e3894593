//! Duplicate numbers: two dialed numbers that are the same once normalized to E.164, and the
//! same caller number written twice in one inline list.
//!
//! Numbers written twice exactly are duplicate YAML keys, already an error of the reader.

use std::collections::BTreeMap;

use super::tree;
use crate::e164::{comparable, normalize, CountryCode};
use crate::error::{Diagnostics, Pos};
use crate::yaml::Node;

/// Reports dialed numbers and list entries that repeat another after normalization.
pub(super) fn duplicates(root: &Node, country: CountryCode, diags: &mut Diagnostics<'_>) {
    if let Some((_, numbers)) = tree::get(root, "numbers") {
        let mut seen: BTreeMap<String, (&str, Pos)> = BTreeMap::new();
        for (key, _) in tree::entries(numbers) {
            // Short numbers (extensions, service codes) have no E.164 form; only exact
            // repeats of those matter, and the reader reports them.
            let Ok(e164) = normalize(&key.text, country) else {
                continue;
            };
            match seen.get(&e164) {
                Some((first, pos)) if *first != key.text => diags.warning_with_hint(
                    key.pos,
                    format!(
                        "number `{}` is {e164}, the same number as `{first}` at line {}",
                        key.text, pos.line
                    ),
                    Some(format!(
                        "a call matches the number exactly as dialed, so callers of {e164} reach one or the other by how their network writes it; keep one"
                    )),
                ),
                Some(_) => {}
                None => {
                    seen.insert(e164, (&key.text, key.pos));
                }
            }
        }
    }
    if let Some((_, lists)) = tree::get(root, "lists") {
        for (name, body) in tree::entries(lists) {
            let inline = tree::get(body, "numbers").map_or(body, |(_, numbers)| numbers);
            if tree::text(inline).is_some() {
                continue;
            }
            let mut seen: BTreeMap<String, (&str, Pos)> = BTreeMap::new();
            for item in tree::items(inline) {
                let Some(text) = tree::text(item) else {
                    continue;
                };
                let number = comparable(text, country);
                match seen.get(&number) {
                    Some((first, pos)) => diags.warning_with_hint(
                        item.pos,
                        format!(
                            "`{text}` is already in list `{}` (as `{first}` at line {})",
                            name.text, pos.line
                        ),
                        Some(format!("both are {number}; remove one")),
                    ),
                    None => {
                        seen.insert(number, (text, item.pos));
                    }
                }
            }
        }
    }
}
