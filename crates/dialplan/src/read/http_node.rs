//! The `http` node: a CRM lookup with a timeout, retries and a fallback branch.

use std::collections::BTreeMap;

use super::{is_identifier, scalar, ReadNumber, Reader};
use crate::duration::parse_duration;
use crate::http::{
    is_field_path, HttpLookup, HttpMethod, DEFAULT_HTTP_TIMEOUT, MAX_HTTP_RETRIES, MAX_HTTP_TIMEOUT,
};
use crate::model::Edge;
use crate::yaml::{self, Value};

const HTTP_KEYS: &[&str] = &[
    "url",
    "method",
    "body",
    "timeout",
    "retries",
    "map",
    "attach",
    "on_failure",
];

impl Reader<'_, '_> {
    /// `http: { url: "/customers?number=${caller}", method: GET, timeout: 2s, retries: 1,
    /// map: { name: customer.name }, attach: [name], on_failure: menu }` with `next` beside it.
    pub(super) fn http_node(
        &mut self,
        read: &mut ReadNumber,
        from: &str,
        value: &yaml::Node,
        next: Option<String>,
    ) -> Option<HttpLookup> {
        let what = format!("http `{from}`");
        let fields = self.fields(
            value,
            &what,
            HTTP_KEYS,
            "a mapping such as `{ url: \"/customers?number=${caller}\", on_failure: menu }`",
        )?;
        let mut ok = true;
        let url = match fields.get("url") {
            None => {
                self.diags.error(
                    value.pos,
                    format!(
                        "{what} needs `url`: `http(s)://...` or a path under the configured CRM"
                    ),
                );
                None
            }
            Some((_, v)) => match self.text(v, "a URL") {
                // A variable in front would be percent-encoded into the scheme and host: the
                // base address comes from `crm.url` instead.
                Some(url)
                    if url.starts_with('/')
                        || url.starts_with("http://")
                        || url.starts_with("https://") =>
                {
                    Some(url)
                }
                Some(url) => {
                    self.diags.error(
                        v.pos,
                        format!("bad url `{url}`: start it with `http://`, `https://` or `/` (a path under the configured CRM)"),
                    );
                    None
                }
                None => None,
            },
        };
        let method = match fields.get("method") {
            None => Some(HttpMethod::Get),
            Some((_, v)) => match self.text(v, "GET or POST") {
                Some(text) => match HttpMethod::from_name(text.trim()) {
                    Some(method) => Some(method),
                    None => {
                        self.diags
                            .error(v.pos, format!("unknown method `{text}`: use GET or POST"));
                        None
                    }
                },
                None => None,
            },
        };
        let body = match fields.get("body") {
            None => Some(BTreeMap::new()),
            Some((_, v)) => self.text_map_named(v, "body fields"),
        };
        if let (Some(HttpMethod::Get), Some(body), Some((_, v))) =
            (method, &body, fields.get("body"))
        {
            if !body.is_empty() {
                self.diags.error(
                    v.pos,
                    format!("{what} sends a `body` only with `method: POST`"),
                );
                ok = false;
            }
        }
        let timeout = match fields.get("timeout") {
            None => Some(DEFAULT_HTTP_TIMEOUT),
            Some((_, v)) => match self.text(v, "a duration such as `2s`") {
                Some(text) => match parse_duration(&text) {
                    Ok(d) if !d.is_zero() && d <= MAX_HTTP_TIMEOUT => Some(d),
                    _ => {
                        self.diags.error(
                            v.pos,
                            format!("bad timeout `{text}`: a duration above 0 and at most 30s, e.g. `2s` or `500ms`"),
                        );
                        None
                    }
                },
                None => None,
            },
        };
        let retries = match fields.get("retries") {
            None => Some(0),
            Some((_, v)) => self.whole_number(v, "retries", 0..=MAX_HTTP_RETRIES),
        };
        let map = match fields.get("map") {
            None => Some(BTreeMap::new()),
            Some((_, v)) => self.text_map_named(v, "map variables"),
        };
        if let (Some(map), Some((_, v))) = (&map, fields.get("map")) {
            for (variable, path) in map {
                if !is_field_path(path) {
                    self.diags.error(
                        v.pos,
                        format!("bad field `{path}` for `{variable}`: use `customer.name` or `/customer/name`"),
                    );
                    ok = false;
                }
            }
        }
        let attach = match fields.get("attach") {
            None => Some(Vec::new()),
            Some((_, v)) => self.attach_list(v, map.as_ref()),
        };
        let on_failure = match fields.get("on_failure") {
            None => {
                self.diags.error(
                    value.pos,
                    format!(
                        "{what} needs `on_failure`: the node to go to when the CRM does not answer"
                    ),
                );
                None
            }
            Some((_, v)) => self.reference(read, from, Edge::Failure, v),
        };
        let lookup = HttpLookup {
            url: url?,
            method: method?,
            body: body?,
            timeout: timeout?,
            retries: retries?,
            map: map?,
            attach: attach?,
            next: next?,
            on_failure: on_failure?,
        };
        ok.then_some(lookup)
    }

    /// `{ name: text, ... }` with identifier names.
    fn text_map_named(
        &mut self,
        value: &yaml::Node,
        what: &str,
    ) -> Option<BTreeMap<String, String>> {
        let Value::Map(entries) = &value.value else {
            self.expected(value, &format!("a mapping of {what}"));
            return None;
        };
        let mut pairs = BTreeMap::new();
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
            match scalar(item) {
                Some(text) if !item.is_null() => {
                    pairs.insert(key.text.clone(), text.to_owned());
                }
                _ => {
                    self.expected(item, "a value");
                    ok = false;
                }
            }
        }
        ok.then_some(pairs)
    }

    /// `attach: [name, tier]`: variables the `map` sets.
    fn attach_list(
        &mut self,
        value: &yaml::Node,
        map: Option<&BTreeMap<String, String>>,
    ) -> Option<Vec<String>> {
        let items: Vec<&yaml::Node> = match &value.value {
            Value::Seq(items) => items.iter().collect(),
            _ => vec![value],
        };
        let mut names = Vec::new();
        let mut ok = true;
        for item in items {
            let Some(name) = self.text(item, "a variable name") else {
                ok = false;
                continue;
            };
            if map.is_some_and(|map| !map.contains_key(&name)) {
                self.diags.error(
                    item.pos,
                    format!(
                        "`{name}` is attached but not in `map`: attach variables the lookup sets"
                    ),
                );
                ok = false;
                continue;
            }
            names.push(name);
        }
        ok.then_some(names)
    }
}
