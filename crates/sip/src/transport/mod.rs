//! UDP and TCP on one listen address (tokio).
//!
//! [`Transport::bind`] binds both protocols on the same port and starts the socket tasks; every
//! received message arrives as an [`Inbound`] on one channel, and a cloneable [`TransportHandle`]
//! sends to a [`Target`]. TCP connections are framed by Content-Length here (see [`FrameError`]);
//! a connection is reused for replies by its [`ConnId`] or the peer address, and opened on demand.
//! Everything stops on [`TransportHandle::shutdown`] or when the inbound receiver is dropped.

mod framer;
mod tcp;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytes::Bytes;
use thiserror::Error;
use tokio::net::{TcpListener, UdpSocket};
use tokio::sync::{mpsc, watch};

pub use framer::FrameError;

/// The transport protocol of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TransportKind {
    /// UDP datagrams.
    Udp,
    /// A TCP connection.
    Tcp,
}

impl TransportKind {
    /// True for transports that retransmit themselves (transaction `Config::reliable`).
    pub fn is_reliable(self) -> bool {
        self == TransportKind::Tcp
    }
}

/// Identifies one TCP connection for the life of a [`Transport`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnId(u64);

/// A message received from the network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inbound {
    /// The whole message (one datagram, or one framed TCP message).
    pub bytes: Bytes,
    /// The peer address it came from.
    pub source: SocketAddr,
    /// UDP or TCP.
    pub transport: TransportKind,
    /// The TCP connection it came over (None for UDP).
    pub conn: Option<ConnId>,
}

/// Where to send a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target {
    /// The peer address.
    pub addr: SocketAddr,
    /// UDP or TCP.
    pub transport: TransportKind,
    /// TCP: the connection to use if still open (else one to `addr` is reused or opened).
    pub conn: Option<ConnId>,
}

impl Target {
    /// The target that answers `inbound`: same address, transport and connection.
    pub fn reply_to(inbound: &Inbound) -> Self {
        Target {
            addr: inbound.source,
            transport: inbound.transport,
            conn: inbound.conn,
        }
    }
}

/// Limits and sizes of a [`Transport`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransportConfig {
    /// Largest TCP header section accepted (default 16 KiB).
    pub max_header_bytes: usize,
    /// Largest TCP body accepted (default 64 KiB).
    pub max_body_bytes: usize,
    /// A TCP connection with no traffic for this long is closed (default 5 minutes).
    pub idle_timeout: Duration,
    /// Time allowed to open an outgoing TCP connection (default 5 s).
    pub connect_timeout: Duration,
    /// Capacity of the inbound channel (default 1024).
    pub inbound_capacity: usize,
}

impl Default for TransportConfig {
    fn default() -> Self {
        TransportConfig {
            max_header_bytes: 16 * 1024,
            max_body_bytes: 64 * 1024,
            idle_timeout: Duration::from_secs(300),
            connect_timeout: Duration::from_secs(5),
            inbound_capacity: 1024,
        }
    }
}

/// Counters since the transport was bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TransportStats {
    /// TCP connections accepted or opened.
    pub connections_opened: u64,
    /// TCP connections closed because their framing was malformed or over a limit.
    pub framing_errors: u64,
    /// TCP connections closed for being idle.
    pub idle_closed: u64,
}

/// Binding the listen address failed.
#[derive(Debug, Error)]
pub enum BindError {
    /// The UDP socket could not be bound.
    #[error("cannot bind UDP {addr}: {source}")]
    Udp {
        /// The address.
        addr: SocketAddr,
        /// The cause.
        source: io::Error,
    },
    /// The TCP listener could not be bound.
    #[error("cannot bind TCP {addr}: {source}")]
    Tcp {
        /// The address.
        addr: SocketAddr,
        /// The cause.
        source: io::Error,
    },
}

