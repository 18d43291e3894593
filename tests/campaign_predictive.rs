//! A predictive campaign end to end on real UDP, on real time: hotline dials through its trunk
//! to SIPp as the PSTN gateway (tests/sipp/pstn_gateway.xml), registered SIPp phones are the
//! agents, and the predictive pacer decides from what it measures as the campaign runs.
//!
//! - Four agents (the minimum for predictive lowered to 3 and the warm-up to 8 resolved dials
//!   with 3 live answers in the configuration) and a list of 24: most answer as a person after
//!   a short ring and hang up a few seconds later, some are busy, some never answer, some are
//!   voicemails playing a long greeting (machines dropped). While fewer than 8 dials have an
//!   outcome the API's pacing section says `warming_up` and no more calls are in flight than
//!   the agents; after it, the pacer follows predictive and more customer calls were in
//!   flight at once than the campaign has agents; every person who answered was connected to
//!   an agent within 2 s or counted abandoned and heard the abandon message, and the API's and
//!   the metrics' abandon rate is abandoned over live answers; machines never reach an agent;
//!   busy numbers are redialed after their delay, unanswered ones ring 15 s, no number is
//!   dialed twice at once; at the end every record is finished, the agents are ready and no
//!   call is left.
//! - Two agents logged in, fewer than the minimum of 3: the pacer dials progressively and says
//!   why (`too_few_agents`); once a third logs in it follows predictive and dials ahead of the
//!   free agents (this campaign's specification sets no warm-up).

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

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use audio::Script;
use campaign::{entries, zone_at_local_hour};
use gateway::{Numbers, Pending, Setup};
use hotline_events::Timestamp;
use serde_json::{json, Value};
use support::agent::{AgentSetup, SippAgent};
use support::{poll_until, Hotline, Options};

/// The number customers see.
const CALLER_ID: &str = "+12025550100";
/// The predictive minimum of agents in the tests' configuration.
const MIN_AGENTS: u64 = 3;
/// The warm-up in the tests' configuration: predictive dials progressively until this many
/// dials have an outcome ...
const WARMUP_RESOLVED: u64 = 8;
/// ... and this many of them were answered by a person.
const WARMUP_LIVE: u64 = 3;
/// The US profile's connect time: a person not with an agent this long after the end of their
/// greeting is abandoned.
const CONNECT_WITHIN_MS: i64 = 2_000;
/// The detector's verdict on a person comes at least this long after the greeting's end (its
/// after-greeting silence), so that much less of the connect time is left after it.
const AFTER_GREETING_MS: i64 = 800;

/// Hotline with one trunk to `gateway`, the predictive minimum lowered to 3, the warm-up to 8
/// resolved dials and 3 live answers, and the four agents in queue `support`.
fn options(gateway: SocketAddr) -> Options {
    let trunk = support::carrier_trunk(CALLER_ID, gateway, "+1XXXXXXXXXX", "");
    Options {
        config_edits: vec![
            trunk,
            (
                "min_agents_predictive: 15",
                "min_agents_predictive: 3\n  warmup_resolved_dials: 8\n  warmup_live_answers: 3",
            ),
            // Four agents in the campaign's queue.
            (
                "members: [\"1001\", \"1002\"]",
                "members: [\"1001\", \"1002\", \"1003\", \"1004\"]",
            ),
        ],
        rtp_timeout: "60s",
        ..Options::default()
    }
}

