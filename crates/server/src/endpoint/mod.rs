//! The SIP endpoint task: the one owner of the transport, the transaction tables, the dialog
//! directory and the registrar. It parses what arrives, answers what it can itself (REGISTER,
//! OPTIONS, errors) and hands call signaling to call tasks; call tasks send through it.

mod inbound;
mod outbound;
mod sender;
mod transactions;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use hotline_events::EventSink;
use hotline_media::ports::RtpPortAllocator;
use hotline_sip::dialog::{Dialog, DialogState};
use hotline_sip::message::{Method, Request, Response};
use hotline_sip::transaction::TransactionKey;
use hotline_sip::transport::{Inbound, Target, TransportConfig};
use tokio::sync::{mpsc, watch};

use crate::call::CallInput;
use crate::config::Config;
use crate::dialplan_reload::DialplanHolder;
use crate::location::LocationStore;
use crate::metrics::Metrics;
use crate::prompts::PromptLibrary;
use crate::registrar::Registrar;
use crate::router_task::RouterHandle;

pub use inbound::{add_to_tag_if_missing, ALLOW, SUPPORTED};
pub use outbound::{in_dialog_request, our_contact, our_via, LegRef};
pub use sender::SipSender;
use transactions::Transactions;

/// Everything the endpoint needs.
pub struct EndpointSettings {
    /// The configuration.
    pub config: Arc<Config>,
    /// Data folder (registrations file).
    pub data_dir: PathBuf,
    /// The dialplan calls start with (each call takes the version running at its start).
    pub dialplan: DialplanHolder,
    /// Prompts.
    pub prompts: Arc<PromptLibrary>,
    /// RTP ports.
    pub ports: Arc<RtpPortAllocator>,
    /// The routing task.
    pub router: RouterHandle,
    /// The event journal.
    pub events: EventSink,
    /// Metrics.
    pub metrics: Metrics,
    /// Becomes true on shutdown: new calls are refused with 503.
    pub shutdown: watch::Receiver<bool>,
    /// Call recording.
    pub recordings: Arc<crate::recording::Recordings>,
}

/// What call tasks ask the endpoint to do.
pub enum EndpointCommand {
    /// Send a response on a server transaction.
    Respond {
        /// The transaction.
        key: TransactionKey,
        /// The response.
        response: Response,
    },
    /// Send a request on a new client transaction; responses go to `owner`.
    Request {
        /// The request (Via with a fresh branch already on top).
        request: Request,
        /// Where to send it.
        target: Target,
        /// Who gets the responses.
        owner: Owner,
    },
    /// Send a 2xx ACK (not a transaction).
    Ack {
        /// The ACK.
        request: Request,
        /// Where to send it.
        target: Target,
    },
    /// Route in-dialog requests with this Call-ID and local tag to a call task.
    AddDialog {
        /// Call-ID.
        call_id: String,
        /// Our tag.
        local_tag: String,
        /// The call task.
        owner: mpsc::UnboundedSender<CallInput>,
    },
    /// Forget a dialog.
    RemoveDialog {
        /// Call-ID.
        call_id: String,
        /// Our tag.
        local_tag: String,
    },
}

/// Who gets the responses of a client transaction.
#[derive(Clone)]
pub struct Owner {
    /// The call task.
    pub tx: mpsc::UnboundedSender<CallInput>,
    /// Which of its legs (and which fork) sent the request.
    pub leg: LegRef,
}

/// A cloneable handle call tasks use to send.
#[derive(Clone)]
pub struct EndpointHandle {
    tx: mpsc::UnboundedSender<EndpointCommand>,
    /// Our SIP address as put in Via and Contact.
    pub advertised: SocketAddr,
}

impl EndpointHandle {
    /// Queues a command; if the endpoint is gone the call is ending anyway.
    pub fn send(&self, cmd: EndpointCommand) {
        let _ = self.tx.send(cmd);
    }

