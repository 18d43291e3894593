//! The live RTP leg: one UDP socket and one tokio task per call party.
//!
//! [`RtpLeg::bind`] leases a port, binds the socket and spawns the task; the call task keeps the
//! cloneable [`RtpLegHandle`] and the [`LegEvent`] receiver. Commands travel over a channel; the
//! bridge does not: once two legs are bridged, each leg's receive loop rewrites the packet
//! (see [`crate::stream::relay_packet`]) into a stack buffer and sends it straight from the other
//! leg's socket to the other leg's remote. Per relayed packet that is one `recv_from`, one
//! uncontended mutex lock and one `send_to`, and no heap allocation.
//!
//! Symmetric RTP: the leg sends to the source address of the first RTP packet it receives, even
//! if the SDP said otherwise (NAT). It moves to a new source only after the latched one has been
//! silent for [`LegConfig::relatch_after`]; packets from other sources meanwhile are dropped and
//! counted. A new [`RtpLegHandle::set_remote`] clears the latch.
//!
//! Local playback wins over the bridge: while a prompt, music or generated DTMF plays on a leg,
//! packets relayed towards it are dropped, so the far end hears one thing at a time on one
//! continuous stream.
//!
//! Received telephone-events are both reported as [`LegEvent::Dtmf`] and, when bridged,
//! relayed to the other leg with its own telephone-event payload type (the call task decides
//! whether digits mean anything while bridged). Prompt pacing uses a 20 ms
//! `tokio::time::interval` with `MissedTickBehavior::Burst`, so a late wake-up sends the missed
//! frames at once and the RTP timestamps stay on the wall clock without drift.

mod task;

use crate::dtmf::DtmfGenerator;
use crate::ports::{PortLease, PortsExhausted, RtpPortAllocator};
use crate::prompt::{PlayMode, Prompt};
use crate::sdp::Negotiated;
use crate::stream::{LegFormat, OutboundStream};
use crate::tap::TapFrame;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use thiserror::Error;
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, oneshot};

/// Settings of a leg.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LegConfig {
    /// No RTP received for this long (while not on hold) raises [`LegEvent::Inactive`].
    pub inactivity_timeout: Duration,
    /// How long the latched source must be silent before another source may take over.
    pub relatch_after: Duration,
    /// Capacity of the event channel (events beyond it are dropped with a warning).
    pub event_capacity: usize,
}

impl Default for LegConfig {
    fn default() -> Self {
        LegConfig {
            inactivity_timeout: Duration::from_secs(30),
            relatch_after: Duration::from_secs(1),
            event_capacity: 64,
        }
    }
}

/// Something the call task must know about a leg.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LegEvent {
    /// The first RTP packet arrived (media is flowing).
    FirstPacket,
    /// A DTMF digit arrived as an RFC 4733 telephone-event (reported once per digit).
    Dtmf(char),
    /// A prompt started with [`RtpLegHandle::play`] in [`PlayMode::Once`] has played to the end
    /// (not sent after `stop_playback`, `silence`, `bridge_to`, or a newer `play`).
    PlaybackFinished,
    /// No RTP for [`LegConfig::inactivity_timeout`]; the call should be hung up. Raised once,
    /// re-armed by the next packet.
    Inactive,
}

/// A snapshot of a leg's counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LegStats {
    /// RTP packets received from the remote (latched source).
    pub rx_packets: u64,
    /// Bytes of those packets.
    pub rx_bytes: u64,
    /// RTP packets sent to the remote (prompts and relayed audio).
    pub tx_packets: u64,
    /// Bytes of those packets.
    pub tx_bytes: u64,
    /// RTCP packets received (ignored).
    pub rtcp_packets: u64,
    /// Datagrams that were not valid RTP.
    pub malformed_packets: u64,
    /// Packets from a source other than the latched one (dropped).
    pub foreign_packets: u64,
    /// Packets sent on towards the bridged leg.
    pub relayed_packets: u64,
    /// Packets that could not be sent (socket error).
    pub send_errors: u64,
    /// DTMF digits detected.
    pub dtmf_digits: u64,
    /// Audio frames dropped because the recording tap's channel was full.
    pub tap_dropped: u64,
}

