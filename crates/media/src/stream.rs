//! The outgoing RTP stream of one leg, and the per-packet relay rewrite of a bridge.
//!
//! The far end must see ONE continuous stream whatever it hears (prompt, music, the other party):
//! one SSRC for the leg's life, sequence numbers +1 per packet, timestamps that follow the wall
//! clock at 8 kHz across silence gaps, and the marker bit on the first packet after a source
//! switch. [`OutboundStream`] keeps that state; [`relay_packet`] rewrites a packet received on
//! the other leg (SSRC, seq and timestamp mapped with offsets fixed at the switch, payload
//! transcoded between A-law and μ-law, telephone-event PT remapped) without allocating.

use crate::g711::{ALAW_TO_ULAW, ULAW_TO_ALAW};
use crate::rtp::{RtpHeader, RtpPacket, HEADER_LEN};
use crate::sdp::{Codec, Negotiated};
use std::time::Instant;

/// What is currently feeding an outgoing stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Frames generated locally (prompt, music on hold, tones).
    Local,
    /// Packets relayed from the other leg of a bridge, from the given incoming SSRC.
    Relay {
        /// The incoming SSRC being relayed; a new one is a new source.
        ssrc: u32,
    },
}

/// Sequence/timestamp state of one leg's outgoing stream (pure; the clock is an argument).
#[derive(Debug, Clone)]
pub struct OutboundStream {
    ssrc: u32,
    origin: Instant,
    origin_ts: u32,
    next_seq: u16,
    next_ts: u32,
    sent_any: bool,
    source: Option<Source>,
    relay_floor: u16,
    event_ts: u32,
    seq_offset: u16,
    ts_offset: u32,
}

/// How far behind the newest relayed packet a reordered packet may still be relayed.
const REORDER_WINDOW: u16 = 1000;

/// True when `a` is after `b` in 16-bit sequence space.
fn seq_after_or_eq(a: u16, b: u16) -> bool {
    (a.wrapping_sub(b) as i16) >= 0
}

/// True when `a` is after `b` in 32-bit timestamp space.
fn ts_after(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) > 0
}

impl OutboundStream {
    /// Creates a stream with the given SSRC and initial sequence number and timestamp; `now`
    /// anchors the wall-clock timestamp.
    pub fn new(ssrc: u32, initial_seq: u16, initial_ts: u32, now: Instant) -> Self {
        OutboundStream {
            ssrc,
            origin: now,
            origin_ts: initial_ts,
            next_seq: initial_seq,
            next_ts: initial_ts,
            sent_any: false,
            source: None,
            relay_floor: initial_seq,
            event_ts: initial_ts,
            seq_offset: 0,
            ts_offset: 0,
        }
    }

    /// Creates a stream with a random SSRC, sequence number and timestamp (RFC 3550 §5.1).
    pub fn random(now: Instant) -> Self {
        Self::new(rand::random(), rand::random(), rand::random(), now)
    }

    /// The stream's SSRC (constant for the leg's life).
    pub fn ssrc(&self) -> u32 {
        self.ssrc
    }

    /// The sequence number the next packet will carry (for a local frame or a new source).
    pub fn next_sequence(&self) -> u16 {
        self.next_seq
    }

    /// The current source, `None` after silence.
    pub fn source(&self) -> Option<Source> {
        self.source
    }

    /// Records that the current source stopped: the next packet, from whatever source, starts a
    /// new talk spurt (marker set, timestamp re-anchored to the wall clock).
    pub fn silence(&mut self) {
        self.source = None;
    }

    fn wall_ts(&self, now: Instant) -> u32 {
        let elapsed = now.saturating_duration_since(self.origin);
        let samples = elapsed.as_nanos() * 8 / 1_000_000;
        self.origin_ts.wrapping_add(samples as u32)
    }

    /// Timestamp at which a new source starts: the wall clock, but never before the end of what
    /// was already sent.
    fn start_ts(&self, now: Instant) -> u32 {
        let wall = self.wall_ts(now);
        if self.sent_any && !ts_after(wall, self.next_ts) {
            self.next_ts
        } else {
            wall
        }
    }

    fn advance(&mut self, seq: u16, ts: u32, samples: u32) {
        if seq_after_or_eq(seq, self.next_seq) {
            self.next_seq = seq.wrapping_add(1);
        }
        let end = ts.wrapping_add(samples);
        if !self.sent_any || ts_after(end, self.next_ts) {
            self.next_ts = end;
        }
        self.sent_any = true;
    }

    /// The header of the next locally generated frame of `samples` samples.
    pub fn next_local(&mut self, now: Instant, payload_type: u8, samples: u32) -> RtpHeader {
        let switched = self.source != Some(Source::Local);
        let ts = if switched {
            self.start_ts(now)
        } else {
            self.next_ts
        };
        self.source = Some(Source::Local);
        let seq = self.next_seq;
        self.advance(seq, ts, samples);
        RtpHeader {
            marker: switched,
            payload_type,
            sequence: seq,
            timestamp: ts,
            ssrc: self.ssrc,
        }
    }

