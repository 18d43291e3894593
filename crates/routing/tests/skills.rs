//! Scenarios of skill-based routing: skills, penalties, priorities, strategies, agent policies,
//! queue limits, relaxation, service-level choice and wait estimates.

mod sim;

use std::time::Duration;

use hotline_routing::{
    AgentSettings, AgentState, CallId, Command, CommandError, EmptyRule, EnqueueOptions,
    ExitReason, NotReadyReason, OfferFailure, QueueConfig, RejectReason, RelaxAction, RelaxStep,
    RequestedState, RouterConfig, RoutingEvent, ServiceLevelTarget, SkillId, SkillRequirement,
    Strategy,
};
use sim::{agent, config, queue, queue_config, Sim};

fn skilled(levels: &[(&str, u8)]) -> AgentSettings {
    AgentSettings {
        skills: levels.iter().map(|(s, l)| (SkillId::new(*s), *l)).collect(),
        ..AgentSettings::default()
    }
}

fn needs(skill: &str, min: u8, priority: i32) -> EnqueueOptions {
    EnqueueOptions {
        required: vec![SkillRequirement::new(skill, min)],
        priority,
        ..EnqueueOptions::default()
    }
}

fn enqueue_with(sim: &mut Sim, call: u128, queue_name: &str, options: EnqueueOptions) {
    sim.cmd(Command::EnqueueWith {
        call: CallId(call),
        queue: queue(queue_name),
        options,
    });
}

fn one_queue(q: QueueConfig, agents: &[&str], settings: &[(&str, AgentSettings)]) -> Sim {
    let mut config = config(vec![q], agents);
    config.agent_settings = settings
        .iter()
        .map(|(a, s)| (agent(a), s.clone()))
        .collect();
    Sim::new(config)
}

/// Logs everyone in, then lets each become ready one second apart (so idle order is known).
fn login_in_order(sim: &mut Sim, names: &[&str]) {
    for name in names {
        sim.login(name);
        sim.advance(Duration::from_secs(1));
    }
    sim.take();
}

/// Offers, answers and ends `call` with whoever gets it; returns that agent's name.
fn serve(sim: &mut Sim, call: u128, queue_name: &str) -> String {
    sim.enqueue(call, queue_name);
    let offers = sim.offers();
    assert_eq!(offers.len(), 1, "{offers:?}");
    let who = offers[0].1.clone();
    sim.answer(call, who.as_str());
    sim.end(call);
    who.to_string()
}

#[test]
fn required_skill_at_min_proficiency_skips_unqualified_agents_without_blocking_others() {
    let q = queue_config("support", &["ann", "bob"]);
    let mut sim = one_queue(
        q,
        &["ann", "bob"],
        &[
            ("ann", skilled(&[("fr", 4)])),
            ("bob", skilled(&[("fr", 8)])),
        ],
    );
    login_in_order(&mut sim, &["ann"]);
    // Needs fr >= 6: ann (4) is not qualified; the call waits without blocking the next one.
    enqueue_with(&mut sim, 1, "support", needs("fr", 6, 0));
    assert!(sim.offers().is_empty());
    sim.enqueue(2, "support");
    assert_eq!(sim.offers(), vec![(CallId(2), agent("ann"))]);
    sim.login("bob");
    assert_eq!(sim.offers(), vec![(CallId(1), agent("bob"))]);
}

#[test]
fn lower_penalty_is_offered_first_and_preferred_skills_only_score() {
    let mut q = queue_config("sales", &["ann", "bob", "cid"]);
    q.penalties = [(agent("ann"), 1)].into();
    let mut sim = one_queue(
        q,
        &["ann", "bob", "cid"],
        &[("cid", skilled(&[("vip", 5)]))],
    );
    login_in_order(&mut sim, &["ann", "bob", "cid"]);
    // ann idles longest but has penalty 1; bob idles longer than cid, but cid has the
    // preferred skill.
    let options = EnqueueOptions {
        preferred: vec![SkillRequirement::new("vip", 1)],
        ..EnqueueOptions::default()
    };
    enqueue_with(&mut sim, 1, "sales", options);
    let events = sim.take();
    let reason = events.iter().find_map(|e| match e {
        RoutingEvent::CallOffered { agent, reason, .. } => Some((agent.clone(), reason.clone())),
        _ => None,
    });
    let (who, reason) = reason.expect("an offer");
    assert_eq!(who, agent("cid"));
    assert_eq!((reason.penalty, reason.preferred_met), (0, 1));
    sim.enqueue(2, "sales");
    assert_eq!(sim.offers(), vec![(CallId(2), agent("bob"))]);
    sim.enqueue(3, "sales");
    assert_eq!(sim.offers(), vec![(CallId(3), agent("ann"))]);
}

