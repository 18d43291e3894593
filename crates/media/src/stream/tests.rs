use super::*;
use crate::g711::{linear_to_alaw, linear_to_ulaw};
use proptest::prelude::*;
use std::time::Duration;

fn ms(t0: Instant, ms: u64) -> Instant {
    t0 + Duration::from_millis(ms)
}

fn incoming(ssrc: u32, seq: u16, ts: u32, pt: u8) -> RtpHeader {
    RtpHeader {
        marker: false,
        payload_type: pt,
        sequence: seq,
        timestamp: ts,
        ssrc,
    }
}

const PCMU: LegFormat = LegFormat {
    codec: Codec::Pcmu,
    codec_pt: 0,
    dtmf_pt: Some(101),
};
const PCMA: LegFormat = LegFormat {
    codec: Codec::Pcma,
    codec_pt: 8,
    dtmf_pt: Some(96),
};

#[test]
fn local_frames_are_contiguous_with_one_marker() {
    let t0 = Instant::now();
    let mut s = OutboundStream::new(42, 65534, 1000, t0);
    let headers: Vec<RtpHeader> = (0..4)
        .map(|i| s.next_local(ms(t0, i * 20), 0, 160))
        .collect();
    assert_eq!(
        headers.iter().map(|h| h.sequence).collect::<Vec<_>>(),
        vec![65534, 65535, 0, 1]
    );
    assert_eq!(
        headers.iter().map(|h| h.timestamp).collect::<Vec<_>>(),
        vec![1000, 1160, 1320, 1480]
    );
    assert_eq!(
        headers.iter().map(|h| h.marker).collect::<Vec<_>>(),
        vec![true, false, false, false]
    );
    assert!(headers.iter().all(|h| h.ssrc == 42));
}

#[test]
fn timestamps_follow_the_clock_across_silence() {
    let t0 = Instant::now();
    let mut s = OutboundStream::new(1, 0, 0, t0);
    for i in 0..10 {
        s.next_local(ms(t0, i * 20), 0, 160);
    }
    s.silence();
    // 2 s of silence after the 10th frame: the next frame is stamped at 2.2 s.
    let h = s.next_local(ms(t0, 2200), 0, 160);
    assert_eq!(h.timestamp, 2200 * 8);
    assert_eq!(h.sequence, 10);
    assert!(h.marker);
}

#[test]
fn a_new_source_never_goes_back_in_time() {
    let t0 = Instant::now();
    let mut s = OutboundStream::new(1, 0, 0, t0);
    // A burst of 5 frames sent at t0 (late ticks catching up) covers 0..800.
    for _ in 0..5 {
        s.next_local(t0, 0, 160);
    }
    s.silence();
    let h = s.next_local(ms(t0, 40), 0, 160);
    assert_eq!(h.timestamp, 800);
}

#[test]
fn stream_is_continuous_across_prompt_bridge_prompt() {
    let t0 = Instant::now();
    let mut s = OutboundStream::new(9, 100, 5000, t0);
    let mut out = Vec::new();
    for i in 0..3 {
        out.push(s.next_local(ms(t0, i * 20), 0, 160));
    }
    // The bridge starts at 60 ms: the other party's stream has its own seq/ts/SSRC.
    for i in 0..3u16 {
        let h = incoming(777, 40000 + i, 90000 + u32::from(i) * 160, 0);
        out.push(
            s.next_relayed(ms(t0, 60 + u64::from(i) * 20), &h, 0, 160)
                .expect("relayed"),
        );
    }
    for i in 0..2 {
        out.push(s.next_local(ms(t0, 120 + i * 20), 0, 160));
    }
    let seqs: Vec<u16> = out.iter().map(|h| h.sequence).collect();
    assert_eq!(seqs, (100..108).collect::<Vec<u16>>());
    let ts: Vec<u32> = out.iter().map(|h| h.timestamp).collect();
    assert_eq!(ts, (0..8).map(|i| 5000 + i * 160).collect::<Vec<u32>>());
    let markers: Vec<bool> = out.iter().map(|h| h.marker).collect();
    assert_eq!(
        markers,
        vec![true, false, false, true, false, false, true, false]
    );
    assert!(out.iter().all(|h| h.ssrc == 9));
}

