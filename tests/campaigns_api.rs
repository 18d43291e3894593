//! Outbound campaigns through the API on real UDP: a progressive campaign is created, its list
//! uploaded as CSV (the answer gives the verdict on every line, and a second upload of the same
//! file adds nothing), a number joins the campaign's do-not-call list, and the campaign is
//! started, paused and resumed. Once the only agent (a registered SIPp phone) is ready, the
//! do-not-call record is given up and the record whose local time is outside the calling window
//! is held, neither reaching the trunk; the first dialable record's INVITE reaches the trunk
//! (played by the test) with the campaign's caller ID, after its `campaign.attempt_started` is
//! on disk, and is answered busy; the next one rings. The API and the metrics show the dials,
//! outcomes and progress. hotline is then killed while the phone rings: the restart restores
//! the campaign and its records from the journal, the cut attempt ends `unknown`, and nothing
//! is dialed again.
//!
//! A preview campaign's list goes up through `hotline campaign import --server`, which prints
//! the server's report; the free agent reads the record offered through the API, skips it,
//! reads the next one and accepts it, which is dialed at once with the agent on its
//! `campaign.attempt_started`; the skipped record is not dialed.

#![allow(clippy::unwrap_used)]

#[allow(dead_code)]
#[path = "trunk/raw_trunk.rs"]
mod raw_trunk;
mod support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use raw_trunk::RawTrunk;
use serde_json::{json, Value};
use support::agent::{AgentSetup, SippAgent};
use support::uac::Sip;
use support::{poll_until, Hotline, Options};

const TOKEN: &str = "hotline-demo-token";
const CALLER_ID: &str = "+8675512345678";

/// One trunk whose gateway is `gateway`.
fn options(gateway: SocketAddr) -> Options {
    let trunk = support::carrier_trunk(CALLER_ID, gateway, "+86XXXXXXXXXXX", "");
    Options {
        config_edits: vec![trunk],
        ..Options::default()
    }
}

/// One API request with a raw body; the status and the JSON answer (`null` when empty).
fn request(h: &Hotline, method: &str, path: &str, content_type: &str, body: &str) -> (u16, Value) {
    let mut s = TcpStream::connect_timeout(&h.http, Duration::from_secs(2)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nAuthorization: Bearer {TOKEN}\r\n\
         Content-Type: {content_type}\r\nContent-Length: {}\r\n\r\n{body}",
        h.http,
        body.len()
    );
    s.write_all(req.as_bytes()).unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let status = raw.split(' ').nth(1).unwrap().parse().unwrap();
    let text = raw.split("\r\n\r\n").nth(1).unwrap_or_default();
    (status, serde_json::from_str(text).unwrap_or(Value::Null))
}

fn api(h: &Hotline, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    request(h, method, path, "application/json", &body)
}

/// An IANA zone (`Etc/GMT-8`) whose local hour now is within `hours`.
fn zone_at_local_hours(hours: std::ops::RangeInclusive<i64>) -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let utc_hour = i64::try_from(secs / 3600 % 24).unwrap();
    let offset = (-12..=14)
        .find(|o| hours.contains(&(utc_hour + o).rem_euclid(24)))
        .unwrap();
    match offset {
        0 => "Etc/GMT".to_string(),
        o if o > 0 => format!("Etc/GMT-{o}"),
        o => format!("Etc/GMT+{}", -o),
    }
}

fn campaign(h: &Hotline) -> Value {
    let (status, c) = api(h, "GET", "/api/v1/campaigns/renewals", None);
    assert_eq!(status, 200, "{c}");
    c
}

fn control(h: &Hotline, action: &str) -> (u16, Value) {
    api(
        h,
        "POST",
        &format!("/api/v1/campaigns/renewals/{action}"),
        None,
    )
}

/// The next new INVITE the trunk receives (retransmissions skipped).
fn next_invite(
    trunk: &RawTrunk,
    seen: &mut Vec<String>,
    timeout: Duration,
) -> Option<(Sip, SocketAddr)> {
    let deadline = Instant::now() + timeout;
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        let (m, from) = trunk.recv(left)?;
        let call_id = m.header("call-id").unwrap_or_default().to_string();
        if m.start.starts_with("INVITE ") && !seen.contains(&call_id) {
            seen.push(call_id);
            return Some((m, from));
        }
    }
    None
}

