//! A call's media end to end: SDP offer/answer on both legs, IVR prompt, bridge with
//! transcoding and telephone-event PT remapping, over real loopback UDP.

use hotline_media::dtmf::TelephoneEvent;
use hotline_media::g711::{linear_to_alaw, ALAW_TO_ULAW};
use hotline_media::rtp::{RtpHeader, RtpPacket};
use hotline_media::sdp::{Capabilities, Direction, SdpSession, SessionDescription};
use hotline_media::{LegConfig, LegEvent, PlayMode, Prompt, RtpLeg, RtpPortAllocator};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::UdpSocket;
use tokio::time::timeout;

const WAIT: Duration = Duration::from_secs(5);

fn rtp(seq: u16, pt: u8, payload: &[u8]) -> Vec<u8> {
    let mut buf = vec![0u8; 12 + payload.len()];
    RtpHeader {
        marker: false,
        payload_type: pt,
        sequence: seq,
        timestamp: u32::from(seq) * 160,
        ssrc: 0x5555,
    }
    .write_packet(payload, &mut buf)
    .expect("sized");
    buf
}

async fn receive(socket: &UdpSocket) -> Vec<u8> {
    let mut buf = [0u8; 2048];
    let (len, _) = timeout(WAIT, socket.recv_from(&mut buf))
        .await
        .expect("a packet in time")
        .expect("recv");
    buf[..len].to_vec()
}

#[tokio::test]
async fn caller_ivr_then_agent_bridge() {
    let ip: IpAddr = "127.0.0.1".parse().expect("ip");
    let base = 50000 + (rand::random::<u16>() % 4000) * 2;
    let ports = RtpPortAllocator::new(base..=base + 100);
    let caps = Capabilities::default();

    // The caller's phone offers PCMA with telephone-event on PT 96.
    let caller_phone = UdpSocket::bind((ip, 0)).await.expect("bind");
    let offer = format!(
        "v=0\r\no=phone 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
         m=audio {} RTP/AVP 8 96\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:96 telephone-event/8000\r\n",
        caller_phone.local_addr().expect("addr").port()
    );
    let (caller, mut caller_events) = RtpLeg::bind(ip, &ports, LegConfig::default())
        .await
        .expect("caller leg");
    let mut caller_sdp = SdpSession::with_random_id(ip, caller.local_addr().port());
    let offer = SessionDescription::parse(&offer).expect("offer parses");
    let (answer, negotiated) = caller_sdp
        .answer(&offer, &caps, Direction::SendRecv)
        .expect("negotiated");
    assert!(answer.contains("RTP/AVP 8 96"), "{answer}");
    caller.set_remote(negotiated).expect("open");

    // IVR: a 40 ms prompt, then the caller presses 2.
    caller
        .play(
            Arc::new(Prompt::from_samples(vec![100; 320])),
            PlayMode::Once,
        )
        .expect("open");
    for _ in 0..2 {
        let p = receive(&caller_phone).await;
        assert_eq!(RtpPacket::parse(&p).expect("valid").header.payload_type, 8);
    }
    let press = TelephoneEvent {
        event: 2,
        end: true,
        volume: 10,
        duration: 800,
    }
    .to_bytes();
    caller_phone
        .send_to(&rtp(1, 96, &press), caller.local_addr())
        .await
        .expect("send");
    let mut got = Vec::new();
    while !got.contains(&LegEvent::Dtmf('2')) {
        got.push(
            timeout(WAIT, caller_events.recv())
                .await
                .expect("event")
                .expect("open"),
        );
    }

    // The agent leg: we offer, the agent's phone answers PCMU with telephone-event 101.
    let agent_phone = UdpSocket::bind((ip, 0)).await.expect("bind");
    let (agent, _agent_events) = RtpLeg::bind(ip, &ports, LegConfig::default())
        .await
        .expect("agent leg");
    let mut agent_sdp = SdpSession::with_random_id(ip, agent.local_addr().port());
    let our_offer = agent_sdp.offer(&caps, Direction::SendRecv);
    assert!(our_offer.contains("RTP/AVP 0 8 101"), "{our_offer}");
    let agent_answer = format!(
        "v=0\r\no=agent 9 9 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
         m=audio {} RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\n",
        agent_phone.local_addr().expect("addr").port()
    );
    let agent_answer = SessionDescription::parse(&agent_answer).expect("answer parses");
    agent
        .set_remote(
            agent_sdp
                .accept_answer(&agent_answer, &caps, Direction::SendRecv)
                .expect("accepted"),
        )
        .expect("open");

    caller.bridge_to(&agent).expect("open");
    caller.barrier().await.expect("open");
    agent.barrier().await.expect("open");

    // Caller speaks A-law; the agent hears μ-law on the agent leg's own stream.
    let speech = [linear_to_alaw(4000); 160];
    caller_phone
        .send_to(&rtp(2, 8, &speech), caller.local_addr())
        .await
        .expect("send");
    let heard = receive(&agent_phone).await;
    let heard = RtpPacket::parse(&heard).expect("valid");
    assert_eq!(heard.header.payload_type, 0);
    assert_eq!(heard.header.ssrc, agent.ssrc());
    assert_eq!(
        heard.payload,
        [ALAW_TO_ULAW[speech[0] as usize]; 160].as_slice()
    );

    // The agent presses 9: the caller's phone gets it on PT 96, continuing the caller's stream.
    let nine = TelephoneEvent {
        event: 9,
        end: false,
        volume: 10,
        duration: 160,
    }
    .to_bytes();
    agent_phone
        .send_to(&rtp(7, 101, &nine), agent.local_addr())
        .await
        .expect("send");
    let relayed = receive(&caller_phone).await;
    let relayed = RtpPacket::parse(&relayed).expect("valid");
    assert_eq!(relayed.header.payload_type, 96);
    assert_eq!(relayed.header.ssrc, caller.ssrc());
    assert!(relayed.header.marker);

    caller.close().expect("open");
    agent.close().expect("open");
}
