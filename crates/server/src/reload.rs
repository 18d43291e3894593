//! Reloading the configuration file without a restart: on SIGHUP and on
//! `POST /api/v1/config/reload`.
//!
//! A reload reads the file again, applies the same command-line overrides as the start, checks
//! it (parsing, the router's own checks, the queues the running dialplan version sends callers
//! to; a dialplan reload holds the same lock, see [`Reloader::applied`]) and
//! hands the queues and agents to the routing task, which swaps them in (see `hotline_routing::Router::reconfigure`
//! for what happens to waiting calls). Anything refused leaves the running configuration as it
//! was. Settings read once at start (listen addresses, RTP ports, prompts, event store, agent
//! passwords) are reported as needing a restart and not applied.
//!
//! Skills: a reload that changes an agent's skills in the file replaces the skills it runs
//! with, including skills set through the API, and journals them (`agent.skills_configured`);
//! a reload that leaves an agent's skills in the file as they were keeps the skills in force
//! (the API's, if it set some; the routing task reads and keeps them in the same step as the
//! swap). [`crate::recovery::skills`] applies the same rule at start.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use hotline_events::{EventDraft, EventKind, EventSink};
use serde::Serialize;
use tokio::sync::{Mutex, MutexGuard};

use crate::config::{parse_port_range, Config};
use crate::dialplan_reload::DialplanHolder;
use crate::kpi_task::KpiHandle;
use crate::metrics::Metrics;
use crate::router_task::RouterHandle;
use crate::ServeArgs;

/// What a successful reload changed, and what it could not change without a restart.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ReloadReport {
    /// Queues, agents and routing settings that now run with their new values.
    pub changed: Vec<String>,
    /// Settings that differ from the running ones but apply only at the next start.
    pub restart_needed: Vec<String>,
}

/// Why a reload was refused; the running configuration is unchanged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReloadError {
    /// What is wrong, with the file name and, when known, the line and column.
    pub error: String,
    /// The 1-based line of the error in the file, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    /// The 1-based column of the error, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<u32>,
}

/// Reloads the configuration file into the running server.
pub struct Reloader {
    path: PathBuf,
    args: ServeArgs,
    /// The configuration the server started with (settings that need a restart).
    started: Arc<Config>,
    /// The running dialplan (reloaded on its own; see `crate::dialplan_reload`).
    dialplan: DialplanHolder,
    /// The configuration last applied; a lock so reloads run one at a time.
    applied: Mutex<Config>,
    router: RouterHandle,
    kpis: KpiHandle,
    metrics: Metrics,
    events: EventSink,
}

impl Reloader {
    /// A reloader for the server started with `args` and `started` (overrides applied).
    pub fn new(
        args: &ServeArgs,
        started: Arc<Config>,
        dialplan: DialplanHolder,
        router: RouterHandle,
        kpis: KpiHandle,
        metrics: Metrics,
        events: EventSink,
    ) -> Self {
        Self {
            path: args.config.clone(),
            args: args.clone(),
            applied: Mutex::new((*started).clone()),
            started,
            dialplan,
            router,
            kpis,
            metrics,
            events,
        }
    }

    /// Reads the file again and applies what can change live; logs and counts the outcome.
    pub async fn reload(&self) -> Result<ReloadReport, ReloadError> {
        let result = self.try_reload().await;
        match &result {
            Ok(report) => {
                tracing::info!(
                    changed = ?report.changed,
                    restart_needed = ?report.restart_needed,
                    "configuration reloaded"
                );
                if !report.restart_needed.is_empty() {
                    tracing::warn!(
                        settings = ?report.restart_needed,
                        "configuration changes not applied until a restart"
                    );
                }
            }
            Err(e) => tracing::error!(error = %e.error, "configuration reload refused"),
        }
        let label = if result.is_ok() { "ok" } else { "error" };
        self.metrics
            .config_reloads
            .with_label_values(&[label])
            .inc();
        result
    }

