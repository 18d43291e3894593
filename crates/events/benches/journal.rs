//! Journal throughput: events/s through `EventSink::emit` → writer thread → group-committed
//! fsync, with the default segment size (so rotations are included).
//!
//! `cargo bench -p hotline-events --bench journal [-- EVENTS]` prints one JSON line per run.
//! The journal goes to a temporary directory under `$HOTLINE_BENCH_DIR` (default: the
//! system temp dir); point it at the disk hotline's data dir will live on.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::time::Instant;

use hotline_events::{EventDraft, EventKind, EventPipeline, JournalConfig};

const DEFAULT_EVENTS: u64 = 500_000;
const RUNS: usize = 3;

fn main() {
    let events = std::env::args()
        .skip(1)
        .find_map(|a| a.parse::<u64>().ok())
        .unwrap_or(DEFAULT_EVENTS);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let base = std::env::var_os("HOTLINE_BENCH_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    for run in 1..=RUNS {
        let dir = tempfile::tempdir_in(&base).unwrap();
        runtime.block_on(async {
            let (sink, handle) =
                EventPipeline::start(JournalConfig::new(dir.path(), "bench"), None).unwrap();
            let call = uuid::Uuid::now_v7();
            let start = Instant::now();
            for n in 0..events {
                sink.emit(
                    EventDraft::new(EventKind::CallQueued {
                        position: (n % 100) as u32 + 1,
                    })
                    .call(call)
                    .queue("support"),
                );
            }
            let emitted = start.elapsed();
            let seq = sink.flush().await.unwrap();
            let elapsed = start.elapsed();
            assert_eq!(seq, events);
            let stats = handle.shutdown().await.stats;
            let bytes: u64 = std::fs::read_dir(dir.path())
                .unwrap()
                .filter_map(|e| e.ok()?.metadata().ok())
                .map(|m| m.len())
                .sum();
            println!(
                "{{\"run\":{run},\"events\":{events},\"seconds\":{:.3},\"events_per_s\":{:.0},\
                 \"emit_ns_per_event\":{:.0},\"fsyncs\":{},\"events_per_fsync\":{:.0},\
                 \"bytes_per_event\":{}}}",
                elapsed.as_secs_f64(),
                events as f64 / elapsed.as_secs_f64(),
                emitted.as_nanos() as f64 / events as f64,
                stats.fsyncs,
                events as f64 / stats.fsyncs.max(1) as f64,
                bytes / events.max(1),
            );
        });
    }
}