fn of_entry<'a>(events: &'a [Value], kind: &str, entry: u64) -> Vec<&'a Value> {
    events
        .iter()
        .filter(|e| e["type"] == kind && e["campaign"] == "renewals" && e["entry"] == entry)
        .collect()
}

#[test]
fn a_campaign_is_created_loaded_run_and_restored_without_redialing() {
    let trunk = RawTrunk::bind();
    let opts = options(trunk.addr);
    let h = Hotline::start(opts.clone());
    let _agent = SippAgent::start(
        &h,
        AgentSetup {
            id: "1001",
            hold_ms: 120_000,
            ..AgentSetup::default()
        },
    );
    let (status, r) = api(
        &h,
        "POST",
        "/api/v1/agents/1001/state",
        Some(json!({"state": "not_ready", "reason": "meeting"})),
    );
    assert_eq!(status, 200, "{r}");
    h.wait_agent_state("1001", "not_ready", Duration::from_secs(5));

    // Create: the profile comes from the `campaigns:` section's default.
    let inside = zone_at_local_hours(10..=19);
    let outside = zone_at_local_hours(1..=6);
    let spec = json!({
        "id": "renewals", "mode": "progressive",
        "audience": {"agents": {"queue": "support"}},
        "caller_id": CALLER_ID, "default_zone": inside,
        "trunk": {"name": "carrier", "channels": 4},
        "retry": {"busy": {"delay": "10m", "max_attempts": 3}},
        "amd": {"enabled": false},
        "abandon_message": {"prompt": "goodbye", "callback_number": CALLER_ID}
    });
    let (status, c) = api(&h, "POST", "/api/v1/campaigns", Some(spec.clone()));
    assert_eq!(status, 201, "{c}");
    assert_eq!(c["stats"]["state"], "created", "{c}");
    assert_eq!(c["spec"]["profile"], "us", "{c}");
    assert_eq!(c["spec"]["min_agents_predictive"], 15, "{c}");
    let (status, _) = api(&h, "POST", "/api/v1/campaigns", Some(spec));
    assert_eq!(status, 409, "a second campaign with the same id");
    let agentless_without_flow = json!({
        "id": "survey", "mode": "agentless", "audience": {"agents": {"queue": "support"}},
        "caller_id": CALLER_ID, "trunk": {"name": "carrier", "channels": 1}
    });
    let (status, e) = api(
        &h,
        "POST",
        "/api/v1/campaigns",
        Some(agentless_without_flow),
    );
    assert_eq!(status, 400, "{e}");
    assert!(e["error"].as_str().unwrap().contains("flow"), "{e}");

    // Upload: a verdict on every line.
    let csv = format!(
        "phone,name,time_zone\n+8613800000011,Dora,{inside}\n+8613800000012,Olga,{outside}\n\
         +8613800000013,Ann,\n+8613800000014,Bob,\n12ab,Bad,\n+8613800000013,Ann again,\n"
    );
    let path = "/api/v1/campaigns/renewals/records";
    let (status, up) = request(&h, "POST", path, "text/csv", &csv);
    assert_eq!(status, 200, "{up}");
    assert_eq!(up["added"], 4, "{up}");
    assert_eq!(up["summary"]["lines"], 6, "{up}");
    assert_eq!(up["summary"]["rejected"], 2, "{up}");
    let verdicts: Vec<(u64, String)> = up["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            let v = l["reason"].as_str().or(l["verdict"].as_str()).unwrap();
            (l["line"].as_u64().unwrap(), v.to_string())
        })
        .collect();
    let expected: Vec<(u64, String)> = [
        (2, "ok"),
        (3, "ok"),
        (4, "ok"),
        (5, "ok"),
        (6, "invalid_number"),
        (7, "duplicate"),
    ]
    .iter()
    .map(|(l, v)| (*l, v.to_string()))
    .collect();
    assert_eq!(verdicts, expected, "{up}");
    // The same file again: every number is in the campaign already.
    let (status, again) = request(&h, "POST", path, "text/csv", &csv);
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["added"], 0, "{again}");
    assert_eq!(again["not_added"].as_array().unwrap().len(), 4, "{again}");
    assert!(again["not_added"]
        .as_array()
        .unwrap()
        .iter()
        .all(|n| n["reason"] == "duplicate"));
    let (status, e) = request(&h, "POST", path, "text/csv", "+8613800000015\n");
    assert_eq!(status, 400, "a list without its header line: {e}");
    // The campaign's own do-not-call list.
    let (status, d) = request(
        &h,
        "POST",
        "/api/v1/campaigns/renewals/dnc",
        "text/plain",
        "# asked not to be called\n+8613800000011\n",
    );
    assert_eq!((status, &d["added"]), (200, &json!(1)), "{d}");

    let c = campaign(&h);
    assert_eq!(
        (&c["stats"]["total"], &c["stats"]["pending"]),
        (&json!(4), &json!(4)),
        "{c}"
    );
    let (status, list) = api(&h, "GET", "/api/v1/campaigns", None);
    assert_eq!(status, 200);
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");

    // Start, pause, resume; a wrong transition is refused; an unknown campaign is 404.
    let (status, c) = control(&h, "resume");
    assert_eq!(status, 409, "{c}");
    let (status, c) = control(&h, "start");
    assert_eq!(
        (status, &c["stats"]["state"]),
        (200, &json!("running")),
        "{c}"
    );
    let (status, c) = control(&h, "pause");
    assert_eq!(
        (status, &c["stats"]["state"]),
        (200, &json!("paused")),
        "{c}"
    );
    let (status, _) = control(&h, "pause");
    assert_eq!(status, 409);
    let (status, c) = control(&h, "resume");
    assert_eq!(
        (status, &c["stats"]["state"]),
        (200, &json!("running")),
        "{c}"
    );
    let (status, _) = api(&h, "POST", "/api/v1/campaigns/nope/start", None);
    assert_eq!(status, 404);

    // The agent is ready: one dial at a time.
    let (status, r) = api(
        &h,
        "POST",
        "/api/v1/agents/1001/state",
        Some(json!({"state": "ready"})),
    );
    assert_eq!(status, 200, "{r}");
    let mut seen = Vec::new();
    let (invite, from) = next_invite(&trunk, &mut seen, Duration::from_secs(10))
        .unwrap_or_else(|| panic!("no campaign INVITE\n{}", h.log()));
    // Its attempt was on disk before the INVITE left.
    let events = h.events();
    let started = of_entry(&events, "campaign.attempt_started", 2);
    assert_eq!(started.len(), 1, "{events:?}");
    assert_eq!(started[0]["number"], "+8613800000013");
    assert_eq!(started[0]["attempt"], 1);
    assert!(invite.start.contains("+8613800000013"), "{}", invite.start);
    let from_header = invite.header("from").unwrap_or_default();
    assert!(from_header.contains(CALLER_ID), "{from_header}");
    // The do-not-call and the out-of-window records were checked first and never dialed.
    let given_up = of_entry(&events, "campaign.given_up", 0);
    assert_eq!(given_up.len(), 1, "{events:?}");
    assert_eq!(given_up[0]["reason"], "do_not_call");
    let held = of_entry(&events, "campaign.held", 1);
    assert_eq!(held.len(), 1, "{events:?}");
    assert_eq!(held[0]["reason"], "outside_window");

    trunk.respond(&invite, from, "486 Busy Here", &[]);
    let ended = h.wait_event("the busy attempt's end", Duration::from_secs(10), |e| {
        e["type"] == "campaign.attempt_ended" && e["entry"] == 2
    });
    assert_eq!(ended["result"], "busy", "{ended}");
    assert_eq!(ended["outcome"]["sip_status"], 486, "{ended}");
    assert_eq!(ended["next"]["step"], "retry", "{ended}");

    // The next record rings; hotline is killed while it does.
    let (second, from) = next_invite(&trunk, &mut seen, Duration::from_secs(10))
        .unwrap_or_else(|| panic!("no second campaign INVITE\n{}", h.log()));
    assert!(second.start.contains("+8613800000014"), "{}", second.start);
    trunk.respond(&second, from, "180 Ringing", &[]);
    let c = campaign(&h);
    let stats = &c["stats"];
    assert_eq!(stats["dials"], 2, "{c}");
    assert_eq!(stats["in_progress"], 1, "{c}");
    assert_eq!(stats["by_result"]["busy"], 1, "{c}");
    assert_eq!(stats["given_up"]["do_not_call"], 1, "{c}");
    let metrics_shown = poll_until(Duration::from_secs(5), || {
        support::http::get(h.http, "/metrics", None)
            .map(|r| {
                r.body
                    .contains("hotline_campaign_dials_total{campaign=\"renewals\"} 2")
                    && r.body.contains(
                        "hotline_campaign_attempts_total{campaign=\"renewals\",result=\"busy\"} 1",
                    )
                    && r.body.contains(
                        "hotline_campaign_records{campaign=\"renewals\",state=\"in_progress\"} 1",
                    )
            })
            .unwrap_or(false)
    });
    assert!(
        metrics_shown,
        "{:?}",
        support::http::get(h.http, "/metrics", None).map(|r| r.body)
    );

    let (sip, http) = (h.sip, h.http);
    let mut h = h;
    let dir = std::mem::replace(&mut h.dir, tempfile::tempdir().unwrap());
    drop(h);
    let h = Hotline::start_in(dir, sip, http, opts);
    let unknown = h.wait_event("the cut attempt", Duration::from_secs(10), |e| {
        e["type"] == "campaign.attempt_ended" && e["entry"] == 3
    });
    assert_eq!(unknown["result"], "unknown", "{unknown}");
    assert_eq!(unknown["next"]["step"], "retry", "{unknown}");
    let c = campaign(&h);
    let stats = &c["stats"];
    assert_eq!(stats["state"], "running", "{c}");
    assert_eq!(
        (&stats["total"], &stats["dials"], &stats["in_progress"]),
        (&json!(4), &json!(2), &json!(0)),
        "{c}"
    );
    assert_eq!(stats["by_result"]["unknown"], 1, "{c}");
    assert_eq!(stats["by_result"]["busy"], 1, "{c}");
    // The agent is ready again and nothing is due: no INVITE, no new attempt.
    h.wait_agent_state("1001", "ready", Duration::from_secs(10));
    assert!(
        next_invite(&trunk, &mut seen, Duration::from_secs(3)).is_none(),
        "redialed after the restart"
    );
    let starts = h
        .events()
        .iter()
        .filter(|e| e["type"] == "campaign.attempt_started")
        .count();
    assert_eq!(starts, 2, "{}", h.log());
}