#[test]
fn relayed_gaps_and_a_new_remote_ssrc_are_handled() {
    let t0 = Instant::now();
    let mut s = OutboundStream::new(9, 0, 0, t0);
    let a = s
        .next_relayed(t0, &incoming(1, 500, 8000, 0), 0, 160)
        .expect("relayed");
    // The remote's own silence suppression (ts jump) and a lost packet pass through.
    let b = s
        .next_relayed(ms(t0, 1000), &incoming(1, 502, 16000, 0), 0, 160)
        .expect("relayed");
    assert_eq!((a.sequence, a.timestamp), (0, 0));
    assert_eq!((b.sequence, b.timestamp), (2, 8000));
    // A late packet from before the relay started is dropped.
    assert_eq!(
        s.next_relayed(ms(t0, 1000), &incoming(1, 498, 7680, 0), 0, 160),
        None
    );
    // The remote restarts with a new SSRC: a new source.
    let c = s
        .next_relayed(ms(t0, 1020), &incoming(2, 7, 3, 0), 0, 160)
        .expect("relayed");
    assert_eq!(c.sequence, 3);
    assert_eq!(c.timestamp, 8160);
    assert!(c.marker);
}

#[test]
fn telephone_events_share_a_timestamp_and_audio_resumes_after_them() {
    let t0 = Instant::now();
    let mut s = OutboundStream::new(3, 0, 0, t0);
    s.next_local(t0, 0, 160);
    let first = s.next_event(ms(t0, 20), 101, true, 160);
    let mid = s.next_event(ms(t0, 40), 101, false, 320);
    let end = s.next_event(ms(t0, 60), 101, false, 480);
    assert_eq!(
        (first.timestamp, mid.timestamp, end.timestamp),
        (160, 160, 160)
    );
    assert_eq!((first.sequence, mid.sequence, end.sequence), (1, 2, 3));
    assert!(first.marker && !mid.marker && !end.marker);
    let audio = s.next_local(ms(t0, 80), 0, 160);
    assert_eq!((audio.sequence, audio.timestamp), (4, 640));
}

#[test]
fn a_long_relay_keeps_flowing_past_sequence_wrap() {
    let t0 = Instant::now();
    let mut s = OutboundStream::new(9, 30000, 0, t0);
    for i in 0..140_000u32 {
        let h = incoming(1, (i % 65536) as u16, i.wrapping_mul(160), 0);
        let out = s.next_relayed(ms(t0, u64::from(i) * 20), &h, 0, 160);
        assert_eq!(
            out.map(|h| h.sequence),
            Some(30000u16.wrapping_add(i as u16)),
            "packet {i}"
        );
    }
    // A reordered packet slightly behind is still relayed, one far behind is not.
    assert!(s
        .next_relayed(t0, &incoming(1, (139_990 % 65536) as u16, 0, 0), 0, 160)
        .is_some());
    assert!(s
        .next_relayed(t0, &incoming(1, (130_000 % 65536) as u16, 0, 0), 0, 160)
        .is_none());
}

fn packet_bytes(h: RtpHeader, payload: &[u8]) -> Vec<u8> {
    let mut buf = vec![0u8; HEADER_LEN + payload.len()];
    h.write_packet(payload, &mut buf).expect("sized");
    buf
}

