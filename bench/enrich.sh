#!/usr/bin/env bash
# Benchmark: `flowhound enrich` (embedded database, distinct-IP lookups) on N flows, against the analysts'
# per-row pygeoip job on a 100k-row sample of the same file, extrapolated to N.
# Usage: bench/enrich.sh [ROWS]   (default 10000000). Needs ../shared/testdata/geoip for pygeoip's files.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-10000000}
python3 -c 'import pygeoip, pyarrow, pandas' 2>/dev/null || pip install -q pygeoip pyarrow pandas numpy
target=${CARGO_TARGET_DIR:-target}
cargo build --release -q --workspace
bin="$target/release/flowhound"
work=${BENCH_DIR:-/tmp/flowhound-bench}
mkdir -p "$work"
file="$work/flows-$n.parquet"
[ -f "$file" ] || python3 bench/make_flows.py "$n" "$file"
out=$( { /usr/bin/time -f '%e %M' "$bin" enrich --quiet --threads 2 "$file" -o "$work/enriched.parquet" >/dev/null; } 2>&1 | tail -1)
fh_s=$(echo "$out" | awk '{print $1}'); fh_kb=$(echo "$out" | awk '{print $2}')
geo=../shared/testdata/geoip
if [ -f "$geo/GeoIP.dat" ]; then
  read -r rows py_s < <(python3 bench/enrich_pygeoip.py "$file" "$geo/GeoIP.dat" "$geo/GeoIPASNum.dat" 100000)
  awk -v n="$n" -v f="$fh_s" -v m="$fh_kb" -v r="$rows" -v p="$py_s" 'BEGIN {
    x = p * n / r
    printf "enrich %d flows: flowhound %.2f s (peak %.0f MiB); pygeoip per row %.2f s for %d rows -> %.0f s extrapolated; speed-up %.0fx\n", n, f, m/1024, p, r, x, x/f }'
else
  echo "enrich $n flows: flowhound $fh_s s (peak $((fh_kb/1024)) MiB); pygeoip comparison skipped (no ../shared/testdata/geoip)"
fi
