//! The bundled prompt set: `<root>/<language>/<name>.wav`, loaded and validated once at start.

use super::{Prompt, PromptError};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use thiserror::Error;

/// Why the prompt directory could not be loaded.
#[derive(Debug, Error)]
pub enum LibraryError {
    /// A directory could not be listed.
    #[error("cannot read prompt directory {path}: {source}")]
    Directory {
        /// The directory.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A WAV file is unreadable or in the wrong format.
    #[error("prompt {path}: {source}")]
    Prompt {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        source: PromptError,
    },
}

/// Every prompt of every language, shared as `Arc<Prompt>` (cheap to clone into legs).
#[derive(Debug, Clone, Default)]
pub struct PromptLibrary {
    prompts: BTreeMap<(String, String), Arc<Prompt>>,
}

fn list(dir: &Path) -> Result<Vec<PathBuf>, LibraryError> {
    let err = |source| LibraryError::Directory {
        path: dir.to_owned(),
        source,
    };
    let mut entries = std::fs::read_dir(dir)
        .map_err(err)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(err)?;
    entries.sort();
    Ok(entries)
}

impl PromptLibrary {
    /// Loads `root/<language>/<name>.wav` for every language folder; any bad file is an error
    /// naming it (a prompt set is validated at start, not when a caller first hears it).
    pub fn load(root: impl AsRef<Path>) -> Result<Self, LibraryError> {
        let mut prompts = BTreeMap::new();
        for language_dir in list(root.as_ref())? {
            if !language_dir.is_dir() {
                continue;
            }
            let Some(language) = language_dir.file_name().and_then(|n| n.to_str()) else {
                continue;
            };
            for file in list(&language_dir)? {
                let is_wav = file
                    .extension()
                    .and_then(|e| e.to_str())
                    .is_some_and(|e| e.eq_ignore_ascii_case("wav"));
                let Some(name) = file.file_stem().and_then(|n| n.to_str()) else {
                    continue;
                };
                if !is_wav {
                    continue;
                }
                let prompt = Prompt::load(&file).map_err(|source| LibraryError::Prompt {
                    path: file.clone(),
                    source,
                })?;
                prompts.insert((language.to_owned(), name.to_owned()), Arc::new(prompt));
            }
        }
        Ok(PromptLibrary { prompts })
    }

    /// The prompt `name` in `language`.
    pub fn prompt(&self, language: &str, name: &str) -> Option<Arc<Prompt>> {
        self.prompts
            .get(&(language.to_owned(), name.to_owned()))
            .cloned()
    }

    /// Whether `name` exists in `language` (for validating dialplans at load time).
    pub fn contains(&self, language: &str, name: &str) -> bool {
        self.prompt(language, name).is_some()
    }

    /// All (language, name) pairs, sorted.
    pub fn names(&self) -> impl Iterator<Item = (&str, &str)> {
        self.prompts.keys().map(|(l, n)| (l.as_str(), n.as_str()))
    }

    /// Number of prompts loaded.
    pub fn len(&self) -> usize {
        self.prompts.len()
    }

    /// Whether no prompt was loaded.
    pub fn is_empty(&self) -> bool {
        self.prompts.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bundled() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../prompts")
    }

    #[test]
    fn bundled_prompts_load() {
        let library = PromptLibrary::load(bundled()).expect("bundled prompts are valid");
        for name in ["greeting", "goodbye", "invalid", "moh", "please_hold"] {
            let prompt = library.prompt("en", name).expect("bundled prompt present");
            assert!(prompt.duration().as_millis() > 100, "{name} is too short");
        }
        assert!(library.prompt("fr", "greeting").is_none());
        assert!(library.contains("en", "moh"));
    }

    #[test]
    fn a_bad_file_is_named_in_the_error() {
        let root = tempfile::tempdir().expect("temp dir");
        let en = root.path().join("en");
        std::fs::create_dir(&en).expect("mkdir");
        std::fs::write(en.join("broken.wav"), b"not a wav").expect("write");
        std::fs::write(en.join("README.txt"), b"ignored").expect("write");
        let err = PromptLibrary::load(root.path()).expect_err("broken file");
        assert!(err.to_string().contains("broken.wav"), "{err}");
        assert!(matches!(
            PromptLibrary::load(root.path().join("missing")),
            Err(LibraryError::Directory { .. })
        ));
    }
}
