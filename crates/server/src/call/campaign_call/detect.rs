//! The answering-machine detector on the customer's audio: the leg's tap copies each received
//! packet here; gaps in the RTP timestamps (silence suppression, lost packets) are fed as
//! silence so the detector's clock follows the line's. After the verdict it keeps listening
//! for the voicemail's beep and for the silence that ends a greeting. A person's greeting end
//! (where the connect time counts from) is put on the wall clock from the packets' arrival.

use std::time::{Duration, Instant};

use hotline_campaigns::campaign::AnswerVerdict;
use hotline_media::amd::SAMPLE_RATE;
use hotline_media::tap::TapFrame;
use hotline_media::{AmdConfig, AmdDecision, AmdDetector, AmdVerdict, RtpLegHandle};
use tokio::sync::mpsc;

/// Frames the tap may hold before the listener reads them (2 s of 20 ms packets).
const TAP_DEPTH: usize = 100;
/// The longest gap filled with silence (a longer jump is a new stream, not a pause).
const MAX_GAP_SAMPLES: u32 = 5 * SAMPLE_RATE;
/// Below this mean magnitude a packet is silence, for the end of a greeting.
const SILENT_LEVEL: u32 = 200;

/// The detector fed from one leg's tap.
pub(super) struct Listener {
    detector: AmdDetector,
    frames: mpsc::Receiver<TapFrame>,
    media: RtpLegHandle,
    /// The SSRC and the next expected RTP timestamp.
    next: Option<(u32, u32)>,
    decided: bool,
    /// Silence running at the end of the audio, in samples.
    silent_samples: u32,
    /// When the latest packet arrived.
    last_received: Option<Instant>,
}

impl Listener {
    /// Taps `media` (the customer's leg) into a new detector.
    pub(super) fn start(media: &RtpLegHandle, config: &AmdConfig) -> Listener {
        let (tx, frames) = mpsc::channel(TAP_DEPTH);
        let _ = media.set_tap(Some((0, tx)));
        Listener {
            detector: AmdDetector::new(config),
            frames,
            media: media.clone(),
            next: None,
            decided: false,
            silent_samples: 0,
            last_received: None,
        }
    }

    /// Feeds one packet; the verdict on the packet that reaches it, once.
    pub(super) fn push(&mut self, frame: &TapFrame) -> Option<AmdDecision> {
        let mut decided = None;
        self.last_received = Some(frame.received_at);
        let len = u32::try_from(frame.payload().len()).unwrap_or(u32::MAX);
        if let Some((ssrc, expected)) = self.next {
            let gap = frame.rtp_timestamp.wrapping_sub(expected);
            if ssrc == frame.ssrc && gap > 0 && gap <= MAX_GAP_SAMPLES {
                let silence = vec![0i16; gap as usize];
                decided = self.detector.push_samples(&silence);
                self.silent_samples = self.silent_samples.saturating_add(gap);
            }
        }
        self.next = Some((frame.ssrc, frame.rtp_timestamp.wrapping_add(len)));
        let samples: Vec<i16> = frame.samples().collect();
        let level = mean_magnitude(&samples);
        if level < SILENT_LEVEL {
            self.silent_samples = self.silent_samples.saturating_add(len);
        } else {
            self.silent_samples = 0;
        }
        decided = decided.or(self.detector.push_samples(&samples));
        if self.decided {
            return None;
        }
        if decided.is_some() {
            self.decided = true;
        }
        decided
    }

    /// The verdict, once reached.
    pub(super) fn decision(&self) -> Option<AmdDecision> {
        self.detector.decision()
    }

    /// When the person's greeting ended on the wall clock (None: nothing was said, or no
    /// verdict yet). A verdict reached while words were still coming (a long greeting, an
    /// undecided answer) puts it at the verdict itself: the greeting ends no sooner.
    pub(super) fn greeting_end(&self) -> Option<Instant> {
        let decision = self.detector.decision()?;
        let end_ms = greeting_end_ms(&decision)?;
        placed(self.last_received?, self.detector.consumed_ms(), end_ms)
    }

    /// Whether a beep was heard and has stopped (the moment to speak).
    pub(super) fn beep_ended(&self) -> bool {
        self.detector.beep().is_some_and(|b| b.end_ms.is_some())
    }

