//! The reload rules, each on virtual time.

use std::time::{Duration, Instant};

use crate::agent_state::{AgentState, NotReadyReason};
use crate::command::Command;
use crate::config::{
    AgentSettings, ConfigError, EnqueueOptions, QueueConfig, RelaxAction, RelaxStep, RouterConfig,
    Strategy,
};
use crate::event::{ExitReason, RequeueReason, RevokeReason, RoutingEvent};
use crate::ids::{AgentId, CallId, QueueId};
use crate::replay::Replay;
use crate::router::Router;
use crate::skills::{SkillId, SkillRequirement};

fn agent(id: &str) -> AgentId {
    AgentId::new(id)
}

fn queue(id: &str, members: &[&str]) -> QueueConfig {
    QueueConfig {
        id: QueueId::new(id),
        members: members.iter().map(|m| agent(m)).collect(),
        ring_timeout: Duration::from_secs(15),
        wrap_up: Duration::from_secs(5),
        ..QueueConfig::default()
    }
}

fn config(queues: Vec<QueueConfig>, agents: &[&str]) -> RouterConfig {
    RouterConfig {
        queues,
        agents: agents.iter().map(|a| agent(a)).collect(),
        ..RouterConfig::default()
    }
}

/// A router on virtual time that keeps every event and a replay of them.
struct Sim {
    router: Router,
    now: Instant,
    start: Instant,
    events: Vec<RoutingEvent>,
    replay: Replay,
}

impl Sim {
    fn new(config: RouterConfig) -> Self {
        let now = Instant::now();
        let replay = Replay::new(config.agents.clone(), now);
        Self {
            router: Router::new(config, now).unwrap(),
            now,
            start: now,
            events: Vec::new(),
            replay,
        }
    }

    fn drain(&mut self) -> Vec<RoutingEvent> {
        let new: Vec<RoutingEvent> = std::iter::from_fn(|| self.router.poll_event()).collect();
        for e in &new {
            self.replay.apply(e);
        }
        self.events.extend(new.iter().cloned());
        new
    }

    fn cmd(&mut self, command: Command) -> Vec<RoutingEvent> {
        self.router.handle(self.now, command).unwrap();
        self.drain()
    }

    fn advance(&mut self, by: Duration) -> Vec<RoutingEvent> {
        let until = self.now + by;
        while let Some((at, _)) = self.router.poll_timeout() {
            if at > until {
                break;
            }
            self.now = at;
            self.router.handle_timeout(at);
        }
        self.now = until;
        self.drain()
    }

    fn login(&mut self, id: &str) -> Vec<RoutingEvent> {
        self.cmd(Command::ContactsChanged {
            agent: agent(id),
            count: 1,
        })
    }

    fn enqueue(&mut self, call: u128, queue: &str) -> Vec<RoutingEvent> {
        self.enqueue_with(call, queue, EnqueueOptions::default())
    }

    fn enqueue_with(
        &mut self,
        call: u128,
        queue: &str,
        options: EnqueueOptions,
    ) -> Vec<RoutingEvent> {
        self.cmd(Command::EnqueueWith {
            call: CallId(call),
            queue: QueueId::new(queue),
            options,
        })
    }

    fn reconfigure(&mut self, config: RouterConfig) -> Vec<RoutingEvent> {
        self.router.reconfigure(self.now, config).unwrap();
        self.drain()
    }

    fn state(&self, id: &str) -> Option<AgentState> {
        self.router.agent(&agent(id)).map(|v| v.state.clone())
    }

    /// The replayed agents equal the router's own view of them.
    fn assert_replay_matches(&self) {
        let replayed: Vec<(AgentId, AgentState, Option<CallId>)> = self
            .replay
            .agents()
            .iter()
            .map(|(id, a)| (id.clone(), a.state.clone(), a.current_call))
            .collect();
        let mut live: Vec<(AgentId, AgentState, Option<CallId>)> = self
            .router
            .agents()
            .map(|a| (a.id.clone(), a.state.clone(), a.current_call))
            .collect();
        live.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(replayed, live);
    }
}

