#!/usr/bin/env bash
# ACD signaling path: highest calls/s with < 0.1% failed calls.
#
# AGENTS bench agents (queue `support`, wrap-up 0 s) are registered from one UDP port where a
# single SIPp auto-answers every offer. A SIPp caller dials 200 (straight into `support`, no
# prompt, see dialplans/default.yaml) at RATE calls/s for STEP_SECONDS, each call talking TALK_MS
# without media, then BYE. The rate steps up until a step has >= 0.1% failed calls. The same
# caller scenario then calls a SIPp UAS directly at the same rates: the reference.
# A call counts as successful when SIPp completed it AND hotline's journal shows it ended
# `completed` (an agent answered it; hotline answers the caller at once, so SIPp alone cannot
# tell a bridged call from one that waited in the queue until the caller hung up).
# A step passes when < 0.1% of its calls failed and the achieved rate (calls / (elapsed - talk
# time)) is >= 95% of the offered rate: a server that falls behind makes calls queue, not fail.
#
# Usage: benches/acd_cps.sh            (env: RATES, AGENTS, STEP_SECONDS, TALK_MS)
set -euo pipefail
source "$(dirname "$0")/lib.sh"

RATES=${RATES:-"100 200 300 500 700 1000 1400 2000"}
AGENTS=${AGENTS:-1500}
STEP_SECONDS=${STEP_SECONDS:-5}
TALK_MS=${TALK_MS:-1000}
FIRST_AGENT=5000

# run_step TARGET_PORT RATE -> prints "rate ok failed elapsed"
run_step() {
  local port=$1 rate=$2 calls=$(($2 * STEP_SECONDS)) stat="$WORK/stat-$1-$2.csv" t0 t1
  t0=$(date +%s.%N)
  timeout $((STEP_SECONDS + 40)) sipp "127.0.0.1:$port" -sf "$UAC" -s 200 \
    -i 127.0.0.1 -p "$CALLER_PORT" -mi 127.0.0.1 -mp 40000 -r "$rate" -rp 1000 -m "$calls" \
    -l 5000 -recv_timeout 8000 -nostdin -trace_stat -stf "$stat" -fd 1 \
    -trace_err -error_file "$WORK/caller-errors-$port-$rate.log" >/dev/null 2>&1 || true
  t1=$(date +%s.%N)
  read -r ok failed < <(sipp_stats "$stat")
  echo "$rate $ok $failed $(echo "$t1 - $t0" | bc)"
}

passes() { # ok failed achieved offered -> success when failed < 0.1% and achieved >= 95%
  awk -v ok="$1" -v f="$2" -v a="$3" -v r="$4" \
    'BEGIN { exit !((ok + f) > 0 && f * 1000 < (ok + f) && a >= 0.95 * r) }'
}

achieved() { # calls elapsed_s -> calls/s over the time calls were being started
  awk -v n="$1" -v t="$2" -v talk="$TALK_MS" 'BEGIN { d = t - talk / 1000; printf "%.0f", (d > 0 ? n / d : 0) }'
}

build_hotline
UAC=$(render "$BENCH/sipp/uac_call.xml" "talk_ms=$TALK_MS")
write_config "$AGENTS" "$FIRST_AGENT" 0s "$ROOT/dialplans/default.yaml"
start_hotline
log "registering $AGENTS agents at 127.0.0.1:$AGENT_PORT"
python3 "$BENCH/register_agents.py" "127.0.0.1:$SIP_PORT" "$AGENT_PORT" "$FIRST_AGENT" "$AGENTS" bench >&2
sipp -sf "$BENCH/sipp/uas_answer.xml" -i 127.0.0.1 -p "$AGENT_PORT" -mi 127.0.0.1 -mp 50000 \
  -nostdin -trace_err -error_file "$WORK/agents-errors.log" >/dev/null 2>&1 &
PIDS+=($!)
sipp -sf "$BENCH/sipp/uas_answer.xml" -i 127.0.0.1 -p "$REF_PORT" -mi 127.0.0.1 -mp 52000 \
  -nostdin -trace_err -error_file "$WORK/ref-errors.log" >/dev/null 2>&1 &
PIDS+=($!)
sleep 1

printf '%-6s | %8s %6s %8s %8s | %8s %6s %8s | %6s %s\n' offered hl_ok failed achieved cpu_ms ref_ok failed achieved ratio verdict
best=0 ref_best=0
for rate in $RATES; do
  cpu0=$(cpu_seconds "$HOTLINE_PID")
  done0=$(completed_calls)
  read -r _ ok failed el < <(run_step "$SIP_PORT" "$rate")
  cpu1=$(cpu_seconds "$HOTLINE_PID")
  sleep 2 # calls end in the journal once the agent leg's BYE is answered
  bridged=$(($(completed_calls) - done0))
  if ((bridged < ok)); then failed=$((failed + ok - bridged)); ok=$bridged; fi
  read -r _ rok rfailed rel < <(run_step "$REF_PORT" "$rate")
  ach=$(achieved "$((ok + failed))" "$el"); rach=$(achieved "$((rok + rfailed))" "$rel")
  cpu_per_call=$(awk -v a="$cpu0" -v b="$cpu1" -v n="$((ok + failed))" 'BEGIN { printf "%.2f", n ? (b - a) * 1000 / n : 0 }')
  verdict=fail
  if passes "$ok" "$failed" "$ach" "$rate"; then verdict=pass; best=$rate; fi
  if passes "$rok" "$rfailed" "$rach" "$rate"; then ref_best=$rate; fi
  ratio=$(awk -v a="$ach" -v b="$rach" 'BEGIN { printf "%.2f", b ? a / b : 0 }')
  printf '%-6s | %8s %6s %8s %8s | %8s %6s %8s | %6s %s\n' "$rate" "$ok" "$failed" "$ach" "$cpu_per_call" "$rok" "$rfailed" "$rach" "$ratio" "$verdict"
  [ "$verdict" = pass ] || break
done
echo
echo "ACD signaling path: highest passing rate ${best} calls/s (reference SIPp->SIPp passes ${ref_best} calls/s at the same steps)"
echo "ratio of highest passing rates hotline/reference: $(awk -v a="$best" -v b="$ref_best" 'BEGIN { printf "%.2f", b ? a / b : 0 }')"
echo "work dir (logs, SIPp stats): $WORK"
trap - EXIT
cleanup
