//! Runs SIPp scenarios from `tests/sipp/` against a hotline.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use super::{free_port, root};

/// A SIPp process being built or running.
pub struct Sipp {
    cmd: Command,
    /// Its local SIP port.
    pub port: u16,
    /// Its media port (`-mp`).
    pub media_port: u16,
    log_dir: tempfile::TempDir,
}

/// A finished SIPp run.
pub struct SippRun {
    /// Exit code (0: every call succeeded).
    pub code: i32,
    /// stdout+stderr and the error log, for assertion messages.
    pub output: String,
}

impl Sipp {
    /// SIPp running `scenario` (a file in tests/sipp) against hotline.
    pub fn new(scenario: &str, target: SocketAddr) -> Self {
        let port = free_port();
        let media_port = free_even_port();
        let log_dir = tempfile::tempdir().unwrap();
        let mut cmd = Command::new("sipp");
        cmd.arg(target.to_string())
            .arg("-sf")
            .arg(scenario_path(scenario))
            .arg("-i")
            .arg("127.0.0.1")
            .arg("-p")
            .arg(port.to_string())
            .arg("-mi")
            .arg("127.0.0.1")
            .arg("-mp")
            .arg(media_port.to_string())
            .arg("-bg")
            .arg("-nostdin")
            .arg("-trace_err")
            .arg("-error_file")
            .arg(log_dir.path().join("errors.log"))
            .current_dir(log_dir.path())
            .stdin(Stdio::null());
        Self { cmd, port, media_port, log_dir }
    }

    /// Adds raw arguments.
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        self.cmd.args(args);
        self
    }

    /// Sets a `[key]` of the scenario.
    pub fn key(mut self, k: &str, v: impl ToString) -> Self {
        self.cmd.arg("-key").arg(k).arg(v.to_string());
        self
    }

    /// Starts it.
    pub fn spawn(mut self) -> RunningSipp {
        // -bg is not used: we keep the child to wait on it.
        let args: Vec<_> = self.cmd.get_args().filter(|a| *a != "-bg").map(|a| a.to_owned()).collect();
        let mut cmd = Command::new("sipp");
        cmd.args(args)
            .current_dir(self.log_dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let child = cmd.spawn().expect("sipp is installed (apt-get install sip-tester)");
        RunningSipp { child, log_dir: self.log_dir, port: self.port }
    }

    /// Runs to the end (at most `timeout`).
    pub fn run(self, timeout: Duration) -> SippRun {
        self.spawn().wait(timeout)
    }
}

/// A SIPp process running.
pub struct RunningSipp {
    child: Child,
    log_dir: tempfile::TempDir,
    /// Its local SIP port.
    pub port: u16,
}

impl RunningSipp {
    /// Waits for exit, killing it after `timeout`.
    pub fn wait(mut self, timeout: Duration) -> SippRun {
        let deadline = Instant::now() + timeout;
        loop {
            if self.child.try_wait().unwrap().is_some() {
                break;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let out: Output = self.child.wait_with_output().unwrap();
        let errors = std::fs::read_to_string(self.log_dir.path().join("errors.log")).unwrap_or_default();
        SippRun {
            code: out.status.code().unwrap_or(-1),
            output: format!(
                "{}\n{}\n--- errors ---\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr),
                errors
            ),
        }
    }

    /// Asks SIPp to stop (SIGUSR1) and waits.
    pub fn stop(self, timeout: Duration) -> SippRun {
        let _ = Command::new("kill").arg("-USR1").arg(self.child.id().to_string()).status();
        self.wait(timeout)
    }
}

/// The path of a scenario file.
pub fn scenario_path(name: &str) -> PathBuf {
    root().join("tests/sipp").join(name)
}

/// An even UDP port with the next one free too (RTP + RTCP).
pub fn free_even_port() -> u16 {
    loop {
        let p = free_port();
        if p % 2 == 0 && std::net::UdpSocket::bind(("127.0.0.1", p + 1)).is_ok() {
            return p;
        }
    }
}
