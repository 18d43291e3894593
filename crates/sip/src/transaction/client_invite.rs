//! The client INVITE transaction (RFC 3261 §17.1.1, RFC 6026 §8.4).

use std::time::{Duration, Instant};

use bytes::Bytes;

use super::{Config, Core, Output, StatusClass, Timer};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Calling,
    Proceeding,
    /// RFC 6026: a 2xx arrived; further 2xx go to the TU until timer M.
    Accepted,
    /// A non-2xx final response arrived; its retransmissions are answered with the ACK.
    Completed,
    Terminated,
}

/// A client INVITE transaction.
///
/// The ACK for a non-2xx final response belongs to this transaction, but its bytes need the
/// message layer, so the machine asks for them with [`Output::NeedAck`] and the TU answers with
/// [`handle_ack_bytes`](Self::handle_ack_bytes) (no callbacks). The ACK for a 2xx is the TU's
/// (a separate, dialog-level request).
#[derive(Debug, Clone)]
pub struct ClientInvite {
    state: State,
    core: Core,
    request: Bytes,
    ack: Option<Bytes>,
    /// Current timer A interval.
    interval: Duration,
}

impl ClientInvite {
    /// Starts the transaction: queues the INVITE `request` for transmission, arms timers A and B.
    pub fn new(now: Instant, config: Config, request: Bytes) -> Self {
        let mut core = Core::new(config);
        core.push(Output::Transmit(request.clone()));
        let interval = config.t1;
        if !config.reliable {
            core.timers.set(Timer::A, now + interval);
        }
        core.arm(Timer::B, now);
        ClientInvite {
            state: State::Calling,
            core,
            request,
            ack: None,
            interval,
        }
    }

    /// A response matching this transaction arrived with `status`.
    pub fn handle_response(&mut self, now: Instant, status: u16) {
        let Some(class) = StatusClass::of(status) else {
            return;
        };
        match (self.state, class) {
            (State::Calling | State::Proceeding, StatusClass::Provisional) => {
                self.state = State::Proceeding;
                self.core.timers.cancel(Timer::A);
                self.core.timers.cancel(Timer::B);
                self.core.push(Output::DeliverResponse { status });
            }
            (State::Calling | State::Proceeding, StatusClass::Success) => {
                self.state = State::Accepted;
                self.core.timers.clear();
                self.core.push(Output::DeliverResponse { status });
                self.core.arm(Timer::M, now);
            }
            (State::Calling | State::Proceeding, StatusClass::Failure) => {
                self.state = State::Completed;
                self.core.timers.clear();
                self.core.push(Output::DeliverResponse { status });
                self.core.push(Output::NeedAck { status });
                // On a reliable transport D is zero: it fires at the next handle_timeout, after
                // the caller has drained NeedAck and handed the ACK over.
                self.core.arm(Timer::D, now);
            }
            // RFC 6026: retransmitted or forked 2xx responses go to the TU.
            (State::Accepted, StatusClass::Success) => {
                self.core.push(Output::DeliverResponse { status });
            }
            (State::Completed, StatusClass::Failure) => {
                if let Some(ack) = &self.ack {
                    self.core.push(Output::Transmit(ack.clone()));
                }
            }
            _ => {}
        }
    }

    /// The ACK bytes for the non-2xx final response announced by [`Output::NeedAck`]: sent now and
    /// again for every retransmission of that response. Ignored in any other state.
    pub fn handle_ack_bytes(&mut self, ack: Bytes) {
        if self.state != State::Completed || self.ack.is_some() {
            return;
        }
        self.core.push(Output::Transmit(ack.clone()));
        self.ack = Some(ack);
    }

    /// True while a CANCEL may be sent for this INVITE: after a provisional response and before
    /// any final one (RFC 3261 §9.1).
    pub fn can_cancel(&self) -> bool {
        self.state == State::Proceeding
    }

    /// The TU sent a CANCEL for this INVITE: if no final response arrives within 64*T1, the
    /// transaction ends with [`Output::Timeout`] (RFC 3261 §9.1).
    pub fn cancel_sent(&mut self, now: Instant) {
        if matches!(self.state, State::Calling | State::Proceeding) {
            self.core.arm(Timer::CancelWait, now);
        }
    }

    /// The transport failed to send the request or the ACK.
    pub fn handle_transport_error(&mut self, _now: Instant) {
        if matches!(
            self.state,
            State::Calling | State::Proceeding | State::Completed
        ) {
            self.core.push(Output::TransportError);
            self.state = State::Terminated;
            self.core.terminate();
        }
    }

