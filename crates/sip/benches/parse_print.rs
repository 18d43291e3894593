//! Parse and print a typical INVITE with SDP and its 200 OK.

// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

use criterion::{criterion_group, criterion_main, Criterion};
use hotline_sip::message::{parse, Message, Response};
use std::hint::black_box;

const INVITE: &[u8] = b"INVITE sip:support@hotline.example.com SIP/2.0\r\n\
Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds;rport\r\n\
Max-Forwards: 70\r\n\
To: <sip:support@hotline.example.com>\r\n\
From: \"Alice\" <sip:+15551234567@carrier.example.net>;tag=1928301774\r\n\
Call-ID: a84b4c76e66710@pc33.carrier.example.net\r\n\
CSeq: 314159 INVITE\r\n\
Contact: <sip:+15551234567@192.0.2.10:5060>\r\n\
Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE\r\n\
Supported: timer, replaces\r\n\
Session-Expires: 1800;refresher=uac\r\n\
User-Agent: carrier-sbc/1.0\r\n\
Content-Type: application/sdp\r\n\
Content-Length: 222\r\n\
\r\n\
v=0\r\n\
o=- 2890844526 2890844526 IN IP4 192.0.2.10\r\n\
s=-\r\n\
c=IN IP4 192.0.2.10\r\n\
t=0 0\r\n\
m=audio 49170 RTP/AVP 0 8 101\r\n\
a=rtpmap:0 PCMU/8000\r\n\
a=rtpmap:8 PCMA/8000\r\n\
a=rtpmap:101 telephone-event/8000\r\n\
a=fmtp:101 0-16\r\n\
a=ptime:20\r\n";

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
