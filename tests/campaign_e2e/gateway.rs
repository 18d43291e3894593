//! The PSTN behind hotline's trunk: one SIPp (tests/sipp/pstn_gateway.xml) answers each INVITE
//! by the number dialed (busy, invalid, never answered, a person, a voicemail, a survey's
//! customer), and a media thread of the test plays what the answering party says and records
//! what hotline sends it.
//!
//! Why one SIPp and not one per behaviour: hotline's trunk has one gateway address, and a
//! single UAS scenario can branch on the Request-URI user; the numbers of each behaviour are
//! regular expressions filled into the scenario. The answer's SDP points at the media thread's
//! socket, which hotline latches on (symmetric RTP) once the party speaks; packets from hotline
//! are told apart by their source port, the port of the call's leg in the INVITE's SDP, which
//! SIPp writes to its log with the answer.

use std::collections::BTreeMap;
use std::net::{SocketAddr, UdpSocket};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::audio::{self, Script, SILENCE};
use crate::support::poll_until;
use crate::support::rtp::{self, Rtp};
use crate::support::sipp::{RunningSipp, Sipp, SippRun};

/// PCMA's payload type.
pub const PCMA: u8 = 8;
/// telephone-event's payload type in the gateway's answer.
pub const EVENT_PT: u8 = 101;

/// The numbers of each behaviour (E.164, `+` included).
#[derive(Debug, Clone, Default)]
pub struct Numbers {
    /// 486 Busy Here.
    pub busy: Vec<String>,
    /// 404 Not Found.
    pub invalid: Vec<String>,
    /// Ring until hotline cancels.
    pub no_answer: Vec<String>,
    /// Answered by a person, who hangs up `talk_ms` after the answer if hotline has not.
    pub talkers: Vec<String>,
    /// Answered, hotline hangs up (voicemails, survey customers); what each says.
    pub scripts: BTreeMap<String, Script>,
}

/// How the gateway behaves.
pub struct Setup {
    /// Who is who.
    pub numbers: Numbers,
    /// What each person (`talkers`) says.
    pub talker_scripts: BTreeMap<String, Script>,
    /// Ringing before an answer, ms.
    pub ring_ms: u64,
    /// A person hangs up this long after the answer, ms.
    pub talk_ms: u64,
    /// Longest wait for hotline's BYE on other answered calls, ms.
    pub wait_bye_ms: u64,
}

/// One line of the gateway's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// invite, answer, cancel, bye_in, bye_out.
    pub what: String,
    /// The number dialed.
    pub number: String,
    /// Unix ms.
    pub at_ms: i64,
    /// Hotline's RTP port (answer).
    pub port: Option<u16>,
}

/// What the media thread received from hotline, per hotline RTP port, and when each call was
/// answered (when the thread saw the answer in the log, within 10 ms of the ACK).
#[derive(Default)]
struct Media {
    heard: BTreeMap<u16, Vec<(Instant, Rtp)>>,
    answered: BTreeMap<u16, Instant>,
}

type Heard = Arc<Mutex<Media>>;

/// The running gateway.
pub struct Gateway {
    sipp: Option<RunningSipp>,
    log: PathBuf,
    heard: Heard,
    stop: Arc<AtomicBool>,
    media: Option<JoinHandle<()>>,
    _dir: tempfile::TempDir,
}

/// A regular expression matching exactly these numbers (one that matches nothing if none).
fn alternatives(numbers: &[String]) -> String {
    if numbers.is_empty() {
        return "NONE".into();
    }
    numbers
        .iter()
        .map(|n| n.replace('+', "\\+"))
        .collect::<Vec<_>>()
        .join("|")
}

/// The gateway's SIP address once it runs: build the SIPp first, read its port, start it later.
pub struct Pending {
    sipp: Sipp,
    setup: Setup,
    socket: UdpSocket,
    log: PathBuf,
    dir: tempfile::TempDir,
}

impl Pending {
    /// The gateway's SIPp, not started yet (its address goes into hotline's trunk).
    pub fn new(setup: Setup) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("gateway.log");
        std::fs::write(&log, "").unwrap();
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        let n = &setup.numbers;
        let sipp = Sipp::new("pstn_gateway.xml", "127.0.0.1:5060".parse().unwrap())
            .var("busy_re", alternatives(&n.busy))
            .var("invalid_re", alternatives(&n.invalid))
            .var("noanswer_re", alternatives(&n.no_answer))
            .var("talker_re", alternatives(&n.talkers))
            .var("cancel_within_ms", 90_000)
            .var("ring_ms", setup.ring_ms)
            .var("talk_ms", setup.talk_ms)
            .var("wait_bye_ms", setup.wait_bye_ms)
            .key("gw_rtp_port", socket.local_addr().unwrap().port())
            .key("log_file", log.display())
            .args(&["-timeout", "300s"]);
        Self {
            sipp,
            setup,
            socket,
            log,
            dir,
        }
    }

    /// Where hotline's trunk sends its INVITEs.
    pub fn address(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.sipp.port))
    }

    /// Starts SIPp and the media thread.
    pub fn spawn(self) -> Gateway {
        let sipp = self.sipp.spawn();
        let heard: Heard = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let mut scripts = self.setup.numbers.scripts.clone();
        scripts.extend(self.setup.talker_scripts.clone());
        let media = {
            let heard = heard.clone();
            let stop = stop.clone();
            let log = self.log.clone();
            let socket = self.socket;
            std::thread::spawn(move || media_loop(&socket, &log, &scripts, &heard, &stop))
        };
        Gateway {
            sipp: Some(sipp),
            log: self.log,
            heard,
            stop,
            media: Some(media),
            _dir: self.dir,
        }
    }
}

