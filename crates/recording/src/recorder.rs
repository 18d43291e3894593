//! The recording core: packets of both sides in, interleaved stereo frames out.
//!
//! Sans-IO: the owner feeds [`Recorder::handle_packet`] with each received packet and the time it
//! arrived, calls [`Recorder::drain`] now and then to collect the frames that are older than the
//! jitter horizon (200 ms by default), and [`Recorder::finish`] at the end. Nothing reads the
//! clock; `now` is always an argument, so a test drives ten minutes of audio in milliseconds.

use std::time::{Duration, Instant};

use crate::buffer::{SideBuffer, Written};
use crate::g711::Codec;
use crate::placement::{
    duration_to_samples, AnchorReason, AnchorStats, PlacementConfig, SidePlacer,
};

/// Which party a packet came from; the customer is the left channel, the agent the right.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    /// The customer (caller on inbound calls, called party on outbound calls): left channel.
    Customer,
    /// The agent: right channel.
    Agent,
}

impl Side {
    fn index(self) -> usize {
        match self {
            Side::Customer => 0,
            Side::Agent => 1,
        }
    }
}

/// The audio of one received RTP packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AudioPacket<'a> {
    /// The sender's SSRC.
    pub ssrc: u32,
    /// The RTP timestamp (8 kHz clock).
    pub timestamp: u32,
    /// The G.711 law of the payload.
    pub codec: Codec,
    /// The encoded payload, one byte per sample.
    pub payload: &'a [u8],
}

/// How the recorder is set up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecorderConfig {
    /// How long samples wait for late and reordered packets before they are handed out.
    pub jitter_horizon: Duration,
    /// Whether [`Frames::mono`] gets a mix of both sides as well.
    pub mono_mix: bool,
    /// Anchoring and drift thresholds.
    pub placement: PlacementConfig,
}

impl Default for RecorderConfig {
    fn default() -> Self {
        RecorderConfig {
            jitter_horizon: Duration::from_millis(200),
            mono_mix: false,
            placement: PlacementConfig::default(),
        }
    }
}

/// Frames handed out by the recorder; the owner writes them and clears the vectors.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Frames {
    /// Interleaved stereo frames: `[customer, agent]`.
    pub stereo: Vec<[i16; 2]>,
    /// The two sides mixed (saturating sum), when [`RecorderConfig::mono_mix`] is on.
    pub mono: Vec<i16>,
}

impl Frames {
    /// Empties both vectors, keeping their capacity.
    pub fn clear(&mut self) {
        self.stereo.clear();
        self.mono.clear();
    }
}

/// A stretch of the recording written as silence because recording was paused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PausedSpan {
    /// First silent sample (frames since the recording started).
    pub start: u64,
    /// First sample after the pause.
    pub end: u64,
}

/// What became of one packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PacketOutcome {
    /// Its samples were placed at `offset` (samples since the start; negative parts were cut).
    Placed {
        /// Timeline position of its first sample.
        offset: i64,
        /// Set when this packet (re-)anchored its side.
        anchored: Option<AnchorReason>,
    },
    /// Every sample it carried was already written by an earlier copy.
    Duplicate,
    /// It arrived after its place had been handed out.
    Late,
    /// It would land further ahead than the recorder keeps.
    TooFarAhead,
    /// It carried no audio, or came after [`Recorder::finish`].
    Ignored,
}

/// Counters for metrics and the metadata sidecar.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RecorderStats {
    /// Packets handed to the recorder.
    pub packets: u64,
    /// Packets dropped whole because their place had already been handed out.
    pub late_packets: u64,
    /// Samples dropped because they were older than the horizon (whole and partial packets).
    pub late_samples: u64,
    /// Packets that added nothing (every sample already written).
    pub duplicate_packets: u64,
    /// Packets dropped, whole or in part, for landing too far ahead.
    pub too_far_ahead_packets: u64,
    /// Anchoring of the customer side.
    pub customer_anchors: AnchorStats,
    /// Anchoring of the agent side.
    pub agent_anchors: AnchorStats,
}

