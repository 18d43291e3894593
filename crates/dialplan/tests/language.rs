//! Every node kind of the dialplan language on the executor, on virtual time.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use hotline_dialplan::{
    CallInfo, Dialplan, HangupCause, HangupReason, HttpFailure, Ivr, IvrAction, IvrInput,
    QueueOptions, ValidationContext,
};

/// A Wednesday, 10:00 in Beijing: inside the bundled service hours.
const OPEN: &str = "2026-11-25T10:00:00+08:00";

fn at(text: &str) -> SystemTime {
    let ts: jiff::Timestamp = text.parse().unwrap_or_else(|e| panic!("{text}: {e}"));
    SystemTime::try_from(ts).unwrap_or_else(|e| panic!("{e}"))
}

fn plan(source: &str) -> Arc<Dialplan> {
    let file = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/test.yaml");
    match Dialplan::parse(source, file, &ValidationContext::default()) {
        Ok(plan) => Arc::new(plan),
        Err(errors) => panic!("{errors}"),
    }
}

fn bundled() -> Arc<Dialplan> {
    plan(include_str!("../../../dialplans/default.yaml"))
}

fn start(plan: &Arc<Dialplan>, to: &str, from: &str, when: &str, t0: Instant) -> Ivr {
    Ivr::start(Arc::clone(plan), CallInfo::new(to, from, at(when)), t0)
        .unwrap_or_else(|| panic!("number {to}"))
}

fn drain(ivr: &mut Ivr) -> Vec<IvrAction> {
    let mut actions = Vec::new();
    while let Some(action) = ivr.poll_action() {
        match action {
            // The bundled 95500 looks callers up first: here a CRM that does not know them.
            IvrAction::Http(_) => ivr.handle_http(Instant::now(), Err(HttpFailure::NotFound)),
            action => actions.push(action),
        }
    }
    actions
}

fn play(prompt: &str, barge_in: bool) -> IvrAction {
    IvrAction::Play {
        prompt: prompt.to_owned(),
        barge_in,
        language: None,
    }
}

fn play_in(prompt: &str, language: &str) -> IvrAction {
    IvrAction::Play {
        prompt: prompt.to_owned(),
        barge_in: false,
        language: Some(language.to_owned()),
    }
}

fn queued(actions: &[IvrAction]) -> (String, QueueOptions) {
    match actions.last() {
        Some(IvrAction::Queue { queue, options, .. }) => (queue.clone(), options.clone()),
        other => panic!("expected a queue action, got {other:?}"),
    }
}

fn hangup(cause: HangupCause) -> IvrAction {
    IvrAction::Hangup {
        reason: HangupReason::HangupNode,
        cause,
    }
}

fn number(nodes: &str) -> String {
    format!("version: 1\nnumbers:\n  \"1\":\n    start: a\n    nodes:\n{nodes}")
}

#[test]
fn a_play_list_plays_each_prompt_then_goes_on() {
    let p = plan(&number(
        "      a: { play: [one, two, three], next: q }\n      q: { queue: support }\n",
    ));
    let t0 = Instant::now();
    let mut ivr = start(&p, "1", "100", OPEN, t0);
    assert_eq!(drain(&mut ivr), [IvrAction::Answer, play("one", false)]);
    // Without barge-in a digit is dropped and the prompt goes on.
    ivr.handle(t0, IvrInput::Digit('5'));
    assert!(matches!(
        drain(&mut ivr).as_slice(),
        [IvrAction::DigitIgnored { digit: '5', .. }]
    ));
    ivr.handle(t0, IvrInput::PlaybackFinished);
    assert_eq!(drain(&mut ivr), [play("two", false)]);
    ivr.handle(t0, IvrInput::PlaybackFinished);
    assert_eq!(drain(&mut ivr), [play("three", false)]);
    ivr.handle(t0, IvrInput::PlaybackFinished);
    assert_eq!(queued(&drain(&mut ivr)).0, "support");
    assert!(ivr.is_finished());
}

