//! The abandon message of outbound campaigns says who called and a number to call back (the
//! US and UK rules), end to end on real UDP: hotline dials through its trunk to SIPp as the
//! PSTN gateway (tests/sipp/pstn_gateway.xml, the test playing and recording the media), a
//! person answers and says "Hello?", the only agent's phone rings and is never picked up, so
//! after 2 s the person hears the campaign's text spoken by espeak-ng (synthesized when the
//! campaign was created, not while the person waits) and the callback number digit by digit,
//! then hotline hangs up. The audio the gateway received is as long as espeak-ng's audio of the
//! text plus the digits' prompts, and its loudness follows espeak-ng's speech of the text.
//!
//! Without espeak-ng, a campaign whose message has text and no prompt to play instead is
//! refused at create with a 400 that says why; one with a prompt is created. A callback number
//! not in E.164 form is refused too. A restart synthesizes the text of the campaigns it
//! restores again, before any call needs it.

#![allow(clippy::unwrap_used)]

#[path = "campaign_e2e/audio.rs"]
#[allow(dead_code)]
mod audio;
#[path = "campaign_e2e/campaign.rs"]
#[allow(dead_code)]
mod campaign;
#[path = "campaign_e2e/gateway.rs"]
#[allow(dead_code)]
mod gateway;
mod support;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use audio::Script;
use campaign::{entry_of, wait_entry_event, zone_at_local_hour};
use gateway::{Numbers, Pending, Setup};
use hotline_events::Timestamp;
use serde_json::{json, Value};
use support::agent::{AgentSetup, SippAgent};
use support::{Hotline, Options};

/// The number customers see.
const CALLER_ID: &str = "+12025550100";
/// The number the message gives to call back.
const CALLBACK: &str = "+18005550199";
/// A person who says "Hello?".
const PERSON: &str = "+12125550101";
/// Who calls (`campaigns.company`).
const COMPANY: &str = "Northwind Energy";
/// The campaign's text: who called, about what.
const TEXT: &str = "This is {company} calling about your contract renewal.";

/// The config with one trunk to `gateway` and `COMPANY`, plus `edits`.
fn options(gateway: SocketAddr, edits: &[(&'static str, &'static str)]) -> Options {
    let trunk = support::carrier_trunk(CALLER_ID, gateway, "+1XXXXXXXXXX", "");
    let company: &'static str = Box::leak(format!("  company: {COMPANY}\n").into_boxed_str());
    let mut config_edits = vec![trunk, ("  company: hotline demo\n", company)];
    config_edits.extend_from_slice(edits);
    Options {
        config_edits,
        rtp_timeout: "60s",
        ..Options::default()
    }
}

/// A progressive campaign of queue `support` (US rules) whose abandon message is `message`.
fn spec(id: &str, message: Value) -> Value {
    json!({
        "id": id,
        "mode": "progressive",
        "audience": {"agents": {"queue": "support"}},
        "profile": "us",
        "caller_id": CALLER_ID,
        "window": [{"days": "daily", "start": "08:00", "end": "20:00"}],
        "trunk": {"name": "carrier", "channels": 10},
        "ring_timeout": "15s",
        "amd": {"on_machine": "drop", "on_not_sure": "pass_to_agent"},
        "abandon_message": message
    })
}

/// The length of a bundled English prompt (8 kHz 16-bit mono WAV), ms.
fn prompt_ms(name: &str) -> u64 {
    let wav = std::fs::read(support::root().join(format!("prompts/en/{name}.wav"))).unwrap();
    let at = wav.windows(4).position(|w| w == b"data").unwrap();
    let bytes = u32::from_le_bytes(wav[at + 4..at + 8].try_into().unwrap());
    u64::from(bytes) / 16
}

