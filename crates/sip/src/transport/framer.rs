//! Splits a SIP byte stream (TCP) into messages by Content-Length (RFC 3261 §18.3), without
//! parsing anything else.

use bytes::{Bytes, BytesMut};
use thiserror::Error;

use crate::message::{frame_with_limits, FrameError as MessageFrameError, FrameLimits};

/// One unit cut from the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Frame {
    /// A whole message: start line, headers, blank line, body.
    Message(Bytes),
    /// A double-CRLF keep-alive ping (RFC 5626 §3.5.1), to be answered with a single CRLF.
    Ping,
}

/// Why a stream cannot be framed; the connection is closed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FrameError {
    /// The header section is longer than the limit.
    #[error("header section exceeds {0} bytes")]
    HeaderTooLarge(usize),
    /// The announced body is longer than the limit.
    #[error("body of {0} bytes exceeds the limit")]
    BodyTooLarge(usize),
    /// Content-Length is missing, unparsable, or given twice with different values.
    #[error("missing or invalid Content-Length")]
    BadContentLength,
}

/// Accumulates stream bytes and cuts them into frames.
#[derive(Debug)]
pub(crate) struct Framer {
    buf: BytesMut,
    max_header: usize,
    max_body: usize,
}

impl Framer {
    pub(crate) fn new(max_header: usize, max_body: usize) -> Self {
        Framer {
            buf: BytesMut::with_capacity(4096),
            max_header,
            max_body,
        }
    }

    /// The buffer to read more stream bytes into.
    pub(crate) fn buffer_mut(&mut self) -> &mut BytesMut {
        &mut self.buf
    }

