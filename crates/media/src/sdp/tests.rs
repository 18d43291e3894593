use super::*;

fn offer(body_media: &str) -> SessionDescription {
    let text = format!("v=0\r\no=caller 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n{body_media}");
    SessionDescription::parse(&text).expect("valid SDP")
}

fn session() -> SdpSession {
    SdpSession::new(4242, "203.0.113.5".parse().expect("ip"), 30000)
}

#[test]
fn picks_the_first_supported_codec_in_the_offerers_order() {
    let sd = offer("m=audio 5000 RTP/AVP 18 8 0 101\r\na=rtpmap:18 G729/8000\r\na=rtpmap:101 telephone-event/8000\r\n");
    let (index, n) = negotiate_offer(&sd, &Capabilities::default()).expect("negotiated");
    assert_eq!(index, 0);
    assert_eq!(n.codec, Codec::Pcma);
    assert_eq!(n.codec_pt, 8);
    assert_eq!(n.dtmf_pt, Some(101));
    assert_eq!(n.remote, "192.0.2.1:5000".parse().expect("addr"));
    assert_eq!(n.direction, Direction::SendRecv);
}

#[test]
fn pcma_only_offer_is_answered_with_pcma() {
    let sd = offer("m=audio 5000 RTP/AVP 8\r\n");
    let (answer, n) = session()
        .answer(&sd, &Capabilities::default(), Direction::SendRecv)
        .expect("answered");
    assert_eq!(n.codec, Codec::Pcma);
    assert_eq!(n.dtmf_pt, None);
    assert!(answer.contains("m=audio 30000 RTP/AVP 8\r\n"), "{answer}");
    assert!(answer.contains("a=rtpmap:8 PCMA/8000\r\n"));
    assert!(!answer.contains("telephone-event"));
}

#[test]
fn no_common_codec_is_an_error() {
    let sd = offer("m=audio 5000 RTP/AVP 18 9\r\na=rtpmap:18 G729/8000\r\n");
    assert_eq!(
        negotiate_offer(&sd, &Capabilities::default()),
        Err(NegotiateError::NoCommonCodec)
    );
    let only_pcmu = Capabilities {
        codecs: vec![Codec::Pcmu],
        ..Capabilities::default()
    };
    let pcma = offer("m=audio 5000 RTP/AVP 8\r\n");
    assert_eq!(
        session()
            .answer(&pcma, &only_pcmu, Direction::SendRecv)
            .map(|(_, n)| n),
        Err(NegotiateError::NoCommonCodec)
    );
    assert_eq!(
        NegotiateError::NoCommonCodec.to_string(),
        INCOMPATIBLE_MEDIA_WARNING
    );
    assert_eq!(
        NegotiateError::NoCommonCodec.warning(),
        (305, "Incompatible media format")
    );
    assert_eq!(NegotiateError::NoAudio.warning().0, 304);
}

#[test]
fn no_audio_or_rejected_audio_is_no_audio() {
    let video = offer("m=video 5002 RTP/AVP 31\r\n");
    assert_eq!(
        negotiate_offer(&video, &Capabilities::default()),
        Err(NegotiateError::NoAudio)
    );
    let rejected = offer("m=audio 0 RTP/AVP 0\r\n");
    assert_eq!(
        negotiate_offer(&rejected, &Capabilities::default()),
        Err(NegotiateError::NoAudio)
    );
    let srtp = offer("m=audio 5000 RTP/SAVP 0\r\n");
    assert_eq!(
        negotiate_offer(&srtp, &Capabilities::default()),
        Err(NegotiateError::NoAudio)
    );
}

#[test]
fn the_offerers_telephone_event_pt_is_kept() {
    for pt in [101u8, 96] {
        let sd = offer(&format!(
            "m=audio 5000 RTP/AVP 0 {pt}\r\na=rtpmap:{pt} telephone-event/8000\r\na=fmtp:{pt} 0-16\r\n"
        ));
        let (answer, n) = session()
            .answer(&sd, &Capabilities::default(), Direction::SendRecv)
            .expect("answered");
        assert_eq!(n.dtmf_pt, Some(pt));
        assert!(
            answer.contains(&format!("m=audio 30000 RTP/AVP 0 {pt}\r\n")),
            "{answer}"
        );
        assert!(answer.contains(&format!("a=rtpmap:{pt} telephone-event/8000\r\n")));
    }
}

#[test]
fn wideband_telephone_event_is_not_used() {
    let sd = offer("m=audio 5000 RTP/AVP 0 97\r\na=rtpmap:97 telephone-event/16000\r\n");
    let (_, n) = negotiate_offer(&sd, &Capabilities::default()).expect("negotiated");
    assert_eq!(n.dtmf_pt, None);
}

#[test]
fn dynamic_pt_for_g711_is_honoured() {
    let sd = offer("m=audio 5000 RTP/AVP 110\r\na=rtpmap:110 pcmu/8000\r\n");
    let (_, n) = negotiate_offer(&sd, &Capabilities::default()).expect("negotiated");
    assert_eq!((n.codec, n.codec_pt), (Codec::Pcmu, 110));
}

