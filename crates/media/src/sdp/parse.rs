//! SDP (RFC 4566) parsing into typed values: only the fields offer/answer needs.

use super::{Codec, Direction};
use std::net::IpAddr;
use thiserror::Error;

/// Why an SDP body could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SdpError {
    /// A line is not of the form `x=value`.
    #[error("line {line}: not an SDP `type=value` line")]
    MalformedLine {
        /// 1-based line number.
        line: usize,
    },
    /// A `c=` line is not `IN IP4|IP6 <address>`.
    #[error("line {line}: invalid connection line `{text}`")]
    BadConnection {
        /// 1-based line number.
        line: usize,
        /// The offending value.
        text: String,
    },
    /// An `m=` line is not `<media> <port> <proto> <fmt>...`.
    #[error("line {line}: invalid media line `{text}`")]
    BadMedia {
        /// 1-based line number.
        line: usize,
        /// The offending value.
        text: String,
    },
    /// The `o=` line is missing or invalid.
    #[error("missing or invalid origin (o=) line")]
    BadOrigin,
}

/// The `o=` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// Username (`-` when none).
    pub username: String,
    /// Session id.
    pub session_id: u64,
    /// Session version, incremented by the sender whenever the session changes.
    pub version: u64,
    /// Originating address as written.
    pub address: String,
}

/// An `a=rtpmap:` attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RtpMap {
    /// Payload type.
    pub payload_type: u8,
    /// Encoding name as written (`PCMU`, `telephone-event`, ...).
    pub encoding: String,
    /// Clock rate in Hz.
    pub clock_rate: u32,
}

/// One `m=` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaDescription {
    /// Media type as written (`audio`, `video`, ...).
    pub media: String,
    /// Port; 0 means the stream is rejected/disabled.
    pub port: u16,
    /// Transport protocol as written (`RTP/AVP`, ...).
    pub protocol: String,
    /// Format list in the sender's order of preference (payload types for RTP).
    pub formats: Vec<String>,
    /// Media-level `c=` address, overriding the session-level one.
    pub connection: Option<IpAddr>,
    /// `a=rtpmap` attributes.
    pub rtpmaps: Vec<RtpMap>,
    /// `a=fmtp` attributes as (payload type, parameters).
    pub fmtps: Vec<(u8, String)>,
    /// Media-level direction attribute.
    pub direction: Option<Direction>,
    /// `a=ptime` in milliseconds.
    pub ptime: Option<u32>,
}

/// A parsed session description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionDescription {
    /// The `o=` line.
    pub origin: Origin,
    /// Session-level `c=` address.
    pub connection: Option<IpAddr>,
    /// Session-level direction attribute.
    pub direction: Option<Direction>,
    /// The `m=` sections in order.
    pub media: Vec<MediaDescription>,
}

impl MediaDescription {
    /// Whether this is an RTP/AVP audio stream that was not rejected (port 0).
    pub fn is_active_audio(&self) -> bool {
        self.media.eq_ignore_ascii_case("audio")
            && self.port != 0
            && self.protocol.eq_ignore_ascii_case("RTP/AVP")
    }

    /// The payload types of the format list, skipping entries that are not numbers.
    pub fn payload_types(&self) -> impl Iterator<Item = u8> + '_ {
        self.formats.iter().filter_map(|f| f.parse().ok())
    }

    /// The rtpmap of a payload type, if present.
    pub fn rtpmap(&self, payload_type: u8) -> Option<&RtpMap> {
        self.rtpmaps.iter().find(|m| m.payload_type == payload_type)
    }

    /// The G.711 codec a payload type stands for: by rtpmap if present, else the static type.
    pub fn codec_of(&self, payload_type: u8) -> Option<Codec> {
        match self.rtpmap(payload_type) {
            Some(map) if map.clock_rate == 8000 => Codec::from_encoding_name(&map.encoding),
            Some(_) => None,
            None => Codec::from_static_payload_type(payload_type),
        }
    }

    /// The first payload type mapped to `telephone-event/8000`.
    pub fn telephone_event_pt(&self) -> Option<u8> {
        self.payload_types().find(|pt| {
            self.rtpmap(*pt).is_some_and(|m| {
                m.encoding.eq_ignore_ascii_case("telephone-event") && m.clock_rate == 8000
            })
        })
    }
}

