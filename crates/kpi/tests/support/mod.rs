//! Builds journal events by hand, on a virtual wall clock.

#![allow(dead_code)]

use hotline_events::{
    AgentState, EndReason, Event, EventDraft, EventKind, HungUpBy, OfferFailCause, Timestamp,
};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

/// A growing journal: events stamped `t0 + ms`, with consecutive `seq`s.
pub struct Journal {
    pub t0: OffsetDateTime,
    pub events: Vec<Event>,
}

pub fn call(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

impl Journal {
    pub fn new(t0: OffsetDateTime) -> Self {
        Self {
            t0,
            events: Vec::new(),
        }
    }

    pub fn at(&self, ms: i64) -> Timestamp {
        Timestamp::from_datetime(self.t0 + Duration::milliseconds(ms))
    }

    pub fn push(&mut self, ms: i64, draft: EventDraft) -> &mut Self {
        let seq = self.events.len() as u64 + 1;
        let ts = self.at(ms);
        let ev = draft.into_event(Uuid::from_u128(u128::from(seq)), seq, ts, "hl-1");
        self.events.push(ev);
        self
    }

    pub fn arrived(&mut self, ms: i64, c: u128) -> &mut Self {
        let kind = EventKind::CallArrived {
            from: "1001".into(),
            to: "400".into(),
        };
        self.push(ms, EventDraft::new(kind).call(call(c)))
    }

    pub fn queued(&mut self, ms: i64, c: u128, queue: &str) -> &mut Self {
        let kind = EventKind::CallQueued { position: 1 };
        self.push(ms, EventDraft::new(kind).call(call(c)).queue(queue))
    }

    pub fn offered(&mut self, ms: i64, c: u128, queue: &str, agent: &str) -> &mut Self {
        let kind = EventKind::CallOffered {
            ring_timeout_ms: 15_000,
            data: Default::default(),
        };
        self.push(
            ms,
            EventDraft::new(kind)
                .call(call(c))
                .queue(queue)
                .agent(agent),
        )
    }

    pub fn offer_failed(&mut self, ms: i64, c: u128, queue: &str, agent: &str) -> &mut Self {
        self.offer_failed_with(ms, c, queue, agent, OfferFailCause::NoAnswer)
    }

    pub fn offer_failed_with(
        &mut self,
        ms: i64,
        c: u128,
        queue: &str,
        agent: &str,
        cause: OfferFailCause,
    ) -> &mut Self {
        let kind = EventKind::CallOfferFailed { cause };
        self.push(
            ms,
            EventDraft::new(kind)
                .call(call(c))
                .queue(queue)
                .agent(agent),
        )
    }

    pub fn answered(
        &mut self,
        ms: i64,
        c: u128,
        queue: &str,
        agent: &str,
        wait_ms: u64,
    ) -> &mut Self {
        let kind = EventKind::CallAnswered { wait_ms };
        self.push(
            ms,
            EventDraft::new(kind)
                .call(call(c))
                .queue(queue)
                .agent(agent),
        )
    }

    pub fn abandoned(&mut self, ms: i64, c: u128, queue: &str, wait_ms: u64) -> &mut Self {
        let kind = EventKind::CallAbandoned {
            wait_ms,
            position: None,
        };
        self.push(ms, EventDraft::new(kind).call(call(c)).queue(queue))
    }

    pub fn held(&mut self, ms: i64, c: u128) -> &mut Self {
        self.push(ms, EventDraft::new(EventKind::CallHeld).call(call(c)))
    }

    pub fn resumed(&mut self, ms: i64, c: u128) -> &mut Self {
        self.push(ms, EventDraft::new(EventKind::CallResumed).call(call(c)))
    }

    pub fn ended(&mut self, ms: i64, c: u128) -> &mut Self {
        let kind = EventKind::CallEnded {
            reason: EndReason::Completed,
            hung_up_by: HungUpBy::Caller,
            duration_ms: 0,
        };
        self.push(ms, EventDraft::new(kind).call(call(c)))
    }

    pub fn state(
        &mut self,
        ms: i64,
        agent: &str,
        from: AgentState,
        to: AgentState,
        reason: Option<&str>,
    ) -> &mut Self {
        let kind = EventKind::AgentStateChanged {
            from,
            to,
            reason: reason.map(str::to_owned),
        };
        self.push(ms, EventDraft::new(kind).agent(agent))
    }
}