    /// Whether a beep is sounding now.
    pub(super) fn in_beep(&self) -> bool {
        self.detector.beep().is_some_and(|b| b.end_ms.is_none())
    }

    /// Silence running at the end of the audio heard.
    pub(super) fn silence(&self) -> Duration {
        Duration::from_millis(u64::from(self.silent_samples) * 1000 / u64::from(SAMPLE_RATE))
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = self.media.set_tap(None);
    }
}

/// The next tapped packet (pending forever without a listener).
pub(super) async fn recv(listener: Option<&mut Listener>) -> Option<TapFrame> {
    match listener {
        Some(l) => l.frames.recv().await,
        None => std::future::pending().await,
    }
}

/// The engine's verdict for the detector's.
pub(super) fn verdict(v: AmdVerdict) -> AnswerVerdict {
    match v {
        AmdVerdict::Human => AnswerVerdict::Human,
        AmdVerdict::Machine => AnswerVerdict::Machine,
        AmdVerdict::NotSure => AnswerVerdict::NotSure,
    }
}

/// Where the greeting ended, ms of audio: the detector's measure, or the verdict's moment when
/// words were still coming then; `None` when nothing was said.
fn greeting_end_ms(decision: &AmdDecision) -> Option<u32> {
    match decision.greeting_end_ms {
        Some(end) => Some(end),
        None if decision.measures.words > 0 || decision.measures.voice_ms > 0 => {
            Some(decision.at_ms)
        }
        None => None,
    }
}

/// The instant of `at_ms` of audio, when the packet ending at `heard_ms` arrived at `received`.
fn placed(received: Instant, heard_ms: u32, at_ms: u32) -> Option<Instant> {
    received.checked_sub(Duration::from_millis(u64::from(
        heard_ms.saturating_sub(at_ms),
    )))
}

fn mean_magnitude(samples: &[i16]) -> u32 {
    if samples.is_empty() {
        return 0;
    }
    let sum: u64 = samples.iter().map(|s| u64::from(s.unsigned_abs())).sum();
    u32::try_from(sum / samples.len() as u64).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hotline_media::amd::{AmdCause, AmdMeasures};

    #[test]
    fn mean_magnitude_of_silence_and_a_tone() {
        assert_eq!(mean_magnitude(&[]), 0);
        assert_eq!(mean_magnitude(&[0; 160]), 0);
        assert_eq!(mean_magnitude(&[-1000, 1000]), 1000);
    }

    #[test]
    fn a_greeting_end_is_placed_back_from_the_latest_packet_by_the_audio_since() {
        let received = Instant::now() + Duration::from_secs(10);
        assert_eq!(
            placed(received, 2_480, 1_620),
            Some(received - Duration::from_millis(860))
        );
        // Never after the packet that was heard last.
        assert_eq!(placed(received, 1_000, 1_200), Some(received));
    }

    fn decision(greeting_end_ms: Option<u32>, words: u32, voice_ms: u32) -> AmdDecision {
        AmdDecision {
            verdict: AmdVerdict::NotSure,
            cause: AmdCause::Timeout,
            at_ms: 5_000,
            measures: AmdMeasures {
                words,
                voice_ms,
                ..AmdMeasures::default()
            },
            greeting_end_ms,
        }
    }

    #[test]
    fn the_greeting_ends_where_measured_at_the_verdict_while_speaking_and_nowhere_in_silence() {
        assert_eq!(greeting_end_ms(&decision(Some(1_620), 1, 600)), Some(1_620));
        // Still talking when the analysis ran out: no sooner than the verdict.
        assert_eq!(greeting_end_ms(&decision(None, 4, 3_900)), Some(5_000));
        // Nothing said: the call's answer is the only start left.
        assert_eq!(greeting_end_ms(&decision(None, 0, 0)), None);
    }

    #[test]
    fn detector_verdicts_map_to_the_engines() {
        assert_eq!(verdict(AmdVerdict::Human), AnswerVerdict::Human);
        assert_eq!(verdict(AmdVerdict::Machine), AnswerVerdict::Machine);
        assert_eq!(verdict(AmdVerdict::NotSure), AnswerVerdict::NotSure);
    }
}
