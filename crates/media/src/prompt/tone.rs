//! Generated call-progress tones (ringback while an agent's phone rings), as prompts to loop.

use super::{Prompt, SAMPLE_RATE};
use std::time::Duration;

fn samples_in(d: Duration) -> usize {
    (d.as_micros() * u128::from(SAMPLE_RATE) / 1_000_000) as usize
}

impl Prompt {
    /// One cadence cycle: the sum of `frequencies` (Hz) for `on`, then silence for `off`;
    /// `amplitude` is the peak of the mixed signal. Play it with `PlayMode::Loop`.
    pub fn tone(frequencies: &[f32], on: Duration, off: Duration, amplitude: i16) -> Prompt {
        let on_samples = samples_in(on);
        let mut samples = Vec::with_capacity(on_samples + samples_in(off));
        let per_tone = if frequencies.is_empty() {
            0.0
        } else {
            f32::from(amplitude) / frequencies.len() as f32
        };
        for n in 0..on_samples {
            let t = n as f32 / SAMPLE_RATE as f32;
            let value: f32 = frequencies
                .iter()
                .map(|f| (2.0 * std::f32::consts::PI * f * t).sin() * per_tone)
                .sum();
            samples.push(value.round() as i16);
        }
        samples.resize(on_samples + samples_in(off), 0);
        Prompt::from_samples(samples)
    }

    /// North American ringback: 440 + 480 Hz, 2 s on, 4 s off.
    pub fn ringback_north_america() -> Prompt {
        Prompt::tone(
            &[440.0, 480.0],
            Duration::from_secs(2),
            Duration::from_secs(4),
            6000,
        )
    }

    /// European (CEPT) ringback: 425 Hz, 1 s on, 4 s off.
    pub fn ringback_europe() -> Prompt {
        Prompt::tone(
            &[425.0],
            Duration::from_secs(1),
            Duration::from_secs(4),
            6000,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ringback_has_the_cadence_and_level() {
        let tone = Prompt::ringback_europe();
        assert_eq!(tone.duration(), Duration::from_secs(5));
        let (on, off) = tone.samples().split_at(8000);
        assert!(off.iter().all(|s| *s == 0));
        let peak = on.iter().map(|s| s.unsigned_abs()).max().unwrap_or(0);
        assert!((5900..=6000).contains(&peak), "peak {peak}");
        // 425 Hz: about 850 zero crossings per second.
        let crossings = on.windows(2).filter(|w| (w[0] < 0) != (w[1] < 0)).count();
        assert!((840..=860).contains(&crossings), "{crossings}");
        let us = Prompt::ringback_north_america();
        assert_eq!(us.duration(), Duration::from_secs(6));
        assert!(us.samples()[..16000]
            .iter()
            .any(|s| s.unsigned_abs() > 3000));
    }
}
