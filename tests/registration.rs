//! Registration against the live server, from a Rust phone that speaks digest itself (so SHA-256
//! and replays can be tested): challenges, wrong passwords, MD5 and SHA-256, nonce-count replay,
//! minimum expiry, unregistration, several contacts, persistence across a restart, and a refresh
//! that leaves a not-ready agent not ready. (An expired nonce's `stale=true` is tested at the
//! unit level in the server's registrar: the nonce lifetime is not configurable.)
#![allow(clippy::unwrap_used)]

mod raw_sip;
mod support;

use std::time::Duration;

use hotline_sip::digest::{authorization_value, DigestAlgorithm, DigestInput};
use raw_sip::{unique, Msg, Peer, Req};
use support::{http, Hotline, Options};

const TOKEN: &str = "hotline-demo-token";

/// A challenge as read from a 401.
#[derive(Debug, Clone)]
struct Challenge {
    realm: String,
    nonce: String,
}

/// A parameter of a `WWW-Authenticate` value (quoted or not).
fn param(header: &str, name: &str) -> Option<String> {
    header
        .split(',')
        .map(str::trim)
        .map(|p| p.strip_prefix("Digest ").unwrap_or(p))
        .find_map(|p| {
            let (n, v) = p.split_once('=')?;
            n.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().trim_matches('"').to_string())
        })
}

/// The challenge for `algorithm` in a 401.
fn challenge(resp: &Msg, algorithm: DigestAlgorithm) -> Challenge {
    let header = resp
        .headers("WWW-Authenticate")
        .into_iter()
        .find(|h| param(h, "algorithm").as_deref() == Some(algorithm.as_str()))
        .unwrap_or_else(|| panic!("no {algorithm} challenge in {}", resp.raw));
    Challenge {
        realm: param(&header, "realm").unwrap(),
        nonce: param(&header, "nonce").unwrap(),
    }
}

/// An agent's phone: one Call-ID, CSeq counting up, contact at its own address.
struct Phone {
    peer: Peer,
    agent: String,
    password: String,
    call_id: String,
    cseq: u32,
    nc: u32,
}

impl Phone {
    fn new(h: &Hotline, agent: &str) -> Self {
        Self {
            peer: Peer::new(h.sip),
            agent: agent.to_string(),
            password: format!("demo{agent}"),
            call_id: unique("reg"),
            cseq: 0,
            nc: 0,
        }
    }

    fn uri(&self) -> String {
        format!("sip:{}", self.peer.server)
    }

    /// Its own contact URI.
    fn contact(&self) -> String {
        format!("sip:{}@{}", self.agent, self.peer.addr())
    }

    /// Sends a REGISTER with `headers` (Contact, Expires, Authorization lines) and returns the
    /// final answer.
    fn send(&mut self, headers: &str) -> Msg {
        self.cseq += 1;
        let uri = self.uri();
        let to = format!("sip:{}@{}", self.agent, self.peer.server);
        let req = self.peer.request(&Req {
            method: "REGISTER",
            uri: &uri,
            to: Some(&to),
            call_id: &self.call_id,
            cseq: self.cseq,
            extra: headers,
            ..Req::default()
        });
        self.peer.transact(&req).expect("no answer to REGISTER")
    }

    /// The Authorization line answering `ch` with `password` and nonce count `nc`.
    fn authorization(
        &self,
        ch: &Challenge,
        algorithm: DigestAlgorithm,
        password: &str,
        nc: u32,
    ) -> String {
        let uri = self.uri();
        let value = authorization_value(&DigestInput {
            algorithm,
            username: &self.agent,
            realm: &ch.realm,
            password,
            ha1: None,
            method: "REGISTER",
            uri: &uri,
            nonce: &ch.nonce,
            qop_auth: Some((nc, "0a4f113b")),
        });
        format!("Authorization: {value}\r\n")
    }

    /// Registers `contact_lines` (e.g. `Contact: <..>\r\nExpires: 120\r\n`), answering the
    /// challenge with `algorithm`; returns the final answer.
    fn register_with(&mut self, algorithm: DigestAlgorithm, lines: &str) -> Msg {
        let first = self.send(lines);
        if first.status() != Some(401) {
            return first;
        }
        let ch = challenge(&first, algorithm);
        self.nc = 1;
        let auth = self.authorization(&ch, algorithm, &self.password.clone(), self.nc);
        self.send(&format!("{lines}{auth}"))
    }

    /// Registers its own contact for `expires` seconds with MD5; asserts 200.
    fn register(&mut self, expires: u32) -> Msg {
        let lines = format!("Contact: <{}>\r\nExpires: {expires}\r\n", self.contact());
        let r = self.register_with(DigestAlgorithm::Md5, &lines);
        assert_eq!(r.status(), Some(200), "{}", r.raw);
        r
    }
}

/// The expiry a 200 gives a contact.
fn contact_expires(ok: &Msg, contact: &str) -> Option<u32> {
    ok.headers("Contact")
        .iter()
        .flat_map(|h| h.split(','))
        .find(|c| c.contains(contact))
        .and_then(|c| param(&c.replace(';', ","), "expires"))
        .and_then(|e| e.parse().ok())
}

