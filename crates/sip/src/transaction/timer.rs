//! Transaction timers: the names of RFC 3261 §17 / RFC 6026, their initial durations and a small
//! per-machine deadline table.

use std::time::{Duration, Instant};

use super::Config;

/// A transaction timer, named as in RFC 3261 §17 and RFC 6026.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Timer {
    /// Client INVITE: request retransmission (unreliable transport), doubles from T1.
    A,
    /// Client INVITE: no response to the INVITE within 64*T1.
    B,
    /// Client INVITE: wait for response retransmissions in Completed (>= 32 s on UDP, 0 on TCP).
    D,
    /// Client non-INVITE: request retransmission, doubles from T1 up to T2.
    E,
    /// Client non-INVITE: no final response within 64*T1.
    F,
    /// Server INVITE: non-2xx final response retransmission, doubles from T1 up to T2.
    G,
    /// Server INVITE: no ACK for a non-2xx final response within 64*T1.
    H,
    /// Server INVITE: absorb ACK retransmissions in Confirmed (T4, 0 on TCP).
    I,
    /// Server non-INVITE: absorb request retransmissions in Completed (64*T1, 0 on TCP).
    J,
    /// Client non-INVITE: absorb response retransmissions in Completed (T4, 0 on TCP).
    K,
    /// Server INVITE (RFC 6026): end of the Accepted state, 64*T1 after the 2xx.
    L,
    /// Client INVITE (RFC 6026): end of the Accepted state, 64*T1 after the first 2xx.
    M,
    /// Server INVITE: 2xx retransmission until the ACK (RFC 3261 §13.3.1.4), doubles from T1 up to T2.
    Retransmit2xx,
    /// Client INVITE: a CANCEL was sent; give up on a final response after 64*T1 (RFC 3261 §9.1).
    CancelWait,
}

impl Timer {
    /// Number of timers, the size of a [`TimerTable`].
    const COUNT: usize = 14;

    /// The initial duration of this timer under `config` (the table of RFC 3261 Table 4).
    pub fn initial(self, config: &Config) -> Duration {
        let t1x64 = config.t1.saturating_mul(64);
        let unless_reliable = |d: Duration| if config.reliable { Duration::ZERO } else { d };
        match self {
            Timer::A | Timer::E | Timer::G | Timer::Retransmit2xx => config.t1,
            Timer::B | Timer::F | Timer::H | Timer::L | Timer::M | Timer::CancelWait => t1x64,
            Timer::D => unless_reliable(Duration::from_secs(32).max(t1x64)),
            Timer::I | Timer::K => unless_reliable(config.t4),
            Timer::J => unless_reliable(t1x64),
        }
    }
}

/// Deadlines of one machine's timers, indexed by [`Timer`].
#[derive(Debug, Clone, Default)]
pub(crate) struct TimerTable {
    deadlines: [Option<Instant>; Timer::COUNT],
}

impl TimerTable {
    /// Arms (or re-arms) `timer` to fire at `at`.
    pub(crate) fn set(&mut self, timer: Timer, at: Instant) {
        self.deadlines[timer as usize] = Some(at);
    }

    /// Disarms `timer`.
    pub(crate) fn cancel(&mut self, timer: Timer) {
        self.deadlines[timer as usize] = None;
    }

    /// Disarms every timer.
    pub(crate) fn clear(&mut self) {
        self.deadlines = [None; Timer::COUNT];
    }

    /// The earliest armed timer; ties go to the timer declared first.
    pub(crate) fn next(&self) -> Option<(Instant, Timer)> {
        ALL.iter()
            .filter_map(|t| self.deadlines[*t as usize].map(|at| (at, *t)))
            .min()
    }

    /// Disarms and returns the earliest timer due at `now`, if any.
    pub(crate) fn pop_due(&mut self, now: Instant) -> Option<(Instant, Timer)> {
        let (at, timer) = self.next()?;
        if at > now {
            return None;
        }
        self.cancel(timer);
        Some((at, timer))
    }
}

const ALL: [Timer; Timer::COUNT] = [
    Timer::A,
    Timer::B,
    Timer::D,
    Timer::E,
    Timer::F,
    Timer::G,
    Timer::H,
    Timer::I,
    Timer::J,
    Timer::K,
    Timer::L,
    Timer::M,
    Timer::Retransmit2xx,
    Timer::CancelWait,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn initial_durations_follow_rfc3261_table_4() {
        let udp = Config::default();
        let tcp = Config::default().with_reliable(true);
        assert_eq!(Timer::A.initial(&udp), Duration::from_millis(500));
        assert_eq!(Timer::B.initial(&udp), Duration::from_secs(32));
        assert_eq!(Timer::D.initial(&udp), Duration::from_secs(32));
        assert_eq!(Timer::D.initial(&tcp), Duration::ZERO);
        assert_eq!(Timer::I.initial(&udp), Duration::from_secs(5));
        assert_eq!(Timer::I.initial(&tcp), Duration::ZERO);
        assert_eq!(Timer::J.initial(&udp), Duration::from_secs(32));
        assert_eq!(Timer::J.initial(&tcp), Duration::ZERO);
        assert_eq!(Timer::K.initial(&tcp), Duration::ZERO);
        assert_eq!(Timer::L.initial(&tcp), Duration::from_secs(32));
        assert_eq!(Timer::M.initial(&tcp), Duration::from_secs(32));
    }

    #[test]
    fn table_pops_due_timers_in_deadline_order() {
        let t0 = Instant::now();
        let mut table = TimerTable::default();
        table.set(Timer::B, t0 + Duration::from_secs(2));
        table.set(Timer::A, t0 + Duration::from_secs(1));
        assert_eq!(table.next(), Some((t0 + Duration::from_secs(1), Timer::A)));
        assert_eq!(table.pop_due(t0), None);
        let late = t0 + Duration::from_secs(5);
        assert_eq!(
            table.pop_due(late),
            Some((t0 + Duration::from_secs(1), Timer::A))
        );
        assert_eq!(
            table.pop_due(late),
            Some((t0 + Duration::from_secs(2), Timer::B))
        );
        assert_eq!(table.pop_due(late), None);
    }
}