#[test]
fn hold_offers_make_us_stop_sending() {
    let sendonly = offer("m=audio 5000 RTP/AVP 0\r\na=sendonly\r\n");
    let (answer, n) = session()
        .answer(&sendonly, &Capabilities::default(), Direction::SendRecv)
        .expect("answered");
    assert_eq!(n.direction, Direction::RecvOnly);
    assert!(n.is_held_by_remote());
    assert!(answer.contains("a=recvonly\r\n"));

    let inactive = offer("m=audio 5000 RTP/AVP 0\r\na=inactive\r\n");
    let (_, n) = negotiate_offer(&inactive, &Capabilities::default()).expect("negotiated");
    assert_eq!(n.direction, Direction::Inactive);

    let text = "v=0\r\no=- 1 2 IN IP4 0.0.0.0\r\ns=-\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\n";
    let old_style = SessionDescription::parse(text).expect("valid SDP");
    let (_, n) = negotiate_offer(&old_style, &Capabilities::default()).expect("negotiated");
    assert_eq!(n.direction, Direction::RecvOnly);
    assert!(n.is_held_by_remote());

    let session_level = SessionDescription::parse(
        "v=0\r\no=- 1 2 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\na=sendonly\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\n",
    )
    .expect("valid SDP");
    let (_, n) = negotiate_offer(&session_level, &Capabilities::default()).expect("negotiated");
    assert_eq!(n.direction, Direction::RecvOnly);
}

#[test]
fn ipv6_offer_is_answered() {
    let text = "v=0\r\no=- 1 1 IN IP6 2001:db8::1\r\ns=-\r\nc=IN IP6 2001:db8::1\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\n";
    let sd = SessionDescription::parse(text).expect("valid SDP");
    let mut s = SdpSession::new(7, "2001:db8::2".parse().expect("ip"), 30002);
    let (answer, n) = s
        .answer(&sd, &Capabilities::default(), Direction::SendRecv)
        .expect("answered");
    assert_eq!(n.remote, "[2001:db8::1]:6000".parse().expect("addr"));
    assert!(answer.contains("c=IN IP6 2001:db8::2\r\n"), "{answer}");
}

#[test]
fn other_streams_are_rejected_in_order() {
    let sd =
        offer("m=video 5002 RTP/AVP 31\r\nm=audio 5000 RTP/AVP 0\r\nm=audio 5004 RTP/AVP 0\r\n");
    let (answer, _) = session()
        .answer(&sd, &Capabilities::default(), Direction::SendRecv)
        .expect("answered");
    let m_lines: Vec<&str> = answer.lines().filter(|l| l.starts_with("m=")).collect();
    assert_eq!(
        m_lines,
        vec![
            "m=video 0 RTP/AVP 31",
            "m=audio 30000 RTP/AVP 0",
            "m=audio 0 RTP/AVP 0"
        ]
    );
}

#[test]
fn late_offer_lists_our_codecs_and_reads_the_answer() {
    let mut s = session();
    let body = s.offer(&Capabilities::default(), Direction::SendRecv);
    let ours = SessionDescription::parse(&body).expect("our offer parses");
    assert_eq!(
        ours.media[0].payload_types().collect::<Vec<_>>(),
        vec![0, 8, 101]
    );
    assert_eq!(ours.media[0].telephone_event_pt(), Some(101));
    assert_eq!(ours.media[0].port, 30000);
    assert_eq!(ours.connection, Some("203.0.113.5".parse().expect("ip")));

    let answer = offer("m=audio 7000 RTP/AVP 8 96\r\na=rtpmap:96 telephone-event/8000\r\n");
    let n = s
        .accept_answer(&answer, &Capabilities::default(), Direction::SendRecv)
        .expect("accepted");
    assert_eq!((n.codec, n.codec_pt, n.dtmf_pt), (Codec::Pcma, 8, Some(96)));
    assert_eq!(n.remote.port(), 7000);
}

#[test]
fn re_offers_bump_the_version_only_when_the_body_changes() {
    let mut s = session();
    let caps = Capabilities::default();
    let first = s.offer(&caps, Direction::SendRecv);
    let v0 = SessionDescription::parse(&first)
        .expect("parses")
        .origin
        .version;
    let same = s.offer(&caps, Direction::SendRecv);
    assert_eq!(
        SessionDescription::parse(&same)
            .expect("parses")
            .origin
            .version,
        v0
    );
    let hold = s.offer(&caps, Direction::SendOnly);
    let held = SessionDescription::parse(&hold).expect("parses");
    assert_eq!(held.origin.version, v0 + 1);
    assert_eq!(held.direction_of(&held.media[0]), Direction::SendOnly);
    let resume = s.offer(&caps, Direction::SendRecv);
    assert_eq!(
        SessionDescription::parse(&resume)
            .expect("parses")
            .origin
            .version,
        v0 + 2
    );
    assert_eq!(s.version(), v0 + 2);

    // Answering our held offer with recvonly keeps us sendonly.
    let answer = offer("m=audio 7000 RTP/AVP 0\r\na=recvonly\r\n");
    let n = s
        .accept_answer(&answer, &caps, Direction::SendOnly)
        .expect("accepted");
    assert_eq!(n.direction, Direction::SendOnly);
}

mod never_panics {
    use super::*;
    use proptest::prelude::*;

    fn sdp_line() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("v=0".to_owned()),
            "o=[a-z-]{0,3} [0-9]{0,4} [0-9]{0,4} IN IP[46] [0-9.:a-f]{0,12}",
            "c=IN IP[46x] [0-9.:a-f/]{0,16}",
            "m=(audio|video) [0-9/]{0,6} RTP/S?AVP( [0-9a-z]{0,3}){0,4}",
            "a=(rtpmap|fmtp|ptime|sendonly|inactive)(:[0-9]{0,3}( [A-Za-z/0-9-]{0,20})?)?",
            "[a-z]=.{0,20}",
            ".{0,30}",
        ]
    }

    proptest! {
        #[test]
        fn parse_and_negotiate_never_panic(lines in proptest::collection::vec(sdp_line(), 0..12)) {
            let text = lines.join("\r\n");
            if let Ok(sd) = SessionDescription::parse(&text) {
                let caps = Capabilities::default();
                if let Ok((answer, _)) = session().answer(&sd, &caps, Direction::SendRecv) {
                    prop_assert!(SessionDescription::parse(&answer).is_ok());
                }
            }
        }
    }
}
