#!/usr/bin/env bash
# Benchmark: `flowhound analyze` (baseline on NORMAL + every default detector on TEST, GeoIP on, DNS off)
# against the same aggregations in DuckDB SQL (bench/analyze_duckdb.py), side by side, on generated data
# of N normal + N test flows. Prints median wall seconds of 3 runs each and flowhound's peak memory.
# Usage: bench/analyze.sh [N...]   (default: 1000000 10000000)
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -c 'import duckdb, pyarrow' 2>/dev/null || pip install -q duckdb pyarrow
target=${CARGO_TARGET_DIR:-target}
cargo build --release -q --workspace
bin="$target/release/flowhound"
work=${BENCH_DIR:-/tmp/flowhound-bench}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
for n in ${@:-1000000 10000000}; do
  dir="$work/gen-$n"
  [ -f "$dir/test.parquet" ] || "$bin" generate --quiet --out "$dir" --seed 7 --flows-normal "$n" --flows-test "$n" --flows-servers 1 >/dev/null
  fh=$(for _ in 1 2 3; do /usr/bin/time -f '%e %M' "$bin" analyze --quiet --no-rdns --threads 2 \
        --normal "$dir/normal.parquet" --test "$dir/test.parquet" --json "$work/findings-$n.json" 2>&1 >/dev/null | tail -1; done)
  fh_s=$(echo "$fh" | awk '{print $1}' | median)
  fh_kb=$(echo "$fh" | awk '{print $2}' | sort -n | tail -1)
  dd_s=$(for _ in 1 2 3; do python3 bench/analyze_duckdb.py "$dir/normal.parquet" "$dir/test.parquet" 2; done | median)
  awk -v n="$n" -v f="$fh_s" -v d="$dd_s" -v m="$fh_kb" 'BEGIN {
    printf "analyze %d + %d flows: flowhound %.2f s (peak %.0f MiB), duckdb %.2f s, ratio flowhound/duckdb %.2f\n", n, n, f, m/1024, d, f/d }'
done
