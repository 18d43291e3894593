//! Text-to-speech on real calls: a SIPp caller is looked up in a CRM fixture and hears their
//! name spoken by espeak-ng in English, then in Mandarin (`ivr.tts` events with the language and
//! the length, never the text; the RTP received lasts as long as the synthesized audio; a second
//! call takes the audio from the cache). A synthesizer that overruns its timeout, or vanishes
//! after the start, leaves the IVR going on. A plan that speaks text with espeak-ng missing is
//! refused at its node's position by `hotline dialplan check --config`, at start and at reload
//! (the running plan stays).

#![allow(clippy::unwrap_used)]

mod support;

use std::io::Write;
use std::net::UdpSocket;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::sipp::Sipp;
use support::{root, Hotline, Options};

/// Number 900 (country 1, so SIPp's caller 5551234 is +15551234): look the caller up, say their
/// name in English, switch to Mandarin, say their Chinese name, hang up.
const PLAN: &str = r#"version: 1
country: "1"
numbers:
  "900":
    start: lookup
    nodes:
      lookup:
        http: { url: "/customers?number=${caller}", map: { name: customer.name, name_zh: customer.name_zh }, on_failure: bye }
        next: english
      english: { say: { value: "${name}", kind: text }, next: to_mandarin }
      to_mandarin: { set: { language: zh-CN }, next: mandarin }
      mandarin: { say: { value: "${name_zh}", kind: text }, next: bye }
      bye: { hangup: true }
"#;

/// The line and column of node `english` in [`PLAN`].
const ENGLISH_AT: &str = "10:7";
/// The line and column of node `mandarin` in [`PLAN`].
const MANDARIN_AT: &str = "12:7";

const NAME: &str = "Li Na";
const NAME_ZH: &str = "李娜";

/// The bundled `tts:` settings, as the edits below find them.
const TTS_DEFAULTS: &str =
    "  espeak_ng: espeak-ng\n  voices: { en: en, zh-CN: cmn }\n  timeout: 3s\n";

/// A folder that lives as long as the test process (config edits are `&'static str`).
fn scratch() -> &'static Path {
    Box::leak(Box::new(tempfile::tempdir().unwrap())).path()
}

fn leak(text: String) -> &'static str {
    Box::leak(text.into_boxed_str())
}

/// The CRM fixture knowing the SIPp caller, written in `dir`.
fn fixture(dir: &Path) -> PathBuf {
    let path = dir.join("crm.json");
    let body = format!(
        r#"{{ "+15551234": {{ "customer": {{ "name": "{NAME}", "name_zh": "{NAME_ZH}" }} }} }}"#
    );
    std::fs::write(&path, body).unwrap();
    path
}

/// The config with the fixture and the given `tts:` lines.
fn options(dir: &Path, tts: &str) -> Options {
    let fixture = leak(format!("fixture: {}", fixture(dir).display()));
    Options {
        config_edits: vec![
            ("fixture: dialplans/crm_fixture.json", fixture),
            (TTS_DEFAULTS, leak(tts.to_owned())),
        ],
        ..Options::default()
    }
}

/// An executable shell script.
fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

