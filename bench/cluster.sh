#!/usr/bin/env bash
# Benchmark: the same aggregation SQL (flowhound UDFs included) over N generated flows, run locally
# (`flowhound sql`, 2 threads) and on a loopback Ballista cluster (`flowhound cluster`: one scheduler, two
# executors with one task slot each, so both sides use 2 cores), side by side. Prints the median wall
# seconds of 3 runs each and the ratio cluster/local: the cost of distribution (planning, task dispatch,
# shuffle files and Flight transfers) on one machine. Then `analyze` of ROWS normal + ROWS test generated
# flows (every detector), locally (2 threads) and with --cluster (4 host shards), findings compared.
# Usage: bench/cluster.sh [ROWS]   (default 10000000; ANALYZE=0 skips the analyze part)
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -c 'import pyarrow, numpy' 2>/dev/null || pip install -q pyarrow numpy
target=${CARGO_TARGET_DIR:-target}
[ -n "${SKIP_BUILD:-}" ] || cargo build --release -q --workspace
bin="$target/release/flowhound"
work=${BENCH_DIR:-/tmp/flowhound-bench}
rows=${1:-10000000}
mkdir -p "$work"
raw="$work/flows-$rows.parquet"
file="$work/flows-$rows.canon.parquet"
[ -f "$raw" ] || python3 bench/make_flows.py "$rows" "$raw"
[ -f "$file" ] || "$bin" convert --quiet "$raw" -o "$file"

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
sched="127.0.0.1:$(port)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
"$bin" cluster scheduler --bind "$sched" 2>"$work/scheduler.log" & pids+=($!)
for i in 1 2; do
  "$bin" cluster executor --scheduler "$sched" --bind "127.0.0.1:$(port)" --grpc-port "$(port)" \
    --concurrent-tasks 1 --work-dir "$work" 2>"$work/executor$i.log" & pids+=($!)
done
for _ in $(seq 100); do
  "$bin" cluster status --scheduler "$sched" --min-executors 2 --timeout 1 >/dev/null 2>&1 && break
  sleep 0.2
done
"$bin" cluster status --scheduler "$sched" --min-executors 2

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
secs() {  # wall seconds of one run
  local s e; s=$(date +%s%N)
  "$@" >/dev/null 2>"$work/last.err" || { cat "$work/last.err"; exit 1; }
  e=$(date +%s%N); awk -v d=$((e - s)) 'BEGIN { printf "%.3f\n", d / 1e9 }'
}
run() {  # name sql
  local name=$1 sql=$2 l c
  "$bin" sql "$sql" "$file" -o "$work/local.csv" 2>/dev/null
  "$bin" sql --cluster "df://$sched" "$sql" "$file" -o "$work/cluster.csv" 2>/dev/null
  cmp -s <(sort "$work/local.csv") <(sort "$work/cluster.csv") || { echo "$name: results differ"; exit 1; }
  l=$(for _ in 1 2 3; do secs "$bin" sql "$sql" "$file" -o "$work/local.csv"; done | median)
  c=$(for _ in 1 2 3; do secs "$bin" sql --cluster "df://$sched" "$sql" "$file" -o "$work/cluster.csv"; done | median)
  awk -v n="$rows" -v name="$name" -v l="$l" -v c="$c" 'BEGIN {
    printf "%10d flows, %-34s local %.2f s, cluster (2 executors) %.2f s, ratio cluster/local %.2f\n", n, name, l, c, c/l }'
}
run "per source (ip_str, count distinct):" \
  "SELECT ip_str(src_ip) AS src, count(*) AS flows, sum(up_bytes) AS up, count(DISTINCT dst_ip) AS peers FROM flows GROUP BY 1"
run "per country and proto (geo_country):" \
  "SELECT geo_country(dst_ip) AS cc, proto, count(*) AS flows, sum(up_bytes) AS up, sum(down_bytes) AS down FROM flows GROUP BY 1, 2"

[ "${ANALYZE:-1}" = 1 ] || exit 0
gen="$work/gen-$rows"
[ -f "$gen/test.parquet" ] || "$bin" generate --quiet --out "$gen" --seed 7 --flows-normal "$rows" --flows-test "$rows" --flows-servers 1 >/dev/null
for f in normal test; do
  [ -f "$gen/$f.canon.parquet" ] || "$bin" convert --quiet "$gen/$f.parquet" -o "$gen/$f.canon.parquet"
done
an=(analyze --quiet --no-rdns --normal "$gen/normal.canon.parquet" --test "$gen/test.canon.parquet")
"$bin" "${an[@]}" --threads 2 --json "$work/an-local.json" >/dev/null
"$bin" "${an[@]}" --cluster "df://$sched" --json "$work/an-cluster.json" >/dev/null 2>"$work/last.err" || { cat "$work/last.err"; exit 1; }
python3 - "$work/an-local.json" "$work/an-cluster.json" <<'PY' || exit 1
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
assert a["findings"] == b["findings"], "analyze: findings differ between local and cluster"
print(f"analyze: {len(a['findings'])} findings, equal locally and on the cluster")
PY
l=$(for _ in 1 2 3; do secs "$bin" "${an[@]}" --threads 2 --json "$work/an-local.json"; done | median)
c=$(for _ in 1 2 3; do secs "$bin" "${an[@]}" --cluster "df://$sched" --json "$work/an-cluster.json"; done | median)
awk -v n="$rows" -v l="$l" -v c="$c" 'BEGIN {
  printf "%10d + %d flows, analyze (every detector):       local %.2f s, cluster (2 executors) %.2f s, ratio cluster/local %.2f\n", n, n, l, c, c/l }'
