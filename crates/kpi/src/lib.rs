//! hotline-kpi: call-center KPIs computed from the event journal, exactly as defined in
//! `KPIS.md`, per queue and per agent, over live rolling windows and daily / weekly / monthly
//! rollups in each queue's time zone.
//!
//! [`KpiProjection`] is pure: it folds [`hotline_events::Event`]s (in journal order; duplicates
//! by node and `seq` are ignored) and never reads the clock; [`KpiProjection::snapshot`]
//! takes the wall-clock `now`. The snapshot is the JSON body of `GET /api/v1/kpis`, and
//! [`KpiSnapshot::prometheus_samples`] / [`render_prometheus`] turn it into gauges.
//!
//! How the server feeds it: replay the journal at start, then apply each event as it is
//! written, and serve snapshots from the same task (or behind a mutex):
//!
//! ```
//! use std::time::Duration;
//! use hotline_events::{Event, EventDraft, EventKind, Timestamp};
//! use hotline_kpi::{KpiConfig, KpiProjection, QueueKpiConfig, Window};
//! use time::macros::{datetime, offset};
//!
//! let mut config = KpiConfig::default();
//! config.queues.insert(
//!     "support".into(),
//!     QueueKpiConfig {
//!         service_level_threshold: Duration::from_secs(20),
//!         utc_offset: offset!(+8),
//!         short_abandon_threshold: None,
//!         callback_expiry: None,
//!     },
//! );
//! let mut kpis = KpiProjection::new(config);
//!
//! // In the server: `for ev in hotline_events::read_journal(dir)? { kpis.apply(&ev); }`,
//! // then `kpis.apply(&ev)` for each new event.
//! let t0 = datetime!(2026-11-23 10:00 UTC);
//! let call = uuid::Uuid::from_u128(1);
//! let at = |s: i64| Timestamp::from_datetime(t0 + time::Duration::seconds(s));
//! let events: Vec<Event> = vec![
//!     EventDraft::new(EventKind::CallQueued { position: 1 }).call(call).queue("support").at(at(0)),
//!     EventDraft::new(EventKind::CallAnswered { wait_ms: 12_000 }).call(call).queue("support")
//!         .agent("alice").at(at(12)),
//! ]
//! .into_iter()
//! .enumerate()
//! .map(|(i, d)| d.into_event(uuid::Uuid::now_v7(), i as u64 + 1, at(0), "hl-1"))
//! .collect();
//! for ev in &events {
//!     kpis.apply(ev);
//! }
//!
//! let snap = kpis.snapshot(at(60));
//! let support = &snap.queues["support"];
//! let last_15m = support.windows.iter().find(|w| w.window == Window::Rolling { seconds: 900 }).unwrap();
//! assert_eq!(last_15m.kpis.answered, 1);
//! assert_eq!(last_15m.kpis.service_level, Some(1.0));
//! assert_eq!(last_15m.kpis.asa_s, Some(12.0));
//! let body = serde_json::to_string(&snap).unwrap(); // GET /api/v1/kpis
//! let metrics = hotline_kpi::render_prometheus(&snap.prometheus_samples());
//! assert!(metrics.contains("hotline_kpi_queue_answered{queue=\"support\",window=\"last_15m\"} 1"));
//! # let _ = body;
//! ```
//!
//! ## Definitions (per window; T is the queue's service-level threshold)
//!
//! | KPI | computed as |
//! |---|---|
//! | offered | `call.queued` into the queue (IVR-only calls counted apart: [`CallCounts::ivr_only`]) |
//! | answered | `call.answered` of a queued call |
//! | abandoned | `call.abandoned` of a queued call; short when `wait_ms` < the short threshold |
//! | answer rate | answered / offered (short abandons removed from offered by default) |
//! | abandon rate | abandoned (not short) / offered (same denominator) |
//! | service level | answered with `wait_ms` <= T / (answered + abandoned with `wait_ms` > T); variants in [`ServiceLevelVariant`] |
//! | ASA | mean `wait_ms` of answered calls |
//! | rings to answer | mean (answer time - time of the answering agent's `call.offered`) / ring cycle |
//! | agent offers | `call.offered` to the agent; each ends answered (`call.answered` by that agent), failed (`call.offer_failed` naming that agent: no answer, busy, declined, unreachable, logged out, taken away by a reload) or withdrawn (another agent answered, or the call was abandoned or left the queue, while it rang; also a `call.offer_failed` with cause `caller_hung_up`) |
//! | agent answer rate | answered / (offers - withdrawn) |
//! | AHT | (talk + hold + wrap-up) / handled; talk = `call.answered` -> `call.ended` (with a post-call survey, -> the agent leaving `on_call`) minus hold (`call.held` -> `call.resumed`); wrap-up = agent `wrap_up` -> next state, counted for the queue of the agent's last answered call; handled = answered calls that ended |
//! | occupancy | (on call + wrap-up) / (ready + reserved + ringing + on call + wrap-up) |
//! | not-ready time | time in `not_ready` per `reason` ([`UNSPECIFIED_REASON`] when none) |
//! | surveys offered | `survey.completed` + `survey.skipped` (each post-call survey ends in one), for the event's queue and agent |
//! | survey responses | `survey.completed` |
//! | response rate | survey responses / surveys offered |
//! | satisfaction | mean `score` of `survey.answered` (every question of every survey, completed or not) |
//! | callback conversation | `callback.connected` (agent, queue) -> `call.ended` under the callback's call id: handled work of the agent and the queue (talk, hold, wrap-up, AHT), also counted apart in [`CallbackKpis`]; never offered or answered. The caller's own call (ended `callback_requested`) stays offered, neither answered nor abandoned |
//! | callbacks requested / scheduled | `callback.converted` or a first `callback.queued` of an in-queue callback / `callback.scheduled` |
//! | callbacks dialed, customer dialed, connected, failed | `callback.due`, `callback.dialing`, `callback.connected`, `callback.failed` (per cause) of the queue and the reserved agent |
//! | callbacks due | each callback once: when completed within its due window, or when the window was lost (completed late, `callback.missed_deadline`, given up); cancelled ones and scheduled ones the sampling rules left out are not due (as in the scheduler's stats) |
//! | callback completion | completed within the due window / due, with its band ([`CompletionBand`]: 100 / 95 / 80 / 75%); in-queue: within = connected by the original entry time + the queue's `callback_expiry` (no expiry: always within); scheduled: `within_deadline` of `callback.completed` |
//! | campaign call | an outbound campaign call handed to hotline (`call.outbound`, its first event; no `call.arrived`): its `call.queued`, `call.answered`, `call.abandoned` are never the queue's offered, answered or abandoned (nor in service level, ASA, rates); [`CampaignKpis`] counts it `queued` (`call.outbound` naming the queue), then `connected` (`call.answered`) or `abandoned` (`call.abandoned`, or not connected by its `call.ended`: the connect time ran out, the queue refused it), in the period of the hand-over. Its conversation is handled work of the agent and the queue (talk, hold, wrap-up, AHT, occupancy), also counted apart (`conversations`, campaign AHT); the agent's offers and answered include it. Agentless flows and machine answers are no agent work |
//! | campaign dials | `campaign.attempt_started` (dialed; taken back by a `campaign.held` with `trunk_busy`: the dial never left), then by `entry` and `attempt` its `campaign.picked_up` (answered) and `campaign.answered` (live: action `to_agent` and `live`; machine: verdict `machine`), counted in the period of the dial, in the queue of the campaign's `campaign.created` (`audience.agents.queue`); answer rate = answered / dialed |
//!
//! Ring-all queues offer one call to several agents at once: the journal then holds several
//! `call.offered` for the call, one `call.answered`, and a `call.offer_failed` for each agent
//! whose side failed (a 603, a ring timeout of all of them). The call counts once in the
//! queue's offered and answered; each rung agent counts one offer; the agents who lost the
//! race count a withdrawn offer, not a failed one, so their answer rate is not lowered by
//! calls they could not have taken. Rings to answer is the ringing time of the agent who
//! answered, which for ring-all is the caller's ringing time too (all phones start
//! together); a failed offer before the answer adds no rings. Offers are counted in the
//! bucket of the offer, and their outcome in the same bucket.
//!
//! Call outcomes count in the bucket or period the call entered the queue (so answered +
//! abandoned <= offered holds in every window); handling times where the work ended; state
//! time is split at bucket and local-midnight boundaries. Calls that left a queue otherwise
//! (max wait, overflow to another queue) stay offered without being answered or abandoned.
//! Rolling windows are whole buckets: "last 15 min" is the bucket holding `now` and the 14
//! before it.
//!
//! Time zones are fixed UTC offsets (`time::UtcOffset`); zones with daylight-saving time
//! need a tz database, which is not supported yet.

pub mod callbacks;
pub mod campaigns;
pub mod config;
mod counters;
pub mod projection;
pub mod prometheus;
pub mod report;
pub mod series;

pub use callbacks::{AgentCallbackKpis, CallbackKpis, CompletionBand};
pub use campaigns::{AgentCampaignKpis, CampaignKpis};
pub use config::{
    parse_utc_offset, KpiConfig, OffsetParseError, QueueKpiConfig, Retention, ServiceLevelVariant,
    ShortAbandonPolicy,
};
pub use projection::KpiProjection;
pub use prometheus::{render_prometheus, Sample};
pub use report::{
    AgentKpis, AgentReport, CallCounts, CallTotals, Definitions, KpiSnapshot, PeriodKpis,
    QueueKpis, QueueReport, StateTimes, Totals, Window, Windowed, UNSPECIFIED_REASON,
};
pub use series::Granularity;
