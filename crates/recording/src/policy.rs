//! Whether a call is recorded: always, never, on demand, or a sampled share of calls.
//!
//! A sampled decision is a pure function of the call's id and a seed, so every replay of the
//! event log, and every process that asks, agrees on it. In configuration:
//!
//! ```yaml
//! recording: always            # or never, on_demand
//! recording: { sampled: 20% }  # or { sampled: 0.2 }
//! ```

use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use uuid::Uuid;

/// Parts per million in a whole.
const PPM: u32 = 1_000_000;

/// A share of calls, from 0% to 100%, with a resolution of one in a million.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SampleShare(u32);

impl SampleShare {
    /// The share of `ppm` calls in a million (capped at all of them).
    pub fn from_ppm(ppm: u32) -> Self {
        SampleShare(ppm.min(PPM))
    }

    /// The share as a fraction from 0 to 1, if it is one.
    pub fn from_fraction(fraction: f64) -> Option<Self> {
        if !(0.0..=1.0).contains(&fraction) {
            return None;
        }
        // In range 0..=1_000_000 after the check above.
        Some(SampleShare((fraction * f64::from(PPM)).round() as u32))
    }

    /// Parts per million.
    pub fn ppm(self) -> u32 {
        self.0
    }
}

impl fmt::Display for SampleShare {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let whole = self.0 / 10_000;
        let frac = self.0 % 10_000;
        if frac == 0 {
            write!(f, "{whole}%")
        } else {
            let digits = format!("{frac:04}");
            write!(f, "{whole}.{}%", digits.trim_end_matches('0'))
        }
    }
}

/// Why a share could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShareError {
    /// Not a percentage like `20%` or `12.5%`.
    #[error("`{0}` is not a percentage (write e.g. `20%` or a fraction like 0.2)")]
    NotAPercentage(String),
    /// Outside 0% to 100%.
    #[error("`{0}` is not between 0% and 100%")]
    OutOfRange(String),
}

impl std::str::FromStr for SampleShare {
    type Err = ShareError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let trimmed = s.trim();
        match trimmed.strip_suffix('%') {
            Some(number) => {
                let percent: f64 = number
                    .trim()
                    .parse()
                    .map_err(|_| ShareError::NotAPercentage(s.to_owned()))?;
                SampleShare::from_fraction(percent / 100.0)
                    .ok_or_else(|| ShareError::OutOfRange(s.to_owned()))
            }
            None => {
                let fraction: f64 = trimmed
                    .parse()
                    .map_err(|_| ShareError::NotAPercentage(s.to_owned()))?;
                SampleShare::from_fraction(fraction)
                    .ok_or_else(|| ShareError::NotAPercentage(s.to_owned()))
            }
        }
    }
}

impl Serialize for SampleShare {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for SampleShare {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ShareVisitor;
        impl Visitor<'_> for ShareVisitor {
            type Value = SampleShare;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a percentage like \"20%\" or a fraction from 0 to 1")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<SampleShare, E> {
                v.parse().map_err(E::custom)
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<SampleShare, E> {
                SampleShare::from_fraction(v).ok_or_else(|| {
                    E::custom(format!(
                        "{v} is not a fraction from 0 to 1 (write `{v}%` for a percentage)"
                    ))
                })
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<SampleShare, E> {
                // Only 0 and 1 are fractions; `20` is almost certainly meant as 20%.
                self.visit_f64(v as f64)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<SampleShare, E> {
                self.visit_f64(v as f64)
            }
        }
        deserializer.deserialize_any(ShareVisitor)
    }
}

/// Which calls are recorded (per queue; a dialplan node's policy overrides its queue's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum RecordingPolicy {
    /// Every call.
    Always,
    /// No call.
    #[default]
    Never,
    /// Only when the API asks, from that moment.
    OnDemand,
    /// A share of calls, chosen per call id.
    Sampled(SampleShare),
}

/// The outcome of a policy for one call, with the reason (for the call's events).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// Recorded: the policy records every call.
    Always,
    /// Not recorded: the policy records no call.
    Never,
    /// Not recorded unless the API asks.
    OnDemand,
    /// Recorded: the call was drawn into the sample.
    SampledIn,
    /// Not recorded: the call was not drawn into the sample.
    SampledOut,
}

impl Decision {
    /// Whether recording starts with the call.
    pub fn records(self) -> bool {
        matches!(self, Decision::Always | Decision::SampledIn)
    }
}

impl RecordingPolicy {
    /// The policy in force: the dialplan node's if it sets one, else the queue's, else never.
    pub fn effective(queue: Option<RecordingPolicy>, node: Option<RecordingPolicy>) -> Self {
        node.or(queue).unwrap_or_default()
    }

    /// Decides for the call `call`; the same (`call`, `seed`) always gives the same answer.
    pub fn decide(self, call: Uuid, seed: u64) -> Decision {
        match self {
            RecordingPolicy::Always => Decision::Always,
            RecordingPolicy::Never => Decision::Never,
            RecordingPolicy::OnDemand => Decision::OnDemand,
            RecordingPolicy::Sampled(share) => {
                if sample_draw(call, seed) < share.ppm() {
                    Decision::SampledIn
                } else {
                    Decision::SampledOut
                }
            }
        }
    }
}

/// The call's place in 0..1_000_000, uniform over calls and fixed for a (call, seed).
pub fn sample_draw(call: Uuid, seed: u64) -> u32 {
    let (hi, lo) = call.as_u64_pair();
    let h = splitmix64(splitmix64(splitmix64(seed) ^ hi) ^ lo);
    // The bias of a 64-bit value modulo a million is below 1e-13.
    (h % u64::from(PPM)) as u32
}

