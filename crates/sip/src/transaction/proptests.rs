//! Property tests over random interleavings of inputs and time jumps, for all four machines.

use std::time::{Duration, Instant};

use bytes::Bytes;
use proptest::prelude::*;

use super::{
    ClientInvite, ClientNonInvite, Config, Machine, Output, ServerInvite, ServerNonInvite,
    Transaction,
};

#[derive(Debug, Clone)]
enum Op {
    Advance(u64),
    Timeout,
    Response(u16),
    TuResponse(u16),
    RequestRetransmit,
    Ack,
    AckBytes,
    Cancel,
    TransportError,
}

fn status() -> impl Strategy<Value = u16> {
    prop_oneof![
        Just(100u16),
        Just(180),
        Just(200),
        Just(202),
        Just(401),
        Just(487),
        Just(503),
        Just(0),
        Just(999),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0u64..40_000).prop_map(Op::Advance),
        3 => Just(Op::Timeout),
        2 => status().prop_map(Op::Response),
        2 => status().prop_map(Op::TuResponse),
        1 => Just(Op::RequestRetransmit),
        1 => Just(Op::Ack),
        1 => Just(Op::AckBytes),
        1 => Just(Op::Cancel),
        1 => Just(Op::TransportError),
    ]
}

fn config() -> impl Strategy<Value = Config> {
    (100u64..1000, any::<bool>(), any::<bool>()).prop_map(|(t1, reliable, retransmit_2xx)| Config {
        t1: Duration::from_millis(t1),
        retransmit_2xx,
        reliable,
        ..Config::default()
    })
}

fn machine(kind: u8, now: Instant, config: Config) -> Transaction {
    let req = Bytes::from_static(b"request");
    match kind % 4 {
        0 => Transaction::ClientInvite(ClientInvite::new(now, config, req)),
        1 => Transaction::ClientNonInvite(ClientNonInvite::new(now, config, req)),
        2 => Transaction::ServerInvite(ServerInvite::new(now, config)),
        _ => Transaction::ServerNonInvite(ServerNonInvite::new(now, config)),
    }
}

fn apply(tx: &mut Transaction, now: Instant, op: &Op) {
    let bytes = Bytes::from_static(b"message");
    match (tx, op) {
        (tx, Op::Timeout) => tx.handle_timeout(now),
        (Transaction::ClientInvite(m), Op::Response(s)) => m.handle_response(now, *s),
        (Transaction::ClientInvite(m), Op::AckBytes) => m.handle_ack_bytes(bytes),
        (Transaction::ClientInvite(m), Op::Cancel) if m.can_cancel() => m.cancel_sent(now),
        (Transaction::ClientInvite(m), Op::TransportError) => m.handle_transport_error(now),
        (Transaction::ClientNonInvite(m), Op::Response(s)) => m.handle_response(now, *s),
        (Transaction::ClientNonInvite(m), Op::TransportError) => m.handle_transport_error(now),
        (Transaction::ServerInvite(m), Op::TuResponse(s)) => m.handle_tu_response(now, *s, bytes),
        (Transaction::ServerInvite(m), Op::RequestRetransmit) => m.handle_request_retransmit(now),
        (Transaction::ServerInvite(m), Op::Ack) => m.handle_ack(now),
        (Transaction::ServerInvite(m), Op::Cancel) => {
            m.cancel(now);
        }
        (Transaction::ServerInvite(m), Op::TransportError) => m.handle_transport_error(now),
        (Transaction::ServerNonInvite(m), Op::TuResponse(s)) => {
            m.handle_tu_response(now, *s, bytes)
        }
        (Transaction::ServerNonInvite(m), Op::RequestRetransmit) => {
            m.handle_request_retransmit(now)
        }
        (Transaction::ServerNonInvite(m), Op::TransportError) => m.handle_transport_error(now),
        _ => {}
    }
}

/// Drains outputs, checking nothing follows `Terminated` and it comes at most once.
fn drain_checked(tx: &mut Transaction, seen_terminated: &mut bool) -> Result<(), TestCaseError> {
    while let Some(output) = tx.poll_output() {
        prop_assert!(!*seen_terminated, "output {:?} after Terminated", output);
        if output == Output::Terminated {
            *seen_terminated = true;
        }
    }
    prop_assert_eq!(*seen_terminated, tx.is_terminated());
    Ok(())
}

