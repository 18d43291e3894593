//! The scheduler's events in the journal: each [`CallbackEvent`] becomes one `callback.*` event
//! ([`to_draft`]) and reads back into the same value ([`from_event`]), so a restart rebuilds the
//! scheduler from the journal alone.
//!
//! The scheduler's instant is the event's `ts` (the driver feeds the scheduler millisecond
//! instants, the journal's precision); its queue is the event's `queue`, and the agent of an
//! attempt its `agent_id`.

use hotline_campaigns::{
    AgentName, CallbackEvent, CallbackId, CallbackSpec, DialOutcome, DueWindow, GiveUpReason,
    HoldReason, OutcomeKind, QueueName, ReleaseReason, SkillName, Zone, E164,
};
use hotline_events::{
    AttemptOutcome, ClaimReleaseReason, Event, EventDraft, EventKind, SamplingOutcome,
    ScheduledCallback, ScheduledGiveUpReason, ScheduledHoldReason, Timestamp,
};
use uuid::Uuid;

/// A journaled scheduled-callback event that does not read back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JournalError {
    /// A field the scheduler needs is missing from the event's envelope.
    #[error("{kind} without {field}")]
    Missing {
        /// The event's type.
        kind: &'static str,
        /// The missing field.
        field: &'static str,
    },
    /// A value does not parse (number, zone, instant).
    #[error("{kind}: bad {field}: {text}")]
    Bad {
        /// The event's type.
        kind: &'static str,
        /// The field.
        field: &'static str,
        /// What it says.
        text: String,
    },
}

/// The millisecond instant the journal keeps of a scheduler instant.
pub fn wire_time(at: jiff::Timestamp) -> Timestamp {
    let nanos = at.as_nanosecond();
    match time::OffsetDateTime::from_unix_timestamp_nanos(nanos) {
        Ok(t) => Timestamp::from_datetime(t),
        // Out of the journal's range: only for Timestamp::MIN/MAX, which the scheduler never
        // emits; keep the epoch rather than fail.
        Err(_) => Timestamp::from_datetime(time::OffsetDateTime::UNIX_EPOCH),
    }
}

/// The scheduler instant of a journal timestamp.
pub fn scheduler_time(at: Timestamp) -> jiff::Timestamp {
    jiff::Timestamp::from_nanosecond(at.datetime().unix_timestamp_nanos())
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
}

/// The journal's id of a callback.
pub fn uuid(id: CallbackId) -> Uuid {
    Uuid::from_u128(id.0)
}

