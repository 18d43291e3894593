//! Property tests of the engine: random command sequences on virtual time, checked against
//! its invariants and against a replay of its own events.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use jiff::Timestamp;
use proptest::prelude::*;

use super::testutil::{capacity, cid, number, record, spec, t0};
use super::*;
use crate::config::RetryRule;
use crate::ids::AgentName;
use crate::number::E164;
use crate::outcome::{DialOutcome, OutcomeKind};
use crate::pacing::{BusyAgent, DialMode, JurisdictionProfile};
use crate::time::{LocalTime, Zone};
use crate::window::{CallingWindow, Days, WindowSpan};

#[derive(Debug, Clone)]
enum Op {
    Advance(u64),
    Dial { free: u32, busy: usize },
    Fail(usize, OutcomeKind),
    Answer(usize, AnswerVerdict),
    Connect(usize, u64),
    Abandon(usize),
    Add(Vec<u32>),
    Pause,
    Resume,
    Restart,
    Accept(usize),
    Skip(usize),
    FlowDone(usize, bool),
}

fn op() -> impl Strategy<Value = Op> {
    let kind = prop_oneof![
        Just(OutcomeKind::Busy),
        Just(OutcomeKind::NoAnswer),
        Just(OutcomeKind::Rejected),
        Just(OutcomeKind::NetworkFailure),
        Just(OutcomeKind::InvalidNumber),
    ];
    let verdict = prop_oneof![
        3 => Just(AnswerVerdict::Human),
        1 => Just(AnswerVerdict::Machine),
        1 => Just(AnswerVerdict::NotSure),
    ];
    prop_oneof![
        4 => prop_oneof![0u64..120, (0u64..12).prop_map(|h| h * 3600), Just(72 * 3600)]
            .prop_map(Op::Advance),
        5 => (0u32..6, 0usize..20).prop_map(|(free, busy)| Op::Dial { free, busy }),
        3 => (any::<usize>(), kind).prop_map(|(i, k)| Op::Fail(i, k)),
        4 => (any::<usize>(), verdict).prop_map(|(i, v)| Op::Answer(i, v)),
        2 => (any::<usize>(), 0u64..4000).prop_map(|(i, ms)| Op::Connect(i, ms)),
        3 => any::<usize>().prop_map(Op::Abandon),
        1 => prop::collection::vec(0u32..40, 0..8).prop_map(Op::Add),
        1 => Just(Op::Pause),
        1 => Just(Op::Resume),
        1 => Just(Op::Restart),
        3 => any::<usize>().prop_map(Op::Accept),
        1 => any::<usize>().prop_map(Op::Skip),
        2 => (any::<usize>(), any::<bool>()).prop_map(|(i, done)| Op::FlowDone(i, done)),
    ]
}

fn zone(n: u32) -> Zone {
    let name = ["UTC", "Asia/Tokyo", "America/New_York", "Europe/London"][n as usize % 4];
    Zone::new(name).unwrap_or_else(|e| panic!("{e}"))
}

fn global_dnc() -> BTreeSet<E164> {
    (0..40).filter(|n| n % 7 == 3).map(number).collect()
}

fn uk_spec(mode: DialMode) -> CampaignSpec {
    let mut s = spec(mode);
    s.profile = JurisdictionProfile::Uk;
    s.dnc = (0..40).filter(|n| n % 11 == 5).map(number).collect();
    s.max_attempts = 6;
    s.retry_abandoned = RetryRule {
        delay: Duration::from_secs(600),
        max_attempts: 4,
    };
    s.retry.busy.delay = Duration::from_secs(300);
    s.window = CallingWindow {
        spans: vec![WindowSpan {
            days: Days::WEEKDAYS,
            start: LocalTime::new(9, 0).unwrap_or(LocalTime::MIDNIGHT),
            end: LocalTime::new(17, 0).unwrap_or(LocalTime::END_OF_DAY),
        }],
    };
    s
}

struct Run {
    engine: CampaignEngine,
    log: Vec<CampaignEvent>,
    now: Timestamp,
    /// Calls the driver knows of: (entry, attempt).
    calls: Vec<(EntryId, u32)>,
    /// Preview offers the driver holds.
    offers: Vec<PreviewOffer>,
    dnc: BTreeSet<E164>,
}

impl Run {
    fn drain(&mut self) {
        while let Some(event) = self.engine.poll_event() {
            self.log.push(event);
        }
    }

    fn pick(&self, i: usize) -> Option<(EntryId, u32)> {
        if self.calls.is_empty() {
            None
        } else {
            Some(self.calls[i % self.calls.len()])
        }
    }

    /// A call waiting for an agent, if any.
    fn pick_waiting(&self, i: usize) -> Option<(EntryId, u32)> {
        let entries = self.engine.entries(&cid());
        let waiting: Vec<(EntryId, u32)> = self
            .calls
            .iter()
            .copied()
            .filter(|(e, _)| matches!(entries[e.0 as usize].state, EntryState::WaitingAgent { .. }))
            .collect();
        if waiting.is_empty() {
            self.pick(i)
        } else {
            Some(waiting[i % waiting.len()])
        }
    }

