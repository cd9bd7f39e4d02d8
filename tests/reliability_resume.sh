#!/usr/bin/env bash
# fleetsim run --resume after kill -9: the resumed run's archive (/time,
# /telemetry, /events, /topology, /ground_truth, the coordinates), LLM
# contexts, detection report and rules transcript are identical to an
# uninterrupted run's, at np 1, 2 and 3, after a kill just past a
# checkpoint, at an arbitrary moment (twice in one run), and with another
# rank count on resume; for the default lz4 archive (rebuilt on resume)
# and, once, an uncompressed one (continued in place). A compressed
# archive whose checkpointed rows are damaged is refused, unchanged. Also: --resume of a complete run, of a
# directory without a checkpoint, and with another config or scenario file.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/resume_lib.sh"

run_np 1 "${RUN_ARGS[@]}" --out "$SCRATCH/ref" >"$SCRATCH/ref.log"
grep -q "36 checkpoints" "$SCRATCH/ref.log" || fail "reference run: $(grep checkpoints "$SCRATCH/ref.log")"
[ ! -e "$SCRATCH/ref/checkpoint" ] || fail "reference run left its checkpoint behind"

# kill just after the checkpoint of window k, resume with the same rank count
for np in 1 2 3; do
  d="$SCRATCH/np$np"
  start_run "$np" "$d"
  wait_windows "$d" $((4 + 5 * np))
  kill_run
  expect_interrupted "$d"
  k=$(windows_done "$d")
  run_np "$np" "${RUN_ARGS[@]}" --out "$d" --resume >"$d.resume.log" 2>&1 \
    || fail "np $np: resume failed: $(tail -n5 "$d.resume.log")"
  grep -q "skipped" "$d.resume.log" || fail "np $np: no backend summary"
  same_run "$SCRATCH/ref" "$d"
  echo "ok: np $np killed after window $k of 36, resumed: identical to the uninterrupted run"
done

# the rows above resume the default lz4 archive, which --resume rebuilds
# from the checkpoint's rows (h5a_rebuild): it stays lz4, and no unfinished
# copy is left; an uncompressed one is continued in place
h5dump -p -H -d /time/seconds "$SCRATCH/np2/fleet.h5" | grep -q "32004" \
  || fail "np 2: the resumed archive's /time/seconds has no LZ4 filter (32004)"
[ ! -e "$SCRATCH/np2/fleet.h5.partial.tmp" ] || fail "np 2: fleet.h5.partial.tmp left behind"
d="$SCRATCH/plain"
start_run 2 "$d" --set archive_compression=none
wait_windows "$d" 6
sleep_part_of_window
kill_run
expect_interrupted "$d"
k=$(windows_done "$d")
run_np 2 "${RUN_ARGS[@]}" --set archive_compression=none --out "$d" --resume \
  >"$d.resume.log" 2>&1 || fail "none: resume failed: $(tail -n5 "$d.resume.log")"
same_run "$SCRATCH/ref" "$d"
echo "ok: archive_compression=none killed after window $k, continued in place: identical"

# the checkpoint's rows of a compressed archive damaged (4 MiB zeroed
# where the early windows' chunks lie): --resume stops with one message
# naming the file and the dataset, leaves the old file as it was and no
# unfinished copy
d="$SCRATCH/damaged"
start_run 2 "$d"
wait_windows "$d" 10
kill_run
expect_interrupted "$d"
dd if=/dev/zero of="$d/fleet.h5.partial" bs=1M seek=3 count=4 conv=notrunc status=none
cp "$d/fleet.h5.partial" "$SCRATCH/damaged.h5"
expect_fail 1 "archive $d/fleet.h5.partial: cannot read the checkpoint's rows of /telemetry/" \
  run_np 2 "${RUN_ARGS[@]}" --out "$d" --resume
cmp -s "$d/fleet.h5.partial" "$SCRATCH/damaged.h5" || fail "damaged: --resume changed the old file"
[ ! -e "$d/fleet.h5.partial.tmp" ] || fail "damaged: fleet.h5.partial.tmp left behind"
[ ! -e "$d/fleet.h5" ] || fail "damaged: fleet.h5 exists"

