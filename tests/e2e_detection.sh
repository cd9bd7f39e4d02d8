#!/usr/bin/env bash
# L1 detection end to end on a 240-node fleet over 24 h: the default scenario
# file (the seed's S1-S6 at the seed's times), a fault-free run, and a random
# scenario file the detector was not tuned for; then detection_test.py checks
# results/detection.json and /events/l1 against the ground truth.
source "$(dirname "$0")/lib.sh"
cfg="$DATA/medium.json"
run_np 2 run --quiet --config "$cfg" --out "$SCRATCH/default" >/dev/null
echo '{"scenarios": []}' >"$SCRATCH/none.json"
run_np 3 run --quiet --config "$cfg" --scenarios "$SCRATCH/none.json" --out "$SCRATCH/none" >/dev/null
"$FLEETSIM" scenarios --random 6 --seed 21 --config "$cfg" --out "$SCRATCH/random.json"
run_np 2 run --quiet --config "$cfg" --scenarios "$SCRATCH/random.json" --out "$SCRATCH/random" >/dev/null
for run in default none random; do
  [ -f "$SCRATCH/$run/results/detection.json" ] || fail "$run: no results/detection.json"
done
rc=0
FLEETSIM_RUNS="$SCRATCH" /usr/bin/python3 -m pytest -q -p no:cacheprovider \
  "$SOURCE_DIR/tests/detection_test.py" || rc=$?
[ "$rc" -eq 0 ] || fail "detection_test.py exited $rc (5 means no test ran)"
