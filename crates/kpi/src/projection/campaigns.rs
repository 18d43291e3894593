//! Folding outbound campaign calls: the campaign engine's dial events, and the calls that
//! `call.outbound` marks, whose queue entry, answer, abandon and conversation count as
//! campaign work of the queue and the agent instead of inbound calls.
//!
//! A campaign's queue is the one named by its `campaign.created` specification
//! (`audience.agents.queue`), else by its first `call.outbound`; dials of a campaign whose
//! queue is not known yet (created before the journal's start, agentless) count nowhere. A
//! dial's answer and verdict count in the period of the dial.

use hotline_events::{CampaignEventBody, Event, EventKind};
use serde_json::Value;
use uuid::Uuid;

use super::KpiProjection;
use crate::campaigns::CampaignCounters;

/// A dial: campaign, entry and attempt.
pub(super) type DialKey = (String, u64, u32);

/// A campaign dial from its `campaign.attempt_started` to its `campaign.attempt_ended`: its
/// answer and verdict count in the period of the dial (so answered <= dialed in every window).
#[derive(Debug)]
pub(super) struct DialTrack {
    queue: String,
    at: i64,
    picked_up: bool,
    verdict: bool,
}

/// The dial a campaign event names (`entry`, `attempt`).
fn dial_key(body: &CampaignEventBody) -> Option<DialKey> {
    let number = |k: &str| body.fields.get(k).and_then(Value::as_u64);
    let attempt = u32::try_from(number("attempt")?).ok()?;
    Some((body.campaign.clone(), number("entry")?, attempt))
}

impl KpiProjection {
    /// Folds a campaign engine event; `false` for any other event.
    pub(super) fn campaign_event(&mut self, ev: &Event, ts: i64) -> bool {
        match &ev.kind {
            EventKind::CampaignCreated(body) => {
                let queue = body
                    .fields
                    .get("spec")
                    .and_then(|spec| spec.pointer("/audience/agents/queue"))
                    .and_then(Value::as_str);
                if let Some(queue) = queue {
                    self.campaign_queues
                        .insert(body.campaign.clone(), queue.to_owned());
                }
            }
            EventKind::CampaignAttemptStarted(body) => self.dial_started(body, ts),
            EventKind::CampaignPickedUp(body) => {
                if let Some(d) = self.dial_of(body).filter(|d| !d.picked_up) {
                    d.picked_up = true;
                    let (queue, at) = (d.queue.clone(), d.at);
                    self.queue_series(&queue)
                        .add_at(at, |q| q.campaigns.answered += 1);
                }
            }
            EventKind::CampaignAnswered(body) => {
                let machine = body.fields.get("verdict").and_then(Value::as_str) == Some("machine");
                let live = body
                    .fields
                    .get("action")
                    .and_then(|a| a.pointer("/to_agent/live"))
                    .and_then(Value::as_bool)
                    == Some(true);
                if let Some(d) = self.dial_of(body).filter(|d| !d.verdict) {
                    d.verdict = true;
                    let (queue, at) = (d.queue.clone(), d.at);
                    self.queue_series(&queue).add_at(at, |q| {
                        q.campaigns.machine_answers += u64::from(machine);
                        q.campaigns.live_answers += u64::from(live);
                    });
                }
            }
            EventKind::CampaignAttemptEnded(body) => {
                if let Some(key) = dial_key(body) {
                    self.campaign_dials.remove(&key);
                }
            }
            EventKind::CampaignHeld(body) => {
                if body.fields.get("reason").and_then(Value::as_str) == Some("trunk_busy") {
                    self.dial_not_started(body);
                }
            }
            _ => return false,
        }
        true
    }

    /// A dial of a campaign whose queue is known: counted, and followed to its answer.
    fn dial_started(&mut self, body: &CampaignEventBody, ts: i64) {
        let (Some(key), Some(queue)) = (
            dial_key(body),
            self.campaign_queues.get(&body.campaign).cloned(),
        ) else {
            return;
        };
        self.queue_series(&queue)
            .add_at(ts, |q| q.campaigns.dialed += 1);
        let dial = DialTrack {
            queue,
            at: ts,
            picked_up: false,
            verdict: false,
        };
        self.campaign_dials.insert(key, dial);
    }

    /// `campaign.held` with `trunk_busy`: the record's dial found its trunk full and never
    /// left; it is taken back from the dials of its period.
    fn dial_not_started(&mut self, body: &CampaignEventBody) {
        let Some(entry) = body.fields.get("entry").and_then(Value::as_u64) else {
            return;
        };
        let key = self
            .campaign_dials
            .keys()
            .find(|(c, e, _)| *c == body.campaign && *e == entry)
            .cloned();
        if let Some(d) = key.and_then(|k| self.campaign_dials.remove(&k)) {
            self.queue_series(&d.queue).add_at(d.at, |q| {
                q.campaigns.dialed = q.campaigns.dialed.saturating_sub(1)
            });
        }
    }

    /// Stops following dials started before `cutoff` whose end was lost.
    pub(super) fn forget_dials_before(&mut self, cutoff: i64) {
        self.campaign_dials.retain(|_, d| d.at >= cutoff);
    }

    /// The dial an engine event is about, when followed.
    fn dial_of(&mut self, body: &CampaignEventBody) -> Option<&mut DialTrack> {
        self.campaign_dials.get_mut(&dial_key(body)?)
    }

    /// `call.outbound`: the call is a campaign call, handed to `queue`'s agents (or to a flow).
    pub(super) fn call_outbound(
        &mut self,
        call: Uuid,
        campaign: &str,
        queue: Option<&str>,
        ts: i64,
    ) {
        // Only a call not queued yet: a marker after the queue entry (a journal out of
        // order) would split one call between inbound and campaign counts.
        let c = self.call(call, ts);
        if c.outbound || c.ever_queued || c.answered.is_some() {
            return;
        }
        c.outbound = true;
        // Handed to the queue's agents: queued for them (counted here, so that a queue that
        // refuses the call still counts its abandon).
        if let Some(queue) = queue {
            c.campaign_entry = Some((queue.to_owned(), ts));
            self.queue_series(queue)
                .add_at(ts, |q| q.campaigns.queued += 1);
            self.campaign_queues
                .entry(campaign.to_owned())
                .or_insert_with(|| queue.to_owned());
        }
    }

    /// An agent took a queued campaign call: counted in the period it was handed over (the
    /// agent's count goes with the agent's `answered`).
    pub(super) fn campaign_connected(&mut self, queue: &str, queued_at: i64, wait_ms: u64) {
        self.queue_series(queue).add_at(queued_at, |q| {
            q.campaigns.connected += 1;
            q.campaigns.wait_connected_ms += wait_ms;
        });
    }

    /// A queued campaign call left without an agent, in the period it was handed over.
    pub(super) fn campaign_abandoned(&mut self, queue: &str, queued_at: i64) {
        self.queue_series(queue)
            .add_at(queued_at, |q| q.campaigns.abandoned += 1);
    }

    /// Adds an ended campaign conversation's talk and hold to the campaign counts of its
    /// queue and agent (`call_ended` adds them to the handled work too).
    pub(super) fn campaign_handled(
        &mut self,
        queue: &str,
        agent: &str,
        talk: u64,
        hold: u64,
        ts: i64,
    ) {
        let add = |c: &mut CampaignCounters| {
            c.conversations += 1;
            c.talk_ms += talk;
            c.hold_ms += hold;
        };
        self.queue_series(queue)
            .add_at(ts, |q| add(&mut q.campaigns));
        self.agent_track(agent, ts)
            .series
            .add_at(ts, |a| add(&mut a.campaigns));
    }
}