/// What a finished recording amounts to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordingSummary {
    /// Frames written in all (the talk time, in samples).
    pub frames: u64,
    /// The paused stretches, in order.
    pub pauses: Vec<PausedSpan>,
    /// The counters.
    pub stats: RecorderStats,
}

/// How far past its arrival a packet's samples may land (placement stays within a second of
/// arrival; the rest is room for a long payload), in samples.
const LOOKAHEAD: u64 = 2 * 8000;

/// Places both sides' audio by RTP timestamp and hands out aligned stereo frames.
#[derive(Debug, Clone)]
pub struct Recorder {
    config: RecorderConfig,
    start: Instant,
    horizon: u64,
    /// Frames handed out so far; the timeline position of each buffer's first sample.
    flushed: u64,
    sides: [SideBuffer; 2],
    placers: [SidePlacer; 2],
    pauses: Vec<PausedSpan>,
    paused_since: Option<u64>,
    stats: RecorderStats,
    finished: bool,
}

impl Recorder {
    /// A recording that starts at `now` (the first frame is `now`).
    pub fn new(config: RecorderConfig, now: Instant) -> Self {
        Recorder {
            config,
            start: now,
            horizon: duration_to_samples(config.jitter_horizon),
            flushed: 0,
            sides: [SideBuffer::default(), SideBuffer::default()],
            placers: [
                SidePlacer::new(config.placement),
                SidePlacer::new(config.placement),
            ],
            pauses: Vec::new(),
            paused_since: None,
            stats: RecorderStats::default(),
            finished: false,
        }
    }

    fn position(&self, now: Instant) -> u64 {
        duration_to_samples(now.saturating_duration_since(self.start))
    }

    /// Places one received packet of `side`, which arrived at `now`.
    pub fn handle_packet(
        &mut self,
        now: Instant,
        side: Side,
        packet: AudioPacket<'_>,
    ) -> PacketOutcome {
        if self.finished || packet.payload.is_empty() {
            return PacketOutcome::Ignored;
        }
        self.stats.packets += 1;
        let position = self.position(now);
        let arrival = i64::try_from(position).unwrap_or(i64::MAX);
        let i = side.index();
        let (offset, anchored) = self.placers[i].place(arrival, packet.ssrc, packet.timestamp);
        let flushed = i64::try_from(self.flushed).unwrap_or(i64::MAX);
        // Memory per side stays within what the owner has not drained yet plus the look-ahead.
        let ahead = position
            .saturating_sub(self.flushed)
            .saturating_add(LOOKAHEAD);
        let limit = usize::try_from(ahead).unwrap_or(usize::MAX);
        match self.sides[i].write(
            offset.saturating_sub(flushed),
            packet.codec,
            packet.payload,
            limit,
        ) {
            Written::Fresh { late, beyond } => {
                self.stats.late_samples += late as u64;
                if beyond > 0 {
                    self.stats.too_far_ahead_packets += 1;
                }
                PacketOutcome::Placed { offset, anchored }
            }
            Written::Duplicate => {
                self.stats.duplicate_packets += 1;
                PacketOutcome::Duplicate
            }
            Written::Late => {
                self.stats.late_packets += 1;
                self.stats.late_samples += packet.payload.len() as u64;
                PacketOutcome::Late
            }
            Written::TooFarAhead => {
                self.stats.too_far_ahead_packets += 1;
                PacketOutcome::TooFarAhead
            }
        }
    }

    /// Starts a pause at `now`: from here until [`Recorder::resume`] both channels are silent.
    ///
    /// Returns false when already paused (or finished).
    pub fn pause(&mut self, now: Instant) -> bool {
        if self.finished || self.paused_since.is_some() {
            return false;
        }
        // Frames already handed out cannot be taken back; a pause begins at the earliest
        // at the horizon.
        let last_end = self.pauses.last().map_or(0, |p| p.end);
        self.paused_since = Some(self.position(now).max(self.flushed).max(last_end));
        true
    }

