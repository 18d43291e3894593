//! Wiring: loads config and dialplan, starts the event pipeline, the routing task, the SIP
//! endpoint, the reloads (SIGHUP, file watch) and the HTTP server, and shuts them down in order
//! on SIGINT/SIGTERM.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use hotline_dialplan::{Dialplan, ValidationContext};
use hotline_events::{EventPipeline, JournalConfig, RedisConfig, Timestamp};
use hotline_media::ports::RtpPortAllocator;
use tokio::sync::watch;

use crate::config::{parse_port_range, Config};
use crate::dialplan_reload::{self, DialplanHolder, DialplanReloader};
use crate::endpoint::{Endpoint, EndpointSettings};
use crate::http::{self, ApiState};
use crate::metrics::Metrics;
use crate::prompts::PromptLibrary;
use crate::recovery::{self, RecoveryState};
use crate::reload::Reloader;
use crate::{kpi_task, router_task, ServeArgs};

/// `hotline serve`.
pub async fn serve(args: ServeArgs) -> Result<()> {
    let mut config = Config::load(&args.config)?;
    if let Some(addr) = args.sip_listen {
        config.sip_listen = addr;
    }
    if let Some(addr) = args.http_listen {
        config.http_listen = addr;
    }
    if let Some(range) = &args.rtp_ports {
        config.rtp_ports = parse_port_range(range).context("--rtp-ports")?;
    }
    if let Some(plan) = &args.dialplan {
        config.dialplan = plan.clone();
    }
    let config = Arc::new(config);
    std::fs::create_dir_all(&args.data_dir)
        .with_context(|| format!("creating data dir {}", args.data_dir.display()))?;

    let ctx = ValidationContext {
        queues: Some(config.queues.keys().cloned().collect()),
        prompts: None,
    };
    // Read once and parsed from that text, so version 1's hash is of what runs.
    let source = std::fs::read_to_string(&config.dialplan)
        .with_context(|| format!("reading dialplan {}", config.dialplan.display()))?;
    let dialplan = Dialplan::parse(&source, &config.dialplan, &ctx)
        .map_err(|e| anyhow::anyhow!("{e}"))
        .with_context(|| format!("dialplan {}", config.dialplan.display()))?;
    for warning in dialplan.warnings() {
        tracing::warn!("{warning}");
    }
    crate::crm::warn_if_unusable(&config.crm, &dialplan);
    let mut plan_errors =
        crate::tts::speech_errors(&config.tts, dialplan.file(), dialplan.speech_nodes());
    plan_errors.extend(crate::trunk::check::dial_errors(
        &config.trunks,
        dialplan.file(),
        dialplan.dial_nodes(),
    ));
    if !plan_errors.is_empty() {
        plan_errors.sort_by_key(|e| (e.line, e.column));
        let lines: Vec<String> = plan_errors.iter().map(ToString::to_string).collect();
        anyhow::bail!(
            "dialplan {}:\n{}",
            config.dialplan.display(),
            lines.join("\n")
        );
    }
    let prompts = PromptLibrary::load(&config, &dialplan)?;
    // A reload checks like the start, with the prompts loaded now (prompt files are read once).
    let reload_checks = ValidationContext {
        prompts: Some(prompts.names()),
        ..ctx.clone()
    };
    let dialplan = DialplanHolder::new(dialplan, &source);
    tracing::info!(
        version = 1,
        hash = %dialplan.current().hash,
        file = %config.dialplan.display(),
        "dialplan loaded"
    );

    let metrics = Metrics::new();
    let redis = args.redis_url.as_ref().map(|url| {
        let mut r = RedisConfig::new(url.clone());
        r.stream = config.redis_stream.clone();
        r.maxlen = config.redis_maxlen as u64;
        r
    });
    // What the journal says was going on when hotline last stopped, read before any new
    // event is written; saved as a snapshot so the next start reads only the tail.
    let recovered = RecoveryState::load(&args.data_dir)?;
    // The scheduled callbacks' own events, replayed into their scheduler below.
    let scheduled = crate::callbacks::restore(&args.data_dir)?;
    // The campaigns' own events, replayed into their engine below.
    let campaign_events = crate::campaigns::restore(&args.data_dir)?;
    if let Err(err) = recovered.save(&args.data_dir) {
        tracing::warn!("{err:#}");
    }
    let journal = JournalConfig {
        segment_bytes: config.journal_segment_bytes,
        retention: config.journal_retention,
        ..JournalConfig::new(args.data_dir.clone(), config.node.clone())
    };
    let (events, events_handle) =
        EventPipeline::start(journal, redis).context("starting the event journal")?;

    let ended = recovered.end_open_calls(&events, Timestamp::now());
    if ended > 0 {
        tracing::warn!(
            calls = ended,
            "calls cut by the last stop ended with reason node_restart"
        );
    }
    // Which file content version 1 is, journaled before any call runs on it (and after the
    // calls of the last run are closed).
    events.emit(dialplan.current().loaded_event());

    RecoveryState::spawn_snapshots(
        args.data_dir.clone(),
        events_handle.written_seq(),
        recovery::SNAPSHOT_INTERVAL,
    );

    // Subscribed before the KPI task reads the journal, so no committed event falls between.
    let kpis = kpi_task::spawn(
        &config,
        args.data_dir.clone(),
        events_handle.subscribe(),
        metrics.clone(),
    );
    let router = router_task::spawn(&config, events.clone(), metrics.clone())?;
    // Before any call is routed: skills set through the API, unless the file changed them.
    recovered.restore_skills(&config, &events, &router).await;
    let callbacks = recovered.restore_callbacks(&config, &events, &router, Timestamp::now());
    if callbacks > 0 {
        tracing::info!(
            callbacks,
            "queued callbacks restored with their original entry time"
        );
    }
    // Before any call: WAVs a crash left open are repaired, finished recordings indexed.
    let recordings =
        crate::recording::Recordings::start(&config, &args.data_dir, events.clone(), &metrics)?;
    crate::recording::retention::spawn(
        recordings.clone(),
        crate::recording::retention::SWEEP_EVERY,
    );
    let ports = Arc::new(RtpPortAllocator::new(config.rtp_ports.clone()));
    spawn_gauges(events_handle.stats_reader(), ports.clone(), metrics.clone());
    let (shutdown_tx, shutdown_rx) = watch::channel(false);

    let endpoint = Endpoint::start(EndpointSettings {
        config: config.clone(),
        data_dir: args.data_dir.clone(),
        dialplan: dialplan.clone(),
        prompts: Arc::new(prompts),
        ports,
        router: router.clone(),
        events: events.clone(),
        metrics: metrics.clone(),
        shutdown: shutdown_rx.clone(),
        recordings: recordings.clone(),
    })
    .await?;
    tracing::info!(sip = %endpoint.local_addr(), "SIP listening (UDP and TCP)");
    // The endpoint has handed the restored registrations to the router; not-ready agents
    // go back to not ready on top of them.
    recovered.restore_agent_states(&router).await;
    // Scheduled callbacks start once agents and the dialer are in place.
    let callbacks = crate::callbacks::spawn(crate::callbacks::DriverSettings {
        settings: &config.callbacks,
        data_dir: &args.data_dir,
        restored: scheduled,
        router: router.clone(),
        events: events.clone(),
        metrics: &metrics,
    })?;
    // Campaigns start once agents and the SIP endpoint (their calls' dialer) are in place.
    let campaigns = crate::campaigns::spawn(crate::campaigns::DriverSettings {
        settings: &config.campaigns,
        callbacks_dnc: config.callbacks.dnc_file.as_deref(),
        data_dir: &args.data_dir,
        restored: campaign_events,
        router: router.clone(),
        events: events.clone(),
        metrics: &metrics,
        dialer: Some(endpoint.shared()),
    })?;

    // SIGHUP and `POST /api/v1/config/reload` read the configuration file again; SIGHUP, a
    // change of the file and `POST /api/v1/dialplan/reload` read the dialplan again.
    let reloader = Arc::new(Reloader::new(
        &args,
        config.clone(),
        dialplan.clone(),
        router.clone(),
        kpis.clone(),
        metrics.clone(),
        events.clone(),
    ));
    let dialplan_reloader = Arc::new(DialplanReloader::new(
        config.dialplan.clone(),
        dialplan,
        reloader.clone(),
        reload_checks,
        events.clone(),
        metrics.clone(),
    ));
    dialplan_reload::spawn_sighup(reloader.clone(), dialplan_reloader.clone());
    dialplan_reload::spawn_file_watch(dialplan_reloader.clone(), dialplan_reload::WATCH_INTERVAL);

    let api = Arc::new(ApiState {
        router: router.clone(),
        kpis,
        metrics: metrics.clone(),
        api_token: config.api_token.clone(),
    });
    let listener = tokio::net::TcpListener::bind(config.http_listen)
        .await
        .with_context(|| format!("binding HTTP {}", config.http_listen))?;
    tracing::info!(http = %config.http_listen, "HTTP listening");
    let mut http_shutdown = shutdown_rx.clone();
    let api_recordings = recordings.clone();
    let http_task = tokio::spawn(async move {
        let app = http::router(api)
            .layer(axum::Extension(reloader))
            .layer(axum::Extension(dialplan_reloader))
            .layer(axum::Extension(api_recordings))
            .layer(axum::Extension(callbacks))
            .layer(axum::Extension(campaigns));
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = http_shutdown.wait_for(|s| *s).await;
            })
            .await;
    });

    wait_for_signal().await;
    tracing::info!("shutting down: no new calls, letting calls finish");
    let _ = shutdown_tx.send(true);
    endpoint.drain(Duration::from_secs(args.grace_period)).await;
    recordings.drain(Duration::from_secs(5)).await;
    // A routed call's last events (call.abandoned, call.ended) are emitted by the routing task:
    // one round trip through its queue makes sure they are in the journal before it closes.
    let _ = tokio::time::timeout(Duration::from_secs(5), router.queues()).await;
    let _ = http_task.await;
    let report = events_handle.shutdown().await;
    tracing::info!(?report, "events flushed");
    Ok(())
}

/// Copies the event pipeline's counters and the RTP port use into the metrics once a second.
fn spawn_gauges(
    stats: hotline_events::StatsReader,
    ports: Arc<RtpPortAllocator>,
    metrics: Metrics,
) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        loop {
            tick.tick().await;
            metrics
                .rtp_ports_in_use
                .set(i64::try_from(ports.in_use()).unwrap_or(i64::MAX));
            let s = stats.snapshot();
            for (stage, value) in [
                ("written", s.written),
                ("published", s.published),
                ("publish_errors", s.publish_errors),
                ("backlog", s.backlog),
            ] {
                metrics
                    .events
                    .with_label_values(&[stage])
                    .set(i64::try_from(value).unwrap_or(i64::MAX));
            }
        }
    });
}

async fn wait_for_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