#[test]
fn digest_challenge_md5_sha256_wrong_password_and_replay() {
    let h = Hotline::start(Options {
        auth_algorithms: Some("[md5, sha-256]"),
        ..Options::default()
    });

    // No credentials: challenged with both algorithms, qop=auth.
    let mut phone = Phone::new(&h, "1001");
    let lines = format!("Contact: <{}>\r\nExpires: 120\r\n", phone.contact());
    let r = phone.send(&lines);
    assert_eq!(r.status(), Some(401), "{}", r.raw);
    let challenges = r.headers("WWW-Authenticate");
    for algorithm in [DigestAlgorithm::Md5, DigestAlgorithm::Sha256] {
        let c = challenges
            .iter()
            .find(|c| param(c, "algorithm").as_deref() == Some(algorithm.as_str()))
            .unwrap_or_else(|| panic!("no {algorithm} challenge: {challenges:?}"));
        assert_eq!(param(c, "qop").as_deref(), Some("auth"), "{c}");
        assert_eq!(param(c, "realm").as_deref(), Some("hotline"), "{c}");
    }

    // Wrong password: 403, and the agent stays logged out.
    let ch = challenge(&r, DigestAlgorithm::Md5);
    let auth = phone.authorization(&ch, DigestAlgorithm::Md5, "not-the-password", 1);
    let r = phone.send(&format!("{lines}{auth}"));
    assert_eq!(r.status(), Some(403), "{}", r.raw);
    assert_eq!(h.agent("1001")["state"], "logged_out");

    // The right MD5 answer: 200 listing the contact with its expiry.
    let auth = phone.authorization(&ch, DigestAlgorithm::Md5, "demo1001", 2);
    let r = phone.send(&format!("{lines}{auth}"));
    assert_eq!(r.status(), Some(200), "{}", r.raw);
    let expires = contact_expires(&r, &phone.contact()).expect("200 without the contact");
    assert!(
        (110..=120).contains(&expires),
        "expires={expires}: {}",
        r.raw
    );
    h.wait_agent_state("1001", "ready", Duration::from_secs(5));

    // The same Authorization again (same nonce, same nc): a replay, not accepted.
    let r = phone.send(&format!("{lines}{auth}"));
    assert_ne!(
        r.status(),
        Some(200),
        "replayed nonce count accepted: {}",
        r.raw
    );
    assert!(matches!(r.status(), Some(401 | 403)), "{}", r.raw);
    // A higher count on the same nonce is fine.
    let auth = phone.authorization(&ch, DigestAlgorithm::Md5, "demo1001", 3);
    let r = phone.send(&format!("{lines}{auth}"));
    assert_eq!(r.status(), Some(200), "{}", r.raw);

    // SHA-256 (RFC 8760) from another agent's phone.
    let mut sha = Phone::new(&h, "1002");
    let lines = format!("Contact: <{}>\r\nExpires: 120\r\n", sha.contact());
    let r = sha.register_with(DigestAlgorithm::Sha256, &lines);
    assert_eq!(r.status(), Some(200), "{}", r.raw);
    h.wait_agent_state("1002", "ready", Duration::from_secs(5));
    let registered = h.wait_event("agent.registered of 1002", Duration::from_secs(5), |e| {
        e["type"] == "agent.registered" && e["agent_id"] == "1002"
    });
    assert_eq!(registered["contacts"][0], sha.contact(), "{registered}");
}

#[test]
fn expiry_below_the_minimum_is_refused_with_min_expires() {
    let h = Hotline::start(Options::default());
    let mut phone = Phone::new(&h, "1003");
    let lines = format!("Contact: <{}>\r\nExpires: 30\r\n", phone.contact());
    let r = phone.register_with(DigestAlgorithm::Md5, &lines);
    assert_eq!(r.status(), Some(423), "{}", r.raw);
    assert_eq!(r.header("Min-Expires").as_deref(), Some("60"), "{}", r.raw);
    assert_eq!(h.agent("1003")["state"], "logged_out");

    // Per-contact expires wins over the header, and is held to the same minimum.
    let lines = format!(
        "Contact: <{}>;expires=10\r\nExpires: 600\r\n",
        phone.contact()
    );
    let r = phone.register_with(DigestAlgorithm::Md5, &lines);
    assert_eq!(r.status(), Some(423), "{}", r.raw);

    // Above the maximum is shortened, not refused.
    let lines = format!("Contact: <{}>\r\nExpires: 86400\r\n", phone.contact());
    let r = phone.register_with(DigestAlgorithm::Md5, &lines);
    assert_eq!(r.status(), Some(200), "{}", r.raw);
    let expires = contact_expires(&r, &phone.contact()).unwrap();
    assert!(expires <= 3600, "expires={expires}");
}

