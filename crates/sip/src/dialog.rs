//! Dialog state (RFC 3261 §12): identity, route set, remote target and CSeq bookkeeping, in plain
//! strings and numbers so that it does not depend on the message layer.

use thiserror::Error;

/// A dialog's identity: Call-ID plus both tags, seen from our side.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DialogId {
    /// The Call-ID.
    pub call_id: String,
    /// Our tag (To tag when we are the UAS, From tag when we are the UAC).
    pub local_tag: String,
    /// The peer's tag.
    pub remote_tag: String,
}

/// Where a dialog is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DialogState {
    /// Created by a provisional response with a To tag.
    Early,
    /// Created or confirmed by a 2xx.
    Confirmed,
    /// Ended (BYE, or a failure response to the creating request).
    Terminated,
}

/// Which side of the dialog-creating request we were.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// We sent the request.
    Uac,
    /// We received the request.
    Uas,
}

/// Dialog errors.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DialogError {
    /// Only 101-199 (early) and 2xx (confirmed) responses create a dialog.
    #[error("status {0} does not create a dialog")]
    NotDialogCreating(u16),
    /// A request's CSeq is below the last one seen from the peer (answer 500, RFC 3261 §12.2.2).
    #[error("CSeq {received} is lower than the last remote CSeq {last}")]
    CSeqOutOfOrder {
        /// CSeq of the request.
        received: u32,
        /// Highest CSeq seen so far.
        last: u32,
    },
    /// The dialog has ended.
    #[error("dialog terminated")]
    Terminated,
}

/// The fields of a dialog-creating exchange, as plain values.
///
/// As UAS, from the request we received plus our answer: `local_tag` is the To tag we add,
/// `remote_tag` the From tag, `local_uri` the To URI, `remote_uri` the From URI, `remote_target`
/// the request's Contact URI, `record_route` its Record-Route values in order, `remote_cseq` its
/// CSeq. As UAC, from the request we sent and the response: `local_tag` our From tag,
/// `remote_tag` the response's To tag, `remote_target` the response's Contact, `record_route` the
/// response's Record-Route values as received (reversed here), `local_cseq` our request's CSeq.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DialogParams {
    /// The Call-ID.
    pub call_id: String,
    /// Our tag.
    pub local_tag: String,
    /// The peer's tag.
    pub remote_tag: String,
    /// Our URI (From as UAC, To as UAS).
    pub local_uri: String,
    /// The peer's URI (To as UAC, From as UAS).
    pub remote_uri: String,
    /// The peer's Contact (with or without angle brackets).
    pub remote_target: String,
    /// Record-Route header values in message order, one per route (split comma lists first).
    pub record_route: Vec<String>,
    /// Our CSeq: the creating request's (UAC) or where our own requests start (UAS).
    pub local_cseq: u32,
    /// The peer's CSeq: the creating request's (UAS); ignored as UAC.
    pub remote_cseq: u32,
}

/// The header fields of a request to send inside a dialog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InDialogRequest {
    /// The method.
    pub method: String,
    /// The Request-URI.
    pub request_uri: String,
    /// Route header values, in order (empty: no Route header).
    pub route: Vec<String>,
    /// The Call-ID.
    pub call_id: String,
    /// From URI (ours).
    pub from_uri: String,
    /// From tag (ours).
    pub from_tag: String,
    /// To URI (the peer's).
    pub to_uri: String,
    /// To tag (the peer's).
    pub to_tag: String,
    /// CSeq number.
    pub cseq: u32,
}

/// One dialog: a B2BUA call owns two, one per leg.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dialog {
    id: DialogId,
    role: Role,
    state: DialogState,
    local_uri: String,
    remote_uri: String,
    remote_target: String,
    route_set: Vec<String>,
    local_cseq: u32,
    remote_cseq: Option<u32>,
}

impl Dialog {
    /// A dialog we create as UAS when sending a response with `status` (101-199 or 2xx) to a
    /// request; the route set is the request's Record-Route in order.
    pub fn new_uas(params: DialogParams, status: u16) -> Result<Self, DialogError> {
        let state = creating_state(status)?;
        Ok(Self::build(params, Role::Uas, state))
    }

