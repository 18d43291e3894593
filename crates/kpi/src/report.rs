//! What the projection reports: serde-serializable KPI values, per queue and per agent, per
//! window (the JSON of `GET /api/v1/kpis`).

use std::collections::BTreeMap;

use hotline_events::{AgentState, Timestamp};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::callbacks::{AgentCallbackKpis, CallbackKpis};
use crate::campaigns::{AgentCampaignKpis, CampaignKpis};
use crate::config::{duration_ms, KpiConfig, ServiceLevelVariant, ShortAbandonPolicy};
use crate::counters::{state_index, AgentCounters, QueueCounters};
use crate::series::Granularity;

/// The not-ready reason recorded when an event gives none.
pub const UNSPECIFIED_REASON: &str = "unspecified";

/// The definitions in force, named in every snapshot so that figures are never compared
/// across different variants by mistake.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Definitions {
    /// Abandons with a wait below this are short abandons.
    pub short_abandon_threshold_ms: u64,
    /// Whether short abandons count in the answer and abandon rates.
    pub short_abandons: ShortAbandonPolicy,
    /// The service-level variant.
    pub service_level: ServiceLevelVariant,
    /// One ring cycle, for rings to answer.
    pub ring_cycle_ms: u64,
}

impl Definitions {
    pub(crate) fn of(config: &KpiConfig) -> Self {
        Self {
            short_abandon_threshold_ms: ms_u64(config.short_abandon_threshold),
            short_abandons: config.short_abandons,
            service_level: config.service_level,
            ring_cycle_ms: ms_u64(config.ring_cycle),
        }
    }
}

fn ms_u64(d: std::time::Duration) -> u64 {
    u64::try_from(duration_ms(d)).unwrap_or(0)
}

/// The span a set of KPI values covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Window {
    /// The last `seconds`, in whole buckets ending with the current one.
    Rolling {
        /// Length of the window.
        seconds: u64,
    },
    /// The current local day.
    Day,
    /// The current local week (from Monday).
    Week,
    /// The current local month.
    Month,
}

impl Window {
    /// A short label, e.g. `last_15m`, `day`: the `window` label of Prometheus samples.
    pub fn label(&self) -> String {
        match self {
            Window::Rolling { seconds } if seconds % 60 == 0 => format!("last_{}m", seconds / 60),
            Window::Rolling { seconds } => format!("last_{seconds}s"),
            Window::Day => "day".into(),
            Window::Week => "week".into(),
            Window::Month => "month".into(),
        }
    }

    pub(crate) fn of(g: Granularity) -> Self {
        match g {
            Granularity::Day => Window::Day,
            Granularity::Week => Window::Week,
            Granularity::Month => Window::Month,
        }
    }
}

/// KPI values over one window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Windowed<K> {
    /// Which window.
    pub window: Window,
    /// Start of the window (inclusive).
    pub from: Timestamp,
    /// End of the window: the snapshot time, or the end of a past period.
    pub to: Timestamp,
    /// The values.
    pub kpis: K,
}

/// KPI values of one calendar period (history).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PeriodKpis<K> {
    /// Day, week or month.
    pub granularity: Granularity,
    /// Local date of the first day of the period, `YYYY-MM-DD`.
    pub period: String,
    /// Start of the period (local midnight, as UTC).
    pub from: Timestamp,
    /// End of the period (exclusive).
    pub to: Timestamp,
    /// The values.
    pub kpis: K,
}

