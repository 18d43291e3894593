//! Sample-level tools for the synthetic set: silence, tones, levels, noise, G.711.

use hotline_media::g711;

/// The detector's rate.
pub const SAMPLE_RATE: u32 = 8000;

/// A small seeded generator (SplitMix64): the set is the same on every run and machine.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    /// Uniform in `(0, 1]`.
    pub fn unit(&mut self) -> f64 {
        ((self.next() >> 11) as f64 + 1.0) / (1u64 << 53) as f64
    }

    /// Standard normal (Box-Muller).
    pub fn gaussian(&mut self) -> f64 {
        let (u, v) = (self.unit(), self.unit());
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }
}

/// Samples in `ms` milliseconds.
pub fn samples(ms: u32) -> usize {
    (ms * SAMPLE_RATE / 1000) as usize
}

/// Milliseconds of `len` samples.
pub fn ms(len: usize) -> u32 {
    (len as u64 * 1000 / u64::from(SAMPLE_RATE)) as u32
}

/// Digital silence.
pub fn silence(ms: u32) -> Vec<i16> {
    vec![0; samples(ms)]
}

/// A sine tone with 5 ms ramps, as voicemail beeps are.
pub fn tone(frequency: f32, ms: u32, amplitude: f32) -> Vec<i16> {
    let len = samples(ms);
    let ramp = samples(5);
    (0..len)
        .map(|n| {
            let edge = n.min(len - 1 - n).min(ramp) as f32 / ramp as f32;
            let t = n as f32 / SAMPLE_RATE as f32;
            (edge * amplitude * (2.0 * std::f32::consts::PI * frequency * t).sin()) as i16
        })
        .collect()
}

/// Drops leading and trailing samples quieter than `threshold`.
pub fn trim(samples: &[i16], threshold: i16) -> Vec<i16> {
    let loud = |s: &i16| s.unsigned_abs() > threshold.unsigned_abs();
    match (
        samples.iter().position(loud),
        samples.iter().rposition(loud),
    ) {
        (Some(first), Some(last)) => samples[first..=last].to_vec(),
        _ => Vec::new(),
    }
}

/// Scales so the RMS of the active 20 ms frames (within 30 dB of the loudest) is `dbfs`.
pub fn set_active_level(track: &mut [i16], dbfs: f32) {
    let powers: Vec<f64> = track
        .chunks(160)
        .map(|c| c.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>() / c.len() as f64)
        .collect();
    let loudest = powers.iter().copied().fold(0.0, f64::max);
    let active: Vec<f64> = powers
        .into_iter()
        .filter(|&p| p > loudest / 1000.0)
        .collect();
    if active.is_empty() {
        return;
    }
    let rms = (active.iter().sum::<f64>() / active.len() as f64).sqrt();
    let target = 32768.0 * 10f64.powf(f64::from(dbfs) / 20.0);
    let gain = target / rms;
    for s in track.iter_mut() {
        *s = (f64::from(*s) * gain).round().clamp(-32768.0, 32767.0) as i16;
    }
}

/// Adds line noise (white and low-frequency rumble, half the power each) at `dbfs` RMS.
pub fn add_noise(track: &mut [i16], dbfs: f32, rng: &mut Rng) {
    let target = 32768.0 * 10f64.powf(f64::from(dbfs) / 20.0);
    let mut low = 0.0;
    // One-pole low-pass at about 200 Hz; its output power for unit white input is
    // (1 - a) / (1 + a).
    let a: f64 = 0.85;
    let low_gain = ((1.0 + a) / (1.0 - a)).sqrt();
    for s in track.iter_mut() {
        low = a * low + (1.0 - a) * rng.gaussian();
        let noise = (rng.gaussian() + low * low_gain) * std::f64::consts::FRAC_1_SQRT_2 * target;
        *s = (f64::from(*s) + noise).round().clamp(-32768.0, 32767.0) as i16;
    }
}

/// Encodes to μ-law or A-law and back, as the RTP leg hands audio to the detector.
pub fn g711_round_trip(track: &mut [i16], ulaw: bool) {
    for s in track.iter_mut() {
        *s = if ulaw {
            g711::ulaw_to_linear(g711::linear_to_ulaw(*s))
        } else {
            g711::alaw_to_linear(g711::linear_to_alaw(*s))
        };
    }
}