#[test]
fn higher_priority_first_and_original_age_kept_after_a_missed_offer() {
    let q = queue_config("sales", &["ann", "bob"]);
    let mut sim = one_queue(q, &["ann", "bob"], &[]);
    sim.enqueue(1, "sales");
    enqueue_with(
        &mut sim,
        2,
        "sales",
        EnqueueOptions {
            priority: 5,
            ..EnqueueOptions::default()
        },
    );
    sim.enqueue(3, "sales");
    sim.login("ann");
    assert_eq!(sim.offers(), vec![(CallId(2), agent("ann"))]);
    sim.cmd(Command::OfferFailed {
        call: CallId(2),
        agent: agent("ann"),
        cause: OfferFailure::Rejected,
    });
    sim.take();
    sim.login("bob");
    // The priority call keeps its place ahead of the older normal calls.
    assert_eq!(sim.offers(), vec![(CallId(2), agent("bob"))]);
    let view = sim.router.call(CallId(1)).expect("waiting");
    assert_eq!(view.enqueued_at, sim.t0);
}

#[test]
fn fewest_calls_and_linear_and_round_robin_pick_as_documented() {
    for (strategy, expected) in [
        (Strategy::FewestCalls, ["cid", "bob", "ann", "ann"]),
        (Strategy::Linear, ["ann", "ann", "ann", "ann"]),
        (Strategy::RoundRobin, ["ann", "bob", "cid", "ann"]),
    ] {
        let mut q = queue_config("q", &["ann", "bob", "cid"]);
        q.wrap_up = Duration::ZERO;
        q.strategy = strategy;
        let mut sim = one_queue(q, &["ann", "bob", "cid"], &[]);
        // cid idles longest, so longest-idle would differ from each of these.
        login_in_order(&mut sim, &["cid", "bob", "ann"]);
        let picks: Vec<String> = (1..=4).map(|c| serve(&mut sim, c, "q")).collect();
        assert_eq!(picks, expected, "{strategy:?}");
    }
}

#[test]
fn best_skilled_takes_the_highest_proficiency_then_longest_idle() {
    let mut q = queue_config("q", &["ann", "bob", "cid"]);
    q.strategy = Strategy::BestSkilled;
    let mut sim = one_queue(
        q,
        &["ann", "bob", "cid"],
        &[
            ("ann", skilled(&[("fr", 5)])),
            ("bob", skilled(&[("fr", 9)])),
            ("cid", skilled(&[("fr", 9)])),
        ],
    );
    login_in_order(&mut sim, &["ann", "cid", "bob"]);
    enqueue_with(&mut sim, 1, "q", needs("fr", 1, 0));
    assert_eq!(sim.offers(), vec![(CallId(1), agent("cid"))]);
}

#[test]
fn least_talk_time_counts_talk_inside_the_window() {
    let mut q = queue_config("q", &["ann", "bob"]);
    q.wrap_up = Duration::ZERO;
    q.strategy = Strategy::LeastTalkTime;
    q.talk_time_window = Duration::from_secs(600);
    let mut sim = one_queue(q, &["ann", "bob"], &[]);
    login_in_order(&mut sim, &["ann", "bob"]);
    sim.enqueue(1, "q");
    assert_eq!(sim.offers(), vec![(CallId(1), agent("ann"))]);
    sim.answer(1, "ann");
    sim.advance(Duration::from_secs(100));
    sim.end(1);
    sim.take();
    // ann talked 100 s in the window, bob none, though ann idles... since just now.
    sim.enqueue(2, "q");
    assert_eq!(sim.offers(), vec![(CallId(2), agent("bob"))]);
    sim.answer(2, "bob");
    sim.advance(Duration::from_secs(10));
    sim.end(2);
    sim.take();
    // Past the window ann's long call no longer counts; bob's 10 s does.
    sim.advance(Duration::from_secs(595));
    sim.enqueue(3, "q");
    assert_eq!(sim.offers(), vec![(CallId(3), agent("ann"))]);
}