    /// Ends `dialog` with a BYE to `target`, its responses going to `owner`; false when the
    /// dialog is already over or no BYE could be built from it.
    pub fn send_bye(&self, dialog: &mut Dialog, target: Target, owner: Owner) -> bool {
        if dialog.state() == DialogState::Terminated {
            return false;
        }
        let Ok(fields) = dialog.next_request("BYE") else {
            return false;
        };
        dialog.terminate();
        let Some(request) = in_dialog_request(&fields, Method::Bye, self.advertised, &target)
        else {
            return false;
        };
        self.send(EndpointCommand::Request {
            request,
            target,
            owner,
        });
        true
    }
}

/// Shared by the endpoint and call tasks.
pub struct Shared {
    /// The configuration.
    pub config: Arc<Config>,
    /// The dialplan (each call takes the version running at its start).
    pub dialplan: DialplanHolder,
    /// Prompts.
    pub prompts: Arc<PromptLibrary>,
    /// RTP ports.
    pub ports: Arc<RtpPortAllocator>,
    /// The routing task.
    pub router: RouterHandle,
    /// The event journal.
    pub events: EventSink,
    /// Metrics.
    pub metrics: Metrics,
    /// Agent bindings.
    pub locations: Arc<Mutex<LocationStore>>,
    /// Calls in progress.
    pub active_calls: AtomicUsize,
    /// Sends through the endpoint.
    pub endpoint: EndpointHandle,
    /// Our SIP transport, for sending.
    pub transport: SipSender,
    /// Data folder (voicemail messages are written under `voicemail/`).
    pub data_dir: PathBuf,
    /// The speech synthesizer of `say` nodes that speak text.
    pub tts: Arc<crate::tts::Tts>,
    /// SIP trunks for transfers (and whose P-Asserted-Identity is trusted).
    pub trunks: crate::trunk::Trunks,
    /// Call recording.
    pub recordings: Arc<crate::recording::Recordings>,
}