#[test]
fn relay_transcodes_between_laws() {
    let t0 = Instant::now();
    let mut s = OutboundStream::new(9, 0, 0, t0);
    let payload: Vec<u8> = [0i16, 1000, -1000, 20000]
        .iter()
        .map(|x| linear_to_alaw(*x))
        .collect();
    let bytes = packet_bytes(incoming(1, 1, 1, 8), &payload);
    let packet = RtpPacket::parse(&bytes).expect("valid");
    let mut out = [0u8; 1500];
    let len = relay_packet(&mut s, t0, &PCMA, &PCMU, &packet, &mut out).expect("relayed");
    let relayed = RtpPacket::parse(&out[..len]).expect("valid");
    assert_eq!(relayed.header.payload_type, 0);
    assert_eq!(relayed.header.ssrc, 9);
    let expected: Vec<u8> = payload.iter().map(|a| ALAW_TO_ULAW[*a as usize]).collect();
    assert_eq!(relayed.payload, expected.as_slice());
    assert_eq!(
        relayed.payload[1],
        linear_to_ulaw(crate::g711::alaw_to_linear(payload[1]))
    );
}

#[test]
fn relay_remaps_telephone_events() {
    let t0 = Instant::now();
    let mut s = OutboundStream::new(9, 0, 0, t0);
    let bytes = packet_bytes(incoming(1, 1, 1, 96), &[5, 0x8a, 0, 160]);
    let packet = RtpPacket::parse(&bytes).expect("valid");
    let mut out = [0u8; 1500];
    let len = relay_packet(&mut s, t0, &PCMA, &PCMU, &packet, &mut out).expect("relayed");
    let relayed = RtpPacket::parse(&out[..len]).expect("valid");
    assert_eq!(relayed.header.payload_type, 101);
    assert_eq!(relayed.payload, &[5, 0x8a, 0, 160]);

    let no_dtmf = LegFormat {
        dtmf_pt: None,
        ..PCMU
    };
    assert_eq!(
        relay_packet(&mut s, t0, &PCMA, &no_dtmf, &packet, &mut out),
        None
    );
    // Comfort noise is not relayed.
    let cn = packet_bytes(incoming(1, 2, 1, 13), &[40]);
    let cn = RtpPacket::parse(&cn).expect("valid");
    assert_eq!(relay_packet(&mut s, t0, &PCMA, &PCMU, &cn, &mut out), None);
}

#[derive(Debug, Clone)]
enum Op {
    Local,
    Relay(u32),
    Silence,
    Wait(u16),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        Just(Op::Local),
        (0u32..3).prop_map(Op::Relay),
        Just(Op::Silence),
        (0u16..3000).prop_map(Op::Wait),
    ]
}

proptest! {
    #[test]
    fn seq_is_strictly_plus_one_across_any_switches(
        ops in proptest::collection::vec(op(), 1..300),
        initial_seq in any::<u16>(),
        initial_ts in any::<u32>(),
    ) {
        let t0 = Instant::now();
        let mut now = t0;
        let mut s = OutboundStream::new(5, initial_seq, initial_ts, t0);
        // Each remote source has its own contiguous seq/ts.
        let mut remote = [(1000u16, 50u32), (65530, 4_294_967_000), (7, 7)];
        let mut expected = initial_seq;
        let mut last_ts: Option<u32> = None;
        for op in ops {
            let h = match op {
                Op::Local => Some(s.next_local(now, 0, 160)),
                Op::Relay(i) => {
                    let (seq, ts) = remote[i as usize];
                    remote[i as usize] = (seq.wrapping_add(1), ts.wrapping_add(160));
                    s.next_relayed(now, &incoming(100 + i, seq, ts, 0), 0, 160)
                }
                Op::Silence => { s.silence(); None }
                Op::Wait(d) => { now += Duration::from_millis(u64::from(d)); None }
            };
            if let Some(h) = h {
                prop_assert_eq!(h.sequence, expected);
                expected = expected.wrapping_add(1);
                prop_assert_eq!(h.ssrc, 5);
                if let Some(prev) = last_ts {
                    // Timestamps never go backwards.
                    prop_assert!((h.timestamp.wrapping_sub(prev) as i32) >= 0);
                }
                last_ts = Some(h.timestamp);
            }
        }
    }
}
