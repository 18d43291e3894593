//! Outbound pacing: how many calls a campaign dials now, under a jurisdiction's abandonment
//! rules.
//!
//! - [`DialMode`]: preview, progressive, predictive (at least
//!   [`PacerConfig::min_agents_predictive`] agents, else progressive; progressive too while
//!   it warms up, until [`PacerConfig::warmup_resolved_dials`] dials have an outcome),
//!   agentless.
//! - [`JurisdictionProfile`]: what counts as abandoned (a person's answer not connected to an
//!   agent within [`JurisdictionProfile::connect_within`]), the cap, its rolling window, and
//!   the no-redial period after an abandon (UK: 72 h).
//! - [`AbandonLedger`]: one campaign's live-answered and abandoned calls over the window, exact
//!   at its edges, and the numbers barred from redial.
//! - [`Pacer`]: from the measured answer rate, handle-time models, agents free and about to be
//!   free, calls ringing and the abandon rate so far, the number of calls to start now.
//! - [`OutboundEligibility`]: blending, inbound first.
//!
//! The driver calls [`Pacer::decide`] whenever an agent frees up, a call is answered or
//! fails, and on a short tick (the ages of busy agents move the forecast); it dials the number
//! returned, records each person's answer in the ledger ([`AbandonLedger::record_connected`]
//! or, after [`JurisdictionProfile::connect_within`] with no agent,
//! [`AbandonLedger::record_abandoned`] while the customer hears the caller's name and a number
//! to call back), and checks [`AbandonLedger::may_dial`] before each dial.

mod blend;
mod ledger;
mod model;
mod pacer;
mod profile;
#[cfg(test)]
mod sim;

pub use blend::{InboundHold, InboundLevel, OutboundEligibility};
pub use ledger::{AbandonLedger, AbandonStats};
pub use model::{LogNormal, LogNormalEstimate};
pub use pacer::{
    BusyAgent, Pacer, PacerConfig, PacerConfigError, PacingDecision, PacingInput, PacingReason,
    DEFAULT_WARMUP_LIVE_ANSWERS, DEFAULT_WARMUP_RESOLVED_DIALS,
};
pub use profile::{DialMode, JurisdictionProfile, ProfileError};