fn offers(events: &[RoutingEvent]) -> Vec<(CallId, AgentId)> {
    events
        .iter()
        .filter_map(|e| match e {
            RoutingEvent::CallOffered { call, agent, .. } => Some((*call, agent.clone())),
            _ => None,
        })
        .collect()
}

#[test]
fn an_invalid_configuration_is_refused_and_nothing_changes() {
    let mut sim = Sim::new(config(vec![queue("sales", &["ann"])], &["ann"]));
    sim.enqueue(1, "sales");
    let before = format!("{:?}", sim.router);
    let bad = config(vec![queue("sales", &["ann", "zoe"])], &["ann"]);
    assert_eq!(
        sim.router.reconfigure(sim.now, bad),
        Err(ConfigError::UnknownMember {
            queue: QueueId::new("sales"),
            agent: agent("zoe"),
        })
    );
    assert!(sim.drain().is_empty());
    assert_eq!(format!("{:?}", sim.router), before);
}

#[test]
fn waiting_entries_keep_their_place_and_age_and_new_members_take_them() {
    let mut sim = Sim::new(config(vec![queue("sales", &["ann"])], &["ann", "bob"]));
    for call in 1..=3 {
        sim.enqueue(call, "sales");
        sim.advance(Duration::from_secs(10));
    }
    // bob is ready but not a member: nothing is offered.
    assert!(offers(&sim.login("bob")).is_empty());
    let mut sales = queue("sales", &["ann", "bob"]);
    sales.strategy = Strategy::Linear;
    let events = sim.reconfigure(config(vec![sales], &["ann", "bob"]));
    assert_eq!(offers(&events), vec![(CallId(1), agent("bob"))]);
    assert!(events
        .iter()
        .any(|e| matches!(e, RoutingEvent::Reconfigured { .. })));
    let view = sim.router.queue(&QueueId::new("sales")).unwrap();
    assert_eq!(view.strategy, Strategy::Linear);
    assert_eq!(view.waiting, 3);
    assert_eq!(view.oldest_wait_since, Some(sim.start));
    // The wait counts from the original entry time.
    let events = sim.cmd(Command::OfferAnswered {
        call: CallId(1),
        agent: agent("bob"),
    });
    assert!(events.contains(&RoutingEvent::CallConnected {
        call: CallId(1),
        queue: QueueId::new("sales"),
        agent: agent("bob"),
        wait: Duration::from_secs(30),
    }));
    // ann registers: the next in line, call 2, is hers.
    assert_eq!(offers(&sim.login("ann")), vec![(CallId(2), agent("ann"))]);
    sim.assert_replay_matches();
}

#[test]
fn an_offer_ringing_at_a_removed_member_is_revoked_without_a_missed_offer() {
    let mut sales = queue("sales", &["ann", "bob"]);
    sales.strategy = Strategy::Linear;
    let mut sim = Sim::new(config(vec![sales], &["ann", "bob"]));
    sim.login("ann");
    let offered = sim.enqueue(1, "sales");
    assert_eq!(offers(&offered), vec![(CallId(1), agent("ann"))]);
    sim.advance(Duration::from_secs(3));
    let events = sim.reconfigure(config(vec![queue("sales", &["bob"])], &["ann", "bob"]));
    assert!(events.contains(&RoutingEvent::OfferRevoked {
        call: CallId(1),
        agent: agent("ann"),
        reason: RevokeReason::Reconfigured,
    }));
    assert!(events.contains(&RoutingEvent::CallRequeued {
        call: CallId(1),
        queue: QueueId::new("sales"),
        agent: agent("ann"),
        reason: RequeueReason::Reconfigured,
    }));
    // Not a missed offer: ann is ready again, keeping her idle time.
    assert_eq!(sim.state("ann"), Some(AgentState::Ready));
    assert_eq!(
        sim.router.agent(&agent("ann")).unwrap().idle_since,
        Some(sim.start)
    );
    // The ring timer is gone with the offer.
    assert!(sim.advance(Duration::from_secs(60)).is_empty());
    assert_eq!(offers(&sim.login("bob")), vec![(CallId(1), agent("bob"))]);
    sim.assert_replay_matches();
}

