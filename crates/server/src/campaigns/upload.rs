//! `hotline campaign import FILE --server URL --campaign ID --token T`: uploads a list to a
//! running hotline (`POST /api/v1/campaigns/{id}/records`) and prints the server's verdict on
//! every line and what the campaign added.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use serde_json::Value;

/// What an upload needs.
pub struct Upload<'a> {
    /// The list.
    pub file: &'a Path,
    /// `http://host:port` of the hotline API.
    pub server: &'a str,
    /// The campaign's id.
    pub campaign: &'a str,
    /// The API's bearer token.
    pub token: &'a str,
    /// The country of numbers without a country code.
    pub country: Option<String>,
    /// Print the server's JSON answer as it is.
    pub json: bool,
}

/// `host:port` of an `http://host[:port][/]` URL.
pub fn authority(server: &str) -> Result<String> {
    let Some(rest) = server.strip_prefix("http://") else {
        bail!("--server {server:?}: only http:// URLs are supported");
    };
    let host = rest.trim_end_matches('/');
    if host.is_empty() || host.contains('/') {
        bail!("--server {server:?}: give the server's base URL, http://host:port");
    }
    Ok(if host.contains(':') {
        host.to_string()
    } else {
        format!("{host}:80")
    })
}

/// One HTTP/1.1 POST; the status and the body.
pub fn post(authority: &str, path: &str, token: &str, body: &[u8]) -> Result<(u16, String)> {
    let mut stream =
        TcpStream::connect(authority).with_context(|| format!("connecting to {authority}"))?;
    stream.set_read_timeout(Some(Duration::from_secs(60)))?;
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\
         Authorization: Bearer {token}\r\nContent-Type: text/csv\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes())?;
    stream.write_all(body)?;
    let mut raw = Vec::new();
    stream
        .read_to_end(&mut raw)
        .with_context(|| format!("reading the answer of {authority}"))?;
    let raw = String::from_utf8_lossy(&raw);
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .context("the server's answer is not HTTP")?;
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(body)
    } else {
        body.to_string()
    };
    Ok((status, body))
}

/// The body of a chunked answer.
fn dechunk(mut text: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = text.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        text = rest[n..].trim_start_matches("\r\n");
    }
    out
}

/// The report for a terminal.
pub fn human(file: &Path, campaign: &str, answer: &Value) -> String {
    use std::fmt::Write as _;
    let s = &answer["summary"];
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}: {} lines, {} accepted, {} rejected; {} added to campaign {campaign}",
        file.display(),
        s["lines"],
        s["accepted"],
        s["rejected"],
        answer["added"]
    );
    for line in answer["lines"].as_array().into_iter().flatten() {
        if line["verdict"] == "rejected" || line.get("reason").is_some() {
            let detail = line
                .get("detail")
                .map(|d| format!(" ({d})"))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "{:>7}  {}{detail}",
                line["line"].as_u64().unwrap_or_default(),
                line["reason"].as_str().unwrap_or("rejected")
            );
        }
    }
    for n in answer["not_added"].as_array().into_iter().flatten() {
        let _ = writeln!(
            out,
            "{:>7}  not added: {}",
            n["line"].as_u64().unwrap_or_default(),
            n["reason"].as_str().unwrap_or("-")
        );
    }
    out
}

/// Uploads the list; 0 when the server took it, 1 when it refused it, 2 when the file or the
/// server cannot be read.
pub fn run(u: &Upload<'_>) -> ExitCode {
    match upload(u) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("hotline: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn upload(u: &Upload<'_>) -> Result<ExitCode> {
    let body = std::fs::read(u.file).with_context(|| format!("{}", u.file.display()))?;
    let authority = authority(u.server)?;
    let mut path = format!("/api/v1/campaigns/{}/records", u.campaign);
    if let Some(country) = &u.country {
        path.push_str(&format!("?country={country}"));
    }
    let (status, text) = post(&authority, &path, u.token, &body)?;
    if status != 200 {
        let answer: Value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        let why = answer["error"]
            .as_str()
            .map_or(answer.to_string(), str::to_string);
        eprintln!("hotline: the server refused the list ({status}): {why}");
        return Ok(ExitCode::FAILURE);
    }
    let answer: Value = serde_json::from_str(&text).context("the server's answer is not JSON")?;
    let report = if u.json {
        format!("{}\n", serde_json::to_string_pretty(&answer)?)
    } else {
        human(u.file, u.campaign, &answer)
    };
    let _ = std::io::stdout().lock().write_all(report.as_bytes());
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_server_url_becomes_host_and_port() {
        assert_eq!(
            authority("http://127.0.0.1:8080/").ok(),
            Some("127.0.0.1:8080".into())
        );
        assert_eq!(authority("http://hotline").ok(), Some("hotline:80".into()));
        assert!(authority("https://hotline").is_err());
        assert!(authority("http://hotline/api").is_err());
    }

    #[test]
    fn a_chunked_body_is_joined() {
        assert_eq!(dechunk("4\r\nab,c\r\n3\r\n123\r\n0\r\n\r\n"), "ab,c123");
    }

    #[test]
    fn the_report_lists_rejected_and_not_added_lines() {
        let answer = serde_json::json!({
            "summary": {"lines": 3, "accepted": 2, "rejected": 1},
            "added": 1,
            "lines": [{"line": 2, "verdict": "ok", "zone": "column"},
                      {"line": 3, "verdict": "invalid_number", "reason": "invalid_number"},
                      {"line": 4, "verdict": "ok", "zone": "column"}],
            "not_added": [{"reason": "duplicate", "line": 4, "number": "+442079460001", "of": 0}]
        });
        let text = human(Path::new("list.csv"), "renewals", &answer);
        assert!(
            text.starts_with("list.csv: 3 lines, 2 accepted, 1 rejected; 1 added"),
            "{text}"
        );
        assert!(text.contains("      3  invalid_number"), "{text}");
        assert!(text.contains("      4  not added: duplicate"), "{text}");
    }
}
