//! TCP: the accept loop, outgoing connects and one task per connection.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use bytes::Bytes;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::framer::{Frame, Framer};
use super::{stopped, ConnId, Inbound, SendError, Shared, Target, TransportKind, WRITE_QUEUE};

/// Accepts connections until shutdown or until nobody listens.
pub(super) async fn accept_loop(shared: Arc<Shared>, listener: TcpListener) {
    let mut shutdown = shared.shutdown.subscribe();
    loop {
        let accepted = tokio::select! {
            r = listener.accept() => r,
            _ = stopped(&mut shutdown) => return,
            _ = shared.inbound.closed() => return,
        };
        match accepted {
            Ok((stream, peer)) => {
                register(&shared, stream, peer);
            }
            Err(e) => {
                // Out of file descriptors and the like: keep serving the open ones.
                tracing::warn!(error = %e, "TCP accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        }
    }
}

/// Queues `bytes` on a connection for `target`, opening one if needed.
pub(super) async fn send(
    shared: &Arc<Shared>,
    target: Target,
    bytes: Bytes,
) -> Result<ConnId, SendError> {
    let existing = {
        let conns = shared.conns();
        let id = target
            .conn
            .filter(|id| conns.by_id.contains_key(id))
            .or_else(|| conns.by_addr.get(&target.addr).copied());
        id.and_then(|id| conns.by_id.get(&id).map(|(_, tx)| (id, tx.clone())))
    };
    if let Some((id, tx)) = existing {
        match tx.send(bytes).await {
            Ok(()) => return Ok(id),
            // The connection just closed: fall through and open a new one.
            Err(mpsc::error::SendError(returned)) => {
                return connect_and_send(shared, target.addr, returned).await
            }
        }
    }
    connect_and_send(shared, target.addr, bytes).await
}

async fn connect_and_send(
    shared: &Arc<Shared>,
    addr: SocketAddr,
    bytes: Bytes,
) -> Result<ConnId, SendError> {
    let stream =
        match tokio::time::timeout(shared.config.connect_timeout, TcpStream::connect(addr)).await {
            Ok(Ok(stream)) => stream,
            Ok(Err(source)) => return Err(SendError::Connect { addr, source }),
            Err(_) => {
                return Err(SendError::Connect {
                    addr,
                    source: std::io::ErrorKind::TimedOut.into(),
                })
            }
        };
    let (id, tx) = register(shared, stream, addr);
    tx.send(bytes).await.map_err(|_| SendError::Closed(addr))?;
    Ok(id)
}

/// Records a new connection and spawns its task.
fn register(
    shared: &Arc<Shared>,
    stream: TcpStream,
    peer: SocketAddr,
) -> (ConnId, mpsc::Sender<Bytes>) {
    let id = shared.new_conn_id();
    let (tx, rx) = mpsc::channel(WRITE_QUEUE);
    {
        let mut conns = shared.conns();
        conns.by_id.insert(id, (peer, tx.clone()));
        conns.by_addr.insert(peer, id);
    }
    shared.connections_opened.fetch_add(1, Ordering::Relaxed);
    let _ = stream.set_nodelay(true);
    tokio::spawn(run_connection(shared.clone(), id, peer, stream, rx));
    (id, tx)
}

/// Why a connection ended.
enum Closed {
    Peer,
    Idle,
    Framing,
    Shutdown,
}

/// Reads and frames inbound messages, writes queued outbound ones, until close.
async fn run_connection(
    shared: Arc<Shared>,
    id: ConnId,
    peer: SocketAddr,
    mut stream: TcpStream,
    mut outbound: mpsc::Receiver<Bytes>,
) {
    let config = shared.config;
    let mut framer = Framer::new(config.max_header_bytes, config.max_body_bytes);
    let mut shutdown = shared.shutdown.subscribe();
    let idle = tokio::time::sleep(config.idle_timeout);
    tokio::pin!(idle);
    let closed = 'conn: loop {
        let buf = framer.buffer_mut();
        buf.reserve(4096);
        tokio::select! {
            read = stream.read_buf(buf) => {
                match read {
                    Ok(0) | Err(_) => break Closed::Peer,
                    Ok(_) => idle.as_mut().reset(Instant::now() + config.idle_timeout),
                }
                loop {
                    match framer.next_frame() {
                        Ok(None) => break,
                        Ok(Some(Frame::Ping)) => {
                            if stream.write_all(b"\r\n").await.is_err() {
                                break 'conn Closed::Peer;
                            }
                        }
                        Ok(Some(Frame::Message(bytes))) => {
                            let inbound = Inbound { bytes, source: peer, transport: TransportKind::Tcp, conn: Some(id) };
                            if shared.inbound.send(inbound).await.is_err() {
                                break 'conn Closed::Shutdown;
                            }
                        }
                        Err(e) => {
                            tracing::debug!(%peer, error = %e, "closing TCP connection with bad framing");
                            break 'conn Closed::Framing;
                        }
                    }
                }
            }
            message = outbound.recv() => {
                let Some(bytes) = message else { break Closed::Shutdown };
                if stream.write_all(&bytes).await.is_err() {
                    break Closed::Peer;
                }
                idle.as_mut().reset(Instant::now() + config.idle_timeout);
            }
            _ = &mut idle => break Closed::Idle,
            _ = stopped(&mut shutdown) => break Closed::Shutdown,
        }
    };
    match closed {
        Closed::Framing => {
            shared.framing_errors.fetch_add(1, Ordering::Relaxed);
        }
        Closed::Idle => {
            shared.idle_closed.fetch_add(1, Ordering::Relaxed);
        }
        Closed::Peer | Closed::Shutdown => {}
    }
    let mut conns = shared.conns();
    conns.by_id.remove(&id);
    if conns.by_addr.get(&peer) == Some(&id) {
        conns.by_addr.remove(&peer);
    }
}
