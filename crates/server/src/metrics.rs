//! Prometheus metrics, registered once and shared by every task.

use prometheus::{
    Encoder, GaugeVec, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry, TextEncoder,
};

/// Upper bounds of the queue wait histogram, seconds: fine around usual service-level
/// thresholds (10-30 s), coarse up to ten minutes.
const WAIT_BUCKETS: &[f64] = &[
    1.0, 2.0, 5.0, 10.0, 15.0, 20.0, 30.0, 45.0, 60.0, 90.0, 120.0, 180.0, 300.0, 600.0,
];

/// Every metric hotline exports.
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    /// SIP requests received and sent, by method and direction.
    pub sip_requests: IntCounterVec,
    /// SIP responses received and sent, by class (1xx..6xx) and direction.
    pub sip_responses: IntCounterVec,
    /// SIP messages dropped without an answer, by reason.
    pub sip_dropped: IntCounterVec,
    /// Calls currently in progress (IVR, queued, ringing or bridged).
    pub active_calls: IntGauge,
    /// Calls waiting in each queue.
    pub queue_waiting: IntGaugeVec,
    /// Agents in each state.
    pub agents_by_state: IntGaugeVec,
    /// RTP ports leased.
    pub rtp_ports_in_use: IntGauge,
    /// RTP packets received and sent by hotline's legs.
    pub rtp_packets: IntCounterVec,
    /// Event pipeline counters: written, published, publish_errors, backlog.
    pub events: IntGaugeVec,
    /// Time calls waited in queue, by queue and outcome (see [`WaitOutcome`]).
    pub queue_wait: HistogramVec,
    /// How long the oldest waiting call of each queue has waited (set at each scrape).
    pub queue_longest_wait: GaugeVec,
    /// Configuration reloads, by result (ok, error).
    pub config_reloads: IntCounterVec,
    /// Dialplan reloads, by result (ok, invalid, unchanged).
    pub dialplan_reloads: IntCounterVec,
    /// The version of the dialplan new calls start on (1 at start, one more per reload).
    pub dialplan_version: IntGauge,
    /// Texts spoken by the speech synthesizer, by result (synthesized, cached, no_voice,
    /// not_found, timed_out, failed, bad_output).
    pub tts: IntCounterVec,
    /// How long speech syntheses took.
    pub tts_seconds: prometheus::Histogram,
    /// Channels in use per trunk.
    pub trunk_channels: IntGaugeVec,
    /// Dials through each trunk by outcome.
    pub trunk_dials: IntCounterVec,
    /// Campaign calls' milestones: final responses, detector verdicts and what became of the
    /// answered calls (`result`).
    pub campaign_calls: IntCounterVec,
}

