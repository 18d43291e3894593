//! The `http` node: read with positioned errors, run as a CRM request whose JSON answer is mapped
//! into variables and attached to the queue entry, or whose failure takes `on_failure`.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use hotline_dialplan::{
    simulate_with_crm, CallInfo, CrmFixture, Dialplan, HttpFailure, HttpMethod, Ivr, IvrAction,
    IvrTimer, SimulatedCall, SimulationEnd, Step, ValidationContext,
};

const PLAN: &str = r#"version: 1
country: "86"
numbers:
  "1":
    start: lookup
    nodes:
      lookup:
        http:
          url: "/customers?number=${caller}&note=${note}"
          timeout: 2s
          retries: 1
          map: { name: customer.name, tier: /customer/tier, score: customer.score }
          attach: [name, tier]
          on_failure: unknown
        next: known
      known: { queue: support }
      unknown: { set: { data: { tier: none } }, next: to_queue }
      to_queue: { queue: support }
  "2":
    start: post
    nodes:
      post:
        http:
          url: "https://crm.example/lookup"
          method: POST
          body: { number: "${caller}", dialed: "${dialed}" }
          on_failure: done
        next: done
      done: { hangup: true }
"#;

fn plan(source: &str) -> Result<Dialplan, String> {
    Dialplan::parse(source, "test.yaml", &ValidationContext::default()).map_err(|e| e.to_string())
}

fn start(number: &str, caller: &str, t0: Instant) -> (Ivr, Vec<IvrAction>) {
    let plan = Arc::new(plan(PLAN).unwrap_or_else(|e| panic!("{e}")));
    let mut ivr = Ivr::start(
        plan,
        CallInfo::new(number, caller, SystemTime::UNIX_EPOCH),
        t0,
    )
    .unwrap_or_else(|| panic!("number {number}"));
    let actions = std::iter::from_fn(|| ivr.poll_action()).collect();
    (ivr, actions)
}

fn queue_data(actions: &[IvrAction]) -> Option<Vec<(String, String)>> {
    actions.iter().find_map(|a| match a {
        IvrAction::Queue { data, .. } => Some(data.clone().into_iter().collect()),
        _ => None,
    })
}

#[test]
fn a_lookup_asks_for_an_encoded_request_and_maps_the_answer_onto_the_queue_entry() {
    let t0 = Instant::now();
    let (mut ivr, actions) = start("1", "+86 138-0000-0001", t0);
    let [IvrAction::Http(request)] = actions.as_slice() else {
        panic!("expected one http request, got {actions:?}");
    };
    assert_eq!(request.node, "lookup");
    assert_eq!(request.method, HttpMethod::Get);
    assert_eq!(request.url, "/customers?number=%2B8613800000001&note=");
    assert_eq!(request.caller, "+8613800000001");
    assert_eq!(request.timeout, Duration::from_secs(2));
    assert_eq!(request.retries, 1);
    assert_eq!(request.body, None);
    // The executor waits for the result, guarded by the worst case plus slack.
    let (deadline, timer) = ivr.pending_timer().unwrap_or_else(|| panic!("a guard"));
    assert_eq!(timer, IvrTimer::HttpGuard);
    assert!(deadline >= t0 + Duration::from_secs(4));

    ivr.handle_http(
        t0,
        Ok(serde_json::json!({ "customer": { "name": "Li Na", "tier": "gold", "score": 9 } })),
    );
    let actions: Vec<IvrAction> = std::iter::from_fn(|| ivr.poll_action()).collect();
    assert_eq!(
        queue_data(&actions),
        Some(vec![
            ("name".to_owned(), "Li Na".to_owned()),
            ("tier".to_owned(), "gold".to_owned()),
        ]),
        "attached fields only: {actions:?}"
    );
    assert_eq!(
        ivr.attributes().variables.get("score").map(String::as_str),
        Some("9")
    );
    // The call was answered before it was queued.
    assert_eq!(actions.first(), Some(&IvrAction::Answer));
}

#[test]
fn a_failed_lookup_takes_on_failure_and_a_late_result_is_ignored() {
    let t0 = Instant::now();
    let (mut ivr, _) = start("1", "13800000001", t0);
    ivr.handle_http(t0, Err(HttpFailure::Status(503)));
    let actions: Vec<IvrAction> = std::iter::from_fn(|| ivr.poll_action()).collect();
    assert_eq!(
        queue_data(&actions),
        Some(vec![("tier".to_owned(), "none".to_owned())])
    );
    assert!(!ivr.attributes().variables.contains_key("name"));
    ivr.handle_http(
        t0,
        Ok(serde_json::json!({ "customer": { "name": "late" } })),
    );
    assert_eq!(ivr.poll_action(), None);
}

#[test]
fn a_lookup_the_server_never_answers_falls_back_when_its_guard_fires() {
    let t0 = Instant::now();
    let (mut ivr, _) = start("1", "13800000001", t0);
    let (deadline, _) = ivr.pending_timer().unwrap_or_else(|| panic!("a guard"));
    ivr.handle_timeout(deadline - Duration::from_millis(1));
    assert_eq!(ivr.poll_action(), None, "not due yet");
    ivr.handle_timeout(deadline);
    let actions: Vec<IvrAction> = std::iter::from_fn(|| ivr.poll_action()).collect();
    assert_eq!(ivr.current_node(), "to_queue", "{actions:?}");
}

