//! The registrar: REGISTER with digest authentication (SHA-256 and MD5, qop=auth), expiry limits,
//! several contacts per agent, unregistration; bindings remember where the REGISTER came from so
//! calls reach agents behind NAT.

use std::time::Duration;

use hotline_events::{EventDraft, EventKind};
use hotline_sip::digest::{Credentials, DigestAlgorithm, DigestAuth, DigestError, UserSecret};
use hotline_sip::message::{Contact, Request, Response, Scheme};
use hotline_sip::transport::{Target, TransportKind};

use crate::config::{Config, RegistrationLimits};
use crate::endpoint::{lock, unix_now, Shared};
use crate::location::{BindingTransport, ContactRequest, RegisterRefused};

/// Nonces are valid this long; after it the phone gets `stale=true` and retries at once.
const NONCE_LIFETIME: Duration = Duration::from_secs(300);

/// REGISTER handling.
pub struct Registrar {
    sha256: DigestAuth,
    md5: DigestAuth,
    limits: RegistrationLimits,
    algorithms: Vec<DigestAlgorithm>,
    /// Hosts this registrar serves: the configured domain, the listen and advertised addresses.
    domains: Vec<String>,
    /// Issue time (Unix ms) of the last challenge's nonce.
    last_nonce_ms: u64,
}

impl Registrar {
    /// A registrar for the configured realm, with a random nonce key.
    pub fn new(config: &Config) -> Self {
        let key: [u8; 32] = rand::random();
        Self {
            sha256: DigestAuth::new(&config.realm, &key, DigestAlgorithm::Sha256, NONCE_LIFETIME),
            md5: DigestAuth::new(&config.realm, &key, DigestAlgorithm::Md5, NONCE_LIFETIME),
            limits: config.registration,
            algorithms: config.auth_algorithms.clone(),
            domains: [
                Some(config.domain.clone()),
                Some(config.sip_listen.ip().to_string()),
                config.advertised_ip.map(|ip| ip.to_string()),
            ]
            .into_iter()
            .flatten()
            .map(|d| d.to_ascii_lowercase())
            .collect(),
            last_nonce_ms: 0,
        }
    }

    /// Answers a REGISTER and applies it.
    pub fn handle(&mut self, req: &Request, source: &Target, shared: &Shared) -> Response {
        let Some(to) = req.to() else {
            return Response::for_request(req, 400, "Missing To");
        };
        if !matches!(to.uri.scheme, Scheme::Sip | Scheme::Sips) {
            return Response::for_request(req, 400, "To Must Be A SIP URI");
        }
        let host = req
            .uri()
            .host
            .as_ref()
            .map(|h| h.to_string().trim_matches(['[', ']']).to_ascii_lowercase());
        if !host.is_some_and(|h| self.domains.contains(&h)) {
            return self.with_tag(Response::for_request(req, 404, "Domain Not Served Here"));
        }
        let Some(agent) = to.uri.user_unescaped() else {
            return Response::for_request(req, 404, "Not Found");
        };
        let Some(settings) = shared.config.agents.get(&agent) else {
            return self.with_tag(Response::for_request(req, 404, "Not Found"));
        };

        if let Err(refusal) =
            self.authenticate(req, &agent, &settings.password, source, unix_millis())
        {
            return refusal;
        }
        self.apply(req, &agent, source, shared)
    }

    /// Checks a REGISTER's credentials at `now_ms` (Unix ms). `Err` is the answer to send: a
    /// fresh challenge (`stale=true` when only the nonce had expired) or 403.
    fn authenticate(
        &mut self,
        req: &Request,
        agent: &str,
        password: &str,
        source: &Target,
        now_ms: u64,
    ) -> Result<(), Response> {
        let creds = req.headers().authorization().map(Credentials::parse);
        let creds = match creds {
            None | Some(Err(_)) => return Err(self.challenge(req, now_ms, false)),
            Some(Ok(c)) => c,
        };
        if !self.algorithms.contains(&creds.algorithm) {
            return Err(self.challenge(req, now_ms, false));
        }
        let verifier = match creds.algorithm {
            DigestAlgorithm::Sha256 => &mut self.sha256,
            DigestAlgorithm::Md5 => &mut self.md5,
        };
        let uri = req.uri().to_string();
        match verifier.verify(
            now_ms,
            "REGISTER",
            &uri,
            agent,
            UserSecret::Password(password),
            &creds,
        ) {
            Ok(()) => Ok(()),
            Err(DigestError::StaleNonce) => Err(self.challenge(req, now_ms, true)),
            Err(DigestError::UnknownNonce) | Err(DigestError::WrongRealm) => {
                Err(self.challenge(req, now_ms, false))
            }
            Err(e) => {
                tracing::warn!(%agent, source = %source.addr, "REGISTER refused: {e}");
                Err(self.with_tag(Response::for_request(req, 403, "Forbidden")))
            }
        }
    }