#[test]
fn random_strategies_are_seeded_and_weights_are_respected() {
    let run = |strategy: Strategy, seed: u64| -> Vec<String> {
        let mut q = queue_config("q", &["ann", "bob", "cid"]);
        q.wrap_up = Duration::ZERO;
        q.strategy = strategy;
        q.weights = [(agent("cid"), 0)].into();
        let mut config = config(vec![q], &["ann", "bob", "cid"]);
        config.seed = seed;
        let mut sim = Sim::new(config);
        login_in_order(&mut sim, &["ann", "bob", "cid"]);
        (1..=40).map(|c| serve(&mut sim, c, "q")).collect()
    };
    let random = run(Strategy::Random, 1);
    assert_eq!(random, run(Strategy::Random, 1), "same seed, same picks");
    assert_ne!(random, run(Strategy::Random, 2));
    for name in ["ann", "bob", "cid"] {
        assert!(random.iter().any(|p| p == name), "{name} never picked");
    }
    let weighted = run(Strategy::WeightedRandom, 1);
    assert!(
        weighted.iter().all(|p| p != "cid"),
        "weight 0 is never picked"
    );
    assert!(weighted.iter().any(|p| p == "ann") && weighted.iter().any(|p| p == "bob"));
}

#[test]
fn ring_no_answer_makes_not_ready_after_n_missed_offers() {
    let q = queue_config("q", &["ann"]);
    let settings = AgentSettings {
        max_missed_offers: 2,
        ..AgentSettings::default()
    };
    let mut sim = one_queue(q, &["ann"], &[("ann", settings)]);
    sim.login("ann");
    sim.enqueue(1, "q");
    assert_eq!(sim.offers().len(), 1);
    sim.advance(Duration::from_secs(10)); // first miss: ready again, re-offered
    assert_eq!(sim.offers(), vec![(CallId(1), agent("ann"))]);
    sim.advance(Duration::from_secs(10)); // second miss in a row: not ready
    assert_eq!(
        sim.state("ann"),
        AgentState::NotReady(NotReadyReason::MissedOffer)
    );
}

#[test]
fn agent_wrap_up_overrides_the_queue_and_can_be_extended_or_ended() {
    let q = queue_config("q", &["ann"]);
    let settings = AgentSettings {
        wrap_up: Some(Duration::from_secs(30)),
        ..AgentSettings::default()
    };
    let mut sim = one_queue(q, &["ann"], &[("ann", settings)]);
    sim.login("ann");
    serve(&mut sim, 1, "q");
    assert_eq!(sim.state("ann"), AgentState::WrapUp);
    let end = sim.router.poll_timeout().map(|(at, _)| at);
    assert_eq!(end, Some(sim.now + Duration::from_secs(30)));
    sim.cmd(Command::ExtendWrapUp {
        agent: agent("ann"),
        by: Duration::from_secs(15),
    });
    sim.advance(Duration::from_secs(40));
    assert_eq!(sim.state("ann"), AgentState::WrapUp);
    sim.cmd(Command::EndWrapUp {
        agent: agent("ann"),
    });
    assert_eq!(sim.state("ann"), AgentState::Ready);
    assert_eq!(
        sim.try_cmd(Command::EndWrapUp {
            agent: agent("ann")
        }),
        Err(CommandError::NotInWrapUp(agent("ann")))
    );
}

