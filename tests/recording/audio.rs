//! Reading the recorded audio: tone power (Goertzel), sound onsets, channels and file hashes.

use sha2::{Digest, Sha256};

/// The power of `freq` in `samples` (Goertzel).
pub fn goertzel(samples: &[i16], freq: f64) -> f64 {
    let w = 2.0 * std::f64::consts::PI * freq / 8000.0;
    let coeff = 2.0 * w.cos();
    let (mut s1, mut s2) = (0.0f64, 0.0f64);
    for &x in samples {
        let s0 = f64::from(x) + coeff * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    s1 * s1 + s2 * s2 - coeff * s1 * s2
}

/// SHA-256 of `bytes`, lowercase hex (as sidecars and events give it).
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Where sound starts after at least 100 ms of quiet, in samples (10 ms frames).
pub fn onsets(channel: &[i16]) -> Vec<usize> {
    let mut found = Vec::new();
    let mut quiet = 0;
    for (k, frame) in channel.chunks(80).enumerate() {
        let power = frame.iter().map(|s| f64::from(*s).powi(2)).sum::<f64>() / 80.0;
        if power.sqrt() > 1000.0 {
            if quiet >= 10 {
                found.push(k * 80);
            }
            quiet = 0;
        } else {
            quiet += 1;
        }
    }
    found
}

/// The left (customer) and right (agent) channels of interleaved stereo samples.
pub fn split_stereo(samples: &[i16]) -> (Vec<i16>, Vec<i16>) {
    let left = samples.iter().step_by(2).copied().collect();
    let right = samples.iter().skip(1).step_by(2).copied().collect();
    (left, right)
}
