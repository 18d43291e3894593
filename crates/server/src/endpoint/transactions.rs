//! Glue between parsed messages and the sans-IO transaction machines: keys, contexts (where to
//! send, who gets responses), and carrying out each machine's output.

use std::collections::HashMap;
use std::time::Instant;

use bytes::Bytes;
use hotline_sip::message::{Method, Request, Response};
use hotline_sip::transaction::{
    ClientInvite, ClientKey, ClientNonInvite, Config as TxConfig, Machine, Output, ServerInvite,
    ServerNonInvite, Transaction, TransactionKey, TransactionTable,
};
use hotline_sip::transport::{Target, TransportKind};
use tokio::sync::mpsc;

use super::{Owner, Shared};
use crate::call::CallInput;
use crate::metrics::Direction;

struct ServerCtx {
    target: Target,
    owner: Option<mpsc::UnboundedSender<CallInput>>,
}

struct ClientCtx {
    target: Target,
    owner: Owner,
    request: Request,
    last_response: Option<Response>,
}

/// What a CANCEL found (RFC 3261 9.2).
pub enum CancelTarget {
    /// An INVITE still without a final response: tell its call, which answers it 487.
    Pending(mpsc::UnboundedSender<CallInput>),
    /// The INVITE already has its final response: the CANCEL changes nothing (200).
    AlreadyAnswered,
    /// No such INVITE transaction (481).
    NoTransaction,
}

/// Every live transaction, server and client side.
#[derive(Default)]
pub struct Transactions {
    server: TransactionTable<TransactionKey, Transaction>,
    server_ctx: HashMap<TransactionKey, ServerCtx>,
    client: TransactionTable<ClientKey, Transaction>,
    client_ctx: HashMap<ClientKey, ClientCtx>,
    /// INVITE server transactions by (Call-ID, CSeq): the ACK of a 2xx has its own branch.
    invites: HashMap<(String, u32), TransactionKey>,
}

fn tx_config(target: &Target) -> TxConfig {
    TxConfig::default().with_reliable(matches!(target.transport, TransportKind::Tcp))
}

/// The client transaction key of a response: top Via branch + CSeq method.
pub fn response_key(response: &Response) -> Option<ClientKey> {
    let via = response.top_via()?;
    let cseq = response.cseq()?;
    Some(ClientKey::new(via.branch()?, cseq.method.as_str()))
}

