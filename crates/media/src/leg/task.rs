//! The task that owns one leg: receive loop, bridge hot path, prompt pacing, inactivity.

use super::{bump, Command, LegConfig, LegEvent, PeerLink, Shared};
use crate::dtmf::{DtmfDetector, DtmfGenerator};
use crate::ports::PortLease;
use crate::prompt::{PromptPlayer, FRAME_SAMPLES};
use crate::rtp::{is_rtcp, RtpPacket, HEADER_LEN};
use crate::sdp::Codec;
use crate::stream::{relay_packet, LegFormat, PayloadKind};
use crate::tap::TapFrame;
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::{interval, Instant, Interval, MissedTickBehavior};

/// Largest datagram we read; RTP for G.711 is 172 bytes, anything longer than this is truncated
/// by the OS and then rejected by the parser or relayed short.
const RECV_BUFFER: usize = 2048;
/// Prompt frame period.
const FRAME_PERIOD: Duration = Duration::from_millis(20);

/// Symmetric-RTP latch: the source we accept media from and send to.
#[derive(Debug, Default)]
struct Latch {
    source: Option<SocketAddr>,
    last_rx: Option<Instant>,
}

pub(super) struct LegTask {
    shared: Arc<Shared>,
    events: mpsc::Sender<LegEvent>,
    config: LegConfig,
    _lease: PortLease,
    format: Option<LegFormat>,
    receives: bool,
    held: bool,
    peer: Option<PeerLink>,
    tap: Option<(u8, mpsc::Sender<TapFrame>)>,
    player: Option<PromptPlayer>,
    dtmf: VecDeque<DtmfGenerator>,
    ticker: Interval,
    detector: DtmfDetector,
    latch: Latch,
    seen_first: bool,
    last_rx: Instant,
    inactive_reported: bool,
}

/// What a prompt tick produced.
enum TickOutcome {
    Finished,
    Send(usize, SocketAddr),
    Nothing,
}

/// What woke the task.
enum Wake {
    Datagram(std::io::Result<(usize, SocketAddr)>),
    Command(Option<Command>),
    Tick,
    InactivityCheck,
}

impl LegTask {
    pub(super) fn new(
        shared: Arc<Shared>,
        events: mpsc::Sender<LegEvent>,
        config: LegConfig,
        lease: PortLease,
    ) -> Self {
        LegTask {
            shared,
            events,
            config,
            _lease: lease,
            format: None,
            receives: true,
            held: false,
            peer: None,
            tap: None,
            player: None,
            dtmf: VecDeque::new(),
            ticker: new_ticker(),
            detector: DtmfDetector::new(),
            latch: Latch::default(),
            seen_first: false,
            last_rx: Instant::now(),
            inactive_reported: false,
        }
    }

    pub(super) async fn run(mut self, mut commands: mpsc::UnboundedReceiver<Command>) {
        let mut recv = [0u8; RECV_BUFFER];
        let mut send = [0u8; RECV_BUFFER + HEADER_LEN];
        let inactivity = tokio::time::sleep_until(self.last_rx + self.config.inactivity_timeout);
        tokio::pin!(inactivity);
        loop {
            let checking = !self.inactive_reported && !self.held && self.receives;
            let wake = tokio::select! {
                r = self.shared.socket.recv_from(&mut recv) => Wake::Datagram(r),
                c = commands.recv() => Wake::Command(c),
                _ = self.ticker.tick(), if self.local_active() => Wake::Tick,
                _ = &mut inactivity, if checking => Wake::InactivityCheck,
            };
            match wake {
                Wake::Datagram(Ok((len, from))) => {
                    self.on_datagram(&recv[..len], from, &mut send).await;
                }
                Wake::Datagram(Err(e)) => {
                    // ICMP port unreachable surfaces here on some platforms; not fatal.
                    tracing::debug!(error = %e, "RTP receive error");
                }
                Wake::Command(None) | Wake::Command(Some(Command::Close)) => break,
                Wake::Command(Some(command)) => self.on_command(command),
                Wake::Tick => self.on_tick(&mut send).await,
                Wake::InactivityCheck => {
                    let deadline = self.last_rx + self.config.inactivity_timeout;
                    if Instant::now() >= deadline {
                        self.inactive_reported = true;
                        self.emit(LegEvent::Inactive);
                    } else {
                        inactivity.as_mut().reset(deadline);
                    }
                }
            }
        }
        self.detach_peer(true);
    }

