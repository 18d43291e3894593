//! ITU-T G.711 μ-law and A-law companding, plus direct A-law <-> μ-law transcoding tables.
//!
//! The encoders and decoders follow the reference algorithm of the ITU G.711 recommendation (as
//! published in Sun's public-domain `g711.c`). Decoding goes through 256-entry tables; the bridge
//! transcodes with the two 256-entry tables [`ALAW_TO_ULAW`] and [`ULAW_TO_ALAW`], which are
//! exactly `encode(decode(x))` computed at compile time.

const SIGN_BIT: u8 = 0x80;
const QUANT_MASK: u8 = 0x0f;
const SEG_SHIFT: u8 = 4;
const SEG_MASK: u8 = 0x70;
const ULAW_BIAS: i32 = 0x84;
const ULAW_CLIP: i32 = 8159;

const SEG_UEND: [i32; 8] = [0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF];
const SEG_AEND: [i32; 8] = [0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF];

/// The μ-law byte of digital silence (linear 0).
pub const ULAW_SILENCE: u8 = 0xFF;
/// The A-law byte of digital silence (linear 0).
pub const ALAW_SILENCE: u8 = 0xD5;

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

/// Decodes one μ-law byte to a 16-bit linear sample (computed; prefer [`ulaw_to_linear`]).
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

/// Decodes one A-law byte to a 16-bit linear sample (computed; prefer [`alaw_to_linear`]).
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

const fn build_ulaw_decode() -> [i16; 256] {
    let mut table = [0i16; 256];
    let mut i = 0;
    while i < 256 {
        table[i] = ulaw_to_linear_calc(i as u8);
        i += 1;
    }
    table
}

const fn build_alaw_decode() -> [i16; 256] {
    let mut table = [0i16; 256];
    let mut i = 0;
    while i < 256 {
        table[i] = alaw_to_linear_calc(i as u8);
        i += 1;
    }
    table
}

const ULAW_DECODE: [i16; 256] = build_ulaw_decode();
const ALAW_DECODE: [i16; 256] = build_alaw_decode();

const fn build_alaw_to_ulaw() -> [u8; 256] {
    let mut table = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        table[i] = linear_to_ulaw(ALAW_DECODE[i]);
        i += 1;
    }
    table
}

const fn build_ulaw_to_alaw() -> [u8; 256] {
    let mut table = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        table[i] = linear_to_alaw(ULAW_DECODE[i]);
        i += 1;
    }
    table
}

/// A-law byte -> μ-law byte, equal to `linear_to_ulaw(alaw_to_linear(a))`.
pub const ALAW_TO_ULAW: [u8; 256] = build_alaw_to_ulaw();
/// μ-law byte -> A-law byte, equal to `linear_to_alaw(ulaw_to_linear(u))`.
pub const ULAW_TO_ALAW: [u8; 256] = build_ulaw_to_alaw();

/// Decodes one μ-law byte to a 16-bit linear sample.
#[inline]
pub fn ulaw_to_linear(byte: u8) -> i16 {
    ULAW_DECODE[byte as usize]
}

/// Decodes one A-law byte to a 16-bit linear sample.
#[inline]
pub fn alaw_to_linear(byte: u8) -> i16 {
    ALAW_DECODE[byte as usize]
}

/// Transcodes an A-law payload to μ-law in place.
pub fn alaw_to_ulaw_in_place(payload: &mut [u8]) {
    for b in payload {
        *b = ALAW_TO_ULAW[*b as usize];
    }
}

