//! `hotline dialplan simulate`: one call walked through a dialplan without a phone, by the real
//! executor. The caller listens to every prompt to its end and presses the given keys one by one
//! whenever the flow waits for input; once the keys run out (or where a key is left out) the
//! wait times out. Time moves only by those timeouts, from the given arrival time.

mod render;
mod step;
mod survey;

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use crate::exec::{CallInfo, HangupReason, Ivr, IvrAction, IvrInput, IvrTimer};
use crate::http::{CrmFixture, HttpFailure, HttpRequest};
use crate::model::{Dialplan, Node, NodeKind, Transfer, Voicemail, DEFAULT_VOICEMAIL_MAX_LENGTH};

pub use step::{Simulation, SimulationEnd, Step};

/// Most inputs fed to one simulated call: a validated plan cannot loop without input, and every
/// input is a key or a timeout, so this only stops a caller who keeps retrying a menu forever.
const MAX_INPUTS: usize = 1_000;

/// The call to simulate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimulatedCall {
    /// The dialed number.
    pub to: String,
    /// The caller's number, in any form (compared in E.164).
    pub from: String,
    /// When the call arrives (schedules and time conditions read it).
    pub at: SystemTime,
    /// The caller's keys in order; `None` lets that wait time out instead.
    pub keys: Vec<Option<char>>,
}

/// How the simulated world around the call answers.
#[derive(Debug, Clone, Copy, Default)]
pub struct SimulateOptions<'a> {
    /// Answers `http` nodes (keyed by the caller's E.164 number); without one every lookup
    /// fails and takes its `on_failure`.
    pub crm: Option<&'a CrmFixture>,
    /// Whether dialed transfers fail (their `failed` branch is taken); else the far end answers.
    pub dial_fails: bool,
}

/// Walks `call` through `plan` with the real executor; `now` is the monotonic start (any
/// instant: only differences matter).
pub fn simulate(plan: Arc<Dialplan>, call: &SimulatedCall, now: Instant) -> Simulation {
    simulate_with(plan, call, now, &SimulateOptions::default())
}

/// Like [`simulate`], with `http` nodes answered from a CRM fixture (keyed by the caller's
/// E.164 number); without one every lookup fails and takes its `on_failure`.
pub fn simulate_with_crm(
    plan: Arc<Dialplan>,
    call: &SimulatedCall,
    now: Instant,
    crm: Option<&CrmFixture>,
) -> Simulation {
    let options = SimulateOptions {
        crm,
        ..SimulateOptions::default()
    };
    simulate_with(plan, call, now, &options)
}

/// Like [`simulate`], with the CRM and dialed transfers answering as `options` say.
pub fn simulate_with(
    plan: Arc<Dialplan>,
    call: &SimulatedCall,
    now: Instant,
    options: &SimulateOptions<'_>,
) -> Simulation {
    let crm = options.crm;
    let info = CallInfo::new(&call.to, &call.from, call.at);
    let mut keys: VecDeque<Option<char>> = call.keys.iter().copied().collect();
    let Some(mut ivr) = Ivr::start_traced(plan, info, now) else {
        return Simulation {
            steps: Vec::new(),
            end: SimulationEnd::NoSuchNumber,
            unused_keys: keys.len(),
        };
    };
    let mut walk = Walk {
        flow: call.to.clone(),
        ..Walk::default()
    };
    let mut now = now;
    walk.drain(&mut ivr);
    for _ in 0..MAX_INPUTS {
        if let Some(end) = walk.end.take() {
            return walk.finish(end, keys.len());
        }
        if let Some((node, number, trunk)) = walk.dial.take() {
            if options.dial_fails {
                walk.steps.push(Step::DialFailed { node });
                ivr.handle(now, IvrInput::DialFailed);
                walk.drain(&mut ivr);
            } else {
                ivr.handle(now, IvrInput::DialAnswered);
                walk.end = Some(SimulationEnd::Dialed { number, trunk });
            }
            continue;
        }
        if let Some((survey, language)) = walk.survey.take() {
            let end = walk.run_survey(ivr.plan(), &survey, language, &mut keys, &mut now);
            ivr.handle(now, IvrInput::SurveyFinished(end));
            walk.drain(&mut ivr);
            continue;
        }
        if let Some(request) = walk.lookup.take() {
            let result = match crm {
                Some(fixture) => fixture.answer(&request.caller),
                None => Err(HttpFailure::BadUrl("no CRM fixture given".into())),
            };
            walk.steps.push(Step::Lookup {
                node: request.node,
                failure: result.as_ref().err().cloned(),
            });
            ivr.handle_http(now, result);
            walk.drain(&mut ivr);
            continue;
        }
        if walk.playing {
            walk.playing = false;
            ivr.handle(now, IvrInput::PlaybackFinished);
        } else {
            match ivr.pending_timer() {
                Some((deadline, IvrTimer::DigitTimeout | IvrTimer::RecordLimit)) => {
                    match keys.pop_front() {
                        Some(Some(key)) => ivr.handle(now, IvrInput::Digit(key)),
                        Some(None) | None => {
                            now = deadline;
                            ivr.handle_timeout(now);
                        }
                    }
                }
                Some((
                    deadline,
                    IvrTimer::PlaybackGuard
                    | IvrTimer::HttpGuard
                    | IvrTimer::DialGuard
                    | IvrTimer::SurveyGuard,
                )) => {
                    now = deadline;
                    ivr.handle_timeout(now);
                }
                // Finished or waiting in a queue: the end was recorded by `drain`.
                None => {
                    let end = walk.end.take().unwrap_or(SimulationEnd::HungUp {
                        reason: HangupReason::BrokenDialplan,
                    });
                    return walk.finish(end, keys.len());
                }
            }
        }
        walk.drain(&mut ivr);
    }
    walk.finish(SimulationEnd::TooLong, keys.len())
}