#[test]
fn a_removed_queue_lets_its_entries_go_and_finishes_its_calls() {
    let mut sim = Sim::new(config(
        vec![queue("sales", &["ann"]), queue("old", &["ann", "bob"])],
        &["ann", "bob"],
    ));
    sim.login("bob");
    sim.enqueue(1, "old");
    sim.cmd(Command::OfferAnswered {
        call: CallId(1),
        agent: agent("bob"),
    });
    sim.enqueue(2, "old");
    sim.enqueue(3, "sales");
    sim.advance(Duration::from_secs(20));
    let events = sim.reconfigure(config(
        vec![queue("sales", &["ann", "bob"])],
        &["ann", "bob"],
    ));
    assert!(events.contains(&RoutingEvent::CallExited {
        call: CallId(2),
        queue: QueueId::new("old"),
        wait: Duration::from_secs(20),
        reason: ExitReason::QueueRemoved,
    }));
    assert!(sim.router.queue(&QueueId::new("old")).is_none());
    assert_eq!(
        sim.router
            .queues()
            .map(|q| q.id.clone())
            .collect::<Vec<_>>(),
        vec![QueueId::new("sales")]
    );
    // The connected call of the removed queue ends normally, with its wrap-up.
    sim.advance(Duration::from_secs(10));
    let events = sim.cmd(Command::CallEnded { call: CallId(1) });
    assert!(events.contains(&RoutingEvent::CallCompleted {
        call: CallId(1),
        queue: QueueId::new("old"),
        agent: agent("bob"),
        talk: Duration::from_secs(30),
    }));
    assert_eq!(sim.state("bob"), Some(AgentState::WrapUp));
    // After wrap-up bob takes the sales entry that waited meanwhile.
    let events = sim.advance(Duration::from_secs(5));
    assert_eq!(offers(&events), vec![(CallId(3), agent("bob"))]);
    // The next reload drops the retired queue for good.
    sim.reconfigure(config(
        vec![queue("sales", &["ann", "bob"])],
        &["ann", "bob"],
    ));
    assert_eq!(sim.router.queues().count(), 1);
    sim.assert_replay_matches();
}

#[test]
fn a_removed_agent_finishes_its_call_and_is_then_gone() {
    let mut sim = Sim::new(config(
        vec![queue("sales", &["ann", "bob"])],
        &["ann", "bob"],
    ));
    sim.login("ann");
    sim.login("bob");
    sim.enqueue(1, "sales");
    let connected_to = match offers(&sim.events).first() {
        Some((_, a)) => a.clone(),
        None => panic!("no offer"),
    };
    assert_eq!(connected_to, agent("ann"));
    sim.cmd(Command::OfferAnswered {
        call: CallId(1),
        agent: agent("ann"),
    });
    let events = sim.reconfigure(config(vec![queue("sales", &["bob"])], &["bob"]));
    // No state change for ann while she talks; she is out of the index but still listed.
    assert!(!events.iter().any(
        |e| matches!(e, RoutingEvent::AgentStateChanged { agent: a, .. } if *a == agent("ann"))
    ));
    assert!(sim.router.agent(&agent("ann")).is_none());
    assert_eq!(sim.router.agents().count(), 2);
    sim.assert_replay_matches();
    // ann is offered nothing new.
    let events = sim.enqueue(2, "sales");
    assert_eq!(offers(&events), vec![(CallId(2), agent("bob"))]);
    sim.cmd(Command::OfferAnswered {
        call: CallId(2),
        agent: agent("bob"),
    });
    sim.advance(Duration::from_secs(30));
    let events = sim.cmd(Command::CallEnded { call: CallId(1) });
    assert!(events.contains(&RoutingEvent::AgentStateChanged {
        agent: agent("ann"),
        from: AgentState::OnCall,
        to: AgentState::LoggedOut,
        at: sim.now,
    }));
    assert_eq!(
        sim.router
            .agents()
            .map(|a| a.id.clone())
            .collect::<Vec<_>>(),
        vec![agent("bob")]
    );
    // The router still works on the compacted indices.
    sim.cmd(Command::CallEnded { call: CallId(2) });
    assert_eq!(sim.state("bob"), Some(AgentState::WrapUp));
    sim.assert_replay_matches();
}

