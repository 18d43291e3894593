//! The server INVITE transaction (RFC 3261 §17.2.1, RFC 6026 §8.5-8.7), with optional 2xx
//! retransmission until the ACK (RFC 3261 §13.3.1.4), which a B2BUA needs.

use std::time::{Duration, Instant};

use bytes::Bytes;

use super::{Config, Core, Output, StatusClass, Timer};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Proceeding,
    /// RFC 6026: a 2xx was sent; INVITE retransmissions are absorbed until timer L.
    Accepted,
    /// A non-2xx final response was sent; it is retransmitted until the ACK or timer H.
    Completed,
    /// The ACK for the non-2xx arrived; ACK retransmissions are absorbed until timer I.
    Confirmed,
    Terminated,
}

/// A server INVITE transaction.
///
/// Created when a new INVITE arrives (the caller passes the INVITE to its TU itself and should send
/// a 100 Trying through [`handle_tu_response`](Self::handle_tu_response) at once, RFC 3261
/// §17.2.1). With [`Config::retransmit_2xx`] the machine resends the 2xx with T1 doubling up to
/// T2 until [`handle_ack`](Self::handle_ack) or timer L (64*T1), which then reports
/// [`Output::Timeout`] (the session should be ended).
#[derive(Debug, Clone)]
pub struct ServerInvite {
    state: State,
    core: Core,
    /// The last response the TU sent.
    response: Option<Bytes>,
    /// Current timer G or 2xx retransmission interval.
    interval: Duration,
    /// Accepted: the ACK for the 2xx arrived.
    acked: bool,
}

impl ServerInvite {
    /// A transaction for an INVITE that just arrived.
    pub fn new(_now: Instant, config: Config) -> Self {
        ServerInvite {
            state: State::Proceeding,
            core: Core::new(config),
            response: None,
            interval: config.t1,
            acked: false,
        }
    }

    /// A retransmission of the INVITE arrived: resend the last response, or absorb it.
    pub fn handle_request_retransmit(&mut self, _now: Instant) {
        // Accepted (RFC 6026) and Confirmed absorb; the 2xx is resent on its own schedule.
        if matches!(self.state, State::Proceeding | State::Completed) {
            if let Some(response) = &self.response {
                self.core.push(Output::Transmit(response.clone()));
            }
        }
    }

    /// The TU sends a response with `status`, encoded as `bytes`.
    pub fn handle_tu_response(&mut self, now: Instant, status: u16, bytes: Bytes) {
        let Some(class) = StatusClass::of(status) else {
            return;
        };
        match (self.state, class) {
            (State::Proceeding, StatusClass::Provisional) => {
                self.transmit(bytes);
            }
            (State::Proceeding, StatusClass::Success) => {
                self.transmit(bytes);
                self.state = State::Accepted;
                self.core.arm(Timer::L, now);
                if self.core.config.retransmit_2xx {
                    self.interval = self.core.config.t1;
                    self.core.arm(Timer::Retransmit2xx, now);
                }
            }
            (State::Proceeding, StatusClass::Failure) => {
                self.transmit(bytes);
                self.state = State::Completed;
                if !self.core.config.reliable {
                    self.interval = self.core.config.t1;
                    self.core.arm(Timer::G, now);
                }
                self.core.arm(Timer::H, now);
            }
            // RFC 6026 §8.7: the TU's own 2xx retransmissions pass through in Accepted.
            (State::Accepted, StatusClass::Success) => {
                self.transmit(bytes);
            }
            _ => {}
        }
    }

    /// An ACK for this INVITE arrived. For a non-2xx it matches the transaction by key; for a 2xx
    /// it is a separate request the caller matches by dialog and CSeq, and hands here to stop
    /// the 2xx retransmissions.
    pub fn handle_ack(&mut self, now: Instant) {
        match self.state {
            State::Completed => {
                self.state = State::Confirmed;
                self.core.timers.cancel(Timer::G);
                self.core.timers.cancel(Timer::H);
                self.core.arm(Timer::I, now);
            }
            State::Accepted => {
                self.acked = true;
                self.core.timers.cancel(Timer::Retransmit2xx);
            }
            _ => {}
        }
    }

    /// A CANCEL matched this transaction. True when the INVITE is still pending (Proceeding):
    /// the TU should then answer the INVITE with 487. Either way the CANCEL itself gets a 200
    /// from its own server non-INVITE transaction.
    pub fn cancel(&mut self, _now: Instant) -> bool {
        self.state == State::Proceeding
    }

