# Shared helpers of the load benches (sourced). Everything runs on loopback and stops by itself.
# shellcheck shell=bash

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BENCH="$ROOT/benches"
# Five ports free for UDP and TCP on loopback (other servers may run on this machine).
read -r SIP_PORT HTTP_PORT AGENT_PORT CALLER_PORT REF_PORT < <(python3 - <<'PY'
import socket
socks, ports = [], []
while len(ports) < 5:
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind(("127.0.0.1", 0))
    t = socket.socket()
    try:
        t.bind(("127.0.0.1", u.getsockname()[1]))
    except OSError:
        continue
    socks += [u, t]
    ports.append(u.getsockname()[1])
print(*ports)
PY
)
# hotline SIP, hotline HTTP, the SIPp answering for every agent, the SIPp caller, the reference UAS.
WORK=$(mktemp -d /tmp/hotline-bench.XXXXXX)
PIDS=()

log() { echo "[$(date +%T)] $*" >&2; }

cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  pkill -TERM -P $$ 2>/dev/null || true # this script's own children (a SIPp caller mid-step)
  wait 2>/dev/null || true
}
trap cleanup EXIT

build_hotline() {
  if [ -n "${HOTLINE_BIN:-}" ]; then return 0; fi
  log "building hotline (release)"
  (cd "$ROOT" && cargo build --release -q -p hotline-server)
  HOTLINE_BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/hotline"
}

# write_config AGENTS FIRST_AGENT WRAP_UP DIALPLAN -> $WORK/hotline.yaml
write_config() {
  local agents=$1 first=$2 wrap=$3 dialplan=$4
  sed -n '/^queues:/q;p' "$ROOT/config/hotline.yaml" \
    | sed -e "s#dir: prompts#dir: $ROOT/prompts#" \
          -e "s#^dialplan: .*#dialplan: $dialplan#" \
          -e "s#rtp_timeout: .*#rtp_timeout: 30s#" >"$WORK/hotline.yaml"
  {
    echo "queues:"
    echo "  support:"
    echo "    ring_timeout: 15s"
    echo "    wrap_up: $wrap"
    # RECORDING=always records every bench call (the recording load test); default: none.
    if [ -n "${RECORDING:-}" ]; then echo "    recording: { policy: $RECORDING }"; fi
    printf '    members: ['
    seq -s, "$first" $((first + agents - 1)) | sed 's/\([0-9]\+\)/"\1"/g'
    echo "]"
    # The bundled dialplan also routes to `billing`: one agent that never registers.
    echo "  billing:"
    echo "    ring_timeout: 15s"
    echo "    wrap_up: $wrap"
    echo "    members: [\"4999\"]"
    echo "agents:"
    echo "  \"4999\": { password: bench, name: \"Billing\" }"
    for ((a = first; a < first + agents; a++)); do
      echo "  \"$a\": { password: bench, name: \"Bench $a\" }"
    done
  } >>"$WORK/hotline.yaml"
}

start_hotline() {
  mkdir -p "$WORK/data"
  RUST_LOG=${HOTLINE_LOG:-warn} "$HOTLINE_BIN" serve --config "$WORK/hotline.yaml" \
    --data-dir "$WORK/data" --sip-listen "127.0.0.1:$SIP_PORT" \
    --http-listen "127.0.0.1:$HTTP_PORT" --rtp-ports 20000-29999 --grace-period 1 \
    >/dev/null 2>"$WORK/hotline.log" &
  HOTLINE_PID=$!
  PIDS+=("$HOTLINE_PID")
  for _ in $(seq 100); do
    kill -0 "$HOTLINE_PID" 2>/dev/null || break
    curl -sf "http://127.0.0.1:$HTTP_PORT/healthz" >/dev/null && return 0
    sleep 0.1
  done
  log "hotline did not start"; cat "$WORK/hotline.log" >&2; exit 1
}

# CPU seconds (user+system) used so far by a process.
cpu_seconds() {
  awk -v hz="$(getconf CLK_TCK)" '{print ($14 + $15) / hz}' "/proc/$1/stat"
}

# render SCENARIO KEY=VALUE... -> path of a copy with {{KEY}} replaced
render() {
  local src=$1 out
  shift
  out="$WORK/$(basename "$src" .xml)-$RANDOM.xml"
  cp "$src" "$out"
  local kv
  for kv in "$@"; do sed -i "s#{{${kv%%=*}}}#${kv#*=}#g" "$out"; done
  echo "$out"
}

# sipp_stats STATFILE -> "successful failed" from the last line of a -trace_stat file.
sipp_stats() {
  python3 - "$1" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1]), delimiter=';'))
h, last = rows[0], rows[-1]
print(last[h.index("SuccessfulCall(C)")], last[h.index("FailedCall(C)")])
PY
}

# completed_calls -> calls in hotline's journal that an agent answered and that ended normally.
completed_calls() {
  grep -c '"reason": *"completed"' "$WORK/data/events.jsonl" || true
}
