#!/usr/bin/env bash
# Routing core: latency of one routing decision per strategy, routing events/s over a long mixed
# run, and memory per waiting entry, on a seeded world of 10,000 agents, 500 queues and 200 skills
# (see crates/server/src/bench_routing.rs for the world and what each figure times).
# Runs at 5,000 waiting entries (the target) and 100,000 (the stress figure), keeps each JSON
# report in the folder it prints, and shows the tables.
#
# Usage: benches/routing.sh        (env: WAITING, SAMPLES, MIXED_INPUTS, SEED, HOTLINE_BIN)
set -euo pipefail
cd "$(dirname "$0")/.."

WAITING=${WAITING:-"5000 100000"}
SAMPLES=${SAMPLES:-2000}
MIXED_INPUTS=${MIXED_INPUTS:-200000}
SEED=${SEED:-1}
if [[ -z "${HOTLINE_BIN:-}" ]]; then
  cargo build --release -p hotline-server >&2
  HOTLINE_BIN=target/release/hotline
fi
OUT=$(mktemp -d /tmp/hotline-bench.routing.XXXXXX)

for waiting in $WAITING; do
  args=(bench routing --agents 10000 --queues 500 --skills 200 --waiting "$waiting"
    --samples "$SAMPLES" --mixed-inputs "$MIXED_INPUTS" --seed "$SEED")
  echo "== ${args[*]}"
  timeout 1800 "$HOTLINE_BIN" "${args[@]}" --json >"$OUT/routing-$waiting.json"
  timeout 1800 "$HOTLINE_BIN" "${args[@]}"
done
echo "JSON reports in $OUT"
