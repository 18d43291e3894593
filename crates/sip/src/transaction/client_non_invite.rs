//! The client non-INVITE transaction (RFC 3261 §17.1.2).

use std::time::{Duration, Instant};

use bytes::Bytes;

use super::{Config, Core, Output, StatusClass, Timer};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Trying,
    Proceeding,
    /// A final response arrived; retransmissions of it are absorbed until timer K.
    Completed,
    Terminated,
}

/// A client non-INVITE transaction (REGISTER, BYE, CANCEL, OPTIONS, INFO, ...).
#[derive(Debug, Clone)]
pub struct ClientNonInvite {
    state: State,
    core: Core,
    request: Bytes,
    /// Current timer E interval.
    interval: Duration,
}

impl ClientNonInvite {
    /// Starts the transaction: queues `request` for transmission, arms timers E and F.
    pub fn new(now: Instant, config: Config, request: Bytes) -> Self {
        let mut core = Core::new(config);
        core.push(Output::Transmit(request.clone()));
        if !config.reliable {
            core.arm(Timer::E, now);
        }
        core.arm(Timer::F, now);
        ClientNonInvite {
            state: State::Trying,
            core,
            request,
            interval: config.t1,
        }
    }

    /// A response matching this transaction arrived with `status`.
    pub fn handle_response(&mut self, now: Instant, status: u16) {
        let Some(class) = StatusClass::of(status) else {
            return;
        };
        match (self.state, class) {
            (State::Trying | State::Proceeding, StatusClass::Provisional) => {
                self.state = State::Proceeding;
                self.core.push(Output::DeliverResponse { status });
            }
            (State::Trying | State::Proceeding, StatusClass::Success | StatusClass::Failure) => {
                self.state = State::Completed;
                self.core.timers.clear();
                self.core.push(Output::DeliverResponse { status });
                self.core.arm(Timer::K, now);
            }
            _ => {}
        }
    }

    /// The transport failed to send the request.
    pub fn handle_transport_error(&mut self, _now: Instant) {
        if matches!(self.state, State::Trying | State::Proceeding) {
            self.core.push(Output::TransportError);
            self.state = State::Terminated;
            self.core.terminate();
        }
    }

    /// Fires every timer due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some((at, timer)) = self.core.timers.pop_due(now) {
            match timer {
                Timer::E if matches!(self.state, State::Trying | State::Proceeding) => {
                    self.core.push(Output::Transmit(self.request.clone()));
                    // In Proceeding the interval is T2 at once (RFC 3261 §17.1.2.2).
                    self.interval = if self.state == State::Proceeding {
                        self.core.config.t2
                    } else {
                        self.core.backoff(self.interval, true)
                    };
                    self.core.timers.set(Timer::E, at + self.interval);
                }
                Timer::F => {
                    self.core.push(Output::Timeout);
                    self.state = State::Terminated;
                    self.core.terminate();
                }
                Timer::K => {
                    self.state = State::Terminated;
                    self.core.terminate();
                }
                _ => {}
            }
        }
    }

    /// The next thing to do, if any.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.core.outputs.pop_front()
    }

    /// The next deadline and its timer.
    pub fn poll_timeout(&self) -> Option<(Instant, Timer)> {
        self.core.poll_timeout()
    }

    /// True once [`Output::Terminated`] has been queued.
    pub fn is_terminated(&self) -> bool {
        self.core.terminated
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transaction::test_util::{drain, ms, run_until};

    const BYE: Bytes = Bytes::from_static(b"BYE");

    fn fire_times(log: &[(Duration, Timer, Vec<Output>)], timer: Timer) -> Vec<Duration> {
        log.iter().filter(|e| e.1 == timer).map(|e| e.0).collect()
    }

    #[test]
    fn timer_e_doubles_up_to_t2_until_timer_f() {
        let t0 = Instant::now();
        let mut tx = ClientNonInvite::new(t0, Config::default(), BYE);
        assert_eq!(drain(&mut tx), vec![Output::Transmit(BYE)]);
        let log = run_until(&mut tx, t0, Duration::from_secs(100));
        let e = fire_times(&log, Timer::E);
        let expected: Vec<Duration> = [
            500, 1500, 3500, 7500, 11_500, 15_500, 19_500, 23_500, 27_500, 31_500,
        ]
        .into_iter()
        .map(ms)
        .collect();
        assert_eq!(e, expected);
        let last = log.last().expect("timer F fired");
        assert_eq!((last.0, last.1), (ms(32_000), Timer::F));
        assert_eq!(last.2, vec![Output::Timeout, Output::Terminated]);
    }

    #[test]
    fn proceeding_retransmits_every_t2() {
        let t0 = Instant::now();
        let mut tx = ClientNonInvite::new(t0, Config::default(), BYE);
        drain(&mut tx);
        tx.handle_timeout(t0 + ms(500));
        tx.handle_response(t0 + ms(600), 100);
        assert_eq!(
            drain(&mut tx),
            vec![
                Output::Transmit(BYE),
                Output::DeliverResponse { status: 100 }
            ]
        );
        // E was armed for 1.5 s; from then on T2 apart.
        let log = run_until(&mut tx, t0, ms(12_000));
        assert_eq!(
            fire_times(&log, Timer::E),
            vec![ms(1500), ms(5500), ms(9500)]
        );
    }

    #[test]
    fn final_response_completes_and_absorbs_retransmissions_until_k() {
        let t0 = Instant::now();
        let mut tx = ClientNonInvite::new(t0, Config::default(), BYE);
        drain(&mut tx);
        tx.handle_response(t0 + ms(50), 200);
        assert_eq!(
            drain(&mut tx),
            vec![Output::DeliverResponse { status: 200 }]
        );
        assert_eq!(tx.poll_timeout(), Some((t0 + ms(5050), Timer::K)));
        tx.handle_response(t0 + ms(60), 200);
        assert_eq!(drain(&mut tx), vec![]);
        tx.handle_timeout(t0 + ms(5050));
        assert_eq!(drain(&mut tx), vec![Output::Terminated]);
    }

    #[test]
    fn reliable_transport_has_no_e_and_zero_k() {
        let t0 = Instant::now();
        let mut tx = ClientNonInvite::new(t0, Config::default().with_reliable(true), BYE);
        assert_eq!(tx.poll_timeout(), Some((t0 + ms(32_000), Timer::F)));
        drain(&mut tx);
        tx.handle_response(t0 + ms(5), 481);
        assert_eq!(tx.poll_timeout(), Some((t0 + ms(5), Timer::K)));
        tx.handle_timeout(t0 + ms(5));
        assert_eq!(
            drain(&mut tx),
            vec![Output::DeliverResponse { status: 481 }, Output::Terminated]
        );
    }

    #[test]
    fn transport_error_terminates() {
        let t0 = Instant::now();
        let mut tx = ClientNonInvite::new(t0, Config::default(), BYE);
        drain(&mut tx);
        tx.handle_transport_error(t0);
        assert_eq!(
            drain(&mut tx),
            vec![Output::TransportError, Output::Terminated]
        );
    }
}
