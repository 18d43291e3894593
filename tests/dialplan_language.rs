//! Number 95500 of the bundled dialplan end to end with SIPp: a VIP caller and an ordinary one
//! press 1 (RFC 4733 pcap) for Mandarin, then 2 in the menu of services and wait in billing, the VIP first at priority
//! 10; a blacklisted caller hears a short prompt and gets a BYE with Q.850 cause 21 (rejected).
//! A collect node on a real call: `1`, `2`, `#` typed one by one choose the queue and priority.
//! A `hangup` cause before answer is the final response, with its Q.850 `Reason`. A `set` language
//! plays prompts from that language's folder, the default language's where the folder lacks one.
//! A caller a queue lets go (max wait) comes back into the dialplan at the queue node's `exit`.

#![allow(clippy::unwrap_used)]

mod support;

use std::time::Duration;

use serde_json::Value;
use support::http::get;
use support::sipp::Sipp;
use support::uac::Uac;
use support::{poll_until, root, Hotline, Options};

const TOKEN: &str = "hotline-demo-token";

/// The bundled dialplan with the service line open around the clock, so the test does not depend
/// on the hour or the date it runs at (the schedules themselves are tested on virtual time).
fn always_open() -> String {
    let bundled = std::fs::read_to_string(root().join("dialplans/default.yaml")).unwrap();
    let edits = [
        (
            "      mon-fri: \"09:00-18:00\"\n      sat: \"09:00-12:00\"\n",
            "      daily: \"00:00-24:00\"\n",
        ),
        (
            "holidays: [\"2026-10-01..2026-10-07\", \"2027-01-01\"]",
            "holidays: []",
        ),
        ("\"2026-12-31\": \"09:00-15:00\"", "\"2000-01-01\": closed"),
    ];
    edits.iter().fold(bundled, |text, (from, to)| {
        assert!(text.contains(from), "bundled dialplan changed: {from:?}");
        text.replace(from, to)
    })
}

/// The billing queue's entries as `GET /api/v1/queues` shows them, in line order.
fn billing_entries(h: &Hotline) -> Vec<Value> {
    let r = get(h.http, "/api/v1/queues", Some(TOKEN)).unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    let all: Value = serde_json::from_str(&r.body).unwrap();
    let billing = all
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["name"] == "billing")
        .cloned()
        .unwrap();
    billing["entries"].as_array().cloned().unwrap_or_default()
}

/// A caller who chooses Mandarin (1) in the language menu, then `digit` in the menu of services
/// (a third key, `#`, falls into the queue, where nothing listens). The same key twice in a row
/// would repeat the pcap's RTP timestamp and read as one long press.
fn caller(h: &Hotline, from: &str, digit: u8) -> Sipp {
    Sipp::new("caller_digits.xml", h.sip)
        .var("from", from)
        .var("key1", 1)
        .var("key2", digit)
        .var("key3", "pound")
        .var("talk_ms", 6000)
        .key("caller_pt", 0)
        .args(&["-s", "95500", "-m", "1"])
}

#[test]
fn vip_callers_wait_first_and_the_blacklist_is_refused() {
    let h = Hotline::start_with_dialplan(Options::default(), &always_open());

    // An ordinary caller first, then a VIP (listed as +8613900000002, calling in national form).
    let ordinary = caller(&h, "13700000000", 2).spawn();
    let found = poll_until(Duration::from_secs(10), || billing_entries(&h).len() == 1);
    assert!(found, "the first caller never reached billing\n{}", h.log());
    let vip = caller(&h, "013900000002", 2).spawn();

    let mut entries = Vec::new();
    let found = poll_until(Duration::from_secs(10), || {
        entries = billing_entries(&h);
        entries.len() == 2
    });
    assert!(found, "billing entries: {entries:?}\n{}", h.log());
    let priorities: Vec<&Value> = entries.iter().map(|e| &e["priority"]).collect();
    // The VIP is served first at the priority the dialplan set; the other keeps billing's own.
    assert_eq!(
        priorities,
        [&Value::from(10), &Value::from(1)],
        "{entries:?}"
    );

    // Both callers chose Mandarin, then billing in the menu of services.
    let digits: Vec<Value> = h
        .events()
        .into_iter()
        .filter(|e| e["type"] == "ivr.digit")
        .collect();
    let keys: Vec<(&Value, &Value)> = digits
        .iter()
        .map(|d| (&d["dialplan_node"], &d["digit"]))
        .collect();
    let (language, services) = (Value::from("language"), Value::from("services"));
    let (one, two) = (Value::from("1"), Value::from("2"));
    assert_eq!(
        keys,
        [(&language, &one), (&services, &two)].repeat(2),
        "{digits:?}"
    );
    // The menu of services played from the Mandarin folder.
    let services_prompt = h
        .events()
        .into_iter()
        .find(|e| e["type"] == "ivr.prompt" && e["prompt"] == "services")
        .unwrap();
    assert_eq!(services_prompt["language"], "zh-CN", "{services_prompt}");

    // A blacklisted caller, in yet another form of the listed number: BYE with cause 21.
    let refused = Sipp::new("caller_refused.xml", h.sip)
        .var("from", "01060000000")
        .var("cause", 21)
        .key("caller_pt", 0)
        .args(&["-s", "95500", "-m", "1"])
        .run(Duration::from_secs(20));
    refused.assert_ok("blacklisted caller");

    ordinary
        .wait(Duration::from_secs(20))
        .assert_ok("ordinary caller");
    vip.wait(Duration::from_secs(20)).assert_ok("VIP caller");
}