/// `hotline campaign import FILE --server ... --campaign ... --token ...`; its exit code and
/// standard output.
fn cli_upload(h: &Hotline, file: &std::path::Path, campaign: &str) -> (Option<i32>, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hotline"))
        .args(["campaign", "import"])
        .arg(file)
        .args(["--server", &format!("http://{}", h.http)])
        .args(["--campaign", campaign, "--token", TOKEN])
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn a_preview_agent_sees_the_record_skips_one_and_accepts_the_next_which_is_dialed() {
    let trunk = RawTrunk::bind();
    let h = Hotline::start(options(trunk.addr));
    let _agent = SippAgent::start(
        &h,
        AgentSetup {
            id: "1001",
            hold_ms: 120_000,
            ..AgentSetup::default()
        },
    );
    h.wait_agent_state("1001", "ready", Duration::from_secs(5));
    let inside = zone_at_local_hours(10..=19);
    let spec = json!({
        "id": "winback", "mode": "preview",
        "audience": {"agents": {"queue": "support"}},
        "caller_id": CALLER_ID, "default_zone": inside,
        "trunk": {"name": "carrier", "channels": 2},
        "amd": {"enabled": false},
        "abandon_message": {"prompt": "goodbye", "callback_number": CALLER_ID}
    });
    let (status, c) = api(&h, "POST", "/api/v1/campaigns", Some(spec));
    assert_eq!(status, 201, "{c}");

    // The list goes up through the command line; its report comes back from the server.
    let list = h.dir.path().join("winback.csv");
    std::fs::write(
        &list,
        "phone,name,plan\n+8613800000021,Ann,gold\n+8613800000022,Bob,silver\nnot-a-number,Eve,\n",
    )
    .unwrap();
    let (code, out) = cli_upload(&h, &list, "winback");
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("3 lines, 2 accepted, 1 rejected; 2 added to campaign winback"),
        "{out}"
    );
    assert!(out.contains("      4  invalid_number"), "{out}");
    let (code, _) = cli_upload(&h, &list, "nope");
    assert_eq!(code, Some(1), "an unknown campaign is refused");

    let (status, _) = api(&h, "POST", "/api/v1/campaigns/winback/start", None);
    assert_eq!(status, 200);
    // The first record is offered to the free agent; nothing is dialed before a decision.
    let offered = h.wait_event("the first offer", Duration::from_secs(10), |e| {
        e["type"] == "campaign.offered" && e["entry"] == 0
    });
    assert_eq!(offered["agent_id"], "1001", "{offered}");
    let (status, shown) = api(&h, "GET", "/api/v1/agents/1001/preview", None);
    assert_eq!(status, 200);
    assert_eq!(shown[0]["campaign"], "winback", "{shown}");
    assert_eq!(shown[0]["record"]["number"], "+8613800000021", "{shown}");
    assert_eq!(shown[0]["record"]["attributes"]["plan"], "gold", "{shown}");
    let (status, none) = api(&h, "GET", "/api/v1/agents/1002/preview", None);
    assert_eq!((status, none), (200, json!([])));
    // Deciding on a record not offered to the agent is refused.
    let (status, _) = api(&h, "POST", "/api/v1/agents/1001/preview/1/accept", None);
    assert_eq!(status, 409);
    let (status, r) = api(&h, "POST", "/api/v1/agents/1001/preview/0/skip", None);
    assert_eq!(status, 200, "{r}");
    let skipped = h.wait_type("campaign.offer_skipped", Duration::from_secs(5));
    assert_eq!(skipped["reason"], "agent", "{skipped}");

    // The next record is offered; accepted, it is dialed at once with the agent on record.
    h.wait_event("the second offer", Duration::from_secs(10), |e| {
        e["type"] == "campaign.offered" && e["entry"] == 1
    });
    let (status, shown) = api(&h, "GET", "/api/v1/agents/1001/preview", None);
    assert_eq!((status, &shown[0]["entry"]), (200, &json!(1)), "{shown}");
    let (status, r) = api(&h, "POST", "/api/v1/agents/1001/preview/1/accept", None);
    assert_eq!(status, 200, "{r}");
    let mut seen = Vec::new();
    let (invite, from) = next_invite(&trunk, &mut seen, Duration::from_secs(10))
        .unwrap_or_else(|| panic!("no INVITE for the accepted record\n{}", h.log()));
    assert!(invite.start.contains("+8613800000022"), "{}", invite.start);
    let events = h.events();
    let started = of_campaign_entry(&events, "winback", "campaign.attempt_started", 1);
    assert_eq!(started.len(), 1, "{events:?}");
    assert_eq!(started[0]["agent"], "1001");
    assert_eq!(started[0]["agent_id"], "1001");
    assert!(of_campaign_entry(&events, "winback", "campaign.attempt_started", 0).is_empty());
    trunk.respond(&invite, from, "486 Busy Here", &[]);
    let ended = h.wait_event("the preview dial's end", Duration::from_secs(10), |e| {
        e["type"] == "campaign.attempt_ended" && e["campaign"] == "winback"
    });
    assert_eq!(ended["result"], "busy", "{ended}");
    let (status, c) = api(&h, "GET", "/api/v1/campaigns/winback", None);
    assert_eq!(status, 200);
    assert_eq!(c["stats"]["dials"], 1, "{c}");
    assert_eq!(c["stats"]["by_result"]["busy"], 1, "{c}");
}

