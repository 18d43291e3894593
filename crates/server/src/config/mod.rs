//! The hotline configuration file (`config/hotline.yaml`), loaded once into typed values.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use hotline_sip::digest::DigestAlgorithm;
use serde::Deserialize;

/// The whole configuration, validated.
#[derive(Debug, Clone)]
pub struct Config {
    /// SIP listen address (UDP and TCP).
    pub sip_listen: SocketAddr,
    /// Address put in Via, Contact and SDP (defaults to the listen IP).
    pub advertised_ip: Option<IpAddr>,
    /// Registrar domain; the listen address is always accepted as well.
    pub domain: String,
    /// Digest realm.
    pub realm: String,
    /// Registration expiry limits.
    pub registration: RegistrationLimits,
    /// Digest algorithms offered in challenges, in order of preference.
    pub auth_algorithms: Vec<DigestAlgorithm>,
    /// Session timer interval offered and accepted (RFC 4028), seconds.
    pub session_expires: u32,
    /// HTTP listen address.
    pub http_listen: SocketAddr,
    /// Bearer token for `/api/`.
    pub api_token: String,
    /// RTP port range.
    pub rtp_ports: RangeInclusive<u16>,
    /// Hang up a call after this long without RTP from a party.
    pub rtp_timeout: Duration,
    /// Folder of prompts, one subfolder per language.
    pub prompts_dir: PathBuf,
    /// Prompt language.
    pub language: String,
    /// Prompt name of the music on hold.
    pub music_on_hold: String,
    /// Node name in events.
    pub node: String,
    /// Redis stream name.
    pub redis_stream: String,
    /// Approximate MAXLEN of the Redis stream.
    pub redis_maxlen: usize,
    /// Size at which the live journal is rotated into a numbered segment.
    pub journal_segment_bytes: u64,
    /// When old journal segments are deleted; `None` keeps every segment.
    pub journal_retention: Option<hotline_events::Retention>,
    /// Redact caller numbers in logs.
    pub redact_caller_numbers: bool,
    /// The dialplan file.
    pub dialplan: PathBuf,
    /// Queues by name.
    pub queues: BTreeMap<String, QueueSettings>,
    /// Agents by id.
    pub agents: BTreeMap<String, AgentSettings>,
    /// Routing settings that are not per queue or agent.
    pub routing: RoutingSettings,
    /// Where the dialplan's `http` nodes look callers up (`crm:`; optional).
    pub crm: crate::crm::CrmSettings,
    /// How `say` nodes speak text (`tts:`; optional, espeak-ng by default).
    pub tts: crate::tts::TtsSettings,
    /// SIP trunks transfers dial out through (`trunks:`; optional).
    pub trunks: BTreeMap<String, crate::trunk::TrunkSettings>,
    /// Call recording as a whole (`recording:`; optional): sampling seed, the agent's codes.
    pub recording: crate::recording::RecordingSettings,
    /// Scheduled callbacks (`callbacks:`; optional): the outbound scheduler and the DNC file.
    pub callbacks: crate::callbacks::CallbacksSettings,
    /// Outbound campaigns (`campaigns:`; optional): defaults of new campaigns, the list
    /// country, the detector's thresholds, the global do-not-call file.
    pub campaigns: crate::campaigns::CampaignsSettings,
}

/// The `routing:` section: settings of the router as a whole.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoutingSettings {
    /// The not-ready reason codes the API may set (`missed_offer` is built in); empty: any text.
    #[serde(default)]
    pub not_ready_reasons: Vec<String>,
    /// The seed of the random strategies, so that a run is reproducible (applies at start).
    #[serde(default)]
    pub seed: u64,
}

/// Registration expiry limits, in seconds.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistrationLimits {
    /// Shorter requests get 423 Interval Too Brief.
    pub min_expires: u32,
    /// Longer requests are shortened to this.
    pub max_expires: u32,
    /// Used when the REGISTER names no expiry.
    pub default_expires: u32,
}

