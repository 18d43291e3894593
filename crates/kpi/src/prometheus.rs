//! Prometheus-friendly values: one gauge sample per KPI, queue or agent, and window.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::report::{AgentKpis, CallCounts, KpiSnapshot, QueueKpis, Windowed};

/// One gauge sample, e.g. `hotline_kpi_queue_service_level{queue="support",window="last_15m"} 0.8`.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// Metric name.
    pub name: String,
    /// Help text of the metric.
    pub help: &'static str,
    /// Label names and values, in order.
    pub labels: Vec<(&'static str, String)>,
    /// The value.
    pub value: f64,
}

type Getter<K> = fn(&K) -> Option<f64>;

/// The windows of one queue or agent (with its label), or of a total (no label).
type Labelled<'a, K> = (Option<(&'static str, &'a str)>, &'a [Windowed<K>]);

const QUEUE_METRICS: &[(&str, &str, Getter<QueueKpis>)] = &[
    ("offered", "Calls that entered the queue.", |k| {
        Some(k.offered as f64)
    }),
    ("answered", "Offered calls connected to an agent.", |k| {
        Some(k.answered as f64)
    }),
    (
        "abandoned",
        "Offered calls abandoned, short ones included.",
        |k| Some(k.abandoned as f64),
    ),
    (
        "short_abandoned",
        "Abandons under the short-abandon threshold.",
        |k| Some(k.short_abandoned as f64),
    ),
    ("answer_rate", "Answered / offered (0-1).", |k| {
        k.answer_rate
    }),
    (
        "abandon_rate",
        "Abandoned (not short) / offered (0-1).",
        |k| k.abandon_rate,
    ),
    (
        "service_level",
        "Service level per the configured variant (0-1).",
        |k| k.service_level,
    ),
    ("asa_seconds", "Average speed of answer.", |k| k.asa_s),
    (
        "rings_to_answer",
        "Mean ringing time of the answering offer / ring cycle.",
        |k| k.rings_to_answer,
    ),
    (
        "aht_seconds",
        "Average handle time (talk + hold + wrap-up).",
        |k| k.aht_s,
    ),
    (
        "surveys_offered",
        "Post-call surveys that ended (completed or skipped).",
        |k| Some(k.surveys_offered as f64),
    ),
    ("survey_responses", "Post-call surveys completed.", |k| {
        Some(k.survey_responses as f64)
    }),
    (
        "response_rate",
        "Survey responses / surveys offered (0-1).",
        |k| k.response_rate,
    ),
    ("satisfaction", "Mean score of the survey answers.", |k| {
        k.satisfaction
    }),
    (
        "callbacks_requested",
        "In-queue callbacks asked for (callers who chose a callback, entries created).",
        |k| Some(k.callbacks.requested as f64),
    ),
    ("callbacks_scheduled", "Scheduled callbacks created.", |k| {
        Some(k.callbacks.scheduled as f64)
    }),
    (
        "callbacks_dialed",
        "Callback dial attempts (agent reserved, customer dialed).",
        |k| Some(k.callbacks.dialed as f64),
    ),
    (
        "callbacks_customer_dialed",
        "Callback attempts whose customer was dialed (after the agent answered).",
        |k| Some(k.callbacks.customer_dialed as f64),
    ),
    (
        "callbacks_connected",
        "Callback attempts that connected customer and agent.",
        |k| Some(k.callbacks.connected as f64),
    ),
    ("callbacks_failed", "Callback attempts that failed.", |k| {
        Some(k.callbacks.failed as f64)
    }),
    ("callbacks_given_up", "Callbacks given up.", |k| {
        Some(k.callbacks.given_up as f64)
    }),
    (
        "callbacks_cancelled",
        "Callbacks cancelled while waiting.",
        |k| Some(k.callbacks.cancelled as f64),
    ),
    (
        "callbacks_handled",
        "Callback conversations that ended.",
        |k| Some(k.callbacks.handled as f64),
    ),
    (
        "callbacks_due",
        "Callbacks due (completion KPI denominator).",
        |k| Some(k.callbacks.due as f64),
    ),
    (
        "callbacks_completed_within",
        "Callbacks completed within their due window.",
        |k| Some(k.callbacks.completed_within_due_window as f64),
    ),
    (
        "callback_completion",
        "Callbacks completed within their due window / callbacks due (0-1).",
        |k| k.callbacks.completion,
    ),
    (
        "callback_completion_band",
        "Band of the callback completion: 100, 95, 80, 75, or 0 under 75%.",
        |k| k.callbacks.completion_band.map(|b| f64::from(b.percent())),
    ),
    ("campaign_dialed", "Outbound campaign dials.", |k| {
        Some(k.campaigns.dialed as f64)
    }),
    (
        "campaign_answered",
        "Campaign dials answered (person or machine).",
        |k| Some(k.campaigns.answered as f64),
    ),
    (
        "campaign_answer_rate",
        "Campaign dials answered / dialed (0-1).",
        |k| k.campaigns.answer_rate,
    ),
    (
        "campaign_live_answers",
        "Campaign answers counted live (passed to an agent, not a machine).",
        |k| Some(k.campaigns.live_answers as f64),
    ),
    (
        "campaign_machine_answers",
        "Campaign answers found to be a machine.",
        |k| Some(k.campaigns.machine_answers as f64),
    ),
    (
        "campaign_queued",
        "Answered campaign calls queued for an agent (not inbound offered calls).",
        |k| Some(k.campaigns.queued as f64),
    ),
    (
        "campaign_connected",
        "Queued campaign calls an agent took.",
        |k| Some(k.campaigns.connected as f64),
    ),
    (
        "campaign_abandoned",
        "Queued campaign calls no agent took within the connect time (not inbound abandons).",
        |k| Some(k.campaigns.abandoned as f64),
    ),
    (
        "campaign_abandon_rate",
        "Campaign abandoned / queued (0-1).",
        |k| k.campaigns.abandon_rate,
    ),
    (
        "campaign_mean_wait_seconds",
        "Mean wait of connected campaign calls for their agent.",
        |k| k.campaigns.mean_wait_s,
    ),
    (
        "campaign_conversations",
        "Campaign conversations that ended (also in handled work).",
        |k| Some(k.campaigns.conversations as f64),
    ),
    (
        "campaign_talk_seconds",
        "Talk time of campaign conversations.",
        |k| Some(k.campaigns.talk_ms as f64 / 1000.0),
    ),
    (
        "campaign_aht_seconds",
        "Average handle time of campaign conversations (talk + hold + wrap-up).",
        |k| k.campaigns.aht_s,
    ),
];

