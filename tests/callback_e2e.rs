//! In-queue callbacks end to end on real UDP, with SIPp as the customer's phone behind the
//! trunk and as the agent's phone. Queue `support` offers a callback after 2 s and retries a
//! failed one after 2 s; its one registered agent answers every offer (PCMA); the trunk's
//! gateway is the customer's phone, which checks the number it is called on and the caller id
//! it is shown (the queue's `callback_caller_id`, else the trunk's number), plays a recording
//! once it answers and echoes what it hears.
//!
//! - A caller keeps their place: the agent is busy with C; A waits, presses 1 and hangs up; B
//!   joins later. When C's call ends the agent is reserved for A's callback before B is ever
//!   offered; the agent answers, the customer's phone is dialed through the trunk and answers;
//!   audio flows both ways; only after the callback B is offered.
//! - A busy customer is retried: the phone answers 486 first and the retry answers; the callback
//!   keeps its age across attempts.
//! - A scheduled callback created through the API and due now is dialed the same way, agent
//!   first, showing the caller id of the scheduler's queue settings, and completed within its
//!   deadline; one whose number is on the do-not-call list is given up and never reaches the
//!   customer's phone, though its deadline came first.
//! - A customer who never answers rings at least 15 s before hotline cancels: `callback.failed`
//!   no_answer, and with one attempt allowed the callback is given up.

#![allow(clippy::unwrap_used)]

#[path = "callback_e2e/api.rs"]
mod api;
#[path = "callback_e2e/peers.rs"]
mod peers;
mod support;

use std::net::{SocketAddr, UdpSocket};
use std::path::Path;
use std::time::Duration;

use hotline_events::Timestamp;
use peers::{
    agent_talks, customer_phone, gateway_of, pcap_payloads, Agent, Phone, PHONE_LIFETIME, RECORDING,
};
use serde_json::Value;
use support::http::post;
use support::sipp::Sipp;
use support::uac::Uac;
use support::{Hotline, Options};

const TOKEN: &str = "hotline-demo-token";
/// The number the trunk presents.
const FROM_NUMBER: &str = "+8675512345678";
/// The number `support`'s callbacks present when the queue sets `callback_caller_id`.
const QUEUE_CALLER_ID: &str = "+861099990000";
/// Caller A's number in E.164 (From `13800000000`, the country of the dialplan).
const CUSTOMER: &str = "+8613800000000";

const PLAN: &str = r#"version: 1
numbers:
  "800":
    start: wait
    nodes:
      wait: { queue: support }
"#;

/// `support` offers a callback after 2 s and retries after 2 s; one trunk whose gateway is
/// `gateway`.
fn options(gateway: SocketAddr) -> Options {
    options_with(gateway, "")
}

/// [`options`] with further settings of `support` (YAML lines).
fn options_with(gateway: SocketAddr, queue: &str) -> Options {
    let support: &'static str = Box::leak(
        format!(
            "    strategy: longest_idle\n    callback_offer: 2s\n    callback_retry_delay: 2s\n{queue}"
        )
        .into_boxed_str(),
    );
    let trunk = support::carrier_trunk(FROM_NUMBER, gateway, "+86XXXXXXXXXXX", "");
    Options {
        config_edits: vec![("    strategy: longest_idle\n", support), trunk],
        // Caller B sends no audio while it waits through the callback.
        rtp_timeout: "90s",
        ..Options::default()
    }
}

fn set_state(h: &Hotline, agent: &str, body: &str) {
    let path = format!("/api/v1/agents/{agent}/state");
    let r = post(h.http, &path, Some(TOKEN), body).unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
}

fn event_of(h: &Hotline, call: &str, kind: &str, secs: u64) -> Value {
    h.wait_event(kind, Duration::from_secs(secs), |e| {
        e["call_id"] == call && e["type"] == kind
    })
}

/// Unix milliseconds of an event's timestamp field.
fn millis(v: &Value) -> i128 {
    serde_json::from_value::<Timestamp>(v.clone())
        .unwrap_or_else(|e| panic!("{v}: {e}"))
        .unix_millis()
}

