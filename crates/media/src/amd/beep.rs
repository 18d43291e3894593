//! The voicemail beep: a steady pure tone between a few hundred Hz and 2 kHz, found with a bank
//! of Goertzel filters over each Hann-windowed 20 ms frame.

use super::config::BeepConfig;
use super::{FRAME_MS, FRAME_SAMPLES, SAMPLE_RATE};

/// Spacing of the filter bank: a quarter of the 50 Hz resolution of a 20 ms frame, so a tone
/// between two filters loses little (about 0.4 dB with the Hann window).
const STEP_HZ: u32 = 25;

/// A beep the detector heard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Beep {
    /// Where the tone started, ms from the start of the audio.
    pub start_ms: u32,
    /// Where it stopped, once it has.
    pub end_ms: Option<u32>,
    /// The tone's frequency (to the filter bank's 25 Hz).
    pub frequency_hz: u32,
}

/// The tonal analysis of one frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Tone {
    /// Index of the strongest filter.
    pub(crate) bin: usize,
    /// Share of the frame's energy in that filter (1.0 for a pure tone on the filter).
    pub(crate) purity: f32,
}

/// Goertzel coefficients and the window, computed once per detector.
#[derive(Debug, Clone)]
pub(crate) struct ToneBank {
    coefficients: Vec<f32>,
    frequencies: Vec<u32>,
    window: [f32; FRAME_SAMPLES],
    /// The filters' two state variables, kept so a frame allocates nothing.
    s1: Vec<f32>,
    s2: Vec<f32>,
}

impl ToneBank {
    /// The bank covering `min_hz..=max_hz` every 25 Hz.
    pub(crate) fn new(min_hz: u32, max_hz: u32) -> ToneBank {
        let max_hz = max_hz.min(SAMPLE_RATE / 2 - STEP_HZ);
        let frequencies: Vec<u32> = (min_hz..=max_hz).step_by(STEP_HZ as usize).collect();
        let coefficients = frequencies
            .iter()
            .map(|&f| 2.0 * (2.0 * std::f32::consts::PI * f as f32 / SAMPLE_RATE as f32).cos())
            .collect();
        let mut window = [0f32; FRAME_SAMPLES];
        for (n, w) in window.iter_mut().enumerate() {
            let phase = 2.0 * std::f32::consts::PI * n as f32 / FRAME_SAMPLES as f32;
            *w = 0.5 - 0.5 * phase.cos();
        }
        let bins = frequencies.len();
        ToneBank {
            coefficients,
            frequencies,
            window,
            s1: vec![0.0; bins],
            s2: vec![0.0; bins],
        }
    }

    /// The frequency of a filter.
    pub(crate) fn frequency(&self, bin: usize) -> u32 {
        self.frequencies.get(bin).copied().unwrap_or(0)
    }

    /// The strongest filter of a frame and the share of the energy it holds.
    pub(crate) fn analyse(&mut self, frame: &[i16; FRAME_SAMPLES]) -> Option<Tone> {
        let mut windowed = [0f32; FRAME_SAMPLES];
        let mut energy = 0f32;
        for ((out, &sample), &w) in windowed.iter_mut().zip(frame).zip(&self.window) {
            *out = f32::from(sample) * w;
            energy += *out * *out;
        }
        if energy <= 0.0 {
            return None;
        }
        // All filters advance together, sample by sample: the inner loop runs across filters,
        // independent of each other, so it vectorises (one filter's recurrence alone cannot).
        let (s1, s2) = (&mut self.s1, &mut self.s2);
        s1.fill(0.0);
        s2.fill(0.0);
        for &x in &windowed {
            for ((a, b), &c) in s1.iter_mut().zip(s2.iter_mut()).zip(&self.coefficients) {
                let s0 = x + c * *a - *b;
                *b = *a;
                *a = s0;
            }
        }
        let mut best = (0usize, 0f32);
        for (bin, ((a, b), &c)) in s1.iter().zip(s2.iter()).zip(&self.coefficients).enumerate() {
            let power = a * a + b * b - c * a * b;
            if power > best.1 {
                best = (bin, power);
            }
        }
        // A pure tone on a filter has |X|^2 = N * energy / 3 with the Hann window.
        let purity = 3.0 * best.1 / (FRAME_SAMPLES as f32 * energy);
        Some(Tone {
            bin: best.0,
            purity,
        })
    }
}

/// Follows tonal frames until one tone has lasted long enough to be the beep.
#[derive(Debug, Clone)]
pub(crate) struct BeepTracker {
    bank: ToneBank,
    min_purity: f32,
    min_frames: u32,
    /// The run of tonal frames in progress: (first frame's start ms, its bin, frames).
    run: Option<(u32, usize, u32)>,
    beep: Option<Beep>,
}

impl BeepTracker {
    /// A tracker for the configured band, purity and duration.
    pub(crate) fn new(config: &BeepConfig) -> BeepTracker {
        BeepTracker {
            bank: ToneBank::new(config.min_hz, config.max_hz),
            min_purity: config.min_purity,
            // A tone of exactly the minimum covers at least this many whole frames.
            min_frames: (config.min_duration_ms / FRAME_MS).max(1),
            run: None,
            beep: None,
        }
    }

    /// The beep heard, if any (the first one).
    pub(crate) fn beep(&self) -> Option<Beep> {
        self.beep
    }

