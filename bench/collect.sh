#!/usr/bin/env bash
# Benchmark: `flowhound collect` on one core (taskset) receiving NetFlow v9 on loopback from
# bench/netflow_sender.py (on the other core), at a ladder of rates, side by side with nfdump's nfcapd
# on the same core and the same datagrams. For each rate and collector: flows sent (sender's counter),
# flows collected (the collector's own total; for flowhound also the rows of the Parquet files), datagrams
# the kernel dropped on the collector's socket (/proc/net/udp), the loss, and the collector's CPU seconds
# per million flows (user+sys, so a load-independent cost). The highest rate with 0 loss is the
# collector's sustained rate on this machine, provided it also kept up (a small lag).
# Usage: bench/collect.sh [SECONDS [RATE...]]   (default: 10 s at 250k 500k 750k 1M flows/s)
set -euo pipefail
cd "$(dirname "$0")/.."
target=${CARGO_TARGET_DIR:-target}
[ -n "${FLOWHOUND_BIN:-}" ] || cargo build --release -q --workspace
bin=$(realpath "${FLOWHOUND_BIN:-$target/release/flowhound}")
secs=${1:-10}
shift || true
rates=${*:-250000 500000 750000 1000000}
work=${BENCH_DIR:-/tmp/flowhound-bench}/collect
mkdir -p "$work"
port=${BENCH_PORT:-29955}
core_rx=${CORE_RX:-0}
core_tx=${CORE_TX:-1}

# Field $1 of the /proc/net/udp line of the socket bound to $port: "drops" (last) or the receive queue.
socket_stat() {
  local hex v
  hex=$(printf '%04X' "$port")
  v=$(awk -v p=":$hex" -v f="$1" '$2 ~ p"$" {
      if (f == "drops") print $NF; else { split($5, q, ":"); print q[2] } }' /proc/net/udp | head -1)
  if [ "$1" = drops ]; then echo "${v:-0}"; else echo $((16#${v:-0})); fi
}

# Runs one collector command (its stderr to $log) under /usr/bin/time, sends at $rate, waits for the
# collector to empty its socket queue, stops it. Prints "sent send_s drain_s drops cpu_s": flows the
# sender sent, its sending seconds, the seconds the collector then needed to catch up, datagrams the
# kernel dropped on the socket, the collector's CPU seconds.
run_one() {
  local rate=$1 log=$2
  shift 2
  taskset -c "$core_rx" /usr/bin/time -f 'CPU %U %S' -o "$log.time" "$@" 2>"$log" &
  local pid=$!
  sleep 1.5
  local report sent send_s
  report=$(taskset -c "$core_tx" python3 bench/netflow_sender.py --to "127.0.0.1:$port" --rate "$rate" --seconds "$secs")
  sent=$(echo "$report" | python3 -c 'import json,sys; print(json.load(sys.stdin)["flows"])')
  send_s=$(echo "$report" | python3 -c 'import json,sys; print(json.load(sys.stdin)["seconds"])')
  local t0 drain_s
  t0=$(date +%s.%N)
  for _ in $(seq 600); do
    [ "$(socket_stat queue)" = 0 ] && break
    sleep 0.1
  done
  drain_s=$(echo "$(date +%s.%N) - $t0" | bc)
  sleep 0.5
  local drops
  drops=$(socket_stat drops)
  kill -TERM "$(pgrep -P "$pid" | head -1)" 2>/dev/null || kill -TERM "$pid"
  wait "$pid" || true
  local cpu
  cpu=$(awk '/^CPU/ {print $2 + $3}' "$log.time")
  echo "$sent $send_s $drain_s $drops $cpu"
}

# One result line: collector rate sent collected drops cpu send_s drain_s.
line() {
  awk -v c="$1" -v r="$2" -v s="$3" -v g="$4" -v d="$5" -v cpu="$6" -v ss="$7" -v ds="$8" 'BEGIN {
    printf "%-10s %-9d %11d %11d %9d %7.2f%% %8.2f %11.0f %9.2f\n",
      c, r, s, g, d, 100*(s-g)/s, ds, g/(ss+ds), cpu/((g+1)/1e6) }'
}

printf '%-10s %-9s %11s %11s %9s %8s %8s %11s %9s\n' collector rate sent collected "drops(dg)" loss "lag s" "flows/s" "CPU s/Mflow"
for rate in $rates; do
  out="$work/fh-$rate"
  rm -rf "$out" && mkdir -p "$out"
  read -r sent send_s drain_s drops cpu < <(run_one "$rate" "$work/fh-$rate.log" \
    "$bin" collect --listen "127.0.0.1:$port" --out "$out" --rotate-secs 3600)
  got=$(sed -n 's/^total: .*flows \([0-9]*\),.*/\1/p' "$work/fh-$rate.log" | tail -1)
  rows=$("$bin" profile --quiet --json "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["flows"])')
  [ "$rows" = "$got" ] || echo "warning: flowhound reported $got flows but its files hold $rows" >&2
  line flowhound "$rate" "$sent" "$got" "$drops" "$cpu" "$send_s" "$drain_s"

  out="$work/nfcapd-$rate"
  rm -rf "$out" && mkdir -p "$out"
  read -r sent send_s drain_s drops cpu < <(run_one "$rate" "$work/nfcapd-$rate.log" \
    nfcapd -b 127.0.0.1 -p "$port" -w "$out" -t 3600 -B 67108864)
  got=$(nfdump -R "$out" -I 2>/dev/null | awk '/^Flows:/ {print $2}')
  line nfcapd "$rate" "$sent" "${got:-0}" "$drops" "$cpu" "$send_s" "$drain_s"
done
echo "lag s: seconds the collector needed after the sender stopped to empty its socket queue; flows/s: flows"
echo "collected / (sending + lag) seconds, the rate the collector sustained; CPU s/Mflow: collector CPU per"
echo "million flows collected. The receive buffers differ: flowhound asks for 64 MiB (SO_RCVBUFFORCE as root),"
echo "nfcapd -B 64 MiB is capped at net.core.rmem_max ($(cat /proc/sys/net/core/rmem_max) bytes)."
