//! Audio prompts: 8 kHz mono 16-bit WAV files kept as linear samples, and a player that cuts
//! them into 20 ms frames encoded in a leg's codec (once, or looping for music on hold).

mod library;
mod tone;

pub use library::{LibraryError, PromptLibrary};

use crate::g711::{linear_to_alaw, linear_to_ulaw, ALAW_SILENCE, ULAW_SILENCE};
use crate::sdp::Codec;
use std::io::Read;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use thiserror::Error;

/// Samples per 20 ms frame at 8 kHz.
pub const FRAME_SAMPLES: usize = 160;
/// Sample rate of prompts and of G.711.
pub const SAMPLE_RATE: u32 = 8000;

/// Why a prompt could not be loaded.
#[derive(Debug, Error)]
pub enum PromptError {
    /// The file could not be read or is not a valid WAV file.
    #[error("cannot read WAV: {0}")]
    Wav(#[from] hound::Error),
    /// The WAV is valid but not 8 kHz mono 16-bit PCM.
    #[error(
        "unsupported WAV format: {sample_rate} Hz, {channels} channel(s), {bits} bits {format}; \
         prompts must be 8000 Hz mono 16-bit PCM (e.g. `sox in.wav -r 8000 -c 1 -b 16 out.wav`)"
    )]
    UnsupportedFormat {
        /// Sample rate found.
        sample_rate: u32,
        /// Channel count found.
        channels: u16,
        /// Bits per sample found.
        bits: u16,
        /// `int` or `float`.
        format: &'static str,
    },
}

/// A loaded prompt: linear 16-bit samples at 8 kHz, shared between players with `Arc`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prompt {
    samples: Vec<i16>,
}

impl Prompt {
    /// Loads a WAV file; anything but 8 kHz mono 16-bit PCM is an error naming the format found.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, PromptError> {
        Self::from_wav(hound::WavReader::open(path)?)
    }

    /// Reads a WAV from any reader (same format rules as [`Prompt::load`]).
    pub fn from_reader(reader: impl Read) -> Result<Self, PromptError> {
        Self::from_wav(hound::WavReader::new(reader)?)
    }

    fn from_wav<R: Read>(reader: hound::WavReader<R>) -> Result<Self, PromptError> {
        let spec = reader.spec();
        let is_int = spec.sample_format == hound::SampleFormat::Int;
        if spec.sample_rate != SAMPLE_RATE
            || spec.channels != 1
            || spec.bits_per_sample != 16
            || !is_int
        {
            return Err(PromptError::UnsupportedFormat {
                sample_rate: spec.sample_rate,
                channels: spec.channels,
                bits: spec.bits_per_sample,
                format: if is_int { "int" } else { "float" },
            });
        }
        let samples = reader
            .into_samples::<i16>()
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Prompt { samples })
    }

    /// Builds a prompt from linear 8 kHz samples (tones, tests).
    pub fn from_samples(samples: Vec<i16>) -> Self {
        Prompt { samples }
    }

    /// The linear samples.
    pub fn samples(&self) -> &[i16] {
        &self.samples
    }

    /// The playing time.
    pub fn duration(&self) -> Duration {
        Duration::from_micros(self.samples.len() as u64 * 1_000_000 / u64::from(SAMPLE_RATE))
    }
}

/// Whether a player stops at the end or starts over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PlayMode {
    /// Play once, then report the end.
    Once,
    /// Loop forever (music on hold).
    Loop,
}

/// Encodes linear samples into `out` in `codec` (one byte per sample).
pub fn encode(codec: Codec, samples: &[i16], out: &mut [u8]) {
    match codec {
        Codec::Pcmu => {
            for (o, s) in out.iter_mut().zip(samples) {
                *o = linear_to_ulaw(*s);
            }
        }
        Codec::Pcma => {
            for (o, s) in out.iter_mut().zip(samples) {
                *o = linear_to_alaw(*s);
            }
        }
    }
}

/// The silence byte of a codec.
pub fn silence_byte(codec: Codec) -> u8 {
    match codec {
        Codec::Pcmu => ULAW_SILENCE,
        Codec::Pcma => ALAW_SILENCE,
    }
}

/// Plays a prompt as 20 ms frames; a pure iterator paced by the caller (one call per 20 ms).
#[derive(Debug, Clone)]
pub struct PromptPlayer {
    prompt: Arc<Prompt>,
    mode: PlayMode,
    position: usize,
    finished: bool,
}

impl PromptPlayer {
    /// Starts playing `prompt` from the beginning.
    pub fn new(prompt: Arc<Prompt>, mode: PlayMode) -> Self {
        let finished = prompt.samples.is_empty();
        PromptPlayer {
            prompt,
            mode,
            position: 0,
            finished,
        }
    }

    /// A looping player for music on hold.
    pub fn music_on_hold(prompt: Arc<Prompt>) -> Self {
        Self::new(prompt, PlayMode::Loop)
    }

    /// The play mode.
    pub fn mode(&self) -> PlayMode {
        self.mode
    }

