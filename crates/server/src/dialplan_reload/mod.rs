//! Reloading the dialplan without a restart: when the file changes (polled every second), on
//! SIGHUP and on `POST /api/v1/dialplan/reload`.
//!
//! A reload reads the file and checks it like `hotline dialplan check` does, against the queues
//! of the configuration running now and the prompts loaded at start. A file with errors is
//! refused with every message (`file:line:column: message`): logged, answered on the API and
//! counted; the running version stays. A valid file becomes the next version (1, 2, ... per
//! process) for new calls; calls in progress keep the version they started on to their end, and
//! their events carry it (`dialplan_version`). A file equal to the running version is
//! "unchanged" and keeps its version number.
//!
//! Dialplan and configuration reloads take the same lock, so each checks its queues against the
//! other's current state: a dialplan may not send callers to a queue the configuration lacks, and
//! a configuration may not remove a queue the running dialplan uses.

mod holder;
mod watch;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use hotline_dialplan::{Dialplan, ValidationContext};
use hotline_events::EventSink;
use serde::Serialize;

use crate::metrics::Metrics;
use crate::reload::Reloader;

pub use holder::{content_hash, DialplanHolder, LoadedDialplan, VersionSummary};
pub use watch::{spawn_file_watch, WATCH_INTERVAL};

/// What asked for a reload (in the log line of each reload).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// `POST /api/v1/dialplan/reload`.
    Api,
    /// The process got SIGHUP.
    Sighup,
    /// The file watch saw the file change.
    FileWatch,
}

impl Trigger {
    fn as_str(self) -> &'static str {
        match self {
            Self::Api => "api",
            Self::Sighup => "sighup",
            Self::FileWatch => "file_watch",
        }
    }
}

/// How a reload ended (the `result` label of `hotline_dialplan_reloads_total`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReloadResult {
    /// A new version runs for new calls.
    Ok,
    /// The file has errors; the running version stays.
    Invalid,
    /// The file is the running version's content.
    Unchanged,
}

impl ReloadResult {
    fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Invalid => "invalid",
            Self::Unchanged => "unchanged",
        }
    }
}

/// The outcome of one reload, as the API answers it.
#[derive(Debug, Clone, Serialize)]
pub struct ReloadReport {
    /// Ok, invalid or unchanged.
    pub result: ReloadResult,
    /// The version new calls start on after this reload (the old one when refused).
    pub running: VersionSummary,
    /// Why the file was refused, one `file:line:column: message` each.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
    /// What the check warns about in the new version (it runs anyway).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// Reloads the dialplan file into the running server.
pub struct DialplanReloader {
    path: PathBuf,
    holder: DialplanHolder,
    config: Arc<Reloader>,
    /// The checks of the start (prompts loaded, numbering plan); queues are the configuration's
    /// at each reload.
    checks: ValidationContext,
    events: EventSink,
    metrics: Metrics,
}

impl DialplanReloader {
    /// A reloader of the file at `path` into `holder`, checked with `checks` (the start's, with
    /// the prompts loaded) and against the queues of the configuration `config` last applied;
    /// each new version is journaled as `dialplan.loaded`.
    pub fn new(
        path: PathBuf,
        holder: DialplanHolder,
        config: Arc<Reloader>,
        checks: ValidationContext,
        events: EventSink,
        metrics: Metrics,
    ) -> Self {
        metrics
            .dialplan_version
            .set(gauge(holder.current().version));
        Self {
            path,
            holder,
            config,
            checks,
            events,
            metrics,
        }
    }

    /// The dialplan file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Reads the file again and swaps it in when it is valid and new; logs and counts the outcome
    /// (except an unchanged file the watch saw touched).
    pub async fn reload(&self, trigger: Trigger) -> ReloadReport {
        let report = self.try_reload().await;
        let running = &report.running;
        let by = trigger.as_str();
        match report.result {
            ReloadResult::Ok => {
                tracing::info!(
                    version = running.version,
                    hash = %running.hash,
                    file = %running.file,
                    trigger = by,
                    "dialplan reloaded: new calls start on version {}",
                    running.version
                );
                for warning in &report.warnings {
                    tracing::warn!("{warning}");
                }
            }
            // The watch sees the file touched, or written again after a reload already took it:
            // nothing anyone asked about.
            ReloadResult::Unchanged if trigger == Trigger::FileWatch => {
                tracing::debug!(
                    version = running.version,
                    "dialplan file touched, unchanged"
                );
                return report;
            }
            ReloadResult::Unchanged => tracing::info!(
                version = running.version,
                trigger = by,
                "dialplan unchanged: the file is version {}",
                running.version
            ),
            ReloadResult::Invalid => {
                tracing::error!(
                    version = running.version,
                    trigger = by,
                    errors = report.errors.len(),
                    "dialplan reload refused, version {} keeps running",
                    running.version
                );
                for error in &report.errors {
                    tracing::error!("{error}");
                }
            }
        }
        self.metrics
            .dialplan_reloads
            .with_label_values(&[report.result.as_str()])
            .inc();
        self.metrics.dialplan_version.set(gauge(running.version));
        report
    }

