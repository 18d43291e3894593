//! CRM lookups of the dialplan's `http` node on real calls: a SIPp caller is looked up in a local
//! CRM (a plain HTTP server in the test answering JSON), queued, and the SIPp agent's INVITE
//! carries the mapped fields in `X-Hotline-Data`, as does the `call.offered` event; a CRM that
//! never answers sends the caller down `on_failure` once every attempt timed out; the bundled
//! 95500 plan looks callers up in the bundled fixture file when no CRM is configured.

#![allow(clippy::unwrap_used)]

mod support;

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::{json, Value};
use support::agent::{AgentSetup, SippAgent};
use support::sipp::{RunningSipp, Sipp};
use support::{root, Hotline, Options};

/// How the test's CRM behaves.
#[derive(Clone, Copy)]
enum Crm {
    /// Answers every request with this JSON.
    Answers(&'static str),
    /// Reads the request and never answers.
    Silent,
}

/// A CRM on a free port; every request line it receives comes out of the channel.
fn start_crm(behaviour: Crm) -> (SocketAddr, mpsc::Receiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let tx = tx.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                if reader.read_line(&mut line).is_err() {
                    return;
                }
                let _ = tx.send(line.trim_end().to_owned());
                // The rest of the head, up to the blank line.
                let mut header = String::new();
                while reader.read_line(&mut header).is_ok_and(|n| n > 2) {
                    header.clear();
                }
                match behaviour {
                    Crm::Answers(body) => {
                        let _ = write!(
                            stream,
                            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                            body.len()
                        );
                    }
                    // Holds the connection open until hotline gives up and closes it.
                    Crm::Silent => {
                        let mut rest = String::new();
                        let _ = reader.read_line(&mut rest);
                    }
                }
            });
        }
    });
    (addr, rx)
}

/// The config with `crm.url` pointing at the test's CRM.
fn crm_config(crm: SocketAddr) -> Options {
    let url: &'static str = Box::leak(format!("url: http://{crm}").into_boxed_str());
    Options {
        config_edits: vec![("fixture: dialplans/crm_fixture.json", url)],
        ..Options::default()
    }
}

/// Number 300: look the caller up, then queue in support (with `tier: unknown` when the lookup
/// failed).
fn plan(timeout: &str, retries: u32) -> String {
    format!(
        r#"version: 1
country: "1"
numbers:
  "300":
    start: lookup
    nodes:
      lookup:
        http:
          url: "/customers?number=${{caller}}"
          timeout: {timeout}
          retries: {retries}
          map: {{ name: customer.name, tier: /customer/tier, score: customer.score }}
          attach: [name, tier]
          on_failure: unknown
        next: to_queue
      unknown: {{ set: {{ data: {{ tier: unknown }} }}, next: to_queue }}
      to_queue: {{ queue: support }}
"#
    )
}

/// A caller dialing `number` whose SDP points at `rtp`; stays `wait_ms` after the answer.
fn caller(h: &Hotline, rtp: &UdpSocket, number: &str, wait_ms: u64) -> RunningSipp {
    Sipp::new("caller_wait.xml", h.sip)
        .var("wait_ms", wait_ms)
        .key("caller_rtp_port", rtp.local_addr().unwrap().port())
        .args(&["-s", number, "-m", "1"])
        .spawn()
}

/// An agent phone that writes the offer's `X-Hotline-Data` into a file; the file's path.
fn screen_pop_agent(h: &Hotline, id: &'static str) -> (SippAgent, std::path::PathBuf) {
    let dir = Box::leak(Box::new(tempfile::tempdir().unwrap()));
    let file = dir.path().join("screen_pop.json");
    let path: &'static str = Box::leak(file.display().to_string().into_boxed_str());
    let agent = SippAgent::start(
        h,
        AgentSetup {
            id,
            hold_ms: 15_000,
            answer_scenario: "agent_answer_data.xml",
            extra: vec!["-key", "data_file", path],
            ..AgentSetup::default()
        },
    );
    (agent, file)
}

