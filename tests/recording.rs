//! Call recording end to end: a SIPp customer (its RTP from the test: a 440 Hz tone) reaches a
//! SIPp agent (its RTP from the test: a 1000 Hz tone) through queue `support`, which the
//! bundled config records. The WAV is stereo 8 kHz 16-bit with the customer on the left and the
//! agent on the right (Goertzel filters), as long as the talk time, silent where paused (API
//! and the agent's DTMF code), hashed in its sidecar, listed and downloadable with Range. A
//! write failure (the process's file size limit) stops the recording and not the call.
//! Retention deletes old recordings and the start repairs a WAV a crash left open.

#![allow(clippy::unwrap_used)]

#[path = "recording/audio.rs"]
mod audio;
#[path = "recording/download.rs"]
mod download;
mod support;
#[path = "recording/talker.rs"]
mod talker;

use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use audio::{goertzel, onsets, sha256_hex, split_stereo};
use download::{get_bytes, header};
use serde_json::Value;
use support::agent::{AgentSetup, SippAgent};
use support::sipp::{RunningSipp, Sipp};
use support::{http, rtp, Hotline, Options};
use talker::{Impair, Talker};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

const TOKEN: &str = "hotline-demo-token";

/// Where hotline sends the customer's audio from (its RTP for the caller leg): the source of
/// the first packet (music on hold) that reaches the customer's socket.
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

/// A customer dialing 200 (straight into queue `support`) with its media on `rtp`, hanging
/// up `wait_ms` after the answer.
fn customer(h: &Hotline, rtp: &UdpSocket, wait_ms: u64) -> RunningSipp {
    Sipp::new("caller_wait.xml", h.sip)
        .var("wait_ms", wait_ms)
        .key("caller_rtp_port", rtp.local_addr().unwrap().port())
        .args(&["-s", "200", "-m", "1"])
        .spawn()
}

/// The customer (440 Hz) and the agent (1000 Hz) talking on a call hotline put through.
struct Conversation {
    customer: Talker,
    agent: Talker,
}

fn converse(h: &Hotline, agent: &SippAgent, customer_rtp: UdpSocket) -> Conversation {
    let hotline_customer = first_source(&customer_rtp, Duration::from_secs(10));
    let customer = Talker::start(customer_rtp, hotline_customer, 440.0, 0x0440_0440);
    let hotline_agent = agent.hotline_rtp(Duration::from_secs(20));
    let agent = Talker::start(
        agent.rtp.try_clone().unwrap(),
        hotline_agent,
        1000.0,
        0x1000_1000,
    );
    let _ = h;
    Conversation { customer, agent }
}

fn ts(event: &Value) -> OffsetDateTime {
    OffsetDateTime::parse(event["ts"].as_str().unwrap(), &Rfc3339).unwrap()
}

fn of_call<'a>(events: &'a [Value], call: &str, kind: &str) -> Vec<&'a Value> {
    events
        .iter()
        .filter(|e| e["call_id"] == call && e["type"] == kind)
        .collect()
}

fn control(h: &Hotline, call: &str, action: &str) -> http::Response {
    http::post(
        h.http,
        &format!("/api/v1/calls/{call}/recording/{action}"),
        Some(TOKEN),
        "{}",
    )
    .unwrap()
}

