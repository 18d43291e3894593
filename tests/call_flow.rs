//! The first real call, end to end: a SIPp agent registers with digest auth, a SIPp caller dials
//! 100, hears the greeting, presses 1 (RFC 4733 pcap), waits with music, the agent answers, audio
//! flows both ways through hotline, the caller hangs up; the journal holds every step in order.

#![allow(clippy::unwrap_used)]

mod support;

use std::time::Duration;

use support::agent::{AgentSetup, SippAgent};
use support::sipp::Sipp;
use support::{call_event_types, rtp, Hotline, Options};

#[test]
fn caller_reaches_agent_through_ivr_and_queue_with_audio_both_ways() {
    let h = Hotline::start(Options::default());
    let agent = SippAgent::start(
        &h,
        AgentSetup {
            hold_ms: 12_000,
            ..AgentSetup::default()
        },
    );

    let caller = Sipp::new("caller_ivr.xml", h.sip)
        .var("digit", 1)
        .var("talk_ms", 5000)
        .key("caller_pt", 0)
        .args(&["-s", "100", "-m", "1", "-rtp_echo"])
        .spawn();

    // The offer reaches the agent; it answers; then the agent talks for 2 s.
    let hotline_rtp = agent.hotline_rtp(Duration::from_secs(20));
    h.wait_type("call.answered", Duration::from_secs(5));
    let got = rtp::talk(
        &agent.rtp,
        hotline_rtp,
        0,
        0x55,
        100,
        Duration::from_millis(300),
    );

    // What the agent said came back from the caller (SIPp echoes): both directions work.
    let echoed: Vec<_> = got
        .iter()
        .filter(|p| p.payload.len() == 160 && p.payload[2..].iter().all(|b| *b == 0x55))
        .collect();
    assert!(
        echoed.len() >= 80,
        "only {} of 100 agent packets came back through the caller; got {} packets",
        echoed.len(),
        got.len()
    );
    // hotline sends the agent one continuous stream: one SSRC, sequence numbers +1.
    let ssrc = got[0].ssrc;
    assert!(got.iter().all(|p| p.ssrc == ssrc), "agent leg SSRC changed");
    assert_ne!(
        ssrc, 0x5eed_0001,
        "hotline must not pass the other leg's SSRC through"
    );
    // Sequence numbers never go back (the caller's DTMF tail is relayed as sent, duplicate end
    // packets included), and the agent's own audio comes back in order without gaps.
    for w in got.windows(2) {
        assert!(
            w[1].seq.wrapping_sub(w[0].seq) < 1000,
            "sequence went back in hotline's stream to the agent"
        );
    }
    for w in echoed.windows(2) {
        let (a, b) = (
            u16::from_be_bytes([w[0].payload[0], w[0].payload[1]]),
            u16::from_be_bytes([w[1].payload[0], w[1].payload[1]]),
        );
        assert!(b > a, "relayed audio out of order");
        assert!(
            w[1].seq.wrapping_sub(w[0].seq) >= 1,
            "relayed audio reuses a sequence number"
        );
    }

    let run = caller.wait(Duration::from_secs(20));
    run.assert_ok("caller");
    let ended = h.wait_type("call.ended", Duration::from_secs(5));
    assert_eq!(ended["hung_up_by"], "caller");
    assert_eq!(ended["reason"], "completed");
    agent.finish(Duration::from_secs(20)).assert_ok("agent");
    // The unregistration reaches the journal through the routing task: wait for it.
    h.wait_event("agent 1001 logged out", Duration::from_secs(5), |e| {
        e["type"] == "agent.state_changed" && e["agent_id"] == "1001" && e["to"] == "logged_out"
    });

    let events = h.events();
    let call_id = ended["call_id"].as_str().unwrap();
    assert_eq!(
        call_event_types(&events, call_id),
        [
            "call.arrived",
            "call.answered_by_ivr",
            "ivr.digit",
            "call.queued",
            "call.offered",
            "call.answered",
            "call.ended"
        ]
    );
    let digit = events.iter().find(|e| e["type"] == "ivr.digit").unwrap();
    assert_eq!(digit["digit"], "1");
    let answered = events
        .iter()
        .find(|e| e["type"] == "call.answered")
        .unwrap();
    assert_eq!(answered["agent_id"], "1001");
    assert_eq!(answered["queue"], "support");
    assert!(answered["wait_ms"].as_u64().unwrap() < 2000);
    // Every event has a unique id and a strictly increasing seq.
    let mut ids: Vec<_> = events
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), events.len());
    for w in events.windows(2) {
        assert!(w[1]["seq"].as_u64() > w[0]["seq"].as_u64());
    }
    // The agent went ready -> reserved -> ringing -> on_call -> wrap_up -> ready.
    let states: Vec<String> = events
        .iter()
        .filter(|e| e["type"] == "agent.state_changed" && e["agent_id"] == "1001")
        .map(|e| e["to"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        states,
        [
            "ready",
            "reserved",
            "ringing",
            "on_call",
            "wrap_up",
            "ready",
            "logged_out"
        ],
        "{states:?}"
    );
}

#[test]
fn agent_registered_over_tcp_gets_the_call_on_its_own_connection() {
    let h = Hotline::start(Options::default());
    // SIPp over TCP (one connection, -t t1): the offer must come back over that connection,
    // since the agent listens nowhere else.
    let agent = SippAgent::start(
        &h,
        AgentSetup {
            hold_ms: 10_000,
            extra: vec!["-t", "t1"],
            ..AgentSetup::default()
        },
    );
    let caller = Sipp::new("caller_ivr.xml", h.sip)
        .var("digit", 1)
        .var("talk_ms", 2000)
        .key("caller_pt", 0)
        .args(&["-s", "100", "-m", "1"])
        .spawn();
    agent.hotline_rtp(Duration::from_secs(20));
    let answered = h.wait_type("call.answered", Duration::from_secs(5));
    assert_eq!(answered["agent_id"], "1001");
    caller.wait(Duration::from_secs(20)).assert_ok("caller");
    let ended = h.wait_type("call.ended", Duration::from_secs(5));
    assert_eq!(ended["reason"], "completed");
    agent.finish(Duration::from_secs(20)).assert_ok("TCP agent");
}
