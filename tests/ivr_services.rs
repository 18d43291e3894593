//! IVR services on real calls (SIPp callers, the test owning the caller's RTP socket): a `say`
//! node speaks a number in English, then in Mandarin after a `set` language, from the bundled
//! prompt sets (prompt events in order, RTP as long as the prompt files); a caller waiting in a
//! queue with announcements hears their position in their language after the configured
//! interval, then the periodic message, and the music resumes; an agent's answer bridges the
//! caller at once, mid-announcement, and a busy agent gives the next caller a wait estimate.

#![allow(clippy::unwrap_used)]

mod support;

use std::net::UdpSocket;
use std::time::{Duration, Instant};

use serde_json::Value;
use support::agent::{AgentSetup, SippAgent};
use support::http::post;
use support::sipp::Sipp;
use support::{root, Hotline, Options};

const TOKEN: &str = "hotline-demo-token";

/// A UDP socket standing for the caller's phone audio.
fn rtp_socket() -> UdpSocket {
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    s.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
    s
}

/// How long a bundled prompt plays: its PCM data at 8 kHz, 16 bits, mono.
fn prompt_duration(language: &str, name: &str) -> Duration {
    let path = root()
        .join("prompts")
        .join(language)
        .join(format!("{name}.wav"));
    let wav = std::fs::read(&path).unwrap();
    let mut at = 12;
    while at + 8 <= wav.len() {
        let size = u32::from_le_bytes(wav[at + 4..at + 8].try_into().unwrap()) as usize;
        if &wav[at..at + 4] == b"data" {
            return Duration::from_micros(size as u64 * 1_000_000 / 16_000);
        }
        at += 8 + size + size % 2;
    }
    panic!("{}: no data chunk", path.display());
}

