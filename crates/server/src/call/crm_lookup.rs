//! An `http` node's CRM lookup: performed beside the call task (which keeps serving the call),
//! its result fed back to the executor; and the attached data as the agent's screen sees it.

use std::time::Instant;

use hotline_dialplan::{HttpFailure, HttpRequest};

use super::{Call, CallInput};

impl Call {
    /// Starts the lookup; its result comes back as [`CallInput::LookupDone`].
    pub(super) fn start_lookup(&mut self, request: HttpRequest) {
        let settings = self.shared.config.crm.clone();
        let tx = self.self_tx.clone();
        tracing::debug!(node = %request.node, method = request.method.name(), "CRM lookup");
        tokio::spawn(async move {
            let result = crate::crm::lookup(&settings, &request).await;
            if let Err(failure) = &result {
                tracing::warn!(node = %request.node, "CRM lookup failed: {failure}");
            }
            // The call may have ended meanwhile: nobody listens any more.
            let _ = tx.send(CallInput::LookupDone(result));
        });
    }

    /// The lookup finished: the executor maps the answer or takes `on_failure`.
    pub(super) fn lookup_done(&mut self, result: Result<serde_json::Value, HttpFailure>) {
        if let Some(ivr) = self.ivr.as_mut() {
            ivr.handle_http(Instant::now(), result);
            self.drive_ivr();
        }
    }

    /// The `X-Hotline-Data` header of offers to agents: the attached data as a JSON object
    /// (control characters escaped, so it stays one header line); `None` when nothing is attached.
    pub(super) fn screen_pop_header(&self) -> Option<String> {
        (!self.attached.is_empty())
            .then(|| serde_json::to_string(&self.attached).unwrap_or_default())
    }
}
