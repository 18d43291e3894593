//! hotline-media: the media plane of hotline.
//!
//! Pure, sans-IO parts (no sockets, no clock reads):
//! [`rtp`] (RTP header, RTCP recognition), [`g711`] (μ-law/A-law), [`sdp`] (offer/answer),
//! [`dtmf`] (RFC 4733 and SIP INFO), [`prompt`] (WAV prompts, the prompt library and the 20 ms
//! frame player), [`resample`] (sample-rate conversion with an anti-aliasing filter),
//! [`stream`] (one continuous outgoing stream per leg, relay rewrite), [`ports`]
//! (RTP port leases), [`tap`] (recording copies of received audio). The tokio part is [`leg`]:
//! one UDP socket and task per call leg, with a handle to play prompts, bridge two legs and
//! receive DTMF/inactivity events.
//! [`amd`] (answering-machine detection from the answer's audio) is pure as well.
//!
//! A call's media, as the call task drives it:
//!
//! ```no_run
//! use hotline_media::sdp::{Capabilities, Direction, NegotiateError, SdpSession, SessionDescription};
//! use hotline_media::{LegConfig, LegEvent, PlayMode, PromptLibrary, RtpLeg, RtpPortAllocator};
//!
//! # async fn call(offer_body: &str) -> Result<(), Box<dyn std::error::Error>> {
//! let ports = RtpPortAllocator::new(20000..=29999); // once, shared by all calls
//! let prompts = PromptLibrary::load("prompts")?; // once, at start
//! let caps = Capabilities::default();
//! let ip = "203.0.113.5".parse()?;
//!
//! // Caller leg: answer the INVITE's offer.
//! let (caller, mut caller_events) = RtpLeg::bind(ip, &ports, LegConfig::default()).await?;
//! let mut caller_sdp = SdpSession::with_random_id(ip, caller.local_addr().port());
//! let offer = SessionDescription::parse(offer_body)?;
//! let answer_body = match caller_sdp.answer(&offer, &caps, Direction::SendRecv) {
//!     Ok((body, negotiated)) => {
//!         caller.set_remote(negotiated)?;
//!         body // goes in the 200 OK
//!     }
//!     // 488 Not Acceptable Here, Warning: 305 <host> "Incompatible media format"
//!     Err(NegotiateError::NoCommonCodec) => return Ok(()),
//!     Err(_) => return Ok(()),
//! };
//! # let _ = answer_body;
//!
//! // IVR: play the greeting, collect a digit.
//! caller.play(prompts.prompt("en", "greeting").expect("bundled"), PlayMode::Once)?;
//! while let Some(event) = caller_events.recv().await {
//!     match event {
//!         LegEvent::Dtmf(digit) => { caller.stop_playback()?; let _ = digit; break; }
//!         LegEvent::PlaybackFinished | LegEvent::FirstPacket => {}
//!         LegEvent::Inactive => { caller.close()?; return Ok(()); } // hang up
//!     }
//! }
//!
//! // Queue: music on hold until an agent answers.
//! caller.play(prompts.prompt("en", "moh").expect("bundled"), PlayMode::Loop)?;
//!
//! // Agent leg: we offer, the agent's 200 OK answers.
//! let (agent, _agent_events) = RtpLeg::bind(ip, &ports, LegConfig::default()).await?;
//! let mut agent_sdp = SdpSession::with_random_id(ip, agent.local_addr().port());
//! let invite_body = agent_sdp.offer(&caps, Direction::SendRecv);
//! # let agent_answer_body = invite_body.clone();
//! let agent_answer = SessionDescription::parse(&agent_answer_body)?;
//! agent.set_remote(agent_sdp.accept_answer(&agent_answer, &caps, Direction::SendRecv)?)?;
//!
//! // Bridge (stops the music; the caller hears the agent on the same RTP stream).
//! caller.bridge_to(&agent)?;
//! // ... BYE from either side:
//! caller.close()?;
//! agent.close()?;
//! # Ok(())
//! # }
//! ```

pub mod amd;
pub mod dtmf;
pub mod g711;
pub mod leg;
pub mod ports;
pub mod prompt;
pub mod resample;
pub mod rtp;
pub mod sdp;
pub mod stream;
pub mod tap;

pub use amd::{AmdAction, AmdConfig, AmdDecision, AmdDetector, AmdVerdict};
pub use dtmf::DtmfDetector;
pub use leg::{
    LegClosed, LegConfig, LegError, LegEvent, LegStats, RtpLeg, RtpLegHandle, SendDtmfError,
};
pub use ports::{PortLease, PortsExhausted, RtpPortAllocator};
pub use prompt::{PlayMode, Prompt, PromptError, PromptLibrary, PromptPlayer};
pub use sdp::{Capabilities, Codec, Direction, NegotiateError, Negotiated, SdpSession};
pub use tap::TapFrame;
