//! Helpers shared by the integration tests: a private redis-server and bounded waits.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use hotline_events::{Event, EventDraft, EventKind};
use redis::streams::StreamRangeReply;
use tokio::sync::watch;

/// A redis-server owned by one test, on its own port, without persistence.
pub struct RedisServer {
    pub port: u16,
    child: Option<Child>,
}

impl RedisServer {
    /// Starts a redis-server on a free port and waits until it answers PING.
    pub async fn start() -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut server = Self { port, child: None };
        server.restart().await;
        server
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Kills the server (abruptly, like a crash) and reaps it.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port (empty: it has no persistence).
    pub async fn restart(&mut self) {
        assert!(self.child.is_none(), "server already running");
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string()])
            .args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|err| {
                panic!(
                    "these tests need `redis-server` (Redis 7) in PATH, e.g. `apt-get install \
                     redis-server`; starting it failed: {err}"
                )
            });
        self.child = Some(child);
        let client = redis::Client::open(self.url()).unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(mut con) = client.get_multiplexed_async_connection().await {
                let pong: redis::RedisResult<String> =
                    redis::cmd("PING").query_async(&mut con).await;
                if pong.is_ok() {
                    return;
                }
            }
            assert!(
                Instant::now() < deadline,
                "redis-server on port {} did not start",
                self.port
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// All entries of `stream`, parsed, with their `id` field checked against the event.
    pub async fn entries(&self, stream: &str) -> Vec<Event> {
        let client = redis::Client::open(self.url()).unwrap();
        let mut con = client.get_multiplexed_async_connection().await.unwrap();
        let reply: StreamRangeReply = redis::cmd("XRANGE")
            .arg(stream)
            .arg("-")
            .arg("+")
            .query_async(&mut con)
            .await
            .unwrap();
        reply
            .ids
            .iter()
            .map(|entry| {
                let json: String = entry.get("event").expect("event field");
                let id: String = entry.get("id").expect("id field");
                let kind: String = entry.get("type").expect("type field");
                let event: Event = serde_json::from_str(&json).unwrap();
                assert_eq!(id, event.id.to_string());
                assert_eq!(kind, event.type_name());
                event
            })
            .collect()
    }

    /// Polls the stream (short interval, bounded) until it holds at least `n` entries.
    pub async fn wait_for_len(&self, stream: &str, n: usize, timeout: Duration) -> Vec<Event> {
        let deadline = Instant::now() + timeout;
        loop {
            let entries = self.entries(stream).await;
            if entries.len() >= n {
                return entries;
            }
            assert!(
                Instant::now() < deadline,
                "stream {stream} has {} entries, expected {n}",
                entries.len()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Waits (bounded) until the watched seq reaches `seq`.
pub async fn wait_written(rx: &mut watch::Receiver<u64>, seq: u64) {
    let reached = tokio::time::timeout(Duration::from_secs(10), rx.wait_for(|s| *s >= seq))
        .await
        .map(|r| r.is_ok());
    assert!(
        matches!(reached, Ok(true)),
        "journal did not reach seq {seq} (at {})",
        *rx.borrow()
    );
}

/// The n-th test event: queued at position n.
pub fn draft(n: u32) -> EventDraft {
    EventDraft::new(EventKind::CallQueued { position: n })
        .call(uuid::Uuid::now_v7())
        .queue("support")
}

/// Asserts a delivered sequence has no gap and, once deduplicated by id, is exactly
/// seq 1..=n in order (a redelivery may only repeat events already seen).
pub fn assert_complete_in_order(events: &[Event], n: u64) {
    let mut seen = std::collections::HashSet::new();
    let mut max = 0;
    let mut unique = Vec::new();
    for e in events {
        assert!(e.seq <= max + 1, "gap: seq {} after max {max}", e.seq);
        max = max.max(e.seq);
        if seen.insert(e.id) {
            unique.push(e.seq);
        }
    }
    let expected: Vec<u64> = (1..=n).collect();
    assert_eq!(unique, expected);
}
