//! Where a packet's audio goes on the recording's timeline: RTP timestamp, anchored to arrival.
//!
//! A side's timeline position is counted in samples (8 kHz) since the recording started. Within
//! one stream (one SSRC) a packet lands at `anchor.offset + (timestamp - anchor.timestamp)`, so
//! loss, silence suppression and reordering leave the audio where the sender put it. The anchor
//! ties the sender's timestamp clock to our arrival clock:
//!
//! - a new SSRC anchors at the packet's arrival;
//! - a timestamp more than `max_jump` (1 s) away from where its arrival says it should be is a
//!   jump (a restarted stream, a transfer), and re-anchors at arrival; a gap in both timestamp and
//!   arrival (silence suppression) is not a jump;
//! - drift between the timestamp clock and the arrival clock is measured once per `drift_window`
//!   as the smallest `arrival - placement` of the window (jitter only ever delays a packet, so the
//!   least delayed one is the truest). Over `max_drift` (40 ms) re-anchors at once; below it the
//!   anchor slews by at most `slew_step` per window. Slewing keeps a sender whose clock runs 0.1%
//!   fast or slow (8 samples a second) within a few milliseconds of the other side instead of
//!   letting it wander 40 ms before each correction; a step that small is inaudible.
//!
//! The first window after an anchor is refined in full (the anchor came from one packet, which
//! may have been delayed).

use std::time::Duration;

/// Samples per second of every recording (G.711).
pub const SAMPLE_RATE: u32 = 8000;

/// Converts a duration to a whole number of samples at [`SAMPLE_RATE`] (rounded down).
pub fn duration_to_samples(d: Duration) -> u64 {
    // 125 µs per sample; u128 arithmetic cannot overflow for any Duration.
    u64::try_from(d.as_nanos() / 125_000).unwrap_or(u64::MAX)
}

/// Converts a number of samples at [`SAMPLE_RATE`] to milliseconds (rounded down).
pub fn samples_to_millis(samples: u64) -> u64 {
    samples / 8
}

/// The thresholds of anchoring and drift correction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlacementConfig {
    /// A timestamp further than this from where its arrival places it re-anchors the stream.
    pub max_jump: Duration,
    /// Drift (least-delayed packet of a window against its placement) over this re-anchors.
    pub max_drift: Duration,
    /// How long drift is observed before it is acted on.
    pub drift_window: Duration,
    /// The most the anchor moves per window when drift is under `max_drift`.
    pub slew_step: Duration,
    /// Drift up to this is left alone (a window's least-delayed packet is itself a little late).
    pub slew_deadband: Duration,
}

impl Default for PlacementConfig {
    fn default() -> Self {
        PlacementConfig {
            max_jump: Duration::from_secs(1),
            max_drift: Duration::from_millis(40),
            drift_window: Duration::from_secs(1),
            slew_step: Duration::from_micros(2500),
            slew_deadband: Duration::from_millis(1),
        }
    }
}

/// Why a stream was (re-)anchored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AnchorReason {
    /// The first packet of the side, or a packet from another SSRC.
    NewSsrc,
    /// The timestamp jumped more than `max_jump` against the arrival clock.
    TimestampJump,
    /// The timestamp clock drifted more than `max_drift` from the arrival clock.
    Drift,
}

/// Counters of how one side's anchoring went.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AnchorStats {
    /// Anchors taken for a new SSRC (including the side's first).
    pub new_ssrc: u64,
    /// Re-anchors on a timestamp jump.
    pub timestamp_jumps: u64,
    /// Re-anchors on drift over `max_drift`.
    pub drift_reanchors: u64,
    /// Small anchor corrections under `max_drift`.
    pub slews: u64,
}

#[derive(Debug, Clone, Copy)]
struct Anchor {
    ssrc: u32,
    timestamp: u32,
    offset: i64,
    /// Whether the first drift window after anchoring has been evaluated.
    refined: bool,
}

#[derive(Debug, Clone, Copy)]
struct DriftWindow {
    start: i64,
    min_drift: i64,
}

