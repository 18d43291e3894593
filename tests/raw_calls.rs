//! Raw-UDP calls: running out of RTP ports (503, and the port comes back when a call ends), and
//! CANCEL after the call was answered (200 to the CANCEL, the call goes on) or for no call (481),
//! and DTMF by SIP INFO (`application/dtmf-relay`) for phones that cannot send RFC 4733.

#![allow(clippy::unwrap_used)]

mod support;

use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

use support::{Hotline, Options};

fn invite(sock: &UdpSocket, to: SocketAddr, call_id: &str) -> String {
    invite_number(sock, to, call_id, "200")
}

fn invite_number(sock: &UdpSocket, to: SocketAddr, call_id: &str, number: &str) -> String {
    let local = sock.local_addr().unwrap();
    let sdp = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n";
    let msg = format!(
        "INVITE sip:{number}@{to} SIP/2.0\r\nVia: SIP/2.0/UDP {local};branch=z9hG4bK-{call_id};rport\r\n\
         From: <sip:5552000@{local}>;tag=f-{call_id}\r\nTo: <sip:{number}@{to}>\r\nCall-ID: {call_id}\r\n\
         CSeq: 1 INVITE\r\nContact: <sip:5552000@{local}>\r\nMax-Forwards: 70\r\n\
         Content-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{sdp}",
        sdp.len()
    );
    sock.send_to(msg.as_bytes(), to).unwrap();
    let mut buf = [0u8; 8192];
    loop {
        let (n, _) = sock.recv_from(&mut buf).unwrap();
        let text = String::from_utf8_lossy(&buf[..n]).into_owned();
        if !text.starts_with("SIP/2.0 100") {
            return text;
        }
    }
}

fn to_header(resp: &str) -> String {
    resp.lines()
        .find(|l| l.starts_with("To:"))
        .unwrap()
        .trim_start_matches("To:")
        .trim()
        .to_string()
}

fn in_dialog(
    sock: &UdpSocket,
    to: SocketAddr,
    method: &str,
    call_id: &str,
    to_hdr: &str,
    cseq: u32,
) {
    let local = sock.local_addr().unwrap();
    let msg = format!(
        "{method} sip:hotline@{to} SIP/2.0\r\nVia: SIP/2.0/UDP {local};branch=z9hG4bK-{call_id}-{method};rport\r\n\
         From: <sip:5552000@{local}>;tag=f-{call_id}\r\nTo: {to_hdr}\r\nCall-ID: {call_id}\r\n\
         CSeq: {cseq} {method}\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
    );
    sock.send_to(msg.as_bytes(), to).unwrap();
}

#[test]
fn no_rtp_port_left_means_503_and_ports_come_back() {
    // One even port: room for exactly one caller leg.
    let h = Hotline::start(Options {
        rtp_ports: 1,
        ..Options::default()
    });
    let a = UdpSocket::bind("127.0.0.1:0").unwrap();
    a.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let first = invite(&a, h.sip, "cap-1");
    assert!(first.starts_with("SIP/2.0 200"), "{first}");
    let to = to_header(&first);
    in_dialog(&a, h.sip, "ACK", "cap-1", &to, 1);

    let b = UdpSocket::bind("127.0.0.1:0").unwrap();
    b.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let second = invite(&b, h.sip, "cap-2");
    assert!(second.starts_with("SIP/2.0 503"), "{second}");
    in_dialog(&b, h.sip, "ACK", "cap-2", &to_header(&second), 1);

    // The first call ends; its port is free again for the next caller.
    in_dialog(&a, h.sip, "BYE", "cap-1", &to, 2);
    h.wait_event("first call ended", Duration::from_secs(5), |e| {
        e["type"] == "call.ended" && e["sip_call_ids"][0] == "cap-1"
    });
    let mut third = String::new();
    let ok = support::poll_until(Duration::from_secs(5), || {
        third = invite(&b, h.sip, &format!("cap-3-{}", rand_suffix()));
        third.starts_with("SIP/2.0 200")
    });
    assert!(ok, "the port never came back: {third}");
}

fn rand_suffix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
}

