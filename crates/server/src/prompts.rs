//! The prompt library: every WAV of the configured language, loaded once and shared by calls.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use hotline_dialplan::{Dialplan, DialplanError, QueueNode, Severity};
use hotline_media::prompt::Prompt;

use crate::config::Config;

/// Prompts by name (file stem).
pub struct PromptLibrary {
    prompts: BTreeMap<String, Arc<Prompt>>,
    music_on_hold: Arc<Prompt>,
}

impl PromptLibrary {
    /// Loads `<prompts.dir>/<language>/*.wav`; refuses to start if the dialplan names a prompt
    /// that is missing, if the music on hold is missing, or if a queue's music or announcements
    /// need a prompt that is missing.
    pub fn load(config: &Config, dialplan: &Dialplan) -> Result<Self> {
        let dir = config.prompts_dir.join(&config.language);
        let mut prompts = BTreeMap::new();
        let entries = std::fs::read_dir(&dir)
            .with_context(|| format!("reading prompts {}", dir.display()))?;
        for entry in entries {
            let path = entry?.path();
            if path.extension().and_then(|e| e.to_str()) != Some("wav") {
                continue;
            }
            let Some(name) = path.file_stem().and_then(|s| s.to_str()) else {
                continue;
            };
            let prompt = Prompt::load(&path)
                .with_context(|| format!("loading prompt {}", path.display()))?;
            prompts.insert(name.to_string(), Arc::new(prompt));
        }
        // A `say` node needs the number words of the language it speaks by default.
        let default = hotline_dialplan::SayLanguage::of(Some(&config.language));
        let said = dialplan
            .numbers()
            .filter_map(|n| dialplan.number(n))
            .flat_map(|number| number.nodes.values())
            .filter_map(|node| match &node.kind {
                hotline_dialplan::NodeKind::Say(say) => Some(say.kind),
                _ => None,
            })
            .flat_map(|kind| hotline_dialplan::say::vocabulary_in(kind, default))
            .map(str::to_owned);
        let mut missing: Vec<String> = dialplan
            .prompts_used()
            .iter()
            .cloned()
            .chain(said)
            .filter(|p| !prompts.contains_key(p.as_str()))
            .collect();
        missing.sort();
        missing.dedup();
        if !missing.is_empty() {
            bail!(
                "the dialplan uses prompts missing from {}: {}",
                dir.display(),
                missing.join(", ")
            );
        }
        for (queue, settings) in &config.queues {
            let mut wanted: Vec<String> = settings.music_on_hold.iter().cloned().collect();
            if let Some(announce) = &settings.announce {
                let language = hotline_dialplan::SayLanguage::of(Some(&config.language));
                wanted.extend(announce.prompts(language));
            }
            if offers_callbacks(queue, settings, dialplan) {
                wanted.extend(callback_offer_prompts());
            }
            let missing: Vec<_> = wanted
                .into_iter()
                .filter(|p| !prompts.contains_key(p.as_str()))
                .collect();
            if !missing.is_empty() {
                bail!(
                    "queue {queue} plays prompts missing from {}: {}",
                    dir.display(),
                    missing.join(", ")
                );
            }
        }
        let Some(music_on_hold) = prompts.get(&config.music_on_hold).cloned() else {
            bail!(
                "music on hold {:?} is missing from {}",
                config.music_on_hold,
                dir.display()
            );
        };
        Ok(Self {
            prompts,
            music_on_hold,
        })
    }

    /// A prompt by name.
    pub fn get(&self, name: &str) -> Option<Arc<Prompt>> {
        self.prompts.get(name).cloned()
    }

    /// The names of the loaded prompts (a reloaded dialplan may use only these).
    pub fn names(&self) -> std::collections::BTreeSet<String> {
        self.prompts.keys().cloned().collect()
    }

    /// The music on hold.
    pub fn music_on_hold(&self) -> Arc<Prompt> {
        self.music_on_hold.clone()
    }
}

/// Whether callers of `queue` may be offered a callback: the queue's `callback_offer`, a
/// relaxation step `offer_callback`, or the `callback_offer` of a dialplan node that queues
/// callers there (a queue node or a transfer to the queue).
fn offers_callbacks(
    queue: &str,
    settings: &crate::config::QueueSettings,
    dialplan: &Dialplan,
) -> bool {
    use hotline_dialplan::{NodeKind, Transfer};
    let by_node = dialplan
        .numbers()
        .filter_map(|n| dialplan.number(n))
        .flat_map(|number| number.nodes.values())
        .any(|node| match &node.kind {
            NodeKind::Queue {
                queue: q, options, ..
            }
            | NodeKind::Transfer(Transfer::Queue {
                queue: q, options, ..
            }) => q == queue && options.callback_offer.is_some(),
            _ => false,
        });
    configured_offer(settings) || by_node
}

