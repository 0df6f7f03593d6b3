#!/usr/bin/env bash
# Benchmark: out-of-core analysis (issue 13). On N_NORMAL + N_TEST generated flows, runs `flowhound
# analyze --memory-limit LIMIT` (the test input routed into host shards on disk; the baseline
# learned shard by shard too) beside the in-memory `analyze` of the same files, and DuckDB running the analysis'
# aggregations under the same memory limit (bench/analyze_duckdb.py; its spill files capped so that
# KEEP_FREE_GB, default 8, stay free on the disk). Prints wall seconds and peak RSS of each, and checks
# that the two flowhound runs wrote the same findings.
# Usage: bench/outofcore.sh [N_TEST [N_NORMAL [LIMIT]]]   (default: 30000000 10000000 4GiB)
# Set SKIP_IN_MEMORY=1 when N_TEST flows do not fit in RAM.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -c 'import duckdb, pyarrow' 2>/dev/null || pip install -q duckdb pyarrow
n=${1:-30000000}
nn=${2:-10000000}
limit=${3:-4GiB}
target=${CARGO_TARGET_DIR:-target}
cargo build --release -q --workspace
bin="$target/release/flowhound"
work=${BENCH_DIR:-/tmp/flowhound-bench}
dir="$work/ooc-$nn-$n"
spill="$work/spill"
mkdir -p "$spill"
[ -f "$dir/test.parquet" ] || "$bin" generate --quiet --out "$dir" --seed 7 --flows-normal "$nn" \
  --flows-test "$n" --flows-servers 1 >/dev/null
run() { /usr/bin/time -f '%e %M' "$bin" analyze --quiet --no-rdns --threads 2 --normal "$dir/normal.parquet" \
  --test "$dir/test.parquet" "$@" 2>&1 >/dev/null | tail -1; }
ooc=$(run --memory-limit "$limit" --tmp-dir "$spill" --json "$work/ooc.json")
echo "out of core ($limit): $(echo "$ooc" | awk '{printf "%.1f s, peak %.2f GiB", $1, $2/1048576}')"
if [ -z "${SKIP_IN_MEMORY:-}" ]; then
  mem=$(run --memory-limit 20GiB --json "$work/mem.json")
  echo "in memory:           $(echo "$mem" | awk '{printf "%.1f s, peak %.2f GiB", $1, $2/1048576}')"
  cmp -s "$work/ooc.json" "$work/mem.json" && echo "findings: identical" || echo "findings: DIFFER"
fi
duck_limit=$(echo "$limit" | sed 's/iB$/B/')
# DuckDB spills its temp tables to $spill: cap them so that at least KEEP_FREE_GB (default 8) stay free
free_gb=$(df -BG --output=avail "$spill" | tail -1 | tr -dc 0-9)
max_temp=$((free_gb - ${KEEP_FREE_GB:-8}))
[ "$max_temp" -ge 1 ] || { echo "duckdb: skipped, only ${free_gb} GB free on $spill"; exit 0; }
duck() { /usr/bin/time -f '%M' python3 bench/analyze_duckdb.py "$dir/normal.parquet" "$dir/test.parquet" 2 \
  "$duck_limit" "$spill" "${max_temp}GB" "$@" 2>"$work/duck.time" | head -1 || true; }
peak() { awk '{printf "%.2f GiB", $1/1048576}' "$work/duck.time" | tail -1; }
dd=$(duck)
echo "duckdb ($duck_limit, temp tables, spill capped at ${max_temp} GB): $dd, peak $(peak)"
if [[ "$dd" == failed* ]]; then
  dd=$(duck views)
  echo "duckdb ($duck_limit, views instead of temp tables): $dd, peak $(peak)"
fi
[ -z "$(ls -A "$spill")" ] && echo "spill directory empty after the runs"