/// What the walk collected so far.
#[derive(Default)]
struct Walk {
    steps: Vec<Step>,
    /// A prompt is playing whose end has not been reported yet.
    playing: bool,
    /// Failed attempts at the current menu or collect, and whether the last was a timeout.
    failures: u32,
    last_failure_timed_out: bool,
    end: Option<SimulationEnd>,
    /// A CRM lookup asked for and not answered yet.
    lookup: Option<HttpRequest>,
    /// A dial asked for and not answered yet: node, number, trunk.
    dial: Option<(String, String, Option<String>)>,
    /// The number whose nodes the trail names now (flow transfers move it).
    flow: String,
    /// A survey asked for and not run yet: its name and the call's language.
    survey: Option<(String, Option<String>)>,
}

impl Walk {
    fn finish(self, end: SimulationEnd, unused_keys: usize) -> Simulation {
        Simulation {
            steps: self.steps,
            end,
            unused_keys,
        }
    }

    /// Records what the executor did: first its reaction to the input in the node the call was
    /// in, then the nodes entered, then what those nodes did.
    fn drain(&mut self, ivr: &mut Ivr) {
        let actions: Vec<IvrAction> = std::iter::from_fn(|| ivr.poll_action()).collect();
        let (reactions, rest): (Vec<IvrAction>, Vec<IvrAction>) =
            actions.into_iter().partition(|a| {
                matches!(
                    a,
                    IvrAction::DigitAccepted { .. }
                        | IvrAction::DigitRejected { .. }
                        | IvrAction::DigitIgnored { .. }
                        | IvrAction::MenuTimedOut { .. }
                        | IvrAction::Collected { .. }
                        | IvrAction::InputRejected { .. }
                        | IvrAction::StopRecording { .. }
                        | IvrAction::ConsentAnswered { .. }
                )
            });
        for action in reactions {
            self.record(ivr, action);
        }
        let trail = ivr.take_trail();
        if !trail.is_empty() {
            self.failures = 0;
        }
        for node in trail {
            let flow = match ivr
                .plan()
                .number(&self.flow)
                .and_then(|n| n.nodes.get(&node))
            {
                Some(Node {
                    kind: NodeKind::Transfer(Transfer::Flow { number }),
                    ..
                }) => Some(number.clone()),
                _ => None,
            };
            self.steps.push(Step::Node(node));
            if let Some(number) = flow {
                self.flow.clone_from(&number);
                self.steps.push(Step::Flow { number });
            }
        }
        for action in rest {
            self.record(ivr, action);
        }
    }