impl Gateway {
    /// Every step logged so far.
    pub fn steps(&self) -> Vec<Step> {
        read_log(&self.log)
    }

    /// The numbers INVITEd, in order, with their times.
    pub fn invites(&self) -> Vec<Step> {
        self.steps()
            .into_iter()
            .filter(|s| s.what == "invite")
            .collect()
    }

    /// The INVITEs of one number.
    pub fn invites_of(&self, number: &str) -> Vec<Step> {
        self.invites()
            .into_iter()
            .filter(|s| s.number == number)
            .collect()
    }

    /// Waits until a step `what` of `number` is logged (the `nth`, from 1); returns it.
    pub fn wait_step(&self, what: &str, number: &str, nth: usize, timeout: Duration) -> Step {
        let mut found = None;
        poll_until(timeout, || {
            found = self
                .steps()
                .into_iter()
                .filter(|s| s.what == what && s.number == number)
                .nth(nth - 1);
            found.is_some()
        });
        found.unwrap_or_else(|| {
            panic!(
                "the gateway never logged {what} #{nth} of {number}:\n{:#?}",
                self.steps()
            )
        })
    }

    /// The RTP hotline sent on `number`'s answered calls (every call of it, in order), with
    /// when each packet came after its call's answer.
    pub fn heard(&self, number: &str) -> Vec<(Duration, Rtp)> {
        let ports: Vec<u16> = self
            .steps()
            .iter()
            .filter(|s| s.what == "answer" && s.number == number)
            .filter_map(|s| s.port)
            .collect();
        let media = self.heard.lock().unwrap();
        ports
            .iter()
            .filter_map(|p| Some((media.heard.get(p)?, *media.answered.get(p)?)))
            .flat_map(|(packets, answered)| {
                packets
                    .iter()
                    .map(move |(at, p)| (at.saturating_duration_since(answered), p.clone()))
            })
            .collect()
    }

    /// The RTP hotline sent on `number`'s answered calls between two unix times (ms): unlike
    /// [`Gateway::heard`], right when hotline's RTP ports are reused by later calls (a port
    /// serves one call at a time, so a window inside one call's life is that call's).
    #[allow(dead_code)] // Not every test that includes the gateway reads it.
    pub fn heard_between(&self, number: &str, from_ms: i64, to_ms: i64) -> Vec<Rtp> {
        let ports: std::collections::BTreeSet<u16> = self
            .steps()
            .iter()
            .filter(|s| s.what == "answer" && s.number == number)
            .filter_map(|s| s.port)
            .collect();
        let (now, unix_now) = (Instant::now(), std::time::SystemTime::now());
        let unix_now = unix_now
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64);
        let media = self.heard.lock().unwrap();
        ports
            .iter()
            .filter_map(|p| media.heard.get(p))
            .flatten()
            .filter(|(at, _)| {
                let unix = unix_now - now.saturating_duration_since(*at).as_millis() as i64;
                (from_ms..=to_ms).contains(&unix)
            })
            .map(|(_, p)| p.clone())
            .collect()
    }

    fn finish(&mut self) -> Option<SippRun> {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(media) = self.media.take() {
            let _ = media.join();
        }
        self.sipp.take().map(|s| s.wait(Duration::ZERO))
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        if let Some(run) = self.finish() {
            if std::thread::panicking() {
                eprintln!(
                    "---- gateway log ----\n{:#?}\n---- gateway SIPp ----\n{}",
                    read_log(&self.log),
                    run.output
                );
            }
        }
    }
}

/// Reads the gateway's log (a torn last line is skipped).
fn read_log(path: &std::path::Path) -> Vec<Step> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            let mut parts = l.split_whitespace();
            let what = parts.next()?.to_string();
            let number = parts.next()?.to_string();
            let at_ms = parts.next()?.parse().ok()?;
            let port = parts.next().and_then(|p| p.parse().ok());
            Some(Step {
                what,
                number,
                at_ms,
                port,
            })
        })
        .collect()
}

/// A party speaking on one answered call.
struct Talk {
    to: SocketAddr,
    script: Script,
    next_frame: usize,
    started: Instant,
    seq: u16,
    ssrc: u32,
    /// Keys still to press, and what hotline's audio did since the last one.
    keys_left: std::collections::VecDeque<u8>,
    prompt_heard: bool,
    quiet_since: Option<Instant>,
    /// The RFC 4733 packets of a key being sent, still to go.
    key_packets: std::collections::VecDeque<KeyPacket>,
    ended: bool,
}