/// espeak-ng's speech of `text` in hotline's English voice, as 8 kHz 16-bit samples (sox
/// resamples), and its length at espeak-ng's own rate, ms.
fn espeak_8k(dir: &Path, text: &str) -> (Vec<i16>, u64) {
    let wav = dir.join("identity.wav");
    let status = Command::new("espeak-ng")
        .args(["-v", "en", "-w"])
        .arg(&wav)
        .arg(text)
        .status()
        .unwrap_or_else(|e| panic!("espeak-ng is needed (scripts/setup.sh): {e}"));
    assert!(status.success(), "espeak-ng failed on {text:?}");
    let raw = dir.join("identity.raw");
    let status = Command::new("sox")
        .arg(&wav)
        .args(["-r", "8000", "-c", "1", "-t", "s16", "-e", "signed"])
        .arg(&raw)
        .status()
        .unwrap_or_else(|e| panic!("sox is needed (scripts/setup.sh): {e}"));
    assert!(status.success(), "sox failed on {}", wav.display());
    let bytes = std::fs::read(&raw).unwrap();
    let samples = bytes
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect();
    (samples, audio::duration_ms(&wav) as u64)
}

/// One G.711 A-law byte as a linear sample.
fn alaw(byte: u8) -> i16 {
    let a = byte ^ 0x55;
    let exponent = (a >> 4) & 0x07;
    let mantissa = i16::from(a & 0x0f);
    let magnitude = match exponent {
        0 => (mantissa << 4) + 8,
        e => ((mantissa << 4) + 0x108) << (e - 1),
    };
    if a & 0x80 != 0 {
        magnitude
    } else {
        -magnitude
    }
}

/// Loudness per 20 ms (160 samples): the RMS of each frame.
fn envelope(samples: &[i16]) -> Vec<f64> {
    samples
        .chunks(160)
        .map(|c| {
            let sum: f64 = c.iter().map(|s| f64::from(*s).powi(2)).sum();
            (sum / c.len() as f64).sqrt()
        })
        .collect()
}

/// Pearson's correlation of two equally long series.
fn pearson(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len().min(b.len()) as f64;
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let (mut ab, mut aa, mut bb) = (0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        ab += (x - ma) * (y - mb);
        aa += (x - ma).powi(2);
        bb += (y - mb).powi(2);
    }
    ab / (aa.sqrt() * bb.sqrt()).max(f64::MIN_POSITIVE)
}

/// The best correlation of `expected`'s envelope with `heard`'s, `heard` starting up to
/// `lag` frames later.
fn best_correlation(heard: &[f64], expected: &[f64], lag: usize) -> f64 {
    (0..=lag)
        .filter(|l| l + expected.len() <= heard.len())
        .map(|l| pearson(&heard[l..l + expected.len()], expected))
        .fold(f64::MIN, f64::max)
}

/// Unix milliseconds of an event's timestamp.
fn millis(v: &Value) -> i64 {
    let ts: Timestamp = serde_json::from_value(v.clone()).unwrap_or_else(|e| panic!("{v}: {e}"));
    i64::try_from(ts.unix_millis()).unwrap()
}

