use super::*;

#[test]
fn bundled_config_loads() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/hotline.yaml");
    let cfg = Config::load(&path).unwrap();
    assert_eq!(cfg.agents.len(), 4);
    assert_eq!(cfg.queues["support"].members, vec!["1001", "1002"]);
    assert_eq!(cfg.queues["billing"].ring_timeout, Duration::from_secs(15));
    assert_eq!(cfg.queues["billing"].wrap_up, Duration::from_secs(2));
    assert_eq!(cfg.rtp_ports, 20000..=29999);
    assert_eq!(cfg.api_token, "hotline-demo-token");
    // Skills, a strategy, a penalty, a priority, a service-level target and a relaxation step.
    assert_eq!(cfg.agents["1002"].skills["french"], 7);
    let billing = &cfg.queues["billing"];
    assert_eq!(billing.strategy, hotline_routing::Strategy::BestSkilled);
    assert_eq!(billing.penalties["1004"], 1);
    assert_eq!(billing.priority, 1);
    let support = &cfg.queues["support"];
    assert_eq!(
        support.service_level,
        Some(hotline_routing::ServiceLevelTarget {
            threshold: Duration::from_secs(20),
            percent: 80,
        })
    );
    assert_eq!(
        support.relaxation,
        vec![hotline_routing::RelaxStep {
            after: Duration::from_secs(60),
            action: hotline_routing::RelaxAction::AddQueues {
                queues: vec![hotline_routing::QueueId::new("billing")],
            },
        }]
    );
}

#[test]
fn queue_kpi_settings_are_parsed_and_checked() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/hotline.yaml");
    let text = std::fs::read_to_string(path).unwrap();
    let cfg = Config::parse(&text).unwrap();
    assert_eq!(cfg.queues["support"].utc_offset, time::UtcOffset::UTC);
    assert_eq!(cfg.queues["support"].short_abandon, None);
    // Adds lines to queue support.
    let with = |lines: &str| {
        text.replace(
            "    strategy: longest_idle\n",
            &format!("    strategy: longest_idle\n{lines}"),
        )
    };
    let cfg = Config::parse(&with("    utc_offset: \"+08:00\"\n    short_abandon: 8s\n")).unwrap();
    let support = &cfg.queues["support"];
    assert_eq!(
        support.utc_offset,
        time::UtcOffset::from_hms(8, 0, 0).unwrap()
    );
    assert_eq!(support.short_abandon, Some(Duration::from_secs(8)));
    let err = format!(
        "{:#}",
        Config::parse(&with("    utc_offset: Mars/Olympus\n")).unwrap_err()
    );
    assert!(err.contains("utc_offset"), "{err}");
    let err = format!(
        "{:#}",
        Config::parse(&with("    short_abandon: 8\n")).unwrap_err()
    );
    assert!(err.contains("short_abandon"), "{err}");
}

