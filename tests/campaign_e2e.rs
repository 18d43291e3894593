//! Outbound campaigns end to end on real UDP: hotline dials through its trunk to SIPp as the
//! PSTN gateway (tests/sipp/pstn_gateway.xml: what happens depends on the number dialed),
//! whose answering parties' audio is made at test time with espeak-ng and sox and played by the
//! test (a person says "Hello?" and waits; a voicemail plays a long greeting and a beep).
//! Agents are registered SIPp phones. Everything is created through the API and checked in the
//! journal's `campaign.*` events, the gateway's log of INVITEs and the RTP it received.
//!
//! - A progressive campaign over a list of seven, two agents ready: the busy number is retried
//!   after its delay, then given up; the unanswered phone rings 15 s before the CANCEL; the
//!   invalid number (404) is never retried; the voicemail is found a machine and gets the
//!   campaign's message after its beep (the message's audio reaches the gateway); the numbers
//!   on the campaign's and on the global do-not-call lists and the one whose local time is
//!   outside the calling window are never INVITEd. The API's statistics count each outcome.

#![allow(clippy::unwrap_used)]

#[path = "campaign_e2e/audio.rs"]
mod audio;
#[path = "campaign_e2e/campaign.rs"]
mod campaign;
#[path = "campaign_e2e/gateway.rs"]
mod gateway;
mod support;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use audio::Script;
use campaign::{entry_of, wait_entry_event, zone_at_local_hour};
use gateway::{Gateway, Numbers, Pending, Setup};
use serde_json::{json, Value};
use support::agent::{AgentSetup, SippAgent};
use support::{Hotline, Options};

/// The number customers see.
const CALLER_ID: &str = "+12025550100";
/// Busy every time.
const BUSY: &str = "+12125550102";
/// Rings, never answered.
const NO_ANSWER: &str = "+12125550103";
/// Not a number (404).
const INVALID: &str = "+12125550104";
/// A voicemail: a long greeting, then the beep.
const MACHINE: &str = "+12125550105";
/// On the campaign's do-not-call list.
const DNC: &str = "+12125550106";
/// Lives where it is the middle of the night.
const LATE: &str = "+12125550107";
/// On the global do-not-call list.
const GLOBAL_DNC: &str = "+12125550108";

/// The voicemail's greeting.
const GREETING: &str = "Hi, you have reached the voicemail of Alex Chen. I cannot take your \
                        call right now, please leave a message after the tone.";
/// Silence between the greeting and the beep, ms.
const BEEP_GAP_MS: u32 = 400;
/// The beep's length, ms.
const BEEP_MS: u32 = 600;

/// Hotline with one trunk to `gateway`, leaving `message_saved` on voicemails.
fn options(gateway: SocketAddr) -> Options {
    let anchor = "routing:\n  not_ready_reasons: []\n  seed: 0\n";
    let trunk: &'static str = Box::leak(
        format!(
            "{anchor}trunks:\n  carrier:\n    from_number: \"{CALLER_ID}\"\n    gateway: \"{gateway}\"\n    \
             allow: [\"+1XXXXXXXXXX\"]\n"
        )
        .into_boxed_str(),
    );
    Options {
        config_edits: vec![
            (anchor, trunk),
            // The prompt a voicemail is left.
            (
                "\ncampaigns:\n",
                "\ncampaigns:\n  machine_message: message_saved\n",
            ),
        ],
        rtp_timeout: "60s",
        ..Options::default()
    }
}

/// The specification of a progressive campaign of queue `support` (US rules, 08:00-20:00 in
/// the customer's local time every day).
fn progressive(id: &str) -> Value {
    json!({
        "id": id,
        "mode": "progressive",
        "audience": {"agents": {"queue": "support"}},
        "profile": "us",
        "caller_id": CALLER_ID,
        "window": [{"days": "daily", "start": "08:00", "end": "20:00"}],
        "retry": {
            "busy": {"delay": "3s", "max_attempts": 2},
            "no_answer": {"delay": "1h", "max_attempts": 2}
        },
        "trunk": {"name": "carrier", "channels": 10},
        "ring_timeout": "15s",
        "amd": {"on_machine": "leave_message", "on_not_sure": "pass_to_agent"},
        "abandon_message": {"prompt": "goodbye", "callback_number": CALLER_ID}
    })
}

