//! Recording policy from the dialplan, end to end with SIPp customers and agents: a `set` node's
//! `recording:` overrides the queue's (never over always, always over never), a `consent`
//! node's opt-out key stops any recording (and `recording.skipped` says why), a consent given is
//! in the sidecar, an IVR-part recording runs from the answer (the prompt period included), and
//! a sampled queue records the share of many short real calls its seed predicts.

#![allow(clippy::unwrap_used)]

mod support;

use std::net::{SocketAddr, UdpSocket};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use hotline_media::g711::linear_to_ulaw;
use hotline_recording::{RecordingPolicy, SampleShare};
use serde_json::Value;
use support::agent::{AgentSetup, SippAgent};
use support::sipp::Sipp;
use support::{rtp, Hotline, Options};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use uuid::Uuid;

/// Numbers: 300 never over `support` (always); 301 always over `billing` (never); 302 and 303
/// the consent notice before `support`; 304 records the IVR part (a notice, then `support`); 305
/// records the IVR part, then asks for consent.
const PLAN: &str = r#"
version: 1
numbers:
  "300":
    start: policy
    nodes:
      policy: { set: { recording: never }, next: agents }
      agents: { queue: support }
  "301":
    start: policy
    nodes:
      policy: { set: { recording: always }, next: agents }
      agents: { queue: billing }
  "302":
    start: notice
    nodes:
      notice:
        consent: { prompt: recording_notice, opt_out: "9", timeout: 3s }
        next: agents
      agents: { queue: support }
  "304":
    start: policy
    nodes:
      policy:
        set: { recording: { policy: always, ivr: true } }
        next: notice
      notice: { play: recording_notice, next: agents }
      agents: { queue: support }
  "305":
    start: policy
    nodes:
      policy:
        set: { recording: { policy: always, ivr: true } }
        next: notice
      notice:
        consent: { prompt: recording_notice, opt_out: "9" }
        next: agents
      agents: { queue: support }
"#;

/// `support` records every call; agent 1001 also answers `billing` (which records none).
fn hotline() -> (Hotline, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let plan: PathBuf = dir.path().join("policy.yaml");
    std::fs::write(&plan, PLAN).unwrap();
    let h = Hotline::start(Options {
        dialplan: Some(plan),
        config_edits: vec![(
            "members: [\"1003\", \"1004\"]",
            "members: [\"1001\", \"1003\", \"1004\"]",
        )],
        ..Options::default()
    });
    (h, dir)
}

fn agent(h: &Hotline) -> SippAgent {
    SippAgent::start(
        h,
        AgentSetup {
            hold_ms: 60_000,
            ..AgentSetup::default()
        },
    )
}

/// A customer dialing `number` and hanging up `wait_ms` after the answer (no RTP of its own).
fn dial(h: &Hotline, number: &str, wait_ms: u64) -> support::sipp::SippRun {
    let rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
    Sipp::new("caller_wait.xml", h.sip)
        .var("wait_ms", wait_ms)
        .key("caller_rtp_port", rtp.local_addr().unwrap().port())
        .args(&["-s", number, "-m", "1"])
        .run(Duration::from_secs(30))
}

/// The recording decision event (started or skipped) of the call that reached `number`.
fn decision(h: &Hotline, number: &str) -> Value {
    let call = call_to(h, number);
    h.wait_event("the recording decision", Duration::from_secs(20), |e| {
        e["call_id"] == call.as_str()
            && (e["type"] == "recording.started" || e["type"] == "recording.skipped")
    })
}

/// The id of the call that reached `number`.
fn call_to(h: &Hotline, number: &str) -> String {
    let arrived = h.wait_event("the call", Duration::from_secs(10), |e| {
        e["type"] == "call.arrived"
            && e["to"]
                .as_str()
                .is_some_and(|t| t == number || t.starts_with(&format!("sip:{number}@")))
    });
    arrived["call_id"].as_str().unwrap().to_owned()
}

