//! What goes into and out of the executor.

use std::collections::BTreeMap;
use std::time::SystemTime;

use crate::model::{HangupCause, NodeRecording, QueueOptions};

/// Who called what, and when: fixed when the call arrives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallInfo {
    /// The dialed number (the Request-URI user part).
    pub dialed: String,
    /// The caller's number as sent (the From user part); compared in E.164.
    pub caller: String,
    /// The wall-clock time the call arrived; schedules and `time` conditions read it, advanced
    /// by the `now` of later inputs.
    pub arrived: SystemTime,
}

impl CallInfo {
    /// A call to `dialed` from `caller` arriving at `arrived`.
    pub fn new(dialed: &str, caller: &str, arrived: SystemTime) -> CallInfo {
        CallInfo {
            dialed: dialed.to_owned(),
            caller: caller.to_owned(),
            arrived,
        }
    }
}

/// What happened to the call, fed to [`crate::Ivr::handle`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IvrInput {
    /// The prompt from the last [`IvrAction::Play`] finished playing.
    PlaybackFinished,
    /// The caller pressed a key (RFC 4733 or SIP INFO): `0`-`9`, `*`, `#`, `A`-`D`.
    Digit(char),
    /// The caller hung up; the executor ends without further actions beyond stopping playback.
    Hangup,
    /// The queue let the call go (max wait): a queue node with `exit` resumes the IVR there.
    QueueLeft,
    /// The message being recorded went silent for the voicemail node's `silence`.
    RecordingSilent,
    /// The number asked for by the last [`IvrAction::Dial`] answered: the call is bridged to
    /// it and the IVR is finished.
    DialAnswered,
    /// The number asked for by the last [`IvrAction::Dial`] did not answer in time, was busy,
    /// refused the call or could not be dialed: the transfer's `failed` node is taken, else
    /// the call is hung up (unavailable).
    DialFailed,
    /// The survey asked for by the last [`IvrAction::Survey`] is over (after its thanks, if
    /// any): completed goes on at the node's `next`, skipped at `on_skipped`, else the call is
    /// hung up. Keys and prompt ends meanwhile belong to the survey, not the IVR.
    SurveyFinished(crate::survey::SurveyEnd),
}

