//! A raw SIP peer for tests that need byte-level control: hand-written requests over UDP, the
//! answers read back as text. Shared by the robustness and registration tests.
#![allow(dead_code, clippy::unwrap_used)]

use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// A SIP message as received, with light header access.
#[derive(Debug, Clone)]
pub struct Msg {
    /// The whole datagram as text (lossy).
    pub raw: String,
}

impl Msg {
    /// The status code, if this is a response.
    pub fn status(&self) -> Option<u16> {
        let line = self.raw.lines().next()?;
        let rest = line.strip_prefix("SIP/2.0 ")?;
        rest.get(..3)?.parse().ok()
    }

    /// The start line.
    pub fn start_line(&self) -> &str {
        self.raw.lines().next().unwrap_or_default()
    }

    /// Every value of a header (long or compact name, case-insensitive), one per header line.
    pub fn headers(&self, name: &str) -> Vec<String> {
        let compact = compact_form(name);
        let head = self.raw.split("\r\n\r\n").next().unwrap_or_default();
        head.split("\r\n")
            .skip(1)
            .filter_map(|l| l.split_once(':'))
            .filter(|(n, _)| {
                let n = n.trim();
                n.eq_ignore_ascii_case(name) || compact.is_some_and(|c| n.eq_ignore_ascii_case(c))
            })
            .map(|(_, v)| v.trim().to_string())
            .collect()
    }

    /// The first value of a header.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers(name).into_iter().next()
    }

    /// The Call-ID.
    pub fn call_id(&self) -> Option<String> {
        self.header("Call-ID")
    }

    /// The body.
    pub fn body(&self) -> &str {
        self.raw.split_once("\r\n\r\n").map_or("", |(_, b)| b)
    }
}

fn compact_form(name: &str) -> Option<&'static str> {
    Some(match name.to_ascii_lowercase().as_str() {
        "call-id" => "i",
        "contact" => "m",
        "content-length" => "l",
        "content-type" => "c",
        "from" => "f",
        "to" => "t",
        "via" => "v",
        "supported" => "k",
        _ => return None,
    })
}

static NEXT: AtomicU32 = AtomicU32::new(1);

/// A unique token for branches, tags and Call-IDs.
pub fn unique(prefix: &str) -> String {
    format!(
        "{prefix}{}x{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::SeqCst)
    )
}

/// A UDP SIP peer talking to one server.
pub struct Peer {
    /// Its socket.
    pub sock: UdpSocket,
    /// The server.
    pub server: SocketAddr,
}

impl Peer {
    /// A peer on a fresh port.
    pub fn new(server: SocketAddr) -> Self {
        let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
        Self { sock, server }
    }

    /// Its address.
    pub fn addr(&self) -> SocketAddr {
        self.sock.local_addr().unwrap()
    }

    /// Sends one datagram.
    pub fn send(&self, bytes: impl AsRef<[u8]>) {
        self.sock.send_to(bytes.as_ref(), self.server).unwrap();
    }

    /// The next datagram from the server, if one arrives within `timeout`.
    pub fn recv(&self, timeout: Duration) -> Option<Msg> {
        let deadline = Instant::now() + timeout;
        let mut buf = vec![0u8; 65536];
        loop {
            let left = deadline.checked_duration_since(Instant::now())?;
            if left.is_zero() {
                return None;
            }
            self.sock.set_read_timeout(Some(left)).unwrap();
            match self.sock.recv_from(&mut buf) {
                Ok((n, from)) if from == self.server => {
                    return Some(Msg {
                        raw: String::from_utf8_lossy(&buf[..n]).into_owned(),
                    })
                }
                Ok(_) => {}
                Err(_) => return None,
            }
        }
    }

    /// The next final (>= 200) response with `call_id`, skipping everything else.
    pub fn recv_final(&self, call_id: &str, timeout: Duration) -> Option<Msg> {
        self.recv_matching(timeout, |m| {
            m.status().is_some_and(|s| s >= 200) && m.call_id().as_deref() == Some(call_id)
        })
    }

