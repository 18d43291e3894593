//! RFC 4475 and RFC 5118 torture messages, byte-exact from `testdata/sip-torture/`.
//!
//! One table row per file with the verdict from the README; every failing file is reported.

use std::path::PathBuf;

use hotline_sip::message::{
    parse, Host, Message, Method, ParseError, ParseErrorKind, Request, Response, Scheme, Transport,
};

/// What the server must be able to do with a file.
enum Verdict {
    /// Parses as a request; the check asserts key fields.
    Request(fn(&Request) -> Result<(), String>),
    /// Parses as a response; the check asserts key fields.
    Response(fn(&Response) -> Result<(), String>),
    /// Rejected with a 400 (or 505) that can be addressed; the check looks at the error.
    Respond(fn(&ParseError) -> Result<(), String>),
    /// Rejected and dropped: no response can be addressed.
    Drop,
}

use Verdict::*;

fn ok_if(cond: bool, what: &str) -> Result<(), String> {
    if cond {
        Ok(())
    } else {
        Err(what.to_string())
    }
}

fn kind_is(e: &ParseError, pred: fn(&ParseErrorKind) -> bool) -> Result<(), String> {
    ok_if(
        pred(e.kind()),
        &format!("unexpected error kind {:?}", e.kind()),
    )
}

fn host(r: &Request) -> Option<Host> {
    r.uri().host.clone()
}

fn v6(s: &str) -> Option<Host> {
    Some(Host::Ipv6(s.to_string()))
}

