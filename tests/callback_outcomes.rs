//! What the customer's phone answers decides a callback's fate, on real UDP: the trunk's
//! gateway is the customer's phone, played by the test, and the agent a SIPp phone. A 404 gives
//! the callback up after one attempt; a 503 with Retry-After and a Q.850 Reason postpones the
//! next attempt by the Retry-After and names the status and cause in `callback.failed`; a phone
//! that only rings (183) is no answer after the ring time, which is never below 15 s. Every
//! customer INVITE comes after its `callback.dialing` is in the journal file, and shows the
//! queue's `callback_caller_id` in From and P-Asserted-Identity. A crash while the customer's
//! phone rings brings the callback back at its place after the restart, with that attempt
//! counted as `unknown`, and it is not dialed again before the queue's retry delay. A trunk that
//! challenges the INVITE gets it again with the trunk's digest credentials, once: a second
//! challenge fails the attempt with its status.

#![allow(clippy::unwrap_used)]

#[path = "trunk/raw_trunk.rs"]
#[allow(dead_code)]
mod raw_trunk;
mod support;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use raw_trunk::RawTrunk;
use serde_json::Value;
use support::agent::{AgentSetup, SippAgent};
use support::http::{get, post};
use support::sipp::Sipp;
use support::uac::Sip;
use support::{poll_until, read_events, Hotline, Options};

const TOKEN: &str = "hotline-demo-token";
const FROM_NUMBER: &str = "+8675512345678";
const CALLER_ID: &str = "+8675588886666";
const CUSTOMER: &str = "+8613800000000";

const PLAN: &str = r#"version: 1
numbers:
  "800":
    start: wait
    nodes:
      wait: { queue: support }
"#;

/// `support` offers a callback after 2 s, retries after `retry`, rings the customer for 1 s
/// (raised to 15 s) and presents `CALLER_ID`; one trunk whose gateway is `gateway`.
fn options(gateway: SocketAddr, retry: &str) -> Options {
    options_with_trunk(gateway, retry, "")
}

/// [`options`] with `extra` lines in the trunk's settings.
fn options_with_trunk(gateway: SocketAddr, retry: &str, extra: &str) -> Options {
    let trunk = support::carrier_trunk(FROM_NUMBER, gateway, "+86XXXXXXXXXXX", extra);
    let queue: &'static str = Box::leak(
        format!(
            "    strategy: longest_idle\n    callback_offer: 2s\n    callback_retry_delay: {retry}\n    callback_ring_timeout: 1s\n    callback_caller_id: \"{CALLER_ID}\"\n"
        )
        .into_boxed_str(),
    );
    Options {
        config_edits: vec![("    strategy: longest_idle\n", queue), trunk],
        ..Options::default()
    }
}

fn set_state(h: &Hotline, agent: &str, body: &str) {
    let path = format!("/api/v1/agents/{agent}/state");
    let r = post(h.http, &path, Some(TOKEN), body).unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
}