/// What the server must do, drained with [`crate::Ivr::poll_action`] in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IvrAction {
    /// Answer the call (200 OK with SDP).
    Answer,
    /// Play a prompt (`prompts/<language>/<prompt>.wav`); report its end with `PlaybackFinished`.
    Play {
        /// Prompt name.
        prompt: String,
        /// Whether a digit interrupts it (the executor then emits `StopPlayback`).
        barge_in: bool,
        /// The language set by a `set` node; `None`: the server's default language.
        language: Option<String>,
    },
    /// Speak `text` with the server's speech synthesizer (a `say` node with `kind: text`),
    /// played like a prompt without barge-in; report its end with `PlaybackFinished`, also when
    /// it cannot be synthesized (the IVR goes on). `StopPlayback` also cancels a synthesis not
    /// yet played. The text may be personal data (a customer's name): do not log it.
    Speak {
        /// The text, variables filled in, trimmed; never empty.
        text: String,
        /// The language set by a `set` node; `None`: the server's default language.
        language: Option<String>,
    },
    /// Stop the prompt playing now; do not report its end.
    StopPlayback,
    /// A menu took a digit (emit an `ivr.digit` event).
    DigitAccepted {
        /// The key pressed.
        digit: char,
        /// The menu node.
        node: String,
        /// The node the digit leads to.
        next: String,
    },
    /// A menu got a digit it has no option for (emit an `ivr.digit` event).
    DigitRejected {
        /// The key pressed.
        digit: char,
        /// The menu node.
        node: String,
    },
    /// A digit arrived when nothing was listening and was dropped (emit an `ivr.digit` event).
    DigitIgnored {
        /// The key pressed.
        digit: char,
        /// The node the call was in.
        node: String,
    },
    /// A menu waited its `timeout` without a digit.
    MenuTimedOut {
        /// The menu node.
        node: String,
    },
    /// A collect node stored good input in a variable.
    Collected {
        /// The collect node.
        node: String,
        /// The variable.
        variable: String,
        /// The digits.
        value: String,
    },
    /// A collect node got input that is too short, too long or does not match, or none.
    InputRejected {
        /// The collect node.
        node: String,
        /// The digits (empty when none came).
        input: String,
    },
    /// Record the caller's audio to a voicemail box until [`IvrAction::StopRecording`] (the
    /// server reports [`IvrInput::RecordingSilent`] when the node has `silence`).
    Record {
        /// The voicemail node.
        node: String,
        /// The box the message goes to.
        mailbox: String,
        /// The node's `silence`: how long a quiet caller is recorded before it ends.
        silence: Option<std::time::Duration>,
    },
    /// Stop recording and keep the message (or drop it when too short).
    StopRecording {
        /// Why the recording ended.
        reason: RecordingEnd,
    },
    /// Perform a CRM lookup; report its result with [`crate::Ivr::handle_http`].
    Http(crate::http::HttpRequest),
    /// Hand the call to this routing queue.
    Queue {
        /// The queue name.
        queue: String,
        /// Priority, skills and max wait: the node's own settings over those a `set` node
        /// gave the call; what neither gives takes the queue's default.
        options: QueueOptions,
        /// Data the entry carries to the agent (`set: { data: ... }`).
        data: BTreeMap<String, String>,
    },
    /// Dial an outside number through a SIP trunk and bridge the caller to it; report the
    /// result with [`IvrInput::DialAnswered`] or [`IvrInput::DialFailed`].
    Dial {
        /// The number as written in the node or collected from the caller (variables already
        /// interpolated; not normalized).
        number: String,
        /// The trunk the node names; `None`: the only or default trunk.
        trunk: Option<String>,
        /// How long the far end may ring before the dial counts as failed.
        timeout: std::time::Duration,
        /// The transfer node.
        node: String,
    },
    /// Hang up the call; the IVR is finished.
    Hangup {
        /// Why.
        reason: HangupReason,
        /// How: the SIP status before answer and the Q.850 cause in the `Reason` header.
        cause: HangupCause,
    },
    /// A `set` node chose the call's recording policy (over its queue's); with `ivr`, the
    /// server records from now on.
    RecordingSet {
        /// The `set` node.
        node: String,
        /// The policy and whether the IVR part is recorded.
        recording: NodeRecording,
    },
    /// Run this survey (top-level `surveys:`) on the caller with a [`crate::SurveyRun`]: its
    /// prompts, keys and timeouts are the survey's; report its end with
    /// [`IvrInput::SurveyFinished`]. A survey not reported within its longest possible run
    /// counts as skipped.
    Survey {
        /// The survey node.
        node: String,
        /// The survey's name.
        survey: String,
        /// The language set by a `set` node; `None`: the server's default language.
        language: Option<String>,
    },
    /// A `consent` node has the caller's answer (recorded in [`CallAttributes::consent`]).
    ConsentAnswered {
        /// The `consent` node.
        node: String,
        /// Given (the notice ran out) or declined (the opt-out key).
        answer: ConsentAnswer,
    },
}

/// The caller's answer to a `consent` node's recording notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsentAnswer {
    /// The caller heard the notice and did not opt out.
    Given,
    /// The caller pressed the opt-out key: the call is not recorded, whatever the policy.
    Declined,
}

/// Why a voicemail recording ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordingEnd {
    /// The node's `max_length` was reached.
    MaxLength,
    /// The caller was silent for the node's `silence`.
    Silence,
    /// The caller pressed the node's `end_key`.
    EndKey,
    /// The caller hung up.
    CallerHungUp,
}

