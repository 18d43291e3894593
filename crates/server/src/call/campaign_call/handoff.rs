//! An answered campaign call handed to the inbound call task: the customer's leg becomes the
//! call's caller leg, and the call is queued for an agent (a routing entry above inbound
//! priority whose max wait is the connect time) or runs a dialplan flow, with the inbound
//! task's own queueing, offers, bridging, recording and surveys. The campaign's milestones
//! come from the hooks below: `Connected` when the router connects an agent, `Abandoned`
//! when the queue lets the call go (the abandon message is played: who called, spoken from
//! text synthesized ahead, and/or its prompt, then the callback number digit by digit; then
//! BYE), `FlowDone` and `Ended` when the task finishes.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hotline_campaigns::campaign::AgentlessResult;
use hotline_dialplan::{CallInfo, Ivr, QueueOptions};
use hotline_events::{EndReason, EventDraft, EventKind, HungUpBy};
use hotline_media::{PlayMode, Prompt, RtpLegHandle, SdpSession};
use hotline_sip::dialog::Dialog;
use hotline_sip::message::Request;
use hotline_sip::transaction::{RequestKeyFields, TransactionKey};
use hotline_sip::transport::Target;
use tokio::sync::mpsc;
use tracing::Instrument;
use uuid::Uuid;

use super::super::{Call, CallInput, CallerLeg, Phase};
use super::{CampaignCallReport, DialTarget};
use crate::endpoint::{EndpointCommand, Shared};
use crate::router_task::RouteSignal;

/// Priority of a campaign call's queue entry: above every inbound caller, since a person is on
/// the line waiting for the agent the campaign promised.
const CAMPAIGN_PRIORITY: i32 = 1_000;

/// What ties an inbound call task to the campaign call it took over.
pub(in crate::call) struct CampaignLink {
    /// Where the milestones go.
    report: mpsc::UnboundedSender<CampaignCallReport>,
    /// The customer's number (what agents see).
    number: String,
    /// The target.
    target: DialTarget,
    /// When the customer answered.
    answered_at: Instant,
    /// When the person's greeting ended: the connect time counts from here.
    greeting_end: Instant,
    /// What an abandoned customer hears.
    abandon: Option<super::AbandonPlan>,
    /// The abandon message is playing: the prompts still to play after the current one.
    abandoning: Option<VecDeque<Arc<Prompt>>>,
    /// When the abandon message started.
    abandon_started: Option<Instant>,
    /// The trunk channel the call holds until it ends.
    _channel: crate::trunk::Channel,
    /// The campaign, the customer's record and the attempt (named in the call's survey
    /// events).
    pub(in crate::call) record: crate::campaigns::surveys::SurveyKey,
}

/// The instants a handed-over call's times count from.
#[derive(Debug, Clone, Copy)]
pub(super) struct Clocks {
    /// When the customer answered (talk time).
    pub(super) answered_at: Instant,
    /// When the person's greeting ended, the answer when none was measured (the connect
    /// time: the US and UK rule's "within 2 s of the completed greeting").
    pub(super) greeting_end: Instant,
}

/// The answered customer's leg, as the campaign call task hands it over.
pub(super) struct AnsweredLeg {
    /// Our INVITE.
    pub(super) invite: Request,
    pub(super) target: Target,
    pub(super) local_tag: String,
    pub(super) dialog: Option<Dialog>,
    pub(super) media: RtpLegHandle,
    pub(super) events: Option<mpsc::Receiver<hotline_media::LegEvent>>,
    pub(super) sdp: SdpSession,
    pub(super) channel: crate::trunk::Channel,
}