/// The journal event of one scheduler event. `queue` is the callback's queue and `deadline`
/// its deadline (from the scheduler's book; `created` and `claimed` carry their own queue).
pub fn to_draft(
    event: &CallbackEvent,
    queue: Option<&QueueName>,
    deadline: Option<jiff::Timestamp>,
) -> EventDraft {
    let mut queue = queue.map(|q| q.as_str().to_string());
    let mut agent = None;
    let kind = match event {
        CallbackEvent::Created { id, callback, .. } => {
            queue = Some(callback.queue.as_str().to_string());
            EventKind::CallbackScheduled(Box::new(ScheduledCallback {
                callback_id: uuid(*id),
                number: callback.number.as_str().to_string(),
                time_zone: callback.time_zone.as_ref().map(|z| z.name().to_string()),
                reason: callback.reason.clone(),
                attributes: callback.attributes.clone(),
                skills: callback
                    .skills
                    .iter()
                    .map(|s| s.as_str().to_string())
                    .collect(),
                priority: callback.priority,
                not_before: wire_time(callback.due.not_before),
                deadline: callback.due.deadline.map(wire_time),
                sampling: callback.sampling.as_ref().map(|s| SamplingOutcome {
                    month: s.month.clone(),
                    rules: s.rules.clone(),
                    kept: s.kept,
                }),
            }))
        }
        CallbackEvent::Held { id, reason, .. } => EventKind::CallbackHeld {
            callback_id: uuid(*id),
            reason: match reason {
                HoldReason::UnknownTimeZone => ScheduledHoldReason::UnknownTimeZone,
            },
        },
        CallbackEvent::TimeZoneSet { id, time_zone, .. } => EventKind::CallbackTimeZoneSet {
            callback_id: uuid(*id),
            time_zone: time_zone.name().to_string(),
        },
        CallbackEvent::Claimed {
            id,
            queue: claimed_in,
            skills,
            priority,
            ..
        } => {
            queue = Some(claimed_in.as_str().to_string());
            EventKind::CallbackClaimed {
                callback_id: uuid(*id),
                skills: skills.iter().map(|s| s.as_str().to_string()).collect(),
                priority: *priority,
            }
        }
        CallbackEvent::ClaimReleased { id, reason, .. } => EventKind::CallbackClaimReleased {
            callback_id: uuid(*id),
            reason: match reason {
                ReleaseReason::NoAgent => ClaimReleaseReason::NoAgent,
                ReleaseReason::Timeout => ClaimReleaseReason::Timeout,
                ReleaseReason::WindowClosed => ClaimReleaseReason::WindowClosed,
                ReleaseReason::Restart => ClaimReleaseReason::Restart,
            },
        },
        CallbackEvent::AttemptStarted {
            id,
            attempt,
            agent: reserved,
            number,
            caller_id,
            ring_timeout_ms,
            ..
        } => {
            agent = Some(reserved.as_str().to_string());
            EventKind::CallbackAttemptStarted {
                callback_id: uuid(*id),
                attempt: *attempt,
                number: number.as_str().to_string(),
                caller_id: caller_id.as_ref().map(|c| c.as_str().to_string()),
                ring_timeout_ms: *ring_timeout_ms,
            }
        }
        CallbackEvent::AttemptEnded {
            id,
            attempt,
            outcome,
            retry_at,
            ..
        } => EventKind::CallbackAttemptEnded {
            callback_id: uuid(*id),
            attempt: *attempt,
            outcome: outcome_to_wire(outcome.kind),
            sip_status: outcome.sip_status,
            q850_cause: outcome.q850_cause,
            retry_after_ms: outcome.retry_after_ms,
            retry_at: retry_at.map(wire_time),
        },
        CallbackEvent::DeadlineWarning {
            id,
            deadline,
            lead_ms,
            ..
        } => EventKind::CallbackDeadlineWarning {
            callback_id: uuid(*id),
            deadline: wire_time(*deadline),
            lead_ms: *lead_ms,
        },
        CallbackEvent::MissedDeadline { id, deadline, .. } => EventKind::CallbackMissedDeadline {
            callback_id: uuid(*id),
            deadline: wire_time(*deadline),
        },
        CallbackEvent::Completed {
            id,
            attempt,
            within_deadline,
            ..
        } => EventKind::CallbackCompleted {
            callback_id: uuid(*id),
            attempt: *attempt,
            within_deadline: *within_deadline,
            deadline: deadline.map(wire_time),
        },
        CallbackEvent::Cancelled { id, .. } => EventKind::CallbackScheduledCancelled {
            callback_id: uuid(*id),
        },
        CallbackEvent::GivenUp {
            id,
            reason,
            attempts,
            ..
        } => EventKind::CallbackScheduledGivenUp {
            callback_id: uuid(*id),
            reason: give_up_to_wire(*reason),
            attempts: *attempts,
        },
    };
    let mut draft = EventDraft::new(kind).at(wire_time(event.at()));
    if let Some(queue) = queue {
        draft = draft.queue(queue);
    }
    if let Some(agent) = agent {
        draft = draft.agent(agent);
    }
    draft
}

