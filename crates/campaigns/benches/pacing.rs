//! The cost of one predictive pacing decision: 20 agents (12 talking at various ages, 5 in
//! wrap-up, 3 free), 9 calls ringing, the answer rate from 4,000 resolved dials, an abandon
//! rate of 1.9% over the window.

// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use hotline_campaigns::pacing::*;

fn bench(c: &mut Criterion) {
    let pacer = Pacer::new(PacerConfig {
        mode: DialMode::Predictive,
        ..PacerConfig::default()
    })
    .unwrap_or_else(|e| panic!("{e}"));
    let mut busy: Vec<BusyAgent> = (0..12)
        .map(|i| BusyAgent::Talking {
            age: Duration::from_secs(15 * i + 3),
        })
        .collect();
    busy.extend((0..5).map(|i| BusyAgent::WrapUp {
        age: Duration::from_secs(3 * i + 1),
    }));
    let input = PacingInput {
        resolved_dials: 4_000,
        live_answers: 1_000,
        talk: LogNormal::from_mean_cv(Duration::from_secs(180), 0.6),
        wrap: LogNormal::from_mean_cv(Duration::from_secs(15), 0.3),
        free_agents: 3,
        busy: &busy,
        ringing: 9,
        waiting_live: 0,
        abandon: AbandonStats {
            live_answered: 1_000,
            abandoned: 19,
        },
    };
    c.bench_function("predictive_decision_20_agents", |b| {
        b.iter(|| black_box(pacer.decide(black_box(&input))))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
