//! The location service: where each agent's phones can be reached, persisted across restarts.
//!
//! Pure apart from [`LocationStore::save`]/[`LocationStore::load`]: time is passed in as unix
//! seconds so expiry is testable and survives a restart.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use hotline_sip::transport::ConnId;
use serde::{Deserialize, Serialize};

/// The transport a binding's REGISTER arrived over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BindingTransport {
    /// UDP.
    Udp,
    /// TCP.
    Tcp,
}

/// One registered contact of an agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Binding {
    /// The Contact URI as registered (parameters kept).
    pub contact: String,
    /// The address the REGISTER came from: requests go back there (NAT, rport).
    pub source: SocketAddr,
    /// The transport of the REGISTER.
    pub transport: BindingTransport,
    /// The TCP connection of the REGISTER, valid only in this process.
    #[serde(skip)]
    pub connection: Option<ConnId>,
    /// Call-ID of the REGISTER that created or refreshed it.
    pub call_id: String,
    /// CSeq of that REGISTER.
    pub cseq: u32,
    /// Unix time (s) when it expires.
    pub expires_at: u64,
}

/// A contact asked for in a REGISTER, with its effective expiry already clamped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactRequest {
    /// The Contact URI.
    pub contact: String,
    /// Seconds; 0 removes the binding.
    pub expires: u32,
}

/// Why a REGISTER was not applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegisterRefused {
    /// Same Call-ID with a CSeq not above the stored one (RFC 3261 10.3 step 7): out of order.
    #[error("out-of-order REGISTER (CSeq {got} <= {stored})")]
    OutOfOrder {
        /// CSeq in the request.
        got: u32,
        /// CSeq stored.
        stored: u32,
    },
}

/// The result of a REGISTER: contact counts before and after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisterOutcome {
    /// Bindings before.
    pub before: usize,
    /// Bindings after.
    pub after: usize,
}

/// Every agent's bindings.
#[derive(Debug, Default)]
pub struct LocationStore {
    bindings: BTreeMap<String, Vec<Binding>>,
    path: Option<PathBuf>,
}

#[derive(Serialize, Deserialize)]
struct Persisted {
    version: u32,
    bindings: BTreeMap<String, Vec<Binding>>,
}

impl LocationStore {
    /// Loads the bindings file (missing file: empty store), dropping bindings expired at `now`.
    pub fn load(path: &Path, now: u64) -> Result<Self> {
        let mut store = Self {
            bindings: BTreeMap::new(),
            path: Some(path.to_path_buf()),
        };
        match std::fs::read(path) {
            Ok(bytes) => {
                let p: Persisted = serde_json::from_slice(&bytes)
                    .with_context(|| format!("reading registrations {}", path.display()))?;
                store.bindings = p.bindings;
                store.expire(now);
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
        }
        Ok(store)
    }

    /// Writes the bindings atomically (temp file + rename).
    pub fn save(&self) -> Result<()> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        let tmp = path.with_extension("json.tmp");
        let data = serde_json::to_vec_pretty(&Persisted {
            version: 1,
            bindings: self.bindings.clone(),
        })?;
        std::fs::write(&tmp, data).with_context(|| format!("writing {}", tmp.display()))?;
        std::fs::rename(&tmp, path).with_context(|| format!("renaming to {}", path.display()))?;
        Ok(())
    }

    /// Applies a REGISTER's contacts (RFC 3261 10.3 steps 6-8).
    #[allow(clippy::too_many_arguments)]
    pub fn register(
        &mut self,
        agent: &str,
        contacts: &[ContactRequest],
        call_id: &str,
        cseq: u32,
        source: SocketAddr,
        transport: BindingTransport,
        connection: Option<ConnId>,
        now: u64,
    ) -> Result<RegisterOutcome, RegisterRefused> {
        self.expire(now);
        let list = self.bindings.entry(agent.to_string()).or_default();
        let before = list.len();
        // Check every contact before changing anything, so a refused request changes nothing.
        for c in contacts {
            if let Some(b) = list.iter().find(|b| same_contact(&b.contact, &c.contact)) {
                if b.call_id == call_id && cseq <= b.cseq {
                    return Err(RegisterRefused::OutOfOrder {
                        got: cseq,
                        stored: b.cseq,
                    });
                }
            }
        }
        for c in contacts {
            list.retain(|b| !same_contact(&b.contact, &c.contact));
            if c.expires > 0 {
                list.push(Binding {
                    contact: c.contact.clone(),
                    source,
                    transport,
                    connection,
                    call_id: call_id.to_string(),
                    cseq,
                    expires_at: now + u64::from(c.expires),
                });
            }
        }
        let after = list.len();
        if after == 0 {
            self.bindings.remove(agent);
        }
        Ok(RegisterOutcome { before, after })
    }

