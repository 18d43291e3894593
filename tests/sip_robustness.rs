//! SIP robustness against the live server: the RFC 4475/5118 torture messages, garbage and
//! truncated datagrams, TCP framing abuse, the answers to requests hotline cannot or will not
//! serve, and retransmitted INVITEs. Raw sockets from Rust, so every byte is under control.
#![allow(clippy::unwrap_used)]

mod raw_sip;
mod support;

use std::io::{Read, Write};
use std::net::{TcpStream, UdpSocket};
use std::time::{Duration, Instant};

use raw_sip::{metric_sum, sdp_offer, unique, Msg, Peer, Req};
use support::{http, Hotline, Options};

/// What hotline must do with a torture message.
#[derive(Debug, Clone, Copy)]
enum Verdict {
    /// Answer with one of these final statuses.
    Answer(&'static [u16]),
    /// Send nothing back (a response, or a message nobody can be answered about).
    Dropped,
    /// Either answer with one of these statuses or drop it.
    AnswerOrDrop(&'static [u16]),
}

use Verdict::{Answer, AnswerOrDrop, Dropped};

/// Valid requests hotline cannot route (the user is not a number of the dialplan or an agent).
const NOT_FOUND: &[u16] = &[404];

/// RFC 4475: one line per file, verdicts from testdata/sip-torture/README.md as hotline (an
/// endpoint and registrar for its own numbers and agents) applies them.
const RFC4475: &[(&str, Verdict)] = &[
    // Its To header carries a tag: an in-dialog request for a dialog hotline does not know.
    ("wsinv.dat", Answer(&[481])),
    ("intmeth.dat", Answer(&[501])),
    ("esc01.dat", Answer(NOT_FOUND)),
    ("escnull.dat", Answer(NOT_FOUND)),
    ("esc02.dat", Answer(&[501])),
    ("lwsdisp.dat", Answer(&[200])),
    ("longreq.dat", Answer(NOT_FOUND)),
    ("dblreq.dat", Answer(NOT_FOUND)),
    ("semiuri.dat", Answer(&[200])),
    ("transports.dat", Answer(&[200])),
    ("mpart01.dat", Answer(&[405, 501])),
    ("unreason.dat", Dropped),
    ("noreason.dat", Dropped),
    ("badinv01.dat", Answer(&[400])),
    ("clerr.dat", Answer(&[400])),
    ("ncl.dat", Answer(&[400])),
    ("scalar02.dat", Answer(&[400])),
    ("scalarlg.dat", Dropped),
    ("quotbal.dat", Answer(&[400])),
    ("ltgtruri.dat", Answer(&[400])),
    ("lwsruri.dat", Answer(&[400])),
    ("lwsstart.dat", Answer(&[400])),
    ("trws.dat", Answer(&[400])),
    ("escruri.dat", Answer(&[400])),
    ("baddate.dat", Answer(&[400])),
    ("regbadct.dat", Answer(&[400])),
    ("badaspec.dat", Answer(&[400])),
    ("baddn.dat", Answer(&[400])),
    ("badvers.dat", Answer(&[505])),
    ("mismatch01.dat", Answer(&[400])),
    ("mismatch02.dat", Answer(&[501, 400])),
    ("bigcode.dat", Dropped),
    ("badbranch.dat", Answer(&[400, 200])),
    // Without Call-ID, From and To a response cannot be built: 400 if answered at all.
    ("insuf.dat", AnswerOrDrop(&[400])),
    ("unkscm.dat", Answer(&[416])),
    ("novelsc.dat", Answer(&[416])),
    ("unksm2.dat", Answer(&[400])),
    ("bext01.dat", Answer(&[420])),
    ("invut.dat", Answer(&[415, 404])),
    ("regaut01.dat", Answer(&[401, 404])),
    ("multi01.dat", Answer(&[400])),
    ("mcl01.dat", Answer(&[400])),
    ("bcast.dat", Dropped),
    ("zeromf.dat", Answer(&[200])),
    ("cparam01.dat", Answer(NOT_FOUND)),
    ("cparam02.dat", Answer(NOT_FOUND)),
    ("regescrt.dat", Answer(NOT_FOUND)),
    ("sdp01.dat", Answer(&[406, 400, 404])),
    ("inv2543.dat", Answer(NOT_FOUND)),
    // Not in the RFC text: no SIP-Version, no Via: 400 if it can be addressed at all.
    ("test.dat", AnswerOrDrop(&[400])),
];

/// RFC 5118 (IPv6): the harness fixes line endings and Content-Length (see the README).
const RFC5118: &[(&str, Verdict)] = &[
    ("ipv6-good", Answer(NOT_FOUND)),
    ("ipv6-bad", Answer(&[400])),
    ("port-ambiguous", Answer(NOT_FOUND)),
    ("port-unambiguous", Answer(NOT_FOUND)),
    ("via-received-param-with-delim", Answer(&[481])),
    ("via-received-param-no-delim", Answer(&[200])),
    ("ipv6-in-sdp", Answer(NOT_FOUND)),
    ("mult-ip-in-header", Answer(&[481])),
    ("mult-ip-in-sdp", Answer(NOT_FOUND)),
    ("ipv4-mapped-ipv6", Answer(NOT_FOUND)),
    ("ipv6-bug-abnf-3-colons", Answer(&[200])),
    ("ipv6-correct-abnf-2-colons", Answer(&[200])),
];

fn torture_dir() -> std::path::PathBuf {
    support::root().join("testdata/sip-torture")
}

/// RFC 5118 files as wire messages: CRLF line ends, a blank line after the headers, and a
/// Content-Length that matches the body.
fn rfc5118_wire(raw: &[u8]) -> Vec<u8> {
    let text = String::from_utf8(raw.to_vec())
        .unwrap()
        .replace('\n', "\r\n");
    let (head, body) = match text.split_once("\r\n\r\n") {
        Some((h, b)) => (h.to_string(), b.to_string()),
        None => (text.trim_end_matches("\r\n").to_string(), String::new()),
    };
    let head: Vec<String> = head
        .split("\r\n")
        .map(|l| {
            if l.to_ascii_lowercase().starts_with("content-length") {
                format!("Content-Length: {}", body.len())
            } else {
                l.to_string()
            }
        })
        .collect();
    format!("{}\r\n\r\n{body}", head.join("\r\n")).into_bytes()
}

/// What the server answered to one datagram (every answer, 100 Trying excluded).
fn answers_to(h: &Hotline, bytes: &[u8]) -> Vec<Msg> {
    let peer = Peer::new(h.sip);
    peer.send(bytes);
    peer.drain_with_probe()
        .into_iter()
        .filter(|m| m.status() != Some(100))
        .collect()
}

fn check(verdict: Verdict, answers: &[Msg]) -> Result<(), String> {
    let statuses: Vec<Option<u16>> = answers.iter().map(Msg::status).collect();
    let ok = match verdict {
        Answer(allowed) => {
            // A final response may be retransmitted (INVITE), never differ.
            !statuses.is_empty()
                && statuses
                    .iter()
                    .all(|s| s.is_some_and(|s| allowed.contains(&s)))
        }
        Dropped => statuses.is_empty(),
        AnswerOrDrop(allowed) => statuses
            .iter()
            .all(|s| s.is_some_and(|s| allowed.contains(&s))),
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "expected {verdict:?}, got {statuses:?}: {:?}",
            answers.iter().map(Msg::start_line).collect::<Vec<_>>()
        ))
    }
}

