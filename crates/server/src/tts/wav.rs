//! espeak-ng's WAV (16-bit mono PCM at 22.05 kHz) into an 8 kHz prompt. Writing to a pipe it
//! cannot seek back to fix the sizes in the header, so the RIFF and data sizes are placeholders
//! (0x7ffff000): the data is whatever follows the data chunk's header.

use hotline_media::prompt::{Prompt, SAMPLE_RATE};
use hotline_media::resample::resample;

use super::TtsError;

/// The WAV in `bytes` resampled to 8 kHz.
pub(super) fn to_prompt(bytes: &[u8]) -> Result<Prompt, TtsError> {
    let (rate, samples) = pcm(bytes)?;
    if samples.is_empty() {
        return Err(TtsError::BadOutput("no audio".into()));
    }
    let samples =
        resample(&samples, rate, SAMPLE_RATE).map_err(|e| TtsError::BadOutput(e.to_string()))?;
    Ok(Prompt::from_samples(samples))
}

/// The sample rate and the samples of a 16-bit mono PCM WAV.
fn pcm(bytes: &[u8]) -> Result<(u32, Vec<i16>), TtsError> {
    let bad = |what: &str| TtsError::BadOutput(what.to_owned());
    if bytes.len() < 12 || &bytes[..4] != b"RIFF" || &bytes[8..12] != b"WAVE" {
        return Err(bad("not a WAV file"));
    }
    let mut at = 12;
    let mut format = None;
    while at + 8 <= bytes.len() {
        let id = &bytes[at..at + 4];
        let size = u32::from_le_bytes([bytes[at + 4], bytes[at + 5], bytes[at + 6], bytes[at + 7]])
            as usize;
        let body = at + 8;
        if id == b"data" {
            let (rate, channels, bits, tag) = format.ok_or_else(|| bad("data before fmt"))?;
            if tag != 1 || channels != 1 || bits != 16 {
                return Err(TtsError::BadOutput(format!(
                    "{channels} channel(s) of {bits}-bit format {tag}, not 16-bit mono PCM"
                )));
            }
            let end = body.saturating_add(size).min(bytes.len());
            let samples = bytes[body..end]
                .chunks_exact(2)
                .map(|pair| i16::from_le_bytes([pair[0], pair[1]]))
                .collect();
            return Ok((rate, samples));
        }
        if id == b"fmt " {
            let fmt = bytes
                .get(body..body + 16)
                .ok_or_else(|| bad("short fmt chunk"))?;
            let tag = u16::from_le_bytes([fmt[0], fmt[1]]);
            let channels = u16::from_le_bytes([fmt[2], fmt[3]]);
            let rate = u32::from_le_bytes([fmt[4], fmt[5], fmt[6], fmt[7]]);
            let bits = u16::from_le_bytes([fmt[14], fmt[15]]);
            format = Some((rate, channels, bits, tag));
        }
        at = body.saturating_add(size).saturating_add(size % 2);
    }
    Err(bad("no data chunk"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A WAV header as espeak-ng writes it to a pipe (placeholder sizes), then `samples`.
    fn streamed_wav(rate: u32, samples: &[i16]) -> Vec<u8> {
        let mut wav = Vec::new();
        wav.extend_from_slice(b"RIFF");
        wav.extend_from_slice(&0x7fff_f024u32.to_le_bytes());
        wav.extend_from_slice(b"WAVEfmt ");
        wav.extend_from_slice(&16u32.to_le_bytes());
        wav.extend_from_slice(&1u16.to_le_bytes());
        wav.extend_from_slice(&1u16.to_le_bytes());
        wav.extend_from_slice(&rate.to_le_bytes());
        wav.extend_from_slice(&(rate * 2).to_le_bytes());
        wav.extend_from_slice(&2u16.to_le_bytes());
        wav.extend_from_slice(&16u16.to_le_bytes());
        wav.extend_from_slice(b"data");
        wav.extend_from_slice(&0x7fff_f000u32.to_le_bytes());
        for s in samples {
            wav.extend_from_slice(&s.to_le_bytes());
        }
        wav
    }

    #[test]
    fn a_streamed_wav_is_read_to_its_end_and_resampled() {
        let samples = vec![1000i16; 22_050];
        let prompt = to_prompt(&streamed_wav(22_050, &samples)).unwrap();
        assert_eq!(prompt.samples().len(), 8_000);
        assert_eq!(prompt.duration().as_millis(), 1_000);
        // A steady level stays that level away from the edges.
        assert!(prompt.samples()[4_000].abs_diff(1000) <= 1);
    }

    #[test]
    fn what_is_not_16_bit_mono_pcm_is_refused() {
        assert!(matches!(to_prompt(b"hello"), Err(TtsError::BadOutput(_))));
        assert!(matches!(to_prompt(b""), Err(TtsError::BadOutput(_))));
        let mut stereo = streamed_wav(22_050, &[0; 4]);
        stereo[22] = 2;
        assert!(
            matches!(to_prompt(&stereo), Err(TtsError::BadOutput(m)) if m.contains("2 channel"))
        );
        assert!(matches!(
            to_prompt(&streamed_wav(22_050, &[])),
            Err(TtsError::BadOutput(m)) if m == "no audio"
        ));
        let header_only = &streamed_wav(22_050, &[])[..30];
        assert!(to_prompt(header_only).is_err());
    }
}
