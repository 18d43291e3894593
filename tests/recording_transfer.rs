//! A transfer continues the same recording, end to end on real UDP: a call whose IVR part is
//! recorded (`set: { recording: { policy: always, ivr: true } }`) and then transferred to an
//! outside number through a SIPp trunk is one WAV, the customer's 440 Hz tone on the left all
//! along, the right channel silent in the IVR and carrying the far end's 1000 Hz tone once the
//! transfer answers; the sidecar and `recording.completed` name the number and the trunk. A call
//! transferred to another flow and then to a queue keeps its recording too, and the agent joins
//! it as usual.

#![allow(clippy::unwrap_used)]

mod support;

use std::net::{SocketAddr, UdpSocket};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use hotline_media::g711::linear_to_ulaw;
use serde_json::Value;
use support::agent::{AgentSetup, SippAgent};
use support::sipp::Sipp;
use support::uac::Uac;
use support::{poll_until, rtp, Hotline, Options};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// 810 records from the answer, plays a notice (about 3.5 s) and transfers to an outside number;
/// 813 records from the answer and goes on at 812, which plays the same notice and transfers to
/// the `support` queue.
const PLAN: &str = r#"
version: 1
numbers:
  "810":
    start: policy
    nodes:
      policy:
        set: { recording: { policy: always, ivr: true } }
        next: hold
      hold: { play: please_hold, next: out }
      out:
        transfer: { number: "13800138000", trunk: carrier, timeout: 10s, failed: bye }
      bye: { hangup: true }
  "812":
    start: hold
    nodes:
      hold: { play: please_hold, next: agents }
      agents: { transfer: { queue: support } }
  "813":
    start: policy
    nodes:
      policy:
        set: { recording: { policy: always, ivr: true } }
        next: onward
      onward: { transfer: { flow: "812" } }
"#;

const TOKEN: &str = "hotline-demo-token";

/// The bundled config plus one trunk, `carrier`, at `gateway` (no credentials).
fn with_trunk(gateway: &str) -> Options {
    let edited = support::carrier_trunk("+8675512345678", gateway, "+86XXXXXXXXXXX", "");
    Options {
        config_edits: vec![
            edited,
            // No queue covers an IVR recording transferred outside: the top-level redaction does.
            (
                "  redact_numbers: none\n",
                "  redact_numbers: { keep_last: 4 }\n",
            ),
        ],
        ..Options::default()
    }
}

/// `number` as `redact_numbers: { keep_last: 4 }` writes it.
fn redacted(number: &str) -> String {
    hotline_recording::NumberRedaction::KeepLast(4)
        .apply(number)
        .expect("a number to redact")
}

/// A caller offering PCMU at `rtp`.
fn offer(rtp: SocketAddr) -> String {
    format!(
        "v=0\r\no=c 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio {} RTP/AVP 0\r\na=sendrecv\r\n",
        rtp.port()
    )
}

/// Sends a tone of `freq` Hz as PCMU every 20 ms until stopped.
struct Tone {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<()>,
}

impl Tone {
    fn start(sock: UdpSocket, to: SocketAddr, freq: f64, ssrc: u32) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let start = Instant::now();
            let mut slot: u32 = 0;
            while !flag.load(Ordering::SeqCst) {
                let payload: Vec<u8> = (0..160u32)
                    .map(|i| {
                        let n = f64::from(slot * 160 + i);
                        let v = (2.0 * std::f64::consts::PI * freq * n / 8000.0).sin();
                        linear_to_ulaw((v * 8000.0) as i16)
                    })
                    .collect();
                let mut p = rtp::packet(0, 0, slot * 160, ssrc, &payload);
                p[2..4].copy_from_slice(&(slot as u16).to_be_bytes());
                let _ = sock.send_to(&p, to);
                slot += 1;
                let due = start + Duration::from_millis(20 * u64::from(slot));
                if let Some(wait) = due.checked_duration_since(Instant::now()) {
                    std::thread::sleep(wait);
                }
            }
        });
        Tone { stop, thread }
    }

    fn stop(self) {
        self.stop.store(true, Ordering::SeqCst);
        self.thread.join().unwrap();
    }
}