#[test]
fn unregister_by_expires_zero_and_by_wildcard() {
    let h = Hotline::start(Options::default());
    let mut phone = Phone::new(&h, "1001");

    phone.register(120);
    h.wait_agent_state("1001", "ready", Duration::from_secs(5));
    let lines = format!("Contact: <{}>\r\nExpires: 0\r\n", phone.contact());
    let r = phone.register_with(DigestAlgorithm::Md5, &lines);
    assert_eq!(r.status(), Some(200), "{}", r.raw);
    assert!(r.headers("Contact").is_empty(), "still bound: {}", r.raw);
    h.wait_agent_state("1001", "logged_out", Duration::from_secs(5));

    phone.register(120);
    h.wait_agent_state("1001", "ready", Duration::from_secs(5));
    let r = phone.register_with(DigestAlgorithm::Md5, "Contact: *\r\nExpires: 0\r\n");
    assert_eq!(r.status(), Some(200), "{}", r.raw);
    h.wait_agent_state("1001", "logged_out", Duration::from_secs(5));
    h.wait_event("agent.unregistered", Duration::from_secs(5), |e| {
        e["type"] == "agent.unregistered" && e["agent_id"] == "1001"
    });

    // `*` needs Expires: 0.
    let r = phone.register_with(DigestAlgorithm::Md5, "Contact: *\r\nExpires: 60\r\n");
    assert_eq!(r.status(), Some(400), "{}", r.raw);
}

#[test]
fn two_phones_of_one_agent_are_both_listed() {
    let h = Hotline::start(Options::default());
    let mut desk = Phone::new(&h, "1001");
    let mut mobile = Phone::new(&h, "1001");
    desk.register(120);
    let ok = mobile.register(120);
    assert!(
        contact_expires(&ok, &desk.contact()).is_some(),
        "{}",
        ok.raw
    );
    assert!(
        contact_expires(&ok, &mobile.contact()).is_some(),
        "{}",
        ok.raw
    );
    assert_eq!(h.agent("1001")["contacts"], 2);

    // One phone leaves: the agent stays ready on the other.
    let lines = format!("Contact: <{}>\r\nExpires: 0\r\n", mobile.contact());
    let r = mobile.register_with(DigestAlgorithm::Md5, &lines);
    assert_eq!(r.status(), Some(200), "{}", r.raw);
    assert_eq!(r.headers("Contact").len(), 1, "{}", r.raw);
    let agent = h.agent("1001");
    assert_eq!(
        (agent["state"].as_str(), agent["contacts"].as_u64()),
        (Some("ready"), Some(1))
    );
}

#[test]
fn registration_survives_a_restart() {
    let h = Hotline::start(Options::default());
    let mut phone = Phone::new(&h, "1004");
    phone.register(600);
    h.wait_agent_state("1004", "ready", Duration::from_secs(5));
    let (sip, web) = (h.sip, h.http);

    let dir = h.stop();
    let h = Hotline::start_in(dir, sip, web, Options::default());
    h.wait_agent_state("1004", "ready", Duration::from_secs(5));
    assert_eq!(h.agent("1004")["contacts"], 1);
    // The phone refreshes on the same Call-ID with the next CSeq: still one binding.
    phone.register(600);
    assert_eq!(h.agent("1004")["contacts"], 1);
}

#[test]
fn a_refresh_does_not_undo_not_ready() {
    let h = Hotline::start(Options::default());
    let mut phone = Phone::new(&h, "1002");
    phone.register(120);
    h.wait_agent_state("1002", "ready", Duration::from_secs(5));

    let r = http::post(
        h.http,
        "/api/v1/agents/1002/state",
        Some(TOKEN),
        r#"{"state":"not_ready","reason":"break"}"#,
    )
    .unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    h.wait_agent_state("1002", "not_ready", Duration::from_secs(5));

    phone.register(120);
    let agent = h.agent("1002");
    assert_eq!(agent["state"], "not_ready", "{agent}");
    assert_eq!(agent["reason"], "break", "{agent}");
}

#[test]
fn every_challenge_has_a_fresh_nonce() {
    let h = Hotline::start(Options::default());
    let mut phone = Phone::new(&h, "1001");
    let lines = format!("Contact: <{}>\r\nExpires: 120\r\n", phone.contact());
    let mut nonces: Vec<String> = (0..20)
        .map(|_| challenge(&phone.send(&lines), DigestAlgorithm::Md5).nonce)
        .collect();
    nonces.sort();
    nonces.dedup();
    assert_eq!(nonces.len(), 20, "a nonce was handed out twice");
}

#[test]
fn a_domain_this_registrar_does_not_serve_is_refused() {
    let h = Hotline::start(Options::default());
    let phone = Phone::new(&h, "1001");
    let req = phone.peer.request(&Req {
        method: "REGISTER",
        uri: "sip:elsewhere.example.com",
        to: Some("sip:1001@elsewhere.example.com"),
        call_id: &unique("foreign"),
        cseq: 1,
        extra: &format!("Contact: <{}>\r\nExpires: 120\r\n", phone.contact()),
        ..Req::default()
    });
    let answer = phone.peer.transact(&req).expect("no answer to REGISTER");
    assert_eq!(answer.status(), Some(404));
    assert_eq!(h.agent("1001")["state"], "logged_out");
}
