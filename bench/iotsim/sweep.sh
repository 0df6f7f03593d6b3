#!/usr/bin/env bash
# Generate every iotsim family with a few seeds, run flowhound on each, print a results table.
# usage: bench/iotsim/sweep.sh [SEEDS...]   (default: 1 2 3)
# env: OUT (default /tmp/iotsim/caps), FH (default /tmp/iotsim/flowhound), FAMILIES (space-separated)
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
OUT="${OUT:-/tmp/iotsim/caps}"
FH="${FH:-/tmp/iotsim/flowhound}"
SEEDS=("$@"); [ ${#SEEDS[@]} -eq 0 ] && SEEDS=(1 2 3)
FAMILIES="${FAMILIES:-mirai-scan okiru gagfyt muhstik ircbot hajime kenjiro hide-and-seek torii benign-speaker benign-camera benign-plug benign-lamp benign-lock}"
mkdir -p "$OUT"
for fam in $FAMILIES; do
  for s in "${SEEDS[@]}"; do
    f="$OUT/$fam-$s.csv"
    [ -s "$f" ] || python3 "$HERE/iotsim.py" --family "$fam" --seed "$s" --out "$f"
    python3 "$HERE/score.py" "$f" --fh "$FH" >/dev/null
    rm -f "$f.tmp"
  done
done
python3 "$HERE/table.py" "$OUT"
