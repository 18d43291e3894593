//! Scenario and property tests of the recorder on virtual time: two sides streaming tones
//! through a simulated network (jitter, loss, reordering, duplicates, a drifting clock).
//!
//! Every packet carries a marker in its first samples: the sender's real send time. Reading the
//! markers back from the recorded channels shows where each packet landed against when it was
//! sent; the two channels are aligned when those offsets agree.

use std::time::{Duration, Instant};

use hotline_recording::{AudioPacket, Codec, Frames, PausedSpan, Recorder, RecorderConfig, Side};
use proptest::prelude::*;

/// SplitMix64: a small seeded generator for the simulated network.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in 0..1.
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

const MAGIC: [u8; 2] = [0x01, 0x81];
const MARKER_LEN: usize = 9;

/// The first samples of a packet: magic, the send time (in samples) as six nibbles, a check.
fn marker(send_sample: u32) -> [u8; MARKER_LEN] {
    let mut m = [0u8; MARKER_LEN];
    m[..2].copy_from_slice(&MAGIC);
    let mut check = 0u8;
    for i in 0..6 {
        let nibble = ((send_sample >> (20 - 4 * i)) & 0xF) as u8;
        check ^= nibble;
        m[2 + i] = 0x10 + nibble;
    }
    m[8] = 0x10 + check;
    m
}

/// Every marker in one channel: (position in the file, send time in samples).
fn markers(channel: &[i16]) -> Vec<(usize, u32)> {
    let magic = MAGIC.map(|b| Codec::Pcmu.decode(b));
    let nibble_of = |s: i16| (0u8..16).find(|n| Codec::Pcmu.decode(0x10 + n) == s);
    let mut found = Vec::new();
    for i in 0..channel.len().saturating_sub(MARKER_LEN) {
        if channel[i] != magic[0] || channel[i + 1] != magic[1] {
            continue;
        }
        let nibbles: Option<Vec<u8>> = channel[i + 2..i + 9]
            .iter()
            .map(|s| nibble_of(*s))
            .collect();
        let Some(n) = nibbles else { continue };
        if n[..6].iter().fold(0, |a, b| a ^ b) != n[6] {
            continue;
        }
        let send = n[..6].iter().fold(0u32, |a, b| (a << 4) | u32::from(*b));
        found.push((i, send));
    }
    found
}

/// A side's sender: a tone, and a sample clock running at `rate` times real time.
struct Sender {
    side: Side,
    ssrc: u32,
    ts0: u32,
    freq: f64,
    rate: f64,
}

/// The simulated network between a sender and the recorder.
#[derive(Debug, Clone, Copy)]
struct Network {
    base_ms: f64,
    jitter_ms: f64,
    loss: f64,
    reorder: f64,
    duplicate: f64,
}

struct Arrival {
    at: Duration,
    side: Side,
    ssrc: u32,
    timestamp: u32,
    payload: Vec<u8>,
}

/// Every packet `sender` sends from real time 0 until `end`, as it arrives.
fn send(sender: &Sender, net: Network, end: Duration, rng: &mut Rng, out: &mut Vec<Arrival>) {
    let period = 0.020 / sender.rate;
    let mut k = 0u32;
    loop {
        let sent = f64::from(k) * period;
        if sent >= end.as_secs_f64() - 0.020 {
            break;
        }
        let mut payload = Vec::with_capacity(160);
        payload.extend_from_slice(&marker((sent * 8000.0).round() as u32));
        for j in MARKER_LEN as u32..160 {
            // The tone follows the sender's own sample clock.
            let n = f64::from(k * 160 + j);
            let x = 6000.0 * (2.0 * std::f64::consts::PI * sender.freq * n / 8000.0).sin();
            payload.push(Codec::Pcmu.encode(x as i16));
        }
        let timestamp = sender.ts0.wrapping_add(k * 160);
        k += 1;
        if rng.unit() < net.loss {
            continue;
        }
        let mut delay = net.base_ms + rng.unit() * net.jitter_ms;
        if rng.unit() < net.reorder {
            delay += 25.0 + rng.unit() * 20.0;
        }
        let copies = if rng.unit() < net.duplicate { 2 } else { 1 };
        for c in 0..copies {
            let extra = if c == 0 { 0.0 } else { rng.unit() * 10.0 };
            out.push(Arrival {
                at: Duration::from_secs_f64(sent + (delay + extra) / 1000.0),
                side: sender.side,
                ssrc: sender.ssrc,
                timestamp,
                payload: payload.clone(),
            });
        }
    }
}