    /// Removes every binding of an agent (`Contact: *`, `Expires: 0`). Returns how many there were.
    pub fn unregister_all(&mut self, agent: &str) -> usize {
        self.bindings.remove(agent).map_or(0, |l| l.len())
    }

    /// Drops expired bindings; returns the agents whose count changed, with the new count.
    pub fn expire(&mut self, now: u64) -> Vec<(String, usize)> {
        let mut changed = Vec::new();
        self.bindings.retain(|agent, list| {
            let before = list.len();
            list.retain(|b| b.expires_at > now);
            if list.len() != before {
                changed.push((agent.clone(), list.len()));
            }
            !list.is_empty()
        });
        changed
    }

    /// The live bindings of an agent.
    pub fn bindings(&self, agent: &str) -> &[Binding] {
        self.bindings.get(agent).map_or(&[], |v| v.as_slice())
    }

    /// Every agent with at least one binding, and the count.
    pub fn counts(&self) -> impl Iterator<Item = (&str, usize)> {
        self.bindings.iter().map(|(a, l)| (a.as_str(), l.len()))
    }
}

/// Contacts compare by URI, case-insensitively for scheme and host (a simplification of RFC 3261
/// 19.1.4 that is exact for the URIs softphones register).
fn same_contact(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn src() -> SocketAddr {
        "127.0.0.1:5070".parse().unwrap()
    }

    fn reg(
        store: &mut LocationStore,
        contact: &str,
        expires: u32,
        call: &str,
        cseq: u32,
        now: u64,
    ) -> Result<RegisterOutcome, RegisterRefused> {
        store.register(
            "1001",
            &[ContactRequest {
                contact: contact.into(),
                expires,
            }],
            call,
            cseq,
            src(),
            BindingTransport::Udp,
            None,
            now,
        )
    }

    #[test]
    fn register_refresh_and_unregister() {
        let mut s = LocationStore::default();
        assert_eq!(
            reg(&mut s, "sip:1001@a", 60, "c1", 1, 0).unwrap(),
            RegisterOutcome {
                before: 0,
                after: 1
            }
        );
        assert_eq!(
            reg(&mut s, "sip:1001@a", 60, "c1", 2, 30).unwrap(),
            RegisterOutcome {
                before: 1,
                after: 1
            }
        );
        assert_eq!(s.bindings("1001")[0].expires_at, 90);
        assert_eq!(reg(&mut s, "sip:1001@b", 60, "c2", 1, 31).unwrap().after, 2);
        assert_eq!(
            reg(&mut s, "sip:1001@a", 0, "c1", 3, 32).unwrap(),
            RegisterOutcome {
                before: 2,
                after: 1
            }
        );
        assert_eq!(s.unregister_all("1001"), 1);
        assert!(s.bindings("1001").is_empty());
    }

    #[test]
    fn out_of_order_cseq_is_refused_and_changes_nothing() {
        let mut s = LocationStore::default();
        reg(&mut s, "sip:1001@a", 60, "c1", 5, 0).unwrap();
        assert_eq!(
            reg(&mut s, "sip:1001@a", 0, "c1", 5, 1),
            Err(RegisterRefused::OutOfOrder { got: 5, stored: 5 })
        );
        assert_eq!(s.bindings("1001").len(), 1);
    }

    #[test]
    fn expiry_reports_changed_agents() {
        let mut s = LocationStore::default();
        reg(&mut s, "sip:1001@a", 60, "c1", 1, 0).unwrap();
        assert!(s.expire(59).is_empty());
        assert_eq!(s.expire(60), vec![("1001".to_string(), 0)]);
    }

    #[test]
    fn bindings_survive_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("registrations.json");
        let mut s = LocationStore::load(&path, 0).unwrap();
        reg(&mut s, "sip:1001@a;transport=tcp", 60, "c1", 1, 0).unwrap();
        s.save().unwrap();
        let again = LocationStore::load(&path, 10).unwrap();
        assert_eq!(again.bindings("1001").len(), 1);
        assert_eq!(
            again.bindings("1001")[0].contact,
            "sip:1001@a;transport=tcp"
        );
        let later = LocationStore::load(&path, 61).unwrap();
        assert!(later.bindings("1001").is_empty());
    }
}