#[test]
fn a_barge_in_play_hands_the_digit_to_the_menu_that_follows() {
    let p = plan(&number(concat!(
        "      a: { play: [news, more_news], barge_in: true, next: m }\n",
        "      m: { menu: { prompt: choose, options: { \"2\": q } } }\n",
        "      q: { queue: billing }\n",
    )));
    let t0 = Instant::now();
    let mut ivr = start(&p, "1", "100", OPEN, t0);
    assert_eq!(drain(&mut ivr), [IvrAction::Answer, play("news", true)]);
    ivr.handle(t0, IvrInput::Digit('2'));
    let actions = drain(&mut ivr);
    // The prompts stop, the menu prompt is skipped and the digit picks the option.
    assert_eq!(actions[0], IvrAction::StopPlayback);
    assert!(matches!(
        &actions[1],
        IvrAction::DigitAccepted { digit: '2', node, next } if node == "m" && next == "q"
    ));
    assert_eq!(queued(&actions).0, "billing");
}

#[test]
fn a_menu_plays_its_timeout_prompt_and_takes_any_digit_to_default() {
    let p = plan(&number(concat!(
        "      a:\n        menu:\n          prompt: [choose, options]\n          timeout: 2s\n",
        "          options: { \"1\": q }\n          default: other\n",
        "          timeout_prompt: still_there\n",
        "      q: { queue: support }\n      other: { queue: billing }\n",
    )));
    let t0 = Instant::now();
    let mut ivr = start(&p, "1", "100", OPEN, t0);
    assert_eq!(drain(&mut ivr), [IvrAction::Answer, play("choose", true)]);
    ivr.handle(t0, IvrInput::PlaybackFinished);
    assert_eq!(drain(&mut ivr), [play("options", true)]);
    ivr.handle(t0, IvrInput::PlaybackFinished);
    ivr.handle_timeout(t0 + Duration::from_secs(2));
    let actions = drain(&mut ivr);
    assert!(matches!(actions[0], IvrAction::MenuTimedOut { .. }));
    assert_eq!(actions[1], play("still_there", true));
    ivr.handle(t0 + Duration::from_secs(3), IvrInput::Digit('7'));
    assert_eq!(queued(&drain(&mut ivr)).0, "billing");
}

const COLLECT: &str = concat!(
    "      a:\n        collect:\n          prompt: enter_account\n",
    "          min_digits: 4\n          max_digits: 8\n          terminator: \"#\"\n",
    "          timeout: 5s\n          inter_digit_timeout: 2s\n",
    "          pattern: \"9[0-9]*\"\n          into: account\n          retries: 1\n",
    "          invalid: bad_account\n          on_failure: bye\n",
    "        next: check\n",
    "      check:\n        branch:\n",
    "          - when: { var: { name: account, matches: \"99.*\" } }\n            goto: gold\n",
    "        otherwise: plain\n",
    "      gold: { set: { priority: 9, data: { account: \"acct-${account}\" } }, next: q }\n",
    "      plain: { queue: support }\n",
    "      q: { queue: support }\n",
    "      bye: { hangup: true }\n",
);

#[test]
fn collect_takes_digits_up_to_the_terminator_into_a_variable() {
    let p = plan(&number(COLLECT));
    let t0 = Instant::now();
    let mut ivr = start(&p, "1", "100", OPEN, t0);
    assert_eq!(
        drain(&mut ivr),
        [IvrAction::Answer, play("enter_account", true)]
    );
    // Barge-in: the first digit stops the prompt.
    ivr.handle(t0, IvrInput::Digit('9'));
    assert_eq!(drain(&mut ivr), [IvrAction::StopPlayback]);
    for d in ['9', '1', '2', '3'] {
        ivr.handle(t0, IvrInput::Digit(d));
    }
    // Between digits the inter-digit timeout runs.
    assert_eq!(ivr.poll_timeout(), Some(t0 + Duration::from_secs(2)));
    ivr.handle(t0, IvrInput::Digit('#'));
    let actions = drain(&mut ivr);
    assert_eq!(
        actions[0],
        IvrAction::Collected {
            node: "a".into(),
            variable: "account".into(),
            value: "99123".into()
        }
    );
    let IvrAction::Queue { options, data, .. } = &actions[1] else {
        panic!("{actions:?}");
    };
    assert_eq!(options.priority, Some(9));
    assert_eq!(data.get("account").map(String::as_str), Some("acct-99123"));
    assert_eq!(ivr.attributes().variables["account"], "99123");
}

