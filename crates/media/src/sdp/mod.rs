//! SDP offer/answer (RFC 3264) for G.711 audio with RFC 4733 telephone-events.
//!
//! * [`SessionDescription::parse`] reads a body into typed values.
//! * [`negotiate_offer`] picks, in the offerer's order, the first codec we support and the
//!   offerer's telephone-event payload type; [`NegotiateError::NoCommonCodec`] means the server
//!   answers `488 Not Acceptable Here` with `Warning: 305 <host> "Incompatible media format"`
//!   ([`INCOMPATIBLE_MEDIA_WARNING`]).
//! * [`SdpSession`] owns our side of one leg's SDP session (o= id and version, address, port) and
//!   builds answers and offers; the o= version increments whenever the body we send changes
//!   (hold/resume re-offers) and stays put when it does not.

mod build;
mod parse;

pub use build::SdpSession;
pub use parse::{MediaDescription, Origin, RtpMap, SdpError, SessionDescription};

use std::net::SocketAddr;
use thiserror::Error;

/// The text of the SIP `Warning` header code 305 the server adds to a 488 on `NoCommonCodec`.
pub const INCOMPATIBLE_MEDIA_WARNING: &str = "Incompatible media format";

/// An audio codec hotline speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Codec {
    /// G.711 μ-law, static payload type 0.
    Pcmu,
    /// G.711 A-law, static payload type 8.
    Pcma,
}

impl Codec {
    /// The RFC 3551 static payload type.
    pub fn static_payload_type(self) -> u8 {
        match self {
            Codec::Pcmu => 0,
            Codec::Pcma => 8,
        }
    }

    /// The rtpmap encoding name.
    pub fn encoding_name(self) -> &'static str {
        match self {
            Codec::Pcmu => "PCMU",
            Codec::Pcma => "PCMA",
        }
    }

    /// The codec of a static payload type (0 or 8).
    pub fn from_static_payload_type(pt: u8) -> Option<Codec> {
        match pt {
            0 => Some(Codec::Pcmu),
            8 => Some(Codec::Pcma),
            _ => None,
        }
    }

    /// The codec of an rtpmap encoding name (case-insensitive).
    pub fn from_encoding_name(name: &str) -> Option<Codec> {
        if name.eq_ignore_ascii_case("PCMU") {
            Some(Codec::Pcmu)
        } else if name.eq_ignore_ascii_case("PCMA") {
            Some(Codec::Pcma)
        } else {
            None
        }
    }
}

/// A media direction attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// `a=sendrecv` (the default).
    SendRecv,
    /// `a=sendonly`.
    SendOnly,
    /// `a=recvonly`.
    RecvOnly,
    /// `a=inactive`.
    Inactive,
}

impl Direction {
    /// Whether the side holding this direction sends media.
    pub fn sends(self) -> bool {
        matches!(self, Direction::SendRecv | Direction::SendOnly)
    }

    /// Whether the side holding this direction receives media.
    pub fn receives(self) -> bool {
        matches!(self, Direction::SendRecv | Direction::RecvOnly)
    }

    /// The direction the other side must take (sendonly <-> recvonly).
    pub fn reversed(self) -> Direction {
        Direction::from_flags(self.receives(), self.sends())
    }

    /// The direction allowed by both `self` and `other` (intersection of send and receive).
    pub fn intersect(self, other: Direction) -> Direction {
        Direction::from_flags(
            self.sends() && other.sends(),
            self.receives() && other.receives(),
        )
    }

    /// The direction with the given send/receive flags.
    pub fn from_flags(send: bool, recv: bool) -> Direction {
        match (send, recv) {
            (true, true) => Direction::SendRecv,
            (true, false) => Direction::SendOnly,
            (false, true) => Direction::RecvOnly,
            (false, false) => Direction::Inactive,
        }
    }

    /// The SDP attribute name.
    pub fn attribute(self) -> &'static str {
        match self {
            Direction::SendRecv => "sendrecv",
            Direction::SendOnly => "sendonly",
            Direction::RecvOnly => "recvonly",
            Direction::Inactive => "inactive",
        }
    }
}

/// What we can do, used to negotiate and to build offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capabilities {
    /// Supported codecs; their order is our preference in offers we build (answers follow the
    /// offerer's order).
    pub codecs: Vec<Codec>,
    /// Whether to accept and offer RFC 4733 telephone-events.
    pub telephone_event: bool,
    /// The dynamic payload type we use for telephone-event in our own offers.
    pub telephone_event_pt: u8,
}

