//! Transport tests over real loopback sockets.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};

use super::*;

const MSG: &[u8] = b"OPTIONS sip:a@b SIP/2.0\r\nVia: x\r\nContent-Length: 4\r\n\r\nbody";
const WAIT: Duration = Duration::from_secs(5);

fn loopback() -> SocketAddr {
    SocketAddr::from((Ipv4Addr::LOCALHOST, 0))
}

async fn bind(config: TransportConfig) -> Transport {
    Transport::bind(loopback(), config)
        .await
        .expect("bind loopback")
}

async fn next(transport: &mut Transport) -> Inbound {
    tokio::time::timeout(WAIT, transport.recv())
        .await
        .expect("message in time")
        .expect("transport open")
}

/// Reads from `stream` until `want` bytes arrived.
async fn read_exactly(stream: &mut TcpStream, want: usize) -> Vec<u8> {
    let mut buf = vec![0u8; want];
    tokio::time::timeout(WAIT, stream.read_exact(&mut buf))
        .await
        .expect("reply in time")
        .expect("read");
    buf
}

/// True once the peer closed `stream`.
async fn closed_by_peer(stream: &mut TcpStream) -> bool {
    closed_within(stream, WAIT).await
}

/// True if the peer closes `stream` within `wait`.
async fn closed_within(stream: &mut TcpStream, wait: Duration) -> bool {
    let mut buf = [0u8; 64];
    loop {
        match tokio::time::timeout(wait, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => continue,
            Err(_) => return false,
        }
    }
}

#[tokio::test]
async fn binds_udp_and_tcp_on_the_same_port() {
    let transport = bind(TransportConfig::default()).await;
    let addr = transport.local_addr();
    assert_ne!(addr.port(), 0);
    // Both protocols answer on that port.
    TcpStream::connect(addr).await.expect("TCP listening");
    assert!(UdpSocket::bind(addr).await.is_err(), "UDP port in use");
}

#[tokio::test]
async fn udp_roundtrip() {
    let mut transport = bind(TransportConfig::default()).await;
    let peer = UdpSocket::bind(loopback()).await.expect("peer socket");
    peer.send_to(MSG, transport.local_addr())
        .await
        .expect("send");
    let inbound = next(&mut transport).await;
    assert_eq!(&inbound.bytes[..], MSG);
    assert_eq!(inbound.transport, TransportKind::Udp);
    assert_eq!(inbound.conn, None);
    assert_eq!(inbound.source, peer.local_addr().expect("peer addr"));
    let sent = transport
        .handle()
        .send(Target::reply_to(&inbound), Bytes::from_static(b"reply"))
        .await
        .expect("udp send");
    assert_eq!(sent, None);
    let mut buf = [0u8; 64];
    let (n, from) = tokio::time::timeout(WAIT, peer.recv_from(&mut buf))
        .await
        .expect("reply in time")
        .expect("recv");
    assert_eq!(&buf[..n], b"reply");
    assert_eq!(from, transport.local_addr());
}

#[tokio::test]
async fn udp_keepalives_are_dropped() {
    let mut transport = bind(TransportConfig::default()).await;
    let peer = UdpSocket::bind(loopback()).await.expect("peer socket");
    peer.send_to(b"\r\n\r\n", transport.local_addr())
        .await
        .expect("send");
    peer.send_to(MSG, transport.local_addr())
        .await
        .expect("send");
    assert_eq!(&next(&mut transport).await.bytes[..], MSG);
}

#[tokio::test]
async fn tcp_two_messages_in_one_write() {
    let mut transport = bind(TransportConfig::default()).await;
    let mut client = TcpStream::connect(transport.local_addr())
        .await
        .expect("connect");
    client.write_all(&[MSG, MSG].concat()).await.expect("write");
    let first = next(&mut transport).await;
    let second = next(&mut transport).await;
    assert_eq!(&first.bytes[..], MSG);
    assert_eq!(&second.bytes[..], MSG);
    assert_eq!(first.transport, TransportKind::Tcp);
    assert!(first.conn.is_some());
    assert_eq!(first.conn, second.conn);
}

#[tokio::test]
async fn tcp_message_split_across_writes() {
    let mut transport = bind(TransportConfig::default()).await;
    let mut client = TcpStream::connect(transport.local_addr())
        .await
        .expect("connect");
    client.set_nodelay(true).expect("nodelay");
    let (head, tail) = MSG.split_at(30);
    client.write_all(b"\r\n").await.expect("write");
    client.write_all(head).await.expect("write");
    client.flush().await.expect("flush");
    tokio::task::yield_now().await;
    client.write_all(tail).await.expect("write");
    assert_eq!(&next(&mut transport).await.bytes[..], MSG);
}