    fn emit(&self, event: LegEvent) {
        if let Err(e) = self.events.try_send(event) {
            tracing::warn!(?event, error = %e, "RTP leg event dropped");
        }
    }

    async fn on_datagram(&mut self, datagram: &[u8], from: SocketAddr, send: &mut [u8]) {
        if is_rtcp(datagram) {
            bump(&self.shared.counters.rtcp_packets, 1);
            return;
        }
        let Ok(packet) = RtpPacket::parse(datagram) else {
            bump(&self.shared.counters.malformed_packets, 1);
            return;
        };
        let now = Instant::now();
        if !self.accept_source(from, now) {
            bump(&self.shared.counters.foreign_packets, 1);
            return;
        }
        bump(&self.shared.counters.rx_packets, 1);
        bump(&self.shared.counters.rx_bytes, datagram.len() as u64);
        self.last_rx = now;
        self.inactive_reported = false;
        if !self.seen_first {
            self.seen_first = true;
            self.emit(LegEvent::FirstPacket);
        }
        let Some(format) = self.format else { return };
        match format.classify(packet.header.payload_type) {
            PayloadKind::TelephoneEvent => {
                if let Some(digit) = self.detector.on_packet(
                    packet.header.ssrc,
                    packet.header.timestamp,
                    packet.payload,
                ) {
                    bump(&self.shared.counters.dtmf_digits, 1);
                    self.emit(LegEvent::Dtmf(digit));
                }
            }
            PayloadKind::Audio(codec) => {
                if let Some((channel, frames)) = &self.tap {
                    let frame = TapFrame::new(
                        *channel,
                        now.into_std(),
                        packet.header.timestamp,
                        packet.header.ssrc,
                        codec,
                        packet.payload,
                    );
                    if frames.try_send(frame).is_err() {
                        bump(&self.shared.counters.tap_dropped, 1);
                    }
                }
            }
            PayloadKind::Other => {}
        }
        if !self.receives {
            return;
        }
        let Some(peer) = &self.peer else { return };
        let relayed = {
            let mut out = peer.shared.out();
            match out.relay_destination() {
                Some((to, to_format)) => relay_packet(
                    &mut out.stream,
                    now.into_std(),
                    &format,
                    &to_format,
                    &packet,
                    send,
                )
                .map(|len| (len, to)),
                None => None,
            }
        };
        if let Some((len, to)) = relayed {
            bump(&self.shared.counters.relayed_packets, 1);
            peer.shared.send(&send[..len], to).await;
        }
    }

    /// Symmetric RTP: latch to the first source, move only after it has been silent.
    fn accept_source(&mut self, from: SocketAddr, now: Instant) -> bool {
        let accept = match (self.latch.source, self.latch.last_rx) {
            (Some(current), _) if current == from => true,
            (Some(_), Some(last)) => now.duration_since(last) >= self.config.relatch_after,
            _ => true,
        };
        if accept {
            if self.latch.source != Some(from) {
                tracing::debug!(%from, "RTP source latched");
                self.latch.source = Some(from);
                self.shared.out().latched = Some(from);
            }
            self.latch.last_rx = Some(now);
        }
        accept
    }

    /// Whether a local source (prompt or generated DTMF) is feeding the stream.
    fn local_active(&self) -> bool {
        self.player.is_some() || !self.dtmf.is_empty()
    }

    /// Mirrors `local_active` into the shared state: relayed audio is held back while a local
    /// source plays, and the stream starts a new spurt when the local source stops.
    fn sync_local(&self) {
        let active = self.local_active();
        let mut out = self.shared.out();
        if out.local_playing && !active {
            out.stream.silence();
        }
        out.local_playing = active;
    }