    /// A dialog we create as UAC on receiving a response with `status` (101-199 with a To tag, or
    /// 2xx); the route set is the response's Record-Route reversed.
    pub fn new_uac(mut params: DialogParams, status: u16) -> Result<Self, DialogError> {
        let state = creating_state(status)?;
        params.record_route.reverse();
        params.remote_cseq = 0;
        let mut dialog = Self::build(params, Role::Uac, state);
        dialog.remote_cseq = None;
        Ok(dialog)
    }

    fn build(p: DialogParams, role: Role, state: DialogState) -> Self {
        Dialog {
            id: DialogId {
                call_id: p.call_id,
                local_tag: p.local_tag,
                remote_tag: p.remote_tag,
            },
            role,
            state,
            local_uri: p.local_uri,
            remote_uri: p.remote_uri,
            remote_target: bare_uri(&p.remote_target).to_owned(),
            route_set: p.record_route.iter().map(|r| r.trim().to_owned()).collect(),
            local_cseq: p.local_cseq,
            remote_cseq: (role == Role::Uas).then_some(p.remote_cseq),
        }
    }

    /// The dialog's identity.
    pub fn id(&self) -> &DialogId {
        &self.id
    }

    /// Our role in the creating exchange.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The current state.
    pub fn state(&self) -> DialogState {
        self.state
    }

    /// The peer's Contact URI, the Request-URI of our requests (without angle brackets).
    pub fn remote_target(&self) -> &str {
        &self.remote_target
    }

    /// The route set, in the order our requests visit it.
    pub fn route_set(&self) -> &[String] {
        &self.route_set
    }

    /// The last CSeq we used.
    pub fn local_cseq(&self) -> u32 {
        self.local_cseq
    }

    /// The highest CSeq seen from the peer, if any.
    pub fn remote_cseq(&self) -> Option<u32> {
        self.remote_cseq
    }

    /// UAS: we sent a 2xx, the early dialog is confirmed.
    pub fn confirm(&mut self) {
        if self.state == DialogState::Early {
            self.state = DialogState::Confirmed;
        }
    }

    /// UAC: a 2xx arrived for an early dialog: confirm it and take the route set (reversed
    /// `record_route`) and remote target from the 2xx (RFC 3261 §13.2.2.4).
    pub fn confirm_uac(&mut self, record_route: Vec<String>, remote_target: &str) {
        if self.state != DialogState::Early {
            return;
        }
        self.state = DialogState::Confirmed;
        self.route_set = record_route
            .iter()
            .rev()
            .map(|r| r.trim().to_owned())
            .collect();
        self.remote_target = bare_uri(remote_target).to_owned();
    }

    /// The dialog ended (BYE sent or received, or the creating request failed).
    pub fn terminate(&mut self) {
        self.state = DialogState::Terminated;
    }

    /// A target refresh (re-INVITE, UPDATE or their 2xx) carried a new Contact.
    pub fn set_remote_target(&mut self, remote_target: &str) {
        self.remote_target = bare_uri(remote_target).to_owned();
    }

    /// Checks a request received in this dialog against the remote CSeq and records it; a lower
    /// CSeq is out of order (answer 500). Equal is allowed: ACK and CANCEL reuse the INVITE's.
    pub fn check_remote_cseq(&mut self, cseq: u32) -> Result<(), DialogError> {
        if let Some(last) = self.remote_cseq {
            if cseq < last {
                return Err(DialogError::CSeqOutOfOrder {
                    received: cseq,
                    last,
                });
            }
        }
        self.remote_cseq = Some(cseq);
        Ok(())
    }

    /// The fields of a new in-dialog request (BYE, re-INVITE, INFO, ...), with the next CSeq.
    pub fn next_request(&mut self, method: &str) -> Result<InDialogRequest, DialogError> {
        if self.state == DialogState::Terminated {
            return Err(DialogError::Terminated);
        }
        self.local_cseq = self.local_cseq.wrapping_add(1);
        Ok(self.request(method, self.local_cseq))
    }