/// One queue.
#[derive(Debug, Clone)]
pub struct QueueSettings {
    /// How long an offer rings before it goes to the next agent.
    pub ring_timeout: Duration,
    /// Wrap-up time after each call.
    pub wrap_up: Duration,
    /// Member agent ids.
    pub members: Vec<String>,
    /// How a member is chosen.
    pub strategy: hotline_routing::Strategy,
    /// Penalty per member (lower is offered first; absent: 0).
    pub penalties: BTreeMap<String, u32>,
    /// Priority given to the queue's entries (higher is served first).
    pub priority: i32,
    /// The service-level target the cross-queue choice keeps.
    pub service_level: Option<hotline_routing::ServiceLevelTarget>,
    /// Relaxation steps by wait time.
    pub relaxation: Vec<hotline_routing::RelaxStep>,
    /// The rolling window of the service level (absent: one hour).
    pub service_level_window: Option<Duration>,
    /// Longest wait before an entry leaves the queue (a dialplan node's value wins).
    pub max_wait: Option<Duration>,
    /// Most entries the queue holds; further callers are refused.
    pub max_len: Option<usize>,
    /// Refuse new callers while the queue is empty in this sense.
    pub join_when_empty: hotline_routing::EmptyRule,
    /// Let waiting callers go when the queue becomes empty in this sense.
    pub leave_when_empty: hotline_routing::EmptyRule,
    /// Weight per member for `weighted_random` (absent: 1).
    pub weights: BTreeMap<String, u32>,
    /// The window of `least_talk_time` (absent: one hour).
    pub talk_time_window: Option<Duration>,
    /// Handle time assumed for wait estimates before any call completed (absent: 180 s).
    pub expected_handle_time: Option<Duration>,
    /// The wait after which a caller is offered a callback (a dialplan node's value wins).
    pub callback_offer: Option<Duration>,
    /// The longest a callback entry stays queued (absent: no limit).
    pub callback_expiry: Option<Duration>,
    /// The wait before a failed callback is dialed again (absent: 60 s).
    pub callback_retry_delay: Option<Duration>,
    /// Dial attempts before a callback is given up (absent: 3).
    pub callback_max_attempts: Option<u32>,
    /// The trunk the queue's callbacks are dialed through (absent: the only trunk, if one).
    pub callback_trunk: Option<String>,
    /// The E.164 number the queue's callbacks present to the customer (From and
    /// P-Asserted-Identity; absent: the trunk's `from_number`).
    pub callback_caller_id: Option<String>,
    /// How long a callback's customer rings (absent: 30 s; never below 15 s).
    pub callback_ring_timeout: Option<Duration>,
    /// The queue's time zone for KPI day/week/month rollups, a fixed UTC offset (default UTC).
    pub utc_offset: time::UtcOffset,
    /// KPI short-abandon threshold: abandons quicker than this are short (absent: 5 s).
    pub short_abandon: Option<Duration>,
    /// The queue's music on hold, a prompt name (absent: `prompts.music_on_hold`).
    pub music_on_hold: Option<String>,
    /// What waiting callers are told every so often (absent: music only).
    pub announce: Option<crate::call::QueueAnnounce>,
    /// Which of the queue's calls are recorded, and for how long recordings are kept.
    pub recording: crate::recording::QueueRecording,
}

/// One agent.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentSettings {
    /// SIP digest password.
    pub password: String,
    /// Display name.
    #[serde(default)]
    pub name: Option<String>,
    /// Skills with proficiency 1-10.
    #[serde(default)]
    pub skills: BTreeMap<String, u8>,
    /// The agent's own wrap-up time, overriding its queues'.
    #[serde(default, deserialize_with = "optional_duration")]
    pub wrap_up: Option<Duration>,
    /// Missed offers in a row before the agent goes not ready (absent: 1).
    #[serde(default)]
    pub max_missed_offers: Option<u32>,
}

/// Reads an optional duration written as `15s`, `1500ms` or `2m`.
fn optional_duration<'de, D>(de: D) -> std::result::Result<Option<Duration>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    let text: Option<String> = Option::deserialize(de)?;
    text.map(|t| parse_duration(&t).map_err(|e| serde::de::Error::custom(format!("{e:#}"))))
        .transpose()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    sip: RawSip,
    http: RawHttp,
    media: RawMedia,
    prompts: RawPrompts,
    #[serde(default)]
    events: RawEvents,
    #[serde(default)]
    logging: RawLogging,
    dialplan: PathBuf,
    queues: BTreeMap<String, RawQueue>,
    agents: BTreeMap<String, AgentSettings>,
    #[serde(default)]
    routing: RoutingSettings,
    #[serde(default)]
    crm: crate::crm::CrmSettings,
    #[serde(default)]
    tts: crate::tts::TtsSettings,
    #[serde(default)]
    trunks: BTreeMap<String, crate::trunk::RawTrunk>,
    #[serde(default)]
    recording: crate::recording::RecordingSettings,
    #[serde(default)]
    callbacks: crate::callbacks::CallbacksSettings,
    #[serde(default)]
    campaigns: crate::campaigns::CampaignsSettings,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSip {
    listen: SocketAddr,
    #[serde(default)]
    advertised_address: Option<IpAddr>,
    domain: String,
    realm: String,
    registration: RegistrationLimits,
    #[serde(default = "default_auth_algorithms")]
    auth_algorithms: Vec<String>,
    #[serde(default = "default_session_expires")]
    session_expires: u32,
}

