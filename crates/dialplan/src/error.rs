//! Diagnostics: every problem found in a dialplan, each printed as `file:line:column: message`.

use std::fmt;
use std::path::{Path, PathBuf};

/// A 1-based line and column (columns count characters, not bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Pos {
    /// 1-based line.
    pub line: u32,
    /// 1-based column, in characters.
    pub column: u32,
}

/// How serious a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// The dialplan is refused.
    Error,
    /// The dialplan loads, but an operator should look (e.g. an unreachable node).
    Warning,
}

/// One problem in a dialplan file, located at a line and column.
///
/// Displays as `file:line:column: message` for errors and `file:line:column: warning: message`
/// for warnings, the format editors and CI annotate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DialplanError {
    /// The file the dialplan was read from, as given to the loader.
    pub file: PathBuf,
    /// 1-based line.
    pub line: u32,
    /// 1-based column, in characters.
    pub column: u32,
    /// What is wrong, in operator terms.
    pub message: String,
    /// Error (refused) or warning (loaded anyway).
    pub severity: Severity,
    /// What would likely fix it (`did you mean `timeout`?`), when something helps.
    pub hint: Option<String>,
}

impl DialplanError {
    pub(crate) fn new(file: &Path, pos: Pos, severity: Severity, message: String) -> Self {
        Self {
            file: file.to_path_buf(),
            line: pos.line,
            column: pos.column,
            message,
            severity,
            hint: None,
        }
    }

    /// The same diagnostic with a hint.
    pub(crate) fn with_hint(mut self, hint: Option<String>) -> Self {
        self.hint = hint;
        self
    }
}

impl fmt::Display for DialplanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: ", self.file.display(), self.line, self.column)?;
        if self.severity == Severity::Warning {
            f.write_str("warning: ")?;
        }
        f.write_str(&self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, "; {hint}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        })
    }
}

impl std::error::Error for DialplanError {}

/// All errors found in a dialplan (never empty), sorted by position.
///
/// Displays one error per line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DialplanErrors {
    errors: Vec<DialplanError>,
}

impl DialplanErrors {
    /// Builds the list, sorted by line then column. `errors` must not be empty.
    pub(crate) fn new(mut errors: Vec<DialplanError>) -> Self {
        errors.sort_by_key(|e| (e.line, e.column));
        Self { errors }
    }

    /// The errors, sorted by position.
    pub fn errors(&self) -> &[DialplanError] {
        &self.errors
    }

    /// How many errors were found.
    pub fn len(&self) -> usize {
        self.errors.len()
    }

    /// Always false: a `DialplanErrors` holds at least one error.
    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }
}

impl fmt::Display for DialplanErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, error) in self.errors.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}

impl std::error::Error for DialplanErrors {}

impl IntoIterator for DialplanErrors {
    type Item = DialplanError;
    type IntoIter = std::vec::IntoIter<DialplanError>;

    fn into_iter(self) -> Self::IntoIter {
        self.errors.into_iter()
    }
}

/// Why [`crate::Dialplan::load`] failed.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be read (missing, unreadable, not UTF-8).
    #[error("{}: cannot read dialplan: {source}", path.display())]
    Read {
        /// The file that could not be read.
        path: PathBuf,
        /// The underlying I/O error.
        source: std::io::Error,
    },
    /// The file was read but holds errors.
    #[error("{0}")]
    Invalid(DialplanErrors),
}

/// Collects diagnostics for one file while it is read and validated.
pub(crate) struct Diagnostics<'a> {
    file: &'a Path,
    errors: Vec<DialplanError>,
    warnings: Vec<DialplanError>,
}

impl<'a> Diagnostics<'a> {
    pub(crate) fn new(file: &'a Path) -> Self {
        Self {
            file,
            errors: Vec::new(),
            warnings: Vec::new(),
        }
    }

    /// Records an error at `pos`.
    pub(crate) fn error(&mut self, pos: Pos, message: impl Into<String>) {
        self.errors.push(DialplanError::new(
            self.file,
            pos,
            Severity::Error,
            message.into(),
        ));
    }

    /// Records an error at `pos` with what would likely fix it.
    pub(crate) fn error_with_hint(
        &mut self,
        pos: Pos,
        message: impl Into<String>,
        hint: Option<String>,
    ) {
        self.errors.push(
            DialplanError::new(self.file, pos, Severity::Error, message.into()).with_hint(hint),
        );
    }

    /// Records a warning at `pos` with what would likely fix it.
    pub(crate) fn warning_with_hint(
        &mut self,
        pos: Pos,
        message: impl Into<String>,
        hint: Option<String>,
    ) {
        self.warnings.push(
            DialplanError::new(self.file, pos, Severity::Warning, message.into()).with_hint(hint),
        );
    }

    /// Records a warning at `pos`.
    pub(crate) fn warning(&mut self, pos: Pos, message: impl Into<String>) {
        self.warnings.push(DialplanError::new(
            self.file,
            pos,
            Severity::Warning,
            message.into(),
        ));
    }

    /// How many errors were recorded so far.
    pub(crate) fn error_count(&self) -> usize {
        self.errors.len()
    }

    /// Every error and warning, sorted by position (errors first at the same position).
    pub(crate) fn into_all(self) -> Vec<DialplanError> {
        let mut all = self.errors;
        all.extend(self.warnings);
        all.sort_by_key(|e| (e.line, e.column, e.severity));
        all
    }

    /// The errors if any, else the warnings sorted by position.
    pub(crate) fn finish(self) -> Result<Vec<DialplanError>, DialplanErrors> {
        if self.errors.is_empty() {
            let mut warnings = self.warnings;
            warnings.sort_by_key(|e| (e.line, e.column));
            Ok(warnings)
        } else {
            Err(DialplanErrors::new(self.errors))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_print_as_file_line_column_message() {
        let error = DialplanError::new(
            Path::new("dialplans/x.yaml"),
            Pos { line: 3, column: 7 },
            Severity::Error,
            "unknown node `foo`".to_owned(),
        );
        assert_eq!(
            error.to_string(),
            "dialplans/x.yaml:3:7: unknown node `foo`"
        );
    }

    #[test]
    fn warnings_are_marked() {
        let warning = DialplanError::new(
            Path::new("x.yaml"),
            Pos { line: 1, column: 2 },
            Severity::Warning,
            "node `a` is unreachable".to_owned(),
        );
        assert_eq!(
            warning.to_string(),
            "x.yaml:1:2: warning: node `a` is unreachable"
        );
    }
}
