//! The `campaigns:` section of the configuration: what campaigns created through the API get
//! when their specification leaves it out (jurisdiction profile, predictive minimum of agents),
//! the country of list numbers written without a country code, and the global do-not-call
//! file (the scheduled callbacks' list by default, so one list serves both).
//!
//! ```yaml
//! campaigns:
//!   default_profile: uk          # us | uk | {custom: {cap: 0.03, window: 24h, connect_within: 2s}}
//!   min_agents_predictive: 15    # fewer agents logged in: predictive dials progressively
//!   country: GB                  # list numbers without +country code
//!   dnc_file: /var/lib/hotline/dnc.txt
//!   company: Example Ltd        # spoken first by the abandon message
//!   machine_message: renewal_voicemail   # prompt left on machines (leave_message)
//!   amd: { initial_silence_ms: 2500, greeting_ms: 1500, total_analysis_time_ms: 5000 }
//! ```

use std::path::PathBuf;

use hotline_campaigns::list::Country;
use hotline_campaigns::pacing::JurisdictionProfile;
use serde::Deserialize;

/// The `campaigns:` section, read once at start.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CampaignsSettings {
    /// The profile of a campaign whose specification names none.
    #[serde(default = "default_profile")]
    pub default_profile: JurisdictionProfile,
    /// A campaign whose specification gives no `min_agents_predictive` gets this.
    #[serde(default = "default_min_agents")]
    pub min_agents_predictive: u32,
    /// The country of list numbers without a country code (an upload's `country` wins).
    #[serde(default)]
    pub country: Option<Country>,
    /// The global do-not-call file (None: the `callbacks:` section's, else `dnc.txt` in the
    /// data folder). Read at start and again whenever the file changes.
    #[serde(default)]
    pub dnc_file: Option<PathBuf>,
    /// The answering-machine detector's thresholds for every campaign that detects machines
    /// (the campaign's `amd` says what is done with each verdict).
    #[serde(default)]
    pub amd: hotline_media::AmdConfig,
    /// The prompt left on an answering machine when a campaign's action is `leave_message`
    /// (None: such answers are dropped).
    #[serde(default)]
    pub machine_message: Option<String>,
    /// Who calls, for the abandon message ("Example Ltd"): spoken as "This is Example Ltd
    /// calling." unless a campaign's `abandon_message.text` says otherwise (empty: nothing is
    /// spoken unless the campaign gives a text; its prompt must then say who called).
    #[serde(default)]
    pub company: String,
}

fn default_profile() -> JurisdictionProfile {
    JurisdictionProfile::Us
}

fn default_min_agents() -> u32 {
    15
}

impl Default for CampaignsSettings {
    fn default() -> Self {
        Self {
            default_profile: default_profile(),
            min_agents_predictive: default_min_agents(),
            country: None,
            dnc_file: None,
            amd: hotline_media::AmdConfig::default(),
            machine_message: None,
            company: String::new(),
        }
    }
}

impl CampaignsSettings {
    /// Fills what a campaign specification (JSON) leaves out with this section's defaults.
    pub fn fill_spec(&self, spec: &mut serde_json::Value) {
        let Some(object) = spec.as_object_mut() else {
            return;
        };
        if !object.contains_key("profile") {
            if let Ok(profile) = serde_json::to_value(&self.default_profile) {
                object.insert("profile".into(), profile);
            }
        }
        object
            .entry("min_agents_predictive")
            .or_insert_with(|| self.min_agents_predictive.into());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_section_reads_with_defaults_and_fills_a_spec() {
        let yaml = "default_profile: uk\ncountry: GB\n";
        let s: CampaignsSettings = serde_saphyr::from_str(yaml).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(s.default_profile, JurisdictionProfile::Uk);
        assert_eq!(s.min_agents_predictive, 15);
        assert_eq!(s.country, Some(Country::GB));
        let mut spec = serde_json::json!({"id": "c", "min_agents_predictive": 20});
        s.fill_spec(&mut spec);
        assert_eq!(spec["profile"], "uk");
        assert_eq!(spec["min_agents_predictive"], 20);
        let mut named = serde_json::json!({"profile": "us"});
        s.fill_spec(&mut named);
        assert_eq!(named["profile"], "us");
        assert!(serde_saphyr::from_str::<CampaignsSettings>("bogus: 1").is_err());
    }
}
