//! `hotline`: the call-center server binary.

mod app;
mod bench_routing;
mod call;
mod callbacks;
mod campaign_cli;
mod campaigns;
mod config;
mod crm;
mod dialplan_cli;
mod dialplan_reload;
mod dnc_cli;
mod endpoint;
mod http;
mod kpi_task;
mod location;
mod metrics;
mod prompts;
mod recording;
mod recovery;
mod redact;
mod registrar;
mod reload;
mod router_task;
mod routing_config;
mod simulate;
mod trunk;
mod tts;
mod voicemail;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// hotline: call-center telephony backend.
#[derive(Parser)]
#[command(name = "hotline", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Commands,
}

#[derive(Subcommand)]
enum Commands {
    /// Run the server.
    Serve(ServeArgs),
    /// Dialplan tools.
    Dialplan {
        #[command(subcommand)]
        command: DialplanCommand,
    },
    /// Simulate a queue on virtual time with the real router; compare with Erlang C / Erlang A.
    Simulate(simulate::SimulateArgs),
    /// Benchmarks of hotline's own cores.
    Bench {
        #[command(subcommand)]
        command: bench_routing::BenchCommand,
    },
    /// Outbound campaign tools.
    Campaign {
        #[command(subcommand)]
        command: campaign_cli::CampaignCommand,
    },
    /// Do-not-call list tools.
    Dnc {
        #[command(subcommand)]
        command: dnc_cli::DncCommand,
    },
}

/// Options of `hotline serve`; each overrides the config file.
#[derive(clap::Args, Debug, Clone)]
pub struct ServeArgs {
    /// Configuration file.
    #[arg(long, default_value = "config/hotline.yaml")]
    pub config: PathBuf,
    /// SIP listen address (UDP and TCP).
    #[arg(long)]
    pub sip_listen: Option<SocketAddr>,
    /// HTTP listen address (health, metrics, API).
    #[arg(long)]
    pub http_listen: Option<SocketAddr>,
    /// Folder of the event journal and registrations.
    #[arg(long, default_value = "./data")]
    pub data_dir: PathBuf,
    /// RTP port range, e.g. 20000-29999.
    #[arg(long)]
    pub rtp_ports: Option<String>,
    /// Publish events to Redis Streams at this URL, e.g. redis://127.0.0.1:6379.
    #[arg(long)]
    pub redis_url: Option<String>,
    /// Dialplan file (overrides the config's).
    #[arg(long)]
    pub dialplan: Option<PathBuf>,
    /// How long to let calls finish on SIGINT/SIGTERM, seconds.
    #[arg(long, default_value_t = 30)]
    pub grace_period: u64,
}

#[derive(Subcommand)]
enum DialplanCommand {
    /// Check dialplans: every problem as file:line:column: error|warning: message, with hints;
    /// exits 0 when there is no error.
    Check(dialplan_cli::CheckArgs),
    /// Walk one call through a dialplan without a phone: nodes, prompts, where it ends.
    Simulate(dialplan_cli::SimulateArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Commands::Dialplan { command } => match command {
            DialplanCommand::Check(args) => dialplan_cli::check(&args),
            DialplanCommand::Simulate(args) => dialplan_cli::simulate_call(&args),
        },
        Commands::Simulate(args) => simulate::run(args),
        Commands::Bench { command } => bench_routing::run(command),
        Commands::Campaign { command } => campaign_cli::run(command),
        Commands::Dnc { command } => dnc_cli::run(command),
        Commands::Serve(args) => {
            init_tracing();
            let runtime = match tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    eprintln!("hotline: cannot start the runtime: {e}");
                    return ExitCode::FAILURE;
                }
            };
            match runtime.block_on(app::serve(args)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("hotline: {e:#}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}

fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    use std::io::IsTerminal;
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .init();
}
