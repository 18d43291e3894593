//! Shared helpers of the engine's tests: a campaign on virtual time with numbered records.

use std::collections::BTreeMap;
use std::time::Duration;

use jiff::Timestamp;

use super::*;
use crate::ids::{AgentName, QueueName};
use crate::list::ListRecord;
use crate::number::E164;
use crate::outcome::{DialOutcome, OutcomeKind};
use crate::pacing::{BusyAgent, DialMode};
use crate::scheduler::NoDnc;
use crate::time::Zone;

/// Monday 2026-12-07 10:00 UTC.
pub(crate) fn t0() -> Timestamp {
    "2026-12-07T10:00:00Z"
        .parse()
        .unwrap_or_else(|e| panic!("{e}"))
}

pub(crate) fn secs(s: u64) -> Timestamp {
    time::add(t0(), Duration::from_secs(s))
}

pub(crate) fn number(n: u32) -> E164 {
    E164::parse(&format!("+4420{n:08}")).unwrap_or_else(|e| panic!("{e}"))
}

pub(crate) fn record(n: u32) -> ListRecord {
    ListRecord {
        line: u64::from(n) + 2,
        number: number(n),
        name: Some(format!("customer {n}")),
        time_zone: Some(Zone::utc()),
        priority: 0,
        due: Default::default(),
        attributes: BTreeMap::new(),
    }
}

pub(crate) fn cid() -> CampaignId {
    CampaignId::new("renewals")
}

pub(crate) fn spec(mode: DialMode) -> CampaignSpec {
    let mut s = CampaignSpec::new(
        cid(),
        QueueName::new("sales"),
        number(99_999_999),
        TrunkSpec {
            name: TrunkName::new("carrier"),
            channels: 100,
        },
    );
    s.mode = mode;
    if mode == DialMode::Agentless {
        s.audience = Audience::Flow {
            flow: "notice".into(),
        };
    }
    s
}

pub(crate) fn engine_with(spec: CampaignSpec, records: u32) -> CampaignEngine {
    let mut e = CampaignEngine::new();
    e.handle(t0(), Command::Create(Box::new(spec)), &NoDnc)
        .unwrap_or_else(|e| panic!("{e}"));
    let records = (0..records).map(record).collect();
    let add = Command::AddRecords {
        campaign: cid(),
        records,
    };
    e.handle(t0(), add, &NoDnc)
        .unwrap_or_else(|e| panic!("{e}"));
    e.handle(t0(), Command::Start { campaign: cid() }, &NoDnc)
        .unwrap_or_else(|e| panic!("{e}"));
    e
}

pub(crate) fn agent(i: u32) -> FreeAgent {
    FreeAgent {
        name: AgentName::new(format!("agent{i}")),
        inbound: vec![],
    }
}

pub(crate) fn capacity(free: u32, busy: Vec<BusyAgent>) -> DialCapacity {
    let mut c = DialCapacity::default();
    c.campaigns.insert(
        cid(),
        CampaignCapacity {
            free_agents: (0..free).map(agent).collect(),
            busy,
        },
    );
    c
}

pub(crate) fn dials(work: &[Work]) -> Vec<DialOrder> {
    work.iter()
        .filter_map(|w| match w {
            Work::Dial(d) => Some(d.clone()),
            Work::Offer(_) => None,
        })
        .collect()
}

pub(crate) fn drain(e: &mut CampaignEngine) -> Vec<CampaignEvent> {
    std::iter::from_fn(|| e.poll_event()).collect()
}

pub(crate) fn types(events: &[CampaignEvent]) -> Vec<&'static str> {
    events.iter().map(|e| e.type_name()).collect()
}

pub(crate) fn ok(e: &mut CampaignEngine, now: Timestamp, c: Command) {
    e.handle(now, c, &NoDnc).unwrap_or_else(|e| panic!("{e}"));
}

pub(crate) fn outcome(o: &DialOrder, kind: OutcomeKind) -> Command {
    Command::Outcome {
        campaign: o.campaign.clone(),
        entry: o.entry,
        attempt: o.attempt,
        outcome: DialOutcome::of(kind),
    }
}

pub(crate) fn answered(o: &DialOrder, verdict: AnswerVerdict) -> Command {
    Command::Answered {
        campaign: o.campaign.clone(),
        entry: o.entry,
        attempt: o.attempt,
        verdict,
    }
}

pub(crate) fn state(e: &CampaignEngine, entry: EntryId) -> EntryState {
    e.entries(&cid())[entry.0 as usize].state.clone()
}
