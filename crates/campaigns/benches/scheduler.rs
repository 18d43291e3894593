//! Scheduling decision cost with 100,000 pending callbacks in 10 queues, customers in
//! Shanghai, New York and London (at the bench's instant only Shanghai's window is open).
//!
//! - `claim_dial_answer`: one agent frees up: dispatch claims the first callback in order, the
//!   agent is reserved (DNC and window checked), the customer answers; a new callback arrives
//!   so the backlog stays at 100,000.
//! - `dispatch_no_agent`: a dispatch with no free agent (the driver's timer ticks).
//! - `create`: one callback created (sampling decision, due window, indexes).
//!
//! Printed once before the criterion runs: building the backlog, the first dispatch that puts
//! the closed-window callbacks to sleep, and a restore (replay) of the whole event log.

// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

use std::collections::BTreeSet;
use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use hotline_campaigns::*;
use jiff::Timestamp;

const PENDING: u128 = 100_000;
const QUEUES: u128 = 10;
const ZONES: [&str; 3] = ["Asia/Shanghai", "America/New_York", "Europe/London"];

fn queue(q: u128) -> QueueName {
    QueueName::new(format!("queue{q}"))
}

fn config() -> SchedulerConfig {
    let mut config = SchedulerConfig::default();
    for q in 0..QUEUES {
        config.queues.insert(
            queue(q),
            QueueSettings {
                max_dials_per_minute: u32::MAX,
                ..QueueSettings::default()
            },
        );
    }
    config.sampling = serde_json::from_str(
        r#"{"seed": 1, "rules": [{"name": "complaints", "match": {"reason": "complaint"}, "percent": 50}]}"#,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    config
}

fn new_callback(id: u128) -> NewCallback {
    NewCallback {
        id: CallbackId(id),
        number: E164::parse(&format!("+86138{:08}", id % 100_000_000))
            .unwrap_or_else(|e| panic!("{e}")),
        time_zone: Zone::new(ZONES[(id % 3) as usize]).ok(),
        reason: "follow_up".into(),
        attributes: Default::default(),
        queue: queue(id % QUEUES),
        skills: vec![],
        priority: (id % 5) as i32,
        due: DueSpec {
            deadline: Some(Deadline::Within(Duration::from_secs(
                3600 + (id as u64 * 7919) % (72 * 3600),
            ))),
            ..DueSpec::default()
        },
    }
}

struct World {
    s: Scheduler,
    now: Timestamp,
    next: u128,
    dnc: BTreeSet<E164>,
}

impl World {
    fn new() -> (Self, Vec<CallbackEvent>) {
        let now: Timestamp = "2026-12-07T02:00:00Z"
            .parse()
            .unwrap_or(Timestamp::UNIX_EPOCH);
        let mut s = Scheduler::new(config()).unwrap_or_else(|e| panic!("{e}"));
        let mut log = Vec::new();
        let t = Instant::now();
        for id in 0..PENDING {
            s.handle(now, Command::Create(Box::new(new_callback(id))))
                .unwrap_or_else(|e| panic!("{e}"));
            log.extend(std::iter::from_fn(|| s.poll_event()));
        }
        println!("create 100,000 callbacks: {:?}", t.elapsed());
        let t = Instant::now();
        let idle = Capacity {
            free_agents: (0..QUEUES).map(|q| (queue(q), 0)).collect(),
            total: None,
        };
        s.dispatch(now, &idle, &NoDnc);
        println!("first dispatch, no agent: {:?}", t.elapsed());
        let dnc: BTreeSet<E164> = (0..1000u64)
            .map(|n| E164::parse(&format!("+8613999{n:06}")).unwrap_or_else(|e| panic!("{e}")))
            .collect();
        (
            Self {
                s,
                now,
                next: PENDING,
                dnc,
            },
            log,
        )
    }

    /// One agent of queue `q` frees up: claim, reserve, answer; one new callback arrives.
    fn cycle(&mut self, q: u128) {
        self.now = self
            .now
            .checked_add(Duration::from_millis(10))
            .unwrap_or(self.now);
        let free = Capacity {
            free_agents: [(queue(q), 1)].into(),
            total: None,
        };
        self.s.dispatch(self.now, &free, &self.dnc);
        while let Some(event) = self.s.poll_event() {
            if let CallbackEvent::Claimed { id, .. } = event {
                let r = self
                    .s
                    .agent_reserved(self.now, id, AgentName::new("a"), &self.dnc);
                if let Ok(Reservation::Dial(order)) = r {
                    let outcome = DialOutcome::of(OutcomeKind::Answered);
                    let cmd = Command::Outcome {
                        id,
                        attempt: order.attempt,
                        outcome,
                    };
                    let _ = self.s.handle(self.now, cmd);
                }
            }
        }
        let cb = new_callback(self.next);
        self.next += 1;
        let _ = self.s.handle(self.now, Command::Create(Box::new(cb)));
        while self.s.poll_event().is_some() {}
    }
}

/// Resident memory in KiB (Linux), 0 elsewhere.
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |pages| pages * 4)
}

