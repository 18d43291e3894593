//! SDP parse, negotiate and answer never panic, and every answer we build parses again.
#![no_main]

use hotline_media::sdp::{Capabilities, Direction, SdpSession, SessionDescription};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(offer) = SessionDescription::parse(text) else {
        return;
    };
    let mut session = SdpSession::new(1, [127, 0, 0, 1].into(), 30000);
    if let Ok((answer, _)) = session.answer(&offer, &Capabilities::default(), Direction::SendRecv) {
        assert!(SessionDescription::parse(&answer).is_ok());
    }
});
