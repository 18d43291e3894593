//! The `campaigns:` section of the configuration: what campaigns created through the API get
//! when their specification leaves it out (jurisdiction profile, predictive minimum of agents
//! and warm-up),
//! and the country of list numbers written without a country code. The global do-not-call list
//! is not set here: it is one file, `callbacks.dnc_file` (default `dnc.txt` in the data
//! folder), that the scheduled callbacks and the campaigns both read and `/api/v1/dnc` writes;
//! a `campaigns.dnc_file` is refused with an error saying so.
//!
//! ```yaml
//! campaigns:
//!   default_profile: uk          # us | uk | {custom: {cap: 0.03, window: 24h, connect_within: 2s}}
//!   min_agents_predictive: 15    # fewer agents logged in: predictive dials progressively
//!   warmup_resolved_dials: 30    # predictive dials progressively until this many dials ended
//!   warmup_live_answers: 5       # ... and this many were answered by a person
//!   country: GB                  # list numbers without +country code
//!   company: Example Ltd        # spoken first by the abandon message
//!   machine_message: renewal_voicemail   # prompt left on machines (leave_message)
//!   amd: { initial_silence_ms: 2500, greeting_ms: 1500, total_analysis_time_ms: 5000 }
//! ```

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
    /// A campaign whose specification gives no `warmup_resolved_dials` gets this.
    #[serde(default = "default_warmup_resolved")]
    pub warmup_resolved_dials: u64,
    /// A campaign whose specification gives no `warmup_live_answers` gets this.
    #[serde(default = "default_warmup_live")]
    pub warmup_live_answers: u64,
    /// The country of list numbers without a country code (an upload's `country` wins).
    #[serde(default)]
    pub country: Option<Country>,
    /// Refused when given: the global do-not-call list is `callbacks.dnc_file`, one file for
    /// callbacks and campaigns.
    #[serde(default, rename = "dnc_file", deserialize_with = "shared_dnc_file")]
    retired_dnc_file: (),
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

/// The error a `campaigns.dnc_file` gets.
pub const SHARED_DNC_FILE: &str = "campaigns.dnc_file is not a setting: the global do-not-call \
     list is one file shared by scheduled callbacks and campaigns; set callbacks.dnc_file instead";

fn shared_dnc_file<'de, D: serde::Deserializer<'de>>(_: D) -> Result<(), D::Error> {
    Err(serde::de::Error::custom(SHARED_DNC_FILE))
}

fn default_profile() -> JurisdictionProfile {
    JurisdictionProfile::Us
}

fn default_min_agents() -> u32 {
    15
}

fn default_warmup_resolved() -> u64 {
    hotline_campaigns::pacing::DEFAULT_WARMUP_RESOLVED_DIALS
}

fn default_warmup_live() -> u64 {
    hotline_campaigns::pacing::DEFAULT_WARMUP_LIVE_ANSWERS
}

impl Default for CampaignsSettings {
    fn default() -> Self {
        Self {
            default_profile: default_profile(),
            min_agents_predictive: default_min_agents(),
            warmup_resolved_dials: default_warmup_resolved(),
            warmup_live_answers: default_warmup_live(),
            country: None,
            retired_dnc_file: (),
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
        object
            .entry("warmup_resolved_dials")
            .or_insert_with(|| self.warmup_resolved_dials.into());
        object
            .entry("warmup_live_answers")
            .or_insert_with(|| self.warmup_live_answers.into());
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

    #[test]
    fn a_campaigns_dnc_file_is_refused_pointing_to_the_shared_key() {
        let err = serde_saphyr::from_str::<CampaignsSettings>("dnc_file: /var/lib/dnc.txt\n")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("set callbacks.dnc_file instead"), "{err}");
    }

    #[test]
    fn the_warm_up_comes_from_the_section_unless_the_spec_gives_it() {
        let s: CampaignsSettings =
            serde_saphyr::from_str("warmup_resolved_dials: 12\nwarmup_live_answers: 3\n")
                .unwrap_or_else(|e| panic!("{e}"));
        let mut spec = serde_json::json!({"id": "c", "warmup_live_answers": 0});
        s.fill_spec(&mut spec);
        assert_eq!(spec["warmup_resolved_dials"], 12);
        assert_eq!(spec["warmup_live_answers"], 0);
        let defaults = CampaignsSettings::default();
        let mut spec = serde_json::json!({"id": "c"});
        defaults.fill_spec(&mut spec);
        assert_eq!(spec["warmup_resolved_dials"], 30);
        assert_eq!(spec["warmup_live_answers"], 5);
    }
}
