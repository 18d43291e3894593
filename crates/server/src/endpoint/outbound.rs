//! Building the requests hotline sends: Via with a fresh branch, Contact, in-dialog requests.

use std::net::SocketAddr;

use hotline_sip::dialog::InDialogRequest;
use hotline_sip::message::{Method, Request, SipUri};
use hotline_sip::transaction::new_branch;
use hotline_sip::transport::{Target, TransportKind};

/// Which leg of a call (and which fork of an agent offer) a client transaction belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LegRef {
    /// The caller's leg.
    Caller,
    /// An agent fork: offer number and contact index.
    Agent {
        /// Increments with every offer of this call.
        offer: u32,
        /// Which of the agent's contacts.
        fork: u32,
    },
    /// A transfer's leg through a trunk.
    Trunk {
        /// Increments with every dial of this call.
        dial: u32,
    },
}

/// The transport token for Via and Contact.
pub fn transport_token(t: TransportKind) -> &'static str {
    match t {
        TransportKind::Udp => "UDP",
        TransportKind::Tcp => "TCP",
    }
}

/// A Via for a request we send, with a fresh branch and rport.
pub fn our_via(advertised: SocketAddr, t: TransportKind) -> String {
    format!(
        "SIP/2.0/{} {};branch={};rport",
        transport_token(t),
        advertised,
        new_branch()
    )
}

/// Our Contact for a dialog on this transport.
pub fn our_contact(advertised: SocketAddr, t: TransportKind) -> String {
    match t {
        TransportKind::Udp => format!("<sip:hotline@{advertised}>"),
        TransportKind::Tcp => format!("<sip:hotline@{advertised};transport=tcp>"),
    }
}

/// Builds an in-dialog request from the dialog's fields.
pub fn in_dialog_request(
    fields: &InDialogRequest,
    method: Method,
    advertised: SocketAddr,
    target: &Target,
) -> Option<Request> {
    let uri = SipUri::parse(&fields.request_uri).ok()?;
    let mut b = Request::builder(method, uri)
        .header("Via", our_via(advertised, target.transport))
        .header("Max-Forwards", "70");
    for r in &fields.route {
        b = b.header("Route", r.clone());
    }
    b = b
        .header(
            "From",
            format!("<{}>;tag={}", fields.from_uri, fields.from_tag),
        )
        .header("To", format!("<{}>;tag={}", fields.to_uri, fields.to_tag))
        .header("Call-ID", fields.call_id.clone())
        .header("CSeq", format!("{} {}", fields.cseq, fields.method))
        .header("Contact", our_contact(advertised, target.transport))
        .header("User-Agent", concat!("hotline/", env!("CARGO_PKG_VERSION")));
    Some(b.build())
}