impl RecordingEnd {
    /// The name used in events and sidecar files.
    pub fn name(self) -> &'static str {
        match self {
            RecordingEnd::MaxLength => "max_length",
            RecordingEnd::Silence => "silence",
            RecordingEnd::EndKey => "end_key",
            RecordingEnd::CallerHungUp => "caller_hung_up",
        }
    }
}

/// Why the executor hung up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HangupReason {
    /// The dialplan reached a `hangup` node.
    HangupNode,
    /// A menu ran out of attempts and has no `on_failure`.
    MenuFailed,
    /// A collect node ran out of attempts and has no `on_failure`.
    CollectFailed,
    /// The queue let the call go and the queue node has no `exit`.
    QueueLeft,
    /// A dialed transfer failed and its node has no `failed`.
    DialFailed,
    /// A survey node's survey ended and the node has no `next` (completed) or `on_skipped`
    /// (skipped): the call ends there, as after a post-call survey.
    SurveyEnded,
    /// The dialplan is inconsistent (cannot happen with a validated plan; kept so a bug hangs up
    /// instead of leaving the caller in silence).
    BrokenDialplan,
}

/// How a finished IVR ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IvrOutcome {
    /// The call went to this queue.
    Queued {
        /// The queue name.
        queue: String,
    },
    /// The executor hung up.
    HungUp {
        /// Why.
        reason: HangupReason,
    },
    /// The caller hung up while in the IVR.
    CallerHungUp,
    /// The call was bridged to an outside number that answered.
    Dialed {
        /// The number dialed.
        number: String,
    },
}

/// What a pending timeout is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IvrTimer {
    /// Give up on a playback whose end was never reported.
    PlaybackGuard,
    /// A menu's or collect's wait for a digit.
    DigitTimeout,
    /// Give up on a CRM lookup whose result was never reported.
    HttpGuard,
    /// A voicemail message reached its `max_length`.
    RecordLimit,
    /// Give up on a dialed transfer whose result was never reported.
    DialGuard,
    /// Give up on a survey whose end was never reported.
    SurveyGuard,
}

/// What `set` nodes gave the call so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallAttributes {
    /// Variables (from `set` and `collect`).
    pub variables: BTreeMap<String, String>,
    /// The prompt language, when set.
    pub language: Option<String>,
    /// The queue priority, when set.
    pub priority: Option<i32>,
    /// Skills required of the agent.
    pub skills: BTreeMap<String, u8>,
    /// Data the queue entry carries.
    pub data: BTreeMap<String, String>,
    /// The recording policy the last `set` node with `recording:` chose, with that node's name.
    pub recording: Option<(String, NodeRecording)>,
    /// The caller's answer at the last `consent` node; `None`: never asked.
    pub consent: Option<ConsentAnswer>,
}

impl CallAttributes {
    /// `text` with every `${name}` replaced by that variable's value (empty when unset).
    pub fn interpolate(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            match after.find('}') {
                Some(end) => {
                    if let Some(value) = self.variables.get(&after[..end]) {
                        out.push_str(value);
                    }
                    rest = &after[end + 1..];
                }
                None => {
                    out.push_str(&rest[start..]);
                    rest = "";
                }
            }
        }
        out.push_str(rest);
        out
    }

    /// The queue options of a queue node over these attributes.
    pub(crate) fn queue_options(&self, node: &QueueOptions) -> QueueOptions {
        let mut skills = self.skills.clone();
        skills.extend(node.skills.iter().map(|(s, l)| (s.clone(), *l)));
        QueueOptions {
            priority: node.priority.or(self.priority),
            skills,
            preferred_skills: node.preferred_skills.clone(),
            max_wait: node.max_wait,
            callback_offer: node.callback_offer,
            survey: node.survey.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables_are_interpolated() {
        let mut attrs = CallAttributes::default();
        attrs.variables.insert("account".into(), "1234".into());
        assert_eq!(attrs.interpolate("acct-${account}!"), "acct-1234!");
        assert_eq!(attrs.interpolate("${missing}x"), "x");
        assert_eq!(attrs.interpolate("${open"), "${open");
    }
}