#[test]
fn every_routing_setting_is_read() {
    let text = bundled_text()
        .replace(
            "    priority: 1\n",
            "    priority: 1\n    max_wait: 5m\n    max_len: 20\n    join_when_empty: none_logged_in\n    leave_when_empty: none_available\n    weights: { \"1003\": 3 }\n    talk_time_window: 30m\n    expected_handle_time: 4m\n    callback_offer: 90s\n    callback_expiry: 2h\n    callback_retry_delay: 5m\n    callback_max_attempts: 4\n",
        )
        .replace(
            "service_level: { threshold: 30s, percent: 80 }",
            "service_level: { threshold: 30s, percent: 80, window: 2h }",
        )
        .replace(
            "\"1003\": { password: demo1003, name: \"Agent 1003\", skills: { billing: 9 } }",
            "\"1003\": { password: demo1003, skills: { billing: 9 }, wrap_up: 10s, max_missed_offers: 3 }",
        )
        .replace(
            "  not_ready_reasons: []\n  seed: 0",
            "  not_ready_reasons: [lunch, training]\n  seed: 42",
        );
    let cfg = Config::parse(&text).unwrap();
    let routing = crate::routing_config::router_config(&cfg);
    let billing = routing
        .queues
        .iter()
        .find(|q| q.id.as_str() == "billing")
        .unwrap();
    assert_eq!(billing.max_wait, Some(Duration::from_secs(300)));
    assert_eq!(billing.max_len, Some(20));
    assert_eq!(
        billing.join_when_empty,
        hotline_routing::EmptyRule::NoneLoggedIn
    );
    assert_eq!(
        billing.leave_when_empty,
        hotline_routing::EmptyRule::NoneAvailable
    );
    assert_eq!(billing.weights[&hotline_routing::AgentId::new("1003")], 3);
    assert_eq!(billing.talk_time_window, Duration::from_secs(1800));
    assert_eq!(billing.expected_handle_time, Duration::from_secs(240));
    assert_eq!(billing.service_level_window, Duration::from_secs(7200));
    assert_eq!(billing.callback_offer, Some(Duration::from_secs(90)));
    assert_eq!(billing.callback_expiry, Some(Duration::from_secs(7200)));
    assert_eq!(billing.callback_retry_delay, Duration::from_secs(300));
    assert_eq!(billing.callback_max_attempts, 4);
    let agent = &routing.agent_settings[&hotline_routing::AgentId::new("1003")];
    assert_eq!(agent.wrap_up, Some(Duration::from_secs(10)));
    assert_eq!(agent.max_missed_offers, 3);
    assert_eq!(routing.not_ready_reasons, vec!["lunch", "training"]);
    assert_eq!(routing.seed, 42);
    // Absent settings keep the router's defaults.
    let support = routing
        .queues
        .iter()
        .find(|q| q.id.as_str() == "support")
        .unwrap();
    assert_eq!(support.max_wait, None);
    assert_eq!(support.service_level_window, Duration::ZERO);
}

#[test]
fn journal_segment_size_and_retention_are_read() {
    let cfg = Config::parse(&bundled_text()).unwrap();
    assert_eq!(
        cfg.journal_segment_bytes,
        hotline_events::DEFAULT_SEGMENT_BYTES
    );
    assert_eq!(cfg.journal_retention, None);
    let text = bundled_text().replace(
        "  node: hotline-1\n",
        "  node: hotline-1\n  segment_size: 16MiB\n  retention: { keep_segments: 4, keep_for: 7d }\n",
    );
    let cfg = Config::parse(&text).unwrap();
    assert_eq!(cfg.journal_segment_bytes, 16 << 20);
    assert_eq!(
        cfg.journal_retention,
        Some(hotline_events::Retention {
            keep_segments: 4,
            keep_for: Duration::from_secs(7 * 86_400),
            require_published: false,
        })
    );
    let bad = bundled_text().replace(
        "  node: hotline-1\n",
        "  node: hotline-1\n  segment_size: lots\n",
    );
    let err = format!("{:#}", Config::parse(&bad).unwrap_err());
    assert!(err.contains("events.segment_size"), "{err}");
}

#[test]
fn wrong_routing_settings_are_refused_with_a_clear_error() {
    let refused = |from: &str, to: &str| {
        let text = bundled_text();
        assert!(text.contains(from), "{from}");
        format!("{:#}", Config::parse(&text.replace(from, to)).unwrap_err())
    };
    let err = refused("    priority: 1\n", "    priority: 1\n    max_wiat: 5m\n");
    assert!(err.contains("max_wiat"), "{err}");
    let err = refused("penalties: { \"1004\": 1 }", "penalties: { \"1001\": 1 }");
    assert!(err.contains("penalties names 1001"), "{err}");
    let err = refused("billing: 9", "billing: 11");
    assert!(err.contains("proficiency 11"), "{err}");
    let err = refused("not_ready_reasons: []", "not_ready_reasons: [lunch, lunch]");
    assert!(err.contains("\"lunch\" is empty or repeated"), "{err}");
    let err = refused(
        "      - { after: 60s, action: { add_queues: { queues: [billing] } } }",
        "      - { after: 60s, action: { add_queues: { queues: [nowhere] } } }",
    );
    assert!(err.contains("nowhere"), "{err}");
    let err = refused("    priority: 1\n", "    priority: 1\n    max_wait: soon\n");
    assert!(err.contains("billing: max_wait"), "{err}");
    let err = refused(
        "demo1004, name: \"Agent 1004\"",
        "demo1004, wrap_up: 5x, name: \"Agent 1004\"",
    );
    assert!(err.contains("5x"), "{err}");
}