/// A collect node on a real call: digits typed one by one, ended by `#`, into a variable a branch
/// reads; the code `12` is served at priority 7 in billing, anything else goes to support.
const COLLECT_PLAN: &str = r##"version: 1
numbers:
  "300":
    start: ask
    nodes:
      ask:
        collect:
          prompt: please_hold
          max_digits: 4
          terminator: "#"
          inter_digit_timeout: 3s
          into: code
        next: route
      route:
        branch:
          - when: { var: { name: code, equals: "12" } }
            goto: priority
        otherwise: plain
      priority: { set: { priority: 7 }, next: to_billing }
      to_billing: { queue: billing }
      plain: { queue: support }
"##;

#[test]
fn collected_digits_pick_the_queue_and_priority() {
    let h = Hotline::start_with_dialplan(Options::default(), COLLECT_PLAN);
    let typed = Sipp::new("caller_digits.xml", h.sip)
        .var("from", "13700000000")
        .var("key1", 1)
        .var("key2", 2)
        .var("key3", "pound")
        .var("talk_ms", 3000)
        .key("caller_pt", 0)
        .args(&["-s", "300", "-m", "1"])
        .spawn();
    let mut entries = Vec::new();
    let found = poll_until(Duration::from_secs(10), || {
        entries = billing_entries(&h);
        entries.len() == 1
    });
    assert!(found, "billing entries: {entries:?}\n{}", h.log());
    assert_eq!(entries[0]["priority"], 7, "{entries:?}");
    typed
        .wait(Duration::from_secs(20))
        .assert_ok("caller typing 12#");
}

#[test]
fn a_hangup_cause_before_answer_is_the_final_response() {
    let plan = "version: 1\nnumbers:\n  \"400\":\n    start: busy\n    nodes:\n      busy: { hangup: busy }\n  \"404\":\n    start: gone\n    nodes:\n      gone: { hangup: not_found }\n";
    let h = Hotline::start_with_dialplan(Options::default(), plan);
    for (number, status, cause) in [("400", 486, 17), ("404", 404, 1)] {
        let mut uac = Uac::new(h.sip, number);
        let resp = uac.invite(None, None);
        assert_eq!(resp.status(), Some(status), "{}", resp.start);
        let reason = resp.header("reason").unwrap_or_default();
        assert!(
            reason.starts_with(&format!("Q.850;cause={cause};")),
            "number {number}: Reason {reason:?}"
        );
    }
}

/// 8 kHz mono 16-bit PCM WAV of `millis` of silence.
fn silence_wav(millis: u32) -> Vec<u8> {
    let data_len = 8 * millis * 2;
    let mut wav = Vec::new();
    wav.extend_from_slice(b"RIFF");
    wav.extend_from_slice(&(36 + data_len).to_le_bytes());
    wav.extend_from_slice(b"WAVEfmt ");
    wav.extend_from_slice(&16u32.to_le_bytes());
    wav.extend_from_slice(&1u16.to_le_bytes()); // PCM
    wav.extend_from_slice(&1u16.to_le_bytes()); // mono
    wav.extend_from_slice(&8000u32.to_le_bytes());
    wav.extend_from_slice(&16000u32.to_le_bytes());
    wav.extend_from_slice(&2u16.to_le_bytes());
    wav.extend_from_slice(&16u16.to_le_bytes());
    wav.extend_from_slice(b"data");
    wav.extend_from_slice(&data_len.to_le_bytes());
    wav.resize(wav.len() + data_len as usize, 0);
    wav
}

