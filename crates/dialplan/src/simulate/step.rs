//! What a simulated call did: its steps in order and where it ended.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::exec::{ConsentAnswer, HangupReason, RecordingEnd};
use crate::http::HttpFailure;
use crate::model::{HangupCause, QueueOptions};

/// One thing that happened on the simulated call, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// A `consent` node has the caller's answer (declined by its opt-out key).
    Consent {
        /// The consent node.
        node: String,
        /// Given or declined.
        answer: ConsentAnswer,
    },
    /// A `set` node chose the recording policy.
    RecordingSet {
        /// The set node.
        node: String,
        /// The policy and whether the IVR part is recorded.
        recording: crate::model::NodeRecording,
    },
    /// The recording decision in force when the call was queued: the node's policy (over the
    /// queue's), or the queue's own; declined consent records nothing either way.
    RecordingDecision {
        /// The `set` node whose policy applies; `None`: the queue's policy.
        node: Option<String>,
        /// That node's policy.
        recording: Option<crate::model::NodeRecording>,
        /// The caller's consent, if a consent node asked.
        consent: Option<ConsentAnswer>,
    },
    /// The call entered this node.
    Node(String),
    /// The call was answered.
    Answer,
    /// A prompt played (to its end, or until a key stopped it).
    Play {
        /// The prompt name.
        prompt: String,
        /// The language a `set` node chose; `None`: the server's.
        language: Option<String>,
    },
    /// A `say` node's text was spoken by the server's speech synthesizer (to its end).
    Speak {
        /// The text, variables filled in.
        text: String,
        /// The language a `set` node chose; `None`: the server's.
        language: Option<String>,
    },
    /// A menu took a key and went on to `next`.
    Key {
        /// The key.
        key: char,
        /// The menu node.
        node: String,
        /// Where it leads.
        next: String,
    },
    /// A menu had no option for the key.
    WrongKey {
        /// The key.
        key: char,
        /// The menu node.
        node: String,
    },
    /// A key pressed while nothing listened (a prompt without barge-in).
    IgnoredKey {
        /// The key.
        key: char,
        /// The node playing.
        node: String,
    },
    /// A menu waited its timeout without a key.
    Timeout {
        /// The menu node.
        node: String,
    },
    /// A collect node stored the keys in a variable.
    Collected {
        /// The collect node.
        node: String,
        /// The variable.
        variable: String,
        /// The keys.
        value: String,
    },
    /// A voicemail node started recording a message to a box.
    Voicemail {
        /// The box.
        mailbox: String,
        /// The node's `max_length`: the longest message.
        max_length: Duration,
        /// The node's `silence`, if any: quiet that ends the message.
        silence: Option<Duration>,
        /// The node's `end_key`, if any.
        end_key: Option<char>,
    },
    /// The voicemail message ended (the simulated caller speaks until the end key or the
    /// longest message).
    MessageEnded {
        /// Why.
        reason: RecordingEnd,
    },
    /// An `http` node's CRM lookup was answered from the fixture, or failed.
    Lookup {
        /// The http node.
        node: String,
        /// Why it failed (the node's `on_failure` is taken); `None`: found.
        failure: Option<HttpFailure>,
    },
    /// A collect node refused the input (empty when it timed out).
    InputRejected {
        /// The collect node.
        node: String,
        /// The keys (empty: none came).
        input: String,
    },
    /// A transfer node moved the call to another number's flow (its start node follows).
    Flow {
        /// The number whose flow the call goes on in.
        number: String,
    },
    /// A transfer node dialed an outside number.
    Dial {
        /// The transfer node.
        node: String,
        /// The number, variables filled in.
        number: String,
        /// The trunk named; `None`: the default trunk.
        trunk: Option<String>,
    },
    /// A survey node's survey took an answer.
    SurveyAnswer {
        /// The survey's name.
        survey: String,
        /// 0-based index of the question.
        question: u32,
        /// The key pressed.
        score: u8,
    },
    /// A survey node's survey ended.
    SurveyEnded {
        /// The survey's name.
        survey: String,
        /// Completed or skipped (and why).
        end: crate::survey::SurveyEnd,
        /// Questions answered.
        answered: u32,
    },
    /// The dialed number did not answer (the simulation was asked to fail dials).
    DialFailed {
        /// The transfer node.
        node: String,
    },
}

/// Where the simulated call ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SimulationEnd {
    /// The call went to a queue.
    Queue {
        /// The queue name.
        queue: String,
        /// Priority, skills and max wait as the node and `set` nodes gave them.
        options: QueueOptions,
        /// Data the queue entry carries.
        data: BTreeMap<String, String>,
        /// Where a caller the queue lets go comes back, if anywhere.
        exit: Option<String>,
    },
    /// A `hangup` node hung up.
    Hangup {
        /// The cause.
        cause: HangupCause,
    },
    /// A menu or collect gave up after the caller pressed nothing.
    TimedOut {
        /// The node.
        node: String,
        /// Attempts used.
        attempts: u32,
    },
    /// A menu or collect gave up after wrong input.
    Failed {
        /// The node.
        node: String,
        /// Attempts used.
        attempts: u32,
    },
    /// The executor hung up for another reason (a queue let the call go without an exit).
    HungUp {
        /// Why.
        reason: HangupReason,
    },
    /// A transfer node dialed an outside number, which answered: the caller talks to it.
    Dialed {
        /// The number, variables filled in.
        number: String,
        /// The trunk named; `None`: the default trunk.
        trunk: Option<String>,
    },
    /// A dialed transfer failed and its node has no `failed`: hung up (unavailable).
    DialFailed {
        /// The transfer node.
        node: String,
    },
    /// The plan has no such number (the server answers 404).
    NoSuchNumber,
    /// The caller kept going round for a thousand inputs without the call ending.
    TooLong,
}

/// The whole walk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Simulation {
    /// What happened, in order.
    pub steps: Vec<Step>,
    /// Where the call ended.
    pub end: SimulationEnd,
    /// Keys given but never used because the call ended first.
    pub unused_keys: usize,
}