/// Starts the agent (not ready); a caller presses 1 and becomes a callback; the agent becomes
/// ready. Returns the agent and the callback's call id.
fn callback_due(h: &Hotline) -> (SippAgent, String) {
    let agent = SippAgent::start(
        h,
        AgentSetup {
            id: "1001",
            hold_ms: 60_000,
            ..AgentSetup::default()
        },
    );
    set_state(h, "1001", r#"{"state":"not_ready","reason":"meeting"}"#);
    h.wait_agent_state("1001", "not_ready", Duration::from_secs(5));
    let caller = Sipp::new("caller_survey.xml", h.sip)
        .var("press_ms", 4_000)
        .var("key", 1)
        .var("bye_ms", 20_000)
        .args(&["-s", "800", "-m", "1"])
        .spawn();
    let converted = h.wait_type("callback.converted", Duration::from_secs(15));
    let call = converted["call_id"].as_str().unwrap().to_owned();
    caller
        .wait(Duration::from_secs(15))
        .assert_ok("caller (hung up by hotline after the thanks)");
    set_state(h, "1001", r#"{"state":"ready"}"#);
    (agent, call)
}

fn event_of(h: &Hotline, call: &str, kind: &str, secs: u64) -> Value {
    h.wait_event(kind, Duration::from_secs(secs), |e| {
        e["call_id"] == call && e["type"] == kind
    })
}

/// The next customer INVITE (another Call-ID than `after`'s, if given).
fn next_invite(trunk: &RawTrunk, after: Option<&Sip>) -> (Sip, SocketAddr) {
    loop {
        let (m, from) = trunk.expect("INVITE", Duration::from_secs(20));
        if after.is_none_or(|a| a.header("call-id") != m.header("call-id")) {
            return (m, from);
        }
    }
}

/// Milliseconds between two journal events' `ts`.
fn ms_between(a: &Value, b: &Value) -> i128 {
    let ts = |e: &Value| {
        time::OffsetDateTime::parse(
            e["ts"].as_str().unwrap(),
            &time::format_description::well_known::Rfc3339,
        )
        .unwrap()
        .unix_timestamp_nanos()
            / 1_000_000
    };
    ts(b) - ts(a)
}

/// Requests reaching the trunk within `wait` other than `invite`'s own (retransmissions, ACK).
fn other_invites_within(trunk: &RawTrunk, invite: &Sip, wait: Duration) -> Vec<String> {
    let deadline = Instant::now() + wait;
    let mut seen = Vec::new();
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        if let Some((m, _)) = trunk.recv(left) {
            if m.start.starts_with("INVITE ") && m.header("call-id") != invite.header("call-id") {
                seen.push(m.start.clone());
            }
        }
    }
    seen
}

#[test]
fn the_dialing_event_is_on_disk_before_the_invite_which_shows_the_queues_caller_id() {
    let trunk = RawTrunk::bind();
    let h = Hotline::start_with_dialplan(options(trunk.addr, "2s"), PLAN);
    let (_agent, call) = callback_due(&h);
    let (invite, from) = next_invite(&trunk, None);
    // Read from the journal file the moment the INVITE arrives.
    let on_disk = read_events(&h.journal());
    let dialing = on_disk
        .iter()
        .find(|e| e["call_id"] == call.as_str() && e["type"] == "callback.dialing")
        .unwrap_or_else(|| panic!("no callback.dialing before the INVITE: {on_disk:?}"));
    assert_eq!(dialing["attempt"], 1, "{dialing}");
    assert_eq!(dialing["trunk"], "carrier", "{dialing}");
    assert_eq!(dialing["caller_id"], CALLER_ID, "{dialing}");
    assert_eq!(dialing["agent_id"], "1001", "{dialing}");
    assert_eq!(dialing["queue"], "support", "{dialing}");
    // The bundled config redacts caller numbers: so is the number dialed.
    let number = dialing["number"].as_str().unwrap();
    assert!(
        number.ends_with("00") && !number.contains(CUSTOMER),
        "{dialing}"
    );
    for header in ["from", "p-asserted-identity"] {
        let value = invite.header(header).unwrap_or_default();
        assert!(value.contains(CALLER_ID), "{header}: {value}");
        assert!(!value.contains(FROM_NUMBER), "{header}: {value}");
    }
    assert!(
        invite.start.contains(&format!("sip:{CUSTOMER}@")),
        "{}",
        invite.start
    );
    trunk.respond(&invite, from, "486 Busy Here", &[]);
    let failed = event_of(&h, &call, "callback.failed", 10);
    assert_eq!(failed["cause"], "busy", "{failed}");
    assert_eq!(failed["sip_status"], 486, "{failed}");
}

#[test]
fn an_invalid_number_is_given_up_after_one_attempt() {
    let trunk = RawTrunk::bind();
    let h = Hotline::start_with_dialplan(options(trunk.addr, "2s"), PLAN);
    let (_agent, call) = callback_due(&h);
    let (invite, from) = next_invite(&trunk, None);
    trunk.respond(&invite, from, "404 Not Found", &[]);
    let failed = event_of(&h, &call, "callback.failed", 10);
    assert_eq!(failed["cause"], "invalid_number", "{failed}");
    assert_eq!(failed["sip_status"], 404, "{failed}");
    assert_eq!(failed["attempts"], 1, "{failed}");
    let given_up = event_of(&h, &call, "callback.given_up", 10);
    assert_eq!(given_up["reason"], "invalid_number", "{given_up}");
    h.wait_agent_state("1001", "ready", Duration::from_secs(10));
    // Well past the 2 s retry delay: never dialed again.
    let again = other_invites_within(&trunk, &invite, Duration::from_secs(4));
    assert!(again.is_empty(), "{again:?}");
    let dues = h
        .events()
        .iter()
        .filter(|e| e["call_id"] == call.as_str() && e["type"] == "callback.due")
        .count();
    assert_eq!(dues, 1);
}

#[test]
fn a_trunk_failure_with_retry_after_postpones_the_next_attempt_and_names_its_q850_cause() {
    let trunk = RawTrunk::bind();
    let h = Hotline::start_with_dialplan(options(trunk.addr, "2s"), PLAN);
    let (_agent, call) = callback_due(&h);
    let (invite, from) = next_invite(&trunk, None);
    trunk.respond(
        &invite,
        from,
        "503 Service Unavailable",
        &[
            "Retry-After: 120",
            "Reason: Q.850;cause=34;text=\"No circuit/channel available\"",
        ],
    );
    let failed = event_of(&h, &call, "callback.failed", 10);
    assert_eq!(failed["cause"], "network_failure", "{failed}");
    assert_eq!(failed["sip_status"], 503, "{failed}");
    assert_eq!(failed["q850_cause"], 34, "{failed}");
    // The next attempt waits the Retry-After, not the queue's 2 s.
    assert_eq!(failed["retry_after_ms"], 120_000, "{failed}");
    assert!(!h.events().iter().any(|e| e["type"] == "callback.given_up"));
    // Still at its place in the queue meanwhile.
    let r = get(h.http, "/api/v1/queues", Some(TOKEN)).unwrap();
    assert!(r.body.contains(&call), "{}", r.body);
}

#[test]
fn a_challenged_invite_is_sent_again_with_the_trunks_credentials_once() {
    let trunk = RawTrunk::bind();
    let credentials = "    username: \"hotline\"\n    password: \"s3cret\"\n";
    let h = Hotline::start_with_dialplan(options_with_trunk(trunk.addr, "2s", credentials), PLAN);
    let (_agent, call) = callback_due(&h);
    let (invite, from) = next_invite(&trunk, None);
    assert!(invite.header("proxy-authorization").is_none());
    trunk.respond(
        &invite,
        from,
        "407 Proxy Authentication Required",
        &["Proxy-Authenticate: Digest realm=\"carrier\", nonce=\"n0nce1\", algorithm=MD5"],
    );
    // The same call, the next CSeq, with the digest answer.
    let (again, from) = loop {
        // A retransmission of the first INVITE may cross the 407.
        let (m, from) = trunk.expect("INVITE", Duration::from_secs(5));
        if m.header("cseq") != invite.header("cseq") {
            break (m, from);
        }
    };
    assert_eq!(again.header("call-id"), invite.header("call-id"));
    assert_eq!(again.header("cseq").map(str::trim), Some("2 INVITE"));
    let auth = again.header("proxy-authorization").unwrap_or_default();
    for part in [
        "username=\"hotline\"",
        "realm=\"carrier\"",
        "nonce=\"n0nce1\"",
    ] {
        assert!(auth.contains(part), "{part} in {auth}");
    }
    assert!(auth.contains(&format!("uri=\"sip:{CUSTOMER}@")), "{auth}");
    // A second challenge: the credentials were refused, the attempt fails with its status.
    trunk.respond(
        &again,
        from,
        "401 Unauthorized",
        &["WWW-Authenticate: Digest realm=\"carrier\", nonce=\"n0nce2\", algorithm=MD5"],
    );
    let failed = event_of(&h, &call, "callback.failed", 10);
    assert_eq!(failed["sip_status"], 401, "{failed}");
    assert_eq!(failed["attempts"], 1, "{failed}");
}

#[test]
fn a_phone_that_only_rings_is_no_answer_after_at_least_15_s() {
    let trunk = RawTrunk::bind();
    let h = Hotline::start_with_dialplan(options(trunk.addr, "2s"), PLAN);
    let (_agent, call) = callback_due(&h);
    let (invite, from) = next_invite(&trunk, None);
    trunk.respond(&invite, from, "183 Session Progress", &[]);
    // The queue asks for 1 s; the phone rings 15 s before hotline cancels.
    let (cancel, cancel_from) = trunk.expect("CANCEL", Duration::from_secs(25));
    trunk.respond(&cancel, cancel_from, "200 OK", &[]);
    trunk.respond(&invite, from, "487 Request Terminated", &[]);
    let dialing = event_of(&h, &call, "callback.dialing", 5);
    let failed = event_of(&h, &call, "callback.failed", 10);
    assert_eq!(failed["cause"], "no_answer", "{failed}");
    let rang = ms_between(&dialing, &failed);
    assert!(
        (15_000..20_000).contains(&rang),
        "rang {rang} ms before no_answer"
    );
}

#[test]
fn a_crash_while_the_customer_rings_brings_the_callback_back_as_unknown_and_waits_its_delay() {
    let trunk = RawTrunk::bind();
    let opts = || options(trunk.addr, "6s");
    let h = Hotline::start_with_dialplan(opts(), PLAN);
    let (_agent, call) = callback_due(&h);
    let (invite, from) = next_invite(&trunk, None);
    trunk.respond(&invite, from, "180 Ringing", &[]);
    event_of(&h, &call, "callback.dialing", 5);

    // SIGKILL while the phone rings, then the same data folder and ports again.
    let (sip, http) = (h.sip, h.http);
    let mut h = h;
    let dir = std::mem::replace(&mut h.dir, tempfile::tempdir().unwrap());
    let plan = dir.path().join("restart-plan.yaml");
    std::fs::write(&plan, PLAN).unwrap();
    drop(h);
    let h = Hotline::start_in(
        dir,
        sip,
        http,
        Options {
            dialplan: Some(plan),
            ..opts()
        },
    );
    let unknown = h.wait_event("the cut attempt", Duration::from_secs(10), |e| {
        e["call_id"] == call.as_str() && e["type"] == "callback.failed"
    });
    assert_eq!(unknown["cause"], "unknown", "{unknown}");
    assert_eq!(unknown["attempts"], 1, "{unknown}");
    assert_eq!(unknown["retry_after_ms"], 6_000, "{unknown}");
    // Back at its place in the queue.
    let found = poll_until(Duration::from_secs(10), || {
        get(h.http, "/api/v1/queues", Some(TOKEN))
            .map(|r| r.body.contains(&call))
            .unwrap_or(false)
    });
    assert!(found, "{}", h.log());
    // Dialed again (attempt 2) only once the retry delay from the restart has passed.
    let due = h.wait_event("the second attempt", Duration::from_secs(30), |e| {
        e["call_id"] == call.as_str() && e["type"] == "callback.due" && e["attempt"] == 2
    });
    let held = ms_between(&unknown, &due);
    assert!(held >= 5_900, "redialed {held} ms after the restart");
    let (second, from) = next_invite(&trunk, Some(&invite));
    assert!(second.start.contains(CUSTOMER), "{}", second.start);
    trunk.respond(&second, from, "486 Busy Here", &[]);
    let busy = h.wait_event("the second outcome", Duration::from_secs(10), |e| {
        e["call_id"] == call.as_str() && e["type"] == "callback.failed" && e["cause"] == "busy"
    });
    assert_eq!(busy["attempts"], 2, "{busy}");
    // Only one attempt at a time: exactly one dialing per attempt.
    let dialings: Vec<u64> = h
        .events()
        .iter()
        .filter(|e| e["call_id"] == call.as_str() && e["type"] == "callback.dialing")
        .map(|e| e["attempt"].as_u64().unwrap())
        .collect();
    assert_eq!(dialings, [1, 2]);
}
