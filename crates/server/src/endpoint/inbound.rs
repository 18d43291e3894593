//! What the endpoint does with each message that arrives.

use std::sync::atomic::Ordering;
use std::time::Instant;

use bytes::Bytes;
use hotline_sip::message::{self, Message, Method, Request, Response, Scheme};
use hotline_sip::transaction::{RequestKeyFields, TransactionKey};
use hotline_sip::transport::{Inbound, Target};

use super::transactions::CancelTarget;
use super::EndpointTask;
use crate::call::{self, CallInput};
use crate::metrics::Direction;

/// Methods hotline implements, for Allow and 405/501 answers.
pub const ALLOW: &str = "INVITE, ACK, BYE, CANCEL, OPTIONS, INFO, UPDATE, REGISTER";
/// Extensions hotline supports.
pub const SUPPORTED: &str = "timer";

impl EndpointTask {
    pub(super) fn handle_inbound(&mut self, msg: Inbound) {
        if message::is_keepalive(&msg.bytes) {
            return;
        }
        let target = Target {
            addr: msg.source,
            transport: msg.transport,
            conn: msg.conn,
        };
        match message::parse(&msg.bytes) {
            Ok(Message::Request(req)) => self.handle_request(req, target),
            Ok(Message::Response(resp)) => self.handle_response(resp),
            Err(err) => self.reject_unparseable(&err, target),
        }
    }

    fn reject_unparseable(&mut self, err: &message::ParseError, target: Target) {
        let metrics = &self.shared.metrics;
        match err.response_context() {
            Some(ctx) => {
                tracing::debug!(source = %target.addr, "malformed request: {err}");
                let mut resp = Response::for_context(ctx, err.status_code(), &err.reason_phrase());
                add_to_tag_if_missing(&mut resp);
                metrics.count_response(resp.status(), Direction::Out);
                self.shared
                    .transport
                    .send(target, Bytes::from(resp.to_bytes()));
            }
            None => {
                tracing::debug!(source = %target.addr, "dropped unanswerable message: {err}");
                metrics.sip_dropped.with_label_values(&["malformed"]).inc();
            }
        }
    }

    fn handle_response(&mut self, resp: Response) {
        let now = Instant::now();
        if !self.transactions.handle_response(now, resp, &self.shared) {
            // A 2xx retransmission after its transaction ended is absorbed (RFC 6026 Accepted
            // keeps the client transaction alive for 64*T1, so this is rare).
            self.shared
                .metrics
                .sip_dropped
                .with_label_values(&["stray_response"])
                .inc();
        }
    }

