//! What the customer's phone says, made at test time: espeak-ng speaks, sox makes 8 kHz G.711
//! A-law of it and of a voicemail beep, and the audio is written as a pcap of 20 ms RTP packets
//! that SIPp plays with `play_pcap_audio`.

use std::path::{Path, PathBuf};
use std::process::Command;

/// PCMA's silence.
const SILENCE: u8 = 0xd5;
/// Bytes (samples) of one 20 ms PCMA packet.
const FRAME: usize = 160;

/// Speech as raw 8 kHz A-law, silence trimmed at both ends (espeak-ng and sox are needed).
pub fn speak(dir: &Path, name: &str, text: &str) -> Vec<u8> {
    let wav = dir.join(format!("{name}.wav"));
    let status = Command::new("espeak-ng")
        .args(["-v", "en-us", "-s", "160", "-w"])
        .arg(&wav)
        .arg(text)
        .status()
        .unwrap_or_else(|e| panic!("espeak-ng is needed (scripts/setup.sh): {e}"));
    assert!(status.success(), "espeak-ng failed on {text:?}");
    let raw = dir.join(format!("{name}.al"));
    let status = Command::new("sox")
        .arg(&wav)
        .args(["-r", "8000", "-c", "1", "-t", "al"])
        .arg(&raw)
        .args([
            "silence", "1", "0.02", "1%", "reverse", "silence", "1", "0.02", "1%", "reverse",
        ])
        .status()
        .unwrap_or_else(|e| panic!("sox is needed (scripts/setup.sh): {e}"));
    assert!(status.success(), "sox failed on {}", wav.display());
    let bytes = std::fs::read(&raw).unwrap();
    assert!(
        bytes.len() > 2_000,
        "{text:?} came out {} bytes",
        bytes.len()
    );
    bytes
}

/// A steady tone as raw 8 kHz A-law (a voicemail's beep).
pub fn tone(dir: &Path, name: &str, hz: u32, ms: u32) -> Vec<u8> {
    let raw = dir.join(format!("{name}.al"));
    let status = Command::new("sox")
        .args(["-n", "-r", "8000", "-c", "1", "-t", "al"])
        .arg(&raw)
        .args(["synth", &format!("{}", f64::from(ms) / 1000.0)])
        .args(["sine", &hz.to_string(), "vol", "0.5"])
        .status()
        .unwrap_or_else(|e| panic!("sox is needed (scripts/setup.sh): {e}"));
    assert!(status.success(), "sox failed to make a {hz} Hz tone");
    std::fs::read(&raw).unwrap()
}

/// `ms` of silence.
pub fn silence(ms: u32) -> Vec<u8> {
    vec![SILENCE; ms as usize * 8]
}

/// Duration of raw 8 kHz audio, ms.
pub fn ms(audio: &[u8]) -> u64 {
    audio.len() as u64 / 8
}

/// Writes `audio` (raw 8 kHz A-law) as `name.pcap` in `dir`: Ethernet/IPv4/UDP packets of
/// RTP (payload type 8), one per 20 ms, timestamped 20 ms apart.
pub fn pcap(dir: &Path, name: &str, audio: &[u8]) -> PathBuf {
    let mut out = Vec::new();
    // Global header: microsecond pcap 2.4, Ethernet.
    out.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&4u16.to_le_bytes());
    out.extend_from_slice(&0i32.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&65_535u32.to_le_bytes());
    out.extend_from_slice(&1u32.to_le_bytes());
    for (n, chunk) in audio.chunks(FRAME).enumerate() {
        let mut payload = chunk.to_vec();
        payload.resize(FRAME, SILENCE);
        let seq = n as u16;
        let ts = (n * FRAME) as u32;
        let mut rtp = vec![0x80, 8];
        rtp.extend_from_slice(&seq.to_be_bytes());
        rtp.extend_from_slice(&ts.to_be_bytes());
        rtp.extend_from_slice(&0x1234_5678u32.to_be_bytes());
        rtp.extend_from_slice(&payload);
        let udp_len = (8 + rtp.len()) as u16;
        let mut udp = Vec::new();
        udp.extend_from_slice(&6000u16.to_be_bytes());
        udp.extend_from_slice(&6002u16.to_be_bytes());
        udp.extend_from_slice(&udp_len.to_be_bytes());
        udp.extend_from_slice(&0u16.to_be_bytes());
        udp.extend_from_slice(&rtp);
        let ip_len = 20 + udp.len() as u16;
        let mut ip = vec![0x45, 0];
        ip.extend_from_slice(&ip_len.to_be_bytes());
        ip.extend_from_slice(&seq.to_be_bytes());
        ip.extend_from_slice(&[0x40, 0, 64, 17, 0, 0]);
        ip.extend_from_slice(&[127, 0, 0, 1, 127, 0, 0, 1]);
        let checksum = ip_checksum(&ip);
        ip[10..12].copy_from_slice(&checksum.to_be_bytes());
        ip.extend_from_slice(&udp);
        let mut frame = vec![0u8; 12];
        frame.extend_from_slice(&[0x08, 0x00]);
        frame.extend_from_slice(&ip);
        let micros = n as u64 * 20_000;
        out.extend_from_slice(&((micros / 1_000_000) as u32).to_le_bytes());
        out.extend_from_slice(&((micros % 1_000_000) as u32).to_le_bytes());
        out.extend_from_slice(&(frame.len() as u32).to_le_bytes());
        out.extend_from_slice(&(frame.len() as u32).to_le_bytes());
        out.extend_from_slice(&frame);
    }
    let path = dir.join(format!("{name}.pcap"));
    std::fs::write(&path, out).unwrap();
    path
}

fn ip_checksum(header: &[u8]) -> u16 {
    let mut sum: u32 = header
        .chunks(2)
        .map(|w| u32::from(u16::from_be_bytes([w[0], *w.get(1).unwrap_or(&0)])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}
