//! Queueing-theory references for the simulator: Erlang C (M/M/n) and Erlang A (M/M/n+M, Palm).
//!
//! Notation: `n` agents, arrival rate `λ` (calls/s), mean handle time `1/μ` (s), offered load
//! `A = λ/μ` (Erlangs), mean patience `1/θ` (s), service-level threshold `T` (s). Calls are served
//! first come, first served; an arriving call sees the time-stationary state (PASTA).
//!
//! # Erlang C (no abandonment), stable only when `A < n`
//!
//! Erlang B by the usual stable recursion `B(0) = 1`, `B(k) = A·B(k-1) / (k + A·B(k-1))`, then
//! (Cooper, *Introduction to Queueing Theory*, 2nd ed., §3.4; Gans, Koole and Mandelbaum,
//! "Telephone call centers: tutorial, review, and research prospects", MSOM 2003, §4.1):
//!
//! - `P(wait) = C(n, A) = n·B / (n − A·(1 − B))`
//! - `P(W ≤ T) = 1 − C(n, A)·e^{−(nμ − λ)T}` (the service level: nobody abandons)
//! - `ASA = E[W] = C(n, A) / (nμ − λ)`
//! - occupancy `= A / n`
//!
//! # Erlang A (exponential patience), stable for any load
//!
//! The number of calls in the system is a birth–death process (Palm 1946; Mandelbaum and Zeltyn,
//! "The M/M/n+M queue: a summary of performance measures", 2007; Garnett, Mandelbaum and Reiman,
//! "Designing a call center with impatient customers", MSOM 2002) with stationary weights
//! `π_k ∝ A^k / k!` for `k ≤ n` and `π_{n+j} = π_n · Π_{i=1..j} λ / (nμ + iθ)` for `j ≥ 1`.
//! This module sums them numerically (rescaled against overflow, truncated when the tail is below
//! `1e-16` of the total) rather than through the incomplete-gamma closed forms, which lose
//! precision at large `n`. Then:
//!
//! - `P(wait) = Σ_{k ≥ n} π_k`
//! - `P(abandon) = θ·E[Q] / λ` with `E[Q] = Σ_j j·π_{n+j}` (abandonments leave at rate `θ` per
//!   waiting call; rate conservation)
//! - the wait of a tagged call that finds `i` calls waiting ahead: it moves up at rate `nμ + iθ`
//!   (a service completion or an abandonment ahead) and abandons at rate `θ`; from `i` it is
//!   eventually served with probability `S_i = Π_{m=0..i} (nμ + mθ) / (nμ + (m+1)θ)`.
//! - service level with the KPI definition of `KPIS.md`,
//!   `answered within T / (answered + abandoned after T) = (P(no wait) + P(served, W ≤ T)) /
//!   (1 − P(abandoned, W ≤ T))`, where the two transient probabilities come from the tagged
//!   call's chain at time `T`, computed by uniformization (Jensen's method).
//! - `ASA = E[W·1{served}] / P(served)` over answered calls (zero waits included), by first-step
//!   analysis: `M_i = a_i·(S_{i−1}/r_i + M_{i−1})`, `r_i = nμ + (i+1)θ`, `a_i = (nμ + iθ)/r_i`.

/// Parameters the formulas refuse.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ErlangError {
    /// A rate, time or agent count is zero, negative or not finite.
    #[error("{0} must be positive and finite")]
    NotPositive(&'static str),
    /// Erlang C has no steady state at this load.
    #[error("offered load {load:.3} Erlangs is not below {agents} agents: the queue grows without bound")]
    Unstable {
        /// The offered load in Erlangs.
        load: f64,
        /// The agents.
        agents: u32,
    },
    /// The state space or the uniformization would be too large to compute.
    #[error("the model is too large to compute")]
    TooLarge,
}

fn positive(value: f64, name: &'static str) -> Result<f64, ErlangError> {
    if value.is_finite() && value > 0.0 {
        Ok(value)
    } else {
        Err(ErlangError::NotPositive(name))
    }
}

/// Erlang B blocking probability `B(n, A)` by the stable recursion.
pub fn erlang_b(agents: u32, load: f64) -> f64 {
    let mut b = 1.0;
    for k in 1..=agents {
        b = load * b / (f64::from(k) + load * b);
    }
    b
}