fn parse_direction(attr: &str) -> Option<Direction> {
    match attr {
        "sendrecv" => Some(Direction::SendRecv),
        "sendonly" => Some(Direction::SendOnly),
        "recvonly" => Some(Direction::RecvOnly),
        "inactive" => Some(Direction::Inactive),
        _ => None,
    }
}

fn parse_connection(value: &str, line: usize) -> Result<IpAddr, SdpError> {
    let bad = || SdpError::BadConnection {
        line,
        text: value.to_owned(),
    };
    let mut parts = value.split_whitespace();
    let (Some(net), Some(family), Some(addr)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(bad());
    };
    if !net.eq_ignore_ascii_case("IN") {
        return Err(bad());
    }
    // Multicast addresses may carry /ttl and /count suffixes.
    let addr = addr.split('/').next().unwrap_or(addr);
    let ip: IpAddr = addr.parse().map_err(|_| bad())?;
    match (family, ip) {
        ("IP4", IpAddr::V4(_)) | ("IP6", IpAddr::V6(_)) => Ok(ip),
        _ => Err(bad()),
    }
}

fn parse_media(value: &str, line: usize) -> Result<MediaDescription, SdpError> {
    let bad = || SdpError::BadMedia {
        line,
        text: value.to_owned(),
    };
    let mut parts = value.split_whitespace();
    let media = parts.next().ok_or_else(bad)?.to_owned();
    // `<port>/<count>` is allowed; hotline only looks at the first port.
    let port_text = parts.next().ok_or_else(bad)?;
    let port = port_text
        .split('/')
        .next()
        .and_then(|p| p.parse().ok())
        .ok_or_else(bad)?;
    let protocol = parts.next().ok_or_else(bad)?.to_owned();
    let formats = parts.map(str::to_owned).collect();
    Ok(MediaDescription {
        media,
        port,
        protocol,
        formats,
        connection: None,
        rtpmaps: Vec::new(),
        fmtps: Vec::new(),
        direction: None,
        ptime: None,
    })
}

fn parse_origin(value: &str) -> Result<Origin, SdpError> {
    let parts: Vec<&str> = value.split_whitespace().collect();
    let [username, session_id, version, _net, _family, address] = parts.as_slice() else {
        return Err(SdpError::BadOrigin);
    };
    Ok(Origin {
        username: (*username).to_owned(),
        session_id: session_id.parse().map_err(|_| SdpError::BadOrigin)?,
        version: version.parse().map_err(|_| SdpError::BadOrigin)?,
        address: (*address).to_owned(),
    })
}

fn parse_rtpmap(value: &str) -> Option<RtpMap> {
    let (pt, rest) = value.split_once(' ')?;
    let mut enc = rest.trim().split('/');
    Some(RtpMap {
        payload_type: pt.parse().ok()?,
        encoding: enc.next()?.to_owned(),
        clock_rate: enc.next()?.parse().ok()?,
    })
}

impl SessionDescription {
    /// Parses an SDP body. Unknown lines and attributes are ignored; malformed ones that matter
    /// for media (o=, c=, m=) are errors.
    pub fn parse(text: &str) -> Result<Self, SdpError> {
        let mut origin = None;
        let mut connection = None;
        let mut direction = None;
        let mut media: Vec<MediaDescription> = Vec::new();
        for (index, raw) in text.lines().enumerate() {
            let line = index + 1;
            let raw = raw.trim_end_matches('\r');
            if raw.trim().is_empty() {
                continue;
            }
            let (kind, value) = raw
                .split_once('=')
                .filter(|(k, _)| k.len() == 1)
                .ok_or(SdpError::MalformedLine { line })?;
            let value = value.trim();
            match kind {
                "o" => origin = Some(parse_origin(value)?),
                "c" => {
                    let ip = parse_connection(value, line)?;
                    match media.last_mut() {
                        Some(m) => m.connection = Some(ip),
                        None => connection = Some(ip),
                    }
                }
                "m" => media.push(parse_media(value, line)?),
                "a" => {
                    let (name, arg) = value.split_once(':').unwrap_or((value, ""));
                    let current = media.last_mut();
                    if let Some(dir) = parse_direction(name) {
                        match current {
                            Some(m) => m.direction = Some(dir),
                            None => direction = Some(dir),
                        }
                        continue;
                    }
                    let Some(m) = current else { continue };
                    match name {
                        "rtpmap" => m.rtpmaps.extend(parse_rtpmap(arg)),
                        "fmtp" => {
                            if let Some((pt, params)) = arg.split_once(' ') {
                                if let Ok(pt) = pt.parse() {
                                    m.fmtps.push((pt, params.trim().to_owned()));
                                }
                            }
                        }
                        "ptime" => m.ptime = arg.trim().parse().ok(),
                        _ => {}
                    }
                }
                _ => {}
            }
        }
        Ok(SessionDescription {
            origin: origin.ok_or(SdpError::BadOrigin)?,
            connection,
            direction,
            media,
        })
    }

