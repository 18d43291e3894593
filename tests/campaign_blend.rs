//! Blending end to end on real UDP: inbound first. Agent 1001 (a SIPp phone) serves the inbound
//! queue `support` and the queue `outbound` of a progressive campaign whose one customer is a
//! person at the SIPp PSTN gateway (tests/campaign_e2e/gateway.rs). Inbound callers are SIPp
//! UACs dialing 300, which queues to `support` requiring French: 1001 speaks none, so the
//! caller waits while 1001 is ready, which is exactly when a campaign dial would otherwise
//! happen.
//!
//! - A waiting inbound caller holds the campaign: no `campaign.attempt_started` and no INVITE at
//!   the gateway while the caller waits (the pacing view says an agent is held for a waiting
//!   caller); once the queue's relaxation drops the skill, 1001 takes the inbound call first;
//!   only after that call ended and 1001's wrap-up did the campaign dial, and the customer is
//!   connected to 1001.
//! - A service level under target holds the campaign with nobody waiting: a caller who waited
//!   past the 2 s threshold and hung up puts `support` at 0% of its 80% target over its 6 s
//!   window; the campaign dials only once that abandon left the window.
//! - The campaign's own queue counts too: a campaign of `support` itself is held while a
//!   caller waits there, and its customer queued there is no inbound caller (it holds nobody
//!   and stays out of `support`'s service level).
//! - `blend: {inbound_first: false}`: the campaign's agents are outbound only, so 1001 gets the
//!   campaign's customer while the inbound caller still waits.

#![allow(clippy::unwrap_used)]

#[allow(dead_code)]
#[path = "campaign_e2e/audio.rs"]
mod audio;
#[allow(dead_code)]
#[path = "campaign_e2e/campaign.rs"]
mod campaign;
#[allow(dead_code)]
#[path = "campaign_e2e/gateway.rs"]
mod gateway;
mod support;

use std::collections::BTreeMap;
use std::net::{SocketAddr, UdpSocket};
use std::path::Path;
use std::time::Duration;

use audio::Script;
use campaign::{entry_of, wait_entry_event, zone_at_local_hour};
use gateway::{Gateway, Numbers, Pending, Setup};
use hotline_events::Timestamp;
use serde_json::{json, Value};
use support::agent::{AgentSetup, SippAgent};
use support::sipp::{RunningSipp, Sipp};
use support::{poll_until, Hotline, Options};

/// The number the customer sees.
const CALLER_ID: &str = "+12025550100";
/// The campaign's customer: a person who says "Hello?" and hangs up after a while.
const CUSTOMER: &str = "+12125550111";

/// Number 300 queues to `support` requiring French (agent 1001 has none, 1002 is never logged
/// in), so the caller waits with 1001 ready until a relaxation step drops the skill.
const DIALPLAN: &str = "\
version: 1
numbers:
  \"300\":
    start: french
    nodes:
      french:
        queue: { name: support, skills: { french: 5 }, max_wait: 2m }
";

/// `support`'s target and relaxation in the bundled config.
const SUPPORT_RULES: &str = "    service_level: { threshold: 20s, percent: 80 }\n    relaxation:\n      - { after: 60s, action: { add_queues: { queues: [billing] } } }\n";

/// Hotline with one trunk to `gateway`, a queue `outbound` of 1001 for the campaign, and
/// `support`'s target and relaxation replaced by `support_rules`.
fn options(gateway: SocketAddr, support_rules: &'static str) -> Options {
    let trunk = support::carrier_trunk(CALLER_ID, gateway, "+1XXXXXXXXXX", "");
    Options {
        config_edits: vec![
            trunk,
            (
                "\nqueues:\n  support:\n",
                "\nqueues:\n  outbound:\n    ring_timeout: 15s\n    wrap_up: 1s\n    \
                 members: [\"1001\"]\n  support:\n",
            ),
            (SUPPORT_RULES, support_rules),
        ],
        rtp_timeout: "60s",
        ..Options::default()
    }
}

/// A progressive campaign of queue `outbound`.
fn progressive(id: &str) -> Value {
    json!({
        "id": id,
        "mode": "progressive",
        "audience": {"agents": {"queue": "outbound"}},
        "profile": "us",
        "caller_id": CALLER_ID,
        "window": [{"days": "daily", "start": "08:00", "end": "20:00"}],
        "trunk": {"name": "carrier", "channels": 4},
        "ring_timeout": "15s",
        "amd": {"enabled": false},
        "abandon_message": {"prompt": "goodbye", "callback_number": CALLER_ID}
    })
}

/// The list: the one customer, where it is now early afternoon.
fn list() -> String {
    format!(
        "phone,name,time_zone\n{CUSTOMER},Customer,{}\n",
        zone_at_local_hour(13)
    )
}