#[test]
fn collect_ends_on_the_inter_digit_timeout_and_on_max_digits() {
    let p = plan(&number(COLLECT));
    let t0 = Instant::now();
    let mut ivr = start(&p, "1", "100", OPEN, t0);
    ivr.handle(t0, IvrInput::PlaybackFinished);
    for d in "91234".chars() {
        ivr.handle(t0, IvrInput::Digit(d));
    }
    ivr.handle_timeout(t0 + Duration::from_secs(2));
    let actions = drain(&mut ivr);
    assert!(actions
        .iter()
        .any(|a| matches!(a, IvrAction::Collected { value, .. } if value == "91234")));
    assert_eq!(queued(&actions).0, "support");

    let mut ivr = start(&p, "1", "100", OPEN, t0);
    ivr.handle(t0, IvrInput::PlaybackFinished);
    for d in "99999999".chars() {
        ivr.handle(t0, IvrInput::Digit(d));
    }
    assert!(drain(&mut ivr)
        .iter()
        .any(|a| matches!(a, IvrAction::Collected { value, .. } if value == "99999999")));
}

#[test]
fn collect_rejects_short_or_unmatched_input_then_fails_over() {
    let p = plan(&number(COLLECT));
    let t0 = Instant::now();
    let mut ivr = start(&p, "1", "100", OPEN, t0);
    drain(&mut ivr);
    ivr.handle(t0, IvrInput::PlaybackFinished);
    // Too short.
    for d in "91#".chars() {
        ivr.handle(t0, IvrInput::Digit(d));
    }
    let actions = drain(&mut ivr);
    assert!(matches!(&actions[0], IvrAction::InputRejected { input, .. } if input == "91"));
    assert_eq!(actions[1], play("bad_account", true));
    ivr.handle(t0, IvrInput::PlaybackFinished);
    assert_eq!(drain(&mut ivr), [play("enter_account", true)]);
    ivr.handle(t0, IvrInput::PlaybackFinished);
    // Does not match the pattern (must start with 9): the last attempt, then `on_failure`.
    for d in "12345#".chars() {
        ivr.handle(t0, IvrInput::Digit(d));
    }
    let actions = drain(&mut ivr);
    assert!(matches!(&actions[0], IvrAction::InputRejected { input, .. } if input == "12345"));
    assert_eq!(actions[1], hangup(HangupCause::Normal));
}

#[test]
fn set_attributes_carry_into_the_queue_and_the_prompt_language() {
    let p = plan(&number(concat!(
        "      a:\n        set:\n          language: zh\n          priority: 4\n",
        "          skills: { mandarin: 5 }\n          variables: { tier: gold }\n",
        "        next: hello\n",
        "      hello: { play: hello, next: q }\n",
        "      q: { queue: { name: support, priority: 7, skills: { billing: 2 } } }\n",
    )));
    let t0 = Instant::now();
    let mut ivr = start(&p, "1", "100", OPEN, t0);
    assert_eq!(drain(&mut ivr), [IvrAction::Answer, play_in("hello", "zh")]);
    ivr.handle(t0, IvrInput::PlaybackFinished);
    let (queue, options) = queued(&drain(&mut ivr));
    assert_eq!(queue, "support");
    // The node's priority wins over the one set; skills add up.
    assert_eq!(options.priority, Some(7));
    assert_eq!(
        options.skills.into_iter().collect::<Vec<_>>(),
        [("billing".to_owned(), 2), ("mandarin".to_owned(), 5)]
    );
}

#[test]
fn a_set_priority_applies_when_the_queue_node_has_none() {
    let p = plan(&number(
        "      a: { set: { priority: 3 }, next: q }\n      q: { queue: support }\n",
    ));
    let mut ivr = start(&p, "1", "100", OPEN, Instant::now());
    assert_eq!(queued(&drain(&mut ivr)).1.priority, Some(3));
}

