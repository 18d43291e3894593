//! Transfers to outside numbers through a SIP trunk, on real UDP: a SIPp carrier that challenges
//! with 407 and verifies our digest answer, then bridges RTP both ways with the caller; the
//! allow-list keeping other numbers off the trunk; a 503 with Retry-After taking the trunk out of
//! service; the channel cap; P-Asserted-Identity trusted only from a trunk's address; a gateway
//! located through SRV records of a DNS server the test runs.

#![allow(clippy::unwrap_used)]

#[path = "trunk/fake_dns.rs"]
mod fake_dns;
#[path = "trunk/raw_trunk.rs"]
mod raw_trunk;
mod support;

use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

use fake_dns::{Answer, FakeDns};
use raw_trunk::RawTrunk;
use serde_json::Value;
use support::sipp::Sipp;
use support::uac::{unique, Sip, Uac};
use support::{call_event_types, poll_until, rtp, Hotline, Options};

const PLAN: &str = r#"
version: 1
lists:
  vip: ["+8613800000001"]
numbers:
  "800":
    start: out
    nodes:
      out:
        transfer: { number: "13800138000", trunk: carrier, timeout: 10s, failed: sorry }
      sorry: { play: goodbye, next: bye }
      bye: { hangup: true }
  "801":
    start: abroad
    nodes:
      abroad: { set: { variables: { target: "+15550100" } }, next: out }
      out:
        transfer: { number: "${target}", trunk: carrier, failed: sorry }
      sorry: { play: goodbye, next: bye }
      bye: { hangup: true }
  "803":
    start: out
    nodes:
      out:
        transfer: { number: "13800138000", trunk: carrier, timeout: 2s, failed: sorry }
      sorry: { play: goodbye, next: bye }
      bye: { hangup: true }
  "802":
    start: screen
    nodes:
      screen:
        branch:
          - when: { caller_in: vip }
            goto: vip
        otherwise: other
      vip: { hangup: busy }
      other: { hangup: rejected }
"#;

const FROM_NUMBER: &str = "+8675512345678";

/// The bundled config plus one trunk, `carrier`, with these settings (YAML lines under it).
fn with_trunk(settings: &str) -> Options {
    let anchor = "routing:\n  not_ready_reasons: []\n  seed: 0\n";
    let edited: &'static str = Box::leak(
        format!("{anchor}trunks:\n  carrier:\n    from_number: \"{FROM_NUMBER}\"\n{settings}")
            .into_boxed_str(),
    );
    Options {
        config_edits: vec![(anchor, edited)],
        ..Options::default()
    }
}

const SDP_PORT: &str = "{rtp}";

/// A caller offering PCMU at `rtp`.
fn offer(rtp: SocketAddr) -> String {
    "v=0\r\no=c 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio {rtp} RTP/AVP 0\r\na=sendrecv\r\n"
        .replace(SDP_PORT, &rtp.port().to_string())
}

/// A caller dialing `number`, offering PCMU at its own RTP socket; the 200 answered.
fn dial(h: &Hotline, number: &str) -> (Uac, UdpSocket) {
    let rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let mut uac = Uac::new(h.sip, number);
    let ok = uac.invite(Some(&offer(rtp.local_addr().unwrap())), None);
    assert_eq!(ok.status(), Some(200), "{}", ok.start);
    (uac, rtp)
}

/// The id of the first call to `to`.
fn call_of(h: &Hotline, to: &str) -> String {
    let arrived = h.wait_event("call.arrived", Duration::from_secs(10), |e| {
        e["type"] == "call.arrived" && e["to"] == to
    });
    arrived["call_id"].as_str().unwrap().to_string()
}

fn event_of(h: &Hotline, call: &str, kind: &str, secs: u64) -> Value {
    h.wait_event(kind, Duration::from_secs(secs), |e| {
        e["call_id"] == call && e["type"] == kind
    })
}

/// MD5 in hex, by coreutils' md5sum (an implementation independent of hotline's).
fn md5_hex(text: &str) -> String {
    use std::io::Write;
    let mut child = std::process::Command::new("md5sum")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    String::from_utf8(out.stdout).unwrap()[..32].to_string()
}

/// The value of `name` in a digest header (quoted or not).
fn digest_param(header: &str, name: &str) -> String {
    header
        .split(',')
        .filter_map(|p| p.trim().trim_start_matches("Digest ").split_once('='))
        .find(|(k, _)| k.trim() == name)
        .map(|(_, v)| v.trim().trim_matches('"').to_string())
        .unwrap_or_else(|| panic!("no {name} in {header}"))
}