    fn record(&mut self, ivr: &Ivr, action: IvrAction) {
        match action {
            IvrAction::Answer => self.steps.push(Step::Answer),
            IvrAction::Play {
                prompt, language, ..
            } => {
                self.playing = true;
                self.steps.push(Step::Play { prompt, language });
            }
            IvrAction::Speak { text, language } => {
                self.playing = true;
                self.steps.push(Step::Speak { text, language });
            }
            IvrAction::StopPlayback => self.playing = false,
            IvrAction::DigitAccepted { digit, node, next } => self.steps.push(Step::Key {
                key: digit,
                node,
                next,
            }),
            IvrAction::DigitRejected { digit, node } => {
                self.failed(false);
                self.steps.push(Step::WrongKey { key: digit, node });
            }
            IvrAction::DigitIgnored { digit, node } => {
                self.steps.push(Step::IgnoredKey { key: digit, node })
            }
            IvrAction::MenuTimedOut { node } => {
                self.failed(true);
                self.steps.push(Step::Timeout { node });
            }
            IvrAction::Collected {
                node,
                variable,
                value,
            } => self.steps.push(Step::Collected {
                node,
                variable,
                value,
            }),
            IvrAction::InputRejected { node, input } => {
                self.failed(input.is_empty());
                self.steps.push(Step::InputRejected { node, input });
            }
            IvrAction::Record {
                node,
                mailbox,
                silence,
            } => {
                // The limits the executor keeps to itself are read from the node.
                let (max_length, end_key) = match voicemail_of(ivr, &node) {
                    Some(voicemail) => (voicemail.max_length, voicemail.end_key),
                    None => (DEFAULT_VOICEMAIL_MAX_LENGTH, None),
                };
                self.steps.push(Step::Voicemail {
                    mailbox,
                    max_length,
                    silence,
                    end_key,
                });
            }
            IvrAction::StopRecording { reason } => self.steps.push(Step::MessageEnded { reason }),
            IvrAction::Http(request) => self.lookup = Some(request),
            IvrAction::Dial {
                number,
                trunk,
                node,
                ..
            } => {
                self.steps.push(Step::Dial {
                    node: node.clone(),
                    number: number.clone(),
                    trunk: trunk.clone(),
                });
                self.dial = Some((node, number, trunk));
            }
            IvrAction::ConsentAnswered { node, answer } => {
                self.steps.push(Step::Consent { node, answer })
            }
            IvrAction::Survey {
                survey, language, ..
            } => self.survey = Some((survey, language)),
            IvrAction::RecordingSet { node, recording } => {
                self.steps.push(Step::RecordingSet { node, recording })
            }
            IvrAction::Queue {
                queue,
                options,
                data,
            } => {
                // Only flows that decide something about recording say so.
                let attributes = ivr.attributes();
                if attributes.recording.is_some() || attributes.consent.is_some() {
                    self.steps.push(Step::RecordingDecision {
                        node: attributes.recording.as_ref().map(|(n, _)| n.clone()),
                        recording: attributes.recording.as_ref().map(|(_, r)| *r),
                        consent: attributes.consent,
                    });
                }
                let exit = ivr.is_queued_with_exit().then(|| exit_of(ivr)).flatten();
                self.end = Some(SimulationEnd::Queue {
                    queue,
                    options,
                    data,
                    exit,
                });
            }
            IvrAction::Hangup { reason, cause } => {
                let node = ivr.current_node().to_owned();
                let attempts = self.failures;
                self.end = Some(match reason {
                    HangupReason::HangupNode => SimulationEnd::Hangup { cause },
                    HangupReason::MenuFailed | HangupReason::CollectFailed
                        if self.last_failure_timed_out =>
                    {
                        SimulationEnd::TimedOut { node, attempts }
                    }
                    HangupReason::MenuFailed | HangupReason::CollectFailed => {
                        SimulationEnd::Failed { node, attempts }
                    }
                    HangupReason::DialFailed => SimulationEnd::DialFailed { node },
                    reason => SimulationEnd::HungUp { reason },
                });
            }
        }
    }

    fn failed(&mut self, timed_out: bool) {
        self.failures += 1;
        self.last_failure_timed_out = timed_out;
    }
}

/// The `exit` of the queue node the call waits in.
fn exit_of(ivr: &Ivr) -> Option<String> {
    let number = ivr.plan().number(ivr.flow())?;
    match &number.nodes.get(ivr.current_node())?.kind {
        NodeKind::Queue { exit, .. } | NodeKind::Transfer(Transfer::Queue { exit, .. }) => {
            exit.clone()
        }
        _ => None,
    }
}