/// The `ivr.prompt` events of the journal as (prompt, language), in order.
fn prompts_heard(events: &[Value]) -> Vec<(String, String)> {
    events
        .iter()
        .filter(|e| e["type"] == "ivr.prompt")
        .map(|e| {
            (
                e["prompt"].as_str().unwrap().to_owned(),
                e["language"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// Seconds since midnight UTC of an event's `ts` (`...T10:15:02.123Z`).
fn seconds_of_day(event: &Value) -> f64 {
    let ts = event["ts"].as_str().unwrap();
    let time = ts.split('T').nth(1).unwrap().trim_end_matches('Z');
    let mut parts = time.split(':');
    let h: f64 = parts.next().unwrap().parse().unwrap();
    let m: f64 = parts.next().unwrap().parse().unwrap();
    let s: f64 = parts.next().unwrap().parse().unwrap();
    h * 3600.0 + m * 60.0 + s
}

/// Counts the RTP packets arriving on `socket` until `done` holds (checked between packets),
/// at most `limit`.
fn count_rtp(socket: &UdpSocket, limit: Duration, mut done: impl FnMut() -> bool) -> usize {
    let start = Instant::now();
    let mut buf = [0u8; 2048];
    let mut packets = 0;
    while start.elapsed() < limit {
        match socket.recv(&mut buf) {
            Ok(len) if len >= 12 && buf[0] >> 6 == 2 && buf[1] & 0x7f == 0 => packets += 1,
            Ok(_) => {}
            Err(_) => {
                if done() {
                    break;
                }
            }
        }
    }
    packets
}

/// Throws away the packets already queued on `socket`.
fn drain(socket: &UdpSocket) {
    socket.set_nonblocking(true).unwrap();
    let mut buf = [0u8; 2048];
    while socket.recv(&mut buf).is_ok() {}
    socket.set_nonblocking(false).unwrap();
}

const SAY_PLAN: &str = r#"version: 1
numbers:
  "700":
    start: english
    nodes:
      english: { say: { value: "1234", kind: number }, next: to_mandarin }
      to_mandarin: { set: { language: zh-CN }, next: mandarin }
      mandarin: { say: { value: "1234", kind: number }, next: bye }
      bye: { hangup: true }
"#;

#[test]
fn say_speaks_a_number_in_english_then_in_mandarin() {
    let h = Hotline::start_with_dialplan(Options::default(), SAY_PLAN);
    let rtp = rtp_socket();
    let caller = Sipp::new("caller_listen.xml", h.sip)
        .var("bye_ms", 30_000)
        .key("caller_rtp_port", rtp.local_addr().unwrap().port())
        .args(&["-s", "700", "-m", "1"])
        .spawn();
    let packets = count_rtp(&rtp, Duration::from_secs(40), || {
        h.events().iter().any(|e| e["type"] == "call.ended")
    });
    caller
        .wait(Duration::from_secs(20))
        .assert_ok("caller hearing say");

    // 1234: "one thousand two hundred thirty four", then 一千两百三十四.
    let expected: Vec<(String, String)> = [
        ("num_1", "en"),
        ("thousand", "en"),
        ("num_2", "en"),
        ("hundred", "en"),
        ("num_30", "en"),
        ("num_4", "en"),
        ("num_1", "zh-CN"),
        ("thousand", "zh-CN"),
        ("liang", "zh-CN"),
        ("hundred", "zh-CN"),
        ("num_3", "zh-CN"),
        ("num_10", "zh-CN"),
        ("num_4", "zh-CN"),
    ]
    .iter()
    .map(|(p, l)| ((*p).to_owned(), (*l).to_owned()))
    .collect();
    let heard = prompts_heard(&h.events());
    assert_eq!(heard, expected, "{}", h.log());

    // Every prompt is sent whole in 20 ms packets (the last one padded): the RTP the caller got
    // is as long as the files, within a few packets.
    let frames: usize = expected
        .iter()
        .map(|(p, l)| {
            let micros = prompt_duration(l, p).as_micros() as usize;
            micros.div_ceil(20_000)
        })
        .sum();
    eprintln!("RTP: {packets} packets; the prompt files: {frames} frames");
    let (low, high) = (frames - 5, frames + 5);
    assert!(
        (low..=high).contains(&packets),
        "{packets} RTP packets, the prompts make {frames} ({} ms)\n{}",
        frames * 20,
        h.log()
    );
}

/// Number 800 queues in support (English); 801 sets Mandarin first.
const QUEUE_PLAN: &str = r#"version: 1
numbers:
  "800":
    start: wait
    nodes:
      wait: { queue: support }
  "801":
    start: mandarin
    nodes:
      mandarin: { set: { language: zh-CN }, next: wait }
      wait: { queue: support }
"#;

/// Support announces every 2 s: position, estimated wait, then the message in rotation.
fn announcing() -> Options {
    Options {
        config_edits: vec![(
            "    strategy: longest_idle\n",
            "    strategy: longest_idle\n    music_on_hold: moh\n    announce: { every: 2s, position: true, estimated_wait: true, messages: [queue_message] }\n",
        )],
        ..Options::default()
    }
}

#[test]
fn a_queued_caller_hears_their_position_after_the_interval_in_their_language() {
    let h = Hotline::start_with_dialplan(announcing(), QUEUE_PLAN);
    let rtp = rtp_socket();
    // No agent is ready: the callers wait, hearing music and the announcements.
    let english = Sipp::new("caller_wait.xml", h.sip)
        .var("wait_ms", 25_000)
        .key("caller_rtp_port", rtp.local_addr().unwrap().port())
        .args(&["-s", "800", "-m", "1"])
        .spawn();
    let queued = h.wait_type("call.queued", Duration::from_secs(10));
    let first_call = queued["call_id"].clone();
    let rtp2 = rtp_socket();
    let mandarin = Sipp::new("caller_wait.xml", h.sip)
        .var("wait_ms", 25_000)
        .key("caller_rtp_port", rtp2.local_addr().unwrap().port())
        .args(&["-s", "801", "-m", "1"])
        .spawn();

    // The first caller's announcement ends with the periodic message; then the music resumes:
    // RTP keeps coming past the message's end (without music it would stop until the next
    // announcement, 2 s later).
    let message = h.wait_event("the first announcement", Duration::from_secs(25), |e| {
        e["type"] == "ivr.prompt" && e["prompt"] == "queue_message" && e["call_id"] == first_call
    });
    drain(&rtp);
    let message_length = prompt_duration("en", "queue_message");
    let packets = count_rtp(&rtp, message_length + Duration::from_millis(1500), || false);
    let at_least = (message_length + Duration::from_secs(1)).as_millis() as usize / 20;
    assert!(
        packets >= at_least,
        "{packets} RTP packets in the message and 1.5 s after it: the music did not resume"
    );
    let announced = h.wait_event("the first position", Duration::from_secs(1), |e| {
        e["type"] == "ivr.prompt" && e["call_id"] == first_call
    });
    let waited = seconds_of_day(&announced) - seconds_of_day(&queued);
    assert!(
        (1.9..4.0).contains(&waited),
        "the first announcement came {waited} s after queueing"
    );
    let events = h.events();
    let of_call = |call: &Value| -> Vec<(String, String)> {
        let mine: Vec<Value> = events
            .iter()
            .filter(|e| &e["call_id"] == call)
            .cloned()
            .collect();
        prompts_heard(&mine)
    };
    let first = of_call(&first_call);
    let words: Vec<&str> = first.iter().map(|(p, _)| p.as_str()).collect();
    eprintln!("first caller heard {words:?}, {waited} s after queueing; {packets} packets");
    let end = words.iter().position(|w| *w == "queue_message").unwrap();
    assert_eq!(
        words[..3],
        ["position_prefix", "num_1", "position_suffix"],
        "{first:?}"
    );
    // The estimated wait, when the router has one, comes between position and message.
    if end > 3 {
        assert_eq!(words[3], "estimated_wait", "{first:?}");
    }
    assert!(first.iter().all(|(_, l)| l == "en"), "{first:?}");
    assert_eq!(message["language"], "en");

    // The Mandarin caller is second in line and hears it from zh-CN.
    let second_call = h
        .events()
        .iter()
        .filter(|e| e["type"] == "call.queued")
        .nth(1)
        .map(|e| e["call_id"].clone())
        .unwrap();
    h.wait_event("the Mandarin announcement", Duration::from_secs(25), |e| {
        e["type"] == "ivr.prompt" && e["prompt"] == "position_suffix" && e["call_id"] == second_call
    });
    let events = h.events();
    let second: Vec<(String, String)> = prompts_heard(
        &events
            .iter()
            .filter(|e| e["call_id"] == second_call)
            .cloned()
            .collect::<Vec<_>>(),
    );
    assert_eq!(
        second[..3],
        [
            ("position_prefix".to_owned(), "zh-CN".to_owned()),
            ("num_2".to_owned(), "zh-CN".to_owned()),
            ("position_suffix".to_owned(), "zh-CN".to_owned()),
        ],
        "{second:?}"
    );

    english
        .wait(Duration::from_secs(40))
        .assert_ok("English caller");
    mandarin
        .wait(Duration::from_secs(40))
        .assert_ok("Mandarin caller");
}

/// Support announces every second: a long message keeps an announcement playing.
fn announcing_often() -> Options {
    Options {
        config_edits: vec![(
            "    strategy: longest_idle\n",
            "    strategy: longest_idle\n    announce: { every: 1s, position: true, estimated_wait: true, messages: [queue_message] }\n",
        )],
        ..Options::default()
    }
}

#[test]
fn an_answer_bridges_at_once_and_a_busy_agent_makes_the_wait_estimate() {
    let h = Hotline::start_with_dialplan(announcing_often(), QUEUE_PLAN);
    // The only agent logs in, then takes a break.
    let agent = SippAgent::start(
        &h,
        AgentSetup {
            id: "1001",
            hold_ms: 25_000,
            ..AgentSetup::default()
        },
    );
    let set_state = |body: &str| {
        let r = post(h.http, "/api/v1/agents/1001/state", Some(TOKEN), body).unwrap();
        assert_eq!(r.status, 200, "{body}: {}", r.body);
    };
    set_state(r#"{"state":"not_ready","reason":"break"}"#);
    let rtp = rtp_socket();
    let first = Sipp::new("caller_wait.xml", h.sip)
        .var("wait_ms", 20_000)
        .key("caller_rtp_port", rtp.local_addr().unwrap().port())
        .args(&["-s", "800", "-m", "1"])
        .spawn();
    let first_call = h.wait_type("call.queued", Duration::from_secs(10))["call_id"].clone();
    // The periodic message (about 4 s) is playing when the agent comes back and is offered the
    // call.
    let message = h.wait_event("the first message", Duration::from_secs(15), |e| {
        e["type"] == "ivr.prompt" && e["prompt"] == "queue_message" && e["call_id"] == first_call
    });
    set_state(r#"{"state":"ready"}"#);
    let answered = h.wait_type("call.answered", Duration::from_secs(10));
    assert_eq!(answered["call_id"], first_call);
    let after = seconds_of_day(&answered) - seconds_of_day(&message);
    let message_length = prompt_duration("en", "queue_message").as_secs_f64();
    eprintln!("answered {after} s into a message of {message_length} s");
    assert!(
        after < message_length,
        "the answer came {after} s after the {message_length} s message started: it waited"
    );
    // Nothing more is announced to the bridged caller.
    let answered_seq = answered["seq"].as_u64().unwrap();
    // The second caller waits while the only staffed agent talks: one busy agent, the queue's
    // assumed 3-minute handle time, so "about 3 minutes".
    let rtp2 = rtp_socket();
    let second = Sipp::new("caller_wait.xml", h.sip)
        .var("wait_ms", 8_000)
        .key("caller_rtp_port", rtp2.local_addr().unwrap().port())
        .args(&["-s", "800", "-m", "1"])
        .spawn();
    let second_call = h.wait_event("the second caller", Duration::from_secs(10), |e| {
        e["type"] == "call.queued" && e["call_id"] != first_call
    })["call_id"]
        .clone();
    h.wait_event("the second announcement", Duration::from_secs(15), |e| {
        e["type"] == "ivr.prompt" && e["prompt"] == "queue_message" && e["call_id"] == second_call
    });
    let events = h.events();
    let words: Vec<String> = prompts_heard(
        &events
            .iter()
            .filter(|e| e["call_id"] == second_call)
            .cloned()
            .collect::<Vec<_>>(),
    )
    .into_iter()
    .map(|(p, _)| p)
    .collect();
    assert_eq!(
        words[..8],
        [
            "position_prefix",
            "num_1",
            "position_suffix",
            "estimated_wait",
            "about",
            "num_3",
            "minutes",
            "queue_message"
        ],
        "{words:?}"
    );
    let late: Vec<&Value> = events
        .iter()
        .filter(|e| {
            e["type"] == "ivr.prompt"
                && e["call_id"] == first_call
                && e["seq"].as_u64().unwrap() > answered_seq
        })
        .collect();
    assert!(late.is_empty(), "announced after the answer: {late:?}");
    second
        .wait(Duration::from_secs(30))
        .assert_ok("second caller");
    first
        .wait(Duration::from_secs(30))
        .assert_ok("first caller");
    agent
        .finish(Duration::from_secs(40))
        .assert_ok("agent 1001");
}

#[test]
fn serve_refuses_a_say_node_whose_number_words_are_missing() {
    // A prompt folder with the service prompts but none of the number words.
    let dir = tempfile::tempdir().unwrap();
    let en = dir.path().join("prompts/en");
    std::fs::create_dir_all(&en).unwrap();
    for entry in std::fs::read_dir(root().join("prompts/en")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        if !name.starts_with("num_") {
            std::fs::copy(&path, en.join(&name)).unwrap();
        }
    }
    let config = std::fs::read_to_string(root().join("config/hotline.yaml"))
        .unwrap()
        .replace(
            "dir: prompts",
            &format!("dir: {}", dir.path().join("prompts").display()),
        );
    let config_path = dir.path().join("hotline.yaml");
    std::fs::write(&config_path, config).unwrap();
    let plan = dir.path().join("say.yaml");
    std::fs::write(&plan, SAY_PLAN).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hotline"))
        .arg("serve")
        .arg("--config")
        .arg(&config_path)
        .arg("--dialplan")
        .arg(&plan)
        .arg("--data-dir")
        .arg(dir.path())
        .args([
            "--sip-listen",
            "127.0.0.1:0",
            "--http-listen",
            "127.0.0.1:0",
        ])
        .current_dir(root())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("the dialplan uses prompts missing") && err.contains("num_4"),
        "{err}"
    );
}