    /// What keeps a valid plan from running here: `say` nodes that speak text when the
    /// configured synthesizer cannot be found, dials the trunks in service (the start's; trunks
    /// change only with a restart) could never make.
    fn run_errors(&self, config: &crate::config::Config, plan: &Dialplan) -> Vec<String> {
        let mut errors = crate::tts::speech_errors(&config.tts, plan.file(), plan.speech_nodes());
        errors.extend(crate::trunk::check::dial_errors(
            &self.config.started().trunks,
            plan.file(),
            plan.dial_nodes(),
        ));
        errors.sort_by_key(|e| (e.line, e.column));
        errors.iter().map(ToString::to_string).collect()
    }

    async fn try_reload(&self) -> ReloadReport {
        // Held to the swap: a configuration reload waits, then checks the new dialplan's queues.
        let config = self.config.applied().await;
        let running = self.holder.current();
        let source = match tokio::fs::read_to_string(&self.path).await {
            Ok(source) => source,
            Err(e) => {
                return refused(
                    &running,
                    vec![format!(
                        "{}: cannot read dialplan: {e}",
                        self.path.display()
                    )],
                )
            }
        };
        let mut ctx = self.checks.clone();
        ctx.queues = Some(config.queues.keys().cloned().collect());
        match check(&source, &self.path, &running, &ctx) {
            Checked::Unchanged => ReloadReport {
                result: ReloadResult::Unchanged,
                running: running.summary(),
                errors: Vec::new(),
                warnings: Vec::new(),
            },
            Checked::Invalid(errors) => refused(&running, errors),
            Checked::New { plan, .. } if !self.run_errors(&config, &plan).is_empty() => {
                refused(&running, self.run_errors(&config, &plan))
            }
            Checked::New { plan, hash } => {
                let warnings = plan.warnings().iter().map(ToString::to_string).collect();
                let installed = self.holder.install(*plan, hash, |next| {
                    self.events.emit(next.loaded_event());
                });
                ReloadReport {
                    result: ReloadResult::Ok,
                    running: installed.summary(),
                    errors: Vec::new(),
                    warnings,
                }
            }
        }
    }
}

/// What the checks make of a file's content.
enum Checked {
    /// The running version's content (the file and the list files it reads).
    Unchanged,
    /// Every error, `file:line:column: message`.
    Invalid(Vec<String>),
    /// A valid new version.
    New { plan: Box<Dialplan>, hash: String },
}

/// Checks `source` (read from `path`) with `ctx` and compares it with the `running` version.
///
/// The file is parsed even when its hash is the running one's: the number lists it names are
/// read from their own files, which may have changed (or become unreadable) on their own.
fn check(source: &str, path: &Path, running: &LoadedDialplan, ctx: &ValidationContext) -> Checked {
    let hash = content_hash(source);
    match Dialplan::parse(source, path, ctx) {
        Ok(plan) if hash == running.hash && plan.lists() == running.plan.lists() => {
            Checked::Unchanged
        }
        Ok(plan) => Checked::New {
            plan: Box::new(plan),
            hash,
        },
        Err(errors) => Checked::Invalid(errors.errors().iter().map(ToString::to_string).collect()),
    }
}

fn refused(running: &LoadedDialplan, errors: Vec<String>) -> ReloadReport {
    ReloadReport {
        result: ReloadResult::Invalid,
        running: running.summary(),
        errors,
        warnings: Vec::new(),
    }
}

fn gauge(version: u64) -> i64 {
    i64::try_from(version).unwrap_or(i64::MAX)
}

/// `POST /api/v1/dialplan/reload`: 200 with the running version (`ok` or `unchanged`), 400 with
/// every error when the file is refused.
pub async fn handle(Extension(reloader): Extension<Arc<DialplanReloader>>) -> Response {
    let report = reloader.reload(Trigger::Api).await;
    let status = match report.result {
        ReloadResult::Invalid => StatusCode::BAD_REQUEST,
        ReloadResult::Ok | ReloadResult::Unchanged => StatusCode::OK,
    };
    (status, Json(report)).into_response()
}

/// On every SIGHUP until the process ends: reloads the configuration, then the dialplan.
///
/// When the configuration is refused and the dialplan then changes, the configuration is tried
/// once more: removing a queue from both files needs the dialplan to stop using it first.
pub fn spawn_sighup(config: Arc<Reloader>, dialplan: Arc<DialplanReloader>) {
    use tokio::signal::unix::{signal, SignalKind};
    let mut hangups = match signal(SignalKind::hangup()) {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!("cannot listen for SIGHUP, reload with the API only: {e}");
            return;
        }
    };
    tokio::spawn(async move {
        while hangups.recv().await.is_some() {
            tracing::info!("SIGHUP: reloading the configuration and the dialplan");
            // Outcomes are logged and counted by the reloaders.
            let config_result = config.reload().await;
            let report = dialplan.reload(Trigger::Sighup).await;
            if config_result.is_err() && report.result == ReloadResult::Ok {
                let _ = config.reload().await;
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    const PLAN: &str =
        "version: 1\nnumbers:\n  \"200\":\n    start: q\n    nodes:\n      q: { queue: support }\n";

    // Checks the dialplan crate may add later keep their defaults here.
    #[allow(clippy::needless_update)]
    fn ctx() -> ValidationContext {
        ValidationContext {
            queues: Some(["support".to_string(), "billing".to_string()].into()),
            prompts: Some(BTreeSet::new()),
            ..ValidationContext::default()
        }
    }

    fn running(source: &str) -> Arc<LoadedDialplan> {
        let plan = Dialplan::parse(source, "plan.yaml", &ctx()).unwrap();
        DialplanHolder::new(plan, source).current()
    }

    #[test]
    fn the_running_content_is_unchanged() {
        let path = Path::new("plan.yaml");
        assert!(matches!(
            check(PLAN, path, &running(PLAN), &ctx()),
            Checked::Unchanged
        ));
        let other = PLAN.replace("support", "billing");
        match check(&other, path, &running(PLAN), &ctx()) {
            Checked::New { plan, hash } => {
                assert_eq!(hash, content_hash(&other));
                assert!(plan.queues_used().contains("billing"));
            }
            _ => panic!("a valid new file is a new version"),
        }
    }

    #[test]
    fn a_changed_list_file_makes_the_same_dialplan_text_a_new_version() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plan.yaml");
        let list = dir.path().join("vip.txt");
        let source = PLAN.replace("numbers:\n", "lists:\n  vip: { file: vip.txt }\nnumbers:\n");
        std::fs::write(&list, "+8613800000001\n").unwrap();
        let first = DialplanHolder::new(Dialplan::parse(&source, &path, &ctx()).unwrap(), &source);
        let first = first.current();
        assert!(matches!(
            check(&source, &path, &first, &ctx()),
            Checked::Unchanged
        ));
        std::fs::write(&list, "+8613800000001\n+8613800000002\n").unwrap();
        match check(&source, &path, &first, &ctx()) {
            Checked::New { plan, hash } => {
                assert_eq!(hash, first.hash);
                assert_eq!(plan.lists()["vip"].numbers().count(), 2);
            }
            _ => panic!("a list file change is a new version"),
        }
        std::fs::remove_file(&list).unwrap();
        assert!(matches!(
            check(&source, &path, &first, &ctx()),
            Checked::Invalid(_)
        ));
    }

    #[test]
    fn a_queue_the_configuration_lacks_is_refused_with_its_position() {
        let bad = PLAN.replace("support", "sales");
        match check(&bad, Path::new("plan.yaml"), &running(PLAN), &ctx()) {
            Checked::Invalid(errors) => {
                assert_eq!(errors.len(), 1, "{errors:?}");
                assert!(errors[0].starts_with("plan.yaml:6:"), "{errors:?}");
                assert!(errors[0].contains("sales"), "{errors:?}");
            }
            _ => panic!("an unknown queue is refused"),
        }
    }

    #[test]
    fn every_error_is_reported() {
        let bad = PLAN.replace("start: q", "start: nowhere\n    bogus: 1");
        match check(&bad, Path::new("plan.yaml"), &running(PLAN), &ctx()) {
            Checked::Invalid(errors) => assert!(errors.len() >= 2, "{errors:?}"),
            _ => panic!("a broken file is refused"),
        }
    }
}
