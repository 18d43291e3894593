//! The bridge hot path (parse, rewrite, transcode, serialise) performs no heap allocation.

use hotline_media::rtp::{RtpHeader, RtpPacket};
use hotline_media::sdp::Codec;
use hotline_media::stream::{relay_packet, LegFormat, OutboundStream};
use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};
use std::alloc::System;
use std::time::{Duration, Instant};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

#[test]
fn relaying_a_packet_allocates_nothing() {
    let from = LegFormat {
        codec: Codec::Pcma,
        codec_pt: 8,
        dtmf_pt: Some(96),
    };
    let to = LegFormat {
        codec: Codec::Pcmu,
        codec_pt: 0,
        dtmf_pt: Some(101),
    };
    let t0 = Instant::now();
    let mut stream = OutboundStream::new(1, 0, 0, t0);
    let mut datagram = [0x55u8; 172];
    let mut out = [0u8; 1500];
    let mut relayed = 0;

    let region = Region::new(GLOBAL);
    for i in 0..1000u16 {
        let header = RtpHeader {
            marker: false,
            payload_type: if i % 50 == 0 { 96 } else { 8 },
            sequence: i,
            timestamp: u32::from(i) * 160,
            ssrc: 0xABCD,
        };
        header.write(&mut datagram);
        let packet = RtpPacket::parse(&datagram).expect("valid packet");
        let now = t0 + Duration::from_millis(u64::from(i) * 20);
        if relay_packet(&mut stream, now, &from, &to, &packet, &mut out).is_some() {
            relayed += 1;
        }
    }
    let change = region.change();

    assert_eq!(relayed, 1000);
    assert_eq!(change.allocations, 0, "{change:?}");
    assert_eq!(change.reallocations, 0, "{change:?}");
}
