//! A campaign dial's final SIP response as the engine's [`DialOutcome`], and as the trunk's
//! statistics count it.

use std::time::Duration;

use hotline_campaigns::{classify, DialOutcome, FinalResponse, OutcomeKind};
use hotline_sip::message::Response;

use crate::trunk::DialOutcome as TrunkOutcome;

/// The outcome of a final response to the customer's INVITE (`cancelled_by_us`: a 487 after
/// our own CANCEL is no answer, not a failure).
pub(super) fn final_response(resp: &Response, cancelled_by_us: bool) -> DialOutcome {
    let reasons: Vec<&str> = resp.headers().get_all("Reason").collect();
    let reason = reasons.join(", ");
    classify(FinalResponse {
        status: resp.status(),
        retry_after: resp.header("Retry-After").and_then(retry_after),
        reason: (!reason.is_empty()).then_some(reason.as_str()),
        cancelled_by_us,
    })
}

/// The delay of a Retry-After value (RFC 3261 §20.33: seconds, then an optional comment).
fn retry_after(value: &str) -> Option<Duration> {
    let digits = value
        .trim_start()
        .split(|c: char| !c.is_ascii_digit())
        .next()?;
    digits.parse::<u64>().ok().map(Duration::from_secs)
}

/// The trunk's statistics outcome for a dial's outcome.
pub(super) fn trunk_outcome(kind: OutcomeKind) -> TrunkOutcome {
    match kind {
        OutcomeKind::Answered => TrunkOutcome::Answered,
        OutcomeKind::Busy => TrunkOutcome::Busy,
        OutcomeKind::NoAnswer => TrunkOutcome::NoAnswer,
        OutcomeKind::InvalidNumber | OutcomeKind::Rejected => TrunkOutcome::Rejected,
        OutcomeKind::NetworkFailure | OutcomeKind::Unknown => TrunkOutcome::Failed,
    }
}

/// A short name of an outcome kind for metric labels.
pub(super) fn label(kind: OutcomeKind) -> &'static str {
    match kind {
        OutcomeKind::Answered => "answered",
        OutcomeKind::Busy => "busy",
        OutcomeKind::NoAnswer => "no_answer",
        OutcomeKind::InvalidNumber => "invalid_number",
        OutcomeKind::Rejected => "rejected",
        OutcomeKind::NetworkFailure => "network_failure",
        OutcomeKind::Unknown => "unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hotline_sip::message::{Method, Request, SipUri};

    fn response(status: u16, headers: &[(&str, &str)]) -> Response {
        let uri = SipUri::parse("sip:+15550100@192.0.2.1").unwrap_or_else(|_| unreachable!());
        let req = Request::builder(Method::Invite, uri)
            .header("Via", "SIP/2.0/UDP 192.0.2.2:5060;branch=z9hG4bKx")
            .header("From", "<sip:a@192.0.2.2>;tag=1")
            .header("To", "<sip:+15550100@192.0.2.1>")
            .header("Call-ID", "c")
            .header("CSeq", "1 INVITE")
            .build();
        let mut r = Response::for_request(&req, status, "X");
        for (n, v) in headers {
            r.push_header(n, *v);
        }
        r
    }

    #[test]
    fn busy_invalid_and_cancelled_responses_are_classified() {
        assert_eq!(
            final_response(&response(486, &[]), false).kind,
            OutcomeKind::Busy
        );
        assert_eq!(
            final_response(&response(404, &[]), false).kind,
            OutcomeKind::InvalidNumber
        );
        assert_eq!(
            final_response(&response(487, &[]), true).kind,
            OutcomeKind::NoAnswer
        );
        let failed = final_response(
            &response(503, &[("Retry-After", "120 (maintenance)")]),
            false,
        );
        assert_eq!(failed.kind, OutcomeKind::NetworkFailure);
        assert_eq!(failed.retry_after(), Some(Duration::from_secs(120)));
    }

    #[test]
    fn a_q850_reason_refines_a_generic_status() {
        let r = response(480, &[("Reason", "Q.850;cause=17;text=\"busy\"")]);
        let outcome = final_response(&r, false);
        assert_eq!(outcome.kind, OutcomeKind::Busy);
        assert_eq!(outcome.q850_cause, Some(17));
    }
}
