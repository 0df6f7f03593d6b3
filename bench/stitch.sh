#!/usr/bin/env bash
# Benchmark: router flows. Exports the N generated test flows (the data of bench/analyze.sh) as a router
# would, one record per direction (the client's record with a client port, the server's answer one second
# later when it had download bytes), into one Parquet file per hour of start time as a collector rotates
# them (DuckDB writes them). Then, side by side, `flowhound analyze` on those one-way files (stitched at
# read time, across files too) and on the biflows they came from, both against the generated normal
# flows. Prints wall seconds and peak RSS of each and checks that both wrote the same findings.
# Usage: bench/stitch.sh [N]   (default: 10000000)
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -c 'import duckdb' 2>/dev/null || pip install -q duckdb
n=${1:-10000000}
target=${CARGO_TARGET_DIR:-target}
cargo build --release -q --workspace
bin="$target/release/flowhound"
work=${BENCH_DIR:-/tmp/flowhound-bench}
dir="$work/gen-$n"
[ -f "$dir/test.parquet" ] || "$bin" generate --quiet --out "$dir" --seed 7 --flows-normal "$n" \
  --flows-test "$n" --flows-servers 1 >/dev/null
out="$work/oneway-$n"
if [ ! -d "$out" ]; then
  python3 - "$dir/test.parquet" "$out" <<'EOF'
import sys, duckdb
src, out = sys.argv[1], sys.argv[2]
duckdb.sql(f"""
COPY (
  WITH f AS MATERIALIZED (SELECT *, 1024 + (row_number() OVER () % 60000) AS cport FROM read_parquet('{src}'))
  SELECT timestamp, src_ip, dst_ip, proto, cport AS src_port, port, up_bytes, 0 AS down_bytes,
         timestamp // 3600 AS hour FROM f
  UNION ALL
  SELECT timestamp + 1, dst_ip, src_ip, proto, port, cport, down_bytes, 0, (timestamp + 1) // 3600
  FROM f WHERE down_bytes > 0
) TO '{out}' (FORMAT PARQUET, PARTITION_BY (hour))""")
EOF
fi
files=$(find "$out" -name '*.parquet' | wc -l)
run() { /usr/bin/time -f '%e %M' "$bin" analyze --quiet --no-rdns --threads 2 --normal "$dir/normal.parquet" \
  --test "$@" 2>&1 >/dev/null | tail -1; }
fmt() { awk '{printf "%.2f s, peak %.2f GiB", $1, $2/1048576}'; }
one=$(run "$out/*/*.parquet" --json "$work/stitched.json")
bi=$(run "$dir/test.parquet" --json "$work/biflows.json")
echo "one-way records, $files hourly files, stitched: $(echo "$one" | fmt)"
echo "the biflows they came from:            $(echo "$bi" | fmt)"
python3 - "$work/stitched.json" "$work/biflows.json" <<'EOF'
import json, sys
# floats to 12 significant digits: sums over the flows in another order differ in the last bit
rounded = lambda x: json.loads(json.dumps(x), parse_float=lambda f: float(f"{float(f):.12g}"))
a, b = (rounded(json.load(open(p))["findings"]) for p in sys.argv[1:])
print("findings: identical" if a == b else f"findings: DIFFER ({len(a)} vs {len(b)})")
EOF