/// Whether a queue's own settings offer callbacks: `callback_offer` or a relaxation step
/// `offer_callback`.
fn configured_offer(settings: &crate::config::QueueSettings) -> bool {
    let by_step = settings
        .relaxation
        .iter()
        .any(|step| matches!(step.action, hotline_routing::RelaxAction::OfferCallback));
    settings.callback_offer.is_some() || by_step
}

/// `hotline dialplan check --config`: the start's check that a queue offering callbacks has the
/// offer's prompts, as errors of `file` at each node that queues callers where an offer is made
/// (at line 1 for a queue the configuration makes offer that no node of the plan uses).
pub fn callback_offer_errors(
    config: &Config,
    file: &Path,
    nodes: &[QueueNode],
) -> Vec<DialplanError> {
    let dir = config.prompts_dir.join(&config.language);
    let present = wav_names(&dir);
    let missing: Vec<String> = callback_offer_prompts()
        .into_iter()
        .filter(|p| !present.contains(p))
        .collect();
    if missing.is_empty() {
        return Vec::new();
    }
    let error = |line: u32, column: u32, queue: &str| {
        DialplanError {
        file: file.to_path_buf(),
        line,
        column,
        message: format!(
            "the callback offer of queue `{queue}` plays prompts with no file for language `{}`: {} (missing from {})",
            config.language,
            missing.join(", "),
            dir.display()
        ),
        severity: Severity::Error,
        hint: Some(format!(
            "record them in {}, or offer no callback in queue `{queue}`",
            dir.display()
        )),
    }
    };
    let mut errors = Vec::new();
    for (queue, settings) in &config.queues {
        let by_config = configured_offer(settings);
        let mut used = false;
        for node in nodes.iter().filter(|n| &n.queue == queue) {
            used = true;
            if by_config || node.callback_offer {
                errors.push(error(node.at.line, node.at.column, queue));
            }
        }
        if by_config && !used {
            errors.push(error(1, 1, queue));
        }
    }
    errors.sort_by_key(|e| (e.line, e.column));
    errors
}