fn dropped_total(h: &Hotline) -> f64 {
    let m = http::get(h.http, "/metrics", None).unwrap();
    metric_sum(&m.body, "hotline_sip_dropped_total")
}

/// The server transaction a request would match (top Via and method): several torture
/// messages share one, and a second one would rightly be taken for a retransmission.
fn transaction_of(wire: &[u8]) -> String {
    let text = String::from_utf8_lossy(wire);
    let method = text.split(' ').next().unwrap_or_default().to_string();
    let via = text
        .split("\r\n")
        .find(|l| {
            let l = l.to_ascii_lowercase();
            l.starts_with("via") || l.starts_with("v:") || l.starts_with("v ")
        })
        .unwrap_or_default();
    format!("{method} {via}")
}

#[test]
fn torture_messages_get_their_rfc_verdicts_and_the_server_keeps_serving() {
    // One server per set of messages whose transactions do not collide.
    let mut servers: Vec<(Hotline, f64, std::collections::HashSet<String>)> = Vec::new();
    let mut failures = Vec::new();
    let mut expected_drops = 0;
    let cases = RFC4475
        .iter()
        .map(|(f, v)| (format!("rfc4475/{f}"), *v))
        .chain(RFC5118.iter().map(|(f, v)| (format!("rfc5118/{f}"), *v)));
    for (file, verdict) in cases {
        let raw = std::fs::read(torture_dir().join(&file)).unwrap();
        let wire = if file.starts_with("rfc5118/") {
            rfc5118_wire(&raw)
        } else {
            raw
        };
        if matches!(verdict, Dropped) {
            expected_drops += 1;
        }
        let tx = transaction_of(&wire);
        let slot = match servers.iter().position(|(_, _, seen)| !seen.contains(&tx)) {
            Some(i) => i,
            None => {
                let h = Hotline::start(Options::default());
                let before = dropped_total(&h);
                servers.push((h, before, Default::default()));
                servers.len() - 1
            }
        };
        let (h, _, seen) = &mut servers[slot];
        seen.insert(tx);
        if let Err(e) = check(verdict, &answers_to(h, &wire)) {
            failures.push(format!("{file}: {e}"));
        }
    }
    // Every torture file is in the table.
    for corpus in ["rfc4475", "rfc5118"] {
        for entry in std::fs::read_dir(torture_dir().join(corpus)).unwrap() {
            let name = entry.unwrap().file_name().into_string().unwrap();
            let listed = RFC4475.iter().chain(RFC5118).any(|(f, _)| *f == name);
            assert!(listed, "{corpus}/{name} has no verdict in the table");
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    // Still serving, and the drops were counted.
    let mut dropped = 0.0;
    for (h, before, _) in &servers {
        assert!(answers_to(h, b"").is_empty());
        let health = http::get(h.http, "/healthz", None).unwrap();
        assert_eq!(health.status, 200);
        dropped += dropped_total(h) - before;
    }
    assert!(
        dropped >= f64::from(expected_drops),
        "hotline_sip_dropped_total rose by {dropped}, expected at least {expected_drops}"
    );
}

/// A deterministic byte generator (xorshift), so a failure replays.
struct Noise(u64);

impl Noise {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next() as u8).collect()
    }
}