/// The screen pop the agent's phone got, once it rang.
fn screen_pop(file: &std::path::Path) -> Value {
    let mut text = String::new();
    let ok = support::poll_until(Duration::from_secs(10), || {
        text = std::fs::read_to_string(file).unwrap_or_default();
        !text.trim().is_empty()
    });
    assert!(ok, "the agent's phone never got X-Hotline-Data");
    serde_json::from_str(text.trim()).unwrap_or_else(|e| panic!("{e}: {text:?}"))
}

fn rtp_socket() -> UdpSocket {
    UdpSocket::bind("127.0.0.1:0").unwrap()
}

#[test]
fn a_caller_found_in_the_crm_reaches_the_agent_with_the_crm_fields() {
    let (crm, requests) = start_crm(Crm::Answers(
        r#"{"customer":{"name":"Li Na","tier":"gold","score":9}}"#,
    ));
    let h = Hotline::start_with_dialplan(crm_config(crm), &plan("2s", 1));
    let (agent, pop_file) = screen_pop_agent(&h, "1001");
    let rtp = rtp_socket();
    let call = caller(&h, &rtp, "300", 3_000);

    // The CRM was asked once, with the caller's number in E.164, percent-encoded.
    let request = requests.recv_timeout(Duration::from_secs(10)).unwrap();
    assert_eq!(request, "GET /customers?number=%2B15551234 HTTP/1.1");

    let offered = h.wait_event("call.offered", Duration::from_secs(10), |e| {
        e["type"] == "call.offered"
    });
    assert_eq!(
        offered["data"],
        json!({ "name": "Li Na", "tier": "gold" }),
        "only attached fields: {offered}"
    );
    assert_eq!(
        screen_pop(&pop_file),
        json!({ "name": "Li Na", "tier": "gold" })
    );
    h.wait_event("call.answered", Duration::from_secs(10), |e| {
        e["type"] == "call.answered"
    });
    call.wait(Duration::from_secs(15)).assert_ok("caller");
    agent.finish(Duration::from_secs(20)).assert_ok("agent");
    assert!(requests.try_recv().is_err(), "a found caller is asked once");
}

#[test]
fn a_crm_that_never_answers_takes_the_fallback_after_every_attempt_timed_out() {
    let (crm, requests) = start_crm(Crm::Silent);
    let h = Hotline::start_with_dialplan(crm_config(crm), &plan("500ms", 1));
    let rtp = rtp_socket();
    let call = caller(&h, &rtp, "300", 4_000);

    let arrived = h.wait_event("call.arrived", Duration::from_secs(10), |e| {
        e["type"] == "call.arrived"
    });
    let queued = h.wait_event("call.queued", Duration::from_secs(10), |e| {
        e["type"] == "call.queued"
    });
    // Two attempts (one retry) of 500 ms each, then on_failure: no sooner, and not much later.
    let waited = ((seconds_of_day(&queued) - seconds_of_day(&arrived)) * 1000.0).round() as i64;
    assert!(
        (1_000..1_800).contains(&waited),
        "queued {waited} ms after arriving; budget 2 x 500 ms\n{}",
        h.log()
    );
    // The queue entries view shows what the fallback branch attached.
    let r = support::http::get(h.http, "/api/v1/queues", Some("hotline-demo-token")).unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    let queues: Value = serde_json::from_str(&r.body).unwrap();
    let support_queue = queues
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["name"] == "support")
        .cloned()
        .unwrap();
    let entries = support_queue["entries"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(entries.len(), 1, "{support_queue}");
    assert_eq!(
        entries[0]["data"],
        json!({ "tier": "unknown" }),
        "{support_queue}"
    );
    let attempts: Vec<String> = std::iter::from_fn(|| requests.try_recv().ok()).collect();
    assert_eq!(attempts.len(), 2, "{attempts:?}");
    // The fallback branch set its own data, and the reason is in the log.
    assert!(
        h.log().contains("CRM lookup failed: timed out"),
        "{}",
        h.log()
    );
    call.wait(Duration::from_secs(15)).assert_ok("caller");
}