impl Metrics {
    /// Creates and registers every metric.
    pub fn new() -> Self {
        let registry = Registry::new();
        let sip_requests = IntCounterVec::new(
            Opts::new(
                "hotline_sip_requests_total",
                "SIP requests by method and direction",
            ),
            &["method", "direction"],
        )
        .expect("static metric definition is valid");
        let sip_responses = IntCounterVec::new(
            Opts::new(
                "hotline_sip_responses_total",
                "SIP responses by class and direction",
            ),
            &["class", "direction"],
        )
        .expect("static metric definition is valid");
        let sip_dropped = IntCounterVec::new(
            Opts::new(
                "hotline_sip_dropped_total",
                "SIP messages dropped unanswered",
            ),
            &["reason"],
        )
        .expect("static metric definition is valid");
        let active_calls = IntGauge::new("hotline_active_calls", "Calls in progress")
            .expect("static metric definition is valid");
        let queue_waiting = IntGaugeVec::new(
            Opts::new("hotline_queue_waiting_calls", "Calls waiting per queue"),
            &["queue"],
        )
        .expect("static metric definition is valid");
        let agents_by_state =
            IntGaugeVec::new(Opts::new("hotline_agents", "Agents per state"), &["state"])
                .expect("static metric definition is valid");
        let rtp_ports_in_use = IntGauge::new("hotline_rtp_ports_in_use", "RTP ports leased")
            .expect("static metric definition is valid");
        let rtp_packets = IntCounterVec::new(
            Opts::new("hotline_rtp_packets_total", "RTP packets by direction"),
            &["direction"],
        )
        .expect("static metric definition is valid");
        let events = IntGaugeVec::new(
            Opts::new(
                "hotline_events",
                "Event pipeline: written (fsynced), published (Redis), publish_errors, backlog",
            ),
            &["stage"],
        )
        .expect("static metric definition is valid");
        let config_reloads = IntCounterVec::new(
            Opts::new(
                "hotline_config_reloads_total",
                "Configuration reloads by result",
            ),
            &["result"],
        )
        .expect("static metric definition is valid");
        let dialplan_reloads = IntCounterVec::new(
            Opts::new(
                "hotline_dialplan_reloads_total",
                "Dialplan reloads by result (ok, invalid, unchanged)",
            ),
            &["result"],
        )
        .expect("static metric definition is valid");
        let dialplan_version = IntGauge::new(
            "hotline_dialplan_version",
            "Version of the dialplan new calls start on",
        )
        .expect("static metric definition is valid");
        let queue_wait = HistogramVec::new(
            HistogramOpts::new(
                "hotline_queue_wait_seconds",
                "Time calls waited in queue until answered, abandoned or let go (exited)",
            )
            .buckets(WAIT_BUCKETS.to_vec()),
            &["queue", "outcome"],
        )
        .expect("static metric definition is valid");
        let queue_longest_wait = GaugeVec::new(
            Opts::new(
                "hotline_queue_longest_wait_seconds",
                "How long the oldest call waiting in each queue has waited",
            ),
            &["queue"],
        )
        .expect("static metric definition is valid");
        let trunk_channels = IntGaugeVec::new(
            Opts::new(
                "hotline_trunk_channels",
                "Calls in progress through each trunk",
            ),
            &["trunk"],
        )
        .expect("static metric definition is valid");
        let trunk_dials = IntCounterVec::new(
            Opts::new(
                "hotline_trunk_dials_total",
                "Transfers dialed through each trunk, by outcome",
            ),
            &["trunk", "outcome"],
        )
        .expect("static metric definition is valid");
        let tts = IntCounterVec::new(
            Opts::new(
                "hotline_tts_total",
                "Texts spoken by the speech synthesizer, by result",
            ),
            &["result"],
        )
        .expect("static metric definition is valid");
        let campaign_calls = IntCounterVec::new(
            Opts::new(
                "hotline_campaign_calls_total",
                "Campaign calls by result: final responses, detector verdicts, machine actions, agents and abandons",
            ),
            &["result"],
        )
        .expect("static metric definition is valid");
        let tts_seconds = prometheus::Histogram::with_opts(
            HistogramOpts::new(
                "hotline_tts_seconds",
                "How long speech syntheses took (cache misses that succeeded)",
            )
            .buckets(vec![0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0]),
        )
        .expect("static metric definition is valid");
        for m in [
            Box::new(sip_requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(tts.clone()),
            Box::new(tts_seconds.clone()),
            Box::new(trunk_channels.clone()),
            Box::new(trunk_dials.clone()),
            Box::new(campaign_calls.clone()),
            Box::new(sip_responses.clone()),
            Box::new(sip_dropped.clone()),
            Box::new(active_calls.clone()),
            Box::new(queue_waiting.clone()),
            Box::new(agents_by_state.clone()),
            Box::new(rtp_ports_in_use.clone()),
            Box::new(rtp_packets.clone()),
            Box::new(events.clone()),
            Box::new(queue_wait.clone()),
            Box::new(queue_longest_wait.clone()),
            Box::new(config_reloads.clone()),
            Box::new(dialplan_reloads.clone()),
            Box::new(dialplan_version.clone()),
        ] {
            registry
                .register(m)
                .expect("each metric is registered once");
        }
        Self {
            registry,
            sip_requests,
            sip_responses,
            sip_dropped,
            active_calls,
            queue_waiting,
            agents_by_state,
            rtp_ports_in_use,
            rtp_packets,
            events,
            queue_wait,
            queue_longest_wait,
            config_reloads,
            dialplan_reloads,
            dialplan_version,
            tts,
            tts_seconds,
            trunk_channels,
            trunk_dials,
            campaign_calls,
        }
    }

    /// Records how long a call waited in `queue` before `outcome`.
    pub fn observe_wait(&self, queue: &str, outcome: WaitOutcome, wait: std::time::Duration) {
        self.queue_wait
            .with_label_values(&[queue, outcome.as_str()])
            .observe(wait.as_secs_f64());
    }

    /// Counts a SIP response by its class.
    pub fn count_response(&self, status: u16, direction: Direction) {
        let class = match status / 100 {
            1 => "1xx",
            2 => "2xx",
            3 => "3xx",
            4 => "4xx",
            5 => "5xx",
            _ => "6xx",
        };
        self.sip_responses
            .with_label_values(&[class, direction.as_str()])
            .inc();
    }

    /// Counts a SIP request by method.
    pub fn count_request(&self, method: &str, direction: Direction) {
        // Unknown methods are folded into one label so a scanner cannot blow up cardinality.
        let method = match method {
            "INVITE" | "ACK" | "BYE" | "CANCEL" | "REGISTER" | "OPTIONS" | "INFO" | "UPDATE"
            | "PRACK" | "SUBSCRIBE" | "NOTIFY" | "REFER" | "MESSAGE" => method,
            _ => "other",
        };
        self.sip_requests
            .with_label_values(&[method, direction.as_str()])
            .inc();
    }

    /// Registers a metric kept elsewhere (e.g. the recordings'), rendered with these.
    pub fn register(
        &self,
        collector: Box<dyn prometheus::core::Collector>,
    ) -> prometheus::Result<()> {
        self.registry.register(collector)
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let mut buf = Vec::new();
        // Encoding into a Vec cannot fail for well-formed metric families.
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut buf);
        String::from_utf8_lossy(&buf).into_owned()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// How a queued call stopped waiting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitOutcome {
    /// An agent answered.
    Answered,
    /// The caller hung up.
    Abandoned,
    /// The queue let the call go (max wait, relaxation exit, no agents).
    Exited,
}

impl WaitOutcome {
    fn as_str(self) -> &'static str {
        match self {
            WaitOutcome::Answered => "answered",
            WaitOutcome::Abandoned => "abandoned",
            WaitOutcome::Exited => "exited",
        }
    }
}

/// Whether a message came in or went out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Received by hotline.
    In,
    /// Sent by hotline.
    Out,
}

impl Direction {
    fn as_str(self) -> &'static str {
        match self {
            Direction::In => "in",
            Direction::Out => "out",
        }
    }
}
