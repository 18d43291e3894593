//! The campaign engine's own events, serialized by the engine's types as the server journals
//! them (`campaign.<type>` with the engine's fields), are read by the KPIs: the campaign's
//! queue from its specification, each dial, its answer and the detector's verdict.

mod support;

use hotline_campaigns::campaign::{
    AnswerAction, AnswerVerdict, CampaignEvent, CampaignId, CampaignSpec, EntryId, TrunkName,
    TrunkSpec,
};
use hotline_campaigns::{QueueName, E164};
use hotline_events::EventDraft;
use hotline_kpi::{KpiConfig, KpiProjection, Window};
use serde_json::{json, Value};
use support::{kind, Journal};
use time::macros::datetime;

fn number(text: &str) -> E164 {
    E164::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"))
}

/// The journal event of an engine event, as the server writes it: the engine's fields under
/// `campaign.<type>`, the campaign's id in `campaign`.
fn journaled(j: &mut Journal, ms: i64, event: &CampaignEvent) {
    let Ok(Value::Object(mut fields)) = serde_json::to_value(event) else {
        panic!("not an object: {event:?}");
    };
    for k in ["type", "at", "campaign"] {
        fields.remove(k);
    }
    fields.insert(
        "type".into(),
        json!(format!("campaign.{}", event.type_name())),
    );
    fields.insert("campaign".into(), json!(event.campaign().as_str()));
    j.push(ms, EventDraft::new(kind(Value::Object(fields))));
}

#[test]
fn the_engines_dials_answers_and_verdicts_count_in_the_campaigns_queue() {
    let mut j = Journal::new(datetime!(2026-12-07 09:00 UTC));
    let t = "2026-12-07T09:00:00Z"
        .parse()
        .unwrap_or_else(|e| panic!("{e}"));
    let campaign = CampaignId::new("renewals");
    let spec = CampaignSpec::new(
        campaign.clone(),
        QueueName::new("sales"),
        number("+442071234567"),
        TrunkSpec {
            name: TrunkName::new("carrier"),
            channels: 30,
        },
    );
    let c = || campaign.clone();
    let started = |entry: u64| CampaignEvent::AttemptStarted {
        at: t,
        campaign: c(),
        entry: EntryId(entry),
        attempt: 1,
        number: number("+442079460001"),
        trunk: TrunkName::new("carrier"),
        agent: None,
    };
    let picked_up = |entry: u64| CampaignEvent::PickedUp {
        at: t,
        campaign: c(),
        entry: EntryId(entry),
        attempt: 1,
    };
    let answered = |entry: u64, verdict, action| CampaignEvent::Answered {
        at: t,
        campaign: c(),
        entry: EntryId(entry),
        attempt: 1,
        verdict,
        action,
    };
    journaled(
        &mut j,
        0,
        &CampaignEvent::Created {
            at: t,
            spec: Box::new(spec),
        },
    );
    // A person; a machine (dropped); a not-sure answer passed to an agent (live); no answer.
    let person = AnswerAction::ToAgent { live: true };
    let steps = [
        (1, Some((AnswerVerdict::Human, person))),
        (2, Some((AnswerVerdict::Machine, AnswerAction::Drop))),
        (3, Some((AnswerVerdict::NotSure, person))),
        (4, None),
    ];
    for (entry, answer) in steps {
        let ms = i64::try_from(entry).unwrap_or(0) * 10_000;
        journaled(&mut j, ms, &started(entry));
        if let Some((verdict, action)) = answer {
            journaled(&mut j, ms + 2_000, &picked_up(entry));
            journaled(&mut j, ms + 4_000, &answered(entry, verdict, action));
        }
    }
    let snap = KpiProjection::from_events(KpiConfig::default(), &j.events).snapshot(j.at(60_000));
    let w = snap.queues["sales"]
        .windows
        .iter()
        .find(|w| w.window == Window::Rolling { seconds: 900 })
        .map(|w| w.kpis.campaigns.clone())
        .unwrap_or_default();
    assert_eq!((w.dialed, w.answered), (4, 3), "{w:?}");
    assert_eq!((w.live_answers, w.machine_answers), (2, 1), "{w:?}");
    assert_eq!(w.answer_rate, Some(0.75));
    // Dials are no calls of the queue.
    let k = &snap.queues["sales"].windows[0].kpis;
    assert_eq!((k.offered, k.handled), (0, 0));
}