    /// The fields of the ACK for a 2xx to our INVITE with CSeq `invite_cseq` (same CSeq number,
    /// RFC 3261 §13.2.2.4). Allowed even after termination, so a late 2xx can be acknowledged.
    pub fn ack_request(&self, invite_cseq: u32) -> InDialogRequest {
        self.request("ACK", invite_cseq)
    }

    fn request(&self, method: &str, cseq: u32) -> InDialogRequest {
        let (request_uri, route) = self.route();
        InDialogRequest {
            method: method.to_owned(),
            request_uri,
            route,
            call_id: self.id.call_id.clone(),
            from_uri: self.local_uri.clone(),
            from_tag: self.id.local_tag.clone(),
            to_uri: self.remote_uri.clone(),
            to_tag: self.id.remote_tag.clone(),
            cseq,
        }
    }

    /// Request-URI and Route values per RFC 3261 §12.2.1.1: loose routing when the first route
    /// has `;lr`, else strict routing (first route as Request-URI, remote target appended).
    fn route(&self) -> (String, Vec<String>) {
        match self.route_set.first() {
            None => (self.remote_target.clone(), Vec::new()),
            Some(first) if is_loose(first) => (self.remote_target.clone(), self.route_set.clone()),
            Some(first) => {
                let uri = bare_uri(first);
                let request_uri = uri.split('?').next().unwrap_or(uri).to_owned();
                let mut route: Vec<String> = self.route_set[1..].to_vec();
                route.push(format!("<{}>", self.remote_target));
                (request_uri, route)
            }
        }
    }
}

fn creating_state(status: u16) -> Result<DialogState, DialogError> {
    match status {
        101..=199 => Ok(DialogState::Early),
        200..=299 => Ok(DialogState::Confirmed),
        _ => Err(DialogError::NotDialogCreating(status)),
    }
}

/// The URI inside a name-addr (`"Name" <sip:x>;p` -> `sip:x`), or the trimmed input.
fn bare_uri(value: &str) -> &str {
    let value = value.trim();
    match (value.find('<'), value.rfind('>')) {
        (Some(open), Some(close)) if open < close => value[open + 1..close].trim(),
        _ => value,
    }
}