#[test]
fn removed_idle_agents_log_out_and_new_agents_start_logged_out() {
    let mut sim = Sim::new(config(vec![queue("sales", &["ann"])], &["ann"]));
    sim.login("ann");
    let events = sim.reconfigure(config(vec![queue("sales", &["cat"])], &["cat"]));
    assert!(events.contains(&RoutingEvent::AgentStateChanged {
        agent: agent("ann"),
        from: AgentState::Ready,
        to: AgentState::LoggedOut,
        at: sim.now,
    }));
    assert!(sim.router.agent(&agent("ann")).is_none());
    assert_eq!(sim.state("cat"), Some(AgentState::LoggedOut));
    sim.assert_replay_matches();
}

#[test]
fn relaxation_is_re_evaluated_from_the_original_entry_time() {
    let mut sales = queue("sales", &["ann"]);
    sales.relaxation = vec![RelaxStep {
        after: Duration::from_secs(120),
        action: RelaxAction::LowerProficiency { by: 5 },
    }];
    let mut cfg = config(vec![sales.clone()], &["ann"]);
    let mut settings = AgentSettings::default();
    settings.skills.insert(SkillId::new("fr"), 3);
    cfg.agent_settings.insert(agent("ann"), settings);
    let mut sim = Sim::new(cfg.clone());
    sim.login("ann");
    let options = EnqueueOptions {
        required: vec![SkillRequirement::new("fr", 8)],
        ..EnqueueOptions::default()
    };
    assert!(offers(&sim.enqueue_with(1, "sales", options)).is_empty());
    sim.advance(Duration::from_secs(40));
    // The new first step is already due at 40 s of waiting: it applies at once.
    let mut faster = sales.clone();
    faster.relaxation = vec![
        RelaxStep {
            after: Duration::from_secs(30),
            action: RelaxAction::LowerProficiency { by: 5 },
        },
        RelaxStep {
            after: Duration::from_secs(90),
            action: RelaxAction::Exit,
        },
    ];
    cfg.queues = vec![faster];
    let events = sim.reconfigure(cfg.clone());
    let relaxed = RoutingEvent::CallRelaxed {
        call: CallId(1),
        queue: QueueId::new("sales"),
        step: 1,
    };
    assert_eq!(events.iter().filter(|e| **e == relaxed).count(), 1);
    assert_eq!(offers(&events), vec![(CallId(1), agent("ann"))]);
    // ann lets it ring out; the exit step is still due at 90 s from the original entry.
    sim.advance(Duration::from_secs(15));
    sim.cmd(Command::SetState {
        agent: agent("ann"),
        state: crate::agent_state::RequestedState::NotReady(NotReadyReason::Manual("x".into())),
    });
    let events = sim.advance(Duration::from_secs(60));
    let exit_wait = events.iter().find_map(|e| match e {
        RoutingEvent::CallExited { wait, reason, .. } => Some((*wait, *reason)),
        _ => None,
    });
    assert_eq!(
        exit_wait,
        Some((Duration::from_secs(90), ExitReason::RelaxationExit))
    );
    sim.assert_replay_matches();
}

#[test]
fn fewer_steps_undo_relaxation_and_the_step_count_is_reported() {
    let mut sales = queue("sales", &["ann"]);
    sales.relaxation = vec![RelaxStep {
        after: Duration::from_secs(10),
        action: RelaxAction::DropSkill {
            skill: SkillId::new("fr"),
        },
    }];
    let mut sim = Sim::new(config(vec![sales.clone()], &["ann"]));
    let options = EnqueueOptions {
        required: vec![SkillRequirement::new("fr", 8)],
        ..EnqueueOptions::default()
    };
    sim.enqueue_with(1, "sales", options);
    sim.advance(Duration::from_secs(20));
    assert_eq!(sim.router.call(CallId(1)).unwrap().relaxation_step, 1);
    sales.relaxation.clear();
    let events = sim.reconfigure(config(vec![sales], &["ann"]));
    assert!(events.contains(&RoutingEvent::CallRelaxed {
        call: CallId(1),
        queue: QueueId::new("sales"),
        step: 0,
    }));
    // The skill is required again: ann, without it, is offered nothing.
    assert!(offers(&sim.login("ann")).is_empty());
    assert_eq!(
        sim.replay.calls()[&CallId(1)].relaxation_step,
        sim.router.call(CallId(1)).unwrap().relaxation_step
    );
}

