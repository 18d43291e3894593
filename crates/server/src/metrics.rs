//! Prometheus metrics, registered once and shared by every task.

use prometheus::{Encoder, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry, TextEncoder};

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
        for m in [
            Box::new(sip_requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(sip_responses.clone()),
            Box::new(sip_dropped.clone()),
            Box::new(active_calls.clone()),
            Box::new(queue_waiting.clone()),
            Box::new(agents_by_state.clone()),
            Box::new(rtp_ports_in_use.clone()),
            Box::new(rtp_packets.clone()),
            Box::new(events.clone()),
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
        }
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