#[test]
fn not_ready_reasons_are_validated_against_the_configured_codes() {
    let mut config = config(vec![queue_config("q", &["ann"])], &["ann"]);
    config.not_ready_reasons = vec!["lunch".into()];
    let mut sim = Sim::new(config);
    sim.login("ann");
    let set = |code: &str| Command::SetState {
        agent: agent("ann"),
        state: RequestedState::NotReady(NotReadyReason::Manual(code.into())),
    };
    assert_eq!(
        sim.try_cmd(set("nap")),
        Err(CommandError::UnknownReason("nap".into()))
    );
    sim.cmd(set("lunch"));
    sim.set("ann", RequestedState::NotReady(NotReadyReason::MissedOffer));
}

#[test]
fn max_wait_exits_and_max_length_and_join_empty_reject() {
    let mut q = queue_config("q", &["ann"]);
    q.max_wait = Some(Duration::from_secs(60));
    q.max_len = Some(1);
    let mut sim = one_queue(q, &["ann"], &[]);
    sim.enqueue(1, "q");
    sim.enqueue(2, "q");
    assert!(sim.take().contains(&RoutingEvent::CallRejected {
        call: CallId(2),
        queue: queue("q"),
        reason: RejectReason::QueueFull,
    }));
    // The dialplan's own max wait wins over the queue's.
    sim.cmd(Command::Abandon { call: CallId(1) });
    enqueue_with(
        &mut sim,
        3,
        "q",
        EnqueueOptions {
            max_wait: Some(Duration::from_secs(5)),
            ..EnqueueOptions::default()
        },
    );
    sim.take();
    sim.advance(Duration::from_secs(5));
    assert!(sim.take().contains(&RoutingEvent::CallExited {
        call: CallId(3),
        queue: queue("q"),
        wait: Duration::from_secs(5),
        reason: ExitReason::MaxWait,
    }));

    let mut q = queue_config("e", &["ann"]);
    q.join_when_empty = EmptyRule::NoneLoggedIn;
    q.leave_when_empty = EmptyRule::NoneAvailable;
    let mut sim = one_queue(q, &["ann"], &[]);
    sim.enqueue(1, "e");
    assert!(matches!(
        sim.take()[..],
        [RoutingEvent::CallRejected {
            reason: RejectReason::QueueEmpty,
            ..
        }]
    ));
    sim.login("ann");
    sim.set(
        "ann",
        RequestedState::NotReady(NotReadyReason::Manual("x".into())),
    );
    sim.set("ann", RequestedState::Ready);
    sim.enqueue(2, "e");
    sim.cmd(Command::OfferFailed {
        call: CallId(2),
        agent: agent("ann"),
        cause: OfferFailure::Busy,
    });
    // ann went not ready: the queue has nobody available, so the call leaves.
    assert!(sim.take().iter().any(|e| matches!(
        e,
        RoutingEvent::CallExited {
            reason: ExitReason::QueueEmpty,
            ..
        }
    )));
    assert_eq!(sim.router.call_count(), 0);
}

