#!/usr/bin/env bash
# othersim sweep: bench/othersim/sweep.sh COUNT [FIRST_SEED] [CTU_COUNT]
# Generates COUNT corporate configurations (seeds FIRST_SEED..) and CTU_COUNT (default 4) CTU-style
# captures, runs /tmp/othersim/flowhound on each, scores them and writes /tmp/othersim/report.md.
set -u
COUNT=${1:-12}; FIRST=${2:-1}; CTU=${3:-4}
HERE=$(cd "$(dirname "$0")" && pwd)
BIN=/tmp/othersim/flowhound
RUNS=/tmp/othersim/runs
mkdir -p "$RUNS"
[ -x "$BIN" ] || { echo "copy the binary to $BIN first" >&2; exit 1; }
dirs=()
for ((seed = FIRST; seed < FIRST + COUNT; seed++)); do
  d=$RUNS/corp-$seed
  python3 "$HERE/othersim.py" --seed "$seed" --out "$d" > "$d.gen.log" 2>&1 || { echo "seed $seed: generator failed" >&2; cat "$d.gen.log" >&2; continue; }
  # the analyst knows the organisation's own networks (internal /24s, the public/DMZ server range)
  INT=$(python3 -c "import json;print(' '.join('--internal '+n for n in json.load(open('$d/truth.json'))['internal']))")
  start=$(date +%s.%N)
  "$BIN" analyze --normal "$d/normal.parquet" --test "$d/test.parquet" "$d/servers.parquet" $INT \
      --json "$d/findings.json" --min-severity low --no-rdns -q > "$d/analyze.txt" 2>&1 || { echo "seed $seed: analyze failed" >&2; tail -5 "$d/analyze.txt" >&2; continue; }
  echo "$(date +%s.%N) - $start" | bc > "$d/analyze.secs"
  python3 "$HERE/score.py" corp "$d"
  dirs+=("$d")
done
for ((seed = FIRST; seed < FIRST + CTU; seed++)); do
  d=$RUNS/ctu-$seed
  python3 "$HERE/ctu_style.py" --seed "$seed" --out "$d" > "$d.gen.log" 2>&1 || { echo "ctu $seed: generator failed" >&2; continue; }
  "$BIN" analyze --test "$d/capture.binetflow" --internal 147.32.0.0/16 --json "$d/findings.json" --min-severity low --no-rdns -q > "$d/analyze.txt" 2>&1
  # verdicts with the default severity cut (medium), 300 s windows
  "$BIN" analyze --test "$d/capture.binetflow" --internal 147.32.0.0/16 --verdicts "$d/verdicts.csv" --verdict-window-secs 300 --no-rdns -q > /dev/null 2>&1
  "$BIN" evaluate --labels "$d/capture.binetflow" --verdicts "$d/verdicts.csv" --window-secs 300 --json > "$d/eval.json" 2>/dev/null
  python3 "$HERE/score.py" ctu "$d"
  dirs+=("$d")
done
python3 "$HERE/score.py" report "${dirs[@]}" > /tmp/othersim/report.md
echo
sed -n '/## Corporate simulator/,/## Per behaviour/p' /tmp/othersim/report.md | head -n -1
sed -n '/## Per behaviour/,/## False positives/p' /tmp/othersim/report.md | head -n -1
sed -n '/## CTU-style captures/,/### CTU-style false/p' /tmp/othersim/report.md | head -n -1
echo "detailed report: /tmp/othersim/report.md"
