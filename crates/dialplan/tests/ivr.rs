//! The IVR executor on the bundled dialplan and small test plans, on virtual time.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use hotline_dialplan::{
    CallInfo, Dialplan, HangupCause, HangupReason, Ivr, IvrAction, IvrInput, IvrOutcome, IvrTimer,
    ValidationContext,
};

fn bundled() -> Arc<Dialplan> {
    let source = include_str!("../../../dialplans/default.yaml");
    plan(source)
}

fn plan(source: &str) -> Arc<Dialplan> {
    match Dialplan::parse(source, "test.yaml", &ValidationContext::default()) {
        Ok(plan) => Arc::new(plan),
        Err(errors) => panic!("{errors}"),
    }
}

fn drain(ivr: &mut Ivr) -> Vec<IvrAction> {
    std::iter::from_fn(|| ivr.poll_action()).collect()
}

fn play(prompt: &str, barge_in: bool) -> IvrAction {
    IvrAction::Play {
        prompt: prompt.to_owned(),
        barge_in,
        language: None,
    }
}

fn queue(name: &str) -> IvrAction {
    IvrAction::Queue {
        queue: name.to_owned(),
        options: Default::default(),
        data: Default::default(),
    }
}

fn accepted(digit: char, node: &str, next: &str) -> IvrAction {
    IvrAction::DigitAccepted {
        digit,
        node: node.to_owned(),
        next: next.to_owned(),
    }
}

fn rejected(digit: char, node: &str) -> IvrAction {
    IvrAction::DigitRejected {
        digit,
        node: node.to_owned(),
    }
}

/// Starts number 100 of the bundled plan and lets the greeting finish.
fn main_menu_waiting(t0: Instant) -> Ivr {
    let mut ivr = Ivr::start(
        bundled(),
        CallInfo::new("100", "+8613800000000", SystemTime::UNIX_EPOCH),
        t0,
    )
    .unwrap_or_else(|| panic!("number 100"));
    assert_eq!(drain(&mut ivr), [IvrAction::Answer, play("greeting", true)]);
    assert_eq!(ivr.current_node(), "main_menu");
    ivr.handle(t0 + Duration::from_secs(4), IvrInput::PlaybackFinished);
    assert_eq!(drain(&mut ivr), []);
    assert_eq!(
        ivr.pending_timer(),
        Some((t0 + Duration::from_secs(9), IvrTimer::DigitTimeout))
    );
    ivr
}

#[test]
fn unknown_number_is_none() {
    assert!(Ivr::start(
        bundled(),
        CallInfo::new("999", "+8613800000000", SystemTime::UNIX_EPOCH),
        Instant::now()
    )
    .is_none());
}

#[test]
fn press_1_goes_to_support() {
    let t0 = Instant::now();
    let mut ivr = main_menu_waiting(t0);
    ivr.handle(t0 + Duration::from_secs(5), IvrInput::Digit('1'));
    assert_eq!(
        drain(&mut ivr),
        [accepted('1', "main_menu", "to_support"), queue("support")]
    );
    assert!(ivr.is_finished());
    assert_eq!(ivr.poll_timeout(), None);
    assert_eq!(
        ivr.outcome(),
        Some(&IvrOutcome::Queued {
            queue: "support".to_owned()
        })
    );
}

#[test]
fn press_2_during_the_greeting_barges_in_to_billing() {
    let t0 = Instant::now();
    let mut ivr = Ivr::start(
        bundled(),
        CallInfo::new("100", "+8613800000000", SystemTime::UNIX_EPOCH),
        t0,
    )
    .unwrap_or_else(|| panic!("number 100"));
    assert_eq!(drain(&mut ivr), [IvrAction::Answer, play("greeting", true)]);
    ivr.handle(t0 + Duration::from_secs(1), IvrInput::Digit('2'));
    assert_eq!(
        drain(&mut ivr),
        [
            IvrAction::StopPlayback,
            accepted('2', "main_menu", "to_billing"),
            queue("billing")
        ]
    );
    assert_eq!(ivr.current_node(), "to_billing");
}

