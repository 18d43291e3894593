//! The callback offer in the queue on real calls. Queue `support` offers a callback after 2 s
//! (`callback_offer: 2s`) and its only agent is not ready. Caller A (an identified number) waits,
//! caller B joins behind; A hears `callback_offer` (ivr.prompt and RTP on A's socket), presses 1
//! (an RFC 4733 pcap), and the entry becomes a callback to A's number in E.164 keeping A's
//! original entry time, ahead of B in the queue's entries; A hears `callback_accepted` and
//! hotline hangs up (`call.ended` reason `callback_requested`, no `call.abandoned`, the KPIs
//! count no abandon). When the agent becomes ready, the callback is due for A before B is ever
//! offered; with no outbound dialing the agent is released at once (`callback.failed`,
//! not_dialed) and serves B. An anonymous caller is asked for the number, types it with #, hears it read
//! back, confirms with 1 and is called back on the E.164 of what they typed. In a queue with
//! announcements the offer waits for the announcement to end, and an announcement for the offer.

#![allow(clippy::unwrap_used)]

mod support;

use std::net::UdpSocket;
use std::time::{Duration, Instant};

use hotline_events::Timestamp;
use serde_json::Value;
use support::agent::{AgentSetup, SippAgent};
use support::http::{get, post};
use support::sipp::Sipp;
use support::{call_event_types, poll_until, Hotline, Options};

const TOKEN: &str = "hotline-demo-token";

const PLAN: &str = r#"version: 1
numbers:
  "800":
    start: wait
    nodes:
      wait: { queue: support }
"#;

/// `support` offers a callback after 2 s of waiting.
fn options() -> Options {
    Options {
        config_edits: vec![(
            "    strategy: longest_idle\n",
            "    strategy: longest_idle\n    callback_offer: 2s\n",
        )],
        ..Options::default()
    }
}

/// Unix milliseconds of an event's timestamp field.
fn millis(v: &Value) -> i128 {
    serde_json::from_value::<Timestamp>(v.clone())
        .unwrap_or_else(|e| panic!("{v}: {e}"))
        .unix_millis()
}

/// `callback.converted` carries the entry's original time: its age then (the event's `ts` less
/// `entered_at`) is at least `min` and at most `max`.
fn assert_callback_age(converted: &Value, min: Duration, max: Duration) {
    let age = millis(&converted["ts"]) - millis(&converted["entered_at"]);
    let (min, max) = (
        i128::try_from(min.as_millis()).unwrap(),
        i128::try_from(max.as_millis()).unwrap(),
    );
    assert!(
        (min..=max).contains(&age),
        "age {age} ms not in {min}..={max}: {converted}"
    );
}

/// The `support` queue's entries as `GET /api/v1/queues` shows them.
fn support_entries(h: &Hotline) -> Vec<Value> {
    let r = get(h.http, "/api/v1/queues", Some(TOKEN)).unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    let all: Value = serde_json::from_str(&r.body).unwrap();
    all.as_array()
        .unwrap()
        .iter()
        .find(|q| q["name"] == "support")
        .map(|q| q["entries"].as_array().cloned().unwrap_or_default())
        .unwrap_or_default()
}

/// The queue `support` over the last 15 minutes in `/api/v1/kpis`.
fn support_kpis(h: &Hotline) -> Value {
    let r = get(h.http, "/api/v1/kpis", Some(TOKEN)).unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    let snap: Value = serde_json::from_str(&r.body).unwrap();
    snap["queues"]["support"]["windows"]
        .as_array()
        .unwrap_or_else(|| panic!("no queue support: {snap}"))
        .iter()
        .find(|w| w["window"]["kind"] == "rolling" && w["window"]["seconds"] == 900)
        .map(|w| w["kpis"].clone())
        .unwrap()
}

fn set_state(h: &Hotline, agent: &str, body: &str) {
    let path = format!("/api/v1/agents/{agent}/state");
    let r = post(h.http, &path, Some(TOKEN), body).unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
}