/// The scheduler event a journal event records; `Ok(None)` for events of other kinds.
pub fn from_event(event: &Event) -> Result<Option<CallbackEvent>, JournalError> {
    let kind = event.type_name();
    let at = scheduler_time(event.ts);
    let id = |u: &Uuid| CallbackId(u.as_u128());
    let queue = || {
        event
            .queue
            .as_deref()
            .map(QueueName::new)
            .ok_or(JournalError::Missing {
                kind,
                field: "queue",
            })
    };
    let bad = |field: &'static str, text: String| JournalError::Bad { kind, field, text };
    let zone = |name: &str| Zone::new(name).map_err(|e| bad("time_zone", e.to_string()));
    let number = |field, text: &str| E164::parse(text).map_err(|e| bad(field, e.to_string()));
    let skills = |names: &[String]| names.iter().map(SkillName::new).collect::<Vec<_>>();
    let out =
        match &event.kind {
            EventKind::CallbackScheduled(cb) => CallbackEvent::Created {
                id: id(&cb.callback_id),
                at,
                callback: Box::new(CallbackSpec {
                    number: number("number", &cb.number)?,
                    time_zone: cb.time_zone.as_deref().map(zone).transpose()?,
                    reason: cb.reason.clone(),
                    attributes: cb.attributes.clone(),
                    queue: queue()?,
                    skills: skills(&cb.skills),
                    priority: cb.priority,
                    due: DueWindow {
                        not_before: scheduler_time(cb.not_before),
                        deadline: cb.deadline.map(scheduler_time),
                    },
                    sampling: cb.sampling.as_ref().map(|s| {
                        hotline_campaigns::sampling::SamplingDecision {
                            month: s.month.clone(),
                            rules: s.rules.clone(),
                            kept: s.kept,
                        }
                    }),
                }),
            },
            EventKind::CallbackHeld {
                callback_id,
                reason,
            } => CallbackEvent::Held {
                id: id(callback_id),
                at,
                reason: match reason {
                    ScheduledHoldReason::UnknownTimeZone => HoldReason::UnknownTimeZone,
                },
            },
            EventKind::CallbackTimeZoneSet {
                callback_id,
                time_zone,
            } => CallbackEvent::TimeZoneSet {
                id: id(callback_id),
                at,
                time_zone: zone(time_zone)?,
            },
            EventKind::CallbackClaimed {
                callback_id,
                skills: names,
                priority,
            } => CallbackEvent::Claimed {
                id: id(callback_id),
                at,
                queue: queue()?,
                skills: skills(names),
                priority: *priority,
            },
            EventKind::CallbackClaimReleased {
                callback_id,
                reason,
            } => CallbackEvent::ClaimReleased {
                id: id(callback_id),
                at,
                reason: match reason {
                    ClaimReleaseReason::NoAgent => ReleaseReason::NoAgent,
                    ClaimReleaseReason::Timeout => ReleaseReason::Timeout,
                    ClaimReleaseReason::WindowClosed => ReleaseReason::WindowClosed,
                    ClaimReleaseReason::Restart => ReleaseReason::Restart,
                },
            },
            EventKind::CallbackAttemptStarted {
                callback_id,
                attempt,
                number: dialed,
                caller_id,
                ring_timeout_ms,
            } => CallbackEvent::AttemptStarted {
                id: id(callback_id),
                at,
                attempt: *attempt,
                agent: event.agent_id.as_deref().map(AgentName::new).ok_or(
                    JournalError::Missing {
                        kind,
                        field: "agent_id",
                    },
                )?,
                number: number("number", dialed)?,
                caller_id: caller_id
                    .as_deref()
                    .map(|c| number("caller_id", c))
                    .transpose()?,
                ring_timeout_ms: *ring_timeout_ms,
            },
            EventKind::CallbackAttemptEnded {
                callback_id,
                attempt,
                outcome,
                sip_status,
                q850_cause,
                retry_after_ms,
                retry_at,
            } => CallbackEvent::AttemptEnded {
                id: id(callback_id),
                at,
                attempt: *attempt,
                outcome: DialOutcome {
                    kind: outcome_from_wire(*outcome),
                    sip_status: *sip_status,
                    q850_cause: *q850_cause,
                    retry_after_ms: *retry_after_ms,
                },
                retry_at: retry_at.map(scheduler_time),
            },
            EventKind::CallbackDeadlineWarning {
                callback_id,
                deadline,
                lead_ms,
            } => CallbackEvent::DeadlineWarning {
                id: id(callback_id),
                at,
                deadline: scheduler_time(*deadline),
                lead_ms: *lead_ms,
            },
            EventKind::CallbackMissedDeadline {
                callback_id,
                deadline,
            } => CallbackEvent::MissedDeadline {
                id: id(callback_id),
                at,
                deadline: scheduler_time(*deadline),
            },
            EventKind::CallbackCompleted {
                callback_id,
                attempt,
                within_deadline,
                ..
            } => CallbackEvent::Completed {
                id: id(callback_id),
                at,
                attempt: *attempt,
                within_deadline: *within_deadline,
            },
            EventKind::CallbackScheduledCancelled { callback_id } => CallbackEvent::Cancelled {
                id: id(callback_id),
                at,
            },
            EventKind::CallbackScheduledGivenUp {
                callback_id,
                reason,
                attempts,
            } => CallbackEvent::GivenUp {
                id: id(callback_id),
                at,
                reason: give_up_from_wire(*reason),
                attempts: *attempts,
            },
            _ => return Ok(None),
        };
    Ok(Some(out))
}

