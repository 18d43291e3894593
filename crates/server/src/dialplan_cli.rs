//! `hotline dialplan check` and `hotline dialplan simulate`: the operator's tools to try a
//! dialplan before it goes live.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use anyhow::{bail, Context, Result};
use hotline_dialplan::{
    simulate_with, CheckContext, CrmFixture, Dialplan, PromptFiles, QueueDefaults, SimulateOptions,
    SimulatedCall, Simulation, SimulationEnd, Step, ValidationContext,
};

use crate::config::Config;

/// Options of `hotline dialplan check`.
#[derive(clap::Args, Debug, Clone)]
pub struct CheckArgs {
    /// The dialplan files.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Also check queues (names, settings a node overrides) and prompt files against this
    /// configuration.
    #[arg(long)]
    pub config: Option<PathBuf>,
}

/// Options of `hotline dialplan simulate`.
#[derive(clap::Args, Debug, Clone)]
pub struct SimulateArgs {
    /// The dialplan file.
    pub file: PathBuf,
    /// The dialed number.
    #[arg(long)]
    pub to: String,
    /// The caller's number, in any form (compared in E.164).
    #[arg(long, default_value = "+8613800000000")]
    pub from: String,
    /// Keys the caller presses when the flow waits for input, comma-separated (`1,2`, `1234#`);
    /// an empty item lets that wait time out (`1,,2`).
    #[arg(long, default_value = "")]
    pub digits: String,
    /// When the call arrives, RFC 3339 (`2026-12-25T10:00:00+08:00`); default now.
    #[arg(long)]
    pub at: Option<String>,
    /// Check queue names against this configuration while loading.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Print the walk as JSON.
    #[arg(long)]
    pub json: bool,
    /// Answer `http` nodes from this CRM fixture (JSON keyed by E.164 caller number); default:
    /// the configuration's `crm.fixture`.
    #[arg(long)]
    pub http_fixture: Option<PathBuf>,
    /// Dialed transfers fail (their `failed` branch is taken); default: the far end answers.
    #[arg(long)]
    pub dial_fails: bool,
}