    /// A report about a call: accepted, or refused as stale (the engine timed it out).
    fn report(&mut self, command: Command) -> Result<(), TestCaseError> {
        match self.engine.handle(self.now, command, &self.dnc) {
            Ok(_) | Err(CommandError::StaleAttempt { .. }) => Ok(()),
            Err(e) => Err(TestCaseError::fail(format!("{e}"))),
        }
    }

    fn step(&mut self, op: Op) -> Result<(), TestCaseError> {
        let c = cid();
        match op {
            Op::Advance(s) => self.now = crate::time::add(self.now, Duration::from_secs(s)),
            Op::Dial { free, busy } => {
                let wrap = BusyAgent::WrapUp {
                    age: Duration::from_secs(10),
                };
                let cap = capacity(free, vec![wrap; busy]);
                let dnc = self.dnc.clone();
                for work in self.engine.next_dials(self.now, &cap, &dnc) {
                    match work {
                        Work::Dial(order) => self.calls.push((order.entry, order.attempt)),
                        Work::Offer(offer) => self.offers.push(offer),
                    }
                }
            }
            Op::Fail(i, kind) => {
                if let Some((entry, attempt)) = self.pick(i) {
                    self.report(Command::Outcome {
                        campaign: c,
                        entry,
                        attempt,
                        outcome: DialOutcome::of(kind),
                    })?;
                }
            }
            Op::Answer(i, verdict) => {
                if let Some((entry, attempt)) = self.pick(i) {
                    self.report(Command::Answered {
                        campaign: c,
                        entry,
                        attempt,
                        verdict,
                    })?;
                }
            }
            Op::Connect(i, ms) => {
                if let Some((entry, attempt)) = self.pick_waiting(i) {
                    self.report(Command::ConnectedToAgent {
                        campaign: c,
                        entry,
                        attempt,
                        agent: AgentName::new("a"),
                        after: Duration::from_millis(ms),
                        // The greeting ended somewhere between the answer and the connection.
                        since_greeting: Duration::from_millis(ms - ms / 3),
                    })?;
                }
            }
            Op::Abandon(i) => {
                if let Some((entry, attempt)) = self.pick_waiting(i) {
                    self.report(Command::Abandoned {
                        campaign: c,
                        entry,
                        attempt,
                    })?;
                }
            }
            Op::Add(ns) => {
                let records = ns
                    .iter()
                    .map(|n| {
                        let mut r = record(*n);
                        r.time_zone = Some(zone(*n));
                        r
                    })
                    .collect();
                let add = Command::AddRecords {
                    campaign: c,
                    records,
                };
                self.engine
                    .handle(self.now, add, &self.dnc)
                    .map_err(|e| TestCaseError::fail(e.to_string()))?;
            }
            Op::Pause => {
                let _ = self
                    .engine
                    .handle(self.now, Command::Pause { campaign: c }, &self.dnc);
            }
            Op::Resume => {
                let _ = self
                    .engine
                    .handle(self.now, Command::Resume { campaign: c }, &self.dnc);
            }
            Op::Accept(i) | Op::Skip(i) if !self.offers.is_empty() => {
                let offer = self.offers.remove(i % self.offers.len());
                let (campaign, entry, agent) = (offer.campaign, offer.entry, offer.agent);
                let command = if matches!(op, Op::Accept(_)) {
                    Command::Accept {
                        campaign,
                        entry,
                        agent,
                    }
                } else {
                    Command::Skip {
                        campaign,
                        entry,
                        agent,
                    }
                };
                match self.engine.handle(self.now, command, &self.dnc) {
                    Ok(Some(order)) => self.calls.push((order.entry, order.attempt)),
                    Ok(None)
                    | Err(CommandError::NotOffered { .. } | CommandError::BadState { .. }) => {}
                    Err(e) => return Err(TestCaseError::fail(e.to_string())),
                }
            }
            Op::Accept(_) | Op::Skip(_) => {}
            Op::FlowDone(i, done) => {
                if let Some((entry, attempt)) = self.pick(i) {
                    let result = if done {
                        AgentlessResult::Completed
                    } else {
                        AgentlessResult::HungUp
                    };
                    self.report(Command::AgentlessDone {
                        campaign: c,
                        entry,
                        attempt,
                        result,
                    })?;
                }
            }
            Op::Restart => {
                self.drain();
                self.engine = CampaignEngine::restore(&self.log);
                self.calls.clear();
                self.offers.clear();
                self.engine
                    .handle(self.now, Command::Restarted, &self.dnc)
                    .map_err(|e| TestCaseError::fail(e.to_string()))?;
            }
        }
        self.drain();
        // Forget calls the engine ended.
        let entries = self.engine.entries(&cid());
        self.calls
            .retain(|(e, a)| entries[e.0 as usize].state.open_attempt() == Some(*a));
        self.offers.retain(|o| {
            matches!(&entries[o.entry.0 as usize].state, EntryState::Offered { agent, .. } if *agent == o.agent)
        });
        Ok(())
    }
}

