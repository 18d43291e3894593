//! Counters of a simulation run, per batch of arrivals, and batch-means standard errors.

/// The outcome counts of the calls that arrived in one batch of the measured window.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Batch {
    /// Sum of the waits of answered calls, seconds.
    pub(super) wait_sum: f64,
    pub(super) offered: u64,
    /// Calls that found no free agent on arrival.
    pub(super) waited: u64,
    pub(super) answered: u64,
    pub(super) answered_within: u64,
    pub(super) abandoned: u64,
    pub(super) abandoned_after: u64,
}

impl Batch {
    pub(super) fn add(&mut self, other: &Batch) {
        self.wait_sum += other.wait_sum;
        self.offered += other.offered;
        self.waited += other.waited;
        self.answered += other.answered;
        self.answered_within += other.answered_within;
        self.abandoned += other.abandoned;
        self.abandoned_after += other.abandoned_after;
    }

    pub(super) fn p_wait(&self) -> f64 {
        ratio(self.waited, self.offered)
    }

    /// Mean wait of answered calls, seconds.
    pub(super) fn asa(&self) -> f64 {
        if self.answered == 0 {
            0.0
        } else {
            self.wait_sum / self.answered as f64
        }
    }

    /// Answered within T / (answered + abandoned after T).
    pub(super) fn service_level(&self) -> f64 {
        ratio(self.answered_within, self.answered + self.abandoned_after)
    }
}

/// `num / den`, zero when nothing was counted.
pub(super) fn ratio(num: u64, den: u64) -> f64 {
    if den == 0 {
        0.0
    } else {
        num as f64 / den as f64
    }
}

/// Standard error of the mean of per-batch values (batch means): `sd / sqrt(batches)`.
///
/// Successive calls' waits are correlated, so the naive binomial error understates the error;
/// batches long against the queue's relaxation time are close to independent.
pub(super) fn batch_se(values: &[f64]) -> f64 {
    let n = values.len();
    if n < 2 {
        return 0.0;
    }
    let mean = values.iter().sum::<f64>() / n as f64;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    (var / n as f64).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratios_and_errors() {
        let b = Batch {
            offered: 10,
            waited: 4,
            answered: 8,
            answered_within: 6,
            abandoned: 2,
            abandoned_after: 2,
            wait_sum: 16.0,
        };
        assert_eq!(b.asa(), 2.0);
        assert_eq!(b.p_wait(), 0.4);
        assert_eq!(b.service_level(), 0.6);
        assert_eq!(Batch::default().service_level(), 0.0);
        assert_eq!(batch_se(&[0.5]), 0.0);
        let se = batch_se(&[0.4, 0.6, 0.4, 0.6]);
        assert!((se - (0.0133_f64 / 4.0).sqrt()).abs() < 1e-3, "{se}");
    }
}
