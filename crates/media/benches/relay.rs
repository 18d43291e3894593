//! Per-packet cost of the bridge hot path: parse, rewrite SSRC/seq/ts, transcode, serialise.

// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use hotline_media::rtp::{RtpHeader, RtpPacket};
use hotline_media::sdp::Codec;
use hotline_media::stream::{relay_packet, LegFormat, OutboundStream};
use std::hint::black_box;
use std::time::{Duration, Instant};

fn packet(seq: u16) -> Vec<u8> {
    let header = RtpHeader {
        marker: false,
        payload_type: 8,
        sequence: seq,
        timestamp: u32::from(seq) * 160,
        ssrc: 0xABCD,
    };
    let mut buf = vec![0u8; 172];
    let payload: Vec<u8> = (0..160u32).map(|i| (i * 7) as u8).collect();
    header.write_packet(&payload, &mut buf);
    buf
}

fn bench_relay(c: &mut Criterion) {
    let from = LegFormat {
        codec: Codec::Pcma,
        codec_pt: 8,
        dtmf_pt: Some(96),
    };
    let mut group = c.benchmark_group("relay");
    group.throughput(Throughput::Elements(1));
    for (name, to_codec, to_pt) in [
        ("transcode_pcma_to_pcmu", Codec::Pcmu, 0),
        ("same_law", Codec::Pcma, 8),
    ] {
        let to = LegFormat {
            codec: to_codec,
            codec_pt: to_pt,
            dtmf_pt: Some(101),
        };
        let t0 = Instant::now();
        let mut stream = OutboundStream::new(1, 0, 0, t0);
        let datagrams: Vec<Vec<u8>> = (0..1024u16).map(packet).collect();
        let mut out = [0u8; 1500];
        let mut i = 0usize;
        group.bench_function(name, |b| {
            b.iter(|| {
                let datagram = &datagrams[i % datagrams.len()];
                i += 1;
                let now = t0 + Duration::from_millis(i as u64 * 20);
                let parsed = RtpPacket::parse(black_box(datagram));
                if let Ok(p) = parsed {
                    black_box(relay_packet(&mut stream, now, &from, &to, &p, &mut out));
                }
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench_relay);
criterion_main!(benches);
