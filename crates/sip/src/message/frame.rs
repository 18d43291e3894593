//! Stream framing (TCP/TLS): where one message ends in a byte buffer.

use super::error::{FrameError, ParseErrorKind};
use super::headers::canonical_name;
use super::parse::{content_length, find_head_end, leading_crlf, read_head};

/// Size limits for stream framing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameLimits {
    /// Largest header section accepted (start line and headers).
    pub max_header_bytes: usize,
    /// Largest body accepted.
    pub max_body_bytes: usize,
}

impl Default for FrameLimits {
    fn default() -> Self {
        FrameLimits {
            max_header_bytes: 64 * 1024,
            max_body_bytes: 1024 * 1024,
        }
    }
}

/// Finds the end of the first frame in `buf` with [`FrameLimits::default`].
///
/// See [`frame_with_limits`].
pub fn frame(buf: &[u8]) -> Result<Option<usize>, FrameError> {
    frame_with_limits(buf, &FrameLimits::default())
}

/// Finds the end of the first frame in `buf`.
///
/// - `Ok(Some(n))`: the first `n` bytes are one frame; consume them. A frame made only of CR/LF
///   bytes is a keep-alive (RFC 5626 ping `CRLFCRLF`; check with [`is_keepalive`], answer a
///   ping with a single CRLF pong); any other frame is one message for [`super::parse`].
/// - `Ok(None)`: more bytes are needed.
/// - `Err(_)`: the stream cannot be framed (missing or bad Content-Length, limits exceeded);
///   close the connection.
pub fn frame_with_limits(buf: &[u8], limits: &FrameLimits) -> Result<Option<usize>, FrameError> {
    let crlf = leading_crlf(buf);
    if crlf > 0 {
        // Only whole lines: a lone trailing CR waits for its LF.
        let whole = buf[..crlf]
            .iter()
            .rposition(|b| *b == b'\n')
            .map_or(0, |i| i + 1);
        return Ok((whole > 0).then_some(whole));
    }
    let window = &buf[..buf.len().min(limits.max_header_bytes.saturating_add(4))];
    let Some(head_end) = find_head_end(window) else {
        return if buf.len() > limits.max_header_bytes {
            Err(FrameError::HeaderTooLarge(limits.max_header_bytes))
        } else {
            Ok(None)
        };
    };
    let raw = read_head(&buf[..head_end]);
    let values = raw
        .headers
        .iter()
        .filter(|(n, _)| canonical_name(n) == "Content-Length")
        .map(|(_, v)| v.as_str());
    let declared = match content_length(values) {
        Ok(Some(n)) => n,
        Ok(None) => return Err(FrameError::MissingContentLength),
        Err(ParseErrorKind::ConflictingContentLength) => {
            return Err(FrameError::ConflictingContentLength)
        }
        Err(_) => return Err(FrameError::BadContentLength),
    };
    let body = match usize::try_from(declared) {
        Ok(n) if n <= limits.max_body_bytes => n,
        _ => {
            return Err(FrameError::BodyTooLarge {
                declared,
                limit: limits.max_body_bytes,
            })
        }
    };
    let total = head_end + 4 + body;
    Ok((buf.len() >= total).then_some(total))
}

/// True when a frame holds only CR/LF bytes (a keep-alive, not a message).
pub fn is_keepalive(frame: &[u8]) -> bool {
    !frame.is_empty() && frame.iter().all(|b| *b == b'\r' || *b == b'\n')
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const MSG: &[u8] = b"BYE sip:b@x SIP/2.0\r\nl: 3\r\nVia: SIP/2.0/TCP h\r\n\r\nabc";

    #[test]
    fn frames_whole_messages_only() {
        for cut in 0..MSG.len() {
            assert_eq!(frame(&MSG[..cut]), Ok(None), "cut at {cut}");
        }
        assert_eq!(frame(MSG), Ok(Some(MSG.len())));
        let mut two = MSG.to_vec();
        two.extend_from_slice(MSG);
        assert_eq!(frame(&two), Ok(Some(MSG.len())));
    }

    #[test]
    fn keepalives_are_their_own_frames() {
        assert_eq!(frame(b"\r\n\r\nBYE"), Ok(Some(4)));
        assert!(is_keepalive(b"\r\n\r\n"));
        assert_eq!(frame(b"\r"), Ok(None));
        assert!(!is_keepalive(MSG));
    }

    #[test]
    fn stream_framing_errors() {
        assert_eq!(
            frame(b"BYE sip:b@x SIP/2.0\r\nVia: x\r\n\r\n"),
            Err(FrameError::MissingContentLength)
        );
        assert_eq!(
            frame(b"BYE sip:b@x SIP/2.0\r\nContent-Length: -999\r\n\r\n"),
            Err(FrameError::BadContentLength)
        );
        assert_eq!(
            frame(b"BYE sip:b@x SIP/2.0\r\nContent-Length: 13\r\nl: 5\r\n\r\n"),
            Err(FrameError::ConflictingContentLength)
        );
        let limits = FrameLimits {
            max_header_bytes: 16,
            max_body_bytes: 2,
        };
        assert_eq!(
            frame_with_limits(&[b'a'; 40], &limits),
            Err(FrameError::HeaderTooLarge(16))
        );
        let limits = FrameLimits {
            max_header_bytes: 1024,
            max_body_bytes: 2,
        };
        assert!(matches!(
            frame_with_limits(MSG, &limits),
            Err(FrameError::BodyTooLarge { .. })
        ));
    }
}
