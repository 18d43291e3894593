//! Outbound campaign counts: the sums kept per bucket and the values reported per queue and
//! per agent.
//!
//! A campaign call is dialed by hotline (`campaign.attempt_started`); when the customer's side
//! answers (`campaign.picked_up`) the detector decides who it is (`campaign.answered`). A person
//! (or an answer the campaign passes to an agent) becomes a call of hotline (`call.outbound`,
//! then `call.queued` into the campaign's queue with the connect time as its max wait): an
//! agent takes it (`call.answered`: connected) or nobody does in time (abandoned per the
//! campaign rule: the call leaves the queue without an agent, or the customer hangs up while
//! waiting). The conversation that follows is handled work of the agent and the queue (talk,
//! hold, wrap-up, AHT, occupancy), also counted here; it is never an offered, answered or
//! abandoned inbound call, and never in the queue's service level, ASA or rates. Machine
//! answers and agentless flows are no agent work.

use serde::{Deserialize, Serialize};

use crate::counters::Merge;

/// Raw campaign sums for one queue or agent over one bucket or period. A dial, its answer and
/// its verdict count in the period of the dial; a handed-over call and its outcome (connected, abandoned, wait) in
/// the period of the hand-over; a conversation's handling times in the period it ended.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct CampaignCounters {
    pub dialed: u64,
    pub answered: u64,
    pub live_answers: u64,
    pub machine_answers: u64,
    pub queued: u64,
    pub connected: u64,
    pub abandoned: u64,
    pub wait_connected_ms: u64,
    pub conversations: u64,
    pub talk_ms: u64,
    pub hold_ms: u64,
    pub wrap_up_ms: u64,
}

impl Merge for CampaignCounters {
    fn merge(&mut self, o: &Self) {
        self.dialed += o.dialed;
        self.answered += o.answered;
        self.live_answers += o.live_answers;
        self.machine_answers += o.machine_answers;
        self.queued += o.queued;
        self.connected += o.connected;
        self.abandoned += o.abandoned;
        self.wait_connected_ms += o.wait_connected_ms;
        self.conversations += o.conversations;
        self.talk_ms += o.talk_ms;
        self.hold_ms += o.hold_ms;
        self.wrap_up_ms += o.wrap_up_ms;
    }
}

fn mean_s(total_ms: u64, n: u64) -> Option<f64> {
    (n > 0).then(|| total_ms as f64 / n as f64 / 1000.0)
}

/// Outbound campaign counts of one queue (or of every queue) over one window: the campaigns
/// whose agents are this queue's.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CampaignKpis {
    /// Dials of the queue's campaigns (`campaign.attempt_started`).
    pub dialed: u64,
    /// Dials the customer's side answered, person or machine (`campaign.picked_up`).
    pub answered: u64,
    /// Answers counted live by the campaign rule: passed to an agent and not found to be a
    /// machine (`campaign.answered` with action `to_agent`, `live`).
    pub live_answers: u64,
    /// Answers the detector found to be a machine (no agent work).
    pub machine_answers: u64,
    /// Answered campaign calls handed to the queue's agents (`call.outbound` naming the
    /// queue; its `call.queued` is never in the queue's inbound `offered`).
    pub queued: u64,
    /// Of those, calls an agent took (`call.answered`): never in the inbound `answered`.
    pub connected: u64,
    /// Of those, calls no agent took: the connect time ran out (the customer heard the abandon
    /// message), the queue refused the call, or the customer hung up while waiting. Never an
    /// inbound abandon.
    pub abandoned: u64,
    /// Answer rate (接通率): answered / dialed.
    pub answer_rate: Option<f64>,
    /// abandoned / queued.
    pub abandon_rate: Option<f64>,
    /// Mean wait of connected calls for their agent, in seconds (from the queue entry).
    pub mean_wait_s: Option<f64>,
    /// Campaign conversations that ended (also in the queue's `handled`).
    pub conversations: u64,
    /// Their talk time (also in `talk_ms`).
    pub talk_ms: u64,
    /// Their hold time (also in `hold_ms`).
    pub hold_ms: u64,
    /// The agents' wrap-up after them (also in `wrap_up_ms`).
    pub wrap_up_ms: u64,
    /// Average handle time of campaign conversations: (talk + hold + wrap-up) /
    /// conversations, in seconds.
    pub aht_s: Option<f64>,
}

impl CampaignKpis {
    pub(crate) fn compute(c: &CampaignCounters) -> Self {
        Self {
            dialed: c.dialed,
            answered: c.answered,
            live_answers: c.live_answers,
            machine_answers: c.machine_answers,
            queued: c.queued,
            connected: c.connected,
            abandoned: c.abandoned,
            answer_rate: (c.dialed > 0).then(|| c.answered as f64 / c.dialed as f64),
            abandon_rate: (c.queued > 0).then(|| c.abandoned as f64 / c.queued as f64),
            mean_wait_s: mean_s(c.wait_connected_ms, c.connected),
            conversations: c.conversations,
            talk_ms: c.talk_ms,
            hold_ms: c.hold_ms,
            wrap_up_ms: c.wrap_up_ms,
            aht_s: mean_s(c.talk_ms + c.hold_ms + c.wrap_up_ms, c.conversations),
        }
    }
}

/// Outbound campaign work of one agent (or of the team) over one window.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AgentCampaignKpis {
    /// Campaign calls the agent took (also in the agent's `answered`: the phone rang), in
    /// the period of the offer like `answered`.
    pub connected: u64,
    /// Campaign conversations that ended (also in the agent's `handled`).
    pub conversations: u64,
    /// Their talk time (also in `talk_ms`).
    pub talk_ms: u64,
    /// Their hold time (also in `hold_ms`).
    pub hold_ms: u64,
    /// Wrap-up after them (also in `wrap_up_ms`).
    pub wrap_up_ms: u64,
    /// (talk + hold + wrap-up) / conversations, in seconds.
    pub aht_s: Option<f64>,
}

impl AgentCampaignKpis {
    pub(crate) fn compute(c: &CampaignCounters) -> Self {
        Self {
            connected: c.connected,
            conversations: c.conversations,
            talk_ms: c.talk_ms,
            hold_ms: c.hold_ms,
            wrap_up_ms: c.wrap_up_ms,
            aht_s: mean_s(c.talk_ms + c.hold_ms + c.wrap_up_ms, c.conversations),
        }
    }
}