/// The power of `freq` in `samples` (Goertzel), per sample.
fn power(samples: &[i16], freq: f64) -> f64 {
    let w = 2.0 * std::f64::consts::PI * freq / 8000.0;
    let coeff = 2.0 * w.cos();
    let (mut s1, mut s2) = (0.0f64, 0.0f64);
    for &x in samples {
        let s0 = f64::from(x) + coeff * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    (s1 * s1 + s2 * s2 - coeff * s1 * s2) / samples.len().max(1) as f64
}

/// The left and right channels between `from_ms` and `to_ms` of interleaved stereo samples.
fn channels(samples: &[i16], from_ms: i64, to_ms: i64) -> (Vec<i16>, Vec<i16>) {
    let at = |ms: i64| (usize::try_from(ms).unwrap() * 8 * 2).min(samples.len());
    let span = &samples[at(from_ms)..at(to_ms)];
    (
        span.iter().step_by(2).copied().collect(),
        span.iter().skip(1).step_by(2).copied().collect(),
    )
}

fn ts(event: &Value) -> OffsetDateTime {
    OffsetDateTime::parse(event["ts"].as_str().unwrap(), &Rfc3339).unwrap()
}

fn ms_between(from: &Value, to: &Value) -> i64 {
    (ts(to) - ts(from)).whole_milliseconds() as i64
}

fn event_of(h: &Hotline, call: &str, kind: &str, secs: u64) -> Value {
    h.wait_event(kind, Duration::from_secs(secs), |e| {
        e["call_id"] == call && e["type"] == kind
    })
}

/// The id of the call to `to`.
fn call_of(h: &Hotline, to: &str) -> String {
    let arrived = h.wait_event("call.arrived", Duration::from_secs(10), |e| {
        e["type"] == "call.arrived" && e["to"] == to
    });
    arrived["call_id"].as_str().unwrap().to_string()
}

/// Every file under `dir` whose name holds `call`.
fn files_of(dir: &Path, call: &str) -> Vec<String> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    for e in entries.flatten() {
        let path = e.path();
        if path.is_dir() {
            found.extend(files_of(&path, call));
        } else if let Some(name) = path.file_name().and_then(|n| n.to_str()) {
            if name.contains(call) {
                found.push(name.to_string());
            }
        }
    }
    found.sort();
    found
}

fn sidecar(h: &Hotline, completed: &Value) -> (Value, std::path::PathBuf) {
    let wav = h
        .dir
        .path()
        .join("recordings")
        .join(completed["file"].as_str().unwrap());
    let json = std::fs::read_to_string(wav.with_extension("json")).unwrap();
    (serde_json::from_str(&json).unwrap(), wav)
}

