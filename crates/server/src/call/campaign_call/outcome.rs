//! A campaign dial's outcome as the metrics name it (the final response is classified by the
//! shared trunk dial).

use hotline_campaigns::OutcomeKind;

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