    /// The configuration the server started with: what runs of the settings a reload does not
    /// apply (the trunks, for one).
    pub fn started(&self) -> &Config {
        &self.started
    }

    /// The configuration last applied, locked. A dialplan reload holds it while it checks the
    /// new dialplan's queues against it and swaps the dialplan in, so neither reload passes its
    /// queue check against the other's outdated state.
    pub async fn applied(&self) -> MutexGuard<'_, Config> {
        self.applied.lock().await
    }

    async fn try_reload(&self) -> Result<ReloadReport, ReloadError> {
        let mut applied = self.applied.lock().await;
        let mut new = Config::load(&self.path).map_err(|e| invalid(&format!("{e:#}")))?;
        self.apply_overrides(&mut new)?;
        let dialplan = self.dialplan.current();
        if let Some(missing) = missing_queue(dialplan.plan.queues_used(), &new) {
            return Err(invalid(&format!(
                "queue {missing} is missing, but the running dialplan (version {}) sends callers to it",
                dialplan.version
            )));
        }
        let report = ReloadReport {
            changed: changed(&applied, &new),
            restart_needed: restart_needed(&self.started, &new),
        };
        let (keep, configured) = skills_rule(&applied, &new);
        match self.router.reconfigure(new.clone(), keep).await {
            None => Err(invalid("the routing task has stopped")),
            Some(Err(e)) => Err(invalid(&format!("in config {}: {e}", self.path.display()))),
            Some(Ok(())) => {
                for agent in configured {
                    let skills = new.agents[&agent].skills.clone();
                    self.events.emit(
                        EventDraft::new(EventKind::AgentSkillsConfigured { skills }).agent(agent),
                    );
                }
                self.kpis.reconfigure(&new);
                *applied = new;
                Ok(report)
            }
        }
    }

    /// The command-line options override the file on reload as they did at start.
    fn apply_overrides(&self, config: &mut Config) -> Result<(), ReloadError> {
        if let Some(addr) = self.args.sip_listen {
            config.sip_listen = addr;
        }
        if let Some(addr) = self.args.http_listen {
            config.http_listen = addr;
        }
        if let Some(range) = &self.args.rtp_ports {
            config.rtp_ports =
                parse_port_range(range).map_err(|e| invalid(&format!("--rtp-ports: {e:#}")))?;
        }
        if let Some(plan) = &self.args.dialplan {
            config.dialplan = plan.clone();
        }
        Ok(())
    }
}

/// The agents that keep the skills in force (their skills in the file are as in `applied`;
/// the API may have changed them), and those whose skills in the file now apply and are
/// journaled (new agents, and agents whose skills the file changed).
fn skills_rule(applied: &Config, new: &Config) -> (BTreeSet<String>, Vec<String>) {
    let (mut keep, mut configured) = (BTreeSet::new(), Vec::new());
    for (id, settings) in &new.agents {
        if applied.agents.get(id).map(|a| &a.skills) == Some(&settings.skills) {
            keep.insert(id.clone());
        } else {
            configured.push(id.clone());
        }
    }
    (keep, configured)
}

/// A queue the dialplan uses that `config` lacks, if any.
fn missing_queue<'a>(used: &'a BTreeSet<String>, config: &Config) -> Option<&'a String> {
    used.iter().find(|q| !config.queues.contains_key(*q))
}

/// A refusal, with the line and column picked out of the message when it names them.
fn invalid(message: &str) -> ReloadError {
    let (line, column) = position(message);
    ReloadError {
        error: message.to_string(),
        line,
        column,
    }
}

/// Finds `line N` and `column M` in an error message.
fn position(message: &str) -> (Option<u32>, Option<u32>) {
    let lower = message.to_ascii_lowercase();
    let number_after = |word: &str| {
        lower.match_indices(word).find_map(|(at, _)| {
            let digits: String = lower[at + word.len()..]
                .trim_start_matches([' ', ':'])
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            digits.parse().ok()
        })
    };
    (number_after("line"), number_after("column"))
}