const CALL_METRICS: &[(&str, &str, Getter<CallCounts>)] = &[
    ("arrived", "Calls that reached hotline.", |k| {
        Some(k.arrived as f64)
    }),
    (
        "ivr_only",
        "Calls that ended without entering a queue.",
        |k| Some(k.ivr_only as f64),
    ),
];

const AGENT_METRICS: &[(&str, &str, Getter<AgentKpis>)] = &[
    ("offers", "Calls offered to the agent.", |k| {
        Some(k.offers as f64)
    }),
    ("answered", "Offers the agent answered.", |k| {
        Some(k.answered as f64)
    }),
    (
        "offers_failed",
        "Offers that failed on the agent's side (no answer, busy, declined...).",
        |k| Some(k.offers_failed as f64),
    ),
    (
        "offers_withdrawn",
        "Offers withdrawn because another agent answered or the call left.",
        |k| Some(k.offers_withdrawn as f64),
    ),
    (
        "answer_rate",
        "Answered / (offers - withdrawn) (0-1).",
        |k| k.answer_rate,
    ),
    (
        "rings_to_answer",
        "Mean ringing time of answered offers / ring cycle.",
        |k| k.rings_to_answer,
    ),
    (
        "aht_seconds",
        "Average handle time (talk + hold + wrap-up).",
        |k| k.aht_s,
    ),
    (
        "occupancy",
        "(On call + wrap-up) / (logged in and not not-ready) (0-1).",
        |k| k.occupancy,
    ),
    (
        "surveys_offered",
        "Post-call surveys that ended (completed or skipped).",
        |k| Some(k.surveys_offered as f64),
    ),
    ("survey_responses", "Post-call surveys completed.", |k| {
        Some(k.survey_responses as f64)
    }),
    (
        "response_rate",
        "Survey responses / surveys offered (0-1).",
        |k| k.response_rate,
    ),
    ("satisfaction", "Mean score of the survey answers.", |k| {
        k.satisfaction
    }),
    (
        "callbacks_dialed",
        "Callback dial attempts the agent was reserved for.",
        |k| Some(k.callbacks.dialed as f64),
    ),
    (
        "callbacks_connected",
        "Callback attempts that connected the customer to the agent.",
        |k| Some(k.callbacks.connected as f64),
    ),
    ("callbacks_failed", "Callback attempts that failed.", |k| {
        Some(k.callbacks.failed as f64)
    }),
    (
        "callbacks_handled",
        "Callback conversations that ended.",
        |k| Some(k.callbacks.handled as f64),
    ),
    (
        "campaign_connected",
        "Campaign calls the agent took.",
        |k| Some(k.campaigns.connected as f64),
    ),
    (
        "campaign_conversations",
        "Campaign conversations that ended (also in handled work).",
        |k| Some(k.campaigns.conversations as f64),
    ),
    (
        "campaign_aht_seconds",
        "Average handle time of campaign conversations (talk + hold + wrap-up).",
        |k| k.campaigns.aht_s,
    ),
];

