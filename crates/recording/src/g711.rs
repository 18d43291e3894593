//! ITU-T G.711 μ-law and A-law decoding (and encoding, for generating test signals).
//!
//! The algorithm is the reference one of the G.711 recommendation (Sun's public-domain
//! `g711.c`), the same as `hotline-media`'s; it is repeated here so that this crate stays free of
//! the media crate's tokio dependency. Decoding goes through 256-entry tables built at compile
//! time.

use serde::{Deserialize, Serialize};

const SIGN_BIT: u8 = 0x80;
const QUANT_MASK: u8 = 0x0f;
const SEG_SHIFT: u8 = 4;
const SEG_MASK: u8 = 0x70;
const ULAW_BIAS: i32 = 0x84;
const ULAW_CLIP: i32 = 8159;

const SEG_UEND: [i32; 8] = [0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF];
const SEG_AEND: [i32; 8] = [0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF];

/// The G.711 law of an RTP payload (static payload types 0 and 8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Codec {
    /// μ-law, RTP payload type 0.
    Pcmu,
    /// A-law, RTP payload type 8.
    Pcma,
}

impl Codec {
    /// The codec of a static RTP payload type, if it is G.711.
    pub fn from_payload_type(pt: u8) -> Option<Codec> {
        match pt {
            0 => Some(Codec::Pcmu),
            8 => Some(Codec::Pcma),
            _ => None,
        }
    }

    /// The 256-entry table decoding one byte of this law to a linear sample.
    #[inline]
    pub fn table(self) -> &'static [i16; 256] {
        match self {
            Codec::Pcmu => &ULAW_DECODE,
            Codec::Pcma => &ALAW_DECODE,
        }
    }

    /// Decodes one byte of this law to a 16-bit linear sample.
    #[inline]
    pub fn decode(self, byte: u8) -> i16 {
        self.table()[usize::from(byte)]
    }

    /// Encodes one 16-bit linear sample to a byte of this law.
    pub fn encode(self, sample: i16) -> u8 {
        match self {
            Codec::Pcmu => linear_to_ulaw(sample),
            Codec::Pcma => linear_to_alaw(sample),
        }
    }
}

const fn segment(value: i32, table: &[i32; 8]) -> usize {
    let mut i = 0;
    while i < 8 {
        if value <= table[i] {
            return i;
        }
        i += 1;
    }
    8
}

/// Encodes one 16-bit linear sample to μ-law.
pub const fn linear_to_ulaw(sample: i16) -> u8 {
    let mut pcm = (sample as i32) >> 2;
    let mask: u8 = if pcm < 0 {
        pcm = -pcm;
        0x7F
    } else {
        0xFF
    };
    if pcm > ULAW_CLIP {
        pcm = ULAW_CLIP;
    }
    pcm += ULAW_BIAS >> 2;
    let seg = segment(pcm, &SEG_UEND);
    if seg >= 8 {
        return 0x7F ^ mask;
    }
    let uval = ((seg as u8) << 4) | (((pcm >> (seg + 1)) as u8) & QUANT_MASK);
    uval ^ mask
}

/// Encodes one 16-bit linear sample to A-law.
pub const fn linear_to_alaw(sample: i16) -> u8 {
    let mut pcm = (sample as i32) >> 3;
    let mask: u8 = if pcm >= 0 {
        0xD5
    } else {
        pcm = -pcm - 1;
        0x55
    };
    let seg = segment(pcm, &SEG_AEND);
    if seg >= 8 {
        return 0x7F ^ mask;
    }
    let mut aval = (seg as u8) << SEG_SHIFT;
    if seg < 2 {
        aval |= ((pcm >> 1) as u8) & QUANT_MASK;
    } else {
        aval |= ((pcm >> seg) as u8) & QUANT_MASK;
    }
    aval ^ mask
}

const fn ulaw_to_linear_calc(byte: u8) -> i16 {
    let u = !byte;
    let mut t: i32 = (((u & QUANT_MASK) as i32) << 3) + ULAW_BIAS;
    t <<= ((u & SEG_MASK) >> SEG_SHIFT) as i32;
    if u & SIGN_BIT != 0 {
        (ULAW_BIAS - t) as i16
    } else {
        (t - ULAW_BIAS) as i16
    }
}

