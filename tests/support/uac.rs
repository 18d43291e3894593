//! A minimal SIP caller over UDP driven from a test: exact SDP, raw responses, hotline's BYE
//! answered. Used where a SIPp scenario would hide what the test checks.

use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

/// A SIP message received by the test caller.
pub struct Sip {
    /// The start line.
    pub start: String,
    /// Header names (lower case) and values, in order.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: String,
}

impl Sip {
    /// Parses a datagram.
    pub fn parse(b: &[u8]) -> Option<Sip> {
        let text = String::from_utf8_lossy(b);
        let (head, body) = text.split_once("\r\n\r\n")?;
        let mut lines = head.split("\r\n");
        let start = lines.next()?.to_string();
        let headers = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        Some(Sip {
            start,
            headers,
            body: body.to_string(),
        })
    }

    /// The status code of a response.
    pub fn status(&self) -> Option<u16> {
        self.start
            .strip_prefix("SIP/2.0 ")
            .and_then(|s| s.get(..3))
            .and_then(|s| s.parse().ok())
    }

    /// The first header named `name` (full form, any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The CSeq number.
    pub fn cseq(&self) -> Option<u32> {
        self.header("cseq")?.split_whitespace().next()?.parse().ok()
    }

    /// The RTP address of the SDP body (c= line address, m=audio port).
    pub fn sdp_rtp(&self) -> SocketAddr {
        let port = self
            .body
            .lines()
            .find_map(|l| l.strip_prefix("m=audio "))
            .and_then(|l| l.split_whitespace().next())
            .and_then(|p| p.parse::<u16>().ok())
            .unwrap_or_else(|| panic!("no m=audio in:\n{}", self.body));
        let ip = self
            .body
            .lines()
            .find_map(|l| l.strip_prefix("c=IN IP4 "))
            .unwrap_or("127.0.0.1")
            .trim();
        format!("{ip}:{port}").parse().unwrap()
    }

    /// The m=audio line.
    pub fn m_line(&self) -> &str {
        self.body
            .lines()
            .find(|l| l.starts_with("m=audio"))
            .unwrap_or("")
    }
}

/// A unique token (Call-ID, tag, branch) with `prefix`.
pub fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{prefix}{:x}{:x}", std::process::id(), nanos)
}

/// A minimal UAC over UDP: one dialog, requests sent once (loopback does not lose datagrams),
/// BYE from hotline answered with 200.
pub struct Uac {
    sock: UdpSocket,
    server: SocketAddr,
    local: SocketAddr,
    call_id: String,
    from_tag: String,
    /// The To header of the dialog (with hotline's tag once answered).
    to: String,
    /// Where in-dialog requests go (hotline's Contact).
    target: String,
    cseq: u32,
    /// BYE requests hotline sent us.
    pub byes: u32,
}

impl Uac {
    /// A caller about to dial `number` at `server`.
    pub fn new(server: SocketAddr, number: &str) -> Self {
        let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
        let local = sock.local_addr().unwrap();
        Self {
            sock,
            server,
            local,
            call_id: unique("media-"),
            from_tag: unique("t"),
            to: format!("<sip:{number}@{server}>"),
            target: format!("sip:{number}@{server}"),
            cseq: 0,
            byes: 0,
        }
    }

    fn send(&self, text: &str) {
        self.sock.send_to(text.as_bytes(), self.server).unwrap();
    }

    fn request(&self, method: &str, cseq: u32, branch: &str, body: Option<&str>) -> String {
        let mut m = format!(
            "{method} {target} SIP/2.0\r\n\
             Via: SIP/2.0/UDP {local};branch={branch};rport\r\n\
             From: \"Customer\" <sip:5551234@{local}>;tag={tag}\r\n\
             To: {to}\r\n\
             Call-ID: {cid}\r\n\
             CSeq: {cseq} {method}\r\n\
             Contact: <sip:5551234@{local}>\r\n\
             Max-Forwards: 70\r\n",
            target = self.target,
            local = self.local,
            tag = self.from_tag,
            to = self.to,
            cid = self.call_id,
        );
        match body {
            Some(b) => m.push_str(&format!(
                "Content-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{b}",
                b.len()
            )),
            None => m.push_str("Content-Length: 0\r\n\r\n"),
        }
        m
    }

    /// Receives one message within `timeout`, answering requests from hotline on the way.
    pub fn recv(&mut self, timeout: Duration) -> Option<Sip> {
        let deadline = Instant::now() + timeout;
        let mut buf = [0u8; 8192];
        loop {
            let left = deadline.checked_duration_since(Instant::now())?;
            self.sock
                .set_read_timeout(Some(left.max(Duration::from_millis(1))))
                .unwrap();
            let Ok((n, _)) = self.sock.recv_from(&mut buf) else {
                continue;
            };
            let Some(msg) = Sip::parse(&buf[..n]) else {
                continue;
            };
            if msg.status().is_none() {
                if msg.start.starts_with("BYE ") {
                    self.byes += 1;
                }
                if !msg.start.starts_with("ACK ") {
                    let mut ok = String::from("SIP/2.0 200 OK\r\n");
                    for h in ["via", "from", "to", "call-id", "cseq"] {
                        if let Some(v) = msg.header(h) {
                            ok.push_str(&format!("{h}: {v}\r\n"));
                        }
                    }
                    ok.push_str("Content-Length: 0\r\n\r\n");
                    self.send(&ok);
                }
            }
            return Some(msg);
        }
    }

    /// Waits for the final response to request `cseq`.
    pub fn final_response(&mut self, cseq: u32) -> Sip {
        let deadline = Instant::now() + Duration::from_secs(10);
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            if let Some(m) = self.recv(left) {
                if m.status().is_some_and(|s| s >= 200) && m.cseq() == Some(cseq) {
                    return m;
                }
            }
        }
        panic!("no final response to CSeq {cseq}");
    }

    /// Sends an INVITE (initial or re-INVITE) and returns its final response; a 2xx is ACKed
    /// (with `ack_body` when given: the answer to a late offer); a non-2xx too.
    pub fn invite(&mut self, sdp: Option<&str>, ack_body: Option<&str>) -> Sip {
        self.cseq += 1;
        let cseq = self.cseq;
        let branch = unique("z9hG4bK");
        self.send(&self.request("INVITE", cseq, &branch, sdp));
        let resp = self.final_response(cseq);
        if resp.status().is_some_and(|s| s < 300) {
            if let Some(to) = resp.header("to") {
                self.to = to.to_string();
            }
            if let Some(c) = resp.header("contact") {
                let c = c.trim_start_matches('<');
                self.target = c.split('>').next().unwrap_or(c).to_string();
            }
            let ack = self.request("ACK", cseq, &unique("z9hG4bK"), ack_body);
            self.send(&ack);
        } else {
            // A non-2xx ACK is hop by hop: same branch, To from the response.
            let to = resp.header("to").unwrap_or_default().to_string();
            let saved = std::mem::replace(&mut self.to, to);
            let ack = self.request("ACK", cseq, &branch, None);
            self.to = saved;
            self.send(&ack);
        }
        resp
    }

    /// Hangs up and waits for the 200.
    pub fn bye(&mut self) {
        self.cseq += 1;
        let cseq = self.cseq;
        self.send(&self.request("BYE", cseq, &unique("z9hG4bK"), None));
        let resp = self.final_response(cseq);
        assert_eq!(resp.status(), Some(200), "BYE answered {}", resp.start);
    }
}