/// The names of the `.wav` files in `dir` (none when it cannot be read).
fn wav_names(dir: &Path) -> BTreeSet<String> {
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

/// The prompts the callback offer plays: its own and the digits a typed number is read back in.
pub fn callback_offer_prompts() -> Vec<String> {
    crate::call::CALLBACK_OFFER_PROMPTS
        .iter()
        .map(|p| (*p).to_owned())
        .chain((0..10).map(|d| format!("num_{d}")))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLAN: &str = "version: 1\nnumbers:\n  \"800\":\n    start: wait\n    nodes:\n      wait: { queue: support }\n";

    /// The bundled configuration with `edit` applied, reading prompts from a copy of the bundled
    /// English ones without `left_out`.
    fn load(
        plan: &str,
        edit: (&str, &str),
        left_out: &str,
    ) -> (tempfile::TempDir, Result<PromptLibrary>) {
        let (dir, config) = config_without(edit, left_out);
        let plan = Dialplan::parse(
            plan,
            "plan.yaml",
            &hotline_dialplan::ValidationContext::default(),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let library = PromptLibrary::load(&config, &plan);
        (dir, library)
    }

    /// The bundled configuration with `edit` applied, its prompts a copy of the bundled ones
    /// without `left_out`.
    fn config_without(edit: (&str, &str), left_out: &str) -> (tempfile::TempDir, Config) {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let text = std::fs::read_to_string(root.join("config/hotline.yaml"))
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(text.contains(edit.0), "bundled config changed");
        let mut config =
            Config::parse(&text.replace(edit.0, edit.1)).unwrap_or_else(|e| panic!("{e:#}"));
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let folder = dir.path().join(&config.language);
        std::fs::create_dir_all(&folder).unwrap_or_else(|e| panic!("{e}"));
        let bundled = root.join("prompts").join(&config.language);
        for entry in std::fs::read_dir(bundled).unwrap_or_else(|e| panic!("{e}")) {
            let path = entry.unwrap_or_else(|e| panic!("{e}")).path();
            let name = path.file_name().unwrap_or_default().to_owned();
            if name != std::ffi::OsString::from(format!("{left_out}.wav")) {
                std::fs::copy(&path, folder.join(name)).unwrap_or_else(|e| panic!("{e}"));
            }
        }
        config.prompts_dir = dir.path().to_path_buf();
        (dir, config)
    }

    const STRATEGY: &str = "    strategy: longest_idle\n";

    #[test]
    fn a_queue_offering_callbacks_needs_the_offer_s_prompts() {
        let offers = (
            STRATEGY,
            "    strategy: longest_idle\n    callback_offer: 90s\n",
        );
        let (_dir, loaded) = load(PLAN, offers, "callback_confirm");
        let error = loaded.err().map(|e| format!("{e:#}")).unwrap_or_default();
        assert!(
            error.contains("queue support plays prompts missing")
                && error.contains("callback_confirm"),
            "{error}"
        );
        let (_dir, loaded) = load(PLAN, offers, "no_such_prompt");
        assert!(loaded.is_ok(), "the bundled prompts have the offer's");
    }

    #[test]
    fn a_queue_without_callback_offers_does_not_need_them() {
        let (_dir, loaded) = load(PLAN, (STRATEGY, STRATEGY), "callback_offer");
        assert!(loaded.is_ok());
    }

    #[test]
    fn a_queue_node_offering_callbacks_needs_them_too() {
        let plan = PLAN.replace(
            "{ queue: support }",
            "{ queue: { name: support, callback_offer: 2m } }",
        );
        let (_dir, loaded) = load(&plan, (STRATEGY, STRATEGY), "callback_number");
        let error = loaded.err().map(|e| format!("{e:#}")).unwrap_or_default();
        assert!(error.contains("callback_number"), "{error}");
    }

    #[test]
    fn a_transfer_to_a_queue_offering_callbacks_needs_them_too() {
        let plan = PLAN.replace(
            "{ queue: support }",
            "{ transfer: { queue: support, callback_offer: 2m } }",
        );
        let (_dir, loaded) = load(&plan, (STRATEGY, STRATEGY), "num_7");
        let error = loaded.err().map(|e| format!("{e:#}")).unwrap_or_default();
        assert!(error.contains("num_7"), "{error}");
    }

    /// The check's errors for `plan` (rendered), prompts lacking `left_out`.
    fn check_errors(plan: &str, edit: (&str, &str), left_out: &str) -> Vec<String> {
        let (dir, config) = config_without(edit, left_out);
        let report = hotline_dialplan::check(plan, "plan.yaml", &Default::default());
        callback_offer_errors(&config, &report.file, &report.queue_nodes)
            .iter()
            .map(|e| {
                e.to_string()
                    .replace(&dir.path().display().to_string(), "DIR")
            })
            .collect()
    }

    #[test]
    fn the_check_finds_the_offer_s_missing_prompts_at_the_nodes_that_queue_there() {
        let offers = (
            STRATEGY,
            "    strategy: longest_idle\n    callback_offer: 90s\n",
        );
        let two = "version: 1\nnumbers:\n  \"800\":\n    start: m\n    nodes:\n      m: { menu: { options: { \"1\": a, \"2\": b } } }\n      a: { queue: support }\n      b: { transfer: { queue: billing, callback_offer: 1m } }\n";
        let message = |line: u32, column: u32, queue: &str| {
            format!(
                "plan.yaml:{line}:{column}: the callback offer of queue `{queue}` plays prompts with no file for language `en`: callback_confirm (missing from DIR/en); record them in DIR/en, or offer no callback in queue `{queue}`"
            )
        };
        // The queue's own offer puts it at every node queueing there; a node's offer at it.
        assert_eq!(
            check_errors(two, offers, "callback_confirm"),
            [message(7, 7, "support"), message(8, 7, "billing")]
        );
        // Without the queue's offer, only the node that offers needs the prompts.
        assert_eq!(
            check_errors(two, (STRATEGY, STRATEGY), "callback_confirm"),
            [message(8, 7, "billing")]
        );
        // A queue offering callbacks that the plan does not use refuses the start all the same.
        let elsewhere = "version: 1\nnumbers:\n  \"800\":\n    start: b\n    nodes:\n      b: { queue: billing }\n";
        assert_eq!(
            check_errors(elsewhere, offers, "callback_confirm"),
            [message(1, 1, "support")]
        );
        assert!(check_errors(two, offers, "no_such_prompt").is_empty());
    }
}
