//! `hotline dialplan check`: every problem in a dialplan file at once, errors and warnings, each
//! with its position and, where one helps, a hint.
//!
//! The loader ([`crate::Dialplan::parse`]) already reports every schema and cross-node error; the
//! check runs it and adds what needs more than the file itself (prompt files on disk, the queues'
//! own settings in the server configuration) or what only deserves a warning (duplicate numbers
//! after normalization, schedule dates that cannot be meant). One module per analysis.

mod numbers;
mod prompt_files;
mod queue_overrides;
mod schedules;
mod tree;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::error::{Diagnostics, DialplanError, Pos, Severity};
use crate::validate::ValidationContext;
use crate::{read, validate, yaml};

/// A queue's own settings in the server configuration that a queue node can override.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueueDefaults {
    /// The queue's priority, when the configuration sets one.
    pub priority: Option<i32>,
    /// The queue's longest wait, when the configuration sets one.
    pub max_wait: Option<Duration>,
}

/// Where prompt files are looked for: `<dir>/<language>/<name>.wav` for each language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PromptFiles {
    /// The prompts folder (`prompts/`).
    pub dir: PathBuf,
    /// The languages every prompt must exist in (the server's language first).
    pub languages: Vec<String>,
}

/// What a check compares the dialplan with, beyond the file itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckContext {
    /// Known queue and prompt names, as the loader checks them.
    pub validation: ValidationContext,
    /// The configured queues' own settings, by queue name (empty: no configuration given).
    pub queue_defaults: BTreeMap<String, QueueDefaults>,
    /// Prompt files to look for; `None` skips the prompt file check.
    pub prompt_files: Option<PromptFiles>,
}

/// Everything a check found in one file, sorted by position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckReport {
    /// The file checked, as given.
    pub file: PathBuf,
    /// Errors and warnings, sorted by line and column.
    pub diagnostics: Vec<DialplanError>,
    /// The `say` nodes that speak text at run time, for the server to check its synthesizer.
    pub speech_nodes: Vec<crate::SpeechNode>,
    /// The `transfer` nodes that dial outside numbers, for the server to check its trunks.
    pub dial_nodes: Vec<crate::DialNode>,
    /// The nodes that put callers in a queue, for the server to check what the queue needs.
    pub queue_nodes: Vec<crate::QueueNode>,
}

impl CheckReport {
    /// How many errors (problems that refuse the file) were found.
    pub fn error_count(&self) -> usize {
        self.count(Severity::Error)
    }

    /// How many warnings were found.
    pub fn warning_count(&self) -> usize {
        self.count(Severity::Warning)
    }

    /// Whether the file would be refused.
    pub fn has_errors(&self) -> bool {
        self.error_count() > 0
    }

    fn count(&self, severity: Severity) -> usize {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == severity)
            .count()
    }

    /// The diagnostics as `file:line:column: error|warning: message` lines, each followed by an
    /// indented `hint:` line where there is one.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for d in &self.diagnostics {
            let _ = writeln!(
                out,
                "{}:{}:{}: {}: {}",
                d.file.display(),
                d.line,
                d.column,
                d.severity,
                d.message
            );
            if let Some(hint) = &d.hint {
                let _ = writeln!(out, "  hint: {hint}");
            }
        }
        out
    }
}

/// Checks the dialplan text `source`; `file` is used in messages and to find list files.
pub fn check(source: &str, file: impl AsRef<Path>, ctx: &CheckContext) -> CheckReport {
    let file = file.as_ref();
    let mut diags = Diagnostics::new(file);
    let read = read::read(source, file, &mut diags);
    let speech_nodes = crate::speech::speech_nodes(&read);
    let dial_nodes = crate::dials::dial_nodes(&read);
    let queue_nodes = crate::queue_nodes::queue_nodes(&read);
    // The tree again, for the positions the analyses below report at; syntax errors were
    // reported by the read above.
    if let (Some(root), _) = yaml::parse(source) {
        numbers::duplicates(&root, read.country, &mut diags);
        schedules::impossible_dates(&root, &mut diags);
        queue_overrides::both_set(&root, &ctx.queue_defaults, &mut diags);
    }
    if let Some(prompts) = &ctx.prompt_files {
        prompt_files::missing(&read, prompts, &mut diags);
    }
    validate::validate(read, &ctx.validation, &mut diags);
    CheckReport {
        file: file.to_path_buf(),
        diagnostics: diags.into_all(),
        speech_nodes,
        dial_nodes,
        queue_nodes,
    }
}

/// Reads the file at `path` and checks it like [`check`]; a file that cannot be read is one
/// error at line 1.
pub fn check_file(path: impl AsRef<Path>, ctx: &CheckContext) -> CheckReport {
    let path = path.as_ref();
    match std::fs::read_to_string(path) {
        Ok(source) => check(&source, path, ctx),
        Err(e) => {
            let mut diags = Diagnostics::new(path);
            diags.error(
                Pos { line: 1, column: 1 },
                format!("cannot read the dialplan: {e}"),
            );
            CheckReport {
                file: path.to_path_buf(),
                diagnostics: diags.into_all(),
                speech_nodes: Vec::new(),
                dial_nodes: Vec::new(),
                queue_nodes: Vec::new(),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_render_severity_and_hint_lines() {
        let source = "version: 1\nnumbers:\n  \"1\":\n    start: a\n    nodes:\n      a: { queue: q, nxet: b }\n      b: { queue: q }\n";
        let report = check(source, "p.yaml", &CheckContext::default());
        assert_eq!(
            report.render(),
            "p.yaml:6:22: error: unknown key `nxet` in node `a`\n  hint: did you mean `next`?\n\
             p.yaml:7:7: warning: node `b` is never reached from start node `a`\n"
        );
        assert_eq!((report.error_count(), report.warning_count()), (1, 1));
    }

    #[test]
    fn an_unreadable_file_is_one_error() {
        let report = check_file("/nonexistent/plan.yaml", &CheckContext::default());
        assert!(report.has_errors());
        assert!(report
            .render()
            .starts_with("/nonexistent/plan.yaml:1:1: error: cannot read the dialplan:"));
    }
}