impl Talk {
    fn ts(&self, frame: usize) -> u32 {
        (frame as u32).wrapping_mul(160)
    }
}

/// How long hotline must be quiet after a prompt before the party presses its next key.
const PROMPT_END: Duration = Duration::from_millis(600);

fn media_loop(
    socket: &UdpSocket,
    log: &std::path::Path,
    scripts: &BTreeMap<String, Script>,
    heard: &Heard,
    stop: &AtomicBool,
) {
    socket
        .set_read_timeout(Some(Duration::from_millis(2)))
        .unwrap();
    let mut talks: BTreeMap<u16, Talk> = BTreeMap::new();
    let mut seen_lines = 0;
    let mut buf = [0u8; 2048];
    let mut last_log_read = Instant::now() - Duration::from_secs(1);
    while !stop.load(Ordering::SeqCst) {
        if last_log_read.elapsed() >= Duration::from_millis(10) {
            last_log_read = Instant::now();
            let steps = read_log(log);
            for step in steps.iter().skip(seen_lines) {
                match (step.what.as_str(), step.port) {
                    ("answer", Some(port)) => {
                        let script = scripts.get(&step.number).cloned().unwrap_or_default();
                        heard.lock().unwrap().answered.insert(port, Instant::now());
                        talks.insert(
                            port,
                            Talk {
                                to: SocketAddr::from(([127, 0, 0, 1], port)),
                                keys_left: script.keys_after_prompts.iter().copied().collect(),
                                script,
                                next_frame: 0,
                                started: Instant::now(),
                                seq: 1,
                                ssrc: 0x9a7e_0000 | u32::from(port),
                                prompt_heard: false,
                                quiet_since: None,
                                key_packets: Default::default(),
                                ended: false,
                            },
                        );
                    }
                    ("bye_in" | "bye_out", _) => {
                        let ports: Vec<u16> = steps
                            .iter()
                            .filter(|s| s.what == "answer" && s.number == step.number)
                            .filter_map(|s| s.port)
                            .collect();
                        for p in ports {
                            if let Some(t) = talks.get_mut(&p) {
                                t.ended = true;
                            }
                        }
                    }
                    _ => {}
                }
            }
            seen_lines = steps.len();
        }
        while let Ok((n, from)) = socket.recv_from(&mut buf) {
            let Some(packet) = rtp::parse(&buf[..n]) else {
                continue;
            };
            let now = Instant::now();
            if let Some(t) = talks.get_mut(&from.port()) {
                if packet.pt == PCMA && audio::is_sound(&packet.payload) {
                    t.prompt_heard = true;
                    t.quiet_since = None;
                } else if t.prompt_heard && t.quiet_since.is_none() {
                    t.quiet_since = Some(now);
                }
            }
            heard
                .lock()
                .unwrap()
                .heard
                .entry(from.port())
                .or_default()
                .push((now, packet));
        }
        for t in talks.values_mut().filter(|t| !t.ended) {
            let due = t.started + Duration::from_millis(20 * t.next_frame as u64);
            if Instant::now() < due {
                continue;
            }
            // A key after a prompt that ended.
            if t.key_packets.is_empty()
                && !t.keys_left.is_empty()
                && t.quiet_since.is_some_and(|q| q.elapsed() >= PROMPT_END)
            {
                let key = t.keys_left.pop_front().unwrap_or_default();
                t.key_packets = key_packets(key, t.ts(t.next_frame));
                t.prompt_heard = false;
                t.quiet_since = None;
            }
            let (pt, marker, ts, payload) = if let Some(key) = t.key_packets.pop_front() {
                (EVENT_PT, key.marker, key.ts, key.payload.to_vec())
            } else {
                let frame = t
                    .script
                    .frames
                    .get(t.next_frame)
                    .cloned()
                    .unwrap_or_else(|| vec![SILENCE; audio::FRAME]);
                (PCMA, false, t.ts(t.next_frame), frame)
            };
            let mut packet = rtp::packet(pt, t.seq, ts, t.ssrc, &payload);
            if marker {
                packet[1] |= 0x80;
            }
            let _ = socket.send_to(&packet, t.to);
            t.seq = t.seq.wrapping_add(1);
            t.next_frame += 1;
        }
    }
}

/// One RFC 4733 packet of a key.
struct KeyPacket {
    marker: bool,
    ts: u32,
    payload: [u8; 4],
}

/// The RFC 4733 packets of one key pressed at RTP time `ts`: 5 packets 20 ms apart with a
/// growing duration, then the end bit three times (volume 10).
fn key_packets(key: u8, ts: u32) -> std::collections::VecDeque<KeyPacket> {
    (1..=8u16)
        .map(|i| {
            let end = i >= 6;
            let [hi, lo] = (160 * i.min(6)).to_be_bytes();
            KeyPacket {
                marker: i == 1,
                ts,
                payload: [key, if end { 0x80 | 10 } else { 10 }, hi, lo],
            }
        })
        .collect()
}
