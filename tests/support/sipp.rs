//! Runs SIPp scenarios from `tests/sipp/` against a hotline.
//!
//! Scenario files may hold `{{name}}` placeholders where SIPp cannot take a `-key` (pause
//! lengths, pcap file names); [`Sipp::var`] fills them in a private copy.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use super::{free_port, root};

/// A SIPp process being set up.
pub struct Sipp {
    scenario: String,
    ooc: Option<String>,
    vars: Vec<(String, String)>,
    args: Vec<String>,
    target: SocketAddr,
    /// Its local SIP port.
    pub port: u16,
    /// Its media port (`-mp`).
    pub media_port: u16,
    dir: tempfile::TempDir,
}

/// A finished SIPp run.
pub struct SippRun {
    /// Exit code (0: every call succeeded).
    pub code: i32,
    /// stdout, stderr, the error log and the message trace, for assertion messages.
    pub output: String,
}

impl SippRun {
    /// Asserts every call succeeded.
    pub fn assert_ok(&self, what: &str) {
        assert_eq!(self.code, 0, "{what}: SIPp failed:\n{}", self.output);
    }
}

impl Sipp {
    /// SIPp running `scenario` (a file in tests/sipp) against `target`.
    pub fn new(scenario: &str, target: SocketAddr) -> Self {
        Self {
            scenario: scenario.to_string(),
            ooc: None,
            vars: Vec::new(),
            args: Vec::new(),
            target,
            port: free_port(),
            media_port: free_even_port(),
            dir: tempfile::tempdir().unwrap(),
        }
    }

    /// The out-of-call scenario (requests that start no call of the main scenario).
    pub fn ooc(mut self, scenario: &str) -> Self {
        self.ooc = Some(scenario.to_string());
        self
    }

    /// Fills `{{name}}` in the scenario files.
    pub fn var(mut self, name: &str, value: impl ToString) -> Self {
        self.vars.push((name.to_string(), value.to_string()));
        self
    }

    /// Adds raw arguments.
    pub fn args(mut self, args: &[&str]) -> Self {
        self.args.extend(args.iter().map(|a| a.to_string()));
        self
    }

    /// Sets a `[key]` of the scenario.
    pub fn key(mut self, k: &str, v: impl ToString) -> Self {
        self.args
            .extend(["-key".to_string(), k.to_string(), v.to_string()]);
        self
    }

    fn render(&self, name: &str) -> PathBuf {
        let mut text = std::fs::read_to_string(scenario_path(name)).unwrap();
        for (k, v) in &self.vars {
            text = text.replace(&format!("{{{{{k}}}}}"), v);
        }
        assert!(
            !text.contains("{{"),
            "scenario {name}: unfilled placeholder"
        );
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    /// Starts it.
    pub fn spawn(self) -> RunningSipp {
        let mut cmd = Command::new("sipp");
        cmd.arg(self.target.to_string())
            .arg("-sf")
            .arg(self.render(&self.scenario));
        if let Some(ooc) = &self.ooc {
            cmd.arg("-oocsf").arg(self.render(ooc));
        }
        cmd.args(["-i", "127.0.0.1", "-mi", "127.0.0.1"])
            .arg("-p")
            .arg(self.port.to_string())
            .arg("-mp")
            .arg(self.media_port.to_string())
            .args(["-nostdin", "-trace_err", "-trace_msg"])
            .arg("-error_file")
            .arg(self.dir.path().join("errors.log"))
            .arg("-message_file")
            .arg(self.dir.path().join("messages.log"))
            .args(&self.args)
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let child = cmd
            .spawn()
            .expect("sipp is installed (apt-get install sip-tester)");
        RunningSipp {
            child,
            dir: self.dir,
            port: self.port,
        }
    }

    /// Runs to the end (killed after `timeout`).
    pub fn run(self, timeout: Duration) -> SippRun {
        self.spawn().wait(timeout)
    }
}

/// A SIPp process running.
pub struct RunningSipp {
    child: Child,
    dir: tempfile::TempDir,
    /// Its local SIP port.
    pub port: u16,
}

impl RunningSipp {
    /// Waits for exit, killing it after `timeout`.
    pub fn wait(mut self, timeout: Duration) -> SippRun {
        let deadline = Instant::now() + timeout;
        super::poll_until(timeout, || self.child.try_wait().unwrap().is_some());
        if Instant::now() >= deadline {
            let _ = self.child.kill();
        }
        let out: Output = self.child.wait_with_output().unwrap();
        let read = |f: &str| std::fs::read_to_string(self.dir.path().join(f)).unwrap_or_default();
        SippRun {
            code: out.status.code().unwrap_or(-1),
            output: format!(
                "{}\n{}\n--- errors ---\n{}\n--- messages ---\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr),
                read("errors.log"),
                read("messages.log"),
            ),
        }
    }
}

/// The path of a scenario file.
pub fn scenario_path(name: &str) -> PathBuf {
    root().join("tests/sipp").join(name)
}

/// An even UDP port with the next three free too: SIPp's media port takes RTP and RTCP, and with
/// `-rtp_echo` also the "video" pair two above it; a port it cannot bind makes it exit at once.
pub fn free_even_port() -> u16 {
    loop {
        let p = free_port();
        if p.is_multiple_of(2)
            && p < u16::MAX - 4
            && (1..=3).all(|k| std::net::UdpSocket::bind(("127.0.0.1", p + k)).is_ok())
        {
            return p;
        }
    }
}