/// The wire form of an outcome.
pub fn outcome_to_wire(kind: OutcomeKind) -> AttemptOutcome {
    match kind {
        OutcomeKind::Answered => AttemptOutcome::Answered,
        OutcomeKind::Busy => AttemptOutcome::Busy,
        OutcomeKind::NoAnswer => AttemptOutcome::NoAnswer,
        OutcomeKind::InvalidNumber => AttemptOutcome::InvalidNumber,
        OutcomeKind::Rejected => AttemptOutcome::Rejected,
        OutcomeKind::NetworkFailure => AttemptOutcome::NetworkFailure,
        OutcomeKind::Unknown => AttemptOutcome::Unknown,
    }
}

fn outcome_from_wire(kind: AttemptOutcome) -> OutcomeKind {
    match kind {
        AttemptOutcome::Answered => OutcomeKind::Answered,
        AttemptOutcome::Busy => OutcomeKind::Busy,
        AttemptOutcome::NoAnswer => OutcomeKind::NoAnswer,
        AttemptOutcome::InvalidNumber => OutcomeKind::InvalidNumber,
        AttemptOutcome::Rejected => OutcomeKind::Rejected,
        AttemptOutcome::NetworkFailure => OutcomeKind::NetworkFailure,
        AttemptOutcome::Unknown => OutcomeKind::Unknown,
    }
}

/// The wire form of a give-up reason.
pub fn give_up_to_wire(reason: GiveUpReason) -> ScheduledGiveUpReason {
    match reason {
        GiveUpReason::NotSampled => ScheduledGiveUpReason::NotSampled,
        GiveUpReason::DoNotCall => ScheduledGiveUpReason::DoNotCall,
        GiveUpReason::InvalidNumber => ScheduledGiveUpReason::InvalidNumber,
        GiveUpReason::AttemptsExhausted => ScheduledGiveUpReason::AttemptsExhausted,
        GiveUpReason::Expired => ScheduledGiveUpReason::Expired,
    }
}

fn give_up_from_wire(reason: ScheduledGiveUpReason) -> GiveUpReason {
    match reason {
        ScheduledGiveUpReason::NotSampled => GiveUpReason::NotSampled,
        ScheduledGiveUpReason::DoNotCall => GiveUpReason::DoNotCall,
        ScheduledGiveUpReason::InvalidNumber => GiveUpReason::InvalidNumber,
        ScheduledGiveUpReason::AttemptsExhausted => GiveUpReason::AttemptsExhausted,
        ScheduledGiveUpReason::Expired => GiveUpReason::Expired,
    }
}

#[cfg(test)]
mod tests;
