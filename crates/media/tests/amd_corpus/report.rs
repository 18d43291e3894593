//! Accuracy, precision and recall per class, the confusion matrix and decision latencies.

use super::Truth;
use hotline_media::amd::{AmdCause, AmdDecision, AmdVerdict};
use std::collections::BTreeMap;
use std::fmt::Write;

/// One sample's outcome.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// What it was.
    pub truth: Truth,
    /// What the detector said.
    pub decision: AmdDecision,
    /// Beep start found minus true start, ms (machines whose beep was found).
    pub beep_error_ms: Option<i64>,
    /// A beep was reported on a person's answer.
    pub false_beep: bool,
    /// Speech over line noise, dB (`None`: clean).
    pub snr_db: Option<f32>,
}

/// The figures over a set.
#[derive(Debug, Clone)]
pub struct Report {
    /// Rows: truth (human, machine); columns: verdict (human, machine, not sure).
    pub confusion: [[usize; 3]; 2],
    /// Correct verdicts over all samples (not sure counts as wrong).
    pub accuracy: f64,
    /// Mean audio consumed until the verdict on people, ms.
    pub human_latency_ms: f64,
    /// Mean audio consumed until the verdict on machines, ms.
    pub machine_latency_ms: f64,
    /// Machines whose beep was found within 60 ms of where it starts.
    pub beeps_found: usize,
    /// People with a beep reported.
    pub false_beeps: usize,
    /// Verdicts by cause, per true class.
    pub causes: BTreeMap<(String, String), usize>,
    /// Correct and total per line condition ("clean", "SNR 10 dB", ...).
    pub by_snr: BTreeMap<String, (usize, usize)>,
}

impl Outcome {
    /// The verdict names who answered.
    pub fn correct(&self) -> bool {
        matches!(
            (self.truth, self.decision.verdict),
            (Truth::Human, AmdVerdict::Human) | (Truth::Machine, AmdVerdict::Machine)
        )
    }
}

fn column(verdict: AmdVerdict) -> usize {
    match verdict {
        AmdVerdict::Human => 0,
        AmdVerdict::Machine => 1,
        AmdVerdict::NotSure => 2,
    }
}

fn row(truth: Truth) -> usize {
    match truth {
        Truth::Human => 0,
        Truth::Machine => 1,
    }
}

fn mean(values: impl Iterator<Item = f64>) -> f64 {
    let (sum, n) = values.fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    if n == 0 {
        0.0
    } else {
        sum / n as f64
    }
}

impl Report {
    /// The figures of these outcomes.
    pub fn new(outcomes: &[Outcome]) -> Report {
        let mut confusion = [[0usize; 3]; 2];
        let mut causes = BTreeMap::new();
        let mut by_snr: BTreeMap<String, (usize, usize)> = BTreeMap::new();
        for o in outcomes {
            let condition = o
                .snr_db
                .map_or("clean".to_string(), |snr| format!("SNR {snr:02} dB"));
            let entry = by_snr.entry(condition).or_insert((0, 0));
            entry.0 += usize::from(o.correct());
            entry.1 += 1;
            confusion[row(o.truth)][column(o.decision.verdict)] += 1;
            let cause: AmdCause = o.decision.cause;
            *causes
                .entry((format!("{:?}", o.truth), format!("{cause:?}")))
                .or_insert(0) += 1;
        }
        let correct = confusion[0][0] + confusion[1][1];
        let latency = |truth: Truth| {
            mean(
                outcomes
                    .iter()
                    .filter(|o| o.truth == truth)
                    .map(|o| f64::from(o.decision.at_ms)),
            )
        };
        Report {
            confusion,
            accuracy: correct as f64 / outcomes.len().max(1) as f64,
            human_latency_ms: latency(Truth::Human),
            machine_latency_ms: latency(Truth::Machine),
            beeps_found: outcomes
                .iter()
                .filter(|o| o.beep_error_ms.is_some_and(|e| e.abs() <= 60))
                .count(),
            false_beeps: outcomes.iter().filter(|o| o.false_beep).count(),
            causes,
            by_snr,
        }
    }

    /// Of the answers called `class`, the share that were (precision); of the answers that
    /// were, the share called so (recall).
    pub fn precision_recall(&self, class: Truth) -> (f64, f64) {
        let i = row(class);
        let called: usize = self.confusion.iter().map(|r| r[i]).sum();
        let actual: usize = self.confusion[i].iter().sum();
        let hit = self.confusion[i][i];
        (
            hit as f64 / called.max(1) as f64,
            hit as f64 / actual.max(1) as f64,
        )
    }

    /// The report as Markdown tables.
    pub fn markdown(&self) -> String {
        let mut out = String::new();
        let humans: usize = self.confusion[0].iter().sum();
        let machines: usize = self.confusion[1].iter().sum();
        let _ = writeln!(
            out,
            "{humans} people, {machines} machines: accuracy **{:.1}%**\n",
            self.accuracy * 100.0
        );
        let _ = writeln!(out, "| truth \\ verdict | human | machine | not sure |");
        let _ = writeln!(out, "|---|---:|---:|---:|");
        for (name, r) in [("human", 0), ("machine", 1)] {
            let c = self.confusion[r];
            let _ = writeln!(out, "| {name} | {} | {} | {} |", c[0], c[1], c[2]);
        }
        let _ = writeln!(out, "\n| class | precision | recall |");
        let _ = writeln!(out, "|---|---:|---:|");
        for (name, class) in [("human", Truth::Human), ("machine", Truth::Machine)] {
            let (p, r) = self.precision_recall(class);
            let _ = writeln!(out, "| {name} | {:.1}% | {:.1}% |", p * 100.0, r * 100.0);
        }
        let _ = writeln!(
            out,
            "\nmean decision latency: people {:.0} ms, machines {:.0} ms (audio consumed)",
            self.human_latency_ms, self.machine_latency_ms
        );
        let _ = writeln!(
            out,
            "beep found within 60 ms of its start: {}/{machines} machines; beeps reported on people: {}",
            self.beeps_found, self.false_beeps
        );
        let _ = writeln!(out, "\n| line | correct | accuracy |");
        let _ = writeln!(out, "|---|---:|---:|");
        for (condition, (correct, total)) in &self.by_snr {
            let share = *correct as f64 * 100.0 / (*total).max(1) as f64;
            let _ = writeln!(out, "| {condition} | {correct}/{total} | {share:.1}% |");
        }
        let _ = writeln!(out, "\n| truth | cause | count |");
        let _ = writeln!(out, "|---|---|---:|");
        for ((truth, cause), n) in &self.causes {
            let _ = writeln!(out, "| {truth} | {cause} | {n} |");
        }
        out
    }
}
