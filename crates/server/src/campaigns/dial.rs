//! From the engine's dial order to a campaign call, and from the call's reports back to the
//! engine's commands.
//!
//! A progressive, predictive or agentless dial becomes a customer-first campaign call
//! ([`crate::call::spawn_campaign_call`]): the customer is dialed through the campaign's trunk
//! with its caller ID, the detector listens to the answer when the campaign detects machines,
//! and a person goes to the campaign's queue (connected within the profile's connect time,
//! else the abandon message) or through its agentless flow. A preview dial (an agent accepted
//! the record) is the same customer-first call with the accepting agent kept out of other
//! campaign work until the call ends; the answer is offered to the campaign's queue, where the
//! accepting agent is free.

use std::time::Duration;

use hotline_campaigns::campaign::{
    AmdAction, Audience, CampaignId, CampaignSpec, Command, DialOrder, EntryId,
};
use hotline_campaigns::{classify, AgentName, FinalResponse};
use tokio::sync::mpsc;

use super::config::CampaignsSettings;
use crate::call::{AbandonPlan, AmdPlan, CampaignCallReport, CampaignDial, DialTarget};
use crate::tts::Speech;

/// The campaign call for a dial order; `identity` is what its abandon message speaks first.
pub fn campaign_dial(
    order: &DialOrder,
    spec: &CampaignSpec,
    settings: &CampaignsSettings,
    identity: Option<Speech>,
    report: mpsc::UnboundedSender<CampaignCallReport>,
) -> CampaignDial {
    let target = match &spec.audience {
        Audience::Agents { queue, skills } => DialTarget::Queue {
            queue: queue.as_str().to_string(),
            skills: skills.iter().map(|s| s.as_str().to_string()).collect(),
            connect_within: spec.profile.connect_within(),
        },
        Audience::Flow { flow } => DialTarget::Flow { flow: flow.clone() },
    };
    let amd = spec.amd.enabled.then(|| AmdPlan {
        config: settings.amd.clone(),
        on_machine: spec.amd.on_machine,
        on_not_sure: spec.amd.on_not_sure,
        message: settings.machine_message.clone().filter(|_| {
            spec.amd.on_machine == AmdAction::LeaveMessage
                || spec.amd.on_not_sure == AmdAction::LeaveMessage
        }),
    });
    let abandon_message = spec.abandon_message.as_ref().map(|m| AbandonPlan {
        identity,
        prompt: m.prompt.clone(),
        callback_number: m.callback_number.as_str().to_string(),
    });
    CampaignDial {
        campaign: order.campaign.as_str().to_string(),
        entry: order.entry,
        attempt: order.attempt,
        number: order.number.as_str().to_string(),
        caller_id: order.caller_id.as_str().to_string(),
        trunk: Some(order.trunk.as_str().to_string()),
        ring_timeout: order.ring_timeout,
        target,
        amd,
        abandon_message,
        report,
    }
}

/// What the driver remembers of a call in progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveCall {
    /// The campaign.
    pub campaign: CampaignId,
    /// The entry.
    pub entry: EntryId,
    /// The attempt.
    pub attempt: u32,
    /// The preview agent who accepted the record.
    pub agent: Option<AgentName>,
    /// An agent took it (its end then reports the handle time).
    pub connected: bool,
    /// The wrap-up time of the campaign's queue (for the pacer's handle time).
    pub wrap: Duration,
}

/// The engine commands one report of `call` becomes (none for milestones the engine decided
/// itself: a machine's drop or message follows from the verdict).
pub fn commands(call: &mut LiveCall, report: &CampaignCallReport) -> Vec<Command> {
    let (campaign, entry, attempt) = (call.campaign.clone(), call.entry, call.attempt);
    match report {
        CampaignCallReport::TrunkBusy { .. } => vec![Command::TrunkBusy {
            campaign,
            entry,
            attempt,
        }],
        CampaignCallReport::Final { outcome, .. } => vec![Command::Outcome {
            campaign,
            entry,
            attempt,
            outcome: *outcome,
        }],
        CampaignCallReport::Answered { verdict, .. } => {
            let answered = classify(FinalResponse {
                status: 200,
                retry_after: None,
                reason: None,
                cancelled_by_us: false,
            });
            vec![
                Command::Outcome {
                    campaign: campaign.clone(),
                    entry,
                    attempt,
                    outcome: answered,
                },
                Command::Answered {
                    campaign,
                    entry,
                    attempt,
                    verdict: *verdict,
                },
            ]
        }
        CampaignCallReport::Connected {
            agent,
            after_answer,
            since_greeting,
            ..
        } => {
            call.connected = true;
            vec![Command::ConnectedToAgent {
                campaign,
                entry,
                attempt,
                agent: AgentName::new(agent.as_str()),
                after: *after_answer,
                since_greeting: *since_greeting,
            }]
        }
        CampaignCallReport::Abandoned { .. } => vec![Command::Abandoned {
            campaign,
            entry,
            attempt,
        }],
        CampaignCallReport::FlowDone { result, .. } => vec![Command::AgentlessDone {
            campaign,
            entry,
            attempt,
            result: *result,
        }],
        CampaignCallReport::Ended { talk, .. } if call.connected => vec![Command::CallHandled {
            campaign,
            talk: *talk,
            wrap: call.wrap,
        }],
        CampaignCallReport::MessageLeft { .. }
        | CampaignCallReport::Dropped { .. }
        | CampaignCallReport::Survey { .. }
        | CampaignCallReport::Ended { .. } => vec![],
    }
}

