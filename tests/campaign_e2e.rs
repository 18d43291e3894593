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
//!   outside the calling window are never INVITEd. The API's statistics and the Prometheus
//!   metrics count each outcome.
//! - A person who answers, says nothing for a second, then "Hello?", is found human and
//!   connected to the ready agent within 2 s of the end of the greeting, the clock of the
//!   connect time (`since_greeting` in the event, checked against the audio's own timing); the
//!   agent hears the person's reply and the person the agent.
//! - A slow agent (its phone rings 2.5 s) is too late: the person is abandoned 2 s after the
//!   end of the greeting, the agent's ringing phone cancelled.
//! - An abandon: the only agent's phone rings and is never picked up, so no agent takes the
//!   person within 2 s of the end of their greeting (about 1.2 s after the detector's
//!   verdict, which waits 0.8 s of silence): the person hears the abandon message (its
//!   audio reaches the gateway) and hotline hangs up once it ended; the API and the metrics
//!   count the abandon and its rate.
//! - An agentless survey campaign: the customer's flow is a `survey` node asking two questions;
//!   one customer keys 4 and 2 (RFC 4733) after each, another keys 4 and hangs up during the
//!   second question. The answers are `survey.*` events naming the campaign and the record
//!   (completed, skipped with `caller_hung_up`), counted in the campaign's statistics and
//!   listed per customer by its survey report (JSON and CSV).

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
use hotline_events::Timestamp;
use serde_json::{json, Value};
use support::agent::{AgentSetup, SippAgent};
use support::{Hotline, Options};

