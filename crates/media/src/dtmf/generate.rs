//! RFC 4733 telephone-event generation: the payloads of one digit, one per 20 ms tick.
//!
//! A digit is sent as packets every 20 ms carrying the growing duration, then the end packet
//! (E bit) three times for robustness (RFC 4733 §2.5.1.4). All packets of a digit share the
//! RTP timestamp of its start; the first carries the marker bit.

use super::{digit_to_event, TelephoneEvent};
use std::time::Duration;

/// Samples per 20 ms packet interval.
const STEP: u16 = 160;
/// How many times the end packet is sent.
const END_REPEATS: u8 = 3;
/// Volume of generated events, in -dBm0.
const VOLUME: u8 = 10;

/// One packet to send for a digit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventPacket {
    /// The 4-byte payload.
    pub payload: [u8; 4],
    /// First packet of the event (marker bit, new timestamp).
    pub first: bool,
    /// Duration covered so far, in samples.
    pub duration: u16,
}

/// Generates the packets of one digit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DtmfGenerator {
    event: u8,
    total: u16,
    elapsed: u16,
    ends_sent: u8,
}

impl DtmfGenerator {
    /// A generator for `digit` lasting `duration` (clamped to 40 ms..8 s, in 20 ms steps);
    /// `None` if `digit` is not a DTMF character.
    pub fn new(digit: char, duration: Duration) -> Option<Self> {
        let event = digit_to_event(digit)?;
        let ms = duration.as_millis().clamp(40, 8000) as u32;
        let total = ((ms / 20) * u32::from(STEP)) as u16;
        Some(DtmfGenerator {
            event,
            total,
            elapsed: 0,
            ends_sent: 0,
        })
    }

    /// The packet for the next tick, `None` once the last end packet has been produced.
    pub fn next_packet(&mut self) -> Option<EventPacket> {
        let first = self.elapsed == 0;
        let end = if self.elapsed < self.total {
            self.elapsed += STEP;
            self.elapsed >= self.total
        } else if self.ends_sent < END_REPEATS {
            true
        } else {
            return None;
        };
        if end {
            self.ends_sent += 1;
        }
        let event = TelephoneEvent {
            event: self.event,
            end,
            volume: VOLUME,
            duration: self.elapsed,
        };
        Some(EventPacket {
            payload: event.to_bytes(),
            first,
            duration: self.elapsed,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dtmf::DtmfDetector;

    #[test]
    fn a_digit_is_growing_packets_then_three_end_packets() {
        let mut g = DtmfGenerator::new('#', Duration::from_millis(100)).expect("a DTMF digit");
        let packets: Vec<EventPacket> = std::iter::from_fn(|| g.next_packet()).collect();
        let events: Vec<TelephoneEvent> = packets
            .iter()
            .map(|p| TelephoneEvent::parse(&p.payload).expect("4 bytes"))
            .collect();
        assert_eq!(
            events.iter().map(|e| e.duration).collect::<Vec<_>>(),
            vec![160, 320, 480, 640, 800, 800, 800]
        );
        assert_eq!(
            events.iter().map(|e| e.end).collect::<Vec<_>>(),
            vec![false, false, false, false, true, true, true]
        );
        assert!(events.iter().all(|e| e.event == 11));
        assert!(packets[0].first && packets[1..].iter().all(|p| !p.first));
        // The receiver side hears exactly one '#'.
        let mut det = DtmfDetector::new();
        let heard: Vec<char> = packets
            .iter()
            .filter_map(|p| det.on_packet(1, 0, &p.payload))
            .collect();
        assert_eq!(heard, vec!['#']);
    }

    #[test]
    fn invalid_digits_and_extreme_durations() {
        assert!(DtmfGenerator::new('x', Duration::from_millis(100)).is_none());
        let mut short = DtmfGenerator::new('1', Duration::ZERO).expect("digit");
        assert_eq!(std::iter::from_fn(|| short.next_packet()).count(), 2 + 2);
        let mut long = DtmfGenerator::new('1', Duration::from_secs(60)).expect("digit");
        let last = std::iter::from_fn(|| long.next_packet())
            .last()
            .expect("packets");
        assert_eq!(last.duration, 64000);
    }
}