/// How long espeak-ng's audio for `text` in `voice` plays, measured here by running it.
fn espeak_duration(voice: &str, text: &str) -> Duration {
    let mut child = Command::new("espeak-ng")
        .args(["-v", voice, "-b", "1", "--stdout", "--stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("espeak-ng is installed (scripts/setup.sh)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let wav = out.stdout;
    // Written to a pipe, the header's sizes are placeholders: the data is the rest.
    let rate = u32::from_le_bytes(wav[24..28].try_into().unwrap());
    let data = wav.windows(4).position(|w| w == b"data").unwrap() + 8;
    let samples = (wav.len() - data) / 2;
    Duration::from_micros(samples as u64 * 1_000_000 / u64::from(rate))
}

/// Calls 900 as SIPp's listening caller; the RTP packets received until the call ended.
fn call(h: &Hotline, calls_before: usize) -> usize {
    let rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
    rtp.set_read_timeout(Some(Duration::from_millis(50)))
        .unwrap();
    let caller = Sipp::new("caller_listen.xml", h.sip)
        .var("bye_ms", 20_000)
        .key("caller_rtp_port", rtp.local_addr().unwrap().port())
        .args(&["-s", "900", "-m", "1"])
        .spawn();
    let ended = || {
        h.events()
            .iter()
            .filter(|e| e["type"] == "call.ended")
            .count()
            > calls_before
    };
    let start = Instant::now();
    let mut buf = [0u8; 2048];
    let mut packets = 0;
    while start.elapsed() < Duration::from_secs(30) {
        match rtp.recv(&mut buf) {
            Ok(len) if len >= 12 && buf[0] >> 6 == 2 && buf[1] & 0x7f == 0 => packets += 1,
            Ok(_) => {}
            Err(_) if ended() => break,
            Err(_) => {}
        }
    }
    caller
        .wait(Duration::from_secs(20))
        .assert_ok("caller hearing its name");
    packets
}

/// The `ivr.tts` events so far.
fn tts_events(h: &Hotline) -> Vec<Value> {
    h.events()
        .into_iter()
        .filter(|e| e["type"] == "ivr.tts")
        .collect()
}

#[test]
fn a_caller_hears_their_crm_name_in_english_then_in_mandarin() {
    let dir = scratch();
    let h = Hotline::start_with_dialplan(options(dir, TTS_DEFAULTS), PLAN);
    let packets = call(&h, 0);

    let events = tts_events(&h);
    assert_eq!(events.len(), 2, "{events:?}\n{}", h.log());
    let english = espeak_duration("en", NAME);
    let mandarin = espeak_duration("cmn", NAME_ZH);
    for (event, language, voice, chars, audio) in [
        (&events[0], "en", "en", 5, english),
        (&events[1], "zh-CN", "cmn", 2, mandarin),
    ] {
        assert_eq!(event["language"], language, "{event}");
        assert_eq!(event["voice"], voice, "{event}");
        assert_eq!(event["chars"], chars, "{event}");
        assert_eq!(event["cached"], false, "{event}");
        assert!(event.get("failure").is_none(), "{event}");
        // The 8 kHz audio is as long as espeak-ng's 22.05 kHz output (to the sample).
        let ms = event["audio_ms"].as_u64().unwrap();
        let expected = audio.as_millis() as u64;
        assert!(
            ms.abs_diff(expected) <= 1,
            "{ms} ms, espeak-ng {expected} ms"
        );
    }
    // The RTP the caller got lasts as long as the two texts, within a few 20 ms packets.
    let frames = (english.as_micros() as usize).div_ceil(20_000)
        + (mandarin.as_micros() as usize).div_ceil(20_000);
    eprintln!("RTP: {packets} packets; synthesized: {english:?} + {mandarin:?} = {frames} frames");
    assert!(
        (frames - 5..=frames + 5).contains(&packets),
        "{packets} RTP packets for {frames} frames of speech\n{}",
        h.log()
    );
    // The name is personal data: neither the journal nor the log has it.
    let journal = std::fs::read_to_string(h.journal()).unwrap();
    for text in [NAME, NAME_ZH] {
        assert!(!journal.contains(text), "the journal holds {text:?}");
        assert!(!h.log().contains(text), "the log holds {text:?}");
    }

    // A second call: the same names come from the cache, as long as before.
    let again = call(&h, 1);
    let events = tts_events(&h);
    assert_eq!(events.len(), 4, "{events:?}");
    assert!(
        events[2..].iter().all(|e| e["cached"] == true),
        "{events:?}"
    );
    assert!(
        (frames - 5..=frames + 5).contains(&again),
        "{again} RTP packets from the cache for {frames} frames"
    );
    let r = support::http::get(h.http, "/metrics", None).unwrap();
    assert!(
        r.body
            .contains("hotline_tts_total{result=\"synthesized\"} 2"),
        "{}",
        r.body
    );
    assert!(
        r.body.contains("hotline_tts_total{result=\"cached\"} 2"),
        "{}",
        r.body
    );
}

#[test]
fn a_synthesizer_that_overruns_or_vanishes_leaves_the_ivr_going_on() {
    let dir = scratch();
    let slow = script(dir, "slow-espeak", "exec sleep 30");
    let tts = format!(
        "  espeak_ng: {}\n  voices: {{ en: en, zh-CN: cmn }}\n  timeout: 500ms\n",
        slow.display()
    );
    let h = Hotline::start_with_dialplan(options(dir, &tts), PLAN);
    let packets = call(&h, 0);
    let events = tts_events(&h);
    let failures: Vec<&Value> = events.iter().map(|e| &e["failure"]).collect();
    assert_eq!(failures, ["timed_out", "timed_out"], "{events:?}");
    // Nothing spoken, and the call went on to its hangup node.
    assert!(packets < 5, "{packets} RTP packets");
    let ended = h.wait_type("call.ended", Duration::from_secs(5));
    assert_eq!(ended["reason"], "dialplan_finished", "{ended}");
    assert!(h
        .log()
        .contains("text not spoken: synthesis took longer than 500ms: killed"));

    // The program disappears after the start: the call still goes on.
    std::fs::remove_file(&slow).unwrap();
    call(&h, 1);
    let events = tts_events(&h);
    let failures: Vec<&Value> = events[2..].iter().map(|e| &e["failure"]).collect();
    assert_eq!(failures, ["not_found", "not_found"], "{events:?}");
    let r = support::http::get(h.http, "/metrics", None).unwrap();
    assert!(
        r.body.contains("hotline_tts_total{result=\"timed_out\"} 2")
            && r.body.contains("hotline_tts_total{result=\"not_found\"} 2"),
        "{}",
        r.body
    );
}

/// The error `hotline` gives for a node of [`PLAN`] at `at` with espeak-ng missing at `program`.
fn missing_error(file: &Path, at: &str, program: &Path) -> String {
    format!(
        "{}:{at}: this say node speaks text at run time and espeak-ng was not found \
         (tts.espeak_ng: {}); install it (apt-get install espeak-ng) or use prompts",
        file.display(),
        program.display()
    )
}

#[test]
fn check_refuses_a_plan_that_speaks_when_espeak_ng_is_missing() {
    let dir = scratch();
    let plan = dir.join("plan.yaml");
    std::fs::write(&plan, PLAN).unwrap();
    let missing = dir.join("no-espeak-ng");
    let bundled = std::fs::read_to_string(root().join("config/hotline.yaml")).unwrap();
    assert!(bundled.contains(TTS_DEFAULTS));
    let config = dir.join("hotline.yaml");
    let edited = bundled.replace(
        "espeak_ng: espeak-ng",
        &format!("espeak_ng: {}", missing.display()),
    );
    std::fs::write(&config, edited).unwrap();
    let check = |config: &Path| {
        Command::new(env!("CARGO_BIN_EXE_hotline"))
            .current_dir(root())
            .args(["dialplan", "check", "--config"])
            .arg(config)
            .arg(&plan)
            .output()
            .unwrap()
    };
    let out = check(&config);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    let plan_error = |at| missing_error(&plan, at, &missing).replacen(": this", ": error: this", 1);
    assert_eq!(
        err,
        format!(
            "{}\n{}\n{}: 2 errors, 0 warnings\n",
            plan_error(ENGLISH_AT),
            plan_error(MANDARIN_AT),
            plan.display()
        )
    );
    // With the bundled config (espeak-ng installed) the same plan is fine.
    let out = check(&root().join("config/hotline.yaml"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_server_refuses_to_start_on_a_plan_that_speaks_without_espeak_ng() {
    let dir = scratch();
    let plan = dir.join("plan.yaml");
    std::fs::write(&plan, PLAN).unwrap();
    let missing = dir.join("no-espeak-ng");
    let bundled = std::fs::read_to_string(root().join("config/hotline.yaml")).unwrap();
    let config = dir.join("hotline.yaml");
    std::fs::write(
        &config,
        bundled.replace(
            "espeak_ng: espeak-ng",
            &format!("espeak_ng: {}", missing.display()),
        ),
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_hotline"))
        .current_dir(root())
        .arg("serve")
        .arg("--config")
        .arg(&config)
        .arg("--dialplan")
        .arg(&plan)
        .arg("--data-dir")
        .arg(dir.join("data"))
        .args([
            "--sip-listen",
            "127.0.0.1:0",
            "--http-listen",
            "127.0.0.1:0",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    for at in [ENGLISH_AT, MANDARIN_AT] {
        assert!(err.contains(&missing_error(&plan, at, &missing)), "{err}");
    }
}

#[test]
fn a_reload_that_speaks_without_espeak_ng_is_refused_and_the_running_plan_stays() {
    let dir = scratch();
    // espeak-ng through a link the test removes once the server runs.
    let link = dir.join("espeak-ng");
    let real = std::env::split_paths(&std::env::var_os("PATH").unwrap())
        .map(|d| d.join("espeak-ng"))
        .find(|p| p.is_file())
        .expect("espeak-ng is installed (scripts/setup.sh)");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let tts = format!(
        "  espeak_ng: {}\n  voices: {{ en: en, zh-CN: cmn }}\n  timeout: 3s\n",
        link.display()
    );
    let h = Hotline::start_with_dialplan(options(dir, &tts), PLAN);
    std::fs::remove_file(&link).unwrap();
    let next = PLAN.replace("bye: { hangup: true }", "bye: { hangup: busy }");
    h.write_dialplan(&next);
    let (status, answer) = h.reload_dialplan();
    assert_eq!(status, 400, "{answer}");
    assert_eq!(answer["result"], "invalid", "{answer}");
    assert_eq!(answer["running"]["version"], 1, "{answer}");
    let plan = h.dialplan_path();
    assert_eq!(
        answer["errors"],
        serde_json::json!([
            missing_error(&plan, ENGLISH_AT, &link),
            missing_error(&plan, MANDARIN_AT, &link)
        ]),
        "{answer}"
    );
}

#[test]
fn simulate_shows_the_text_it_would_speak() {
    let dir = scratch();
    let plan = dir.join("plan.yaml");
    std::fs::write(&plan, PLAN).unwrap();
    let crm = fixture(dir);
    let simulate = |json: bool| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_hotline"));
        cmd.current_dir(root())
            .args(["dialplan", "simulate"])
            .arg(&plan)
            .args(["--to", "900", "--from", "5551234", "--http-fixture"])
            .arg(&crm);
        if json {
            cmd.arg("--json");
        }
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let text = simulate(false);
    assert!(
        text.contains(&format!(
            "node english\nanswer\nspeak \"{NAME}\"\nnode to_mandarin\nnode mandarin\nspeak \"{NAME_ZH}\" (zh-CN)\nnode bye\nend: hangup normal\n"
        )),
        "{text}"
    );
    let json: Value = serde_json::from_str(&simulate(true)).unwrap();
    let spoken: Vec<&Value> = json["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s.get("speak").is_some())
        .collect();
    assert_eq!(
        spoken,
        [
            &serde_json::json!({ "speak": NAME, "language": null }),
            &serde_json::json!({ "speak": NAME_ZH, "language": "zh-CN" })
        ],
        "{json}"
    );
}
