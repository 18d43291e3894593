//! Post-call survey KPIs: satisfaction, survey responses and response rate, per queue and
//! per agent, from `survey.*` events.

mod support;

use hotline_events::{EventDraft, EventKind, SurveySkipReason};
use hotline_kpi::{render_prometheus, AgentKpis, KpiConfig, KpiProjection, QueueKpis, Window};
use support::{call, Journal};
use time::macros::datetime;

const LAST_15M: Window = Window::Rolling { seconds: 900 };

fn answered(j: &mut Journal, ms: i64, c: u128, agent: &str, question: u32, score: u8) {
    let kind = EventKind::SurveyAnswered {
        survey: "csat".into(),
        question,
        score,
        campaign: None,
        entry: None,
        attempt: None,
    };
    j.push(
        ms,
        EventDraft::new(kind)
            .call(call(c))
            .queue("support")
            .agent(agent),
    );
}

fn completed(j: &mut Journal, ms: i64, c: u128, agent: &str, n: u32) {
    let kind = EventKind::SurveyCompleted {
        survey: "csat".into(),
        answered: n,
        campaign: None,
        entry: None,
        attempt: None,
    };
    j.push(
        ms,
        EventDraft::new(kind)
            .call(call(c))
            .queue("support")
            .agent(agent),
    );
}

fn skipped(j: &mut Journal, ms: i64, c: u128, agent: &str, n: u32) {
    let kind = EventKind::SurveySkipped {
        survey: "csat".into(),
        answered: n,
        reason: SurveySkipReason::NoAnswer,
        campaign: None,
        entry: None,
        attempt: None,
    };
    j.push(
        ms,
        EventDraft::new(kind)
            .call(call(c))
            .queue("support")
            .agent(agent),
    );
}

/// Three surveys: alice's first caller answers 4 then 5 (completed), alice's second answers
/// 2 then lets the second question time out (skipped), bob's caller answers nothing
/// (skipped).
fn three_surveys() -> Journal {
    let mut j = Journal::new(datetime!(2026-11-23 10:00 UTC));
    j.arrived(0, 1).queued(0, 1, "support");
    j.offered(1_000, 1, "support", "alice")
        .answered(2_000, 1, "support", "alice", 2_000);
    answered(&mut j, 60_000, 1, "alice", 0, 4);
    answered(&mut j, 65_000, 1, "alice", 1, 5);
    completed(&mut j, 65_000, 1, "alice", 2);
    j.ended(70_000, 1);
    answered(&mut j, 120_000, 2, "alice", 0, 2);
    skipped(&mut j, 130_000, 2, "alice", 1);
    skipped(&mut j, 140_000, 3, "bob", 0);
    j
}

fn queue(snap: &hotline_kpi::KpiSnapshot) -> QueueKpis {
    let w = snap.queues["support"].windows.iter();
    w.clone()
        .find(|x| x.window == LAST_15M)
        .map(|x| x.kpis.clone())
        .expect("window present")
}

fn agent(snap: &hotline_kpi::KpiSnapshot, id: &str) -> AgentKpis {
    snap.agents[id]
        .windows
        .iter()
        .find(|x| x.window == LAST_15M)
        .map(|x| x.kpis.clone())
        .expect("window present")
}

#[test]
fn satisfaction_is_the_mean_score_and_response_rate_counts_completed_surveys() {
    let j = three_surveys();
    let snap = KpiProjection::from_events(KpiConfig::default(), &j.events).snapshot(j.at(200_000));
    let q = queue(&snap);
    assert_eq!(q.surveys_offered, 3);
    assert_eq!(q.survey_responses, 1);
    assert_eq!(q.response_rate, Some(1.0 / 3.0));
    // 4 + 5 + 2 over three answers.
    assert_eq!(q.satisfaction, Some(11.0 / 3.0));

    let alice = agent(&snap, "alice");
    assert_eq!(alice.surveys_offered, 2);
    assert_eq!(alice.survey_responses, 1);
    assert_eq!(alice.response_rate, Some(0.5));
    assert_eq!(alice.satisfaction, Some(11.0 / 3.0));
    let bob = agent(&snap, "bob");
    assert_eq!(bob.surveys_offered, 1);
    assert_eq!(bob.survey_responses, 0);
    assert_eq!(bob.response_rate, Some(0.0));
    assert_eq!(bob.satisfaction, None, "bob's caller answered nothing");

    let totals = snap
        .totals
        .queues
        .iter()
        .find(|x| x.window == LAST_15M)
        .expect("window present");
    assert_eq!(totals.kpis.surveys_offered, 3);
    assert_eq!(totals.kpis.satisfaction, Some(11.0 / 3.0));
}

