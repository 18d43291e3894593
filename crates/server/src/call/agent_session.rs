//! RFC 4028 session timers on the agent leg: hotline asks to be the refresher; when the agent's
//! answer agrees, hotline re-INVITEs at half the interval (retrying after glare, RFC 3261 14.1),
//! and otherwise expects the agent's refreshes and ends a session that lapses.

use std::time::{Duration, Instant};

use hotline_events::{EndReason, HungUpBy};
use hotline_media::Direction;
use hotline_sip::message::{Method, Response};

use super::{sdp, Call};
use crate::endpoint::{in_dialog_request, EndpointCommand, LegRef, Owner};

/// RFC 4028 on the agent leg: who refreshes, and when something is due.
#[derive(Debug, Clone, Copy)]
pub(super) struct AgentSession {
    pub(super) interval: u32,
    /// hotline refreshes (the agent's 2xx named `refresher=uac`).
    pub(super) we_refresh: bool,
    /// When to send the next refresh (we refresh) or when the session expires (agent refreshes).
    pub(super) due: Instant,
}

/// The client-transaction tag of a refresh re-INVITE (forks are 0..N).
pub(super) const REFRESH: u32 = u32::MAX - 1;

/// When a session timer is due: half the interval for our refresh (RFC 4028 10), or the
/// interval less a margin of a third (at most 32 s) for the peer's.
pub(super) fn session_due(interval: u32, we_refresh: bool) -> Instant {
    let interval = Duration::from_secs(u64::from(interval));
    let wait = if we_refresh {
        interval / 2
    } else {
        interval - (interval / 3).min(Duration::from_secs(32))
    };
    Instant::now() + wait
}

impl Call {
    /// The agent leg's session timer fired: refresh, retry after glare, or end an expired session.
    pub(super) fn agent_session_timer(&mut self) {
        let Some(a) = self.agent.as_mut() else { return };
        let Some(session) = a.session else { return };
        if !session.we_refresh {
            tracing::info!("the agent's phone stopped refreshing the session: hanging up");
            self.hang_up_all(EndReason::Error, HungUpBy::System);
            return;
        }
        // Not due again until the refresh is answered (or fails).
        a.session = Some(AgentSession {
            due: Instant::now() + Duration::from_secs(u64::from(session.interval)),
            ..session
        });
        let (Some(d), Some((_, target))) = (a.dialog.as_mut(), a.answered) else {
            return;
        };
        let Ok(fields) = d.next_request("INVITE") else {
            return;
        };
        let Some(mut reinvite) = in_dialog_request(
            &fields,
            Method::Invite,
            self.shared.endpoint.advertised,
            &target,
        ) else {
            return;
        };
        let body = a.sdp.offer(&sdp::capabilities(), Direction::SendRecv);
        reinvite
            .headers_mut()
            .push("Supported", crate::endpoint::SUPPORTED);
        reinvite.headers_mut().push(
            "Session-Expires",
            format!("{};refresher=uac", session.interval),
        );
        reinvite.set_body("application/sdp", body.into_bytes());
        a.reinvite_pending = Some(fields.cseq);
        tracing::debug!(cseq = fields.cseq, "refreshing the agent session");
        self.shared.endpoint.send(EndpointCommand::Request {
            request: reinvite,
            target,
            owner: Owner {
                tx: self.self_tx.clone(),
                leg: LegRef::Agent {
                    offer: a.offer,
                    fork: REFRESH,
                },
            },
        });
    }

    /// The answer to our refresh re-INVITE.
    pub(super) fn refresh_response(&mut self, resp: &Response) {
        let status = resp.status();
        let Some(a) = self.agent.as_mut() else { return };
        if status < 200 {
            return;
        }
        let cseq = a.reinvite_pending.take();
        match status {
            200..=299 => {
                if let (Some(d), Some((_, target)), Some(cseq)) =
                    (a.dialog.as_ref(), a.answered, cseq)
                {
                    let fields = d.ack_request(cseq);
                    if let Some(ack) = in_dialog_request(
                        &fields,
                        Method::Ack,
                        self.shared.endpoint.advertised,
                        &target,
                    ) {
                        self.shared.endpoint.send(EndpointCommand::Ack {
                            request: ack,
                            target,
                        });
                    }
                }
                let answer = String::from_utf8_lossy(resp.body()).into_owned();
                if let Ok(neg) = sdp::accept_answer(&a.sdp, &answer) {
                    let _ = a.media.set_remote(neg);
                }
                let interval = resp
                    .headers()
                    .session_expires()
                    .map_or(a.session.map_or(90, |s| s.interval), |se| {
                        se.delta_seconds.max(90)
                    });
                a.session = Some(AgentSession {
                    interval,
                    we_refresh: true,
                    due: session_due(interval, true),
                });
            }
            491 => {
                // Glare: we own the Call-ID, so retry after 2.1 to 4 s (RFC 3261 14.1).
                let wait = Duration::from_millis(2100 + u64::from(rand::random::<u16>() % 1900));
                if let Some(s) = a.session.as_mut() {
                    s.due = Instant::now() + wait;
                }
                tracing::debug!(?wait, "refresh met glare: retrying");
            }
            408 | 481 => {
                tracing::info!(status, "agent session refresh failed: hanging up");
                self.hang_up_all(EndReason::Error, HungUpBy::System);
            }
            _ => {
                // Other failures leave the session as it was (RFC 4028 10); try again later.
                if let Some(s) = a.session.as_mut() {
                    s.due = session_due(s.interval, true);
                }
            }
        }
    }
}
