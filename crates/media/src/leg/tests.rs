use super::*;
use crate::dtmf::TelephoneEvent;
use crate::g711::{linear_to_alaw, ALAW_TO_ULAW};
use crate::rtp::{RtpHeader, RtpPacket};
use crate::sdp::{Codec, Direction};
use tokio::time::timeout;

const WAIT: Duration = Duration::from_secs(5);

fn ports() -> RtpPortAllocator {
    // A range away from other tests' ephemeral ports; bind retries skip taken ones.
    let base = 42000 + (rand::random::<u16>() % 8000) * 2;
    RtpPortAllocator::new(base..=base + 200)
}

fn localhost() -> IpAddr {
    IpAddr::from([127, 0, 0, 1])
}

fn negotiated(remote: SocketAddr, codec: Codec, dtmf_pt: Option<u8>) -> Negotiated {
    Negotiated {
        remote,
        codec,
        codec_pt: codec.static_payload_type(),
        dtmf_pt,
        direction: Direction::SendRecv,
        ptime: Some(20),
    }
}

async fn phone() -> UdpSocket {
    UdpSocket::bind((localhost(), 0)).await.expect("bind phone")
}

fn rtp(ssrc: u32, seq: u16, ts: u32, pt: u8, payload: &[u8]) -> Vec<u8> {
    let mut buf = vec![0u8; 12 + payload.len()];
    RtpHeader {
        marker: false,
        payload_type: pt,
        sequence: seq,
        timestamp: ts,
        ssrc,
    }
    .write_packet(payload, &mut buf)
    .expect("sized");
    buf
}

async fn receive(socket: &UdpSocket) -> Vec<u8> {
    let mut buf = [0u8; 2048];
    let (len, _) = timeout(WAIT, socket.recv_from(&mut buf))
        .await
        .expect("a packet within the timeout")
        .expect("recv ok");
    buf[..len].to_vec()
}

async fn next_event(events: &mut mpsc::Receiver<LegEvent>) -> LegEvent {
    timeout(WAIT, events.recv())
        .await
        .expect("an event within the timeout")
        .expect("leg alive")
}

#[tokio::test]
async fn bridged_legs_relay_and_transcode_both_ways() {
    let ports = ports();
    let (a, _a_events) = RtpLeg::bind(localhost(), &ports, LegConfig::default())
        .await
        .expect("leg a");
    let (b, _b_events) = RtpLeg::bind(localhost(), &ports, LegConfig::default())
        .await
        .expect("leg b");
    let phone_a = phone().await;
    let phone_b = phone().await;
    a.set_remote(negotiated(
        phone_a.local_addr().expect("addr"),
        Codec::Pcma,
        Some(96),
    ))
    .expect("open");
    b.set_remote(negotiated(
        phone_b.local_addr().expect("addr"),
        Codec::Pcmu,
        Some(101),
    ))
    .expect("open");
    a.bridge_to(&b).expect("open");
    a.barrier().await.expect("open");
    b.barrier().await.expect("open");

    let payload: Vec<u8> = (0..160).map(|i| linear_to_alaw((i * 150) as i16)).collect();
    let mut relayed = Vec::new();
    for i in 0..3u16 {
        phone_a
            .send_to(
                &rtp(0xAAAA, 100 + i, 1000 + u32::from(i) * 160, 8, &payload),
                a.local_addr(),
            )
            .await
            .expect("send");
        relayed.push(receive(&phone_b).await);
    }
    let parsed: Vec<RtpPacket<'_>> = relayed
        .iter()
        .map(|d| RtpPacket::parse(d).expect("valid RTP"))
        .collect();
    let expected: Vec<u8> = payload.iter().map(|x| ALAW_TO_ULAW[*x as usize]).collect();
    for (i, p) in parsed.iter().enumerate() {
        assert_eq!(p.header.payload_type, 0);
        assert_eq!(p.header.ssrc, b.ssrc());
        assert_eq!(p.payload, expected.as_slice());
        assert_eq!(
            p.header.sequence,
            parsed[0].header.sequence.wrapping_add(i as u16)
        );
        assert_eq!(
            p.header.timestamp,
            parsed[0].header.timestamp.wrapping_add(160 * i as u32)
        );
    }
    assert!(parsed[0].header.marker);

    // The other way, with the telephone-event PT remapped 101 -> 96.
    let event = TelephoneEvent {
        event: 3,
        end: false,
        volume: 10,
        duration: 160,
    }
    .to_bytes();
    phone_b
        .send_to(&rtp(0xBBBB, 1, 50, 101, &event), b.local_addr())
        .await
        .expect("send");
    let back = receive(&phone_a).await;
    let back = RtpPacket::parse(&back).expect("valid RTP");
    assert_eq!(back.header.payload_type, 96);
    assert_eq!(back.header.ssrc, a.ssrc());
    assert_eq!(back.payload, &event);

    let stats = a.stats();
    assert_eq!(stats.rx_packets, 3);
    assert_eq!(stats.relayed_packets, 3);
    assert_eq!(b.stats().tx_packets, 3);
    a.close().expect("open");
    b.close().expect("open");
}