#[test]
fn a_new_max_wait_counts_from_the_original_entry_time() {
    let mut sim = Sim::new(config(vec![queue("sales", &["ann"])], &["ann"]));
    sim.enqueue(1, "sales");
    sim.advance(Duration::from_secs(40));
    sim.enqueue(2, "sales");
    sim.advance(Duration::from_secs(10));
    let own = EnqueueOptions {
        max_wait: Some(Duration::from_secs(300)),
        ..EnqueueOptions::default()
    };
    sim.enqueue_with(3, "sales", own);
    let mut sales = queue("sales", &["ann"]);
    sales.max_wait = Some(Duration::from_secs(30));
    let events = sim.reconfigure(config(vec![sales], &["ann"]));
    // Call 1 waited 50 s: past the new 30 s at once.
    assert!(events.contains(&RoutingEvent::CallExited {
        call: CallId(1),
        queue: QueueId::new("sales"),
        wait: Duration::from_secs(50),
        reason: ExitReason::MaxWait,
    }));
    // Call 2 waited 10 s: it exits 20 s later; call 3 keeps its own max wait.
    let events = sim.advance(Duration::from_secs(100));
    let exits: Vec<(CallId, Duration)> = events
        .iter()
        .filter_map(|e| match e {
            RoutingEvent::CallExited { call, wait, .. } => Some((*call, *wait)),
            _ => None,
        })
        .collect();
    assert_eq!(exits, vec![(CallId(2), Duration::from_secs(30))]);
    assert!(sim.router.call(CallId(3)).is_some());
}

#[test]
fn new_skills_and_a_new_queue_place_waiting_entries_at_once() {
    let mut sim = Sim::new(config(vec![queue("sales", &["ann"])], &["ann"]));
    sim.login("ann");
    let options = EnqueueOptions {
        required: vec![SkillRequirement::new("de", 5)],
        ..EnqueueOptions::default()
    };
    assert!(offers(&sim.enqueue_with(1, "sales", options)).is_empty());
    let mut cfg = config(
        vec![queue("sales", &["ann"]), queue("new", &["ann"])],
        &["ann"],
    );
    let mut settings = AgentSettings::default();
    settings.skills.insert(SkillId::new("de"), 6);
    cfg.agent_settings.insert(agent("ann"), settings);
    let events = sim.reconfigure(cfg);
    assert_eq!(offers(&events), vec![(CallId(1), agent("ann"))]);
    assert_eq!(
        sim.router.agent(&agent("ann")).unwrap().queues,
        &[QueueId::new("sales"), QueueId::new("new")]
    );
    assert!(sim.router.queue(&QueueId::new("new")).is_some());
}

#[test]
fn a_removed_agent_ringing_logs_out_at_once_and_the_entry_goes_to_another() {
    let mut sales = queue("sales", &["ann", "bob"]);
    sales.strategy = Strategy::Linear;
    let mut sim = Sim::new(config(vec![sales], &["ann", "bob"]));
    sim.login("ann");
    assert_eq!(
        offers(&sim.enqueue(1, "sales")),
        vec![(CallId(1), agent("ann"))]
    );
    sim.login("bob");
    let events = sim.reconfigure(config(vec![queue("sales", &["bob"])], &["bob"]));
    let ann_states: Vec<AgentState> = events
        .iter()
        .filter_map(|e| match e {
            RoutingEvent::AgentStateChanged { agent: a, to, .. } if *a == agent("ann") => {
                Some(to.clone())
            }
            _ => None,
        })
        .collect();
    assert_eq!(ann_states, vec![AgentState::LoggedOut]);
    assert!(events.contains(&RoutingEvent::OfferRevoked {
        call: CallId(1),
        agent: agent("ann"),
        reason: RevokeReason::Reconfigured,
    }));
    assert_eq!(offers(&events), vec![(CallId(1), agent("bob"))]);
    assert!(sim.router.agent(&agent("ann")).is_none());
    sim.assert_replay_matches();
}