/// Why a leg could not be created.
#[derive(Debug, Error)]
pub enum LegError {
    /// No RTP port left.
    #[error(transparent)]
    Ports(#[from] PortsExhausted),
    /// Binding the UDP socket failed (after trying several ports).
    #[error("cannot bind RTP socket on {ip}: {source}")]
    Bind {
        /// The address we tried to bind.
        ip: IpAddr,
        /// The last bind error.
        source: std::io::Error,
    },
}

/// The leg's task has ended (closed); the command was not delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("the RTP leg is closed")]
pub struct LegClosed;

#[derive(Debug, Default)]
struct Counters {
    rx_packets: AtomicU64,
    rx_bytes: AtomicU64,
    tx_packets: AtomicU64,
    tx_bytes: AtomicU64,
    rtcp_packets: AtomicU64,
    malformed_packets: AtomicU64,
    foreign_packets: AtomicU64,
    relayed_packets: AtomicU64,
    send_errors: AtomicU64,
    dtmf_digits: AtomicU64,
    tap_dropped: AtomicU64,
}

fn bump(counter: &AtomicU64, by: u64) {
    counter.fetch_add(by, Ordering::Relaxed);
}

/// The sending side of a leg: touched by its own task (prompts) and by the bridged leg's task
/// (relayed packets), hence the mutex; it is held only to compute a header, never across I/O.
#[derive(Debug)]
struct Outbound {
    stream: OutboundStream,
    format: Option<LegFormat>,
    sdp_remote: Option<SocketAddr>,
    latched: Option<SocketAddr>,
    direction_sends: bool,
    held: bool,
    muted: bool,
    local_playing: bool,
}

impl Outbound {
    /// Where packets for this leg go, if anything may be sent to it at all.
    fn destination(&self) -> Option<SocketAddr> {
        if !self.direction_sends || self.held {
            return None;
        }
        self.latched
            .or(self.sdp_remote)
            .filter(|a| !a.ip().is_unspecified() && a.port() != 0)
    }

    /// Where relayed packets for this leg go (not while muted or playing locally).
    fn relay_destination(&self) -> Option<(SocketAddr, LegFormat)> {
        if self.muted || self.local_playing {
            return None;
        }
        Some((self.destination()?, self.format?))
    }
}

/// State shared between a leg's task, its handles, and the bridged leg's task.
#[derive(Debug)]
struct Shared {
    socket: UdpSocket,
    local: SocketAddr,
    out: Mutex<Outbound>,
    counters: Counters,
}

impl Shared {
    fn out(&self) -> MutexGuard<'_, Outbound> {
        // Outbound holds plain data updated without panicking paths; a poisoned lock still
        // holds a consistent value.
        self.out.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn stats(&self) -> LegStats {
        let c = &self.counters;
        let r = |a: &AtomicU64| a.load(Ordering::Relaxed);
        LegStats {
            rx_packets: r(&c.rx_packets),
            rx_bytes: r(&c.rx_bytes),
            tx_packets: r(&c.tx_packets),
            tx_bytes: r(&c.tx_bytes),
            rtcp_packets: r(&c.rtcp_packets),
            malformed_packets: r(&c.malformed_packets),
            foreign_packets: r(&c.foreign_packets),
            relayed_packets: r(&c.relayed_packets),
            send_errors: r(&c.send_errors),
            dtmf_digits: r(&c.dtmf_digits),
            tap_dropped: r(&c.tap_dropped),
        }
    }

