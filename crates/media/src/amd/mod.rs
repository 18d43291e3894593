//! Answering-machine detection (AMD) for outbound calls: from the first seconds of the answer's
//! audio, whether a person or a machine picked up, and where a voicemail's beep is.
//!
//! Pure: fed 20 ms frames of 8 kHz linear audio (what the G.711 decoder gives), no clock, no
//! tasks. The rules are Asterisk `app_amd`'s, over an energy voice-activity detector that tracks
//! the line's noise floor instead of a fixed threshold alone:
//!
//! - silence before anything is said, for `initial_silence_ms`: a machine (people speak first);
//! - speech in the greeting beyond `greeting_ms`: a machine (a long "you've reached ..." greeting);
//! - more words than `maximum_number_of_words`, or one word longer than
//!   `maximum_word_length_ms`: a machine;
//! - after a greeting, silence for `after_greeting_silence_ms`: a person ("Hello?", then waiting);
//! - a beep before any of these: a machine;
//! - nothing decided within `total_analysis_time_ms`: not sure.
//!
//! The decision also says where the person's greeting ended (`greeting_end_ms`: the end of the
//! last loud frame before the silence that decided), the instant the US and UK "connected
//! within 2 s of the completed greeting" rule counts from.
//!
//! After the verdict the detector can keep being fed to find the beep (see [`Beep`]), where a
//! message left on a voicemail should start.
//!
//! ```
//! use hotline_media::amd::{AmdConfig, AmdDetector, AmdVerdict, FRAME_SAMPLES};
//!
//! let mut detector = AmdDetector::new(&AmdConfig::default());
//! let silence = [0i16; FRAME_SAMPLES];
//! let decision = loop {
//!     if let Some(decision) = detector.push_frame(&silence) {
//!         break decision;
//!     }
//! };
//! assert_eq!(decision.verdict, AmdVerdict::Machine); // 2.5 s of silence
//! assert_eq!(decision.at_ms, 2500);
//! ```

mod beep;
mod config;
mod vad;

pub use beep::Beep;
pub use config::{AmdAction, AmdConfig, AmdConfigError, BeepConfig};

use beep::BeepTracker;
use vad::{frame_level, Vad};

/// Sample rate of the audio the detector takes, Hz.
pub const SAMPLE_RATE: u32 = 8000;
/// Duration of one frame, ms.
pub const FRAME_MS: u32 = 20;
/// Samples in one frame.
pub const FRAME_SAMPLES: usize = 160;

/// Frames held at the start until the noise floor is known (100 ms): the first frames are then
/// judged against the floor of all of them, so steady noise from the answer on is not speech.
const WARMUP_FRAMES: usize = 5;

/// Who answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AmdVerdict {
    /// A person.
    Human,
    /// An answering machine or voicemail.
    Machine,
    /// Undecided within the analysis time.
    NotSure,
}

/// Which rule decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AmdCause {
    /// Silence after a short greeting: a person waiting for an answer.
    HumanPause,
    /// Nothing said for the initial silence.
    InitialSilence,
    /// The greeting went on past its limit.
    LongGreeting,
    /// Too many words.
    MaxWords,
    /// One word longer than a word can be.
    MaxWordLength,
    /// A voicemail beep.
    Beep,
    /// The analysis time ran out.
    Timeout,
}

/// What was measured when the verdict was reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AmdMeasures {
    /// Silence before the greeting's first word, ms (the whole time if none came).
    pub initial_silence_ms: u32,
    /// Speech heard in total (the greeting), ms.
    pub voice_ms: u32,
    /// Words counted.
    pub words: u32,
    /// Longest word, ms.
    pub longest_word_ms: u32,
    /// Silence running when the verdict came, ms.
    pub trailing_silence_ms: u32,
}

/// The detector's verdict, the rule that gave it and when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AmdDecision {
    /// Who answered.
    pub verdict: AmdVerdict,
    /// Why.
    pub cause: AmdCause,
    /// Audio consumed until the verdict, ms.
    pub at_ms: u32,
    /// The measures at that point.
    pub measures: AmdMeasures,
    /// Where the greeting ended, ms of audio from the first frame: the end of its last loud
    /// frame (before the hangover), when the verdict came in the silence after words (always
    /// for [`AmdCause::HumanPause`], the person's completed greeting); `None` when nothing was
    /// said or speech was still going on (the greeting had not ended).
    pub greeting_end_ms: Option<u32>,
}