mod random {
    //! Random commands with random reloads in between: the router stays consistent, no
    //! waiting entry is left beside a ready agent qualified for it, and replay keeps up.

    use std::time::Duration;

    use proptest::prelude::*;

    use super::{agent, queue, Sim};
    use crate::agent_state::AgentState;
    use crate::command::Command;
    use crate::config::{AgentSettings, EnqueueOptions, RelaxAction, RelaxStep, RouterConfig};
    use crate::ids::{CallId, QueueId};
    use crate::router::consistency::check;
    use crate::router::Phase;
    use crate::router::Router;
    use crate::skills::{SkillId, SkillRequirement};

    const AGENTS: [&str; 4] = ["ann", "bob", "cat", "dan"];
    const QUEUES: [&str; 3] = ["q0", "q1", "q2"];

    /// One generated configuration: which agents and queues exist, who serves what, skills.
    #[derive(Debug, Clone)]
    struct Shape {
        agents: [bool; 4],
        queues: [bool; 3],
        members: [[bool; 4]; 3],
        skill: [Option<u8>; 4],
        relax_after: [Option<u64>; 3],
        max_wait: [Option<u64>; 3],
        overflow: bool,
    }

    fn shape() -> impl Strategy<Value = Shape> {
        (
            prop::array::uniform4(any::<bool>()),
            prop::array::uniform3(any::<bool>()),
            prop::array::uniform3(prop::array::uniform4(any::<bool>())),
            prop::array::uniform4(prop::option::of(1u8..=10)),
            prop::array::uniform3(prop::option::of(1u64..60)),
            prop::array::uniform3(prop::option::of(5u64..120)),
            any::<bool>(),
        )
            .prop_map(
                |(agents, queues, members, skill, relax_after, max_wait, overflow)| Shape {
                    agents,
                    queues,
                    members,
                    skill,
                    relax_after,
                    max_wait,
                    overflow,
                },
            )
    }

    fn build(shape: &Shape) -> RouterConfig {
        let agents: Vec<&str> = AGENTS
            .iter()
            .zip(shape.agents)
            .filter(|(_, on)| *on)
            .map(|(a, _)| *a)
            .collect();
        let mut queues = Vec::new();
        for (q, name) in QUEUES.iter().enumerate() {
            // q0 always exists so overflow and calls have somewhere to go.
            if !shape.queues[q] && q != 0 {
                continue;
            }
            let members: Vec<&str> = AGENTS
                .iter()
                .enumerate()
                .filter(|(a, id)| shape.members[q][*a] && agents.contains(id))
                .map(|(_, id)| *id)
                .collect();
            let mut config = queue(name, &members);
            config.max_wait = shape.max_wait[q].map(Duration::from_secs);
            if let Some(after) = shape.relax_after[q] {
                let action = if shape.overflow && q != 0 {
                    RelaxAction::AddQueues {
                        queues: vec![QueueId::new("q0")],
                    }
                } else {
                    RelaxAction::LowerProficiency { by: 4 }
                };
                config.relaxation = vec![RelaxStep {
                    after: Duration::from_secs(after),
                    action,
                }];
            }
            queues.push(config);
        }
        let mut config = super::config(queues, &agents);
        for (a, id) in AGENTS.iter().enumerate() {
            if let (true, Some(level)) = (shape.agents[a], shape.skill[a]) {
                let mut settings = AgentSettings::default();
                settings.skills.insert(SkillId::new("s"), level);
                config.agent_settings.insert(agent(id), settings);
            }
        }
        config
    }