struct Run {
    frames: Vec<[i16; 2]>,
    pauses: Vec<PausedSpan>,
    talk: Duration,
}

/// Two senders for `talk_secs`, the customer's clock exact, the agent's at `agent_rate`; the
/// recorder drains every 20 ms and finishes 50 ms after the senders stop. `pause` is a span of
/// real time during which recording is paused.
fn simulate(
    seed: u64,
    net: Network,
    agent_rate: f64,
    talk_secs: u64,
    pause: Option<(u64, u64)>,
) -> Run {
    simulate_with(
        RecorderConfig::default(),
        seed,
        net,
        agent_rate,
        talk_secs,
        pause,
    )
}

fn simulate_with(
    config: RecorderConfig,
    seed: u64,
    net: Network,
    agent_rate: f64,
    talk_secs: u64,
    pause: Option<(u64, u64)>,
) -> Run {
    let mut rng = Rng(seed);
    let end = Duration::from_secs(talk_secs);
    let customer = Sender {
        side: Side::Customer,
        ssrc: 0x1111,
        ts0: rng.next() as u32,
        freq: 440.0,
        rate: 1.0,
    };
    let agent = Sender {
        side: Side::Agent,
        ssrc: 0x2222,
        ts0: rng.next() as u32,
        freq: 1000.0,
        rate: agent_rate,
    };
    let mut arrivals = Vec::new();
    send(&customer, net, end, &mut rng, &mut arrivals);
    send(&agent, net, end, &mut rng, &mut arrivals);
    arrivals.sort_by_key(|a| a.at);

    let t0 = Instant::now();
    let mut rec = Recorder::new(config, t0);
    let mut out = Frames::default();
    let mut next_drain = Duration::ZERO;
    let mut pause_events: Vec<(Duration, bool)> = pause
        .map(|(a, b)| {
            vec![
                (Duration::from_secs(a), true),
                (Duration::from_secs(b), false),
            ]
        })
        .unwrap_or_default();
    pause_events.reverse();
    let finish_at = end + Duration::from_millis(50);
    for arrival in arrivals.iter().chain(std::iter::once(&Arrival {
        at: finish_at,
        side: Side::Customer,
        ssrc: 0,
        timestamp: 0,
        payload: Vec::new(),
    })) {
        while next_drain <= arrival.at {
            while pause_events.last().is_some_and(|(at, _)| *at <= next_drain) {
                if let Some((at, start)) = pause_events.pop() {
                    if start {
                        assert!(rec.pause(t0 + at));
                    } else {
                        assert!(rec.resume(t0 + at));
                    }
                }
            }
            rec.drain(t0 + next_drain, &mut out);
            next_drain += Duration::from_millis(20);
        }
        if !arrival.payload.is_empty() {
            let packet = AudioPacket {
                ssrc: arrival.ssrc,
                timestamp: arrival.timestamp,
                codec: Codec::Pcmu,
                payload: &arrival.payload,
            };
            rec.handle_packet(t0 + arrival.at, arrival.side, packet);
        }
    }
    let summary = rec.finish(t0 + finish_at, &mut out);
    assert_eq!(summary.frames as usize, out.stereo.len());
    Run {
        frames: out.stereo,
        pauses: summary.pauses,
        talk: finish_at,
    }
}

fn channel(frames: &[[i16; 2]], side: Side) -> Vec<i16> {
    let c = usize::from(side == Side::Agent);
    frames.iter().map(|f| f[c]).collect()
}

/// The largest difference, per second of send time, between where the two sides' packets
/// landed relative to when they were sent (in samples), after the first `settle` seconds.
fn worst_misalignment(frames: &[[i16; 2]], settle: u32) -> (i64, usize) {
    let per_second = |side| {
        let mut buckets: Vec<Option<(i64, i64)>> = vec![None; frames.len() / 8000 + 2];
        let found = markers(&channel(frames, side));
        for (pos, send) in &found {
            let e = *pos as i64 - i64::from(*send);
            let b = &mut buckets[(*send / 8000) as usize];
            *b = Some(b.map_or((e, e), |(lo, hi)| (lo.min(e), hi.max(e))));
        }
        (buckets, found.len())
    };
    let (left, nl) = per_second(Side::Customer);
    let (right, nr) = per_second(Side::Agent);
    let mut worst = 0;
    for (l, r) in left.iter().zip(&right).skip(settle as usize) {
        if let (Some((llo, lhi)), Some((rlo, rhi))) = (l, r) {
            worst = worst.max((lhi - rlo).abs()).max((rhi - llo).abs());
        }
    }
    (worst, nl.min(nr))
}

