//! The dialplan loader and check never panic on any text, agree on whether it has errors, and a
//! plan that loads can be walked by the executor for every number without panicking.
//!
//! Run with `cargo +nightly fuzz run loader` in `crates/dialplan` (seed it with `dialplans/` and
//! `crates/dialplan/tests/corpus/`).
#![no_main]

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use hotline_dialplan::{check, simulate, CheckContext, Dialplan, SimulatedCall, ValidationContext};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let loaded = Dialplan::parse(text, "fuzz.yaml", &ValidationContext::default());
    let report = check(text, "fuzz.yaml", &CheckContext::default());
    assert_eq!(
        loaded.is_err(),
        report.has_errors(),
        "load and check disagree:\n{}",
        report.render()
    );
    let Ok(plan) = loaded else {
        return;
    };
    let plan = Arc::new(plan);
    // Keys and an arrival time taken from the input, so the walk varies with it.
    let keys: Vec<Option<char>> = data
        .iter()
        .take(16)
        .map(|b| {
            b"0123456789*#"
                .get(usize::from(*b % 13))
                .map(|k| char::from(*k))
        })
        .collect();
    let at = SystemTime::UNIX_EPOCH
        + Duration::from_secs(1_700_000_000 + u64::from(data.len() as u32) * 3_607);
    let numbers: Vec<String> = plan.numbers().map(str::to_owned).collect();
    for to in numbers {
        let call = SimulatedCall {
            to,
            from: "+8613800000000".to_owned(),
            at,
            keys: keys.clone(),
        };
        let _ = simulate(Arc::clone(&plan), &call, Instant::now());
    }
});