#[test]
fn a_transfer_to_an_outside_number_continues_the_ivr_recording_with_the_far_end_on_the_right() {
    let trunk_rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let port_file = dir.path().join("hotline_trunk_rtp_port");
    let carrier = Sipp::new("trunk_answer.xml", "127.0.0.1:5060".parse().unwrap())
        .key("trunk_rtp_port", trunk_rtp.local_addr().unwrap().port())
        .key("port_file", port_file.display())
        .args(&["-m", "1"]);
    let h = Hotline::start_with_dialplan(with_trunk(&format!("127.0.0.1:{}", carrier.port)), PLAN);
    let carrier = carrier.spawn();

    // The customer answers the IVR with a 440 Hz tone and keeps it up to the end.
    let caller_rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let mut uac = Uac::new(h.sip, "810");
    let ok = uac.invite(Some(&offer(caller_rtp.local_addr().unwrap())), None);
    assert_eq!(ok.status(), Some(200), "{}", ok.start);
    let caller_tone = Tone::start(caller_rtp, ok.sdp_rtp(), 440.0, 0x0440_0440);
    let call = call_of(&h, "810");
    let started = event_of(&h, &call, "recording.started", 10);
    assert!(started.get("queue").is_none_or(Value::is_null), "{started}");

    // The far end answers after the notice and sends 1000 Hz.
    let mut port = None;
    assert!(
        poll_until(Duration::from_secs(20), || {
            port = std::fs::read_to_string(&port_file)
                .ok()
                .and_then(|s| s.trim().parse::<u16>().ok());
            port.is_some()
        }),
        "the trunk got no INVITE"
    );
    let far_tone = Tone::start(
        trunk_rtp,
        SocketAddr::from(([127, 0, 0, 1], port.unwrap())),
        1000.0,
        0x1000_1000,
    );
    let answered = event_of(&h, &call, "transfer.answered", 10);
    assert_eq!(answered["number"], "+8613800138000");
    // Three seconds of conversation with the far end, then the customer hangs up.
    std::thread::sleep(Duration::from_secs(3));
    uac.bye();
    carrier.wait(Duration::from_secs(10)).assert_ok("carrier");
    let ended = event_of(&h, &call, "call.ended", 10);
    assert_eq!(ended["reason"], "transferred");
    let completed = event_of(&h, &call, "recording.completed", 20);
    caller_tone.stop();
    far_tone.stop();

    // One recording: started once in the IVR, its files named by the call id.
    let events = h.events();
    let of_call = |kind: &str| -> Vec<&Value> {
        events
            .iter()
            .filter(|e| e["call_id"] == call.as_str() && e["type"] == kind)
            .collect()
    };
    assert_eq!(of_call("recording.started").len(), 1);
    assert_eq!(of_call("recording.completed").len(), 1);
    assert_eq!(
        files_of(&h.dir.path().join("recordings"), &call),
        vec![format!("{call}.json"), format!("{call}.wav")]
    );

    // The event and the sidecar name the transfer, no queue and no agent.
    assert_eq!(
        completed["transferred_to"],
        redacted("+8613800138000"),
        "{completed}"
    );
    assert_eq!(completed["transfer_trunk"], "carrier");
    assert!(
        completed.get("queue").is_none_or(Value::is_null),
        "{completed}"
    );
    assert!(completed.get("agent_id").is_none_or(Value::is_null));
    let (meta, wav) = sidecar(&h, &completed);
    assert_eq!(meta["transferred_to"], redacted("+8613800138000"), "{meta}");
    assert_eq!(meta["transfer_trunk"], "carrier");
    assert!(
        meta.get("queue").is_none() && meta.get("agent").is_none(),
        "{meta}"
    );
    let api =
        support::http::get(h.http, &format!("/api/v1/recordings/{call}"), Some(TOKEN)).unwrap();
    assert_eq!(api.status, 200);
    assert!(
        api.body.contains("\"transfer_trunk\":\"carrier\""),
        "{}",
        api.body
    );

    // From the answer to the hangup.
    let answered_by_ivr = of_call("call.answered_by_ivr")[0];
    let from_answer = ms_between(answered_by_ivr, &ended);
    let duration_ms = completed["duration_ms"].as_i64().unwrap();
    assert!(
        (duration_ms - from_answer).abs() <= 150,
        "recording {duration_ms} ms, call from its answer {from_answer} ms"
    );
    let transfer_at = ms_between(answered_by_ivr, &answered);
    assert!(
        transfer_at >= 3000,
        "the notice plays first: {transfer_at} ms"
    );

    let mut reader = hound::WavReader::open(&wav).unwrap();
    assert_eq!(
        (reader.spec().channels, reader.spec().sample_rate),
        (2, 8000)
    );
    let samples: Vec<i16> = reader.samples::<i16>().map(Result::unwrap).collect();
    // Left: the customer's tone in every half second, the IVR part and the transfer alike.
    let mut at = 500;
    while at + 500 <= duration_ms - 300 {
        let (left, _) = channels(&samples, at, at + 500);
        assert!(
            power(&left, 440.0) > 1e6,
            "the customer's tone at {at} ms: {}",
            power(&left, 440.0)
        );
        at += 500;
    }
    // Right: silent in the IVR part.
    let (_, right) = channels(&samples, 0, transfer_at - 300);
    assert!(
        right.iter().all(|s| *s == 0),
        "the right channel is silent before the transfer answers"
    );
    // After the answer: the far end's 1000 Hz on the right, the customer's 440 Hz on the left,
    // neither in the other's channel.
    let (left, right) = channels(&samples, transfer_at + 500, transfer_at + 2500);
    let (right_1000, right_440) = (power(&right, 1000.0), power(&right, 440.0));
    let (left_440, left_1000) = (power(&left, 440.0), power(&left, 1000.0));
    eprintln!(
        "recording {duration_ms} ms vs {from_answer} ms from the answer; transfer answered at \
         {transfer_at} ms; right 1000 Hz {right_1000:.3e} / 440 Hz {right_440:.3e}, left 440 Hz \
         {left_440:.3e} / 1000 Hz {left_1000:.3e}"
    );
    assert!(
        right_1000 > 1e6,
        "the far end's tone on the right: {right_1000}"
    );
    assert!(
        right_1000 > 100.0 * right_440,
        "{right_1000} vs {right_440}"
    );
    assert!(left_440 > 100.0 * left_1000, "{left_440} vs {left_1000}");
}