    /// Ends the pause at `now`. Returns false when not paused.
    pub fn resume(&mut self, now: Instant) -> bool {
        match self.paused_since.take() {
            Some(start) => {
                let end = self.position(now).max(start);
                if end > start {
                    self.pauses.push(PausedSpan { start, end });
                }
                true
            }
            None => false,
        }
    }

    /// Whether a pause is in progress.
    pub fn is_paused(&self) -> bool {
        self.paused_since.is_some()
    }

    /// The counters so far.
    pub fn stats(&self) -> RecorderStats {
        let mut stats = self.stats;
        stats.customer_anchors = self.placers[0].stats();
        stats.agent_anchors = self.placers[1].stats();
        stats
    }

    /// Frames handed out so far.
    pub fn frames_written(&self) -> u64 {
        self.flushed
    }

    /// Appends to `out` every frame older than the jitter horizon at `now`; returns how many.
    ///
    /// Call it regularly (the writer task does every 100 ms or so): everything not drained yet
    /// is held in memory.
    pub fn drain(&mut self, now: Instant, out: &mut Frames) -> usize {
        if self.finished {
            return 0;
        }
        let target = self.position(now).saturating_sub(self.horizon);
        self.emit_until(target, out)
    }

    /// Hands out everything up to `now` (no horizon), closes a pause in progress, and stops
    /// taking packets. The recording is exactly as long as from start to `now`.
    pub fn finish(&mut self, now: Instant, out: &mut Frames) -> RecordingSummary {
        if !self.finished {
            let end = self.position(now).max(self.flushed);
            if let Some(start) = self.paused_since {
                // Close the pause at the end without letting `resume` clamp it again.
                self.paused_since = None;
                if end > start {
                    self.pauses.push(PausedSpan { start, end });
                }
            }
            self.emit_until(end, out);
            self.finished = true;
            self.sides = [SideBuffer::default(), SideBuffer::default()];
        }
        RecordingSummary {
            frames: self.flushed,
            pauses: self.pauses.clone(),
            stats: self.stats(),
        }
    }

    fn emit_until(&mut self, target: u64, out: &mut Frames) -> usize {
        if target <= self.flushed {
            return 0;
        }
        let n = usize::try_from(target - self.flushed).unwrap_or(usize::MAX);
        let first = out.stereo.len();
        out.stereo.reserve(n);
        {
            let [left, right] = &mut self.sides;
            let (l_held, l_silent) = left.take(n);
            let (r_held, r_silent) = right.take(n);
            debug_assert_eq!(l_held.len() + l_silent, n);
            debug_assert_eq!(r_held.len() + r_silent, n);
            for k in 0..n {
                let l = l_held.get(k).copied().unwrap_or(0);
                let r = r_held.get(k).copied().unwrap_or(0);
                out.stereo.push([l, r]);
            }
            left.compact();
            right.compact();
        }
        self.silence_pauses(self.flushed, target, &mut out.stereo[first..]);
        if self.config.mono_mix {
            out.mono.extend(
                out.stereo[first..]
                    .iter()
                    .map(|[l, r]| l.saturating_add(*r)),
            );
        }
        self.flushed = target;
        n
    }