#[test]
fn a_post_lookup_sends_its_body_as_a_json_object() {
    let t0 = Instant::now();
    let (_, actions) = start("2", "+8613800000001", t0);
    let [IvrAction::Http(request)] = actions.as_slice() else {
        panic!("expected one http request, got {actions:?}");
    };
    assert_eq!(request.method, HttpMethod::Post);
    assert_eq!(request.url, "https://crm.example/lookup");
    let body: serde_json::Value =
        serde_json::from_str(request.body.as_deref().unwrap_or_default()).unwrap_or_default();
    assert_eq!(
        body,
        serde_json::json!({ "number": "+8613800000001", "dialed": "2" })
    );
}

#[test]
fn simulate_answers_lookups_from_a_fixture_or_takes_the_fallback() {
    let plan = Arc::new(plan(PLAN).unwrap_or_else(|e| panic!("{e}")));
    let fixture = CrmFixture::parse(
        r#"{ "+8613800000001": { "customer": { "name": "Li Na", "tier": "gold" } } }"#,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let call = |from: &str| SimulatedCall {
        to: "1".into(),
        from: from.into(),
        at: SystemTime::UNIX_EPOCH,
        keys: Vec::new(),
    };
    let known = simulate_with_crm(
        plan.clone(),
        &call("13800000001"),
        Instant::now(),
        Some(&fixture),
    );
    assert!(known.steps.contains(&Step::Lookup {
        node: "lookup".into(),
        failure: None
    }));
    let SimulationEnd::Queue { data, .. } = &known.end else {
        panic!("queued: {:?}", known.end);
    };
    assert_eq!(data.get("name").map(String::as_str), Some("Li Na"));
    assert_eq!(
        known
            .steps
            .iter()
            .map(ToString::to_string)
            .find(|s| s.starts_with("CRM")),
        Some("CRM lookup in lookup: found".to_owned())
    );

    let stranger = simulate_with_crm(
        plan.clone(),
        &call("13900000000"),
        Instant::now(),
        Some(&fixture),
    );
    assert!(stranger.steps.contains(&Step::Lookup {
        node: "lookup".into(),
        failure: Some(HttpFailure::NotFound)
    }));
    assert!(stranger.steps.contains(&Step::Node("unknown".into())));

    let without = hotline_dialplan::simulate(plan, &call("13800000001"), Instant::now());
    assert!(without.steps.contains(&Step::Node("unknown".into())));
}

#[test]
fn bad_http_nodes_are_reported_where_written() {
    let bad = |node: &str| {
        let source = format!(
            "version: 1\nnumbers:\n  \"1\":\n    start: a\n    nodes:\n      a: {node}\n      b: {{ hangup: true }}\n"
        );
        plan(&source).err().unwrap_or_default()
    };
    let e = bad(r#"{ http: { url: "ftp://x", on_failure: b }, next: b }"#);
    assert!(
        e.contains("test.yaml:6:") && e.contains("bad url `ftp://x`"),
        "{e}"
    );
    let e = bad(r#"{ http: { url: "${base}/x", on_failure: b }, next: b }"#);
    assert!(e.contains("bad url `${base}/x`"), "{e}");
    let e = bad(r#"{ http: { url: "/x" }, next: b }"#);
    assert!(e.contains("needs `on_failure`"), "{e}");
    let e = bad(r#"{ http: { url: "/x", on_failure: b } }"#);
    assert!(e.contains("needs `next`"), "{e}");
    let e = bad(r#"{ http: { url: "/x", timeout: 90s, on_failure: b }, next: b }"#);
    assert!(e.contains("bad timeout `90s`"), "{e}");
    let e = bad(r#"{ http: { url: "/x", retries: 9, on_failure: b }, next: b }"#);
    assert!(e.contains("bad retries `9`"), "{e}");
    let e = bad(r#"{ http: { url: "/x", method: PUT, on_failure: b }, next: b }"#);
    assert!(e.contains("unknown method `PUT`"), "{e}");
    let e = bad(r#"{ http: { url: "/x", body: { a: b }, on_failure: b }, next: b }"#);
    assert!(e.contains("only with `method: POST`"), "{e}");
    let e = bad(r#"{ http: { url: "/x", map: { n: "a..b" }, on_failure: b }, next: b }"#);
    assert!(e.contains("bad field `a..b`"), "{e}");
    let e = bad(r#"{ http: { url: "/x", map: { n: a }, attach: [m], on_failure: b }, next: b }"#);
    assert!(e.contains("`m` is attached but not in `map`"), "{e}");
    let e = bad(r#"{ http: { url: "/x", on_falure: b }, next: b }"#);
    assert!(e.contains("did you mean `on_failure`"), "{e}");
    let e = bad(r#"{ http: { url: "/x", on_failure: nowhere }, next: b }"#);
    assert!(e.contains("nowhere"), "{e}");
}
