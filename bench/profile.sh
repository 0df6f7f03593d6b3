#!/usr/bin/env bash
# Benchmark: `flowhound profile` against the same aggregations in DuckDB, side by side, on 1M and 10M
# synthetic flows (analysts' Parquet schema). Prints median wall seconds of 3 runs each and flowhound's
# peak memory. Usage: bench/profile.sh [ROWS...]   (default: 1000000 10000000)
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -c 'import duckdb, pyarrow, numpy' 2>/dev/null || pip install -q duckdb pyarrow numpy
target=${CARGO_TARGET_DIR:-target}
cargo build --release -q --workspace
bin="$target/release/flowhound"
work=${BENCH_DIR:-/tmp/flowhound-bench}
mkdir -p "$work"
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
for rows in "${@:-1000000 10000000}"; do
  for n in $rows; do
    file="$work/flows-$n.parquet"
    [ -f "$file" ] || python3 bench/make_flows.py "$n" "$file"
    fh=$(for _ in 1 2 3; do /usr/bin/time -f '%e %M' "$bin" profile --quiet --json --threads 2 "$file" 2>&1 >/dev/null | tail -1; done)
    fh_s=$(echo "$fh" | awk '{print $1}' | median)
    fh_kb=$(echo "$fh" | awk '{print $2}' | sort -n | tail -1)
    dd_s=$(for _ in 1 2 3; do python3 bench/profile_duckdb.py "$file" 2; done | median)
    awk -v n="$n" -v f="$fh_s" -v d="$dd_s" -v m="$fh_kb" 'BEGIN {
      printf "%10d flows: flowhound %.2f s (peak %.0f MiB), duckdb %.2f s, ratio flowhound/duckdb %.2f\n", n, f, m/1024, d, f/d }'
  done
done
