//! Invariants on random event sequences (including nonsensical orders and duplicates), calls,
//! callbacks (in-queue and scheduled) and outbound campaign calls mixed.

mod support;

use hotline_events::{AgentState, EventDraft, EventKind, OfferFailCause};
use hotline_kpi::{
    KpiConfig, KpiProjection, KpiSnapshot, QueueKpiConfig, ServiceLevelVariant, ShortAbandonPolicy,
};
use proptest::prelude::*;
use serde_json::json;
use support::{call, kind as kind_of, Journal};
use time::macros::datetime;

const QUEUES: [&str; 2] = ["support", "sales"];
const AGENTS: [&str; 3] = ["alice", "bob", "carol"];
const STATES: [AgentState; 7] = [
    AgentState::LoggedOut,
    AgentState::Ready,
    AgentState::Reserved,
    AgentState::Ringing,
    AgentState::OnCall,
    AgentState::WrapUp,
    AgentState::NotReady,
];

/// One random step: (kind, call, queue, agent, state/reason pick, advance in ms, wait in ms).
type Step = (u8, u8, u8, u8, u8, u32, u32);

fn journal(steps: &[Step]) -> Journal {
    let mut j = Journal::new(datetime!(2026-11-23 15:30 UTC));
    let mut t = 0i64;
    for &(kind, c, q, a, s, dt, wait) in steps {
        t += i64::from(dt);
        let (c, q, a) = (
            call(u128::from(c % 6)),
            QUEUES[q as usize % 2],
            AGENTS[a as usize % 3],
        );
        let wait = u64::from(wait);
        let at = |ms: i64| j.at(ms);
        let draft = match kind % 18 {
            0 => EventDraft::new(EventKind::CallArrived {
                from: "1".into(),
                to: "2".into(),
            })
            .call(c),
            1 => EventDraft::new(EventKind::CallQueued { position: 1 })
                .call(c)
                .queue(q),
            2 => EventDraft::new(EventKind::CallOffered {
                ring_timeout_ms: 1,
                data: Default::default(),
            })
            .call(c)
            .queue(q)
            .agent(a),
            3 => EventDraft::new(EventKind::CallOfferFailed {
                cause: OfferFailCause::NoAnswer,
            })
            .call(c)
            .queue(q)
            .agent(a),
            4 => EventDraft::new(EventKind::CallAnswered { wait_ms: wait })
                .call(c)
                .queue(q)
                .agent(a),
            5 => EventDraft::new(EventKind::CallAbandoned {
                wait_ms: wait,
                position: None,
            })
            .call(c)
            .queue(q),
            6 => EventDraft::new(EventKind::CallHeld).call(c),
            7 => EventDraft::new(EventKind::CallResumed).call(c),
            8 => EventDraft::new(EventKind::CallEnded {
                reason: if s % 4 == 0 {
                    hotline_events::EndReason::CallbackRequested
                } else {
                    hotline_events::EndReason::Completed
                },
                hung_up_by: hotline_events::HungUpBy::Agent,
                duration_ms: 0,
            })
            .call(c),
            10 => EventDraft::new(kind_of(json!({
                "type": if s % 3 == 0 { "callback.queued" } else { "callback.converted" },
                "number": "+8613800000000",
                "entered_at": at(t - i64::try_from(wait).unwrap_or(0)),
                "position": 1,
            })))
            .call(c)
            .queue(q),
            11 => EventDraft::new(kind_of(json!({"type": "callback.due", "attempt": 1})))
                .call(c)
                .queue(q)
                .agent(a),
            12 => EventDraft::new(kind_of(
                json!({"type": "callback.connected", "wait_ms": wait}),
            ))
            .call(c)
            .queue(q)
            .agent(a),
            13 => EventDraft::new(kind_of(json!({
                "type": "callback.failed",
                "cause": (["busy", "no_answer", "agent_unavailable"][s as usize % 3]),
                "attempts": 1,
                "retry_after_ms": 1,
            })))
            .call(c)
            .queue(q)
            .agent(a),
            14 => {
                let end = if s % 2 == 0 {
                    json!({"type": "callback.given_up", "wait_ms": wait, "reason": "expired"})
                } else {
                    json!({"type": "callback.cancelled", "wait_ms": wait})
                };
                EventDraft::new(kind_of(end)).call(c).queue(q)
            }
            15 => {
                let deadline = at(t + i64::try_from(wait).unwrap_or(0));
                let kind = match s % 5 {
                    0 => json!({
                        "type": "callback.scheduled", "callback_id": c, "number": "+8613800000000",
                        "reason": "r", "not_before": at(t), "deadline": deadline,
                    }),
                    1 => {
                        json!({"type": "callback.missed_deadline", "callback_id": c, "deadline": deadline})
                    }
                    2 => json!({
                        "type": "callback.completed", "callback_id": c, "attempt": 1,
                        "within_deadline": s % 2 == 0,
                    }),
                    3 => json!({
                        "type": "callback.scheduled_given_up", "callback_id": c,
                        "reason": (["not_sampled", "attempts_exhausted"][s as usize % 2]), "attempts": 1,
                    }),
                    _ => json!({"type": "callback.scheduled_cancelled", "callback_id": c}),
                };
                EventDraft::new(kind_of(kind)).queue(q)
            }
            // An outbound campaign call: to a queue's agents, or an agentless flow.
            16 => {
                let flow = (s % 4 == 0).then(|| "9001".to_owned());
                let draft = EventDraft::new(EventKind::CallOutbound {
                    campaign: format!("c{}", s % 2),
                    entry: u64::from(s),
                    attempt: 1,
                    flow: flow.clone(),
                })
                .call(c);
                if flow.is_some() {
                    draft
                } else {
                    draft.queue(q)
                }
            }
            // The campaign engine's events (the campaign's queue from its creation).
            17 => {
                let campaign = format!("c{}", s % 2);
                let entry = u64::from(c.as_u128() as u8 % 3);
                EventDraft::new(kind_of(match s % 5 {
                    0 => json!({"type": "campaign.created", "campaign": campaign,
                        "spec": {"audience": {"agents": {"queue": q}}}}),
                    1 => json!({"type": "campaign.attempt_started", "campaign": campaign,
                        "entry": entry, "attempt": 1}),
                    2 => json!({"type": "campaign.picked_up", "campaign": campaign,
                        "entry": entry, "attempt": 1}),
                    3 => json!({"type": "campaign.answered", "campaign": campaign,
                        "entry": entry, "attempt": 1,
                        "verdict": (["human", "machine"][s as usize / 5 % 2]),
                        "action": {"to_agent": {"live": s % 10 < 5}}}),
                    _ => json!({"type": "campaign.attempt_ended", "campaign": campaign,
                        "entry": entry, "attempt": 1}),
                }))
            }
            _ => EventDraft::new(EventKind::AgentStateChanged {
                from: STATES[s as usize % 7],
                to: STATES[(s as usize / 7) % 7],
                reason: (s % 3 == 0).then(|| ["lunch", "break"][s as usize % 2].to_owned()),
            })
            .agent(a),
        };
        j.push(t, draft);
    }
    j
}