fn assert_400_or_dropped(what: &str, answers: &[Msg]) {
    for a in answers {
        assert_eq!(a.status(), Some(400), "{what}: answered {}", a.start_line());
    }
}

fn invite(peer: &Peer, number: &str, call_id: &str, branch: &str, rtp_port: u16) -> String {
    let uri = format!("sip:{number}@{}", peer.server);
    let body = sdp_offer(rtp_port);
    let contact = format!(
        "Contact: <sip:caller@{}>\r\nContent-Type: application/sdp\r\n",
        peer.addr()
    );
    peer.request(&Req {
        method: "INVITE",
        uri: &uri,
        call_id,
        branch: Some(branch),
        extra: &contact,
        body: &body,
        ..Req::default()
    })
}

#[test]
fn garbage_and_truncated_datagrams_get_400_or_are_dropped() {
    let h = Hotline::start(Options::default());
    let peer = Peer::new(h.sip);

    // Random bytes of every size class.
    let mut noise = Noise(0x5eed_cafe_f00d_0001);
    for i in 0..200 {
        let len = 1 + (noise.next() % 1800) as usize;
        peer.send(noise.bytes(len));
        assert_400_or_dropped(&format!("random datagram {i}"), &peer.drain_with_probe());
    }

    // Every proper prefix of a valid INVITE.
    let full = invite(&peer, "999", "trunc-1", "z9hG4bKtrunc", 40000);
    for len in 1..full.len() {
        peer.send(&full.as_bytes()[..len]);
        assert_400_or_dropped(&format!("INVITE cut at {len}"), &peer.drain_with_probe());
    }

    // Empty datagrams, keep-alives and a maximal datagram of junk.
    peer.send(b"");
    peer.send(b"\r\n\r\n");
    assert!(peer.drain_with_probe().is_empty());
    let mut junk = b"INVITE sip:100@127.0.0.1 SIP/2.0\r\nVia: ".to_vec();
    junk.extend(std::iter::repeat_n(b'x', 65_507 - junk.len()));
    peer.send(&junk);
    assert_400_or_dropped("64 KiB INVITE", &peer.drain_with_probe());
    peer.send(noise.bytes(65_507));
    assert_400_or_dropped("64 KiB of noise", &peer.drain_with_probe());

    // A real request still gets its real answer.
    let ok = peer.transact(&invite(
        &peer,
        "999",
        &unique("after"),
        &unique("z9hG4bK"),
        40000,
    ));
    assert_eq!(ok.map(|m| m.status()), Some(Some(404)));
    assert_eq!(http::get(h.http, "/healthz", None).unwrap().status, 200);
}

