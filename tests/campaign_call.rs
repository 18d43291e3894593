//! Campaign calls end to end, customer first, with SIPp as the PSTN gateway behind a trunk: the
//! INVITE carries the campaign's caller id in From and P-Asserted-Identity; a busy line is a
//! final `busy` with its SIP status; an answer is listened to by the answering-machine detector
//! (the customer's audio is espeak-ng speech and a sox beep, made at test time and played by
//! SIPp from a pcap): a person saying hello is human, a voicemail greeting is a machine that is
//! dropped at once or, when the campaign leaves messages, hears the message only after its beep.
//!
//! A person goes to the campaign's queue as a routing entry handled by the inbound call task:
//! with no agent the customer hears the abandon message (its prompt, then the callback number
//! digit by digit) before hotline hangs up; with a SIPp
//! agent ready the call is offered and connected.
//!
//! The calls are started by the debug builds' test hook (`test_campaign_dials.jsonl` written
//! into the data folder) and their reports read from `test_campaign_reports.jsonl`.

#![allow(clippy::unwrap_used)]

#[path = "campaign_call/audio.rs"]
mod audio;
mod support;

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use serde_json::{json, Value};
use support::agent::{AgentSetup, SippAgent};
use support::sipp::Sipp;
use support::{poll_until, Hotline, Options};

const CALLER_ID: &str = "+442071234567";
const NUMBER: &str = "+447700900123";
/// The prompt left on a machine (2.7 s).
const MESSAGE: &str = "goodbye";
const MESSAGE_MS: u64 = 2_700;
/// The abandon message: its prompt (also `goodbye`), then the callback number (the campaign's
/// caller id here) read digit by digit with the `num_N` prompts, ms.
fn abandon_ms() -> u64 {
    let digits = CALLER_ID.chars().filter(char::is_ascii_digit);
    prompt_ms("goodbye") + digits.map(|d| prompt_ms(&format!("num_{d}"))).sum::<u64>()
}

/// The length of a bundled English prompt (8 kHz 16-bit mono WAV), ms.
fn prompt_ms(name: &str) -> u64 {
    let wav = std::fs::read(support::root().join(format!("prompts/en/{name}.wav"))).unwrap();
    let at = wav.windows(4).position(|w| w == b"data").unwrap();
    let bytes = u32::from_le_bytes(wav[at + 4..at + 8].try_into().unwrap());
    u64::from(bytes) / 16
}
/// The connect time of the no-answer test.
const CONNECT_MS: u64 = 2_000;

const GREETING: &str = "Hi, you have reached the voicemail of John Smith. I am not available \
    to take your call right now. Please leave your name, your number and a short message \
    after the tone.";

/// hotline with one trunk to `gateway`, dialing `dials` at once.
fn start(gateway: SocketAddr, dials: &[Value]) -> Hotline {
    let h = start_hotline(gateway);
    dial_now(&h, dials);
    h
}

/// Has hotline dial `dials` (written whole, then renamed into the name the hook looks for).
fn dial_now(h: &Hotline, dials: &[Value]) {
    let lines: Vec<String> = dials.iter().map(Value::to_string).collect();
    let tmp = h.dir.path().join("dials.tmp");
    std::fs::write(&tmp, lines.join("\n")).unwrap();
    std::fs::rename(&tmp, h.dir.path().join("test_campaign_dials.jsonl")).unwrap();
}

/// hotline with one trunk to `gateway`.
fn start_hotline(gateway: SocketAddr) -> Hotline {
    Hotline::start(trunk_options(gateway))
}

/// The bundled config with one trunk, `carrier`, to `gateway`.
fn trunk_options(gateway: SocketAddr) -> Options {
    let edited = support::carrier_trunk("+442070000000", gateway, "+44*", "");
    Options {
        config_edits: vec![edited],
        ..Options::default()
    }
}

/// An agentless notice: the flow plays a prompt and hangs up.
const NOTICE_PLAN: &str = r#"version: 1
numbers:
  "7000":
    start: notice
    nodes:
      notice: { play: goodbye, next: bye }
      bye: { hangup: true }
"#;

/// A dial of `NUMBER` to the `support` queue (2 s to connect), with `amd` when given.
fn dial(amd: Option<Value>) -> Value {
    let mut d = json!({
        "campaign": "spring", "entry": 7, "attempt": 1,
        "number": NUMBER, "caller_id": CALLER_ID, "trunk": "carrier",
        "ring_timeout_ms": 20_000, "queue": "support", "connect_within_ms": 2_000,
        "abandon_prompt": "goodbye",
    });
    if let Some(amd) = amd {
        d["amd"] = amd;
    }
    d
}

