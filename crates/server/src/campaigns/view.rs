//! What the API shows of a campaign: its specification, run state, statistics (progress,
//! per-outcome counts, abandon rate, pacing ratio) and the pacer's latest decision (the mode
//! followed and why); a preview offer as an agent sees it; an upload's per-line report.

use hotline_campaigns::campaign::{CampaignSpec, CampaignStats, EntryRecord, NotAdded};
use hotline_campaigns::list::{LineReport, Summary};
use hotline_campaigns::pacing::{DialMode, InboundHold, PacingDecision};
use serde::Serialize;
use serde_json::Value;

/// One campaign: `GET /api/v1/campaigns/{id}` (and each item of the list).
#[derive(Debug, Clone, Serialize)]
pub struct CampaignView {
    /// Its specification, defaults filled in.
    pub spec: CampaignSpec,
    /// Progress, outcomes, abandon rate and pacing ratio (the run state is `stats.state`);
    /// `stats.surveys` counts the survey answers of its calls.
    pub stats: StatsView,
    /// The pacer's latest decision (absent before the first one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pacing: Option<PacingView>,
}

/// A campaign's statistics: the engine's, and its calls' surveys.
#[derive(Debug, Clone, Serialize)]
pub struct StatsView {
    /// Progress, outcomes, abandon rate and pacing ratio.
    #[serde(flatten)]
    pub engine: CampaignStats,
    /// Surveys completed and skipped on its calls (agentless flows with a `survey` node).
    pub surveys: super::surveys::SurveyCounts,
}

/// The pacer's latest decision.
#[derive(Debug, Clone, Serialize)]
pub struct PacingView {
    /// The mode the campaign asked for.
    pub mode: DialMode,
    /// The mode the last decision followed (progressive when predictive degraded).
    pub followed: DialMode,
    /// Why, as a word (`too_few_agents`, `at_cap`, ...) and its figures.
    pub reason: Value,
    /// Calls the decision asked for (fewer start when the list, the dials per minute or the
    /// trunk's channels run short; the decision is made again when nothing is left to dial).
    pub dials: u32,
    /// The live-answer rate used.
    pub answer_rate: f64,
    /// Agents free now plus those expected free soon.
    pub expected_free: f64,
    /// The abandon rate over the profile's window when it decided.
    pub abandon_rate: f64,
    /// The safety used, in standard deviations (predictive).
    pub safety: f64,
    /// Free agents held for inbound work (blending) at the latest round: a caller waits in one
    /// of their inbound queues, or one is under its service-level target.
    pub blocked_by_inbound: InboundHold,
}

impl PacingView {
    /// The view of a decision for a campaign in `mode`, with the agents blending held.
    pub fn of(mode: DialMode, d: &PacingDecision, held: InboundHold) -> Self {
        // `{"kind": "too_few_agents", "agents": 2, "min": 3}` and the like.
        let reason = serde_json::to_value(d.reason).unwrap_or(Value::Null);
        Self {
            mode,
            followed: d.mode,
            reason,
            dials: d.dials,
            answer_rate: d.answer_rate,
            expected_free: d.expected_free,
            abandon_rate: d.abandon_rate,
            safety: d.safety,
            blocked_by_inbound: held,
        }
    }
}

/// A preview record offered to an agent: `GET /api/v1/agents/{id}/preview`.
#[derive(Debug, Clone, Serialize)]
pub struct PreviewView {
    /// The campaign.
    pub campaign: String,
    /// The entry (accept or skip it by this id).
    pub entry: u64,
    /// The customer's record (number, name, attributes).
    pub record: EntryRecord,
    /// Attempts made so far.
    pub attempts: u32,
}

/// The answer to an upload: `POST /api/v1/campaigns/{id}/records`.
#[derive(Debug, Clone, Serialize)]
pub struct UploadView {
    /// The list's totals (lines read, accepted, rejected by reason).
    pub summary: Summary,
    /// Every data line's verdict, in file order.
    pub lines: Vec<LineReport>,
    /// Records added to the campaign.
    pub added: usize,
    /// Accepted lines the campaign did not add (a number it already has, a due window that
    /// does not resolve).
    pub not_added: Vec<NotAdded>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use hotline_campaigns::pacing::PacingReason;
    use serde_json::json;

    #[test]
    fn the_pacing_view_says_how_many_agents_blending_held_and_why() {
        let decision = PacingDecision {
            dials: 0,
            mode: DialMode::Progressive,
            reason: PacingReason::Progressive,
            answer_rate: 0.5,
            expected_free: 0.0,
            abandon_rate: 0.0,
            safety: 0.0,
        };
        let held = InboundHold {
            waiting: 2,
            below_target: 1,
        };
        let view = PacingView::of(DialMode::Progressive, &decision, held);
        let json = serde_json::to_value(&view).unwrap_or_default();
        assert_eq!(
            json["blocked_by_inbound"],
            json!({"waiting": 2, "below_target": 1})
        );
        assert_eq!(json["reason"], json!({"kind": "progressive"}));
        assert_eq!(json["dials"], 0);
    }

    #[test]
    fn every_pacing_reason_shows_as_its_kind_and_figures_and_reads_back() {
        let reasons = [
            (PacingReason::Preview, json!({"kind": "preview"})),
            (PacingReason::Progressive, json!({"kind": "progressive"})),
            (PacingReason::Predictive, json!({"kind": "predictive"})),
            (
                PacingReason::WarmingUp {
                    resolved: 4,
                    needed: 8,
                    live: 3,
                    live_needed: 2,
                },
                json!({"kind": "warming_up", "resolved": 4, "needed": 8, "live": 3, "live_needed": 2}),
            ),
            (
                PacingReason::TooFewAgents { agents: 2, min: 3 },
                json!({"kind": "too_few_agents", "agents": 2, "min": 3}),
            ),
            (
                PacingReason::AtCap {
                    rate: 0.25,
                    cap: 0.03,
                },
                json!({"kind": "at_cap", "rate": 0.25, "cap": 0.03}),
            ),
            (PacingReason::Agentless, json!({"kind": "agentless"})),
        ];
        for (reason, want) in reasons {
            let decision = PacingDecision {
                dials: 1,
                mode: DialMode::Progressive,
                reason,
                answer_rate: 0.25,
                expected_free: 1.0,
                abandon_rate: 0.0,
                safety: 0.0,
            };
            let view = PacingView::of(DialMode::Predictive, &decision, InboundHold::default());
            let json = serde_json::to_value(&view).unwrap_or_default();
            assert_eq!(json["reason"], want);
            let back: PacingReason = serde_json::from_value(json["reason"].clone())
                .unwrap_or_else(|e| panic!("{want}: {e}"));
            assert_eq!(back, reason);
        }
    }
}
