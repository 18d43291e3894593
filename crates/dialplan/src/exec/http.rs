//! The executor's side of an `http` node: the request it asks for, and the answer mapped into
//! variables (and attached to the call) or the fallback branch taken.

use std::time::{Duration, Instant};

use super::{Ivr, IvrAction, IvrTimer, State};
use crate::http::{field, fill, percent_encode, HttpFailure, HttpLookup, HttpRequest};
use crate::model::NodeKind;

/// Slack beyond an `http` node's worst case before the executor stops waiting for the server.
const HTTP_GUARD_SLACK: Duration = Duration::from_secs(1);

impl Ivr {
    /// Enters an `http` node: asks for its request and waits for the result.
    pub(super) fn http_start(&mut self, now: Instant, http: &HttpLookup) {
        let url = fill(
            &http.url,
            |name| self.builtin_or_variable(name),
            percent_encode,
        );
        let body = (http.method == crate::http::HttpMethod::Post).then(|| {
            let object: serde_json::Map<String, serde_json::Value> = http
                .body
                .iter()
                .map(|(key, template)| {
                    let value = fill(
                        template,
                        |name| self.builtin_or_variable(name),
                        str::to_owned,
                    );
                    (key.clone(), serde_json::Value::String(value))
                })
                .collect();
            serde_json::Value::Object(object).to_string()
        });
        self.actions.push_back(IvrAction::Http(HttpRequest {
            node: self.node.clone(),
            method: http.method,
            url,
            body,
            timeout: http.timeout,
            retries: http.retries,
            caller: self.caller.clone(),
        }));
        self.timer = Some((
            now + http.worst_case() + HTTP_GUARD_SLACK,
            IvrTimer::HttpGuard,
        ));
        self.state = State::Http;
    }

    /// The result of the lookup asked for by the last [`IvrAction::Http`]: a JSON answer (its
    /// mapped fields become variables, attached ones go with the queue entry) or why it failed
    /// after its retries (the node's `on_failure` is taken). Ignored unless a lookup is waiting.
    pub fn handle_http(&mut self, now: Instant, result: Result<serde_json::Value, HttpFailure>) {
        if self.state != State::Http {
            return;
        }
        let Some(http) = self.current_http() else {
            return self.broken();
        };
        self.timer = None;
        match result {
            Ok(answer) => {
                for (variable, path) in &http.map {
                    match field(&answer, path) {
                        Some(value) => {
                            self.attributes.variables.insert(variable.clone(), value);
                        }
                        None => {
                            self.attributes.variables.remove(variable);
                        }
                    }
                }
                for name in &http.attach {
                    if let Some(value) = self.attributes.variables.get(name) {
                        self.attributes.data.insert(name.clone(), value.clone());
                    }
                }
                self.goto(now, http.next);
            }
            Err(_) => self.goto(now, http.on_failure),
        }
    }

    /// The server never reported the lookup's result: the fallback branch.
    pub(super) fn http_guard(&mut self, now: Instant) {
        self.handle_http(now, Err(HttpFailure::TimedOut));
    }

    fn current_http(&self) -> Option<HttpLookup> {
        match self.current()?.kind {
            NodeKind::Http(http) => Some(http),
            _ => None,
        }
    }

    /// `${caller}` (E.164 when it has one) and `${dialed}` unless a variable of that name was
    /// set, then the call's variables.
    fn builtin_or_variable(&self, name: &str) -> Option<String> {
        if let Some(value) = self.attributes.variables.get(name) {
            return Some(value.clone());
        }
        match name {
            "caller" => Some(self.caller.clone()),
            "dialed" => Some(self.call.dialed.clone()),
            _ => None,
        }
    }
}