#[test]
fn transfer_answers_a_407_once_and_bridges_rtp_both_ways() {
    let trunk_rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let port_file = dir.path().join("hotline_trunk_rtp_port");
    let auth_file = dir.path().join("proxy_authorization");
    let carrier = Sipp::new("trunk_407.xml", "127.0.0.1:5060".parse().unwrap())
        .var("from_re", "\\+8675512345678")
        .key("trunk_rtp_port", trunk_rtp.local_addr().unwrap().port())
        .key("port_file", port_file.display())
        .key("auth_file", auth_file.display())
        .args(&["-m", "1"]);
    let gateway = format!("127.0.0.1:{}", carrier.port);
    let h = Hotline::start_with_dialplan(
        with_trunk(&format!(
            "    gateway: \"{gateway}\"\n    username: acct\n    password: s3cret\n    allow: [\"+86XXXXXXXXXXX\"]\n"
        )),
        PLAN,
    );
    let carrier = carrier.spawn();

    let caller_rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let mut uac = Uac::new(h.sip, "800");
    let ok = uac.invite(Some(&offer(caller_rtp.local_addr().unwrap())), None);
    assert_eq!(ok.status(), Some(200), "{}", ok.start);
    let call = call_of(&h, "800");
    let answered = event_of(&h, &call, "transfer.answered", 20);
    assert_eq!(answered["number"], "+8613800138000");
    assert_eq!(answered["trunk"], "carrier");
    let started = event_of(&h, &call, "transfer.started", 1);
    assert_eq!(started["number"], "+8613800138000");

    // The second INVITE's Proxy-Authorization answers the carrier's challenge with our password.
    let mut auth = String::new();
    poll_until(Duration::from_secs(5), || {
        auth = std::fs::read_to_string(&auth_file).unwrap_or_default();
        auth.contains("response")
    });
    let uri = digest_param(&auth, "uri");
    assert_eq!(uri, format!("sip:+8613800138000@{gateway}"));
    assert_eq!(digest_param(&auth, "username"), "acct");
    assert_eq!(digest_param(&auth, "realm"), "trunk.example");
    assert_eq!(digest_param(&auth, "qop"), "auth");
    let ha1 = md5_hex("acct:trunk.example:s3cret");
    let ha2 = md5_hex(&format!("INVITE:{uri}"));
    let expected = md5_hex(&format!(
        "{ha1}:{}:{}:{}:auth:{ha2}",
        digest_param(&auth, "nonce"),
        digest_param(&auth, "nc"),
        digest_param(&auth, "cnonce")
    ));
    assert_eq!(digest_param(&auth, "response"), expected, "{auth}");

    // Audio both ways: the caller's packets reach the carrier and the carrier's the caller.
    let hotline_caller_rtp = ok.sdp_rtp();
    let mut port = None;
    poll_until(Duration::from_secs(5), || {
        port = std::fs::read_to_string(&port_file)
            .ok()
            .and_then(|s| s.trim().parse::<u16>().ok());
        port.is_some()
    });
    let hotline_trunk_rtp = SocketAddr::from(([127, 0, 0, 1], port.unwrap()));
    let far = std::thread::spawn(move || {
        rtp::talk(
            &trunk_rtp,
            hotline_trunk_rtp,
            0,
            0x55,
            50,
            Duration::from_millis(300),
        )
    });
    let heard = rtp::talk(
        &caller_rtp,
        hotline_caller_rtp,
        0,
        0x33,
        50,
        Duration::from_millis(300),
    );
    let carrier_heard = far.join().unwrap();
    let from_carrier = heard
        .iter()
        .filter(|p| p.payload[2..].iter().all(|b| *b == 0x55))
        .count();
    let from_caller = carrier_heard
        .iter()
        .filter(|p| p.payload[2..].iter().all(|b| *b == 0x33))
        .count();
    assert!(
        from_carrier >= 25,
        "the caller heard {from_carrier} of the carrier's 50 packets"
    );
    assert!(
        from_caller >= 25,
        "the carrier heard {from_caller} of the caller's 50 packets"
    );

    // The caller hangs up: the carrier gets BYE, the call ends as transferred.
    uac.bye();
    carrier.wait(Duration::from_secs(10)).assert_ok("carrier");
    let ended = event_of(&h, &call, "call.ended", 10);
    assert_eq!(ended["reason"], "transferred");
    assert_eq!(ended["hung_up_by"], "caller");
    let types = call_event_types(&h.events(), &call);
    assert!(!types.contains(&"transfer.failed".to_string()), "{types:?}");
    assert_eq!(
        h.metric("hotline_trunk_dials_total{outcome=\"answered\",trunk=\"carrier\"}"),
        1.0
    );
    h.wait_metric(
        "hotline_trunk_channels{trunk=\"carrier\"}",
        0.0,
        Duration::from_secs(5),
    );
}