fn of_campaign_entry<'a>(
    events: &'a [Value],
    campaign: &str,
    kind: &str,
    entry: u64,
) -> Vec<&'a Value> {
    events
        .iter()
        .filter(|e| e["type"] == kind && e["campaign"] == campaign && e["entry"] == entry)
        .collect()
}

/// The verdicts of an import's answer as (line, verdict, number or reason).
fn dnc_verdicts(answer: &Value) -> Vec<(u64, String, String)> {
    answer["lines"]
        .as_array()
        .unwrap_or_else(|| panic!("no lines: {answer}"))
        .iter()
        .map(|l| {
            let what = l["number"].as_str().or(l["reason"].as_str()).unwrap_or("");
            (
                l["line"].as_u64().unwrap(),
                l["verdict"].as_str().unwrap().to_string(),
                what.to_string(),
            )
        })
        .collect()
}

fn verdict(line: u64, verdict: &str, what: &str) -> (u64, String, String) {
    (line, verdict.to_string(), what.to_string())
}

/// Creates the progressive campaign `id` on the trunk `carrier` for the queue `support`.
fn create_progressive(h: &Hotline, id: &str) {
    let spec = json!({
        "id": id, "mode": "progressive",
        "audience": {"agents": {"queue": "support"}},
        "caller_id": CALLER_ID, "trunk": {"name": "carrier", "channels": 2},
        "amd": {"enabled": false},
        "abandon_message": {"prompt": "goodbye", "callback_number": CALLER_ID}
    });
    let (status, c) = api(h, "POST", "/api/v1/campaigns", Some(spec));
    assert_eq!(status, 201, "{c}");
}

