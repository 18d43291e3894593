//! SIP robustness against the live server: the RFC 4475/5118 torture messages, garbage and
//! truncated datagrams, TCP framing abuse, the answers to requests hotline cannot or will not
//! serve, and retransmitted INVITEs. Raw sockets from Rust, so every byte is under control.

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