/// Starts the inbound call task on the answered leg; its dialog's requests go there from now.
/// Returns the task's input.
pub(super) fn hand_off(
    shared: Arc<Shared>,
    id: Uuid,
    leg: AnsweredLeg,
    dial: &super::CampaignDial,
    clocks: Clocks,
) -> mpsc::UnboundedSender<CallInput> {
    let Clocks {
        answered_at,
        greeting_end,
    } = clocks;
    let (tx, rx) = mpsc::unbounded_channel();
    let call_id = leg.invite.call_id().unwrap_or_default().to_string();
    shared.endpoint.send(EndpointCommand::AddDialog {
        call_id: call_id.clone(),
        local_tag: leg.local_tag.clone(),
        owner: tx.clone(),
    });
    let dialplan = shared.dialplan.current();
    let ivr = match &dial.target {
        DialTarget::Flow { flow } => {
            let info = CallInfo::new(flow, &dial.number, std::time::SystemTime::now());
            Ivr::start(dialplan.plan.clone(), info, Instant::now())
        }
        DialTarget::Queue { .. } => None,
    };
    if let Some(speech) = dial
        .abandon_message
        .as_ref()
        .and_then(|a| a.identity.clone())
    {
        synthesize_identity(&shared, speech);
    }
    let link = CampaignLink {
        report: dial.report.clone(),
        number: dial.number.clone(),
        target: dial.target.clone(),
        answered_at,
        greeting_end,
        abandon: dial.abandon_message.clone(),
        abandoning: None,
        abandon_started: None,
        _channel: leg.channel,
        record: crate::campaigns::surveys::SurveyKey {
            campaign: dial.campaign.clone(),
            entry: dial.entry.0,
            attempt: dial.attempt,
        },
    };
    let key = invite_key(&leg.invite, &call_id);
    let (route_tx, route_rx) = mpsc::unbounded_channel();
    let mut call = Call {
        id,
        route_tx,
        route_rx,
        caller: CallerLeg {
            invite: leg.invite,
            key,
            target: leg.target,
            local_tag: leg.local_tag,
            dialog: leg.dialog,
            answered_final: true,
            answered: true,
            media: Some(leg.media),
            events: leg.events,
            sdp: leg.sdp,
            remote_offer: None,
            session_deadline: None,
            session_interval: None,
            held: false,
        },
        ivr,
        dialplan_version: dialplan.version,
        phase: Phase::Ivr,
        agent: None,
        ringing: Vec::new(),
        offers: 0,
        stale_forks: Vec::new(),
        started: answered_at,
        sip_call_ids: vec![call_id],
        end: None,
        routed: None,
        announcer: None,
        callback: super::super::callback_offer::CallbackOffer::default(),
        survey: super::super::survey::SurveySlot::None,
        recorder: None,
        attached: std::collections::BTreeMap::new(),
        trunk: super::super::trunk_leg::TrunkSlot::default(),
        speech_pending: false,
        rec: super::super::recording::DialplanRecording::default(),
        campaign: Some(link),
        shared: shared.clone(),
        self_tx: tx.clone(),
    };
    // The call's first event, before the task queues it (the same journal channel keeps
    // the order): what tells the call's events apart from an inbound caller's.
    shared
        .events
        .emit(outbound_event(&call, dial).dialplan_version(call.dialplan_version));
    let span = tracing::Span::current();
    tokio::spawn(
        async move {
            shared.metrics.active_calls.inc();
            shared
                .active_calls
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            call.run(rx).await;
            call.finish();
            shared.metrics.active_calls.dec();
            shared
                .active_calls
                .fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
        }
        .instrument(span),
    );
    tx
}

/// `call.outbound` of a handed-over campaign call: the campaign, the entry and attempt, and
/// the queue (or the flow) it goes to.
fn outbound_event(call: &Call, dial: &super::CampaignDial) -> EventDraft {
    let flow = match &dial.target {
        DialTarget::Flow { flow } => Some(flow.clone()),
        DialTarget::Queue { .. } => None,
    };
    let mut draft = EventDraft::new(EventKind::CallOutbound {
        campaign: dial.campaign.clone(),
        entry: dial.entry.0,
        attempt: dial.attempt,
        flow,
    })
    .call(call.id);
    if let DialTarget::Queue { queue, .. } = &dial.target {
        draft = draft.queue(queue.as_str());
    }
    for c in &call.sip_call_ids {
        draft = draft.sip_call_id(c.clone());
    }
    draft
}