#[test]
fn a_recorded_call_is_stereo_customer_left_agent_right_paused_silent_hashed_and_downloadable() {
    let h = Hotline::start(Options::default());
    let agent = SippAgent::start(
        &h,
        AgentSetup {
            hold_ms: 30_000,
            ..AgentSetup::default()
        },
    );
    let customer_rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let caller = customer(&h, &customer_rtp, 9000);
    let talk = converse(&h, &agent, customer_rtp);

    let started = h.wait_type("recording.started", Duration::from_secs(20));
    let call = started["call_id"].as_str().unwrap().to_string();
    assert_eq!(started["reason"], "always");
    assert_eq!(started["queue"], "support");
    assert_eq!(started["agent_id"], "1001");

    // 1.5 s of conversation, then a pause through the API for a second.
    std::thread::sleep(Duration::from_millis(1500));
    let paused = control(&h, &call, "pause");
    assert_eq!(paused.status, 200, "{}", paused.body);
    assert!(paused.body.contains("\"paused\""), "{}", paused.body);
    assert_eq!(control(&h, &call, "pause").status, 409);
    assert_eq!(control(&h, &call, "start").status, 409);
    std::thread::sleep(Duration::from_millis(1000));
    assert_eq!(control(&h, &call, "resume").status, 200);
    std::thread::sleep(Duration::from_millis(1000));
    // The agent's own pause code, then the resume code a second later.
    talk.agent.key("*1");
    h.wait_event("the agent's pause", Duration::from_secs(5), |e| {
        e["type"] == "recording.paused" && e["by"] == "agent"
    });
    std::thread::sleep(Duration::from_millis(1000));
    talk.agent.key("*2");
    h.wait_event("the agent's resume", Duration::from_secs(5), |e| {
        e["type"] == "recording.resumed" && e["by"] == "agent"
    });
    assert_eq!(
        control(&h, "01938c2e-0000-7000-8000-000000000001", "pause").status,
        404
    );

    let completed = h.wait_event("recording.completed", Duration::from_secs(20), |e| {
        e["type"] == "recording.completed" && e["call_id"] == call.as_str()
    });
    caller.wait(Duration::from_secs(10)).assert_ok("customer");
    talk.customer.stop();
    talk.agent.stop();
    let events = h.events();

    // As long as the talk time: from the agent's answer to the end of the call.
    let answered = of_call(&events, &call, "call.answered")[0];
    let ended = of_call(&events, &call, "call.ended")[0];
    assert_eq!(ended["reason"], "completed");
    let talk_ms = (ts(ended) - ts(answered)).whole_milliseconds() as i64;
    let duration_ms = completed["duration_ms"].as_i64().unwrap();
    assert!(
        (duration_ms - talk_ms).abs() <= 60,
        "recording {duration_ms} ms, talk time {talk_ms} ms"
    );

    // The file: stereo, 8 kHz, 16-bit, its hash in the sidecar and the event.
    let file = completed["file"].as_str().unwrap();
    let wav_path = h.dir.path().join("recordings").join(file);
    let bytes = std::fs::read(&wav_path).unwrap();
    let sidecar: Value =
        serde_json::from_str(&std::fs::read_to_string(wav_path.with_extension("json")).unwrap())
            .unwrap();
    assert_eq!(sidecar["sha256"], sha256_hex(&bytes));
    assert_eq!(completed["sha256"], sidecar["sha256"]);
    assert_eq!(sidecar["call_id"], call.as_str());
    assert_eq!(sidecar["queue"], "support");
    assert_eq!(sidecar["agent"], "1001");
    assert_eq!(sidecar["customer_number"], "5551234");
    assert_eq!(sidecar["dialed_number"], "200");
    assert_eq!(sidecar["direction"], "inbound");
    let mut reader = hound::WavReader::open(&wav_path).unwrap();
    let spec = reader.spec();
    assert_eq!(
        (spec.channels, spec.sample_rate, spec.bits_per_sample),
        (2, 8000, 16)
    );
    let frames = reader.duration() as i64;
    assert_eq!(frames / 8, duration_ms);
    let samples: Vec<i16> = reader.samples::<i16>().map(Result::unwrap).collect();
    let (left, right) = split_stereo(&samples);

    // Two pauses (API, agent), silent in both channels.
    let pauses: Vec<(usize, usize)> = sidecar["pauses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["start_ms"].as_u64().unwrap() as usize * 8,
                p["end_ms"].as_u64().unwrap() as usize * 8,
            )
        })
        .collect();
    assert_eq!(pauses.len(), 2, "{sidecar}");
    assert_eq!(completed["pauses"], sidecar["pauses"]);
    for &(start, end) in &pauses {
        assert!(end - start >= 6000, "a pause of {} ms", (end - start) / 8);
        // The sidecar has milliseconds: the pause starts within the first one.
        let start = start + 8;
        let loud = left[start..end]
            .iter()
            .chain(&right[start..end])
            .filter(|s| **s != 0)
            .count();
        let at: Vec<(usize, i16, i16)> = (start..end)
            .filter(|i| left[*i] != 0 || right[*i] != 0)
            .map(|i| (i, left[i], right[i]))
            .collect();
        assert_eq!(loud, 0, "sound in the pause {start}..{end}: {at:?}");
    }

    // Elsewhere: the customer's 440 Hz on the left, the agent's 1000 Hz on the right.
    let mut spans = Vec::new();
    let mut from = 0;
    for &(start, end) in &pauses {
        spans.push((from, start));
        from = end;
    }
    spans.push((from, left.len()));
    let (mut windows, mut good) = (0, 0);
    for (start, end) in spans {
        // 200 ms margins: the first packets and the edges of a pause.
        let (start, end) = (start + 1600, end.saturating_sub(1600));
        let mut at = start;
        while at + 400 <= end {
            let l = &left[at..at + 400];
            let r = &right[at..at + 400];
            windows += 1;
            if goertzel(l, 440.0) > 100.0 * goertzel(l, 1000.0)
                && goertzel(r, 1000.0) > 100.0 * goertzel(r, 440.0)
                && goertzel(l, 440.0) > 1e9
                && goertzel(r, 1000.0) > 1e9
            {
                good += 1;
            }
            at += 400;
        }
    }
    assert!(windows >= 80, "only {windows} windows of sound");
    assert!(
        good * 100 >= windows * 98,
        "{good} of {windows} 50 ms windows had 440 Hz left and 1000 Hz right"
    );

    // Listed (with filters) and downloadable, whole or by range.
    let list: Value = serde_json::from_str(
        &http::get(
            h.http,
            "/api/v1/recordings?queue=support&agent=1001",
            Some(TOKEN),
        )
        .unwrap()
        .body,
    )
    .unwrap();
    let listed = list["recordings"].as_array().unwrap();
    assert_eq!(listed.len(), 1, "{list}");
    assert_eq!(listed[0]["sha256"], sidecar["sha256"]);
    for (query, n) in [
        ("?agent=1002", 0),
        ("?queue=billing", 0),
        ("?from=2000-01-01T00:00:00Z", 1),
        ("?to=2000-01-01T00:00:00Z", 0),
    ] {
        let r = http::get(h.http, &format!("/api/v1/recordings{query}"), Some(TOKEN)).unwrap();
        let v: Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(v["recordings"].as_array().unwrap().len(), n, "{query}");
    }
    assert_eq!(
        http::get(h.http, "/api/v1/recordings?from=yesterday", Some(TOKEN))
            .unwrap()
            .status,
        400
    );
    assert_eq!(
        http::get(h.http, "/api/v1/recordings", None)
            .unwrap()
            .status,
        401
    );
    let one: Value = serde_json::from_str(
        &http::get(h.http, &format!("/api/v1/recordings/{call}"), Some(TOKEN))
            .unwrap()
            .body,
    )
    .unwrap();
    assert_eq!(one, sidecar);
    let audio = format!("/api/v1/recordings/{call}/audio");
    let (status, headers, body) = get_bytes(h.http, &audio, None);
    assert_eq!(status, 200);
    assert_eq!(header(&headers, "content-type"), Some("audio/wav"));
    assert_eq!(header(&headers, "accept-ranges"), Some("bytes"));
    assert!(body == bytes, "the download differs from the file");
    let len = bytes.len();
    let (status, headers, body) = get_bytes(h.http, &audio, Some("bytes=40-1039"));
    assert_eq!(status, 206);
    assert_eq!(
        header(&headers, "content-range"),
        Some(format!("bytes 40-1039/{len}").as_str())
    );
    assert_eq!(body, bytes[40..1040]);
    let (status, _, body) = get_bytes(h.http, &audio, Some("bytes=-100"));
    assert_eq!((status, body.as_slice()), (206, &bytes[len - 100..]));
    let (status, headers, _) = get_bytes(h.http, &audio, Some(&format!("bytes={len}-")));
    assert_eq!(status, 416);
    assert_eq!(
        header(&headers, "content-range"),
        Some(format!("bytes */{len}").as_str())
    );
    let (status, _, _) = get_bytes(
        h.http,
        "/api/v1/recordings/01938c2e-0000-7000-8000-000000000001/audio",
        None,
    );
    assert_eq!(status, 404);
    // The agent phone stays registered until its hold time; no need to wait for it.
    let _ = agent.finish(Duration::from_millis(100));
}

