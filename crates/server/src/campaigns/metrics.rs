//! Prometheus metrics of the outbound campaigns, per campaign: dials and attempt results
//! (counters, from the engine's events as they are written), records by progress, the
//! abandonment rate over the profile's window and the pacing ratio (gauges, from the
//! engine's statistics once a second).

use hotline_campaigns::campaign::{CampaignEvent, CampaignStats, HoldReason};
use prometheus::{GaugeVec, IntCounterVec, IntGaugeVec, Opts};

/// The campaign metrics, registered with the server's.
#[derive(Clone)]
pub struct CampaignMetrics {
    dials: IntCounterVec,
    trunk_busy: IntCounterVec,
    results: IntCounterVec,
    records: IntGaugeVec,
    abandon_rate: GaugeVec,
    pacing_ratio: GaugeVec,
}

/// The wire name of a serializable unit enum (`no_answer`).
pub fn wire_name<T: serde::Serialize>(value: T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

impl CampaignMetrics {
    /// Creates the metrics and registers them with `metrics`.
    pub fn register(metrics: &crate::metrics::Metrics) -> prometheus::Result<Self> {
        let this = Self {
            dials: IntCounterVec::new(
                Opts::new(
                    "hotline_campaign_dials_total",
                    "Campaign dial attempts started (those that then found their trunk busy \
                     and sent nothing are also in hotline_campaign_dials_trunk_busy_total)",
                ),
                &["campaign"],
            )?,
            trunk_busy: IntCounterVec::new(
                Opts::new(
                    "hotline_campaign_dials_trunk_busy_total",
                    "Campaign dials that found every channel or the call rate of their trunk \
                     taken and sent nothing (the record went back without using an attempt)",
                ),
                &["campaign"],
            )?,
            results: IntCounterVec::new(
                Opts::new(
                    "hotline_campaign_attempts_total",
                    "Campaign attempts ended, by result (connected, abandoned, busy, ...)",
                ),
                &["campaign", "result"],
            )?,
            records: IntGaugeVec::new(
                Opts::new(
                    "hotline_campaign_records",
                    "Campaign records by progress (total, done, pending, in_progress)",
                ),
                &["campaign", "state"],
            )?,
            abandon_rate: GaugeVec::new(
                Opts::new(
                    "hotline_campaign_abandon_rate",
                    "Abandoned share of live answers over the profile's window (0.03 is 3%)",
                ),
                &["campaign"],
            )?,
            pacing_ratio: GaugeVec::new(
                Opts::new(
                    "hotline_campaign_pacing_ratio",
                    "Dials per call connected to an agent",
                ),
                &["campaign"],
            )?,
        };
        for collector in [
            Box::new(this.dials.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(this.trunk_busy.clone()),
            Box::new(this.results.clone()),
            Box::new(this.records.clone()),
            Box::new(this.abandon_rate.clone()),
            Box::new(this.pacing_ratio.clone()),
        ] {
            metrics.register(collector)?;
        }
        Ok(this)
    }

    /// Counts one event the engine emitted (not replayed ones).
    pub fn count(&self, event: &CampaignEvent) {
        match event {
            CampaignEvent::AttemptStarted { campaign, .. } => {
                self.dials.with_label_values(&[campaign.as_str()]).inc()
            }
            CampaignEvent::Held {
                campaign,
                reason: HoldReason::TrunkBusy,
                ..
            } => self
                .trunk_busy
                .with_label_values(&[campaign.as_str()])
                .inc(),
            CampaignEvent::AttemptEnded {
                campaign, result, ..
            } => self
                .results
                .with_label_values(&[campaign.as_str(), wire_name(result).as_str()])
                .inc(),
            _ => {}
        }
    }

    /// Sets one campaign's gauges from its statistics.
    pub fn publish(&self, stats: &CampaignStats) {
        let id = stats.campaign.as_str();
        for (state, value) in [
            ("total", stats.total),
            ("done", stats.done),
            ("pending", stats.pending),
            ("in_progress", stats.in_progress),
        ] {
            self.records
                .with_label_values(&[id, state])
                .set(i64::try_from(value).unwrap_or(i64::MAX));
        }
        self.abandon_rate
            .with_label_values(&[id])
            .set(stats.abandon_rate);
        self.pacing_ratio
            .with_label_values(&[id])
            .set(stats.pacing_ratio);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hotline_campaigns::campaign::{CampaignId, EntryId};

    #[test]
    fn a_dial_that_found_its_trunk_busy_is_counted_apart_from_other_holds() {
        let metrics = crate::metrics::Metrics::new();
        let campaign = CampaignMetrics::register(&metrics).unwrap_or_else(|e| panic!("{e}"));
        let held = |reason| CampaignEvent::Held {
            at: jiff::Timestamp::UNIX_EPOCH,
            campaign: CampaignId::new("renewals"),
            entry: EntryId(3),
            reason,
            until: jiff::Timestamp::UNIX_EPOCH,
        };
        campaign.count(&held(HoldReason::TrunkBusy));
        campaign.count(&held(HoldReason::TrunkBusy));
        campaign.count(&held(HoldReason::OutsideWindow));
        let text = metrics.render();
        assert!(
            text.contains("hotline_campaign_dials_trunk_busy_total{campaign=\"renewals\"} 2"),
            "{text}"
        );
    }
}
