//! A hotline running on its own copy of a dialplan, which a test rewrites while it runs.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use super::{free_port, http, poll_until, Hotline, Options};

/// The file name of the private dialplan in hotline's data folder.
const FILE: &str = "dialplan.yaml";

impl Hotline {
    /// Starts hotline on its own copy of `dialplan` (YAML text) in its data folder.
    pub fn start_with_dialplan(opts: Options, dialplan: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE);
        std::fs::write(&path, dialplan).unwrap();
        let sip = format!("127.0.0.1:{}", free_port()).parse().unwrap();
        let http = format!("127.0.0.1:{}", free_port()).parse().unwrap();
        Self::start_in(
            dir,
            sip,
            http,
            Options {
                dialplan: Some(path),
                ..opts
            },
        )
    }

    /// The private dialplan file of [`Hotline::start_with_dialplan`].
    pub fn dialplan_path(&self) -> PathBuf {
        self.dir.path().join(FILE)
    }

    /// Replaces the dialplan file the way editors and deploy tools do: a new file written beside
    /// it, then renamed over it.
    pub fn write_dialplan(&self, text: &str) {
        let next = self.dir.path().join("dialplan.yaml.next");
        std::fs::write(&next, text).unwrap();
        std::fs::rename(&next, self.dialplan_path()).unwrap();
    }

    /// Overwrites the dialplan file in place with `text` padded to the file's size, then puts its
    /// modification time back: a watch that compares size and time cannot see this change, only
    /// an explicit reload (API, SIGHUP) picks it up.
    pub fn write_dialplan_unseen(&self, text: &str) {
        let path = self.dialplan_path();
        let meta = std::fs::metadata(&path).unwrap();
        let size = usize::try_from(meta.len()).unwrap();
        assert!(
            text.len() < size,
            "the new dialplan must be shorter than the running one to hide its change"
        );
        let padded = format!("{text}\n{}", "#".repeat(size - text.len() - 1));
        std::fs::write(&path, padded).unwrap();
        let file = std::fs::File::options().write(true).open(&path).unwrap();
        file.set_modified(meta.modified().unwrap()).unwrap();
    }

    /// `POST /api/v1/dialplan/reload`: the status and the JSON answer.
    pub fn reload_dialplan(&self) -> (u16, serde_json::Value) {
        let r = http::post(
            self.http,
            "/api/v1/dialplan/reload",
            Some("hotline-demo-token"),
            "{}",
        )
        .unwrap();
        let body = serde_json::from_str(&r.body)
            .unwrap_or_else(|e| panic!("reload answer is not JSON ({e}): {}", r.body));
        (r.status, body)
    }

    /// Sends SIGHUP.
    pub fn hangup_signal(&self) {
        let status = Command::new("kill")
            .arg("-HUP")
            .arg(self.child.id().to_string())
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// The value of one sample of `/metrics`, e.g. `hotline_dialplan_version` or
    /// `hotline_dialplan_reloads_total{result="ok"}`; 0 when absent.
    pub fn metric(&self, sample: &str) -> f64 {
        let r = http::get(self.http, "/metrics", None).unwrap();
        let prefix = format!("{sample} ");
        r.body
            .lines()
            .find_map(|l| l.strip_prefix(&prefix))
            .map_or(0.0, |v| v.trim().parse().unwrap())
    }

    /// Waits until the sample of `/metrics` has `value`.
    pub fn wait_metric(&self, sample: &str, value: f64, timeout: Duration) {
        let reached = poll_until(timeout, || self.metric(sample) == value);
        assert!(
            reached,
            "{sample} never became {value} (it is {}):\n{}",
            self.metric(sample),
            self.log()
        );
    }
}
