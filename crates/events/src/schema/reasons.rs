//! Reasons and states shared by several event kinds: why a call ended, who hung up, why an
//! offer failed or a survey was skipped, why text could not be spoken, an agent's state.

use serde::{Deserialize, Serialize};

/// Why text could not be spoken (`ivr.tts`); the IVR goes on after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TtsFailure {
    /// No voice is configured for the call's language.
    NoVoice,
    /// The synthesizer program is not installed where configured.
    NotFound,
    /// It took longer than the configured timeout and was killed.
    TimedOut,
    /// It could not be started or exited with an error.
    Failed,
    /// Its output was not the audio expected.
    BadOutput,
}

/// Why an offer to an agent failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OfferFailCause {
    /// The agent did not answer before the ring timeout.
    NoAnswer,
    /// The agent's phone answered busy (486/600).
    Busy,
    /// The agent declined the call (603).
    Declined,
    /// No contact of the agent could be reached (transport error, 408, 404).
    Unreachable,
    /// The caller hung up while the agent's phone was ringing.
    CallerHungUp,
    /// Any other failure response or internal error.
    Failed,
}

/// Why a survey ended before every question was answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SurveySkipReason {
    /// A question got no valid digit within its attempts (timeouts or digits out of range).
    NoAnswer,
    /// The caller hung up during the survey.
    CallerHungUp,
}

/// Why a call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EndReason {
    /// A conversation with an agent ended normally.
    Completed,
    /// The caller hung up while waiting in queue.
    Abandoned,
    /// The caller hung up in the IVR, before being queued.
    CallerLeftIvr,
    /// The dialplan finished (message played, callback taken, survey done).
    DialplanFinished,
    /// The queue's maximum wait time was reached.
    MaxWaitExceeded,
    /// The queue was closed or had no agent logged in.
    NoAgents,
    /// The call was transferred out of hotline.
    Transferred,
    /// Media stopped flowing (RTP timeout).
    MediaTimeout,
    /// hotline is shutting down.
    Shutdown,
    /// hotline stopped (crash, kill) while the call was up; written at the next start, when
    /// the call's media had died with the process.
    NodeRestart,
    /// A signalling or internal error.
    Error,
    /// The caller accepted a callback while waiting in queue and hotline hung up: the queue
    /// entry waits on as a callback, so the call is neither answered nor abandoned.
    CallbackRequested,
}

/// Which party ended a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HungUpBy {
    /// The caller hung up.
    Caller,
    /// The agent hung up.
    Agent,
    /// hotline ended the call.
    System,
    /// The outside party a transfer bridged the caller to hung up.
    Transferee,
}

/// An agent's routing state (the distribution core's states, snake_case on the wire).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgentState {
    /// No registered phone: cannot be offered calls.
    LoggedOut,
    /// Registered and idle: can be offered a call.
    Ready,
    /// Chosen for a call; hotline is inviting the agent's phone.
    Reserved,
    /// The agent's phone is ringing.
    Ringing,
    /// On a call.
    OnCall,
    /// After-call work; not offered calls until it ends.
    WrapUp,
    /// Registered but not taking calls; the event's `reason` says why.
    NotReady,
}