/// The queues, agents and routing settings that differ.
fn changed(old: &Config, new: &Config) -> Vec<String> {
    let mut out = Vec::new();
    for (name, q) in &new.queues {
        match old.queues.get(name) {
            None => out.push(format!("queue {name} added")),
            Some(before) if format!("{before:?}") != format!("{q:?}") => {
                out.push(format!("queue {name} changed"))
            }
            Some(_) => {}
        }
    }
    for name in old.queues.keys().filter(|n| !new.queues.contains_key(*n)) {
        out.push(format!("queue {name} removed"));
    }
    for (id, a) in &new.agents {
        match old.agents.get(id) {
            None => out.push(format!("agent {id} added")),
            Some(before) if format!("{before:?}") != format!("{a:?}") => {
                out.push(format!("agent {id} changed"))
            }
            Some(_) => {}
        }
    }
    for id in old.agents.keys().filter(|a| !new.agents.contains_key(*a)) {
        out.push(format!("agent {id} removed"));
    }
    if old.routing.not_ready_reasons != new.routing.not_ready_reasons {
        out.push("routing.not_ready_reasons changed".to_string());
    }
    out
}

/// The settings read once at start that differ from the running ones.
fn restart_needed(started: &Config, new: &Config) -> Vec<String> {
    let mut out = Vec::new();
    let mut check = |name: &str, differs: bool| {
        if differs {
            out.push(name.to_string());
        }
    };
    check("sip.listen", started.sip_listen != new.sip_listen);
    check(
        "sip.advertised_address",
        started.advertised_ip != new.advertised_ip,
    );
    check("sip.domain", started.domain != new.domain);
    check("sip.realm", started.realm != new.realm);
    check(
        "sip.registration",
        format!("{:?}", started.registration) != format!("{:?}", new.registration),
    );
    check(
        "sip.auth_algorithms",
        started.auth_algorithms != new.auth_algorithms,
    );
    check(
        "sip.session_expires",
        started.session_expires != new.session_expires,
    );
    check("http.listen", started.http_listen != new.http_listen);
    check("http.api_token", started.api_token != new.api_token);
    check("media.rtp_ports", started.rtp_ports != new.rtp_ports);
    check("media.rtp_timeout", started.rtp_timeout != new.rtp_timeout);
    check(
        "prompts",
        started.prompts_dir != new.prompts_dir
            || started.language != new.language
            || started.music_on_hold != new.music_on_hold,
    );
    check(
        "events",
        started.node != new.node
            || started.redis_stream != new.redis_stream
            || started.redis_maxlen != new.redis_maxlen
            || started.journal_segment_bytes != new.journal_segment_bytes
            || started.journal_retention != new.journal_retention,
    );
    check(
        "logging.redact_caller_numbers",
        started.redact_caller_numbers != new.redact_caller_numbers,
    );
    check("dialplan", started.dialplan != new.dialplan);
    check("routing.seed", started.routing.seed != new.routing.seed);
    // The registrar checks digest credentials against the agents it started with.
    for (id, a) in &new.agents {
        match started.agents.get(id) {
            None => out.push(format!(
                "agents.{id}.password (a new agent registers after a restart)"
            )),
            Some(s) if s.password != a.password => {
                out.push(format!("agents.{id}.password (SIP registration)"))
            }
            Some(_) => {}
        }
    }
    for (name, q) in &new.queues {
        let offset = started.queues.get(name).map(|s| s.utc_offset);
        if offset.is_some_and(|o| o != q.utc_offset) {
            out.push(format!("queues.{name}.utc_offset (KPI rollups)"));
        }
    }
    out
}