/// Checks the log: one open attempt per entry at a time, nothing dialed on a DNC list or
/// outside its window, no number redialed within 72 h of a live abandon.
fn check_log(
    log: &[CampaignEvent],
    spec: &CampaignSpec,
    dnc: &BTreeSet<E164>,
) -> Result<(), TestCaseError> {
    let mut open: HashMap<EntryId, u32> = HashMap::new();
    let mut zones: HashMap<EntryId, Zone> = HashMap::new();
    let mut added_dnc: BTreeSet<E164> = BTreeSet::new();
    let mut abandoned: HashMap<E164, Timestamp> = HashMap::new();
    let bar = Duration::from_secs(72 * 3600);
    for event in log {
        match event {
            CampaignEvent::RecordsAdded { first, records, .. } => {
                for (i, r) in records.iter().enumerate() {
                    if let Some(z) = &r.time_zone {
                        zones.insert(EntryId(first.0 + i as u64), z.clone());
                    }
                }
            }
            CampaignEvent::DncAdded { numbers, .. } => added_dnc.extend(numbers.iter().cloned()),
            CampaignEvent::AttemptStarted {
                at,
                entry,
                attempt,
                number,
                ..
            } => {
                prop_assert!(
                    !open.contains_key(entry),
                    "entry {:?} has attempt {:?} open when {} starts",
                    entry,
                    open.get(entry),
                    attempt
                );
                open.insert(*entry, *attempt);
                prop_assert!(!dnc.contains(number) && !spec.dnc.contains(number));
                prop_assert!(!added_dnc.contains(number));
                let zone = zones.get(entry).cloned().unwrap_or_else(Zone::utc);
                prop_assert!(
                    spec.window.is_open(*at, &zone),
                    "dialed at {} outside the window in {:?}",
                    at,
                    zone
                );
                if let Some(last) = abandoned.get(number) {
                    prop_assert!(
                        *at >= crate::time::add(*last, bar),
                        "redialed at {} after an abandon at {}",
                        at,
                        last
                    );
                }
            }
            CampaignEvent::AttemptEnded { entry, attempt, .. } => {
                prop_assert_eq!(open.remove(entry), Some(*attempt));
            }
            CampaignEvent::Abandoned {
                at,
                number,
                live: true,
                ..
            } => {
                abandoned.insert(number.clone(), *at);
            }
            _ => {}
        }
    }
    Ok(())
}

fn run(mode: DialMode, ops: Vec<Op>) -> Result<(), TestCaseError> {
    let spec = uk_spec(mode);
    let mut engine = CampaignEngine::new();
    let dnc = global_dnc();
    engine
        .handle(t0(), Command::Create(Box::new(spec.clone())), &dnc)
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    let records = (0..20)
        .map(|n| {
            let mut r = record(n);
            r.time_zone = Some(zone(n));
            r
        })
        .collect();
    let mut r = Run {
        engine,
        log: vec![],
        now: t0(),
        calls: vec![],
        offers: vec![],
        dnc,
    };
    r.step(Op::Add(vec![]))?;
    r.engine
        .handle(
            t0(),
            Command::AddRecords {
                campaign: cid(),
                records,
            },
            &r.dnc,
        )
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    r.engine
        .handle(t0(), Command::Start { campaign: cid() }, &r.dnc)
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    r.drain();
    for op in ops {
        r.step(op)?;
    }
    check_log(&r.log, &spec, &r.dnc)?;
    // Replay == live: the events rebuild the same entries and statistics.
    let mut replayed = CampaignEngine::restore(&r.log);
    prop_assert_eq!(replayed.entries(&cid()), r.engine.entries(&cid()));
    prop_assert_eq!(replayed.run_state(&cid()), r.engine.run_state(&cid()));
    let live = r.engine.stats(r.now, &cid());
    prop_assert_eq!(replayed.stats(r.now, &cid()), live.clone());
    // Stats add up.
    if let Some(s) = live {
        prop_assert_eq!(s.done + s.pending + s.in_progress, s.total);
        prop_assert_eq!(
            s.dials,
            r.log
                .iter()
                .filter(|e| e.type_name() == "attempt_started")
                .count() as u64
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 160, ..ProptestConfig::default() })]

    /// Campaigns of every mode under random commands.
    #[test]
    fn random_commands_keep_the_invariants_and_replay_to_the_same_state(
        mode in prop_oneof![
            Just(DialMode::Progressive),
            Just(DialMode::Predictive),
            Just(DialMode::Preview),
            Just(DialMode::Agentless),
        ],
        ops in prop::collection::vec(op(), 1..150),
    ) {
        run(mode, ops)?;
    }
}
