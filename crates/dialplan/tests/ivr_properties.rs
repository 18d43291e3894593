//! Properties of the IVR executor: whatever the caller and the media do, it never panics, and it
//! always either finishes (queue or hangup) or waits with a pending timeout, never stuck.

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use hotline_dialplan::{
    CallInfo, Dialplan, Ivr, IvrAction, IvrInput, IvrOutcome, ValidationContext,
};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Step {
    Input(IvrInput),
    /// Let this much virtual time pass, then deliver a due timeout if any.
    Advance(u64),
    /// Jump to the pending timeout and fire it.
    FireTimer,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => Just(Step::Input(IvrInput::PlaybackFinished)),
        4 => prop::sample::select(vec!['0', '1', '2', '3', '9', '*', '#', 'A', 'x', '\u{0}'])
            .prop_map(|d| Step::Input(IvrInput::Digit(d))),
        1 => Just(Step::Input(IvrInput::Hangup)),
        1 => Just(Step::Input(IvrInput::QueueLeft)),
        1 => Just(Step::Input(IvrInput::DialAnswered)),
        1 => Just(Step::Input(IvrInput::DialFailed)),
        2 => (0u64..20_000).prop_map(Step::Advance),
        3 => Just(Step::FireTimer),
    ]
}

/// A random plan of up to six nodes; many are invalid (cycles, unreachable targets) and skipped.
/// Number 2 leads back into number 1 by a flow transfer once the caller presses 1.
fn random_plan() -> impl Strategy<Value = String> {
    let node = (
        0u8..15,
        0usize..6,
        0usize..6,
        prop::collection::vec((0usize..12, 0usize..6), 0..4),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        0u32..3,
    );
    prop::collection::vec(node, 1..7).prop_map(|nodes| {
        let count = nodes.len();
        let mut yaml = String::from(concat!(
            "version: 1\nschedules:\n  s:\n    time_zone: Europe/Paris\n",
            "    hours: { mon-fri: \"09:00-17:00\" }\n    holidays: [\"1970-01-01\"]\n",
            "numbers:\n  \"1\":\n    start: n0\n    nodes:\n"
        ));
        for (i, (kind, a, b, options, prompt, invalid, on_timeout, on_failure, retries)) in
            nodes.into_iter().enumerate()
        {
            let (a, b) = (a % count, b % count);
            let _ = match kind {
                0 => writeln!(yaml, "      n{i}: {{ answer: true, next: n{a} }}"),
                1 => writeln!(yaml, "      n{i}: {{ play: p{i}, next: n{a} }}"),
                2 => writeln!(yaml, "      n{i}: {{ queue: q{i} }}"),
                3 => writeln!(yaml, "      n{i}: {{ hangup: true }}"),
                5 => {
                    let failure = if on_failure {
                        format!(", on_failure: n{b}")
                    } else {
                        String::new()
                    };
                    writeln!(
                        yaml,
                        "      n{i}:\n        collect: {{ max_digits: 2, min_digits: {retries}, terminator: \"#\", timeout: 1s, into: v, retries: {retries}{failure} }}\n        next: n{a}"
                    )
                }
                6 => writeln!(
                    yaml,
                    "      n{i}: {{ set: {{ variables: {{ v: \"1\" }}, language: fr, priority: 3 }}, next: n{a} }}"
                ),
                7 => writeln!(
                    yaml,
                    "      n{i}:\n        branch:\n          - {{ when: {{ var: {{ name: v, equals: \"1\" }} }}, goto: n{a} }}\n        otherwise: n{b}"
                ),
                8 => writeln!(yaml, "      n{i}: {{ goto: n{a} }}"),
                9 => writeln!(
                    yaml,
                    "      n{i}: {{ play: [p{i}, q{i}], barge_in: {prompt}, next: n{a} }}"
                ),
                10 => writeln!(
                    yaml,
                    "      n{i}: {{ queue: {{ name: q{i}, max_wait: 1m, exit: n{a} }} }}"
                ),
                11 => writeln!(
                    yaml,
                    "      n{i}: {{ schedule: s, open: n{a}, closed: n{b}, holiday: n{a} }}"
                ),
                12 => {
                    let failed = if on_failure {
                        format!(", failed: n{b}")
                    } else {
                        String::new()
                    };
                    let announce = if prompt { ", announce: [p1, p2]" } else { "" };
                    writeln!(
                        yaml,
                        "      n{i}: {{ transfer: {{ number: \"+8613800000000\", timeout: 5s{announce}{failed} }} }}"
                    )
                }
                13 => writeln!(
                    yaml,
                    "      n{i}: {{ transfer: {{ queue: q{i}, priority: 2, max_wait: 1m, exit: n{a} }} }}"
                ),
                14 => writeln!(yaml, "      n{i}: {{ transfer: {{ flow: \"2\" }} }}"),
                _ => {
                    let mut menu = format!("timeout: 1s, retries: {retries}");
                    if prompt {
                        menu.push_str(", prompt: menu");
                    }
                    if invalid {
                        menu.push_str(", invalid: invalid");
                    }
                    if on_timeout {
                        let _ = write!(menu, ", on_timeout: n{a}");
                    }
                    if on_failure {
                        let _ = write!(menu, ", on_failure: n{b}");
                    }
                    let keys = "0123456789*#";
                    let mut opts: Vec<String> = options
                        .iter()
                        .map(|(d, t)| format!("\"{}\": n{}", &keys[*d..*d + 1], t % count))
                        .collect();
                    opts.sort();
                    opts.dedup_by(|x, y| x[..3] == y[..3]);
                    if opts.is_empty() {
                        opts.push("\"1\": n0".to_owned());
                    }
                    writeln!(
                        yaml,
                        "      n{i}:\n        menu: {{ {menu}, options: {{ {} }} }}",
                        opts.join(", ")
                    )
                }
            };
        }
        yaml.push_str(concat!(
            "  \"2\":\n    start: m0\n    nodes:\n",
            "      m0: { menu: { timeout: 1s, retries: 0, options: { \"1\": m1 } } }\n",
            "      m1: { transfer: { flow: \"1\" } }\n"
        ));
        yaml
    })
}