#[rustfmt::skip]
fn table() -> Vec<(&'static str, Verdict)> {
    vec![
        // --- RFC 4475 3.1.1: valid messages ---
        ("rfc4475/wsinv.dat", Request(|r| {
            ok_if(r.method() == &Method::Invite, "method")?;
            ok_if(r.headers().max_forwards() == Some(68), "Max-Forwards 0068")?;
            ok_if(r.cseq().map(|c| (c.seq, c.method)) == Some((9, Method::Invite)), "folded CSeq")?;
            ok_if(r.to().and_then(|t| t.tag().map(str::to_string)).as_deref() == Some("1918181833n"), "To tag")?;
            ok_if(r.from().and_then(|f| f.display_name).as_deref() == Some("J Rosenberg \\\""), "From display name")?;
            ok_if(r.from().and_then(|f| f.tag().map(str::to_string)).as_deref() == Some("98asjd8"), "From tag")?;
            let vias = r.headers().vias();
            ok_if(vias.len() == 3, "three Vias")?;
            ok_if(vias[1].transport == Transport::Tcp && vias[2].branch() == Some("z9hG4bK30239"), "folded Via list")?;
            ok_if(r.headers().get("Subject") == Some(""), "empty Subject")?;
            ok_if(r.headers().get("NewFangledHeader") == Some("newfangled value continued newfangled value"), "unfolded unknown header")?;
            let c = r.headers().contacts();
            ok_if(c.len() == 1 && c[0].q() == Some(0.33), "Contact q")?;
            ok_if(r.body().len() == 150, "body length")
        })),
        ("rfc4475/intmeth.dat", Request(|r| {
            ok_if(matches!(r.method(), Method::Other(m) if m == "!interesting-Method0123456789_*+`.%indeed'~"), "unknown method")?;
            ok_if(r.uri().password.is_some(), "password in user part")?;
            ok_if(r.to().and_then(|t| t.display_name).as_deref() == Some("BEL:\x07 NUL:\0 DEL:\x7f"), "control chars in display name")?;
            ok_if(r.call_id() == Some("intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{"), "odd Call-ID")
        })),
        ("rfc4475/esc01.dat", Request(|r| {
            ok_if(r.uri().user_unescaped().as_deref() == Some("sips:user@example.com"), "escaped RURI user")?;
            ok_if(r.to().and_then(|t| t.uri.user_unescaped()).as_deref() == Some("user"), "To user")?;
            ok_if(r.from().and_then(|t| t.uri.user_unescaped()).as_deref() == Some("I have spaces"), "From user")?;
            let c = r.headers().contacts();
            let uri = &c[0].address().ok_or("contact")?.uri;
            ok_if(uri.user_unescaped().as_deref() == Some("caller"), "Contact user")?;
            ok_if(uri.params.iter().any(|p| p.value.as_deref() == Some("v%61lue%25%34%31")), "param kept escaped")?;
            ok_if(hotline_sip::message::unescape("v%61lue%25%34%31") == b"value%41", "no recursive unescaping")
        })),
        ("rfc4475/escnull.dat", Request(|r| {
            let c = r.headers().contacts();
            ok_if(c.len() == 2, "two contacts")?;
            let users: Vec<_> = c.iter().filter_map(|c| c.address()?.uri.user_unescaped()).collect();
            ok_if(users == ["\0", "\0\0"], "distinct NUL users")?;
            ok_if(r.to().and_then(|t| t.uri.user_unescaped()).as_deref() == Some("null-\0-null"), "AOR not cut at NUL")
        })),
        ("rfc4475/esc02.dat", Request(|r| {
            ok_if(matches!(r.method(), Method::Other(m) if m == "RE%47IST%45R"), "method is not REGISTER")?;
            ok_if(r.to().and_then(|t| t.display_name).as_deref() == Some("%Z%45"), "display name kept")?;
            ok_if(r.headers().contacts().len() == 2, "two Contacts")?;
            ok_if(r.headers().get("C%6Fntact").is_some(), "C%6Fntact is an unknown header")
        })),
        ("rfc4475/lwsdisp.dat", Request(|r| {
            ok_if(r.from().and_then(|f| f.display_name).as_deref() == Some("caller"), "display name")
        })),
        ("rfc4475/longreq.dat", Request(|r| {
            ok_if(r.headers().vias().len() == 34, "34 Vias")?;
            ok_if(r.to().map(|t| t.uri.port) == Some(Some(6000)), "To port")?;
            ok_if(r.body().len() == 150, "body")
        })),
        ("rfc4475/dblreq.dat", Request(|r| {
            ok_if(r.method() == &Method::Register, "REGISTER handled")?;
            ok_if(r.body().is_empty(), "trailing octets ignored")
        })),
        ("rfc4475/semiuri.dat", Request(|r| {
            ok_if(r.uri().user_unescaped().as_deref() == Some("user;par=u@example.net"), "user part")?;
            ok_if(host(r) == Some(Host::Domain("example.com".into())), "host")?;
            ok_if(r.headers().tokens("Accept").len() == 6, "folded Accept list")
        })),
        ("rfc4475/transports.dat", Request(|r| {
            let t: Vec<_> = r.headers().vias().into_iter().map(|v| v.transport).collect();
            ok_if(t == [Transport::Udp, Transport::Sctp, Transport::Tls, Transport::Other("UNKNOWN".into()), Transport::Tcp], "transports")
        })),
        ("rfc4475/mpart01.dat", Request(|r| {
            ok_if(r.method() == &Method::Message, "MESSAGE")?;
            ok_if(r.body().len() == 553, "553-byte binary body")?;
            ok_if(r.headers().content_type().is_some_and(|c| c.starts_with("multipart/mixed")), "Content-Type")
        })),
        ("rfc4475/unreason.dat", Response(|r| {
            ok_if(r.status() == 200, "200")?;
            ok_if(r.reason().starts_with("= 2**3 * 5**2 "), "UTF-8 reason kept")
        })),
        ("rfc4475/noreason.dat", Response(|r| {
            ok_if(r.status() == 100 && r.reason().is_empty(), "empty reason")
        })),
        // --- RFC 4475 3.1.2: invalid messages ---
        ("rfc4475/badinv01.dat", Respond(|e| kind_is(e, |k| matches!(k, ParseErrorKind::BadHeader(h) if h == "Via" || h == "Contact")))),
        ("rfc4475/clerr.dat", Respond(|e| kind_is(e, |k| matches!(k, ParseErrorKind::ContentLengthExceedsBody { declared: 9999, .. })))),
        ("rfc4475/ncl.dat", Respond(|e| kind_is(e, |k| *k == ParseErrorKind::BadContentLength))),
        ("rfc4475/scalar02.dat", Respond(|e| kind_is(e, |k| *k == ParseErrorKind::CSeqOutOfRange))),
        ("rfc4475/scalarlg.dat", Drop),
        ("rfc4475/quotbal.dat", Respond(|e| kind_is(e, |k| matches!(k, ParseErrorKind::UnterminatedQuote(h) if h == "To")))),
        ("rfc4475/ltgtruri.dat", Respond(|e| kind_is(e, |k| *k == ParseErrorKind::RequestUriInBrackets))),
        ("rfc4475/lwsruri.dat", Respond(|e| kind_is(e, |k| *k == ParseErrorKind::RequestUriWhitespace))),
        ("rfc4475/lwsstart.dat", Respond(|e| kind_is(e, |k| *k == ParseErrorKind::RequestLineWhitespace))),
        ("rfc4475/trws.dat", Respond(|e| kind_is(e, |k| *k == ParseErrorKind::RequestLineWhitespace))),
        ("rfc4475/escruri.dat", Respond(|e| kind_is(e, |k| *k == ParseErrorKind::RequestUriHeaders))),
        ("rfc4475/baddate.dat", Respond(|e| kind_is(e, |k| matches!(k, ParseErrorKind::BadHeader(h) if h == "Date")))),
        ("rfc4475/regbadct.dat", Respond(|e| kind_is(e, |k| matches!(k, ParseErrorKind::BadHeader(h) if h == "Contact")))),
        ("rfc4475/badaspec.dat", Respond(|e| kind_is(e, |k| matches!(k, ParseErrorKind::BadHeader(h) if h == "To")))),
        // The archive copy has no empty line after the headers (see the README).
        ("rfc4475/baddn.dat", Respond(|e| kind_is(e, |k| *k == ParseErrorKind::UnterminatedHeaders))),
        ("rfc4475/badvers.dat", Respond(|e| {
            kind_is(e, |k| matches!(k, ParseErrorKind::UnsupportedVersion(v) if v == "SIP/7.0"))?;
            ok_if(e.status_code() == 505, "answered with 505")
        })),
        ("rfc4475/mismatch01.dat", Respond(|e| kind_is(e, |k| *k == ParseErrorKind::CSeqMethodMismatch))),
        // 501 preferred, 400 acceptable: the CSeq method differs, so we answer 400.
        ("rfc4475/mismatch02.dat", Respond(|e| kind_is(e, |k| *k == ParseErrorKind::CSeqMethodMismatch))),
        ("rfc4475/bigcode.dat", Drop),
        // --- RFC 4475 3.2 / 3.3: transaction-layer and application-layer semantics ---
        ("rfc4475/badbranch.dat", Request(|r| {
            let v = r.top_via().ok_or("Via")?;
            ok_if(v.branch() == Some("z9hG4bK") && !v.has_rfc3261_branch(), "bare magic cookie detected")
        })),
        // Call-ID, From and To are missing: the response cannot be addressed.
        ("rfc4475/insuf.dat", Drop),
        ("rfc4475/unkscm.dat", Request(|r| {
            ok_if(r.uri().scheme == Scheme::Other("nobodyknowsthisscheme".into()), "unknown scheme (416)")?;
            ok_if(r.uri().opaque.as_deref() == Some("totallyopaquecontent"), "opaque part")
        })),
        ("rfc4475/novelsc.dat", Request(|r| {
            ok_if(r.uri().scheme == Scheme::Other("soap.beep".into()), "soap.beep scheme (416)")
        })),
        ("rfc4475/unksm2.dat", Request(|r| {
            ok_if(r.to().map(|t| t.uri.scheme) == Some(Scheme::Other("isbn".into())), "To is not a SIP AOR")?;
            ok_if(r.from().map(|t| t.uri.scheme) == Some(Scheme::Other("http".into())), "From http")?;
            let c = r.headers().contacts();
            ok_if(c.len() == 1 && c[0].address().map(|a| a.uri.scheme.clone()) == Some(Scheme::Other("name".into())), "Contact name:")
        })),
        ("rfc4475/bext01.dat", Request(|r| {
            ok_if(r.headers().require() == ["nothingSupportsThis", "nothingSupportsThisEither"], "Require listed (420)")?;
            ok_if(r.headers().proxy_require().len() == 2, "Proxy-Require listed")
        })),
        ("rfc4475/invut.dat", Request(|r| {
            ok_if(r.headers().content_type() == Some("application/unknownformat"), "Content-Type (415)")
        })),
        ("rfc4475/regaut01.dat", Request(|r| {
            let a = r.headers().authorization().ok_or("Authorization")?;
            ok_if(a == "NoOneKnowsThisScheme opaque-data=here", "raw Authorization")?;
            ok_if(hotline_sip::digest::Credentials::parse(a).is_err(), "not digest: challenge again")
        })),
        ("rfc4475/multi01.dat", Respond(|e| kind_is(e, |k| matches!(k, ParseErrorKind::DuplicateHeader(_))))),
        ("rfc4475/mcl01.dat", Respond(|e| kind_is(e, |k| *k == ParseErrorKind::ConflictingContentLength))),
        ("rfc4475/bcast.dat", Response(|r| {
            let vias = r.headers().vias();
            ok_if(vias.len() == 2 && vias[1].host == Host::Ipv4("255.255.255.255".parse().map_err(|_| "ip")?), "broadcast sent-by visible")
        })),
        ("rfc4475/zeromf.dat", Request(|r| ok_if(r.headers().max_forwards() == Some(0), "Max-Forwards 0 (483)"))),
        ("rfc4475/cparam01.dat", Request(|r| {
            let c = r.headers().contacts();
            let a = c[0].address().ok_or("contact")?;
            ok_if(a.uri.params.is_empty() && a.param("unknownparam") == Some(None), "contact-param, not URI param")
        })),
        ("rfc4475/cparam02.dat", Request(|r| {
            let c = r.headers().contacts();
            let a = c[0].address().ok_or("contact")?;
            ok_if(a.uri.param("unknownparam") == Some(None), "URI param")
        })),
        ("rfc4475/regescrt.dat", Request(|r| {
            let c = r.headers().contacts();
            let a = c[0].address().ok_or("contact")?;
            ok_if(a.uri.headers == [("Route".to_string(), "%3Csip:sip.example.com%3E".to_string())], "escaped Route kept")?;
            ok_if(a.uri.to_string() == "sip:user@example.com?Route=%3Csip:sip.example.com%3E", "printed unchanged")
        })),
        ("rfc4475/sdp01.dat", Request(|r| ok_if(r.headers().get("Accept") == Some("text/nobodyKnowsThis"), "Accept (406)"))),
        ("rfc4475/inv2543.dat", Request(|r| {
            ok_if(r.body().len() == 105, "body is the rest of the datagram")?;
            ok_if(r.headers().max_forwards().is_none(), "no Max-Forwards")?;
            ok_if(r.top_via().is_some_and(|v| v.branch().is_none()), "no branch: RFC 2543 matching")?;
            ok_if(r.from().is_some_and(|f| f.tag().is_none()), "no From tag")
        })),
        // Not in the RFC text: no SIP-Version, a line without a colon, no Via/CSeq.
        ("rfc4475/test.dat", Drop),
        // --- RFC 5118 (LF -> CRLF, final CRLF and Content-Length fixed by the harness) ---
        ("rfc5118/ipv6-good", Request(|r| {
            ok_if(host(r) == v6("2001:db8::10"), "RURI IPv6")?;
            ok_if(r.top_via().map(|v| v.host) == v6("2001:db8::9:1"), "Via IPv6")?;
            ok_if(r.headers().contacts()[0].address().and_then(|a| a.uri.host.clone()) == v6("2001:db8::1"), "Contact IPv6")
        })),
        ("rfc5118/ipv6-bad", Respond(|e| kind_is(e, |k| *k == ParseErrorKind::Ipv6WithoutBrackets))),
        ("rfc5118/port-ambiguous", Request(|r| {
            ok_if(host(r) == v6("2001:db8::10:5070") && r.uri().port.is_none(), "no port")
        })),
        ("rfc5118/port-unambiguous", Request(|r| {
            ok_if(host(r) == v6("2001:db8::10") && r.uri().port == Some(5070), "port 5070")
        })),
        ("rfc5118/via-received-param-with-delim", Request(|r| {
            ok_if(r.top_via().and_then(|v| v.received_ip()) == "2001:db8::9:255".parse().ok(), "received with brackets")
        })),
        ("rfc5118/via-received-param-no-delim", Request(|r| {
            ok_if(r.top_via().and_then(|v| v.received_ip()) == "2001:db8::9:255".parse().ok(), "received without brackets")
        })),
        ("rfc5118/ipv6-in-sdp", Request(|r| {
            ok_if(String::from_utf8_lossy(r.body()).contains("c=IN IP6 2001:db8::20"), "SDP body")
        })),
        ("rfc5118/mult-ip-in-header", Request(|r| {
            let v = r.headers().vias();
            ok_if(v.len() == 3 && v[0].port == Some(6050) && v[1].host == Host::Ipv4("192.0.2.1".parse().map_err(|_| "ip")?), "mixed Vias")?;
            ok_if(v[2].received_ip() == "192.0.2.200".parse().ok(), "IPv4 received")
        })),
        ("rfc5118/mult-ip-in-sdp", Request(|r| ok_if(r.body().ends_with(b"\r\n"), "whole body"))),
        ("rfc5118/ipv4-mapped-ipv6", Request(|r| {
            let v = r.headers().vias();
            ok_if(v[0].host == Host::Ipv6("::ffff:192.0.2.10".into()) && v[0].port == Some(19823), "mapped Via")
        })),
        ("rfc5118/ipv6-bug-abnf-3-colons", Request(|r| {
            ok_if(host(r) == v6("2001:db8:::192.0.2.1"), "three colons tolerated")?;
            ok_if(host(r).and_then(|h| h.ip()) == "2001:db8::192.0.2.1".parse().ok(), "usable address")
        })),
        ("rfc5118/ipv6-correct-abnf-2-colons", Request(|r| {
            ok_if(host(r).and_then(|h| h.ip()) == "2001:db8::192.0.2.1".parse().ok(), "two colons")
        })),
    ]
}

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/sip-torture")
}