/// Where the first event matching `pred` is in the journal.
fn position(events: &[Value], what: &str, pred: impl Fn(&Value) -> bool) -> usize {
    events
        .iter()
        .position(pred)
        .unwrap_or_else(|| panic!("no {what} in the journal: {events:#?}"))
}

/// Caller A (`13800000000`) waits, presses 1 once the offer plays and hangs up after the thanks.
/// Returns the callback's call id and `callback.converted`.
fn caller_a_asks_for_a_callback(h: &Hotline) -> (String, Value) {
    let caller = Sipp::new("caller_survey.xml", h.sip)
        .var("press_ms", 4_000)
        .var("key", 1)
        .var("bye_ms", 20_000)
        .args(&["-s", "800", "-m", "1"])
        .spawn();
    let converted = h.wait_type("callback.converted", Duration::from_secs(15));
    assert_eq!(converted["number"], CUSTOMER, "{converted}");
    let call = converted["call_id"].as_str().unwrap().to_owned();
    let ended = event_of(h, &call, "call.ended", 15);
    assert_eq!(ended["reason"], "callback_requested", "{ended}");
    caller
        .wait(Duration::from_secs(10))
        .assert_ok("caller A (hung up by hotline after the thanks)");
    (call, converted)
}

/// Once the callback is connected: the agent talks and hears the customer's recording and its
/// own audio echoed by the customer's phone.
fn assert_audio_both_ways(agent: &Agent) {
    let recording = pcap_payloads(Path::new(RECORDING));
    assert!(recording.len() > 50, "{} distinct frames", recording.len());
    let leg = agent.leg(Duration::from_secs(5));
    let heard = agent_talks(agent, leg, &recording);
    assert!(
        heard.recording >= 30,
        "the agent heard {} 30 ms frames of the customer's recording in 1.3 s",
        heard.recording
    );
    assert!(
        heard.echoed >= 25,
        "{} of the agent's 50 packets came back from the customer's phone",
        heard.echoed
    );
}

