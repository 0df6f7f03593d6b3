#!/usr/bin/env bash
# Benchmark: reading an LZ4 nfcapd file of >= 10M flows that nfdump's own nfcapd wrote, side by side:
# `nfdump -r FILE -o csv > /dev/null` against flowhound reading the same file (`profile --json`, which
# decodes every record into canonical batches and aggregates them, and `convert` to Parquet). Runs
# alternate (nfdump, flowhound, nfdump, ...) and the medians of 3 are compared, with CPU seconds
# (user+sys) alongside wall seconds as the machine is shared. REPS=N changes the number of runs.
# The file is made once (in $BENCH_DIR, default /tmp/flowhound-bench): nfcapd -y (LZ4) receives
# 10.5M NetFlow v9 flows from bench/netflow_sender.py on loopback.
# Usage: bench/nfcapd.sh [FLOWS]   (default 10500000)
set -euo pipefail
cd "$(dirname "$0")/.."
target=${CARGO_TARGET_DIR:-target}
[ -n "${FLOWHOUND_BIN:-}" ] || cargo build --release -q --workspace
bin=$(realpath "${FLOWHOUND_BIN:-$target/release/flowhound}")
flows=${1:-10500000}
work=${BENCH_DIR:-/tmp/flowhound-bench}
mkdir -p "$work"
file="$work/nfcapd.$flows.lz4"
if [ ! -f "$file" ]; then
  port=${BENCH_PORT:-29956}
  dir=$(mktemp -d "$work/nfcapd.XXXX")
  nfcapd -b 127.0.0.1 -p "$port" -w "$dir" -t 3600 -y -B 8388608 >"$dir.log" 2>&1 &
  pid=$!
  sleep 1
  python3 bench/netflow_sender.py --to "127.0.0.1:$port" --rate 300000 --flows "$flows" >/dev/null
  sleep 2
  kill -TERM "$pid"
  wait "$pid" || true
  mv "$dir"/nfcapd.* "$file"
  rm -rf "$dir"
fi
n=$(nfdump -r "$file" -I | awk '/^Flows:/ {print $2}')
echo "file: $file, $n flows (nfdump -I), $(du -m "$file" | cut -f1) MiB, LZ4 blocks"

timed() { /usr/bin/time -f '%e %U %S %M' "$@" 2>&1 >/dev/null | tail -1; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
declare -A wall cpu
for _ in $(seq "${REPS:-3}"); do
  r=$(timed sh -c "nfdump -r '$file' -o csv > /dev/null")
  wall[nfdump]+="$(echo "$r" | awk '{print $1}') "; cpu[nfdump]+="$(echo "$r" | awk '{print $2+$3}') "
  r=$(timed "$bin" profile --quiet --json --threads 1 "$file")
  wall[profile]+="$(echo "$r" | awk '{print $1}') "; cpu[profile]+="$(echo "$r" | awk '{print $2+$3}') "
  r=$(timed "$bin" convert --quiet --threads 1 "$file" -o "$work/nfcapd-bench.parquet")
  wall[convert]+="$(echo "$r" | awk '{print $1}') "; cpu[convert]+="$(echo "$r" | awk '{print $2+$3}') "
done
got=$("$bin" profile --quiet --json "$file" | python3 -c 'import json,sys; print(json.load(sys.stdin)["flows"])')
[ "$got" = "$n" ] || echo "warning: flowhound read $got flows, nfdump says $n" >&2
nf_w=$(echo "${wall[nfdump]}" | tr ' ' '\n' | grep . | median)
nf_c=$(echo "${cpu[nfdump]}" | tr ' ' '\n' | grep . | median)
for job in profile convert; do
  w=$(echo "${wall[$job]}" | tr ' ' '\n' | grep . | median)
  c=$(echo "${cpu[$job]}" | tr ' ' '\n' | grep . | median)
  awk -v j="$job" -v w="$w" -v c="$c" -v nw="$nf_w" -v nc="$nf_c" -v n="$n" 'BEGIN {
    printf "flowhound %-8s %6.2f s wall (%6.2f s CPU, %5.2f M flows/s) | nfdump -o csv %6.2f s wall (%6.2f s CPU) | wall ratio flowhound/nfdump %.2f, CPU ratio %.2f\n",
      j, w, c, n/w/1e6, nw, nc, w/nw, c/nc }'
done