fn default_auth_algorithms() -> Vec<String> {
    vec!["md5".to_string()]
}

fn default_session_expires() -> u32 {
    1800
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHttp {
    listen: SocketAddr,
    api_token: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMedia {
    rtp_ports: String,
    rtp_timeout: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPrompts {
    dir: PathBuf,
    language: String,
    music_on_hold: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEvents {
    node: String,
    #[serde(default)]
    redis: RawRedis,
    #[serde(default)]
    segment_size: Option<String>,
    #[serde(default)]
    retention: Option<RawRetention>,
}

impl Default for RawEvents {
    fn default() -> Self {
        Self {
            node: "hotline-1".into(),
            redis: RawRedis::default(),
            segment_size: None,
            retention: None,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRetention {
    #[serde(default)]
    keep_segments: usize,
    keep_for: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRedis {
    stream: String,
    maxlen: usize,
}

impl Default for RawRedis {
    fn default() -> Self {
        Self {
            stream: "hotline:events".into(),
            maxlen: 1_000_000,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLogging {
    redact_caller_numbers: bool,
}

impl Default for RawLogging {
    fn default() -> Self {
        Self {
            redact_caller_numbers: true,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawQueue {
    ring_timeout: String,
    wrap_up: String,
    members: Vec<String>,
    #[serde(default)]
    strategy: hotline_routing::Strategy,
    #[serde(default)]
    penalties: BTreeMap<String, u32>,
    #[serde(default)]
    priority: i32,
    #[serde(default)]
    service_level: Option<RawServiceLevel>,
    #[serde(default)]
    relaxation: Vec<RawRelaxStep>,
    #[serde(default)]
    max_wait: Option<String>,
    #[serde(default)]
    max_len: Option<usize>,
    #[serde(default)]
    join_when_empty: hotline_routing::EmptyRule,
    #[serde(default)]
    leave_when_empty: hotline_routing::EmptyRule,
    #[serde(default)]
    weights: BTreeMap<String, u32>,
    #[serde(default)]
    talk_time_window: Option<String>,
    #[serde(default)]
    expected_handle_time: Option<String>,
    #[serde(default)]
    callback_offer: Option<String>,
    #[serde(default)]
    callback_expiry: Option<String>,
    #[serde(default)]
    callback_retry_delay: Option<String>,
    #[serde(default)]
    callback_max_attempts: Option<u32>,
    #[serde(default)]
    callback_trunk: Option<String>,
    #[serde(default)]
    callback_caller_id: Option<String>,
    #[serde(default)]
    callback_ring_timeout: Option<String>,
    #[serde(default)]
    utc_offset: Option<String>,
    #[serde(default)]
    short_abandon: Option<String>,
    #[serde(default)]
    music_on_hold: Option<String>,
    #[serde(default)]
    announce: Option<crate::call::RawAnnounce>,
    #[serde(default)]
    recording: crate::recording::QueueRecording,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawServiceLevel {
    threshold: String,
    percent: u8,
    #[serde(default)]
    window: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRelaxStep {
    after: String,
    action: hotline_routing::RelaxAction,
}

impl Config {
    /// Loads and validates the file; relative paths inside it are taken from the working directory.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading config {}", path.display()))?;
        Self::parse(&text).with_context(|| format!("in config {}", path.display()))
    }

    /// Parses and validates configuration text.
    pub fn parse(text: &str) -> Result<Self> {
        let raw: RawConfig = serde_saphyr::from_str(text).map_err(|e| anyhow::anyhow!("{e}"))?;
        let mut queues = BTreeMap::new();
        for (name, q) in raw.queues {
            for member in &q.members {
                if !raw.agents.contains_key(member) {
                    bail!("queue {name}: member {member} is not a configured agent");
                }
            }
            for (field, named) in [("penalties", &q.penalties), ("weights", &q.weights)] {
                if let Some(agent) = named.keys().find(|a| !q.members.contains(a)) {
                    bail!("queue {name}: {field} names {agent}, which is not a member");
                }
            }
            queues.insert(
                name.clone(),
                QueueSettings {
                    ring_timeout: parse_duration(&q.ring_timeout)
                        .with_context(|| format!("queue {name}: ring_timeout"))?,
                    wrap_up: parse_duration(&q.wrap_up)
                        .with_context(|| format!("queue {name}: wrap_up"))?,
                    members: q.members,
                    strategy: q.strategy,
                    penalties: q.penalties,
                    priority: q.priority,
                    service_level_window: q
                        .service_level
                        .as_ref()
                        .and_then(|sl| sl.window.as_deref())
                        .map(parse_duration)
                        .transpose()
                        .with_context(|| format!("queue {name}: service_level.window"))?,
                    max_wait: optional(&q.max_wait)
                        .with_context(|| format!("queue {name}: max_wait"))?,
                    max_len: q.max_len,
                    join_when_empty: q.join_when_empty,
                    leave_when_empty: q.leave_when_empty,
                    weights: q.weights,
                    talk_time_window: optional(&q.talk_time_window)
                        .with_context(|| format!("queue {name}: talk_time_window"))?,
                    expected_handle_time: optional(&q.expected_handle_time)
                        .with_context(|| format!("queue {name}: expected_handle_time"))?,
                    callback_offer: optional(&q.callback_offer)
                        .with_context(|| format!("queue {name}: callback_offer"))?,
                    callback_expiry: optional(&q.callback_expiry)
                        .with_context(|| format!("queue {name}: callback_expiry"))?,
                    callback_retry_delay: optional(&q.callback_retry_delay)
                        .with_context(|| format!("queue {name}: callback_retry_delay"))?,
                    callback_max_attempts: q.callback_max_attempts,
                    callback_trunk: q.callback_trunk,
                    callback_caller_id: match q.callback_caller_id {
                        Some(text) => Some(
                            hotline_campaigns::E164::parse(&text)
                                .map(|n| n.as_str().to_string())
                                .with_context(|| format!("queue {name}: callback_caller_id"))?,
                        ),
                        None => None,
                    },
                    callback_ring_timeout: optional(&q.callback_ring_timeout)
                        .with_context(|| format!("queue {name}: callback_ring_timeout"))?,
                    service_level: match q.service_level {
                        Some(sl) => Some(hotline_routing::ServiceLevelTarget {
                            threshold: parse_duration(&sl.threshold)
                                .with_context(|| format!("queue {name}: service_level"))?,
                            percent: sl.percent,
                        }),
                        None => None,
                    },
                    relaxation: q
                        .relaxation
                        .into_iter()
                        .map(|step| {
                            Ok(hotline_routing::RelaxStep {
                                after: parse_duration(&step.after)
                                    .with_context(|| format!("queue {name}: relaxation"))?,
                                action: step.action,
                            })
                        })
                        .collect::<Result<_>>()?,
                    utc_offset: match &q.utc_offset {
                        Some(text) => hotline_kpi::parse_utc_offset(text)
                            .with_context(|| format!("queue {name}: utc_offset"))?,
                        None => time::UtcOffset::UTC,
                    },
                    short_abandon: match &q.short_abandon {
                        Some(text) => Some(
                            parse_duration(text)
                                .with_context(|| format!("queue {name}: short_abandon"))?,
                        ),
                        None => None,
                    },
                    music_on_hold: q.music_on_hold,
                    announce: q
                        .announce
                        .map(crate::call::QueueAnnounce::parse)
                        .transpose()
                        .with_context(|| format!("queue {name}: announce"))?,
                    recording: q.recording,
                },
            );
        }
        let reg = raw.sip.registration;
        if reg.min_expires > reg.max_expires
            || reg.default_expires < reg.min_expires
            || reg.default_expires > reg.max_expires
        {
            bail!("sip.registration: need min_expires <= default_expires <= max_expires");
        }
        let mut auth_algorithms = Vec::new();
        for name in &raw.sip.auth_algorithms {
            let alg = match name.to_ascii_lowercase().as_str() {
                "md5" => DigestAlgorithm::Md5,
                "sha-256" | "sha256" => DigestAlgorithm::Sha256,
                other => bail!("sip.auth_algorithms: unknown algorithm {other:?} (md5, sha-256)"),
            };
            if !auth_algorithms.contains(&alg) {
                auth_algorithms.push(alg);
            }
        }
        if auth_algorithms.is_empty() {
            bail!("sip.auth_algorithms: name at least one algorithm (md5, sha-256)");
        }
        let config = Self {
            sip_listen: raw.sip.listen,
            auth_algorithms,
            advertised_ip: raw.sip.advertised_address,
            domain: raw.sip.domain,
            realm: raw.sip.realm,
            registration: reg,
            session_expires: raw.sip.session_expires,
            http_listen: raw.http.listen,
            api_token: raw.http.api_token,
            rtp_ports: parse_port_range(&raw.media.rtp_ports)?,
            rtp_timeout: parse_duration(&raw.media.rtp_timeout).context("media.rtp_timeout")?,
            prompts_dir: raw.prompts.dir,
            language: raw.prompts.language,
            music_on_hold: raw.prompts.music_on_hold,
            node: raw.events.node,
            redis_stream: raw.events.redis.stream,
            redis_maxlen: raw.events.redis.maxlen,
            journal_segment_bytes: match &raw.events.segment_size {
                Some(text) => parse_size(text).context("events.segment_size")?,
                None => hotline_events::DEFAULT_SEGMENT_BYTES,
            },
            journal_retention: match &raw.events.retention {
                Some(r) => Some(hotline_events::Retention {
                    keep_segments: r.keep_segments,
                    keep_for: parse_duration(&r.keep_for).context("events.retention.keep_for")?,
                    // Set by the event pipeline when Redis is configured.
                    require_published: false,
                }),
                None => None,
            },
            redact_caller_numbers: raw.logging.redact_caller_numbers,
            dialplan: raw.dialplan,
            queues,
            agents: raw.agents,
            routing: raw.routing,
            crm: raw.crm,
            tts: raw.tts,
            trunks: crate::trunk::config::parse_trunks(raw.trunks)?,
            recording: raw.recording,
            callbacks: raw.callbacks,
            campaigns: raw.campaigns,
        };
        config.recording.validate()?;
        config
            .callbacks
            .validate(&config.queues.keys().cloned().collect())?;
        config.crm.validate().map_err(|e| anyhow::anyhow!(e))?;
        config.tts.validate().map_err(|e| anyhow::anyhow!(e))?;
        // The router's own checks (members, penalties, skills, relaxation, reason codes).
        crate::routing_config::router_config(&config)
            .validate()
            .map_err(|e| anyhow::anyhow!("routing: {e}"))?;
        Ok(config)
    }

    /// The IP address hotline puts in Via, Contact and SDP.
    pub fn media_ip(&self) -> IpAddr {
        self.advertised_ip.unwrap_or(self.sip_listen.ip())
    }
}

/// Parses an optional duration.
fn optional(text: &Option<String>) -> Result<Option<Duration>> {
    text.as_deref().map(parse_duration).transpose()
}

/// Parses `20000-29999` into an inclusive range of even-start RTP ports.
pub fn parse_port_range(text: &str) -> Result<RangeInclusive<u16>> {
    let (lo, hi) = text
        .split_once('-')
        .with_context(|| format!("port range {text:?}: expected LOW-HIGH"))?;
    let lo: u16 = lo
        .trim()
        .parse()
        .with_context(|| format!("port range {text:?}"))?;
    let hi: u16 = hi
        .trim()
        .parse()
        .with_context(|| format!("port range {text:?}"))?;
    if lo == 0 || hi <= lo {
        bail!("port range {text:?}: need 0 < LOW < HIGH");
    }
    Ok(lo..=hi)
}

/// Parses a size in bytes: `1048576`, `512KiB`, `64MiB`, `1GiB`.
pub fn parse_size(text: &str) -> Result<u64> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: u64 = num
        .parse()
        .with_context(|| format!("size {text:?}: bad number"))?;
    let scale: u64 = match unit.trim() {
        "" | "B" => 1,
        "KiB" => 1 << 10,
        "MiB" => 1 << 20,
        "GiB" => 1 << 30,
        _ => bail!("size {text:?}: unit must be B, KiB, MiB or GiB"),
    };
    match n.checked_mul(scale) {
        Some(0) => bail!("size {text:?}: must be more than zero"),
        Some(bytes) => Ok(bytes),
        None => bail!("size {text:?}: too large"),
    }
}

/// Parses `15s`, `1500ms`, `2m`, `1h`, `7d`.
pub fn parse_duration(text: &str) -> Result<Duration> {
    let t = text.trim();
    let (num, unit) = t
        .find(|c: char| !c.is_ascii_digit())
        .map(|i| t.split_at(i))
        .with_context(|| format!("duration {text:?}: missing unit (ms, s, m, h, d)"))?;
    let n: u64 = num
        .parse()
        .with_context(|| format!("duration {text:?}: bad number"))?;
    Ok(match unit {
        "ms" => Duration::from_millis(n),
        "s" => Duration::from_secs(n),
        "m" => Duration::from_secs(n * 60),
        "h" => Duration::from_secs(n * 3600),
        "d" => Duration::from_secs(n * 86_400),
        _ => bail!("duration {text:?}: unit must be ms, s, m, h or d"),
    })
}

#[cfg(test)]
mod tests;
