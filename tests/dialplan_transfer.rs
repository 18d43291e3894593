//! The dialplan's `transfer` node on real calls (SIPp callers over UDP): a flow transfer takes
//! the caller on into another number's nodes and that number's queue (with a priority its `set`
//! node gave), a transfer to a queue queues like a queue node, and a dial to an outside number
//! that cannot be made (the trunk's allow-list refuses the number the call set) takes the node's
//! `failed` branch: the caller hears its prompt and is hung up with its cause.

#![allow(clippy::unwrap_used)]

mod support;

use std::net::UdpSocket;
use std::time::Duration;

use serde_json::Value;
use support::sipp::Sipp;
use support::{call_event_types, poll_until, Hotline, Options};

const PLAN: &str = r#"
version: 1
numbers:
  "400":
    start: welcome
    nodes:
      welcome: { play: beep, next: to_sales }
      to_sales: { transfer: { flow: "401" } }
  "401":
    start: sales
    nodes:
      sales: { set: { priority: 6 }, next: sales_queue }
      sales_queue: { transfer: { queue: support, max_wait: 5m } }
  "402":
    start: target
    nodes:
      target: { set: { variables: { branch: "+861060000000" } }, next: out }
      out:
        transfer: { number: "${branch}", timeout: 3s, failed: sorry }
      sorry: { play: goodbye, next: busy }
      busy: { hangup: busy }
"#;

/// The bundled config plus the one trunk 402 dials through, which allows Shanghai numbers only
/// (a plan dialing with no trunk configured would not start).
fn options() -> Options {
    let anchor = "routing:\n  not_ready_reasons: []\n  seed: 0\n";
    let edited = "routing:\n  not_ready_reasons: []\n  seed: 0\ntrunks:\n  carrier:\n    gateway: 192.0.2.1\n    from_number: \"+8675512345678\"\n    allow: [\"+8621*\"]\n";
    Options {
        config_edits: vec![(anchor, edited)],
        ..Options::default()
    }
}

fn rtp_socket() -> UdpSocket {
    UdpSocket::bind("127.0.0.1:0").unwrap()
}

/// The entry of `call_id` in the API's view of `queue` (waits until it shows).
fn queue_entry(h: &Hotline, queue: &str, call_id: &str) -> Value {
    let mut entry = None;
    let shown = poll_until(Duration::from_secs(5), || {
        let Ok(r) = support::http::get(h.http, "/api/v1/queues", Some("hotline-demo-token")) else {
            return false;
        };
        let queues: Value = serde_json::from_str(&r.body).unwrap_or_default();
        entry = queues
            .as_array()
            .into_iter()
            .flatten()
            .filter(|q| q["name"] == queue)
            .flat_map(|q| q["entries"].as_array().cloned().unwrap_or_default())
            .find(|e| e["call_id"] == call_id);
        entry.is_some()
    });
    assert!(shown, "call {call_id} never showed in queue {queue}");
    entry.unwrap()
}

/// The events of the one call in the journal, by its id.
fn call_events(h: &Hotline, call_id: &str) -> Vec<Value> {
    h.events()
        .into_iter()
        .filter(|e| e["call_id"] == call_id)
        .collect()
}

#[test]
fn a_flow_transfer_goes_on_in_the_other_numbers_nodes_and_queue() {
    let h = Hotline::start_with_dialplan(options(), PLAN);
    let rtp = rtp_socket();
    let call = Sipp::new("caller_wait.xml", h.sip)
        .var("wait_ms", 4_000)
        .key("caller_rtp_port", rtp.local_addr().unwrap().port())
        .args(&["-s", "400", "-m", "1"])
        .spawn();

    let queued = h.wait_type("call.queued", Duration::from_secs(15));
    assert_eq!(queued["queue"], "support", "{queued}");
    let call_id = queued["call_id"].as_str().unwrap().to_owned();
    // The beep of 400 played first, then the caller went on in 401 without a key.
    let prompts: Vec<Value> = call_events(&h, &call_id)
        .into_iter()
        .filter(|e| e["type"] == "ivr.prompt" && e["seq"].as_u64() < queued["seq"].as_u64())
        .map(|e| e["prompt"].clone())
        .collect();
    assert_eq!(prompts, ["beep"], "{queued}");
    // The queue entry has the priority 401's `set` node gave the call.
    let entry = queue_entry(&h, "support", &call_id);
    assert_eq!(entry["priority"], 6, "{entry}");
    call.wait(Duration::from_secs(20))
        .assert_ok("caller of 400");
    let types = call_event_types(&h.events(), &call_id);
    assert!(
        types.iter().any(|t| t == "call.abandoned"),
        "the caller hung up while queued: {types:?}"
    );
}

#[test]
fn a_dial_that_cannot_be_made_takes_the_failed_branch() {
    let h = Hotline::start_with_dialplan(options(), PLAN);
    let rtp = rtp_socket();
    let call = Sipp::new("caller_listen.xml", h.sip)
        .var("bye_ms", 15_000)
        .key("caller_rtp_port", rtp.local_addr().unwrap().port())
        .args(&["-s", "402", "-m", "1"])
        .spawn();

    let prompt = h.wait_event("the failed branch's prompt", Duration::from_secs(15), |e| {
        e["type"] == "ivr.prompt" && e["prompt"] == "goodbye"
    });
    let call_id = prompt["call_id"].as_str().unwrap().to_owned();
    // The caller was answered before the dial, so hotline hangs up with a BYE.
    call.wait(Duration::from_secs(20))
        .assert_ok("caller of 402 (BYE from hotline)");
    let ended = h.wait_event("call.ended", Duration::from_secs(10), |e| {
        e["type"] == "call.ended" && e["call_id"] == call_id.as_str()
    });
    assert_eq!(ended["hung_up_by"], "system", "{ended}");
    let types = call_event_types(&h.events(), &call_id);
    assert!(
        !types.iter().any(|t| t == "call.queued"),
        "the failed dial went to `failed`, nowhere else: {types:?}"
    );
}