/// One queue's KPIs over one window. Ratios are `None` when their denominator is zero;
/// durations are in milliseconds (totals) or seconds (averages).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueueKpis {
    /// Calls that entered the queue.
    pub offered: u64,
    /// Offered calls connected to an agent.
    pub answered: u64,
    /// Offered calls the caller hung up on before an agent answered (short ones included).
    pub abandoned: u64,
    /// Abandons with a wait under the short-abandon threshold.
    pub short_abandoned: u64,
    /// Answered calls that waited at most the service-level threshold T.
    pub answered_within_threshold: u64,
    /// Abandoned calls that waited more than T.
    pub abandoned_after_threshold: u64,
    /// answered / offered (short abandons removed from offered when excluded).
    pub answer_rate: Option<f64>,
    /// abandoned (not short) / offered (short abandons removed from offered when excluded;
    /// counted in both when included).
    pub abandon_rate: Option<f64>,
    /// The service level, per the configured variant.
    pub service_level: Option<f64>,
    /// The service-level threshold T of this queue, in milliseconds (in center-wide totals,
    /// `None` when queues have different thresholds: each call is judged by its queue's T).
    pub service_level_threshold_ms: Option<u64>,
    /// Average speed of answer: mean wait of answered calls, in seconds.
    pub asa_s: Option<f64>,
    /// Mean ringing time of the answering offer / ring cycle.
    pub rings_to_answer: Option<f64>,
    /// Answered calls whose talk ended in the window.
    pub handled: u64,
    /// Talk time (connected time minus hold) of handled calls.
    pub talk_ms: u64,
    /// Hold time of handled calls.
    pub hold_ms: u64,
    /// Wrap-up time of the agents after calls of this queue.
    pub wrap_up_ms: u64,
    /// Average handle time: (talk + hold + wrap-up) / handled, in seconds.
    pub aht_s: Option<f64>,
    /// Post-call surveys that ended (completed or skipped) in the window.
    #[serde(default)]
    pub surveys_offered: u64,
    /// Surveys completed (every question answered).
    #[serde(default)]
    pub survey_responses: u64,
    /// survey responses / surveys offered.
    #[serde(default)]
    pub response_rate: Option<f64>,
    /// Mean score of the survey answers (`survey.answered`), e.g. 1-5.
    #[serde(default)]
    pub satisfaction: Option<f64>,
    /// Callbacks of the queue: requests, attempts and their outcomes, conversations, and
    /// the callback-completion KPI.
    #[serde(default)]
    pub callbacks: CallbackKpis,
    /// Outbound campaign calls of the queue's campaigns: dials, answers, calls connected to
    /// an agent or abandoned, and their conversations. Never in the inbound figures above.
    #[serde(default)]
    pub campaigns: CampaignKpis,
}

fn ratio(num: u64, den: u64) -> Option<f64> {
    (den > 0).then(|| num as f64 / den as f64)
}

fn mean_s(total_ms: u64, n: u64) -> Option<f64> {
    (n > 0).then(|| total_ms as f64 / n as f64 / 1000.0)
}

fn rings(ring_ms: u64, n: u64, cycle_ms: u64) -> Option<f64> {
    (n > 0 && cycle_ms > 0).then(|| ring_ms as f64 / n as f64 / cycle_ms as f64)
}

impl QueueKpis {
    pub(crate) fn compute(c: &QueueCounters, d: &Definitions, threshold_ms: Option<u64>) -> Self {
        let (base, abandoned_in_rate) = match d.short_abandons {
            ShortAbandonPolicy::Excluded => (
                c.offered.saturating_sub(c.short_abandoned),
                c.abandoned.saturating_sub(c.short_abandoned),
            ),
            ShortAbandonPolicy::Included => (c.offered, c.abandoned),
        };
        let sl_den = match d.service_level {
            ServiceLevelVariant::AbandonedAfterThreshold => c.answered + c.abandoned_after_t,
            ServiceLevelVariant::AbandonedExceptShort => {
                c.answered + c.abandoned.saturating_sub(c.short_abandoned)
            }
            ServiceLevelVariant::AllAbandons => c.answered + c.abandoned,
            ServiceLevelVariant::NoAbandons => c.answered,
        };
        Self {
            offered: c.offered,
            answered: c.answered,
            abandoned: c.abandoned,
            short_abandoned: c.short_abandoned,
            answered_within_threshold: c.answered_within_t,
            abandoned_after_threshold: c.abandoned_after_t,
            answer_rate: ratio(c.answered, base),
            abandon_rate: ratio(abandoned_in_rate, base),
            service_level: ratio(c.answered_within_t, sl_den),
            service_level_threshold_ms: threshold_ms,
            asa_s: mean_s(c.wait_answered_ms, c.answered),
            rings_to_answer: rings(c.ring_answered_ms, c.answered, d.ring_cycle_ms),
            handled: c.handled,
            talk_ms: c.talk_ms,
            hold_ms: c.hold_ms,
            wrap_up_ms: c.wrap_up_ms,
            aht_s: mean_s(c.talk_ms + c.hold_ms + c.wrap_up_ms, c.handled),
            surveys_offered: c.surveys.offered,
            survey_responses: c.surveys.responses,
            response_rate: ratio(c.surveys.responses, c.surveys.offered),
            satisfaction: ratio(c.surveys.score_sum, c.surveys.answers),
            callbacks: CallbackKpis::compute(&c.callbacks),
            campaigns: CampaignKpis::compute(&c.campaigns),
        }
    }
}

