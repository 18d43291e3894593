//! Server-side HTTP digest authentication for the registrar (RFC 3261 22, RFC 7616, RFC 8760).
//!
//! Nonces carry their issue time and an HMAC-SHA-256 over it, so any nonce the server did not
//! issue is rejected without storing it. Expiry is checked against `now_ms`, **milliseconds
//! since the Unix epoch supplied by the caller** (this module never reads the clock; a wall
//! clock is used rather than `Instant` because the time is written into the nonce). The only
//! state is the last nonce-count seen per nonce, for replay detection; it is pruned as nonces
//! expire.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use md5::Md5;
use sha2::{Digest, Sha256};

use crate::message::lex::{split_top_level, take_quoted};

/// Digest hash algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DigestAlgorithm {
    /// `MD5` (RFC 2617; what most SIP phones speak).
    Md5,
    /// `SHA-256` (RFC 7616 / RFC 8760).
    Sha256,
}

impl DigestAlgorithm {
    /// The `algorithm=` token.
    pub fn as_str(self) -> &'static str {
        match self {
            DigestAlgorithm::Md5 => "MD5",
            DigestAlgorithm::Sha256 => "SHA-256",
        }
    }

    fn parse(s: &str) -> Option<DigestAlgorithm> {
        if s.eq_ignore_ascii_case("MD5") {
            Some(DigestAlgorithm::Md5)
        } else if s.eq_ignore_ascii_case("SHA-256") {
            Some(DigestAlgorithm::Sha256)
        } else {
            None
        }
    }

    /// Lowercase hex hash of `data`.
    pub fn hash_hex(self, data: &[u8]) -> String {
        match self {
            DigestAlgorithm::Md5 => hex::encode(Md5::digest(data)),
            DigestAlgorithm::Sha256 => hex::encode(Sha256::digest(data)),
        }
    }
}

impl fmt::Display for DigestAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A challenge to send in `WWW-Authenticate` (or `Proxy-Authenticate`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// Protection realm.
    pub realm: String,
    /// Fresh nonce.
    pub nonce: String,
    /// Algorithm the client must use.
    pub algorithm: DigestAlgorithm,
    /// True when the client's previous nonce had expired (it may retry without prompting).
    pub stale: bool,
}

impl Challenge {
    /// The header value: `Digest realm="..", nonce="..", algorithm=MD5, qop="auth"[, stale=true]`.
    pub fn header_value(&self) -> String {
        let mut v = format!(
            "Digest realm=\"{}\", nonce=\"{}\", algorithm={}, qop=\"auth\"",
            self.realm, self.nonce, self.algorithm
        );
        if self.stale {
            v.push_str(", stale=true");
        }
        v
    }
}

/// Credentials from an `Authorization` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    /// `username`
    pub username: String,
    /// `realm`
    pub realm: String,
    /// `nonce`
    pub nonce: String,
    /// `uri` (the digest-uri, normally the Request-URI)
    pub uri: String,
    /// `response` (hex)
    pub response: String,
    /// `algorithm` (MD5 when absent)
    pub algorithm: DigestAlgorithm,
    /// `cnonce`
    pub cnonce: Option<String>,
    /// `nc` (parsed from 8 hex digits)
    pub nc: Option<u32>,
    /// `qop`: only `auth` is supported, so this is whether `qop=auth` was given.
    pub qop_auth: bool,
    /// `opaque`
    pub opaque: Option<String>,
}

/// Why credentials were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DigestError {
    /// The header is not `Digest` or lacks a required parameter.
    #[error("malformed Authorization header")]
    Malformed,
    /// `algorithm` is neither MD5 nor SHA-256.
    #[error("unsupported digest algorithm")]
    UnsupportedAlgorithm,
    /// `qop` is not `auth`.
    #[error("unsupported qop")]
    UnsupportedQop,
    /// Realm differs from ours.
    #[error("wrong realm")]
    WrongRealm,
    /// Username differs from the expected one.
    #[error("wrong username")]
    WrongUsername,
    /// The digest-uri differs from the Request-URI.
    #[error("digest uri does not match the Request-URI")]
    UriMismatch,
    /// The nonce was not issued by this server (bad HMAC or format).
    #[error("unknown nonce")]
    UnknownNonce,
    /// The nonce was ours but has expired: challenge again with `stale=true`.
    #[error("stale nonce")]
    StaleNonce,
    /// The nonce-count did not increase: a replay.
    #[error("nonce count replayed")]
    Replay,
    /// The response hash is wrong (bad password).
    #[error("wrong digest response")]
    WrongResponse,
}

