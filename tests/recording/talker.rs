//! The test's talkers: a tone sent as PCMU RTP every 20 ms from a thread, optionally impaired
//! (loss, reordering, silence suppression, clock drift), with digits sent as RFC 4733 events.

use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use hotline_media::g711::linear_to_ulaw;

use crate::support::rtp;

/// Sends a tone as PCMU every 20 ms until stopped; digits sent to it go out as RFC 4733 events.
pub struct Talker {
    stop: Arc<AtomicBool>,
    digits: mpsc::Sender<String>,
    thread: JoinHandle<()>,
}

impl Talker {
    /// A clean stream of `freq` Hz from `sock` to `to`.
    pub fn start(sock: UdpSocket, to: SocketAddr, freq: f64, ssrc: u32) -> Self {
        Self::impaired(sock, to, freq, ssrc, Impair::default())
    }

    /// A stream of `freq` Hz departing from a clean one as `impair` says.
    pub fn impaired(sock: UdpSocket, to: SocketAddr, freq: f64, ssrc: u32, impair: Impair) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let (digits, keyed) = mpsc::channel::<String>();
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let start = Instant::now();
            let mut slot: u32 = 0;
            let mut seq: u16 = 0;
            let mut events: Vec<Vec<u8>> = Vec::new();
            let mut held: Option<Vec<u8>> = None;
            let mut after_gap = false;
            while !flag.load(Ordering::SeqCst) {
                // The timestamp clock runs `drift_ppm` fast against the wall clock.
                let ts =
                    (u64::from(slot) * 160 * (1_000_000 + impair.drift_ppm) / 1_000_000) as u32;
                let slot_at = start + Duration::from_millis(20 * u64::from(slot));
                let packet = if !events.is_empty() {
                    events.remove(0)
                } else {
                    if let Ok(code) = keyed.try_recv() {
                        for d in code.chars() {
                            let event = match d {
                                '*' => 10,
                                '#' => 11,
                                d => d.to_digit(10).unwrap() as u8,
                            };
                            // Each event keeps its start timestamp; two silent slots apart.
                            let at = ts + events.len() as u32 * 160;
                            events.extend(dtmf(ssrc, at, event));
                            events.push(Vec::new());
                            events.push(Vec::new());
                        }
                    }
                    let mut sound = false;
                    let payload: Vec<u8> = (0..160u32)
                        .map(|i| {
                            let at = slot_at + Duration::from_micros(125 * u64::from(i));
                            if !impair.sounds(at) {
                                return linear_to_ulaw(0);
                            }
                            sound = true;
                            let n = f64::from(slot * 160 + i);
                            let v = (2.0 * std::f64::consts::PI * freq * n / 8000.0).sin();
                            linear_to_ulaw((v * 8000.0) as i16)
                        })
                        .collect();
                    if !sound && impair.suppress_silence {
                        after_gap = true;
                        Vec::new()
                    } else {
                        let mut p = rtp::packet(0, 0, ts, ssrc, &payload);
                        if std::mem::take(&mut after_gap) {
                            p[1] |= 0x80;
                        }
                        p
                    }
                };
                let lost = impair.lose_every > 0 && slot % impair.lose_every == 1;
                if !packet.is_empty() && !lost {
                    let mut p = packet;
                    p[2..4].copy_from_slice(&seq.to_be_bytes());
                    seq = seq.wrapping_add(1);
                    if impair.swap_every > 0
                        && slot.is_multiple_of(impair.swap_every)
                        && held.is_none()
                    {
                        // Sent after the next packet: reordered.
                        held = Some(p);
                    } else {
                        let _ = sock.send_to(&p, to);
                        if let Some(h) = held.take() {
                            let _ = sock.send_to(&h, to);
                        }
                    }
                }
                slot += 1;
                let due = start + Duration::from_millis(20 * u64::from(slot));
                if let Some(wait) = due.checked_duration_since(Instant::now()) {
                    std::thread::sleep(wait);
                }
            }
        });
        Talker {
            stop,
            digits,
            thread,
        }
    }

    /// Sends `code`'s digits as RFC 4733 events in the stream.
    pub fn key(&self, code: &str) {
        self.digits.send(code.to_string()).unwrap();
    }

    /// Stops sending and waits for the thread.
    pub fn stop(self) {
        self.stop.store(true, Ordering::SeqCst);
        self.thread.join().unwrap();
    }
}

/// How a talker's stream departs from a clean one.
#[derive(Clone, Copy, Default)]
pub struct Impair {
    /// Sound only in the first half of each second after this instant (both talkers share it).
    pub gate: Option<Instant>,
    /// No packets while silent (the timestamp jumps; marker on the next packet).
    pub suppress_silence: bool,
    /// Every this many packets one is lost (0: none).
    pub lose_every: u32,
    /// Every this many packets one goes out after the next (0: none).
    pub swap_every: u32,
    /// The RTP clock's error, parts per million.
    pub drift_ppm: u64,
}

impl Impair {
    /// Whether the talker makes sound at `at` (see `gate`).
    fn sounds(&self, at: Instant) -> bool {
        match self.gate {
            None => true,
            Some(epoch) => at
                .checked_duration_since(epoch)
                .is_some_and(|d| d.as_millis() % 1000 < 500),
        }
    }
}

/// An RFC 4733 event at `ts`: 5 updates (marker on the first) then 3 end packets.
fn dtmf(ssrc: u32, ts: u32, event: u8) -> Vec<Vec<u8>> {
    (0..8u16)
        .map(|i| {
            let end = i >= 5;
            let d = (160 * (i.min(5) + 1)).to_be_bytes();
            let payload = [event, if end { 0x8a } else { 0x0a }, d[0], d[1]];
            let mut p = rtp::packet(101, 0, ts, ssrc, &payload);
            if i == 0 {
                p[1] |= 0x80;
            }
            p
        })
        .collect()
}
