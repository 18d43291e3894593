//! Per-packet cost of recording: placing a G.711 packet by its RTP timestamp, handing out the
//! frames past the jitter horizon, and encoding them into the WAV writer.
//!
//! Two sides stream 20 ms packets with 1% loss and an occasional reordered packet; every 100 ms
//! of virtual time the recorder is drained and its frames written (as the writer task does). The
//! WAV goes to a discarding sink, so the figure is CPU per packet, not disk throughput.

// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

use std::hint::black_box;
use std::io::{self, Seek, SeekFrom, Write};
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use hotline_recording::wav::WavWriter;
use hotline_recording::{AudioPacket, Codec, Frames, Recorder, RecorderConfig, Side};

/// A `Write + Seek` that keeps nothing, so the bench measures the encoding, not the disk.
#[derive(Default)]
struct Discard {
    pos: u64,
    len: u64,
}

impl Write for Discard {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.pos += buf.len() as u64;
        self.len = self.len.max(self.pos);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Seek for Discard {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        self.pos = match to {
            SeekFrom::Start(p) => p,
            SeekFrom::End(d) => self.len.saturating_add_signed(d),
            SeekFrom::Current(d) => self.pos.saturating_add_signed(d),
        };
        Ok(self.pos)
    }
}

struct Call {
    rec: Recorder,
    wav: WavWriter<Discard>,
    mono: Option<WavWriter<Discard>>,
    frames: Frames,
    t0: Instant,
    packet: u64,
    payload: [u8; 160],
}

impl Call {
    fn new(mono: bool) -> Self {
        let t0 = Instant::now();
        let config = RecorderConfig {
            mono_mix: mono,
            ..RecorderConfig::default()
        };
        let payload: Vec<u8> = (0..160u32)
            .map(|i| Codec::Pcmu.encode(((i as f64 * 0.35).sin() * 6000.0) as i16))
            .collect();
        Call {
            rec: Recorder::new(config, t0),
            wav: WavWriter::new(Discard::default(), 2).expect("the discarding sink never fails"),
            mono: mono.then(|| WavWriter::new(Discard::default(), 1).expect("never fails")),
            frames: Frames::default(),
            t0,
            packet: 0,
            payload: payload.try_into().expect("160 bytes"),
        }
    }

    /// One packet of one side (the sides alternate); drains and writes every 100 ms.
    fn step(&mut self) {
        let n = self.packet;
        self.packet += 1;
        let round = n / 2;
        let side = if n.is_multiple_of(2) {
            Side::Customer
        } else {
            Side::Agent
        };
        // 1% loss; every 50th packet arrives one packet late (reordered).
        if round % 100 == 37 {
            return;
        }
        let seq = if round % 50 == 10 {
            round.saturating_sub(1)
        } else {
            round
        };
        let now = self.t0 + Duration::from_millis(20 * round + 25);
        let packet = AudioPacket {
            ssrc: 0x1000 + (n % 2) as u32,
            timestamp: (seq * 160) as u32,
            codec: Codec::Pcmu,
            payload: &self.payload,
        };
        black_box(self.rec.handle_packet(now, side, packet));
        if n % 10 == 9 {
            self.rec.drain(now, &mut self.frames);
            self.wav
                .write_stereo(&self.frames.stereo)
                .expect("never fails");
            if let Some(mono) = self.mono.as_mut() {
                mono.write_samples(&self.frames.mono).expect("never fails");
            }
            self.frames.clear();
            if n % 500 == 499 {
                // The writer refreshes the header about every 5 s of audio.
                self.wav.update_header().expect("never fails");
            }
            // Stay within the 4 GiB a WAV can hold over a long measurement.
            if self.wav.frames() > 100_000_000 {
                *self = Call::new(self.mono.is_some());
            }
        }
    }
}

fn bench_recording(c: &mut Criterion) {
    let mut group = c.benchmark_group("recording");
    group.throughput(Throughput::Elements(1));
    for (name, mono) in [
        ("place_and_write_stereo", false),
        ("place_and_write_stereo_and_mono", true),
    ] {
        let mut call = Call::new(mono);
        group.bench_function(name, |b| b.iter(|| call.step()));
    }
    group.finish();
}

criterion_group!(benches, bench_recording);
criterion_main!(benches);