/// The reports so far.
fn reports(h: &Hotline) -> Vec<Value> {
    std::fs::read_to_string(h.dir.path().join("test_campaign_reports.jsonl"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// Waits for the call's `ended` report; all the reports.
fn wait_ended(h: &Hotline, timeout: Duration) -> Vec<Value> {
    let ended = poll_until(timeout, || {
        reports(h).iter().any(|r| r["report"] == "ended")
    });
    assert!(ended, "no ended report; log:\n{}", h.log());
    reports(h)
}

fn kinds(reports: &[Value]) -> Vec<&str> {
    reports
        .iter()
        .filter_map(|r| r["report"].as_str())
        .collect()
}

/// The customer's phone: plays `pcap` after answering, must not be hung up for `quiet_ms`.
fn customer(pcap: &Path, quiet_ms: u64, bye_within_ms: u64) -> Sipp {
    Sipp::new("campaign_customer.xml", "127.0.0.1:5060".parse().unwrap())
        .var("number_re", NUMBER.replace('+', "\\+"))
        .var("from_re", CALLER_ID.replace('+', "\\+"))
        .var("ring_ms", 500)
        .var("pcap", pcap.display())
        .var("quiet_ms", quiet_ms)
        .var("bye_within_ms", bye_within_ms)
        .args(&["-m", "1", "-timeout", "60s"])
}

fn gateway(phone: &Sipp) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], phone.port))
}

/// A voicemail: the greeting, 300 ms of silence, a 1 kHz beep of 600 ms, then silence; the
/// pcap and where the beep ends, ms.
fn voicemail(dir: &Path) -> (std::path::PathBuf, u64) {
    let mut audio = audio::speak(dir, "greeting", GREETING);
    audio.extend(audio::silence(300));
    audio.extend(audio::tone(dir, "beep", 1000, 600));
    let beep_end = audio::ms(&audio);
    audio.extend(audio::silence(8_000));
    (audio::pcap(dir, "voicemail", &audio), beep_end)
}

#[test]
fn a_busy_line_is_a_final_busy_with_its_status_and_the_campaign_caller_id_is_presented() {
    let phone = Sipp::new("customer_phone.xml", "127.0.0.1:5060".parse().unwrap())
        .var("number_re", NUMBER.replace('+', "\\+"))
        .var("from_re", CALLER_ID.replace('+', "\\+"))
        .var("busy_calls", 1)
        .var("ring_ms", 500)
        .var("talk_ms", 1_000)
        .args(&["-m", "1", "-timeout", "60s"]);
    let gw = gateway(&phone);
    let phone = phone.spawn();
    let h = start(gw, &[dial(None)]);
    let reports = wait_ended(&h, Duration::from_secs(20));
    phone
        .wait(Duration::from_secs(10))
        .assert_ok("busy customer");
    assert_eq!(kinds(&reports), ["final", "ended"], "{reports:?}");
    assert_eq!(reports[0]["outcome"]["kind"], "busy");
    assert_eq!(reports[0]["outcome"]["sip_status"], 486);
    assert_eq!(reports[1]["talk_ms"], 0);
    assert_eq!(reports[0]["call"], reports[1]["call"]);
}

#[test]
fn a_person_is_detected_human_after_hello_and_a_pause_and_without_agents_hears_the_abandon_message()
{
    let dir = tempfile::tempdir().unwrap();
    let mut hello = audio::speak(dir.path(), "hello", "Hello?");
    let spoken = audio::ms(&hello);
    hello.extend(audio::silence(6_000));
    let pcap = audio::pcap(dir.path(), "hello", &hello);
    // Not hung up while saying hello and pausing (the verdict needs the pause), nor during the
    // abandon message.
    let phone = customer(&pcap, spoken + 500 + abandon_ms(), 15_000);
    let gw = gateway(&phone);
    let phone = phone.spawn();
    let amd = json!({"on_machine": "drop", "on_not_sure": "pass_to_agent", "message": MESSAGE});
    let h = start(gw, &[dial(Some(amd))]);
    let reports = wait_ended(&h, Duration::from_secs(30));
    phone.wait(Duration::from_secs(10)).assert_ok("person");
    assert_eq!(kinds(&reports)[0], "answered", "{reports:?}");
    assert_eq!(reports[0]["verdict"], "human", "{reports:?}");
    let after = reports[0]["after_ms"].as_u64().unwrap();
    // The word, then the detector's 800 ms pause after the greeting (RTP jitter aside).
    assert!(
        after >= spoken + 600 && after <= spoken + 2_500,
        "human verdict after {after} ms for {spoken} ms of speech"
    );
    assert_eq!(
        kinds(&reports),
        ["answered", "abandoned", "ended"],
        "{reports:?}"
    );
    // No agent: the abandon message plays to its end before hotline hangs up.
    let talk = reports[2]["talk_ms"].as_u64().unwrap();
    assert!(
        talk >= after + abandon_ms(),
        "hung up {talk} ms after the answer, the verdict came at {after} ms"
    );
}