#[test]
fn branch_reads_caller_dialed_number_and_time() {
    let p = plan(&number(concat!(
        "      a:\n        branch:\n",
        "          - when: { caller: \"010 6000 0000\" }\n            goto: by_caller\n",
        "          - when: { caller_prefix: \"+8621\", dialed: \"1\" }\n            goto: shanghai\n",
        "          - when: { time: { time_zone: Europe/Paris, days: [sat, sun] } }\n            goto: weekend\n",
        "        otherwise: other\n",
        "      by_caller: { queue: vip }\n",
        "      shanghai: { queue: shanghai }\n",
        "      weekend: { queue: weekend }\n",
        "      other: { queue: other }\n",
    )));
    let t0 = Instant::now();
    let route = |from: &str, when: &str| {
        let mut ivr = start(&p, "1", from, when, t0);
        queued(&drain(&mut ivr)).0
    };
    // The condition's number and the caller's are both compared in E.164.
    assert_eq!(route("+861060000000", OPEN), "vip");
    assert_eq!(route("02155556666", OPEN), "shanghai");
    // Saturday 00:30 in Paris is still Friday in UTC.
    assert_eq!(route("100", "2026-11-27T23:30:00Z"), "weekend");
    assert_eq!(route("100", "2026-11-27T22:30:00Z"), "other");
}

#[test]
fn goto_and_hangup_causes() {
    let p = plan(&number("      a: { goto: b }\n      b: { hangup: busy }\n"));
    let mut ivr = start(&p, "1", "100", OPEN, Instant::now());
    // A hangup before any prompt does not answer.
    assert_eq!(drain(&mut ivr), [hangup(HangupCause::Busy)]);
    assert_eq!(HangupCause::Busy.sip_status(), (486, "Busy Here"));
    assert_eq!(HangupCause::Rejected.sip_status(), (603, "Decline"));
    assert_eq!(HangupCause::Busy.q850(), 17);
}

#[test]
fn a_queue_exit_takes_the_caller_back_into_the_ivr() {
    let p = plan(&number(concat!(
        "      a: { queue: { name: support, max_wait: 2m, exit: sorry } }\n",
        "      sorry: { play: goodbye, next: bye }\n",
        "      bye: { hangup: true }\n",
    )));
    let t0 = Instant::now();
    let mut ivr = start(&p, "1", "100", OPEN, t0);
    let actions = drain(&mut ivr);
    assert_eq!(queued(&actions).1.max_wait, Some(Duration::from_secs(120)));
    assert!(!ivr.is_finished());
    assert!(ivr.is_queued_with_exit());
    assert_eq!(ivr.poll_timeout(), None);
    ivr.handle(t0 + Duration::from_secs(120), IvrInput::QueueLeft);
    assert_eq!(drain(&mut ivr), [play("goodbye", false)]);
    ivr.handle(t0 + Duration::from_secs(123), IvrInput::PlaybackFinished);
    assert_eq!(drain(&mut ivr), [hangup(HangupCause::Normal)]);
}

#[test]
fn lists_from_a_file_are_read_in_e164() {
    let p = plan(
        &number(concat!(
            "      a:\n        branch:\n",
            "          - when: { caller_in: vip }\n            goto: v\n",
            "        otherwise: o\n",
            "      v: { queue: vip }\n      o: { queue: other }\n",
        ))
        .replace("numbers:", "lists:\n  vip: { file: vip.txt }\nnumbers:"),
    );
    assert_eq!(
        p.lists()["vip"].numbers().collect::<Vec<_>>(),
        ["+8613800000001", "+8613800000003", "+8613900000002"]
    );
    let t0 = Instant::now();
    for from in ["13800000001", "+86 139 0000 0002", "008613800000003"] {
        let mut ivr = start(&p, "1", from, OPEN, t0);
        assert_eq!(queued(&drain(&mut ivr)).0, "vip", "{from}");
    }
    let mut ivr = start(&p, "1", "13800000009", OPEN, t0);
    assert_eq!(queued(&drain(&mut ivr)).0, "other");
}