/// Counts RTP packets arriving on `socket` until `until`.
fn rtp_packets(socket: &UdpSocket, until: Instant) -> usize {
    let mut buf = [0u8; 2048];
    let mut n = 0;
    while Instant::now() < until {
        if socket.recv(&mut buf).is_ok() {
            n += 1;
        }
    }
    n
}

#[test]
fn a_waiting_caller_presses_1_and_keeps_their_place_as_a_callback() {
    let h = Hotline::start_with_dialplan(options(), PLAN);
    let agent = SippAgent::start(
        &h,
        AgentSetup {
            id: "1001",
            hold_ms: 60_000,
            ..AgentSetup::default()
        },
    );
    set_state(&h, "1001", r#"{"state":"not_ready","reason":"meeting"}"#);
    h.wait_agent_state("1001", "not_ready", Duration::from_secs(5));

    // A presses 1 four seconds after the answer: the offer (after 2 s) is playing then.
    let a_dialed = Instant::now();
    let a = Sipp::new("caller_survey.xml", h.sip)
        .var("press_ms", 4_000)
        .var("key", 1)
        .var("bye_ms", 20_000)
        .args(&["-s", "800", "-m", "1"])
        .spawn();
    let a_queued = h.wait_type("call.queued", Duration::from_secs(10));
    let a_call = a_queued["call_id"].as_str().unwrap().to_owned();

    let b_rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
    b_rtp
        .set_read_timeout(Some(Duration::from_millis(50)))
        .unwrap();
    let b = Sipp::new("caller_wait.xml", h.sip)
        .var("wait_ms", 25_000)
        .key("caller_rtp_port", b_rtp.local_addr().unwrap().port())
        .args(&["-s", "800", "-m", "1"])
        .spawn();
    let b_queued = h.wait_event("B queued", Duration::from_secs(10), |e| {
        e["type"] == "call.queued" && e["call_id"] != a_call.as_str()
    });
    let b_call = b_queued["call_id"].as_str().unwrap().to_owned();
    assert_eq!(b_queued["position"], 2, "{b_queued}");

    // B hears the offer too, on its RTP socket: the music pauses for the prompt, which plays.
    let b_offer = h.wait_event("B's offer prompt", Duration::from_secs(10), |e| {
        e["type"] == "ivr.prompt"
            && e["call_id"] == b_call.as_str()
            && e["prompt"] == "callback_offer"
    });
    assert_eq!(b_offer["language"], "en", "{b_offer}");
    let heard = rtp_packets(&b_rtp, Instant::now() + Duration::from_millis(500));
    assert!(
        heard >= 15,
        "B got {heard} RTP packets in 500 ms of the offer"
    );

    let offered = h.wait_event("A's offer", Duration::from_secs(1), |e| {
        e["type"] == "callback.offered" && e["call_id"] == a_call.as_str()
    });
    assert!(offered["wait_ms"].as_u64().unwrap() >= 2_000, "{offered}");
    let accepted = h.wait_event("A accepts", Duration::from_secs(15), |e| {
        e["type"] == "callback.accepted" && e["call_id"] == a_call.as_str()
    });
    assert_eq!(accepted["number_entered"], false, "{accepted}");
    let converted = h.wait_event("A's callback", Duration::from_secs(5), |e| {
        e["type"] == "callback.converted" && e["call_id"] == a_call.as_str()
    });
    assert_eq!(converted["number"], "+8613800000000", "{converted}");
    assert_eq!(converted["note"], "in-queue offer", "{converted}");
    assert_eq!(converted["queue"], "support", "{converted}");
    // The original entry time: the entry's age when converted (`ts - entered_at`, both read
    // from the wall clock at the conversion) covers A's wait since being queued, at least the
    // 4 s before the key, and no more than the test saw pass since A dialed.
    assert_callback_age(&converted, Duration::from_secs(3), a_dialed.elapsed());

    // The queue shows A's callback ahead of B, with A's age.
    let entries = support_entries(&h);
    let order: Vec<(&str, &str)> = entries
        .iter()
        .map(|e| (e["call_id"].as_str().unwrap(), e["kind"].as_str().unwrap()))
        .collect();
    assert_eq!(
        order,
        [(a_call.as_str(), "callback"), (b_call.as_str(), "call")],
        "{entries:?}"
    );
    assert!(
        entries[0]["wait_ms"].as_u64() >= entries[1]["wait_ms"].as_u64(),
        "{entries:?}"
    );

    // A heard the thanks, then hotline hung up.
    let ended = h.wait_event("A's end", Duration::from_secs(15), |e| {
        e["type"] == "call.ended" && e["call_id"] == a_call.as_str()
    });
    assert_eq!(ended["reason"], "callback_requested", "{ended}");
    assert_eq!(ended["hung_up_by"], "system", "{ended}");
    a.wait(Duration::from_secs(10))
        .assert_ok("caller A (hung up by hotline after the thanks)");
    let events = h.events();
    let prompts: Vec<&str> = events
        .iter()
        .filter(|e| e["type"] == "ivr.prompt" && e["call_id"] == a_call.as_str())
        .map(|e| e["prompt"].as_str().unwrap())
        .collect();
    assert_eq!(
        prompts,
        ["callback_offer", "callback_accepted"],
        "{prompts:?}"
    );
    let types = call_event_types(&events, &a_call);
    assert!(!types.iter().any(|t| t == "call.abandoned"), "{types:?}");

    // The agent is ready: A's callback is due first (A kept its place ahead of B). Without
    // outbound dialing the agent is released at once (`callback.failed`, not_dialed; the
    // callback waits for its retry) and then serves B.
    set_state(&h, "1001", r#"{"state":"ready"}"#);
    let due = h.wait_event("A's callback due", Duration::from_secs(10), |e| {
        e["type"] == "callback.due"
    });
    assert_eq!(due["call_id"], a_call.as_str(), "{due}");
    assert_eq!(due["agent_id"], "1001", "{due}");
    assert_eq!(due["attempt"], 1, "{due}");
    let released = h.wait_event("A's callback released", Duration::from_secs(10), |e| {
        e["type"] == "callback.failed" && e["call_id"] == a_call.as_str()
    });
    assert_eq!(released["cause"], "not_dialed", "{released}");
    assert_eq!(released["agent_id"], "1001", "{released}");
    h.wait_event("B offered", Duration::from_secs(10), |e| {
        e["type"] == "call.offered" && e["call_id"] == b_call.as_str()
    });
    let events = h.events();
    let position = |pred: &dyn Fn(&Value) -> bool| events.iter().position(pred).unwrap();
    let due_at = position(&|e| e["type"] == "callback.due" && e["call_id"] == a_call.as_str());
    let b_offered_at =
        position(&|e| e["type"] == "call.offered" && e["call_id"] == b_call.as_str());
    assert!(due_at < b_offered_at, "B was offered before A's callback");

    // B talks to the agent, then hangs up: the queue counts two calls offered, one answered
    // (B's) and no abandon (A's entry became a callback).
    b.wait(Duration::from_secs(40)).assert_ok("caller B");
    let mut kpis = Value::Null;
    let counted = poll_until(Duration::from_secs(10), || {
        kpis = support_kpis(&h);
        kpis["answered"] == 1
    });
    assert!(counted, "{kpis}");
    assert_eq!(kpis["offered"], 2, "{kpis}");
    assert_eq!(kpis["abandoned"], 0, "{kpis}");
    drop(agent);
}

#[test]
fn an_anonymous_caller_types_the_number_to_call_back_and_confirms_it() {
    let h = Hotline::start_with_dialplan(options(), PLAN);
    // 1 at 4 s (the offer plays), the number 1.5 s later over the question, 1 three seconds
    // after the # while the number is read back.
    let dialed = Instant::now();
    let caller = Sipp::new("caller_callback_number.xml", h.sip)
        .var("press_ms", 4_000)
        .var("type_ms", 1_500)
        .var("confirm_ms", 3_000)
        .var("bye_ms", 20_000)
        .args(&["-s", "800", "-m", "1"])
        .spawn();
    let queued = h.wait_type("call.queued", Duration::from_secs(10));
    let call = queued["call_id"].as_str().unwrap().to_owned();

    let accepted = h.wait_event("the accepted offer", Duration::from_secs(30), |e| {
        e["type"] == "callback.accepted" && e["call_id"] == call.as_str()
    });
    assert_eq!(accepted["number_entered"], true, "{accepted}");
    let converted = h.wait_event("the callback", Duration::from_secs(5), |e| {
        e["type"] == "callback.converted" && e["call_id"] == call.as_str()
    });
    assert_eq!(converted["number"], "+8623456789", "{converted}");
    assert_callback_age(&converted, Duration::from_secs(3), dialed.elapsed());
    let ended = h.wait_event("the end", Duration::from_secs(15), |e| {
        e["type"] == "call.ended" && e["call_id"] == call.as_str()
    });
    assert_eq!(ended["reason"], "callback_requested", "{ended}");
    caller
        .wait(Duration::from_secs(10))
        .assert_ok("anonymous caller (hung up by hotline)");

    let events = h.events();
    let prompts: Vec<&str> = events
        .iter()
        .filter(|e| e["type"] == "ivr.prompt" && e["call_id"] == call.as_str())
        .map(|e| e["prompt"].as_str().unwrap())
        .collect();
    let at = |p: &str| {
        prompts
            .iter()
            .position(|x| *x == p)
            .unwrap_or_else(|| panic!("{p}: {prompts:?}"))
    };
    assert_eq!(prompts[0], "callback_offer", "{prompts:?}");
    assert!(
        at("callback_number") < at("callback_entered"),
        "{prompts:?}"
    );
    // The read back starts with the first digit typed.
    assert_eq!(prompts[at("callback_entered") + 1], "num_2", "{prompts:?}");
    assert_eq!(prompts.last(), Some(&"callback_accepted"), "{prompts:?}");
    assert!(!prompts.contains(&"invalid"), "{prompts:?}");
    let entries = support_entries(&h);
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0]["kind"], "callback", "{entries:?}");
}

