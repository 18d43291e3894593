//! Whether a plan that speaks text can run here: espeak-ng must be found where `tts.espeak_ng`
//! says. Checked by `hotline dialplan check --config`, at start and at every dialplan reload, so a
//! plan that would speak into silence is refused with the position of each node that speaks.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use hotline_dialplan::{DialplanError, Severity, SpeechNode};

use super::TtsSettings;

/// Where `program` runs from: a path (anything with a `/`) if it is an executable file, a
/// command name the first executable file of that name in `PATH`.
pub fn find_program(program: &Path) -> Option<PathBuf> {
    let executable = |path: &Path| {
        std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    if program.components().count() > 1 || program.is_absolute() {
        return executable(program).then(|| program.to_path_buf());
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| executable(candidate))
}

/// One error per node of `file` that speaks text when espeak-ng cannot be found; none when it
/// can (or nothing speaks).
pub fn speech_errors(
    settings: &TtsSettings,
    file: &Path,
    nodes: &[SpeechNode],
) -> Vec<DialplanError> {
    if nodes.is_empty() || find_program(&settings.espeak_ng).is_some() {
        return Vec::new();
    }
    nodes
        .iter()
        .map(|node| DialplanError {
            file: file.to_path_buf(),
            line: node.line,
            column: node.column,
            message: format!(
                "this say node speaks text at run time and espeak-ng was not found \
                 (tts.espeak_ng: {}); install it (apt-get install espeak-ng) or use prompts",
                settings.espeak_ng.display()
            ),
            severity: Severity::Error,
            hint: None,
        })
        .collect()
}
