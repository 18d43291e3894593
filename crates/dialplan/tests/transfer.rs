//! The `transfer` node: read with positioned errors, and run to another number's flow, into a
//! queue like a queue node, or out to a dialed number whose answer ends the IVR and whose
//! failure takes `failed` (or hangs up).

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use hotline_dialplan::{
    simulate_with, CallInfo, Dial, Dialplan, HangupCause, HangupReason, Ivr, IvrAction, IvrInput,
    IvrOutcome, IvrTimer, NodeKind, QueueOptions, SimulateOptions, SimulatedCall, SimulationEnd,
    Step, Transfer, ValidationContext, DEFAULT_DIAL_TIMEOUT,
};

const PLAN: &str = r#"version: 1
numbers:
  "95500":
    start: menu
    nodes:
      menu:
        menu:
          prompt: greeting
          options: { "1": to_cards, "2": to_billing, "3": to_branch, "4": ask_number }
      to_cards: { transfer: { flow: "95501" } }
      to_billing:
        transfer: { queue: billing, priority: 7, skills: { french: 4 }, max_wait: 2m, exit: sorry }
      to_branch:
        transfer:
          number: "+86 10 6000 0000"
          trunk: pstn
          timeout: 20s
          announce: [connecting, please_hold]
          failed: sorry
      ask_number:
        collect: { prompt: enter_number, max_digits: 12, into: target }
        next: dial_it
      dial_it: { transfer: { number: "${target}" } }
      sorry: { play: goodbye, next: bye }
      bye: { hangup: true }
  "95501":
    start: cards
    nodes:
      cards: { set: { priority: 3 }, next: cards_queue }
      cards_queue: { queue: cards }
"#;

fn plan() -> Arc<Dialplan> {
    Arc::new(
        Dialplan::parse(PLAN, "test.yaml", &ValidationContext::default())
            .unwrap_or_else(|e| panic!("{e}")),
    )
}

fn drain(ivr: &mut Ivr) -> Vec<IvrAction> {
    std::iter::from_fn(|| ivr.poll_action()).collect()
}

/// A call to 95500 that pressed `digit` in the menu.
fn pressed(digit: char, t0: Instant) -> (Ivr, Vec<IvrAction>) {
    let mut ivr = Ivr::start(
        plan(),
        CallInfo::new("95500", "+8613800000000", SystemTime::UNIX_EPOCH),
        t0,
    )
    .unwrap_or_else(|| panic!("95500"));
    drain(&mut ivr);
    ivr.handle(t0, IvrInput::Digit(digit));
    let actions = drain(&mut ivr);
    (ivr, actions)
}

fn errors(source: &str) -> Vec<String> {
    match Dialplan::parse(source, "t.yaml", &ValidationContext::default()) {
        Ok(_) => Vec::new(),
        Err(errors) => errors.errors().iter().map(ToString::to_string).collect(),
    }
}

#[test]
fn the_three_targets_are_read_into_the_model() {
    let plan = plan();
    let nodes = &plan
        .number("95500")
        .unwrap_or_else(|| panic!("95500"))
        .nodes;
    assert_eq!(
        nodes["to_cards"].kind,
        NodeKind::Transfer(Transfer::Flow {
            number: "95501".into()
        })
    );
    let NodeKind::Transfer(Transfer::Queue {
        queue,
        options,
        exit,
    }) = &nodes["to_billing"].kind
    else {
        panic!("{:?}", nodes["to_billing"].kind);
    };
    assert_eq!(queue, "billing");
    assert_eq!(options.priority, Some(7));
    assert_eq!(options.skills.get("french"), Some(&4));
    assert_eq!(options.max_wait, Some(Duration::from_secs(120)));
    assert_eq!(exit.as_deref(), Some("sorry"));
    assert_eq!(
        nodes["to_branch"].kind,
        NodeKind::Transfer(Transfer::Dial(Dial {
            number: "+86 10 6000 0000".into(),
            trunk: Some("pstn".into()),
            timeout: Duration::from_secs(20),
            failed: Some("sorry".into()),
            announce: vec!["connecting".into(), "please_hold".into()],
        }))
    );
    let NodeKind::Transfer(Transfer::Dial(dial)) = &nodes["dial_it"].kind else {
        panic!("{:?}", nodes["dial_it"].kind);
    };
    assert_eq!((dial.timeout, &dial.trunk), (DEFAULT_DIAL_TIMEOUT, &None));
    assert!(plan.queues_used().contains("billing"));
    assert!(plan.prompts_used().contains("please_hold"));
}

