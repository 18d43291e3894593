//! hotline-campaigns: the outbound callback scheduler core.
//!
//! A pure, deterministic state machine with the clock passed in (no tokio, sockets, files or
//! clock reads): scheduled callbacks with due windows ("within 24 h", "after 14:00 local", "5
//! working days" in a business calendar), priorities that rise toward the deadline, deadline
//! warnings and `missed_deadline`, sampling rules ("50% of the month's complaints, all marked
//! major"), calling windows in the customer's local time (DST-correct; an unknown zone is never
//! dialed), a do-not-call list checked at dial time, caller ID per queue, agent-first pacing
//! within free agents and dials per minute, retries per SIP outcome, and recovery by replaying
//! its own events. See [`Scheduler`] for the driver's loop.
//!
//! # Events and the server's event log
//!
//! [`CallbackEvent`] is this crate's own enum (JSON tagged `type`, snake_case). The driver writes
//! each one to the journal before acting on it, and [`Scheduler::restore`] needs all of them
//! back, so every variant must be journaled with its fields. Against `hotline-events`' existing
//! `callback.*` kinds: `attempt_started` is `callback.due` (attempt; agent as `agent_id`),
//! `completed` is `callback.connected` (wait from `created`), `cancelled` is
//! `callback.cancelled`, `attempt_ended` of a failed attempt is `callback.failed` (busy,
//! no_answer; invalid_number, rejected and network_failure would fold into `unreachable` unless
//! causes are added; `retry_after_ms` is `retry_at - at`), `given_up` is `callback.given_up`
//! (`attempts_exhausted`, `expired`; `not_sampled`, `do_not_call` and `invalid_number` are new
//! reasons). `created` (with the due window, zone and sampling decision), `held`,
//! `time_zone_set`, `claimed`, `claim_released`, `deadline_warning` and `missed_deadline` have
//! no counterpart yet: new `callback.*` kinds carrying these fields.
//!
//! ```
//! use hotline_campaigns::*;
//! use std::time::Duration;
//!
//! let support = QueueName::new("support");
//! let mut config = SchedulerConfig::default();
//! config.queues.insert(support.clone(), QueueSettings::default());
//! let mut s = Scheduler::new(config).unwrap();
//! // 10:00 in Shanghai.
//! let now: jiff::Timestamp = "2026-12-07T02:00:00Z".parse().unwrap();
//! s.handle(now, Command::Create(Box::new(NewCallback {
//!     id: CallbackId(1),
//!     number: E164::parse("+8613800138000").unwrap(),
//!     time_zone: Some(Zone::new("Asia/Shanghai").unwrap()),
//!     reason: "complaint".into(),
//!     attributes: Default::default(),
//!     queue: support.clone(),
//!     skills: vec![],
//!     priority: 0,
//!     due: DueSpec { deadline: Some(Deadline::Within(Duration::from_secs(86_400))), ..DueSpec::default() },
//! }))).unwrap();
//! let free = Capacity { free_agents: [(support, 1)].into(), total: None };
//! assert_eq!(s.dispatch(now, &free, &NoDnc), 1);
//! let dial = s.agent_reserved(now, CallbackId(1), AgentName::new("alice"), &NoDnc).unwrap();
//! let Reservation::Dial(order) = dial else { panic!() };
//! let answered = classify(FinalResponse { status: 200, retry_after: None, reason: None, cancelled_by_us: false });
//! s.handle(now, Command::Outcome { id: order.id, attempt: order.attempt, outcome: answered }).unwrap();
//! let types: Vec<_> = std::iter::from_fn(|| s.poll_event()).map(|e| e.type_name()).collect();
//! assert_eq!(types, ["created", "claimed", "attempt_started", "attempt_ended", "completed"]);
//! ```

pub mod calendar;
pub mod campaign;
mod command;
pub mod config;
pub mod due;
mod event;
mod ids;
pub mod list;
mod number;
pub mod outcome;
pub mod pacing;
pub mod sampling;
mod scheduler;
mod state;
pub mod time;
pub mod window;

pub use calendar::BusinessCalendar;
pub use command::{Command, CommandError, NewCallback};
pub use config::{ConfigError, QueueSettings, RetryPolicy, RetryRule, SchedulerConfig, MIN_RING};
pub use due::{Deadline, DueSpec, DueWindow};
pub use event::{CallbackEvent, CallbackSpec, GiveUpReason, HoldReason, ReleaseReason};
pub use ids::{AgentName, BadCallbackId, CallbackId, QueueName, SkillName};
pub use number::{NumberError, E164};
pub use outcome::{classify, DialOutcome, FinalResponse, OutcomeKind};
pub use scheduler::{
    Capacity, DialOrder, DoNotCall, ListFilter, NoDnc, Reservation, Scheduler, Stats, TimerReason,
};
pub use state::{Book, Callback, CallbackState, StateKind};
pub use time::{LocalTime, Zone};
pub use window::{CallingWindow, Days, WindowSpan};