#[tokio::test]
async fn rfc4733_packets_become_one_dtmf_event_per_digit() {
    let ports = ports();
    let (leg, mut events) = RtpLeg::bind(localhost(), &ports, LegConfig::default())
        .await
        .expect("leg");
    let phone = phone().await;
    leg.set_remote(negotiated(
        phone.local_addr().expect("addr"),
        Codec::Pcmu,
        Some(101),
    ))
    .expect("open");
    leg.barrier().await.expect("open");
    let mut seq = 1u16;
    for (digit, ts) in [(5u8, 8000u32), (5, 16000), (11, 24000)] {
        for (end, duration) in [
            (false, 160),
            (false, 320),
            (true, 480),
            (true, 480),
            (true, 480),
        ] {
            let payload = TelephoneEvent {
                event: digit,
                end,
                volume: 10,
                duration,
            }
            .to_bytes();
            phone
                .send_to(&rtp(7, seq, ts, 101, &payload), leg.local_addr())
                .await
                .expect("send");
            seq += 1;
        }
    }
    assert_eq!(next_event(&mut events).await, LegEvent::FirstPacket);
    assert_eq!(next_event(&mut events).await, LegEvent::Dtmf('5'));
    assert_eq!(next_event(&mut events).await, LegEvent::Dtmf('5'));
    assert_eq!(next_event(&mut events).await, LegEvent::Dtmf('#'));
    leg.barrier().await.expect("open");
    assert!(events.try_recv().is_err(), "no duplicate digits");
    assert_eq!(leg.stats().dtmf_digits, 3);
}

#[tokio::test]
async fn inactivity_is_reported_when_rtp_stops() {
    let ports = ports();
    let config = LegConfig {
        inactivity_timeout: Duration::from_millis(150),
        ..LegConfig::default()
    };
    let (leg, mut events) = RtpLeg::bind(localhost(), &ports, config)
        .await
        .expect("leg");
    let phone = phone().await;
    leg.set_remote(negotiated(
        phone.local_addr().expect("addr"),
        Codec::Pcmu,
        None,
    ))
    .expect("open");
    phone
        .send_to(&rtp(1, 1, 1, 0, &[0xFF; 160]), leg.local_addr())
        .await
        .expect("send");
    assert_eq!(next_event(&mut events).await, LegEvent::FirstPacket);
    assert_eq!(next_event(&mut events).await, LegEvent::Inactive);
}

