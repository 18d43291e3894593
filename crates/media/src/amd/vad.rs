//! Energy voice-activity detection: a frame is speech when its level stands clear of both a fixed
//! floor and the noise floor tracked over the last second, held for a short hangover.

/// Frames of history the noise floor is the minimum of (one second): long enough to span a gap
/// between words, short enough to follow a line that gets noisier.
const FLOOR_WINDOW: usize = 50;

/// Frames over which the floor is taken as measured, without the rise limit: the start of the
/// call, when nothing is known of the line yet.
const SETTLE_FRAMES: usize = 5;

/// How fast the floor may rise, dB per frame (3 dB per second): speech with no pause longer than
/// the window must not become the floor, while a line that gets noisier is followed in seconds.
/// It falls at once.
const FLOOR_RISE_DB_PER_FRAME: f32 = 3.0 / 50.0;

/// Mean absolute sample value of a frame, the level `app_amd`'s silence threshold is in.
pub(crate) fn frame_level(frame: &[i16]) -> u32 {
    if frame.is_empty() {
        return 0;
    }
    let sum: u64 = frame.iter().map(|&s| u64::from(s.unsigned_abs())).sum();
    // The mean of u16 magnitudes fits in u32.
    u32::try_from(sum / frame.len() as u64).unwrap_or(u32::MAX)
}

/// Tracks the noise floor and classifies frame levels as speech or silence.
#[derive(Debug, Clone)]
pub(crate) struct Vad {
    history: [u32; FLOOR_WINDOW],
    filled: usize,
    /// The floor in use: the window's minimum, its rises limited.
    floor: f32,
    /// Linear factor of the largest rise per frame.
    rise: f32,
    next: usize,
    /// Linear level ratio over the floor that speech needs (from the margin in dB).
    margin: f32,
    threshold: u32,
    hangover_frames: u32,
    /// Frames since the last frame above the threshold; `None` before any.
    since_loud: Option<u32>,
}

impl Vad {
    /// A detector with an absolute `threshold`, a margin over the floor and a hangover in frames.
    pub(crate) fn new(threshold: u16, margin_db: f32, hangover_frames: u32) -> Vad {
        let margin = 10f32.powf(margin_db.clamp(0.0, 40.0) / 20.0);
        Vad {
            history: [0; FLOOR_WINDOW],
            filled: 0,
            floor: 0.0,
            rise: 10f32.powf(FLOOR_RISE_DB_PER_FRAME / 20.0),
            next: 0,
            margin,
            threshold: u32::from(threshold),
            hangover_frames,
            since_loud: None,
        }
    }

    /// Adds a frame's level to the floor's history.
    pub(crate) fn observe(&mut self, level: u32) {
        self.history[self.next] = level;
        self.next = (self.next + 1) % FLOOR_WINDOW;
        self.filled = (self.filled + 1).min(FLOOR_WINDOW);
        let minimum = self.history[..self.filled]
            .iter()
            .copied()
            .min()
            .unwrap_or(0) as f32;
        self.floor = if self.filled <= SETTLE_FRAMES || minimum <= self.floor {
            minimum
        } else {
            minimum.min(self.floor.max(1.0) * self.rise)
        };
    }

    /// The noise floor: the quietest frame of the last second, rising at most 3 dB/s.
    #[cfg(test)]
    pub(crate) fn floor(&self) -> u32 {
        self.floor as u32
    }

    /// The level a frame must exceed to be speech given the current floor.
    pub(crate) fn speech_level(&self) -> u32 {
        let over_floor = (self.floor * self.margin) as u32;
        self.threshold.max(over_floor)
    }

    /// Whether a frame of this level is loud: above the threshold, before any hangover.
    pub(crate) fn is_loud(&self, level: u32) -> bool {
        level > self.speech_level()
    }

    /// Classifies one frame (already observed) as speech, hangover included.
    pub(crate) fn classify(&mut self, level: u32) -> bool {
        if self.is_loud(level) {
            self.since_loud = Some(0);
            return true;
        }
        match self.since_loud {
            Some(frames) => {
                let frames = frames.saturating_add(1);
                self.since_loud = Some(frames);
                frames <= self.hangover_frames
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn level_is_the_mean_magnitude() {
        assert_eq!(frame_level(&[100, -100, 300, -300]), 200);
        assert_eq!(frame_level(&[i16::MIN; 160]), 32768);
        assert_eq!(frame_level(&[]), 0);
    }

    #[test]
    fn the_floor_follows_steady_noise_so_only_speech_over_it_counts() {
        let mut vad = Vad::new(256, 6.0, 0);
        for _ in 0..10 {
            vad.observe(1000);
            assert!(!vad.classify(1000));
        }
        // 6 dB over 1000 is about 1995.
        vad.observe(1900);
        assert!(!vad.classify(1900));
        vad.observe(4000);
        assert!(vad.classify(4000));
    }

    #[test]
    fn the_fixed_threshold_holds_on_a_silent_line() {
        let mut vad = Vad::new(256, 6.0, 0);
        for level in [0, 0, 250] {
            vad.observe(level);
            assert!(!vad.classify(level));
        }
        vad.observe(300);
        assert!(vad.classify(300));
    }

    #[test]
    fn hangover_holds_speech_for_its_frames_only() {
        let mut vad = Vad::new(256, 6.0, 2);
        vad.observe(0);
        assert!(!vad.classify(0));
        vad.observe(5000);
        assert!(vad.classify(5000));
        let mut held = Vec::new();
        for _ in 0..4 {
            vad.observe(0);
            held.push(vad.classify(0));
        }
        assert_eq!(held, [true, true, false, false]);
    }

    #[test]
    fn the_floor_rises_slowly_and_falls_at_once() {
        let mut vad = Vad::new(0, 6.0, 0);
        for _ in 0..SETTLE_FRAMES {
            vad.observe(1000);
        }
        assert_eq!(vad.floor(), 1000);
        // A louder line: the window's minimum is 2000 after one second, the floor follows at
        // 3 dB per second.
        let mut floors = Vec::new();
        for _ in 0..100 {
            vad.observe(2000);
            floors.push(vad.floor());
        }
        assert_eq!(floors[FLOOR_WINDOW - 2], 1000);
        // Then 3 dB in the next second.
        assert!(
            (1390..1430).contains(&floors[FLOOR_WINDOW + 49]),
            "{floors:?}"
        );
        for _ in 0..200 {
            vad.observe(2000);
        }
        assert_eq!(vad.floor(), 2000);
        vad.observe(500);
        assert_eq!(vad.floor(), 500);
    }
}