/// A predictive campaign of queue `support` (US rules: 3% cap, 2 s connect time), machines
/// dropped, busy lines redialed once 3 s later, unanswered ones given up after 15 s of ringing,
/// abandoned people not called again.
fn predictive(id: &str) -> Value {
    json!({
        "id": id,
        "mode": "predictive",
        "audience": {"agents": {"queue": "support"}},
        "profile": "us",
        "caller_id": CALLER_ID,
        "window": [{"days": "daily", "start": "08:00", "end": "20:00"}],
        "retry": {
            "busy": {"delay": "3s", "max_attempts": 2},
            "no_answer": {"delay": "1h", "max_attempts": 1}
        },
        "trunk": {"name": "carrier", "channels": 20},
        "ring_timeout": "15s",
        "amd": {"on_machine": "drop", "on_not_sure": "pass_to_agent"},
        "abandon_message": {"prompt": "goodbye", "callback_number": CALLER_ID},
        // A person abandoned is not called again (every record ends within the test).
        "retry_abandoned": {"delay": "1h", "max_attempts": 1},
        // The agents are outbound only (1003 and 1004 also serve billing).
        "blend": {"inbound_first": false}
    })
}

/// A list of `numbers`, each in a zone where it is now early afternoon.
fn list(numbers: &[String]) -> String {
    let zone = zone_at_local_hour(13);
    let mut csv = String::from("phone,name,time_zone\n");
    for (i, n) in numbers.iter().enumerate() {
        csv.push_str(&format!("{n},Customer {i},{zone}\n"));
    }
    csv
}

/// `count` numbers from `+121255502{first}` on.
fn numbers(first: u32, count: u32) -> Vec<String> {
    (first..first + count)
        .map(|i| format!("+121255502{i:02}"))
        .collect()
}

/// "Hello?" after 300 ms, then silence: a person answering.
fn person(dir: &Path) -> Script {
    let hello = audio::speak(dir, "hello", "Hello?");
    Script {
        frames: audio::after_silence(300, &hello),
        keys_after_prompts: vec![],
    }
}