    /// Fires every timer due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some((at, timer)) = self.core.timers.pop_due(now) {
            match timer {
                Timer::A if self.state == State::Calling => {
                    self.core.push(Output::Transmit(self.request.clone()));
                    self.interval = self.core.backoff(self.interval, false);
                    self.core.timers.set(Timer::A, at + self.interval);
                }
                Timer::B | Timer::CancelWait => {
                    self.core.push(Output::Timeout);
                    self.state = State::Terminated;
                    self.core.terminate();
                }
                Timer::D | Timer::M => {
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

    const INVITE: Bytes = Bytes::from_static(b"INVITE");
    const ACK: Bytes = Bytes::from_static(b"ACK");

    #[test]
    fn timer_a_doubles_until_timer_b_fires_at_64_t1() {
        let t0 = Instant::now();
        let mut tx = ClientInvite::new(t0, Config::default(), INVITE);
        assert_eq!(drain(&mut tx), vec![Output::Transmit(INVITE)]);
        let log = run_until(&mut tx, t0, Duration::from_secs(100));
        let a: Vec<Duration> = log
            .iter()
            .filter(|e| e.1 == Timer::A)
            .map(|e| e.0)
            .collect();
        assert_eq!(
            a,
            [ms(500), ms(1500), ms(3500), ms(7500), ms(15500), ms(31500)]
        );
        for entry in log.iter().filter(|e| e.1 == Timer::A) {
            assert_eq!(entry.2, vec![Output::Transmit(INVITE)]);
        }
        let last = log.last().expect("timer B fired");
        assert_eq!((last.0, last.1), (ms(32_000), Timer::B));
        assert_eq!(last.2, vec![Output::Timeout, Output::Terminated]);
        assert!(tx.is_terminated());
        assert_eq!(tx.poll_timeout(), None);
    }

    #[test]
    fn reliable_transport_has_no_timer_a() {
        let t0 = Instant::now();
        let tx = ClientInvite::new(t0, Config::default().with_reliable(true), INVITE);
        assert_eq!(tx.poll_timeout(), Some((t0 + ms(32_000), Timer::B)));
    }

    #[test]
    fn provisional_stops_retransmission_and_allows_cancel() {
        let t0 = Instant::now();
        let mut tx = ClientInvite::new(t0, Config::default(), INVITE);
        drain(&mut tx);
        assert!(!tx.can_cancel());
        tx.handle_response(t0 + ms(100), 180);
        assert_eq!(
            drain(&mut tx),
            vec![Output::DeliverResponse { status: 180 }]
        );
        assert!(tx.can_cancel());
        assert_eq!(tx.poll_timeout(), None);
        tx.cancel_sent(t0 + ms(200));
        assert_eq!(
            tx.poll_timeout(),
            Some((t0 + ms(200) + ms(32_000), Timer::CancelWait))
        );
        // The 487 arrives: Completed, ACK requested.
        tx.handle_response(t0 + ms(300), 487);
        assert_eq!(
            drain(&mut tx),
            vec![
                Output::DeliverResponse { status: 487 },
                Output::NeedAck { status: 487 }
            ]
        );
        assert!(!tx.can_cancel());
    }

    #[test]
    fn cancel_without_final_response_times_out_after_64_t1() {
        let t0 = Instant::now();
        let mut tx = ClientInvite::new(t0, Config::default(), INVITE);
        tx.handle_response(t0, 100);
        tx.cancel_sent(t0 + ms(1000));
        drain(&mut tx);
        tx.handle_timeout(t0 + ms(33_000));
        assert_eq!(drain(&mut tx), vec![Output::Timeout, Output::Terminated]);
    }

    #[test]
    fn non_2xx_is_acked_and_ack_resent_for_retransmissions_until_timer_d() {
        let t0 = Instant::now();
        let mut tx = ClientInvite::new(t0, Config::default(), INVITE);
        drain(&mut tx);
        tx.handle_response(t0 + ms(100), 486);
        assert_eq!(
            drain(&mut tx),
            vec![
                Output::DeliverResponse { status: 486 },
                Output::NeedAck { status: 486 }
            ]
        );
        tx.handle_ack_bytes(ACK);
        assert_eq!(drain(&mut tx), vec![Output::Transmit(ACK)]);
        tx.handle_response(t0 + ms(600), 486);
        assert_eq!(drain(&mut tx), vec![Output::Transmit(ACK)]);
        assert_eq!(
            tx.poll_timeout(),
            Some((t0 + ms(100) + ms(32_000), Timer::D))
        );
        tx.handle_timeout(t0 + ms(32_100));
        assert_eq!(drain(&mut tx), vec![Output::Terminated]);
    }

    #[test]
    fn timer_d_is_zero_on_reliable_transport() {
        let t0 = Instant::now();
        let mut tx = ClientInvite::new(t0, Config::default().with_reliable(true), INVITE);
        drain(&mut tx);
        tx.handle_response(t0 + ms(10), 603);
        assert_eq!(tx.poll_timeout(), Some((t0 + ms(10), Timer::D)));
        drain(&mut tx);
        tx.handle_ack_bytes(ACK);
        tx.handle_timeout(t0 + ms(10));
        assert_eq!(
            drain(&mut tx),
            vec![Output::Transmit(ACK), Output::Terminated]
        );
    }

    #[test]
    fn accepted_passes_2xx_retransmissions_to_tu_until_timer_m() {
        let t0 = Instant::now();
        let mut tx = ClientInvite::new(t0, Config::default(), INVITE);
        drain(&mut tx);
        tx.handle_response(t0 + ms(100), 200);
        assert_eq!(
            drain(&mut tx),
            vec![Output::DeliverResponse { status: 200 }]
        );
        assert_eq!(
            tx.poll_timeout(),
            Some((t0 + ms(100) + ms(32_000), Timer::M))
        );
        tx.handle_response(t0 + ms(600), 200);
        assert_eq!(
            drain(&mut tx),
            vec![Output::DeliverResponse { status: 200 }]
        );
        // A stray non-2xx in Accepted is dropped.
        tx.handle_response(t0 + ms(700), 500);
        assert_eq!(drain(&mut tx), vec![]);
        tx.handle_timeout(t0 + ms(32_100));
        assert_eq!(drain(&mut tx), vec![Output::Terminated]);
        tx.handle_response(t0 + ms(40_000), 200);
        assert_eq!(drain(&mut tx), vec![]);
    }

    #[test]
    fn transport_error_terminates() {
        let t0 = Instant::now();
        let mut tx = ClientInvite::new(t0, Config::default(), INVITE);
        drain(&mut tx);
        tx.handle_transport_error(t0);
        assert_eq!(
            drain(&mut tx),
            vec![Output::TransportError, Output::Terminated]
        );
        assert_eq!(tx.poll_timeout(), None);
    }
}