fn check(snap: &KpiSnapshot) -> Result<(), TestCaseError> {
    let unit = |x: Option<f64>| x.is_none_or(|v| (0.0..=1.0).contains(&v));
    let total = ("totals".to_owned(), snap.totals.queues.clone());
    let queues = snap
        .queues
        .iter()
        .map(|(n, q)| (n.clone(), q.windows.clone()));
    for (name, windows) in queues.chain(std::iter::once(total)) {
        for w in &windows {
            let k = &w.kpis;
            prop_assert!(
                k.answered + k.abandoned <= k.offered,
                "{name} {:?}: {k:?}",
                w.window
            );
            prop_assert!(k.short_abandoned <= k.abandoned);
            prop_assert!(k.answered_within_threshold <= k.answered);
            prop_assert!(k.abandoned_after_threshold <= k.abandoned);
            prop_assert!(
                unit(k.answer_rate) && unit(k.abandon_rate) && unit(k.service_level),
                "{k:?}"
            );
            prop_assert!(k.asa_s.is_none_or(|v| v >= 0.0));
            prop_assert!(k.aht_s.is_none_or(|v| v >= 0.0));
            let cb = &k.callbacks;
            prop_assert!(cb.completed_within_due_window <= cb.due, "{cb:?}");
            prop_assert!(cb.completed_within_due_window <= cb.completed, "{cb:?}");
            prop_assert!(unit(cb.completion), "{cb:?}");
            prop_assert_eq!(cb.failed_by_cause.values().sum::<u64>(), cb.failed);
            prop_assert!(cb.handled <= k.handled && cb.talk_ms <= k.talk_ms, "{k:?}");
            let cp = &k.campaigns;
            prop_assert!(cp.connected + cp.abandoned <= cp.queued, "{cp:?}");
            prop_assert!(unit(cp.abandon_rate) && unit(cp.answer_rate), "{cp:?}");
            prop_assert!(cp.answered <= cp.dialed, "{cp:?}");
            prop_assert!(cp.live_answers + cp.machine_answers <= cp.dialed, "{cp:?}");
            prop_assert!(
                cb.handled + cp.conversations <= k.handled
                    && cp.talk_ms <= k.talk_ms
                    && cp.wrap_up_ms <= k.wrap_up_ms,
                "{k:?}"
            );
        }
    }
    let agents = snap.agents.values().map(|a| a.windows.clone());
    for windows in agents.chain(std::iter::once(snap.totals.agents.clone())) {
        for w in &windows {
            let k = &w.kpis;
            prop_assert!(k.answered <= k.offers, "{k:?}");
            // Each offer ends at most once: answered, failed or withdrawn.
            prop_assert!(
                k.answered + k.offers_failed + k.offers_withdrawn <= k.offers,
                "{k:?}"
            );
            prop_assert!(unit(k.answer_rate) && unit(k.occupancy), "{k:?}");
            prop_assert_eq!(k.not_ready_ms.values().sum::<u64>(), k.state_ms.not_ready);
            prop_assert!(
                k.callbacks.handled + k.campaigns.conversations <= k.handled,
                "{k:?}"
            );
            prop_assert!(k.campaigns.connected <= k.answered, "{k:?}");
            prop_assert!(
                k.campaigns.talk_ms <= k.talk_ms && k.campaigns.wrap_up_ms <= k.wrap_up_ms,
                "{k:?}"
            );
            prop_assert_eq!(
                k.callbacks.failed_by_cause.values().sum::<u64>(),
                k.callbacks.failed
            );
        }
    }
    Ok(())
}