/// The identity of an abandon message when its synthesis was not kept yet (the campaign's
/// was made at create; this is for campaigns a restart restored whose synthesis is still
/// running or failed): synthesized now, while the customer waits for an agent.
fn synthesize_identity(shared: &Arc<Shared>, speech: crate::tts::Speech) {
    if shared.tts.is_kept(&speech) {
        return;
    }
    let tts = shared.tts.clone();
    tokio::spawn(async move {
        match tts.synthesize(&speech).await {
            Ok(prompt) => tts.keep(&speech, prompt),
            Err(e) => tracing::warn!("the abandon message's identity was not synthesized: {e}"),
        }
    });
}

/// The abandon message's prompts: the spoken identity (who called) when there is one, the
/// plan's prompt, then the callback number's digits (`num_0` .. `num_9`); prompts the library
/// lacks are left out.
fn abandon_prompts<P>(
    plan: &super::AbandonPlan,
    identity: Option<P>,
    prompt: impl Fn(&str) -> Option<P>,
) -> VecDeque<P> {
    let mut names: Vec<String> = plan.prompt.iter().cloned().collect();
    names.extend(
        plan.callback_number
            .chars()
            .filter(char::is_ascii_digit)
            .map(|d| format!("num_{d}")),
    );
    identity
        .into_iter()
        .chain(names.iter().filter_map(|n| prompt(n)))
        .collect()
}

/// What is left at `now` of `connect_within` counted from `greeting_end` (at least 1 ms: the
/// routing core's max wait; none left plays the abandon message at once).
fn connect_time_left(greeting_end: Instant, connect_within: Duration, now: Instant) -> Duration {
    (greeting_end + connect_within)
        .saturating_duration_since(now)
        .max(Duration::from_millis(1))
}

/// A key standing for our INVITE where the call task keeps the caller's INVITE transaction
/// (nothing is ever sent on it: the call is answered already). Our own branch cannot be the
/// key of a request the far end sends.
fn invite_key(invite: &Request, call_id: &str) -> TransactionKey {
    let via = invite.headers().get("Via").unwrap_or_default();
    let branch = via
        .split(';')
        .find_map(|p| p.trim().strip_prefix("branch="))
        .unwrap_or_default();
    TransactionKey::for_request(&RequestKeyFields {
        method: "INVITE",
        branch: Some(branch),
        sent_by: "campaign",
        request_uri: "",
        call_id,
        from_tag: None,
        to_tag: None,
        cseq: invite.cseq().map_or(1, |c| c.seq),
        top_via: via,
    })
}

impl Call {
    /// A campaign call's start (instead of answering an INVITE): queue it or run its flow.
    /// False: the call is already over.
    pub(in crate::call) fn start_campaign(&mut self) -> bool {
        let Some(link) = self.campaign.as_ref() else {
            return false;
        };
        match link.target.clone() {
            DialTarget::Queue {
                queue,
                skills,
                connect_within,
            } => {
                // One clock with the campaign's late test: the connect time from the end of
                // the greeting, so what is left of it after the verdict.
                let left = connect_time_left(link.greeting_end, connect_within, Instant::now());
                let options = QueueOptions {
                    priority: Some(CAMPAIGN_PRIORITY),
                    skills: skills.into_iter().map(|s| (s, 1)).collect(),
                    max_wait: Some(left),
                    ..QueueOptions::default()
                };
                tracing::info!(
                    %queue,
                    connect_ms = connect_within.as_millis() as u64,
                    left_ms = left.as_millis() as u64,
                    "campaign call: waiting for an agent"
                );
                self.enqueue(queue, options, None);
            }
            DialTarget::Flow { flow } => {
                if self.ivr.is_none() {
                    tracing::warn!(%flow, "campaign flow is not a number of the dialplan: hanging up");
                    self.hang_up_all(EndReason::Error, HungUpBy::System);
                    return false;
                }
                tracing::info!(%flow, "campaign call: running its flow");
                self.drive_ivr();
            }
        }
        self.phase != Phase::Ended
    }