    /// The header of a locally generated telephone-event packet. `first` starts a new event
    /// (marker set, timestamp taken where the next audio frame would start); later packets of
    /// the event reuse that timestamp. `duration` (samples so far) moves the end of the stream
    /// so that audio after the event continues behind it.
    pub fn next_event(
        &mut self,
        now: Instant,
        payload_type: u8,
        first: bool,
        duration: u16,
    ) -> RtpHeader {
        if first {
            self.event_ts = if self.source == Some(Source::Local) {
                self.next_ts
            } else {
                self.start_ts(now)
            };
            self.source = Some(Source::Local);
        }
        let seq = self.next_seq;
        self.advance(seq, self.event_ts, u32::from(duration));
        RtpHeader {
            marker: first,
            payload_type,
            sequence: seq,
            timestamp: self.event_ts,
            ssrc: self.ssrc,
        }
    }

    /// The header for relaying `incoming` (carrying `samples` samples of audio, 0 for events)
    /// with `payload_type`; `None` for a late packet from before the current relay started.
    pub fn next_relayed(
        &mut self,
        now: Instant,
        incoming: &RtpHeader,
        payload_type: u8,
        samples: u32,
    ) -> Option<RtpHeader> {
        let source = Source::Relay {
            ssrc: incoming.ssrc,
        };
        let switched = self.source != Some(source);
        if switched {
            self.source = Some(source);
            self.relay_floor = self.next_seq;
            self.seq_offset = self.next_seq.wrapping_sub(incoming.sequence);
            self.ts_offset = self.start_ts(now).wrapping_sub(incoming.timestamp);
        }
        let seq = incoming.sequence.wrapping_add(self.seq_offset);
        // Packets from before the switch (their numbers belong to the previous source) and
        // stragglers far behind are dropped; the floor trails the stream so it never wraps.
        if !seq_after_or_eq(seq, self.relay_floor) {
            return None;
        }
        let ts = incoming.timestamp.wrapping_add(self.ts_offset);
        self.advance(seq, ts, samples);
        let trailing = self.next_seq.wrapping_sub(REORDER_WINDOW);
        if seq_after_or_eq(trailing, self.relay_floor) {
            self.relay_floor = trailing;
        }
        Some(RtpHeader {
            marker: switched || incoming.marker,
            payload_type,
            sequence: seq,
            timestamp: ts,
            ssrc: self.ssrc,
        })
    }
}

/// The payload formats of one leg, as negotiated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LegFormat {
    /// Audio codec.
    pub codec: Codec,
    /// Audio payload type.
    pub codec_pt: u8,
    /// Telephone-event payload type, if negotiated.
    pub dtmf_pt: Option<u8>,
}

impl From<&Negotiated> for LegFormat {
    fn from(n: &Negotiated) -> Self {
        LegFormat {
            codec: n.codec,
            codec_pt: n.codec_pt,
            dtmf_pt: n.dtmf_pt,
        }
    }
}

/// What a received payload type carries on a leg.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayloadKind {
    /// G.711 audio in this codec.
    Audio(Codec),
    /// An RFC 4733 telephone-event.
    TelephoneEvent,
    /// Anything else (comfort noise, unknown): not relayed.
    Other,
}

impl LegFormat {
    /// Classifies a received payload type. Besides the negotiated PT, the static G.711 types 0
    /// and 8 are accepted unless reassigned, since some phones switch law mid-call.
    pub fn classify(&self, payload_type: u8) -> PayloadKind {
        if Some(payload_type) == self.dtmf_pt {
            PayloadKind::TelephoneEvent
        } else if payload_type == self.codec_pt {
            PayloadKind::Audio(self.codec)
        } else {
            Codec::from_static_payload_type(payload_type)
                .map_or(PayloadKind::Other, PayloadKind::Audio)
        }
    }
}

/// Rewrites a packet received on the leg with format `from` for sending on a leg with format
/// `to` and outgoing stream `stream`, writing the result into `out`.
///
/// Returns the length written, or `None` when the packet must not be relayed (telephone-event
/// towards a leg without one, comfort noise and unknown PTs, late packets, `out` too small).
pub fn relay_packet(
    stream: &mut OutboundStream,
    now: Instant,
    from: &LegFormat,
    to: &LegFormat,
    packet: &RtpPacket<'_>,
    out: &mut [u8],
) -> Option<usize> {
    let payload = packet.payload;
    let total = HEADER_LEN + payload.len();
    if out.len() < total {
        return None;
    }
    let (pt, samples, table) = match from.classify(packet.header.payload_type) {
        PayloadKind::TelephoneEvent => (to.dtmf_pt?, 0, None),
        PayloadKind::Audio(codec) => {
            let table = match (codec, to.codec) {
                (Codec::Pcma, Codec::Pcmu) => Some(&ALAW_TO_ULAW),
                (Codec::Pcmu, Codec::Pcma) => Some(&ULAW_TO_ALAW),
                _ => None,
            };
            (to.codec_pt, payload.len() as u32, table)
        }
        PayloadKind::Other => return None,
    };
    let header = stream.next_relayed(now, &packet.header, pt, samples)?;
    header.write(out)?;
    let dst = &mut out[HEADER_LEN..total];
    match table {
        Some(table) => {
            for (d, s) in dst.iter_mut().zip(payload) {
                *d = table[*s as usize];
            }
        }
        None => dst.copy_from_slice(payload),
    }
    Some(total)
}

#[cfg(test)]
mod tests;