const fn alaw_to_linear_calc(byte: u8) -> i16 {
    let a = byte ^ 0x55;
    let mut t: i32 = ((a & QUANT_MASK) as i32) << 4;
    let seg = ((a & SEG_MASK) >> SEG_SHIFT) as i32;
    match seg {
        0 => t += 8,
        1 => t += 0x108,
        _ => {
            t += 0x108;
            t <<= seg - 1;
        }
    }
    if a & SIGN_BIT != 0 {
        t as i16
    } else {
        -t as i16
    }
}

const fn build_table(alaw: bool) -> [i16; 256] {
    let mut table = [0i16; 256];
    let mut i = 0;
    while i < 256 {
        table[i] = if alaw {
            alaw_to_linear_calc(i as u8)
        } else {
            ulaw_to_linear_calc(i as u8)
        };
        i += 1;
    }
    table
}

const ULAW_DECODE: [i16; 256] = build_table(false);
const ALAW_DECODE: [i16; 256] = build_table(true);

/// Decodes one μ-law byte to a 16-bit linear sample.
#[inline]
pub fn ulaw_to_linear(byte: u8) -> i16 {
    ULAW_DECODE[usize::from(byte)]
}

/// Decodes one A-law byte to a 16-bit linear sample.
#[inline]
pub fn alaw_to_linear(byte: u8) -> i16 {
    ALAW_DECODE[usize::from(byte)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values_match_the_itu_tables() {
        // μ-law: 0xFF and 0x7F are the two zeros; 0x00/0x80 the extremes.
        assert_eq!(ulaw_to_linear(0xFF), 0);
        assert_eq!(ulaw_to_linear(0x7F), 0);
        assert_eq!(ulaw_to_linear(0x00), -32124);
        assert_eq!(ulaw_to_linear(0x80), 32124);
        assert_eq!(ulaw_to_linear(0xFE), 8);
        assert_eq!(ulaw_to_linear(0xF0), 120);
        assert_eq!(ulaw_to_linear(0xEF), 132);
        assert_eq!(ulaw_to_linear(0x70), -120);
        // A-law: 0xD5/0x55 the smallest magnitudes, 0xAA/0x2A the extremes.
        assert_eq!(alaw_to_linear(0xD5), 8);
        assert_eq!(alaw_to_linear(0x55), -8);
        assert_eq!(alaw_to_linear(0xAA), 32256);
        assert_eq!(alaw_to_linear(0x2A), -32256);
        assert_eq!(alaw_to_linear(0xC5), 264);
    }

    #[test]
    fn every_code_reencodes_to_itself() {
        for b in 0..=255u8 {
            assert_eq!(linear_to_alaw(alaw_to_linear(b)), b, "alaw {b:#x}");
            // μ-law has two zeros (0x7F and 0xFF); both decode to 0, which encodes to 0xFF.
            if b != 0x7F {
                assert_eq!(linear_to_ulaw(ulaw_to_linear(b)), b, "ulaw {b:#x}");
            }
        }
    }

    #[test]
    fn round_trip_error_is_within_half_a_step() {
        for x in (i16::MIN..=i16::MAX).step_by(13) {
            let mag = i32::from(x).abs();
            let bound = (mag / 16).max(16);
            let u = i32::from(ulaw_to_linear(linear_to_ulaw(x)));
            assert!(
                (u - i32::from(x).clamp(-32124, 32124)).abs() <= bound,
                "ulaw {x}"
            );
            let a = i32::from(alaw_to_linear(linear_to_alaw(x)));
            assert!(
                (a - i32::from(x).clamp(-32256, 32256)).abs() <= bound,
                "alaw {x}"
            );
        }
    }

    #[test]
    fn codec_dispatches_to_its_law() {
        assert_eq!(Codec::from_payload_type(0), Some(Codec::Pcmu));
        assert_eq!(Codec::from_payload_type(8), Some(Codec::Pcma));
        assert_eq!(Codec::from_payload_type(9), None);
        assert_eq!(Codec::Pcmu.decode(0x80), 32124);
        assert_eq!(Codec::Pcma.decode(0xAA), 32256);
        assert_eq!(Codec::Pcma.encode(0), 0xD5);
        assert_eq!(Codec::Pcmu.encode(0), 0xFF);
    }
}
