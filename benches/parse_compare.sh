#!/usr/bin/env bash
# hotline's SIP parser vs rsipstack's, same messages, one run; prints the ratios.
# Usage: benches/parse_compare.sh   (about 30 s; CARGO_TARGET_DIR is honoured)
set -euo pipefail
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-target}"
cargo bench -p hotline-sip --bench rsipstack_comparison -- --noplot "parser comparison" >&2
dir="$target/criterion/parser comparison"
mean() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["mean"]["point_estimate"])' "$dir/$1/$2/new/estimates.json"; }
printf '%-10s %12s %12s %16s %14s %20s\n' message hotline_ns rsipstack_ns rsipstack+typed hotline/rsip "hotline/rsip+typed"
for m in INVITE "200 OK" REGISTER; do
  h=$(mean hotline "$m"); r=$(mean rsipstack "$m"); t=$(mean rsipstack+typed "$m")
  python3 - "$m" "$h" "$r" "$t" <<'PY'
import sys
m, h, r, t = sys.argv[1], *map(float, sys.argv[2:])
print(f"{m:<10} {h:12.0f} {r:12.0f} {t:16.0f} {h/r:14.2f} {h/t:20.2f}")
PY
done