/// A list of `numbers`, each in a zone where it is now early afternoon, `late` excepted.
fn list(numbers: &[&str], late: Option<&str>) -> String {
    let day = zone_at_local_hour(13);
    let night = zone_at_local_hour(2);
    let mut csv = String::from("phone,name,time_zone\n");
    for (i, n) in numbers.iter().enumerate() {
        let zone = if Some(*n) == late { &night } else { &day };
        csv.push_str(&format!("{n},Customer {i},{zone}\n"));
    }
    csv
}

/// A voicemail's greeting and beep; and when the beep starts, ms after the answer.
fn voicemail(dir: &Path) -> (Script, u64) {
    let mut all = audio::silence(200);
    all.extend(audio::speak(dir, "greeting", GREETING));
    all.extend(audio::silence(BEEP_GAP_MS));
    let beep_at_ms = all.len() as u64 / 8;
    all.extend(audio::tone(dir, "beep", 1000, BEEP_MS));
    let script = Script {
        frames: audio::frames(&all),
        keys_after_prompts: vec![],
    };
    (script, beep_at_ms)
}

/// When hotline sent sound (not silence) on `number`'s calls, ms after the answer.
fn sound_heard(gw: &Gateway, number: &str) -> Vec<u128> {
    gw.heard(number)
        .iter()
        .filter(|(_, p)| p.pt == gateway::PCMA && audio::is_sound(&p.payload))
        .map(|(after, _)| after.as_millis())
        .collect()
}

/// An agent phone of `support` that answers every offer.
fn agent(h: &Hotline, id: &'static str) -> SippAgent {
    SippAgent::start(
        h,
        AgentSetup {
            id,
            hold_ms: 170_000,
            pt: 8,
            ..AgentSetup::default()
        },
    )
}

/// The number of INVITEs the gateway got for `number`.
fn invites(gw: &Gateway, number: &str) -> usize {
    gw.invites_of(number).len()
}