    fn apply(&mut self, req: &Request, agent: &str, source: &Target, shared: &Shared) -> Response {
        let contacts = req.headers().contacts();
        let header_expires = req.headers().expires();
        let call_id = req.call_id().unwrap_or_default();
        let cseq = req.cseq().map_or(0, |c| c.seq);
        let now = unix_now();
        let transport = match source.transport {
            TransportKind::Udp => BindingTransport::Udp,
            TransportKind::Tcp => BindingTransport::Tcp,
        };

        let outcome = if contacts.iter().any(|c| matches!(c, Contact::Wildcard)) {
            if contacts.len() != 1 || header_expires != Some(0) {
                return self.with_tag(Response::for_request(req, 400, "Invalid Wildcard Contact"));
            }
            let before = lock(&shared.locations).unregister_all(agent);
            Some((before, 0))
        } else if contacts.is_empty() {
            None
        } else {
            let mut wanted = Vec::new();
            for c in &contacts {
                let Some(addr) = c.address() else { continue };
                let asked = c
                    .expires()
                    .or(header_expires)
                    .unwrap_or(self.limits.default_expires);
                if asked > 0 && asked < self.limits.min_expires {
                    let mut r = Response::for_request(req, 423, "Interval Too Brief");
                    r.push_header("Min-Expires", self.limits.min_expires.to_string());
                    return self.with_tag(r);
                }
                wanted.push(ContactRequest {
                    contact: addr.uri.to_string(),
                    expires: asked.min(self.limits.max_expires),
                });
            }
            let result = lock(&shared.locations).register(
                agent,
                &wanted,
                call_id,
                cseq,
                source.addr,
                transport,
                source.conn,
                now,
            );
            match result {
                Ok(o) => Some((o.before, o.after)),
                Err(RegisterRefused::OutOfOrder { .. }) => {
                    return self.with_tag(Response::for_request(req, 500, "Out Of Order REGISTER"))
                }
            }
        };

        let store = lock(&shared.locations);
        let bindings = store.bindings(agent).to_vec();
        if outcome.is_some() {
            if let Err(e) = store.save() {
                tracing::error!("saving registrations: {e:#}");
            }
        }
        drop(store);

        if let Some((before, after)) = outcome {
            shared.router.contacts_changed(agent, after);
            if after > 0 {
                let expires = bindings
                    .iter()
                    .map(|b| b.expires_at.saturating_sub(now))
                    .max()
                    .unwrap_or(0);
                if before == 0 {
                    tracing::info!(%agent, source = %source.addr, "agent registered");
                }
                shared.events.emit(
                    EventDraft::new(EventKind::AgentRegistered {
                        contacts: bindings.iter().map(|b| b.contact.clone()).collect(),
                        expires: u32::try_from(expires).unwrap_or(u32::MAX),
                    })
                    .agent(agent),
                );
            } else if before > 0 {
                tracing::info!(%agent, "agent unregistered");
                shared
                    .events
                    .emit(EventDraft::new(EventKind::AgentUnregistered).agent(agent));
            }
        }

        let mut ok = Response::for_request(req, 200, "OK");
        for b in &bindings {
            ok.push_header(
                "Contact",
                format!(
                    "<{}>;expires={}",
                    b.contact,
                    b.expires_at.saturating_sub(now)
                ),
            );
        }
        self.with_tag(ok)
    }

    fn challenge(&mut self, req: &Request, now_ms: u64, stale: bool) -> Response {
        // A nonce is its issue time in ms plus a MAC, so two challenges in one millisecond would
        // share a nonce and its nonce-count (the second phone's nc=1 would look like a replay):
        // each challenge gets a later issue time than the one before.
        let now_ms = now_ms.max(self.last_nonce_ms.saturating_add(1));
        self.last_nonce_ms = now_ms;
        let mut r = Response::for_request(req, 401, "Unauthorized");
        // One challenge per configured algorithm, in the configured order (RFC 8760). The
        // bundled config offers MD5 only: some phones (Debian's baresip 1.0) give up on a 401
        // that lists an algorithm they do not know instead of skipping it.
        for alg in self.algorithms.clone() {
            let auth = match alg {
                DigestAlgorithm::Md5 => &mut self.md5,
                DigestAlgorithm::Sha256 => &mut self.sha256,
            };
            r.push_header(
                "WWW-Authenticate",
                auth.challenge(now_ms, stale).header_value(),
            );
        }
        self.with_tag(r)
    }

    fn with_tag(&self, mut r: Response) -> Response {
        crate::endpoint::add_to_tag_if_missing(&mut r);
        r
    }
}