#[test]
fn a_callback_keeps_its_place_reserves_the_agent_first_and_bridges_the_customer() {
    let phone = customer_phone(&Phone {
        number: CUSTOMER,
        caller_id: QUEUE_CALLER_ID,
        busy_calls: 0,
        calls: 1,
        talk_ms: 6_000,
    });
    let h = Hotline::start_with_dialplan(
        options_with(
            gateway_of(&phone),
            "    callback_caller_id: \"+861099990000\"\n",
        ),
        PLAN,
    );
    let phone = phone.spawn();
    let agent = Agent::start(&h, "1001");

    // C takes the only agent.
    let c_rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let mut c = Uac::new(h.sip, "800");
    let ok = c.invite(
        Some(&format!(
            "v=0\r\no=c 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio {} RTP/AVP 8\r\na=sendrecv\r\n",
            c_rtp.local_addr().unwrap().port()
        )),
        None,
    );
    assert_eq!(ok.status(), Some(200), "{}", ok.start);
    let c_answered = h.wait_type("call.answered", Duration::from_secs(10));
    let c_call = c_answered["call_id"].as_str().unwrap().to_owned();
    assert_eq!(c_answered["agent_id"], "1001", "{c_answered}");

    // A asks for a callback while the agent talks; B joins after.
    let (a_call, _) = caller_a_asks_for_a_callback(&h);
    let b = Sipp::new("caller_wait.xml", h.sip)
        .var("wait_ms", 30_000)
        .key(
            "caller_rtp_port",
            UdpSocket::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port(),
        )
        .args(&["-s", "800", "-m", "1"])
        .spawn();
    let b_queued = h.wait_event("B queued", Duration::from_secs(10), |e| {
        e["type"] == "call.queued"
            && e["call_id"] != a_call.as_str()
            && e["call_id"] != c_call.as_str()
    });
    let b_call = b_queued["call_id"].as_str().unwrap().to_owned();

    // C hangs up: after the wrap-up the agent is reserved for A's callback, not offered B.
    agent.forget_leg();
    c.bye();
    let due = event_of(&h, &a_call, "callback.due", 15);
    assert_eq!(due["agent_id"], "1001", "{due}");
    assert_eq!(due["attempt"], 1, "{due}");
    let connected = event_of(&h, &a_call, "callback.connected", 20);
    assert_eq!(connected["agent_id"], "1001", "{connected}");
    // Journaled before the customer's INVITE: the trunk and the queue's caller id.
    let dialing = event_of(&h, &a_call, "callback.dialing", 1);
    assert_eq!(dialing["trunk"], "carrier", "{dialing}");
    assert_eq!(dialing["caller_id"], QUEUE_CALLER_ID, "{dialing}");
    assert_eq!(dialing["attempt"], 1, "{dialing}");
    assert_audio_both_ways(&agent);

    // The customer hangs up; the agent, after the wrap-up, gets B.
    let ended = h.wait_event("the callback's end", Duration::from_secs(15), |e| {
        e["call_id"] == a_call.as_str()
            && e["type"] == "call.ended"
            && e["reason"] != "callback_requested"
    });
    assert_eq!(ended["reason"], "completed", "{ended}");
    assert_eq!(ended["hung_up_by"], "caller", "{ended}");
    phone
        .wait(Duration::from_secs(10))
        .assert_ok("the customer's phone (caller id, answer, hang-up)");
    let b_offered = event_of(&h, &b_call, "call.offered", 15);
    assert_eq!(b_offered["agent_id"], "1001", "{b_offered}");
    event_of(&h, &b_call, "call.answered", 10);

    // The journal's order: C ended, A's callback due and connected, and only then B offered.
    let events = h.events();
    let c_ended = position(&events, "C's end", |e| {
        e["type"] == "call.ended" && e["call_id"] == c_call.as_str()
    });
    let a_due = position(&events, "A's callback due", |e| {
        e["type"] == "callback.due" && e["call_id"] == a_call.as_str()
    });
    let a_connected = position(&events, "A's callback connected", |e| {
        e["type"] == "callback.connected" && e["call_id"] == a_call.as_str()
    });
    let b_first_offer = position(&events, "B's offer", |e| {
        e["type"] == "call.offered" && e["call_id"] == b_call.as_str()
    });
    assert!(
        c_ended < a_due,
        "A's callback was due before C's call ended"
    );
    assert!(
        a_due < a_connected && a_connected < b_first_offer,
        "B was offered before A's callback was served"
    );
    assert!(
        events
            .iter()
            .all(|e| !(e["type"] == "callback.failed" && e["call_id"] == a_call.as_str())),
        "{events:#?}"
    );
    b.wait(Duration::from_secs(60)).assert_ok("caller B");
    drop(agent);
}

