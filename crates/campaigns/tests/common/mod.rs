//! Helpers shared by the scheduler's scenario and property tests.

#![allow(dead_code, missing_docs)]

use std::collections::BTreeMap;
use std::time::Duration;

use hotline_campaigns::*;
use jiff::Timestamp;

pub fn ts(text: &str) -> Timestamp {
    text.parse().unwrap_or_else(|e| panic!("{text}: {e}"))
}

pub fn zone(name: &str) -> Zone {
    Zone::new(name).unwrap_or_else(|e| panic!("{e}"))
}

pub fn number(n: u64) -> E164 {
    E164::parse(&format!("+86138{n:08}")).unwrap_or_else(|e| panic!("{e}"))
}

pub fn support() -> QueueName {
    QueueName::new("support")
}

pub fn config() -> SchedulerConfig {
    let mut config = SchedulerConfig::default();
    config.queues.insert(
        support(),
        QueueSettings {
            caller_id: E164::parse("+861088880000").ok(),
            ..QueueSettings::default()
        },
    );
    config
}

/// A callback of `support` for a customer in `tz`, due within `within`.
pub fn callback(id: u128, tz: Option<&str>, within: Option<Duration>) -> NewCallback {
    NewCallback {
        id: CallbackId(id),
        number: number(id as u64),
        time_zone: tz.map(zone),
        reason: "follow_up".into(),
        attributes: BTreeMap::new(),
        queue: support(),
        skills: vec![],
        priority: 0,
        due: DueSpec {
            deadline: within.map(Deadline::Within),
            ..DueSpec::default()
        },
    }
}

pub fn create(s: &mut Scheduler, now: Timestamp, new: NewCallback) {
    s.handle(now, Command::Create(Box::new(new)))
        .unwrap_or_else(|e| panic!("create: {e}"));
}

pub fn free(n: u32) -> Capacity {
    Capacity {
        free_agents: [(support(), n)].into(),
        total: None,
    }
}

pub fn drain(s: &mut Scheduler) -> Vec<CallbackEvent> {
    std::iter::from_fn(|| s.poll_event()).collect()
}

pub fn types(events: &[CallbackEvent]) -> Vec<&'static str> {
    events.iter().map(|e| e.type_name()).collect()
}

/// Claims and reserves "alice" for every claim; returns the dial orders.
pub fn dial_all(s: &mut Scheduler, now: Timestamp, agents: u32) -> Vec<DialOrder> {
    s.dispatch(now, &free(agents), &NoDnc);
    let claimed: Vec<CallbackId> = drain_claims(s);
    claimed
        .into_iter()
        .filter_map(
            |id| match s.agent_reserved(now, id, AgentName::new("alice"), &NoDnc) {
                Ok(Reservation::Dial(order)) => Some(order),
                _ => None,
            },
        )
        .collect()
}

/// Drains the events and returns the ids claimed.
pub fn drain_claims(s: &mut Scheduler) -> Vec<CallbackId> {
    drain(s)
        .into_iter()
        .filter_map(|e| match e {
            CallbackEvent::Claimed { id, .. } => Some(id),
            _ => None,
        })
        .collect()
}

/// Runs the scheduler to `until`, waking it at each timeout and dispatching with `agents`
/// free; returns every event and the dial orders (not answered: the caller reports them).
pub fn run_until(
    s: &mut Scheduler,
    mut now: Timestamp,
    until: Timestamp,
    agents: u32,
) -> (Vec<CallbackEvent>, Vec<(Timestamp, DialOrder)>) {
    let mut events = Vec::new();
    let mut orders = Vec::new();
    loop {
        s.dispatch(now, &free(agents), &NoDnc);
        let batch = drain(s);
        for e in &batch {
            if let CallbackEvent::Claimed { id, .. } = e {
                if let Ok(Reservation::Dial(o)) =
                    s.agent_reserved(now, *id, AgentName::new("alice"), &NoDnc)
                {
                    orders.push((now, o));
                }
            }
        }
        events.extend(batch);
        events.extend(drain(s));
        match s.poll_timeout() {
            Some((at, _)) if at <= until => now = at.max(now),
            _ => break,
        }
    }
    (events, orders)
}

/// [`dial_all`] keeping every event in `log`.
pub fn dial_logged(
    s: &mut Scheduler,
    now: Timestamp,
    agents: u32,
    log: &mut Vec<CallbackEvent>,
) -> Vec<DialOrder> {
    log.extend(drain(s));
    s.dispatch(now, &free(agents), &NoDnc);
    let batch = drain(s);
    let mut orders = Vec::new();
    for e in &batch {
        if let CallbackEvent::Claimed { id, .. } = e {
            if let Ok(Reservation::Dial(o)) =
                s.agent_reserved(now, *id, AgentName::new("alice"), &NoDnc)
            {
                orders.push(o);
            }
        }
    }
    log.extend(batch);
    log.extend(drain(s));
    orders
}