#[test]
fn a_person_is_offered_to_a_ready_agent_and_connected() {
    let dir = tempfile::tempdir().unwrap();
    let mut hello = audio::speak(dir.path(), "hello", "Hello?");
    hello.extend(audio::silence(6_000));
    let pcap = audio::pcap(dir.path(), "hello", &hello);
    let phone = Sipp::new(
        "campaign_customer_talks.xml",
        "127.0.0.1:5060".parse().unwrap(),
    )
    .var("number_re", NUMBER.replace('+', "\\+"))
    .var("from_re", CALLER_ID.replace('+', "\\+"))
    .var("ring_ms", 500)
    .var("pcap", pcap.display())
    .var("talk_ms", 5_000)
    .args(&["-m", "1", "-timeout", "60s"]);
    let gw = gateway(&phone);
    let phone = phone.spawn();
    let h = start_hotline(gw);
    let agent = SippAgent::start(
        &h,
        AgentSetup {
            id: "1001",
            hold_ms: 12_000,
            pt: 8,
            ..AgentSetup::default()
        },
    );
    let amd = json!({"on_machine": "drop", "on_not_sure": "pass_to_agent"});
    let mut d = dial(Some(amd));
    d["connect_within_ms"] = json!(5_000);
    dial_now(&h, &[d]);
    let reports = wait_ended(&h, Duration::from_secs(30));
    phone.wait(Duration::from_secs(10)).assert_ok("customer");
    agent.finish(Duration::from_secs(20)).assert_ok("agent");
    assert_eq!(
        kinds(&reports),
        ["answered", "connected", "ended"],
        "{reports:?}"
    );
    assert_eq!(reports[0]["verdict"], "human");
    assert_eq!(reports[1]["agent"], "1001");
    let verdict = reports[0]["after_ms"].as_u64().unwrap();
    let connected = reports[1]["after_ms"].as_u64().unwrap();
    assert!(
        connected >= verdict && connected <= verdict + 3_000,
        "connected {connected} ms after the answer, the verdict came at {verdict} ms"
    );
    // The router saw the campaign call as a queue entry connected to the agent.
    let call = reports[0]["call"].as_str().unwrap();
    let types = support::call_event_types(&h.events(), call);
    assert!(
        types.iter().any(|t| t == "call.queued") && types.iter().any(|t| t == "call.answered"),
        "{types:?}"
    );
}

#[test]
fn a_voicemail_is_detected_machine_and_dropped_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let (pcap, beep_end) = voicemail(dir.path());
    let phone = customer(&pcap, 0, 10_000);
    let gw = gateway(&phone);
    let phone = phone.spawn();
    let amd = json!({"on_machine": "drop", "on_not_sure": "pass_to_agent"});
    let h = start(gw, &[dial(Some(amd))]);
    let reports = wait_ended(&h, Duration::from_secs(30));
    phone.wait(Duration::from_secs(10)).assert_ok("voicemail");
    assert_eq!(
        kinds(&reports),
        ["answered", "dropped", "ended"],
        "{reports:?}"
    );
    assert_eq!(reports[0]["verdict"], "machine");
    let talk = reports[2]["talk_ms"].as_u64().unwrap();
    assert!(
        talk < beep_end,
        "dropped after {talk} ms, the greeting ran {beep_end} ms"
    );
    let metrics = support::http::get(h.http, "/metrics", None).unwrap().body;
    for result in ["answered", "machine", "dropped"] {
        let line = format!("hotline_campaign_calls_total{{result=\"{result}\"}} 1");
        assert!(metrics.contains(&line), "no {line:?} in:\n{metrics}");
    }
    assert!(
        !metrics.contains("hotline_campaign_calls_total{result=\"human\"}"),
        "{metrics}"
    );
}

