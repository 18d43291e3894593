//! Sampling rules: which callbacks are made, e.g. "50% of the month's complaints, all marked
//! major".
//!
//! A rule matches a callback on its reason and attributes and names a share. Every rule a
//! callback matches votes; the callback is kept when any of them votes yes, or when no rule
//! matches it (rules only thin out what they match).
//!
//! A rule's vote keeps its month's share within one callback of its target: with `m` matches so
//! far this month (this one included), `s` of them kept and target share `p`, the vote is yes
//! when `s <= p*m - 1` (keeping it is needed to stay within one), no when `s >= p*m` (keeping it
//! would go over by one or more), and in between yes when the callback's draw `u` (a hash of the
//! seed, the rule's name and the callback id, uniform in [0, 1)) is below `p*m - s`. So the same
//! ids with the same seed in the same order always give the same decisions, and the share never
//! drifts. A rule that votes no can still see its match kept by another rule (a major complaint
//! is kept by "all major" and counts among "50% of complaints"): its share is then above its
//! target, which is what "at least 50%" asks for.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::ids::CallbackId;
use crate::time::Zone;

/// What a rule matches.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleMatch {
    /// The callback's reason, when the rule names one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Attributes the callback must carry with these values.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: BTreeMap<String, String>,
}

/// One sampling rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SamplingRule {
    /// Its name, in events and the report.
    pub name: String,
    /// What it matches.
    #[serde(rename = "match", default)]
    pub matches: RuleMatch,
    /// The share of its matches to keep each month, in percent (0-100).
    pub percent: f64,
}

/// The sampling configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SamplingConfig {
    /// The seed of the per-callback draws.
    #[serde(default)]
    pub seed: u64,
    /// The zone whose calendar months the shares count in (default UTC).
    #[serde(default = "Zone::utc")]
    pub time_zone: Zone,
    /// The rules.
    #[serde(default)]
    pub rules: Vec<SamplingRule>,
}

impl Default for SamplingConfig {
    fn default() -> Self {
        Self {
            seed: 0,
            time_zone: Zone::utc(),
            rules: Vec::new(),
        }
    }
}

/// A rule that cannot be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SamplingError {
    /// Its percent is outside 0-100.
    #[error("sampling rule {0:?}: percent must be within 0-100")]
    BadPercent(String),
    /// Two rules share a name.
    #[error("sampling rule {0:?} is defined twice")]
    Duplicate(String),
}

impl SamplingConfig {
    /// Checks percents and names.
    pub fn validate(&self) -> Result<(), SamplingError> {
        let mut names = std::collections::BTreeSet::new();
        for rule in &self.rules {
            if !(0.0..=100.0).contains(&rule.percent) {
                return Err(SamplingError::BadPercent(rule.name.clone()));
            }
            if !names.insert(rule.name.as_str()) {
                return Err(SamplingError::Duplicate(rule.name.clone()));
            }
        }
        Ok(())
    }
}

/// The sampling decision recorded with a created callback.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SamplingDecision {
    /// The month it counts in (`2026-12`).
    pub month: String,
    /// The rules it matched, in configuration order.
    pub rules: Vec<String>,
    /// Whether it is kept (called).
    pub kept: bool,
}

/// Matches and kept callbacks of one rule in one month.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Callbacks the rule matched.
    pub matched: u64,
    /// Of those, callbacks kept.
    pub kept: u64,
}

/// A line of the sampling report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SamplingShare {
    /// The rule.
    pub rule: String,
    /// The month.
    pub month: String,
    /// Callbacks it matched.
    pub matched: u64,
    /// Of those, kept.
    pub kept: u64,
    /// The target, in percent (`None` for a rule no longer configured).
    pub target_percent: Option<f64>,
    /// kept / matched, in percent.
    pub actual_percent: f64,
}

/// The running tallies: rebuilt from the decisions in `created` events.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sampler {
    tallies: BTreeMap<(String, String), Tally>,
}