/// The M/M/n queue without abandonment.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ErlangC {
    agents: u32,
    arrival_rate: f64,
    aht: f64,
}

impl ErlangC {
    /// `agents` agents, `arrival_rate` calls per second, mean handle time `aht` seconds.
    pub fn new(agents: u32, arrival_rate: f64, aht: f64) -> Result<Self, ErlangError> {
        if agents == 0 {
            return Err(ErlangError::NotPositive("agents"));
        }
        positive(arrival_rate, "arrival rate")?;
        positive(aht, "handle time")?;
        let load = arrival_rate * aht;
        if load >= f64::from(agents) {
            return Err(ErlangError::Unstable { load, agents });
        }
        Ok(Self {
            agents,
            arrival_rate,
            aht,
        })
    }

    /// Offered load `A = λ/μ` in Erlangs.
    pub fn load(&self) -> f64 {
        self.arrival_rate * self.aht
    }

    /// Probability that an arriving call finds every agent busy (Erlang C formula).
    pub fn p_wait(&self) -> f64 {
        let n = f64::from(self.agents);
        let a = self.load();
        let b = erlang_b(self.agents, a);
        n * b / (n - a * (1.0 - b))
    }

    /// Share of calls answered within `threshold` seconds.
    pub fn service_level(&self, threshold: f64) -> f64 {
        1.0 - self.p_wait() * (-self.drain_rate() * threshold).exp()
    }

    /// Average speed of answer (mean wait, zero waits included), seconds.
    pub fn asa(&self) -> f64 {
        self.p_wait() / self.drain_rate()
    }

    /// Share of staffed time the agents are busy, `A/n`.
    pub fn occupancy(&self) -> f64 {
        self.load() / f64::from(self.agents)
    }

    /// `nμ − λ`: the rate at which a waiting line drains.
    fn drain_rate(&self) -> f64 {
        f64::from(self.agents) / self.aht - self.arrival_rate
    }
}

/// The M/M/n+M queue (Erlang A): exponential patience with mean `patience` seconds.
#[derive(Debug, Clone, PartialEq)]
pub struct ErlangA {
    agents: u32,
    arrival_rate: f64,
    service_rate: f64,
    abandon_rate: f64,
    /// Stationary probabilities of `0..=n+J` calls in the system (normalised, truncated).
    pi: Vec<f64>,
}

/// Tail mass below which the stationary distribution is truncated.
const TAIL: f64 = 1e-16;
/// The largest state space built.
const MAX_STATES: usize = 5_000_000;

impl ErlangA {
    /// `agents` agents, `arrival_rate` calls/s, mean handle time `aht` s, mean patience `patience` s.
    pub fn new(
        agents: u32,
        arrival_rate: f64,
        aht: f64,
        patience: f64,
    ) -> Result<Self, ErlangError> {
        if agents == 0 {
            return Err(ErlangError::NotPositive("agents"));
        }
        let lambda = positive(arrival_rate, "arrival rate")?;
        let mu = 1.0 / positive(aht, "handle time")?;
        let theta = 1.0 / positive(patience, "patience")?;
        let n = agents as usize;
        let load = lambda / mu;
        let mut q: Vec<f64> = Vec::with_capacity(n + 64);
        let mut total = 0.0;
        let mut term = 1.0;
        let push = |q: &mut Vec<f64>, total: &mut f64, term: &mut f64| {
            if *term > 1e250 {
                // Rescale everything so far: only ratios matter.
                for x in q.iter_mut() {
                    *x *= 1e-250;
                }
                *total *= 1e-250;
                *term *= 1e-250;
            }
            q.push(*term);
            *total += *term;
        };
        push(&mut q, &mut total, &mut term);
        for k in 1..=n {
            term *= load / k as f64;
            push(&mut q, &mut total, &mut term);
        }
        let nmu = n as f64 * mu;
        let mut j = 0usize;
        loop {
            j += 1;
            let ratio = lambda / (nmu + j as f64 * theta);
            term *= ratio;
            push(&mut q, &mut total, &mut term);
            if ratio < 1.0 && term < TAIL * total {
                break;
            }
            if q.len() > MAX_STATES {
                return Err(ErlangError::TooLarge);
            }
        }
        let pi = q.into_iter().map(|x| x / total).collect();
        Ok(Self {
            agents,
            arrival_rate: lambda,
            service_rate: mu,
            abandon_rate: theta,
            pi,
        })
    }

