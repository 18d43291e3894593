//! What the parties behind the PSTN gateway say, made at test time: espeak-ng speaks, sox turns
//! it into 8 kHz G.711 A-law, and the test cuts it into 20 ms RTP payloads. Nothing large is
//! kept in git.

use std::path::Path;
use std::process::Command;

/// Bytes of one 20 ms PCMA frame.
pub const FRAME: usize = 160;
/// PCMA's silence (the code of the smallest positive sample).
pub const SILENCE: u8 = 0xd5;

/// Speech as raw 8 kHz A-law bytes, silence trimmed from both ends.
///
/// Panics when espeak-ng or sox is missing (scripts/setup.sh installs both).
pub fn speak(dir: &Path, name: &str, text: &str) -> Vec<u8> {
    let wav = dir.join(format!("{name}.wav"));
    let status = Command::new("espeak-ng")
        .args(["-v", "en-us", "-s", "165", "-w"])
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
        // Trims silence at the start and, reversed, at the end.
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

/// A steady tone as raw 8 kHz A-law bytes (a voicemail's beep), made by sox.
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

/// The length of an audio file, ms (sox's `soxi`).
pub fn duration_ms(path: &Path) -> i64 {
    let out = Command::new("soxi")
        .arg("-D")
        .arg(path)
        .output()
        .unwrap_or_else(|e| panic!("soxi (sox) is needed: {e}"));
    let secs: f64 = String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .unwrap_or_else(|e| panic!("soxi on {}: {e}", path.display()));
    (secs * 1000.0) as i64
}

/// `ms` of silence.
pub fn silence(ms: u32) -> Vec<u8> {
    vec![SILENCE; ms as usize * 8]
}

/// Cuts audio into 20 ms frames (the last one padded with silence).
pub fn frames(audio: &[u8]) -> Vec<Vec<u8>> {
    audio
        .chunks(FRAME)
        .map(|c| {
            let mut f = c.to_vec();
            f.resize(FRAME, SILENCE);
            f
        })
        .collect()
}

/// Whether a PCMA frame carries sound (not silence nor near it).
pub fn is_sound(payload: &[u8]) -> bool {
    let loud = payload
        .iter()
        .filter(|b| {
            // A-law: the segment is in bits 4..6 once the even bits are inverted; segment 2 and
            // up are samples beyond +-512 of 32768.
            ((**b ^ 0x55) >> 4) & 0x07 >= 2
        })
        .count();
    loud * 5 >= payload.len()
}

/// What a party says once the call is answered: audio, and keys pressed after prompts.
#[derive(Debug, Clone, Default)]
pub struct Script {
    /// 20 ms PCMA frames played from the answer on (silence after them).
    pub frames: Vec<Vec<u8>>,
    /// Keys pressed (RFC 4733), one after each prompt hotline plays has ended.
    pub keys_after_prompts: Vec<u8>,
}

/// The party's greeting as frames: `lead_ms` of silence, then the audio.
pub fn after_silence(lead_ms: u32, audio: &[u8]) -> Vec<Vec<u8>> {
    let mut all = silence(lead_ms);
    all.extend_from_slice(audio);
    frames(&all)
}