    /// Whether a `Once` player has played its last frame (an empty prompt is finished at once).
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    /// Writes the next 160-sample frame encoded in `codec` into `out`; returns `false` (and
    /// writes nothing) once the prompt is over. The last partial frame is padded with silence; a
    /// looping player wraps into the start of the prompt instead.
    pub fn next_frame(&mut self, codec: Codec, out: &mut [u8; FRAME_SAMPLES]) -> bool {
        if self.finished {
            return false;
        }
        let samples = self.prompt.samples();
        let mut filled = 0;
        while filled < FRAME_SAMPLES {
            let take = (FRAME_SAMPLES - filled).min(samples.len() - self.position);
            encode(
                codec,
                &samples[self.position..self.position + take],
                &mut out[filled..filled + take],
            );
            filled += take;
            self.position += take;
            if self.position == samples.len() {
                match self.mode {
                    PlayMode::Loop => self.position = 0,
                    PlayMode::Once => {
                        self.finished = true;
                        out[filled..].fill(silence_byte(codec));
                        break;
                    }
                }
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_wav(spec: hound::WavSpec, samples: usize) -> tempfile::NamedTempFile {
        let file = tempfile::NamedTempFile::new().expect("temp file");
        let mut w = hound::WavWriter::create(file.path(), spec).expect("writer");
        for i in 0..samples {
            if spec.sample_format == hound::SampleFormat::Float {
                w.write_sample(0.0f32).expect("write");
            } else {
                w.write_sample((i % 100) as i16 * 100).expect("write");
            }
        }
        w.finalize().expect("finalize");
        file
    }

    fn spec(sample_rate: u32, channels: u16) -> hound::WavSpec {
        hound::WavSpec {
            channels,
            sample_rate,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        }
    }

    #[test]
    fn loads_8khz_mono_16bit() {
        let file = write_wav(spec(8000, 1), 8000);
        let prompt = Prompt::load(file.path()).expect("valid prompt");
        assert_eq!(prompt.samples().len(), 8000);
        assert_eq!(prompt.duration(), Duration::from_secs(1));
        assert_eq!(prompt.samples()[3], 300);
    }

    #[test]
    fn other_formats_are_refused_with_a_clear_message() {
        let file = write_wav(spec(16000, 1), 100);
        let err = Prompt::load(file.path()).expect_err("16 kHz refused");
        let text = err.to_string();
        assert!(text.contains("16000 Hz"), "{text}");
        assert!(text.contains("8000 Hz mono 16-bit"), "{text}");
        let stereo = write_wav(spec(8000, 2), 100);
        assert!(matches!(
            Prompt::load(stereo.path()),
            Err(PromptError::UnsupportedFormat { channels: 2, .. })
        ));
        let float = write_wav(
            hound::WavSpec {
                bits_per_sample: 32,
                sample_format: hound::SampleFormat::Float,
                ..spec(8000, 1)
            },
            100,
        );
        assert!(matches!(
            Prompt::load(float.path()),
            Err(PromptError::UnsupportedFormat {
                format: "float",
                ..
            })
        ));
        assert!(matches!(
            Prompt::from_reader(&b"not a wav file"[..]),
            Err(PromptError::Wav(_))
        ));
    }

    #[test]
    fn one_second_prompt_is_fifty_frames() {
        let prompt = Arc::new(Prompt::from_samples(vec![1000; 8000]));
        let mut player = PromptPlayer::new(prompt, PlayMode::Once);
        let mut frame = [0u8; FRAME_SAMPLES];
        let mut frames = 0;
        while player.next_frame(Codec::Pcmu, &mut frame) {
            frames += 1;
            assert!(frames <= 50);
        }
        assert_eq!(frames, 50);
        assert!(player.is_finished());
        assert_eq!(frame[0], linear_to_ulaw(1000));
    }

    #[test]
    fn last_partial_frame_is_padded_with_silence() {
        let prompt = Arc::new(Prompt::from_samples(vec![1000; 200]));
        let mut player = PromptPlayer::new(prompt, PlayMode::Once);
        let mut frame = [0u8; FRAME_SAMPLES];
        assert!(player.next_frame(Codec::Pcma, &mut frame));
        assert!(player.next_frame(Codec::Pcma, &mut frame));
        assert_eq!(frame[39], linear_to_alaw(1000));
        assert!(frame[40..].iter().all(|b| *b == ALAW_SILENCE));
        assert!(!player.next_frame(Codec::Pcma, &mut frame));
    }

    #[test]
    fn looping_player_wraps_and_never_ends() {
        let samples: Vec<i16> = (0..100).map(|i| i * 100).collect();
        let prompt = Arc::new(Prompt::from_samples(samples));
        let mut player = PromptPlayer::music_on_hold(prompt);
        let mut frame = [0u8; FRAME_SAMPLES];
        for _ in 0..1000 {
            assert!(player.next_frame(Codec::Pcmu, &mut frame));
        }
        assert!(!player.is_finished());
        // Frame 1000 starts at sample (999 * 160) % 100 = 40 ... check continuity of the wrap.
        let mut p2 = PromptPlayer::new(
            Arc::new(Prompt::from_samples((0..100).map(|i| i * 100).collect())),
            PlayMode::Loop,
        );
        assert!(p2.next_frame(Codec::Pcmu, &mut frame));
        assert_eq!(frame[100], linear_to_ulaw(0));
        assert_eq!(frame[101], linear_to_ulaw(100));
    }

    #[test]
    fn empty_prompt_finishes_immediately() {
        let mut player =
            PromptPlayer::new(Arc::new(Prompt::from_samples(Vec::new())), PlayMode::Loop);
        let mut frame = [0u8; FRAME_SAMPLES];
        assert!(player.is_finished());
        assert!(!player.next_frame(Codec::Pcmu, &mut frame));
    }
}