#[test]
fn timeout_goes_to_support() {
    let t0 = Instant::now();
    let mut ivr = main_menu_waiting(t0);
    // Not due yet: nothing happens.
    ivr.handle_timeout(t0 + Duration::from_millis(8_999));
    assert_eq!(drain(&mut ivr), []);
    ivr.handle_timeout(t0 + Duration::from_secs(9));
    assert_eq!(
        drain(&mut ivr),
        [
            IvrAction::MenuTimedOut {
                node: "main_menu".to_owned()
            },
            queue("support")
        ]
    );
    assert!(ivr.is_finished());
}

#[test]
fn invalid_digit_plays_invalid_then_retries_the_menu() {
    let t0 = Instant::now();
    let mut ivr = main_menu_waiting(t0);
    ivr.handle(t0 + Duration::from_secs(5), IvrInput::Digit('7'));
    assert_eq!(
        drain(&mut ivr),
        [rejected('7', "main_menu"), play("invalid", true)]
    );
    ivr.handle(t0 + Duration::from_secs(6), IvrInput::PlaybackFinished);
    assert_eq!(drain(&mut ivr), [play("greeting", true)]);
    ivr.handle(t0 + Duration::from_secs(7), IvrInput::Digit('1'));
    assert_eq!(
        drain(&mut ivr),
        [
            IvrAction::StopPlayback,
            accepted('1', "main_menu", "to_support"),
            queue("support")
        ]
    );
}

#[test]
fn too_many_invalid_digits_go_to_on_failure() {
    let t0 = Instant::now();
    let mut ivr = main_menu_waiting(t0);
    let mut now = t0 + Duration::from_secs(5);
    // retries: 2, so the first two wrong digits replay the menu.
    for _ in 0..2 {
        ivr.handle(now, IvrInput::Digit('9'));
        assert_eq!(
            drain(&mut ivr),
            [rejected('9', "main_menu"), play("invalid", true)]
        );
        now += Duration::from_secs(1);
        ivr.handle(now, IvrInput::PlaybackFinished);
        assert_eq!(drain(&mut ivr), [play("greeting", true)]);
        ivr.handle(now, IvrInput::PlaybackFinished);
        assert_eq!(drain(&mut ivr), []);
    }
    ivr.handle(now, IvrInput::Digit('#'));
    assert_eq!(
        drain(&mut ivr),
        [rejected('#', "main_menu"), play("goodbye", false)]
    );
    assert_eq!(ivr.current_node(), "goodbye");
    ivr.handle(now + Duration::from_secs(2), IvrInput::PlaybackFinished);
    assert_eq!(
        drain(&mut ivr),
        [IvrAction::Hangup {
            reason: HangupReason::HangupNode,
            cause: HangupCause::Normal,
        }]
    );
    assert!(ivr.is_finished());
}

#[test]
fn caller_hangup_mid_menu_stops_the_prompt_and_ends() {
    let t0 = Instant::now();
    let mut ivr = Ivr::start(
        bundled(),
        CallInfo::new("100", "+8613800000000", SystemTime::UNIX_EPOCH),
        t0,
    )
    .unwrap_or_else(|| panic!("number 100"));
    drain(&mut ivr);
    ivr.handle(t0 + Duration::from_secs(2), IvrInput::Hangup);
    assert_eq!(drain(&mut ivr), [IvrAction::StopPlayback]);
    assert_eq!(ivr.outcome(), Some(&IvrOutcome::CallerHungUp));
    assert_eq!(ivr.poll_timeout(), None);
    // Late input after the end is ignored.
    ivr.handle(t0 + Duration::from_secs(3), IvrInput::Digit('1'));
    ivr.handle(t0 + Duration::from_secs(3), IvrInput::PlaybackFinished);
    assert_eq!(drain(&mut ivr), []);
}

#[test]
fn number_200_queues_at_once() {
    let mut ivr = Ivr::start(
        bundled(),
        CallInfo::new("200", "+8613800000000", SystemTime::UNIX_EPOCH),
        Instant::now(),
    )
    .unwrap_or_else(|| panic!("number 200"));
    assert_eq!(drain(&mut ivr), [IvrAction::Answer, queue("support")]);
    assert!(ivr.is_finished());
}