#[test]
fn a_voicemail_hears_the_message_only_after_its_beep() {
    let dir = tempfile::tempdir().unwrap();
    let (pcap, beep_end) = voicemail(dir.path());
    // A BYE before the beep has ended fails the SIPp call.
    let phone = customer(&pcap, beep_end, 15_000);
    let gw = gateway(&phone);
    let phone = phone.spawn();
    let amd = json!({"on_machine": "leave_message", "on_not_sure": "pass_to_agent",
        "message": MESSAGE});
    let h = start(gw, &[dial(Some(amd))]);
    let reports = wait_ended(&h, Duration::from_secs(40));
    phone.wait(Duration::from_secs(10)).assert_ok("voicemail");
    assert_eq!(
        kinds(&reports),
        ["answered", "message_left", "ended"],
        "{reports:?}"
    );
    assert_eq!(reports[0]["verdict"], "machine");
    let talk = reports[2]["talk_ms"].as_u64().unwrap();
    assert!(
        talk >= beep_end + MESSAGE_MS,
        "hung up {talk} ms after the answer: the beep ended at {beep_end} ms and the message \
         is {MESSAGE_MS} ms"
    );
    assert!(
        talk <= beep_end + MESSAGE_MS + 3_000,
        "the message started late: {talk} ms"
    );
}

#[test]
fn a_person_hears_the_agentless_flow_to_its_end() {
    let dir = tempfile::tempdir().unwrap();
    let mut hello = audio::speak(dir.path(), "hello", "Hello?");
    let spoken = audio::ms(&hello);
    hello.extend(audio::silence(8_000));
    let pcap = audio::pcap(dir.path(), "hello", &hello);
    // Not hung up before the verdict and the flow's prompt.
    let phone = customer(&pcap, spoken + 500 + MESSAGE_MS, 15_000);
    let gw = gateway(&phone);
    let phone = phone.spawn();
    let h = Hotline::start_with_dialplan(trunk_options(gw), NOTICE_PLAN);
    let amd = json!({"on_machine": "drop", "on_not_sure": "pass_to_agent"});
    let mut d = dial(Some(amd));
    d["flow"] = json!("7000");
    dial_now(&h, &[d]);
    let reports = wait_ended(&h, Duration::from_secs(30));
    phone.wait(Duration::from_secs(10)).assert_ok("customer");
    assert_eq!(
        kinds(&reports),
        ["answered", "flow_done", "ended"],
        "{reports:?}"
    );
    assert_eq!(reports[0]["verdict"], "human");
    assert_eq!(reports[1]["result"], "completed");
    // The flow ran on the campaign call as on any caller: its prompt is in the journal.
    let call = reports[0]["call"].as_str().unwrap();
    let prompts: Vec<Value> = h
        .events()
        .into_iter()
        .filter(|e| e["call_id"] == call && e["type"] == "ivr.prompt")
        .collect();
    assert_eq!(prompts.len(), 1, "{prompts:?}");
    assert_eq!(prompts[0]["prompt"], "goodbye");
}

#[test]
fn a_person_no_agent_answers_within_the_connect_time_is_abandoned_with_the_message() {
    let dir = tempfile::tempdir().unwrap();
    let mut hello = audio::speak(dir.path(), "hello", "Hello?");
    let spoken = audio::ms(&hello);
    hello.extend(audio::silence(10_000));
    let pcap = audio::pcap(dir.path(), "hello", &hello);
    // Quiet until just before the BYE: the connect time from the end of "Hello?", then the
    // abandon message.
    let phone = customer(&pcap, spoken + CONNECT_MS + abandon_ms() - 500, 15_000);
    let gw = gateway(&phone);
    let phone = phone.spawn();
    let h = start_hotline(gw);
    let mark = dir.path().join("cancelled");
    let mark_arg = mark.display().to_string();
    // Agent 1001 is ready but its phone only rings.
    let agent = SippAgent::start(
        &h,
        AgentSetup {
            id: "1001",
            hold_ms: 12_000,
            pt: 8,
            answer_scenario: "agent_noanswer.xml",
            extra: vec!["-key", "mark_file", mark_arg.as_str()],
        },
    );
    let amd = json!({"on_machine": "drop", "on_not_sure": "pass_to_agent"});
    let mut d = dial(Some(amd));
    d["connect_within_ms"] = json!(CONNECT_MS);
    dial_now(&h, &[d]);
    let reports = wait_ended(&h, Duration::from_secs(30));
    phone.wait(Duration::from_secs(10)).assert_ok("customer");
    agent.finish(Duration::from_secs(20)).assert_ok("agent");
    assert_eq!(
        kinds(&reports),
        ["answered", "abandoned", "ended"],
        "{reports:?}"
    );
    let verdict = reports[0]["after_ms"].as_u64().unwrap();
    let talk = reports[2]["talk_ms"].as_u64().unwrap();
    // The connect time from the end of "Hello?" (the verdict came 0.8 s of silence after it),
    // then the whole abandon message.
    assert!(
        talk + 200 >= spoken + CONNECT_MS + abandon_ms()
            && talk + 500 <= verdict + CONNECT_MS + abandon_ms(),
        "hung up {talk} ms after the answer; {spoken} ms of speech, verdict at {verdict} ms"
    );
    assert_eq!(
        std::fs::read_to_string(&mark).unwrap_or_default().trim(),
        "cancelled",
        "the agent's ringing phone was not cancelled"
    );
}

