//! hotline-routing: the call distribution core.
//!
//! A pure, deterministic state machine: the server's router task feeds it [`Command`]s and
//! timeouts with the current time, and carries out the [`RoutingEvent`]s it emits (invite an
//! agent, cancel an invitation, bridge a call) after writing them to the event log.
//!
//! ```
//! use std::time::{Duration, Instant};
//! use hotline_routing::*;
//!
//! let t0 = Instant::now();
//! let alice = AgentId::new("alice");
//! let sales = QueueId::new("sales");
//! let config = RouterConfig {
//!     queues: vec![QueueConfig {
//!         id: sales.clone(),
//!         members: vec![alice.clone()],
//!         ring_timeout: Duration::from_secs(15),
//!         wrap_up: Duration::from_secs(10),
//!         strategy: Strategy::LongestIdle,
//!         ..QueueConfig::default()
//!     }],
//!     agents: vec![alice.clone()],
//!     ..RouterConfig::default()
//! };
//! let mut router = Router::new(config, t0).unwrap();
//! router.handle(t0, Command::ContactsChanged { agent: alice.clone(), count: 1 }).unwrap();
//! router.handle(t0, Command::Enqueue { call: CallId(7), queue: sales }).unwrap();
//! let mut offered = None;
//! while let Some(event) = router.poll_event() {
//!     if let RoutingEvent::CallOffered { call, agent, .. } = event {
//!         offered = Some((call, agent));
//!     }
//! }
//! assert_eq!(offered, Some((CallId(7), alice)));
//! assert!(router.poll_timeout().is_some()); // the ring timeout
//! ```

mod agent_state;
mod command;
mod config;
mod event;
mod id_hash;
mod ids;
pub mod replay;
mod router;
pub mod sim;
mod skills;
mod timers;

pub use agent_state::{AgentState, NotReadyReason, RequestedState};
pub use command::{
    CallbackFailure, CallbackNumber, CallbackOwner, CallbackRequest, Command, CommandError,
    OfferFailure, MAX_RETRY_AFTER,
};
pub use config::{
    AgentSettings, ConfigError, EmptyRule, EnqueueOptions, QueueConfig, RelaxAction, RelaxStep,
    RouterConfig, ServiceLevelTarget, Strategy,
};
pub use event::{
    ExitReason, GiveUpReason, OfferReason, RejectReason, RequeueReason, RevokeReason, RoutingEvent,
};
pub use ids::{AgentId, CallId, QueueId};
pub use router::{AgentView, CallStatus, CallView, QueueView, Router};
pub use skills::{SkillId, SkillRequirement, Skills, MAX_PROFICIENCY, MIN_PROFICIENCY};
pub use timers::TimerReason;