const PPM: u64 = 1_000_000;

impl Sampler {
    /// Decides whether callback `id` (created `at`, with `reason` and `attributes`) is kept.
    pub fn decide(
        &self,
        config: &SamplingConfig,
        id: CallbackId,
        reason: &str,
        attributes: &BTreeMap<String, String>,
        at: Timestamp,
    ) -> Option<SamplingDecision> {
        let matching: Vec<&SamplingRule> = config
            .rules
            .iter()
            .filter(|r| rule_matches(&r.matches, reason, attributes))
            .collect();
        if matching.is_empty() {
            return None;
        }
        let local = config.time_zone.local(at);
        let month = format!("{:04}-{:02}", local.year(), local.month());
        let kept = matching.iter().any(|rule| {
            let tally = self
                .tallies
                .get(&(rule.name.clone(), month.clone()))
                .copied()
                .unwrap_or_default();
            vote(rule, tally, draw(config.seed, &rule.name, id))
        });
        Some(SamplingDecision {
            month,
            rules: matching.iter().map(|r| r.name.clone()).collect(),
            kept,
        })
    }

    /// Counts a decision (live and in replay alike).
    pub fn record(&mut self, decision: &SamplingDecision) {
        for rule in &decision.rules {
            let tally = self
                .tallies
                .entry((rule.clone(), decision.month.clone()))
                .or_default();
            tally.matched += 1;
            tally.kept += u64::from(decision.kept);
        }
    }

    /// One rule's tally for one month.
    pub fn tally(&self, rule: &str, month: &str) -> Tally {
        self.tallies
            .get(&(rule.to_owned(), month.to_owned()))
            .copied()
            .unwrap_or_default()
    }

    /// Every rule's share per month, with its target.
    pub fn report(&self, config: &SamplingConfig) -> Vec<SamplingShare> {
        self.tallies
            .iter()
            .map(|((rule, month), t)| SamplingShare {
                rule: rule.clone(),
                month: month.clone(),
                matched: t.matched,
                kept: t.kept,
                target_percent: config
                    .rules
                    .iter()
                    .find(|r| &r.name == rule)
                    .map(|r| r.percent),
                actual_percent: if t.matched == 0 {
                    0.0
                } else {
                    t.kept as f64 * 100.0 / t.matched as f64
                },
            })
            .collect()
    }
}

fn rule_matches(m: &RuleMatch, reason: &str, attributes: &BTreeMap<String, String>) -> bool {
    m.reason.as_deref().is_none_or(|r| r == reason)
        && m.attributes
            .iter()
            .all(|(k, v)| attributes.get(k) == Some(v))
}

/// The vote of `rule` for its next match (see the module documentation), in millionths.
fn vote(rule: &SamplingRule, tally: Tally, draw_ppm: u64) -> bool {
    // Within 0-100 (validated), so 0..=PPM.
    let share_ppm = (rule.percent * 10_000.0).round() as u64;
    let target = share_ppm * (tally.matched + 1);
    let kept = tally.kept * PPM;
    if kept + PPM <= target {
        true
    } else if kept >= target {
        false
    } else {
        draw_ppm < target - kept
    }
}

/// A stable draw in 0..1,000,000 for (seed, rule, id): FNV-1a of the rule's name mixed with the
/// seed and the id through splitmix64 (stable across builds, unlike the std hasher).
fn draw(seed: u64, rule: &str, id: CallbackId) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in rule.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    let mut x = splitmix(seed ^ h);
    x = splitmix(x ^ (id.0 as u64));
    x = splitmix(x ^ ((id.0 >> 64) as u64));
    x % PPM
}

fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(seed: u64) -> SamplingConfig {
        SamplingConfig {
            seed,
            time_zone: Zone::new("Asia/Shanghai").unwrap_or_else(|e| panic!("{e}")),
            rules: vec![
                SamplingRule {
                    name: "major".into(),
                    matches: RuleMatch {
                        reason: Some("complaint".into()),
                        attributes: [("severity".to_owned(), "major".to_owned())].into(),
                    },
                    percent: 100.0,
                },
                SamplingRule {
                    name: "complaints".into(),
                    matches: RuleMatch {
                        reason: Some("complaint".into()),
                        attributes: BTreeMap::new(),
                    },
                    percent: 50.0,
                },
            ],
        }
    }

    fn run(seed: u64, n: u128, major_every: u128) -> (Sampler, Vec<bool>) {
        let config = config(seed);
        let mut sampler = Sampler::default();
        let at: Timestamp = "2026-12-06T02:00:00Z"
            .parse()
            .unwrap_or(Timestamp::UNIX_EPOCH);
        let mut kept = Vec::new();
        for i in 0..n {
            let mut attrs = BTreeMap::new();
            if major_every > 0 && i % major_every == 0 {
                attrs.insert("severity".to_owned(), "major".to_owned());
            }
            let d = sampler.decide(&config, CallbackId(i * 7919), "complaint", &attrs, at);
            let d = d.unwrap_or_else(|| panic!("complaints match"));
            sampler.record(&d);
            kept.push(d.kept);
        }
        (sampler, kept)
    }

    #[test]
    fn half_of_complaints_kept_within_one_at_every_step() {
        let config = config(7);
        let mut sampler = Sampler::default();
        let at: Timestamp = "2026-12-06T02:00:00Z"
            .parse()
            .unwrap_or(Timestamp::UNIX_EPOCH);
        for i in 0..1001u128 {
            let d = sampler
                .decide(&config, CallbackId(i), "complaint", &BTreeMap::new(), at)
                .unwrap_or_else(|| panic!("matches"));
            sampler.record(&d);
            let t = sampler.tally("complaints", "2026-12");
            let diff = t.kept as f64 - t.matched as f64 * 0.5;
            assert!(diff.abs() < 1.0, "after {i}: {t:?}");
        }
    }

    #[test]
    fn all_major_kept_and_complaints_at_least_half() {
        let (sampler, kept) = run(3, 400, 5);
        for (i, k) in kept.iter().enumerate() {
            if i % 5 == 0 {
                assert!(k, "major complaint {i} dropped");
            }
        }
        let t = sampler.tally("complaints", "2026-12");
        assert!(t.kept * 2 >= t.matched, "{t:?}");
        assert!(t.kept * 2 <= t.matched + 2, "{t:?}");
        assert_eq!(
            sampler.tally("major", "2026-12"),
            Tally {
                matched: 80,
                kept: 80
            }
        );
    }

    #[test]
    fn same_seed_same_decisions_other_seed_other_picks() {
        let (_, a) = run(11, 200, 0);
        let (_, b) = run(11, 200, 0);
        let (_, c) = run(12, 200, 0);
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn unmatched_callbacks_are_not_sampled_and_months_count_apart() {
        let config = config(1);
        let sampler = Sampler::default();
        let dec = |at: &str, reason: &str| {
            let at: Timestamp = at.parse().unwrap_or(Timestamp::UNIX_EPOCH);
            sampler.decide(&config, CallbackId(1), reason, &BTreeMap::new(), at)
        };
        assert_eq!(dec("2026-12-06T02:00:00Z", "repair"), None);
        // 2026-11-30T17:00Z is already December 1st in Shanghai.
        let d = dec("2026-11-30T17:00:00Z", "complaint");
        assert_eq!(d.map(|d| d.month), Some("2026-12".to_owned()));
    }

    #[test]
    fn bad_percents_and_duplicate_names_are_refused() {
        let mut c = config(1);
        assert_eq!(c.validate(), Ok(()));
        c.rules[0].percent = 101.0;
        assert!(matches!(c.validate(), Err(SamplingError::BadPercent(_))));
        c.rules[0].percent = 10.0;
        c.rules[1].name = "major".into();
        assert!(matches!(c.validate(), Err(SamplingError::Duplicate(_))));
    }
}