#[test]
fn bundled_95500_serves_vips_first_and_refuses_the_blacklist() {
    let p = bundled();
    let t0 = Instant::now();
    // A VIP during opening hours: the menu of services, then billing at priority 10.
    // English first (2), then billing (2).
    let mut ivr = start(&p, "95500", "013900000002", OPEN, t0);
    assert_eq!(
        drain(&mut ivr),
        [IvrAction::Answer, play("language_menu", true)]
    );
    ivr.handle(t0, IvrInput::Digit('2'));
    assert_eq!(drain(&mut ivr).last(), Some(&play("services", true)));
    ivr.handle(t0, IvrInput::Digit('2'));
    let (queue, options) = queued(&drain(&mut ivr));
    assert_eq!((queue.as_str(), options.priority), ("billing", Some(10)));
    // A call back is offered after a minute; once the agent hangs up, the caller is asked for a
    // score.
    assert_eq!(options.callback_offer, Some(Duration::from_secs(60)));
    assert_eq!(options.survey.as_deref(), Some("satisfaction"));
    // Anyone else: the queue's own priority; Mandarin (1) plays the menu from `zh-CN`.
    let mut ivr = start(&p, "95500", "+8613700000000", OPEN, t0);
    drain(&mut ivr);
    ivr.handle(t0, IvrInput::Digit('1'));
    let menu = drain(&mut ivr);
    assert_eq!(
        menu.last(),
        Some(&IvrAction::Play {
            prompt: "services".into(),
            barge_in: true,
            language: Some("zh-CN".into()),
        })
    );
    ivr.handle(t0, IvrInput::Digit('1'));
    let (queue, options) = queued(&drain(&mut ivr));
    assert_eq!((queue.as_str(), options.priority), ("support", None));
    assert_eq!(options.survey.as_deref(), Some("satisfaction"));
    // No choice: the services menu in the default language.
    let mut ivr = start(&p, "95500", "+8613700000000", OPEN, t0);
    drain(&mut ivr);
    ivr.handle(t0, IvrInput::PlaybackFinished);
    ivr.handle_timeout(t0 + Duration::from_secs(5));
    assert_eq!(drain(&mut ivr).last(), Some(&play("services", true)));
    // The blacklist, whatever the hour: a short prompt, then 603.
    let mut ivr = start(&p, "95500", "01060000000", "2026-10-01T10:00:00+08:00", t0);
    assert_eq!(drain(&mut ivr), [IvrAction::Answer, play("refused", false)]);
    ivr.handle(t0, IvrInput::PlaybackFinished);
    assert_eq!(drain(&mut ivr), [hangup(HangupCause::Rejected)]);
}

#[test]
fn bundled_95500_closed_hours_holidays_and_make_up_days() {
    let p = bundled();
    let t0 = Instant::now();
    // The language menu comes first at any hour; English (2), then the schedule decides.
    let first_prompt = |when: &str| {
        let mut ivr = start(&p, "95500", "+8613700000000", when, t0);
        assert_eq!(
            drain(&mut ivr),
            [IvrAction::Answer, play("language_menu", true)],
            "{when}"
        );
        ivr.handle(t0, IvrInput::Digit('2'));
        match drain(&mut ivr).last() {
            Some(IvrAction::Play { prompt, .. }) => prompt.clone(),
            other => panic!("{when}: {other:?}"),
        }
    };
    // Wednesday 20:00 Beijing time (12:00 UTC): closed.
    assert_eq!(first_prompt("2026-11-25T12:00:00Z"), "closed");
    // Saturday 11:00 is open, 13:00 closed; Sunday closed.
    assert_eq!(first_prompt("2026-11-28T11:00:00+08:00"), "services");
    assert_eq!(first_prompt("2026-11-28T13:00:00+08:00"), "closed");
    assert_eq!(first_prompt("2026-11-29T11:00:00+08:00"), "closed");
    // National Day week is a holiday, even on a weekday morning.
    assert_eq!(first_prompt("2026-10-05T10:00:00+08:00"), "holiday");
    // Sunday 27 September is a make-up working day: Monday's hours.
    assert_eq!(first_prompt("2026-09-27T17:00:00+08:00"), "services");
    // New Year's Eve closes at 15:00.
    assert_eq!(first_prompt("2026-12-31T14:59:00+08:00"), "services");
    assert_eq!(first_prompt("2026-12-31T15:00:00+08:00"), "closed");
}

