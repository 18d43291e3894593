//! The server non-INVITE transaction (RFC 3261 §17.2.2).

use std::time::Instant;

use bytes::Bytes;

use super::{Config, Core, Output, StatusClass, Timer};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// The request was passed to the TU; retransmissions are absorbed.
    Trying,
    /// A provisional response was sent; retransmissions get it again.
    Proceeding,
    /// A final response was sent; retransmissions get it again until timer J.
    Completed,
    Terminated,
}

/// A server non-INVITE transaction.
///
/// Created when a new request arrives (the caller passes the request to its TU itself); request
/// retransmissions go to [`handle_request_retransmit`](Self::handle_request_retransmit).
#[derive(Debug, Clone)]
pub struct ServerNonInvite {
    state: State,
    core: Core,
    /// The last response the TU sent, resent on request retransmissions.
    response: Option<Bytes>,
}

impl ServerNonInvite {
    /// A transaction for a request that just arrived.
    pub fn new(_now: Instant, config: Config) -> Self {
        ServerNonInvite {
            state: State::Trying,
            core: Core::new(config),
            response: None,
        }
    }

    /// A retransmission of the request arrived.
    pub fn handle_request_retransmit(&mut self, _now: Instant) {
        if matches!(self.state, State::Proceeding | State::Completed) {
            if let Some(response) = &self.response {
                self.core.push(Output::Transmit(response.clone()));
            }
        }
    }

    /// The TU sends a response with `status`, encoded as `bytes`. Responses after the final one
    /// are discarded (RFC 3261 §17.2.2).
    pub fn handle_tu_response(&mut self, now: Instant, status: u16, bytes: Bytes) {
        let Some(class) = StatusClass::of(status) else {
            return;
        };
        if !matches!(self.state, State::Trying | State::Proceeding) {
            return;
        }
        self.core.push(Output::Transmit(bytes.clone()));
        self.response = Some(bytes);
        if class == StatusClass::Provisional {
            self.state = State::Proceeding;
        } else {
            self.state = State::Completed;
            self.core.arm(Timer::J, now);
        }
    }

    /// The transport failed to send a response.
    pub fn handle_transport_error(&mut self, _now: Instant) {
        if self.state != State::Terminated {
            self.core.push(Output::TransportError);
            self.state = State::Terminated;
            self.core.terminate();
        }
    }

    /// Fires every timer due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some((_, timer)) = self.core.timers.pop_due(now) {
            if timer == Timer::J {
                self.state = State::Terminated;
                self.core.terminate();
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
    use crate::transaction::test_util::{drain, ms};

    const TRYING: Bytes = Bytes::from_static(b"100");
    const OK: Bytes = Bytes::from_static(b"200");

    #[test]
    fn trying_absorbs_retransmissions_proceeding_resends_provisional() {
        let t0 = Instant::now();
        let mut tx = ServerNonInvite::new(t0, Config::default());
        tx.handle_request_retransmit(t0);
        assert_eq!(drain(&mut tx), vec![]);
        tx.handle_tu_response(t0, 100, TRYING);
        tx.handle_request_retransmit(t0 + ms(500));
        assert_eq!(
            drain(&mut tx),
            vec![Output::Transmit(TRYING), Output::Transmit(TRYING)]
        );
    }

    #[test]
    fn completed_resends_final_until_timer_j() {
        let t0 = Instant::now();
        let mut tx = ServerNonInvite::new(t0, Config::default());
        tx.handle_tu_response(t0, 200, OK);
        assert_eq!(tx.poll_timeout(), Some((t0 + ms(32_000), Timer::J)));
        tx.handle_request_retransmit(t0 + ms(1000));
        // A second final response from the TU is discarded.
        tx.handle_tu_response(t0 + ms(1000), 500, Bytes::from_static(b"500"));
        assert_eq!(
            drain(&mut tx),
            vec![Output::Transmit(OK), Output::Transmit(OK)]
        );
        tx.handle_timeout(t0 + ms(32_000));
        assert_eq!(drain(&mut tx), vec![Output::Terminated]);
        tx.handle_request_retransmit(t0 + ms(33_000));
        assert_eq!(drain(&mut tx), vec![]);
    }

    #[test]
    fn timer_j_is_zero_on_reliable_transport() {
        let t0 = Instant::now();
        let mut tx = ServerNonInvite::new(t0, Config::default().with_reliable(true));
        tx.handle_tu_response(t0, 200, OK);
        assert_eq!(tx.poll_timeout(), Some((t0, Timer::J)));
        tx.handle_timeout(t0);
        assert_eq!(
            drain(&mut tx),
            vec![Output::Transmit(OK), Output::Terminated]
        );
    }

    #[test]
    fn transport_error_terminates() {
        let t0 = Instant::now();
        let mut tx = ServerNonInvite::new(t0, Config::default());
        tx.handle_tu_response(t0, 200, OK);
        tx.handle_transport_error(t0);
        assert_eq!(
            drain(&mut tx),
            vec![
                Output::Transmit(OK),
                Output::TransportError,
                Output::Terminated
            ]
        );
    }
}