#[test]
fn a_flow_transfer_goes_on_at_the_other_numbers_start() {
    let t0 = Instant::now();
    let (ivr, actions) = pressed('1', t0);
    assert_eq!(ivr.flow(), "95501");
    assert_eq!(ivr.number(), "95500");
    assert_eq!(ivr.current_node(), "cards_queue");
    // The other number's `set` node applied: its priority goes with the queue entry.
    assert!(actions.contains(&IvrAction::Queue {
        queue: "cards".into(),
        options: QueueOptions {
            priority: Some(3),
            ..QueueOptions::default()
        },
        data: Default::default(),
    }));
    assert_eq!(
        ivr.outcome(),
        Some(&IvrOutcome::Queued {
            queue: "cards".into()
        })
    );
}

#[test]
fn a_queue_transfer_is_a_queue_node_with_its_exit() {
    let t0 = Instant::now();
    let (mut ivr, actions) = pressed('2', t0);
    let queued = actions.iter().find_map(|a| match a {
        IvrAction::Queue { queue, options, .. } => Some((queue.clone(), options.clone())),
        _ => None,
    });
    let (queue, options) = queued.unwrap_or_else(|| panic!("{actions:?}"));
    assert_eq!(queue, "billing");
    assert_eq!(options.priority, Some(7));
    assert!(ivr.is_queued_with_exit());
    ivr.handle(t0 + Duration::from_secs(120), IvrInput::QueueLeft);
    assert_eq!(ivr.current_node(), "sorry");
}

#[test]
fn a_dial_announces_then_dials_and_an_answer_ends_the_ivr() {
    let t0 = Instant::now();
    let (mut ivr, actions) = pressed('3', t0);
    assert!(
        matches!(&actions[..], [.., IvrAction::Play { prompt, barge_in: false, .. }] if prompt == "connecting")
    );
    // Keys over the announcement are not heard.
    ivr.handle(t0, IvrInput::Digit('9'));
    assert!(matches!(
        drain(&mut ivr)[..],
        [IvrAction::DigitIgnored { digit: '9', .. }]
    ));
    ivr.handle(t0, IvrInput::PlaybackFinished);
    assert!(
        matches!(&drain(&mut ivr)[..], [IvrAction::Play { prompt, .. }] if prompt == "please_hold")
    );
    let t1 = t0 + Duration::from_secs(3);
    ivr.handle(t1, IvrInput::PlaybackFinished);
    assert_eq!(
        drain(&mut ivr),
        [IvrAction::Dial {
            number: "+86 10 6000 0000".into(),
            trunk: Some("pstn".into()),
            timeout: Duration::from_secs(20),
            node: "to_branch".into(),
        }]
    );
    // Ringing: the executor still guards against a result that never comes.
    let (deadline, timer) = ivr.pending_timer().unwrap_or_else(|| panic!("no timer"));
    assert_eq!(timer, IvrTimer::DialGuard);
    assert!(deadline > t1 + Duration::from_secs(20));
    assert!(!ivr.is_finished());
    ivr.handle(t1 + Duration::from_secs(8), IvrInput::DialAnswered);
    assert!(ivr.is_finished());
    assert!(drain(&mut ivr).is_empty());
    assert_eq!(ivr.poll_timeout(), None);
    assert_eq!(
        ivr.outcome(),
        Some(&IvrOutcome::Dialed {
            number: "+86 10 6000 0000".into()
        })
    );
}

#[test]
fn a_failed_dial_takes_failed() {
    let t0 = Instant::now();
    let (mut ivr, _) = pressed('3', t0);
    ivr.handle(t0, IvrInput::PlaybackFinished);
    ivr.handle(t0, IvrInput::PlaybackFinished);
    drain(&mut ivr);
    ivr.handle(t0 + Duration::from_secs(20), IvrInput::DialFailed);
    assert_eq!(ivr.current_node(), "sorry");
    assert!(
        matches!(&drain(&mut ivr)[..], [IvrAction::Play { prompt, .. }] if prompt == "goodbye")
    );
    // A late answer of the failed dial changes nothing.
    ivr.handle(t0 + Duration::from_secs(21), IvrInput::DialAnswered);
    assert!(!ivr.is_finished());
    assert_eq!(ivr.current_node(), "sorry");
}

