use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::check::find_program;
use super::*;

fn settings(program: &Path) -> TtsSettings {
    TtsSettings {
        espeak_ng: program.to_path_buf(),
        ..TtsSettings::default()
    }
}

/// An executable shell script in `dir`.
fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

fn tts(settings: TtsSettings) -> Tts {
    Tts::new(settings, Metrics::new())
}

fn speech(tts: &Tts, language: &str, text: &str) -> Speech {
    tts.prepare(language, text).unwrap().unwrap()
}

#[test]
fn settings_default_to_espeak_ng_with_english_and_mandarin_voices() {
    let parsed: TtsSettings = serde_saphyr::from_str("timeout: 2s\n").unwrap();
    assert_eq!(parsed.espeak_ng, PathBuf::from("espeak-ng"));
    assert_eq!(parsed.timeout, Duration::from_secs(2));
    assert_eq!(parsed.max_chars, 200);
    assert_eq!(parsed.voice_for("en"), Some("en"));
    assert_eq!(parsed.voice_for("zh-CN"), Some("cmn"));
    // Another case, then the primary subtag.
    assert_eq!(parsed.voice_for("zh-cn"), Some("cmn"));
    assert_eq!(parsed.voice_for("en-GB"), Some("en"));
    assert_eq!(parsed.voice_for("zh"), Some("cmn"));
    assert_eq!(parsed.voice_for("fr"), None);
    assert!(parsed.validate().is_ok());
    let replaced: TtsSettings = serde_saphyr::from_str("voices: { fr: fr }\n").unwrap();
    assert_eq!(replaced.voice_for("en"), None);
    assert!(serde_saphyr::from_str::<TtsSettings>("timeout: soon\n").is_err());
    assert!(serde_saphyr::from_str::<TtsSettings>("voice: { en: en }\n").is_err());
}

#[test]
fn settings_out_of_bounds_are_refused() {
    let bad = [
        "timeout: 0s\n",
        "timeout: 2m\n",
        "max_chars: 0\n",
        "cache: 100000\n",
        "concurrency: 0\n",
        "voices: { en: \"-x\" }\n",
        "voices: { en: \"en us\" }\n",
    ];
    for text in bad {
        let parsed: TtsSettings = serde_saphyr::from_str(text).unwrap();
        assert!(parsed.validate().is_err(), "{text}");
    }
}

#[test]
fn text_is_blanked_of_control_characters_cut_and_trimmed() {
    let tts = tts(TtsSettings {
        max_chars: 8,
        ..TtsSettings::default()
    });
    let s = speech(&tts, "en", "  Li\nNa\u{7}Wang Wei");
    assert_eq!(s.text, "Li Na");
    assert_eq!(s.chars(), 5);
    let s = speech(&tts, "zh-CN", "王伟王伟王伟王伟王伟");
    assert_eq!(s.text, "王伟王伟王伟王伟");
    assert_eq!(s.voice, "cmn");
    assert_eq!(tts.prepare("en", " \n ").unwrap(), None);
    assert_eq!(
        tts.prepare("fr", "Bonjour"),
        Err(TtsError::NoVoice("fr".into()))
    );
}

#[tokio::test]
async fn espeak_ng_speaks_english_and_mandarin_as_8khz_prompts_and_caches_them() {
    let tts = tts(TtsSettings::default());
    for (language, text) in [("en", "Li Na"), ("zh-CN", "李娜")] {
        let s = speech(&tts, language, text);
        assert_eq!(tts.cached(&s), None);
        let prompt = tts.synthesize(&s).await.unwrap();
        let ms = prompt.duration().as_millis();
        assert!((300..3_000).contains(&ms), "{language}: {ms} ms");
        // Speech, not silence.
        let peak = prompt.samples().iter().map(|s| s.unsigned_abs()).max();
        assert!(peak > Some(3_000), "{language}: peak {peak:?}");
        assert_eq!(tts.cached(&s), Some(prompt));
    }
    let metrics = tts.metrics.render();
    assert!(
        metrics.contains("hotline_tts_total{result=\"synthesized\"} 2"),
        "{metrics}"
    );
    assert!(
        metrics.contains("hotline_tts_total{result=\"cached\"} 2"),
        "{metrics}"
    );
}

#[tokio::test]
async fn the_text_goes_on_stdin_and_the_arguments_are_fixed() {
    let dir = tempfile::tempdir().unwrap();
    let args = dir.path().join("args");
    let input = dir.path().join("stdin");
    // Records what it was given, then answers a valid WAV from the real espeak-ng.
    let program = script(
        dir.path(),
        "fake-espeak",
        &format!(
            "printf '%s\\n' \"$@\" > {}\ncat > {}\nexec espeak-ng -v en --stdout 'one'",
            args.display(),
            input.display()
        ),
    );
    let tts = tts(settings(&program));
    let text = "-w /tmp/x; $(rm -rf /) `id` \"Li\" <speak>Na</speak>";
    let s = speech(&tts, "en", text);
    tts.synthesize(&s).await.unwrap();
    assert_eq!(
        std::fs::read_to_string(&args).unwrap(),
        "-v\nen\n-b\n1\n--stdout\n--stdin\n"
    );
    assert_eq!(std::fs::read_to_string(&input).unwrap(), text);
}

