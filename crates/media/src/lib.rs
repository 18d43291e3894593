//! hotline-media: the media plane of hotline.
//!
//! Pure, sans-IO parts (no sockets, no clock reads):
//! [`rtp`] (RTP header, RTCP recognition), [`g711`] (μ-law/A-law), [`sdp`] (offer/answer),
//! [`dtmf`] (RFC 4733 and SIP INFO), [`prompt`] (WAV prompts and the 20 ms frame player),
//! [`stream`] (one continuous outgoing stream per leg, relay rewrite), [`ports`] (RTP port
//! leases), [`tap`] (recording copies of received audio). The tokio part is [`leg`]: one UDP socket and task per call leg, with a handle to
//! play prompts, bridge two legs and receive DTMF/inactivity events.

pub mod dtmf;
pub mod g711;
pub mod leg;
pub mod ports;
pub mod prompt;
pub mod rtp;
pub mod sdp;
pub mod stream;
pub mod tap;

pub use dtmf::DtmfDetector;
pub use leg::{LegClosed, LegConfig, LegError, LegEvent, LegStats, RtpLeg, RtpLegHandle};
pub use ports::{PortLease, PortsExhausted, RtpPortAllocator};
pub use prompt::{PlayMode, Prompt, PromptError, PromptLibrary, PromptPlayer};
pub use sdp::{Capabilities, Codec, Direction, NegotiateError, Negotiated, SdpSession};
pub use tap::TapFrame;