/// `POST /api/v1/config/reload`: 200 with what changed, 400 with the error (and its position).
pub async fn handle(Extension(reloader): Extension<Arc<Reloader>>) -> Response {
    match reloader.reload().await {
        Ok(report) => Json(report).into_response(),
        Err(e) => (StatusCode::BAD_REQUEST, Json(e)).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn bundled() -> String {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/hotline.yaml");
        std::fs::read_to_string(path).unwrap()
    }

    #[test]
    fn changes_and_restart_settings_are_told_apart() {
        let old = Config::parse(&bundled()).unwrap();
        let text = bundled()
            .replace("strategy: longest_idle", "strategy: round_robin")
            .replace("listen: 127.0.0.1:8080", "listen: 127.0.0.1:8081");
        let new = Config::parse(&text).unwrap();
        assert_eq!(
            changed(&old, &new),
            vec!["queue support changed".to_string()]
        );
        assert_eq!(restart_needed(&old, &new), vec!["http.listen".to_string()]);
        assert!(changed(&old, &old).is_empty());
        assert!(restart_needed(&old, &old).is_empty());
    }

    #[test]
    fn a_yaml_mistake_is_refused_with_its_line() {
        let text = bundled().replace("    priority: 1\n", "    priority: 1\n    max_wiat: 5m\n");
        let line = text
            .lines()
            .position(|l| l.contains("max_wiat"))
            .map(|i| u32::try_from(i + 1).unwrap());
        let err = invalid(&format!("{:#}", Config::parse(&text).unwrap_err()));
        assert!(err.error.contains("max_wiat"), "{}", err.error);
        assert_eq!(err.line, line, "{}", err.error);
        assert!(err.column.is_some(), "{}", err.error);
    }

    #[test]
    fn queues_the_dialplan_uses_must_stay() {
        let used: BTreeSet<String> = ["support".to_string(), "billing".to_string()].into();
        let config = Config::parse(&bundled()).unwrap();
        assert_eq!(missing_queue(&used, &config), None);
        let mut without = config.clone();
        without.queues.remove("billing");
        assert_eq!(
            missing_queue(&used, &without).map(String::as_str),
            Some("billing")
        );
    }

    fn ids(list: &[&str]) -> BTreeSet<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_reload_that_changes_an_agents_skills_in_the_file_replaces_the_skills_in_force() {
        let applied = Config::parse(&bundled()).unwrap();
        let new = Config::parse(&bundled().replace(
            r#"skills: { english: 8 }"#,
            r#"skills: { english: 9, german: 3 }"#,
        ))
        .unwrap();
        let (keep, configured) = skills_rule(&applied, &new);
        // 1001's skills in the file changed: the file's apply (and are journaled), whatever
        // the API set; the others keep the skills in force.
        assert_eq!(configured, vec!["1001".to_string()]);
        assert_eq!(keep, ids(&["1002", "1003", "1004"]));
    }

    #[test]
    fn a_reload_that_leaves_skills_alone_keeps_the_skills_in_force() {
        let applied = Config::parse(&bundled()).unwrap();
        let new =
            Config::parse(&bundled().replace("strategy: longest_idle", "strategy: round_robin"))
                .unwrap();
        let (keep, configured) = skills_rule(&applied, &new);
        assert!(configured.is_empty());
        assert_eq!(keep, ids(&["1001", "1002", "1003", "1004"]));
        // A new agent starts with the file's skills, journaled; a removed one is in neither.
        let edited = bundled()
            .replace(
                r#"  "1004": {"#,
                "  \"1005\": { password: demo1005, skills: { german: 6 } }\n  \"1004\": {",
            )
            .replace(
                r#"  "1001": { password: demo1001, name: "Agent 1001", skills: { english: 8 } }"#,
                "",
            )
            .replace(r#""1001", "#, "")
            .replace(r#", "1001""#, "");
        let new = Config::parse(&edited).unwrap();
        let (keep, configured) = skills_rule(&applied, &new);
        assert_eq!(configured, vec!["1005".to_string()]);
        assert_eq!(keep, ids(&["1002", "1003", "1004"]));
    }

    #[test]
    fn error_positions_are_read_from_the_message() {
        assert_eq!(
            position("invalid type at line 12, column 5: expected a map"),
            (Some(12), Some(5))
        );
        assert_eq!(position("queue q: member x is not an agent"), (None, None));
        assert_eq!(position("pipeline stopped at line 3"), (Some(3), None));
    }
}