#[test]
fn bundled_95500_takes_a_message_when_closed_in_the_callers_language() {
    let p = bundled();
    let t0 = Instant::now();
    // Wednesday 20:00, Mandarin (1): the hours, the offer, 1, the message prompt and the beep.
    let mut ivr = start(
        &p,
        "95500",
        "+8613700000000",
        "2026-11-25T20:00:00+08:00",
        t0,
    );
    drain(&mut ivr);
    ivr.handle(t0, IvrInput::Digit('1'));
    assert_eq!(drain(&mut ivr).last(), Some(&play_in("closed", "zh-CN")));
    ivr.handle(t0, IvrInput::PlaybackFinished);
    let offer = IvrAction::Play {
        prompt: "message_offer".into(),
        barge_in: true,
        language: Some("zh-CN".into()),
    };
    assert_eq!(drain(&mut ivr), [offer]);
    ivr.handle(t0, IvrInput::Digit('1'));
    let actions = drain(&mut ivr);
    assert_eq!(actions.last(), Some(&play_in("leave_message", "zh-CN")));
    ivr.handle(t0, IvrInput::PlaybackFinished);
    assert_eq!(drain(&mut ivr), [play_in("beep", "zh-CN")]);
    ivr.handle(t0, IvrInput::PlaybackFinished);
    assert_eq!(
        drain(&mut ivr),
        [IvrAction::Record {
            node: "take_message".into(),
            mailbox: "service".into(),
            silence: Some(Duration::from_secs(5)),
        }]
    );
    // `#` ends the message: the confirmation, then a normal hang-up.
    ivr.handle(t0 + Duration::from_secs(20), IvrInput::Digit('#'));
    let actions = drain(&mut ivr);
    assert_eq!(
        actions.last(),
        Some(&play_in("message_saved", "zh-CN")),
        "{actions:?}"
    );
    ivr.handle(t0 + Duration::from_secs(25), IvrInput::PlaybackFinished);
    assert_eq!(drain(&mut ivr), [hangup(HangupCause::Normal)]);

    // On a holiday a caller who presses nothing after the offer hears goodbye: no empty message.
    let mut ivr = start(
        &p,
        "95500",
        "+8613700000000",
        "2026-10-02T10:00:00+08:00",
        t0,
    );
    drain(&mut ivr);
    ivr.handle(t0, IvrInput::Digit('2'));
    assert_eq!(drain(&mut ivr).last(), Some(&play("holiday", false)));
    ivr.handle(t0, IvrInput::PlaybackFinished);
    assert_eq!(drain(&mut ivr), [play("message_offer", true)]);
    ivr.handle(t0, IvrInput::PlaybackFinished);
    ivr.handle_timeout(t0 + Duration::from_secs(5));
    let actions = drain(&mut ivr);
    assert_eq!(actions.last(), Some(&play("goodbye", false)), "{actions:?}");
    assert!(
        !actions
            .iter()
            .any(|a| matches!(a, IvrAction::Record { .. })),
        "{actions:?}"
    );
}

#[test]
fn bundled_95501_is_the_service_line_in_english_without_the_language_menu() {
    let p = bundled();
    let t0 = Instant::now();
    let english = |prompt: &str, barge_in: bool| IvrAction::Play {
        prompt: prompt.to_owned(),
        barge_in,
        language: Some("en".into()),
    };
    // Open: straight to the menu of services, in English.
    let mut ivr = start(&p, "95501", "+8613700000000", OPEN, t0);
    assert_eq!(
        drain(&mut ivr),
        [IvrAction::Answer, english("services", true)]
    );
    ivr.handle(t0, IvrInput::Digit('2'));
    let (queue, options) = queued(&drain(&mut ivr));
    assert_eq!(queue, "billing");
    assert_eq!(options.survey.as_deref(), Some("satisfaction"));
    // Closed: the hours in English, then the offer of a message.
    let mut ivr = start(
        &p,
        "95501",
        "+8613700000000",
        "2026-11-25T20:00:00+08:00",
        t0,
    );
    assert_eq!(
        drain(&mut ivr),
        [IvrAction::Answer, english("closed", false)]
    );
    ivr.handle(t0, IvrInput::PlaybackFinished);
    assert_eq!(drain(&mut ivr), [english("message_offer", true)]);
    // The blacklist still applies.
    let mut ivr = start(&p, "95501", "01060000000", OPEN, t0);
    assert_eq!(
        drain(&mut ivr),
        [IvrAction::Answer, english("refused", false)]
    );
}
