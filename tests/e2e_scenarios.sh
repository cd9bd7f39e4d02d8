#!/usr/bin/env bash
# The six failure scenarios, asserted on the archive `fleetsim run` writes:
# one run with one scenario of each kind (tests/data/small_scenarios.json),
# one with scenarios overlapping on the same racks, jobs and nodes
# (tests/data/overlap_scenarios.json); tests/scenario_physics_test.py checks
# the seed's figures on both with h5py (Debian's /usr/bin/python3). The
# scenario physics are judged without background operations (their XIDs,
# gaps and counter resets are tests/unit_background.c's; e2e_detection and
# e2e_determinism run with them on).
source "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
"$PY" -c 'import h5py, numpy, pytest' || fail "$PY lacks python3-h5py, python3-numpy or python3-pytest"
for run in six:small_scenarios overlap:overlap_scenarios; do
  name=${run%%:*}
  run_np 2 run --quiet --config "$DATA/small.json" --scenarios "$DATA/${run#*:}.json" \
    --set background_ops=off --out "$SCRATCH/$name" >"$SCRATCH/$name.log" ||
    fail "$name run failed: $(cat "$SCRATCH/$name.log")"
  [ -f "$SCRATCH/$name/fleet.h5" ] || fail "$name: no fleet.h5"
done
rc=0
FLEETSIM_SIX="$SCRATCH/six/fleet.h5" FLEETSIM_OVERLAP="$SCRATCH/overlap/fleet.h5" \
  PYTHONDONTWRITEBYTECODE=1 "$PY" -m pytest -q -p no:cacheprovider -rf \
  "$SOURCE_DIR/tests/scenario_physics_test.py" || rc=$?
# 5: no tests collected, which must not pass for a green run
[ "$rc" -eq 0 ] || fail "scenario physics tests exited $rc"
echo "ok: scenario physics hold on both archives"
