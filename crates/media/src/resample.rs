//! Sample-rate conversion of linear 16-bit audio, e.g. a speech synthesizer's 22.05 kHz output
//! to the 8 kHz of prompts and G.711.
//!
//! A polyphase windowed-sinc resampler: the rates are reduced to `up / down` (22,050 -> 8,000 is
//! 160 / 441), each output sample is the input convolved with a low-pass filter taken at that
//! output's fractional position. The filter passes the telephone band and stops everything from
//! half the lower rate up (Kaiser window, about 80 dB), so what the output cannot carry is
//! removed instead of folding back as aliases, as plain decimation would.

/// Stopband attenuation the filter is designed for, in dB.
const ATTENUATION_DB: f64 = 80.0;
/// Where the passband ends, as a fraction of the output's Nyquist frequency (3.4 kHz of 4 kHz at
/// 8 kHz: the telephone band).
const PASSBAND: f64 = 0.85;
/// Largest number of phases kept (rates whose reduced ratio needs more are refused).
const MAX_PHASES: u64 = 4_096;

/// Why two rates cannot be converted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ResampleError {
    /// A rate of zero.
    #[error("a sample rate of 0 Hz")]
    ZeroRate,
    /// The rates' ratio reduces to too many filter phases (e.g. 44,101 Hz).
    #[error("cannot convert {from} Hz to {to} Hz: their ratio needs too many filter phases")]
    Ratio {
        /// The input rate.
        from: u32,
        /// The output rate.
        to: u32,
    },
}

/// A converter from one sample rate to another, its filter computed once.
#[derive(Debug, Clone)]
pub struct Resampler {
    /// Output samples per `down` input samples.
    up: u64,
    /// Input samples per `up` output samples.
    down: u64,
    /// Taps per phase (the filter's span in input samples).
    taps: usize,
    /// `up` phases of `taps` coefficients; phase `p` is for an output falling `p / up` of the way
    /// between two input samples.
    phases: Vec<f32>,
}

impl Resampler {
    /// A converter from `from` Hz to `to` Hz.
    pub fn new(from: u32, to: u32) -> Result<Resampler, ResampleError> {
        if from == 0 || to == 0 {
            return Err(ResampleError::ZeroRate);
        }
        let g = gcd(u64::from(from), u64::from(to));
        let (up, down) = (u64::from(to) / g, u64::from(from) / g);
        if up > MAX_PHASES {
            return Err(ResampleError::Ratio { from, to });
        }
        let from_hz = f64::from(from);
        let nyquist = f64::from(from.min(to)) / 2.0;
        let (pass, stop) = (nyquist * PASSBAND, nyquist);
        let cutoff = (pass + stop) / 2.0 / from_hz; // cycles per input sample
        let transition = (stop - pass) / from_hz;
        // Kaiser's estimates of the length and shape for the attenuation and transition width.
        let length = (ATTENUATION_DB - 7.95) / (2.285 * 2.0 * std::f64::consts::PI * transition);
        let half = (length / 2.0).ceil().max(1.0) as usize;
        let taps = 2 * half;
        let beta = 0.1102 * (ATTENUATION_DB - 8.7);
        let norm = bessel_i0(beta);
        let mut phases = Vec::with_capacity(taps * up as usize);
        for phase in 0..up {
            let frac = phase as f64 / up as f64;
            let start = phases.len();
            for i in 0..taps {
                // Distance from the output's position to input tap i (tap half-1 is the input
                // sample just before or at it).
                let d = frac + (half as f64 - 1.0) - i as f64;
                let x = d / half as f64;
                let window = if x.abs() >= 1.0 {
                    0.0
                } else {
                    bessel_i0(beta * (1.0 - x * x).sqrt()) / norm
                };
                phases.push((2.0 * cutoff * sinc(2.0 * cutoff * d) * window) as f32);
            }
            // Each phase passes DC at exactly unit gain, so no phase is louder than another.
            let sum: f32 = phases[start..].iter().sum();
            if sum.abs() > f32::EPSILON {
                for c in &mut phases[start..] {
                    *c /= sum;
                }
            }
        }
        Ok(Resampler {
            up,
            down,
            taps,
            phases,
        })
    }

    /// `input` converted: as long in time (rounded up to a whole output sample).
    pub fn process(&self, input: &[i16]) -> Vec<i16> {
        if self.up == self.down {
            return input.to_vec();
        }
        let count = (input.len() as u64 * self.up).div_ceil(self.down);
        let half = self.taps / 2;
        let mut out = Vec::with_capacity(usize::try_from(count).unwrap_or(0));
        for n in 0..count {
            let position = n * self.down;
            let (base, phase) = (position / self.up, position % self.up);
            let coefficients =
                &self.phases[phase as usize * self.taps..(phase as usize + 1) * self.taps];
            // Input index of tap 0; taps outside the input read silence.
            let first = base as i64 - (half as i64 - 1);
            let mut acc = 0.0f32;
            for (i, c) in coefficients.iter().enumerate() {
                let k = first + i as i64;
                if let Some(sample) = usize::try_from(k).ok().and_then(|k| input.get(k)) {
                    acc += f32::from(*sample) * c;
                }
            }
            out.push(acc.round().clamp(f32::from(i16::MIN), f32::from(i16::MAX)) as i16);
        }
        out
    }
}