    /// The next message matching `pred` within `timeout`.
    pub fn recv_matching(&self, timeout: Duration, pred: impl Fn(&Msg) -> bool) -> Option<Msg> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.checked_duration_since(Instant::now())?;
            let m = self.recv(left)?;
            if pred(&m) {
                return Some(m);
            }
        }
    }

    /// Sends a request and waits for its final response.
    pub fn transact(&self, req: &str) -> Option<Msg> {
        let call_id = Msg {
            raw: req.to_string(),
        }
        .call_id()
        .unwrap();
        self.send(req);
        self.recv_final(&call_id, Duration::from_secs(5))
    }

    /// Sends an OPTIONS and returns everything the server sent before that OPTIONS' 200.
    /// The server handles a peer's datagrams in order, so whatever it answered to earlier
    /// datagrams has arrived by then: an empty list means they were dropped.
    pub fn drain_with_probe(&self) -> Vec<Msg> {
        let probe = self.options();
        let call_id = unique("probe");
        let probe = probe.replace("{call_id}", &call_id);
        self.send(&probe);
        let mut before = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let left = deadline
                .checked_duration_since(Instant::now())
                .unwrap_or_default();
            let m = self
                .recv(left)
                .unwrap_or_else(|| panic!("server did not answer the OPTIONS probe"));
            if m.call_id().as_deref() == Some(call_id.as_str()) {
                assert_eq!(m.status(), Some(200), "probe answer: {}", m.raw);
                return before;
            }
            before.push(m);
        }
    }

    /// An OPTIONS with a `{call_id}` placeholder left in.
    fn options(&self) -> String {
        format!(
            "OPTIONS sip:{server} SIP/2.0\r\n\
             Via: SIP/2.0/UDP {me};branch={branch};rport\r\n\
             Max-Forwards: 70\r\n\
             From: <sip:probe@{me}>;tag={tag}\r\n\
             To: <sip:{server}>\r\n\
             Call-ID: {{call_id}}\r\n\
             CSeq: 1 OPTIONS\r\n\
             Content-Length: 0\r\n\r\n",
            server = self.server,
            me = self.addr(),
            branch = unique("z9hG4bKp"),
            tag = unique("t"),
        )
    }

    /// A request from this peer: Via, From, To, Call-ID, CSeq, Max-Forwards, then `extra`
    /// header lines (each ending in CRLF), Content-Length and `body`.
    pub fn request(&self, r: &Req<'_>) -> String {
        let branch = r.branch.map_or_else(|| unique("z9hG4bK"), str::to_string);
        let to_tag = r.to_tag.map(|t| format!(";tag={t}")).unwrap_or_default();
        format!(
            "{method} {uri} SIP/2.0\r\n\
             Via: SIP/2.0/UDP {me};branch={branch};rport\r\n\
             Max-Forwards: {mf}\r\n\
             From: <sip:caller@{me}>;tag={from_tag}\r\n\
             To: <{to}>{to_tag}\r\n\
             Call-ID: {call_id}\r\n\
             CSeq: {cseq} {cseq_method}\r\n\
             {extra}Content-Length: {len}\r\n\r\n{body}",
            method = r.method,
            uri = r.uri,
            me = self.addr(),
            mf = r.max_forwards,
            from_tag = r.from_tag,
            to = r.to.unwrap_or(r.uri),
            call_id = r.call_id,
            cseq = r.cseq,
            cseq_method = r.cseq_method.unwrap_or(r.method),
            extra = r.extra,
            len = r.body.len(),
            body = r.body,
        )
    }
}

/// The parts of a hand-built request.
#[derive(Clone)]
pub struct Req<'a> {
    /// Method.
    pub method: &'a str,
    /// Request-URI.
    pub uri: &'a str,
    /// To URI (the Request-URI when `None`).
    pub to: Option<&'a str>,
    /// To tag (in-dialog requests).
    pub to_tag: Option<&'a str>,
    /// From tag.
    pub from_tag: &'a str,
    /// Call-ID.
    pub call_id: &'a str,
    /// CSeq number.
    pub cseq: u32,
    /// CSeq method (the method when `None`).
    pub cseq_method: Option<&'a str>,
    /// Via branch (fresh when `None`).
    pub branch: Option<&'a str>,
    /// Max-Forwards.
    pub max_forwards: u32,
    /// Extra header lines, each ending in CRLF.
    pub extra: &'a str,
    /// Body.
    pub body: &'a str,
}

impl Default for Req<'_> {
    fn default() -> Self {
        Self {
            method: "OPTIONS",
            uri: "sip:hotline@127.0.0.1",
            to: None,
            to_tag: None,
            from_tag: "caller1",
            call_id: "call-1",
            cseq: 1,
            cseq_method: None,
            branch: None,
            max_forwards: 70,
            extra: "",
            body: "",
        }
    }
}

/// A minimal PCMU audio offer for a caller whose RTP goes to `rtp_port`.
pub fn sdp_offer(rtp_port: u16) -> String {
    format!(
        "v=0\r\n\
         o=- 1 1 IN IP4 127.0.0.1\r\n\
         s=-\r\n\
         c=IN IP4 127.0.0.1\r\n\
         t=0 0\r\n\
         m=audio {rtp_port} RTP/AVP 0 101\r\n\
         a=rtpmap:0 PCMU/8000\r\n\
         a=rtpmap:101 telephone-event/8000\r\n\
         a=fmtp:101 0-16\r\n\
         a=sendrecv\r\n"
    )
}

/// The value of a Prometheus counter summed over its labels, from `/metrics` text.
pub fn metric_sum(metrics: &str, name: &str) -> f64 {
    metrics
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter(|l| {
            l.strip_prefix(name)
                .is_some_and(|rest| rest.starts_with('{') || rest.starts_with(' '))
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}
