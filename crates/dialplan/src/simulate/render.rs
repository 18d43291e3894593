//! The text `hotline dialplan simulate` prints: one line per step, then the end.

use std::collections::BTreeMap;
use std::fmt;

use super::{SimulationEnd, Step, MAX_INPUTS};
use crate::duration::format_duration;
use crate::exec::ConsentAnswer;

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::Node(node) => write!(f, "node {node}"),
            Step::Answer => f.write_str("answer"),
            Step::Play {
                prompt,
                language: Some(language),
            } => write!(f, "play {prompt} ({language})"),
            Step::Play { prompt, .. } => write!(f, "play {prompt}"),
            Step::Speak {
                text,
                language: Some(language),
            } => write!(f, "speak \"{text}\" ({language})"),
            Step::Speak { text, .. } => write!(f, "speak \"{text}\""),
            Step::Key { key, node, next } => write!(f, "key {key} in {node} -> {next}"),
            Step::WrongKey { key, node } => write!(f, "key {key} in {node}: no such option"),
            Step::IgnoredKey { key, node } => write!(f, "key {key} in {node}: ignored"),
            Step::Timeout { node } => write!(f, "timeout in {node}"),
            Step::Collected {
                node,
                variable,
                value,
            } => write!(f, "collected {variable}={value} in {node}"),
            Step::Voicemail {
                mailbox,
                max_length,
                silence,
                end_key,
            } => {
                write!(
                    f,
                    "voicemail box {mailbox} max_length {}",
                    format_duration(*max_length)
                )?;
                if let Some(silence) = silence {
                    write!(f, " silence {}", format_duration(*silence))?;
                }
                if let Some(key) = end_key {
                    write!(f, " end_key {key}")?;
                }
                Ok(())
            }
            Step::MessageEnded { reason } => write!(f, "message ended: {}", reason.name()),
            Step::Lookup {
                node,
                failure: None,
            } => write!(f, "CRM lookup in {node}: found"),
            Step::Lookup {
                node,
                failure: Some(failure),
            } => write!(f, "CRM lookup in {node} failed: {failure}"),
            Step::InputRejected { node, input } if input.is_empty() => {
                write!(f, "no input in {node}")
            }
            Step::InputRejected { node, input } => write!(f, "input {input} refused in {node}"),
            Step::Flow { number } => write!(f, "transfer to number {number}"),
            Step::Dial {
                number,
                trunk: Some(trunk),
                ..
            } => write!(f, "dial {number} via trunk {trunk}"),
            Step::Dial { number, .. } => write!(f, "dial {number} via the default trunk"),
            Step::DialFailed { node } => write!(f, "dial failed in {node}"),
            Step::SurveyAnswer {
                survey,
                question,
                score,
            } => write!(f, "survey {survey} question {}: {score}", question + 1),
            Step::SurveyEnded {
                survey,
                end,
                answered,
            } => {
                let how = match end {
                    crate::survey::SurveyEnd::Completed => "completed",
                    crate::survey::SurveyEnd::NoAnswer => "skipped (no answer)",
                    crate::survey::SurveyEnd::CallerHungUp => "skipped (caller hung up)",
                };
                write!(f, "survey {survey} {how} after {answered} answers")
            }
            Step::Consent { node, answer } => write!(
                f,
                "recording consent in {node}: {}",
                match answer {
                    ConsentAnswer::Given => "given",
                    ConsentAnswer::Declined => "declined",
                }
            ),
            Step::RecordingSet { node, recording } => {
                write!(
                    f,
                    "recording policy {} set in {node}",
                    policy_text(recording)
                )
            }
            Step::RecordingDecision {
                consent: Some(ConsentAnswer::Declined),
                ..
            } => f.write_str("recording: none (consent declined)"),
            Step::RecordingDecision {
                node: Some(node),
                recording: Some(recording),
                ..
            } => write!(
                f,
                "recording: {} (from node {node}, over the queue's policy)",
                policy_text(recording)
            ),
            Step::RecordingDecision { .. } => {
                f.write_str("recording: the queue's policy (no node sets one)")
            }
        }
    }
}

/// `always`, `never`, `on_demand` or `sampled 20%`, with `+ IVR` when the IVR part is recorded.
fn policy_text(recording: &crate::model::NodeRecording) -> String {
    use hotline_recording::RecordingPolicy;
    let policy = match recording.policy {
        RecordingPolicy::Always => "always".to_owned(),
        RecordingPolicy::Never => "never".to_owned(),
        RecordingPolicy::OnDemand => "on_demand".to_owned(),
        RecordingPolicy::Sampled(share) => format!("sampled {share}"),
    };
    if recording.ivr {
        format!("{policy} + IVR")
    } else {
        policy
    }
}

impl fmt::Display for SimulationEnd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SimulationEnd::Queue {
                queue,
                options,
                data,
                exit,
            } => {
                write!(f, "queue {queue}")?;
                if let Some(priority) = options.priority {
                    write!(f, " priority {priority}")?;
                }
                if !options.skills.is_empty() {
                    write!(f, " skills {}", skill_list(&options.skills))?;
                }
                if !options.preferred_skills.is_empty() {
                    write!(f, " preferred {}", skill_list(&options.preferred_skills))?;
                }
                if let Some(max_wait) = options.max_wait {
                    write!(f, " max_wait {}", format_duration(max_wait))?;
                }
                if let Some(offer) = options.callback_offer {
                    write!(f, " callback_offer {}", format_duration(offer))?;
                }
                if let Some(survey) = &options.survey {
                    write!(f, " survey {survey}")?;
                }
                if !data.is_empty() {
                    let pairs: Vec<String> = data.iter().map(|(k, v)| format!("{k}={v}")).collect();
                    write!(f, " data {}", pairs.join(","))?;
                }
                if let Some(exit) = exit {
                    write!(f, " exit {exit}")?;
                }
                Ok(())
            }
            SimulationEnd::Hangup { cause } => write!(f, "hangup {}", cause.name()),
            SimulationEnd::TimedOut { node, attempts } => {
                write!(f, "timeout after {attempts} attempts in {node}")
            }
            SimulationEnd::Failed { node, attempts } => {
                write!(f, "wrong input after {attempts} attempts in {node}")
            }
            SimulationEnd::HungUp {
                reason: crate::exec::HangupReason::SurveyEnded,
            } => f.write_str("hung up after the survey"),
            SimulationEnd::HungUp { reason } => write!(f, "hung up ({reason:?})"),
            SimulationEnd::Dialed {
                number,
                trunk: Some(trunk),
            } => write!(f, "transferred to {number} via trunk {trunk}"),
            SimulationEnd::Dialed { number, .. } => {
                write!(f, "transferred to {number} via the default trunk")
            }
            SimulationEnd::DialFailed { node } => {
                write!(f, "dial failed in {node}: hangup unavailable")
            }
            SimulationEnd::NoSuchNumber => f.write_str("no such number (404)"),
            SimulationEnd::TooLong => write!(f, "still going after {MAX_INPUTS} inputs"),
        }
    }
}

fn skill_list(skills: &BTreeMap<String, u8>) -> String {
    let items: Vec<String> = skills.iter().map(|(s, l)| format!("{s}>={l}")).collect();
    items.join(",")
}