    #[derive(Debug, Clone)]
    enum Op {
        Login(usize),
        Logout(usize),
        Enqueue(usize, Option<u8>),
        Answer,
        Fail,
        End,
        Abandon,
        Advance(u64),
        Reload(Shape),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            3 => (0usize..4).prop_map(Op::Login),
            1 => (0usize..4).prop_map(Op::Logout),
            3 => (0usize..3, prop::option::of(1u8..=10)).prop_map(|(q, s)| Op::Enqueue(q, s)),
            2 => Just(Op::Answer),
            1 => Just(Op::Fail),
            2 => Just(Op::End),
            1 => Just(Op::Abandon),
            2 => (1u64..40).prop_map(Op::Advance),
            2 => shape().prop_map(Op::Reload),
        ]
    }

    /// No waiting entry is left while a ready agent qualifies for it.
    fn nothing_placeable(router: &Router) {
        for (id, call) in &router.calls {
            if !matches!(call.phase, Phase::Waiting) || call.kind.is_callback() {
                continue;
            }
            for (a, agent) in router.agents.iter().enumerate() {
                if agent.state == AgentState::Ready {
                    assert!(
                        !router.qualifies(*id, a),
                        "{id} waits while {} is ready and qualified",
                        agent.id
                    );
                }
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        #[test]
        fn random_reloads_keep_the_router_consistent(
            first in shape(),
            ops in prop::collection::vec(op(), 1..60),
        ) {
            let mut sim = Sim::new(build(&first));
            let mut next_call = 1u128;
            for op in ops {
                let now = sim.now;
                let first_call = |phase: fn(&Phase) -> bool, sim: &Sim| {
                    sim.router
                        .calls
                        .iter()
                        .find(|(_, c)| phase(&c.phase))
                        .map(|(id, c)| (*id, c.phase.clone()))
                };
                match op {
                    Op::Login(a) | Op::Logout(a) => {
                        let count = usize::from(matches!(op, Op::Login(_)));
                        let command = Command::ContactsChanged { agent: agent(AGENTS[a]), count };
                        let _ = sim.router.handle(now, command);
                    }
                    Op::Enqueue(q, skill) => {
                        let options = EnqueueOptions {
                            required: skill
                                .map(|s| vec![SkillRequirement::new("s", s)])
                                .unwrap_or_default(),
                            ..EnqueueOptions::default()
                        };
                        let command = Command::EnqueueWith {
                            call: CallId(next_call),
                            queue: QueueId::new(QUEUES[q]),
                            options,
                        };
                        next_call += 1;
                        let _ = sim.router.handle(now, command);
                    }
                    Op::Answer | Op::Fail => {
                        let offered = first_call(|p| matches!(p, Phase::Offered { .. }), &sim);
                        if let Some((call, Phase::Offered { agent: a })) = offered {
                            let agent = sim.router.agents[a].id.clone();
                            let command = if matches!(op, Op::Answer) {
                                Command::OfferAnswered { call, agent }
                            } else {
                                Command::OfferFailed {
                                    call,
                                    agent,
                                    cause: crate::command::OfferFailure::Busy,
                                }
                            };
                            sim.router.handle(now, command).unwrap();
                        }
                    }
                    Op::End | Op::Abandon => {
                        let connected = matches!(op, Op::End);
                        let found = first_call(
                            if connected {
                                |p: &Phase| matches!(p, Phase::Connected { .. })
                            } else {
                                |p: &Phase| matches!(p, Phase::Waiting | Phase::Offered { .. })
                            },
                            &sim,
                        );
                        if let Some((call, _)) = found {
                            sim.router.handle(now, Command::CallEnded { call }).unwrap();
                        }
                    }
                    Op::Advance(secs) => {
                        sim.advance(Duration::from_secs(secs));
                    }
                    Op::Reload(shape) => {
                        sim.router.reconfigure(now, build(&shape)).unwrap();
                    }
                }
                sim.drain();
                check(&sim.router);
                nothing_placeable(&sim.router);
                sim.assert_replay_matches();
            }
        }
    }
}
