#!/usr/bin/env bash
# The archive's telemetry, its coordinates (dimension scales and the xarray
# views), topology, ground truth and L1 events are bit-identical for np 1, 2
# and 3 (h5diff), and every run is marked complete.
source "$(dirname "$0")/lib.sh"
for np in 1 2 3; do
  run_np "$np" run --quiet --config "$DATA/small.json" --scenarios "$DATA/small_scenarios.json" \
    --no-llm --out "$SCRATCH/np$np" >"$SCRATCH/np$np.log"
  [ -f "$SCRATCH/np$np/fleet.h5" ] || fail "np $np: no fleet.h5"
  [ ! -e "$SCRATCH/np$np/fleet.h5.partial" ] || fail "np $np: partial file left behind"
  h5dump -a complete "$SCRATCH/np$np/fleet.h5" | grep -q "(0): 1" || fail "np $np: complete != 1"
done
for np in 2 3; do
  for group in /time /telemetry /node /gpu /rack /xarray /topology /ground_truth /events; do
    h5diff -r "$SCRATCH/np1/fleet.h5" "$SCRATCH/np$np/fleet.h5" "$group" "$group" \
      || fail "np 1 and np $np differ in $group"
  done
  cmp "$SCRATCH/np1/llm/contexts.jsonl" "$SCRATCH/np$np/llm/contexts.jsonl" \
    || fail "np 1 and np $np wrote different LLM contexts"
  echo "ok: np 1 and np $np archives and LLM contexts are identical"
done
# a different seed gives different telemetry
run_np 2 run --quiet --config "$DATA/small.json" --scenarios "$DATA/small_scenarios.json" \
  --seed 7 --out "$SCRATCH/seed7" >/dev/null
if h5diff -q "$SCRATCH/np1/fleet.h5" "$SCRATCH/seed7/fleet.h5" /telemetry/gpu/gpu_temp_celsius \
  /telemetry/gpu/gpu_temp_celsius >/dev/null; then
  fail "seed 7 produced the same temperatures as seed 42"
fi
echo "ok: another seed gives other telemetry"
