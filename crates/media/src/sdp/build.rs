//! Building our SDP bodies: answers to remote offers and our own offers.

use super::{
    negotiate_answer, negotiate_offer, Capabilities, Codec, Direction, NegotiateError, Negotiated,
    SessionDescription,
};
use std::fmt::Write as _;
use std::net::IpAddr;

/// Our side of one leg's SDP session: origin, address and RTP port, and the o= version.
///
/// The o= version is bumped whenever a generated body differs from the previous one (RFC 3264
/// §8: a re-offer that changes the session, e.g. hold/resume, carries version + 1; an unchanged
/// body keeps the version).
#[derive(Debug, Clone)]
pub struct SdpSession {
    session_id: u64,
    version: u64,
    address: IpAddr,
    port: u16,
    last_body: Option<String>,
}

fn family(ip: IpAddr) -> &'static str {
    match ip {
        IpAddr::V4(_) => "IP4",
        IpAddr::V6(_) => "IP6",
    }
}

impl SdpSession {
    /// Creates a session advertising `address:port`; `session_id` should be random (e.g.
    /// `rand::random::<u32>() as u64`), and is also used as the first version.
    pub fn new(session_id: u64, address: IpAddr, port: u16) -> Self {
        SdpSession {
            session_id,
            version: session_id,
            address,
            port,
            last_body: None,
        }
    }

    /// Creates a session with a random session id.
    pub fn with_random_id(address: IpAddr, port: u16) -> Self {
        Self::new(u64::from(rand::random::<u32>()), address, port)
    }

    /// The o= version of the last body built.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// Answers a remote offer: returns our SDP body and the negotiated parameters.
    ///
    /// Every offered `m=` section is answered in order; all but the chosen audio stream are
    /// rejected with port 0. The chosen stream lists only the selected codec and, if offered, the
    /// offerer's telephone-event PT; `local` is the direction we want (SendRecv normally), which is
    /// intersected with what the offer allows.
    pub fn answer(
        &mut self,
        offer: &SessionDescription,
        caps: &Capabilities,
        local: Direction,
    ) -> Result<(String, Negotiated), NegotiateError> {
        let (chosen, mut negotiated) = negotiate_offer(offer, caps)?;
        negotiated.direction = negotiated.direction.intersect(local);
        let mut media = String::new();
        for (index, m) in offer.media.iter().enumerate() {
            if index == chosen {
                let pts = [(negotiated.codec_pt, negotiated.codec)];
                write_audio(
                    &mut media,
                    self.port,
                    &pts,
                    negotiated.dtmf_pt,
                    negotiated.direction,
                );
            } else {
                let _ = write!(media, "m={} 0 {}", m.media, m.protocol);
                for f in &m.formats {
                    let _ = write!(media, " {f}");
                }
                media.push_str("\r\n");
            }
        }
        Ok((self.finish(media), negotiated))
    }

    /// Builds an offer of all our codecs (in our order) and telephone-event with `direction`;
    /// used for late offers (INVITE without SDP), the agent leg, and hold/resume re-offers.
    pub fn offer(&mut self, caps: &Capabilities, direction: Direction) -> String {
        let pts: Vec<(u8, Codec)> = caps
            .codecs
            .iter()
            .map(|c| (c.static_payload_type(), *c))
            .collect();
        let dtmf = caps.telephone_event.then_some(caps.telephone_event_pt);
        let mut media = String::new();
        write_audio(&mut media, self.port, &pts, dtmf, direction);
        self.finish(media)
    }

    /// Reads the answer to our last offer (made with `offered` direction).
    pub fn accept_answer(
        &self,
        answer: &SessionDescription,
        caps: &Capabilities,
        offered: Direction,
    ) -> Result<Negotiated, NegotiateError> {
        negotiate_answer(answer, caps, offered)
    }

    fn finish(&mut self, media: String) -> String {
        let ip = self.address;
        let mut body = String::new();
        let _ = write!(
            body,
            "s=hotline\r\nc=IN {} {ip}\r\nt=0 0\r\n{media}",
            family(ip)
        );
        match &self.last_body {
            Some(last) if *last == body => {}
            Some(_) => self.version += 1,
            None => {}
        }
        let text = format!(
            "v=0\r\no=hotline {} {} IN {} {ip}\r\n{body}",
            self.session_id,
            self.version,
            family(ip)
        );
        self.last_body = Some(body);
        text
    }
}

fn write_audio(
    out: &mut String,
    port: u16,
    codecs: &[(u8, Codec)],
    dtmf_pt: Option<u8>,
    direction: Direction,
) {
    let _ = write!(out, "m=audio {port} RTP/AVP");
    for (pt, _) in codecs {
        let _ = write!(out, " {pt}");
    }
    if let Some(pt) = dtmf_pt {
        let _ = write!(out, " {pt}");
    }
    out.push_str("\r\n");
    for (pt, codec) in codecs {
        let _ = write!(out, "a=rtpmap:{pt} {}/8000\r\n", codec.encoding_name());
    }
    if let Some(pt) = dtmf_pt {
        let _ = write!(
            out,
            "a=rtpmap:{pt} telephone-event/8000\r\na=fmtp:{pt} 0-15\r\n"
        );
    }
    let _ = write!(out, "a=ptime:20\r\na={}\r\n", direction.attribute());
}