/// Converts `input` from `from` Hz to `to` Hz (see [`Resampler`]).
pub fn resample(input: &[i16], from: u32, to: u32) -> Result<Vec<i16>, ResampleError> {
    Ok(Resampler::new(from, to)?.process(input))
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

fn sinc(x: f64) -> f64 {
    if x.abs() < 1e-12 {
        1.0
    } else {
        let px = std::f64::consts::PI * x;
        px.sin() / px
    }
}

/// The modified Bessel function of the first kind, order 0 (its power series).
fn bessel_i0(x: f64) -> f64 {
    let mut sum = 1.0;
    let mut term = 1.0;
    let half = x / 2.0;
    for k in 1..64 {
        term *= half / k as f64;
        let add = term * term;
        sum += add;
        if add < sum * 1e-16 {
            break;
        }
    }
    sum
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(frequency: f64, rate: u32, seconds: f64, amplitude: f64) -> Vec<i16> {
        let n = (f64::from(rate) * seconds) as usize;
        (0..n)
            .map(|i| {
                let t = i as f64 / f64::from(rate);
                (amplitude * (2.0 * std::f64::consts::PI * frequency * t).sin()).round() as i16
            })
            .collect()
    }

    /// RMS of the middle of a signal (the filter's edges left out).
    fn rms(samples: &[i16]) -> f64 {
        let edge = samples.len() / 10;
        let middle = &samples[edge..samples.len() - edge];
        let sum: f64 = middle.iter().map(|s| f64::from(*s).powi(2)).sum();
        (sum / middle.len() as f64).sqrt()
    }

    /// The amplitude of `frequency` in `samples` at `rate` (a single-bin DFT of the middle).
    fn level_at(samples: &[i16], rate: u32, frequency: f64) -> f64 {
        let edge = samples.len() / 10;
        let middle = &samples[edge..samples.len() - edge];
        let (mut re, mut im) = (0.0, 0.0);
        for (i, s) in middle.iter().enumerate() {
            let phase = 2.0 * std::f64::consts::PI * frequency * i as f64 / f64::from(rate);
            re += f64::from(*s) * phase.cos();
            im += f64::from(*s) * phase.sin();
        }
        2.0 * (re * re + im * im).sqrt() / middle.len() as f64
    }

    fn db(ratio: f64) -> f64 {
        20.0 * ratio.log10()
    }

    #[test]
    fn a_1khz_tone_keeps_its_frequency_and_level_from_22050_to_8000() {
        let input = tone(1000.0, 22_050, 1.0, 10_000.0);
        let output = resample(&input, 22_050, 8_000).unwrap();
        assert_eq!(output.len(), 8_000);
        let gain = db(rms(&output) / rms(&input));
        assert!(gain.abs() < 0.1, "level changed by {gain:.3} dB");
        // The energy is at 1 kHz: its amplitude there is the tone's.
        let at_1k = level_at(&output, 8_000, 1000.0);
        assert!(
            (at_1k - 10_000.0).abs() < 150.0,
            "1 kHz amplitude {at_1k:.0}"
        );
        let elsewhere = level_at(&output, 8_000, 1500.0);
        assert!(elsewhere < 30.0, "1.5 kHz amplitude {elsewhere:.0}");
    }

    #[test]
    fn a_6khz_tone_is_filtered_out_instead_of_folding_back_to_2khz() {
        let input = tone(6000.0, 22_050, 1.0, 10_000.0);
        let output = resample(&input, 22_050, 8_000).unwrap();
        let attenuation = db(rms(&output).max(0.5) / rms(&input));
        assert!(attenuation < -60.0, "6 kHz only {attenuation:.1} dB down");
        // Plain decimation would put it at 8000 - 6000 = 2000 Hz.
        let alias = level_at(&output, 8_000, 2000.0);
        assert!(alias < 10.0, "alias at 2 kHz: amplitude {alias:.1}");
    }

    #[test]
    fn the_telephone_band_passes_flat() {
        for frequency in [300.0, 2000.0, 3300.0] {
            let input = tone(frequency, 22_050, 1.0, 10_000.0);
            let output = resample(&input, 22_050, 8_000).unwrap();
            let gain = db(rms(&output) / rms(&input));
            assert!(gain.abs() < 0.5, "{frequency} Hz: {gain:.2} dB");
        }
    }

    #[test]
    fn other_ratios_and_equal_rates() {
        let input = tone(440.0, 16_000, 0.5, 8_000.0);
        let output = resample(&input, 16_000, 8_000).unwrap();
        assert_eq!(output.len(), 4_000);
        assert!(db(rms(&output) / rms(&input)).abs() < 0.1);
        assert_eq!(resample(&input, 8_000, 8_000).unwrap(), input);
        assert_eq!(resample(&[], 22_050, 8_000).unwrap(), Vec::<i16>::new());
        assert_eq!(
            Resampler::new(0, 8_000).unwrap_err(),
            ResampleError::ZeroRate
        );
        assert!(matches!(
            Resampler::new(44_101, 8_000),
            Err(ResampleError::Ratio { .. })
        ));
    }

    #[test]
    fn full_scale_input_does_not_wrap() {
        let square: Vec<i16> = (0..22_050)
            .map(|i| {
                if (i / 50) % 2 == 0 {
                    i16::MAX
                } else {
                    i16::MIN
                }
            })
            .collect();
        let output = resample(&square, 22_050, 8_000).unwrap();
        // Gibbs overshoot is clipped, never wrapped to the opposite sign mid-plateau.
        let edge = output.len() / 10;
        assert!(output[edge..output.len() - edge]
            .windows(2)
            .all(|w| (i32::from(w[0]) - i32::from(w[1])).abs() < 60_000));
    }
}