#[test]
fn a_busy_customer_answers_the_retry_and_the_callback_keeps_its_age() {
    let phone = customer_phone(&Phone {
        number: CUSTOMER,
        caller_id: FROM_NUMBER,
        busy_calls: 1,
        calls: 2,
        talk_ms: 3_000,
    });
    let h = Hotline::start_with_dialplan(options(gateway_of(&phone)), PLAN);
    let phone = phone.spawn();
    let agent = Agent::start(&h, "1001");
    set_state(&h, "1001", r#"{"state":"not_ready","reason":"meeting"}"#);
    h.wait_agent_state("1001", "not_ready", Duration::from_secs(5));
    let (call, converted) = caller_a_asks_for_a_callback(&h);

    set_state(&h, "1001", r#"{"state":"ready"}"#);
    let failed = event_of(&h, &call, "callback.failed", 20);
    assert_eq!(failed["cause"], "busy", "{failed}");
    assert_eq!(failed["attempts"], 1, "{failed}");
    assert_eq!(failed["agent_id"], "1001", "{failed}");
    assert_eq!(failed["sip_status"], 486, "{failed}");

    agent.forget_leg();
    let due = h.wait_event("the second attempt", Duration::from_secs(20), |e| {
        e["call_id"] == call.as_str() && e["type"] == "callback.due" && e["attempt"] == 2
    });
    assert_eq!(due["agent_id"], "1001", "{due}");
    let connected = event_of(&h, &call, "callback.connected", 20);
    assert_eq!(connected["agent_id"], "1001", "{connected}");
    // Its age runs from the caller's original entry, across both attempts.
    let age = millis(&connected["ts"]) - millis(&converted["entered_at"]);
    let wait_ms = i128::from(connected["wait_ms"].as_u64().unwrap());
    assert!(
        (wait_ms - age).abs() <= 1_000,
        "wait_ms {wait_ms} vs {age} ms since the original entry: {connected}"
    );
    let retry_gap = millis(&due["ts"]) - millis(&failed["ts"]);
    assert!(retry_gap >= 1_900, "retried {retry_gap} ms after the busy");
    assert!(wait_ms > retry_gap + 4_000, "{connected}");
    assert_audio_both_ways(&agent);

    let ended = h.wait_event("the callback's end", Duration::from_secs(15), |e| {
        e["call_id"] == call.as_str() && e["type"] == "call.ended" && e["reason"] == "completed"
    });
    assert_eq!(ended["hung_up_by"], "caller", "{ended}");
    phone
        .wait(Duration::from_secs(10))
        .assert_ok("the customer's phone (busy, then answered)");
    let outcomes: Vec<String> = h
        .events()
        .iter()
        .filter(|e| e["call_id"] == call.as_str())
        .map(|e| e["type"].as_str().unwrap().to_string())
        .filter(|t| {
            [
                "callback.due",
                "callback.dialing",
                "callback.failed",
                "callback.connected",
                "callback.given_up",
            ]
            .contains(&t.as_str())
        })
        .collect();
    assert_eq!(
        outcomes,
        [
            "callback.due",
            "callback.dialing",
            "callback.failed",
            "callback.due",
            "callback.dialing",
            "callback.connected"
        ],
        "{outcomes:?}"
    );
    drop(agent);
}

#[test]
fn a_customer_who_never_answers_rings_at_least_15_s_and_the_callback_is_given_up() {
    let dir = tempfile::tempdir().unwrap();
    let ring_file = dir.path().join("ring_times");
    let phone = Sipp::new("customer_noanswer.xml", "127.0.0.1:5060".parse().unwrap())
        .var("cancel_within_ms", 60_000)
        .key("ring_file", ring_file.display())
        .args(&["-m", "1"])
        .args(PHONE_LIFETIME);
    let h = Hotline::start_with_dialplan(
        options_with(gateway_of(&phone), "    callback_max_attempts: 1\n"),
        PLAN,
    );
    let phone = phone.spawn();
    let _agent = Agent::start(&h, "1001");
    set_state(&h, "1001", r#"{"state":"not_ready","reason":"meeting"}"#);
    h.wait_agent_state("1001", "not_ready", Duration::from_secs(5));
    let (call, _) = caller_a_asks_for_a_callback(&h);

    set_state(&h, "1001", r#"{"state":"ready"}"#);
    event_of(&h, &call, "callback.due", 10);
    let failed = event_of(&h, &call, "callback.failed", 60);
    assert_eq!(failed["cause"], "no_answer", "{failed}");
    assert_eq!(failed["attempts"], 1, "{failed}");
    let given_up = event_of(&h, &call, "callback.given_up", 5);
    assert_eq!(given_up["reason"], "attempts_exhausted", "{given_up}");
    phone
        .wait(Duration::from_secs(10))
        .assert_ok("the customer's phone (rang, cancelled)");
    let times: Vec<i64> = std::fs::read_to_string(&ring_file)
        .unwrap()
        .lines()
        .map(|l| l.trim().parse().unwrap())
        .collect();
    assert_eq!(times.len(), 2, "{times:?}");
    let rang_ms = times[1] - times[0];
    assert!(
        (15_000..=35_000).contains(&rang_ms),
        "the phone rang {rang_ms} ms before the CANCEL"
    );
    // The agent, released, is ready again and nothing else was dialed.
    h.wait_agent_state("1001", "ready", Duration::from_secs(10));
    let dues = h
        .events()
        .iter()
        .filter(|e| e["call_id"] == call.as_str() && e["type"] == "callback.due")
        .count();
    assert_eq!(dues, 1);
}

/// Scheduled callbacks of `support` present this number and may be dialed at any hour.
const SCHEDULED_CALLER_ID: &str = "+861088880000";

#[test]
fn a_scheduled_callback_due_now_is_dialed_to_the_phone_and_a_dnc_number_never_is() {
    const BLOCKED: &str = "+8613900000009";
    let phone = customer_phone(&Phone {
        number: CUSTOMER,
        caller_id: SCHEDULED_CALLER_ID,
        busy_calls: 0,
        calls: 1,
        talk_ms: 6_000,
    });
    let mut opts = options(gateway_of(&phone));
    // The scheduler's settings of `support`: this caller id, and any hour of the day.
    let scheduler: &'static str = Box::leak(
        format!(
            "callbacks:\n  queues:\n    support:\n      caller_id: \"{SCHEDULED_CALLER_ID}\"\n      \
             window: [{{ days: daily, start: \"00:00\", end: \"24:00\" }}]\n"
        )
        .into_boxed_str(),
    );
    opts.config_edits.push((
        "callbacks:\n  queues:\n    support:\n      window: [{ days: daily, start: \"09:00\", end: \"21:00\" }]\n",
        scheduler,
    ));
    let h = Hotline::start_with_dialplan(opts, PLAN);
    let phone = phone.spawn();
    let agent = Agent::start(&h, "1001");
    set_state(&h, "1001", r#"{"state":"not_ready","reason":"meeting"}"#);
    h.wait_agent_state("1001", "not_ready", Duration::from_secs(5));

    let (status, body) = api::put(h.http, &format!("/api/v1/dnc/{BLOCKED}"), TOKEN);
    assert!(status == 200 || status == 201, "{status} {body}");
    let create = |number: &str, within: &str| -> String {
        let body = serde_json::json!({
            "number": number, "time_zone": "Asia/Shanghai", "reason": "invoice question",
            "queue": "support", "due": {"within": within}
        });
        let r = post(h.http, "/api/v1/callbacks", Some(TOKEN), &body.to_string()).unwrap();
        assert_eq!(r.status, 201, "{}", r.body);
        let created: Value = serde_json::from_str(&r.body).unwrap();
        created["id"].as_str().unwrap().to_string()
    };
    // The blocked number's deadline comes first: it would be dialed first.
    let blocked = create(BLOCKED, "10m");
    let wanted = create(CUSTOMER, "1h");
    agent.forget_leg();
    set_state(&h, "1001", r#"{"state":"ready"}"#);

    let given_up = h.wait_event(
        "the blocked callback given up",
        Duration::from_secs(15),
        |e| e["type"] == "callback.scheduled_given_up" && e["callback_id"] == blocked.as_str(),
    );
    assert_eq!(given_up["reason"], "do_not_call", "{given_up}");
    let due = event_of(&h, &wanted, "callback.due", 15);
    assert_eq!(due["agent_id"], "1001", "{due}");
    let connected = event_of(&h, &wanted, "callback.connected", 20);
    assert_eq!(connected["agent_id"], "1001", "{connected}");
    assert_audio_both_ways(&agent);
    let completed = h.wait_event("the callback completed", Duration::from_secs(15), |e| {
        e["type"] == "callback.completed" && e["callback_id"] == wanted.as_str()
    });
    assert_eq!(completed["within_deadline"], true, "{completed}");
    assert_eq!(completed["attempt"], 1, "{completed}");
    event_of(&h, &wanted, "call.ended", 15);
    // The phone took one call, for the wanted number with the scheduled caller id: the blocked
    // number's INVITE would have failed its checks.
    phone
        .wait(Duration::from_secs(10))
        .assert_ok("the customer's phone (one call, number and caller id checked)");
    let events = h.events();
    let blocked_attempts = events
        .iter()
        .filter(|e| {
            (e["callback_id"] == blocked.as_str() || e["call_id"] == blocked.as_str())
                && [
                    "callback.attempt_started",
                    "callback.dialing",
                    "callback.due",
                ]
                .contains(&e["type"].as_str().unwrap_or_default())
        })
        .count();
    assert_eq!(blocked_attempts, 0, "{events:#?}");
}
