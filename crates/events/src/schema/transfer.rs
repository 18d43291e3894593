//! Payload types of the `transfer.*` events.

use serde::{Deserialize, Serialize};

/// Why a transfer to an outside number failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransferFailCause {
    /// The number matches no pattern of the trunk's allow-list: it was never dialed.
    RefusedByAllowList,
    /// The number has no E.164 form.
    InvalidNumber,
    /// No trunk of that name (or none named while several are configured).
    NoTrunk,
    /// The trunk is out of service after a 503, or its gateway could not be located.
    TrunkUnavailable,
    /// Every channel of the trunk is in use.
    ChannelLimit,
    /// The trunk's calls-per-second budget is spent.
    RateLimited,
    /// The far end is busy (486/600).
    Busy,
    /// Nobody answered within the node's timeout (or 408/480).
    NoAnswer,
    /// The far end or the network refused the call (603, 404 and other 4xx/6xx).
    Rejected,
    /// The trunk refused our credentials (a second challenge, or no credentials configured).
    AuthFailed,
    /// The trunk failed (5xx other than 503, no response, unusable answer).
    Failed,
    /// The caller hung up while the number rang.
    CallerHungUp,
}
