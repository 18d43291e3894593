//! Shared harness of the integration tests: starts the real `hotline` binary on free ports with a
//! private data folder, runs SIPp and baresip against it, and waits on journal events.
#![allow(dead_code, clippy::unwrap_used)]

pub mod agent;
pub mod dialplan;
pub mod http;
pub mod rtp;
pub mod sipp;
pub mod uac;

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The end of the bundled config's `routing:` section, where tests add their trunks.
pub const TRUNK_ANCHOR: &str = "routing:\n  not_ready_reasons: []\n  seed: 0\n";

/// A config edit (for [`Options::config_edits`]) adding trunk `carrier` after the `routing:`
/// section: it presents `from_number`, dials through `gateway`, allows the numbers of the one
/// pattern `allow` and takes the further trunk keys of `extra` (lines indented four spaces).
pub fn carrier_trunk(
    from_number: &str,
    gateway: impl std::fmt::Display,
    allow: &str,
    extra: &str,
) -> (&'static str, &'static str) {
    let edited = format!(
        "{TRUNK_ANCHOR}trunks:\n  carrier:\n    from_number: \"{from_number}\"\n    \
         gateway: \"{gateway}\"\n    allow: [\"{allow}\"]\n{extra}"
    );
    (TRUNK_ANCHOR, Box::leak(edited.into_boxed_str()))
}