    async fn send(&self, packet: &[u8], to: SocketAddr) {
        match self.socket.send_to(packet, to).await {
            Ok(n) => {
                bump(&self.counters.tx_packets, 1);
                bump(&self.counters.tx_bytes, n as u64);
            }
            Err(e) => {
                bump(&self.counters.send_errors, 1);
                tracing::debug!(%to, error = %e, "RTP send failed");
            }
        }
    }
}

/// A leg as seen by its bridged partner.
#[derive(Debug, Clone)]
struct PeerLink {
    shared: Arc<Shared>,
    commands: mpsc::WeakUnboundedSender<Command>,
}

#[derive(Debug)]
enum Command {
    SetRemote(Negotiated),
    Play(Arc<Prompt>, PlayMode),
    SendDtmf(DtmfGenerator),
    StopPlayback,
    Silence,
    Bridge(PeerLink),
    Unbridge,
    PeerGone,
    SetHold(bool),
    SetTap(Option<(u8, mpsc::Sender<TapFrame>)>),
    Barrier(oneshot::Sender<()>),
    Close,
}

/// Why a digit could not be queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum SendDtmfError {
    /// Not one of 0-9, *, #, A-D.
    #[error("`{0}` is not a DTMF digit")]
    NotADigit(char),
    /// The leg is closed.
    #[error("the RTP leg is closed")]
    Closed,
}

/// Creates legs.
#[derive(Debug)]
pub struct RtpLeg;

/// How many leased ports to try when a bind fails (port taken by another process).
const BIND_ATTEMPTS: usize = 16;

impl RtpLeg {
    /// Leases a port, binds `ip:port` and spawns the leg's task on the current tokio runtime.
    ///
    /// Returns the handle and the event receiver. The task ends on [`RtpLegHandle::close`] or
    /// when every handle is dropped; the port returns to the pool then.
    pub async fn bind(
        ip: IpAddr,
        ports: &RtpPortAllocator,
        config: LegConfig,
    ) -> Result<(RtpLegHandle, mpsc::Receiver<LegEvent>), LegError> {
        let mut last_error = None;
        for _ in 0..BIND_ATTEMPTS {
            let lease = ports.allocate()?;
            match UdpSocket::bind(SocketAddr::new(ip, lease.port())).await {
                Ok(socket) => return Self::spawn(socket, lease, config),
                Err(e) => last_error = Some(e),
            }
        }
        Err(LegError::Bind {
            ip,
            source: last_error.unwrap_or_else(|| std::io::Error::other("no port tried")),
        })
    }

    fn spawn(
        socket: UdpSocket,
        lease: PortLease,
        config: LegConfig,
    ) -> Result<(RtpLegHandle, mpsc::Receiver<LegEvent>), LegError> {
        let local = socket.local_addr().map_err(|source| LegError::Bind {
            ip: IpAddr::from([0, 0, 0, 0]),
            source,
        })?;
        let now = tokio::time::Instant::now().into_std();
        let shared = Arc::new(Shared {
            socket,
            local,
            out: Mutex::new(Outbound {
                stream: OutboundStream::random(now),
                format: None,
                sdp_remote: None,
                latched: None,
                direction_sends: true,
                held: false,
                muted: false,
                local_playing: false,
            }),
            counters: Counters::default(),
        });
        let (cmd_tx, cmd_rx) = mpsc::unbounded_channel();
        let (event_tx, event_rx) = mpsc::channel(config.event_capacity.max(1));
        let handle = RtpLegHandle {
            shared: Arc::clone(&shared),
            commands: cmd_tx,
        };
        let task = task::LegTask::new(shared, event_tx, config, lease);
        tokio::spawn(task.run(cmd_rx));
        Ok((handle, event_rx))
    }
}

/// Cloneable handle to a running leg.
#[derive(Debug, Clone)]
pub struct RtpLegHandle {
    shared: Arc<Shared>,
    commands: mpsc::UnboundedSender<Command>,
}

impl RtpLegHandle {
    fn send(&self, command: Command) -> Result<(), LegClosed> {
        self.commands.send(command).map_err(|_| LegClosed)
    }