#[test]
fn the_offer_never_talks_over_an_announcement() {
    // Both are due 2 s after the caller joined; whichever comes first plays whole, the other
    // after it.
    let opts = Options {
        config_edits: vec![(
            "    strategy: longest_idle\n",
            "    strategy: longest_idle\n    callback_offer: 2s\n    announce: { every: 2s, position: true }\n",
        )],
        ..Options::default()
    };
    let h = Hotline::start_with_dialplan(opts, PLAN);
    let rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let caller = Sipp::new("caller_wait.xml", h.sip)
        .var("wait_ms", 12_000)
        .key("caller_rtp_port", rtp.local_addr().unwrap().port())
        .args(&["-s", "800", "-m", "1"])
        .spawn();
    let queued = h.wait_type("call.queued", Duration::from_secs(10));
    let call = queued["call_id"].as_str().unwrap().to_owned();
    let ended = h.wait_event("the caller's hang-up", Duration::from_secs(20), |e| {
        e["type"] == "call.ended" && e["call_id"] == call.as_str()
    });
    assert_eq!(ended["reason"], "abandoned", "{ended}");
    caller.wait(Duration::from_secs(5)).assert_ok("caller");

    let events = h.events();
    let prompts: Vec<&str> = events
        .iter()
        .filter(|e| e["type"] == "ivr.prompt" && e["call_id"] == call.as_str())
        .map(|e| e["prompt"].as_str().unwrap())
        .collect();
    let offers = prompts.iter().filter(|p| **p == "callback_offer").count();
    assert!(offers >= 1, "{prompts:?}");
    assert!(prompts.contains(&"position_prefix"), "{prompts:?}");
    // Every announcement is whole: prefix, number, suffix in a row, the offer never inside.
    for (i, p) in prompts.iter().enumerate() {
        if *p == "position_prefix" {
            assert!(prompts[i + 1].starts_with("num_"), "{prompts:?}");
            assert_eq!(prompts.get(i + 2), Some(&"position_suffix"), "{prompts:?}");
        }
    }
    // Without a key the offer came again, at the announcements' rhythm, at most three times.
    assert!(offers <= 3, "{prompts:?}");
}