#[test]
fn a_collected_number_is_dialed_and_a_failure_without_failed_hangs_up() {
    let t0 = Instant::now();
    let (mut ivr, _) = pressed('4', t0);
    ivr.handle(t0, IvrInput::PlaybackFinished);
    for digit in "013800000000".chars() {
        ivr.handle(t0, IvrInput::Digit(digit));
    }
    let actions = drain(&mut ivr);
    assert!(
        actions.contains(&IvrAction::Dial {
            number: "013800000000".into(),
            trunk: None,
            timeout: DEFAULT_DIAL_TIMEOUT,
            node: "dial_it".into(),
        }),
        "{actions:?}"
    );
    ivr.handle(t0 + Duration::from_secs(30), IvrInput::DialFailed);
    assert_eq!(
        drain(&mut ivr),
        [IvrAction::Hangup {
            reason: HangupReason::DialFailed,
            cause: HangupCause::Unavailable,
        }]
    );
    assert!(ivr.is_finished());
}

#[test]
fn a_dial_whose_result_never_comes_counts_as_failed() {
    let t0 = Instant::now();
    let (mut ivr, _) = pressed('3', t0);
    ivr.handle(t0, IvrInput::PlaybackFinished);
    ivr.handle(t0, IvrInput::PlaybackFinished);
    drain(&mut ivr);
    let (deadline, _) = ivr.pending_timer().unwrap_or_else(|| panic!("no timer"));
    ivr.handle_timeout(deadline - Duration::from_millis(1));
    assert_eq!(ivr.current_node(), "to_branch");
    ivr.handle_timeout(deadline);
    assert_eq!(ivr.current_node(), "sorry");
}

#[test]
fn the_caller_hanging_up_while_it_rings_ends_the_ivr() {
    let t0 = Instant::now();
    let (mut ivr, _) = pressed('3', t0);
    ivr.handle(t0, IvrInput::PlaybackFinished);
    ivr.handle(t0, IvrInput::PlaybackFinished);
    drain(&mut ivr);
    ivr.handle(t0 + Duration::from_secs(2), IvrInput::Hangup);
    assert_eq!(ivr.outcome(), Some(&IvrOutcome::CallerHungUp));
    assert!(drain(&mut ivr).is_empty());
}

#[test]
fn reader_errors_are_positioned() {
    let source = r#"version: 1
numbers:
  "1":
    start: a
    nodes:
      a: { transfer: { queue: billing, number: "+861012345678" } }
      b: { transfer: { number: "", failed: c } }
      c: { transfer: { number: "call-me", exit: c } }
      d: { transfer: { number: "+86 10 1234 5678 9999 1" } }
      e: { transfer: { flow: "2", trunk: pstn }, next: a }
      f: { transfer: { number: "+861012345678", timeout: 0s, trunk: "a b", faild: a } }
      g: { transfer: {} }
      h: { transfer: { queue: billing, exit: nowhere } }
      i: { transfer: { flow: "3" } }
  "2":
    start: x
    nodes:
      x: { hangup: true }
"#;
    assert_eq!(
        errors(source),
        [
            "t.yaml:6:40: transfer `a` has both `queue` and `number`: a transfer goes to one place",
            "t.yaml:7:32: empty number: give the number to dial, e.g. `\"+861012345678\"` or `\"${callback}\"`",
            "t.yaml:8:32: bad number: `call-me` is not a phone number; dial a phone number such as `\"+861012345678\"`, or `\"${variable}\"`",
            "t.yaml:8:43: `exit` is not allowed beside `number`: it goes with `queue`",
            "t.yaml:9:32: bad number: `+86 10 1234 5678 9999 1` has more than 15 digits; dial a phone number such as `\"+861012345678\"`, or `\"${variable}\"`",
            "t.yaml:10:35: `trunk` is not allowed beside `flow`: it goes with `number`",
            "t.yaml:10:50: `next` is not allowed on a `transfer` node; the call leaves the dialplan here, or goes on in another number's flow, a queue's `exit` or the dial's `failed`",
            "t.yaml:11:58: bad timeout `0s`: the ring time, above 0 and at most 300s, e.g. `30s`",
            "t.yaml:11:69: bad trunk name `a b`: use letters, digits, `_` and `-`",
            "t.yaml:11:76: unknown key `faild` in transfer `f`; did you mean `failed`?",
            "t.yaml:12:22: transfer `g` needs one of `flow` (another number of this dialplan), `queue` or `number` (an outside number)",
            "t.yaml:13:46: unknown node `nowhere` in number `1`",
            "t.yaml:14:30: unknown number `3` in the transfer of node `i`; numbers: 1, 2",
        ]
    );
}

#[test]
fn a_short_literal_number_is_only_a_warning() {
    let source = "version: 1\nnumbers:\n  \"1\":\n    start: a\n    nodes:\n      a: { transfer: { number: \"95588\" } }\n";
    let plan = Dialplan::parse(source, "t.yaml", &ValidationContext::default())
        .unwrap_or_else(|e| panic!("{e}"));
    let warnings: Vec<String> = plan.warnings().iter().map(ToString::to_string).collect();
    assert_eq!(
        warnings,
        ["t.yaml:6:32: warning: `95588` is too short for a phone number: only a service code or an extension the trunk knows can be dialed so"]
    );
}