#[test]
fn a_401_is_answered_with_credentials_that_sipp_verifies() {
    let trunk_rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let carrier = Sipp::new("trunk_401.xml", "127.0.0.1:5060".parse().unwrap())
        .var("trunk_user", "acct")
        .var("trunk_password", "s3cret")
        .key("trunk_rtp_port", trunk_rtp.local_addr().unwrap().port())
        .args(&["-m", "1"]);
    let gateway = format!("127.0.0.1:{}", carrier.port);
    let h = Hotline::start_with_dialplan(
        with_trunk(&format!(
            "    gateway: \"sip:{gateway};transport=udp\"\n    username: acct\n    password: s3cret\n    allow: [\"+8613800138000\"]\n"
        )),
        PLAN,
    );
    let carrier = carrier.spawn();
    let (mut uac, _rtp) = dial(&h, "800");
    let call = call_of(&h, "800");
    event_of(&h, &call, "transfer.answered", 20);
    uac.bye();
    carrier
        .wait(Duration::from_secs(10))
        .assert_ok("carrier (verifyauth)");
    let ended = event_of(&h, &call, "call.ended", 10);
    assert_eq!(ended["reason"], "transferred");
}

#[test]
fn a_number_outside_the_allow_list_is_never_dialed() {
    let gw = RawTrunk::bind();
    let h = Hotline::start_with_dialplan(
        with_trunk(&format!(
            "    gateway: \"{}\"\n    allow: [\"+86XXXXXXXXXXX\", \"+8610*\"]\n",
            gw.addr
        )),
        PLAN,
    );
    // 801 dials a number the call sets (a literal one outside the allow-list would have kept
    // the plan from starting).
    let _caller = dial(&h, "801");
    let call = call_of(&h, "801");
    let failed = event_of(&h, &call, "transfer.failed", 10);
    assert_eq!(failed["cause"], "refused_by_allow_list");
    assert_eq!(failed["number"], "+15550100");
    // The `failed` branch runs: its prompt plays, then the plan hangs up.
    h.wait_event("the failed branch's prompt", Duration::from_secs(10), |e| {
        e["call_id"] == call.as_str() && e["type"] == "ivr.prompt" && e["prompt"] == "goodbye"
    });
    event_of(&h, &call, "call.ended", 15);
    let types = call_event_types(&h.events(), &call);
    assert!(
        !types.contains(&"transfer.started".to_string()),
        "{types:?}"
    );
    assert!(
        !gw.anything_within(Duration::from_millis(100)),
        "the trunk received a request for a refused number"
    );
    assert_eq!(
        h.metric("hotline_trunk_dials_total{outcome=\"refused\",trunk=\"carrier\"}"),
        1.0
    );
}

#[test]
fn a_503_with_retry_after_makes_the_next_transfer_fail_without_an_invite() {
    let gw = RawTrunk::bind();
    let h = Hotline::start_with_dialplan(
        with_trunk(&format!(
            "    gateway: \"{}\"\n    allow: [\"+86*\"]\n",
            gw.addr
        )),
        PLAN,
    );
    let _first = dial(&h, "800");
    let (invite, from) = gw.expect("INVITE", Duration::from_secs(10));
    gw.respond(
        &invite,
        from,
        "503 Service Unavailable",
        &["Retry-After: 30"],
    );
    gw.expect("ACK", Duration::from_secs(5));
    let call = call_of(&h, "800");
    let failed = event_of(&h, &call, "transfer.failed", 10);
    assert_eq!(failed["cause"], "trunk_unavailable");
    assert_eq!(failed["status"], 503);

    let _second = dial(&h, "800");
    let second_call = h.wait_event("the second call", Duration::from_secs(10), |e| {
        e["type"] == "call.arrived" && e["to"] == "800" && e["call_id"] != call.as_str()
    })["call_id"]
        .as_str()
        .unwrap()
        .to_string();
    let failed = event_of(&h, &second_call, "transfer.failed", 10);
    assert_eq!(failed["cause"], "trunk_unavailable");
    assert!(failed.get("status").is_none(), "{failed}");
    event_of(&h, &second_call, "call.ended", 15);
    assert!(
        !gw.anything_within(Duration::from_millis(100)),
        "the trunk was dialed while out of service"
    );
}