/// Polls `done` every 20 ms until it holds or `timeout` passes; returns whether it held. Used to
/// wait on things outside the test process (a child exiting, a file appearing, an HTTP state).
pub fn poll_until(timeout: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if done() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// A port free on 127.0.0.1 for both UDP and TCP.
pub fn free_port() -> u16 {
    loop {
        let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = udp.local_addr().unwrap().port();
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

static NEXT_RTP_BASE: AtomicU16 = AtomicU16::new(0);

/// A private RTP port range, so tests running in parallel never share ports.
pub fn rtp_range(size: u16) -> (u16, u16) {
    let pid_slot = (std::process::id() % 40) as u16;
    let n = NEXT_RTP_BASE.fetch_add(1, Ordering::SeqCst);
    let base = 30000 + pid_slot * 800 + (n % 8) * 100;
    (base, base + size.min(99))
}

/// How a test wants hotline configured.
#[derive(Clone)]
pub struct Options {
    /// Ring timeout of both queues.
    pub ring_timeout: &'static str,
    /// Wrap-up of both queues.
    pub wrap_up: &'static str,
    /// RTP inactivity timeout.
    pub rtp_timeout: &'static str,
    /// Redis URL to publish to.
    pub redis_url: Option<String>,
    /// Size of the RTP port range (ports, not pairs).
    pub rtp_ports: u16,
    /// `--grace-period` in seconds.
    pub grace_period: u64,
    /// `sip.advertised_address` in the config.
    pub advertised: Option<&'static str>,
    /// `sip.auth_algorithms` in the config, e.g. `"[md5, sha-256]"`.
    pub auth_algorithms: Option<&'static str>,
    /// Further text replacements in the bundled config (from, to).
    pub config_edits: Vec<(&'static str, &'static str)>,
    /// A dialplan file to run instead of the bundled one (`--dialplan`).
    pub dialplan: Option<PathBuf>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            ring_timeout: "15s",
            wrap_up: "2s",
            rtp_timeout: "30s",
            redis_url: None,
            rtp_ports: 60,
            grace_period: 2,
            advertised: None,
            auth_algorithms: None,
            config_edits: Vec::new(),
            dialplan: None,
        }
    }
}

/// A running hotline.
pub struct Hotline {
    child: Child,
    /// Its private data folder (journal, registrations).
    pub dir: tempfile::TempDir,
    /// SIP address (UDP and TCP).
    pub sip: SocketAddr,
    /// HTTP address.
    pub http: SocketAddr,
}

impl Hotline {
    /// Starts hotline and waits until `/healthz` answers. A port taken by another process
    /// between choosing it and hotline binding it (tests run in parallel) is chosen again.
    pub fn start(opts: Options) -> Self {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let dir = tempfile::tempdir().unwrap();
            let sip: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
            let http: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
            match Self::try_start_in(dir, sip, http, opts.clone()) {
                Ok(h) => return h,
                Err(log) if attempt < 4 && log.contains("Address already in use") => continue,
                Err(log) => panic!("hotline did not start:\n{log}"),
            }
        }
    }

    /// Starts hotline on given addresses and data folder (for restart tests).
    pub fn start_in(
        dir: tempfile::TempDir,
        sip: SocketAddr,
        http: SocketAddr,
        opts: Options,
    ) -> Self {
        Self::try_start_in(dir, sip, http, opts)
            .unwrap_or_else(|log| panic!("hotline did not start:\n{log}"))
    }

    /// Starts hotline on given addresses; its log when it exits or does not answer in time.
    fn try_start_in(
        dir: tempfile::TempDir,
        sip: SocketAddr,
        http: SocketAddr,
        opts: Options,
    ) -> Result<Self, String> {
        let root = root();
        let bundled = std::fs::read_to_string(root.join("config/hotline.yaml")).unwrap();
        let (lo, hi) = rtp_range(opts.rtp_ports);
        let config = bundled
            .replace(
                "ring_timeout: 15s",
                &format!("ring_timeout: {}", opts.ring_timeout),
            )
            .replace("wrap_up: 2s", &format!("wrap_up: {}", opts.wrap_up))
            .replace(
                "rtp_timeout: 30s",
                &format!("rtp_timeout: {}", opts.rtp_timeout),
            )
            .replace(
                "dir: prompts",
                &format!("dir: {}", root.join("prompts").display()),
            )
            .replace(
                "dialplan: dialplans/default.yaml",
                &format!(
                    "dialplan: {}",
                    root.join("dialplans/default.yaml").display()
                ),
            );
        let config = match opts.advertised {
            Some(ip) => config.replace(
                "  # advertised_address: 203.0.113.10",
                &format!("  advertised_address: {ip}"),
            ),
            None => config,
        };
        let config = match opts.auth_algorithms {
            Some(list) => config.replace(
                "auth_algorithms: [md5]",
                &format!("auth_algorithms: {list}"),
            ),
            None => config,
        };
        let mut config = config;
        for (from, to) in &opts.config_edits {
            assert!(
                config.contains(from),
                "config edit: {from:?} not in the bundled config"
            );
            config = config.replace(from, to);
        }
        let config_path = dir.path().join("hotline.yaml");
        std::fs::write(&config_path, config).unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_hotline"));
        cmd.arg("serve")
            .arg("--config")
            .arg(&config_path)
            .arg("--data-dir")
            .arg(dir.path())
            .arg("--sip-listen")
            .arg(sip.to_string())
            .arg("--http-listen")
            .arg(http.to_string())
            .arg("--rtp-ports")
            .arg(format!("{lo}-{hi}"))
            .arg("--grace-period")
            .arg(opts.grace_period.to_string())
            .env(
                "RUST_LOG",
                std::env::var("HOTLINE_TEST_LOG").unwrap_or_else(|_| "info".into()),
            )
            .stdout(Stdio::null())
            .stderr(Stdio::from(
                std::fs::File::create(dir.path().join("hotline.log")).unwrap(),
            ));
        if let Some(url) = &opts.redis_url {
            cmd.arg("--redis-url").arg(url);
        }
        if let Some(plan) = &opts.dialplan {
            cmd.arg("--dialplan").arg(plan);
        }
        let child = cmd.spawn().unwrap();
        let mut h = Self {
            child,
            dir,
            sip,
            http,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if http::get(h.http, "/healthz", None).map(|r| r.status).ok() == Some(200) {
                return Ok(h);
            }
            let exited = matches!(h.child.try_wait(), Ok(Some(_)));
            if exited || Instant::now() >= deadline {
                return Err(h.log());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The server log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("hotline.log")).unwrap_or_default()
    }

    /// The journal path.
    pub fn journal(&self) -> PathBuf {
        self.dir.path().join("events.jsonl")
    }

    /// Every event in the journal so far.
    pub fn events(&self) -> Vec<Value> {
        read_events(&self.journal())
    }

    /// Waits until an event matching `pred` is in the journal; returns it.
    pub fn wait_event(
        &self,
        what: &str,
        timeout: Duration,
        pred: impl Fn(&Value) -> bool,
    ) -> Value {
        let mut found = None;
        poll_until(timeout, || {
            found = self.events().into_iter().find(|e| pred(e));
            found.is_some()
        });
        found.unwrap_or_else(|| {
            panic!(
                "timed out waiting for {what}; journal:\n{}\nlog:\n{}",
                self.events()
                    .iter()
                    .map(|e| e.to_string())
                    .collect::<Vec<_>>()
                    .join("\n"),
                self.log()
            )
        })
    }

    /// Waits for an event of `kind` (and agent, when given).
    pub fn wait_type(&self, kind: &str, timeout: Duration) -> Value {
        self.wait_event(kind, timeout, |e| e["type"] == kind)
    }

    /// The API's view of one agent.
    pub fn agent(&self, id: &str) -> Value {
        let r = http::get(self.http, "/api/v1/agents", Some("hotline-demo-token")).unwrap();
        let all: Value = serde_json::from_str(&r.body).unwrap();
        all.as_array()
            .unwrap()
            .iter()
            .find(|a| a["id"] == id)
            .cloned()
            .unwrap()
    }

    /// Waits until the API shows the agent in `state`.
    pub fn wait_agent_state(&self, id: &str, state: &str, timeout: Duration) {
        let ok = poll_until(timeout, || self.agent(id)["state"] == state);
        assert!(
            ok,
            "agent {id} never became {state}: {}\n{}",
            self.agent(id),
            self.log()
        );
    }

    /// Sends SIGTERM (hotline starts its graceful shutdown).
    pub fn terminate(&self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
    }

    /// Waits for the process to exit; returns its exit status.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        let mut status = None;
        poll_until(timeout, || {
            status = self.child.try_wait().unwrap();
            status.is_some()
        });
        status
    }

    /// Sends SIGTERM and waits for exit.
    pub fn stop(mut self) -> tempfile::TempDir {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let stopped = poll_until(Duration::from_secs(15), || {
            self.child.try_wait().unwrap().is_some()
        });
        assert!(stopped, "hotline did not stop");
        let dir = tempfile::tempdir().unwrap();
        std::mem::replace(&mut self.dir, dir)
    }
}

impl Drop for Hotline {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("---- hotline log ----\n{}", self.log());
        }
    }
}

/// Reads a journal, skipping a torn last line.
pub fn read_events(path: &Path) -> Vec<Value> {
    let Ok(f) = std::fs::File::open(path) else {
        return Vec::new();
    };
    BufReader::new(f)
        .lines()
        .map_while(Result::ok)
        .filter_map(|l| serde_json::from_str(&l).ok())
        .collect()
}

/// The event types of one call, in journal order, without the `ivr.prompt` of each prompt played
/// and without the `recording.*` events of the call's recording (tests of what was played or
/// recorded read those themselves; a recording's writer finishes after the call ends).
pub fn call_event_types(events: &[Value], call_id: &str) -> Vec<String> {
    events
        .iter()
        .filter(|e| {
            e["call_id"] == call_id
                && e["type"] != "ivr.prompt"
                && !e["type"]
                    .as_str()
                    .is_some_and(|t| t.starts_with("recording."))
        })
        .map(|e| e["type"].as_str().unwrap().to_string())
        .collect()
}
