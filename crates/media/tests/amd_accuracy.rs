//! Accuracy of answering-machine detection on a synthetic labelled set: espeak-ng greetings of
//! people and voicemails (several voices, speeds, pitches; line noise at several SNRs; G.711).
//! Needs espeak-ng (scripts/setup.sh installs it) and fails without it.
//!
//! `cargo test -p hotline-media --test amd_accuracy -- --nocapture` prints the figures;
//! `AMD_SEED=<n>` draws another set.

mod amd_corpus;

use amd_corpus::report::{Outcome, Report};
use amd_corpus::{build_set, Sample, Truth};
use hotline_media::amd::{AmdConfig, AmdDetector, FRAME_SAMPLES};

/// Samples per class.
const PER_CLASS: usize = 80;
/// The set's seed: change it and the set changes, the figures should not much.
const SEED: u64 = 0x00a4_d2026;

/// Runs the detector over the whole sample (past the verdict, to find the beep).
fn detect(config: &AmdConfig, sample: &Sample) -> Outcome {
    let mut detector = AmdDetector::new(config);
    for chunk in sample.samples.chunks_exact(FRAME_SAMPLES) {
        let mut frame = [0i16; FRAME_SAMPLES];
        frame.copy_from_slice(chunk);
        detector.push_frame(&frame);
    }
    let decision = detector
        .decision()
        .expect("every sample is longer than the analysis time");
    let beep = detector.beep();
    Outcome {
        truth: sample.truth,
        decision,
        beep_error_ms: match (beep, sample.beep_start_ms) {
            (Some(found), Some(start)) => Some(i64::from(found.start_ms) - i64::from(start)),
            _ => None,
        },
        false_beep: sample.truth == Truth::Human && beep.is_some(),
        snr_db: sample.snr_db,
    }
}

#[test]
fn amd_is_at_least_90_percent_accurate_on_synthetic_greetings() {
    // AMD_SEED draws another set (the figures should move little).
    let seed = std::env::var("AMD_SEED").map_or(SEED, |s| {
        s.parse()
            .unwrap_or_else(|_| panic!("AMD_SEED must be a number, not {s:?}"))
    });
    let set = build_set(PER_CLASS, seed, 4);
    let humans = set.iter().filter(|s| s.truth == Truth::Human).count();
    assert!(
        humans >= 60 && set.len() - humans >= 60,
        "at least 60 per class"
    );
    let config = AmdConfig::default();
    let outcomes: Vec<Outcome> = set.iter().map(|s| detect(&config, s)).collect();
    for (sample, outcome) in set.iter().zip(&outcomes) {
        if !outcome.correct() || outcome.false_beep {
            println!("miss: {} -> {:?}", sample.label, outcome.decision);
        }
    }
    let report = Report::new(&outcomes);
    println!("{}", report.markdown());
    assert!(report.accuracy >= 0.90, "accuracy {:.3}", report.accuracy);
    assert!(
        report.human_latency_ms <= 2500.0,
        "people decided after {:.0} ms on average",
        report.human_latency_ms
    );
    // Leaving a message needs the beep: found on nearly every machine, never on a person.
    let machines = set.len() - humans;
    assert!(
        report.beeps_found * 10 >= machines * 9,
        "beep found on {} of {machines} machines",
        report.beeps_found
    );
    assert_eq!(report.false_beeps, 0, "beeps reported on people");
}
