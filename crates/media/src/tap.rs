//! Recording tap: a copy of each audio packet a leg receives, handed to a bounded channel.
//!
//! The frame is a fixed-size value (no heap allocation per packet); when the writer falls
//! behind, frames are dropped and counted rather than slowing the media path.

use crate::g711::{alaw_to_linear, ulaw_to_linear};
use crate::sdp::Codec;
use std::time::Instant;

/// Longest payload a tap frame holds (60 ms of G.711); longer payloads are truncated.
pub const MAX_TAP_PAYLOAD: usize = 480;

/// One received audio packet, copied for the recorder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TapFrame {
    /// The label given to `RtpLegHandle::set_tap` (e.g. 0 = caller, 1 = agent).
    pub channel: u8,
    /// When the packet was received.
    pub received_at: Instant,
    /// The sender's RTP timestamp (8 kHz), to place the frame and detect gaps.
    pub rtp_timestamp: u32,
    /// The sender's SSRC (a change means a new stream).
    pub ssrc: u32,
    /// The codec of the payload.
    pub codec: Codec,
    len: u16,
    payload: [u8; MAX_TAP_PAYLOAD],
}

impl TapFrame {
    /// Copies `payload` (truncated to [`MAX_TAP_PAYLOAD`]) into a frame.
    pub fn new(
        channel: u8,
        received_at: Instant,
        rtp_timestamp: u32,
        ssrc: u32,
        codec: Codec,
        payload: &[u8],
    ) -> Self {
        let len = payload.len().min(MAX_TAP_PAYLOAD);
        let mut buf = [0u8; MAX_TAP_PAYLOAD];
        buf[..len].copy_from_slice(&payload[..len]);
        TapFrame {
            channel,
            received_at,
            rtp_timestamp,
            ssrc,
            codec,
            len: len as u16,
            payload: buf,
        }
    }

    /// The encoded payload.
    pub fn payload(&self) -> &[u8] {
        &self.payload[..usize::from(self.len)]
    }

    /// The payload decoded to 16-bit linear samples at 8 kHz.
    pub fn samples(&self) -> impl Iterator<Item = i16> + '_ {
        let codec = self.codec;
        self.payload().iter().map(move |b| match codec {
            Codec::Pcmu => ulaw_to_linear(*b),
            Codec::Pcma => alaw_to_linear(*b),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::g711::{linear_to_alaw, linear_to_ulaw};

    #[test]
    fn frame_keeps_and_decodes_the_payload() {
        let now = Instant::now();
        let a = TapFrame::new(1, now, 160, 9, Codec::Pcma, &[linear_to_alaw(1000); 160]);
        assert_eq!(a.payload().len(), 160);
        assert!(a.samples().all(|s| (s - 1000).abs() < 64));
        let u = TapFrame::new(0, now, 0, 9, Codec::Pcmu, &[linear_to_ulaw(-500); 10]);
        assert!(u.samples().all(|s| (s + 500).abs() < 32));
        let long = TapFrame::new(0, now, 0, 9, Codec::Pcmu, &[0xFF; 1000]);
        assert_eq!(long.payload().len(), MAX_TAP_PAYLOAD);
    }
}
