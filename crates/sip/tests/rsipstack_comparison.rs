//! Why hotline validates SIP messages itself instead of taking rsipstack's parser verdicts.
//!
//! Both parsers read the same RFC 4475 / RFC 5118 torture messages (`testdata/sip-torture/`,
//! the RFC 5118 files with the same LF -> CRLF harness fix as `tests/torture.rs`). Each row
//! below is a case where rsipstack 0.7.14's `rsipstack::sip::parser::parse_message` gives the
//! wrong verdict and hotline's [`parse`] gives the right one. The rows are assertions on both
//! sides: if rsipstack fixes a case, its row fails and can be removed; if hotline regresses,
//! the row fails too.

use std::path::PathBuf;

use hotline_sip::message::{parse, Message};
use rsipstack::sip::{parser::parse_message, Host, SipMessage};

/// What the RFC says the parser must do with a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    /// Well formed: parse it.
    Accept,
    /// Malformed: refuse it (400, 505, or drop a response).
    Reject,
}

use Verdict::*;

/// Messages rsipstack gets wrong: (file, the RFC's verdict, why rsipstack's opposite verdict matters).
#[rustfmt::skip]
const WRONG: &[(&str, Verdict, &str)] = &[
    // Framing: a wrong Content-Length is silently "fixed", so over TCP the stream desynchronises.
    ("rfc4475/clerr.dat", Reject, "Content-Length 9999 > body: body truncated, message accepted"),
    ("rfc4475/ncl.dat", Reject, "Content-Length -999 read as 0 (unwrap_or(0)), message accepted"),
    ("rfc4475/mcl01.dat", Reject, "two conflicting Content-Length values, the last one wins"),
    // Start line.
    ("rfc4475/badvers.dat", Reject, "SIP/7.0 accepted: no 505 can be sent"),
    ("rfc4475/trws.dat", Reject, "trailing spaces after SIP/2.0 trimmed away"),
    ("rfc4475/ltgtruri.dat", Reject, "<> around the Request-URI stripped and accepted"),
    ("rfc4475/escruri.dat", Reject, "escaped headers in the Request-URI accepted"),
    ("rfc4475/mismatch01.dat", Reject, "Request-Line method differs from the CSeq method"),
    // Headers are stored as raw strings and only checked when a typed accessor is called.
    ("rfc4475/badinv01.dat", Reject, "empty ; and , separators in Via and Contact"),
    ("rfc4475/quotbal.dat", Reject, "unterminated quoted display name"),
    ("rfc4475/badaspec.dat", Reject, "spaces inside the addr-spec"),
    ("rfc4475/regbadct.dat", Reject, "Contact with an escaped header outside <>"),
    ("rfc4475/baddate.dat", Reject, "Date in a non-GMT zone"),
    ("rfc4475/scalar02.dat", Reject, "CSeq 36893488147419103232 (> 2^32-1)"),
    ("rfc4475/scalarlg.dat", Reject, "response with an overlarge CSeq"),
    ("rfc4475/insuf.dat", Reject, "INVITE without Call-ID, From or To"),
    ("rfc4475/multi01.dat", Reject, "several Call-ID / To / From / CSeq values"),
    // Extension methods: RFC 3261 methods are tokens; unknown ones must reach the UA (501).
    ("rfc4475/intmeth.dat", Accept, "extension method made of token characters refused"),
    ("rfc4475/esc02.dat", Accept, "extension method RE%47IST%45R refused"),
    // IPv6 (RFC 5118).
    ("rfc5118/ipv6-bad", Reject, "sip:2001:db8::10 accepted as host 2001:db8: port 10"),
];

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/sip-torture")
}

/// The RFC 5118 harness fixes from the corpus README: LF -> CRLF, a final empty line, and a
/// Content-Length equal to the converted body (the same bytes `tests/torture.rs` parses).
fn fix_rfc5118(raw: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(raw).replace('\n', "\r\n");
    let (head, body) = match text.split_once("\r\n\r\n") {
        Some((h, b)) => (h.to_string(), b.to_string()),
        None => (text.trim_end_matches("\r\n").to_string(), String::new()),
    };
    let head: Vec<String> = head
        .split("\r\n")
        .map(|line| {
            if line.to_ascii_lowercase().starts_with("content-length:") {
                format!("Content-Length: {}", body.len())
            } else {
                line.to_string()
            }
        })
        .collect();
    format!("{}\r\n\r\n{}", head.join("\r\n"), body).into_bytes()
}

fn message(name: &str) -> Vec<u8> {
    let raw = std::fs::read(corpus_dir().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    if name.starts_with("rfc5118/") {
        fix_rfc5118(&raw)
    } else {
        raw
    }
}

fn verdict(accepted: bool) -> Verdict {
    if accepted {
        Accept
    } else {
        Reject
    }
}

#[test]
fn rsipstack_gets_these_torture_messages_wrong_and_hotline_gets_them_right() {
    let mut failures = Vec::new();
    for (name, rfc, why) in WRONG {
        let bytes = message(name);
        let rsip = verdict(parse_message(&bytes).is_ok());
        let ours = verdict(parse(&bytes).is_ok());
        if rsip == *rfc {
            failures.push(format!(
                "{name}: rsipstack now gets it right ({why}); drop the row"
            ));
        }
        if ours != *rfc {
            failures.push(format!(
                "{name}: hotline says {ours:?}, the RFC says {rfc:?}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn rsipstack_truncates_a_body_shorter_than_its_content_length() {
    let bytes = message("rfc4475/clerr.dat");
    let Ok(SipMessage::Request(r)) = parse_message(&bytes) else {
        panic!("rsipstack accepts clerr.dat");
    };
    // Content-Length says 9999; rsipstack hands the application the 154 bytes it had.
    assert_eq!(r.body().len(), 154);
    assert!(parse(&bytes).is_err());
}

#[test]
fn rsipstack_reads_a_negative_content_length_as_zero() {
    let bytes = message("rfc4475/ncl.dat");
    let Ok(SipMessage::Request(r)) = parse_message(&bytes) else {
        panic!("rsipstack accepts ncl.dat");
    };
    assert!(r.body().is_empty());
    assert!(parse(&bytes).is_err());
}

#[test]
fn rsipstack_reads_an_unbracketed_ipv6_request_uri_as_a_domain_and_port() {
    let bytes = message("rfc5118/ipv6-bad");
    let Ok(SipMessage::Request(r)) = parse_message(&bytes) else {
        panic!("rsipstack accepts ipv6-bad");
    };
    let hp = &r.uri().host_with_port;
    // sip:2001:db8::10 becomes host "2001:db8:" port 10: a request routed to a name that
    // does not exist, instead of a 400.
    assert_eq!(hp.host, Host::Domain("2001:db8:".into()));
    assert_eq!(hp.port.as_ref().map(|p| p.0), Some(10));
    assert!(parse(&bytes).is_err());
}

#[test]
fn rsipstack_refuses_extension_methods_that_hotline_parses() {
    for name in ["rfc4475/intmeth.dat", "rfc4475/esc02.dat"] {
        let bytes = message(name);
        let err = parse_message(&bytes).err().map(|e| e.to_string());
        assert!(
            err.as_deref().is_some_and(|e| e.contains("invalid method")),
            "{name}: {err:?}"
        );
        assert!(
            matches!(parse(&bytes), Ok(Message::Request(_))),
            "{name}: hotline parses an extension method"
        );
    }
}