#[test]
fn max_channels_one_refuses_a_second_concurrent_transfer() {
    let gw = RawTrunk::bind();
    let h = Hotline::start_with_dialplan(
        with_trunk(&format!(
            "    gateway: \"{}\"\n    max_channels: 1\n    allow: [\"+86*\"]\n",
            gw.addr
        )),
        PLAN,
    );
    let (mut first, _rtp) = dial(&h, "800");
    let (invite, from) = gw.expect("INVITE", Duration::from_secs(10));
    gw.respond(&invite, from, "180 Ringing", &[]);
    let first_call = call_of(&h, "800");
    event_of(&h, &first_call, "transfer.started", 5);
    h.wait_metric(
        "hotline_trunk_channels{trunk=\"carrier\"}",
        1.0,
        Duration::from_secs(5),
    );

    let _second = dial(&h, "800");
    let second_call = h.wait_event("the second call", Duration::from_secs(10), |e| {
        e["type"] == "call.arrived" && e["to"] == "800" && e["call_id"] != first_call.as_str()
    })["call_id"]
        .as_str()
        .unwrap()
        .to_string();
    let failed = event_of(&h, &second_call, "transfer.failed", 10);
    assert_eq!(failed["cause"], "channel_limit");

    // The first caller gives up: the ringing dial is cancelled and its channel freed.
    first.bye();
    let (cancel, from) = gw.expect("CANCEL", Duration::from_secs(5));
    gw.respond(&cancel, from, "200 OK", &[]);
    gw.respond(&invite, from, "487 Request Terminated", &[]);
    let failed = event_of(&h, &first_call, "transfer.failed", 10);
    assert_eq!(failed["cause"], "caller_hung_up");
    h.wait_metric(
        "hotline_trunk_channels{trunk=\"carrier\"}",
        0.0,
        Duration::from_secs(5),
    );
    let invites = h
        .events()
        .iter()
        .filter(|e| e["type"] == "transfer.started")
        .count();
    assert_eq!(invites, 1, "only the first transfer was dialed");
}

/// An INVITE for 802 from `bind` carrying a P-Asserted-Identity; returns the final status.
fn invite_with_pai(h: &Hotline, bind: &str, pai: &str) -> u16 {
    let sock = UdpSocket::bind(bind).unwrap();
    let local = sock.local_addr().unwrap();
    let branch = unique("z9hG4bK");
    let call_id = unique("pai-");
    let invite = format!(
        "INVITE sip:802@{sip} SIP/2.0\r\nVia: SIP/2.0/UDP {local};branch={branch};rport\r\n\
         From: <sip:0755000@{local}>;tag=p1\r\nTo: <sip:802@{sip}>\r\nCall-ID: {call_id}\r\n\
         CSeq: 1 INVITE\r\nContact: <sip:0755000@{local}>\r\nMax-Forwards: 70\r\n\
         P-Asserted-Identity: <sip:{pai}@carrier>\r\nContent-Length: 0\r\n\r\n",
        sip = h.sip
    );
    sock.send_to(invite.as_bytes(), h.sip).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut buf = [0u8; 8192];
    loop {
        let (n, _) = sock.recv_from(&mut buf).unwrap();
        let msg = Sip::parse(&buf[..n]).unwrap();
        let Some(status) = msg.status().filter(|s| *s >= 200) else {
            continue;
        };
        let ack = format!(
            "ACK sip:802@{sip} SIP/2.0\r\nVia: SIP/2.0/UDP {local};branch={branch};rport\r\n\
             From: <sip:0755000@{local}>;tag=p1\r\nTo: {to}\r\nCall-ID: {call_id}\r\n\
             CSeq: 1 ACK\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
            sip = h.sip,
            to = msg.header("to").unwrap()
        );
        sock.send_to(ack.as_bytes(), h.sip).unwrap();
        return status;
    }
}