    async fn on_tick(&mut self, send: &mut [u8]) {
        let now = Instant::now().into_std();
        let outcome = if let Some(generator) = self.dtmf.front_mut() {
            // Generated DTMF takes precedence; a prompt pauses meanwhile.
            let packet = generator.next_packet();
            let mut out = self.shared.out();
            match packet {
                None => {
                    self.dtmf.pop_front();
                    TickOutcome::Nothing
                }
                Some(p) => match (out.format.and_then(|f| f.dtmf_pt), out.destination()) {
                    (Some(pt), Some(to)) => {
                        let header = out.stream.next_event(now, pt, p.first, p.duration);
                        header
                            .write_packet(&p.payload, send)
                            .map_or(TickOutcome::Nothing, |len| TickOutcome::Send(len, to))
                    }
                    _ => TickOutcome::Nothing,
                },
            }
        } else if let Some(player) = self.player.as_mut() {
            let mut frame = [0u8; FRAME_SAMPLES];
            let mut out = self.shared.out();
            // Before negotiation the prompt keeps its pace without being sent.
            let codec = out.format.map_or(Codec::Pcmu, |f| f.codec);
            if !player.next_frame(codec, &mut frame) {
                TickOutcome::Finished
            } else {
                match (out.format, out.destination()) {
                    (Some(format), Some(to)) => {
                        let header =
                            out.stream
                                .next_local(now, format.codec_pt, FRAME_SAMPLES as u32);
                        header
                            .write_packet(&frame, send)
                            .map_or(TickOutcome::Nothing, |len| TickOutcome::Send(len, to))
                    }
                    _ => TickOutcome::Nothing,
                }
            }
        } else {
            return;
        };
        match outcome {
            TickOutcome::Finished => {
                self.player = None;
                self.emit(LegEvent::PlaybackFinished);
            }
            TickOutcome::Send(len, to) => self.shared.send(&send[..len], to).await,
            TickOutcome::Nothing => {}
        }
        self.sync_local();
    }

    /// Stops the prompt (and, with `dtmf`, pending generated digits).
    fn stop_local(&mut self, dtmf: bool) {
        self.player = None;
        if dtmf {
            self.dtmf.clear();
        }
        self.sync_local();
    }

    fn on_command(&mut self, command: Command) {
        match command {
            Command::SetRemote(negotiated) => {
                self.format = Some(LegFormat::from(&negotiated));
                self.receives = negotiated.direction.receives();
                // A new offer/answer restarts the inactivity clock.
                self.last_rx = Instant::now();
                self.inactive_reported = false;
                self.latch = Latch::default();
                let mut out = self.shared.out();
                out.format = self.format;
                out.sdp_remote = Some(negotiated.remote);
                out.latched = None;
                out.direction_sends = negotiated.direction.sends();
                out.stream.silence();
            }
            Command::Play(prompt, mode) => {
                if self.dtmf.is_empty() {
                    self.ticker = new_ticker();
                }
                self.player = Some(PromptPlayer::new(prompt, mode));
                self.shared.out().muted = false;
                self.sync_local();
            }
            Command::SendDtmf(generator) => {
                if !self.local_active() {
                    self.ticker = new_ticker();
                }
                self.dtmf.push_back(generator);
                self.sync_local();
            }
            Command::StopPlayback => self.stop_local(false),
            Command::Silence => {
                self.stop_local(true);
                let mut out = self.shared.out();
                out.muted = true;
                out.stream.silence();
            }
            Command::Bridge(peer) => {
                self.detach_peer(true);
                self.stop_local(true);
                self.shared.out().muted = false;
                self.peer = Some(peer);
            }
            Command::Unbridge => self.detach_peer(true),
            Command::PeerGone => self.detach_peer(false),
            Command::SetHold(held) => {
                self.held = held;
                if !held {
                    // Resume: give the remote a full timeout to start sending again.
                    self.last_rx = Instant::now();
                    self.inactive_reported = false;
                }
                let mut out = self.shared.out();
                out.held = held;
                out.stream.silence();
            }
            Command::SetTap(tap) => self.tap = tap,
            Command::Barrier(done) => {
                let _ = done.send(());
            }
            Command::Close => {}
        }
    }

    /// Drops the bridge; `notify` tells the peer to drop its side too.
    fn detach_peer(&mut self, notify: bool) {
        if let Some(peer) = self.peer.take() {
            if notify {
                if let Some(commands) = peer.commands.upgrade() {
                    let _ = commands.send(Command::PeerGone);
                }
            }
            // Our outgoing stream was fed by the peer: the next packet starts a new spurt.
            self.shared.out().stream.silence();
        }
    }
}

fn new_ticker() -> Interval {
    // Burst: after a late wake-up the missed frames go out at once, so the RTP timestamps
    // (contiguous, +160 per frame) stay aligned with the wall clock; Skip would let the
    // stream fall behind real time and Delay would accumulate drift.
    let mut ticker = interval(FRAME_PERIOD);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Burst);
    ticker
}