/// Appends one sample per (metric, labelled window list, window) with a value.
fn push_all<K>(
    out: &mut Vec<Sample>,
    prefix: &str,
    metrics: &[(&str, &'static str, Getter<K>)],
    series: &[Labelled<'_, K>],
) {
    for (suffix, help, get) in metrics {
        for (label, windows) in series {
            for w in windows.iter() {
                let Some(value) = get(&w.kpis) else { continue };
                let mut labels: Vec<(&'static str, String)> =
                    label.iter().map(|(k, v)| (*k, (*v).to_owned())).collect();
                labels.push(("window", w.window.label()));
                out.push(Sample {
                    name: format!("{prefix}_{suffix}"),
                    help,
                    labels,
                    value,
                });
            }
        }
    }
}

impl KpiSnapshot {
    /// Every KPI as a gauge sample, labelled by window (`window` is [`crate::Window::label`]):
    /// `hotline_kpi_queue_*{queue,window}`, `hotline_kpi_agent_*{agent,window}`,
    /// `hotline_kpi_agent_not_ready_seconds{agent,window,reason}`,
    /// `hotline_kpi_queue_callbacks_failed_by_cause{queue,window,cause}` and
    /// `hotline_kpi_agent_callbacks_failed_by_cause{agent,window,cause}`,
    /// `hotline_kpi_calls_arrived{window}` and `hotline_kpi_calls_ivr_only{window}`, and the
    /// center-wide totals
    /// `hotline_kpi_center_*{window}` (all queues) and `hotline_kpi_team_*{window}` (all
    /// agents). KPIs without a value (zero denominator) are left out.
    pub fn prometheus_samples(&self) -> Vec<Sample> {
        let mut out = Vec::new();
        let queues: Vec<_> = self
            .queues
            .iter()
            .map(|(q, r)| (Some(("queue", q.as_str())), r.windows.as_slice()))
            .collect();
        push_all(&mut out, "hotline_kpi_queue", QUEUE_METRICS, &queues);
        push_all(
            &mut out,
            "hotline_kpi_center",
            QUEUE_METRICS,
            &[(None, self.totals.queues.as_slice())],
        );
        let agents: Vec<_> = self
            .agents
            .iter()
            .map(|(a, r)| (Some(("agent", a.as_str())), r.windows.as_slice()))
            .collect();
        push_all(&mut out, "hotline_kpi_agent", AGENT_METRICS, &agents);
        push_all(
            &mut out,
            "hotline_kpi_team",
            AGENT_METRICS,
            &[(None, self.totals.agents.as_slice())],
        );
        push_all(
            &mut out,
            "hotline_kpi_calls",
            CALL_METRICS,
            &[(None, self.totals.calls.as_slice())],
        );
        for (queue, r) in &self.queues {
            for w in &r.windows {
                push_causes(
                    &mut out,
                    "hotline_kpi_queue",
                    ("queue", queue),
                    w.window.label(),
                    &w.kpis.callbacks.failed_by_cause,
                );
            }
        }
        for (agent, r) in &self.agents {
            for w in &r.windows {
                push_causes(
                    &mut out,
                    "hotline_kpi_agent",
                    ("agent", agent),
                    w.window.label(),
                    &w.kpis.callbacks.failed_by_cause,
                );
            }
        }
        for (agent, r) in &self.agents {
            for w in &r.windows {
                for (reason, ms) in &w.kpis.not_ready_ms {
                    out.push(Sample {
                        name: "hotline_kpi_agent_not_ready_seconds".to_owned(),
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

/// Appends one `{prefix}_callbacks_failed_by_cause{label,window,cause}` sample per cause.
fn push_causes(
    out: &mut Vec<Sample>,
    prefix: &str,
    (key, id): (&'static str, &str),
    window: String,
    causes: &BTreeMap<String, u64>,
) {
    for (cause, n) in causes {
        out.push(Sample {
            name: format!("{prefix}_callbacks_failed_by_cause"),
            help: "Callback attempts that failed, per cause.",
            labels: vec![
                (key, id.to_owned()),
                ("window", window.clone()),
                ("cause", cause.clone()),
            ],
            value: *n as f64,
        });
    }
}

/// Renders samples in the Prometheus text exposition format (gauges), grouping samples of
/// the same metric under one `# HELP` / `# TYPE` header.
pub fn render_prometheus(samples: &[Sample]) -> String {
    let mut out = String::new();
    let mut last: Option<&str> = None;
    for s in samples {
        if last != Some(s.name.as_str()) {
            let _ = writeln!(out, "# HELP {} {}", s.name, s.help);
            let _ = writeln!(out, "# TYPE {} gauge", s.name);
            last = Some(s.name.as_str());
        }
        out.push_str(&s.name);
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
