//! Parse and print a typical INVITE with SDP and its 200 OK.

// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

use criterion::{criterion_group, criterion_main, Criterion};
use hotline_sip::message::{parse, Message, Response};
use std::hint::black_box;

#[allow(dead_code)]
#[path = "common/messages.rs"]
mod messages;
use messages::INVITE;

fn bench(c: &mut Criterion) {
    let Ok(Message::Request(invite)) = parse(INVITE) else {
        panic!("the bench INVITE must parse");
    };
    let mut ok = Response::for_request(&invite, 200, "");
    ok.set_to_tag("a6c85cf");
    ok.set_body("application/sdp", invite.body().to_vec());
    let ok_bytes = ok.to_bytes();

    c.bench_function("parse INVITE with SDP", |b| {
        b.iter(|| parse(black_box(INVITE)))
    });
    c.bench_function("print INVITE with SDP", |b| {
        b.iter(|| black_box(&invite).to_bytes())
    });
    c.bench_function("parse + print INVITE", |b| {
        b.iter(|| match parse(black_box(INVITE)) {
            Ok(m) => m.to_bytes(),
            Err(_) => Vec::new(),
        })
    });
    c.bench_function("build + print 200 OK", |b| {
        b.iter(|| {
            let mut r = Response::for_request(black_box(&invite), 200, "");
            r.set_to_tag("a6c85cf");
            r.to_bytes()
        })
    });
    c.bench_function("parse 200 OK", |b| b.iter(|| parse(black_box(&ok_bytes))));
}

criterion_group!(benches, bench);
criterion_main!(benches);
