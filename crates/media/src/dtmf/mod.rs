//! DTMF: RFC 4733 telephone-events received over RTP, and SIP INFO bodies.
//!
//! [`DtmfDetector`] reports each digit once, on the FIRST packet of an event (lowest latency, and
//! a digit whose end packets are lost is still heard). An event is identified by
//! (SSRC, RTP timestamp): all packets of one event, including the usually triple-sent end packet,
//! share the timestamp of the event's start, and the next event (even the same digit again) has
//! a new timestamp. The last few keys are remembered so late or reordered packets of an older
//! event are not reported twice.

mod generate;

pub use generate::{DtmfGenerator, EventPacket};

use thiserror::Error;

/// A telephone-event payload is shorter than its 4 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("telephone-event payload of {0} bytes is shorter than 4")]
pub struct ShortEvent(pub usize);

/// An RFC 4733 telephone-event payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TelephoneEvent {
    /// Event code (0-9 digits, 10 `*`, 11 `#`, 12-15 A-D, others not DTMF).
    pub event: u8,
    /// The E bit: this packet ends the event.
    pub end: bool,
    /// Volume in -dBm0 (6 bits).
    pub volume: u8,
    /// Duration so far in timestamp units.
    pub duration: u16,
}

impl TelephoneEvent {
    /// Parses the 4-byte event payload (extra bytes, e.g. redundancy, are ignored).
    pub fn parse(payload: &[u8]) -> Result<Self, ShortEvent> {
        let &[event, flags, d0, d1, ..] = payload else {
            return Err(ShortEvent(payload.len()));
        };
        Ok(TelephoneEvent {
            event,
            end: flags & 0x80 != 0,
            volume: flags & 0x3f,
            duration: u16::from_be_bytes([d0, d1]),
        })
    }

    /// Writes the 4-byte payload.
    pub fn to_bytes(self) -> [u8; 4] {
        let d = self.duration.to_be_bytes();
        [
            self.event,
            (u8::from(self.end) << 7) | (self.volume & 0x3f),
            d[0],
            d[1],
        ]
    }

    /// The DTMF digit of this event, if it is one.
    pub fn digit(self) -> Option<char> {
        event_to_digit(self.event)
    }
}

/// Maps an RFC 4733 event code to its DTMF character (`0`-`9`, `*`, `#`, `A`-`D`).
pub fn event_to_digit(event: u8) -> Option<char> {
    match event {
        0..=9 => Some(char::from(b'0' + event)),
        10 => Some('*'),
        11 => Some('#'),
        12..=15 => Some(char::from(b'A' + event - 12)),
        _ => None,
    }
}

/// Maps a DTMF character (case-insensitive for A-D) to its RFC 4733 event code.
pub fn digit_to_event(digit: char) -> Option<u8> {
    match digit.to_ascii_uppercase() {
        d @ '0'..='9' => Some(d as u8 - b'0'),
        '*' => Some(10),
        '#' => Some(11),
        d @ 'A'..='D' => Some(d as u8 - b'A' + 12),
        _ => None,
    }
}

const REMEMBERED: usize = 8;

/// Turns a stream of telephone-event packets into digits, each reported once.
#[derive(Debug, Clone, Default)]
pub struct DtmfDetector {
    recent: [Option<(u32, u32)>; REMEMBERED],
    next: usize,
}

impl DtmfDetector {
    /// Creates a detector with no history.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds one telephone-event packet; returns the digit if this packet starts a new event.
    /// Malformed payloads and non-DTMF events yield `None`.
    pub fn on_packet(&mut self, ssrc: u32, timestamp: u32, payload: &[u8]) -> Option<char> {
        let event = TelephoneEvent::parse(payload).ok()?;
        let digit = event.digit()?;
        let key = Some((ssrc, timestamp));
        if self.recent.contains(&key) {
            return None;
        }
        self.recent[self.next] = key;
        self.next = (self.next + 1) % REMEMBERED;
        Some(digit)
    }
}

/// Why a SIP INFO DTMF body could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum InfoDtmfError {
    /// No `Signal=` line in an `application/dtmf-relay` body.
    #[error("dtmf-relay body has no Signal line")]
    MissingSignal,
    /// The signal is not a DTMF digit.
    #[error("`{0}` is not a DTMF digit")]
    BadSignal(String),
}

/// A digit received in a SIP INFO.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InfoDigit {
    /// The DTMF character.
    pub digit: char,
    /// The `Duration=` in milliseconds, if given.
    pub duration_ms: Option<u32>,
}

fn signal_to_digit(signal: &str) -> Result<char, InfoDtmfError> {
    let bad = || InfoDtmfError::BadSignal(signal.to_owned());
    let mut chars = signal.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) => digit_to_event(c)
            .and(Some(c.to_ascii_uppercase()))
            .ok_or_else(bad),
        // Some endpoints send event codes: 10 = *, 11 = #, 12-15 = A-D.
        _ => signal
            .parse::<u8>()
            .ok()
            .filter(|e| (10..=15).contains(e))
            .and_then(event_to_digit)
            .ok_or_else(bad),
    }
}

