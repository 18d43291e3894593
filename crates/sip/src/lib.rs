//! hotline-sip: SIP signaling for hotline.
//!
//! - [`message`]: our own request/response types, parsed and printed with rsipstack's `sip` module.
//! - [`digest`]: server-side digest authentication (MD5, SHA-256).
//! - [`transaction`]: sans-IO RFC 3261 / RFC 6026 transaction machines.
//! - [`dialog`]: dialog state (route sets, CSeq) for the B2BUA legs.
//! - [`transport`]: tokio UDP and TCP on one listen address.

pub mod dialog;
pub mod digest;
pub mod message;
pub mod transaction;
pub mod transport;