impl Transactions {
    /// The earliest timer of any transaction.
    pub fn poll_timeout(&mut self) -> Option<Instant> {
        match (self.server.poll_timeout(), self.client.poll_timeout()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Fires due timers and carries out what they produce.
    pub fn handle_timeout(&mut self, now: Instant, shared: &Shared) {
        for key in self.server.handle_timeout(now) {
            self.drain_server(&key, shared);
        }
        for key in self.client.handle_timeout(now) {
            self.drain_client(&key, shared);
        }
        self.purge();
    }

    /// True when a server transaction with this key exists (the request is a retransmission).
    pub fn has_server(&self, key: &TransactionKey) -> bool {
        self.server.contains_key(key)
    }

    /// A retransmitted request: the machine resends its last response, if any.
    pub fn retransmission(&mut self, now: Instant, key: &TransactionKey, shared: &Shared) {
        if let Some(mut m) = self.server.get_mut(key) {
            match &mut *m {
                Transaction::ServerInvite(s) => s.handle_request_retransmit(now),
                Transaction::ServerNonInvite(s) => s.handle_request_retransmit(now),
                _ => {}
            }
        }
        self.drain_server(key, shared);
    }

    /// An ACK that matched an INVITE server transaction (ACK of a non-2xx final response).
    /// Returns false when there was no such transaction.
    pub fn ack(&mut self, now: Instant, key: &TransactionKey, shared: &Shared) -> bool {
        let found = match self.server.get_mut(key) {
            Some(mut m) => {
                if let Transaction::ServerInvite(s) = &mut *m {
                    s.handle_ack(now);
                }
                true
            }
            None => false,
        };
        if found {
            self.drain_server(key, shared);
        }
        found
    }

    /// Starts a server transaction for a new request.
    pub fn new_server(
        &mut self,
        now: Instant,
        key: TransactionKey,
        invite: bool,
        target: Target,
        owner: Option<mpsc::UnboundedSender<CallInput>>,
        invite_index: Option<(String, u32)>,
    ) {
        let config = tx_config(&target);
        let machine = if invite {
            Transaction::ServerInvite(ServerInvite::new(now, config))
        } else {
            Transaction::ServerNonInvite(ServerNonInvite::new(now, config))
        };
        self.server.insert(key.clone(), machine);
        if let Some(dialog) = invite_index {
            self.invites.insert(dialog, key.clone());
        }
        self.server_ctx.insert(key, ServerCtx { target, owner });
    }

    /// The ACK of a 2xx: stops the INVITE transaction's 2xx retransmissions.
    pub fn ack_2xx(&mut self, now: Instant, call_id: &str, cseq: u32, shared: &Shared) {
        if let Some(key) = self.invites.get(&(call_id.to_string(), cseq)).cloned() {
            self.ack(now, &key, shared);
        }
    }

    /// Sets who is told about a CANCEL or a missing ACK for this server transaction.
    pub fn set_server_owner(
        &mut self,
        key: &TransactionKey,
        owner: mpsc::UnboundedSender<CallInput>,
    ) {
        if let Some(ctx) = self.server_ctx.get_mut(key) {
            ctx.owner = Some(owner);
        }
    }

    /// A CANCEL for this INVITE transaction: tells the machine, returns the owning call task.
    pub fn cancel(&mut self, now: Instant, key: &TransactionKey) -> CancelTarget {
        let Some(mut m) = self.server.get_mut(key) else {
            return CancelTarget::NoTransaction;
        };
        let pending = match &mut *m {
            Transaction::ServerInvite(s) => s.cancel(now),
            _ => false,
        };
        drop(m);
        match self.server_ctx.get(key).and_then(|c| c.owner.clone()) {
            Some(owner) if pending => CancelTarget::Pending(owner),
            _ => CancelTarget::AlreadyAnswered,
        }
    }

    /// Sends a response on a server transaction.
    pub fn respond(
        &mut self,
        now: Instant,
        key: &TransactionKey,
        response: Response,
        shared: &Shared,
    ) {
        let status = response.status();
        let bytes = Bytes::from(response.to_bytes());
        match self.server.get_mut(key) {
            Some(mut m) => match &mut *m {
                Transaction::ServerInvite(s) => s.handle_tu_response(now, status, bytes),
                Transaction::ServerNonInvite(s) => s.handle_tu_response(now, status, bytes),
                _ => {}
            },
            None => {
                tracing::debug!(status, "response for a finished transaction dropped");
                return;
            }
        }
        shared.metrics.count_response(status, Direction::Out);
        self.drain_server(key, shared);
        self.purge();
    }

    /// Sends a request on a new client transaction.
    pub fn send_request(
        &mut self,
        now: Instant,
        request: Request,
        target: Target,
        owner: Owner,
        shared: &Shared,
    ) {
        let Some(branch) = request
            .top_via()
            .and_then(|v| v.branch().map(str::to_string))
        else {
            tracing::error!("request without a Via branch not sent");
            return;
        };
        let method = request.method().clone();
        let key = ClientKey::new(&branch, method.as_str());
        let bytes = Bytes::from(request.to_bytes());
        let config = tx_config(&target);
        let machine = if method == Method::Invite {
            Transaction::ClientInvite(ClientInvite::new(now, config, bytes))
        } else {
            Transaction::ClientNonInvite(ClientNonInvite::new(now, config, bytes))
        };
        shared
            .metrics
            .count_request(method.as_str(), Direction::Out);
        self.client.insert(key.clone(), machine);
        self.client_ctx.insert(
            key.clone(),
            ClientCtx {
                target,
                owner,
                request,
                last_response: None,
            },
        );
        self.drain_client(&key, shared);
    }

    /// A response arrived. Returns false if it matched no client transaction.
    pub fn handle_response(&mut self, now: Instant, response: Response, shared: &Shared) -> bool {
        let Some(key) = response_key(&response) else {
            return false;
        };
        let status = response.status();
        match self.client.get_mut(&key) {
            Some(mut m) => match &mut *m {
                Transaction::ClientInvite(c) => c.handle_response(now, status),
                Transaction::ClientNonInvite(c) => c.handle_response(now, status),
                _ => {}
            },
            None => return false,
        }
        if let Some(ctx) = self.client_ctx.get_mut(&key) {
            ctx.last_response = Some(response);
        }
        self.drain_client(&key, shared);
        self.purge();
        true
    }

    fn drain_server(&mut self, key: &TransactionKey, shared: &Shared) {
        let Some(mut m) = self.server.get_mut(key) else {
            return;
        };
        let mut outputs = Vec::new();
        while let Some(out) = m.poll_output() {
            outputs.push(out);
        }
        drop(m);
        let Some(ctx) = self.server_ctx.get(key) else {
            return;
        };
        for out in outputs {
            match out {
                Output::Transmit(bytes) => shared.transport.send(ctx.target, bytes),
                Output::Timeout | Output::TransportError => {
                    if let Some(owner) = &ctx.owner {
                        let _ = owner.send(CallInput::AckTimeout {
                            invite: key.clone(),
                        });
                    }
                }
                Output::DeliverResponse { .. } | Output::NeedAck { .. } | Output::Terminated => {}
            }
        }
    }

    fn drain_client(&mut self, key: &ClientKey, shared: &Shared) {
        loop {
            let Some(mut m) = self.client.get_mut(key) else {
                return;
            };
            let Some(out) = m.poll_output() else {
                return;
            };
            drop(m);
            let Some(ctx) = self.client_ctx.get(key) else {
                return;
            };
            match out {
                Output::Transmit(bytes) => shared.transport.send(ctx.target, bytes),
                Output::DeliverResponse { status } => {
                    shared.metrics.count_response(status, Direction::In);
                    if let Some(resp) = &ctx.last_response {
                        let _ = ctx.owner.tx.send(CallInput::Response {
                            leg: ctx.owner.leg,
                            response: resp.clone(),
                        });
                    }
                }
                Output::NeedAck { .. } => {
                    let ack = ctx
                        .last_response
                        .as_ref()
                        .map(|r| non_2xx_ack(&ctx.request, r));
                    if let (Some(ack), Some(mut m)) = (ack, self.client.get_mut(key)) {
                        if let Transaction::ClientInvite(c) = &mut *m {
                            c.handle_ack_bytes(Bytes::from(ack.to_bytes()));
                        }
                    }
                }
                Output::Timeout | Output::TransportError => {
                    let _ = ctx.owner.tx.send(CallInput::RequestFailed {
                        leg: ctx.owner.leg,
                        method: ctx.request.method().clone(),
                    });
                }
                Output::Terminated => {}
            }
        }
    }

    fn purge(&mut self) {
        let mut gone = false;
        for (key, _) in self.server.purge_terminated() {
            self.server_ctx.remove(&key);
            gone = true;
        }
        if gone {
            let server = &self.server;
            self.invites.retain(|_, k| server.contains_key(k));
        }
        for (key, _) in self.client.purge_terminated() {
            self.client_ctx.remove(&key);
        }
    }
}

/// The ACK of a non-2xx final response (RFC 3261 17.1.1.3): same Request-URI, top Via, From,
/// Call-ID, CSeq number and Route as the INVITE; To from the response.
pub fn non_2xx_ack(invite: &Request, response: &Response) -> Request {
    let mut b = Request::builder(Method::Ack, invite.uri().clone());
    if let Some(via) = invite.headers().get("Via") {
        let top = via.split(',').next().unwrap_or(via).trim().to_string();
        b = b.header("Via", top);
    }
    for name in ["From", "Call-ID"] {
        if let Some(v) = invite.headers().get(name) {
            b = b.header(name, v.to_string());
        }
    }
    if let Some(to) = response.headers().get("To") {
        b = b.header("To", to.to_string());
    }
    if let Some(cseq) = invite.cseq() {
        b = b.header("CSeq", format!("{} ACK", cseq.seq));
    }
    for route in invite.headers().get_all("Route") {
        b = b.header("Route", route.to_string());
    }
    b.header("Max-Forwards", "70").build()
}