/// The TU's last word: answer a pending server transaction, cancel a ringing INVITE.
fn finish(tx: &mut Transaction, now: Instant) {
    match tx {
        Transaction::ClientInvite(m) => {
            if m.can_cancel() {
                m.cancel_sent(now)
            }
            m.handle_ack_bytes(Bytes::from_static(b"ACK"));
        }
        Transaction::ServerInvite(m) => m.handle_tu_response(now, 500, Bytes::from_static(b"500")),
        Transaction::ServerNonInvite(m) => {
            m.handle_tu_response(now, 500, Bytes::from_static(b"500"))
        }
        Transaction::ClientNonInvite(_) => {}
    }
}

proptest! {
    #[test]
    fn no_output_after_terminated_and_termination_within_64_t1_plus_32s(
        kind in 0u8..4,
        config in config(),
        ops in proptest::collection::vec(op(), 0..40),
    ) {
        let t0 = Instant::now();
        let mut now = t0;
        let mut tx = machine(kind, now, config);
        let mut terminated = false;
        drain_checked(&mut tx, &mut terminated)?;
        for op in &ops {
            if let Op::Advance(ms) = op {
                now += Duration::from_millis(*ms);
            }
            apply(&mut tx, now, op);
            drain_checked(&mut tx, &mut terminated)?;
            if let Some((at, _)) = tx.poll_timeout() {
                prop_assert!(!terminated);
                // A deadline is never further out than the longest timer.
                prop_assert!(at <= now + config.t1 * 64 + Duration::from_secs(32));
            }
        }
        finish(&mut tx, now);
        drain_checked(&mut tx, &mut terminated)?;
        let limit = now + config.t1 * 64 + Duration::from_secs(32);
        while let Some((at, _)) = tx.poll_timeout() {
            prop_assert!(at <= limit, "deadline past the limit");
            tx.handle_timeout(at);
            drain_checked(&mut tx, &mut terminated)?;
        }
        prop_assert!(tx.is_terminated(), "not terminated without further input");
    }
}

mod table {
    use super::*;
    use crate::transaction::TransactionTable;

    #[derive(Debug, Clone)]
    enum TableOp {
        Insert(u8, u8),
        Feed(u8, Op),
        Advance(u64),
        Fire,
        Remove(u8),
        Purge,
    }

    fn table_op() -> impl Strategy<Value = TableOp> {
        prop_oneof![
            2 => (0u8..6, 0u8..4).prop_map(|(k, kind)| TableOp::Insert(k, kind)),
            4 => (0u8..6, op()).prop_map(|(k, op)| TableOp::Feed(k, op)),
            2 => (0u64..20_000).prop_map(TableOp::Advance),
            2 => Just(TableOp::Fire),
            1 => (0u8..6).prop_map(TableOp::Remove),
            1 => Just(TableOp::Purge),
        ]
    }

    proptest! {
        #[test]
        fn combined_deadline_is_always_the_earliest_machine_deadline(
            config in config(),
            ops in proptest::collection::vec(table_op(), 0..60),
        ) {
            let t0 = Instant::now();
            let mut now = t0;
            let mut table: TransactionTable<u8, Transaction> = TransactionTable::new();
            for op in ops {
                match op {
                    TableOp::Insert(k, kind) => {
                        table.insert(k, machine(kind, now, config));
                    }
                    TableOp::Feed(k, op) => {
                        if let Some(mut entry) = table.get_mut(&k) {
                            apply(&mut entry, now, &op);
                            while entry.poll_output().is_some() {}
                        }
                    }
                    TableOp::Advance(ms) => now += Duration::from_millis(ms),
                    TableOp::Fire => {
                        for k in table.handle_timeout(now) {
                            if let Some(mut entry) = table.get_mut(&k) {
                                while entry.poll_output().is_some() {}
                            }
                        }
                    }
                    TableOp::Remove(k) => {
                        table.remove(&k);
                    }
                    TableOp::Purge => {
                        for (_, m) in table.purge_terminated() {
                            prop_assert!(m.is_terminated());
                        }
                    }
                }
                let expected = table
                    .keys()
                    .copied()
                    .collect::<Vec<_>>()
                    .iter()
                    .filter_map(|k| table.get(k).and_then(|m| m.poll_timeout()))
                    .map(|(at, _)| at)
                    .min();
                prop_assert_eq!(table.poll_timeout(), expected);
            }
        }
    }
}