    fn n(&self) -> usize {
        self.agents as usize
    }

    /// Stationary probabilities of `i = 0, 1, ...` calls waiting, as seen by an arriving call.
    fn waiting(&self) -> &[f64] {
        &self.pi[self.n()..]
    }

    /// Probability that an arriving call finds every agent busy.
    pub fn p_wait(&self) -> f64 {
        self.waiting().iter().sum()
    }

    /// Mean number of calls waiting.
    pub fn mean_queue(&self) -> f64 {
        self.waiting()
            .iter()
            .enumerate()
            .map(|(j, p)| j as f64 * p)
            .sum()
    }

    /// Probability that a call abandons before an agent answers.
    pub fn p_abandon(&self) -> f64 {
        self.abandon_rate * self.mean_queue() / self.arrival_rate
    }

    /// Share of offered time the agents are busy: answered load over `n`.
    pub fn occupancy(&self) -> f64 {
        (1.0 - self.p_abandon()) * self.arrival_rate / self.service_rate / self.agents as f64
    }

    /// For a call finding `i` waiting ahead: its exit rate `r_i` and chance `a_i` to move up.
    fn step(&self, i: usize) -> (f64, f64) {
        let nmu = self.n() as f64 * self.service_rate;
        let up = nmu + i as f64 * self.abandon_rate;
        let rate = up + self.abandon_rate;
        (rate, up / rate)
    }

    /// Average speed of answer over answered calls (zero waits included), seconds.
    pub fn asa(&self) -> f64 {
        let mut served = 1.0 - self.p_wait();
        let mut weighted = 0.0;
        let (mut s_prev, mut m_prev) = (1.0, 0.0);
        for (i, p) in self.waiting().iter().enumerate() {
            let (rate, up) = self.step(i);
            let m = up * (s_prev / rate + m_prev);
            let s = up * s_prev;
            served += p * s;
            weighted += p * m;
            (s_prev, m_prev) = (s, m);
        }
        weighted / served
    }

