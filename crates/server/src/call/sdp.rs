//! SDP and DTMF-over-INFO helpers of a call (the negotiation itself is hotline-media's).

use hotline_media::dtmf::{parse_application_dtmf, parse_dtmf_relay};
use hotline_media::sdp::{negotiate_offer, SessionDescription};
use hotline_media::{Capabilities, Direction, Negotiated, SdpSession};
use hotline_sip::message::Request;

use crate::endpoint::Shared;

/// What we support on every leg: PCMU, PCMA, telephone-event 101.
pub fn capabilities() -> Capabilities {
    Capabilities::default()
}

/// Our SDP session for a leg bound on `port`.
pub fn session_for(shared: &Shared, port: u16) -> SdpSession {
    SdpSession::new(
        u64::from(rand::random::<u32>()),
        shared.config.media_ip(),
        port,
    )
}

/// Whether a request's body is SDP (no Content-Type counts as SDP, as on most phones).
pub fn content_is_sdp(req: &Request) -> bool {
    req.headers().content_type().is_none_or(|ct| {
        ct.split(';')
            .next()
            .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/sdp"))
    })
}

/// Checks an offer without answering it; `Err` carries the Warning text for 488.
pub fn check_offer(offer: &str) -> Result<(), String> {
    let sd = SessionDescription::parse(offer).map_err(|e| e.to_string())?;
    negotiate_offer(&sd, &capabilities())
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// The result of answering an offer.
pub enum OfferOutcome {
    /// Our answer and what was agreed.
    Answer {
        /// The SDP answer.
        body: String,
        /// The negotiated media.
        negotiated: Negotiated,
    },
    /// No usable stream: answer 488 with this warning text.
    Refused(String),
}

/// Answers a remote offer.
pub fn answer(session: &mut SdpSession, offer: &str, caps: &Capabilities) -> OfferOutcome {
    let sd = match SessionDescription::parse(offer) {
        Ok(sd) => sd,
        Err(e) => return OfferOutcome::Refused(e.to_string()),
    };
    match session.answer(&sd, caps, Direction::SendRecv) {
        Ok((body, negotiated)) => OfferOutcome::Answer { body, negotiated },
        Err(e) => OfferOutcome::Refused(e.to_string()),
    }
}

/// Reads the answer to an offer we made with `sendrecv`.
pub fn accept_answer(session: &SdpSession, answer: &str) -> Result<Negotiated, String> {
    let sd = SessionDescription::parse(answer).map_err(|e| e.to_string())?;
    session
        .accept_answer(&sd, &capabilities(), Direction::SendRecv)
        .map_err(|e| e.to_string())
}

/// A DTMF digit carried by SIP INFO (`application/dtmf-relay` or `application/dtmf`).
pub fn info_digit(req: &Request) -> Option<char> {
    let ct = req.headers().content_type()?.to_ascii_lowercase();
    let body = String::from_utf8_lossy(req.body());
    if ct.starts_with("application/dtmf-relay") {
        parse_dtmf_relay(&body).ok().map(|d| d.digit)
    } else if ct.starts_with("application/dtmf") {
        parse_application_dtmf(&body).ok()
    } else {
        None
    }
}