# kill at arbitrary moments (not at a boundary), twice, then finish; the
# second leg and the finish run with other rank counts than the first
d="$SCRATCH/any"
start_run 2 "$d"
wait_windows "$d" 3
sleep_part_of_window
kill_run
expect_interrupted "$d"
k1=$(windows_done "$d")
start_run 3 "$d" --resume
wait_windows "$d" $((k1 + 3))
sleep_part_of_window
kill_run
expect_interrupted "$d"
k2=$(windows_done "$d")
run_np 1 "${RUN_ARGS[@]}" --out "$d" --resume >"$d.final.log" 2>&1 \
  || fail "final resume failed: $(tail -n5 "$d.final.log")"
same_run "$SCRATCH/ref" "$d"
ranks=$(/usr/bin/python3 -c "import h5py, sys; print(int(h5py.File(sys.argv[1], 'r').attrs['ranks']))" "$d/fleet.h5")
[ "$ranks" = 1 ] || fail "root attribute ranks after the np 1 finish: $ranks"
echo "ok: killed at arbitrary moments (checkpoints $k1, $k2; np 2 -> 3 -> 1): identical, ranks = 1"

# sparse checkpoints (restart_every_windows=5): the kill loses up to 4
# windows, which the resume simulates again, with the same result
d="$SCRATCH/sparse"
start_run 2 "$d" --set restart_every_windows=5
wait_windows "$d" 10
sleep_part_of_window
kill_run
expect_interrupted "$d"
k=$(windows_done "$d")
[ $((k % 5)) -eq 0 ] || fail "sparse: checkpoint of window $k, expected a multiple of 5"
run_np 2 "${RUN_ARGS[@]}" --set restart_every_windows=5 --out "$d" --resume >"$d.resume.log" 2>&1 \
  || fail "sparse: resume failed: $(tail -n5 "$d.resume.log")"
same_run "$SCRATCH/ref" "$d"
out=$(run_np 1 "${RUN_ARGS[@]}" --set restart_every_windows=0 --out "$SCRATCH/none")
grep -qE "(^|[^0-9])0 checkpoints" <<<"$out" || fail "restart_every_windows=0 still checkpoints: $out"
# the default cadence: every 6 windows (36 windows: 6 checkpoints)
out=$(run_np 2 run --quiet --config "$DATA/small.json" --scenarios "$DATA/small_scenarios.json" \
  --set window_scrapes=20 --out "$SCRATCH/default6")
grep -qE "(^|[^0-9])6 checkpoints" <<<"$out" || fail "default restart_every_windows is not 6: $out"
echo "ok: checkpoints every 5 windows (killed after $k), resumed: identical; 0 writes none; default 6"

# a completed run: --resume says so and exits 0
out=$(run_np 1 "${RUN_ARGS[@]}" --out "$SCRATCH/ref" --resume 2>&1) || fail "resume of a complete run: $out"
grep -q "is complete: nothing to resume" <<<"$out" || fail "resume of a complete run said: $out"
echo "ok: --resume of a complete run: $out"

# a directory without a checkpoint
mkdir -p "$SCRATCH/empty"
expect_fail 2 "has no checkpoint to resume from .*checkpoint/manifest.json" \
  run_np 1 "${RUN_ARGS[@]}" --out "$SCRATCH/empty" --resume

# another config or scenario file than the checkpoint's: refused, naming it
d="$SCRATCH/mismatch"
start_run 2 "$d"
wait_windows "$d" 2
kill_run
expect_fail 2 "config key 'seed' differs from the checkpoint's: checkpoint 42, now 7" \
  run_np 2 "${RUN_ARGS[@]}" --out "$d" --resume --seed 7
expect_fail 2 "config key 'window_scrapes' differs" \
  run_np 2 run --quiet --config "$DATA/small.json" --scenarios "$DATA/small_scenarios.json" \
  --out "$d" --resume
expect_fail 2 "the scenarios \\(.*overlap_scenarios.json\\) differ" \
  run_np 2 run --quiet --config "$DATA/small.json" --scenarios "$DATA/overlap_scenarios.json" \
  --set window_scrapes=20 --out "$d" --resume
# ... and the refused attempts changed nothing: it still resumes to the same result
run_np 2 "${RUN_ARGS[@]}" --out "$d" --resume >/dev/null 2>&1 || fail "resume after refusals failed"
same_run "$SCRATCH/ref" "$d"
echo "ok: refused resumes left the checkpoint usable"