fn bundled_text() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/hotline.yaml");
    std::fs::read_to_string(path).unwrap()
}

#[test]
fn durations_and_ranges() {
    assert_eq!(
        parse_duration("1500ms").unwrap(),
        Duration::from_millis(1500)
    );
    assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
    assert!(parse_duration("5").is_err());
    assert_eq!(parse_duration("1h").unwrap(), Duration::from_secs(3600));
    assert_eq!(parse_duration("7d").unwrap(), Duration::from_secs(604_800));
    assert!(parse_duration("5w").is_err());
    assert_eq!(parse_size("64MiB").unwrap(), 64 << 20);
    assert_eq!(parse_size("1000").unwrap(), 1000);
    assert!(parse_size("0KiB").is_err());
    assert!(parse_size("5MB").is_err());
    assert!(parse_port_range("30000-20000").is_err());
    assert_eq!(parse_port_range("40000-40010").unwrap(), 40000..=40010);
}

#[test]
fn unknown_member_is_refused() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/hotline.yaml");
    let text = std::fs::read_to_string(path)
        .unwrap()
        .replace("[\"1001\", \"1002\"]", "[\"1001\", \"9999\"]");
    let err = Config::parse(&text).unwrap_err().to_string();
    assert!(err.contains("9999"), "{err}");
}

#[test]
fn trunks_are_read_and_their_errors_name_the_trunk() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/hotline.yaml");
    let bundled = std::fs::read_to_string(path).unwrap();
    assert!(Config::parse(&bundled).unwrap().trunks.is_empty());
    // The commented example in the bundled file, enabled, is a valid trunk.
    let example: String = bundled
        .lines()
        .skip_while(|l| *l != "# trunks:")
        .take_while(|l| *l == "# trunks:" || l.starts_with("#   "))
        .map(|l| format!("{}\n", &l[2..]))
        .collect();
    let cfg = Config::parse(&format!("{bundled}{example}")).unwrap();
    let carrier = &cfg.trunks["carrier"];
    assert_eq!(carrier.from_number, "+8675512345678");
    assert_eq!(carrier.max_channels, Some(30));
    assert!(carrier.allow.allows("+8613800138000"));
    assert!(!carrier.allow.allows("+15550100"));
    let broken = format!("{bundled}{}", example.replace("\"+8610*\"", "\"8610*\""));
    let err = format!("{:#}", Config::parse(&broken).unwrap_err());
    assert!(
        err.contains("trunk carrier: allow: pattern \"8610*\" must start with +"),
        "{err}"
    );
}

#[test]
fn a_queues_callback_caller_id_must_be_e164_and_its_ring_time_a_duration() {
    let text = bundled_text().replace(
        "    priority: 1\n",
        "    priority: 1\n    callback_caller_id: \"+8675588886666\"\n    callback_ring_timeout: 20s\n",
    );
    let config = Config::parse(&text).unwrap();
    let billing = &config.queues["billing"];
    assert_eq!(
        billing.callback_caller_id.as_deref(),
        Some("+8675588886666")
    );
    assert_eq!(billing.callback_ring_timeout, Some(Duration::from_secs(20)));
    assert_eq!(config.queues["support"].callback_caller_id, None);
    for wrong in ["8675588886666", "+86abc", "+"] {
        let text = bundled_text().replace(
            "    priority: 1\n",
            &format!("    priority: 1\n    callback_caller_id: \"{wrong}\"\n"),
        );
        let err = format!("{:#}", Config::parse(&text).unwrap_err());
        assert!(
            err.contains("billing: callback_caller_id"),
            "{wrong}: {err}"
        );
    }
}