    /// The bound local address (put its port in our SDP).
    pub fn local_addr(&self) -> SocketAddr {
        self.shared.local
    }

    /// Applies the result of offer/answer: remote address, codec, DTMF PT and direction.
    /// Clears the symmetric-RTP latch.
    pub fn set_remote(&self, negotiated: Negotiated) -> Result<(), LegClosed> {
        self.send(Command::SetRemote(negotiated))
    }

    /// Plays a prompt to this leg in 20 ms frames, replacing any current playback; in `Once`
    /// mode [`LegEvent::PlaybackFinished`] follows the last frame.
    pub fn play(&self, prompt: Arc<Prompt>, mode: PlayMode) -> Result<(), LegClosed> {
        self.send(Command::Play(prompt, mode))
    }

    /// Sends `digit` to the remote as RFC 4733 telephone-events lasting `duration` (100 ms is
    /// usual); digits queue up and play in order, pausing any prompt meanwhile. Nothing is sent
    /// if the leg negotiated no telephone-event.
    pub fn send_dtmf(&self, digit: char, duration: Duration) -> Result<(), SendDtmfError> {
        let generator =
            DtmfGenerator::new(digit, duration).ok_or(SendDtmfError::NotADigit(digit))?;
        self.send(Command::SendDtmf(generator))
            .map_err(|LegClosed| SendDtmfError::Closed)
    }

    /// Stops the current playback (no event); bridged audio, if any, resumes.
    pub fn stop_playback(&self) -> Result<(), LegClosed> {
        self.send(Command::StopPlayback)
    }

    /// Stops playback and mutes relayed audio towards this leg until the next `play` or
    /// `bridge_to`.
    pub fn silence(&self) -> Result<(), LegClosed> {
        self.send(Command::Silence)
    }

    /// Bridges this leg and `other` both ways, stopping playback on both. A previous bridge of
    /// either leg is undone first.
    pub fn bridge_to(&self, other: &RtpLegHandle) -> Result<(), LegClosed> {
        self.send(Command::Bridge(other.link()))?;
        other.send(Command::Bridge(self.link()))
    }

    /// Undoes this leg's bridge (both directions).
    pub fn unbridge(&self) -> Result<(), LegClosed> {
        self.send(Command::Unbridge)
    }

    /// Puts the leg on hold (nothing is sent to it; inactivity is not checked) or resumes it.
    pub fn set_hold(&self, held: bool) -> Result<(), LegClosed> {
        self.send(Command::SetHold(held))
    }

    /// Copies every audio packet received on this leg, labelled `channel`, to `frames` (bounded;
    /// frames are dropped and counted in [`LegStats::tap_dropped`] when it is full); `None`
    /// stops the tap. Typically the caller leg with channel 0 and the agent leg with channel 1
    /// share one sender feeding the recording writer.
    pub fn set_tap(&self, tap: Option<(u8, mpsc::Sender<TapFrame>)>) -> Result<(), LegClosed> {
        self.send(Command::SetTap(tap))
    }

    /// A snapshot of the leg's counters.
    pub fn stats(&self) -> LegStats {
        self.shared.stats()
    }

    /// The SSRC of the leg's outgoing stream (constant for its life).
    pub fn ssrc(&self) -> u32 {
        self.shared.out().stream.ssrc()
    }

    /// Waits until every command sent before has been applied by the leg's task.
    pub async fn barrier(&self) -> Result<(), LegClosed> {
        let (tx, rx) = oneshot::channel();
        self.send(Command::Barrier(tx))?;
        rx.await.map_err(|_| LegClosed)
    }

    /// Ends the leg: unbridges, stops, releases the socket and port.
    pub fn close(&self) -> Result<(), LegClosed> {
        self.send(Command::Close)
    }

    fn link(&self) -> PeerLink {
        PeerLink {
            shared: Arc::clone(&self.shared),
            commands: self.commands.downgrade(),
        }
    }
}

#[cfg(test)]
mod tests;