#[test]
fn relaxation_lowers_proficiency_then_overflows_then_exits_over_time() {
    let mut main = queue_config("main", &["ann"]);
    main.relaxation = vec![
        RelaxStep {
            after: Duration::from_secs(20),
            action: RelaxAction::LowerProficiency { by: 3 },
        },
        RelaxStep {
            after: Duration::from_secs(40),
            action: RelaxAction::AddQueues {
                queues: vec![queue("backup")],
            },
        },
        RelaxStep {
            after: Duration::from_secs(60),
            action: RelaxAction::Exit,
        },
    ];
    let backup = queue_config("backup", &["bob"]);
    let mut config: RouterConfig = config(vec![main, backup], &["ann", "bob"]);
    config.agent_settings = [
        (agent("ann"), skilled(&[("fr", 5)])),
        (agent("bob"), skilled(&[("fr", 8)])),
    ]
    .into();
    let mut sim = Sim::new(config);
    login_in_order(&mut sim, &["ann", "bob"]);
    sim.set(
        "ann",
        RequestedState::NotReady(NotReadyReason::Manual("x".into())),
    );
    enqueue_with(&mut sim, 1, "main", needs("fr", 7, 0));
    enqueue_with(&mut sim, 2, "main", needs("fr", 9, 0));
    sim.set("ann", RequestedState::Ready);
    assert!(sim.offers().is_empty(), "ann has fr 5 < 7");
    sim.advance(Duration::from_secs(20));
    let events = sim.take();
    let offered = events.iter().find_map(|e| match e {
        RoutingEvent::CallOffered {
            call,
            agent,
            reason,
            ..
        } => Some((*call, agent.clone(), reason.relaxation_step)),
        _ => None,
    });
    assert_eq!(offered, Some((CallId(1), agent("ann"), 1)));
    sim.answer(1, "ann");
    // Call 2 needs fr 6 after the first step: bob (8) in the overflow queue takes it at 40 s.
    sim.advance(Duration::from_secs(20));
    let events = sim.take();
    let offered = events.iter().find_map(|e| match e {
        RoutingEvent::CallOffered {
            call,
            agent,
            reason,
            ..
        } => Some((*call, agent.clone(), reason.via_queue.clone())),
        _ => None,
    });
    assert_eq!(offered, Some((CallId(2), agent("bob"), queue("backup"))));
    sim.cmd(Command::OfferFailed {
        call: CallId(2),
        agent: agent("bob"),
        cause: OfferFailure::Busy,
    });
    sim.take();
    sim.advance(Duration::from_secs(20));
    assert!(sim.take().iter().any(|e| matches!(
        e,
        RoutingEvent::CallExited {
            call: CallId(2),
            reason: ExitReason::RelaxationExit,
            ..
        }
    )));
}

#[test]
fn a_free_agent_takes_the_queue_furthest_behind_its_service_level() {
    let target = ServiceLevelTarget {
        threshold: Duration::from_secs(20),
        percent: 80,
    };
    let mut fast = queue_config("fast", &["ann"]);
    fast.service_level = Some(target);
    let mut slow = queue_config("slow", &["ann"]);
    slow.service_level = Some(target);
    let mut sim = Sim::new(config(vec![fast, slow], &["ann"]));
    sim.login("ann");
    // "slow" answers a call after 30 s: 0% within target.
    sim.set(
        "ann",
        RequestedState::NotReady(NotReadyReason::Manual("x".into())),
    );
    sim.enqueue(1, "slow");
    sim.advance(Duration::from_secs(30));
    sim.set("ann", RequestedState::Ready);
    sim.answer(1, "ann");
    sim.end(1);
    sim.set(
        "ann",
        RequestedState::NotReady(NotReadyReason::Manual("x".into())),
    );
    sim.take();
    assert_eq!(sim.router.service_level(&queue("slow"), sim.now), Some(0.0));
    // An older call waits in "fast", a newer one in "slow": "slow" is behind, so it goes first.
    sim.enqueue(2, "fast");
    sim.advance(Duration::from_secs(1));
    sim.enqueue(3, "slow");
    sim.set("ann", RequestedState::Ready);
    assert_eq!(sim.offers(), vec![(CallId(3), agent("ann"))]);
}

#[test]
fn estimated_wait_follows_position_staffing_and_handle_time() {
    let mut q = queue_config("q", &["ann", "bob"]);
    q.expected_handle_time = Duration::from_secs(100);
    q.wrap_up = Duration::ZERO;
    let mut sim = one_queue(q, &["ann", "bob"], &[]);
    login_in_order(&mut sim, &["ann", "bob"]);
    for call in 1..=5 {
        sim.enqueue(call, "q");
    }
    sim.take();
    // Two agents busy; calls 3, 4, 5 are first, second and third of those not offered: each
    // needs that many of the two agents to free up, at 100 s each.
    assert_eq!(sim.router.estimated_wait(CallId(1)), Some(Duration::ZERO));
    assert_eq!(
        sim.router.estimated_wait(CallId(3)),
        Some(Duration::from_secs(50))
    );
    assert_eq!(
        sim.router.estimated_wait(CallId(5)),
        Some(Duration::from_secs(150))
    );
}