/// Sending a message failed.
#[derive(Debug, Error)]
pub enum SendError {
    /// The UDP send failed.
    #[error("UDP send to {addr} failed: {source}")]
    Udp {
        /// The target.
        addr: SocketAddr,
        /// The cause.
        source: io::Error,
    },
    /// No TCP connection could be opened.
    #[error("TCP connect to {addr} failed: {source}")]
    Connect {
        /// The target.
        addr: SocketAddr,
        /// The cause.
        source: io::Error,
    },
    /// The TCP connection closed before the message could be queued.
    #[error("TCP connection to {0} closed")]
    Closed(SocketAddr),
    /// The transport was shut down.
    #[error("transport shut down")]
    Shutdown,
}

/// A bound UDP+TCP transport: the inbound message stream plus a handle to send.
#[derive(Debug)]
pub struct Transport {
    handle: TransportHandle,
    inbound: mpsc::Receiver<Inbound>,
}

/// Cloneable sender side of a [`Transport`].
#[derive(Debug, Clone)]
pub struct TransportHandle {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    config: TransportConfig,
    local_addr: SocketAddr,
    udp: Arc<UdpSocket>,
    inbound: mpsc::Sender<Inbound>,
    conns: Mutex<Conns>,
    next_conn: AtomicU64,
    shutdown: watch::Sender<bool>,
    connections_opened: AtomicU64,
    framing_errors: AtomicU64,
    idle_closed: AtomicU64,
}

/// Open TCP connections: writer queues by id, and the id to reuse per peer address.
#[derive(Debug, Default)]
struct Conns {
    by_id: HashMap<ConnId, (SocketAddr, mpsc::Sender<Bytes>)>,
    by_addr: HashMap<SocketAddr, ConnId>,
}

/// How many messages may wait for one TCP connection's writer.
const WRITE_QUEUE: usize = 256;

impl Transport {
    /// Binds UDP and TCP on `addr` and starts receiving. With port 0, UDP picks the port and TCP
    /// binds the same one (retrying a few ports if TCP's is taken).
    pub async fn bind(addr: SocketAddr, config: TransportConfig) -> Result<Self, BindError> {
        let (udp, listener) = bind_pair(addr).await?;
        let local_addr = udp
            .local_addr()
            .map_err(|source| BindError::Udp { addr, source })?;
        let (inbound_tx, inbound) = mpsc::channel(config.inbound_capacity.max(1));
        let (shutdown, _) = watch::channel(false);
        let shared = Arc::new(Shared {
            config,
            local_addr,
            udp: Arc::new(udp),
            inbound: inbound_tx,
            conns: Mutex::new(Conns::default()),
            next_conn: AtomicU64::new(1),
            shutdown,
            connections_opened: AtomicU64::new(0),
            framing_errors: AtomicU64::new(0),
            idle_closed: AtomicU64::new(0),
        });
        tokio::spawn(udp_loop(shared.clone()));
        tokio::spawn(tcp::accept_loop(shared.clone(), listener));
        Ok(Transport {
            handle: TransportHandle { shared },
            inbound,
        })
    }

    /// The bound address (same port for UDP and TCP).
    pub fn local_addr(&self) -> SocketAddr {
        self.handle.local_addr()
    }

    /// A handle to send with.
    pub fn handle(&self) -> TransportHandle {
        self.handle.clone()
    }

    /// The next received message; None once shut down.
    pub async fn recv(&mut self) -> Option<Inbound> {
        self.inbound.recv().await
    }

    /// Splits into the handle and the inbound receiver (for a dedicated receive task).
    pub fn into_parts(self) -> (TransportHandle, mpsc::Receiver<Inbound>) {
        (self.handle, self.inbound)
    }
}

