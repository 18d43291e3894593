//! The `hotline` command line: `dialplan check` and graceful shutdown on SIGTERM.

#![allow(clippy::unwrap_used)]

mod support;

use std::net::UdpSocket;
use std::process::Command;
use std::time::Duration;

use support::sipp::Sipp;
use support::{root, Hotline, Options};

fn hotline() -> Command {
    Command::new(env!("CARGO_BIN_EXE_hotline"))
}

#[test]
fn dialplan_check_accepts_the_bundled_dialplan() {
    // From the repository folder: the config's prompt folder is relative to it.
    let out = hotline()
        .current_dir(root())
        .args(["dialplan", "check"])
        .arg(root().join("dialplans/default.yaml"))
        .arg("--config")
        .arg(root().join("config/hotline.yaml"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("ok"));
}

#[test]
fn dialplan_check_reports_every_error_with_file_line_column() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.yaml");
    std::fs::write(
        &path,
        "version: 1\nnumbers:\n  \"100\":\n    start: a\n    nodes:\n      a: { play: greeting, next: nowhere }\n      b: { queue: sales }\n",
    )
    .unwrap();
    let out = hotline()
        .args(["dialplan", "check"])
        .arg(&path)
        .arg("--config")
        .arg(root().join("config/hotline.yaml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    let p = path.display();
    assert!(
        err.contains(&format!("{p}:6:34: error: unknown node `nowhere`")),
        "{err}"
    );
    assert!(
        err.contains(&format!("{p}:7:19: error: unknown queue `sales`")),
        "{err}"
    );
}

#[test]
fn serve_refuses_a_broken_dialplan_with_its_position() {
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("broken.yaml");
    std::fs::write(
        &plan,
        "version: 1\nnumbers:\n  \"100\":\n    start: missing\n    nodes: {}\n",
    )
    .unwrap();
    let out = hotline()
        .arg("serve")
        .arg("--config")
        .arg(root().join("config/hotline.yaml"))
        .arg("--dialplan")
        .arg(&plan)
        .arg("--data-dir")
        .arg(dir.path())
        .args([
            "--sip-listen",
            "127.0.0.1:0",
            "--http-listen",
            "127.0.0.1:0",
        ])
        .current_dir(root())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("{}:", plan.display())), "{err}");
}

/// A raw INVITE to `number` from `sock`.
fn invite(sock: &UdpSocket, to: std::net::SocketAddr, number: &str) -> String {
    let local = sock.local_addr().unwrap();
    let msg = format!(
        "INVITE sip:{number}@{to} SIP/2.0\r\nVia: SIP/2.0/UDP {local};branch=z9hG4bK-late-1;rport\r\n\
         From: <sip:5550000@{local}>;tag=late\r\nTo: <sip:{number}@{to}>\r\nCall-ID: late-call@test\r\n\
         CSeq: 1 INVITE\r\nContact: <sip:5550000@{local}>\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
    );
    sock.send_to(msg.as_bytes(), to).unwrap();
    let mut buf = [0u8; 4096];
    sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    loop {
        let (n, _) = sock.recv_from(&mut buf).unwrap();
        let text = String::from_utf8_lossy(&buf[..n]).into_owned();
        if !text.starts_with("SIP/2.0 100") {
            return text;
        }
    }
}

#[test]
fn sigterm_refuses_new_calls_lets_calls_finish_and_flushes_events() {
    let mut h = Hotline::start(Options {
        grace_period: 20,
        ..Options::default()
    });
    // A caller waits in queue support (number 200, no agent logged in) and hangs up after 4 s.
    let caller = Sipp::new("caller_ivr.xml", h.sip)
        .var("digit", 1)
        .var("talk_ms", 3000)
        .key("caller_pt", 0)
        .args(&["-s", "200", "-m", "1"])
        .spawn();
    h.wait_type("call.queued", Duration::from_secs(10));

    h.terminate();
    let draining =
        support::poll_until(Duration::from_secs(5), || h.log().contains("shutting down"));
    assert!(
        draining,
        "hotline did not start shutting down:\n{}",
        h.log()
    );
    // New calls are refused while the old one finishes.
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let answer = invite(&sock, h.sip, "100");
    assert!(answer.starts_with("SIP/2.0 503"), "{answer}");
    assert!(answer.contains("Retry-After"), "{answer}");

    caller
        .wait(Duration::from_secs(15))
        .assert_ok("caller in queue during shutdown");
    let status = h
        .wait_exit(Duration::from_secs(15))
        .expect("hotline exits after its last call");
    assert!(status.success(), "{status:?}");
    let events = h.events();
    let last = events.last().unwrap();
    assert_eq!(last["type"], "call.ended", "{last}");
    assert_eq!(last["hung_up_by"], "caller");
    assert!(events.iter().any(|e| e["type"] == "call.abandoned"));
}