impl AmdDecision {
    /// Audio from the greeting's end to the verdict, ms (`None` without a greeting end).
    pub fn since_greeting_end_ms(&self) -> Option<u32> {
        self.greeting_end_ms
            .map(|end| self.at_ms.saturating_sub(end))
    }
}

/// Whether the detector is inside a word or between words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WordState {
    InWord,
    InSilence,
}

/// The features of one frame the rules need.
#[derive(Debug, Clone, Copy)]
struct FrameFeatures {
    level: u32,
}

/// The detector of one answered call. Feed it every received frame from the answer on.
#[derive(Debug, Clone)]
pub struct AmdDetector {
    config: AmdConfig,
    vad: Vad,
    beep: BeepTracker,
    /// Frames held during the warm-up.
    pending: Vec<FrameFeatures>,
    /// Samples of a partial frame from [`AmdDetector::push_samples`].
    partial: Vec<i16>,
    /// Audio taken, ms.
    consumed_ms: u32,
    /// Audio the rules have judged, ms (behind `consumed_ms` during the warm-up only).
    judged_ms: u32,
    state: WordState,
    in_initial_silence: bool,
    in_greeting: bool,
    silence_ms: u32,
    consecutive_voice_ms: u32,
    /// End of the last loud frame the rules judged, ms (0 before any).
    last_loud_end_ms: u32,
    measures: AmdMeasures,
    decision: Option<AmdDecision>,
}

impl AmdDetector {
    /// A detector with these thresholds (validate them with [`AmdConfig::validate`] on load).
    pub fn new(config: &AmdConfig) -> AmdDetector {
        AmdDetector {
            config: config.clone(),
            vad: Vad::new(
                config.silence_threshold,
                config.noise_margin_db,
                config.vad_hangover_ms / FRAME_MS,
            ),
            beep: BeepTracker::new(&config.beep),
            pending: Vec::with_capacity(WARMUP_FRAMES),
            partial: Vec::with_capacity(FRAME_SAMPLES),
            consumed_ms: 0,
            judged_ms: 0,
            state: WordState::InSilence,
            in_initial_silence: true,
            in_greeting: false,
            silence_ms: 0,
            consecutive_voice_ms: 0,
            last_loud_end_ms: 0,
            measures: AmdMeasures::default(),
            decision: None,
        }
    }

    /// Takes the next 20 ms frame; returns the decision on the frame that reaches it, once.
    pub fn push_frame(&mut self, frame: &[i16; FRAME_SAMPLES]) -> Option<AmdDecision> {
        let start_ms = self.consumed_ms;
        self.consumed_ms = self.consumed_ms.saturating_add(FRAME_MS);
        let level = frame_level(frame);
        self.vad.observe(level);
        let loud = self.vad.is_loud(level);
        let beep_confirmed = self.beep.push(start_ms, frame, loud);
        if self.decision.is_some() {
            return None;
        }
        let features = FrameFeatures { level };
        if self.pending.len() < WARMUP_FRAMES && self.judged_ms == 0 {
            self.pending.push(features);
            if self.pending.len() < WARMUP_FRAMES {
                return self.check_timeout();
            }
            let pending = std::mem::take(&mut self.pending);
            for held in pending {
                if let Some(decision) = self.judge(held) {
                    return Some(decision);
                }
            }
        } else if let Some(decision) = self.judge(features) {
            return Some(decision);
        }
        if beep_confirmed {
            return Some(self.decide(AmdVerdict::Machine, AmdCause::Beep));
        }
        self.check_timeout()
    }

    /// Takes audio in packets of any size (a 30 ms ptime, a lost packet's shorter fill), cut
    /// into 20 ms frames; returns the decision if one of those frames reached it.
    pub fn push_samples(&mut self, mut samples: &[i16]) -> Option<AmdDecision> {
        let mut decided = None;
        while !samples.is_empty() {
            let take = (FRAME_SAMPLES - self.partial.len()).min(samples.len());
            self.partial.extend_from_slice(&samples[..take]);
            samples = &samples[take..];
            if let Ok(frame) = <[i16; FRAME_SAMPLES]>::try_from(self.partial.as_slice()) {
                self.partial.clear();
                decided = decided.or(self.push_frame(&frame));
            }
        }
        decided
    }

