//! Handle-time distributions: a log-normal model of talk and wrap-up times, estimated online
//! from completed calls, and the chance an agent busy for a while frees up soon.

use std::time::Duration;

/// A log-normal distribution of durations: `ln(seconds)` is normal with mean `mu` and standard
/// deviation `sigma`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LogNormal {
    /// Mean of the log of the duration in seconds.
    pub mu: f64,
    /// Standard deviation of the log of the duration in seconds.
    pub sigma: f64,
}

impl LogNormal {
    /// The log-normal with this mean and coefficient of variation (standard deviation / mean).
    pub fn from_mean_cv(mean: Duration, cv: f64) -> Self {
        let sigma2 = (1.0 + cv * cv).ln();
        let mean = mean.as_secs_f64().max(1e-3);
        Self {
            mu: mean.ln() - sigma2 / 2.0,
            sigma: sigma2.sqrt(),
        }
    }

    /// The mean duration.
    pub fn mean(&self) -> Duration {
        Duration::from_secs_f64((self.mu + self.sigma * self.sigma / 2.0).exp())
    }

    /// P(duration <= t).
    pub fn cdf(&self, t: Duration) -> f64 {
        let t = t.as_secs_f64();
        if t <= 0.0 {
            return 0.0;
        }
        if self.sigma <= 0.0 {
            return if t.ln() >= self.mu { 1.0 } else { 0.0 };
        }
        0.5 * erfc(-(t.ln() - self.mu) / (self.sigma * std::f64::consts::SQRT_2))
    }

    /// P(done within `horizon` more | already lasted `age`): the chance a call (or a wrap-up)
    /// `age` old ends within the next `horizon`.
    pub fn ends_within(&self, age: Duration, horizon: Duration) -> f64 {
        let survive = 1.0 - self.cdf(age);
        if survive <= 1e-12 {
            // Far in the tail: it ends any moment.
            return 1.0;
        }
        ((self.cdf(age + horizon) - self.cdf(age)) / survive).clamp(0.0, 1.0)
    }
}

/// The complementary error function (Numerical Recipes' Chebyshev fit, relative error below
/// 1.2e-7 everywhere).
fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let r = t * poly.exp();
    if x >= 0.0 {
        r
    } else {
        2.0 - r
    }
}

/// An online estimate of a log-normal from observed durations, starting from a prior worth
/// `prior_weight` observations.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LogNormalEstimate {
    prior: LogNormal,
    prior_weight: f64,
    n: f64,
    sum: f64,
    sum_sq: f64,
}

impl LogNormalEstimate {
    /// An estimate that is `prior` until observations outweigh `prior_weight`.
    pub fn new(prior: LogNormal, prior_weight: f64) -> Self {
        Self {
            prior,
            prior_weight: prior_weight.max(0.0),
            n: 0.0,
            sum: 0.0,
            sum_sq: 0.0,
        }
    }

    /// One completed duration (durations under 1 ms count as 1 ms).
    pub fn observe(&mut self, d: Duration) {
        let x = d.as_secs_f64().max(1e-3).ln();
        self.n += 1.0;
        self.sum += x;
        self.sum_sq += x * x;
    }

    /// Observations so far.
    pub fn count(&self) -> u64 {
        self.n as u64
    }

    /// The current model: the prior's pseudo-observations pooled with the real ones.
    pub fn model(&self) -> LogNormal {
        let w = self.prior_weight;
        let n = w + self.n;
        if self.n == 0.0 || n <= 0.0 {
            return self.prior;
        }
        let p = self.prior;
        let mean = (w * p.mu + self.sum) / n;
        let second = (w * (p.sigma * p.sigma + p.mu * p.mu) + self.sum_sq) / n;
        LogNormal {
            mu: mean,
            sigma: (second - mean * mean).max(0.0).sqrt(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erfc_matches_known_values() {
        for (x, want) in [
            (0.0, 1.0),
            (0.5, 0.479_500_122),
            (1.0, 0.157_299_207),
            (2.0, 0.004_677_735),
            (-1.0, 1.842_700_793),
        ] {
            assert!((erfc(x) - want).abs() < 1e-7, "erfc({x}) = {}", erfc(x));
        }
    }

    #[test]
    fn mean_and_median_round_trip() {
        let m = LogNormal::from_mean_cv(Duration::from_secs(180), 0.6);
        assert!((m.mean().as_secs_f64() - 180.0).abs() < 1e-6);
        // The median is exp(mu).
        let median = Duration::from_secs_f64(m.mu.exp());
        assert!((m.cdf(median) - 0.5).abs() < 1e-7);
    }

    #[test]
    fn an_older_call_is_likelier_to_end_soon_for_a_narrow_distribution() {
        let m = LogNormal::from_mean_cv(Duration::from_secs(20), 0.2);
        let h = Duration::from_secs(5);
        let young = m.ends_within(Duration::from_secs(2), h);
        let old = m.ends_within(Duration::from_secs(20), h);
        assert!(young < 0.01, "{young}");
        assert!(old > 0.5, "{old}");
    }

    #[test]
    fn the_estimate_moves_from_the_prior_to_the_data() {
        let prior = LogNormal::from_mean_cv(Duration::from_secs(100), 0.5);
        let mut e = LogNormalEstimate::new(prior, 10.0);
        assert_eq!(e.model(), prior);
        for _ in 0..10_000 {
            e.observe(Duration::from_secs(300));
        }
        let mean = e.model().mean().as_secs_f64();
        assert!((mean - 300.0).abs() < 5.0, "{mean}");
    }
}