#[tokio::test]
async fn a_missing_program_a_failure_and_bad_output_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let missing = tts(settings(&dir.path().join("no-such-espeak")));
    let s = speech(&missing, "en", "Li Na");
    assert!(matches!(
        missing.synthesize(&s).await,
        Err(TtsError::NotFound(_))
    ));
    let failing = tts(settings(&script(
        dir.path(),
        "failing",
        "cat >/dev/null; echo 'Error: no such voice' >&2; exit 1",
    )));
    match failing.synthesize(&s).await {
        Err(TtsError::Failed { stderr, .. }) => assert_eq!(stderr, "Error: no such voice"),
        other => panic!("{other:?}"),
    }
    let garbage = tts(settings(&script(
        dir.path(),
        "garbage",
        "cat >/dev/null; echo not audio",
    )));
    assert!(matches!(
        garbage.synthesize(&s).await,
        Err(TtsError::BadOutput(_))
    ));
    let metrics = garbage.metrics.render();
    assert!(
        metrics.contains("hotline_tts_total{result=\"bad_output\"} 1"),
        "{metrics}"
    );
}

#[tokio::test]
async fn a_synthesis_past_the_timeout_is_killed() {
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("pid");
    let program = script(
        dir.path(),
        "slow",
        &format!("echo $$ > {}\nexec sleep 30", pid_file.display()),
    );
    let tts = tts(TtsSettings {
        timeout: Duration::from_millis(300),
        ..settings(&program)
    });
    let s = speech(&tts, "en", "Li Na");
    let started = Instant::now();
    let result = tts.synthesize(&s).await;
    assert_eq!(result, Err(TtsError::TimedOut(Duration::from_millis(300))));
    assert!(started.elapsed() < Duration::from_secs(2));
    let pid = std::fs::read_to_string(&pid_file).unwrap();
    // Killed and reaped: no such process any more.
    let proc_dir = PathBuf::from(format!("/proc/{}", pid.trim()));
    assert!(!proc_dir.exists(), "espeak-ng (pid {pid}) still runs");
}

#[tokio::test]
async fn syntheses_beyond_the_concurrency_wait_their_turn() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log");
    // Logs its start and its end around a real synthesis.
    let program = script(
        dir.path(),
        "logged",
        &format!(
            "echo start >> {log}\ncat > /dev/null\nsleep 0.2\nespeak-ng -v en --stdout one\necho end >> {log}",
            log = log.display()
        ),
    );
    let tts = tts(TtsSettings {
        concurrency: 1,
        ..settings(&program)
    });
    let (a, b) = (speech(&tts, "en", "Li Na"), speech(&tts, "en", "Wang Wei"));
    let (first, second) = tokio::join!(tts.synthesize(&a), tts.synthesize(&b));
    assert!(first.is_ok() && second.is_ok(), "{first:?} {second:?}");
    // One at a time: the second started after the first ended.
    assert_eq!(
        std::fs::read_to_string(&log).unwrap(),
        "start\nend\nstart\nend\n"
    );
}

#[test]
fn a_plan_that_speaks_is_refused_at_each_node_when_the_program_is_missing() {
    let nodes = [SpeechNode(6, 7), SpeechNode(9, 7)].map(|n| n.into_node());
    let missing = settings(Path::new("/nonexistent/espeak-ng"));
    let errors = speech_errors(&missing, Path::new("plan.yaml"), &nodes);
    let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        lines,
        [
            "plan.yaml:6:7: this say node speaks text at run time and espeak-ng was not found (tts.espeak_ng: /nonexistent/espeak-ng); install it (apt-get install espeak-ng) or use prompts",
            "plan.yaml:9:7: this say node speaks text at run time and espeak-ng was not found (tts.espeak_ng: /nonexistent/espeak-ng); install it (apt-get install espeak-ng) or use prompts",
        ]
    );
    // Found in PATH (installed by scripts/setup.sh), or nothing speaks: no error.
    assert!(speech_errors(&TtsSettings::default(), Path::new("p"), &nodes).is_empty());
    assert!(speech_errors(&missing, Path::new("p"), &[]).is_empty());
    assert!(find_program(Path::new("espeak-ng")).is_some());
    assert!(find_program(Path::new("/etc/passwd")).is_none());
}

/// A node at (line, column).
struct SpeechNode(u32, u32);

impl SpeechNode {
    fn into_node(self) -> hotline_dialplan::SpeechNode {
        hotline_dialplan::SpeechNode {
            number: "1".into(),
            node: "greet".into(),
            line: self.0,
            column: self.1,
        }
    }
}