    /// The effective connection address of a media section (media-level, else session-level).
    pub fn connection_of(&self, media: &MediaDescription) -> Option<IpAddr> {
        media.connection.or(self.connection)
    }

    /// The effective direction of a media section (media-level, else session-level, else
    /// sendrecv).
    pub fn direction_of(&self, media: &MediaDescription) -> Direction {
        media
            .direction
            .or(self.direction)
            .unwrap_or(Direction::SendRecv)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OFFER: &str = "v=0\r\n\
o=alice 2890844526 2890844527 IN IP4 192.0.2.10\r\n\
s=-\r\n\
c=IN IP4 192.0.2.10\r\n\
t=0 0\r\n\
m=audio 49170 RTP/AVP 8 0 101\r\n\
a=rtpmap:8 PCMA/8000\r\n\
a=rtpmap:101 telephone-event/8000\r\n\
a=fmtp:101 0-16\r\n\
a=ptime:20\r\n\
a=sendonly\r\n\
m=video 51372 RTP/AVP 31\r\n";

    #[test]
    fn parses_the_fields_offer_answer_needs() {
        let sdp = SessionDescription::parse(OFFER).expect("valid SDP");
        assert_eq!(sdp.origin.version, 2890844527);
        assert_eq!(sdp.connection, Some("192.0.2.10".parse().expect("ip")));
        assert_eq!(sdp.media.len(), 2);
        let audio = &sdp.media[0];
        assert!(audio.is_active_audio());
        assert_eq!(audio.port, 49170);
        assert_eq!(audio.payload_types().collect::<Vec<_>>(), vec![8, 0, 101]);
        assert_eq!(audio.codec_of(8), Some(Codec::Pcma));
        assert_eq!(audio.codec_of(0), Some(Codec::Pcmu));
        assert_eq!(audio.telephone_event_pt(), Some(101));
        assert_eq!(audio.fmtps, vec![(101, "0-16".to_owned())]);
        assert_eq!(audio.ptime, Some(20));
        assert_eq!(sdp.direction_of(audio), Direction::SendOnly);
        assert!(!sdp.media[1].is_active_audio());
    }

    #[test]
    fn parses_ipv6_and_media_level_connection() {
        let text =
            "v=0\no=- 1 1 IN IP6 ::1\ns=-\nt=0 0\nm=audio 4000 RTP/AVP 0\nc=IN IP6 2001:db8::5\n";
        let sdp = SessionDescription::parse(text).expect("valid SDP");
        assert_eq!(sdp.connection, None);
        assert_eq!(
            sdp.connection_of(&sdp.media[0]),
            Some("2001:db8::5".parse().expect("ip"))
        );
    }

    #[test]
    fn rejects_malformed_lines() {
        assert!(matches!(
            SessionDescription::parse("v=0\no=- 1 1 IN IP4 1.2.3.4\nc=IN IP4 not-an-ip\n"),
            Err(SdpError::BadConnection { line: 3, .. })
        ));
        assert!(matches!(
            SessionDescription::parse("v=0\no=- 1 1 IN IP4 1.2.3.4\nm=audio x RTP/AVP 0\n"),
            Err(SdpError::BadMedia { line: 3, .. })
        ));
        assert_eq!(
            SessionDescription::parse("v=0\nc=IN IP4 1.2.3.4\n"),
            Err(SdpError::BadOrigin)
        );
        assert_eq!(
            SessionDescription::parse("v=0\ngarbage\n"),
            Err(SdpError::MalformedLine { line: 2 })
        );
        assert!(matches!(
            SessionDescription::parse("v=0\no=- 1 1 IN IP4 1.2.3.4\nc=IN IP6 1.2.3.4\n"),
            Err(SdpError::BadConnection { .. })
        ));
    }
}