    /// Appends stream bytes (tests and callers without direct buffer access).
    #[cfg(test)]
    pub(crate) fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The next complete frame, `Ok(None)` when more bytes are needed.
    pub(crate) fn next_frame(&mut self) -> Result<Option<Frame>, FrameError> {
        // Keep-alives and stray CRLFs before a start line (RFC 3261 §7.5).
        loop {
            if self.buf.starts_with(b"\r\n\r\n") {
                let _ = self.buf.split_to(4);
                return Ok(Some(Frame::Ping));
            }
            if self.buf.starts_with(b"\r\n") && self.buf.len() >= 3 && self.buf[2] != b'\r' {
                let _ = self.buf.split_to(2);
                continue;
            }
            if matches!(&self.buf[..], b"\r" | b"\r\n" | b"\r\n\r") {
                return Ok(None);
            }
            break;
        }
        // The header scan and Content-Length rules are the message parser's, so a stream and a
        // datagram are judged alike.
        let limits = FrameLimits {
            max_header_bytes: self.max_header,
            max_body_bytes: self.max_body,
        };
        match frame_with_limits(&self.buf, &limits) {
            Ok(Some(total)) => Ok(Some(Frame::Message(self.buf.split_to(total).freeze()))),
            Ok(None) => Ok(None),
            Err(MessageFrameError::HeaderTooLarge(n)) => Err(FrameError::HeaderTooLarge(n)),
            Err(MessageFrameError::BodyTooLarge { declared, .. }) => Err(FrameError::BodyTooLarge(
                usize::try_from(declared).unwrap_or(usize::MAX),
            )),
            Err(_) => Err(FrameError::BadContentLength),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MSG: &[u8] = b"OPTIONS sip:a@b SIP/2.0\r\nVia: x\r\nContent-Length: 4\r\n\r\nbody";

    fn framer() -> Framer {
        Framer::new(16 * 1024, 64 * 1024)
    }

    #[test]
    fn two_messages_in_one_read() {
        let mut f = framer();
        f.push(MSG);
        f.push(MSG);
        assert_eq!(
            f.next_frame(),
            Ok(Some(Frame::Message(Bytes::from_static(MSG))))
        );
        assert_eq!(
            f.next_frame(),
            Ok(Some(Frame::Message(Bytes::from_static(MSG))))
        );
        assert_eq!(f.next_frame(), Ok(None));
    }

    #[test]
    fn message_split_at_every_byte() {
        let mut f = framer();
        for (i, b) in MSG.iter().enumerate() {
            f.push(&[*b]);
            let frame = f.next_frame().expect("valid");
            if i + 1 < MSG.len() {
                assert_eq!(frame, None, "complete too early at {i}");
            } else {
                assert_eq!(frame, Some(Frame::Message(Bytes::from_static(MSG))));
            }
        }
    }

    #[test]
    fn compact_and_case_insensitive_content_length() {
        let mut f = framer();
        f.push(b"BYE sip:x SIP/2.0\r\nl: 0\r\n\r\nACK sip:x SIP/2.0\r\ncontent-LENGTH:2\r\n\r\nhi");
        assert!(
            matches!(f.next_frame(), Ok(Some(Frame::Message(m))) if m.ends_with(b"l: 0\r\n\r\n"))
        );
        assert!(
            matches!(f.next_frame(), Ok(Some(Frame::Message(m))) if m.ends_with(b"\r\n\r\nhi"))
        );
    }

    #[test]
    fn keepalives_are_skipped_and_pings_reported() {
        let mut f = framer();
        f.push(b"\r\n\r\n");
        assert_eq!(f.next_frame(), Ok(Some(Frame::Ping)));
        f.push(b"\r\n");
        assert_eq!(f.next_frame(), Ok(None));
        f.push(MSG);
        assert_eq!(
            f.next_frame(),
            Ok(Some(Frame::Message(Bytes::from_static(MSG))))
        );
    }

    #[test]
    fn oversize_header_is_an_error() {
        let mut f = Framer::new(64, 1024);
        f.push(&[b'a'; 65]);
        assert_eq!(f.next_frame(), Err(FrameError::HeaderTooLarge(64)));
    }

    #[test]
    fn oversize_body_is_an_error() {
        let mut f = Framer::new(1024, 10);
        f.push(b"MESSAGE sip:x SIP/2.0\r\nContent-Length: 11\r\n\r\n");
        assert_eq!(f.next_frame(), Err(FrameError::BodyTooLarge(11)));
    }

    #[test]
    fn missing_or_conflicting_content_length_is_an_error() {
        let mut f = framer();
        f.push(b"BYE sip:x SIP/2.0\r\nVia: x\r\n\r\n");
        assert_eq!(f.next_frame(), Err(FrameError::BadContentLength));
        let mut f = framer();
        f.push(b"BYE sip:x SIP/2.0\r\nl: 1\r\nContent-Length: 2\r\n\r\n");
        assert_eq!(f.next_frame(), Err(FrameError::BadContentLength));
        let mut f = framer();
        f.push(b"BYE sip:x SIP/2.0\r\nContent-Length: -1\r\n\r\n");
        assert_eq!(f.next_frame(), Err(FrameError::BadContentLength));
    }
}

#[cfg(test)]
mod proptests {
    use proptest::prelude::*;

    use super::*;

    fn message() -> impl Strategy<Value = Vec<u8>> {
        (
            proptest::collection::vec(any::<u8>(), 0..200),
            any::<bool>(),
            any::<bool>(),
        )
            .prop_map(|(body, compact, keepalive)| {
                let name = if compact { "l" } else { "Content-Length" };
                let mut m = Vec::new();
                if keepalive {
                    m.extend_from_slice(b"\r\n");
                }
                m.extend_from_slice(
                    format!("MESSAGE sip:x SIP/2.0\r\n{name}: {}\r\n\r\n", body.len()).as_bytes(),
                );
                m.extend_from_slice(&body);
                m
            })
    }

    proptest! {
        #[test]
        fn any_split_of_a_stream_yields_the_same_messages(
            messages in proptest::collection::vec(message(), 1..5),
            cuts in proptest::collection::vec(1usize..64, 1..40),
        ) {
            let stream: Vec<u8> = messages.concat();
            let mut framer = Framer::new(16 * 1024, 64 * 1024);
            let mut got = Vec::new();
            let mut rest = &stream[..];
            let mut cuts = cuts.into_iter().cycle();
            while !rest.is_empty() {
                let n = cuts.next().unwrap_or(1).min(rest.len());
                framer.push(&rest[..n]);
                rest = &rest[n..];
                while let Some(frame) = framer.next_frame().map_err(|e| TestCaseError::fail(e.to_string()))? {
                    if let Frame::Message(m) = frame {
                        got.push(m.to_vec());
                    }
                }
            }
            let want: Vec<Vec<u8>> = messages
                .iter()
                .map(|m| m.strip_prefix(b"\r\n").unwrap_or(m).to_vec())
                .collect();
            prop_assert_eq!(got, want);
        }

        #[test]
        fn arbitrary_bytes_never_panic(chunks in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..300), 0..8)) {
            let mut framer = Framer::new(512, 512);
            for chunk in chunks {
                framer.push(&chunk);
                while let Ok(Some(_)) = framer.next_frame() {}
            }
        }
    }
}
