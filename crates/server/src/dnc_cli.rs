//! `hotline dnc import FILE --server URL [--campaign ID] [--country GB] --token T`: uploads a
//! do-not-call file to a running hotline, into the global list (`POST /api/v1/dnc`) or a
//! campaign's own (`POST /api/v1/campaigns/{id}/dnc`), and prints the server's verdict on
//! every line: added, already listed, duplicate, or rejected and why.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use hotline_campaigns::list::Country;
use serde_json::Value;

use crate::campaigns::upload::{authority, post};

/// `hotline dnc` subcommands.
#[derive(clap::Subcommand, Debug, Clone)]
pub enum DncCommand {
    /// Upload do-not-call numbers (one per line, `#` comments, or a CSV export with a number
    /// column) and print the verdict on every line. Exits 0 when the server took the file,
    /// even with rejected lines, 1 when it refused it, 2 when the file or the server cannot be
    /// read.
    Import(ImportArgs),
}

/// Options of `hotline dnc import`.
#[derive(clap::Args, Debug, Clone)]
pub struct ImportArgs {
    /// The numbers: one per line, or a CSV export whose header names a number column.
    pub file: PathBuf,
    /// The country of numbers written without a country code (CN, US, CA, GB, DE, FR, JP, IN,
    /// AU, HK, SG); without it the server's `campaigns.country` is used.
    #[arg(long)]
    pub country: Option<Country>,
    /// The campaign whose own list the numbers join (without it: the global list).
    #[arg(long)]
    pub campaign: Option<String>,
    /// The running hotline's API (`http://host:port`).
    #[arg(long)]
    pub server: String,
    /// The API's bearer token.
    #[arg(long, default_value = "")]
    pub token: String,
    /// Print the server's JSON answer as it is.
    #[arg(long)]
    pub json: bool,
}

/// Runs a `hotline dnc` subcommand.
pub fn run(command: DncCommand) -> ExitCode {
    match command {
        DncCommand::Import(args) => match import(&args) {
            Ok(code) => code,
            Err(e) => {
                eprintln!("hotline: {e:#}");
                ExitCode::from(2)
            }
        },
    }
}

/// The API path of an import.
fn path(args: &ImportArgs) -> String {
    let mut path = match &args.campaign {
        Some(id) => format!("/api/v1/campaigns/{id}/dnc"),
        None => "/api/v1/dnc".to_owned(),
    };
    if let Some(country) = args.country {
        path.push_str(&format!("?country={country:?}"));
    }
    path
}

fn import(args: &ImportArgs) -> Result<ExitCode> {
    let body = std::fs::read(&args.file).with_context(|| format!("{}", args.file.display()))?;
    let authority = authority(&args.server)?;
    let (status, text) = post(&authority, &path(args), &args.token, &body)?;
    if status != 200 {
        let answer: Value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        let why = answer["error"]
            .as_str()
            .map_or(answer.to_string(), str::to_string);
        eprintln!("hotline: the server refused the numbers ({status}): {why}");
        return Ok(ExitCode::FAILURE);
    }
    let answer: Value = serde_json::from_str(&text).context("the server's answer is not JSON")?;
    let report = if args.json {
        format!("{}\n", serde_json::to_string_pretty(&answer)?)
    } else {
        human(&args.file, &answer)
    };
    let _ = std::io::stdout().lock().write_all(report.as_bytes());
    Ok(ExitCode::SUCCESS)
}

/// The report for a terminal: the totals, then each line not added and why.
pub fn human(file: &Path, answer: &Value) -> String {
    let s = &answer["summary"];
    let list = match answer["list"].as_str() {
        Some("global") | None => "the global list".to_owned(),
        Some(id) => format!("campaign {id}"),
    };
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}: {} lines, {} added to {list}, {} already listed, {} duplicate, {} rejected",
        file.display(),
        s["lines"],
        s["added"],
        s["already_listed"],
        s["duplicate"],
        s["rejected"],
    );
    let mut header = false;
    for line in answer["lines"].as_array().into_iter().flatten() {
        let what = match line["verdict"].as_str() {
            Some("rejected") => format!(
                "{} ({:?})",
                line["message"].as_str().unwrap_or("rejected"),
                line["input"].as_str().unwrap_or_default()
            ),
            Some("duplicate") => format!(
                "{} duplicate of line {}",
                line["number"].as_str().unwrap_or_default(),
                line["of_line"]
            ),
            _ => continue,
        };
        if !header {
            let _ = writeln!(out, "\n{:>7}  not added", "line");
            header = true;
        }
        let _ = writeln!(
            out,
            "{:>7}  {what}",
            line["line"].as_u64().unwrap_or_default()
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(campaign: Option<&str>, country: Option<Country>) -> ImportArgs {
        ImportArgs {
            file: PathBuf::from("dnc.txt"),
            country,
            campaign: campaign.map(str::to_owned),
            server: "http://127.0.0.1:8080".into(),
            token: String::new(),
            json: false,
        }
    }

    #[test]
    fn the_path_is_the_global_list_or_the_campaigns_with_the_country() {
        assert_eq!(path(&args(None, None)), "/api/v1/dnc");
        assert_eq!(
            path(&args(Some("renewals"), Some(Country::GB))),
            "/api/v1/campaigns/renewals/dnc?country=GB"
        );
    }

    #[test]
    fn the_report_gives_the_totals_and_each_line_not_added() {
        let answer = serde_json::json!({
            "list": "renewals", "added": 1,
            "summary": {"lines": 4, "added": 1, "already_listed": 1, "duplicate": 1, "rejected": 1},
            "lines": [
                {"line": 1, "verdict": "added", "number": "+442079460001"},
                {"line": 2, "verdict": "already_listed", "number": "+442079460002"},
                {"line": 3, "verdict": "duplicate", "number": "+442079460001", "of_line": 1},
                {"line": 4, "verdict": "rejected", "input": "12ab", "reason": "invalid_number",
                 "message": "invalid number: contains 'a', not a digit or separator"}
            ]
        });
        let text = human(Path::new("dnc.txt"), &answer);
        assert!(
            text.starts_with(
                "dnc.txt: 4 lines, 1 added to campaign renewals, 1 already listed, \
                 1 duplicate, 1 rejected"
            ),
            "{text}"
        );
        assert!(
            text.contains("      3  +442079460001 duplicate of line 1"),
            "{text}"
        );
        assert!(
            text.contains(
                "      4  invalid number: contains 'a', not a digit or separator (\"12ab\")"
            ),
            "{text}"
        );
        assert!(
            !text.contains("      2  "),
            "an already listed line is not a problem"
        );
    }
}