    /// Sends a campaign call's milestone to its campaign (nothing for other calls).
    pub(in crate::call) fn campaign_report(&self, report: CampaignCallReport) {
        if let Some(link) = &self.campaign {
            let _ = link.report.send(report);
        }
    }

    /// The customer's number, for a campaign call.
    pub(in crate::call) fn campaign_number(&self) -> Option<String> {
        self.campaign.as_ref().map(|c| c.number.clone())
    }

    /// A routing signal of a campaign call: `Connected` is reported; `Left` (no agent within
    /// the connect time) plays the abandon message instead of hanging up at once. `None`: the
    /// signal is handled.
    pub(in crate::call) fn campaign_signal(&mut self, signal: RouteSignal) -> Option<RouteSignal> {
        let Some(link) = self.campaign.as_mut() else {
            return Some(signal);
        };
        match &signal {
            RouteSignal::Connected { agent } => {
                let after_answer = link.answered_at.elapsed();
                let since_greeting = link.greeting_end.elapsed();
                tracing::info!(%agent, after_ms = after_answer.as_millis() as u64, since_greeting_ms = since_greeting.as_millis() as u64, "campaign call connected to an agent");
                self.shared
                    .metrics
                    .campaign_calls
                    .with_label_values(&["connected"])
                    .inc();
                let _ = link.report.send(CampaignCallReport::Connected {
                    call: self.id,
                    agent: agent.clone(),
                    after_answer,
                    since_greeting,
                });
                Some(signal)
            }
            RouteSignal::Left { reason } if matches!(self.phase, Phase::Queued { .. }) => {
                tracing::info!(?reason, "no agent within the connect time: abandoned");
                let _ = link
                    .report
                    .send(CampaignCallReport::Abandoned { call: self.id });
                let plan = link.abandon.clone();
                self.campaign_abandon(plan.as_ref());
                None
            }
            _ => Some(signal),
        }
    }

    /// No agent within the connect time: the abandon message (who called, spoken and/or in
    /// its prompt, then the callback number read digit by digit), then BYE.
    fn campaign_abandon(&mut self, plan: Option<&super::AbandonPlan>) {
        self.shared
            .metrics
            .campaign_calls
            .with_label_values(&["abandoned"])
            .inc();
        // The routing core already forgot this call.
        self.routed = None;
        self.announcer = None;
        self.end_agent_legs();
        let mut prompts: VecDeque<Arc<Prompt>> = plan
            .map(|p| {
                let identity = p.identity.as_ref().and_then(|s| self.shared.tts.cached(s));
                if p.identity.is_some() && identity.is_none() {
                    tracing::warn!(
                        "the abandon message's identity is not synthesized yet: it is left out"
                    );
                }
                let spoken = identity.is_some();
                let all = abandon_prompts(p, identity, |name| self.shared.prompts.get(name));
                let audio_ms: u128 = all.iter().map(|a| a.duration().as_millis()).sum();
                tracing::info!(
                    identity_spoken = spoken,
                    prompt = p.prompt.as_deref().unwrap_or(""),
                    parts = all.len(),
                    audio_ms = audio_ms as u64,
                    "abandon message: playing"
                );
                all
            })
            .unwrap_or_default();
        let first = prompts.pop_front();
        let played = match (first, self.caller.media.as_ref()) {
            (Some(p), Some(m)) => m.play(p, PlayMode::Once).is_ok(),
            _ => false,
        };
        if played {
            if let Some(link) = self.campaign.as_mut() {
                link.abandoning = Some(prompts);
                link.abandon_started = Some(Instant::now());
            }
            self.phase = Phase::Ivr;
        } else {
            tracing::warn!("no abandon message to play: hanging up");
            self.hang_up_all(EndReason::Abandoned, HungUpBy::System);
            self.routed = None;
        }
    }