/// The gateway: the customer rings 300 ms, says "Hello?" and hangs up 4 s after answering.
fn gateway(dir: &Path) -> Pending {
    let mut hello = audio::silence(300);
    hello.extend(audio::speak(dir, "hello", "Hello?"));
    Pending::new(Setup {
        numbers: Numbers {
            talkers: vec![CUSTOMER.into()],
            ..Numbers::default()
        },
        talker_scripts: BTreeMap::from([(
            CUSTOMER.to_owned(),
            Script {
                frames: audio::frames(&hello),
                keys_after_prompts: vec![],
            },
        )]),
        ring_ms: 300,
        talk_ms: 4_000,
        wait_bye_ms: 30_000,
    })
}

/// Agent 1001's phone, answering every offer.
fn agent(h: &Hotline) -> SippAgent {
    SippAgent::start(
        h,
        AgentSetup {
            id: "1001",
            hold_ms: 110_000,
            pt: 8,
            ..AgentSetup::default()
        },
    )
}

/// An inbound caller dialing 300 who hangs up `wait_ms` after hotline answered (it answers on
/// queueing); returns the SIPp and the caller's `call.queued`.
fn french_caller(h: &Hotline, wait_ms: u64) -> (RunningSipp, UdpSocket, Value) {
    let rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let caller = Sipp::new("caller_wait.xml", h.sip)
        .var("wait_ms", wait_ms)
        .key("caller_rtp_port", rtp.local_addr().unwrap().port())
        .args(&["-s", "300", "-m", "1"])
        .spawn();
    let queued = h.wait_event("the caller's call.queued", Duration::from_secs(10), |e| {
        e["type"] == "call.queued" && e["queue"] == "support"
    });
    (caller, rtp, queued)
}

/// The first event of `kind` of the call `call_id`.
fn call_event(h: &Hotline, kind: &str, call_id: &Value, secs: u64) -> Value {
    h.wait_event(
        &format!("{kind} of call {call_id}"),
        Duration::from_secs(secs),
        |e| e["type"] == kind && e["call_id"] == *call_id,
    )
}

/// The campaign's attempts started so far.
fn attempts(h: &Hotline, id: &str) -> Vec<Value> {
    h.events()
        .into_iter()
        .filter(|e| e["type"] == "campaign.attempt_started" && e["campaign"] == id)
        .collect()
}

/// Waits until the campaign's pacing view holds `n` agents for `reason` (`waiting`,
/// `below_target`); returns the view.
fn wait_held(h: &Hotline, id: &str, reason: &str, n: u64, timeout: Duration) -> Value {
    let mut last = Value::Null;
    let held = poll_until(timeout, || {
        last = campaign::view(h, id);
        last["pacing"]["blocked_by_inbound"][reason] == n
    });
    assert!(
        held,
        "the pacing view never held {n} for {reason}: {last:#}"
    );
    last
}

/// Unix milliseconds of an event's timestamp.
fn millis(e: &Value) -> i64 {
    let ts: Timestamp =
        serde_json::from_value(e["ts"].clone()).unwrap_or_else(|err| panic!("{e}: {err}"));
    i64::try_from(ts.unix_millis()).unwrap()
}

/// The customer's INVITEs at the gateway.
fn invites(gw: &Gateway) -> usize {
    gw.invites_of(CUSTOMER).len()
}

