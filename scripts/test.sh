#!/usr/bin/env bash
# Runs every test: unit, property, scenario and real-peer integration tests (SIPp, baresip, Redis).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo build --workspace --all-targets
# Integration tests start servers on free ports; two threads keep a 2-core machine responsive.
set +e
cargo test --workspace --no-fail-fast -- --test-threads=2 2>&1 | tee target/test-output.txt
status=${PIPESTATUS[0]}
set -e
# One summary line for the whole run.
awk '/^test result:/ { p += $4; f += $6; i += $8 } END { printf "summary: %d passed, %d failed, %d skipped\n", p, f, i }' target/test-output.txt
exit "$status"