/// Seconds since midnight UTC of an event's `ts` (`...T10:15:02.123Z`).
fn seconds_of_day(event: &Value) -> f64 {
    let ts = event["ts"].as_str().unwrap();
    let time = ts.split('T').nth(1).unwrap().trim_end_matches('Z');
    let mut parts = time.split(':');
    let h: f64 = parts.next().unwrap().parse().unwrap();
    let m: f64 = parts.next().unwrap().parse().unwrap();
    let s: f64 = parts.next().unwrap().parse().unwrap();
    h * 3600.0 + m * 60.0 + s
}

/// The bundled dialplan with the service line open around the clock (see dialplan_language.rs).
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

#[test]
fn the_95500_line_looks_callers_up_in_the_bundled_fixture_without_a_crm() {
    // The bundled fixture, named by absolute path since the server runs outside the repository.
    let fixture: &'static str = Box::leak(
        format!(
            "fixture: {}",
            root().join("dialplans/crm_fixture.json").display()
        )
        .into_boxed_str(),
    );
    let opts = Options {
        config_edits: vec![("fixture: dialplans/crm_fixture.json", fixture)],
        ..Options::default()
    };
    let h = Hotline::start_with_dialplan(opts, &always_open());
    let (agent, pop_file) = screen_pop_agent(&h, "1001");
    // Wang Wei (+8613700000001, national form): English (2), then customer service (1).
    let call = Sipp::new("caller_digits.xml", h.sip)
        .var("from", "13700000001")
        .var("key1", 2)
        .var("key2", 1)
        .var("key3", "pound")
        .var("talk_ms", 6000)
        .key("caller_pt", 0)
        .args(&["-s", "95500", "-m", "1"])
        .spawn();
    let offered = h.wait_event("call.offered", Duration::from_secs(20), |e| {
        e["type"] == "call.offered"
    });
    let expected = json!({ "customer": "Wang Wei", "level": "silver" });
    assert_eq!(offered["data"], expected, "{offered}");
    assert_eq!(offered["queue"], "support");
    assert_eq!(screen_pop(&pop_file), expected);
    call.wait(Duration::from_secs(30)).assert_ok("caller");
    agent.finish(Duration::from_secs(30)).assert_ok("agent");
}

#[test]
fn simulate_answers_the_lookup_from_a_given_fixture() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hotline"))
        .current_dir(root())
        .args([
            "dialplan",
            "simulate",
            "dialplans/default.yaml",
            "--to",
            "95500",
            "--from",
            "+8613700000001",
            "--digits",
            "21",
            "--at",
            "2026-11-23T10:00:00+08:00",
            "--http-fixture",
            "dialplans/crm_fixture.json",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("CRM lookup in lookup: found\n"), "{text}");
    assert!(
        text.ends_with(
            "end: queue support callback_offer 1m survey satisfaction data customer=Wang Wei,level=silver\n"
        ),
        "{text}"
    );
}

#[test]
fn check_reports_a_broken_http_node_where_it_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("plan.yaml");
    std::fs::write(
        &file,
        "version: 1\nnumbers:\n  \"1\":\n    start: a\n    nodes:\n      a: { http: { url: \"ftp://crm\", retries: 9, on_failure: b }, next: b }\n      b: { hangup: true }\n",
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hotline"))
        .args(["dialplan", "check"])
        .arg(&file)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    let path = file.display().to_string();
    assert!(
        err.contains(&format!("{path}:6:")) && err.contains("bad url `ftp://crm`"),
        "{err}"
    );
    assert!(err.contains("bad retries `9`"), "{err}");
}