    /// The verdict, once reached.
    pub fn decision(&self) -> Option<AmdDecision> {
        self.decision
    }

    /// The voicemail beep, once heard (before or after the verdict).
    pub fn beep(&self) -> Option<Beep> {
        self.beep.beep()
    }

    /// Audio taken so far, ms.
    pub fn consumed_ms(&self) -> u32 {
        self.consumed_ms
    }

    /// The `app_amd` rules for one frame.
    fn judge(&mut self, frame: FrameFeatures) -> Option<AmdDecision> {
        self.judged_ms = self.judged_ms.saturating_add(FRAME_MS);
        let config = &self.config;
        if self.vad.is_loud(frame.level) {
            self.last_loud_end_ms = self.judged_ms;
        }
        if self.vad.classify(frame.level) {
            self.silence_ms = 0;
            self.consecutive_voice_ms = self.consecutive_voice_ms.saturating_add(FRAME_MS);
            self.measures.voice_ms = self.measures.voice_ms.saturating_add(FRAME_MS);
            if self.consecutive_voice_ms >= config.min_word_length_ms
                && self.state == WordState::InSilence
            {
                self.state = WordState::InWord;
                self.measures.words += 1;
                if self.measures.words == 1 {
                    self.measures.initial_silence_ms =
                        self.judged_ms.saturating_sub(self.consecutive_voice_ms);
                }
            }
            if self.state == WordState::InWord {
                self.measures.longest_word_ms =
                    self.measures.longest_word_ms.max(self.consecutive_voice_ms);
            }
            if self.consecutive_voice_ms >= config.maximum_word_length_ms {
                return Some(self.decide(AmdVerdict::Machine, AmdCause::MaxWordLength));
            }
            if self.measures.words > config.maximum_number_of_words {
                return Some(self.decide(AmdVerdict::Machine, AmdCause::MaxWords));
            }
            if self.in_greeting && self.measures.voice_ms >= config.greeting_ms {
                return Some(self.decide(AmdVerdict::Machine, AmdCause::LongGreeting));
            }
            if self.measures.voice_ms >= config.min_word_length_ms {
                self.in_initial_silence = false;
                self.in_greeting = true;
            }
        } else {
            self.silence_ms = self.silence_ms.saturating_add(FRAME_MS);
            if self.silence_ms >= config.between_words_silence_ms {
                self.state = WordState::InSilence;
                self.consecutive_voice_ms = 0;
            }
            if self.in_initial_silence && self.silence_ms >= config.initial_silence_ms {
                return Some(self.decide(AmdVerdict::Machine, AmdCause::InitialSilence));
            }
            if self.in_greeting && self.silence_ms >= config.after_greeting_silence_ms {
                return Some(self.decide(AmdVerdict::Human, AmdCause::HumanPause));
            }
        }
        None
    }

    fn check_timeout(&mut self) -> Option<AmdDecision> {
        if self.consumed_ms >= self.config.total_analysis_time_ms {
            return Some(self.decide(AmdVerdict::NotSure, AmdCause::Timeout));
        }
        None
    }

    fn decide(&mut self, verdict: AmdVerdict, cause: AmdCause) -> AmdDecision {
        let mut measures = self.measures;
        measures.trailing_silence_ms = self.silence_ms;
        if measures.words == 0 {
            measures.initial_silence_ms = self.judged_ms;
        }
        // The greeting ended only if words were said and the line has gone quiet since: the
        // deciding silence (hangover frames are still speech to the rules) follows its end.
        let greeting_end_ms = (measures.words > 0 && self.silence_ms > 0)
            .then_some(self.last_loud_end_ms)
            .filter(|end| *end > 0);
        let decision = AmdDecision {
            verdict,
            cause,
            at_ms: self.consumed_ms,
            measures,
            greeting_end_ms,
        };
        self.decision = Some(decision);
        decision
    }
}

#[cfg(test)]
mod tests;
