//! A `transfer` node's dial to an outside number: the caller is bridged to it through a SIP
//! trunk, or the executor hears that the dial failed.

use std::time::{Duration, Instant};

use hotline_dialplan::IvrInput;

use super::Call;

impl Call {
    /// Dials `number` through `trunk` (the default trunk when `None`), ringing at most
    /// `timeout`. Without trunk support every dial fails, so the node's `failed` branch runs.
    pub(super) fn dial_out(&mut self, number: String, trunk: Option<String>, timeout: Duration) {
        // The number may be a person's: it is not logged.
        let _ = number;
        tracing::warn!(
            trunk = trunk.as_deref().unwrap_or("default"),
            timeout_s = timeout.as_secs(),
            "no trunk support: transfer failed"
        );
        if let Some(ivr) = self.ivr.as_mut() {
            ivr.handle(Instant::now(), IvrInput::DialFailed);
            self.drive_ivr();
        }
    }
}