impl Credentials {
    /// Parses an `Authorization` / `Proxy-Authorization` value (params quoted or not, any
    /// order).
    pub fn parse(value: &str) -> Result<Credentials, DigestError> {
        let value = value.trim();
        let (scheme, rest) = value
            .split_once(char::is_whitespace)
            .ok_or(DigestError::Malformed)?;
        if !scheme.eq_ignore_ascii_case("Digest") {
            return Err(DigestError::Malformed);
        }
        let mut params: BTreeMap<String, String> = BTreeMap::new();
        for piece in split_top_level(rest, ',').map_err(|_| DigestError::Malformed)? {
            let piece = piece.trim();
            if piece.is_empty() {
                continue;
            }
            let (name, v) = piece.split_once('=').ok_or(DigestError::Malformed)?;
            let v = v.trim();
            let v = if v.starts_with('"') {
                match take_quoted(v) {
                    Ok((s, rest)) if rest.trim().is_empty() => s,
                    _ => return Err(DigestError::Malformed),
                }
            } else {
                v.to_string()
            };
            params.insert(name.trim().to_ascii_lowercase(), v);
        }
        let mut take = |k: &str| params.remove(k);
        let required = |v: Option<String>| v.ok_or(DigestError::Malformed);
        let algorithm = match take("algorithm") {
            None => DigestAlgorithm::Md5,
            Some(a) => DigestAlgorithm::parse(&a).ok_or(DigestError::UnsupportedAlgorithm)?,
        };
        let qop_auth = match take("qop") {
            None => false,
            Some(q) if q.eq_ignore_ascii_case("auth") => true,
            Some(_) => return Err(DigestError::UnsupportedQop),
        };
        let nc = match take("nc") {
            None => None,
            Some(n) if n.len() == 8 => {
                Some(u32::from_str_radix(&n, 16).map_err(|_| DigestError::Malformed)?)
            }
            Some(_) => return Err(DigestError::Malformed),
        };
        let creds = Credentials {
            username: required(take("username"))?,
            realm: required(take("realm"))?,
            nonce: required(take("nonce"))?,
            uri: required(take("uri"))?,
            response: required(take("response"))?.to_ascii_lowercase(),
            algorithm,
            cnonce: take("cnonce"),
            nc,
            qop_auth,
            opaque: take("opaque"),
        };
        if creds.qop_auth && (creds.cnonce.is_none() || creds.nc.is_none()) {
            return Err(DigestError::Malformed);
        }
        Ok(creds)
    }
}

/// What the client hashes: everything [`compute_response`] needs.
#[derive(Debug, Clone, Copy)]
pub struct DigestInput<'a> {
    /// Algorithm.
    pub algorithm: DigestAlgorithm,
    /// Username.
    pub username: &'a str,
    /// Realm.
    pub realm: &'a str,
    /// Password (ignored when `ha1` is set).
    pub password: &'a str,
    /// Precomputed `H(username:realm:password)` in hex, if stored instead of the password.
    pub ha1: Option<&'a str>,
    /// Request method (`REGISTER`).
    pub method: &'a str,
    /// digest-uri.
    pub uri: &'a str,
    /// Server nonce.
    pub nonce: &'a str,
    /// `Some((nc, cnonce))` for `qop=auth`, `None` for the RFC 2069 form.
    pub qop_auth: Option<(u32, &'a str)>,
}

/// Computes the digest `response` (client side; also what the server recomputes).
pub fn compute_response(input: &DigestInput<'_>) -> String {
    let alg = input.algorithm;
    let ha1 = match input.ha1 {
        Some(h) => h.to_ascii_lowercase(),
        None => alg
            .hash_hex(format!("{}:{}:{}", input.username, input.realm, input.password).as_bytes()),
    };
    let ha2 = alg.hash_hex(format!("{}:{}", input.method, input.uri).as_bytes());
    let kd = match input.qop_auth {
        Some((nc, cnonce)) => format!("{ha1}:{}:{nc:08x}:{cnonce}:auth:{ha2}", input.nonce),
        None => format!("{ha1}:{}:{ha2}", input.nonce),
    };
    alg.hash_hex(kd.as_bytes())
}

/// Builds an `Authorization` value for `input` (client side, used by tests and outbound
/// registration).
pub fn authorization_value(input: &DigestInput<'_>) -> String {
    let mut v = format!(
        "Digest username=\"{}\", realm=\"{}\", nonce=\"{}\", uri=\"{}\", response=\"{}\", algorithm={}",
        input.username,
        input.realm,
        input.nonce,
        input.uri,
        compute_response(input),
        input.algorithm
    );
    if let Some((nc, cnonce)) = input.qop_auth {
        v.push_str(&format!(", qop=auth, nc={nc:08x}, cnonce=\"{cnonce}\""));
    }
    v
}

