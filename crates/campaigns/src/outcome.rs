//! Dial outcomes, and the pure mapping from a SIP final response to one.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// What a dial attempt came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeKind {
    /// The customer answered (2xx): the callback is completed.
    Answered,
    /// The line was busy (486, 600; Q.850 cause 17).
    Busy,
    /// Nobody answered: the ring timeout and our CANCEL (487), 408/480, or early media (183)
    /// that never turned into an answer.
    NoAnswer,
    /// The number does not exist (404, 484, 410, 604; Q.850 1, 3, 22, 28): never retried.
    InvalidNumber,
    /// The customer declined (603; Q.850 21).
    Rejected,
    /// The network or our trunk failed (5xx, other 4xx; Q.850 27, 34, 38, 41, 42, 47), or the
    /// INVITE could not be sent.
    NetworkFailure,
    /// The attempt's outcome was never reported (a crash while dialing, or the driver went
    /// silent): the customer may have been called, so it is not redialed before its retry delay.
    Unknown,
}

/// An attempt's outcome as the driver reports it, with what SIP said.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DialOutcome {
    /// What it came to.
    pub kind: OutcomeKind,
    /// The final SIP status, when one came.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sip_status: Option<u16>,
    /// The Q.850 cause of the response's Reason header (RFC 3326), when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub q850_cause: Option<u16>,
    /// The response's Retry-After, in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_ms: Option<u64>,
}

impl DialOutcome {
    /// An outcome of `kind` with nothing from SIP.
    pub fn of(kind: OutcomeKind) -> Self {
        Self {
            kind,
            sip_status: None,
            q850_cause: None,
            retry_after_ms: None,
        }
    }

    /// The Retry-After as a duration.
    pub fn retry_after(&self) -> Option<Duration> {
        self.retry_after_ms.map(Duration::from_millis)
    }
}

/// A final response to the customer's INVITE, as the driver saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FinalResponse<'a> {
    /// The status code (200-699).
    pub status: u16,
    /// The Retry-After header, when present.
    pub retry_after: Option<Duration>,
    /// The Reason header's value, when present (`Q.850;cause=17;text="User busy"`).
    pub reason: Option<&'a str>,
    /// Whether we had sent a CANCEL (our ring timeout ran out).
    pub cancelled_by_us: bool,
}

/// Maps a final response to its outcome.
///
/// The statuses the issue names decide first (2xx answered; 486/600 busy; 487 after our CANCEL,
/// 408, 480 no answer; 404/484/410/604 invalid; 603 rejected). For any other status a Q.850
/// cause in the Reason header decides when it names one of those conditions (a gateway's 503
/// with cause 17 is busy); otherwise 5xx and the remaining 4xx/6xx are network or trunk
/// failures. The cause and Retry-After are kept in the outcome either way.
pub fn classify(response: FinalResponse<'_>) -> DialOutcome {
    let q850_cause = response.reason.and_then(q850_cause);
    let kind = match response.status {
        200..=299 => OutcomeKind::Answered,
        486 | 600 => OutcomeKind::Busy,
        487 if response.cancelled_by_us => OutcomeKind::NoAnswer,
        408 | 480 => q850_cause
            .and_then(cause_kind)
            .unwrap_or(OutcomeKind::NoAnswer),
        404 | 484 | 410 | 604 => OutcomeKind::InvalidNumber,
        603 => OutcomeKind::Rejected,
        _ => q850_cause
            .and_then(cause_kind)
            .unwrap_or(OutcomeKind::NetworkFailure),
    };
    DialOutcome {
        kind,
        sip_status: Some(response.status),
        q850_cause,
        retry_after_ms: response.retry_after.map(crate::time::millis),
    }
}

/// The outcome of a ring timeout with no final response yet: no answer (the driver CANCELs;
/// the 487 that follows changes nothing). Early media (183) does not count as an answer.
pub fn ring_timeout() -> DialOutcome {
    DialOutcome::of(OutcomeKind::NoAnswer)
}

/// The outcome a Q.850 cause names, for the causes that name one (RFC 3398's table read
/// backwards).
pub fn cause_kind(cause: u16) -> Option<OutcomeKind> {
    Some(match cause {
        17 => OutcomeKind::Busy,
        18 | 19 | 31 => OutcomeKind::NoAnswer,
        1 | 3 | 22 | 28 => OutcomeKind::InvalidNumber,
        21 => OutcomeKind::Rejected,
        27 | 34 | 38 | 41 | 42 | 47 => OutcomeKind::NetworkFailure,
        _ => return None,
    })
}