#[test]
fn p_asserted_identity_counts_only_from_a_trunk_address() {
    // The trunk's gateway is elsewhere; its INVITEs also come from 127.0.0.2 (inbound_from).
    let h = Hotline::start_with_dialplan(
        with_trunk(
            "    gateway: \"192.0.2.1\"\n    inbound_from: [127.0.0.2/32]\n    allow: [\"+86*\"]\n",
        ),
        PLAN,
    );
    // From the trunk: the PAI number is the caller, who is in the vip list (busy branch).
    assert_eq!(invite_with_pai(&h, "127.0.0.2:0", "+8613800000001"), 486);
    let arrived = h.wait_type("call.arrived", Duration::from_secs(5));
    assert_eq!(arrived["from"], "+8613800000001");
    // From anywhere else the same PAI is ignored: the From user is the caller (rejected branch).
    assert_eq!(invite_with_pai(&h, "127.0.0.1:0", "+8613800000001"), 603);
    h.wait_event("the second call", Duration::from_secs(5), |e| {
        e["type"] == "call.arrived" && e["from"] != "+8613800000001"
    });
    let froms: Vec<Value> = h
        .events()
        .iter()
        .filter(|e| e["type"] == "call.arrived")
        .map(|e| e["from"].clone())
        .collect();
    assert_eq!(froms, ["+8613800000001", "0755000"]);
}

#[test]
fn a_gateway_name_is_located_through_srv_records() {
    let gw = RawTrunk::bind();
    let dns = FakeDns::start(vec![
        (
            "_sip._udp.carrier.test",
            Answer::Srv(10, 100, gw.addr.port(), "gw1.carrier.test"),
        ),
        ("gw1.carrier.test", Answer::A([127, 0, 0, 1].into())),
    ]);
    let h = Hotline::start_with_dialplan(
        with_trunk(&format!(
            "    gateway: carrier.test\n    dns_server: \"{}\"\n    allow: [\"+86*\"]\n",
            dns.addr
        )),
        PLAN,
    );
    let _caller = dial(&h, "800");
    // The INVITE reaches the SRV record's port, addressed to the gateway's name.
    let (invite, from) = gw.expect("INVITE", Duration::from_secs(10));
    assert!(
        invite
            .start
            .starts_with("INVITE sip:+8613800138000@carrier.test SIP/2.0"),
        "{}",
        invite.start
    );
    gw.respond(&invite, from, "486 Busy Here", &[]);
    let call = call_of(&h, "800");
    let failed = event_of(&h, &call, "transfer.failed", 10);
    assert_eq!(failed["cause"], "busy");
    assert_eq!(failed["status"], 486);
    let asked: Vec<(String, u16)> = dns.asked.try_iter().collect();
    assert!(
        asked.contains(&("_sip._udp.carrier.test".to_string(), 33)),
        "{asked:?}"
    );
    assert!(
        asked.contains(&("gw1.carrier.test".to_string(), 1)),
        "{asked:?}"
    );
}

#[test]
fn a_dial_that_rings_past_its_timeout_is_cancelled_and_takes_failed() {
    let gw = RawTrunk::bind();
    let h = Hotline::start_with_dialplan(
        with_trunk(&format!(
            "    gateway: \"{}\"\n    allow: [\"+86*\"]\n",
            gw.addr
        )),
        PLAN,
    );
    let _caller = dial(&h, "803");
    let (invite, from) = gw.expect("INVITE", Duration::from_secs(10));
    gw.respond(&invite, from, "180 Ringing", &[]);
    // The node's 2 s ring time runs out: CANCEL, then the failed branch.
    let (cancel, from) = gw.expect("CANCEL", Duration::from_secs(10));
    gw.respond(&cancel, from, "200 OK", &[]);
    gw.respond(&invite, from, "487 Request Terminated", &[]);
    gw.expect("ACK", Duration::from_secs(5));
    let call = call_of(&h, "803");
    let failed = event_of(&h, &call, "transfer.failed", 5);
    assert_eq!(failed["cause"], "no_answer");
    h.wait_event("the failed branch's prompt", Duration::from_secs(10), |e| {
        e["call_id"] == call.as_str() && e["type"] == "ivr.prompt" && e["prompt"] == "goodbye"
    });
    assert_eq!(
        h.metric("hotline_trunk_dials_total{outcome=\"no_answer\",trunk=\"carrier\"}"),
        1.0
    );
}

