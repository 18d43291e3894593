//! Builds journal events by hand, on a virtual wall clock.

#![allow(dead_code)]

use hotline_events::{
    AgentState, CallbackFailCause, CallbackGiveUpReason, EndReason, Event, EventDraft, EventKind,
    HungUpBy, OfferFailCause, ScheduledCallback, ScheduledGiveUpReason, Timestamp,
};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

/// A growing journal: events stamped `t0 + ms`, with consecutive `seq`s.
pub struct Journal {
    pub t0: OffsetDateTime,
    pub events: Vec<Event>,
}

/// An event kind from its JSON: the optional fields a newer schema adds take their defaults.
pub fn kind(json: serde_json::Value) -> EventKind {
    serde_json::from_value(json).expect("a valid event kind")
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

    pub fn ended_with(&mut self, ms: i64, c: u128, reason: EndReason) -> &mut Self {
        let kind = EventKind::CallEnded {
            reason,
            hung_up_by: HungUpBy::System,
            duration_ms: 0,
        };
        self.push(ms, EventDraft::new(kind).call(call(c)))
    }

    /// The waiting caller of call `c` chose a callback (entered the queue at `entered_ms`).
    pub fn converted(&mut self, ms: i64, c: u128, queue: &str, entered_ms: i64) -> &mut Self {
        let kind = EventKind::CallbackConverted {
            number: "+8613800000000".into(),
            note: None,
            entered_at: self.at(entered_ms),
            priority: 0,
        };
        self.push(ms, EventDraft::new(kind).call(call(c)).queue(queue))
    }

    /// A callback entry queued directly (the API, or a restart restoring it).
    pub fn callback_queued(&mut self, ms: i64, c: u128, queue: &str, entered_ms: i64) -> &mut Self {
        // From JSON: fields added later to the kind take their defaults.
        let kind = kind(serde_json::json!({
            "type": "callback.queued",
            "number": "+8613800000000",
            "entered_at": self.at(entered_ms),
            "attempts": 0,
            "position": 1,
        }));
        self.push(ms, EventDraft::new(kind).call(call(c)).queue(queue))
    }

    pub fn callback_due(
        &mut self,
        ms: i64,
        c: u128,
        queue: &str,
        agent: &str,
        attempt: u32,
    ) -> &mut Self {
        let kind = kind(serde_json::json!({"type": "callback.due", "attempt": attempt}));
        self.push(
            ms,
            EventDraft::new(kind)
                .call(call(c))
                .queue(queue)
                .agent(agent),
        )
    }

    pub fn callback_dialing(&mut self, ms: i64, c: u128, queue: &str, agent: &str) -> &mut Self {
        let kind = kind(serde_json::json!({
            "type": "callback.dialing",
            "attempt": 1,
            "trunk": "carrier",
            "number": "+86138****0000",
        }));
        self.push(
            ms,
            EventDraft::new(kind)
                .call(call(c))
                .queue(queue)
                .agent(agent),
        )
    }

    /// A scheduled callback's entry joins its queue (the router's `callback.queued`).
    pub fn scheduled_entry_queued(&mut self, ms: i64, c: u128, queue: &str) -> &mut Self {
        let kind = kind(serde_json::json!({
            "type": "callback.queued",
            "number": "+8613800000000",
            "entered_at": self.at(ms),
            "attempts": 0,
            "position": 1,
            "scheduled": true,
        }));
        self.push(ms, EventDraft::new(kind).call(call(c)).queue(queue))
    }

    pub fn callback_connected(&mut self, ms: i64, c: u128, queue: &str, agent: &str) -> &mut Self {
        let kind = EventKind::CallbackConnected { wait_ms: 0 };
        self.push(
            ms,
            EventDraft::new(kind)
                .call(call(c))
                .queue(queue)
                .agent(agent),
        )
    }

    pub fn callback_failed(
        &mut self,
        ms: i64,
        c: u128,
        queue: &str,
        agent: &str,
        cause: CallbackFailCause,
    ) -> &mut Self {
        let kind = kind(serde_json::json!({
            "type": "callback.failed",
            "cause": cause,
            "attempts": 1,
            "retry_after_ms": 2_000,
        }));
        self.push(
            ms,
            EventDraft::new(kind)
                .call(call(c))
                .queue(queue)
                .agent(agent),
        )
    }

    pub fn callback_given_up(&mut self, ms: i64, c: u128, queue: &str) -> &mut Self {
        let kind = EventKind::CallbackGivenUp {
            wait_ms: 0,
            reason: CallbackGiveUpReason::AttemptsExhausted,
        };
        self.push(ms, EventDraft::new(kind).call(call(c)).queue(queue))
    }

    pub fn callback_cancelled(&mut self, ms: i64, c: u128, queue: &str) -> &mut Self {
        let kind = EventKind::CallbackCancelled { wait_ms: 0 };
        self.push(ms, EventDraft::new(kind).call(call(c)).queue(queue))
    }

    /// A scheduled callback `c` of `queue`, due by `deadline_ms` (none: no deadline).
    pub fn scheduled(
        &mut self,
        ms: i64,
        c: u128,
        queue: &str,
        deadline_ms: Option<i64>,
    ) -> &mut Self {
        let kind = EventKind::CallbackScheduled(Box::new(ScheduledCallback {
            callback_id: call(c),
            number: "+8613800000000".into(),
            time_zone: Some("Asia/Shanghai".into()),
            reason: "repair follow-up".into(),
            attributes: Default::default(),
            skills: Vec::new(),
            priority: 0,
            not_before: self.at(ms),
            deadline: deadline_ms.map(|d| self.at(d)),
            sampling: None,
        }));
        self.push(ms, EventDraft::new(kind).queue(queue))
    }

    pub fn missed_deadline(
        &mut self,
        ms: i64,
        c: u128,
        queue: &str,
        deadline_ms: i64,
    ) -> &mut Self {
        let kind = EventKind::CallbackMissedDeadline {
            callback_id: call(c),
            deadline: self.at(deadline_ms),
        };
        self.push(ms, EventDraft::new(kind).queue(queue))
    }

    pub fn completed(&mut self, ms: i64, c: u128, queue: &str, within_deadline: bool) -> &mut Self {
        let kind = EventKind::CallbackCompleted {
            callback_id: call(c),
            attempt: 1,
            within_deadline,
            deadline: None,
        };
        self.push(ms, EventDraft::new(kind).queue(queue))
    }

    pub fn scheduled_given_up(
        &mut self,
        ms: i64,
        c: u128,
        queue: &str,
        reason: ScheduledGiveUpReason,
    ) -> &mut Self {
        let kind = EventKind::CallbackScheduledGivenUp {
            callback_id: call(c),
            reason,
            attempts: 1,
        };
        self.push(ms, EventDraft::new(kind).queue(queue))
    }

    pub fn scheduled_cancelled(&mut self, ms: i64, c: u128, queue: &str) -> &mut Self {
        let kind = EventKind::CallbackScheduledCancelled {
            callback_id: call(c),
        };
        self.push(ms, EventDraft::new(kind).queue(queue))
    }
}