#[test]
fn a_set_language_plays_that_prompt_folder_and_falls_back_to_the_default() {
    // A prompts folder with the bundled English prompts and a French greeting of 300 ms (the
    // English one lasts about 6 s): how long the greeting takes tells which one played.
    let prompts = tempfile::tempdir().unwrap();
    let en = prompts.path().join("en");
    std::fs::create_dir_all(&en).unwrap();
    for entry in std::fs::read_dir(root().join("prompts/en")).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, en.join(path.file_name().unwrap())).unwrap();
    }
    std::fs::create_dir_all(prompts.path().join("fr")).unwrap();
    std::fs::write(prompts.path().join("fr/greeting.wav"), silence_wav(300)).unwrap();
    let from: &'static str =
        Box::leak(format!("dir: {}", root().join("prompts").display()).into_boxed_str());
    let to: &'static str = Box::leak(format!("dir: {}", prompts.path().display()).into_boxed_str());
    let plan = "version: 1\nnumbers:\n  \"500\":\n    start: lang\n    nodes:\n      lang: { set: { language: fr }, next: hello }\n      hello: { play: greeting, next: q }\n      q: { queue: support }\n  \"501\":\n    start: lang\n    nodes:\n      lang: { set: { language: de }, next: hello }\n      hello: { play: greeting, next: q }\n      q: { queue: support }\n";
    let h = Hotline::start_with_dialplan(
        Options {
            config_edits: vec![(from, to)],
            ..Options::default()
        },
        plan,
    );
    let rtp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let sdp = format!(
        "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio {} RTP/AVP 0\r\n",
        rtp.local_addr().unwrap().port()
    );
    let queued = |count: usize| {
        poll_until(Duration::from_secs(15), || {
            h.events()
                .iter()
                .filter(|e| e["type"] == "call.queued")
                .count()
                == count
        })
    };

    // French: the 300 ms greeting, then the queue.
    let mut french = Uac::new(h.sip, "500");
    assert_eq!(french.invite(Some(&sdp), None).status(), Some(200));
    let answered = std::time::Instant::now();
    assert!(queued(1), "no queue after the French greeting\n{}", h.log());
    let french_greeting = answered.elapsed();
    assert!(
        french_greeting < Duration::from_secs(3),
        "the French greeting took {french_greeting:?}: the English one played"
    );

    // German has no folder: the English greeting plays instead of silence.
    let mut german = Uac::new(h.sip, "501");
    assert_eq!(german.invite(Some(&sdp), None).status(), Some(200));
    let answered = std::time::Instant::now();
    assert!(
        queued(2),
        "no queue after the fallback greeting\n{}",
        h.log()
    );
    let fallback = answered.elapsed();
    assert!(
        fallback > Duration::from_secs(4),
        "the fallback greeting took only {fallback:?}"
    );
    french.bye();
    german.bye();
}

#[test]
fn a_caller_the_queue_lets_go_comes_back_to_the_queue_node_exit() {
    let plan = "version: 1\nnumbers:\n  \"600\":\n    start: q\n    nodes:\n      q: { queue: { name: support, max_wait: 2s, exit: sorry } }\n      sorry: { play: goodbye, next: bye }\n      bye: { hangup: true }\n";
    let h = Hotline::start_with_dialplan(Options::default(), plan);
    let rtp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let sdp = format!(
        "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio {} RTP/AVP 0\r\n",
        rtp.local_addr().unwrap().port()
    );
    let mut uac = Uac::new(h.sip, "600");
    assert_eq!(uac.invite(Some(&sdp), None).status(), Some(200));
    // No agent is ready: after 2 s the queue lets the caller go, the goodbye plays, then the
    // dialplan hangs up (not the queue).
    let ended = h.wait_type("call.ended", Duration::from_secs(15));
    assert_eq!(ended["reason"], "dialplan_finished", "{ended}");
    assert_eq!(ended["hung_up_by"], "system", "{ended}");
    let got_bye = poll_until(Duration::from_secs(5), || {
        uac.recv(Duration::from_millis(100));
        uac.byes > 0
    });
    assert!(got_bye, "no BYE after the exit node\n{}", h.log());
}
