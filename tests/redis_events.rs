//! Events reach Redis Streams in journal order, and a Redis outage loses nothing: hotline keeps
//! taking calls and API changes while Redis is down, and publishes the backlog once it is back.
//! The test runs its own redis-server on a free port (never the shared one on 6379).

#![allow(clippy::unwrap_used)]

mod support;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use support::agent::{AgentSetup, SippAgent};
use support::http::post;
use support::sipp::Sipp;
use support::{free_port, poll_until, Hotline, Options};

const STREAM: &str = "hotline:events";

/// A private redis-server (no persistence) killed on drop.
struct Redis {
    child: Child,
    port: u16,
}

impl Redis {
    fn start(port: u16, dir: &Path) -> Self {
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server is installed (apt-get install redis-server)");
        let r = Redis { child, port };
        let up = poll_until(Duration::from_secs(10), || {
            r.cli(&["PING"]).is_some_and(|o| o.trim() == "PONG")
        });
        assert!(up, "redis-server did not start on port {port}");
        r
    }

    fn cli(&self, args: &[&str]) -> Option<String> {
        let out = Command::new("redis-cli")
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "--raw"])
            .args(args)
            .stdin(Stdio::null())
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// The `id` field of every entry of the stream, in stream order.
    fn event_ids(&self) -> Vec<String> {
        let Some(out) = self.cli(&["XRANGE", STREAM, "-", "+"]) else {
            return Vec::new();
        };
        // --raw prints each entry as: entry id, then field and value lines.
        let lines: Vec<&str> = out.lines().collect();
        lines
            .windows(2)
            .filter(|w| w[0] == "id")
            .map(|w| w[1].to_string())
            .collect()
    }

    fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn journal_ids(h: &Hotline) -> Vec<String> {
    h.events()
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_string())
        .collect()
}

/// Concatenates what consumers saw, keeping the first copy of each id.
fn dedupe(parts: &[&[String]]) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    parts
        .iter()
        .flat_map(|p| p.iter())
        .filter(|id| seen.insert((*id).clone()))
        .cloned()
        .collect()
}

fn set_state(h: &Hotline, body: &str) {
    let r = post(
        h.http,
        "/api/v1/agents/1001/state",
        Some("hotline-demo-token"),
        body,
    )
    .unwrap();
    assert_eq!(r.status, 200, "{body}: {}", r.body);
}

#[test]
fn events_reach_the_stream_in_order_and_survive_a_redis_outage() {
    let redis_dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let redis = Redis::start(port, redis_dir.path());
    let h = Hotline::start(Options {
        redis_url: Some(format!("redis://127.0.0.1:{port}")),
        ..Options::default()
    });

    // Redis up: registration and API changes are streamed with the journal's ids, in order.
    let agent = SippAgent::start(
        &h,
        AgentSetup {
            hold_ms: 9000,
            ..AgentSetup::default()
        },
    );
    set_state(&h, r#"{"state":"not_ready","reason":"training"}"#);
    set_state(&h, r#"{"state":"ready"}"#);
    h.wait_event("ready again", Duration::from_secs(5), |e| {
        e["type"] == "agent.state_changed" && e["from"] == "not_ready"
    });
    let synced = poll_until(Duration::from_secs(10), || {
        redis.event_ids() == journal_ids(&h)
    });
    assert!(
        synced,
        "stream {:?}\njournal {:?}",
        redis.event_ids(),
        journal_ids(&h)
    );
    let before = redis.event_ids();
    assert!(before.len() >= 4, "{before:?}");
    let types = redis.cli(&["XRANGE", STREAM, "-", "+"]).unwrap();
    assert!(types.contains("agent.registered"), "{types}");

    // Redis down: a call and API changes still work and are journaled.
    redis.kill();
    set_state(&h, r#"{"state":"not_ready","reason":"coffee"}"#);
    set_state(&h, r#"{"state":"ready"}"#);
    let caller = Sipp::new("caller_ivr.xml", h.sip)
        .var("digit", 1)
        .var("talk_ms", 1000)
        .key("caller_pt", 0)
        .args(&["-s", "200", "-m", "1", "-rtp_echo"])
        .run(Duration::from_secs(15));
    caller.assert_ok("caller while Redis is down");
    let ended = h.wait_type("call.ended", Duration::from_secs(5));
    assert_eq!(ended["reason"], "completed");
    let down = journal_ids(&h);
    assert!(down.len() >= before.len() + 6, "too few events while down");

    // Redis back (empty: it kept nothing): the backlog arrives, then the rest of the agent's day.
    let redis = Redis::start(port, redis_dir.path());
    agent.finish(Duration::from_secs(20)).assert_ok("agent");
    h.wait_event("agent logged out", Duration::from_secs(10), |e| {
        e["type"] == "agent.state_changed" && e["to"] == "logged_out"
    });
    let all = journal_ids(&h);
    let mut after = Vec::new();
    let complete = poll_until(Duration::from_secs(15), || {
        after = redis.event_ids();
        dedupe(&[&before, &after]) == all
    });
    assert!(
        complete,
        "events missing or out of order after Redis came back:\nbefore {before:?}\nafter {after:?}\njournal {all:?}"
    );
    assert!(
        after.iter().any(|id| !before.contains(id)),
        "nothing was published after the restart"
    );
}
