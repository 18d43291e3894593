//! Sans-IO SIP transaction machines (RFC 3261 §17, updated by RFC 6026).
//!
//! One type per machine: [`ClientInvite`], [`ClientNonInvite`], [`ServerInvite`],
//! [`ServerNonInvite`]. They know nothing of message syntax: the caller parses messages, feeds
//! the machine status codes and events, and gives it the exact bytes to send; the machine stores
//! the last bytes it was given so that it can retransmit them itself.
//!
//! Every machine has the same driving surface:
//! - `handle_*(now, ..)` for inputs, `handle_timeout(now)` when [`poll_timeout`](Machine::poll_timeout) is due;
//! - `poll_output()` drained until `None` after each input ([`Output`]);
//! - `poll_timeout()` for the next deadline and its [`Timer`].
//!
//! No machine reads the clock: `now` is always an argument.
//!
//! Matching is the caller's: [`TransactionKey`] for received requests (server side),
//! [`ClientKey`] (branch + CSeq method) for received responses (client side). An ACK for a 2xx
//! carries a new branch, so it matches no transaction: find the [`ServerInvite`] through the
//! dialog (Call-ID + CSeq) and call [`ServerInvite::handle_ack`] to stop 2xx retransmissions.
//!
//! ```
//! use std::time::{Duration, Instant};
//! use bytes::Bytes;
//! use hotline_sip::transaction::{ClientInvite, Config, Output};
//!
//! let t0 = Instant::now();
//! let mut tx = ClientInvite::new(t0, Config::default(), Bytes::from_static(b"INVITE ..."));
//! assert_eq!(tx.poll_output(), Some(Output::Transmit(Bytes::from_static(b"INVITE ..."))));
//! // No answer: timer A fires at T1 and the INVITE goes out again.
//! let (at, _timer_a) = tx.poll_timeout().unwrap();
//! tx.handle_timeout(at);
//! assert!(matches!(tx.poll_output(), Some(Output::Transmit(_))));
//! // A 486 arrives: the TU gets it and is asked for the ACK bytes.
//! tx.handle_response(at + Duration::from_millis(20), 486);
//! assert_eq!(tx.poll_output(), Some(Output::DeliverResponse { status: 486 }));
//! assert_eq!(tx.poll_output(), Some(Output::NeedAck { status: 486 }));
//! tx.handle_ack_bytes(Bytes::from_static(b"ACK ..."));
//! assert!(matches!(tx.poll_output(), Some(Output::Transmit(_))));
//! ```

mod client_invite;
mod client_non_invite;
pub mod key;
mod server_invite;
mod server_non_invite;
mod table;
mod timer;

#[cfg(test)]
mod proptests;

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use bytes::Bytes;

pub use client_invite::ClientInvite;
pub use client_non_invite::ClientNonInvite;
pub use key::{new_branch, ClientKey, RequestKeyFields, TransactionKey};
pub use server_invite::ServerInvite;
pub use server_non_invite::ServerNonInvite;
pub use table::{EntryMut, TransactionTable};
pub use timer::Timer;

/// Timer base values and transport reliability for one transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    /// RTT estimate T1 (default 500 ms).
    pub t1: Duration,
    /// Maximum retransmission interval T2 for non-INVITE requests and INVITE responses (default 4 s).
    pub t2: Duration,
    /// Maximum time a message stays in the network, T4 (default 5 s).
    pub t4: Duration,
    /// True over a reliable transport (TCP, TLS): no retransmissions, timers D/I/J/K are zero.
    pub reliable: bool,
    /// Server INVITE only: retransmit the 2xx until the ACK arrives or 64*T1 passes (default true).
    pub retransmit_2xx: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            t1: Duration::from_millis(500),
            t2: Duration::from_secs(4),
            t4: Duration::from_secs(5),
            reliable: false,
            retransmit_2xx: true,
        }
    }
}