/// The RFC 5118 harness fixes from the README: LF -> CRLF, a final empty line, and a
/// Content-Length equal to the converted body.
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

fn check(name: &str, verdict: &Verdict) -> Result<(), String> {
    let raw = std::fs::read(corpus_dir().join(name)).map_err(|e| format!("read: {e}"))?;
    let bytes = if name.starts_with("rfc5118/") {
        fix_rfc5118(&raw)
    } else {
        raw
    };
    let parsed = parse(&bytes);
    match (verdict, parsed) {
        (Request(f), Ok(Message::Request(r))) => {
            f(&r)?;
            // Whatever parses must print and parse again to the same fields.
            match parse(&r.to_bytes()) {
                Ok(Message::Request(again))
                    if again.to_bytes() == r.to_bytes() && again.uri() == r.uri() =>
                {
                    Ok(())
                }
                other => Err(format!("reprint did not round-trip: {other:?}")),
            }
        }
        (Response(f), Ok(Message::Response(r))) => f(&r),
        (Respond(f), Err(e)) => {
            let ctx = e
                .response_context()
                .ok_or_else(|| format!("no response context for {:?}", e.kind()))?;
            let reply = hotline_sip::message::Response::for_context(
                ctx,
                e.status_code(),
                &e.reason_phrase(),
            );
            ok_if(
                reply
                    .to_bytes()
                    .starts_with(format!("SIP/2.0 {} ", e.status_code()).as_bytes()),
                "reply prints",
            )?;
            f(&e)
        }
        (Drop, Err(e)) => ok_if(
            e.response_context().is_none(),
            &format!("expected no response context, got one for {:?}", e.kind()),
        ),
        (_, Ok(m)) => Err(format!("unexpectedly parsed: {:?}", m.headers().call_id())),
        (_, Err(e)) => Err(format!("unexpected error: {:?}", e.kind())),
    }
}

#[test]
fn every_torture_message_gets_its_verdict() {
    let table = table();
    let failures: Vec<String> = table
        .iter()
        .filter_map(|(name, verdict)| check(name, verdict).err().map(|e| format!("{name}: {e}")))
        .collect();
    assert!(
        failures.is_empty(),
        "{} failing file(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn the_table_covers_every_file() {
    let table = table();
    for dir in ["rfc4475", "rfc5118"] {
        let entries = std::fs::read_dir(corpus_dir().join(dir)).expect("corpus directory exists");
        for entry in entries {
            let name = format!(
                "{dir}/{}",
                entry.expect("dir entry").file_name().to_string_lossy()
            );
            assert!(
                table.iter().any(|(n, _)| *n == name),
                "{name} has no verdict"
            );
        }
    }
    assert_eq!(table.len(), 62);
}