/// 100,000 Shanghai callbacks created at 22:00 local, then agents free in every queue: the
/// dispatch skips the closed zone whole (one window check per queue) and arms a wake for 09:00.
fn night_figure() {
    let night: Timestamp = "2026-12-07T14:00:00Z"
        .parse()
        .unwrap_or(Timestamp::UNIX_EPOCH);
    let mut s = Scheduler::new(config()).unwrap_or_else(|e| panic!("{e}"));
    for id in 0..PENDING {
        let mut cb = new_callback(id * 3);
        cb.time_zone = Zone::new("Asia/Shanghai").ok();
        let _ = s.handle(night, Command::Create(Box::new(cb)));
    }
    while s.poll_event().is_some() {}
    let free = Capacity {
        free_agents: (0..QUEUES).map(|q| (queue(q), 5)).collect(),
        total: None,
    };
    let t = Instant::now();
    let claimed = s.dispatch(night, &free, &NoDnc);
    println!("night: first dispatch with agents free, 100,000 outside their window: {:?} ({claimed} claimed)", t.elapsed());
    let t = Instant::now();
    for _ in 0..1000 {
        black_box(s.dispatch(night, &free, &NoDnc));
    }
    println!(
        "night: the next dispatches: {:?} each (mean of 1,000)",
        t.elapsed() / 1000
    );
    let morning: Timestamp = "2026-12-08T01:00:00Z"
        .parse()
        .unwrap_or(Timestamp::UNIX_EPOCH);
    let t = Instant::now();
    let claimed = s.dispatch(morning, &free, &NoDnc);
    println!(
        "09:00: the window opens (the night's deadline warnings and missed deadlines fire first): {:?} ({claimed} claimed)",
        t.elapsed()
    );
}

fn bench(c: &mut Criterion) {
    night_figure();
    let before = rss_kib();
    let (mut world, log) = World::new();
    let after = rss_kib();
    println!(
        "resident memory for 100,000 callbacks and their 100,000-event log: {} MiB",
        after.saturating_sub(before) / 1024
    );
    let t = Instant::now();
    let restored = Scheduler::restore(config(), &log).unwrap_or_else(|e| panic!("{e}"));
    println!("restore from {} events: {:?}", log.len(), t.elapsed());
    black_box(restored);
    let mut group = c.benchmark_group("callbacks_100k");
    let mut q = 0;
    group.bench_function("claim_dial_answer", |b| {
        b.iter(|| {
            // Shanghai callbacks are in every queue: rotate queues.
            q = (q + 1) % QUEUES;
            world.cycle(q);
        })
    });
    let idle = Capacity {
        free_agents: (0..QUEUES).map(|q| (queue(q), 0)).collect(),
        total: None,
    };
    group.bench_function("dispatch_no_agent", |b| {
        b.iter(|| black_box(world.s.dispatch(world.now, &idle, &NoDnc)))
    });
    group.bench_function("create", |b| {
        b.iter(|| {
            let cb = new_callback(world.next);
            world.next += 1;
            let _ = world.s.handle(world.now, Command::Create(Box::new(cb)));
            while world.s.poll_event().is_some() {}
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = bench
}
criterion_main!(benches);