#[test]
fn do_not_call_lists_are_imported_in_bulk_with_a_verdict_per_line_listed_and_removed() {
    let trunk = RawTrunk::bind();
    let opts = options(trunk.addr);
    let h = Hotline::start(opts.clone());
    create_progressive(&h, "renewals");

    // The global list: a CSV export, national numbers read in the country given.
    let csv = "phone,name\n020 7946 0001,Ann\n12ab,Bad\n+44 20 7946 0002,Bob\n\
               02079460001,Ann again\n,Nobody\n";
    let (status, up) = request(&h, "POST", "/api/v1/dnc?country=GB", "text/csv", csv);
    assert_eq!(status, 200, "{up}");
    assert_eq!(
        dnc_verdicts(&up),
        [
            verdict(2, "added", "+442079460001"),
            verdict(3, "rejected", "invalid_number"),
            verdict(4, "added", "+442079460002"),
            verdict(5, "duplicate", "+442079460001"),
            verdict(6, "rejected", "missing_number"),
        ],
        "{up}"
    );
    assert_eq!(
        (&up["added"], &up["summary"]["rejected"]),
        (&json!(2), &json!(2))
    );
    assert_eq!(up["lines"][1]["input"], "12ab", "{up}");
    // JSON numbers: one listed already, one new.
    let (status, up) = api(
        &h,
        "POST",
        "/api/v1/dnc?country=GB",
        Some(json!({"numbers": ["020 7946 0002", "+442079460003"]})),
    );
    assert_eq!(status, 200, "{up}");
    assert_eq!(
        dnc_verdicts(&up),
        [
            verdict(1, "already_listed", "+442079460002"),
            verdict(2, "added", "+442079460003"),
        ]
    );
    let (status, e) = request(&h, "POST", "/api/v1/dnc?country=XX", "text/plain", "1\n");
    assert_eq!(status, 400, "{e}");
    // One file, the campaigns' and the callbacks' list alike.
    let file = std::fs::read_to_string(h.dir.path().join("dnc.txt")).unwrap();
    assert_eq!(file, "+442079460001\n+442079460002\n+442079460003\n");
    let (status, page) = api(&h, "GET", "/api/v1/dnc?limit=2", None);
    assert_eq!(status, 200, "{page}");
    assert_eq!(
        (&page["numbers"], &page["total"], &page["next_offset"]),
        (
            &json!(["+442079460001", "+442079460002"]),
            &json!(3),
            &json!(2)
        ),
        "{page}"
    );
    let (status, r) = api(&h, "DELETE", "/api/v1/dnc/+442079460002", None);
    assert_eq!(status, 200, "{r}");
    let (_, page) = api(&h, "GET", "/api/v1/dnc?offset=1", None);
    assert_eq!(page["numbers"], json!(["+442079460003"]), "{page}");
    let file = std::fs::read_to_string(h.dir.path().join("dnc.txt")).unwrap();
    assert_eq!(file, "+442079460001\n+442079460003\n");

    // A campaign's own list: one number per line, UTF-8 with its byte order mark.
    let text = "\u{feff}# asked not to be called\n07700 900123\nnot a number\n+447700900124\n";
    let path = "/api/v1/campaigns/renewals/dnc?country=GB";
    let (status, up) = request(&h, "POST", path, "text/plain", text);
    assert_eq!(status, 200, "{up}");
    assert_eq!(
        dnc_verdicts(&up),
        [
            verdict(2, "added", "+447700900123"),
            verdict(3, "rejected", "invalid_number"),
            verdict(4, "added", "+447700900124"),
        ],
        "{up}"
    );
    let (status, r) = api(
        &h,
        "DELETE",
        "/api/v1/campaigns/renewals/dnc/+447700900123",
        None,
    );
    assert_eq!(status, 200, "{r}");
    let (status, r) = api(
        &h,
        "DELETE",
        "/api/v1/campaigns/renewals/dnc/+447700900123",
        None,
    );
    assert_eq!(status, 404, "removed already: {r}");
    let (status, r) = api(&h, "GET", "/api/v1/campaigns/nope/dnc", None);
    assert_eq!(status, 404, "{r}");
    let removed = h.wait_type("campaign.dnc_removed", Duration::from_secs(5));
    assert_eq!(removed["numbers"], json!(["+447700900123"]), "{removed}");

    // The command line prints the server's report.
    let file = h.dir.path().join("dnc-upload.txt");
    std::fs::write(&file, "07700 900125\n+447700900124\n12ab\n").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hotline"))
        .args(["dnc", "import"])
        .arg(&file)
        .args(["--country", "GB", "--campaign", "renewals"])
        .args(["--server", &format!("http://{}", h.http), "--token", TOKEN])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains(
            "3 lines, 1 added to campaign renewals, 1 already listed, 0 duplicate, 1 rejected"
        ),
        "{stdout}"
    );
    assert!(stdout.contains("      3  invalid number"), "{stdout}");

    // A restart replays the campaign's additions and its removal.
    let (sip, http) = (h.sip, h.http);
    let mut h = h;
    let dir = std::mem::replace(&mut h.dir, tempfile::tempdir().unwrap());
    drop(h);
    let h = Hotline::start_in(dir, sip, http, opts);
    let (status, page) = api(&h, "GET", "/api/v1/campaigns/renewals/dnc", None);
    assert_eq!(status, 200, "{page}");
    assert_eq!(
        page["numbers"],
        json!(["+447700900124", "+447700900125"]),
        "{page}"
    );
}