    /// Zeroes the frames of `frames` (timeline `from..to`) that fall in a pause.
    fn silence_pauses(&self, from: u64, to: u64, frames: &mut [[i16; 2]]) {
        let open = self.paused_since.map(|start| PausedSpan {
            start,
            end: u64::MAX,
        });
        // Pauses are few; the closed ones before `from` are skipped from the back.
        let recent = self.pauses.iter().rev().take_while(|p| p.end > from);
        for span in recent.chain(open.iter()) {
            let a = span.start.max(from);
            let b = span.end.min(to);
            if a < b {
                // Both bounds lie within from..to, the range `frames` covers.
                let a = (a - from) as usize;
                let b = (b - from) as usize;
                frames[a..b].fill([0, 0]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOUD: u8 = 0x80; // μ-law 32124

    fn ms(t0: Instant, ms: u64) -> Instant {
        t0 + Duration::from_millis(ms)
    }

    fn packet(ssrc: u32, timestamp: u32, payload: &[u8]) -> AudioPacket<'_> {
        AudioPacket {
            ssrc,
            timestamp,
            codec: Codec::Pcmu,
            payload,
        }
    }

    /// Sends 20 ms packets of `side` every 20 ms from `from_ms` to `to_ms` (on time).
    fn stream(rec: &mut Recorder, t0: Instant, side: Side, from_ms: u64, to_ms: u64) {
        for t in (from_ms..to_ms).step_by(20) {
            let ts = (t * 8) as u32;
            rec.handle_packet(
                ms(t0, t),
                side,
                packet(side.index() as u32 + 1, ts, &[LOUD; 160]),
            );
        }
    }

    #[test]
    fn frames_wait_for_the_jitter_horizon_and_finish_gives_exact_length() {
        let t0 = Instant::now();
        let mut rec = Recorder::new(RecorderConfig::default(), t0);
        let mut out = Frames::default();
        stream(&mut rec, t0, Side::Customer, 0, 1000);
        assert_eq!(rec.drain(ms(t0, 1000), &mut out), 6400);
        assert_eq!(rec.drain(ms(t0, 1000), &mut out), 0);
        let summary = rec.finish(ms(t0, 1500), &mut out);
        assert_eq!(summary.frames, 12_000);
        assert_eq!(out.stereo.len(), 12_000);
        assert!(out.stereo[..8000].iter().all(|f| *f == [32124, 0]));
        assert!(out.stereo[8000..].iter().all(|f| *f == [0, 0]));
        // Finished: packets are ignored, drains give nothing.
        assert_eq!(
            rec.handle_packet(ms(t0, 1600), Side::Agent, packet(9, 0, &[LOUD; 160])),
            PacketOutcome::Ignored
        );
        assert_eq!(rec.drain(ms(t0, 5000), &mut out), 0);
    }

    #[test]
    fn sides_go_left_and_right_and_mono_mixes_them() {
        let t0 = Instant::now();
        let config = RecorderConfig {
            mono_mix: true,
            ..RecorderConfig::default()
        };
        let mut rec = Recorder::new(config, t0);
        let mut out = Frames::default();
        let quiet = Codec::Pcmu.encode(1000);
        for k in 0..10u64 {
            let ts = (k * 160) as u32;
            rec.handle_packet(ms(t0, k * 20), Side::Customer, packet(1, ts, &[quiet; 160]));
            rec.handle_packet(
                ms(t0, k * 20),
                Side::Agent,
                packet(2, ts + 999, &[LOUD; 160]),
            );
        }
        rec.finish(ms(t0, 200), &mut out);
        let l = Codec::Pcmu.decode(quiet);
        assert!(out.stereo.iter().all(|f| *f == [l, 32124]));
        // The mix saturates rather than wrapping.
        assert!(out.mono.iter().all(|m| *m == i16::MAX));
        assert_eq!(out.mono.len(), out.stereo.len());
        out.clear();
        assert!(out.stereo.is_empty() && out.mono.is_empty());
    }

    #[test]
    fn duplicates_are_not_doubled_and_late_packets_are_counted() {
        let t0 = Instant::now();
        let mut rec = Recorder::new(RecorderConfig::default(), t0);
        let mut out = Frames::default();
        let first = rec.handle_packet(t0, Side::Customer, packet(1, 0, &[LOUD; 160]));
        assert_eq!(
            first,
            PacketOutcome::Placed {
                offset: 0,
                anchored: Some(AnchorReason::NewSsrc)
            }
        );
        let dup = rec.handle_packet(ms(t0, 5), Side::Customer, packet(1, 0, &[0x00; 160]));
        assert_eq!(dup, PacketOutcome::Duplicate);
        rec.handle_packet(ms(t0, 20), Side::Customer, packet(1, 160, &[LOUD; 160]));
        // 300 ms later everything up to 100 ms is handed out; a packet for 40 ms is too late.
        rec.drain(ms(t0, 300), &mut out);
        let late = rec.handle_packet(ms(t0, 300), Side::Customer, packet(1, 320, &[LOUD; 160]));
        assert_eq!(late, PacketOutcome::Late);
        let stats = rec.stats();
        assert_eq!(
            (stats.packets, stats.duplicate_packets, stats.late_packets),
            (4, 1, 1)
        );
        assert_eq!(stats.late_samples, 160);
        assert_eq!(stats.customer_anchors.new_ssrc, 1);
        assert!(out.stereo[..320].iter().all(|f| *f == [32124, 0]));
        assert!(out.stereo[320..].iter().all(|f| *f == [0, 0]));
    }

    #[test]
    fn a_pause_is_silent_in_both_channels_and_listed() {
        let t0 = Instant::now();
        let mut rec = Recorder::new(RecorderConfig::default(), t0);
        let mut out = Frames::default();
        stream(&mut rec, t0, Side::Customer, 0, 500);
        stream(&mut rec, t0, Side::Agent, 0, 500);
        assert!(rec.pause(ms(t0, 500)));
        assert!(!rec.pause(ms(t0, 510)));
        assert!(rec.is_paused());
        stream(&mut rec, t0, Side::Customer, 500, 1000);
        stream(&mut rec, t0, Side::Agent, 500, 1000);
        rec.drain(ms(t0, 1000), &mut out);
        assert!(rec.resume(ms(t0, 1000)));
        assert!(!rec.resume(ms(t0, 1001)));
        stream(&mut rec, t0, Side::Customer, 1000, 1500);
        stream(&mut rec, t0, Side::Agent, 1000, 1500);
        // A second pause still open at the end is closed by finish.
        assert!(rec.pause(ms(t0, 1400)));
        let summary = rec.finish(ms(t0, 1500), &mut out);
        assert_eq!(
            summary.pauses,
            vec![
                PausedSpan {
                    start: 4000,
                    end: 8000
                },
                PausedSpan {
                    start: 11_200,
                    end: 12_000
                }
            ]
        );
        let loud = [32124, 32124];
        assert!(out.stereo[..4000].iter().all(|f| *f == loud));
        assert!(out.stereo[4000..8000].iter().all(|f| *f == [0, 0]));
        assert!(out.stereo[8000..11_200].iter().all(|f| *f == loud));
        assert!(out.stereo[11_200..].iter().all(|f| *f == [0, 0]));
    }

    #[test]
    fn a_pause_cannot_reach_back_before_frames_already_handed_out() {
        let t0 = Instant::now();
        let mut rec = Recorder::new(RecorderConfig::default(), t0);
        let mut out = Frames::default();
        rec.drain(ms(t0, 1000), &mut out);
        // A `now` from the past starts the pause at the horizon.
        assert!(rec.pause(ms(t0, 100)));
        let summary = rec.finish(ms(t0, 1200), &mut out);
        assert_eq!(
            summary.pauses,
            vec![PausedSpan {
                start: 6400,
                end: 9600
            }]
        );
    }

    #[test]
    fn empty_payloads_and_times_before_the_start_are_harmless() {
        let t0 = Instant::now() + Duration::from_secs(10);
        let mut rec = Recorder::new(RecorderConfig::default(), t0);
        let mut out = Frames::default();
        assert_eq!(
            rec.handle_packet(t0, Side::Agent, packet(1, 0, &[])),
            PacketOutcome::Ignored
        );
        let early = t0 - Duration::from_secs(5);
        assert!(matches!(
            rec.handle_packet(early, Side::Agent, packet(1, 0, &[LOUD; 8])),
            PacketOutcome::Placed { offset: 0, .. }
        ));
        assert_eq!(rec.drain(early, &mut out), 0);
        assert_eq!(rec.finish(early, &mut out).frames, 0);
    }
}