/// The pid of the hotline serving data folder `dir` (a child of this test).
fn hotline_pid(dir: &std::path::Path) -> u32 {
    let needle = dir.display().to_string();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        if cmdline.contains(" serve ") && cmdline.contains(&needle) {
            return pid;
        }
    }
    panic!("no hotline process for {needle}");
}

#[test]
fn a_failed_write_stops_the_recording_and_the_call_goes_on() {
    let h = Hotline::start(Options::default());
    let agent = SippAgent::start(
        &h,
        AgentSetup {
            hold_ms: 30_000,
            ..AgentSetup::default()
        },
    );
    // Files of hotline may grow to 96 KiB: the recording (32 KB/s) reaches it after about 3 s;
    // the journal and the log of one call stay well below.
    let pid = hotline_pid(h.dir.path());
    let limited = std::process::Command::new("prlimit")
        .args(["--pid", &pid.to_string(), "--fsize=98304:98304"])
        .status()
        .unwrap();
    assert!(limited.success(), "prlimit failed");

    let customer_rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let caller = customer(&h, &customer_rtp, 8000);
    let talk = converse(&h, &agent, customer_rtp);
    let started = h.wait_type("recording.started", Duration::from_secs(20));
    let call = started["call_id"].as_str().unwrap().to_string();
    let failed = h.wait_event("recording.failed", Duration::from_secs(15), |e| {
        e["type"] == "recording.failed" && e["call_id"] == call.as_str()
    });
    assert_eq!(failed["stage"], "write");
    assert_eq!(failed["file"], started["file"]);
    let written = failed["duration_ms"].as_u64().unwrap();
    assert!((1000..6000).contains(&written), "{failed}");

    // The conversation goes on: the customer's audio still reaches the agent.
    // What was queued on the agent's socket before the failure is left aside.
    let mut buf = [0u8; 2048];
    agent.rtp.set_nonblocking(true).unwrap();
    while agent.rtp.recv_from(&mut buf).is_ok() {}
    agent.rtp.set_nonblocking(false).unwrap();
    agent
        .rtp
        .set_read_timeout(Some(Duration::from_millis(20)))
        .unwrap();
    let until = Instant::now() + Duration::from_millis(1000);
    let mut relayed = 0;
    while Instant::now() < until {
        if let Ok((n, _)) = agent.rtp.recv_from(&mut buf) {
            if rtp::parse(&buf[..n]).is_some_and(|p| p.pt == 0) {
                relayed += 1;
            }
        }
    }
    assert!(
        relayed >= 40,
        "only {relayed} packets reached the agent after the failure"
    );

    let refused = control(&h, &call, "pause");
    assert_eq!(refused.status, 409, "{}", refused.body);
    assert!(
        refused.body.contains("the recording is failed"),
        "{}",
        refused.body
    );

    let ended = h.wait_event("call.ended", Duration::from_secs(20), |e| {
        e["type"] == "call.ended" && e["call_id"] == call.as_str()
    });
    caller.wait(Duration::from_secs(10)).assert_ok("customer");
    talk.customer.stop();
    talk.agent.stop();
    assert_eq!(ended["reason"], "completed");
    assert_eq!(ended["hung_up_by"], "caller");
    assert!(
        (ts(&ended) - ts(&failed)).whole_milliseconds() > 2000,
        "the call ended right after the failure"
    );
    let events = h.events();
    assert!(of_call(&events, &call, "recording.completed").is_empty());
    let metrics = http::get(h.http, "/metrics", None).unwrap().body;
    assert!(
        metrics.contains("hotline_recordings_total{outcome=\"failed\"} 1"),
        "{metrics}"
    );
    assert!(h.log().contains("recording failed; the call goes on"));
    assert!(!h.log().contains("the writer fell behind"), "{}", h.log());
    let list = http::get(h.http, "/api/v1/recordings", Some(TOKEN)).unwrap();
    assert_eq!(list.body, r#"{"recordings":[]}"#);
    let _ = agent.finish(Duration::from_millis(100));
}

#[test]
fn retention_deletes_old_recordings_and_the_start_repairs_an_open_wav() {
    use hotline_recording::storage::RecordingPaths;
    use hotline_recording::wav::WavWriter;

    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("recordings");
    let now = OffsetDateTime::now_utc();
    // A finished recording per age: 100 days (past support's 90) and 1 day.
    let mut finished = Vec::new();
    for (n, days) in [(1u128, 100i64), (2, 1)] {
        let call = uuid::Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0000_0000 + n);
        let started = now - time::Duration::days(days);
        let paths = RecordingPaths::new(&root, call, started);
        paths.create_dir().unwrap();
        let mut w = WavWriter::create(&paths.wav, 2).unwrap();
        w.write_stereo(&[[1, 2]; 800]).unwrap();
        w.finish().unwrap();
        let sidecar = serde_json::json!({
            "version": 1, "call_id": call, "direction": "inbound", "queue": "support",
            "agent": "1001", "started_at": started.format(&Rfc3339).unwrap(),
            "ended_at": started.format(&Rfc3339).unwrap(), "pauses": [],
            "consent": "not_asked", "sample_rate": 8000, "channels": 2, "duration_ms": 100,
            "audio_file": format!("{call}.wav"), "sha256": "00",
        });
        std::fs::write(&paths.sidecar, sidecar.to_string()).unwrap();
        finished.push((call, paths));
    }
    // A recording a crash left open: its header says no audio.
    let open = RecordingPaths::new(&root, uuid::Uuid::from_u128(3), now);
    open.create_dir().unwrap();
    let mut w = WavWriter::create(&open.wav, 2).unwrap();
    w.write_stereo(&[[3, 4]; 1600]).unwrap();
    drop(w);

    let sip: SocketAddr = format!("127.0.0.1:{}", support::free_port())
        .parse()
        .unwrap();
    let http_addr: SocketAddr = format!("127.0.0.1:{}", support::free_port())
        .parse()
        .unwrap();
    let h = Hotline::start_in(dir, sip, http_addr, Options::default());
    let (old, old_paths) = &finished[0];
    let (recent, recent_paths) = &finished[1];
    let deleted = h.wait_type("recording.deleted", Duration::from_secs(10));
    assert_eq!(deleted["call_id"], old.to_string());
    assert_eq!(deleted["queue"], "support");
    assert!(deleted["age_days"].as_u64().unwrap() >= 99, "{deleted}");
    assert!(!old_paths.wav.exists() && !old_paths.sidecar.exists());
    assert!(recent_paths.wav.exists() && recent_paths.sidecar.exists());
    let list: Value = serde_json::from_str(
        &http::get(h.http, "/api/v1/recordings", Some(TOKEN))
            .unwrap()
            .body,
    )
    .unwrap();
    let ids: Vec<&str> = list["recordings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["call_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![recent.to_string()]);
    assert_eq!(
        http::get(h.http, &format!("/api/v1/recordings/{old}"), Some(TOKEN))
            .unwrap()
            .status,
        404
    );
    let repaired = hound::WavReader::open(&open.wav).unwrap();
    assert_eq!(repaired.duration(), 1600);
    assert!(h.log().contains("recording left open by a crash repaired"));
}