fn configs() -> impl Strategy<Value = KpiConfig> {
    (0u8..4, any::<bool>()).prop_map(|(v, inc)| KpiConfig {
        service_level: [
            ServiceLevelVariant::AbandonedAfterThreshold,
            ServiceLevelVariant::AbandonedExceptShort,
            ServiceLevelVariant::AllAbandons,
            ServiceLevelVariant::NoAbandons,
        ][v as usize],
        short_abandons: if inc {
            ShortAbandonPolicy::Included
        } else {
            ShortAbandonPolicy::Excluded
        },
        // In-queue callbacks of support are due within 30 s of their entry.
        queues: [(
            "support".to_owned(),
            QueueKpiConfig {
                callback_expiry: Some(std::time::Duration::from_secs(30)),
                ..QueueKpiConfig::default()
            },
        )]
        .into(),
        ..KpiConfig::default()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn counts_and_rates_stay_consistent_in_every_window(
        config in configs(),
        steps in prop::collection::vec(
            (any::<u8>(), any::<u8>(), any::<u8>(), any::<u8>(), any::<u8>(), 0u32..400_000, 0u32..60_000),
            0..200,
        ),
        probes in prop::collection::vec(0i64..200_000_000, 1..4),
    ) {
        let j = journal(&steps);
        let p = KpiProjection::from_events(config.clone(), &j.events);
        for probe in probes {
            check(&p.snapshot(j.at(probe)))?;
        }
    }

    #[test]
    fn replay_is_deterministic_and_duplicates_change_nothing(
        steps in prop::collection::vec(
            (any::<u8>(), any::<u8>(), any::<u8>(), any::<u8>(), any::<u8>(), 0u32..400_000, 0u32..60_000),
            0..150,
        ),
        dup in prop::collection::vec(any::<bool>(), 150),
    ) {
        let j = journal(&steps);
        let a = KpiProjection::from_events(KpiConfig::default(), &j.events);
        let b = KpiProjection::from_events(KpiConfig::default(), &j.events);
        let mut c = KpiProjection::new(KpiConfig::default());
        for (i, ev) in j.events.iter().enumerate() {
            c.apply(ev);
            if dup[i % dup.len()] {
                c.apply(ev);
            }
        }
        let end = j.at(steps.iter().map(|s| i64::from(s.5)).sum::<i64>() + 1_000);
        let sa = a.snapshot(end);
        prop_assert_eq!(&sa, &b.snapshot(end));
        prop_assert_eq!(&sa, &c.snapshot(end));
        let json_a = serde_json::to_string(&sa).expect("serializes");
        prop_assert_eq!(json_a, serde_json::to_string(&c.snapshot(end)).expect("serializes"));
    }
}