/// A voicemail's long greeting.
fn voicemail(dir: &Path) -> Script {
    let greeting = audio::speak(
        dir,
        "greeting",
        "Hi, you have reached the voicemail of Alex Chen. I cannot take your call right now, \
         please leave a message after the tone.",
    );
    Script {
        frames: audio::after_silence(200, &greeting),
        keys_after_prompts: vec![],
    }
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

/// Unix milliseconds of an event's timestamp.
fn millis(v: &Value) -> i64 {
    let ts: Timestamp = serde_json::from_value(v.clone()).unwrap_or_else(|e| panic!("{v}: {e}"));
    i64::try_from(ts.unix_millis()).unwrap()
}

/// The journal's events of campaign `id` of type `campaign.{kind}`.
fn of_kind(events: &[Value], id: &str, kind: &str) -> Vec<Value> {
    let kind = format!("campaign.{kind}");
    events
        .iter()
        .filter(|e| e["type"] == kind.as_str() && e["campaign"] == id)
        .cloned()
        .collect()
}

/// The most customer calls of campaign `id` dialed and not yet with an agent nor ended, at
/// any moment (in journal order).
fn most_in_flight(events: &[Value], id: &str) -> usize {
    let mut open: BTreeSet<(u64, u64)> = BTreeSet::new();
    let mut most = 0;
    for e in events.iter().filter(|e| e["campaign"] == id) {
        let key = (
            e["entry"].as_u64().unwrap_or(u64::MAX),
            e["attempt"].as_u64().unwrap_or(0),
        );
        match e["type"].as_str().unwrap_or_default() {
            "campaign.attempt_started" => {
                open.insert(key);
                most = most.max(open.len());
            }
            "campaign.connected" | "campaign.attempt_ended" => {
                open.remove(&key);
            }
            _ => {}
        }
    }
    most
}

/// The warm-up's dials (journal order) and the most calls in flight among them.
#[derive(Debug, Default)]
struct WarmUp {
    /// Dials started while warming up.
    dials: usize,
    /// The most calls in flight at once while warming up.
    most: usize,
}

/// Replays the journal's events of campaign `id` the way the engine counts them: a dial is
/// resolved at its answer or at its end with a SIP outcome, a live answer is one passed to an
/// agent as a person. Returns the warm-up's dials and most calls in flight (dialed and not yet
/// with an agent nor ended) until `WARMUP_RESOLVED` dials were resolved and `WARMUP_LIVE`
/// answered live, and the most in flight after.
fn in_flight_by_phase(events: &[Value], id: &str) -> (WarmUp, usize) {
    let mut open: BTreeSet<(u64, u64)> = BTreeSet::new();
    let (mut resolved, mut live) = (0, 0);
    let mut warming = WarmUp::default();
    let mut after = 0;
    for e in events.iter().filter(|e| e["campaign"] == id) {
        let key = (
            e["entry"].as_u64().unwrap_or(u64::MAX),
            e["attempt"].as_u64().unwrap_or(0),
        );
        match e["type"].as_str().unwrap_or_default() {
            "campaign.attempt_started" => {
                open.insert(key);
                if resolved < WARMUP_RESOLVED || live < WARMUP_LIVE {
                    warming.dials += 1;
                    warming.most = warming.most.max(open.len());
                } else {
                    after = after.max(open.len());
                }
            }
            "campaign.answered" => {
                resolved += 1;
                if e["action"]["to_agent"]["live"] == true {
                    live += 1;
                }
            }
            "campaign.connected" => {
                open.remove(&key);
            }
            "campaign.attempt_ended" => {
                open.remove(&key);
                if e.get("outcome").is_some() {
                    resolved += 1;
                }
            }
            _ => {}
        }
    }
    (warming, after)
}

/// Polls `GET /api/v1/campaigns/{id}` until `done` holds for a view (returned) or `secs`
/// pass (panics); every view read is kept in `seen`.
fn watch(
    h: &Hotline,
    id: &str,
    secs: u64,
    seen: &mut Vec<Value>,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let view = campaign::view(h, id);
        seen.push(view.clone());
        if done(&view) {
            return view;
        }
        assert!(
            Instant::now() < deadline,
            "campaign {id} never got there; last view:\n{view:#}\njournal:\n{}",
            h.events()
                .iter()
                .filter(|e| e["type"]
                    .as_str()
                    .is_some_and(|t| t.starts_with("campaign.")))
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join("\n")
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Asserts a pacing section's figures are all there and sensible.
fn assert_pacing_figures(pacing: &Value) {
    for field in ["answer_rate", "expected_free", "abandon_rate", "safety"] {
        assert!(pacing[field].is_number(), "{field}: {pacing:#}");
    }
    assert!(pacing["dials"].is_u64(), "{pacing:#}");
    let rate = pacing["answer_rate"].as_f64().unwrap();
    assert!(rate > 0.0 && rate <= 1.0, "{pacing:#}");
}

#[test]
fn a_predictive_campaign_dials_ahead_of_its_agents_and_connects_or_abandons_every_person() {
    let dir = tempfile::tempdir().unwrap();
    let talkers = numbers(1, 14);
    let busy = numbers(21, 3);
    let no_answer = numbers(31, 2);
    let machines = numbers(41, 5);
    let hello = person(dir.path());
    let greeting = voicemail(dir.path());
    let pending = Pending::new(Setup {
        numbers: Numbers {
            busy: busy.clone(),
            no_answer: no_answer.clone(),
            talkers: talkers.clone(),
            scripts: machines
                .iter()
                .map(|n| (n.clone(), greeting.clone()))
                .collect(),
            ..Numbers::default()
        },
        talker_scripts: talkers.iter().map(|n| (n.clone(), hello.clone())).collect(),
        ring_ms: 500,
        talk_ms: 6_000,
        wait_bye_ms: 30_000,
    });
    let h = Hotline::start(options(pending.address()));
    let gw = pending.spawn();
    let agent_ids = ["1001", "1002", "1003", "1004"];
    let _agents: Vec<SippAgent> = agent_ids.iter().map(|id| agent(&h, id)).collect();

    let id = "winback";
    let all: Vec<String> = [&talkers, &busy, &no_answer, &machines]
        .into_iter()
        .flatten()
        .cloned()
        .collect();
    campaign::create(&h, &predictive(id), &list(&all), &[]);
    campaign::start(&h, id);

    // Watch the API until every record is finished.
    let mut seen = vec![];
    let last = watch(&h, id, 150, &mut seen, |v| {
        v["stats"]["done"] == all.len() && v["stats"]["in_progress"] == 0
    });
    let events = h.events();
    let stats = &last["stats"];

    // The campaign took the configuration's warm-up.
    assert_eq!(
        last["spec"]["warmup_resolved_dials"], WARMUP_RESOLVED,
        "{last:#}"
    );
    assert_eq!(last["spec"]["warmup_live_answers"], WARMUP_LIVE, "{last:#}");

    // With four agents logged in (the minimum is 3) the pacer warmed up progressively, then
    // followed predictive; never warming up again once warm.
    let decisions: Vec<&Value> = seen.iter().filter(|v| v["pacing"].is_object()).collect();
    assert!(!decisions.is_empty(), "no pacing section: {last:#}");
    let mut warm = false;
    let mut warming_views = 0;
    for v in &decisions {
        let p = &v["pacing"];
        assert_eq!(p["mode"], "predictive", "{p:#}");
        assert_pacing_figures(p);
        match p["reason"]["kind"].as_str().unwrap() {
            "warming_up" => {
                assert!(!warm, "warming up again after going predictive: {p:#}");
                warming_views += 1;
                assert_eq!(p["followed"], "progressive", "{p:#}");
                let r = &p["reason"];
                assert_eq!(
                    (&r["needed"], &r["live_needed"]),
                    (&json!(WARMUP_RESOLVED), &json!(WARMUP_LIVE)),
                    "{p:#}"
                );
                assert!(
                    r["resolved"].as_u64().unwrap() < WARMUP_RESOLVED
                        || r["live"].as_u64().unwrap() < WARMUP_LIVE,
                    "{p:#}"
                );
                assert_eq!(v["stats"]["abandoned"], 0, "{v:#}");
            }
            "predictive" => {
                warm = true;
                assert_eq!(p["followed"], "predictive", "{p:#}")
            }
            // A pause in dialing ahead once abandons reached the cap.
            "at_cap" => {
                warm = true;
                assert_eq!(p["followed"], "progressive", "{p:#}");
                assert!(v["stats"]["abandoned"].as_u64().unwrap() > 0, "{v:#}");
                assert!(
                    p["reason"]["rate"].as_f64().unwrap() >= p["reason"]["cap"].as_f64().unwrap(),
                    "{p:#}"
                );
            }
            other => panic!("the pacer gave {other} with four agents logged in: {p:#}"),
        }
    }
    let predictive_seen = decisions
        .iter()
        .find(|v| v["pacing"]["followed"] == "predictive")
        .unwrap_or_else(|| panic!("never followed predictive: {decisions:#?}"));
    assert!(
        predictive_seen["pacing"]["safety"].as_f64().unwrap() > 0.0,
        "{predictive_seen:#}"
    );

    assert!(warming_views > 0, "never warming up: {decisions:#?}");

    // While warming up, no more calls in flight than agents; once warm, it dialed ahead: more
    // customer calls in flight at once than the campaign has agents.
    let (warming, most) = in_flight_by_phase(&events, id);
    assert!(
        warming.dials >= WARMUP_RESOLVED as usize / agent_ids.len(),
        "{warming:?}"
    );
    assert!(
        warming.most <= agent_ids.len(),
        "{} calls in flight while warming up with {} agents",
        warming.most,
        agent_ids.len()
    );
    assert!(
        most > agent_ids.len(),
        "at most {most} calls in flight after the warm-up with {} agents",
        agent_ids.len()
    );

    // Every person who answered was with an agent within 2 s of the end of their greeting
    // (less than that after the verdict), or abandoned and heard the abandon message.
    let number_of: BTreeMap<u64, String> = entries(&h, id).into_iter().collect();
    let answered = of_kind(&events, id, "answered");
    let connected = of_kind(&events, id, "connected");
    let abandoned = of_kind(&events, id, "abandoned");
    let same = |a: &Value, b: &Value| a["entry"] == b["entry"] && a["attempt"] == b["attempt"];
    let humans: Vec<&Value> = answered
        .iter()
        .filter(|a| a["verdict"] == "human")
        .collect();
    let mut abandons = 0;
    for a in &humans {
        let number = &number_of[&a["entry"].as_u64().unwrap()];
        assert!(
            talkers.contains(number),
            "{number} answered as a person: {a}"
        );
        let verdict_at = millis(&a["ts"]);
        let taken = connected.iter().find(|c| same(c, a));
        let dropped = abandoned.iter().find(|c| same(c, a));
        match (taken, dropped) {
            (Some(c), None) => {
                let after = millis(&c["ts"]) - verdict_at;
                assert!(
                    after < CONNECT_WITHIN_MS && c["late"] == false && c["live"] == true,
                    "{number} connected {after} ms after the verdict: {c}"
                );
            }
            (None, Some(d)) => {
                abandons += 1;
                let after = millis(&d["ts"]) - verdict_at;
                assert!(
                    (CONNECT_WITHIN_MS - AFTER_GREETING_MS - 400..CONNECT_WITHIN_MS - 300)
                        .contains(&after),
                    "{number} abandoned {after} ms after the verdict: {d}"
                );
                // The abandon message reached the person's phone (the person hangs up 6 s
                // after the answer, maybe before the message ends).
                let mut end = None;
                poll_until(Duration::from_secs(15), || {
                    end = gw
                        .steps()
                        .into_iter()
                        .find(|s| s.number == *number && s.what.starts_with("bye"));
                    end.is_some()
                });
                let end = end.unwrap_or_else(|| panic!("{number}'s call never ended"));
                let abandoned_at = millis(&d["ts"]);
                let message = gw
                    .heard_between(number, abandoned_at, end.at_ms)
                    .iter()
                    .filter(|p| p.pt == gateway::PCMA && audio::is_sound(&p.payload))
                    .count();
                assert!(
                    message >= 25,
                    "{number} heard {message} frames of sound between the abandon at \
                     {abandoned_at} and the end at {}",
                    end.at_ms
                );
            }
            other => panic!("{number}: a live answer connected and abandoned? {other:?}"),
        }
    }
    assert!(
        humans.len() >= talkers.len(),
        "{} live answers of {} people",
        humans.len(),
        talkers.len()
    );
    assert_eq!(stats["live_answered"], humans.len(), "{stats:#}");
    assert_eq!(stats["abandoned"], abandons, "{stats:#}");
    let rate = stats["abandon_rate"].as_f64().unwrap();
    let expected = abandons as f64 / humans.len() as f64;
    assert!((rate - expected).abs() < 1e-9, "{stats:#}");
    assert_eq!(stats["abandon_cap"], 0.03, "{stats:#}");
    assert!(
        (stats["abandon_aim"].as_f64().unwrap() - 0.024).abs() < 1e-9,
        "{stats:#}"
    );
    let connects = connected.len() as u64;
    assert_eq!(stats["connected"], connects, "{stats:#}");
    let dials = stats["dials"].as_u64().unwrap();
    assert_eq!(
        dials as usize,
        of_kind(&events, id, "attempt_started").len()
    );
    let ratio = stats["pacing_ratio"].as_f64().unwrap();
    assert!(
        (ratio - dials as f64 / connects as f64).abs() < 1e-9 && ratio > 1.0,
        "{stats:#}"
    );
    let by_result = &stats["by_result"];
    assert_eq!(by_result["abandoned"].as_u64().unwrap_or(0), abandons);
    assert_eq!(by_result["connected"], connects, "{stats:#}");
    // The metrics say the same.
    let sample = |name: &str| format!("hotline_campaign_{name}{{campaign=\"{id}\"}}");
    let secs = Duration::from_secs(5);
    h.wait_metric(&sample("abandon_rate"), rate, secs);
    h.wait_metric(&sample("pacing_ratio"), ratio, secs);
    h.wait_metric(&sample("dials_total"), dials as f64, secs);

    // Machines were dropped and never reached an agent.
    for number in &machines {
        let entry = number_of
            .iter()
            .find(|(_, n)| *n == number)
            .map(|(e, _)| *e)
            .unwrap();
        let answers: Vec<&Value> = answered.iter().filter(|a| a["entry"] == entry).collect();
        assert_eq!(answers.len(), 1, "{number}: {answers:?}");
        assert_eq!(answers[0]["verdict"], "machine", "{number}: {}", answers[0]);
        let ended: Vec<Value> = of_kind(&events, id, "attempt_ended")
            .into_iter()
            .filter(|e| e["entry"] == entry)
            .collect();
        assert_eq!(ended.len(), 1, "{number}: {ended:?}");
        assert_eq!(ended[0]["result"], "machine_dropped", "{number}");
        assert!(
            !connected
                .iter()
                .chain(&abandoned)
                .any(|e| e["entry"] == entry),
            "the machine {number} went to an agent"
        );
        gw.wait_step("bye_in", number, 1, Duration::from_secs(5));
    }
    assert_eq!(by_result["machine_dropped"], machines.len(), "{stats:#}");
    // Only people went to the agents' queue.
    let queued = events.iter().filter(|e| e["type"] == "call.queued").count();
    assert_eq!(queued, humans.len(), "calls queued for the agents");

    // Busy lines: redialed once, 3 s later, then given up.
    for number in &busy {
        let tries = gw.invites_of(number);
        assert_eq!(tries.len(), 2, "{number}: {tries:?}");
        assert!(
            tries[1].at_ms - tries[0].at_ms >= 2_900,
            "{number} redialed {} ms later",
            tries[1].at_ms - tries[0].at_ms
        );
    }
    assert_eq!(by_result["busy"], 2 * busy.len(), "{stats:#}");
    // Unanswered phones rang 15 s.
    for number in &no_answer {
        let invite = gw.wait_step("invite", number, 1, Duration::from_secs(1));
        let cancel = gw.wait_step("cancel", number, 1, Duration::from_secs(5));
        let rang = cancel.at_ms - invite.at_ms;
        assert!((15_000..30_000).contains(&rang), "{number} rang {rang} ms");
    }
    assert_eq!(by_result["no_answer"], no_answer.len(), "{stats:#}");

    // No number dialed twice at once: each attempt ended before the next started.
    let mut open: BTreeSet<u64> = BTreeSet::new();
    for e in events.iter().filter(|e| e["campaign"] == id) {
        let entry = e["entry"].as_u64().unwrap_or(u64::MAX);
        match e["type"].as_str().unwrap_or_default() {
            "campaign.attempt_started" => {
                assert!(
                    open.insert(entry),
                    "{} dialed twice at once",
                    number_of[&entry]
                )
            }
            "campaign.attempt_ended" => assert!(open.remove(&entry), "{e}"),
            _ => {}
        }
    }
    assert!(open.is_empty(), "attempts never ended: {open:?}");
    // Every number was dialed, as often as its behaviour wants.
    for number in talkers.iter().chain(&machines).chain(&no_answer) {
        assert_eq!(gw.invites_of(number).len(), 1, "{number}");
    }

    // At the end: every record finished, the agents ready, no call left.
    assert_eq!(stats["pending"], 0, "{stats:#}");
    for agent in agent_ids {
        h.wait_agent_state(agent, "ready", Duration::from_secs(15));
    }
    h.wait_metric("hotline_active_calls", 0.0, Duration::from_secs(15));
    h.wait_metric("hotline_rtp_ports_in_use", 0.0, Duration::from_secs(15));
    eprintln!(
        "predictive: {} dials, {} connected, {} live answers, {} abandoned, warm-up {} dials \
         (at most {} in flight), then most in flight {most}, pacing ratio {ratio:.2}, views {}",
        dials,
        connects,
        humans.len(),
        abandons,
        warming.dials,
        warming.most,
        seen.len()
    );
}

#[test]
fn predictive_with_fewer_agents_than_its_minimum_dials_progressively_until_enough_log_in() {
    let ringing = numbers(51, 6);
    let pending = Pending::new(Setup {
        numbers: Numbers {
            no_answer: ringing.clone(),
            ..Numbers::default()
        },
        talker_scripts: BTreeMap::new(),
        ring_ms: 500,
        talk_ms: 5_000,
        wait_bye_ms: 30_000,
    });
    let h = Hotline::start(options(pending.address()));
    let _gw = pending.spawn();
    let _a1 = agent(&h, "1001");
    let _a2 = agent(&h, "1002");

    let id = "fewagents";
    // No warm-up: it dials ahead as soon as the third agent logs in.
    let mut spec = predictive(id);
    spec["warmup_resolved_dials"] = json!(0);
    spec["warmup_live_answers"] = json!(0);
    campaign::create(&h, &spec, &list(&ringing), &[]);
    campaign::start(&h, id);

    // Two agents of a minimum of 3: one call per free agent, and the reason.
    let mut seen = vec![];
    let view = watch(&h, id, 20, &mut seen, |v| {
        v["stats"]["in_progress"] == 2 && v["pacing"].is_object()
    });
    let pacing = &view["pacing"];
    assert_eq!(pacing["mode"], "predictive", "{pacing:#}");
    assert_eq!(pacing["followed"], "progressive", "{pacing:#}");
    assert_eq!(
        pacing["reason"],
        json!({"kind": "too_few_agents", "agents": 2, "min": MIN_AGENTS}),
        "{pacing:#}"
    );
    assert_pacing_figures(pacing);
    // Over two and a half seconds (the driver decides at least once a second), still two calls.
    let since = Instant::now();
    watch(&h, id, 10, &mut seen, |_| {
        since.elapsed() >= Duration::from_millis(2_500)
    });
    for v in seen.iter().filter(|v| v["pacing"].is_object()) {
        assert_eq!(v["pacing"]["reason"]["kind"], "too_few_agents", "{v:#}");
        assert_eq!(v["stats"]["dials"], 2, "{v:#}");
    }

    // A third agent logs in: predictive, and more calls than the three free agents.
    let _a3 = agent(&h, "1003");
    let view = watch(&h, id, 15, &mut seen, |v| {
        v["pacing"]["followed"] == "predictive" && v["stats"]["dials"].as_u64() > Some(3)
    });
    let pacing = &view["pacing"];
    assert_eq!(pacing["reason"]["kind"], "predictive", "{pacing:#}");
    assert_pacing_figures(pacing);
    assert!(
        pacing["expected_free"].as_f64().unwrap() <= 3.0,
        "{pacing:#}"
    );
    let events = h.events();
    let most = most_in_flight(&events, id);
    assert!(most > 3, "{most} calls in flight with three free agents");
    // While two agents were logged in, two calls: every later dial came after the third agent
    // logged in.
    let third = events
        .iter()
        .position(|e| e["type"] == "agent.registered" && e["agent_id"] == "1003")
        .unwrap_or_else(|| panic!("agent 1003 never in the journal"));
    let started: Vec<usize> = events
        .iter()
        .enumerate()
        .filter(|(_, e)| e["type"] == "campaign.attempt_started")
        .map(|(i, _)| i)
        .collect();
    assert!(
        started.iter().filter(|i| **i < third).count() == 2 && started.len() > 3,
        "dials at journal positions {started:?}, agent 1003 logged in at {third}"
    );
    // Nobody answered: every agent is still free.
    for agent in ["1001", "1002", "1003"] {
        assert_eq!(h.agent(agent)["state"], "ready");
    }
}
