//! A DNS server the test runs on 127.0.0.1: answers SRV and A queries from a fixed table and
//! NXDOMAIN for the rest, and reports every question it was asked.

use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::sync::mpsc;

/// One record of the table.
pub enum Answer {
    /// `_sip._udp.<domain>` SRV: priority, weight, port, target.
    Srv(u16, u16, u16, &'static str),
    /// An A record.
    A(Ipv4Addr),
}

/// A running fake DNS server.
pub struct FakeDns {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Questions asked: (name, type code).
    pub asked: mpsc::Receiver<(String, u16)>,
}

fn encode_name(out: &mut Vec<u8>, name: &str) {
    for label in name.split('.') {
        out.push(u8::try_from(label.len()).unwrap());
        out.extend_from_slice(label.as_bytes());
    }
    out.push(0);
}

/// Reads the question's name and type (no compression in queries).
fn question(msg: &[u8]) -> Option<(String, u16, usize)> {
    let mut pos = 12;
    let mut labels = Vec::new();
    loop {
        let len = usize::from(*msg.get(pos)?);
        if len == 0 {
            break;
        }
        labels.push(String::from_utf8_lossy(msg.get(pos + 1..pos + 1 + len)?).into_owned());
        pos += 1 + len;
    }
    let qtype = u16::from_be_bytes([*msg.get(pos + 1)?, *msg.get(pos + 2)?]);
    Some((labels.join(".").to_ascii_lowercase(), qtype, pos + 5))
}

impl FakeDns {
    /// Starts it with `table`: (owner name, record).
    pub fn start(table: Vec<(&'static str, Answer)>) -> FakeDns {
        let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
        let addr = sock.local_addr().unwrap();
        let (tx, asked) = mpsc::channel();
        std::thread::spawn(move || {
            let mut buf = [0u8; 512];
            loop {
                let Ok((n, from)) = sock.recv_from(&mut buf) else {
                    return;
                };
                let Some((name, qtype, end)) = question(&buf[..n]) else {
                    continue;
                };
                let _ = tx.send((name.clone(), qtype));
                let mut answers = Vec::new();
                for (owner, record) in &table {
                    if *owner != name {
                        continue;
                    }
                    let mut rr = Vec::new();
                    rr.extend_from_slice(&[0xc0, 12]); // the question's name
                    match record {
                        Answer::Srv(priority, weight, port, target) if qtype == 33 => {
                            let mut data = Vec::new();
                            data.extend_from_slice(&priority.to_be_bytes());
                            data.extend_from_slice(&weight.to_be_bytes());
                            data.extend_from_slice(&port.to_be_bytes());
                            encode_name(&mut data, target);
                            rr.extend_from_slice(&33u16.to_be_bytes());
                            rr.extend_from_slice(&[0, 1, 0, 0, 0, 60]);
                            rr.extend_from_slice(&u16::try_from(data.len()).unwrap().to_be_bytes());
                            rr.extend_from_slice(&data);
                        }
                        Answer::A(ip) if qtype == 1 => {
                            rr.extend_from_slice(&1u16.to_be_bytes());
                            rr.extend_from_slice(&[0, 1, 0, 0, 0, 60, 0, 4]);
                            rr.extend_from_slice(&ip.octets());
                        }
                        _ => continue,
                    }
                    answers.push(rr);
                }
                let mut out = buf[..end].to_vec();
                out[2] = 0x81; // response, recursion desired
                out[3] = if answers.is_empty() { 0x83 } else { 0x80 }; // NXDOMAIN when nothing
                out[6..8].copy_from_slice(&u16::try_from(answers.len()).unwrap().to_be_bytes());
                out[8..12].copy_from_slice(&[0, 0, 0, 0]);
                for a in answers {
                    out.extend_from_slice(&a);
                }
                let _ = sock.send_to(&out, from);
            }
        });
        FakeDns { addr, asked }
    }
}