impl Config {
    /// This config with the transport reliability set.
    pub fn with_reliable(mut self, reliable: bool) -> Self {
        self.reliable = reliable;
        self
    }
}

/// What a machine wants done, drained with `poll_output()`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// Send these exact bytes to the peer (a first transmission or a retransmission).
    Transmit(Bytes),
    /// Client: pass the response just given to `handle_response` up to the TU.
    DeliverResponse {
        /// Its status code.
        status: u16,
    },
    /// Client INVITE: build the ACK for this non-2xx final response and give it to
    /// [`ClientInvite::handle_ack_bytes`]; the machine sends it and resends it on retransmissions.
    NeedAck {
        /// The status code of the final response to acknowledge.
        status: u16,
    },
    /// Client: no final response in time (timers B, F, or 64*T1 after a CANCEL).
    /// Server INVITE: no ACK for the final response (timer H, or timer L while retransmitting a 2xx).
    Timeout,
    /// The transport reported a failure sending this transaction's message.
    TransportError,
    /// The machine is finished; nothing follows. Remove it from its table.
    Terminated,
}

/// The common driving surface of the four machines, used by [`TransactionTable`].
pub trait Machine {
    /// Fires every timer due at `now`.
    fn handle_timeout(&mut self, now: Instant);
    /// The next deadline and the timer that will fire then.
    fn poll_timeout(&self) -> Option<(Instant, Timer)>;
    /// The next thing to do, if any.
    fn poll_output(&mut self) -> Option<Output>;
    /// True once [`Output::Terminated`] has been queued.
    fn is_terminated(&self) -> bool;
}

/// Any of the four machines, for tables that hold them all.
#[derive(Debug)]
pub enum Transaction {
    /// A client INVITE transaction.
    ClientInvite(ClientInvite),
    /// A client non-INVITE transaction.
    ClientNonInvite(ClientNonInvite),
    /// A server INVITE transaction.
    ServerInvite(ServerInvite),
    /// A server non-INVITE transaction.
    ServerNonInvite(ServerNonInvite),
}

impl Machine for Transaction {
    fn handle_timeout(&mut self, now: Instant) {
        match self {
            Transaction::ClientInvite(m) => m.handle_timeout(now),
            Transaction::ClientNonInvite(m) => m.handle_timeout(now),
            Transaction::ServerInvite(m) => m.handle_timeout(now),
            Transaction::ServerNonInvite(m) => m.handle_timeout(now),
        }
    }

    fn poll_timeout(&self) -> Option<(Instant, Timer)> {
        match self {
            Transaction::ClientInvite(m) => m.poll_timeout(),
            Transaction::ClientNonInvite(m) => m.poll_timeout(),
            Transaction::ServerInvite(m) => m.poll_timeout(),
            Transaction::ServerNonInvite(m) => m.poll_timeout(),
        }
    }

    fn poll_output(&mut self) -> Option<Output> {
        match self {
            Transaction::ClientInvite(m) => m.poll_output(),
            Transaction::ClientNonInvite(m) => m.poll_output(),
            Transaction::ServerInvite(m) => m.poll_output(),
            Transaction::ServerNonInvite(m) => m.poll_output(),
        }
    }

    fn is_terminated(&self) -> bool {
        match self {
            Transaction::ClientInvite(m) => m.is_terminated(),
            Transaction::ClientNonInvite(m) => m.is_terminated(),
            Transaction::ServerInvite(m) => m.is_terminated(),
            Transaction::ServerNonInvite(m) => m.is_terminated(),
        }
    }
}

/// A machine with the caller's own context beside it (target address, call id, ...): the table
/// drives the machine and carries the context along.
impl<M: Machine, C> Machine for (M, C) {
    fn handle_timeout(&mut self, now: Instant) {
        self.0.handle_timeout(now)
    }

    fn poll_timeout(&self) -> Option<(Instant, Timer)> {
        self.0.poll_timeout()
    }