fn ended(h: &Hotline, call: &str) {
    h.wait_event("call.ended", Duration::from_secs(20), |e| {
        e["call_id"] == call && e["type"] == "call.ended"
    });
}

#[test]
fn a_set_node_overrides_the_queue_and_a_declined_consent_records_nothing() {
    let (h, _plan) = hotline();
    let _agent = agent(&h);

    // Never over the queue's always: not recorded, and the event names the node.
    dial(&h, "300", 1500).assert_ok("customer of 300");
    let never = decision(&h, "300");
    assert_eq!(never["type"], "recording.skipped", "{never}");
    assert_eq!(never["reason"], "never");
    assert_eq!(never["policy_node"], "policy");
    assert_eq!(never["queue"], "support");
    let first = never["call_id"].as_str().unwrap().to_owned();
    ended(&h, &first);
    h.wait_agent_state("1001", "ready", Duration::from_secs(10));

    // Always over the queue's never (billing records nothing by itself).
    dial(&h, "301", 1500).assert_ok("customer of 301");
    let always = decision(&h, "301");
    assert_eq!(always["type"], "recording.started", "{always}");
    assert_eq!(always["reason"], "always");
    assert_eq!(always["queue"], "billing");
    let second = always["call_id"].as_str().unwrap().to_owned();
    let completed = h.wait_event("recording.completed", Duration::from_secs(20), |e| {
        e["type"] == "recording.completed" && e["call_id"] == second.as_str()
    });
    assert_eq!(completed["consent"], "not_asked");
    h.wait_agent_state("1001", "ready", Duration::from_secs(10));

    // The opt-out key during the notice: the queue records every call, this one not.
    Sipp::new("caller_menu.xml", h.sip)
        .var("digit", "9")
        .var("talk_ms", 2500)
        .var("from", "5551234")
        .key("caller_pt", 0)
        .args(&["-s", "302", "-m", "1"])
        .run(Duration::from_secs(30))
        .assert_ok("customer of 302");
    let declined = decision(&h, "302");
    assert_eq!(declined["type"], "recording.skipped", "{declined}");
    assert_eq!(declined["reason"], "consent_declined");
    assert_eq!(declined["queue"], "support");
    let third = declined["call_id"].as_str().unwrap().to_owned();
    ended(&h, &third);
    let events = h.events();
    let of_third: Vec<&str> = events
        .iter()
        .filter(|e| e["call_id"] == third.as_str())
        .filter_map(|e| e["type"].as_str())
        .collect();
    assert!(of_third.contains(&"call.answered"), "{of_third:?}");
    assert!(!of_third.contains(&"recording.started"), "{of_third:?}");
    assert!(!h
        .dir
        .path()
        .join("recordings")
        .join(format!("{third}.wav"))
        .exists());
    // The recordings list holds only the call recorded over billing's never.
    let listed = support::http::get(h.http, "/api/v1/recordings", Some(TOKEN)).unwrap();
    assert_eq!(listed.status, 200);
    assert!(listed.body.contains(&second), "{}", listed.body);
    assert!(!listed.body.contains(&first), "{}", listed.body);
    assert!(!listed.body.contains(&third), "{}", listed.body);
    h.wait_agent_state("1001", "ready", Duration::from_secs(10));

    // Recording from the answer, then the opt-out key: the IVR part's files are deleted and the
    // agent's part is not recorded.
    Sipp::new("caller_menu.xml", h.sip)
        .var("digit", "9")
        .var("talk_ms", 2500)
        .var("from", "5551234")
        .key("caller_pt", 0)
        .args(&["-s", "305", "-m", "1"])
        .run(Duration::from_secs(30))
        .assert_ok("customer of 305");
    let fourth = call_to(&h, "305");
    let started = h.wait_event("the IVR part's recording", Duration::from_secs(10), |e| {
        e["type"] == "recording.started" && e["call_id"] == fourth.as_str()
    });
    let skipped = h.wait_event("the skip at the bridge", Duration::from_secs(20), |e| {
        e["type"] == "recording.skipped" && e["call_id"] == fourth.as_str()
    });
    assert_eq!(skipped["reason"], "consent_declined");
    ended(&h, &fourth);
    let wav = h
        .dir
        .path()
        .join("recordings")
        .join(started["file"].as_str().unwrap());
    assert!(
        support::poll_until(Duration::from_secs(5), || !wav.exists()),
        "the IVR part's recording is deleted"
    );
    assert!(!wav.with_extension("json").exists());
    let events = h.events();
    assert!(!events
        .iter()
        .any(|e| e["call_id"] == fourth.as_str() && e["type"] == "recording.completed"));
}