const BUNDLED: &str = include_str!("../../../dialplans/default.yaml");

/// Drives `ivr` through `steps`, checking the invariants after each; then fires only timeouts
/// (a silent caller whose media never reports) and checks the IVR finishes.
fn check(plan: Arc<Dialplan>, call: CallInfo, steps: &[Step]) -> Result<(), TestCaseError> {
    let t0 = Instant::now();
    let mut now = t0;
    let Some(mut ivr) = Ivr::start(plan, call, now) else {
        return Err(TestCaseError::fail("number missing"));
    };
    let mut ends = 0usize;
    check_invariants(&mut ivr, &mut ends)?;
    for step in steps {
        match step {
            Step::Input(input) => ivr.handle(now, *input),
            Step::Advance(ms) => {
                now += Duration::from_millis(*ms);
                ivr.handle_timeout(now);
            }
            Step::FireTimer => {
                if let Some(deadline) = ivr.poll_timeout() {
                    prop_assert!(deadline >= now, "timeout in the past");
                    now = deadline;
                    ivr.handle_timeout(now);
                }
            }
        }
        check_invariants(&mut ivr, &mut ends)?;
    }
    let mut queue_rounds = 0usize;
    for _ in 0..1_000 {
        // A caller parked in a queue with an exit: the queue lets them go eventually.
        if ivr.is_queued_with_exit() {
            queue_rounds += 1;
            ivr.handle(now, IvrInput::QueueLeft);
            check_invariants(&mut ivr, &mut ends)?;
            continue;
        }
        let Some(deadline) = ivr.poll_timeout() else {
            break;
        };
        now = now.max(deadline);
        ivr.handle_timeout(now);
        check_invariants(&mut ivr, &mut ends)?;
    }
    // Not finished after many rounds is a plan whose queue exit leads back to a queue: the caller
    // waits in the queue each round (an "all agents are busy, please hold" loop), not stuck.
    prop_assert!(
        ivr.is_finished() || queue_rounds > 0,
        "a silent caller never left node {}",
        ivr.current_node()
    );
    Ok(())
}

