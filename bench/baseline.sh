#!/usr/bin/env bash
# Benchmark: `flowhound baseline` (read N generated normal flows over 7 days, learn, write the baseline and
# its 7 day states) and `flowhound baseline update` (learn one day, merge it with the 6 others kept, derive,
# write). With PEER=/path/to/flowhound (e.g. a release build of the previous commit) the peer's `baseline`
# runs side by side on the same file. Prints median wall seconds of 3 runs, peak memory, and the size of the
# day states. Usage: bench/baseline.sh [N...]   (default: 10000000; data shared with bench/analyze.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
target=${CARGO_TARGET_DIR:-target}
cargo build --release -q --workspace
bin="$target/release/flowhound"
work=${BENCH_DIR:-/tmp/flowhound-bench}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# runs "$@" 3 times; prints "median_seconds peak_KiB"
timed() {
  local runs
  runs=$(for _ in 1 2 3; do /usr/bin/time -f '%e %M' "$@" 2>&1 >/dev/null | tail -1; done)
  echo "$(echo "$runs" | awk '{print $1}' | median) $(echo "$runs" | awk '{print $2}' | sort -n | tail -1)"
}
for n in ${@:-10000000}; do
  dir="$work/gen-$n"
  [ -f "$dir/normal.parquet" ] || "$bin" generate --quiet --out "$dir" --seed 7 --flows-normal "$n" --flows-test "$n" --flows-servers 1 >/dev/null
  out="$work/rolling-$n"
  mkdir -p "$out"
  last="$out/last-day.parquet"
  [ -f "$last" ] || "$bin" sql -q "SELECT * FROM flows WHERE date_part('day', ts) = 8" "$dir/normal.parquet" -o "$last"
  read -r fh_s fh_kb < <(timed "$bin" baseline -q --threads 2 "$dir/normal.parquet" -o "$out/b.json")
  read -r up_s up_kb < <(timed "$bin" baseline update -q --threads 2 --baseline "$out/b.json" "$last")
  states=$(du -sb "$out/b.json.days" | cut -f1)
  hosts=$(python3 -c "import json,sys; d=json.load(open(sys.argv[1]))['days']; print(sum(x['hosts'] for x in d))" "$out/b.json")
  printf "baseline %d flows (7 days): %.2f s, peak %.0f MiB; update of one day: %.2f s, peak %.0f MiB\n" \
    "$n" "$fh_s" "$((fh_kb / 1024))" "$up_s" "$((up_kb / 1024))"
  awk -v s="$states" -v h="$hosts" -v b="$(stat -c %s "$out/b.json")" 'BEGIN {
    printf "day states: %d bytes for %d host-days = %.0f bytes per host per day; baseline file %d bytes\n", s, h, s/h, b }'
  if [ -n "${PEER:-}" ]; then
    read -r p_s p_kb < <(timed "$PEER" baseline -q --threads 2 "$dir/normal.parquet" -o "$out/peer.json")
    awk -v f="$fh_s" -v p="$p_s" -v m="$p_kb" 'BEGIN {
      printf "peer baseline: %.2f s, peak %.0f MiB; ratio this/peer %.2f\n", p, m/1024, f/p }'
  fi
done