    fn handle_request(&mut self, mut req: Request, target: Target) {
        let now = Instant::now();
        req.stamp_received(target.addr);
        let method = req.method().clone();
        self.shared
            .metrics
            .count_request(method.as_str(), Direction::In);
        let Some(key) = transaction_key(&req, false) else {
            self.stateless(&req, &target, 400, "Missing Via");
            return;
        };

        if method == Method::Ack {
            // ACK of a non-2xx final response belongs to the INVITE transaction; the ACK of a
            // 2xx is its own request, routed by dialog.
            if self.transactions.ack(now, &key, &self.shared) {
                return;
            }
            if let (Some(call_id), Some(cseq)) = (req.call_id(), req.cseq()) {
                self.transactions
                    .ack_2xx(now, call_id, cseq.seq, &self.shared);
            }
            if let Some(owner) = self.dialog_owner(&req) {
                let _ = owner.send(CallInput::Request {
                    request: Box::new(req),
                    key: None,
                    source: target,
                });
            }
            return;
        }

        if self.transactions.has_server(&key) {
            self.transactions.retransmission(now, &key, &self.shared);
            return;
        }
        let invite = method == Method::Invite;
        let index = match (invite, req.call_id(), req.cseq()) {
            (true, Some(call_id), Some(cseq)) => Some((call_id.to_string(), cseq.seq)),
            _ => None,
        };
        self.transactions
            .new_server(now, key.clone(), invite, target, None, index);

        if method == Method::Cancel {
            self.handle_cancel(&req, &key);
            return;
        }

        // Requests we answer ourselves come first: Max-Forwards 0 only matters for requests
        // hotline relays to another leg (INVITE to a queue), see below.
        if let Method::Other(_) = method {
            let mut r = Response::for_request(&req, 501, "Not Implemented");
            r.push_header("Allow", ALLOW);
            self.respond(&key, r);
            return;
        }
        let unsupported: Vec<String> = req
            .headers()
            .require()
            .into_iter()
            .filter(|opt| !opt.eq_ignore_ascii_case("timer"))
            .collect();
        if !unsupported.is_empty() && method != Method::Ack {
            let mut r = Response::for_request(&req, 420, "Bad Extension");
            r.push_header("Unsupported", unsupported.join(", "));
            self.respond(&key, r);
            return;
        }
        if !matches!(req.uri().scheme, Scheme::Sip | Scheme::Sips) {
            self.respond(
                &key,
                Response::for_request(&req, 416, "Unsupported URI Scheme"),
            );
            return;
        }

        let in_dialog = req.to().and_then(|t| t.tag().map(str::to_string)).is_some();
        if in_dialog {
            match self.dialog_owner(&req) {
                Some(owner) => {
                    self.transactions.set_server_owner(&key, owner.clone());
                    let _ = owner.send(CallInput::Request {
                        request: Box::new(req),
                        key: Some(key),
                        source: target,
                    });
                }
                None => self.respond(
                    &key,
                    Response::for_request(&req, 481, "Call/Transaction Does Not Exist"),
                ),
            }
            return;
        }

        match method {
            Method::Register => {
                let resp = self.registrar.handle(&req, &target, &self.shared);
                self.respond(&key, resp);
            }
            Method::Options => {
                let mut r = Response::for_request(&req, 200, "OK");
                r.push_header("Allow", ALLOW);
                r.push_header("Accept", "application/sdp");
                r.push_header("Supported", SUPPORTED);
                add_to_tag_if_missing(&mut r);
                self.respond(&key, r);
            }
            Method::Invite => self.new_call(req, key, target),
            Method::Bye | Method::Info | Method::Update => self.respond(
                &key,
                Response::for_request(&req, 481, "Call/Transaction Does Not Exist"),
            ),
            _ => {
                let mut r = Response::for_request(&req, 405, "Method Not Allowed");
                r.push_header("Allow", ALLOW);
                self.respond(&key, r);
            }
        }
    }

    fn handle_cancel(&mut self, req: &Request, cancel_key: &TransactionKey) {
        let now = Instant::now();
        let Some(invite_key) = transaction_key(req, true) else {
            return;
        };
        match self.transactions.cancel(now, &invite_key) {
            CancelTarget::Pending(owner) => {
                let mut ok = Response::for_request(req, 200, "OK");
                add_to_tag_if_missing(&mut ok);
                self.respond(cancel_key, ok);
                let _ = owner.send(CallInput::Cancelled { invite: invite_key });
            }
            CancelTarget::AlreadyAnswered => {
                let mut ok = Response::for_request(req, 200, "OK");
                add_to_tag_if_missing(&mut ok);
                self.respond(cancel_key, ok);
            }
            CancelTarget::NoTransaction => self.respond(
                cancel_key,
                Response::for_request(req, 481, "Call/Transaction Does Not Exist"),
            ),
        }
    }

