//! Prometheus-friendly values: one gauge sample per KPI, queue or agent, and window.

use std::fmt::Write as _;

use crate::report::{AgentKpis, KpiSnapshot, QueueKpis};

/// One gauge sample, e.g. `hotline_kpi_queue_service_level{queue="support",window="last_15m"} 0.8`.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// Metric name.
    pub name: &'static str,
    /// Help text of the metric.
    pub help: &'static str,
    /// Label names and values, in order.
    pub labels: Vec<(&'static str, String)>,
    /// The value.
    pub value: f64,
}

type Getter<K> = fn(&K) -> Option<f64>;

const QUEUE_METRICS: &[(&str, &str, Getter<QueueKpis>)] = &[
    (
        "hotline_kpi_queue_offered",
        "Calls that entered the queue.",
        |k| Some(k.offered as f64),
    ),
    (
        "hotline_kpi_queue_answered",
        "Offered calls connected to an agent.",
        |k| Some(k.answered as f64),
    ),
    (
        "hotline_kpi_queue_abandoned",
        "Offered calls abandoned, short ones included.",
        |k| Some(k.abandoned as f64),
    ),
    (
        "hotline_kpi_queue_short_abandoned",
        "Abandons under the short-abandon threshold.",
        |k| Some(k.short_abandoned as f64),
    ),
    (
        "hotline_kpi_queue_answer_rate",
        "Answered / offered (0-1).",
        |k| k.answer_rate,
    ),
    (
        "hotline_kpi_queue_abandon_rate",
        "Abandoned (not short) / offered (0-1).",
        |k| k.abandon_rate,
    ),
    (
        "hotline_kpi_queue_service_level",
        "Service level per the configured variant (0-1).",
        |k| k.service_level,
    ),
    (
        "hotline_kpi_queue_asa_seconds",
        "Average speed of answer.",
        |k| k.asa_s,
    ),
    (
        "hotline_kpi_queue_rings_to_answer",
        "Mean ringing time of the answering offer / ring cycle.",
        |k| k.rings_to_answer,
    ),
    (
        "hotline_kpi_queue_aht_seconds",
        "Average handle time (talk + hold + wrap-up).",
        |k| k.aht_s,
    ),
];

const AGENT_METRICS: &[(&str, &str, Getter<AgentKpis>)] = &[
    (
        "hotline_kpi_agent_offers",
        "Calls offered to the agent.",
        |k| Some(k.offers as f64),
    ),
    (
        "hotline_kpi_agent_answered",
        "Offers the agent answered.",
        |k| Some(k.answered as f64),
    ),
    (
        "hotline_kpi_agent_answer_rate",
        "Answered / offers (0-1).",
        |k| k.answer_rate,
    ),
    (
        "hotline_kpi_agent_rings_to_answer",
        "Mean ringing time of answered offers / ring cycle.",
        |k| k.rings_to_answer,
    ),
    (
        "hotline_kpi_agent_aht_seconds",
        "Average handle time (talk + hold + wrap-up).",
        |k| k.aht_s,
    ),
    (
        "hotline_kpi_agent_occupancy",
        "(On call + wrap-up) / (logged in and not not-ready) (0-1).",
        |k| k.occupancy,
    ),
];

const NOT_READY: &str = "hotline_kpi_agent_not_ready_seconds";

impl KpiSnapshot {
    /// Every KPI as a gauge sample labelled by queue or agent and window (`window` is
    /// [`crate::Window::label`]). KPIs without a value (zero denominator) are left out.
    pub fn prometheus_samples(&self) -> Vec<Sample> {
        let mut out = Vec::new();
        for (name, help, get) in QUEUE_METRICS {
            for (queue, r) in &self.queues {
                for w in &r.windows {
                    if let Some(value) = get(&w.kpis) {
                        out.push(Sample {
                            name,
                            help,
                            labels: vec![("queue", queue.clone()), ("window", w.window.label())],
                            value,
                        });
                    }
                }
            }
        }
        for (name, help, get) in AGENT_METRICS {
            for (agent, r) in &self.agents {
                for w in &r.windows {
                    if let Some(value) = get(&w.kpis) {
                        out.push(Sample {
                            name,
                            help,
                            labels: vec![("agent", agent.clone()), ("window", w.window.label())],
                            value,
                        });
                    }
                }
            }
        }
        for (agent, r) in &self.agents {
            for w in &r.windows {
                for (reason, ms) in &w.kpis.not_ready_ms {
                    out.push(Sample {
                        name: NOT_READY,
                        help: "Time not ready, per reason code.",
                        labels: vec![
                            ("agent", agent.clone()),
                            ("window", w.window.label()),
                            ("reason", reason.clone()),
                        ],
                        value: *ms as f64 / 1000.0,
                    });
                }
            }
        }
        out
    }
}

/// Renders samples in the Prometheus text exposition format (gauges), grouping samples of
/// the same metric under one `# HELP` / `# TYPE` header.
pub fn render_prometheus(samples: &[Sample]) -> String {
    let mut out = String::new();
    let mut last: Option<&str> = None;
    for s in samples {
        if last != Some(s.name) {
            let _ = writeln!(out, "# HELP {} {}", s.name, s.help);
            let _ = writeln!(out, "# TYPE {} gauge", s.name);
            last = Some(s.name);
        }
        out.push_str(s.name);
        if !s.labels.is_empty() {
            out.push('{');
            for (i, (k, v)) in s.labels.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                let _ = write!(out, "{k}=\"{}\"", escape(v));
            }
            out.push('}');
        }
        let _ = writeln!(out, " {}", s.value);
    }
    out
}

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}