/// The number customers see.
const CALLER_ID: &str = "+12025550100";
/// A person who says "Hello?".
const PERSON: &str = "+12125550101";
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
    let trunk = support::carrier_trunk(CALLER_ID, gateway, "+1XXXXXXXXXX", "");
    Options {
        config_edits: vec![
            trunk,
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

/// "Hello?" after a second of silence: what a person says on answering; then, 2.5 s later,
/// "Yes, I can hear you." (to the agent by then). And where the greeting ends, ms after the
/// gateway starts sending.
fn person(dir: &Path) -> (Script, i64) {
    let mut all = audio::silence(1_000);
    all.extend(audio::speak(dir, "hello", "Hello?"));
    let greeting_end_ms = all.len() as i64 / 8;
    all.extend(audio::silence(2_500));
    all.extend(audio::speak(dir, "reply", "Yes, I can hear you."));
    let script = Script {
        frames: audio::frames(&all),
        keys_after_prompts: vec![],
    };
    (script, greeting_end_ms)
}

/// Milliseconds of a duration written as text in an event (`860ms`, `2s`).
fn duration_ms(v: &Value) -> i64 {
    let text = v.as_str().unwrap_or_else(|| panic!("not a duration: {v}"));
    match text.strip_suffix("ms") {
        Some(ms) => ms.parse().unwrap(),
        None => text.strip_suffix('s').unwrap().parse::<i64>().unwrap() * 1000,
    }
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

/// Unix milliseconds of an event's timestamp.
fn millis(v: &Value) -> i64 {
    let ts: Timestamp = serde_json::from_value(v.clone()).unwrap_or_else(|e| panic!("{v}: {e}"));
    i64::try_from(ts.unix_millis()).unwrap()
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
    // SIPp writes its log on its own schedule: wait for the second INVITE's line.
    gw.wait_step("invite", BUSY, 2, Duration::from_secs(5));
    let tries = gw.invites_of(BUSY);
    assert_eq!(tries.len(), 2, "{tries:?}");
    // The retry delay is 3 s; SIPp stamps its log with a clock that ticks with its event loop,
    // so allow it 100 ms.
    assert!(
        tries[1].at_ms - tries[0].at_ms >= 2_900,
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
    // And so do the Prometheus metrics.
    let sample = |name: &str, labels: &str| -> String {
        format!("hotline_campaign_{name}{{campaign=\"{id}\"{labels}}}")
    };
    let secs = Duration::from_secs(5);
    h.wait_metric(&sample("dials_total", ""), 5.0, secs);
    h.wait_metric(&sample("attempts_total", ",result=\"busy\""), 2.0, secs);
    h.wait_metric(
        &sample("attempts_total", ",result=\"message_left\""),
        1.0,
        secs,
    );
    h.wait_metric(&sample("records", ",state=\"total\""), 7.0, secs);
    let never = [DNC, GLOBAL_DNC, LATE];
    for n in never {
        assert_eq!(invites(&gw, n), 0, "{n} was dialed: {:#?}", gw.invites());
    }
    assert_eq!(invites(&gw, INVALID), 1);
    assert_eq!(invites(&gw, NO_ANSWER), 1);
    assert_eq!(invites(&gw, MACHINE), 1);
}

#[test]
fn a_person_who_answers_is_connected_to_an_agent_within_2_s_and_they_talk() {
    let dir = tempfile::tempdir().unwrap();
    let (script, greeting_end_ms) = person(dir.path());
    let pending = Pending::new(Setup {
        numbers: Numbers {
            talkers: vec![PERSON.into()],
            ..Numbers::default()
        },
        talker_scripts: BTreeMap::from([(PERSON.to_owned(), script)]),
        ring_ms: 500,
        talk_ms: 8_000,
        wait_bye_ms: 30_000,
    });
    let h = Hotline::start(options(pending.address()));
    let gw = pending.spawn();
    let agent = agent(&h, "1001");

    let id = "welcome";
    campaign::create(&h, &progressive(id), &list(&[PERSON], None), &[]);
    campaign::start(&h, id);

    let person = entry_of(&h, id, PERSON);
    let answered = wait_entry_event(&h, id, person, "campaign.answered", 30, |_| true);
    assert_eq!(answered["verdict"], "human", "{answered}");
    let connected = wait_entry_event(&h, id, person, "campaign.connected", 10, |_| true);
    assert_eq!(connected["agent"], "1001", "{connected}");
    assert_eq!(connected["late"], false, "{connected}");
    assert_eq!(connected["live"], true, "{connected}");
    // Connected within 2 s of the end of "Hello?", though well over 2 s after the answer.
    let since_greeting = duration_ms(&connected["since_greeting"]);
    let after_answer = duration_ms(&connected["after"]);
    assert!(since_greeting < 2_000, "{connected}");
    assert!(
        after_answer >= since_greeting + 1_000,
        "the greeting ended a second or more after the answer: {connected}"
    );
    // The greeting's end as the audio placed it: the gateway started sending at the answer.
    let answer = gw.wait_step("answer", PERSON, 1, Duration::from_secs(1));
    let by_audio = millis(&connected["ts"]) - (answer.at_ms + greeting_end_ms);
    assert!(
        (by_audio - since_greeting).abs() <= 300,
        "hotline measured {since_greeting} ms since the greeting, the audio says {by_audio} ms"
    );
    println!(
        "connected {since_greeting} ms after the greeting (by the audio {by_audio} ms), \
         {after_answer} ms after the answer"
    );

    // They talk: the agent hears the person's reply, the person hears the agent.
    let leg = agent.hotline_rtp(Duration::from_secs(5));
    let got = support::rtp::talk(&agent.rtp, leg, 8, 0x33, 150, Duration::from_millis(300));
    let reply = got
        .iter()
        .filter(|p| p.pt == 8 && audio::is_sound(&p.payload))
        .count();
    assert!(
        reply >= 20,
        "the agent heard {reply} frames of the person's reply"
    );
    let from_agent = gw
        .heard(PERSON)
        .iter()
        .filter(|(_, p)| p.payload.len() > 2 && p.payload[2..].iter().all(|b| *b == 0x33))
        .count();
    assert!(
        from_agent >= 100,
        "the person heard {from_agent} of the agent's 150 packets"
    );

    let ended = wait_entry_event(&h, id, person, "campaign.attempt_ended", 30, |_| true);
    assert_eq!(ended["result"], "connected", "{ended}");
    gw.wait_step("bye_out", PERSON, 1, Duration::from_secs(15));
    let stats = campaign::view(&h, id)["stats"].clone();
    assert_eq!(stats["connected"], 1, "{stats:#}");
    assert_eq!(stats["by_result"]["connected"], 1, "{stats:#}");
    assert_eq!(stats["abandoned"], 0, "{stats:#}");
    assert_eq!(stats["pacing_ratio"], 1.0, "{stats:#}");
    assert_eq!(invites(&gw, PERSON), 1);
}
/// A slow agent phone: rings 2.5 s before it answers, too late for a person waiting.
#[test]
fn a_slow_agent_is_too_late_and_the_person_is_abandoned_2_s_after_the_greeting() {
    let dir = tempfile::tempdir().unwrap();
    let (script, greeting_end_ms) = person(dir.path());
    let pending = Pending::new(Setup {
        numbers: Numbers {
            talkers: vec![PERSON.into()],
            ..Numbers::default()
        },
        talker_scripts: BTreeMap::from([(PERSON.to_owned(), script)]),
        ring_ms: 500,
        talk_ms: 30_000,
        wait_bye_ms: 30_000,
    });
    let h = Hotline::start(options(pending.address()));
    let gw = pending.spawn();
    let marks = tempfile::tempdir().unwrap();
    let mark = marks.path().join("slow");
    let mark_arg = mark.display().to_string();
    let _agent = SippAgent::start(
        &h,
        AgentSetup {
            id: "1001",
            hold_ms: 120_000,
            pt: 8,
            answer_scenario: "agent_slow_answer.xml",
            extra: vec!["-key", "mark_file", mark_arg.as_str()],
        },
    );

    let id = "slow";
    campaign::create(&h, &progressive(id), &list(&[PERSON], None), &[]);
    campaign::start(&h, id);

    let person = entry_of(&h, id, PERSON);
    let answered = wait_entry_event(&h, id, person, "campaign.answered", 30, |_| true);
    assert_eq!(answered["verdict"], "human", "{answered}");
    let abandoned = wait_entry_event(&h, id, person, "campaign.abandoned", 30, |_| true);
    assert_eq!(abandoned["live"], true, "{abandoned}");
    // Abandoned 2 s after the end of "Hello?", less than 2 s after the verdict.
    let answer = gw.wait_step("answer", PERSON, 1, Duration::from_secs(1));
    let after_greeting = millis(&abandoned["ts"]) - (answer.at_ms + greeting_end_ms);
    assert!(
        (1_800..2_500).contains(&after_greeting),
        "abandoned {after_greeting} ms after the greeting"
    );
    let after_verdict = millis(&abandoned["ts"]) - millis(&answered["ts"]);
    assert!(
        after_verdict < 1_900,
        "abandoned {after_verdict} ms after the verdict"
    );
    println!(
        "abandoned {after_greeting} ms after the greeting, {after_verdict} ms after the verdict"
    );
    // The agent's phone was cancelled while it rang, never answered.
    assert!(
        support::poll_until(Duration::from_secs(5), || std::fs::read_to_string(&mark)
            .is_ok_and(|m| m.contains("cancelled"))),
        "the slow agent's phone was not cancelled: {:?}",
        std::fs::read_to_string(&mark)
    );
    let ended = wait_entry_event(&h, id, person, "campaign.attempt_ended", 30, |_| true);
    assert_eq!(ended["result"], "abandoned", "{ended}");
    assert!(
        h.events().iter().all(|e| e["type"] != "campaign.connected"),
        "connected after the connect time"
    );
    let stats = campaign::view(&h, id)["stats"].clone();
    assert_eq!(stats["abandoned"], 1, "{stats:#}");
    assert_eq!(stats["connected"], 0, "{stats:#}");
}

#[test]
fn a_person_no_agent_takes_within_2_s_hears_the_abandon_message() {
    let dir = tempfile::tempdir().unwrap();
    let (script, _) = person(dir.path());
    let pending = Pending::new(Setup {
        numbers: Numbers {
            talkers: vec![PERSON.into()],
            ..Numbers::default()
        },
        talker_scripts: BTreeMap::from([(PERSON.to_owned(), script)]),
        ring_ms: 500,
        talk_ms: 30_000,
        wait_bye_ms: 30_000,
    });
    let h = Hotline::start(options(pending.address()));
    let gw = pending.spawn();
    let marks = tempfile::tempdir().unwrap();
    let mark = marks.path().join("cancelled");
    let mark_arg = mark.display().to_string();
    let _agent = SippAgent::start(
        &h,
        AgentSetup {
            id: "1001",
            hold_ms: 120_000,
            pt: 8,
            answer_scenario: "agent_noanswer.xml",
            extra: vec!["-key", "mark_file", mark_arg.as_str()],
        },
    );

    let id = "abandons";
    campaign::create(&h, &progressive(id), &list(&[PERSON], None), &[]);
    campaign::start(&h, id);

    let person = entry_of(&h, id, PERSON);
    let answered = wait_entry_event(&h, id, person, "campaign.answered", 30, |_| true);
    assert_eq!(answered["verdict"], "human", "{answered}");
    let abandoned = wait_entry_event(&h, id, person, "campaign.abandoned", 30, |_| true);
    assert_eq!(abandoned["live"], true, "{abandoned}");
    let ended = wait_entry_event(&h, id, person, "campaign.attempt_ended", 30, |_| true);
    assert_eq!(ended["result"], "abandoned", "{ended}");
    // No agent had taken the person 2 s after the end of their greeting: the verdict came
    // 0.8 s of silence after it, so 1.2 s after the verdict.
    let verdict_at = millis(&answered["ts"]);
    let waited = millis(&abandoned["ts"]) - verdict_at;
    assert!(
        (900..1_900).contains(&waited),
        "abandoned {waited} ms after the verdict"
    );
    // The abandon message reached the person's phone, and hotline hung up once it ended.
    let bye = gw.wait_step("bye_in", PERSON, 1, Duration::from_secs(10));
    let answer = gw.wait_step("answer", PERSON, 1, Duration::from_secs(1));
    let abandoned_at = millis(&abandoned["ts"]);
    let message = sound_heard(&gw, PERSON)
        .iter()
        .filter(|ms| answer.at_ms + **ms as i64 >= abandoned_at)
        .count();
    assert!(
        message >= 25,
        "the person heard {message} frames of sound after the abandon"
    );
    let prompt_ms = audio::duration_ms(&support::root().join("prompts/en/goodbye.wav"));
    assert!(
        bye.at_ms - abandoned_at >= prompt_ms - 300,
        "hung up {} ms after the abandon, before the {prompt_ms} ms message could end",
        bye.at_ms - abandoned_at
    );
    // The agent's phone rang (then hotline cancelled the offer).
    assert!(
        support::poll_until(Duration::from_secs(5), || mark.exists()),
        "the agent's phone never rang or was never cancelled"
    );
    assert!(
        h.events().iter().all(|e| e["type"] != "campaign.connected"),
        "connected though the agent never answered"
    );

    let stats = campaign::view(&h, id)["stats"].clone();
    assert_eq!(stats["abandoned"], 1, "{stats:#}");
    assert_eq!(stats["live_answered"], 1, "{stats:#}");
    assert_eq!(stats["abandon_rate"], 1.0, "{stats:#}");
    assert_eq!(stats["by_result"]["abandoned"], 1, "{stats:#}");
    let rate = format!("hotline_campaign_abandon_rate{{campaign=\"{id}\"}}");
    h.wait_metric(&rate, 1.0, Duration::from_secs(5));
    assert_eq!(invites(&gw, PERSON), 1);
}

/// The agentless survey: a `survey` node asks two questions, each scored by a key, then
/// thanks, then the flow hangs up at `next`.
const SURVEY_PLAN: &str = r#"version: 1
surveys:
  csat:
    questions:
      - survey_agent
      - { prompt: survey_resolved, min: 1, max: 2 }
    timeout: 5s
    retries: 1
    thanks: survey_thanks
numbers:
  "700":
    start: ask
    nodes:
      ask: { survey: csat, next: bye }
      bye: { hangup: true }
"#;

/// The survey events of a campaign's entry, in journal order: (type, question, score).
fn survey_events(h: &Hotline, campaign: &str, entry: u64) -> Vec<(String, Value, Value)> {
    h.events()
        .iter()
        .filter(|e| {
            e["type"]
                .as_str()
                .unwrap_or_default()
                .starts_with("survey.")
        })
        .filter(|e| e["campaign"] == campaign && e["entry"] == entry)
        .map(|e| {
            for absent in ["agent_id", "queue"] {
                assert!(
                    e.get(absent).is_none(),
                    "an agentless survey has no {absent}: {e}"
                );
            }
            assert_eq!(e["attempt"], 1, "{e}");
            assert!(e["call_id"].is_string(), "{e}");
            (
                e["type"].as_str().unwrap().to_owned(),
                e["question"].clone(),
                e["score"].clone(),
            )
        })
        .collect()
}

#[test]
fn an_agentless_survey_campaign_records_the_answers_keyed_by_the_customer() {
    const CUSTOMER: &str = "+12125550109";
    /// Answers the first question, then hangs up while the second one is asked.
    const QUITTER: &str = "+12125550110";
    let dir = tempfile::tempdir().unwrap();
    let hello = audio::speak(dir.path(), "hello", "Hello?");
    let script = |keys: Vec<u8>| Script {
        frames: audio::after_silence(300, &hello),
        keys_after_prompts: keys,
    };
    let pending = Pending::new(Setup {
        numbers: Numbers {
            scripts: BTreeMap::from([(CUSTOMER.to_owned(), script(vec![4, 2]))]),
            talkers: vec![QUITTER.to_owned()],
            ..Numbers::default()
        },
        talker_scripts: BTreeMap::from([(QUITTER.to_owned(), script(vec![4]))]),
        ring_ms: 500,
        // The quitter hangs up 14 s after answering: after the first question (its verdict
        // ~2 s, the 7.5 s prompt, the key), while the 6.5 s second one plays.
        talk_ms: 14_000,
        wait_bye_ms: 60_000,
    });
    let gateway = pending.address();
    let h = Hotline::start_with_dialplan(options(gateway), SURVEY_PLAN);
    let gw = pending.spawn();

    let id = "satisfaction";
    let mut spec = progressive(id);
    spec["mode"] = json!("agentless");
    spec["audience"] = json!({"flow": {"flow": "700"}});
    spec.as_object_mut().unwrap().remove("abandon_message");
    campaign::create(&h, &spec, &list(&[CUSTOMER, QUITTER], None), &[]);
    campaign::start(&h, id);

    let entry = entry_of(&h, id, CUSTOMER);
    let quitter = entry_of(&h, id, QUITTER);
    let answered = wait_entry_event(&h, id, entry, "campaign.answered", 30, |_| true);
    assert_eq!(answered["verdict"], "human", "{answered}");
    let ended = wait_entry_event(&h, id, entry, "campaign.attempt_ended", 60, |_| true);
    assert_eq!(ended["result"], "flow_completed", "{ended}");
    // The answers, in the journal as survey answers of the customer's record: 4 to the first
    // question, 2 to the second, then completed.
    let completed = wait_entry_event(&h, id, entry, "survey.completed", 5, |_| true);
    assert_eq!(completed["survey"], "csat", "{completed}");
    assert_eq!(completed["answered"], 2, "{completed}");
    assert_eq!(
        survey_events(&h, id, entry),
        [
            ("survey.answered".to_owned(), json!(0), json!(4)),
            ("survey.answered".to_owned(), json!(1), json!(2)),
            ("survey.completed".to_owned(), Value::Null, Value::Null),
        ]
    );
    // The keys were survey answers, not menu keys.
    assert!(
        h.events().iter().all(|e| e["type"] != "ivr.digit"),
        "a survey key went to the IVR"
    );
    // Hotline hung up after the thanks.
    gw.wait_step("bye_in", CUSTOMER, 1, Duration::from_secs(10));

    // The quitter answered the first question and hung up: skipped, its one answer kept.
    let skipped = wait_entry_event(&h, id, quitter, "survey.skipped", 60, |_| true);
    assert_eq!(skipped["reason"], "caller_hung_up", "{skipped}");
    assert_eq!(skipped["answered"], 1, "{skipped}");
    assert_eq!(
        survey_events(&h, id, quitter),
        [
            ("survey.answered".to_owned(), json!(0), json!(4)),
            ("survey.skipped".to_owned(), Value::Null, Value::Null),
        ]
    );
    let quit = wait_entry_event(&h, id, quitter, "campaign.attempt_ended", 10, |_| true);
    assert_eq!(quit["result"], "flow_hung_up", "{quit}");
    gw.wait_step("bye_out", QUITTER, 1, Duration::from_secs(5));

    // The campaign's view: the counts, and the answers per customer record.
    let stats = campaign::view(&h, id)["stats"].clone();
    assert_eq!(stats["by_result"]["flow_completed"], 1, "{stats:#}");
    assert_eq!(stats["by_result"]["flow_hung_up"], 1, "{stats:#}");
    assert_eq!(stats["done"], 2, "{stats:#}");
    assert_eq!(
        stats["surveys"],
        json!({"completed": 1, "skipped": 1, "answers": 3}),
        "{stats:#}"
    );
    let report = campaign::survey(&h, id, "");
    let rows = report["records"].as_array().unwrap();
    assert_eq!(rows.len(), 2, "{report:#}");
    let row = |number: &str| rows.iter().find(|r| r["number"] == number).unwrap().clone();
    let done = row(CUSTOMER);
    assert_eq!(done["entry"], entry, "{done}");
    assert_eq!(done["name"], "Customer 0", "{done}");
    assert_eq!(done["attempt"], 1, "{done}");
    assert_eq!(done["outcome"], "completed", "{done}");
    assert_eq!(done["answers"], json!({"0": 4, "1": 2}), "{done}");
    let gone = row(QUITTER);
    assert_eq!(gone["entry"], quitter, "{gone}");
    assert_eq!(gone["outcome"], "skipped", "{gone}");
    assert_eq!(gone["reason"], "caller_hung_up", "{gone}");
    assert_eq!(gone["answers"], json!({"0": 4}), "{gone}");
    let csv = campaign::survey_csv(&h, id);
    assert!(
        csv.starts_with("entry,number,name,attempt,survey,outcome,reason,q1,q2\n"),
        "{csv}"
    );
    assert!(
        csv.contains(&format!(
            "{entry},{CUSTOMER},Customer 0,1,csat,completed,,4,2\n"
        )),
        "{csv}"
    );
    assert!(
        csv.contains(&format!(
            "{quitter},{QUITTER},Customer 1,1,csat,skipped,caller_hung_up,4,\n"
        )),
        "{csv}"
    );
    assert_eq!(invites(&gw, CUSTOMER), 1);
    assert_eq!(invites(&gw, QUITTER), 1);

    // A restart rebuilds the answers from the journal: the same counts and report.
    let (sip, http, plan) = (h.sip, h.http, h.dialplan_path());
    let dir = h.stop();
    let restarted = Options {
        dialplan: Some(plan),
        ..options(gateway)
    };
    let h = Hotline::start_in(dir, sip, http, restarted);
    let again = campaign::view(&h, id)["stats"]["surveys"].clone();
    assert_eq!(again, stats["surveys"], "after a restart");
    assert_eq!(campaign::survey(&h, id, ""), report, "after a restart");
}