#[test]
fn on_demand_recording_starts_and_stops_through_the_api_with_a_mono_mix_and_redacted_numbers() {
    let h = Hotline::start(Options {
        config_edits: vec![(
            "recording: { policy: always, retention_days: 90 }",
            "recording: { policy: on_demand, mono_mix: true, redact_numbers: { keep_last: 2 } }",
        )],
        ..Options::default()
    });
    let agent = SippAgent::start(
        &h,
        AgentSetup {
            hold_ms: 30_000,
            ..AgentSetup::default()
        },
    );
    let customer_rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let caller = customer(&h, &customer_rtp, 5000);
    let talk = converse(&h, &agent, customer_rtp);
    let answered = h.wait_type("call.answered", Duration::from_secs(20));
    let call = answered["call_id"].as_str().unwrap().to_string();

    // Not recorded until asked; then recorded for about 1.5 s, stopped while the call goes on.
    // The call is answered a moment before it is bridged.
    let mut state = control(&h, &call, "pause");
    support::poll_until(Duration::from_secs(5), || {
        state = control(&h, &call, "pause");
        state.status != 404
    });
    assert_eq!(state.status, 409, "{}", state.body);
    assert!(
        state.body.contains("the recording is off: cannot pause"),
        "{}",
        state.body
    );
    std::thread::sleep(Duration::from_millis(500));
    let start = control(&h, &call, "start");
    assert_eq!(start.status, 200, "{}", start.body);
    let started = h.wait_type("recording.started", Duration::from_secs(5));
    assert_eq!(started["reason"], "on_demand");
    std::thread::sleep(Duration::from_millis(1500));
    let stop = control(&h, &call, "stop");
    assert_eq!(stop.status, 200, "{}", stop.body);
    assert!(stop.body.contains("\"stopped\""), "{}", stop.body);
    assert_eq!(control(&h, &call, "start").status, 409);
    let completed = h.wait_type("recording.completed", Duration::from_secs(5));
    let ended = h.wait_event("call.ended", Duration::from_secs(20), |e| {
        e["type"] == "call.ended" && e["call_id"] == call.as_str()
    });
    caller.wait(Duration::from_secs(10)).assert_ok("customer");
    talk.customer.stop();
    talk.agent.stop();
    assert!(ts(&ended) > ts(&completed), "the stop did not end the call");
    assert_eq!(ended["reason"], "completed");

    let duration_ms = completed["duration_ms"].as_i64().unwrap();
    let asked = (ts(&completed) - ts(&started)).whole_milliseconds() as i64;
    assert!(
        (duration_ms - asked).abs() <= 100 && (1400..2000).contains(&duration_ms),
        "recorded {duration_ms} ms between a start and a stop {asked} ms apart"
    );
    // The customer is 5551234: only the last two digits are kept.
    assert_eq!(completed["customer_number"], "*****34");
    let wav = h
        .dir
        .path()
        .join("recordings")
        .join(completed["file"].as_str().unwrap());
    let sidecar: Value =
        serde_json::from_str(&std::fs::read_to_string(wav.with_extension("json")).unwrap())
            .unwrap();
    assert_eq!(sidecar["customer_number"], "*****34");
    let stereo = hound::WavReader::open(&wav).unwrap();
    let mut mono = hound::WavReader::open(wav.with_extension("mono.wav")).unwrap();
    assert_eq!(mono.spec().channels, 1);
    assert_eq!(mono.duration(), stereo.duration());
    // The mix carries both tones.
    let mixed: Vec<i16> = mono.samples::<i16>().map(Result::unwrap).collect();
    let middle = &mixed[mixed.len() / 2..mixed.len() / 2 + 800];
    assert!(goertzel(middle, 440.0) > 1e9 && goertzel(middle, 1000.0) > 1e9);
    let _ = agent.finish(Duration::from_millis(100));
}