/// True when a route URI carries the `lr` parameter.
fn is_loose(route: &str) -> bool {
    let uri = bare_uri(route);
    let uri = uri.split('?').next().unwrap_or(uri);
    uri.split(';').skip(1).any(|param| {
        let name = param.split('=').next().unwrap_or(param);
        name.trim().eq_ignore_ascii_case("lr")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> DialogParams {
        DialogParams {
            call_id: "c1@host".into(),
            local_tag: "ours".into(),
            remote_tag: "theirs".into(),
            local_uri: "sip:hotline@example.com".into(),
            remote_uri: "sip:alice@example.com".into(),
            remote_target: "<sip:alice@192.0.2.10:5060;transport=udp>".into(),
            record_route: vec![
                "<sip:p1.example.com;lr>".into(),
                "<sip:p2.example.com;lr>".into(),
            ],
            local_cseq: 100,
            remote_cseq: 7,
        }
    }

    #[test]
    fn uas_dialog_keeps_record_route_order_and_remote_target() {
        let mut d = Dialog::new_uas(params(), 200).expect("2xx creates a dialog");
        assert_eq!(d.state(), DialogState::Confirmed);
        assert_eq!(d.role(), Role::Uas);
        assert_eq!(d.remote_target(), "sip:alice@192.0.2.10:5060;transport=udp");
        let bye = d.next_request("BYE").expect("dialog alive");
        assert_eq!(bye.request_uri, "sip:alice@192.0.2.10:5060;transport=udp");
        assert_eq!(
            bye.route,
            vec!["<sip:p1.example.com;lr>", "<sip:p2.example.com;lr>"]
        );
        assert_eq!(bye.cseq, 101);
        assert_eq!(
            (bye.from_tag.as_str(), bye.to_tag.as_str()),
            ("ours", "theirs")
        );
        assert_eq!(d.next_request("INFO").expect("alive").cseq, 102);
    }

    #[test]
    fn uac_dialog_reverses_record_route() {
        let d = Dialog::new_uac(params(), 200).expect("2xx creates a dialog");
        assert_eq!(
            d.route_set(),
            ["<sip:p2.example.com;lr>", "<sip:p1.example.com;lr>"]
        );
        assert_eq!(d.remote_cseq(), None);
        let ack = d.ack_request(100);
        assert_eq!((ack.method.as_str(), ack.cseq), ("ACK", 100));
    }

    #[test]
    fn early_uac_dialog_takes_route_set_and_target_from_2xx() {
        let mut d = Dialog::new_uac(params(), 180).expect("180 creates an early dialog");
        assert_eq!(d.state(), DialogState::Early);
        d.confirm_uac(
            vec!["<sip:only.example.com;lr>".into()],
            "sip:alice@198.51.100.1",
        );
        assert_eq!(d.state(), DialogState::Confirmed);
        assert_eq!(d.route_set(), ["<sip:only.example.com;lr>"]);
        assert_eq!(d.remote_target(), "sip:alice@198.51.100.1");
    }

    #[test]
    fn non_creating_statuses_are_refused() {
        assert_eq!(
            Dialog::new_uas(params(), 100),
            Err(DialogError::NotDialogCreating(100))
        );
        assert_eq!(
            Dialog::new_uac(params(), 486),
            Err(DialogError::NotDialogCreating(486))
        );
    }

    #[test]
    fn lower_remote_cseq_is_rejected_equal_is_allowed() {
        let mut d = Dialog::new_uas(params(), 200).expect("dialog");
        assert_eq!(d.check_remote_cseq(7), Ok(()));
        assert_eq!(d.check_remote_cseq(8), Ok(()));
        assert_eq!(
            d.check_remote_cseq(6),
            Err(DialogError::CSeqOutOfOrder {
                received: 6,
                last: 8
            })
        );
        assert_eq!(d.remote_cseq(), Some(8));
    }

    #[test]
    fn uac_accepts_any_first_remote_cseq() {
        let mut d = Dialog::new_uac(params(), 200).expect("dialog");
        assert_eq!(d.check_remote_cseq(1), Ok(()));
        assert!(d.check_remote_cseq(0).is_err());
    }

    #[test]
    fn strict_route_becomes_request_uri_and_target_is_appended() {
        let mut p = params();
        p.record_route = vec![
            "<sip:strict.example.com;maddr=10.0.0.1>".into(),
            "<sip:p2;lr>".into(),
        ];
        let mut d = Dialog::new_uas(p, 200).expect("dialog");
        let req = d.next_request("BYE").expect("alive");
        assert_eq!(req.request_uri, "sip:strict.example.com;maddr=10.0.0.1");
        assert_eq!(
            req.route,
            vec!["<sip:p2;lr>", "<sip:alice@192.0.2.10:5060;transport=udp>"]
        );
    }

    #[test]
    fn no_route_set_means_no_route_header() {
        let mut p = params();
        p.record_route.clear();
        let mut d = Dialog::new_uas(p, 183).expect("dialog");
        assert_eq!(d.state(), DialogState::Early);
        d.confirm();
        assert_eq!(d.state(), DialogState::Confirmed);
        assert!(d.next_request("BYE").expect("alive").route.is_empty());
    }

    #[test]
    fn target_refresh_and_termination() {
        let mut d = Dialog::new_uas(params(), 200).expect("dialog");
        d.set_remote_target("\"Alice\" <sip:alice@203.0.113.5>;expires=60");
        assert_eq!(d.remote_target(), "sip:alice@203.0.113.5");
        d.terminate();
        assert_eq!(d.next_request("BYE"), Err(DialogError::Terminated));
    }

    #[test]
    fn lr_is_detected_case_insensitively_and_with_value() {
        assert!(is_loose("<sip:a;LR>"));
        assert!(is_loose("<sip:a;transport=tcp;lr=on>"));
        assert!(!is_loose("<sip:a;lrx>"));
        assert!(!is_loose("<sip:a?lr>"));
    }
}