/// Parses an `application/dtmf-relay` body (`Signal=5\r\nDuration=160\r\n`).
pub fn parse_dtmf_relay(body: &str) -> Result<InfoDigit, InfoDtmfError> {
    let mut digit = None;
    let mut duration_ms = None;
    for line in body.lines() {
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let value = value.trim();
        match key.trim().to_ascii_lowercase().as_str() {
            "signal" => digit = Some(signal_to_digit(value)?),
            "duration" => duration_ms = value.parse().ok(),
            _ => {}
        }
    }
    Ok(InfoDigit {
        digit: digit.ok_or(InfoDtmfError::MissingSignal)?,
        duration_ms,
    })
}

/// Parses an `application/dtmf` body: the digit alone (e.g. `5`).
pub fn parse_application_dtmf(body: &str) -> Result<char, InfoDtmfError> {
    let value = body.trim();
    if value.is_empty() {
        return Err(InfoDtmfError::MissingSignal);
    }
    signal_to_digit(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payload(event: u8, end: bool, duration: u16) -> [u8; 4] {
        TelephoneEvent {
            event,
            end,
            volume: 10,
            duration,
        }
        .to_bytes()
    }

    #[test]
    fn parses_the_event_payload() {
        let e = TelephoneEvent::parse(&[11, 0x8A, 0x03, 0x20]).expect("4 bytes");
        assert_eq!(
            e,
            TelephoneEvent {
                event: 11,
                end: true,
                volume: 10,
                duration: 800
            }
        );
        assert_eq!(e.digit(), Some('#'));
        assert_eq!(TelephoneEvent::parse(&[1, 2]), Err(ShortEvent(2)));
    }

    #[test]
    fn maps_all_sixteen_events() {
        let digits: String = (0..16).filter_map(event_to_digit).collect();
        assert_eq!(digits, "0123456789*#ABCD");
        assert_eq!(event_to_digit(16), None);
        for (code, d) in digits.chars().enumerate() {
            assert_eq!(digit_to_event(d), Some(code as u8));
        }
    }

    #[test]
    fn one_digit_despite_three_end_packets() {
        let mut det = DtmfDetector::new();
        let mut digits = Vec::new();
        for (end, dur) in [
            (false, 160),
            (false, 320),
            (false, 480),
            (true, 640),
            (true, 640),
            (true, 640),
        ] {
            digits.extend(det.on_packet(7, 1000, &payload(5, end, dur)));
        }
        assert_eq!(digits, vec!['5']);
    }

    #[test]
    fn two_consecutive_identical_digits_are_both_reported() {
        let mut det = DtmfDetector::new();
        let mut digits = Vec::new();
        for ts in [1000u32, 3000] {
            for (end, dur) in [(false, 160), (true, 800), (true, 800), (true, 800)] {
                digits.extend(det.on_packet(7, ts, &payload(1, end, dur)));
            }
        }
        assert_eq!(digits, vec!['1', '1']);
    }

    #[test]
    fn digit_is_reported_even_if_only_end_packets_arrive() {
        let mut det = DtmfDetector::new();
        assert_eq!(det.on_packet(7, 500, &payload(10, true, 800)), Some('*'));
        assert_eq!(det.on_packet(7, 500, &payload(10, true, 800)), None);
        // Another source with the same timestamp is a different event.
        assert_eq!(det.on_packet(8, 500, &payload(10, true, 800)), Some('*'));
    }

    #[test]
    fn non_dtmf_and_malformed_payloads_are_ignored() {
        let mut det = DtmfDetector::new();
        assert_eq!(det.on_packet(7, 1, &payload(32, false, 160)), None);
        assert_eq!(det.on_packet(7, 2, &[1, 2, 3]), None);
    }

    #[test]
    fn parses_dtmf_relay_bodies() {
        assert_eq!(
            parse_dtmf_relay("Signal=1\r\nDuration=160\r\n"),
            Ok(InfoDigit {
                digit: '1',
                duration_ms: Some(160)
            })
        );
        assert_eq!(parse_dtmf_relay("Signal= *\r\n").map(|d| d.digit), Ok('*'));
        assert_eq!(parse_dtmf_relay("signal=11\n").map(|d| d.digit), Ok('#'));
        assert_eq!(parse_dtmf_relay("Signal=d").map(|d| d.digit), Ok('D'));
        assert_eq!(
            parse_dtmf_relay("Duration=160"),
            Err(InfoDtmfError::MissingSignal)
        );
        assert_eq!(
            parse_dtmf_relay("Signal=X"),
            Err(InfoDtmfError::BadSignal("X".to_owned()))
        );
    }

    #[test]
    fn parses_application_dtmf_bodies() {
        assert_eq!(parse_application_dtmf("5\r\n"), Ok('5'));
        assert_eq!(parse_application_dtmf("#"), Ok('#'));
        assert_eq!(
            parse_application_dtmf(""),
            Err(InfoDtmfError::MissingSignal)
        );
        assert!(parse_application_dtmf("55").is_err());
    }

    proptest::proptest! {
        #[test]
        fn parsers_never_panic(body in ".{0,40}", payload in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..8)) {
            let _ = parse_dtmf_relay(&body);
            let _ = parse_application_dtmf(&body);
            let _ = DtmfDetector::new().on_packet(1, 2, &payload);
        }
    }
}
