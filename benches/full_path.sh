#!/usr/bin/env bash
# Full path: highest number of concurrent calls with no RTP loss.
#
# Each call dials 300 (benches/dialplan_full_path.yaml): hotline answers, plays the 3.5 s
# `please_hold` prompt as a menu, times out to queue `support` after 500 ms (no DTMF: see the
# dialplan's header), offers the call to a bench agent, and bridges it. Callers and agents both
# stream PCMU (SIPp rtp_stream, 50 packets/s each way) from answer to BYE; the caller hangs up
# after CALL_MS (IVR ~4 s + offer + 10 s talk). A step's calls are all started within RAMP_SECONDS
# and then all overlap (fresh answering SIPps per step, so their RTP ports start over). A step passes when every call succeeds, the kernel dropped no packet on hotline's
# RTP sockets (/proc/net/udp `drops`, sampled every 100 ms: on loopback a packet is lost when its
# receiver does not read in time), and hotline's RTP counters (/metrics
# hotline_rtp_packets_total, caller legs) reached >= 98% of the nominal packets (calls x stream
# seconds x 50). The same caller and agent scenarios calling each other directly are the
# reference; SIPp's rtp_stream never reads what it receives, so only call success is compared
# there (SIPp's own sockets overflow by design, which is why a machine-wide counter is useless).
#
# Usage: benches/full_path.sh          (env: STEPS, RAMP_SECONDS, CALL_MS)
set -euo pipefail
source "$(dirname "$0")/lib.sh"

STEPS=${STEPS:-"200 500 1000 2000"}
RAMP_SECONDS=${RAMP_SECONDS:-5}
CALL_MS=${CALL_MS:-15000}
FIRST_AGENT=5000
max_c=0
for c in $STEPS; do ((c > max_c)) && max_c=$c; done
AGENTS=${AGENTS:-$((max_c + 20))}

build_hotline
python3 "$BENCH/make_tone.py" "$WORK/tone.ulaw"
CALLER=$(render "$BENCH/sipp/caller_media.xml" "audio=$WORK/tone.ulaw" "call_ms=$CALL_MS")
AGENT=$(render "$BENCH/sipp/agent_media.xml" "audio=$WORK/tone.ulaw")
write_config "$AGENTS" "$FIRST_AGENT" 0s "$BENCH/dialplan_full_path.yaml"
start_hotline
log "registering $AGENTS agents at 127.0.0.1:$AGENT_PORT"
python3 "$BENCH/register_agents.py" "127.0.0.1:$SIP_PORT" "$AGENT_PORT" "$FIRST_AGENT" "$AGENTS" bench >&2

# answerer PORT MEDIA_BASE -> starts the agents' SIPp; its pid in ANSWERER
answerer() {
  sipp -sf "$AGENT" -i 127.0.0.1 -p "$1" -mi 127.0.0.1 -mp "$2" \
    -nostdin -trace_err -error_file "$WORK/answer-errors-$1.log" >/dev/null 2>&1 &
  ANSWERER=$!
  PIDS+=("$ANSWERER")
  sleep 0.5
}

rtp_counter() { # direction -> hotline_rtp_packets_total{direction=...}
  curl -sf "http://127.0.0.1:$HTTP_PORT/metrics" |
    awk -v d="direction=\"$1\"" 'index($0, "hotline_rtp_packets_total{") == 1 && index($0, d) { print $2 }' |
    head -1 | sed 's/^$/0/'
}