/// Power of `freq` in `x` (Goertzel), normalised by length.
fn tone_power(x: &[i16], freq: f64) -> f64 {
    let w = 2.0 * std::f64::consts::PI * freq / 8000.0;
    let coeff = 2.0 * w.cos();
    let (mut s1, mut s2) = (0.0, 0.0);
    for &v in x {
        let s = f64::from(v) + coeff * s1 - s2;
        s2 = s1;
        s1 = s;
    }
    (s1 * s1 + s2 * s2 - coeff * s1 * s2) / (x.len() as f64).powi(2)
}

const ROUGH: Network = Network {
    base_ms: 30.0,
    jitter_ms: 15.0,
    loss: 0.02,
    reorder: 0.02,
    duplicate: 0.01,
};

#[test]
fn ten_minutes_with_loss_reordering_duplicates_and_a_drifting_clock_stay_aligned() {
    for agent_rate in [1.001, 0.999] {
        let run = simulate(7, ROUGH, agent_rate, 600, Some((100, 130)));
        let (worst, seen) = worst_misalignment(&run.frames, 2);
        eprintln!("rate {agent_rate}: worst misalignment {worst} samples, {seen} markers");
        assert!(
            worst <= 160,
            "rate {agent_rate}: misaligned by {worst} samples"
        );
        // Markers survive on nearly every packet that arrived (loss and slews cost a few).
        assert!(seen > 25_000, "rate {agent_rate}: only {seen} markers");

        // (b) the file is as long as the talk time, and the audio fills it to the end.
        let talk = (run.talk.as_nanos() / 125_000) as i64;
        assert!((run.frames.len() as i64 - talk).abs() <= 480);
        let last = markers(&channel(&run.frames, Side::Customer))
            .last()
            .map_or(0, |m| m.0);
        assert!(
            (talk - last as i64) < 480 + 160,
            "last marker at {last} of {talk}"
        );

        // (c) the pause is exactly silent in both channels, and listed.
        assert_eq!(
            run.pauses,
            vec![PausedSpan {
                start: 800_000,
                end: 1_040_000
            }]
        );
        assert!(run.frames[800_000..1_040_000].iter().all(|f| *f == [0, 0]));
        assert!(run.frames[790_000..800_000]
            .iter()
            .any(|f| f[0] != 0 && f[1] != 0));
        assert!(run.frames[1_040_000..1_050_000]
            .iter()
            .any(|f| f[0] != 0 && f[1] != 0));

        // The customer is on the left (440 Hz) and the agent on the right (1000 Hz).
        let second = &run.frames[300 * 8000..301 * 8000];
        let (l, r) = (
            channel(second, Side::Customer),
            channel(second, Side::Agent),
        );
        assert!(tone_power(&l, 440.0) > 100.0 * tone_power(&l, 1000.0));
        assert!(tone_power(&r, 1000.0) > 100.0 * tone_power(&r, 440.0));
    }
}

#[test]
fn a_clean_network_places_every_packet_where_it_was_sent() {
    let clean = Network {
        base_ms: 30.0,
        jitter_ms: 0.0,
        loss: 0.0,
        reorder: 0.0,
        duplicate: 0.0,
    };
    let run = simulate(1, clean, 1.0, 20, None);
    for side in [Side::Customer, Side::Agent] {
        let found = markers(&channel(&run.frames, side));
        assert_eq!(found.len(), 999, "{side:?}");
        // Every packet lands 30 ms (240 samples) after it was sent.
        assert!(found
            .iter()
            .all(|(pos, send)| *pos as i64 - i64::from(*send) == 240));
    }
}