#[test]
fn a_shutdown_during_a_recorded_call_still_finishes_the_recording() {
    let mut h = Hotline::start(Options {
        grace_period: 1,
        ..Options::default()
    });
    let agent = SippAgent::start(
        &h,
        AgentSetup {
            hold_ms: 30_000,
            ..AgentSetup::default()
        },
    );
    let customer_rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let caller = customer(&h, &customer_rtp, 20_000);
    let talk = converse(&h, &agent, customer_rtp);
    let started = h.wait_type("recording.started", Duration::from_secs(20));
    let call = started["call_id"].as_str().unwrap().to_string();
    std::thread::sleep(Duration::from_millis(1000));
    h.terminate();
    assert!(
        h.wait_exit(Duration::from_secs(15)).is_some(),
        "hotline did not stop"
    );
    talk.customer.stop();
    talk.agent.stop();
    let _ = caller.wait(Duration::from_millis(100));
    let _ = agent.finish(Duration::from_millis(100));

    let events = h.events();
    let ended = of_call(&events, &call, "call.ended");
    assert_eq!(ended[0]["reason"], "shutdown");
    let completed = of_call(&events, &call, "recording.completed");
    assert_eq!(completed.len(), 1, "no recording.completed before the exit");
    let wav = h
        .dir
        .path()
        .join("recordings")
        .join(completed[0]["file"].as_str().unwrap());
    let reader = hound::WavReader::open(&wav).unwrap();
    let duration_ms = completed[0]["duration_ms"].as_u64().unwrap();
    assert_eq!(u64::from(reader.duration()) / 8, duration_ms);
    assert!(duration_ms >= 1900, "{duration_ms} ms");
    let sidecar = std::fs::read_to_string(wav.with_extension("json")).unwrap();
    assert!(sidecar.contains(&sha256_hex(&std::fs::read(&wav).unwrap())));
}