    /// `answered within T / (answered + abandoned after T)` for threshold `T` seconds.
    pub fn service_level(&self, threshold: f64) -> Result<f64, ErlangError> {
        if !(threshold.is_finite() && threshold >= 0.0) {
            return Err(ErlangError::NotPositive("service-level threshold"));
        }
        // Drop the far tail: the uniformization rate grows with the longest line kept.
        let waiting = self.waiting();
        let mut keep = waiting.len();
        let mut tail = 0.0;
        while keep > 1 && tail + waiting[keep - 1] < 1e-13 {
            tail += waiting[keep - 1];
            keep -= 1;
        }
        let mut p: Vec<f64> = waiting[..keep].to_vec();
        let (max_rate, _) = self.step(keep - 1);
        let lt = max_rate * threshold;
        let steps = (lt + 12.0 * lt.sqrt() + 30.0).ceil();
        if steps * keep as f64 > 2e9 {
            return Err(ErlangError::TooLarge);
        }
        let (mut served, mut abandoned) = (0.0, 0.0);
        let (mut served_t, mut abandoned_t) = (0.0, 0.0);
        let mut log_weight = -lt;
        let mut next = vec![0.0; keep];
        for m in 0..steps as u64 {
            if m > 0 {
                log_weight += lt.ln() - (m as f64).ln();
            }
            let w = log_weight.exp();
            served_t += w * served;
            abandoned_t += w * abandoned;
            // One step of the uniformized chain.
            next.iter_mut().for_each(|x| *x = 0.0);
            for (i, &x) in p.iter().enumerate() {
                if x == 0.0 {
                    continue;
                }
                let (rate, up) = self.step(i);
                let moved = x * rate / max_rate;
                next[i] += x - moved;
                if i == 0 {
                    served += moved * up;
                } else {
                    next[i - 1] += moved * up;
                }
                abandoned += moved * (1.0 - up);
            }
            std::mem::swap(&mut p, &mut next);
        }
        let no_wait = 1.0 - self.p_wait();
        Ok((no_wait + served_t) / (1.0 - abandoned_t))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    #[test]
    fn erlang_c_published_values() {
        // 10 agents, 8 Erlangs: the textbook P(wait) = 0.4092.
        let c = ErlangC::new(10, 8.0 / 180.0, 180.0).unwrap();
        assert!(close(c.p_wait(), 0.409_16, 5e-5), "{}", c.p_wait());
        // Erlang B(10, 8) = 0.1217 from the tables.
        assert!(close(erlang_b(10, 8.0), 0.121_64, 5e-5));
        // A worked example: 360 calls/h, AHT 240 s → A = 24 Erlangs;
        // with 28 agents P(wait) = 0.3331, ASA = 19.99 s, SL(20 s) = 0.7613.
        let c = ErlangC::new(28, 360.0 / 3600.0, 240.0).unwrap();
        assert!(close(c.p_wait(), 0.3331, 5e-4), "{}", c.p_wait());
        assert!(close(c.asa(), 19.99, 0.01), "{}", c.asa());
        assert!(
            close(c.service_level(20.0), 0.7613, 5e-4),
            "{}",
            c.service_level(20.0)
        );
        assert!(close(c.occupancy(), 24.0 / 28.0, 1e-12));
    }

    #[test]
    fn erlang_c_refuses_overload_and_nonsense() {
        assert!(matches!(
            ErlangC::new(5, 1.0, 5.0),
            Err(ErlangError::Unstable { .. })
        ));
        assert!(ErlangC::new(0, 1.0, 1.0).is_err());
        assert!(ErlangC::new(5, f64::NAN, 1.0).is_err());
        assert!(ErlangA::new(5, 1.0, -1.0, 10.0).is_err());
    }

    #[test]
    fn erlang_a_tends_to_erlang_c_as_patience_grows() {
        let c = ErlangC::new(20, 0.1, 180.0).unwrap();
        let a = ErlangA::new(20, 0.1, 180.0, 1e9).unwrap();
        assert!(close(a.p_wait(), c.p_wait(), 1e-5));
        assert!(a.p_abandon() < 1e-5);
        assert!(close(a.asa(), c.asa(), 1e-2), "{} {}", a.asa(), c.asa());
        let sl = a.service_level(20.0).unwrap();
        assert!(close(sl, c.service_level(20.0), 1e-5), "{sl}");
    }

    #[test]
    fn erlang_a_with_patience_equal_to_handle_time_is_infinite_server() {
        // θ = μ: every call in the system leaves at rate μ, so the count is Poisson(A).
        let (n, load) = (10u32, 9.0);
        let a = ErlangA::new(n, load / 100.0, 100.0, 100.0).unwrap();
        let mut pk = (-load).exp();
        let (mut p_wait, mut eq) = (0.0, 0.0);
        for k in 0..200u32 {
            if k >= n {
                p_wait += pk;
                eq += f64::from(k - n) * pk;
            }
            pk *= load / f64::from(k + 1);
        }
        assert!(close(a.p_wait(), p_wait, 1e-9), "{} {p_wait}", a.p_wait());
        assert!(close(a.p_abandon(), eq / load, 1e-9));
    }

    #[test]
    fn erlang_a_is_consistent() {
        let a = ErlangA::new(50, 50.0 * 0.95 / 180.0, 180.0, 120.0).unwrap();
        let sl0 = a.service_level(0.0).unwrap();
        assert!(close(sl0, 1.0 - a.p_wait(), 1e-9));
        let sl20 = a.service_level(20.0).unwrap();
        let sl60 = a.service_level(60.0).unwrap();
        assert!(sl0 < sl20 && sl20 < sl60 && sl60 < 1.0);
        assert!(a.service_level(1e5).unwrap() > 0.999_999);
        // Overload is fine with abandonment.
        let over = ErlangA::new(5, 2.0 * 5.0 / 100.0, 100.0, 60.0).unwrap();
        assert!(over.p_abandon() > 0.3 && over.p_abandon() < 0.7);
        assert!(over.occupancy() < 1.0);
    }

    #[test]
    fn huge_loads_do_not_overflow() {
        let c = ErlangC::new(2000, 1950.0 / 100.0, 100.0).unwrap();
        assert!(c.p_wait() > 0.0 && c.p_wait() < 1.0);
        let a = ErlangA::new(2000, 1950.0 / 100.0, 100.0, 100.0).unwrap();
        assert!(a.p_wait() > 0.0 && a.p_wait() < 1.0);
    }
}