const TOKEN: &str = "hotline-demo-token";

/// Sends a 440 Hz tone as PCMU every 20 ms until stopped.
struct Tone {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<()>,
}

impl Tone {
    fn start(sock: UdpSocket, to: SocketAddr) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let start = Instant::now();
            let mut slot: u32 = 0;
            while !flag.load(Ordering::SeqCst) {
                let payload: Vec<u8> = (0..160u32)
                    .map(|i| {
                        let n = f64::from(slot * 160 + i);
                        let v = (2.0 * std::f64::consts::PI * 440.0 * n / 8000.0).sin();
                        linear_to_ulaw((v * 8000.0) as i16)
                    })
                    .collect();
                let mut p = rtp::packet(0, 0, slot * 160, 0x0440_0440, &payload);
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

/// Where hotline sends the customer's audio from: the source of the first packet (the prompt).
fn first_source(sock: &UdpSocket, timeout: Duration) -> SocketAddr {
    sock.set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let deadline = Instant::now() + timeout;
    let mut buf = [0u8; 2048];
    while Instant::now() < deadline {
        if let Ok((_, from)) = sock.recv_from(&mut buf) {
            return from;
        }
    }
    panic!("hotline sent the customer no RTP");
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

fn ts(event: &Value) -> OffsetDateTime {
    OffsetDateTime::parse(event["ts"].as_str().unwrap(), &Rfc3339).unwrap()
}

fn of_call<'a>(events: &'a [Value], call: &str, kind: &str) -> &'a Value {
    events
        .iter()
        .find(|e| e["call_id"] == call && e["type"] == kind)
        .unwrap_or_else(|| panic!("no {kind} for {call}"))
}

#[test]
fn an_ivr_part_recording_runs_from_the_answer_and_consent_given_is_in_the_sidecar() {
    let dir = tempfile::tempdir().unwrap();
    let plan: PathBuf = dir.path().join("policy.yaml");
    // 303: a consent notice with no key pressed, then the IVR-part recording of 304.
    let with_consent = PLAN.replace(
        "  \"304\":",
        "  \"303\":\n    start: notice\n    nodes:\n      notice:\n        consent: { prompt: recording_notice, opt_out: \"9\", timeout: 1s }\n        next: policy\n      policy:\n        set: { recording: { policy: always, ivr: true } }\n        next: agents\n      agents: { queue: billing }\n  \"304\":",
    );
    std::fs::write(&plan, with_consent).unwrap();
    let h = Hotline::start(Options {
        dialplan: Some(plan),
        ..Options::default()
    });
    let _agent = agent(&h);

    // 304: the notice (about 5 s) plays while the customer's tone is recorded on the left.
    let customer_rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let caller = Sipp::new("caller_wait.xml", h.sip)
        .var("wait_ms", 8000)
        .key("caller_rtp_port", customer_rtp.local_addr().unwrap().port())
        .args(&["-s", "304", "-m", "1"])
        .spawn();
    let hotline_customer = first_source(&customer_rtp, Duration::from_secs(10));
    let tone = Tone::start(customer_rtp, hotline_customer);
    let started = h.wait_type("recording.started", Duration::from_secs(10));
    let call = started["call_id"].as_str().unwrap().to_owned();
    // Started in the IVR: no queue or agent yet.
    assert!(started.get("queue").is_none_or(Value::is_null), "{started}");
    let completed = h.wait_event("recording.completed", Duration::from_secs(30), |e| {
        e["type"] == "recording.completed" && e["call_id"] == call.as_str()
    });
    caller
        .wait(Duration::from_secs(10))
        .assert_ok("customer of 304");
    tone.stop();
    let events = h.events();
    let answered_by_ivr = of_call(&events, &call, "call.answered_by_ivr");
    let agent_answered = of_call(&events, &call, "call.answered");
    let call_ended = of_call(&events, &call, "call.ended");
    let from_answer = (ts(call_ended) - ts(answered_by_ivr)).whole_milliseconds() as i64;
    let from_agent = (ts(call_ended) - ts(agent_answered)).whole_milliseconds() as i64;
    let duration_ms = completed["duration_ms"].as_i64().unwrap();
    assert!(
        (duration_ms - from_answer).abs() <= 150,
        "recording {duration_ms} ms, call from its answer {from_answer} ms"
    );
    assert!(
        duration_ms >= from_agent + 4000,
        "the prompt period is in: {duration_ms} ms vs {from_agent} ms with the agent"
    );
    // The agent joined the same recording: the completed event and sidecar name them.
    assert_eq!(completed["queue"], "support");
    assert_eq!(completed["agent_id"], "1001");
    let wav = h
        .dir
        .path()
        .join("recordings")
        .join(completed["file"].as_str().unwrap());
    let sidecar: Value =
        serde_json::from_str(&std::fs::read_to_string(wav.with_extension("json")).unwrap())
            .unwrap();
    assert_eq!(sidecar["queue"], "support");
    assert_eq!(sidecar["agent"], "1001");
    assert_eq!(sidecar["consent"], "not_asked");
    // Left: the customer's tone from the first seconds (the IVR part); right: silent there.
    let mut reader = hound::WavReader::open(&wav).unwrap();
    assert_eq!(reader.spec().channels, 2);
    let samples: Vec<i16> = reader.samples::<i16>().map(Result::unwrap).collect();
    let ivr_part: Vec<i16> = samples[2 * 8000..2 * 8000 * 3].to_vec();
    let left: Vec<i16> = ivr_part.iter().step_by(2).copied().collect();
    let right: Vec<i16> = ivr_part.iter().skip(1).step_by(2).copied().collect();
    assert!(
        power(&left, 440.0) > 1e6,
        "the customer's tone in the IVR part: {}",
        power(&left, 440.0)
    );
    assert!(
        right.iter().all(|s| *s == 0),
        "the right channel is silent before the agent"
    );

    // 303: the notice runs out without a key: consent given, in the sidecar and the event. It
    // queues to `billing`, which agent 1001 is not in: the IVR part alone is recorded, and the
    // customer hangs up while waiting.
    dial(&h, "303", 9000).assert_ok("customer of 303");
    let given = decision(&h, "303");
    assert_eq!(given["type"], "recording.started", "{given}");
    let second = given["call_id"].as_str().unwrap().to_owned();
    let completed = h.wait_event("recording.completed", Duration::from_secs(30), |e| {
        e["type"] == "recording.completed" && e["call_id"] == second.as_str()
    });
    assert_eq!(completed["consent"], "given");
    let wav = h
        .dir
        .path()
        .join("recordings")
        .join(completed["file"].as_str().unwrap());
    let sidecar: Value =
        serde_json::from_str(&std::fs::read_to_string(wav.with_extension("json")).unwrap())
            .unwrap();
    assert_eq!(sidecar["consent"], "given");
}

/// Call ids in the order of their `kind` events.
fn ids_of(events: &[Value], kind: &str) -> Vec<Uuid> {
    events
        .iter()
        .filter(|e| e["type"] == kind)
        .map(|e| e["call_id"].as_str().unwrap().parse().unwrap())
        .collect()
}

#[test]
fn a_sampled_queue_records_the_share_of_real_calls_its_seed_predicts() {
    const CALLS: usize = 120;
    const SEED: u64 = 42;
    let h = Hotline::start(Options {
        wrap_up: "0s",
        rtp_ports: 200,
        config_edits: vec![
            (
                "recording: { policy: always, retention_days: 90 }",
                "recording: { policy: { sampled: \"20%\" } }",
            ),
            ("recording:\n  seed: 0", "recording:\n  seed: 42"),
            (
                "members: [\"1001\", \"1002\"]",
                "members: [\"1001\", \"1002\", \"1003\", \"1004\"]",
            ),
        ],
        ..Options::default()
    });
    let agents: Vec<SippAgent> = ["1001", "1002", "1003", "1004"]
        .into_iter()
        .map(|id| {
            SippAgent::start(
                &h,
                AgentSetup {
                    id,
                    hold_ms: 300_000,
                    ..AgentSetup::default()
                },
            )
        })
        .collect();
    // At most four at once (one per agent), ten new calls a second, each 1 s after its answer.
    let rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let calls = CALLS.to_string();
    Sipp::new("caller_wait.xml", h.sip)
        .var("wait_ms", 1000)
        .key("caller_rtp_port", rtp.local_addr().unwrap().port())
        .args(&["-s", "200", "-m", &calls, "-r", "10", "-l", "4"])
        .run(Duration::from_secs(300))
        .assert_ok("customers");
    let ended = support::poll_until(Duration::from_secs(30), || {
        h.events()
            .iter()
            .filter(|e| e["type"] == "call.ended")
            .count()
            >= CALLS
    });
    assert!(ended, "every call ended");
    let events = h.events();
    let bridged = ids_of(&events, "call.answered");
    let started = ids_of(&events, "recording.started");
    let skipped = ids_of(&events, "recording.skipped");
    assert!(
        bridged.len() >= 100,
        "only {} of {CALLS} calls reached an agent",
        bridged.len()
    );
    // Every bridged call got exactly one decision.
    let mut decided: Vec<Uuid> = started.iter().chain(&skipped).copied().collect();
    decided.sort();
    let mut expected = bridged.clone();
    expected.sort();
    assert_eq!(decided, expected);
    assert!(events
        .iter()
        .filter(|e| e["type"] == "recording.skipped")
        .all(|e| e["reason"] == "sampled_out"));
    // Exactly the calls the policy picks for these ids with this seed.
    let policy = RecordingPolicy::Sampled(SampleShare::from_ppm(200_000));
    let mut predicted: Vec<Uuid> = bridged
        .iter()
        .copied()
        .filter(|id| policy.decide(*id, SEED).records())
        .collect();
    predicted.sort();
    let mut recorded = started.clone();
    recorded.sort();
    assert_eq!(recorded, predicted);
    // And near 20%: within four binomial standard deviations, sqrt(n * 0.2 * 0.8) (about 4.4
    // for 120 calls; call ids are new each run, so the band is what a fair 20% draw stays in
    // but for 1 run in 15,000).
    let n = bridged.len() as f64;
    let sd = (n * 0.2 * 0.8).sqrt();
    let share = recorded.len() as f64;
    assert!(
        (share - 0.2 * n).abs() <= 4.0 * sd,
        "{} of {} calls recorded ({:.1}%), expected 20% +- {:.1}",
        recorded.len(),
        bridged.len(),
        100.0 * share / n,
        400.0 * sd / n
    );
    eprintln!(
        "sampled 20%: {} of {} bridged calls recorded ({:.1}%)",
        recorded.len(),
        bridged.len(),
        100.0 * share / n
    );
    drop(agents);
}