/// A number of the server's log line with `message`, e.g. `synthesis_ms`.
fn logged(h: &Hotline, message: &str, field: &str) -> Option<u64> {
    let log = h.log();
    let line = log.lines().find(|l| l.contains(message))?;
    let at = line.find(&format!("{field}="))? + field.len() + 1;
    line[at..]
        .split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

#[test]
fn a_person_no_agent_takes_hears_who_called_then_the_callback_number_digit_by_digit() {
    let dir = tempfile::tempdir().unwrap();
    let mut hello = audio::silence(300);
    hello.extend(audio::speak(dir.path(), "hello", "Hello?"));
    let pending = Pending::new(Setup {
        numbers: Numbers {
            talkers: vec![PERSON.into()],
            ..Numbers::default()
        },
        talker_scripts: BTreeMap::from([(
            PERSON.to_owned(),
            Script {
                frames: audio::frames(&hello),
                keys_after_prompts: vec![],
            },
        )]),
        ring_ms: 500,
        talk_ms: 40_000,
        wait_bye_ms: 40_000,
    });
    let h = Hotline::start(options(pending.address(), &[]));
    let gw = pending.spawn();
    let marks = tempfile::tempdir().unwrap();
    let mark_arg = marks.path().join("cancelled").display().to_string();
    // The only agent's phone rings and is never picked up.
    let _agent = SippAgent::start(
        &h,
        AgentSetup {
            id: "1001",
            hold_ms: 120_000,
            pt: 8,
            answer_scenario: "agent_noanswer.xml",
            extra: vec!["-key", "mark_file", mark_arg.as_str()],
        },
    );

    let id = "renewals";
    let message = json!({"text": TEXT, "callback_number": CALLBACK});
    let zone = zone_at_local_hour(13);
    let csv = format!("phone,name,time_zone\n{PERSON},Pat,{zone}\n");
    campaign::create(&h, &spec(id, message), &csv, &[]);
    // Synthesized at create, before any call.
    let synthesis_ms = logged(
        &h,
        "abandon message's identity is synthesized",
        "synthesis_ms",
    )
    .unwrap_or_else(|| panic!("no synthesis at create:\n{}", h.log()));
    campaign::start(&h, id);

    let person = entry_of(&h, id, PERSON);
    let answered = wait_entry_event(&h, id, person, "campaign.answered", 30, |_| true);
    assert_eq!(answered["verdict"], "human", "{answered}");
    let abandoned = wait_entry_event(&h, id, person, "campaign.abandoned", 30, |_| true);
    let bye = gw.wait_step("bye_in", PERSON, 1, Duration::from_secs(30));
    let answer = gw.wait_step("answer", PERSON, 1, Duration::from_secs(1));
    let abandoned_after_answer = millis(&abandoned["ts"]) - answer.at_ms;

    // What the person heard from the abandon on.
    let message: Vec<_> = gw
        .heard(PERSON)
        .into_iter()
        .filter(|(after, p)| {
            p.pt == gateway::PCMA && after.as_millis() as i64 >= abandoned_after_answer - 20
        })
        .collect();
    let heard_ms = message.len() as u64 * 20;
    let filled = TEXT.replace("{company}", COMPANY);
    let (identity, identity_ms) = espeak_8k(dir.path(), &filled);
    let digits_ms: u64 = CALLBACK
        .chars()
        .filter(char::is_ascii_digit)
        .map(|d| prompt_ms(&format!("num_{d}")))
        .sum();
    eprintln!(
        "synthesis at create: {synthesis_ms} ms; heard {heard_ms} ms after the abandon: \
         identity {identity_ms} ms + digits {digits_ms} ms"
    );
    assert!(
        heard_ms + 60 >= identity_ms + digits_ms,
        "heard {heard_ms} ms, the identity is {identity_ms} ms and the digits {digits_ms} ms\n{}",
        h.log()
    );
    assert!(
        heard_ms <= identity_ms + digits_ms + 1_500,
        "heard {heard_ms} ms: more than the identity and the digits"
    );
    // The identity comes first: the loudness of what was heard follows espeak-ng's speech.
    let samples: Vec<i16> = message
        .iter()
        .flat_map(|(_, p)| p.payload.iter().map(|b| alaw(*b)))
        .collect();
    let heard_env = envelope(&samples);
    let expected_env = envelope(&identity);
    let identity_fit = best_correlation(&heard_env, &expected_env, 25);
    // The same measure against the digits' prompts, which came after it.
    let mut digits = Vec::new();
    for d in CALLBACK.chars().filter(char::is_ascii_digit) {
        let wav = std::fs::read(support::root().join(format!("prompts/en/num_{d}.wav"))).unwrap();
        let at = wav.windows(4).position(|w| w == b"data").unwrap() + 8;
        digits.extend(
            wav[at..]
                .chunks_exact(2)
                .map(|b| i16::from_le_bytes([b[0], b[1]])),
        );
    }
    let digits_env = envelope(&digits);
    let digits_fit = best_correlation(
        &heard_env[expected_env.len().min(heard_env.len())..],
        &digits_env,
        25,
    );
    // The measure tells speech apart: the identity's shape is not found among the digits.
    let elsewhere = best_correlation(
        &heard_env[expected_env.len().min(heard_env.len())..],
        &expected_env[..expected_env.len().min(digits_env.len())],
        25,
    );
    eprintln!(
        "loudness correlation: identity {identity_fit:.3}, digits {digits_fit:.3}, \
         identity among the digits {elsewhere:.3}"
    );
    assert!(
        elsewhere < 0.5,
        "the measure cannot tell speech apart (r = {elsewhere:.3})"
    );
    assert!(
        identity_fit >= 0.8,
        "the start of the message is not the synthesized identity (r = {identity_fit:.3})"
    );
    assert!(
        digits_fit >= 0.8,
        "the digits do not follow the identity (r = {digits_fit:.3})"
    );
    // Hotline hung up once the message ended, and says it was played.
    assert!(
        bye.at_ms - millis(&abandoned["ts"]) >= (identity_ms + digits_ms) as i64 - 300,
        "hung up {} ms after the abandon",
        bye.at_ms - millis(&abandoned["ts"])
    );
    let played = support::poll_until(Duration::from_secs(5), || {
        h.log().contains("abandon message played to its end")
    });
    assert!(played, "no log of the message played:\n{}", h.log());
    assert!(
        h.log().contains("identity_spoken=true"),
        "the identity was not spoken:\n{}",
        h.log()
    );
    // Synthesized once, at create; the call took it from what was kept.
    h.wait_metric(
        "hotline_tts_total{result=\"synthesized\"}",
        1.0,
        Duration::from_secs(5),
    );
    assert!(h.metric("hotline_tts_total{result=\"cached\"}") >= 1.0);
}

#[test]
fn without_espeak_ng_a_message_with_only_text_is_refused_at_create_and_one_with_a_prompt_is_not() {
    let missing = "  espeak_ng: /nonexistent/espeak-ng\n";
    let h = Hotline::start(options(
        "127.0.0.1:9".parse().unwrap(),
        &[("  espeak_ng: espeak-ng\n", missing)],
    ));
    let create = |id: &str, message: Value| {
        let body = spec(id, message).to_string();
        let r =
            support::http::post(h.http, "/api/v1/campaigns", Some(campaign::TOKEN), &body).unwrap();
        let answer: Value = serde_json::from_str(&r.body).unwrap_or(Value::Null);
        (r.status, answer)
    };
    let (status, answer) = create("text", json!({"text": TEXT, "callback_number": CALLBACK}));
    assert_eq!(status, 400, "{answer}");
    let error = answer["error"].as_str().unwrap_or_default();
    assert!(
        error.starts_with("campaign text: abandon_message.text cannot be spoken")
            && error.contains("espeak-ng was not found")
            && error.contains("abandon_message.prompt"),
        "{error}"
    );
    // No text: the company is spoken by default, which needs espeak-ng just the same.
    let (status, answer) = create("default", json!({"callback_number": CALLBACK}));
    assert_eq!(status, 400, "{answer}");
    // With a prompt, the prompt says who called.
    let (status, answer) = create(
        "prompt",
        json!({"text": TEXT, "prompt": "goodbye", "callback_number": CALLBACK}),
    );
    assert_eq!(status, 201, "{answer}");
    assert_eq!(answer["spec"]["abandon_message"]["prompt"], "goodbye");
    assert_eq!(answer["spec"]["abandon_message"]["text"], TEXT);
    // The callback number must be E.164.
    let (status, answer) = create(
        "local",
        json!({"prompt": "goodbye", "callback_number": "800 555 0199"}),
    );
    assert_eq!(status, 400, "{answer}");
    assert!(
        answer["error"]
            .as_str()
            .unwrap_or_default()
            .contains("E.164"),
        "{answer}"
    );
    // The refused campaigns do not exist.
    let r = support::http::get(h.http, "/api/v1/campaigns", Some(campaign::TOKEN)).unwrap();
    let all: Value = serde_json::from_str(&r.body).unwrap();
    let ids: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["spec"]["id"].as_str())
        .collect();
    assert_eq!(ids, ["prompt"], "{all}");
}

#[test]
fn a_restart_synthesizes_the_abandon_text_of_the_campaigns_it_restores() {
    let opts = || options("127.0.0.1:9".parse().unwrap(), &[]);
    let h = Hotline::start(opts());
    let message = json!({"text": TEXT, "callback_number": CALLBACK});
    campaign::post_ok(&h, "/api/v1/campaigns", &spec("kept", message).to_string());
    let line = "abandon message's identity is synthesized";
    assert!(h.log().contains(line), "{}", h.log());
    let (sip, http) = (h.sip, h.http);
    let h = Hotline::start_in(h.stop(), sip, http, opts());
    // The restored campaign's text is synthesized again, without any call or request.
    let again = support::poll_until(Duration::from_secs(10), || {
        h.log()
            .lines()
            .any(|l| l.contains(line) && l.contains("campaign=kept"))
    });
    assert!(again, "not synthesized after the restart:\n{}", h.log());
    h.wait_metric(
        "hotline_tts_total{result=\"synthesized\"}",
        1.0,
        Duration::from_secs(5),
    );
}