#[tokio::test]
async fn prompt_plays_as_one_continuous_stream_then_finishes() {
    let ports = ports();
    let (leg, mut events) = RtpLeg::bind(localhost(), &ports, LegConfig::default())
        .await
        .expect("leg");
    let phone = phone().await;
    leg.set_remote(negotiated(
        phone.local_addr().expect("addr"),
        Codec::Pcma,
        None,
    ))
    .expect("open");
    // 100 ms = 5 frames.
    let prompt = Arc::new(Prompt::from_samples(vec![1000; 800]));
    leg.play(Arc::clone(&prompt), PlayMode::Once).expect("open");
    let mut packets = Vec::new();
    for _ in 0..5 {
        packets.push(receive(&phone).await);
    }
    assert_eq!(next_event(&mut events).await, LegEvent::PlaybackFinished);
    let parsed: Vec<RtpPacket<'_>> = packets
        .iter()
        .map(|d| RtpPacket::parse(d).expect("valid"))
        .collect();
    for (i, p) in parsed.iter().enumerate() {
        assert_eq!(p.header.payload_type, 8);
        assert_eq!(p.payload.len(), 160);
        assert_eq!(p.header.marker, i == 0);
        assert_eq!(
            p.header.sequence,
            parsed[0].header.sequence.wrapping_add(i as u16)
        );
        assert_eq!(
            p.header.timestamp,
            parsed[0].header.timestamp.wrapping_add(160 * i as u32)
        );
    }
    // A second prompt continues the same stream with a marker.
    leg.play(prompt, PlayMode::Once).expect("open");
    let next = receive(&phone).await;
    let next = RtpPacket::parse(&next).expect("valid");
    assert_eq!(next.header.ssrc, parsed[0].header.ssrc);
    assert_eq!(
        next.header.sequence,
        parsed[4].header.sequence.wrapping_add(1)
    );
    assert!(next.header.marker);
    assert!(
        next.header
            .timestamp
            .wrapping_sub(parsed[4].header.timestamp)
            >= 160
    );
}

