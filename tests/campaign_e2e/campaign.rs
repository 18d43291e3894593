//! The campaign API as a test uses it (create, upload a list, do-not-call, start, read the
//! statistics) and the journal's `campaign.*` events read per number.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;

use crate::support::http::{get, post};
use crate::support::{poll_until, Hotline};

/// The demo API token.
pub const TOKEN: &str = "hotline-demo-token";

/// `POST path` with a JSON body: the body of a 2xx answer, else a panic with the answer.
pub fn post_ok(h: &Hotline, path: &str, body: &str) -> Value {
    let r = post(h.http, path, Some(TOKEN), body).unwrap();
    assert!(
        (200..300).contains(&r.status),
        "POST {path}: {} {}",
        r.status,
        r.body
    );
    serde_json::from_str(&r.body).unwrap_or(Value::Null)
}

/// `GET /api/v1/campaigns/{id}`.
pub fn view(h: &Hotline, id: &str) -> Value {
    let r = get(h.http, &format!("/api/v1/campaigns/{id}"), Some(TOKEN)).unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    serde_json::from_str(&r.body).unwrap()
}

/// `GET /api/v1/campaigns/{id}/survey` (JSON; `query` is appended to the path).
pub fn survey(h: &Hotline, id: &str, query: &str) -> Value {
    let r = get(
        h.http,
        &format!("/api/v1/campaigns/{id}/survey{query}"),
        Some(TOKEN),
    )
    .unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    serde_json::from_str(&r.body).unwrap()
}

/// `GET /api/v1/campaigns/{id}/survey?format=csv`: the CSV text.
pub fn survey_csv(h: &Hotline, id: &str) -> String {
    let path = format!("/api/v1/campaigns/{id}/survey?format=csv");
    let r = get(h.http, &path, Some(TOKEN)).unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    r.body
}

/// Creates the campaign of `spec`, uploads `csv` as its list (every line must be accepted)
/// and adds `dnc` to its own do-not-call list.
pub fn create(h: &Hotline, spec: &Value, csv: &str, dnc: &[&str]) {
    let id = spec["id"].as_str().unwrap();
    let created = post_ok(h, "/api/v1/campaigns", &spec.to_string());
    assert_eq!(created["spec"]["id"], id, "{created}");
    let upload = post_ok(h, &format!("/api/v1/campaigns/{id}/records"), csv);
    let lines = csv.lines().count() - 1;
    assert_eq!(upload["added"], lines, "every line added: {upload:#}");
    if !dnc.is_empty() {
        let body = serde_json::json!({ "numbers": dnc }).to_string();
        post_ok(h, &format!("/api/v1/campaigns/{id}/dnc"), &body);
    }
}

/// Puts `number` on the global do-not-call list (`PUT /api/v1/dnc/{number}`, the list the
/// scheduled callbacks share).
pub fn global_dnc(h: &Hotline, number: &str) {
    let mut s = TcpStream::connect_timeout(&h.http, Duration::from_secs(2)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let req = format!(
        "PUT /api/v1/dnc/{number} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\
         Authorization: Bearer {TOKEN}\r\nContent-Length: 0\r\n\r\n",
        h.http
    );
    s.write_all(req.as_bytes()).unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let status = raw.split(' ').nth(1).unwrap_or_default();
    assert!(status == "200" || status == "201", "PUT dnc: {raw}");
}

/// Starts a campaign.
pub fn start(h: &Hotline, id: &str) {
    post_ok(h, &format!("/api/v1/campaigns/{id}/start"), "{}");
}

/// The entry id of each number of a campaign, from `campaign.records_added`.
pub fn entries(h: &Hotline, campaign: &str) -> Vec<(u64, String)> {
    h.events()
        .iter()
        .filter(|e| e["type"] == "campaign.records_added" && e["campaign"] == campaign)
        .flat_map(|e| {
            let first = e["first"].as_u64().unwrap();
            e["records"]
                .as_array()
                .unwrap()
                .iter()
                .enumerate()
                .map(move |(i, r)| (first + i as u64, r["number"].as_str().unwrap().to_owned()))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The entry of `number` (waiting for its `campaign.records_added`).
pub fn entry_of(h: &Hotline, campaign: &str, number: &str) -> u64 {
    let mut entry = None;
    poll_until(Duration::from_secs(5), || {
        entry = entries(h, campaign).into_iter().find(|(_, n)| n == number);
        entry.is_some()
    });
    entry
        .unwrap_or_else(|| panic!("{number} is not in campaign {campaign}: {:#?}", h.events()))
        .0
}

/// Waits for the first event of `kind` of an entry matching `pred`.
pub fn wait_entry_event(
    h: &Hotline,
    campaign: &str,
    entry: u64,
    kind: &str,
    secs: u64,
    pred: impl Fn(&Value) -> bool,
) -> Value {
    h.wait_event(
        &format!("{kind} of entry {entry}"),
        Duration::from_secs(secs),
        |e| e["type"] == kind && e["campaign"] == campaign && e["entry"] == entry && pred(e),
    )
}

/// An IANA zone whose local time is now about `hour` o'clock (`Etc/GMT-5` is UTC+5).
pub fn zone_at_local_hour(hour: i64) -> String {
    let utc_hour = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
        / 3600
        % 24;
    // The offset in -12..=11 that makes the local hour `hour`.
    let offset = (hour - utc_hour).rem_euclid(24);
    let offset = if offset >= 12 { offset - 24 } else { offset };
    match offset {
        0 => "Etc/UTC".to_owned(),
        o if o > 0 => format!("Etc/GMT-{o}"),
        o => format!("Etc/GMT+{}", -o),
    }
}
