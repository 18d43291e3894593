//! Debug builds only: campaign calls started from a file at startup, for end-to-end tests of
//! the call task before (and apart from) the campaign driver.
//!
//! When `test_campaign_dials.jsonl` (JSON lines, one [`TestDial`] each) appears in the data
//! folder (looked for every 100 ms), it is taken (renamed `.taken`), those calls are dialed,
//! and every report of theirs is appended as a JSON line to `test_campaign_reports.jsonl`
//! beside it. Release builds do not contain this module.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use hotline_campaigns::campaign::{AmdAction, EntryId};
use hotline_media::AmdConfig;
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::sync::mpsc;

use super::{
    spawn_campaign_call, AbandonPlan, AmdPlan, CampaignCallReport, CampaignDial, DialTarget,
};
use crate::endpoint::Shared;

/// The file of dials to start, in the data folder.
const DIALS_FILE: &str = "test_campaign_dials.jsonl";
/// The file the reports go to, in the data folder.
const REPORTS_FILE: &str = "test_campaign_reports.jsonl";

/// One dial of the test file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TestDial {
    campaign: String,
    entry: u64,
    #[serde(default = "first")]
    attempt: u32,
    number: String,
    caller_id: String,
    #[serde(default)]
    trunk: Option<String>,
    #[serde(default = "ring_ms")]
    ring_timeout_ms: u64,
    #[serde(default)]
    queue: Option<String>,
    #[serde(default)]
    flow: Option<String>,
    #[serde(default = "connect_ms")]
    connect_within_ms: u64,
    #[serde(default)]
    amd: Option<TestAmd>,
    #[serde(default)]
    abandon_prompt: Option<String>,
}

/// The detection part of a test dial.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TestAmd {
    #[serde(default)]
    config: AmdConfig,
    on_machine: AmdAction,
    on_not_sure: AmdAction,
    #[serde(default)]
    message: Option<String>,
}

fn first() -> u32 {
    1
}
fn ring_ms() -> u64 {
    30_000
}
fn connect_ms() -> u64 {
    2_000
}

/// How often the data folder is looked at for a dials file.
const LOOK_EVERY: Duration = Duration::from_millis(100);

/// Watches the data folder for dials files and starts their calls.
pub fn start(shared: &Arc<Shared>) {
    let shared = shared.clone();
    tokio::spawn(async move {
        let dials = shared.data_dir.join(DIALS_FILE);
        let taken = dials.with_extension("taken");
        loop {
            tokio::time::sleep(LOOK_EVERY).await;
            if std::fs::rename(&dials, &taken).is_ok() {
                start_file(&shared, &taken);
            }
        }
    });
}

/// Starts the dials of one file.
fn start_file(shared: &Arc<Shared>, dials: &std::path::Path) {
    let reports: PathBuf = shared.data_dir.join(REPORTS_FILE);
    let Ok(text) = std::fs::read_to_string(dials) else {
        return;
    };
    let (tx, mut rx) = mpsc::unbounded_channel::<CampaignCallReport>();
    for (n, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        match serde_json::from_str::<TestDial>(line) {
            Ok(d) => {
                let call = spawn_campaign_call(shared.clone(), dial(d, tx.clone()));
                tracing::info!(%call, line = n + 1, "test campaign call started");
            }
            Err(e) => tracing::error!(line = n + 1, "test campaign dial unreadable: {e}"),
        }
    }
    drop(tx);
    tokio::spawn(async move {
        while let Some(r) = rx.recv().await {
            let line = format!("{}\n", to_json(&r));
            let written = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&reports)
                .and_then(|mut f| f.write_all(line.as_bytes()));
            if let Err(e) = written {
                tracing::error!(file = %reports.display(), "test campaign report not written: {e}");
            }
        }
    });
}

fn dial(d: TestDial, report: mpsc::UnboundedSender<CampaignCallReport>) -> CampaignDial {
    let target = match (d.queue, d.flow) {
        (_, Some(flow)) => DialTarget::Flow { flow },
        (queue, None) => DialTarget::Queue {
            queue: queue.unwrap_or_default(),
            skills: Vec::new(),
            connect_within: Duration::from_millis(d.connect_within_ms),
        },
    };
    CampaignDial {
        campaign: d.campaign,
        entry: EntryId(d.entry),
        attempt: d.attempt,
        number: d.number,
        caller_id: d.caller_id.clone(),
        trunk: d.trunk,
        ring_timeout: Duration::from_millis(d.ring_timeout_ms),
        target,
        amd: d.amd.map(|a| AmdPlan {
            config: a.config,
            on_machine: a.on_machine,
            on_not_sure: a.on_not_sure,
            message: a.message,
        }),
        abandon_message: d.abandon_prompt.map(|prompt| AbandonPlan {
            identity: None,
            prompt: Some(prompt),
            callback_number: d.caller_id,
        }),
        report,
    }
}

/// A report as one JSON object (`report` names the variant).
fn to_json(r: &CampaignCallReport) -> Value {
    match r {
        CampaignCallReport::TrunkBusy { call } => json!({"report": "trunk_busy", "call": call}),
        CampaignCallReport::Final { call, outcome } => {
            json!({"report": "final", "call": call, "outcome": outcome})
        }
        CampaignCallReport::Answered {
            call,
            verdict,
            after_ms,
        } => json!({"report": "answered", "call": call, "verdict": verdict, "after_ms": after_ms}),
        CampaignCallReport::Connected {
            call,
            agent,
            after_answer,
            since_greeting,
        } => json!({"report": "connected", "call": call, "agent": agent,
            "after_ms": after_answer.as_millis() as u64,
            "since_greeting_ms": since_greeting.as_millis() as u64}),
        CampaignCallReport::Abandoned { call } => json!({"report": "abandoned", "call": call}),
        CampaignCallReport::MessageLeft { call } => {
            json!({"report": "message_left", "call": call})
        }
        CampaignCallReport::Dropped { call } => json!({"report": "dropped", "call": call}),
        CampaignCallReport::FlowDone { call, result } => {
            json!({"report": "flow_done", "call": call, "result": result})
        }
        CampaignCallReport::Survey { call, note } => {
            json!({"report": "survey", "call": call, "note": format!("{note:?}")})
        }
        CampaignCallReport::Ended { call, talk } => {
            json!({"report": "ended", "call": call, "talk_ms": talk.as_millis() as u64})
        }
    }
}