/// Transcodes a μ-law payload to A-law in place.
pub fn ulaw_to_alaw_in_place(payload: &mut [u8]) {
    for b in payload {
        *b = ULAW_TO_ALAW[*b as usize];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Largest quantisation error allowed for a sample of magnitude `x`: half a step of the
    /// segment the value falls in (steps double per segment; 1/16 of the segment's range).
    fn max_error(x: i32) -> i32 {
        let mag = x.unsigned_abs() as i32;
        // Step sizes in 16-bit units: μ-law 8..256, A-law 16..1024 (plus clipping at the top).
        (mag / 16).max(16)
    }

    #[test]
    fn ulaw_round_trip_error_is_bounded() {
        for x in (i16::MIN as i32..=i16::MAX as i32).step_by(7) {
            let x16 = x as i16;
            let y = ulaw_to_linear(linear_to_ulaw(x16)) as i32;
            let clipped = x.clamp(-32124, 32124);
            assert!(
                (y - clipped).abs() <= max_error(clipped),
                "x={x} y={y} err={}",
                (y - clipped).abs()
            );
        }
    }

    #[test]
    fn alaw_round_trip_error_is_bounded() {
        for x in (i16::MIN as i32..=i16::MAX as i32).step_by(7) {
            let y = alaw_to_linear(linear_to_alaw(x as i16)) as i32;
            let clipped = x.clamp(-32256, 32256);
            assert!(
                (y - clipped).abs() <= max_error(clipped),
                "x={x} y={y} err={}",
                (y - clipped).abs()
            );
        }
    }

    #[test]
    fn every_code_decodes_and_reencodes_to_itself() {
        for b in 0..=255u8 {
            assert_eq!(linear_to_alaw(alaw_to_linear(b)), b, "alaw {b:#x}");
            // μ-law has two zeros (0x7F and 0xFF); both decode to 0 which encodes to 0xFF.
            if b != 0x7F {
                assert_eq!(linear_to_ulaw(ulaw_to_linear(b)), b, "ulaw {b:#x}");
            }
        }
    }

    #[test]
    fn known_values_match_the_itu_tables() {
        assert_eq!(linear_to_ulaw(0), ULAW_SILENCE);
        assert_eq!(linear_to_alaw(0), ALAW_SILENCE);
        assert_eq!(ulaw_to_linear(0x00), -32124);
        assert_eq!(ulaw_to_linear(0x80), 32124);
        assert_eq!(alaw_to_linear(0x55), -8);
        assert_eq!(alaw_to_linear(0xD5), 8);
        assert_eq!(alaw_to_linear(0x2A), -32256);
        assert_eq!(alaw_to_linear(0xAA), 32256);
    }

    #[test]
    fn transcoding_tables_equal_decode_then_encode() {
        for b in 0..=255u8 {
            assert_eq!(ALAW_TO_ULAW[b as usize], linear_to_ulaw(alaw_to_linear(b)));
            assert_eq!(ULAW_TO_ALAW[b as usize], linear_to_alaw(ulaw_to_linear(b)));
        }
    }

    #[test]
    fn transcoding_keeps_the_signal_close() {
        for b in 0..=255u8 {
            let direct = alaw_to_linear(b) as i32;
            let via_ulaw = ulaw_to_linear(ALAW_TO_ULAW[b as usize]) as i32;
            assert!(
                (direct - via_ulaw).abs() <= max_error(direct) * 2,
                "a={b:#x}"
            );
            let direct = ulaw_to_linear(b) as i32;
            let via_alaw = alaw_to_linear(ULAW_TO_ALAW[b as usize]) as i32;
            assert!(
                (direct - via_alaw).abs() <= max_error(direct) * 2,
                "u={b:#x}"
            );
        }
    }

    #[test]
    fn in_place_transcoding_uses_the_tables() {
        let mut payload = [0xD5u8, 0x55, 0x2A];
        alaw_to_ulaw_in_place(&mut payload);
        assert_eq!(
            payload,
            [ALAW_TO_ULAW[0xD5], ALAW_TO_ULAW[0x55], ALAW_TO_ULAW[0x2A]]
        );
        ulaw_to_alaw_in_place(&mut payload);
        assert_eq!(payload[0], ALAW_SILENCE);
    }
}
