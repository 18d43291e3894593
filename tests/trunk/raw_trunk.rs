//! A SIP trunk played by the test over UDP: receives requests and answers them exactly as the
//! test says (provisional, 503 with Retry-After, busy), so it can also prove what never arrived.

use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use crate::support::uac::Sip;

/// The test's trunk gateway.
pub struct RawTrunk {
    sock: UdpSocket,
    /// Its address (the trunk's `gateway`).
    pub addr: SocketAddr,
}

impl RawTrunk {
    /// Binds 127.0.0.1 on a free port.
    pub fn bind() -> RawTrunk {
        let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
        let addr = sock.local_addr().unwrap();
        RawTrunk { sock, addr }
    }

    /// The next request (responses are skipped); `None` when nothing came within `timeout`.
    pub fn recv(&self, timeout: Duration) -> Option<(Sip, SocketAddr)> {
        let deadline = Instant::now() + timeout;
        let mut buf = [0u8; 8192];
        loop {
            let left = deadline.checked_duration_since(Instant::now())?;
            self.sock
                .set_read_timeout(Some(left.max(Duration::from_millis(1))))
                .unwrap();
            let Ok((n, from)) = self.sock.recv_from(&mut buf) else {
                continue;
            };
            if let Some(msg) = Sip::parse(&buf[..n]) {
                if msg.status().is_none() {
                    return Some((msg, from));
                }
            }
        }
    }

    /// Waits for a request whose start line begins with `method`, ignoring others.
    pub fn expect(&self, method: &str, timeout: Duration) -> (Sip, SocketAddr) {
        let deadline = Instant::now() + timeout;
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            if let Some((m, from)) = self.recv(left) {
                if m.start.starts_with(&format!("{method} ")) {
                    return (m, from);
                }
            }
        }
        panic!("the trunk received no {method}");
    }

    /// Answers `req` with `status` and extra header lines; To gets `tag` when it has none.
    pub fn respond(&self, req: &Sip, to: SocketAddr, status: &str, extra: &[&str]) {
        let mut r = format!("SIP/2.0 {status}\r\n");
        for h in ["via", "from", "call-id", "cseq"] {
            if let Some(v) = req.header(h) {
                r.push_str(&format!("{h}: {v}\r\n"));
            }
        }
        let to_value = req.header("to").unwrap_or_default();
        if to_value.contains("tag=") {
            r.push_str(&format!("to: {to_value}\r\n"));
        } else {
            r.push_str(&format!("to: {to_value};tag=trunk1\r\n"));
        }
        for line in extra {
            r.push_str(line);
            r.push_str("\r\n");
        }
        r.push_str("Content-Length: 0\r\n\r\n");
        self.sock.send_to(r.as_bytes(), to).unwrap();
    }

    /// Answers `invite` 200 with SDP (PCMU at `rtp_port`) and a Contact.
    pub fn answer(&self, invite: &Sip, to: SocketAddr, rtp_port: u16) {
        let sdp = format!(
            "v=0\r\no=gw 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
             m=audio {rtp_port} RTP/AVP 0\r\na=sendrecv\r\n"
        );
        let mut r = String::from("SIP/2.0 200 OK\r\n");
        for h in ["via", "from", "call-id", "cseq"] {
            if let Some(v) = invite.header(h) {
                r.push_str(&format!("{h}: {v}\r\n"));
            }
        }
        let to_value = invite.header("to").unwrap_or_default();
        r.push_str(&format!(
            "to: {to_value};tag=trunk1\r\nContact: <sip:gw@{}>\r\n\
             Content-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{sdp}",
            self.addr,
            sdp.len()
        ));
        self.sock.send_to(r.as_bytes(), to).unwrap();
    }

    /// Hangs up the dialog `invite` created once answered by [`RawTrunk::answer`].
    pub fn bye(&self, invite: &Sip, to: SocketAddr) {
        let contact = invite.header("contact").unwrap_or_default();
        let target = contact
            .trim_start_matches('<')
            .split('>')
            .next()
            .unwrap_or_default();
        let bye = format!(
            "BYE {target} SIP/2.0\r\nVia: SIP/2.0/UDP {addr};branch=z9hG4bKtrunkbye\r\n\
             From: {from};tag=trunk1\r\nTo: {to_hdr}\r\nCall-ID: {cid}\r\nCSeq: 1 BYE\r\n\
             Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
            addr = self.addr,
            from = invite.header("to").unwrap_or_default(),
            to_hdr = invite.header("from").unwrap_or_default(),
            cid = invite.header("call-id").unwrap_or_default(),
        );
        self.sock.send_to(bye.as_bytes(), to).unwrap();
    }

    /// Whether any datagram is waiting or arrives within `wait`.
    pub fn anything_within(&self, wait: Duration) -> bool {
        self.sock.set_read_timeout(Some(wait)).unwrap();
        let mut buf = [0u8; 8192];
        self.sock.recv_from(&mut buf).is_ok()
    }
}