    /// Takes one frame starting at `start_ms`; `loud` says the frame is above the speech level.
    /// Returns true on the frame that confirms the beep.
    pub(crate) fn push(&mut self, start_ms: u32, frame: &[i16; FRAME_SAMPLES], loud: bool) -> bool {
        if let Some(beep) = self.beep {
            if beep.end_ms.is_none() {
                let tone = if loud { self.bank.analyse(frame) } else { None };
                let same = tone.is_some_and(|t| {
                    t.purity >= self.min_purity
                        && self.bank.frequency(t.bin).abs_diff(beep.frequency_hz) <= STEP_HZ
                });
                if !same {
                    self.beep = Some(Beep {
                        end_ms: Some(start_ms),
                        ..beep
                    });
                }
            }
            return false;
        }
        let tone = if loud {
            self.bank
                .analyse(frame)
                .filter(|t| t.purity >= self.min_purity)
        } else {
            None
        };
        self.run = match (tone, self.run) {
            (None, _) => None,
            (Some(t), Some((start, bin, frames))) if t.bin.abs_diff(bin) <= 1 => {
                Some((start, bin, frames + 1))
            }
            (Some(t), _) => Some((start_ms, t.bin, 1)),
        };
        match self.run {
            Some((start, bin, frames)) if frames >= self.min_frames => {
                self.beep = Some(Beep {
                    start_ms: start,
                    end_ms: None,
                    frequency_hz: self.bank.frequency(bin),
                });
                self.run = None;
                true
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(frequency: f32, amplitude: f32, samples: usize, phase: usize) -> Vec<i16> {
        (0..samples)
            .map(|n| {
                let t = (n + phase) as f32 / SAMPLE_RATE as f32;
                (amplitude * (2.0 * std::f32::consts::PI * frequency * t).sin()) as i16
            })
            .collect()
    }

    fn frame(samples: &[i16]) -> [i16; FRAME_SAMPLES] {
        let mut frame = [0i16; FRAME_SAMPLES];
        frame.copy_from_slice(&samples[..FRAME_SAMPLES]);
        frame
    }

    #[test]
    fn a_pure_tone_is_pure_on_and_between_filters() {
        let mut bank = ToneBank::new(400, 2000);
        for frequency in [400.0, 440.0, 1000.0, 1012.5, 1400.0, 1987.0] {
            let t = bank
                .analyse(&frame(&tone(frequency, 8000.0, FRAME_SAMPLES, 17)))
                .expect("energy");
            assert!(t.purity > 0.85, "{frequency} Hz: purity {}", t.purity);
            assert!(
                (bank.frequency(t.bin) as f32 - frequency).abs() <= 12.5,
                "{frequency} Hz found at {}",
                bank.frequency(t.bin)
            );
        }
    }

    #[test]
    fn two_tones_and_noise_are_not_pure() {
        let mut bank = ToneBank::new(400, 2000);
        let a = tone(600.0, 5000.0, FRAME_SAMPLES, 0);
        let b = tone(1300.0, 5000.0, FRAME_SAMPLES, 0);
        let mixed: Vec<i16> = a.iter().zip(&b).map(|(x, y)| x + y).collect();
        let t = bank.analyse(&frame(&mixed)).expect("energy");
        assert!(t.purity < 0.6, "two tones: {}", t.purity);
        let mut seed = 12345u32;
        let noise: Vec<i16> = (0..FRAME_SAMPLES)
            .map(|_| {
                seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                ((seed >> 16) as i16) / 4
            })
            .collect();
        let t = bank.analyse(&frame(&noise)).expect("energy");
        assert!(t.purity < 0.3, "noise: {}", t.purity);
        assert_eq!(bank.analyse(&[0; FRAME_SAMPLES]), None);
    }

    fn run_tracker(samples: &[i16]) -> Option<Beep> {
        let mut tracker = BeepTracker::new(&BeepConfig::default());
        for (i, chunk) in samples.chunks_exact(FRAME_SAMPLES).enumerate() {
            let frame = frame(chunk);
            let loud = super::super::vad::frame_level(&frame) > 256;
            tracker.push(i as u32 * FRAME_MS, &frame, loud);
        }
        tracker.beep()
    }

    #[test]
    fn a_150_ms_tone_is_a_beep_at_any_alignment_and_100_ms_is_not() {
        for offset in [0, 37, 80, 159] {
            let mut samples = vec![0i16; offset + 1600];
            samples.extend(tone(1000.0, 6000.0, 1200, 0));
            samples.resize(offset + 1600 + 1200 + 1600, 0);
            let found = run_tracker(&samples).expect("150 ms beep");
            assert_eq!(found.frequency_hz, 1000);
            let start = (offset as u32 + 1600) / 8;
            assert!(
                found.start_ms.abs_diff(start) <= 20,
                "start {found:?} vs {start}"
            );
            let end = found.end_ms.expect("ended");
            assert!(end.abs_diff(start + 150) <= 40, "end {found:?}");
        }
        let mut samples = vec![0i16; 1600];
        samples.extend(tone(1000.0, 6000.0, 800, 0));
        samples.extend(vec![0i16; 1600]);
        assert_eq!(run_tracker(&samples), None);
    }

    #[test]
    fn tones_outside_the_band_are_not_beeps() {
        let mut samples = tone(300.0, 6000.0, 4000, 0);
        samples.extend(tone(2600.0, 6000.0, 4000, 0));
        assert_eq!(run_tracker(&samples), None);
    }
}
