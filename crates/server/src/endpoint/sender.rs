//! Sending SIP bytes without making the endpoint task wait: one task awaits the transport.

use bytes::Bytes;
use hotline_sip::transport::{Target, TransportHandle};
use tokio::sync::mpsc;

/// A cloneable, non-blocking way to send SIP messages.
#[derive(Clone)]
pub struct SipSender {
    tx: mpsc::UnboundedSender<(Target, Bytes)>,
}

impl SipSender {
    /// Starts the sending task over `handle`.
    pub fn spawn(handle: TransportHandle) -> Self {
        let (tx, mut rx) = mpsc::unbounded_channel::<(Target, Bytes)>();
        tokio::spawn(async move {
            while let Some((target, bytes)) = rx.recv().await {
                if let Err(e) = handle.send(target, bytes).await {
                    tracing::debug!(to = %target.addr, "SIP send failed: {e}");
                }
            }
        });
        Self { tx }
    }

    /// Queues a message for `target`.
    pub fn send(&self, target: Target, bytes: Bytes) {
        let _ = self.tx.send((target, bytes));
    }
}