/// SplitMix64's finaliser: a fixed, well-mixed 64-bit permutation (Steele et al., 2014).
fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<RecordingPolicy, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn policies_parse_from_config_values() {
        assert_eq!(
            parse(r#""always""#).expect("parses"),
            RecordingPolicy::Always
        );
        assert_eq!(parse(r#""never""#).expect("parses"), RecordingPolicy::Never);
        assert_eq!(
            parse(r#""on_demand""#).expect("parses"),
            RecordingPolicy::OnDemand
        );
        let twenty = RecordingPolicy::Sampled(SampleShare::from_ppm(200_000));
        assert_eq!(parse(r#"{"sampled":"20%"}"#).expect("parses"), twenty);
        assert_eq!(parse(r#"{"sampled":0.2}"#).expect("parses"), twenty);
        assert_eq!(parse(r#"{"sampled":"0.2"}"#).expect("parses"), twenty);
        assert_eq!(
            parse(r#"{"sampled":"12.5%"}"#).expect("parses"),
            RecordingPolicy::Sampled(SampleShare::from_ppm(125_000))
        );
        assert_eq!(
            parse(r#"{"sampled":1}"#).expect("parses"),
            RecordingPolicy::Sampled(SampleShare::from_ppm(1_000_000))
        );
        let err = parse(r#"{"sampled":20}"#).expect_err("20 is not a fraction");
        assert!(err.to_string().contains("20%"), "{err}");
        assert!(parse(r#"{"sampled":"120%"}"#).is_err());
        assert!(parse(r#"{"sampled":"-1%"}"#).is_err());
        assert!(parse(r#"{"sampled":"lots"}"#).is_err());
        assert!(parse(r#""sometimes""#).is_err());
    }

    #[test]
    fn policies_serialize_back_to_the_same_words() {
        let back = |p: RecordingPolicy| serde_json::to_string(&p).expect("serializes");
        assert_eq!(back(RecordingPolicy::OnDemand), r#""on_demand""#);
        assert_eq!(
            back(RecordingPolicy::Sampled(SampleShare::from_ppm(125_000))),
            r#"{"sampled":"12.5%"}"#
        );
        assert_eq!(SampleShare::from_ppm(200_000).to_string(), "20%");
        assert_eq!(SampleShare::from_ppm(1).to_string(), "0.0001%");
    }

    #[test]
    fn a_node_policy_overrides_the_queue_policy() {
        use RecordingPolicy::*;
        assert_eq!(RecordingPolicy::effective(Some(Always), Some(Never)), Never);
        assert_eq!(RecordingPolicy::effective(Some(OnDemand), None), OnDemand);
        assert_eq!(RecordingPolicy::effective(None, None), Never);
    }

    #[test]
    fn fixed_policies_ignore_the_call() {
        let call = Uuid::from_u128(7);
        assert!(RecordingPolicy::Always.decide(call, 1).records());
        assert!(!RecordingPolicy::Never.decide(call, 1).records());
        assert_eq!(
            RecordingPolicy::OnDemand.decide(call, 1),
            Decision::OnDemand
        );
        assert!(!Decision::OnDemand.records());
    }

    /// Deterministic, well-spread ids in the shape of UUID v4.
    fn ids(n: u64) -> impl Iterator<Item = Uuid> {
        (0..n).map(|i| {
            let hi = splitmix64(i ^ 0xA5A5);
            let lo = splitmix64(hi);
            uuid::Builder::from_random_bytes(
                ((u128::from(hi) << 64) | u128::from(lo)).to_be_bytes(),
            )
            .into_uuid()
        })
    }

    #[test]
    fn sampling_20_percent_of_10000_calls_lands_near_20_percent() {
        let policy = RecordingPolicy::Sampled(SampleShare::from_ppm(200_000));
        for seed in [0u64, 1, 42, u64::MAX] {
            let random = ids(10_000)
                .filter(|id| policy.decide(*id, seed).records())
                .count();
            assert!((1850..=2150).contains(&random), "seed {seed}: {random}");
            // Sequential ids (time-ordered, little entropy) are spread as well.
            let sequential = (0..10_000u128)
                .filter(|i| {
                    policy
                        .decide(Uuid::from_u128(0x0193_0000 << 96 | i), seed)
                        .records()
                })
                .count();
            assert!(
                (1850..=2150).contains(&sequential),
                "seed {seed}: {sequential}"
            );
        }
    }

    #[test]
    fn a_call_gets_the_same_decision_every_time_and_the_seed_changes_the_sample() {
        let policy = RecordingPolicy::Sampled(SampleShare::from_ppm(500_000));
        let first: Vec<_> = ids(1000).map(|id| policy.decide(id, 9)).collect();
        let again: Vec<_> = ids(1000).map(|id| policy.decide(id, 9)).collect();
        assert_eq!(first, again);
        let other: Vec<_> = ids(1000).map(|id| policy.decide(id, 10)).collect();
        let differing = first.iter().zip(&other).filter(|(a, b)| a != b).count();
        assert!((400..=600).contains(&differing), "{differing}");
        // The extremes are exact.
        assert!(
            ids(1000).all(
                |id| RecordingPolicy::Sampled(SampleShare::from_ppm(0)).decide(id, 3)
                    == Decision::SampledOut
            )
        );
        assert!(ids(1000).all(
            |id| RecordingPolicy::Sampled(SampleShare::from_ppm(1_000_000)).decide(id, 3)
                == Decision::SampledIn
        ));
    }
}