#[test]
fn a_phone_nobody_answers_rings_the_ring_time_then_is_cancelled_as_no_answer() {
    let dir = tempfile::tempdir().unwrap();
    let ring_file = dir.path().join("ring");
    let phone = Sipp::new("customer_noanswer.xml", "127.0.0.1:5060".parse().unwrap())
        .var("cancel_within_ms", 30_000)
        .key("ring_file", ring_file.display())
        .args(&["-m", "1", "-timeout", "60s"]);
    let gw = gateway(&phone);
    let phone = phone.spawn();
    let mut d = dial(None);
    // Below the 15 s every phone rings at least.
    d["ring_timeout_ms"] = json!(5_000);
    let h = start(gw, &[d]);
    let reports = wait_ended(&h, Duration::from_secs(40));
    phone.wait(Duration::from_secs(10)).assert_ok("customer");
    assert_eq!(kinds(&reports), ["final", "ended"], "{reports:?}");
    assert_eq!(reports[0]["outcome"]["kind"], "no_answer");
    let times: Vec<u64> = std::fs::read_to_string(&ring_file)
        .unwrap()
        .lines()
        .map(|l| l.trim().parse().unwrap())
        .collect();
    assert_eq!(times.len(), 2, "INVITE and CANCEL times: {times:?}");
    let rang = times[1] - times[0];
    assert!(
        (15_000..17_000).contains(&rang),
        "rang {rang} ms, not the 15 s minimum"
    );
}

#[test]
fn an_answer_that_sends_no_audio_is_not_sure_after_the_analysis_time_and_gets_its_action() {
    let dir = tempfile::tempdir().unwrap();
    // One packet, then nothing: the detector never hears enough to decide.
    let pcap = audio::pcap(dir.path(), "mute", &audio::silence(20));
    // The default analysis time is 5 s: no BYE before it.
    let phone = customer(&pcap, 4_500, 10_000);
    let gw = gateway(&phone);
    let phone = phone.spawn();
    let amd = json!({"on_machine": "leave_message", "on_not_sure": "drop", "message": MESSAGE});
    let h = start(gw, &[dial(Some(amd))]);
    let reports = wait_ended(&h, Duration::from_secs(30));
    phone
        .wait(Duration::from_secs(10))
        .assert_ok("mute customer");
    assert_eq!(
        kinds(&reports),
        ["answered", "dropped", "ended"],
        "{reports:?}"
    );
    assert_eq!(reports[0]["verdict"], "not_sure");
    let after = reports[0]["after_ms"].as_u64().unwrap();
    assert!(
        (5_000..7_000).contains(&after),
        "not sure after {after} ms, the analysis time is 5 s"
    );
}

#[test]
fn a_dial_finding_every_channel_of_its_trunk_taken_reports_trunk_busy_without_dialing() {
    // A gateway that never answers: the first call holds the trunk's one channel while it rings.
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let gw = silent.local_addr().unwrap();
    let edited = support::carrier_trunk("+442070000000", gw, "+44*", "    max_channels: 1\n");
    let h = Hotline::start(Options {
        config_edits: vec![edited],
        ..Options::default()
    });
    let mut second = dial(None);
    second["entry"] = json!(8);
    second["number"] = json!("+447700900124");
    dial_now(&h, &[dial(None), second]);
    let done = poll_until(Duration::from_secs(10), || {
        let r = reports(&h);
        let busy = r.iter().find(|r| r["report"] == "trunk_busy");
        busy.is_some_and(|b| {
            r.iter()
                .any(|e| e["report"] == "ended" && e["call"] == b["call"])
        })
    });
    let reports = reports(&h);
    assert!(done, "{reports:?}\n{}", h.log());
    let busy = reports
        .iter()
        .find(|r| r["report"] == "trunk_busy")
        .unwrap();
    // The busy call sent nothing and reports no outcome: its attempt does not count.
    let of_busy: Vec<&str> = reports
        .iter()
        .filter(|r| r["call"] == busy["call"])
        .filter_map(|r| r["report"].as_str())
        .collect();
    assert_eq!(of_busy, ["trunk_busy", "ended"], "{reports:?}");
    assert_eq!(
        kinds(&reports)
            .iter()
            .filter(|k| **k == "trunk_busy")
            .count(),
        1,
        "{reports:?}"
    );
}