fn unix_millis() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use hotline_sip::digest::{authorization_value, DigestInput};
    use hotline_sip::message::{self, Message};
    use hotline_sip::transport::TransportKind;

    use super::*;

    const T0: u64 = 1_800_000_000_000;

    fn registrar() -> Registrar {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/hotline.yaml");
        Registrar::new(&Config::load(&path).unwrap())
    }

    fn source() -> Target {
        Target {
            addr: "127.0.0.1:5070".parse().unwrap(),
            transport: TransportKind::Udp,
            conn: None,
        }
    }

    fn register(cseq: u32, authorization: Option<&str>) -> Request {
        let auth = authorization
            .map(|a| format!("Authorization: {a}\r\n"))
            .unwrap_or_default();
        let text = format!(
            "REGISTER sip:127.0.0.1 SIP/2.0\r\n\
             Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK{cseq}\r\n\
             From: <sip:1001@127.0.0.1>;tag=a\r\n\
             To: <sip:1001@127.0.0.1>\r\n\
             Call-ID: stale-test\r\n\
             CSeq: {cseq} REGISTER\r\n\
             Contact: <sip:1001@127.0.0.1:5070>\r\n\
             {auth}Content-Length: 0\r\n\r\n"
        );
        match message::parse(text.as_bytes()).unwrap() {
            Message::Request(r) => r,
            Message::Response(_) => unreachable!("a request was built"),
        }
    }

    /// The MD5 nonce of a 401.
    fn md5_nonce(resp: &Response) -> String {
        let text = String::from_utf8(resp.to_bytes()).unwrap();
        let line = text
            .lines()
            .find(|l| l.starts_with("WWW-Authenticate") && l.contains("algorithm=MD5"))
            .unwrap();
        line.split("nonce=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .to_string()
    }

    fn answer(nonce: &str, nc: u32) -> String {
        authorization_value(&DigestInput {
            algorithm: DigestAlgorithm::Md5,
            username: "1001",
            realm: "hotline",
            password: "demo1001",
            ha1: None,
            method: "REGISTER",
            uri: "sip:127.0.0.1",
            nonce,
            qop_auth: Some((nc, "c0ffee")),
        })
    }

    fn auth(r: &mut Registrar, req: &Request, now_ms: u64) -> Result<(), Response> {
        r.authenticate(req, "1001", "demo1001", &source(), now_ms)
    }

    fn stale(resp: &Response) -> bool {
        String::from_utf8(resp.to_bytes())
            .unwrap()
            .contains("stale=true")
    }

    #[test]
    fn expired_nonce_is_challenged_again_with_stale_true() {
        let mut r = registrar();
        let first = auth(&mut r, &register(1, None), T0).unwrap_err();
        assert_eq!(first.status(), 401);
        assert!(!stale(&first));
        let nonce = md5_nonce(&first);

        // Within the nonce lifetime the answer is accepted.
        let ok = register(2, Some(&answer(&nonce, 1)));
        assert!(auth(&mut r, &ok, T0 + 1_000).is_ok());

        // After it, the right password on the old nonce gets a new challenge marked stale.
        let late = T0 + NONCE_LIFETIME.as_millis() as u64 + 1_000;
        let resp = auth(&mut r, &register(3, Some(&answer(&nonce, 2))), late).unwrap_err();
        assert_eq!(resp.status(), 401);
        assert!(
            stale(&resp),
            "{}",
            String::from_utf8_lossy(&resp.to_bytes())
        );
        let fresh = md5_nonce(&resp);
        assert_ne!(fresh, nonce);
        assert!(auth(&mut r, &register(4, Some(&answer(&fresh, 1))), late).is_ok());
    }

    #[test]
    fn challenges_in_the_same_millisecond_get_different_nonces() {
        let mut r = registrar();
        let a = md5_nonce(&auth(&mut r, &register(1, None), T0).unwrap_err());
        let b = md5_nonce(&auth(&mut r, &register(2, None), T0).unwrap_err());
        assert_ne!(a, b);
        // Both are valid, each with its own nonce count.
        assert!(auth(&mut r, &register(3, Some(&answer(&a, 1))), T0).is_ok());
        assert!(auth(&mut r, &register(4, Some(&answer(&b, 1))), T0).is_ok());
    }

    #[test]
    fn wrong_password_on_an_expired_nonce_is_still_forbidden() {
        let mut r = registrar();
        let nonce = md5_nonce(&auth(&mut r, &register(1, None), T0).unwrap_err());
        let wrong = answer(&nonce, 1).replace("response=\"", "response=\"0");
        let late = T0 + NONCE_LIFETIME.as_millis() as u64 + 1_000;
        let resp = auth(&mut r, &register(2, Some(&wrong)), late).unwrap_err();
        assert_ne!(resp.status(), 200);
        assert!(!stale(&resp));
    }
}