/// One agent's KPIs over one window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentKpis {
    /// Calls offered to the agent (their phone rang).
    pub offers: u64,
    /// Offers the agent answered.
    pub answered: u64,
    /// Offers that failed on the agent's side (no answer, busy, declined, unreachable,
    /// logged out, taken away by a reload).
    pub offers_failed: u64,
    /// Offers that stopped ringing because another agent answered the call (ring-all) or the
    /// call left the queue (caller hung up, max wait): not the agent's doing.
    #[serde(default)]
    pub offers_withdrawn: u64,
    /// answered / (offers - withdrawn).
    pub answer_rate: Option<f64>,
    /// Mean ringing time of answered offers / ring cycle.
    pub rings_to_answer: Option<f64>,
    /// Answered calls whose talk ended in the window.
    pub handled: u64,
    /// Talk time (connected minus hold) of handled calls.
    pub talk_ms: u64,
    /// Hold time of handled calls.
    pub hold_ms: u64,
    /// Wrap-up time.
    pub wrap_up_ms: u64,
    /// Average handle time: (talk + hold + wrap-up) / handled, in seconds.
    pub aht_s: Option<f64>,
    /// (on call + wrap-up) / (logged in and not in a not-ready state).
    pub occupancy: Option<f64>,
    /// Time in each state.
    pub state_ms: StateTimes,
    /// Time not ready, per reason code, in milliseconds.
    pub not_ready_ms: BTreeMap<String, u64>,
    /// Post-call surveys that ended (completed or skipped) in the window.
    #[serde(default)]
    pub surveys_offered: u64,
    /// Surveys completed (every question answered).
    #[serde(default)]
    pub survey_responses: u64,
    /// survey responses / surveys offered.
    #[serde(default)]
    pub response_rate: Option<f64>,
    /// Mean score of the survey answers (`survey.answered`), e.g. 1-5.
    #[serde(default)]
    pub satisfaction: Option<f64>,
    /// Callback attempts the agent was reserved for, their outcomes, and the agent's callback
    /// conversations.
    #[serde(default)]
    pub callbacks: AgentCallbackKpis,
    /// The agent's outbound campaign calls and conversations (also in the handled work
    /// above).
    #[serde(default)]
    pub campaigns: AgentCampaignKpis,
}

/// Milliseconds spent in each agent state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateTimes {
    /// Logged out (only between a known logout and the next login).
    pub logged_out: u64,
    /// Ready and idle.
    pub ready: u64,
    /// Reserved for an offer.
    pub reserved: u64,
    /// Phone ringing.
    pub ringing: u64,
    /// On a call.
    pub on_call: u64,
    /// In wrap-up.
    pub wrap_up: u64,
    /// Not ready (any reason).
    pub not_ready: u64,
}