#[tokio::test]
async fn tcp_reply_goes_over_the_same_connection() {
    let mut transport = bind(TransportConfig::default()).await;
    let mut client = TcpStream::connect(transport.local_addr())
        .await
        .expect("connect");
    client.write_all(MSG).await.expect("write");
    let inbound = next(&mut transport).await;
    let handle = transport.handle();
    let used = handle
        .send(
            Target::reply_to(&inbound),
            Bytes::from_static(b"SIP/2.0 200 OK\r\n\r\n"),
        )
        .await
        .expect("tcp send");
    assert_eq!(used, inbound.conn);
    assert_eq!(
        read_exactly(&mut client, 18).await,
        b"SIP/2.0 200 OK\r\n\r\n"
    );
    // Without the ConnId, the connection is found by peer address.
    let by_addr = Target {
        conn: None,
        ..Target::reply_to(&inbound)
    };
    assert_eq!(
        handle
            .send(by_addr, Bytes::from_static(b"again"))
            .await
            .expect("send"),
        inbound.conn
    );
    assert_eq!(read_exactly(&mut client, 5).await, b"again");
    assert_eq!(handle.connection_count(), 1);
}

#[tokio::test]
async fn tcp_opens_a_connection_when_none_exists() {
    let a = bind(TransportConfig::default()).await;
    let mut b = bind(TransportConfig::default()).await;
    let target = Target {
        addr: b.local_addr(),
        transport: TransportKind::Tcp,
        conn: None,
    };
    let conn = a
        .handle()
        .send(target, Bytes::from_static(MSG))
        .await
        .expect("connect and send");
    assert!(conn.is_some());
    let at_b = next(&mut b).await;
    assert_eq!(&at_b.bytes[..], MSG);
    // B answers over the connection A opened; A receives it on that connection.
    b.handle()
        .send(Target::reply_to(&at_b), Bytes::from_static(MSG))
        .await
        .expect("reply");
    let mut a = a;
    let at_a = next(&mut a).await;
    assert_eq!(at_a.conn, conn);
    assert_eq!(at_a.source, b.local_addr());
    // A second send reuses the connection.
    assert_eq!(
        a.handle()
            .send(target, Bytes::from_static(MSG))
            .await
            .expect("send"),
        conn
    );
    assert_eq!(a.handle().stats().connections_opened, 1);
}

#[tokio::test]
async fn tcp_ping_gets_pong() {
    let transport = bind(TransportConfig::default()).await;
    let mut client = TcpStream::connect(transport.local_addr())
        .await
        .expect("connect");
    client.write_all(b"\r\n\r\n").await.expect("write");
    assert_eq!(read_exactly(&mut client, 2).await, b"\r\n");
}

#[tokio::test]
async fn oversize_header_closes_the_connection() {
    let config = TransportConfig {
        max_header_bytes: 256,
        ..TransportConfig::default()
    };
    let transport = bind(config).await;
    let mut client = TcpStream::connect(transport.local_addr())
        .await
        .expect("connect");
    client.write_all(&[b'a'; 1024]).await.expect("write");
    assert!(closed_by_peer(&mut client).await);
    assert_eq!(transport.handle().stats().framing_errors, 1);
}

#[tokio::test]
async fn oversize_body_and_bad_length_close_the_connection() {
    let config = TransportConfig {
        max_body_bytes: 8,
        ..TransportConfig::default()
    };
    let transport = bind(config).await;
    let mut bad = TcpStream::connect(transport.local_addr())
        .await
        .expect("connect");
    bad.write_all(b"BYE sip:x SIP/2.0\r\nContent-Length: many\r\n\r\n")
        .await
        .expect("write");
    assert!(closed_by_peer(&mut bad).await);
    let mut huge = TcpStream::connect(transport.local_addr())
        .await
        .expect("connect");
    huge.write_all(b"BYE sip:x SIP/2.0\r\nContent-Length: 9\r\n\r\n")
        .await
        .expect("write");
    assert!(closed_by_peer(&mut huge).await);
    assert_eq!(transport.handle().stats().framing_errors, 2);
}

#[tokio::test(start_paused = true)]
async fn idle_connections_are_closed() {
    let config = TransportConfig {
        idle_timeout: Duration::from_secs(60),
        ..TransportConfig::default()
    };
    let transport = bind(config).await;
    let mut client = TcpStream::connect(transport.local_addr())
        .await
        .expect("connect");
    // With the clock paused, the runtime jumps to the idle deadline once every task waits.
    assert!(closed_within(&mut client, Duration::from_secs(120)).await);
    assert_eq!(transport.handle().stats().idle_closed, 1);
}

#[tokio::test]
async fn shutdown_closes_connections_and_refuses_sends() {
    let mut transport = bind(TransportConfig::default()).await;
    let mut client = TcpStream::connect(transport.local_addr())
        .await
        .expect("connect");
    client.write_all(MSG).await.expect("write");
    next(&mut transport).await;
    let handle = transport.handle();
    handle.shutdown();
    assert!(closed_by_peer(&mut client).await);
    let target = Target {
        addr: transport.local_addr(),
        transport: TransportKind::Udp,
        conn: None,
    };
    assert!(matches!(
        handle.send(target, Bytes::new()).await,
        Err(SendError::Shutdown)
    ));
}