    fn poll_output(&mut self) -> Option<Output> {
        self.0.poll_output()
    }

    fn is_terminated(&self) -> bool {
        self.0.is_terminated()
    }
}

macro_rules! impl_machine {
    ($($ty:ty),*) => {$(
        impl Machine for $ty {
            fn handle_timeout(&mut self, now: Instant) {
                <$ty>::handle_timeout(self, now)
            }
            fn poll_timeout(&self) -> Option<(Instant, Timer)> {
                <$ty>::poll_timeout(self)
            }
            fn poll_output(&mut self) -> Option<Output> {
                <$ty>::poll_output(self)
            }
            fn is_terminated(&self) -> bool {
                <$ty>::is_terminated(self)
            }
        }
    )*};
}
impl_machine!(ClientInvite, ClientNonInvite, ServerInvite, ServerNonInvite);

/// Class of a status code, as the machines see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StatusClass {
    Provisional,
    Success,
    Failure,
}

impl StatusClass {
    /// None for codes outside 100..=699, which the machines ignore.
    fn of(status: u16) -> Option<StatusClass> {
        match status {
            100..=199 => Some(StatusClass::Provisional),
            200..=299 => Some(StatusClass::Success),
            300..=699 => Some(StatusClass::Failure),
            _ => None,
        }
    }
}

/// What every machine shares: config, timers, the output queue and the terminated flag.
#[derive(Debug, Clone)]
struct Core {
    config: Config,
    timers: timer::TimerTable,
    outputs: VecDeque<Output>,
    terminated: bool,
}

impl Core {
    fn new(config: Config) -> Self {
        Core {
            config,
            timers: timer::TimerTable::default(),
            outputs: VecDeque::new(),
            terminated: false,
        }
    }

    /// Queues an output unless the machine is already terminated.
    fn push(&mut self, output: Output) {
        if !self.terminated {
            self.outputs.push_back(output);
        }
    }

    /// Arms `timer` for its initial duration from `now`. A zero duration (D, I, J, K on a reliable
    /// transport) makes it due at `now`: it fires at the next `handle_timeout(now)`, once the
    /// caller has drained what the current input produced.
    fn arm(&mut self, timer: Timer, now: Instant) {
        self.timers.set(timer, now + timer.initial(&self.config));
    }

    /// Queues [`Output::Terminated`] once and disarms every timer.
    fn terminate(&mut self) {
        if !self.terminated {
            self.outputs.push_back(Output::Terminated);
            self.terminated = true;
            self.timers.clear();
        }
    }

    /// The next retransmission interval: doubled, capped at T2 when `capped`.
    fn backoff(&self, interval: Duration, capped: bool) -> Duration {
        let doubled = interval.saturating_mul(2);
        if capped {
            doubled.min(self.config.t2)
        } else {
            doubled
        }
    }

    fn poll_timeout(&self) -> Option<(Instant, Timer)> {
        if self.terminated {
            None
        } else {
            self.timers.next()
        }
    }
}

#[cfg(test)]
mod test_util {
    use super::*;

    /// Drains a machine's outputs.
    pub(crate) fn drain<M: Machine>(m: &mut M) -> Vec<Output> {
        std::iter::from_fn(|| m.poll_output()).collect()
    }

    /// The instants (as offsets from `t0`) at which `timer` fires, driving the machine by
    /// deadlines until it terminates or `limit` passes.
    pub(crate) fn run_until<M: Machine>(
        m: &mut M,
        t0: Instant,
        limit: Duration,
    ) -> Vec<(Duration, Timer, Vec<Output>)> {
        let mut log = Vec::new();
        while let Some((at, timer)) = m.poll_timeout() {
            if at > t0 + limit {
                break;
            }
            m.handle_timeout(at);
            log.push((at - t0, timer, drain(m)));
        }
        log
    }

    pub(crate) fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }
}