#[test]
fn an_agentless_campaign_survey_counts_for_no_queue_or_agent() {
    let mut j = three_surveys();
    // A campaign call's survey node: no agent, no queue, the campaign's record instead.
    let record = |kind: EventKind| EventDraft::new(kind).call(call(9));
    let campaign = || Some("satisfaction".to_owned());
    j.push(
        150_000,
        record(EventKind::SurveyAnswered {
            survey: "csat".into(),
            question: 0,
            score: 1,
            campaign: campaign(),
            entry: Some(0),
            attempt: Some(1),
        }),
    );
    j.push(
        151_000,
        record(EventKind::SurveyCompleted {
            survey: "csat".into(),
            answered: 1,
            campaign: campaign(),
            entry: Some(0),
            attempt: Some(1),
        }),
    );
    j.push(
        160_000,
        record(EventKind::SurveySkipped {
            survey: "csat".into(),
            answered: 0,
            reason: SurveySkipReason::CallerHungUp,
            campaign: campaign(),
            entry: Some(1),
            attempt: Some(1),
        }),
    );
    let snap = KpiProjection::from_events(KpiConfig::default(), &j.events).snapshot(j.at(200_000));
    // Exactly the three post-call surveys' figures: the campaign's answers are nobody's.
    let q = queue(&snap);
    assert_eq!((q.surveys_offered, q.survey_responses), (3, 1));
    assert_eq!(q.satisfaction, Some(11.0 / 3.0));
    assert_eq!(agent(&snap, "alice").surveys_offered, 2);
    assert_eq!(agent(&snap, "bob").surveys_offered, 1);
    assert_eq!(snap.queues.keys().collect::<Vec<_>>(), ["support"]);
    assert_eq!(snap.agents.keys().collect::<Vec<_>>(), ["alice", "bob"]);
}

#[test]
fn without_surveys_the_rates_are_absent() {
    let mut j = Journal::new(datetime!(2026-11-23 10:00 UTC));
    j.arrived(0, 1).queued(0, 1, "support");
    let snap = KpiProjection::from_events(KpiConfig::default(), &j.events).snapshot(j.at(10_000));
    let q = queue(&snap);
    assert_eq!((q.surveys_offered, q.survey_responses), (0, 0));
    assert_eq!((q.response_rate, q.satisfaction), (None, None));
}

#[test]
fn surveys_count_in_the_window_of_the_survey_and_appear_as_prometheus_gauges() {
    let j = three_surveys();
    // 20 minutes after the last survey event: out of the 15-minute window, still in the day.
    let snap = KpiProjection::from_events(KpiConfig::default(), &j.events)
        .snapshot(j.at(140_000 + 20 * 60_000));
    assert_eq!(queue(&snap).surveys_offered, 0);
    let day = snap.queues["support"]
        .windows
        .iter()
        .find(|x| x.window == Window::Day)
        .expect("day window");
    assert_eq!(day.kpis.survey_responses, 1);

    let snap = KpiProjection::from_events(KpiConfig::default(), &j.events).snapshot(j.at(200_000));
    let text = render_prometheus(&snap.prometheus_samples());
    assert!(
        text.contains(
            "hotline_kpi_queue_satisfaction{queue=\"support\",window=\"last_15m\"} 3.6666"
        ),
        "{text}"
    );
    assert!(
        text.contains("hotline_kpi_agent_response_rate{agent=\"alice\",window=\"last_15m\"} 0.5"),
        "{text}"
    );
    assert!(text
        .contains("hotline_kpi_queue_survey_responses{queue=\"support\",window=\"last_15m\"} 1"));
}

#[test]
fn json_of_an_older_snapshot_without_survey_fields_still_reads() {
    let j = three_surveys();
    let snap = KpiProjection::from_events(KpiConfig::default(), &j.events).snapshot(j.at(200_000));
    let mut value = serde_json::to_value(queue(&snap)).expect("serializes");
    for key in [
        "surveys_offered",
        "survey_responses",
        "response_rate",
        "satisfaction",
    ] {
        value.as_object_mut().expect("object").remove(key);
    }
    let back: QueueKpis = serde_json::from_value(value).expect("reads");
    assert_eq!(back.surveys_offered, 0);
    assert_eq!(back.satisfaction, None);
}

#[test]
fn a_surveyed_call_talks_until_the_agent_hangs_up_not_until_the_survey_ends() {
    use hotline_events::AgentState::{OnCall, Ready, Ringing, WrapUp};
    let mut j = Journal::new(datetime!(2026-11-23 10:00 UTC));
    j.state(
        0,
        "alice",
        hotline_events::AgentState::LoggedOut,
        Ready,
        None,
    );
    j.arrived(0, 1).queued(0, 1, "support");
    j.state(1_000, "alice", Ready, Ringing, None)
        .offered(1_000, 1, "support", "alice");
    j.state(2_000, "alice", Ringing, OnCall, None)
        .answered(2_000, 1, "support", "alice", 2_000);
    // Alice hangs up after 60 s of talk; the caller answers the survey for 13 s more.
    j.state(62_000, "alice", OnCall, WrapUp, None)
        .state(64_000, "alice", WrapUp, Ready, None);
    answered(&mut j, 70_000, 1, "alice", 0, 5);
    completed(&mut j, 70_000, 1, "alice", 1);
    j.ended(75_000, 1);
    let snap = KpiProjection::from_events(KpiConfig::default(), &j.events).snapshot(j.at(100_000));
    let q = queue(&snap);
    assert_eq!(q.handled, 1);
    assert_eq!(q.talk_ms, 60_000);
    assert_eq!(q.aht_s, Some(62.0), "60 s talk + 2 s wrap-up");
    let alice = agent(&snap, "alice");
    assert_eq!(alice.talk_ms, 60_000);
    assert_eq!(alice.handled, 1);
    assert_eq!(q.satisfaction, Some(5.0));
    assert_eq!(snap.calls.in_progress, 0);
}