/// The secret the registrar holds for a user.
#[derive(Debug, Clone, Copy)]
pub enum UserSecret<'a> {
    /// The clear-text password.
    Password(&'a str),
    /// `H(username:realm:password)` in hex for the credentials' algorithm.
    Ha1(&'a str),
}

/// Issues and checks digest challenges for one realm.
#[derive(Debug, Clone)]
pub struct DigestAuth {
    realm: String,
    key: Vec<u8>,
    algorithm: DigestAlgorithm,
    lifetime_ms: u64,
    /// Last nonce-count accepted per nonce.
    counts: BTreeMap<String, u32>,
}

const MAC_HEX_LEN: usize = 32;
const TIME_HEX_LEN: usize = 16;
/// A random part, so two challenges issued in the same millisecond never share a nonce (and
/// its nonce-count).
const SALT_HEX_LEN: usize = 16;

impl DigestAuth {
    /// A verifier for `realm`. `key` is the server's HMAC key (random, at least 16 bytes);
    /// nonces live for `nonce_lifetime`.
    pub fn new(
        realm: &str,
        key: &[u8],
        algorithm: DigestAlgorithm,
        nonce_lifetime: Duration,
    ) -> DigestAuth {
        DigestAuth {
            realm: realm.to_string(),
            key: key.to_vec(),
            algorithm,
            lifetime_ms: u64::try_from(nonce_lifetime.as_millis()).unwrap_or(u64::MAX),
            counts: BTreeMap::new(),
        }
    }

    /// The realm.
    pub fn realm(&self) -> &str {
        &self.realm
    }

    /// A fresh challenge; `stale` after [`DigestError::StaleNonce`].
    pub fn challenge(&mut self, now_ms: u64, stale: bool) -> Challenge {
        self.prune(now_ms);
        Challenge {
            realm: self.realm.clone(),
            nonce: self.make_nonce(now_ms),
            algorithm: self.algorithm,
            stale,
        }
    }

    fn mac(&self, issued_hex: &str) -> String {
        let mut m = hmac_sha256(&self.key, format!("{issued_hex}:{}", self.realm).as_bytes());
        m.truncate(MAC_HEX_LEN / 2);
        hex::encode(m)
    }

    fn make_nonce(&self, now_ms: u64) -> String {
        let stamp = format!("{now_ms:016x}{:016x}", rand::random::<u64>());
        let mac = self.mac(&stamp);
        format!("{stamp}{mac}")
    }

    /// The issue time of a nonce this server made, if the HMAC checks out.
    fn nonce_issued(&self, nonce: &str) -> Option<u64> {
        if nonce.len() != TIME_HEX_LEN + SALT_HEX_LEN + MAC_HEX_LEN || !nonce.is_ascii() {
            return None;
        }
        let (stamp, mac) = nonce.split_at(TIME_HEX_LEN + SALT_HEX_LEN);
        if !constant_time_eq(self.mac(stamp).as_bytes(), mac.as_bytes()) {
            return None;
        }
        u64::from_str_radix(&stamp[..TIME_HEX_LEN], 16).ok()
    }

    fn prune(&mut self, now_ms: u64) {
        let lifetime = self.lifetime_ms;
        let issued_of = |n: &str| u64::from_str_radix(n.get(..TIME_HEX_LEN).unwrap_or(""), 16);
        self.counts
            .retain(|n, _| issued_of(n).is_ok_and(|t| now_ms.saturating_sub(t) <= lifetime));
    }

    /// Checks credentials for a request: realm, nonce (ours, fresh), expected username,
    /// digest-uri against the Request-URI, the response hash, and that `nc` increased.
    pub fn verify(
        &mut self,
        now_ms: u64,
        method: &str,
        request_uri: &str,
        expected_username: &str,
        secret: UserSecret<'_>,
        creds: &Credentials,
    ) -> Result<(), DigestError> {
        if creds.realm != self.realm {
            return Err(DigestError::WrongRealm);
        }
        if creds.username != expected_username {
            return Err(DigestError::WrongUsername);
        }
        if !uris_match(&creds.uri, request_uri) {
            return Err(DigestError::UriMismatch);
        }
        let issued = self
            .nonce_issued(&creds.nonce)
            .ok_or(DigestError::UnknownNonce)?;
        let (password, ha1) = match secret {
            UserSecret::Password(p) => (p, None),
            UserSecret::Ha1(h) => ("", Some(h)),
        };
        let expected = compute_response(&DigestInput {
            algorithm: creds.algorithm,
            username: &creds.username,
            realm: &creds.realm,
            password,
            ha1,
            method,
            uri: &creds.uri,
            nonce: &creds.nonce,
            qop_auth: match (creds.qop_auth, creds.nc, creds.cnonce.as_deref()) {
                (true, Some(nc), Some(cnonce)) => Some((nc, cnonce)),
                _ => None,
            },
        });
        if !constant_time_eq(expected.as_bytes(), creds.response.as_bytes()) {
            return Err(DigestError::WrongResponse);
        }
        if now_ms.saturating_sub(issued) > self.lifetime_ms
            || issued > now_ms.saturating_add(60_000)
        {
            return Err(DigestError::StaleNonce);
        }
        if let Some(nc) = creds.nc {
            self.prune(now_ms);
            let last = self.counts.entry(creds.nonce.clone()).or_insert(0);
            if nc <= *last {
                return Err(DigestError::Replay);
            }
            *last = nc;
        }
        Ok(())
    }
}

fn uris_match(digest_uri: &str, request_uri: &str) -> bool {
    if digest_uri == request_uri {
        return true;
    }
    match (
        crate::message::SipUri::parse(digest_uri),
        crate::message::SipUri::parse(request_uri),
    ) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// HMAC-SHA-256 (RFC 2104).
fn hmac_sha256(key: &[u8], data: &[u8]) -> Vec<u8> {
    const BLOCK: usize = 64;
    let mut k = if key.len() > BLOCK {
        Sha256::digest(key).to_vec()
    } else {
        key.to_vec()
    };
    k.resize(BLOCK, 0);
    let mut inner = Sha256::new();
    inner.update(k.iter().map(|b| b ^ 0x36).collect::<Vec<_>>());
    inner.update(data);
    let inner = inner.finalize();
    let mut outer = Sha256::new();
    outer.update(k.iter().map(|b| b ^ 0x5c).collect::<Vec<_>>());
    outer.update(inner);
    outer.finalize().to_vec()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const CNONCE: &str = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";
    const NONCE: &str = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v";

    fn rfc7616(algorithm: DigestAlgorithm) -> DigestInput<'static> {
        DigestInput {
            algorithm,
            username: "Mufasa",
            realm: "http-auth@example.org",
            password: "Circle of Life",
            ha1: None,
            method: "GET",
            uri: "/dir/index.html",
            nonce: NONCE,
            qop_auth: Some((1, CNONCE)),
        }
    }

    #[test]
    fn rfc7616_worked_example() {
        assert_eq!(
            compute_response(&rfc7616(DigestAlgorithm::Md5)),
            "8ca523f5e9506fed4657c9700eebdbec"
        );
        assert_eq!(
            compute_response(&rfc7616(DigestAlgorithm::Sha256)),
            "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"
        );
    }

    #[test]
    fn hmac_matches_rfc4231_case_2() {
        assert_eq!(
            hex::encode(hmac_sha256(b"Jefe", b"what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn parses_quoted_and_unquoted_params_in_any_order() {
        let c = Credentials::parse(
            "Digest nc=0000000a, qop=auth, response=\"ABCDEF\", uri=\"sip:example.com\", \
             username=\"alice\",realm=\"r, with comma\", nonce=n1, cnonce=\"c\", algorithm=SHA-256",
        )
        .unwrap();
        assert_eq!(c.nc, Some(10));
        assert_eq!(c.realm, "r, with comma");
        assert_eq!(c.nonce, "n1");
        assert_eq!(c.response, "abcdef");
        assert_eq!(c.algorithm, DigestAlgorithm::Sha256);
        assert!(c.qop_auth);
        assert_eq!(
            Credentials::parse("NoOneKnowsThisScheme opaque-data=here"),
            Err(DigestError::Malformed)
        );
        assert_eq!(
            Credentials::parse("Digest username=\"a\", realm=\"r\", nonce=\"n\", uri=\"u\", response=\"x\", algorithm=MD5-sess"),
            Err(DigestError::UnsupportedAlgorithm)
        );
    }

    fn client(auth: &DigestAuth, challenge: &Challenge, nc: u32, password: &str) -> Credentials {
        let input = DigestInput {
            algorithm: challenge.algorithm,
            username: "alice",
            realm: auth.realm(),
            password,
            ha1: None,
            method: "REGISTER",
            uri: "sip:example.com",
            nonce: &challenge.nonce,
            qop_auth: Some((nc, "abc")),
        };
        Credentials::parse(&authorization_value(&input)).unwrap()
    }

    #[test]
    fn full_register_flow_with_replay_and_expiry() {
        for alg in [DigestAlgorithm::Md5, DigestAlgorithm::Sha256] {
            let t0 = 1_700_000_000_000u64;
            let mut auth = DigestAuth::new(
                "example.com",
                b"0123456789abcdef",
                alg,
                Duration::from_secs(300),
            );
            let ch = auth.challenge(t0, false);
            assert!(ch
                .header_value()
                .starts_with("Digest realm=\"example.com\", nonce=\""));
            assert!(ch
                .header_value()
                .contains(&format!("algorithm={alg}, qop=\"auth\"")));
            let secret = UserSecret::Password("s3cret");
            let ok = client(&auth, &ch, 1, "s3cret");
            assert_eq!(
                auth.verify(t0 + 10, "REGISTER", "sip:example.com", "alice", secret, &ok),
                Ok(())
            );
            assert_eq!(
                auth.verify(t0 + 20, "REGISTER", "sip:example.com", "alice", secret, &ok),
                Err(DigestError::Replay)
            );
            let next = client(&auth, &ch, 2, "s3cret");
            assert_eq!(
                auth.verify(
                    t0 + 30,
                    "REGISTER",
                    "sip:example.com",
                    "alice",
                    secret,
                    &next
                ),
                Ok(())
            );
            let wrong = client(&auth, &ch, 3, "guess");
            assert_eq!(
                auth.verify(
                    t0 + 40,
                    "REGISTER",
                    "sip:example.com",
                    "alice",
                    secret,
                    &wrong
                ),
                Err(DigestError::WrongResponse)
            );
            let late = client(&auth, &ch, 4, "s3cret");
            assert_eq!(
                auth.verify(
                    t0 + 301_000,
                    "REGISTER",
                    "sip:example.com",
                    "alice",
                    secret,
                    &late
                ),
                Err(DigestError::StaleNonce)
            );
            assert!(auth
                .challenge(t0 + 301_000, true)
                .header_value()
                .ends_with(", stale=true"));
            assert_eq!(
                auth.verify(t0 + 50, "REGISTER", "sip:other.com", "alice", secret, &late),
                Err(DigestError::UriMismatch)
            );
            assert_eq!(
                auth.verify(t0 + 50, "REGISTER", "sip:example.com", "bob", secret, &late),
                Err(DigestError::WrongUsername)
            );
            let mut forged = late.clone();
            forged.nonce = format!("{:016x}{}", t0, "0".repeat(32));
            assert_eq!(
                auth.verify(
                    t0 + 50,
                    "REGISTER",
                    "sip:example.com",
                    "alice",
                    secret,
                    &forged
                ),
                Err(DigestError::UnknownNonce)
            );
            let mut other_realm = late.clone();
            other_realm.realm = "evil".into();
            assert_eq!(
                auth.verify(
                    t0 + 50,
                    "REGISTER",
                    "sip:example.com",
                    "alice",
                    secret,
                    &other_realm
                ),
                Err(DigestError::WrongRealm)
            );
        }
    }

    #[test]
    fn ha1_secret_and_rfc2069_form() {
        let t0 = 5_000u64;
        let mut auth = DigestAuth::new("r", b"k", DigestAlgorithm::Md5, Duration::from_secs(60));
        let ch = auth.challenge(t0, false);
        let ha1 = DigestAlgorithm::Md5.hash_hex(b"alice:r:pw");
        let input = DigestInput {
            algorithm: DigestAlgorithm::Md5,
            username: "alice",
            realm: "r",
            password: "pw",
            ha1: None,
            method: "REGISTER",
            uri: "sip:r",
            nonce: &ch.nonce,
            qop_auth: None,
        };
        let creds = Credentials::parse(&authorization_value(&input)).unwrap();
        assert_eq!(
            auth.verify(
                t0,
                "REGISTER",
                "sip:r",
                "alice",
                UserSecret::Ha1(&ha1),
                &creds
            ),
            Ok(())
        );
    }

    #[test]
    fn challenges_in_the_same_millisecond_have_different_nonces() {
        let mut auth = DigestAuth::new(
            "r",
            b"key-key-key-key-k",
            DigestAlgorithm::Md5,
            Duration::from_secs(60),
        );
        let a = auth.challenge(1_000, false).nonce;
        let b = auth.challenge(1_000, false).nonce;
        assert_ne!(a, b);
        assert_eq!(auth.nonce_issued(&a), Some(1_000));
        assert_eq!(auth.nonce_issued(&b), Some(1_000));
    }
}