#[test]
fn a_transfer_to_another_flow_and_a_queue_keeps_the_recording_and_the_agent_joins_it() {
    // The trunk only makes the plan valid: nothing here dials it.
    let h = Hotline::start_with_dialplan(with_trunk("127.0.0.1:9"), PLAN);
    let _agent = SippAgent::start(
        &h,
        AgentSetup {
            hold_ms: 60_000,
            ..AgentSetup::default()
        },
    );
    let caller_rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let mut uac = Uac::new(h.sip, "813");
    let ok = uac.invite(Some(&offer(caller_rtp.local_addr().unwrap())), None);
    assert_eq!(ok.status(), Some(200), "{}", ok.start);
    let tone = Tone::start(caller_rtp, ok.sdp_rtp(), 440.0, 0x0440_0440);
    let call = call_of(&h, "813");
    event_of(&h, &call, "recording.started", 10);
    let agent_answered = event_of(&h, &call, "call.answered", 20);
    std::thread::sleep(Duration::from_secs(1));
    uac.bye();
    let ended = event_of(&h, &call, "call.ended", 10);
    let completed = event_of(&h, &call, "recording.completed", 20);
    tone.stop();

    let events = h.events();
    let started: Vec<&Value> = events
        .iter()
        .filter(|e| e["call_id"] == call.as_str() && e["type"] == "recording.started")
        .collect();
    assert_eq!(started.len(), 1, "one recording for the whole call");
    assert_eq!(completed["queue"], "support");
    assert_eq!(completed["agent_id"], "1001");
    assert!(completed.get("transferred_to").is_none(), "{completed}");
    let (meta, _) = sidecar(&h, &completed);
    assert_eq!(meta["queue"], "support");
    assert_eq!(meta["agent"], "1001");
    let answered_by_ivr = events
        .iter()
        .find(|e| e["call_id"] == call.as_str() && e["type"] == "call.answered_by_ivr")
        .unwrap();
    let duration_ms = completed["duration_ms"].as_i64().unwrap();
    let from_answer = ms_between(answered_by_ivr, &ended);
    assert!(
        (duration_ms - from_answer).abs() <= 150,
        "recording {duration_ms} ms, call from its answer {from_answer} ms"
    );
    // The notice of the other flow is in it.
    assert!(
        duration_ms >= ms_between(&agent_answered, &ended) + 3000,
        "{duration_ms} ms"
    );
}