    fn new_call(&mut self, req: Request, key: TransactionKey, target: Target) {
        if self.draining || *self.shutdown.borrow() {
            let mut r = Response::for_request(&req, 503, "Service Unavailable");
            r.push_header("Retry-After", "30");
            self.respond(&key, r);
            return;
        }
        // hotline relays this call to an agent: a request that may not travel further stops here.
        if req.headers().max_forwards() == Some(0) {
            self.respond(&key, Response::for_request(&req, 483, "Too Many Hops"));
            return;
        }
        let number = req.uri().user_unescaped().unwrap_or_default();
        // The call runs on this version to its end, whatever reloads happen meanwhile.
        let dialplan = self.shared.dialplan.current();
        // Schedules read the wall clock the call arrived at; lists compare the caller's number.
        // P-Asserted-Identity counts only from a trunk.
        let caller = crate::trunk::caller_number(&req, target.addr.ip(), &self.shared.trunks);
        let call_info =
            hotline_dialplan::CallInfo::new(&number, &caller, std::time::SystemTime::now());
        let Some(ivr) =
            hotline_dialplan::Ivr::start(dialplan.plan.clone(), call_info, Instant::now())
        else {
            self.respond(&key, Response::for_request(&req, 404, "Not Found"));
            return;
        };
        // Tell the caller we are on it before any work (stops their INVITE retransmissions).
        let trying = Response::for_request(&req, 100, "Trying");
        self.respond(&key, trying);
        let local_tag = call::new_tag();
        let owner = call::spawn(
            self.shared.clone(),
            call::NewCall {
                invite: req.clone(),
                key: key.clone(),
                source: target,
                ivr,
                dialplan_version: dialplan.version,
                local_tag: local_tag.clone(),
            },
        );
        self.shared.active_calls.fetch_add(1, Ordering::SeqCst);
        self.transactions.set_server_owner(&key, owner.clone());
        if let Some(call_id) = req.call_id() {
            self.dialogs.insert((call_id.to_string(), local_tag), owner);
        }
    }

    fn dialog_owner(
        &mut self,
        req: &Request,
    ) -> Option<tokio::sync::mpsc::UnboundedSender<CallInput>> {
        let call_id = req.call_id()?.to_string();
        let tag = req.to()?.tag()?.to_string();
        let key = (call_id, tag);
        match self.dialogs.get(&key) {
            Some(tx) if !tx.is_closed() => Some(tx.clone()),
            Some(_) => {
                self.dialogs.remove(&key);
                None
            }
            None => None,
        }
    }

    fn respond(&mut self, key: &TransactionKey, resp: Response) {
        self.transactions
            .respond(Instant::now(), key, resp, &self.shared);
    }

    fn stateless(&self, req: &Request, target: &Target, status: u16, reason: &str) {
        let resp = Response::for_request(req, status, reason);
        self.shared.metrics.count_response(status, Direction::Out);
        self.shared
            .transport
            .send(*target, Bytes::from(resp.to_bytes()));
    }
}

/// A final response to a request outside any dialog needs a To tag (RFC 3261 8.2.6.2).
pub fn add_to_tag_if_missing(resp: &mut Response) {
    if resp.status() > 100 && resp.to().is_some_and(|t| t.tag().is_none()) {
        resp.set_to_tag(&call::new_tag());
    }
}

/// The server transaction key of a request (`cancelled`: the INVITE a CANCEL targets).
pub fn transaction_key(req: &Request, cancelled: bool) -> Option<TransactionKey> {
    let via = req.top_via()?;
    let sent_by = match via.port {
        Some(p) => format!("{}:{p}", via.host),
        None => via.host.to_string(),
    };
    let top_via_raw = req.headers().get("Via").unwrap_or_default();
    let uri = req.uri().to_string();
    let from = req.from();
    let to = req.to();
    let fields = RequestKeyFields {
        method: req.method().as_str(),
        branch: via.branch(),
        sent_by: &sent_by,
        request_uri: &uri,
        call_id: req.call_id().unwrap_or_default(),
        from_tag: from.as_ref().and_then(|f| f.tag()),
        to_tag: to.as_ref().and_then(|t| t.tag()),
        cseq: req.cseq().map_or(0, |c| c.seq),
        top_via: top_via_raw,
    };
    Some(if cancelled {
        TransactionKey::cancelled_invite(&fields)
    } else {
        TransactionKey::for_request(&fields)
    })
}