/// Reads one SIP message from a stream (framed by Content-Length); `None` on EOF or timeout.
fn read_tcp(s: &mut TcpStream, buf: &mut Vec<u8>, timeout: Duration) -> Option<Msg> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = Msg {
                raw: String::from_utf8_lossy(&buf[..end + 4]).into_owned(),
            };
            let len: usize = head
                .header("Content-Length")
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            if buf.len() >= end + 4 + len {
                let raw = String::from_utf8_lossy(&buf[..end + 4 + len]).into_owned();
                buf.drain(..end + 4 + len);
                return Some(Msg { raw });
            }
        }
        let left = deadline.checked_duration_since(Instant::now())?;
        s.set_read_timeout(Some(left.max(Duration::from_millis(1))))
            .unwrap();
        let mut chunk = [0u8; 4096];
        match s.read(&mut chunk) {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

fn tcp_options(s: &TcpStream, call_id: &str, extra: &str) -> String {
    let me = s.local_addr().unwrap();
    let server = s.peer_addr().unwrap();
    format!(
        "OPTIONS sip:{server};transport=tcp SIP/2.0\r\n\
         Via: SIP/2.0/TCP {me};branch={branch}\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:probe@{me}>;tag=tcp1\r\n\
         To: <sip:{server}>\r\n\
         Call-ID: {call_id}\r\n\
         CSeq: 1 OPTIONS\r\n\
         {extra}Content-Length: 0\r\n\r\n",
        branch = unique("z9hG4bKtcp")
    )
}

#[test]
fn tcp_framing_split_joined_and_broken() {
    let h = Hotline::start(Options::default());
    let t = Duration::from_secs(5);

    // One message over three writes.
    let mut s = TcpStream::connect(h.sip).unwrap();
    s.set_nodelay(true).unwrap();
    let msg = tcp_options(&s, "tcp-split", "");
    let bytes = msg.as_bytes();
    for part in [
        &bytes[..10],
        &bytes[10..msg.len() - 7],
        &bytes[msg.len() - 7..],
    ] {
        s.write_all(part).unwrap();
        s.flush().unwrap();
        // Let each piece leave as its own segment (this paces the sender, it waits on nothing).
        std::thread::sleep(Duration::from_millis(30));
    }
    let mut buf = Vec::new();
    let r = read_tcp(&mut s, &mut buf, t).expect("no answer to a split message");
    assert_eq!(
        (r.status(), r.call_id()),
        (Some(200), Some("tcp-split".into()))
    );

    // Two messages in one write, on the same connection.
    let two = format!(
        "{}{}",
        tcp_options(&s, "tcp-one", ""),
        tcp_options(&s, "tcp-two", "")
    );
    s.write_all(two.as_bytes()).unwrap();
    let a = read_tcp(&mut s, &mut buf, t).expect("first of two");
    let b = read_tcp(&mut s, &mut buf, t).expect("second of two");
    assert_eq!(
        [a.call_id(), b.call_id()],
        [Some("tcp-one".into()), Some("tcp-two".into())]
    );
    assert_eq!([a.status(), b.status()], [Some(200), Some(200)]);

    // A Content-Length the framer cannot trust: the stream cannot be resynchronised, so the
    // connection is closed (after a 400 at most).
    for bad in ["-5", "abc", "99999999999999999999"] {
        let mut s = TcpStream::connect(h.sip).unwrap();
        let msg = tcp_options(&s, "tcp-bad", "")
            .replace("Content-Length: 0", &format!("Content-Length: {bad}"));
        s.write_all(msg.as_bytes()).unwrap();
        let mut buf = Vec::new();
        let mut answers = Vec::new();
        let deadline = Instant::now() + t;
        let closed = loop {
            match read_tcp(&mut s, &mut buf, Duration::from_millis(500)) {
                Some(m) => answers.push(m),
                None => {
                    let mut probe = [0u8; 1];
                    s.set_read_timeout(Some(Duration::from_millis(200)))
                        .unwrap();
                    match s.read(&mut probe) {
                        Ok(0) => break true,
                        Err(e)
                            if e.kind() != std::io::ErrorKind::WouldBlock
                                && e.kind() != std::io::ErrorKind::TimedOut =>
                        {
                            break true
                        }
                        _ if Instant::now() > deadline => break false,
                        Ok(n) => buf.extend_from_slice(&probe[..n]),
                        Err(_) => {}
                    }
                }
            }
        };
        assert!(closed, "Content-Length {bad}: connection left open");
        assert_400_or_dropped(&format!("Content-Length {bad}"), &answers);
    }

    // The server still serves TCP and UDP.
    let mut s = TcpStream::connect(h.sip).unwrap();
    s.write_all(tcp_options(&s, "tcp-after", "").as_bytes())
        .unwrap();
    let mut buf = Vec::new();
    let r = read_tcp(&mut s, &mut buf, t).expect("no answer after the bad connections");
    assert_eq!(r.status(), Some(200));
    assert!(Peer::new(h.sip).drain_with_probe().is_empty());
}

/// The ACK of a non-2xx final answer to an INVITE (same branch, the answer's To tag).
fn ack_for(peer: &Peer, invite: &str, answer: &Msg) -> String {
    let to = answer.header("To").unwrap();
    let mut lines: Vec<String> = Vec::new();
    for (i, l) in invite
        .split("\r\n\r\n")
        .next()
        .unwrap()
        .split("\r\n")
        .enumerate()
    {
        if i == 0 {
            lines.push(l.replacen("INVITE", "ACK", 1));
        } else if l.starts_with("To:") {
            lines.push(format!("To: {to}"));
        } else if let Some(cseq) = l.strip_prefix("CSeq: ") {
            lines.push(format!("CSeq: {} ACK", cseq.split(' ').next().unwrap()));
        } else if l.starts_with("Content-") {
        } else {
            lines.push(l.to_string());
        }
    }
    let _ = peer;
    format!("{}\r\nContent-Length: 0\r\n\r\n", lines.join("\r\n"))
}

#[test]
fn requests_hotline_will_not_serve_get_the_right_refusal() {
    let h = Hotline::start(Options::default());
    let peer = Peer::new(h.sip);
    let server_uri = format!("sip:hotline@{}", h.sip);

    // Unknown method: 501 with Allow.
    let r = peer
        .transact(&peer.request(&Req {
            method: "FROBNICATE",
            uri: &server_uri,
            call_id: &unique("m"),
            ..Req::default()
        }))
        .unwrap();
    assert_eq!(r.status(), Some(501), "{}", r.raw);
    let allow = r.header("Allow").expect("501 without Allow");
    for m in ["INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "REGISTER"] {
        assert!(allow.contains(m), "Allow lacks {m}: {allow}");
    }

    // Max-Forwards 0 on a request hotline answers itself: processed normally.
    let r = peer
        .transact(&peer.request(&Req {
            uri: &server_uri,
            call_id: &unique("mf"),
            max_forwards: 0,
            ..Req::default()
        }))
        .unwrap();
    assert_eq!(r.status(), Some(200), "{}", r.raw);

    // Max-Forwards 0 on an INVITE hotline would relay to an agent: 483.
    let mut inv = invite(&peer, "100", &unique("mf0"), &unique("z9hG4bK"), 40000);
    inv = inv.replace("Max-Forwards: 70", "Max-Forwards: 0");
    let r = peer.transact(&inv).unwrap();
    assert_eq!(r.status(), Some(483), "{}", r.raw);
    peer.send(ack_for(&peer, &inv, &r));
    assert!(h.events().iter().all(|e| e["type"] != "call.arrived"));

    // Require of an extension hotline lacks: 420 naming it.
    let r = peer
        .transact(&peer.request(&Req {
            uri: &server_uri,
            call_id: &unique("req"),
            extra: "Require: foo\r\n",
            ..Req::default()
        }))
        .unwrap();
    assert_eq!(r.status(), Some(420), "{}", r.raw);
    assert_eq!(r.header("Unsupported").as_deref(), Some("foo"));

    // A Request-URI scheme hotline does not serve: 416.
    let r = peer
        .transact(&peer.request(&Req {
            uri: "im:someone@example.com",
            to: Some("sip:someone@example.com"),
            call_id: &unique("scheme"),
            ..Req::default()
        }))
        .unwrap();
    assert_eq!(r.status(), Some(416), "{}", r.raw);

    // A request inside a dialog hotline does not know: 481.
    for method in ["BYE", "INFO", "INVITE"] {
        let r = peer
            .transact(&peer.request(&Req {
                method,
                uri: &server_uri,
                to_tag: Some("no-such-dialog"),
                call_id: &unique("dlg"),
                cseq: 7,
                ..Req::default()
            }))
            .unwrap();
        assert_eq!(r.status(), Some(481), "{method}: {}", r.raw);
    }

    // An INVITE to a number the dialplan does not have: 404.
    let inv = invite(&peer, "555", &unique("nf"), &unique("z9hG4bK"), 40000);
    let r = peer.transact(&inv).unwrap();
    assert_eq!(r.status(), Some(404), "{}", r.raw);
    peer.send(ack_for(&peer, &inv, &r));
    assert!(
        peer.drain_with_probe().is_empty(),
        "the ACK stopped the 404"
    );
}

#[test]
fn retransmitted_invite_makes_one_call_and_the_200_repeats_until_acked() {
    let h = Hotline::start(Options::default());
    let peer = Peer::new(h.sip);
    let rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let call_id = unique("retx");
    let branch = unique("z9hG4bKretx");
    let inv = invite(
        &peer,
        "100",
        &call_id,
        &branch,
        rtp.local_addr().unwrap().port(),
    );

    // The INVITE and two retransmissions before any answer can come back.
    peer.send(&inv);
    peer.send(&inv);
    peer.send(&inv);
    let ok = peer
        .recv_final(&call_id, Duration::from_secs(5))
        .expect("no answer to the INVITE");
    assert_eq!(ok.status(), Some(200), "{}", ok.raw);
    let first_200 = Instant::now();

    // A retransmission after the 200 (the 200 crossed it on the wire) is absorbed.
    peer.send(&inv);

    // No ACK yet: the 200 is sent again (T1 = 500 ms, doubling).
    let mut repeats = 0;
    while repeats < 2 {
        let again = peer
            .recv_final(&call_id, Duration::from_secs(4))
            .expect("200 not retransmitted while unacknowledged");
        assert_eq!(again.status(), Some(200));
        assert_eq!(
            again.header("To"),
            ok.header("To"),
            "a second dialog answered"
        );
        repeats += 1;
    }
    assert!(first_200.elapsed() >= Duration::from_millis(400));

    // ACK the 2xx (a new transaction, sent to the Contact): retransmissions stop.
    let to = ok.header("To").unwrap();
    let contact = ok.header("Contact").unwrap();
    let target = contact
        .trim_start_matches('<')
        .split('>')
        .next()
        .unwrap()
        .to_string();
    let in_dialog = |method: &str, cseq: u32| {
        peer.request(&Req {
            method,
            uri: &target,
            call_id: &call_id,
            cseq,
            ..Req::default()
        })
        .replace(&format!("To: <{target}>\r\n"), &format!("To: {to}\r\n"))
    };
    peer.send(in_dialog("ACK", 1));
    let late = peer.recv_matching(Duration::from_millis(2500), |m| {
        m.call_id().as_deref() == Some(call_id.as_str()) && m.status() == Some(200)
    });
    assert!(late.is_none(), "200 still retransmitted after the ACK");

    // Hang up; the journal shows exactly one call.
    let bye = peer
        .transact(&in_dialog("BYE", 2))
        .expect("no answer to BYE");
    assert_eq!(bye.status(), Some(200), "{}", bye.raw);
    h.wait_type("call.ended", Duration::from_secs(5));
    let arrived = h
        .events()
        .iter()
        .filter(|e| e["type"] == "call.arrived")
        .count();
    assert_eq!(arrived, 1, "{:#?}", h.events());
}
