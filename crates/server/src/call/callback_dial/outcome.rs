//! What a callback dial came to: the router's failure cause for the customer's outcome (the final
//! response classified by the shared trunk dial), and the report a scheduler's driver receives.

use std::time::Duration;

use hotline_campaigns::{DialOutcome, OutcomeKind};
use hotline_routing::CallbackFailure;
use uuid::Uuid;

/// How a callback dial went, sent on [`super::DueCallback::report`] when the dial ends (answered
/// or failed) so a scheduler can record the attempt.
///
/// `customer_dialed` false: no INVITE reached the customer (the agent's phone failed or did not
/// answer, no trunk, the trunk's limits or allow-list, or the `callback.dialing` event could not
/// be fsynced); `outcome` is then a `network_failure` without SIP status and says nothing about
/// the customer. `agent_failed` true: the agent's leg was the reason the dial ended (also when
/// the agent hung up while the customer's phone rang: the customer's leg was then cancelled and
/// `outcome` is `no_answer`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DialReport {
    /// The callback's call id (a scheduled callback's id).
    pub call: Uuid,
    /// Which attempt this was.
    pub attempt: u32,
    /// What the customer's leg came to (`answered` when the two talk).
    pub outcome: DialOutcome,
    /// Whether an INVITE went to the customer.
    pub customer_dialed: bool,
    /// Whether the agent's leg ended the dial.
    pub agent_failed: bool,
}

/// A failed callback dial as the router hears it: the cause, and what SIP said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DialFailure {
    /// Why it failed.
    pub cause: CallbackFailure,
    /// The far end's Retry-After (postpones the next attempt).
    pub retry_after: Option<Duration>,
    /// The customer leg's final SIP status, if one came.
    pub sip_status: Option<u16>,
    /// The Q.850 cause of its Reason header, if any.
    pub q850_cause: Option<u16>,
}

/// A dial that ended short of a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Failure {
    /// The router's cause.
    pub(super) cause: CallbackFailure,
    /// The customer's outcome (see [`DialReport`]).
    pub(super) outcome: DialOutcome,
    /// Whether an INVITE went to the customer.
    pub(super) customer_dialed: bool,
    /// Whether the agent's leg ended it.
    pub(super) agent_failed: bool,
}

impl Failure {
    /// The agent's leg failed (`customer_dialed`: the customer's phone was ringing).
    pub(super) fn agent(customer_dialed: bool) -> Self {
        let kind = if customer_dialed {
            OutcomeKind::NoAnswer
        } else {
            OutcomeKind::NetworkFailure
        };
        Self {
            cause: CallbackFailure::AgentUnavailable,
            outcome: DialOutcome::of(kind),
            customer_dialed,
            agent_failed: true,
        }
    }

    /// Nothing was sent to the customer, for `cause`.
    pub(super) fn not_dialed(cause: CallbackFailure) -> Self {
        Self {
            cause,
            outcome: DialOutcome::of(OutcomeKind::NetworkFailure),
            customer_dialed: false,
            agent_failed: false,
        }
    }

    /// The customer's leg came to `outcome` (not answered).
    pub(super) fn customer(outcome: DialOutcome) -> Self {
        Self {
            cause: cause_of(outcome.kind),
            outcome,
            customer_dialed: true,
            agent_failed: false,
        }
    }

    /// What the router hears.
    pub(super) fn router(&self) -> DialFailure {
        DialFailure {
            cause: self.cause,
            retry_after: self.outcome.retry_after(),
            sip_status: self.outcome.sip_status,
            q850_cause: self.outcome.q850_cause,
        }
    }
}

/// The router's failure cause for an outcome that is not an answer.
pub(super) fn cause_of(kind: OutcomeKind) -> CallbackFailure {
    match kind {
        OutcomeKind::Busy => CallbackFailure::Busy,
        OutcomeKind::NoAnswer => CallbackFailure::NoAnswer,
        OutcomeKind::InvalidNumber => CallbackFailure::InvalidNumber,
        OutcomeKind::Rejected => CallbackFailure::Rejected,
        OutcomeKind::NetworkFailure => CallbackFailure::NetworkFailure,
        // An answer that could not be used (no dialog, unusable SDP) failed on our side.
        OutcomeKind::Answered => CallbackFailure::NetworkFailure,
        OutcomeKind::Unknown => CallbackFailure::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::super::super::trunk_dial::{final_response, retry_after};
    use super::*;
    use hotline_sip::message::Response;

    fn response(status: u16, headers: &[(&str, &str)]) -> Response {
        let mut r = Response::new(status, "Whatever");
        for (name, value) in headers {
            r.push_header(name, *value);
        }
        r
    }

    #[test]
    fn final_responses_map_to_the_callback_causes() {
        let cause =
            |status, cancelled| cause_of(final_response(&response(status, &[]), cancelled).kind);
        assert_eq!(cause(486, false), CallbackFailure::Busy);
        assert_eq!(cause(600, false), CallbackFailure::Busy);
        assert_eq!(cause(603, false), CallbackFailure::Rejected);
        assert_eq!(cause(404, false), CallbackFailure::InvalidNumber);
        assert_eq!(cause(484, false), CallbackFailure::InvalidNumber);
        assert_eq!(cause(503, false), CallbackFailure::NetworkFailure);
        assert_eq!(cause(500, false), CallbackFailure::NetworkFailure);
        assert_eq!(cause(408, false), CallbackFailure::NoAnswer);
        assert_eq!(cause(480, false), CallbackFailure::NoAnswer);
        assert_eq!(cause(487, true), CallbackFailure::NoAnswer);
        assert_eq!(cause(487, false), CallbackFailure::NetworkFailure);
    }

    #[test]
    fn retry_after_and_the_q850_reason_are_read_from_the_response() {
        let out = final_response(
            &response(
                503,
                &[
                    ("Retry-After", "120 (maintenance);duration=60"),
                    ("Reason", "Q.850;cause=34;text=\"No circuit\""),
                ],
            ),
            false,
        );
        assert_eq!(out.kind, OutcomeKind::NetworkFailure);
        assert_eq!(out.retry_after(), Some(Duration::from_secs(120)));
        assert_eq!(out.q850_cause, Some(34));
        assert_eq!(out.sip_status, Some(503));
        let failure = Failure::customer(out).router();
        assert_eq!(failure.retry_after, Some(Duration::from_secs(120)));
        assert_eq!(failure.q850_cause, Some(34));
        // A gateway's generic status with a busy cause is busy.
        let busy = final_response(&response(500, &[("Reason", "Q.850;cause=17")]), false);
        assert_eq!(cause_of(busy.kind), CallbackFailure::Busy);
        assert_eq!(retry_after("abc"), None);
        assert_eq!(retry_after(" 5"), Some(Duration::from_secs(5)));
    }

    #[test]
    fn agent_and_path_failures_say_the_customer_was_not_reached() {
        let agent = Failure::agent(false);
        assert!(agent.agent_failed && !agent.customer_dialed);
        assert_eq!(agent.cause, CallbackFailure::AgentUnavailable);
        let ringing = Failure::agent(true);
        assert_eq!(ringing.outcome.kind, OutcomeKind::NoAnswer);
        let none = Failure::not_dialed(CallbackFailure::NotDialed);
        assert!(!none.customer_dialed && !none.agent_failed);
        assert_eq!(none.outcome.sip_status, None);
    }
}
