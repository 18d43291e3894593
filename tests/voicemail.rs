//! Voicemail end to end with SIPp callers: after the beep a caller plays SIPp's g711a.pcap
//! (about 7 s of A-law speech, RTP) and ends the message with `#` (RFC 4733 pcap), by going
//! silent, or by hanging up. The WAV lands in `<data-dir>/voicemail/<box>/YYYY/MM/DD/<call-id>.wav`
//! as 8 kHz mono 16-bit PCM as long as the speech sent (within 100 ms), its sidecar's SHA-256
//! matches the file, and `voicemail.recorded` is in the journal; a caller who hangs up at once
//! leaves no file and a `voicemail.empty` event.

#![allow(clippy::unwrap_used)]

mod support;

use std::path::Path;
use std::time::Duration;

use serde_json::Value;
use sha2::{Digest, Sha256};
use support::sipp::Sipp;
use support::{Hotline, Options};

const PLAN: &str = r##"
version: 1
numbers:
  "700":
    start: message
    nodes:
      message:
        voicemail: { box: sales, max_length: 20s, end_key: "#" }
        next: bye
      bye: { hangup: true }
  "701":
    start: message
    nodes:
      message:
        voicemail: { box: support, max_length: 20s, silence: 3s }
        next: bye
      bye: { hangup: true }
"##;

/// The speech SIPp ships: 236 packets of 30 ms.
const SPEECH_MS: i64 = 7_080;

const SPEECH: &str = r#"<nop><action><exec play_pcap_audio="/usr/share/sip-tester/g711a.pcap"/></action></nop>
  <pause milliseconds="7500"/>"#;

const POUND: &str = r#"<nop><action><exec play_pcap_audio="/usr/share/sip-tester/dtmf_2833_pound.pcap"/></action></nop>"#;

/// hotline ends the call after the message (the plan's hangup node): BYE, answered.
const HOTLINE_BYE: &str = r#"<recv request="BYE" timeout="15000"/>
  <send>
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]>
  </send>"#;

const CALLER_BYE: &str = r#"<send retrans="500">
    <![CDATA[
      BYE [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
      From: "Customer" <sip:13800000001@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      [routes]
      CSeq: 2 BYE
      Contact: <sip:13800000001@[local_ip]:[local_port];transport=[transport]>
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <recv response="200"/>"#;

fn call(h: &Hotline, number: &str, audio: &str, ending: &str) {
    Sipp::new("caller_voicemail.xml", h.sip)
        .var("wait_ms", 1000)
        .var("audio", audio)
        .var("ending", ending)
        .args(&["-s", number, "-m", "1"])
        .run(Duration::from_secs(40))
        .assert_ok(&format!("voicemail caller to {number}"));
}

/// Checks the message of `event` on disk: path, format, length, sidecar; returns the sidecar.
fn check_message(data_dir: &Path, event: &Value, mailbox: &str) -> Value {
    let call_id = event["call_id"].as_str().unwrap();
    let file = event["file"].as_str().unwrap();
    let day = &event["started"].as_str().unwrap()[..10].replace('-', "/");
    assert_eq!(
        file,
        format!("voicemail/{mailbox}/{day}/{call_id}.wav"),
        "{event}"
    );
    let wav = data_dir.join(file);
    let reader = hound::WavReader::open(&wav).unwrap();
    let spec = reader.spec();
    assert_eq!(
        (spec.sample_rate, spec.channels, spec.bits_per_sample),
        (8000, 1, 16),
        "{spec:?}"
    );
    let length_ms = i64::from(reader.duration()) * 1000 / 8000;
    eprintln!("{file}: {length_ms} ms, ended by {}", event["end_reason"]);
    assert!(
        (length_ms - SPEECH_MS).abs() <= 100,
        "message of {length_ms} ms for {SPEECH_MS} ms of speech"
    );
    assert_eq!(event["duration_ms"].as_i64().unwrap(), length_ms);
    let bytes = std::fs::read(&wav).unwrap();
    let hash: String = Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let sidecar: Value =
        serde_json::from_slice(&std::fs::read(wav.with_extension("json")).unwrap()).unwrap();
    assert_eq!(sidecar["sha256"], hash.as_str(), "{sidecar}");
    assert_eq!(event["sha256"], hash.as_str(), "{event}");
    for field in [
        "box",
        "from",
        "to",
        "started",
        "duration_ms",
        "end_reason",
        "file",
    ] {
        assert_eq!(
            sidecar[field], event[field],
            "{field}: {sidecar} vs {event}"
        );
    }
    assert_eq!(sidecar["call_id"], call_id);
    sidecar
}

#[test]
fn end_key_and_hang_up_keep_the_message() {
    let h = Hotline::start_with_dialplan(Options::default(), PLAN);
    call(&h, "700", SPEECH, &format!("{POUND}\n  {HOTLINE_BYE}"));
    let event = h.wait_type("voicemail.recorded", Duration::from_secs(10));
    assert_eq!(event["end_reason"], "end_key", "{event}");
    assert_eq!(event["box"], "sales");
    assert_eq!(event["to"], "700");
    assert_eq!(event["from"], "*********01", "redacted as in logs");
    check_message(h.dir.path(), &event, "sales");

    call(&h, "700", SPEECH, CALLER_BYE);
    let event = h.wait_event(
        "a message ended by hanging up",
        Duration::from_secs(10),
        |e| e["type"] == "voicemail.recorded" && e["end_reason"] == "caller_hung_up",
    );
    check_message(h.dir.path(), &event, "sales");

    // Hanging up after a moment of nothing leaves no message.
    call(&h, "700", "", CALLER_BYE);
    let empty = h.wait_type("voicemail.empty", Duration::from_secs(10));
    assert_eq!(empty["end_reason"], "caller_hung_up", "{empty}");
    assert!(empty["duration_ms"].as_i64().unwrap() < 1000, "{empty}");
    let kept = h
        .events()
        .iter()
        .filter(|e| e["type"] == "voicemail.recorded")
        .count();
    assert_eq!(kept, 2);
}

#[test]
fn silence_ends_the_message() {
    let h = Hotline::start_with_dialplan(Options::default(), PLAN);
    call(&h, "701", SPEECH, HOTLINE_BYE);
    let event = h.wait_type("voicemail.recorded", Duration::from_secs(10));
    assert_eq!(event["end_reason"], "silence", "{event}");
    check_message(h.dir.path(), &event, "support");
}
