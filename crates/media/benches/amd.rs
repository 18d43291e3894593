//! Frames per second of the answering-machine detector: speech-like noise (the voice-activity
//! path and the beep filter bank on every loud frame) and silence (the voice-activity path only).

// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use hotline_media::amd::{AmdConfig, AmdDetector, FRAME_SAMPLES};
use std::hint::black_box;

/// Ten seconds of frames: seeded noise bursts of syllable length with gaps.
fn speech_like() -> Vec<[i16; FRAME_SAMPLES]> {
    let mut seed = 0x2545_f491u32;
    (0..500)
        .map(|i| {
            let loud = (i / 8) % 3 != 2;
            let mut frame = [0i16; FRAME_SAMPLES];
            for s in frame.iter_mut() {
                seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                let peak = if loud { 8000 } else { 200 };
                *s = ((seed >> 16) as i32 % peak) as i16;
            }
            frame
        })
        .collect()
}

fn bench_amd(c: &mut Criterion) {
    let config = AmdConfig::default();
    let mut group = c.benchmark_group("amd");
    let speech = speech_like();
    group.throughput(Throughput::Elements(speech.len() as u64));
    group.bench_function("speech_like_frames", |b| {
        b.iter(|| {
            let mut detector = AmdDetector::new(&config);
            for frame in &speech {
                black_box(detector.push_frame(black_box(frame)));
            }
        })
    });
    let silence = vec![[0i16; FRAME_SAMPLES]; 500];
    group.bench_function("silent_frames", |b| {
        b.iter(|| {
            let mut detector = AmdDetector::new(&config);
            for frame in &silence {
                black_box(detector.push_frame(black_box(frame)));
            }
        })
    });
    group.finish();
}

criterion_group!(benches, bench_amd);
criterion_main!(benches);