    /// A prompt of the abandon message ended: the next one, or hang up after the last. True
    /// when the abandon message is playing.
    pub(in crate::call) fn campaign_playback_finished(&mut self) -> bool {
        let Some(link) = self.campaign.as_mut() else {
            return false;
        };
        let Some(rest) = link.abandoning.as_mut() else {
            return false;
        };
        let next = rest.pop_front();
        // Logged once: the start is taken.
        if let Some(started) = link.abandon_started.take_if(|_| next.is_none()) {
            tracing::info!(
                message_played = true,
                ms = started.elapsed().as_millis() as u64,
                "abandon message played to its end"
            );
        }
        let played = match (next, self.caller.media.as_ref()) {
            (Some(p), Some(m)) => m.play(p, PlayMode::Once).is_ok(),
            _ => false,
        };
        if !played {
            self.hang_up_all(EndReason::Abandoned, HungUpBy::System);
        }
        true
    }

    /// The call task ends: the flow's result and `Ended`.
    pub(in crate::call) fn campaign_ended(&mut self) {
        let Some(link) = self.campaign.take() else {
            return;
        };
        if matches!(link.target, DialTarget::Flow { .. }) {
            let result = match self.end {
                Some((_, HungUpBy::Caller)) => AgentlessResult::HungUp,
                _ => AgentlessResult::Completed,
            };
            let _ = link.report.send(CampaignCallReport::FlowDone {
                call: self.id,
                result,
            });
        }
        let _ = link.report.send(CampaignCallReport::Ended {
            call: self.id,
            talk: link.answered_at.elapsed(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_connect_time_left_counts_from_the_greetings_end() {
        let greeting_end = Instant::now();
        let two = Duration::from_secs(2);
        // The verdict 860 ms after the greeting: 1.14 s left, not 2 s.
        let verdict = greeting_end + Duration::from_millis(860);
        assert_eq!(
            connect_time_left(greeting_end, two, verdict),
            Duration::from_millis(1140)
        );
        // Past it (an undecided answer counted from the answer): the least wait.
        let late = greeting_end + Duration::from_secs(5);
        assert_eq!(
            connect_time_left(greeting_end, two, late),
            Duration::from_millis(1)
        );
    }

    #[test]
    fn the_abandon_message_is_who_called_then_its_prompt_then_the_callback_numbers_digits() {
        let mut plan = super::super::AbandonPlan {
            identity: None,
            prompt: Some("abandoned".into()),
            callback_number: "+44 20 7946".into(),
        };
        let digits = [
            "num_4", "num_4", "num_2", "num_0", "num_7", "num_9", "num_4", "num_6",
        ];
        let spoken = abandon_prompts(&plan, Some("This is Acme calling.".to_string()), |n| {
            Some(n.to_string())
        });
        let mut expected = vec!["This is Acme calling.", "abandoned"];
        expected.extend(digits);
        assert_eq!(Vec::from(spoken), expected);
        // Without the spoken identity (no synthesizer): the prompt says who called.
        let all = abandon_prompts(&plan, None, |n| Some(n.to_string()));
        assert_eq!(Vec::from(all), expected[1..].to_vec());
        // A prompt the library lacks is left out, the rest still plays.
        let some = abandon_prompts(&plan, None, |n| (n != "abandoned").then(|| n.to_string()));
        assert_eq!(some.front().map(String::as_str), Some("num_4"));
        assert_eq!(some.len(), 8);
        // No prompt: the identity, then the digits.
        plan.prompt = None;
        let bare = abandon_prompts(&plan, Some("Acme".to_string()), |n| Some(n.to_string()));
        assert_eq!(bare.len(), 9);
        assert_eq!(bare.front().map(String::as_str), Some("Acme"));
    }
}
