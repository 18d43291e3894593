//! hotline-sip: SIP signaling for hotline.
//!
//! - [`message`]: our own request/response types, validating parser, stream framer, printer.
//! - [`digest`]: server-side digest authentication (MD5, SHA-256).
//! - [`transaction`]: sans-IO RFC 3261 / RFC 6026 transaction machines.
//! - [`dialog`]: dialog state (route sets, CSeq) for the B2BUA legs.
//! - [`transport`]: tokio UDP and TCP on one listen address.
//!
//! # Parsing library
//!
//! rsip, the usual Rust SIP parser, has been dormant since 2022 and fails folded headers,
//! compact header forms, IPv6 hosts and `tel:` URIs. rsipstack's `sip` module is its
//! maintained successor (pinned `=0.7.14`) and is used behind our own types: nothing outside
//! [`message`] sees an rsipstack type, so it can be replaced without touching the server.
//! Its parser is lenient (Content-Length read with `unwrap_or(0)`, no body-length check, no
//! extension methods, no IPv6-without-brackets check), so [`message`] does the framing,
//! start-line and header validation itself — checked against the RFC 4475 / RFC 5118
//! torture messages in `tests/torture.rs` — and takes the status-code vocabulary (reason
//! phrases) from rsipstack.

pub mod dialog;
pub mod digest;
pub mod message;
pub mod transaction;
pub mod transport;