/// The voicemail node `node` of the flow the call is in.
fn voicemail_of<'a>(ivr: &'a Ivr, node: &str) -> Option<&'a Voicemail> {
    let number = ivr.plan().number(ivr.flow())?;
    match &number.nodes.get(node)?.kind {
        NodeKind::Voicemail(voicemail) => Some(voicemail),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ValidationContext;

    const PLAN: &str = r#"
version: 1
numbers:
  "100":
    start: welcome
    nodes:
      welcome: { answer: true, next: main }
      main:
        menu:
          prompt: greeting
          retries: 1
          options: { "1": french, "2": bye }
          invalid: invalid
      french: { queue: { name: support, priority: 5, skills: { french: 6 } } }
      bye: { play: goodbye, next: busy }
      busy: { hangup: busy }
"#;

    fn run(keys: &[Option<char>]) -> Simulation {
        let plan =
            Arc::new(Dialplan::parse(PLAN, "t.yaml", &ValidationContext::default()).unwrap());
        let call = SimulatedCall {
            to: "100".into(),
            from: "+8613800000000".into(),
            at: SystemTime::UNIX_EPOCH,
            keys: keys.to_vec(),
        };
        simulate(plan, &call, Instant::now())
    }

    fn lines(sim: &Simulation) -> Vec<String> {
        sim.steps.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn a_key_leads_to_the_queue_with_the_node_options() {
        let sim = run(&[Some('1')]);
        assert_eq!(
            lines(&sim),
            [
                "node welcome",
                "node main",
                "answer",
                "play greeting",
                "key 1 in main -> french",
                "node french"
            ]
        );
        assert_eq!(
            sim.end.to_string(),
            "queue support priority 5 skills french>=6"
        );
    }

    #[test]
    fn missing_keys_time_out_until_the_menu_gives_up() {
        let sim = run(&[]);
        assert_eq!(sim.end.to_string(), "timeout after 2 attempts in main");
        assert_eq!(
            sim.steps
                .iter()
                .filter(|s| matches!(s, Step::Timeout { .. }))
                .count(),
            2
        );
    }

    #[test]
    fn a_wrong_key_then_a_good_one() {
        let sim = run(&[Some('7'), Some('2')]);
        assert!(lines(&sim).contains(&"key 7 in main: no such option".to_owned()));
        assert!(lines(&sim).contains(&"play invalid".to_owned()));
        assert_eq!(sim.end.to_string(), "hangup busy");
    }

    #[test]
    fn wrong_keys_only_fail_the_menu() {
        let sim = run(&[Some('7'), Some('8'), Some('1')]);
        assert_eq!(sim.end.to_string(), "wrong input after 2 attempts in main");
        assert_eq!(sim.unused_keys, 1);
    }

    const COLLECTING: &str = r##"
version: 1
numbers:
  "300":
    start: lang
    nodes:
      lang: { set: { language: zh }, next: account }
      account:
        collect: { prompt: enter_account, max_digits: 8, terminator: "#", into: account }
        next: wait
      wait: { queue: { name: billing, max_wait: 2m, exit: sorry } }
      sorry: { play: goodbye, next: end }
      end: { hangup: true }
"##;

    #[test]
    fn collected_keys_language_and_queue_exit_are_shown() {
        let plan =
            Arc::new(Dialplan::parse(COLLECTING, "t.yaml", &ValidationContext::default()).unwrap());
        let call = SimulatedCall {
            to: "300".into(),
            from: "+8613800000000".into(),
            at: SystemTime::UNIX_EPOCH,
            keys: "1234#".chars().map(Some).collect(),
        };
        let sim = simulate(plan, &call, Instant::now());
        assert_eq!(
            lines(&sim),
            [
                "node lang",
                "node account",
                "answer",
                "play enter_account (zh)",
                "collected account=1234 in account",
                "node wait"
            ]
        );
        assert_eq!(sim.end.to_string(), "queue billing max_wait 2m exit sorry");
    }

    #[test]
    fn a_collect_without_keys_times_out() {
        let plan =
            Arc::new(Dialplan::parse(COLLECTING, "t.yaml", &ValidationContext::default()).unwrap());
        let call = SimulatedCall {
            to: "300".into(),
            from: "+8613800000000".into(),
            at: SystemTime::UNIX_EPOCH,
            keys: Vec::new(),
        };
        let sim = simulate(plan, &call, Instant::now());
        assert_eq!(sim.end.to_string(), "timeout after 3 attempts in account");
        assert!(lines(&sim).contains(&"no input in account".to_owned()));
    }

    #[test]
    fn the_queue_end_shows_the_callback_offer_and_the_survey() {
        let source = r#"
version: 1
surveys:
  csat: { questions: [survey_agent] }
numbers:
  "400":
    start: wait
    nodes:
      wait: { queue: { name: support, callback_offer: 90s, survey: csat } }
"#;
        let plan =
            Arc::new(Dialplan::parse(source, "t.yaml", &ValidationContext::default()).unwrap());
        let call = SimulatedCall {
            to: "400".into(),
            from: "+8613800000000".into(),
            at: SystemTime::UNIX_EPOCH,
            keys: Vec::new(),
        };
        let sim = simulate(plan, &call, Instant::now());
        assert_eq!(
            sim.end.to_string(),
            "queue support callback_offer 90s survey csat"
        );
    }

    #[test]
    fn an_unknown_number_is_reported() {
        let plan =
            Arc::new(Dialplan::parse(PLAN, "t.yaml", &ValidationContext::default()).unwrap());
        let call = SimulatedCall {
            to: "999".into(),
            from: "1".into(),
            at: SystemTime::UNIX_EPOCH,
            keys: Vec::new(),
        };
        assert_eq!(
            simulate(plan, &call, Instant::now()).end,
            SimulationEnd::NoSuchNumber
        );
    }
}