#[test]
fn a_waiting_inbound_caller_is_served_before_the_campaign_dials() {
    let dir = tempfile::tempdir().unwrap();
    let pending = gateway(dir.path());
    // After 6 s of waiting the caller no longer needs French.
    let rules = "    service_level: { threshold: 20s, percent: 80 }\n    relaxation:\n      \
                 - { after: 6s, action: { drop_skill: { skill: french } } }\n";
    let h = Hotline::start_with_dialplan(options(pending.address(), rules), DIALPLAN);
    let gw = pending.spawn();
    let _agent = agent(&h);

    // The caller talks to 1001 for about 4 s once offered (10 s after hotline answered).
    let (caller, _rtp, queued) = french_caller(&h, 10_000);
    let id = "blended";
    campaign::create(&h, &progressive(id), &list(), &[]);
    campaign::start(&h, id);

    // 1001 is ready, yet held for the waiting caller.
    let view = wait_held(&h, id, "waiting", 1, Duration::from_secs(5));
    assert_eq!(view["pacing"]["blocked_by_inbound"]["below_target"], 0);
    assert_eq!(view["pacing"]["dials"], 0, "{view:#}");
    assert_eq!(h.agent("1001")["state"], "ready");

    // The inbound call goes to 1001 first.
    let call = &queued["call_id"];
    let offered = call_event(&h, "call.offered", call, 15);
    assert_eq!(offered["agent_id"], "1001", "{offered}");
    let answered = call_event(&h, "call.answered", call, 10);
    assert_eq!(answered["agent_id"], "1001", "{answered}");
    assert!(
        attempts(&h, id).is_empty() && invites(&gw) == 0,
        "the campaign dialed while the inbound caller waited: {:#?} {:#?}",
        attempts(&h, id),
        gw.invites()
    );

    // Then, once that call ended and 1001 wrapped up, the campaign dials 1001's customer.
    let ended = call_event(&h, "call.ended", call, 20);
    caller.wait(Duration::from_secs(10)).assert_ok("caller");
    let entry = entry_of(&h, id, CUSTOMER);
    let started = wait_entry_event(&h, id, entry, "campaign.attempt_started", 20, |_| true);
    let invite = gw.wait_step("invite", CUSTOMER, 1, Duration::from_secs(5));
    let after_end = millis(&started) - millis(&ended);
    eprintln!("the campaign dialed {after_end} ms after the inbound call ended");
    // Support's wrap-up is 2 s; the driver looks at the agents at least once a second.
    assert!(
        (1_500..5_000).contains(&after_end),
        "the campaign dialed {after_end} ms after the inbound call ended"
    );
    assert!(invite.at_ms >= millis(&ended), "{invite:?} before {ended}");
    let connected = wait_entry_event(&h, id, entry, "campaign.connected", 15, |_| true);
    assert_eq!(connected["agent"], "1001", "{connected}");
    let ended = wait_entry_event(&h, id, entry, "campaign.attempt_ended", 20, |_| true);
    assert_eq!(ended["result"], "connected", "{ended}");
    assert_eq!(invites(&gw), 1);
}

#[test]
fn a_service_level_under_target_holds_outbound_work_until_it_recovers() {
    let dir = tempfile::tempdir().unwrap();
    let pending = gateway(dir.path());
    // 80% within 2 s over a rolling 6 s; the caller never gets the skill it needs.
    let rules = "    service_level: { threshold: 2s, percent: 80, window: 6s }\n";
    let h = Hotline::start_with_dialplan(options(pending.address(), rules), DIALPLAN);
    let gw = pending.spawn();
    let _agent = agent(&h);

    // The caller gives up after 4.5 s, past the 2 s threshold.
    let (caller, _rtp, queued) = french_caller(&h, 4_500);
    let id = "after_target";
    campaign::create(&h, &progressive(id), &list(), &[]);
    campaign::start(&h, id);
    wait_held(&h, id, "waiting", 1, Duration::from_secs(5));

    let abandoned = call_event(&h, "call.abandoned", &queued["call_id"], 10);
    caller.wait(Duration::from_secs(10)).assert_ok("caller");
    assert!(
        abandoned["wait_ms"].as_u64().unwrap() > 2_000,
        "{abandoned}"
    );
    // Nobody waits now, but support is at 0% of its 80%: 1001 stays held.
    let view = wait_held(&h, id, "below_target", 1, Duration::from_secs(3));
    assert_eq!(view["pacing"]["blocked_by_inbound"]["waiting"], 0);
    let support = support::http::get(h.http, "/api/v1/queues/support", Some(campaign::TOKEN))
        .map(|r| serde_json::from_str::<Value>(&r.body).unwrap())
        .unwrap();
    assert_eq!(support["statistics"]["waiting"], 0, "{support:#}");
    assert_eq!(support["statistics"]["service_level"], 0.0, "{support:#}");
    assert!(attempts(&h, id).is_empty(), "{:#?}", attempts(&h, id));

    // The abandon leaves the 6 s window: the campaign dials.
    let entry = entry_of(&h, id, CUSTOMER);
    let started = wait_entry_event(&h, id, entry, "campaign.attempt_started", 15, |_| true);
    let held_for = millis(&started) - millis(&abandoned);
    eprintln!("the campaign dialed {held_for} ms after the late abandon (window 6 s)");
    assert!(
        (5_800..8_500).contains(&held_for),
        "the campaign dialed {held_for} ms after the abandon (window 6 s)"
    );
    gw.wait_step("invite", CUSTOMER, 1, Duration::from_secs(5));
    let connected = wait_entry_event(&h, id, entry, "campaign.connected", 15, |_| true);
    assert_eq!(connected["agent"], "1001", "{connected}");
}