impl AgentKpis {
    pub(crate) fn compute(c: &AgentCounters, d: &Definitions) -> Self {
        let t = |s: AgentState| c.state_ms[state_index(s)];
        let busy = t(AgentState::OnCall) + t(AgentState::WrapUp);
        let available =
            busy + t(AgentState::Ready) + t(AgentState::Reserved) + t(AgentState::Ringing);
        Self {
            offers: c.offers,
            answered: c.answered,
            offers_failed: c.offers_failed,
            offers_withdrawn: c.offers_withdrawn,
            answer_rate: ratio(c.answered, c.offers.saturating_sub(c.offers_withdrawn)),
            rings_to_answer: rings(c.ring_answered_ms, c.answered, d.ring_cycle_ms),
            handled: c.handled,
            talk_ms: c.talk_ms,
            hold_ms: c.hold_ms,
            wrap_up_ms: c.wrap_up_ms,
            aht_s: mean_s(c.talk_ms + c.hold_ms + c.wrap_up_ms, c.handled),
            occupancy: ratio(busy, available),
            state_ms: StateTimes {
                logged_out: t(AgentState::LoggedOut),
                ready: t(AgentState::Ready),
                reserved: t(AgentState::Reserved),
                ringing: t(AgentState::Ringing),
                on_call: t(AgentState::OnCall),
                wrap_up: t(AgentState::WrapUp),
                not_ready: t(AgentState::NotReady),
            },
            not_ready_ms: c.not_ready_ms.clone(),
            surveys_offered: c.surveys.offered,
            survey_responses: c.surveys.responses,
            response_rate: ratio(c.surveys.responses, c.surveys.offered),
            satisfaction: ratio(c.surveys.score_sum, c.surveys.answers),
            callbacks: AgentCallbackKpis::compute(&c.callbacks),
            campaigns: AgentCampaignKpis::compute(&c.campaigns),
        }
    }
}

/// One queue in a snapshot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueueReport {
    /// The queue's rollup time zone, e.g. `+08:00`.
    pub utc_offset: String,
    /// The queue's short-abandon threshold (its own, else the definitions' one).
    pub short_abandon_threshold_ms: u64,
    /// The live rolling windows, then the current day, week and month.
    pub windows: Vec<Windowed<QueueKpis>>,
}

/// One agent in a snapshot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentReport {
    /// The agent's last known state.
    pub state: AgentState,
    /// Since when.
    pub since: Timestamp,
    /// The not-ready reason, when not ready.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The live rolling windows, then the current day, week and month (agents' rollups use
    /// the default queue time zone).
    pub windows: Vec<Windowed<AgentKpis>>,
}

/// Calls counted outside any queue.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallTotals {
    /// Calls that reached hotline (since the projection started).
    pub arrived: u64,
    /// Calls that ended without ever entering a queue (IVR-only calls).
    pub ivr_only: u64,
    /// Calls currently tracked (not ended).
    pub in_progress: u64,
}

/// Calls counted by arrival, queued or not.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallCounts {
    /// Calls that reached hotline.
    pub arrived: u64,
    /// Of those, calls that ended without ever entering a queue (IVR-only calls), counted
    /// in the period they arrived.
    pub ivr_only: u64,
}

/// Center-wide KPIs: the sums over every queue and every agent, per window. For calendar
/// windows each queue contributes its own current period (in its own time zone); `from` is
/// the earliest of them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Totals {
    /// Calls by arrival (rollups in the default queue time zone).
    pub calls: Vec<Windowed<CallCounts>>,
    /// All queues together.
    pub queues: Vec<Windowed<QueueKpis>>,
    /// All agents together (e.g. the team's occupancy).
    pub agents: Vec<Windowed<AgentKpis>>,
}

/// Everything the projection knows at one instant: the body of `GET /api/v1/kpis`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KpiSnapshot {
    /// The snapshot time (windows end here).
    pub at: Timestamp,
    /// The definitions in force.
    pub definitions: Definitions,
    /// Calls outside queues.
    pub calls: CallTotals,
    /// Center-wide sums over every queue and every agent.
    pub totals: Totals,
    /// Per queue, by name.
    pub queues: BTreeMap<String, QueueReport>,
    /// Per agent, by id.
    pub agents: BTreeMap<String, AgentReport>,
}

/// A [`Timestamp`] from unix milliseconds.
pub(crate) fn ts_of(ms: i64) -> Timestamp {
    let at = OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    Timestamp::from_datetime(at)
}

/// Unix milliseconds of a [`Timestamp`], saturating.
pub(crate) fn ms_of(ts: &Timestamp) -> i64 {
    i64::try_from(ts.unix_millis()).unwrap_or(0)
}