#[test]
fn loops_through_flow_transfers_without_input_are_refused() {
    let looped = r#"version: 1
numbers:
  "1":
    start: hello
    nodes:
      hello: { play: greeting, next: onward }
      onward: { transfer: { flow: "2" } }
  "2":
    start: check
    nodes:
      check: { set: { priority: 1 }, next: back }
      back: { transfer: { flow: "1" } }
  "3":
    start: self
    nodes:
      self: { transfer: { flow: "3" } }
"#;
    assert_eq!(
        errors(looped),
        [
            "t.yaml:12:33: loop through transfers without caller input: `1` (node `onward`) -> `2` (node `back`) -> `1`; a caller who presses nothing would loop forever",
            "t.yaml:16:33: loop through transfers without caller input: `3` (node `self`) -> `3`; a caller who presses nothing would loop forever",
        ]
    );
    // A transfer back that needs a key is fine: the caller chose to go round.
    let chosen = looped.replace(
        "check: { set: { priority: 1 }, next: back }",
        "check: { menu: { options: { \"1\": back } } }",
    );
    let chosen = chosen.replace(
        "self: { transfer: { flow: \"3\" } }",
        "self: { hangup: true }",
    );
    assert_eq!(errors(&chosen), Vec::<String>::new());
    // A dial that fails back to itself would redial forever for a silent caller.
    let redial = "version: 1\nnumbers:\n  \"1\":\n    start: a\n    nodes:\n      a: { transfer: { number: \"+861012345678\", failed: a } }\n";
    assert_eq!(
        errors(redial),
        ["t.yaml:6:57: cycle without caller input: `a` -> `a`; a caller who presses nothing would loop forever"]
    );
}

fn simulated(keys: &str, dial_fails: bool) -> hotline_dialplan::Simulation {
    let call = SimulatedCall {
        to: "95500".into(),
        from: "+8613800000000".into(),
        at: SystemTime::UNIX_EPOCH,
        keys: keys.chars().map(Some).collect(),
    };
    let options = SimulateOptions {
        dial_fails,
        ..SimulateOptions::default()
    };
    simulate_with(plan(), &call, Instant::now(), &options)
}

fn lines(sim: &hotline_dialplan::Simulation) -> Vec<String> {
    sim.steps.iter().map(ToString::to_string).collect()
}

#[test]
fn simulate_follows_a_flow_transfer() {
    let sim = simulated("1", false);
    assert_eq!(
        lines(&sim)[4..],
        [
            "node to_cards",
            "transfer to number 95501",
            "node cards",
            "node cards_queue"
        ]
    );
    assert_eq!(sim.end.to_string(), "queue cards priority 3");
}

#[test]
fn simulate_shows_a_queue_transfer_as_a_queue() {
    let sim = simulated("2", false);
    assert_eq!(
        sim.end.to_string(),
        "queue billing priority 7 skills french>=4 max_wait 2m exit sorry"
    );
}

#[test]
fn simulate_dials_and_the_far_end_answers() {
    let sim = simulated("3", false);
    assert_eq!(
        lines(&sim)[4..],
        [
            "node to_branch",
            "play connecting",
            "play please_hold",
            "dial +86 10 6000 0000 via trunk pstn"
        ]
    );
    assert_eq!(
        sim.end,
        SimulationEnd::Dialed {
            number: "+86 10 6000 0000".into(),
            trunk: Some("pstn".into())
        }
    );
    assert_eq!(
        sim.end.to_string(),
        "transferred to +86 10 6000 0000 via trunk pstn"
    );
}

#[test]
fn simulate_with_failing_dials_takes_failed_or_hangs_up() {
    let sim = simulated("3", true);
    assert_eq!(
        lines(&sim)[7..],
        [
            "dial +86 10 6000 0000 via trunk pstn",
            "dial failed in to_branch",
            "node sorry",
            "play goodbye",
            "node bye"
        ]
    );
    assert_eq!(sim.end.to_string(), "hangup normal");
    let sim = simulated("4013800000000", true);
    assert!(sim.steps.contains(&Step::Dial {
        node: "dial_it".into(),
        number: "013800000000".into(),
        trunk: None,
    }));
    assert_eq!(
        sim.end,
        SimulationEnd::DialFailed {
            node: "dial_it".into()
        }
    );
    assert_eq!(
        sim.end.to_string(),
        "dial failed in dial_it: hangup unavailable"
    );
}
