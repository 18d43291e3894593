//! One espeak-ng run: the text on its stdin (never through a shell, never as an argument it
//! could read as an option), WAV on its stdout, bounded in time and size, killed when it
//! overruns.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::Command;

use super::TtsError;

/// Most WAV bytes read (200 characters make about 20 s, under 1 MiB at 22.05 kHz).
const MAX_WAV_BYTES: u64 = 16 << 20;
/// Most stderr bytes kept for the error message.
const MAX_STDERR_BYTES: u64 = 512;

/// The WAV espeak-ng writes for `text` spoken by `voice`.
pub(super) async fn run(
    program: &Path,
    voice: &str,
    text: &str,
    timeout: Duration,
) -> Result<Vec<u8>, TtsError> {
    let name = program.display().to_string();
    let mut child = Command::new(program)
        // -b 1: the input is UTF-8; --stdin: all of it, up to its end, is one text.
        .args(["-v", voice, "-b", "1", "--stdout", "--stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // A run dropped half-way (the timeout below) must not leave the program running.
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => TtsError::NotFound(name.clone()),
            _ => TtsError::Spawn {
                program: name.clone(),
                reason: e.to_string(),
            },
        })?;
    let (Some(mut stdin), Some(stdout), Some(stderr)) =
        (child.stdin.take(), child.stdout.take(), child.stderr.take())
    else {
        return Err(TtsError::Spawn {
            program: name,
            reason: "no pipes".into(),
        });
    };
    let work = async {
        let write = async {
            // A program that exits early closes the pipe: its exit status says why.
            let _ = stdin.write_all(text.as_bytes()).await;
            let _ = stdin.shutdown().await;
            drop(stdin);
        };
        let read = async {
            let mut wav = Vec::new();
            stdout
                .take(MAX_WAV_BYTES + 1)
                .read_to_end(&mut wav)
                .await
                .map(|_| wav)
        };
        let read_err = async {
            let mut err = Vec::new();
            let _ = stderr.take(MAX_STDERR_BYTES).read_to_end(&mut err).await;
            err
        };
        let ((), wav, err) = tokio::join!(write, read, read_err);
        (wav, err)
    };
    let (wav, err) = match tokio::time::timeout(timeout, work).await {
        Ok(done) => done,
        Err(_) => {
            kill(&mut child).await;
            return Err(TtsError::TimedOut(timeout));
        }
    };
    let wav = wav.map_err(|e| TtsError::BadOutput(format!("reading its output: {e}")))?;
    if wav.len() as u64 > MAX_WAV_BYTES {
        kill(&mut child).await;
        return Err(TtsError::BadOutput(format!(
            "more than {MAX_WAV_BYTES} bytes"
        )));
    }
    // Its output is closed: it is exiting. Still bounded, for a program that closes stdout and
    // keeps running.
    let status = match tokio::time::timeout(timeout, child.wait()).await {
        Ok(Ok(status)) => status,
        Ok(Err(e)) => {
            return Err(TtsError::Spawn {
                program: name,
                reason: e.to_string(),
            })
        }
        Err(_) => {
            kill(&mut child).await;
            return Err(TtsError::TimedOut(timeout));
        }
    };
    if !status.success() {
        let stderr = String::from_utf8_lossy(&err).trim().to_owned();
        return Err(TtsError::Failed {
            status: status.to_string(),
            stderr,
        });
    }
    Ok(wav)
}

/// Kills the program and reaps it.
async fn kill(child: &mut tokio::process::Child) {
    let _ = child.start_kill();
    let _ = child.wait().await;
}
