//! Client-side digest authentication: answering a `WWW-Authenticate` or `Proxy-Authenticate`
//! challenge (RFC 3261 22.2-22.3, RFC 7616, RFC 8760) with MD5 or SHA-256, `qop=auth` when
//! offered.

use std::collections::BTreeMap;

use crate::digest::{authorization_value, DigestAlgorithm, DigestInput};
use crate::message::lex::{split_top_level, take_quoted};

/// Why a challenge cannot be answered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChallengeError {
    /// Not `Digest`, or a required parameter (realm, nonce) is missing.
    #[error("malformed digest challenge")]
    Malformed,
    /// An algorithm other than MD5 and SHA-256 (with or without `-sess`, which is refused).
    #[error("unsupported digest algorithm {0:?}")]
    UnsupportedAlgorithm(String),
    /// `qop` offered without `auth` (only `auth-int`).
    #[error("unsupported qop {0:?}")]
    UnsupportedQop(String),
}

/// A parsed server challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerChallenge {
    /// `realm`.
    pub realm: String,
    /// `nonce`.
    pub nonce: String,
    /// `algorithm` (MD5 when absent).
    pub algorithm: DigestAlgorithm,
    /// Whether `qop` lists `auth` (absent `qop`: the RFC 2069 form).
    pub qop_auth: bool,
    /// `opaque`, echoed back.
    pub opaque: Option<String>,
    /// `stale=true`.
    pub stale: bool,
}

impl ServerChallenge {
    /// Parses a `WWW-Authenticate` / `Proxy-Authenticate` value.
    pub fn parse(value: &str) -> Result<ServerChallenge, ChallengeError> {
        let value = value.trim();
        let (scheme, rest) = value
            .split_once(char::is_whitespace)
            .ok_or(ChallengeError::Malformed)?;
        if !scheme.eq_ignore_ascii_case("Digest") {
            return Err(ChallengeError::Malformed);
        }
        let mut params: BTreeMap<String, String> = BTreeMap::new();
        for piece in split_top_level(rest, ',').map_err(|_| ChallengeError::Malformed)? {
            let piece = piece.trim();
            if piece.is_empty() {
                continue;
            }
            let (name, v) = piece.split_once('=').ok_or(ChallengeError::Malformed)?;
            let v = v.trim();
            let v = if v.starts_with('"') {
                match take_quoted(v) {
                    Ok((s, rest)) if rest.trim().is_empty() => s,
                    _ => return Err(ChallengeError::Malformed),
                }
            } else {
                v.to_string()
            };
            params.insert(name.trim().to_ascii_lowercase(), v);
        }
        let algorithm = match params.get("algorithm").map(String::as_str) {
            None => DigestAlgorithm::Md5,
            Some(a) if a.eq_ignore_ascii_case("MD5") => DigestAlgorithm::Md5,
            Some(a) if a.eq_ignore_ascii_case("SHA-256") => DigestAlgorithm::Sha256,
            Some(a) => return Err(ChallengeError::UnsupportedAlgorithm(a.to_string())),
        };
        let qop_auth = match params.get("qop") {
            None => false,
            Some(q) => {
                if q.split(',').any(|o| o.trim().eq_ignore_ascii_case("auth")) {
                    true
                } else {
                    return Err(ChallengeError::UnsupportedQop(q.clone()));
                }
            }
        };
        Ok(ServerChallenge {
            realm: params
                .get("realm")
                .cloned()
                .ok_or(ChallengeError::Malformed)?,
            nonce: params
                .get("nonce")
                .cloned()
                .ok_or(ChallengeError::Malformed)?,
            algorithm,
            qop_auth,
            opaque: params.get("opaque").cloned(),
            stale: params
                .get("stale")
                .is_some_and(|s| s.eq_ignore_ascii_case("true")),
        })
    }

    /// The `Authorization` / `Proxy-Authorization` value answering this challenge for a request
    /// of `method` to `uri`, as the first use of the nonce (`nc=00000001`) with `cnonce`.
    pub fn answer(
        &self,
        username: &str,
        password: &str,
        method: &str,
        uri: &str,
        cnonce: &str,
    ) -> String {
        let input = DigestInput {
            algorithm: self.algorithm,
            username,
            realm: &self.realm,
            password,
            ha1: None,
            method,
            uri,
            nonce: &self.nonce,
            qop_auth: self.qop_auth.then_some((1, cnonce)),
        };
        let mut value = authorization_value(&input);
        if let Some(opaque) = &self.opaque {
            value.push_str(&format!(", opaque=\"{opaque}\""));
        }
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::digest::{Credentials, DigestAuth, UserSecret};

    #[test]
    fn parses_a_proxy_challenge_with_qop_list_and_opaque() {
        let c = ServerChallenge::parse(
            "Digest realm=\"carrier.example\", nonce=\"abc\", opaque=\"xyz\", \
             qop=\"auth,auth-int\", algorithm=SHA-256, stale=TRUE",
        )
        .unwrap();
        assert_eq!(c.realm, "carrier.example");
        assert_eq!(c.nonce, "abc");
        assert_eq!(c.algorithm, DigestAlgorithm::Sha256);
        assert!(c.qop_auth);
        assert!(c.stale);
        assert_eq!(c.opaque.as_deref(), Some("xyz"));
    }

    #[test]
    fn refuses_what_it_cannot_answer() {
        assert_eq!(
            ServerChallenge::parse("Basic realm=\"x\""),
            Err(ChallengeError::Malformed)
        );
        assert_eq!(
            ServerChallenge::parse("Digest nonce=\"n\""),
            Err(ChallengeError::Malformed)
        );
        assert!(matches!(
            ServerChallenge::parse("Digest realm=\"r\", nonce=\"n\", algorithm=MD5-sess"),
            Err(ChallengeError::UnsupportedAlgorithm(_))
        ));
        assert!(matches!(
            ServerChallenge::parse("Digest realm=\"r\", nonce=\"n\", qop=\"auth-int\""),
            Err(ChallengeError::UnsupportedQop(_))
        ));
    }

    #[test]
    fn answers_verify_against_our_own_server_side_for_both_algorithms() {
        for alg in [DigestAlgorithm::Md5, DigestAlgorithm::Sha256] {
            let mut server = DigestAuth::new(
                "trunk.example",
                &[7; 32],
                alg,
                std::time::Duration::from_secs(60),
            );
            let challenge = server.challenge(1_000, false);
            let parsed = ServerChallenge::parse(&challenge.header_value()).unwrap();
            assert_eq!(parsed.algorithm, alg);
            let value = parsed.answer("acct", "s3cret", "INVITE", "sip:+8613800138000@gw", "cn1");
            let creds = Credentials::parse(&value).unwrap();
            assert_eq!(creds.nc, Some(1));
            server
                .verify(
                    1_500,
                    "INVITE",
                    "sip:+8613800138000@gw",
                    "acct",
                    UserSecret::Password("s3cret"),
                    &creds,
                )
                .unwrap();
        }
    }

    #[test]
    fn answers_without_qop_in_the_rfc2069_form() {
        let c = ServerChallenge::parse("Digest realm=\"r\", nonce=\"n\"").unwrap();
        let v = c.answer("u", "p", "INVITE", "sip:1@h", "c");
        assert!(!v.contains("qop"));
        assert!(!v.contains("opaque"));
        let creds = Credentials::parse(&v).unwrap();
        assert_eq!(creds.algorithm, DigestAlgorithm::Md5);
    }
}