#[test]
fn the_far_end_hanging_up_ends_the_caller_leg() {
    let gw = RawTrunk::bind();
    let far_rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let h = Hotline::start_with_dialplan(
        with_trunk(&format!(
            "    gateway: \"{}\"\n    allow: [\"+86*\"]\n",
            gw.addr
        )),
        PLAN,
    );
    let (mut caller, _rtp) = dial(&h, "800");
    let (invite, from) = gw.expect("INVITE", Duration::from_secs(10));
    gw.answer(&invite, from, far_rtp.local_addr().unwrap().port());
    gw.expect("ACK", Duration::from_secs(5));
    let call = call_of(&h, "800");
    event_of(&h, &call, "transfer.answered", 5);
    gw.bye(&invite, from);
    // hotline hangs the caller up in turn.
    let got_bye = poll_until(Duration::from_secs(10), || {
        caller.recv(Duration::from_millis(50));
        caller.byes > 0
    });
    assert!(got_bye, "the caller got no BYE");
    let ended = event_of(&h, &call, "call.ended", 10);
    assert_eq!(ended["reason"], "transferred");
    assert_eq!(ended["hung_up_by"], "transferee");
}

#[test]
fn a_second_challenge_after_our_credentials_fails_the_transfer() {
    let gw = RawTrunk::bind();
    let h = Hotline::start_with_dialplan(
        with_trunk(&format!(
            "    gateway: \"{}\"\n    username: acct\n    password: wrong\n    allow: [\"+86*\"]\n",
            gw.addr
        )),
        PLAN,
    );
    let _caller = dial(&h, "800");
    let challenge =
        "Proxy-Authenticate: Digest realm=\"trunk.example\", nonce=\"n1\", qop=\"auth\"";
    let (first, from) = gw.expect("INVITE", Duration::from_secs(10));
    assert!(first.header("proxy-authorization").is_none());
    gw.respond(
        &first,
        from,
        "407 Proxy Authentication Required",
        &[challenge],
    );
    gw.expect("ACK", Duration::from_secs(5));
    let (second, from) = gw.expect("INVITE", Duration::from_secs(5));
    assert!(second.header("proxy-authorization").is_some());
    assert_eq!(second.header("call-id"), first.header("call-id"));
    assert_eq!(second.header("from"), first.header("from"), "same From tag");
    assert_eq!(second.cseq(), Some(first.cseq().unwrap() + 1));
    gw.respond(
        &second,
        from,
        "407 Proxy Authentication Required",
        &[challenge],
    );
    gw.expect("ACK", Duration::from_secs(5));
    let call = call_of(&h, "800");
    let failed = event_of(&h, &call, "transfer.failed", 5);
    assert_eq!(failed["cause"], "auth_failed");
    assert_eq!(failed["status"], 407);
    event_of(&h, &call, "call.ended", 15);
    assert!(
        !gw.anything_within(Duration::from_millis(100)),
        "a third INVITE was sent"
    );
}

#[test]
fn a_reload_with_dials_the_trunks_could_never_make_is_refused_and_the_running_plan_stays() {
    let h = Hotline::start_with_dialplan(
        with_trunk("    gateway: \"192.0.2.1\"\n    allow: [\"+86XXXXXXXXXXX\"]\n"),
        PLAN,
    );
    // 800 names a trunk that is not configured; 803 dials a literal number the allow-list
    // refuses.
    let next = PLAN
        .replace(
            "trunk: carrier, timeout: 10s",
            "trunk: carier, timeout: 10s",
        )
        .replace(
            "\"13800138000\", trunk: carrier, timeout: 2s",
            "\"+15550100\", trunk: carrier, timeout: 2s",
        );
    assert_ne!(next, PLAN);
    h.write_dialplan(&next);
    let (status, answer) = h.reload_dialplan();
    assert_eq!(status, 400, "{answer}");
    assert_eq!(answer["result"], "invalid", "{answer}");
    assert_eq!(answer["running"]["version"], 1, "{answer}");
    let plan = h.dialplan_path();
    let plan = plan.display();
    assert_eq!(
        answer["errors"],
        serde_json::json!([
            format!("{plan}:10:51: unknown trunk `carier` in the transfer of node `out`; configured trunks: carrier; did you mean `carrier`?"),
            format!("{plan}:25:29: number `+15550100` can never be dialed: trunk `carrier`'s allow-list refuses it; the allow-list has +86XXXXXXXXXXX; add a pattern for it or dial another number"),
        ]),
        "{answer}"
    );
    // The same change without those dials goes in.
    h.write_dialplan(&PLAN.replace("bye: { hangup: true }", "bye: { hangup: busy }"));
    let (status, answer) = h.reload_dialplan();
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["running"]["version"], 2, "{answer}");
}