impl TransportHandle {
    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.shared.local_addr
    }

    /// Sends `bytes` to `target`. Over TCP: the connection `target.conn` if still open, else an
    /// open connection to `target.addr`, else a new one. Returns the TCP connection used.
    pub async fn send(&self, target: Target, bytes: Bytes) -> Result<Option<ConnId>, SendError> {
        if *self.shared.shutdown.borrow() {
            return Err(SendError::Shutdown);
        }
        match target.transport {
            TransportKind::Udp => {
                self.shared
                    .udp
                    .send_to(&bytes, target.addr)
                    .await
                    .map_err(|source| SendError::Udp {
                        addr: target.addr,
                        source,
                    })?;
                Ok(None)
            }
            TransportKind::Tcp => tcp::send(&self.shared, target, bytes).await.map(Some),
        }
    }

    /// Counters since bind.
    pub fn stats(&self) -> TransportStats {
        let s = &self.shared;
        TransportStats {
            connections_opened: s.connections_opened.load(Ordering::Relaxed),
            framing_errors: s.framing_errors.load(Ordering::Relaxed),
            idle_closed: s.idle_closed.load(Ordering::Relaxed),
        }
    }

    /// Number of open TCP connections.
    pub fn connection_count(&self) -> usize {
        self.shared.conns().by_id.len()
    }

    /// Stops the socket tasks and closes every TCP connection.
    pub fn shutdown(&self) {
        self.shared.shutdown.send_replace(true);
    }
}

impl Shared {
    fn conns(&self) -> MutexGuard<'_, Conns> {
        // A panic while holding this lock cannot leave the maps inconsistent (single inserts and
        // removes), so a poisoned lock is still usable.
        self.conns
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn new_conn_id(&self) -> ConnId {
        ConnId(self.next_conn.fetch_add(1, Ordering::Relaxed))
    }
}

/// Binds UDP then TCP on the same port.
async fn bind_pair(addr: SocketAddr) -> Result<(UdpSocket, TcpListener), BindError> {
    const ATTEMPTS: usize = 16;
    let mut attempt = 0;
    loop {
        attempt += 1;
        let udp = UdpSocket::bind(addr)
            .await
            .map_err(|source| BindError::Udp { addr, source })?;
        let port = udp
            .local_addr()
            .map_err(|source| BindError::Udp { addr, source })?
            .port();
        let tcp_addr = SocketAddr::new(addr.ip(), port);
        match TcpListener::bind(tcp_addr).await {
            Ok(listener) => return Ok((udp, listener)),
            Err(e)
                if addr.port() == 0
                    && attempt < ATTEMPTS
                    && e.kind() == io::ErrorKind::AddrInUse =>
            {
                continue
            }
            Err(source) => {
                return Err(BindError::Tcp {
                    addr: tcp_addr,
                    source,
                })
            }
        }
    }
}

/// Resolves once shutdown is requested (the guard `wait_for` returns is not `Send`).
async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stop| *stop).await;
}

/// Receives datagrams until shutdown or until nobody listens.
async fn udp_loop(shared: Arc<Shared>) {
    let mut shutdown = shared.shutdown.subscribe();
    let mut buf = vec![0u8; 65_535];
    loop {
        let received = tokio::select! {
            r = shared.udp.recv_from(&mut buf) => r,
            _ = stopped(&mut shutdown) => return,
            _ = shared.inbound.closed() => return,
        };
        let (n, source) = match received {
            Ok(r) => r,
            Err(e) => {
                // ICMP port-unreachable from an earlier send surfaces here on some systems.
                tracing::debug!(error = %e, "UDP receive error");
                continue;
            }
        };
        let datagram = &buf[..n];
        // CRLF keep-alives carry no message.
        if datagram
            .iter()
            .all(|b| matches!(b, b'\r' | b'\n' | b' ' | b'\t' | 0))
        {
            continue;
        }
        let inbound = Inbound {
            bytes: Bytes::copy_from_slice(datagram),
            source,
            transport: TransportKind::Udp,
            conn: None,
        };
        if shared.inbound.send(inbound).await.is_err() {
            return;
        }
    }
}