# run_calls TARGET_PORT SERVICE CONCURRENCY -> "ok failed hotline_socket_drops seconds"
run_calls() {
  local port=$1 service=$2 c=$3 stat="$WORK/stat-$1-$3.csv" t0 t1 sampler drops
  local rate=$(((c + RAMP_SECONDS - 1) / RAMP_SECONDS))
  answerer "$port_answer" 40000
  python3 "$BENCH/udp_drops.py" 20000 29999 >"$WORK/drops-$port-$c" &
  sampler=$!
  t0=$(date +%s.%N)
  timeout $((CALL_MS / 1000 + RAMP_SECONDS + 60)) sipp "127.0.0.1:$port" -sf "$CALLER" -s "$service" \
    -i 127.0.0.1 -p "$CALLER_PORT" -mi 127.0.0.1 -mp 50000 -r "$rate" -m "$c" -l "$c" \
    -recv_timeout 20000 -nostdin -trace_stat -stf "$stat" -fd 1 \
    -trace_err -error_file "$WORK/caller-errors-$port-$c.log" >/dev/null 2>&1 || true
  t1=$(date +%s.%N)
  kill "$sampler" "$ANSWERER"; wait "$sampler" "$ANSWERER" || true
  read -r drops _ <"$WORK/drops-$port-$c"
  read -r ok failed < <(sipp_stats "$stat")
  echo "$ok $failed $drops $(echo "$t1 - $t0" | bc)"
}

printf '%-6s %6s %6s %8s %10s %10s %8s %10s | %6s %6s %8s %s\n' \
  calls ok failed drops rtp_in% rtp_out% cpu_s verdict ref_ok ref_fl ref_drops ratio
best=0 ref_best=0
for c in $STEPS; do
  in0=$(rtp_counter in); out0=$(rtp_counter out); cpu0=$(cpu_seconds "$HOTLINE_PID")
  done0=$(completed_calls)
  port_answer=$AGENT_PORT
  read -r ok failed uerr _ < <(run_calls "$SIP_PORT" 300 "$c")
  # Counters are added when a call ends; the last BYE may still be in flight.
  sleep 2
  in1=$(rtp_counter in); out1=$(rtp_counter out); cpu1=$(cpu_seconds "$HOTLINE_PID")
  bridged=$(($(completed_calls) - done0))
  if ((bridged < ok)); then failed=$((failed + ok - bridged)); ok=$bridged; fi
  # Nominal packets per call leg: the caller streams for CALL_MS; hotline sends the caller
  # the prompt and then the agent's stream, so about CALL_MS minus the offer time.
  nominal=$(( c * CALL_MS / 20 ))
  in_pct=$(awk -v a="$((in1 - in0))" -v n="$nominal" 'BEGIN { printf "%.1f", 100 * a / n }')
  out_pct=$(awk -v a="$((out1 - out0))" -v n="$nominal" 'BEGIN { printf "%.1f", 100 * a / n }')
  cpu=$(awk -v a="$cpu0" -v b="$cpu1" 'BEGIN { printf "%.1f", b - a }')
  verdict=fail
  if [ "$failed" = 0 ] && [ "$ok" = "$c" ] && [ "$uerr" = 0 ] &&
    awk -v p="$in_pct" 'BEGIN { exit !(p >= 98) }'; then
    verdict=pass; best=$c
  fi
  port_answer=$REF_PORT
  read -r rok rfailed ruerr _ < <(run_calls "$REF_PORT" 300 "$c")
  if [ "$rfailed" = 0 ] && [ "$rok" = "$c" ]; then ref_best=$c; fi
  printf '%-6s %6s %6s %8s %10s %10s %8s %10s | %6s %6s %8s %s\n' \
    "$c" "$ok" "$failed" "$uerr" "$in_pct" "$out_pct" "$cpu" "$verdict" "$rok" "$rfailed" "$ruerr" \
    "$(awk -v a="$ok" -v b="$rok" 'BEGIN { printf "%.2f", b ? a / b : 0 }')"
  [ "$verdict" = pass ] || break
done
echo
echo "full path: highest passing concurrency ${best} calls (reference SIPp<->SIPp passes ${ref_best} at the same steps)"
echo "ratio hotline/reference: $(awk -v a="$best" -v b="$ref_best" 'BEGIN { printf "%.2f", b ? a / b : 0 }')"
echo "work dir (logs, SIPp stats): $WORK"
trap - EXIT
cleanup
