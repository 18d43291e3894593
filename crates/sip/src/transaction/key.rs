//! Transaction keys: how a request or response finds its transaction (RFC 3261 §17.1.3, §17.2.3).

use rand::distr::Alphanumeric;
use rand::Rng;

/// The RFC 3261 magic cookie that starts every compliant branch.
pub const MAGIC_COOKIE: &str = "z9hG4bK";

/// A fresh RFC 3261 branch: the magic cookie followed by 20 random alphanumerics.
pub fn new_branch() -> String {
    let random: String = rand::rng()
        .sample_iter(&Alphanumeric)
        .take(20)
        .map(char::from)
        .collect();
    format!("{MAGIC_COOKIE}{random}")
}

/// The fields of a received request that decide its server transaction, as plain values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestKeyFields<'a> {
    /// The request method (`INVITE`, `ACK`, `BYE`, ...).
    pub method: &'a str,
    /// The `branch` parameter of the top Via, if any.
    pub branch: Option<&'a str>,
    /// The sent-by (`host[:port]`) of the top Via.
    pub sent_by: &'a str,
    /// The Request-URI as received (RFC 2543 fallback only).
    pub request_uri: &'a str,
    /// The Call-ID (RFC 2543 fallback only).
    pub call_id: &'a str,
    /// The From tag (RFC 2543 fallback only).
    pub from_tag: Option<&'a str>,
    /// The To tag (RFC 2543 fallback only; ignored for INVITE and ACK, see [`TransactionKey`]).
    pub to_tag: Option<&'a str>,
    /// The CSeq number (RFC 2543 fallback only).
    pub cseq: u32,
    /// The whole top Via header value (RFC 2543 fallback only).
    pub top_via: &'a str,
}

/// The key of a server transaction.
///
/// With a magic-cookie branch it is (branch, sent-by, method) with ACK counted as INVITE, so an
/// ACK for a non-2xx finds its INVITE transaction (RFC 3261 §17.2.3). Without one it is the RFC 2543
/// key (Request-URI, From tag, To tag, Call-ID, CSeq number, method, top Via); for INVITE and ACK
/// the To tag is left out, because the ACK carries the tag of our response while the INVITE had
/// none: the caller can check the ACK's To tag against the response it sent if it cares.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TransactionKey(Inner);

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Inner {
    Rfc3261 {
        branch: String,
        sent_by: String,
        method: String,
    },
    Rfc2543 {
        request_uri: String,
        call_id: String,
        from_tag: Option<String>,
        to_tag: Option<String>,
        cseq: u32,
        method: String,
        top_via: String,
    },
}

impl TransactionKey {
    /// The key of the server transaction a received request belongs to.
    pub fn for_request(fields: &RequestKeyFields<'_>) -> Self {
        Self::build(fields, transaction_method(fields.method))
    }

    /// The key of the INVITE transaction a received CANCEL targets (RFC 3261 §9.2): the CANCEL's
    /// own fields, with the method taken as INVITE.
    pub fn cancelled_invite(fields: &RequestKeyFields<'_>) -> Self {
        Self::build(fields, "INVITE".to_owned())
    }

    /// An RFC 3261 key from its parts (the method is upper-cased; ACK counts as INVITE).
    pub fn rfc3261(branch: &str, sent_by: &str, method: &str) -> Self {
        TransactionKey(Inner::Rfc3261 {
            branch: branch.to_owned(),
            sent_by: sent_by.trim().to_ascii_lowercase(),
            method: transaction_method(method),
        })
    }

    /// True for an RFC 3261 (magic-cookie branch) key, false for the RFC 2543 fallback.
    pub fn is_rfc3261(&self) -> bool {
        matches!(self.0, Inner::Rfc3261 { .. })
    }

    /// The method of the transaction (ACK shows as INVITE).
    pub fn method(&self) -> &str {
        match &self.0 {
            Inner::Rfc3261 { method, .. } | Inner::Rfc2543 { method, .. } => method,
        }
    }

    fn build(f: &RequestKeyFields<'_>, method: String) -> Self {
        match f.branch {
            Some(branch) if branch.starts_with(MAGIC_COOKIE) => {
                TransactionKey::rfc3261(branch, f.sent_by, &method)
            }
            _ => {
                let to_tag = if method == "INVITE" {
                    None
                } else {
                    f.to_tag.map(str::to_owned)
                };
                TransactionKey(Inner::Rfc2543 {
                    request_uri: f.request_uri.trim().to_owned(),
                    call_id: f.call_id.trim().to_owned(),
                    from_tag: f.from_tag.map(str::to_owned),
                    to_tag,
                    cseq: f.cseq,
                    method,
                    top_via: f.top_via.trim().to_owned(),
                })
            }
        }
    }
}