#[test]
fn a_progressive_campaign_dials_its_list_by_the_rules_and_counts_each_outcome() {
    let dir = tempfile::tempdir().unwrap();
    let (machine, beep_at_ms) = voicemail(dir.path());
    let pending = Pending::new(Setup {
        numbers: Numbers {
            busy: vec![BUSY.into()],
            invalid: vec![INVALID.into()],
            no_answer: vec![NO_ANSWER.into()],
            scripts: BTreeMap::from([(MACHINE.to_owned(), machine)]),
            ..Numbers::default()
        },
        talker_scripts: BTreeMap::new(),
        ring_ms: 500,
        talk_ms: 5_000,
        wait_bye_ms: 60_000,
    });
    let h = Hotline::start(options(pending.address()));
    let gw = pending.spawn();
    let _a1 = agent(&h, "1001");
    let _a2 = agent(&h, "1002");

    let id = "renewals";
    let numbers = [BUSY, NO_ANSWER, INVALID, MACHINE, DNC, GLOBAL_DNC, LATE];
    campaign::global_dnc(&h, GLOBAL_DNC);
    campaign::create(&h, &progressive(id), &list(&numbers, Some(LATE)), &[DNC]);
    campaign::start(&h, id);

    // Busy twice, 3 s apart, then given up.
    let busy = entry_of(&h, id, BUSY);
    let second = wait_entry_event(&h, id, busy, "campaign.attempt_ended", 60, |e| {
        e["attempt"] == 2
    });
    assert_eq!(second["result"], "busy", "{second}");
    let tries = gw.invites_of(BUSY);
    assert_eq!(tries.len(), 2, "{tries:?}");
    assert!(
        tries[1].at_ms - tries[0].at_ms >= 3_000,
        "the busy number was redialed {} ms later",
        tries[1].at_ms - tries[0].at_ms
    );

    // The unanswered phone rang at least 15 s before the CANCEL.
    let no_answer = entry_of(&h, id, NO_ANSWER);
    let ended = wait_entry_event(&h, id, no_answer, "campaign.attempt_ended", 60, |_| true);
    assert_eq!(ended["result"], "no_answer", "{ended}");
    let invite = gw.wait_step("invite", NO_ANSWER, 1, Duration::from_secs(1));
    let cancel = gw.wait_step("cancel", NO_ANSWER, 1, Duration::from_secs(5));
    let rang = cancel.at_ms - invite.at_ms;
    assert!((15_000..30_000).contains(&rang), "rang {rang} ms");

    // The invalid number: one attempt, never retried.
    let invalid = entry_of(&h, id, INVALID);
    let ended = wait_entry_event(&h, id, invalid, "campaign.attempt_ended", 60, |_| true);
    assert_eq!(ended["result"], "invalid_number", "{ended}");

    // The voicemail: a machine; the message is played once its beep has started.
    let machine = entry_of(&h, id, MACHINE);
    let answered = wait_entry_event(&h, id, machine, "campaign.answered", 60, |_| true);
    assert_eq!(answered["verdict"], "machine", "{answered}");
    let ended = wait_entry_event(&h, id, machine, "campaign.attempt_ended", 60, |_| true);
    assert_eq!(ended["result"], "message_left", "{ended}");
    gw.wait_step("bye_in", MACHINE, 1, Duration::from_secs(10));
    let sound = sound_heard(&gw, MACHINE);
    assert!(
        sound.len() >= 25,
        "the voicemail heard {} frames of sound",
        sound.len()
    );
    assert!(
        sound[0] >= u128::from(beep_at_ms),
        "the message started {} ms after the answer, before the beep at {beep_at_ms} ms",
        sound[0]
    );

    // Never dialed: the numbers on the campaign's and the global do-not-call lists, and the
    // one outside its window.
    for number in [DNC, GLOBAL_DNC] {
        let entry = entry_of(&h, id, number);
        let given_up = wait_entry_event(&h, id, entry, "campaign.given_up", 10, |_| true);
        assert_eq!(given_up["reason"], "do_not_call", "{number}: {given_up}");
    }
    let late = entry_of(&h, id, LATE);
    let held = wait_entry_event(&h, id, late, "campaign.held", 10, |_| true);
    assert_eq!(held["reason"], "outside_window", "{held}");

    // Every attempt is over: the statistics count each outcome.
    let stats = campaign::view(&h, id)["stats"].clone();
    assert_eq!(stats["dials"], 5, "{stats:#}");
    let by_result = &stats["by_result"];
    for (result, count) in [
        ("busy", 2),
        ("no_answer", 1),
        ("invalid_number", 1),
        ("message_left", 1),
    ] {
        assert_eq!(by_result[result], count, "{result}: {stats:#}");
    }
    assert_eq!(stats["connected"], 0, "{stats:#}");
    assert_eq!(stats["given_up"]["do_not_call"], 2, "{stats:#}");
    assert_eq!(stats["abandoned"], 0, "{stats:#}");
    assert_eq!(stats["total"], 7, "{stats:#}");
    let never = [DNC, GLOBAL_DNC, LATE];
    for n in never {
        assert_eq!(invites(&gw, n), 0, "{n} was dialed: {:#?}", gw.invites());
    }
    assert_eq!(invites(&gw, INVALID), 1);
    assert_eq!(invites(&gw, NO_ANSWER), 1);
    assert_eq!(invites(&gw, MACHINE), 1);
}