/// `hotline dialplan check FILE...`: every problem of every file; fails only on errors.
pub fn check(args: &CheckArgs) -> ExitCode {
    let config = match args.config.as_deref().map(Config::load).transpose() {
        Ok(config) => config,
        Err(e) => {
            eprintln!("hotline: {e:#}");
            return ExitCode::FAILURE;
        }
    };
    let ctx = config.as_ref().map(check_context).unwrap_or_default();
    let mut failed = false;
    for file in &args.files {
        let mut report = hotline_dialplan::check_file(file, &ctx);
        if let Some(config) = &config {
            let errors = crate::tts::speech_errors(&config.tts, &report.file, &report.speech_nodes);
            report.diagnostics.extend(errors);
            let errors =
                crate::trunk::check::dial_errors(&config.trunks, &report.file, &report.dial_nodes);
            report.diagnostics.extend(errors);
            let errors =
                crate::prompts::callback_offer_errors(config, &report.file, &report.queue_nodes);
            report.diagnostics.extend(errors);
            report.diagnostics.sort_by_key(|d| (d.line, d.column));
        }
        eprint!("{}", report.render());
        let (errors, warnings) = (report.error_count(), report.warning_count());
        if errors > 0 {
            failed = true;
            eprintln!(
                "{}: {errors} {}, {warnings} {}",
                file.display(),
                plural(errors, "error"),
                plural(warnings, "warning")
            );
        } else {
            println!(
                "{}: ok ({warnings} {})",
                file.display(),
                plural(warnings, "warning")
            );
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        word.to_owned()
    } else {
        format!("{word}s")
    }
}

/// What a configuration says a dialplan is checked against.
fn check_context(config: &Config) -> CheckContext {
    CheckContext {
        validation: ValidationContext {
            queues: Some(config.queues.keys().cloned().collect()),
            prompts: None,
        },
        queue_defaults: config
            .queues
            .iter()
            .map(|(name, q)| {
                let defaults = QueueDefaults {
                    // 0 is what a queue without `priority` gets: only a set one is overridden.
                    priority: (q.priority != 0).then_some(q.priority),
                    max_wait: q.max_wait,
                };
                (name.clone(), defaults)
            })
            .collect(),
        // Relative to the working directory, as the server reads it.
        prompt_files: Some(PromptFiles {
            dir: config.prompts_dir.clone(),
            languages: vec![config.language.clone()],
        }),
    }
}

/// `hotline dialplan simulate FILE --to N`: one call walked through the plan.
pub fn simulate_call(args: &SimulateArgs) -> ExitCode {
    match run_simulation(args) {
        Ok(sim) => {
            if args.json {
                println!("{}", simulation_json(args, &sim));
            } else {
                print!("{}", simulation_text(&sim));
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run_simulation(args: &SimulateArgs) -> Result<Simulation> {
    let mut ctx = ValidationContext::default();
    let mut fixture_file = args.http_fixture.clone();
    if let Some(path) = &args.config {
        let config = Config::load(path)?;
        ctx.queues = Some(config.queues.keys().cloned().collect());
        fixture_file = fixture_file.or(config.crm.fixture);
    }
    let fixture = match &fixture_file {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading CRM fixture {}", path.display()))?;
            Some(
                CrmFixture::parse(&text)
                    .with_context(|| format!("in CRM fixture {}", path.display()))?,
            )
        }
        None => None,
    };
    let plan = Dialplan::load(&args.file, &ctx).map_err(|e| anyhow::anyhow!("{e}"))?;
    let at = match &args.at {
        None => SystemTime::now(),
        Some(text) => parse_at(text)?,
    };
    let call = SimulatedCall {
        to: args.to.clone(),
        from: args.from.clone(),
        at,
        keys: parse_keys(&args.digits)?,
    };
    let options = SimulateOptions {
        crm: fixture.as_ref(),
        dial_fails: args.dial_fails,
    };
    Ok(simulate_with(
        Arc::new(plan),
        &call,
        Instant::now(),
        &options,
    ))
}

/// An RFC 3339 time with its offset.
fn parse_at(text: &str) -> Result<SystemTime> {
    let at = time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .with_context(|| {
            format!("--at `{text}`: expected a time such as 2026-12-25T10:00:00+08:00")
        })?;
    Ok(at.into())
}

/// `1,2`, `1234#`, `1,,2`: keys in order, an empty item a timeout.
fn parse_keys(text: &str) -> Result<Vec<Option<char>>> {
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    let mut keys = Vec::new();
    for item in text.split(',') {
        let item = item.trim();
        if item.is_empty() {
            keys.push(None);
            continue;
        }
        for key in item.chars() {
            if !(key.is_ascii_digit() || matches!(key, '*' | '#' | 'A'..='D')) {
                bail!("--digits: `{key}` is not a telephone key (0-9, *, #, A-D)");
            }
            keys.push(Some(key));
        }
    }
    Ok(keys)
}

fn simulation_text(sim: &Simulation) -> String {
    let mut out = String::new();
    for step in &sim.steps {
        out.push_str(&step.to_string());
        out.push('\n');
    }
    out.push_str(&format!("end: {}\n", sim.end));
    if sim.unused_keys > 0 {
        out.push_str(&format!(
            "({} {} not used)\n",
            sim.unused_keys,
            plural(sim.unused_keys, "key")
        ));
    }
    out
}

fn simulation_json(args: &SimulateArgs, sim: &Simulation) -> serde_json::Value {
    use serde_json::json;
    let steps: Vec<serde_json::Value> = sim
        .steps
        .iter()
        .map(|step| match step {
            Step::Node(node) => json!({ "node": node }),
            Step::Answer => json!({ "answer": true }),
            Step::Play { prompt, language } => json!({ "play": prompt, "language": language }),
            Step::Speak { text, language } => json!({ "speak": text, "language": language }),
            Step::Key { key, node, next } => {
                json!({ "key": key.to_string(), "node": node, "next": next })
            }
            Step::WrongKey { key, node } => {
                json!({ "key": key.to_string(), "node": node, "rejected": true })
            }
            Step::IgnoredKey { key, node } => {
                json!({ "key": key.to_string(), "node": node, "ignored": true })
            }
            Step::Timeout { node } => json!({ "timeout": node }),
            Step::Collected {
                node,
                variable,
                value,
            } => json!({ "collected": value, "variable": variable, "node": node }),
            Step::InputRejected { node, input } => json!({ "rejected_input": input, "node": node }),
            Step::Lookup { node, failure } => json!({
                "lookup": node,
                "failure": failure.as_ref().map(ToString::to_string),
            }),
            Step::Voicemail {
                mailbox,
                max_length,
                silence,
                end_key,
            } => json!({
                "voicemail": mailbox,
                "max_length_ms": millis(*max_length),
                "silence_ms": silence.map(millis),
                "end_key": end_key.map(|k| k.to_string()),
            }),
            Step::MessageEnded { reason } => json!({ "message_ended": reason.name() }),
            Step::Flow { number } => json!({ "flow": number }),
            Step::Dial {
                node,
                number,
                trunk,
            } => json!({ "dial": number, "trunk": trunk, "node": node }),
            Step::DialFailed { node } => json!({ "dial_failed": node }),
            Step::SurveyAnswer {
                survey,
                question,
                score,
            } => json!({ "survey": survey, "question": question, "score": score }),
            Step::SurveyEnded {
                survey, answered, ..
            } => json!({ "survey": survey, "answered": answered, "ended": step.to_string() }),
            Step::Consent { node, .. } | Step::RecordingSet { node, .. } => {
                json!({ "recording": step.to_string(), "node": node })
            }
            Step::RecordingDecision { node, .. } => {
                json!({ "recording": step.to_string(), "policy_node": node })
            }
        })
        .collect();
    let end = match &sim.end {
        SimulationEnd::Queue {
            queue,
            options,
            data,
            exit,
        } => json!({
            "kind": "queue",
            "queue": queue,
            "priority": options.priority,
            "skills": options.skills,
            "preferred_skills": options.preferred_skills,
            "max_wait_ms": options.max_wait.map(millis),
            "callback_offer_ms": options.callback_offer.map(millis),
            "survey": options.survey,
            "data": data,
            "exit": exit,
        }),
        SimulationEnd::Hangup { cause } => json!({ "kind": "hangup", "cause": cause.name() }),
        SimulationEnd::TimedOut { node, attempts } => {
            json!({ "kind": "timeout", "node": node, "attempts": attempts })
        }
        SimulationEnd::Failed { node, attempts } => {
            json!({ "kind": "failed", "node": node, "attempts": attempts })
        }
        SimulationEnd::HungUp { reason } => {
            json!({ "kind": "hungup", "reason": format!("{reason:?}") })
        }
        SimulationEnd::Dialed { number, trunk } => {
            json!({ "kind": "dialed", "number": number, "trunk": trunk })
        }
        SimulationEnd::DialFailed { node } => {
            json!({ "kind": "dial_failed", "node": node, "cause": "unavailable" })
        }
        SimulationEnd::NoSuchNumber => json!({ "kind": "no_such_number" }),
        SimulationEnd::TooLong => json!({ "kind": "too_long" }),
    };
    json!({
        "to": args.to,
        "from": args.from,
        "steps": steps,
        "end": end,
        "end_text": sim.end.to_string(),
        "unused_keys": sim.unused_keys,
    })
}

/// A duration in whole milliseconds for JSON (dialplan durations are far below `u64::MAX` ms).
fn millis(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_read_with_empty_items_as_timeouts() {
        assert_eq!(
            parse_keys("1,,2#").unwrap(),
            [Some('1'), None, Some('2'), Some('#')]
        );
        assert!(parse_keys("").unwrap().is_empty());
        assert!(parse_keys("1,x").is_err());
    }

    #[test]
    fn arrival_times_keep_their_offset() {
        let at = parse_at("2026-12-25T10:00:00+08:00").unwrap();
        let utc = parse_at("2026-12-25T02:00:00Z").unwrap();
        assert_eq!(at, utc);
        assert!(parse_at("tomorrow").is_err());
    }
}