#[test]
fn cancel_after_the_answer_changes_nothing_and_unknown_cancel_is_481() {
    let h = Hotline::start(Options::default());
    let a = UdpSocket::bind("127.0.0.1:0").unwrap();
    a.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let ok = invite(&a, h.sip, "cxl-1");
    assert!(ok.starts_with("SIP/2.0 200"), "{ok}");
    let to = to_header(&ok);
    in_dialog(&a, h.sip, "ACK", "cxl-1", &to, 1);

    // CANCEL of the answered INVITE (same branch as the INVITE): 200, no effect.
    let local = a.local_addr().unwrap();
    let cancel = format!(
        "CANCEL sip:200@{to_addr} SIP/2.0\r\nVia: SIP/2.0/UDP {local};branch=z9hG4bK-cxl-1;rport\r\n\
         From: <sip:5552000@{local}>;tag=f-cxl-1\r\nTo: <sip:200@{to_addr}>\r\nCall-ID: cxl-1\r\n\
         CSeq: 1 CANCEL\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
        to_addr = h.sip
    );
    a.send_to(cancel.as_bytes(), h.sip).unwrap();
    let mut buf = [0u8; 4096];
    let r = loop {
        let (n, _) = a.recv_from(&mut buf).unwrap();
        let text = String::from_utf8_lossy(&buf[..n]).into_owned();
        if text.contains("CSeq: 1 CANCEL") {
            break text;
        }
    };
    assert!(r.starts_with("SIP/2.0 200"), "{r}");
    // The call is still up: a BYE ends it normally.
    in_dialog(&a, h.sip, "BYE", "cxl-1", &to, 2);
    let ended = h.wait_event("cxl-1 ended", Duration::from_secs(5), |e| {
        e["type"] == "call.ended" && e["sip_call_ids"][0] == "cxl-1"
    });
    assert_eq!(ended["hung_up_by"], "caller");

    // CANCEL matching no INVITE.
    let stray = cancel.replace("cxl-1", "cxl-none");
    a.send_to(stray.as_bytes(), h.sip).unwrap();
    let r = loop {
        let (n, _) = a.recv_from(&mut buf).unwrap();
        let text = String::from_utf8_lossy(&buf[..n]).into_owned();
        if text.contains("Call-ID: cxl-none") {
            break text;
        }
    };
    assert!(r.starts_with("SIP/2.0 481"), "{r}");
}

#[test]
fn dtmf_by_sip_info_drives_the_menu() {
    let h = Hotline::start(Options::default());
    let a = UdpSocket::bind("127.0.0.1:0").unwrap();
    a.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let ok = invite_number(&a, h.sip, "info-1", "100");
    assert!(ok.starts_with("SIP/2.0 200"), "{ok}");
    let to = to_header(&ok);
    in_dialog(&a, h.sip, "ACK", "info-1", &to, 1);
    let local = a.local_addr().unwrap();
    let body = "Signal=2\r\nDuration=160\r\n";
    let info = format!(
        "INFO sip:hotline@{hs} SIP/2.0\r\nVia: SIP/2.0/UDP {local};branch=z9hG4bK-info-1-info;rport\r\n\
         From: <sip:5552000@{local}>;tag=f-info-1\r\nTo: {to}\r\nCall-ID: info-1\r\nCSeq: 2 INFO\r\n\
         Content-Type: application/dtmf-relay\r\nMax-Forwards: 70\r\nContent-Length: {}\r\n\r\n{body}",
        body.len(),
        hs = h.sip
    );
    a.send_to(info.as_bytes(), h.sip).unwrap();
    let digit = h.wait_type("ivr.digit", Duration::from_secs(5));
    assert_eq!(digit["digit"], "2");
    let queued = h.wait_type("call.queued", Duration::from_secs(5));
    assert_eq!(queued["queue"], "billing");
    in_dialog(&a, h.sip, "BYE", "info-1", &to, 3);
    h.wait_type("call.ended", Duration::from_secs(5));
}

#[test]
fn a_relaxation_exit_ends_the_waiting_call() {
    // Queue support lets a caller go after 1 s of waiting (no agent is logged in).
    let h = Hotline::start(Options {
        config_edits: vec![(
            "- { after: 60s, action: { add_queues: { queues: [billing] } } }",
            "- { after: 1s, action: exit }",
        )],
        ..Options::default()
    });
    let a = UdpSocket::bind("127.0.0.1:0").unwrap();
    a.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let ok = invite(&a, h.sip, "exit-1");
    assert!(ok.starts_with("SIP/2.0 200"), "{ok}");
    in_dialog(&a, h.sip, "ACK", "exit-1", &to_header(&ok), 1);
    // hotline hangs up: a BYE arrives and the call ends with max_wait_exceeded.
    let mut buf = [0u8; 4096];
    let bye = loop {
        let (n, _) = a.recv_from(&mut buf).unwrap();
        let text = String::from_utf8_lossy(&buf[..n]).into_owned();
        if text.starts_with("BYE ") {
            break text;
        }
    };
    assert!(bye.contains("Call-ID: exit-1"), "{bye}");
    let ended = h.wait_type("call.ended", Duration::from_secs(5));
    assert_eq!(ended["reason"], "max_wait_exceeded", "{ended}");
    assert_eq!(ended["hung_up_by"], "system");
}
