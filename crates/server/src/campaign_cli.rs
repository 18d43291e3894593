//! `hotline campaign import`: reads a campaign list (CSV) and prints the verdict on each line
//! before anything is dialed; `--output` writes the accepted records, normalized, as JSON
//! lines.

use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufWriter, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use hotline_campaigns::list::{Country, ImportOptions, ListImport, Verdict};
use serde::Serialize;

/// `hotline campaign` subcommands.
#[derive(clap::Subcommand, Debug, Clone)]
pub enum CampaignCommand {
    /// Read a campaign list (CSV) and report every line: imported, or rejected and why
    /// (missing or invalid number, bad priority, due or time zone, duplicate). Exits 0 when
    /// the file is a list, even with rejected lines, and 2 when it cannot be read as one.
    Import(ImportArgs),
}

/// Options of `hotline campaign import`.
#[derive(clap::Args, Debug, Clone)]
pub struct ImportArgs {
    /// The list: a header line (number/phone/mobile/电话, name, time_zone, priority, due; any
    /// other column is an attribute), then one customer per line.
    pub file: PathBuf,
    /// The country of numbers written without a country code (CN, US, CA, GB, DE, FR, JP, IN,
    /// AU, HK, SG); without it such numbers are rejected.
    #[arg(long)]
    pub country: Option<Country>,
    /// Print the report as JSON (every line's verdict, the columns found, the totals).
    #[arg(long)]
    pub json: bool,
    /// Write the accepted records, normalized, to this file as JSON lines.
    #[arg(long)]
    pub output: Option<PathBuf>,
    /// Upload the list to a running hotline (`http://host:port`) instead of only reading it:
    /// the server answers the verdict on every line and what the campaign added.
    #[arg(long, requires = "campaign")]
    pub server: Option<String>,
    /// The campaign the uploaded list goes to (with `--server`).
    #[arg(long, requires = "server")]
    pub campaign: Option<String>,
    /// The API's bearer token (with `--server`).
    #[arg(long, default_value = "")]
    pub token: String,
}

/// Runs a `hotline campaign` subcommand.
pub fn run(command: CampaignCommand) -> ExitCode {
    match command {
        CampaignCommand::Import(args) => import(&args),
    }
}

/// The JSON report.
#[derive(Serialize)]
struct Report<'a> {
    file: &'a Path,
    delimiter: char,
    columns: &'a hotline_campaigns::list::Columns,
    summary: &'a hotline_campaigns::list::Summary,
    lines: Vec<JsonLine<'a>>,
}

/// A line's verdict with the sentence the table shows.
#[derive(Serialize)]
struct JsonLine<'a> {
    #[serde(flatten)]
    line: &'a hotline_campaigns::list::LineReport,
    message: String,
}

fn import(args: &ImportArgs) -> ExitCode {
    if let (Some(server), Some(campaign)) = (&args.server, &args.campaign) {
        return crate::campaigns::upload::run(&crate::campaigns::upload::Upload {
            file: &args.file,
            server,
            campaign,
            token: &args.token,
            country: args.country.map(|c| format!("{c:?}")),
            json: args.json,
        });
    }
    let list = match read(args) {
        Ok(list) => list,
        Err(e) => {
            eprintln!("hotline: {e:#}");
            return ExitCode::from(2);
        }
    };
    if let Some(path) = &args.output {
        if let Err(e) = write_records(path, &list) {
            eprintln!("hotline: {e:#}");
            return ExitCode::FAILURE;
        }
    }
    let mut report = if args.json {
        match json(args, &list) {
            Ok(text) => text,
            Err(e) => {
                eprintln!("hotline: {e:#}");
                return ExitCode::FAILURE;
            }
        }
    } else {
        human(&args.file, &list)
    };
    if let (Some(path), false) = (&args.output, args.json) {
        let _ = writeln!(
            report,
            "wrote {} to {}",
            plural(list.records.len(), "record"),
            path.display()
        );
    }
    match std::io::stdout().lock().write_all(report.as_bytes()) {
        // A reader that stopped early (`| head`) is not a failure of the import.
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            eprintln!("hotline: writing the report: {e}");
            ExitCode::FAILURE
        }
        _ => ExitCode::SUCCESS,
    }
}

/// `1 line`, `2 lines`.
fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

fn read(args: &ImportArgs) -> Result<ListImport> {
    let file = File::open(&args.file).with_context(|| format!("{}", args.file.display()))?;
    let options = ImportOptions {
        country: args.country,
    };
    ListImport::from_reader(file, &options).with_context(|| format!("{}", args.file.display()))
}

fn json(args: &ImportArgs, list: &ListImport) -> Result<String> {
    let report = Report {
        file: &args.file,
        delimiter: list.delimiter,
        columns: &list.columns,
        summary: &list.summary,
        lines: list
            .lines
            .iter()
            .map(|line| JsonLine {
                line,
                message: line.verdict.to_string(),
            })
            .collect(),
    };
    let mut text = serde_json::to_string_pretty(&report).context("writing the report")?;
    text.push('\n');
    Ok(text)
}

/// The report for a terminal: totals, counts by reason, then one row per rejected line.
fn human(file: &Path, list: &ListImport) -> String {
    let s = &list.summary;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}: {}, {} accepted, {} rejected",
        file.display(),
        plural(s.lines, "line"),
        s.accepted,
        s.rejected
    );
    let delimiter = match list.delimiter {
        '\t' => "tab".to_owned(),
        d => format!("'{d}'"),
    };
    let c = &list.columns;
    let name = |i: &Option<usize>| {
        i.and_then(|i| c.headers.get(i))
            .map_or_else(|| "-".to_owned(), |h| format!("{h:?}"))
    };
    let numbers: Vec<String> = c
        .number
        .iter()
        .filter_map(|i| c.headers.get(*i))
        .map(|h| format!("{h:?}"))
        .collect();
    let _ = writeln!(
        out,
        "delimiter {delimiter}; number {}, name {}, time zone {}, priority {}, due {}; {}",
        numbers.join(" or "),
        name(&c.name),
        name(&c.time_zone),
        name(&c.priority),
        name(&c.due),
        plural(c.attributes.len(), "attribute column")
    );
    if s.unknown_zone > 0 {
        let _ = writeln!(
            out,
            "{} accepted without a time zone (the country has several): held, never dialed, \
             until one is set",
            plural(s.unknown_zone, "line")
        );
    }
    if s.blank_lines > 0 {
        let _ = writeln!(
            out,
            "{} of empty cells skipped",
            plural(s.blank_lines, "line")
        );
    }
    if !s.by_reason.is_empty() {
        let _ = writeln!(out, "\nrejected by reason:");
        for (reason, n) in &s.by_reason {
            let _ = writeln!(out, "  {:<16} {n:>7}", reason.as_str());
        }
        let _ = writeln!(out, "\n{:>7}  reason", "line");
        for line in &list.lines {
            if let Verdict::Rejected(reason) = &line.verdict {
                let _ = writeln!(out, "{:>7}  {reason}", line.line);
            }
        }
    }
    out
}

fn write_records(path: &Path, list: &ListImport) -> Result<()> {
    let file = File::create(path).with_context(|| format!("creating {}", path.display()))?;
    let mut out = BufWriter::new(file);
    for record in &list.records {
        serde_json::to_writer(&mut out, record)
            .with_context(|| format!("writing {}", path.display()))?;
        out.write_all(b"\n")
            .with_context(|| format!("writing {}", path.display()))?;
    }
    out.flush()
        .with_context(|| format!("writing {}", path.display()))
}
