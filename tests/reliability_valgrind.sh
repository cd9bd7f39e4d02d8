#!/usr/bin/env bash
# Valgrind memcheck of a short `fleetsim run` (120 nodes, 1 simulated hour,
# np 1, rules backend: simulation, archive, L1, L2-L4, scoring) and of
# `fleetsim score` on it: no memory error and no definite leak in fleetsim
# code. Suppressions cover Open MPI, HDF5 and libcurl internals only
# (tests/valgrind.supp, Open MPI's openmpi-valgrind.supp).
source "$(dirname "$0")/lib.sh"
command -v valgrind >/dev/null || fail "valgrind is not installed (scripts/install-deps.sh)"
SUPP=(--suppressions="$SOURCE_DIR/tests/valgrind.supp")
[ -f /usr/share/openmpi/openmpi-valgrind.supp ] &&
  SUPP+=(--suppressions=/usr/share/openmpi/openmpi-valgrind.supp)
scn="$SCRATCH/scn.json"
cat >"$scn" <<'JSON'
{"scenarios": [
  {"id": "S1", "kind": "thermal_cascade", "start_h": 0.2, "duration_min": 20, "racks": [1, 2], "nodes_per_rack": 8},
  {"id": "S3", "kind": "hbm_degradation", "start_h": 0.1, "duration_min": 50, "gpus": 6, "training_gpus": 4},
  {"id": "S6", "kind": "training_straggler", "start_h": 0.4, "duration_min": 30, "job": "train-001", "job_node": 5}
]}
JSON

# memcheck NAME ARGS...: fleetsim ARGS under memcheck; fails on any error.
memcheck() {
  local name=$1 rc=0
  shift
  valgrind --error-exitcode=99 --errors-for-leak-kinds=definite --leak-check=full \
    --num-callers=40 "${SUPP[@]}" --log-file="$SCRATCH/$name.vg" \
    "$FLEETSIM" "$@" >"$SCRATCH/$name.out" 2>"$SCRATCH/$name.err" || rc=$?
  if [ "$rc" -ne 0 ]; then
    cat "$SCRATCH/$name.err" "$SCRATCH/$name.vg" >&2
    fail "$name under valgrind exited $rc (99: memcheck found errors)"
  fi
  grep -q "ERROR SUMMARY: 0 errors" "$SCRATCH/$name.vg" || fail "$name: $(grep 'ERROR SUMMARY' "$SCRATCH/$name.vg")"
  echo "ok: $name: $(grep -o 'ERROR SUMMARY.*' "$SCRATCH/$name.vg"); $(grep -o 'definitely lost: .*' "$SCRATCH/$name.vg" || echo 'no leaks')"
}
dir="$SCRATCH/run"
# a checkpoint after every window (the default is every 6): the checkpoint
# writes are memchecked too
memcheck run run --quiet --config "$DATA/small.json" --scenarios "$scn" --set hours=1 \
  --set restart_every_windows=1 --out "$dir"
[ -s "$dir/results/summary.json" ] && [ -s "$dir/llm/rules.jsonl" ] || fail "the run did not finish: $(ls -R "$dir")"
memcheck score score --quiet --run "$dir"
memcheck validate validate --config "$DATA/small.json" --scenarios "$DATA/small_scenarios.json"
echo "reliability_valgrind: no memcheck errors"