/// One side's anchoring state: maps (SSRC, RTP timestamp, arrival) to a timeline offset.
#[derive(Debug, Clone)]
pub struct SidePlacer {
    max_jump: i64,
    max_drift: i64,
    window: i64,
    slew: i64,
    deadband: i64,
    anchor: Option<Anchor>,
    drift: Option<DriftWindow>,
    stats: AnchorStats,
}

impl SidePlacer {
    /// A placer with no stream yet.
    pub fn new(config: PlacementConfig) -> Self {
        let samples = |d| i64::try_from(duration_to_samples(d)).unwrap_or(i64::MAX);
        SidePlacer {
            max_jump: samples(config.max_jump),
            max_drift: samples(config.max_drift),
            window: samples(config.drift_window).max(1),
            slew: samples(config.slew_step),
            deadband: samples(config.slew_deadband),
            anchor: None,
            drift: None,
            stats: AnchorStats::default(),
        }
    }

    /// The counters so far.
    pub fn stats(&self) -> AnchorStats {
        self.stats
    }

    /// The timeline offset (in samples, may be negative) of a packet's first sample.
    ///
    /// `arrival` is when it arrived, in samples since the recording started.
    pub fn place(
        &mut self,
        arrival: i64,
        ssrc: u32,
        timestamp: u32,
    ) -> (i64, Option<AnchorReason>) {
        let anchor = match self.anchor {
            Some(a) if a.ssrc == ssrc => a,
            _ => {
                return (
                    self.reanchor(arrival, ssrc, timestamp, AnchorReason::NewSsrc),
                    Some(AnchorReason::NewSsrc),
                )
            }
        };
        // Signed distance on the 32-bit timestamp circle (RFC 3550 wraps).
        let delta = i64::from(timestamp.wrapping_sub(anchor.timestamp) as i32);
        let placed = anchor.offset + delta;
        let drift = arrival - placed;
        if drift.abs() > self.max_jump {
            let reason = AnchorReason::TimestampJump;
            return (
                self.reanchor(arrival, ssrc, timestamp, reason),
                Some(reason),
            );
        }
        let mut reason = None;
        let window = self.drift.get_or_insert(DriftWindow {
            start: arrival,
            min_drift: drift,
        });
        window.min_drift = window.min_drift.min(drift);
        if arrival - window.start >= self.window {
            let measured = window.min_drift;
            self.drift = None;
            if let Some(a) = self.anchor.as_mut() {
                if measured.abs() > self.max_drift {
                    a.offset += measured;
                    self.stats.drift_reanchors += 1;
                    reason = Some(AnchorReason::Drift);
                } else if !a.refined {
                    a.offset += measured;
                } else if measured.abs() > self.deadband {
                    a.offset += measured.clamp(-self.slew, self.slew);
                    self.stats.slews += 1;
                }
                a.refined = true;
                return (a.offset + delta, reason);
            }
        }
        (placed, reason)
    }