const PLAY_THEN_MENU: &str = "\
version: 1
numbers:
  \"300\":
    start: hello
    nodes:
      hello: { play: hello, next: pick }
      pick:
        menu:
          timeout: 2s
          retries: 1
          options: { \"1\": q }
      q: { queue: support }
";

#[test]
fn digits_during_a_play_node_are_dropped() {
    let t0 = Instant::now();
    let mut ivr = Ivr::start(
        plan(PLAY_THEN_MENU),
        CallInfo::new("300", "+8613800000000", SystemTime::UNIX_EPOCH),
        t0,
    )
    .unwrap_or_else(|| panic!("300"));
    assert_eq!(drain(&mut ivr), [IvrAction::Answer, play("hello", false)]);
    ivr.handle(t0, IvrInput::Digit('1'));
    assert_eq!(
        drain(&mut ivr),
        [IvrAction::DigitIgnored {
            digit: '1',
            node: "hello".to_owned()
        }]
    );
    ivr.handle(t0 + Duration::from_secs(1), IvrInput::PlaybackFinished);
    assert_eq!(drain(&mut ivr), []);
    assert_eq!(ivr.current_node(), "pick");
    assert_eq!(ivr.poll_timeout(), Some(t0 + Duration::from_secs(3)));
}

#[test]
fn timeouts_without_on_timeout_use_up_attempts_then_hang_up() {
    let t0 = Instant::now();
    let mut ivr = Ivr::start(
        plan(PLAY_THEN_MENU),
        CallInfo::new("300", "+8613800000000", SystemTime::UNIX_EPOCH),
        t0,
    )
    .unwrap_or_else(|| panic!("300"));
    ivr.handle(t0, IvrInput::PlaybackFinished);
    drain(&mut ivr);
    let timed_out = IvrAction::MenuTimedOut {
        node: "pick".to_owned(),
    };
    ivr.handle_timeout(t0 + Duration::from_secs(2));
    assert_eq!(drain(&mut ivr), std::slice::from_ref(&timed_out));
    assert_eq!(ivr.poll_timeout(), Some(t0 + Duration::from_secs(4)));
    ivr.handle_timeout(t0 + Duration::from_secs(4));
    assert_eq!(
        drain(&mut ivr),
        [
            timed_out,
            IvrAction::Hangup {
                reason: HangupReason::MenuFailed,
                cause: HangupCause::Normal,
            }
        ]
    );
}

#[test]
fn a_lost_playback_end_is_given_up_after_the_guard() {
    let t0 = Instant::now();
    let mut ivr = Ivr::start(
        plan(PLAY_THEN_MENU),
        CallInfo::new("300", "+8613800000000", SystemTime::UNIX_EPOCH),
        t0,
    )
    .unwrap_or_else(|| panic!("300"));
    drain(&mut ivr);
    assert_eq!(
        ivr.pending_timer(),
        Some((t0 + Ivr::PLAYBACK_GUARD, IvrTimer::PlaybackGuard))
    );
    ivr.handle_timeout(t0 + Ivr::PLAYBACK_GUARD);
    assert_eq!(drain(&mut ivr), [IvrAction::StopPlayback]);
    assert_eq!(ivr.current_node(), "pick");
}

#[test]
fn a_call_keeps_the_plan_it_started_with() {
    let t0 = Instant::now();
    let old = bundled();
    let mut ivr = Ivr::start(
        Arc::clone(&old),
        CallInfo::new("100", "+8613800000000", SystemTime::UNIX_EPOCH),
        t0,
    )
    .unwrap_or_else(|| panic!("100"));
    drain(&mut ivr);
    // A reload swaps in a plan where 100 is different; the running call is unaffected.
    let _new = plan(PLAY_THEN_MENU);
    drop(old);
    ivr.handle(t0, IvrInput::Digit('2'));
    assert!(drain(&mut ivr).contains(&queue("billing")));
}

#[test]
fn plans_and_ivrs_can_move_between_tasks() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Dialplan>();
    send_sync::<Ivr>();
}