#[test]
fn a_campaign_naming_an_unknown_trunk_queue_flow_or_prompt_is_refused_naming_the_field() {
    let trunk = RawTrunk::bind();
    let h = Hotline::start(options(trunk.addr));
    let base = json!({
        "id": "checked", "mode": "progressive",
        "audience": {"agents": {"queue": "support"}},
        "caller_id": CALLER_ID, "trunk": {"name": "carrier", "channels": 2},
        "amd": {"enabled": false},
        "abandon_message": {"prompt": "goodbye", "callback_number": CALLER_ID}
    });
    let with = |edit: &dyn Fn(&mut Value)| {
        let mut spec = base.clone();
        edit(&mut spec);
        spec
    };
    let cases: [(Value, &str, &str); 5] = [
        (
            with(&|s| s["trunk"]["name"] = json!("carier")),
            "trunk.name",
            "\"carier\"",
        ),
        (
            with(&|s| s["audience"] = json!({"agents": {"queue": "sales"}})),
            "audience.agents.queue",
            "\"sales\"",
        ),
        (
            with(&|s| {
                s["mode"] = json!("agentless");
                s["audience"] = json!({"flow": {"flow": "999"}});
                s.as_object_mut().unwrap().remove("abandon_message");
            }),
            "audience.flow",
            "\"999\"",
        ),
        (
            with(&|s| s["abandon_message"]["prompt"] = json!("no_such_prompt")),
            "abandon_message.prompt",
            "\"no_such_prompt\"",
        ),
        (
            with(&|s| s["caller_id"] = json!("0755 1234 5678")),
            "caller_id",
            "E.164",
        ),
    ];
    for (spec, field, says) in cases {
        let (status, e) = api(&h, "POST", "/api/v1/campaigns", Some(spec));
        assert_eq!((status, &e["field"]), (400, &json!(field)), "{e}");
        assert!(e["error"].as_str().unwrap().contains(says), "{e}");
    }
    let (status, list) = api(&h, "GET", "/api/v1/campaigns", None);
    assert_eq!(
        (status, list),
        (200, json!([])),
        "nothing refused was created"
    );
    // The same campaigns with what exists are created.
    let agentless = with(&|s| {
        s["id"] = json!("notice");
        s["mode"] = json!("agentless");
        s["audience"] = json!({"flow": {"flow": "100"}});
        s.as_object_mut().unwrap().remove("abandon_message");
    });
    for spec in [base.clone(), agentless] {
        let (status, c) = api(&h, "POST", "/api/v1/campaigns", Some(spec));
        assert_eq!(status, 201, "{c}");
    }
}
