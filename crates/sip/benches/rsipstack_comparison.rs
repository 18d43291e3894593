//! hotline's SIP parser next to rsipstack's on the same messages, in one run.
//!
//! Three messages a call center sees most (an INVITE with SDP, its 200 OK, a REGISTER), each
//! parsed by:
//! - `hotline`: [`hotline_sip::message::parse`] — framing, start line and every header validated;
//! - `rsipstack`: `rsipstack::sip::parser::parse_message` — headers kept as raw strings;
//! - `rsipstack+typed`: the same, then the typed Via, From, To, CSeq and Call-ID a transaction
//!   layer reads for every message (rsipstack parses headers lazily, on access).
//!
//! `benches/parse_compare.sh` runs this and prints the ratios from criterion's estimates.

// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use rsipstack::sip::prelude::*;
use rsipstack::sip::{parser::parse_message, SipMessage};

#[path = "common/messages.rs"]
mod messages;
use messages::{INVITE, OK, REGISTER};

fn rsipstack_typed(bytes: &[u8]) -> usize {
    let Ok(msg) = parse_message(bytes) else {
        return 0;
    };
    match &msg {
        SipMessage::Request(r) => fields(r),
        SipMessage::Response(r) => fields(r),
    }
}

/// Reads the typed headers every transaction needs.
fn fields<H: HeadersExt>(h: &H) -> usize {
    {
        let mut n = 0;
        if let Ok(v) = h.via_header().and_then(|v| v.typed()) {
            n += v.params.len();
        }
        if let Ok(f) = h.from_header().and_then(|f| f.typed()) {
            n += f.params.len();
        }
        if let Ok(t) = h.to_header().and_then(|t| t.typed()) {
            n += t.params.len();
        }
        if let Ok(c) = h.cseq_header().and_then(|c| c.typed()) {
            n += c.seq as usize;
        }
        if let Ok(c) = h.call_id_header() {
            n += c.value().len();
        }
        n
    }
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("parser comparison");
    g.warm_up_time(Duration::from_millis(500));
    g.measurement_time(Duration::from_secs(2));
    for (name, bytes) in [("INVITE", INVITE), ("200 OK", OK), ("REGISTER", REGISTER)] {
        assert!(hotline_sip::message::parse(bytes).is_ok(), "{name} parses");
        assert!(rsipstack_typed(bytes) > 0, "{name} parses in rsipstack");
        g.bench_with_input(BenchmarkId::new("hotline", name), bytes, |b, m| {
            b.iter(|| hotline_sip::message::parse(black_box(m)))
        });
        g.bench_with_input(BenchmarkId::new("rsipstack", name), bytes, |b, m| {
            b.iter(|| parse_message(black_box(m)))
        });
        g.bench_with_input(BenchmarkId::new("rsipstack+typed", name), bytes, |b, m| {
            b.iter(|| rsipstack_typed(black_box(m)))
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
