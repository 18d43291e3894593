//! RTP fixed header parsing and serialisation (RFC 3550), and RTCP recognition (RFC 5761).
//!
//! Parsing borrows the datagram: no allocation. CSRC lists and header extensions are skipped and
//! padding is removed from the payload. RTCP arriving on the RTP port (rtcp-mux, or a peer that
//! sends it there anyway) is recognised by its packet type so it is never played as media.

use thiserror::Error;

/// Length of the fixed RTP header, without CSRCs or extension.
pub const HEADER_LEN: usize = 12;

/// Why a datagram is not a valid RTP packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum RtpError {
    /// Shorter than the fixed 12-byte header.
    #[error("packet of {0} bytes is shorter than the RTP header")]
    TooShort(usize),
    /// The version field is not 2.
    #[error("unsupported RTP version {0}")]
    BadVersion(u8),
    /// The CSRC list or header extension runs past the end of the packet.
    #[error("CSRC list or header extension runs past the end of the packet")]
    TruncatedHeader,
    /// The padding count is zero or larger than the payload.
    #[error("invalid padding length {0}")]
    BadPadding(u8),
    /// The packet is RTCP (packet type 192-223), not media.
    #[error("RTCP packet type {0}")]
    Rtcp(u8),
}

/// The fields of an RTP header that hotline reads or writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtpHeader {
    /// Marker bit: start of a talk spurt, or first packet after a source switch.
    pub marker: bool,
    /// Payload type (7 bits).
    pub payload_type: u8,
    /// Sequence number.
    pub sequence: u16,
    /// Media timestamp (8 kHz clock for G.711 and telephone-event).
    pub timestamp: u32,
    /// Synchronisation source identifier.
    pub ssrc: u32,
}

/// A parsed RTP packet borrowing the datagram it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtpPacket<'a> {
    /// The header fields.
    pub header: RtpHeader,
    /// The payload, after CSRCs and extension, without padding.
    pub payload: &'a [u8],
}

/// Whether a datagram's second byte marks it as RTCP (RFC 5761 §4: packet types 192-223).
///
/// This covers SR/RR/SDES/BYE/APP (200-204) and the feedback types; RTP payload types 64-95,
/// which would collide, are never negotiated by hotline.
pub fn is_rtcp(datagram: &[u8]) -> bool {
    datagram.len() >= 2 && (192..=223).contains(&datagram[1])
}

impl<'a> RtpPacket<'a> {
    /// Parses a datagram; any malformed input is an error, never a panic.
    pub fn parse(datagram: &'a [u8]) -> Result<Self, RtpError> {
        if datagram.len() < HEADER_LEN {
            return Err(RtpError::TooShort(datagram.len()));
        }
        let b0 = datagram[0];
        let version = b0 >> 6;
        if version != 2 {
            return Err(RtpError::BadVersion(version));
        }
        if is_rtcp(datagram) {
            return Err(RtpError::Rtcp(datagram[1]));
        }
        let padding = b0 & 0x20 != 0;
        let extension = b0 & 0x10 != 0;
        let csrc_count = (b0 & 0x0f) as usize;
        let b1 = datagram[1];
        let header = RtpHeader {
            marker: b1 & 0x80 != 0,
            payload_type: b1 & 0x7f,
            sequence: u16::from_be_bytes([datagram[2], datagram[3]]),
            timestamp: u32::from_be_bytes([datagram[4], datagram[5], datagram[6], datagram[7]]),
            ssrc: u32::from_be_bytes([datagram[8], datagram[9], datagram[10], datagram[11]]),
        };
        let mut offset = HEADER_LEN + 4 * csrc_count;
        if extension {
            let ext = datagram
                .get(offset..offset + 4)
                .ok_or(RtpError::TruncatedHeader)?;
            let words = u16::from_be_bytes([ext[2], ext[3]]) as usize;
            offset += 4 + 4 * words;
        }
        if offset > datagram.len() {
            return Err(RtpError::TruncatedHeader);
        }
        let mut end = datagram.len();
        if padding {
            let count = datagram[end - 1];
            if count == 0 || count as usize > end - offset {
                return Err(RtpError::BadPadding(count));
            }
            end -= count as usize;
        }
        Ok(RtpPacket {
            header,
            payload: &datagram[offset..end],
        })
    }
}

