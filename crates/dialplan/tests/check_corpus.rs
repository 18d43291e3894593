//! `check` on a corpus of broken dialplans: `tests/corpus/NAME.yaml` holds one problem (or, for
//! `every_problem_at_once`, several) and `NAME.expected` the exact report, hints included.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use hotline_dialplan::{
    check, check_file, CheckContext, Dialplan, PromptFiles, QueueDefaults, ValidationContext,
};

/// The configuration the corpus is checked against: two queues, support with its own priority
/// and max wait; prompts in `prompts/en`.
fn context() -> CheckContext {
    CheckContext {
        validation: ValidationContext {
            queues: Some(["support".to_owned(), "billing".to_owned()].into()),
            prompts: None,
        },
        queue_defaults: BTreeMap::from([
            (
                "support".to_owned(),
                QueueDefaults {
                    priority: Some(2),
                    max_wait: Some(Duration::from_secs(300)),
                },
            ),
            ("billing".to_owned(), QueueDefaults::default()),
        ]),
        prompt_files: Some(PromptFiles {
            dir: "prompts".into(),
            languages: vec!["en".to_owned()],
        }),
    }
}

#[test]
fn every_broken_file_gets_exactly_its_expected_report() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    // Relative paths in the reports, as an operator running `check` in that folder sees them.
    // The other test here uses absolute paths only, so changing the directory races with nothing.
    std::env::set_current_dir(&corpus).unwrap();
    let mut names: Vec<String> = std::fs::read_dir(".")
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".yaml"))
        .collect();
    names.sort();
    assert!(names.len() >= 15, "corpus: {names:?}");
    let ctx = context();
    let mut mismatches = Vec::new();
    for name in &names {
        let report = check_file(name, &ctx);
        let expected_path = name.replace(".yaml", ".expected");
        let expected = std::fs::read_to_string(&expected_path)
            .unwrap_or_else(|e| panic!("{expected_path}: {e}"));
        assert!(
            !report.diagnostics.is_empty(),
            "{name} is in the corpus of broken files but checks clean"
        );
        // Without prompt files and queue settings, check refuses exactly what loading refuses.
        let source = std::fs::read_to_string(name).unwrap();
        let plain = CheckContext {
            prompt_files: None,
            queue_defaults: BTreeMap::new(),
            ..ctx.clone()
        };
        assert_eq!(
            Dialplan::parse(&source, name, &ctx.validation).is_err(),
            check(&source, name, &plain).has_errors(),
            "{name}: load and check disagree"
        );
        let actual = report.render();
        if actual != expected {
            mismatches.push(format!(
                "--- {name} expected:\n{expected}--- got:\n{actual}"
            ));
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

#[test]
fn warnings_alone_do_not_fail_the_check() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let ctx = CheckContext {
        prompt_files: None,
        ..context()
    };
    let warned = check_file(corpus.join("unreachable_node.yaml"), &ctx);
    assert_eq!((warned.error_count(), warned.warning_count()), (0, 1));
    assert!(!warned.has_errors());
    let refused = check_file(corpus.join("every_problem_at_once.yaml"), &ctx);
    assert!(refused.has_errors());
}
