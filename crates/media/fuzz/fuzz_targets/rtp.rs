//! RTP parsing, telephone-event detection and the relay rewrite never panic.
#![no_main]

use hotline_media::dtmf::DtmfDetector;
use hotline_media::rtp::RtpPacket;
use hotline_media::sdp::Codec;
use hotline_media::stream::{relay_packet, LegFormat, OutboundStream};
use libfuzzer_sys::fuzz_target;
use std::time::Instant;

fuzz_target!(|data: &[u8]| {
    let Ok(packet) = RtpPacket::parse(data) else {
        return;
    };
    let _ = DtmfDetector::new().on_packet(packet.header.ssrc, packet.header.timestamp, packet.payload);
    let from = LegFormat { codec: Codec::Pcma, codec_pt: 8, dtmf_pt: Some(96) };
    let to = LegFormat { codec: Codec::Pcmu, codec_pt: 0, dtmf_pt: Some(101) };
    let now = Instant::now();
    let mut stream = OutboundStream::new(1, 0, 0, now);
    let mut out = [0u8; 2048];
    let _ = relay_packet(&mut stream, now, &from, &to, &packet, &mut out);
});