impl RtpHeader {
    /// Writes the 12-byte header (no CSRC, no extension, no padding) at the start of `out`.
    ///
    /// Returns the number of bytes written, or `None` if `out` is shorter than 12 bytes.
    pub fn write(&self, out: &mut [u8]) -> Option<usize> {
        let out = out.get_mut(..HEADER_LEN)?;
        out[0] = 0x80;
        out[1] = (u8::from(self.marker) << 7) | (self.payload_type & 0x7f);
        out[2..4].copy_from_slice(&self.sequence.to_be_bytes());
        out[4..8].copy_from_slice(&self.timestamp.to_be_bytes());
        out[8..12].copy_from_slice(&self.ssrc.to_be_bytes());
        Some(HEADER_LEN)
    }

    /// Writes the header followed by `payload` into `out`; returns the packet length.
    pub fn write_packet(&self, payload: &[u8], out: &mut [u8]) -> Option<usize> {
        let total = HEADER_LEN + payload.len();
        let dst = out.get_mut(..total)?;
        self.write(dst)?;
        dst[HEADER_LEN..].copy_from_slice(payload);
        Some(total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn header() -> RtpHeader {
        RtpHeader {
            marker: true,
            payload_type: 8,
            sequence: 0xBEEF,
            timestamp: 0xDEAD_BEEF,
            ssrc: 0x1234_5678,
        }
    }

    #[test]
    fn write_then_parse_round_trips() {
        let mut buf = [0u8; 64];
        let len = header()
            .write_packet(&[1, 2, 3], &mut buf)
            .expect("buffer large enough");
        let packet = RtpPacket::parse(&buf[..len]).expect("valid packet");
        assert_eq!(packet.header, header());
        assert_eq!(packet.payload, &[1, 2, 3]);
    }

    #[test]
    fn csrc_extension_and_padding_are_skipped() {
        let mut buf = vec![0xB2, 0x00, 0, 1, 0, 0, 0, 160, 0, 0, 0, 9];
        buf.extend_from_slice(&[0xAA; 8]); // two CSRCs
        buf.extend_from_slice(&[0xBE, 0xDE, 0, 1, 0x10, 0x20, 0x30, 0x40]); // extension, 1 word
        buf.extend_from_slice(&[7, 7, 7]); // payload
        buf.extend_from_slice(&[0, 0, 3]); // padding of 3
        buf[0] |= 0x20;
        let packet = RtpPacket::parse(&buf).expect("valid packet");
        assert_eq!(packet.payload, &[7, 7, 7]);
        assert_eq!(packet.header.sequence, 1);
        assert_eq!(packet.header.timestamp, 160);
        assert_eq!(packet.header.ssrc, 9);
    }

    #[test]
    fn malformed_packets_are_errors() {
        assert_eq!(RtpPacket::parse(&[0x80; 5]), Err(RtpError::TooShort(5)));
        let mut v1 = [0u8; 12];
        v1[0] = 0x40;
        assert_eq!(RtpPacket::parse(&v1), Err(RtpError::BadVersion(1)));
        let mut csrc = [0u8; 12];
        csrc[0] = 0x8F;
        assert_eq!(RtpPacket::parse(&csrc), Err(RtpError::TruncatedHeader));
        let mut ext = [0u8; 12];
        ext[0] = 0x90;
        assert_eq!(RtpPacket::parse(&ext), Err(RtpError::TruncatedHeader));
        let mut pad = [0u8; 13];
        pad[0] = 0xA0;
        pad[12] = 5;
        assert_eq!(RtpPacket::parse(&pad), Err(RtpError::BadPadding(5)));
    }

    #[test]
    fn rtcp_is_recognised_not_media() {
        // Receiver report, PT 201.
        let rr = [0x80, 201, 0, 1, 0, 0, 0, 1];
        assert!(is_rtcp(&rr));
        let mut sr = [0u8; 28];
        sr[0] = 0x80;
        sr[1] = 200;
        assert_eq!(RtpPacket::parse(&sr), Err(RtpError::Rtcp(200)));
        // PCMU with the marker bit set is 0x80: not RTCP.
        let mut pcmu = [0u8; 12];
        pcmu[0] = 0x80;
        pcmu[1] = 0x80;
        assert!(!is_rtcp(&pcmu));
    }

    proptest! {
        #[test]
        fn parse_never_panics(data in proptest::collection::vec(any::<u8>(), 0..200)) {
            if let Ok(p) = RtpPacket::parse(&data) {
                prop_assert!(p.payload.len() <= data.len());
            }
        }

        #[test]
        fn parse_never_panics_on_version_2(mut data in proptest::collection::vec(any::<u8>(), 12..200)) {
            data[0] = (data[0] & 0x3f) | 0x80;
            let _ = RtpPacket::parse(&data);
        }
    }
}