/// The key of a client transaction, matched by responses: the top Via branch we generated and the
/// CSeq method (RFC 3261 §17.1.3).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClientKey {
    branch: String,
    method: String,
}

impl ClientKey {
    /// The key for `branch` and the CSeq `method` (upper-cased).
    pub fn new(branch: &str, method: &str) -> Self {
        ClientKey {
            branch: branch.to_owned(),
            method: method.trim().to_ascii_uppercase(),
        }
    }

    /// The branch.
    pub fn branch(&self) -> &str {
        &self.branch
    }

    /// The method.
    pub fn method(&self) -> &str {
        &self.method
    }
}

/// The method that names a transaction: upper-cased, ACK as INVITE.
fn transaction_method(method: &str) -> String {
    let upper = method.trim().to_ascii_uppercase();
    if upper == "ACK" {
        "INVITE".to_owned()
    } else {
        upper
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields<'a>(method: &'a str, branch: Option<&'a str>) -> RequestKeyFields<'a> {
        RequestKeyFields {
            method,
            branch,
            sent_by: "Client.example.com:5060",
            request_uri: "sip:bob@example.com",
            call_id: "abc@client",
            from_tag: Some("ft"),
            to_tag: None,
            cseq: 1,
            top_via: "SIP/2.0/UDP client.example.com:5060",
        }
    }

    #[test]
    fn new_branch_has_magic_cookie_and_is_unique() {
        let a = new_branch();
        let b = new_branch();
        assert!(a.starts_with(MAGIC_COOKIE));
        assert_eq!(a.len(), MAGIC_COOKIE.len() + 20);
        assert_ne!(a, b);
    }

    #[test]
    fn ack_matches_invite_with_same_branch() {
        let invite = TransactionKey::for_request(&fields("INVITE", Some("z9hG4bK1")));
        let mut ack_fields = fields("ACK", Some("z9hG4bK1"));
        ack_fields.to_tag = Some("totag");
        let ack = TransactionKey::for_request(&ack_fields);
        assert!(invite.is_rfc3261());
        assert_eq!(invite, ack);
    }

    #[test]
    fn cancel_is_its_own_transaction_but_targets_the_invite() {
        let invite = TransactionKey::for_request(&fields("INVITE", Some("z9hG4bK1")));
        let cancel = TransactionKey::for_request(&fields("CANCEL", Some("z9hG4bK1")));
        assert_ne!(invite, cancel);
        assert_eq!(
            TransactionKey::cancelled_invite(&fields("CANCEL", Some("z9hG4bK1"))),
            invite
        );
    }

    #[test]
    fn sent_by_and_branch_distinguish_transactions() {
        let a = TransactionKey::for_request(&fields("BYE", Some("z9hG4bK1")));
        let b = TransactionKey::for_request(&fields("BYE", Some("z9hG4bK2")));
        let mut other_host = fields("BYE", Some("z9hG4bK1"));
        other_host.sent_by = "other:5060";
        assert_ne!(a, b);
        assert_ne!(a, TransactionKey::for_request(&other_host));
        assert_eq!(
            a,
            TransactionKey::rfc3261("z9hG4bK1", "client.example.com:5060", "bye")
        );
    }

    #[test]
    fn branch_without_cookie_falls_back_to_rfc2543_key() {
        let invite = TransactionKey::for_request(&fields("INVITE", Some("old-branch")));
        assert!(!invite.is_rfc3261());
        let mut ack = fields("ACK", Some("old-branch"));
        ack.to_tag = Some("ours");
        assert_eq!(invite, TransactionKey::for_request(&ack));
        let mut next = fields("INVITE", None);
        next.cseq = 2;
        assert_ne!(invite, TransactionKey::for_request(&next));
        assert!(!TransactionKey::for_request(&next).is_rfc3261());
    }

    #[test]
    fn rfc2543_non_invite_key_includes_to_tag() {
        let mut a = fields("BYE", None);
        a.to_tag = Some("t1");
        let mut b = a;
        b.to_tag = Some("t2");
        assert_ne!(
            TransactionKey::for_request(&a),
            TransactionKey::for_request(&b)
        );
    }

    #[test]
    fn client_key_matches_on_branch_and_method() {
        assert_eq!(
            ClientKey::new("z9hG4bKx", "invite"),
            ClientKey::new("z9hG4bKx", "INVITE")
        );
        assert_ne!(
            ClientKey::new("z9hG4bKx", "INVITE"),
            ClientKey::new("z9hG4bKx", "CANCEL")
        );
    }
}