#[test]
fn without_slewing_a_drifting_side_wanders_up_to_the_reanchor_threshold() {
    // The check can fail: with re-anchoring at 40 ms alone, the 0.1% clock drifts up to 40 ms
    // (320 samples) from the other side before each correction.
    let mut config = RecorderConfig::default();
    config.placement.slew_step = Duration::ZERO;
    let run = simulate_with(config, 3, ROUGH, 1.001, 120, None);
    let (worst, _) = worst_misalignment(&run.frames, 2);
    assert!((240..=400).contains(&worst), "worst {worst}");
    let run = simulate(3, ROUGH, 1.001, 120, None);
    let (worst, _) = worst_misalignment(&run.frames, 2);
    assert!(worst <= 160, "worst {worst}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(6))]

    /// (a) and (b) over random networks: aligned within one packet (20 ms), and exactly as
    /// long as the talk time.
    #[test]
    fn random_networks_stay_aligned_over_ten_minutes(
        seed in any::<u64>(),
        jitter in 0.0f64..20.0,
        loss in 0.0f64..0.05,
        reorder in 0.0f64..0.05,
        duplicate in 0.0f64..0.03,
        fast in any::<bool>(),
    ) {
        let net = Network { base_ms: 20.0, jitter_ms: jitter, loss, reorder, duplicate };
        let run = simulate(seed, net, if fast { 1.001 } else { 0.999 }, 600, None);
        let (worst, seen) = worst_misalignment(&run.frames, 2);
        prop_assert!(worst <= 160, "misaligned by {} samples", worst);
        prop_assert!(seen > 25_000);
        let talk = (run.talk.as_nanos() / 125_000) as i64;
        prop_assert!((run.frames.len() as i64 - talk).abs() <= 480);
    }
}

/// One step of arbitrary input for the robustness property.
#[derive(Debug, Clone)]
enum Op {
    Packet {
        agent: bool,
        ssrc: u32,
        timestamp: u32,
        alaw: bool,
        len: usize,
        advance_ms: u64,
    },
    Pause(u64),
    Resume(u64),
    Drain(u64),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => (any::<bool>(), 0u32..3, any::<u32>(), any::<bool>(), 0usize..2000, 0u64..400)
            .prop_map(|(agent, ssrc, timestamp, alaw, len, advance_ms)| Op::Packet {
                agent, ssrc, timestamp, alaw, len, advance_ms
            }),
        1 => (0u64..3000).prop_map(Op::Pause),
        1 => (0u64..3000).prop_map(Op::Resume),
        2 => (0u64..5000).prop_map(Op::Drain),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// (d) arbitrary packets (timestamps, SSRCs, payload sizes, pauses, time jumps) never
    /// panic, and the recording is always exactly as long as it ran.
    #[test]
    fn arbitrary_packets_never_panic(ops in proptest::collection::vec(op(), 0..300)) {
        let t0 = Instant::now();
        let mut rec = Recorder::new(RecorderConfig { mono_mix: true, ..RecorderConfig::default() }, t0);
        let mut out = Frames::default();
        let mut now = Duration::ZERO;
        let payload = vec![0x80u8; 2000];
        for op in ops {
            match op {
                Op::Packet { agent, ssrc, timestamp, alaw, len, advance_ms } => {
                    now += Duration::from_millis(advance_ms);
                    let side = if agent { Side::Agent } else { Side::Customer };
                    let codec = if alaw { Codec::Pcma } else { Codec::Pcmu };
                    rec.handle_packet(t0 + now, side, AudioPacket { ssrc, timestamp, codec, payload: &payload[..len] });
                }
                Op::Pause(advance) => { now += Duration::from_millis(advance); rec.pause(t0 + now); }
                Op::Resume(advance) => { now += Duration::from_millis(advance); rec.resume(t0 + now); }
                Op::Drain(advance) => { now += Duration::from_millis(advance); rec.drain(t0 + now, &mut out); }
            }
            prop_assert_eq!(out.stereo.len() as u64, rec.frames_written());
        }
        let summary = rec.finish(t0 + now, &mut out);
        prop_assert_eq!(summary.frames, (now.as_nanos() / 125_000) as u64);
        prop_assert_eq!(out.stereo.len() as u64, summary.frames);
        prop_assert_eq!(out.mono.len(), out.stereo.len());
        for span in &summary.pauses {
            prop_assert!(span.start < span.end && span.end <= summary.frames);
            let (a, b) = (span.start as usize, span.end as usize);
            prop_assert!(out.stereo[a..b].iter().all(|f| *f == [0, 0]));
        }
    }
}