impl Default for Capabilities {
    fn default() -> Self {
        Capabilities {
            codecs: vec![Codec::Pcmu, Codec::Pcma],
            telephone_event: true,
            telephone_event_pt: 101,
        }
    }
}

/// The outcome of offer/answer for one leg: where to send, in which format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Negotiated {
    /// Where the remote wants our RTP (from its SDP; the leg may re-latch to the real source).
    pub remote: SocketAddr,
    /// The audio codec both sides use.
    pub codec: Codec,
    /// The payload type of that codec on this leg.
    pub codec_pt: u8,
    /// The telephone-event payload type on this leg, if negotiated.
    pub dtmf_pt: Option<u8>,
    /// OUR direction on this leg: `sends()` says whether we may send to the remote,
    /// `receives()` whether it sends to us. A remote hold yields RecvOnly or Inactive.
    pub direction: Direction,
    /// The remote's `a=ptime`, if given (we always send 20 ms).
    pub ptime: Option<u32>,
}

impl Negotiated {
    /// Whether the remote has put this leg on hold (it does not want our media).
    pub fn is_held_by_remote(&self) -> bool {
        !self.direction.sends()
    }
}

/// Why an offer or answer cannot be accepted.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum NegotiateError {
    /// No usable (RTP/AVP, non-zero port) audio stream.
    #[error("no usable audio stream in the session description")]
    NoAudio,
    /// Audio offered, but in no codec we support (answer 488 + Warning 305). Its `Display` is
    /// exactly the Warning text, `Incompatible media format`.
    #[error("Incompatible media format")]
    NoCommonCodec,
    /// The audio stream has no connection address.
    #[error("audio stream without a connection (c=) address")]
    NoConnectionAddress,
}

impl NegotiateError {
    /// The SIP Warning (RFC 3261 §20.43) to put on the 488 answering this: code and text.
    pub fn warning(&self) -> (u16, &'static str) {
        match self {
            NegotiateError::NoCommonCodec => (305, INCOMPATIBLE_MEDIA_WARNING),
            NegotiateError::NoAudio => (304, "Media type not available"),
            NegotiateError::NoConnectionAddress => (305, INCOMPATIBLE_MEDIA_WARNING),
        }
    }
}

/// Negotiates a remote offer against our capabilities.
///
/// Returns the index of the chosen `m=` section (the answer keeps every section, rejecting the
/// others with port 0) and the outcome. The codec is the first in the offerer's list that we
/// support; the telephone-event PT is the offerer's. A connection address of `0.0.0.0`/`::` or a
/// sendonly/inactive attribute is a hold: our direction then excludes sending.
pub fn negotiate_offer(
    offer: &SessionDescription,
    caps: &Capabilities,
) -> Result<(usize, Negotiated), NegotiateError> {
    let mut saw_audio = false;
    for (index, media) in offer.media.iter().enumerate() {
        if !media.is_active_audio() {
            continue;
        }
        saw_audio = true;
        let Some((codec, codec_pt)) = media.payload_types().find_map(|pt| {
            media
                .codec_of(pt)
                .filter(|c| caps.codecs.contains(c))
                .map(|c| (c, pt))
        }) else {
            continue;
        };
        let ip = offer
            .connection_of(media)
            .ok_or(NegotiateError::NoConnectionAddress)?;
        let mut theirs = offer.direction_of(media);
        if ip.is_unspecified() {
            // RFC 2543 hold: they cannot receive at 0.0.0.0.
            theirs = theirs.intersect(Direction::SendOnly);
        }
        let dtmf_pt = if caps.telephone_event {
            media.telephone_event_pt()
        } else {
            None
        };
        return Ok((
            index,
            Negotiated {
                remote: SocketAddr::new(ip, media.port),
                codec,
                codec_pt,
                dtmf_pt,
                direction: theirs.reversed(),
                ptime: media.ptime,
            },
        ));
    }
    Err(if saw_audio {
        NegotiateError::NoCommonCodec
    } else {
        NegotiateError::NoAudio
    })
}

/// Reads the remote's answer to an offer we made with `offered` direction.
///
/// The codec is the first one in the answer we support (an answer should only contain codecs we
/// offered); the telephone-event PT is the answerer's.
pub fn negotiate_answer(
    answer: &SessionDescription,
    caps: &Capabilities,
    offered: Direction,
) -> Result<Negotiated, NegotiateError> {
    let (_, mut negotiated) = negotiate_offer(answer, caps)?;
    negotiated.direction = negotiated.direction.intersect(offered);
    Ok(negotiated)
}

#[cfg(test)]
mod tests;