/// The call a report is about.
pub fn call_of(report: &CampaignCallReport) -> uuid::Uuid {
    match report {
        CampaignCallReport::TrunkBusy { call }
        | CampaignCallReport::Final { call, .. }
        | CampaignCallReport::Answered { call, .. }
        | CampaignCallReport::Connected { call, .. }
        | CampaignCallReport::Abandoned { call }
        | CampaignCallReport::MessageLeft { call }
        | CampaignCallReport::Dropped { call }
        | CampaignCallReport::FlowDone { call, .. }
        | CampaignCallReport::Survey { call, .. }
        | CampaignCallReport::Ended { call, .. } => *call,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hotline_campaigns::campaign::{AgentlessResult, AnswerVerdict};
    use hotline_campaigns::{DialOutcome, OutcomeKind};
    use uuid::Uuid;

    fn live() -> LiveCall {
        LiveCall {
            campaign: CampaignId::new("renewals"),
            entry: EntryId(4),
            attempt: 2,
            agent: None,
            connected: false,
            wrap: Duration::from_secs(5),
        }
    }

    fn kinds(commands: &[Command]) -> Vec<&'static str> {
        commands
            .iter()
            .map(|c| match c {
                Command::Outcome { outcome, .. } if outcome.kind == OutcomeKind::Answered => {
                    "picked_up"
                }
                Command::Outcome { .. } => "outcome",
                Command::Answered { .. } => "answered",
                Command::ConnectedToAgent { .. } => "connected",
                Command::Abandoned { .. } => "abandoned",
                Command::AgentlessDone { .. } => "agentless_done",
                Command::CallHandled { .. } => "call_handled",
                _ => "other",
            })
            .collect()
    }

    #[test]
    fn a_dial_the_trunk_had_no_room_for_becomes_trunk_busy_for_its_attempt() {
        let call = Uuid::from_u128(2);
        let report = CampaignCallReport::TrunkBusy { call };
        let out = commands(&mut live(), &report);
        assert!(
            matches!(
                &out[..],
                [Command::TrunkBusy {
                    entry: EntryId(4),
                    attempt: 2,
                    ..
                }]
            ),
            "{out:?}"
        );
        assert_eq!(call_of(&report), call);
    }

    #[test]
    fn a_calls_reports_become_the_engines_commands_for_its_attempt() {
        let call = Uuid::from_u128(1);
        let mut c = live();
        let busy = DialOutcome::of(OutcomeKind::Busy);
        let out = commands(
            &mut c,
            &CampaignCallReport::Final {
                call,
                outcome: busy,
            },
        );
        assert!(matches!(
            &out[..],
            [Command::Outcome { entry: EntryId(4), attempt: 2, outcome, .. }] if *outcome == busy
        ));
        let answered = CampaignCallReport::Answered {
            call,
            verdict: AnswerVerdict::Human,
            after_ms: 900,
        };
        assert_eq!(
            kinds(&commands(&mut c, &answered)),
            ["picked_up", "answered"]
        );
        // A call no agent took reports its end without a handle time.
        let ended = CampaignCallReport::Ended {
            call,
            talk: Duration::from_secs(3),
        };
        assert!(commands(&mut c, &ended).is_empty());
        let connected = CampaignCallReport::Connected {
            call,
            agent: "1001".into(),
            after_answer: Duration::from_millis(2_900),
            since_greeting: Duration::from_millis(1_100),
        };
        let connect = commands(&mut c, &connected);
        assert_eq!(kinds(&connect), ["connected"]);
        // Both clocks reach the engine: its late test is on the greeting's.
        assert!(matches!(
            &connect[..],
            [Command::ConnectedToAgent { after, since_greeting, .. }]
                if *after == Duration::from_millis(2_900)
                    && *since_greeting == Duration::from_millis(1_100)
        ));
        assert!(c.connected);
        let handled = commands(&mut c, &ended);
        assert!(matches!(
            &handled[..],
            [Command::CallHandled { talk, wrap, .. }]
                if *talk == Duration::from_secs(3) && *wrap == Duration::from_secs(5)
        ));
        for (report, expected) in [
            (CampaignCallReport::Abandoned { call }, vec!["abandoned"]),
            (
                CampaignCallReport::FlowDone {
                    call,
                    result: AgentlessResult::Completed,
                },
                vec!["agentless_done"],
            ),
            (CampaignCallReport::Dropped { call }, vec![]),
            (CampaignCallReport::MessageLeft { call }, vec![]),
        ] {
            assert_eq!(kinds(&commands(&mut live(), &report)), expected);
            assert_eq!(call_of(&report), call);
        }
    }
}