#[test]
fn a_campaign_not_putting_inbound_first_dials_while_a_caller_waits() {
    let dir = tempfile::tempdir().unwrap();
    let pending = gateway(dir.path());
    let h = Hotline::start_with_dialplan(options(pending.address(), SUPPORT_RULES), DIALPLAN);
    let gw = pending.spawn();
    let _agent = agent(&h);

    let (caller, _rtp, queued) = french_caller(&h, 12_000);
    let id = "outbound_only";
    let mut spec = progressive(id);
    spec["blend"] = json!({"inbound_first": false});
    campaign::create(&h, &spec, &list(), &[]);
    campaign::start(&h, id);

    // 1001 gets the customer while the inbound caller still waits.
    let entry = entry_of(&h, id, CUSTOMER);
    let connected = wait_entry_event(&h, id, entry, "campaign.connected", 15, |_| true);
    assert_eq!(connected["agent"], "1001", "{connected}");
    gw.wait_step("invite", CUSTOMER, 1, Duration::from_secs(5));
    let call = &queued["call_id"];
    let left = h.events().into_iter().find(|e| {
        e["call_id"] == *call && (e["type"] == "call.abandoned" || e["type"] == "call.answered")
    });
    assert!(
        left.is_none(),
        "the inbound caller had left the queue: {left:?}"
    );
    let view = campaign::view(&h, id);
    assert_eq!(
        view["pacing"]["blocked_by_inbound"],
        json!({"waiting": 0, "below_target": 0}),
        "{view:#}"
    );
    let abandoned = call_event(&h, "call.abandoned", call, 20);
    assert!(millis(&connected) < millis(&abandoned));
    eprintln!(
        "the customer was connected {} ms after the inbound caller queued",
        millis(&connected) - millis(&queued)
    );
    caller.wait(Duration::from_secs(10)).assert_ok("caller");
}

#[test]
fn a_caller_waiting_in_the_campaigns_own_queue_is_served_before_the_campaign_dials() {
    let dir = tempfile::tempdir().unwrap();
    let pending = gateway(dir.path());
    // After 6 s of waiting the caller no longer needs French. A 0% target never holds the
    // campaign but support's level is still measured: the caller's answer after 6 s is late.
    let rules = "    service_level: { threshold: 5s, percent: 0 }\n    relaxation:\n      \
                 - { after: 6s, action: { drop_skill: { skill: french } } }\n";
    let h = Hotline::start_with_dialplan(options(pending.address(), rules), DIALPLAN);
    let gw = pending.spawn();
    let _agent = agent(&h);

    // The campaign's customers go to `support`, the queue 300's callers wait in.
    let (caller, _rtp, queued) = french_caller(&h, 10_000);
    let id = "own_queue";
    let mut spec = progressive(id);
    spec["audience"] = json!({"agents": {"queue": "support"}});
    campaign::create(&h, &spec, &list(), &[]);
    campaign::start(&h, id);

    // 1001 is ready, yet held for the caller waiting in the campaign's own queue.
    let view = wait_held(&h, id, "waiting", 1, Duration::from_secs(5));
    assert_eq!(view["pacing"]["dials"], 0, "{view:#}");
    assert_eq!(h.agent("1001")["state"], "ready");

    // The inbound call goes to 1001 first; the campaign has not dialed.
    let call = &queued["call_id"];
    let answered = call_event(&h, "call.answered", call, 15);
    assert_eq!(answered["agent_id"], "1001", "{answered}");
    assert!(
        attempts(&h, id).is_empty() && invites(&gw) == 0,
        "the campaign dialed while a caller waited in its queue: {:#?} {:#?}",
        attempts(&h, id),
        gw.invites()
    );

    // Once that call ended and 1001 wrapped up, the campaign dials; its customer, waiting in
    // `support` for 1001, holds nobody and is connected to 1001.
    let ended = call_event(&h, "call.ended", call, 20);
    caller.wait(Duration::from_secs(10)).assert_ok("caller");
    let entry = entry_of(&h, id, CUSTOMER);
    let started = wait_entry_event(&h, id, entry, "campaign.attempt_started", 20, |_| true);
    let after_end = millis(&started) - millis(&ended);
    eprintln!("the campaign dialed {after_end} ms after the inbound call in its queue ended");
    // Support's wrap-up is 2 s; the driver looks at the agents at least once a second.
    assert!(
        (1_500..5_000).contains(&after_end),
        "the campaign dialed {after_end} ms after the inbound call ended"
    );
    gw.wait_step("invite", CUSTOMER, 1, Duration::from_secs(5));
    let connected = wait_entry_event(&h, id, entry, "campaign.connected", 15, |_| true);
    assert_eq!(connected["agent"], "1001", "{connected}");

    // Support's level is its inbound caller's alone (answered late): the customer answered
    // within the threshold is no inbound call.
    let support = support::http::get(h.http, "/api/v1/queues/support", Some(campaign::TOKEN))
        .map(|r| serde_json::from_str::<Value>(&r.body).unwrap())
        .unwrap();
    assert_eq!(support["statistics"]["service_level"], 0.0, "{support:#}");
    assert_eq!(invites(&gw), 1);
}