/// The running endpoint.
pub struct Endpoint {
    shared: Arc<Shared>,
    local_addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Endpoint {
    /// Binds the SIP listen address (UDP and TCP) and starts the endpoint task.
    pub async fn start(settings: EndpointSettings) -> Result<Self> {
        let config = settings.config.clone();
        let bound =
            hotline_sip::transport::Transport::bind(config.sip_listen, TransportConfig::default())
                .await
                .with_context(|| format!("binding SIP {}", config.sip_listen))?;
        let local_addr = bound.local_addr();
        let (handle, inbound) = bound.into_parts();
        let transport = SipSender::spawn(handle);
        let advertised = SocketAddr::new(config.media_ip(), local_addr.port());
        let now_unix = unix_now();
        let locations =
            LocationStore::load(&settings.data_dir.join("registrations.json"), now_unix)?;
        let (tx, rx) = mpsc::unbounded_channel();
        let tts = Arc::new(crate::tts::Tts::new(
            config.tts.clone(),
            settings.metrics.clone(),
        ));
        let trunks = crate::trunk::Trunks::new(&config.trunks, &settings.metrics);
        let shared = Arc::new(Shared {
            config: config.clone(),
            dialplan: settings.dialplan,
            prompts: settings.prompts,
            ports: settings.ports,
            router: settings.router,
            events: settings.events,
            metrics: settings.metrics,
            locations: Arc::new(Mutex::new(locations)),
            active_calls: AtomicUsize::new(0),
            endpoint: EndpointHandle { tx, advertised },
            transport: transport.clone(),
            data_dir: settings.data_dir.clone(),
            tts,
            trunks,
            recordings: settings.recordings,
        });
        shared.trunks.keep_located();
        shared
            .router
            .set_callback_dialer(crate::call::spawn_callback_dialer(shared.clone()));
        #[cfg(debug_assertions)]
        crate::call::start_test_campaign_calls(&shared);
        // Agents registered before a restart are ready again.
        {
            let store = lock(&shared.locations);
            for (agent, count) in store.counts() {
                shared.router.contacts_changed(agent, count);
            }
        }
        let registrar = Registrar::new(&config);
        let task = EndpointTask {
            shared: shared.clone(),
            inbound,
            commands: rx,
            transactions: Transactions::default(),
            dialogs: HashMap::new(),
            registrar,
            shutdown: settings.shutdown,
            draining: false,
        };
        let task = tokio::spawn(task.run());
        Ok(Self {
            shared,
            local_addr,
            task,
        })
    }

    /// The bound SIP address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// What call tasks share (campaign calls are started with it).
    pub fn shared(&self) -> Arc<Shared> {
        self.shared.clone()
    }

    /// Waits for calls in progress to end, up to `grace`; then ends the rest.
    pub async fn drain(self, grace: Duration) {
        let deadline = tokio::time::Instant::now() + grace;
        while self.shared.active_calls.load(Ordering::SeqCst) > 0
            && tokio::time::Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let left = self.shared.active_calls.load(Ordering::SeqCst);
        if left > 0 {
            tracing::warn!(calls = left, "grace period over: ending remaining calls");
            crate::call::end_all_calls();
            let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
            while self.shared.active_calls.load(Ordering::SeqCst) > 0
                && tokio::time::Instant::now() < deadline
            {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
        self.task.abort();
    }
}

struct EndpointTask {
    shared: Arc<Shared>,
    inbound: mpsc::Receiver<Inbound>,
    commands: mpsc::UnboundedReceiver<EndpointCommand>,
    transactions: Transactions,
    dialogs: HashMap<(String, String), mpsc::UnboundedSender<CallInput>>,
    registrar: Registrar,
    shutdown: watch::Receiver<bool>,
    draining: bool,
}

impl EndpointTask {
    async fn run(mut self) {
        let mut expiry = tokio::time::interval(Duration::from_secs(1));
        expiry.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let deadline = self.transactions.poll_timeout();
            let timer = async {
                match deadline {
                    Some(at) => tokio::time::sleep_until(at.into()).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                biased;
                cmd = self.commands.recv() => {
                    let Some(cmd) = cmd else { break };
                    self.handle_command(cmd);
                }
                msg = self.inbound.recv() => {
                    let Some(msg) = msg else { break };
                    self.handle_inbound(msg);
                }
                () = timer => {
                    self.transactions.handle_timeout(Instant::now(), &self.shared);
                }
                _ = expiry.tick() => {
                    self.expire_registrations();
                }
                changed = self.shutdown.changed(), if !self.draining => {
                    if changed.is_err() || *self.shutdown.borrow() {
                        self.draining = true;
                    }
                }
            }
        }
    }

    fn handle_command(&mut self, cmd: EndpointCommand) {
        let now = Instant::now();
        match cmd {
            EndpointCommand::Respond { key, response } => {
                self.transactions.respond(now, &key, response, &self.shared);
            }
            EndpointCommand::Request {
                request,
                target,
                owner,
            } => {
                self.transactions
                    .send_request(now, request, target, owner, &self.shared);
            }
            EndpointCommand::Ack { request, target } => {
                self.shared
                    .metrics
                    .count_request("ACK", crate::metrics::Direction::Out);
                self.shared
                    .transport
                    .send(target, bytes::Bytes::from(request.to_bytes()));
            }
            EndpointCommand::AddDialog {
                call_id,
                local_tag,
                owner,
            } => {
                self.dialogs.insert((call_id, local_tag), owner);
            }
            EndpointCommand::RemoveDialog { call_id, local_tag } => {
                self.dialogs.remove(&(call_id, local_tag));
            }
        }
    }

    fn expire_registrations(&mut self) {
        let changed = lock(&self.shared.locations).expire(unix_now());
        if changed.is_empty() {
            return;
        }
        for (agent, count) in changed {
            tracing::info!(%agent, contacts = count, "registration expired");
            self.shared.router.contacts_changed(&agent, count);
            if count == 0 {
                self.shared.events.emit(
                    hotline_events::EventDraft::new(hotline_events::EventKind::AgentUnregistered)
                        .agent(agent),
                );
            }
        }
        if let Err(e) = lock(&self.shared.locations).save() {
            tracing::error!("saving registrations: {e:#}");
        }
    }
}

/// Locks a mutex, recovering the data if a panicking thread poisoned it (the store stays usable:
/// every mutation is a complete step).
pub fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Unix time in seconds, for registration expiry (survives restarts).
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