fn check_invariants(ivr: &mut Ivr, ends: &mut usize) -> Result<(), TestCaseError> {
    let was_finished = ivr.is_finished() && *ends > 0;
    let actions: Vec<IvrAction> = std::iter::from_fn(|| ivr.poll_action()).collect();
    if was_finished {
        prop_assert!(actions.is_empty(), "actions after the end: {actions:?}");
    }
    for (i, action) in actions.iter().enumerate() {
        if matches!(action, IvrAction::Queue { .. } | IvrAction::Hangup { .. }) {
            prop_assert_eq!(i, actions.len() - 1, "action after the end: {:?}", actions);
            // A queue with an exit parks the caller; it is not the end of the IVR.
            if !ivr.is_queued_with_exit() {
                *ends += 1;
            }
        }
    }
    prop_assert!(*ends <= 1, "two ends");
    // Never stuck: finished, parked in a queue with an exit, or a timeout is pending.
    prop_assert_eq!(
        ivr.is_finished() || ivr.is_queued_with_exit(),
        ivr.poll_timeout().is_none()
    );
    if ivr.is_finished() {
        let caller_left = ivr.outcome() == Some(&IvrOutcome::CallerHungUp);
        // A dial the far end answered ends the IVR without an action of its own.
        let dialed = matches!(ivr.outcome(), Some(IvrOutcome::Dialed { .. }));
        prop_assert!(
            caller_left || dialed || *ends == 1,
            "finished without queue, hangup or answered dial"
        );
        if *ends == 0 {
            *ends = 1;
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn bundled_plan_never_gets_stuck(
        steps in prop::collection::vec(step(), 0..40),
        number in prop::sample::select(vec!["100", "200", "95500", "95501"]),
        caller in prop::sample::select(vec!["13700000000", "013900000002", "01060000000", "alice"]),
        // Any moment of 2026-2027, so every branch of the 95500 schedule is taken.
        at in 1_767_225_600u64..1_830_297_600,
    ) {
        let plan = match Dialplan::parse(BUNDLED, "default.yaml", &ValidationContext::default()) {
            Ok(plan) => Arc::new(plan),
            Err(errors) => return Err(TestCaseError::fail(errors.to_string())),
        };
        let arrived = SystemTime::UNIX_EPOCH + Duration::from_secs(at);
        check(plan, CallInfo::new(number, caller, arrived), &steps)?;
    }

    #[test]
    fn any_valid_plan_never_gets_stuck(yaml in random_plan(), steps in prop::collection::vec(step(), 0..40)) {
        // Plans the validator refuses (cycles without input, ...) are not the executor's problem.
        if let Ok(plan) = Dialplan::parse(&yaml, "random.yaml", &ValidationContext::default()) {
            let call = CallInfo::new("1", "13700000000", SystemTime::UNIX_EPOCH);
            check(Arc::new(plan), call, &steps)?;
        }
    }

    #[test]
    fn the_loader_never_panics(source in "\\PC{0,200}") {
        let _ = Dialplan::parse(&source, "fuzz.yaml", &ValidationContext::default());
    }

    #[test]
    fn the_loader_reports_positions_inside_the_file_for_mangled_dialplans(
        edits in prop::collection::vec((0usize..2_000, 0usize..12, "[ -~\n\t]{0,6}"), 1..6)
    ) {
        let mut source: Vec<char> = BUNDLED.chars().collect();
        for (at, delete, insert) in edits {
            let at = at % (source.len() + 1);
            let end = (at + delete).min(source.len());
            source.splice(at..end, insert.chars());
        }
        let source: String = source.into_iter().collect();
        let lines = u32::try_from(source.lines().count()).unwrap_or(u32::MAX).max(1) + 1;
        if let Err(errors) = Dialplan::parse(&source, "mangled.yaml", &ValidationContext::default()) {
            prop_assert!(!errors.is_empty());
            for error in errors.errors() {
                prop_assert!(error.line >= 1 && error.line <= lines, "{error} outside {lines} lines");
                prop_assert!(error.column >= 1, "{error}");
            }
        }
    }
}