#[test]
fn channels_stay_aligned_through_loss_reordering_silence_suppression_and_clock_drift() {
    let h = Hotline::start(Options::default());
    let agent = SippAgent::start(
        &h,
        AgentSetup {
            hold_ms: 30_000,
            ..AgentSetup::default()
        },
    );
    let customer_rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let caller = customer(&h, &customer_rtp, 7000);
    // Both sides sound in the first half of each second of the same clock: the customer with
    // silence suppression, the agent with loss, reordering and a clock 0.1% fast.
    let epoch = Instant::now();
    let hotline_customer = first_source(&customer_rtp, Duration::from_secs(10));
    let customer_talk = Talker::impaired(
        customer_rtp,
        hotline_customer,
        440.0,
        0x0440_0440,
        Impair {
            gate: Some(epoch),
            suppress_silence: true,
            ..Impair::default()
        },
    );
    let hotline_agent = agent.hotline_rtp(Duration::from_secs(20));
    let agent_talk = Talker::impaired(
        agent.rtp.try_clone().unwrap(),
        hotline_agent,
        1000.0,
        0x1000_1000,
        Impair {
            gate: Some(epoch),
            lose_every: 17,
            swap_every: 7,
            drift_ppm: 1000,
            ..Impair::default()
        },
    );
    let started = h.wait_type("recording.started", Duration::from_secs(20));
    let call = started["call_id"].as_str().unwrap().to_string();
    let completed = h.wait_event("recording.completed", Duration::from_secs(20), |e| {
        e["type"] == "recording.completed" && e["call_id"] == call.as_str()
    });
    caller.wait(Duration::from_secs(10)).assert_ok("customer");
    customer_talk.stop();
    agent_talk.stop();
    let _ = agent.finish(Duration::from_millis(100));

    let wav = h
        .dir
        .path()
        .join("recordings")
        .join(completed["file"].as_str().unwrap());
    let mut reader = hound::WavReader::open(&wav).unwrap();
    let samples: Vec<i16> = reader.samples::<i16>().map(Result::unwrap).collect();
    let (left, right) = split_stereo(&samples);
    let (l, r) = (onsets(&left), onsets(&right));
    assert!(l.len() >= 5, "customer onsets {l:?}");
    assert_eq!(l.len(), r.len(), "customer {l:?} agent {r:?}");
    for (a, b) in l.iter().zip(&r) {
        let apart_ms = (*a as i64 - *b as i64).abs() / 8;
        assert!(
            apart_ms <= 30,
            "onsets {apart_ms} ms apart: customer {l:?} agent {r:?}"
        );
    }
}