/// The Q.850 cause of a Reason header value (RFC 3326), e.g. `SIP;cause=200, Q.850;cause=16`.
///
/// Reads the first `Q.850` reason of a comma list; the protocol and parameter names are
/// case-insensitive; a cause that is not a number up to 127 is ignored.
pub fn q850_cause(reason: &str) -> Option<u16> {
    reason.split(',').find_map(|item| {
        let mut parts = item.split(';');
        let protocol = parts.next()?.trim();
        if !protocol.eq_ignore_ascii_case("Q.850") {
            return None;
        }
        parts.find_map(|param| {
            let (name, value) = param.split_once('=')?;
            if !name.trim().eq_ignore_ascii_case("cause") {
                return None;
            }
            let cause: u16 = value.trim().trim_matches('"').parse().ok()?;
            (cause <= 127).then_some(cause)
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn final_(status: u16) -> FinalResponse<'static> {
        FinalResponse {
            status,
            retry_after: None,
            reason: None,
            cancelled_by_us: false,
        }
    }

    #[test]
    fn statuses_map_to_the_issue_outcomes() {
        let kind = |r: FinalResponse<'_>| classify(r).kind;
        assert_eq!(kind(final_(200)), OutcomeKind::Answered);
        assert_eq!(kind(final_(486)), OutcomeKind::Busy);
        assert_eq!(kind(final_(600)), OutcomeKind::Busy);
        assert_eq!(kind(final_(404)), OutcomeKind::InvalidNumber);
        assert_eq!(kind(final_(484)), OutcomeKind::InvalidNumber);
        assert_eq!(kind(final_(603)), OutcomeKind::Rejected);
        assert_eq!(kind(final_(503)), OutcomeKind::NetworkFailure);
        assert_eq!(kind(final_(500)), OutcomeKind::NetworkFailure);
        assert_eq!(kind(final_(480)), OutcomeKind::NoAnswer);
        let cancelled = FinalResponse {
            cancelled_by_us: true,
            ..final_(487)
        };
        assert_eq!(kind(cancelled), OutcomeKind::NoAnswer);
        // A 487 we did not ask for is the network's doing.
        assert_eq!(kind(final_(487)), OutcomeKind::NetworkFailure);
    }

    #[test]
    fn retry_after_and_the_q850_cause_are_kept() {
        let out = classify(FinalResponse {
            status: 503,
            retry_after: Some(Duration::from_secs(120)),
            reason: Some("Q.850;cause=34;text=\"No circuit/channel available\""),
            cancelled_by_us: false,
        });
        assert_eq!(out.kind, OutcomeKind::NetworkFailure);
        assert_eq!(out.q850_cause, Some(34));
        assert_eq!(out.retry_after(), Some(Duration::from_secs(120)));
        assert_eq!(out.sip_status, Some(503));
    }

    #[test]
    fn a_cause_refines_a_generic_status_but_not_a_specific_one() {
        let with = |status, reason| {
            classify(FinalResponse {
                reason: Some(reason),
                ..final_(status)
            })
            .kind
        };
        assert_eq!(with(503, "Q.850;cause=17"), OutcomeKind::Busy);
        assert_eq!(with(403, "Q.850;cause=21"), OutcomeKind::Rejected);
        assert_eq!(with(500, "q.850; cause=1"), OutcomeKind::InvalidNumber);
        assert_eq!(with(480, "Q.850;cause=18"), OutcomeKind::NoAnswer);
        assert_eq!(with(486, "Q.850;cause=16"), OutcomeKind::Busy);
        assert_eq!(with(503, "Q.850;cause=16"), OutcomeKind::NetworkFailure);
    }

    #[test]
    fn reason_headers_parse_per_rfc_3326() {
        assert_eq!(q850_cause("Q.850;cause=16;text=\"Terminated\""), Some(16));
        assert_eq!(
            q850_cause("SIP;cause=200;text=\"x\", Q.850;cause=31"),
            Some(31)
        );
        assert_eq!(q850_cause("SIP;cause=486"), None);
        assert_eq!(q850_cause("Q.850;cause=abc"), None);
        assert_eq!(q850_cause("Q.850;cause=999"), None);
        assert_eq!(q850_cause(""), None);
        assert_eq!(q850_cause("Q.850"), None);
    }

    #[test]
    fn outcomes_serialize_in_snake_case() {
        let json =
            serde_json::to_string(&DialOutcome::of(OutcomeKind::NoAnswer)).unwrap_or_default();
        assert_eq!(json, r#"{"kind":"no_answer"}"#);
    }
}
