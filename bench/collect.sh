#!/usr/bin/env bash
# Benchmark: `flowhound collect` on one core (taskset) receiving NetFlow v9 on loopback from
# bench/netflow_sender.py (on the other core), at a ladder of rates, side by side with nfdump's nfcapd
# on the same core and the same datagrams. For each rate and collector: flows sent (sender's counter),
# flows collected (the collector's own total; for flowhound also the rows of the Parquet files), datagrams
# the kernel dropped on the collector's socket (/proc/net/udp), the loss, and the collector's CPU seconds
# per million flows (user+sys, so a load-independent cost). The highest rate with 0 loss is the
# collector's sustained rate on this machine.
# Usage: bench/collect.sh [SECONDS [RATE...]]   (default: 10 s at 250k 500k 750k 1M flows/s)
set -euo pipefail
cd "$(dirname "$0")/.."
target=${CARGO_TARGET_DIR:-target}
[ -n "${NO_BUILD:-}" ] || cargo build --release -q --workspace
bin=$(realpath "$target/release/flowhound")
secs=${1:-10}
shift || true
rates=${*:-250000 500000 750000 1000000}
work=${BENCH_DIR:-/tmp/flowhound-bench}/collect
mkdir -p "$work"
port=${BENCH_PORT:-29955}
core_rx=${CORE_RX:-0}
core_tx=${CORE_TX:-1}

# Kernel drops of the UDP socket bound to $port (last column of /proc/net/udp).
socket_drops() {
  local hex
  hex=$(printf '%04X' "$port")
  awk -v p=":$hex" '$2 ~ p"$" {print $NF; found=1} END {if (!found) print 0}' /proc/net/udp | head -1
}

# Runs one collector command (its stderr to $log) under /usr/bin/time, sends, stops it; prints
# "sent drops cpu_s" (sender flows, kernel-dropped datagrams, collector CPU seconds).
run_one() {
  local rate=$1 log=$2
  shift 2
  taskset -c "$core_rx" /usr/bin/time -f 'CPU %U %S' -o "$log.time" "$@" 2>"$log" &
  local pid=$!
  sleep 1.5
  local sent
  sent=$(taskset -c "$core_tx" python3 bench/netflow_sender.py --to "127.0.0.1:$port" --rate "$rate" --seconds "$secs" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["flows"])')
  sleep 1
  local drops
  drops=$(socket_drops)
  kill -TERM "$(pgrep -P "$pid" | head -1)" 2>/dev/null || kill -TERM "$pid"
  wait "$pid" || true
  local cpu
  cpu=$(awk '/^CPU/ {print $2 + $3}' "$log.time")
  echo "$sent $drops $cpu"
}

printf '%-10s %-9s %11s %11s %9s %8s %9s\n' collector rate sent collected "drops(dg)" loss "CPU s/Mflow"
for rate in $rates; do
  out="$work/fh-$rate"
  rm -rf "$out" && mkdir -p "$out"
  read -r sent drops cpu < <(run_one "$rate" "$work/fh-$rate.log" \
    "$bin" collect --listen "127.0.0.1:$port" --out "$out" --rotate-secs 3600)
  got=$(sed -n 's/^total: .*flows \([0-9]*\),.*/\1/p' "$work/fh-$rate.log" | tail -1)
  rows=$("$bin" profile --quiet --json "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["flows"])')
  [ "$rows" = "$got" ] || echo "warning: flowhound reported $got flows but its files hold $rows" >&2
  awk -v c=flowhound -v r="$rate" -v s="$sent" -v g="$got" -v d="$drops" -v cpu="$cpu" 'BEGIN {
    printf "%-10s %-9d %11d %11d %9d %7.2f%% %9.2f\n", c, r, s, g, d, 100*(s-g)/s, cpu/(g/1e6) }'

  out="$work/nfcapd-$rate"
  rm -rf "$out" && mkdir -p "$out"
  read -r sent drops cpu < <(run_one "$rate" "$work/nfcapd-$rate.log" \
    nfcapd -b 127.0.0.1 -p "$port" -w "$out" -t 3600 -B 67108864)
  got=$(nfdump -R "$out" -I 2>/dev/null | awk '/^Flows:/ {print $2}')
  awk -v c=nfcapd -v r="$rate" -v s="$sent" -v g="${got:-0}" -v d="$drops" -v cpu="$cpu" 'BEGIN {
    printf "%-10s %-9d %11d %11d %9d %7.2f%% %9.2f\n", c, r, s, g, d, 100*(s-g)/s, cpu/((g+1)/1e6) }'
done