    /// The transport failed to send a response. In Accepted the machine stays (a later 2xx
    /// retransmission may get through) and only reports the error.
    pub fn handle_transport_error(&mut self, _now: Instant) {
        match self.state {
            State::Terminated => {}
            State::Accepted => self.core.push(Output::TransportError),
            _ => {
                self.core.push(Output::TransportError);
                self.state = State::Terminated;
                self.core.terminate();
            }
        }
    }

    /// Fires every timer due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some((at, timer)) = self.core.timers.pop_due(now) {
            match timer {
                Timer::G if self.state == State::Completed => {
                    self.retransmit();
                    self.interval = self.core.backoff(self.interval, true);
                    self.core.timers.set(Timer::G, at + self.interval);
                }
                Timer::Retransmit2xx if self.state == State::Accepted && !self.acked => {
                    self.retransmit();
                    self.interval = self.core.backoff(self.interval, true);
                    self.core
                        .timers
                        .set(Timer::Retransmit2xx, at + self.interval);
                }
                Timer::H => {
                    self.core.push(Output::Timeout);
                    self.state = State::Terminated;
                    self.core.terminate();
                }
                Timer::L => {
                    if self.core.config.retransmit_2xx && !self.acked {
                        self.core.push(Output::Timeout);
                    }
                    self.state = State::Terminated;
                    self.core.terminate();
                }
                Timer::I => {
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

    fn transmit(&mut self, bytes: Bytes) {
        self.core.push(Output::Transmit(bytes.clone()));
        self.response = Some(bytes);
    }

    fn retransmit(&mut self) {
        if let Some(response) = &self.response {
            self.core.push(Output::Transmit(response.clone()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transaction::test_util::{drain, ms, run_until};

    const RINGING: Bytes = Bytes::from_static(b"180");
    const OK: Bytes = Bytes::from_static(b"200");
    const BUSY: Bytes = Bytes::from_static(b"486");

    fn fire_times(log: &[(Duration, Timer, Vec<Output>)], timer: Timer) -> Vec<Duration> {
        log.iter().filter(|e| e.1 == timer).map(|e| e.0).collect()
    }

    #[test]
    fn proceeding_resends_last_provisional_on_retransmitted_invite() {
        let t0 = Instant::now();
        let mut tx = ServerInvite::new(t0, Config::default());
        tx.handle_request_retransmit(t0);
        assert_eq!(drain(&mut tx), vec![]);
        tx.handle_tu_response(t0, 180, RINGING);
        tx.handle_request_retransmit(t0 + ms(500));
        assert_eq!(
            drain(&mut tx),
            vec![Output::Transmit(RINGING), Output::Transmit(RINGING)]
        );
    }

    #[test]
    fn timer_g_doubles_up_to_t2_until_timer_h() {
        let t0 = Instant::now();
        let mut tx = ServerInvite::new(t0, Config::default());
        tx.handle_tu_response(t0, 486, BUSY);
        assert_eq!(drain(&mut tx), vec![Output::Transmit(BUSY)]);
        let log = run_until(&mut tx, t0, Duration::from_secs(100));
        let expected: Vec<Duration> = [
            500, 1500, 3500, 7500, 11_500, 15_500, 19_500, 23_500, 27_500, 31_500,
        ]
        .into_iter()
        .map(ms)
        .collect();
        assert_eq!(fire_times(&log, Timer::G), expected);
        let last = log.last().expect("timer H fired");
        assert_eq!((last.0, last.1), (ms(32_000), Timer::H));
        assert_eq!(last.2, vec![Output::Timeout, Output::Terminated]);
    }

    #[test]
    fn ack_confirms_and_timer_i_ends() {
        let t0 = Instant::now();
        let mut tx = ServerInvite::new(t0, Config::default());
        tx.handle_tu_response(t0, 486, BUSY);
        tx.handle_request_retransmit(t0 + ms(100));
        tx.handle_ack(t0 + ms(200));
        assert_eq!(tx.poll_timeout(), Some((t0 + ms(5200), Timer::I)));
        tx.handle_ack(t0 + ms(300));
        tx.handle_request_retransmit(t0 + ms(400));
        assert_eq!(
            drain(&mut tx),
            vec![Output::Transmit(BUSY), Output::Transmit(BUSY)]
        );
        tx.handle_timeout(t0 + ms(5200));
        assert_eq!(drain(&mut tx), vec![Output::Terminated]);
    }

    #[test]
    fn reliable_transport_has_no_g_and_zero_i() {
        let t0 = Instant::now();
        let mut tx = ServerInvite::new(t0, Config::default().with_reliable(true));
        tx.handle_tu_response(t0, 486, BUSY);
        assert_eq!(tx.poll_timeout(), Some((t0 + ms(32_000), Timer::H)));
        tx.handle_ack(t0 + ms(10));
        assert_eq!(tx.poll_timeout(), Some((t0 + ms(10), Timer::I)));
        tx.handle_timeout(t0 + ms(10));
        assert_eq!(
            drain(&mut tx),
            vec![Output::Transmit(BUSY), Output::Terminated]
        );
    }

    #[test]
    fn accepted_retransmits_2xx_until_ack_and_absorbs_invites_until_timer_l() {
        let t0 = Instant::now();
        let mut tx = ServerInvite::new(t0, Config::default());
        tx.handle_tu_response(t0, 200, OK);
        assert_eq!(drain(&mut tx), vec![Output::Transmit(OK)]);
        tx.handle_request_retransmit(t0 + ms(100));
        assert_eq!(drain(&mut tx), vec![]);
        let log = run_until(&mut tx, t0, ms(4000));
        assert_eq!(
            fire_times(&log, Timer::Retransmit2xx),
            vec![ms(500), ms(1500), ms(3500)]
        );
        assert!(log.iter().all(|e| e.2 == vec![Output::Transmit(OK)]));
        tx.handle_ack(t0 + ms(4000));
        assert_eq!(tx.poll_timeout(), Some((t0 + ms(32_000), Timer::L)));
        tx.handle_timeout(t0 + ms(32_000));
        assert_eq!(drain(&mut tx), vec![Output::Terminated]);
    }

    #[test]
    fn unacked_2xx_is_capped_at_t2_and_times_out_at_timer_l() {
        let t0 = Instant::now();
        let mut tx = ServerInvite::new(t0, Config::default().with_reliable(true));
        tx.handle_tu_response(t0, 200, OK);
        drain(&mut tx);
        let log = run_until(&mut tx, t0, Duration::from_secs(100));
        let expected: Vec<Duration> = [
            500, 1500, 3500, 7500, 11_500, 15_500, 19_500, 23_500, 27_500, 31_500,
        ]
        .into_iter()
        .map(ms)
        .collect();
        assert_eq!(fire_times(&log, Timer::Retransmit2xx), expected);
        let last = log.last().expect("timer L fired");
        assert_eq!((last.0, last.1), (ms(32_000), Timer::L));
        assert_eq!(last.2, vec![Output::Timeout, Output::Terminated]);
    }

    #[test]
    fn without_2xx_retransmission_accepted_only_waits_for_timer_l() {
        let t0 = Instant::now();
        let config = Config {
            retransmit_2xx: false,
            ..Config::default()
        };
        let mut tx = ServerInvite::new(t0, config);
        tx.handle_tu_response(t0, 200, OK);
        // The TU's own 2xx retransmission passes through.
        tx.handle_tu_response(t0 + ms(500), 200, OK);
        assert_eq!(tx.poll_timeout(), Some((t0 + ms(32_000), Timer::L)));
        tx.handle_timeout(t0 + ms(32_000));
        assert_eq!(
            drain(&mut tx),
            vec![
                Output::Transmit(OK),
                Output::Transmit(OK),
                Output::Terminated
            ]
        );
    }

    #[test]
    fn cancel_in_proceeding_asks_for_487() {
        let t0 = Instant::now();
        let mut tx = ServerInvite::new(t0, Config::default());
        tx.handle_tu_response(t0, 180, RINGING);
        assert!(tx.cancel(t0 + ms(100)));
        tx.handle_tu_response(t0 + ms(100), 487, Bytes::from_static(b"487"));
        assert!(!tx.cancel(t0 + ms(200)));
    }

    #[test]
    fn transport_error_terminates_except_in_accepted() {
        let t0 = Instant::now();
        let mut tx = ServerInvite::new(t0, Config::default());
        tx.handle_tu_response(t0, 486, BUSY);
        tx.handle_transport_error(t0);
        assert_eq!(
            drain(&mut tx),
            vec![
                Output::Transmit(BUSY),
                Output::TransportError,
                Output::Terminated
            ]
        );
        let mut accepted = ServerInvite::new(t0, Config::default());
        accepted.handle_tu_response(t0, 200, OK);
        accepted.handle_transport_error(t0);
        assert_eq!(
            drain(&mut accepted),
            vec![Output::Transmit(OK), Output::TransportError]
        );
        assert!(!accepted.is_terminated());
    }
}
