//! Prompt files: every prompt a dialplan plays must exist as `<dir>/<language>/<name>.wav` for
//! each configured language, or callers hear silence where the plan expects words.

use std::collections::{BTreeMap, BTreeSet};

use super::PromptFiles;
use crate::error::Diagnostics;
use crate::read::{closest_name, ReadFile};

/// Reports each prompt reference without a file in one of the languages.
pub(super) fn missing(read: &ReadFile, prompts: &PromptFiles, diags: &mut Diagnostics<'_>) {
    let mut present: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for language in &prompts.languages {
        present.insert(language, wav_names(&prompts.dir.join(language)));
    }
    // Survey prompts are named at the top level, outside any number.
    let references = read
        .numbers
        .iter()
        .flat_map(|number| number.prompts.iter())
        .chain(read.survey_prompts.iter());
    for prompt in references {
        for language in &prompts.languages {
            let Some(names) = present.get(language.as_str()) else {
                continue;
            };
            if names.contains(&prompt.value) {
                continue;
            }
            let path = prompts
                .dir
                .join(language)
                .join(format!("{}.wav", prompt.value));
            let known: Vec<&str> = names.iter().map(String::as_str).collect();
            let hint = match closest_name(&prompt.value, &known) {
                Some(near) => format!("did you mean `{near}`?"),
                None => format!("record it as {}", path.display()),
            };
            diags.error_with_hint(
                prompt.pos,
                format!(
                    "prompt `{}` has no file for language `{language}`: {} is missing",
                    prompt.value,
                    path.display()
                ),
                Some(hint),
            );
        }
    }
}

/// The names of the `.wav` files in `dir` (none when it cannot be read).
fn wav_names(dir: &std::path::Path) -> BTreeSet<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return BTreeSet::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let path = entry.path();
            let is_wav = path.extension().is_some_and(|e| e == "wav");
            let stem = path.file_stem()?.to_str()?.to_owned();
            is_wav.then_some(stem)
        })
        .collect()
}