    fn reanchor(&mut self, arrival: i64, ssrc: u32, timestamp: u32, reason: AnchorReason) -> i64 {
        match reason {
            AnchorReason::NewSsrc => self.stats.new_ssrc += 1,
            AnchorReason::TimestampJump => self.stats.timestamp_jumps += 1,
            AnchorReason::Drift => self.stats.drift_reanchors += 1,
        }
        self.anchor = Some(Anchor {
            ssrc,
            timestamp,
            offset: arrival,
            refined: false,
        });
        // The anchoring packet opens the first window with no drift of its own.
        self.drift = Some(DriftWindow {
            start: arrival,
            min_drift: 0,
        });
        arrival
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn placer() -> SidePlacer {
        SidePlacer::new(PlacementConfig::default())
    }

    #[test]
    fn first_packet_anchors_at_its_arrival_and_later_ones_follow_the_timestamp() {
        let mut p = placer();
        assert_eq!(
            p.place(800, 7, 1_000_000),
            (800, Some(AnchorReason::NewSsrc))
        );
        // Arrives 5 ms late: still placed by its timestamp.
        assert_eq!(p.place(800 + 160 + 40, 7, 1_000_160), (960, None));
        // A lost packet leaves its slot; the next lands 320 samples on.
        assert_eq!(p.place(800 + 480, 7, 1_000_480), (1280, None));
        // A reordered (older) packet goes back to its place.
        assert_eq!(p.place(800 + 500, 7, 1_000_320), (1120, None));
        assert_eq!(p.stats().new_ssrc, 1);
    }

    #[test]
    fn timestamps_wrap_around_32_bits() {
        let mut p = placer();
        p.place(0, 1, u32::MAX - 79);
        assert_eq!(p.place(160, 1, 80), (160, None));
    }

    #[test]
    fn a_new_ssrc_reanchors_at_arrival() {
        let mut p = placer();
        p.place(0, 1, 5000);
        assert_eq!(p.place(160, 1, 5160).0, 160);
        assert_eq!(p.place(330, 2, 99), (330, Some(AnchorReason::NewSsrc)));
        assert_eq!(p.place(490, 2, 259), (490, None));
        assert_eq!(p.stats().new_ssrc, 2);
    }

    #[test]
    fn a_timestamp_jump_over_a_second_reanchors_but_silence_suppression_does_not() {
        let mut p = placer();
        p.place(0, 1, 0);
        // 5 s of silence suppression: timestamp and arrival move together.
        assert_eq!(p.place(40_000, 1, 40_000), (40_000, None));
        // The sender's timestamp leaps 3 s ahead of the arrival clock.
        assert_eq!(
            p.place(40_160, 1, 64_160),
            (40_160, Some(AnchorReason::TimestampJump))
        );
        assert_eq!(p.place(40_320, 1, 64_320), (40_320, None));
        assert_eq!(p.stats().timestamp_jumps, 1);
    }

    #[test]
    fn drift_over_40_ms_within_a_window_reanchors() {
        let mut p = placer();
        p.place(0, 1, 0);
        // Refine the first window (no drift).
        for k in 1..=50 {
            p.place(k * 160, 1, (k * 160) as u32);
        }
        // From now on every packet arrives 50 ms (400 samples) later than its timestamp says.
        let mut last = (0, None);
        let mut reasons = Vec::new();
        for k in 51..=101 {
            last = p.place(k * 160 + 400, 1, (k * 160) as u32);
            reasons.extend(last.1);
        }
        assert_eq!(reasons, vec![AnchorReason::Drift]);
        assert_eq!(last.0, 101 * 160 + 400);
        assert_eq!(p.stats().drift_reanchors, 1);
    }

    #[test]
    fn jitter_does_not_move_the_anchor() {
        let mut p = placer();
        p.place(0, 1, 0);
        // Packets delayed 0..=30 ms; every tenth one gets through without delay.
        for k in 1..500i64 {
            let delay = if k % 10 == 0 { 0 } else { (k * 37) % 241 };
            let (offset, reason) = p.place(k * 160 + delay, 1, (k * 160) as u32);
            assert_eq!((offset, reason), (k * 160, None), "packet {k}");
        }
        assert_eq!(p.stats().slews, 0);
    }

    #[test]
    fn a_delayed_first_packet_is_corrected_after_the_first_window() {
        let mut p = placer();
        // The first packet was held up 30 ms (240 samples); the rest arrive on time.
        p.place(240, 1, 0);
        let mut offsets = Vec::new();
        for k in 1..=60i64 {
            offsets.push(p.place(k * 160, 1, (k * 160) as u32).0);
        }
        assert_eq!(*offsets.last().unwrap_or(&0), 60 * 160);
    }

    #[test]
    fn a_slow_drift_is_slewed_and_stays_within_a_few_milliseconds() {
        // The sender's clock runs 0.1% fast: 160 timestamp units every 19.98 ms of arrival.
        let mut p = placer();
        let mut worst = 0i64;
        for k in 0..30_000i64 {
            let arrival = k * 160 * 1000 / 1001;
            let (offset, reason) = p.place(arrival, 1, (k * 160) as u32);
            assert_ne!(reason, Some(AnchorReason::Drift));
            worst = worst.max((offset - arrival).abs());
        }
        // 2.5 ms of slew per second against 1 ms of drift per second.
        assert!(worst <= 40, "worst {worst} samples");
        assert!(p.stats().slews > 100);
    }
}