#[tokio::test]
async fn media_goes_to_the_latched_source_not_the_sdp_address() {
    let ports = ports();
    let (leg, mut events) = RtpLeg::bind(localhost(), &ports, LegConfig::default())
        .await
        .expect("leg");
    let nat_phone = phone().await;
    // The SDP names an address nobody listens on (a private address behind NAT).
    let sdp_address: SocketAddr = "127.0.0.1:9".parse().expect("addr");
    leg.set_remote(negotiated(sdp_address, Codec::Pcmu, None))
        .expect("open");
    nat_phone
        .send_to(&rtp(1, 1, 1, 0, &[0xFF; 160]), leg.local_addr())
        .await
        .expect("send");
    assert_eq!(next_event(&mut events).await, LegEvent::FirstPacket);
    leg.play(Arc::new(Prompt::from_samples(vec![0; 160])), PlayMode::Once)
        .expect("open");
    let packet = receive(&nat_phone).await;
    assert!(RtpPacket::parse(&packet).is_ok());

    // Another source is ignored while the latched one is active.
    let intruder = phone().await;
    intruder
        .send_to(&rtp(2, 1, 1, 0, &[0xFF; 160]), leg.local_addr())
        .await
        .expect("send");
    // RTCP is recognised and ignored.
    nat_phone
        .send_to(&[0x80, 201, 0, 1, 0, 0, 0, 1], leg.local_addr())
        .await
        .expect("send");
    nat_phone
        .send_to(&rtp(1, 2, 161, 0, &[0xFF; 160]), leg.local_addr())
        .await
        .expect("send");
    timeout(WAIT, async {
        while leg.stats().rx_packets < 2
            || leg.stats().rtcp_packets < 1
            || leg.stats().foreign_packets < 1
        {
            leg.barrier().await.expect("open");
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("all three datagrams accounted for");
}

#[tokio::test]
async fn playback_on_a_bridged_leg_wins_over_relayed_audio() {
    let ports = ports();
    let (a, _ea) = RtpLeg::bind(localhost(), &ports, LegConfig::default())
        .await
        .expect("leg a");
    let (b, _eb) = RtpLeg::bind(localhost(), &ports, LegConfig::default())
        .await
        .expect("leg b");
    let phone_a = phone().await;
    let phone_b = phone().await;
    a.set_remote(negotiated(
        phone_a.local_addr().expect("addr"),
        Codec::Pcmu,
        None,
    ))
    .expect("open");
    b.set_remote(negotiated(
        phone_b.local_addr().expect("addr"),
        Codec::Pcmu,
        None,
    ))
    .expect("open");
    a.bridge_to(&b).expect("open");
    // Music on hold for B while bridged: A's audio must not reach B.
    b.play(
        Arc::new(Prompt::from_samples(vec![3000; 8000])),
        PlayMode::Loop,
    )
    .expect("open");
    b.barrier().await.expect("open");
    a.barrier().await.expect("open");
    phone_a
        .send_to(&rtp(1, 1, 1, 0, &[0x11; 160]), a.local_addr())
        .await
        .expect("send");
    for _ in 0..5 {
        let p = receive(&phone_b).await;
        let p = RtpPacket::parse(&p).expect("valid");
        assert_ne!(
            p.payload, &[0x11; 160],
            "relayed audio leaked into music on hold"
        );
    }
    b.stop_playback().expect("open");
    b.barrier().await.expect("open");
    phone_a
        .send_to(&rtp(1, 2, 161, 0, &[0x11; 160]), a.local_addr())
        .await
        .expect("send");
    timeout(WAIT, async {
        loop {
            let p = receive(&phone_b).await;
            if RtpPacket::parse(&p).expect("valid").payload == [0x11; 160] {
                break;
            }
        }
    })
    .await
    .expect("relayed audio after the music stopped");
}

#[tokio::test]
async fn closing_releases_the_port() {
    let ports = ports();
    let (leg, _events) = RtpLeg::bind(localhost(), &ports, LegConfig::default())
        .await
        .expect("leg");
    assert_eq!(ports.in_use(), 1);
    leg.close().expect("open");
    timeout(WAIT, async {
        while ports.in_use() != 0 {
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("port released");
    assert_eq!(leg.barrier().await, Err(LegClosed));
}

#[tokio::test]
async fn tap_copies_received_audio() {
    let ports = ports();
    let (leg, _events) = RtpLeg::bind(localhost(), &ports, LegConfig::default())
        .await
        .expect("leg");
    let phone = phone().await;
    leg.set_remote(negotiated(
        phone.local_addr().expect("addr"),
        Codec::Pcma,
        Some(101),
    ))
    .expect("open");
    let (tx, mut frames) = mpsc::channel(16);
    leg.set_tap(Some((1, tx))).expect("open");
    leg.barrier().await.expect("open");
    let event = TelephoneEvent {
        event: 1,
        end: false,
        volume: 10,
        duration: 160,
    }
    .to_bytes();
    phone
        .send_to(&rtp(5, 1, 80, 101, &event), leg.local_addr())
        .await
        .expect("send");
    phone
        .send_to(
            &rtp(5, 2, 160, 8, &[linear_to_alaw(2000); 160]),
            leg.local_addr(),
        )
        .await
        .expect("send");
    let frame = timeout(WAIT, frames.recv())
        .await
        .expect("a frame")
        .expect("open");
    assert_eq!(frame.channel, 1);
    assert_eq!(frame.codec, Codec::Pcma);
    assert_eq!(frame.rtp_timestamp, 160, "telephone-events are not tapped");
    assert_eq!(frame.payload().len(), 160);
    assert!(frame.samples().all(|s| (s - 2000).abs() < 128));
}

#[tokio::test]
async fn nothing_is_sent_to_a_held_leg() {
    let ports = ports();
    let (leg, mut events) = RtpLeg::bind(localhost(), &ports, LegConfig::default())
        .await
        .expect("leg");
    let phone = phone().await;
    leg.set_remote(negotiated(
        phone.local_addr().expect("addr"),
        Codec::Pcmu,
        None,
    ))
    .expect("open");
    leg.set_hold(true).expect("open");
    leg.play(
        Arc::new(Prompt::from_samples(vec![500; 480])),
        PlayMode::Once,
    )
    .expect("open");
    assert_eq!(next_event(&mut events).await, LegEvent::PlaybackFinished);
    assert_eq!(leg.stats().tx_packets, 0);
    leg.set_hold(false).expect("open");
    leg.play(
        Arc::new(Prompt::from_samples(vec![500; 160])),
        PlayMode::Once,
    )
    .expect("open");
    assert!(RtpPacket::parse(&receive(&phone).await).is_ok());
}

#[tokio::test]
async fn an_inactive_remote_is_not_reported_inactive() {
    let ports = ports();
    let config = LegConfig {
        inactivity_timeout: Duration::from_millis(50),
        ..LegConfig::default()
    };
    let (leg, mut events) = RtpLeg::bind(localhost(), &ports, config)
        .await
        .expect("leg");
    let mut n = negotiated("127.0.0.1:9".parse().expect("addr"), Codec::Pcmu, None);
    n.direction = Direction::Inactive;
    leg.set_remote(n).expect("open");
    // A 200 ms prompt finishing proves time passed well beyond the 50 ms timeout.
    leg.play(
        Arc::new(Prompt::from_samples(vec![0; 1600])),
        PlayMode::Once,
    )
    .expect("open");
    assert_eq!(next_event(&mut events).await, LegEvent::PlaybackFinished);
}

#[tokio::test]
async fn unbridged_legs_stop_relaying() {
    let ports = ports();
    let (a, _ea) = RtpLeg::bind(localhost(), &ports, LegConfig::default())
        .await
        .expect("leg a");
    let (b, _eb) = RtpLeg::bind(localhost(), &ports, LegConfig::default())
        .await
        .expect("leg b");
    let phone_a = phone().await;
    let phone_b = phone().await;
    a.set_remote(negotiated(
        phone_a.local_addr().expect("addr"),
        Codec::Pcmu,
        None,
    ))
    .expect("open");
    b.set_remote(negotiated(
        phone_b.local_addr().expect("addr"),
        Codec::Pcmu,
        None,
    ))
    .expect("open");
    a.bridge_to(&b).expect("open");
    a.barrier().await.expect("open");
    b.barrier().await.expect("open");
    phone_a
        .send_to(&rtp(1, 1, 1, 0, &[0x22; 160]), a.local_addr())
        .await
        .expect("send");
    assert!(RtpPacket::parse(&receive(&phone_b).await).is_ok());
    // Unbridging from B's side removes A's direction too.
    b.unbridge().expect("open");
    b.barrier().await.expect("open");
    a.barrier().await.expect("open");
    phone_a
        .send_to(&rtp(1, 2, 161, 0, &[0x22; 160]), a.local_addr())
        .await
        .expect("send");
    timeout(WAIT, async {
        while a.stats().rx_packets < 2 {
            a.barrier().await.expect("open");
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("second packet received");
    assert_eq!(a.stats().relayed_packets, 1);
}

#[tokio::test]
async fn generated_dtmf_reaches_the_remote_as_telephone_events() {
    let ports = ports();
    let (leg, _events) = RtpLeg::bind(localhost(), &ports, LegConfig::default())
        .await
        .expect("leg");
    let phone = phone().await;
    leg.set_remote(negotiated(
        phone.local_addr().expect("addr"),
        Codec::Pcmu,
        Some(101),
    ))
    .expect("open");
    assert_eq!(
        leg.send_dtmf('x', Duration::from_millis(100)),
        Err(SendDtmfError::NotADigit('x'))
    );
    leg.send_dtmf('7', Duration::from_millis(60)).expect("open");
    leg.send_dtmf('7', Duration::from_millis(60)).expect("open");
    let mut detector = crate::dtmf::DtmfDetector::new();
    let mut heard = Vec::new();
    let mut timestamps = Vec::new();
    // Two digits of 3 + 2 extra end packets each.
    for _ in 0..10 {
        let datagram = receive(&phone).await;
        let packet = RtpPacket::parse(&datagram).expect("valid");
        assert_eq!(packet.header.payload_type, 101);
        timestamps.push(packet.header.timestamp);
        heard.extend(detector.on_packet(
            packet.header.ssrc,
            packet.header.timestamp,
            packet.payload,
        ));
    }
    assert_eq!(heard, vec!['7', '7']);
    assert_eq!(timestamps[0], timestamps[4]);
    assert_eq!(timestamps[5], timestamps[0].wrapping_add(480));
}

#[tokio::test(start_paused = true)]
async fn a_silent_remote_is_reported_after_the_default_timeout_in_virtual_time() {
    let ports = ports();
    let started = tokio::time::Instant::now();
    let (leg, mut events) = RtpLeg::bind(localhost(), &ports, LegConfig::default())
        .await
        .expect("leg");
    leg.set_remote(negotiated(
        "127.0.0.1:9".parse().expect("addr"),
        Codec::Pcmu,
        None,
    ))
    .expect("open");
    let event = events.recv().await.expect("leg alive");
    assert_eq!(event, LegEvent::Inactive);
    assert!(started.elapsed() >= LegConfig::default().inactivity_timeout);
}
